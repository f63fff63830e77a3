"""Threads of the BLAS (the library behind NumPy's matrix products): the one place that sets them.

Every use in the project goes through here:

    blas_single_threaded()          NumPy's BLAS on one thread while several Python threads each
                                    do their own products (the MLP's blocks, the minibatch parts)
    scipy_blas_single_threaded()    SciPy's own bundled BLAS on one thread (during L-BFGS-B)
    limit_blas(n)                   NumPy's BLAS on n threads for the rest of the process (a server)
    numpy_blas_threads()            how many threads NumPy's BLAS uses now

Why it matters on a 2-core machine: OpenBLAS's idle threads spin for a while after each
product, waiting for the next one; when other threads of ours (or SciPy's second OpenBLAS)
want the same cores, the spinning takes them. Measured in benchmarks/bench_training.py and
benchmarks/bench_cnn.py.

The thread count is one setting for the whole process, so `blas_single_threaded` counts its
overlapping uses from several threads: the first sets it, the last puts it back.
"""
import contextlib
import os
import threading

import numpy as np

_lock = threading.Lock()
_state = {"numpy": None, "limiter": None, "users": 0}


def _controller():
    from threadpoolctl import ThreadpoolController      # imported late: it takes milliseconds
    return ThreadpoolController()


def _numpy_blas():
    """threadpoolctl's controller of the BLAS NumPy's products use (found once: it takes ms)."""
    with _lock:
        if _state["numpy"] is None:
            blas = _controller().select(user_api="blas")
            numpy_dir = os.path.realpath(os.path.dirname(np.__file__))  # a prefix of numpy.libs/ too
            own = [lib for lib in blas.lib_controllers
                   if lib.filepath and os.path.realpath(lib.filepath).startswith(numpy_dir)]
            _state["numpy"] = blas.select(filepath=[lib.filepath for lib in own]) if own else blas
        return _state["numpy"]


def numpy_blas_threads():
    """How many threads NumPy's BLAS uses for a matrix product (1 if it cannot be told)."""
    return max([lib.num_threads for lib in _numpy_blas().lib_controllers] or [1])


@contextlib.contextmanager
def blas_single_threaded():
    """NumPy's BLAS on one thread (each product on the thread that asks for it) for the duration."""
    blas = _numpy_blas()
    with _lock:
        if _state["users"] == 0:
            _state["limiter"] = blas.limit(limits=1)
        _state["users"] += 1
    try:
        yield
    finally:
        with _lock:
            _state["users"] -= 1
            if _state["users"] == 0:
                _state["limiter"].restore_original_limits()
                _state["limiter"] = None


def limit_blas(threads):
    """NumPy's BLAS (and any other BLAS loaded) on `threads` threads from now on, for the whole
    process: a server whose threads each read one drawing at a time."""
    _controller().select(user_api="blas").limit(limits=int(threads))


@contextlib.contextmanager
def scipy_blas_single_threaded():
    """SciPy's own BLAS (not NumPy's) on one thread for the duration.

    SciPy's wheels bring an OpenBLAS of their own, beside NumPy's. L-BFGS-B's vector work is
    tiny, but each BLAS call it makes wakes SciPy's threads, which then spin and take the cores
    from NumPy's matrix products: on 2 cores that made training about 40 % slower. Where NumPy
    and SciPy share one BLAS there is nothing to do.
    """
    import scipy
    scipy_dir = os.path.realpath(os.path.dirname(scipy.__file__))  # a prefix of scipy/ and scipy.libs/
    own = [lib for lib in _controller().lib_controllers
           if lib.filepath and os.path.realpath(lib.filepath).startswith(scipy_dir)]
    previous = [lib.num_threads for lib in own]
    for lib in own:
        lib.set_num_threads(1)
    try:
        yield
    finally:
        for lib, threads in zip(own, previous):
            lib.set_num_threads(threads)
