"""Work arrays kept from one training step to the next, one set per thread.

    work = Workspace()                         # a threading.local: each thread sees its own arrays
    cols = work.get("conv2/rows", (M, K), np.float32)

A training step of the CNN needs tens of MB of intermediate arrays (the im2col rows alone are
20 MB for 64 images). Allocated afresh each step, such arrays come from new pages of memory,
each zeroed by the kernel on first touch: measured (digits.nets.conv_stage's gather, 64 images,
14x14x16 -> 5x5 windows) 10-16 ms per call against 2.3 ms into an array kept from the previous
call. `get` hands back the same memory each time a name is asked for again (contents
undefined), reallocated only when a larger or other-typed array is asked for.

Only for arrays that do not outlive the call that asks for them: a thread's next step reuses
them. Memory stays allocated as long as the thread lives (the trainer's worker threads end with
the training).
"""
import threading

import numpy as np


class Workspace(threading.local):
    """Named work arrays, each thread its own."""

    def __init__(self):
        self.arrays = {}

    def get(self, name, shape, dtype):
        """An uninitialised array of `shape` and `dtype`, the same memory as the last call with `name`."""
        size = int(np.prod(shape))
        dtype = np.dtype(dtype)
        buf = self.arrays.get(name)
        if buf is None or buf.dtype != dtype or buf.size < size:
            buf = self.arrays[name] = np.empty(size, dtype=dtype)
        return buf[:size].reshape(shape)

    def zeros(self, name, shape, dtype):
        """As `get`, filled with zeros."""
        a = self.get(name, shape, dtype)
        a.fill(0)
        return a


def work_array(work, name, shape, dtype, zero=False):
    """`work`'s array `name` (see Workspace), or a new one when `work` is None."""
    if work is None:
        return (np.zeros if zero else np.empty)(shape, dtype=dtype)
    return work.zeros(name, shape, dtype) if zero else work.get(name, shape, dtype)
