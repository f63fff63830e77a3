"""Training the CNN on MNIST: time per epoch, test accuracy, memory, and the arithmetic floor.

    python -m benchmarks.bench_cnn [--epochs 8] [--arch 16-32:128] [--kernel 5] [--subset N]
                                   [--batch-size 128] [--lr 2e-3] [--no-distort] [--data FOLDER]
                                   [--save FOLDER] [--validate] [--micro] [--elastic]
                                   [--table ROUNDS [--variants now,prefetch-first,...]]

Trains `CNN.random(seed)` with `train_minibatch` on the 60,000 MNIST training images (or the
first --subset of them), by default with the recipe `digits.nets.cnn.RECIPE`, and prints the
seconds per epoch, images per second, the accuracy on the 10,000 test images, and the peak
memory (max RSS) of the process. The CPU model and the BLAS are printed first.

The arithmetic floor: the matrix products of one training step are recorded (shapes and memory
order, through the hook `digits.nets.layers.matmul`) and replayed on their own in the same run;
their time times the steps of an epoch is what an epoch would take if everything but the BLAS
calls were free. epoch time / floor says how much the rest (im2col, col2im, pooling, the
optimiser, the data) costs on top.

--table ROUNDS instead trains fresh networks on --subset images for --epochs in each of
--variants (VARIANTS: `now`, the code as it is; `prefetch-first`, the next batch's preparation
queued before this batch's costs, the former order; `no-prefetch`, none prepared ahead;
`whole-windows`, every conv stage gathered by whole windows, the former path; `separate-layers`,
conv, pool and ReLU as separate layers), ROUNDS times interleaved, and prints a table of the
per-step time of each stage (scale+distort, forward, backward, optimizer step, other) beside
the floor measured after each training, in CPU time per worker thread (what the work costs)
and in wall time, where the workers' wall time went (in their jobs, of which not running:
waiting for a core; idle: waiting for the other worker or the calling thread), the CPU other
processes took meanwhile (from /proc/stat) and the load; then the same over the rounds in which
other processes took < 0.2 cores, if any:

    python -m benchmarks.bench_cnn --table 5 --subset 6400 --epochs 1

--micro instead times the layout and col2im alternatives side by side (interleaved, best of
several): the NHWC conv stage of digits.nets.layers against the same stage in NCHW, and the
three ways of computing the convolution's input gradient.
"""
import argparse
import contextlib
import os
import resource
import sys
import threading
import time

import numpy as np
from numpy.lib.stride_tricks import as_strided

from digits.data.idx import read_idx
from digits.nets import conv_stage, layers
from digits.nets.cnn import CNN, RECIPE
from digits.nets.minibatch import train_minibatch
from digits.reporting.progress import progress_printer

DEFAULT_DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                            "shared", "mnist")
FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


# The machine -------------------------------------------------------------------------------------

def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            lines = f.read().splitlines()
    except OSError:
        import platform
        return platform.processor() or "unknown CPU"
    models = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    flags = next((line.split(":", 1)[1].split() for line in lines if line.startswith("flags")), [])
    simd = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    return f"{models[0] if models else 'unknown CPU'}, {len(models)} logical CPUs, {simd} in its flags"


def numpy_simd():
    """NumPy's SIMD level on this CPU: its baseline and the dispatched targets the CPU runs."""
    try:
        from numpy._core._multiarray_umath import __cpu_baseline__, __cpu_dispatch__, __cpu_features__
    except ImportError:                     # numpy < 2
        try:
            from numpy.core._multiarray_umath import __cpu_baseline__, __cpu_dispatch__, __cpu_features__
        except ImportError:
            return "unknown"
    used = [name for name in __cpu_dispatch__ if __cpu_features__.get(name)]
    return f"baseline {' '.join(__cpu_baseline__) or 'none'}, dispatched {' '.join(used) or 'none'}"


def blas_description():
    """The BLAS numpy's matrix products use (scipy may load a second one: it is named after)."""
    try:
        from threadpoolctl import threadpool_info
        infos = sorted((i for i in threadpool_info() if i.get("user_api") == "blas"),
                       key=lambda i: "numpy" not in i.get("filepath", ""))
        if infos:
            names = [f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')} kernels, "
                     f"{i.get('num_threads')} threads)" for i in infos]
            return names[0] + (f"; also loaded (scipy): {', '.join(names[1:])}" if len(names) > 1 else "")
    except ImportError:
        pass
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')}"
    except Exception:                       # show_config's layout differs between numpy versions
        return "unknown BLAS"


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024     # Linux: KiB


# Data ----------------------------------------------------------------------------------------------

def load_mnist(folder):
    from benchmarks.pen_drawings import mnist_dir
    folder = mnist_dir(folder)
    arrays = []
    for name in FILES:
        path = os.path.join(folder, name + ".gz")
        arrays.append(read_idx(path if os.path.exists(path) else os.path.join(folder, name)))
    train_x, train_y, test_x, test_y = arrays
    return (train_x.reshape(len(train_y), -1), train_y.astype(np.intp),
            test_x.reshape(len(test_y), -1), test_y.astype(np.intp))


def parse_arch(text):
    """'16-32:128' -> convs (16, 32), hidden (128,); '8-16:' -> no hidden layer."""
    convs, _, hidden = text.partition(":")
    try:
        return (tuple(int(c) for c in convs.split("-") if c),
                tuple(int(h) for h in hidden.split("-") if h) if _ else (128,))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--arch {text!r}: expected conv filter counts and hidden sizes "
                                         "like 16-32:128") from None


# The arithmetic floor ------------------------------------------------------------------------------

def record_matmuls(net, batch_size, rng):
    """(shape, order) of both operands of every matrix product in one training step."""
    calls = []

    def recording(a, b, out=None):
        calls.append(tuple((x.shape, "F" if (x.flags.f_contiguous and not x.flags.c_contiguous) else "C", x.dtype)
                           for x in (a, b)))
        return np.matmul(a, b, out=out)

    X = rng.random((batch_size, 784), dtype=np.float32)
    y = rng.integers(0, 10, batch_size)
    layers.matmul = recording
    try:
        net.loss(X, y)
    finally:
        layers.matmul = np.matmul
    return calls


def _operands(calls, rng):
    """(a, b, out) for each call: operands of its shapes and memory orders, and a result array
    (reused, as the training step's work arrays are: the floor counts no page faults)."""
    made, operands = {}, []
    for call in calls:
        pair = []
        for shape, order, dtype in call:
            key = (shape, order, dtype)
            if key not in made:
                made[key] = np.asarray(rng.standard_normal(shape), dtype=dtype, order=order)
            pair.append(made[key])
        out_shape = np.matmul(pair[0][:1], pair[1]).shape[1:]
        key = ("out", pair[0].shape[0]) + out_shape
        if key not in made:
            made[key] = np.empty((pair[0].shape[0],) + out_shape, dtype=np.result_type(*pair))
        operands.append((pair[0], pair[1], made[key]))
    return operands


def time_matmuls(calls, rng, threads=1, repeats=7):
    """Median seconds of running all `calls` once, on fresh operands of the same shapes and
    orders; with threads > 1, that many threads each run all of them at the same time (on
    their own operands) with single-threaded BLAS, as the trainer's workers do.
    Returns (wall seconds, CPU seconds of the process / threads)."""
    from concurrent.futures import ThreadPoolExecutor

    from digits.blas import blas_single_threaded
    sets = [_operands(calls, rng) for _ in range(threads)]

    def run(operands):
        for a, b, out in operands:
            np.matmul(a, b, out=out)

    times, cpu = [], []
    with blas_single_threaded() if threads > 1 else contextlib.nullcontext(), ThreadPoolExecutor(threads) as pool:
        for k in range(repeats + 1):
            start, start_cpu = time.perf_counter(), time.process_time()
            list(pool.map(run, sets))
            if k:                                   # the first round warms up
                times.append(time.perf_counter() - start)
                cpu.append((time.process_time() - start_cpu) / threads)
    return float(np.median(times)), float(np.median(cpu))


def arithmetic_floor(net, batch_size, workers, quiet=False):
    """Seconds per training step of the step's matrix products alone: the better of the whole
    batch's products with BLAS on all cores, and (workers > 1) each worker's part's products
    in `workers` threads at once, single-threaded BLAS each. Returns (seconds, products, how,
    CPU seconds per thread of the trainer's way: `workers` threads, or one with its BLAS)."""
    rng = np.random.default_rng(1)
    calls = record_matmuls(net, batch_size, rng)
    options = [(*time_matmuls(calls, rng), len(calls), f"whole batch of {batch_size}, multithreaded BLAS")]
    if workers > 1:
        part = -(-batch_size // workers)
        part_calls = record_matmuls(net, part, rng)
        options.append((*time_matmuls(part_calls, rng, threads=workers), len(part_calls) * workers,
                        f"{workers} threads x {part} images, single-threaded BLAS"))
    for seconds, _, products, how in options if not quiet else ():
        print(f"  matrix products alone: {1e3 * seconds:.1f} ms per step ({products} products; {how})")
    seconds, _, products, how = min(options)
    # CPU per thread of the way the trainer runs them (the whole batch's way counts its BLAS threads' CPU on one)
    return seconds, products, how, options[-1][1]


# Per-stage time of a training step (--table) --------------------------------------------------------

STAGES = ("scale+distort", "forward", "backward", "optimizer step")
PATHS = {"separate layers": (conv_stage.separate_forward, conv_stage.separate_backward),
         "fused stage": (conv_stage.stage_forward, conv_stage.stage_backward)}


def _busy_seconds():
    """CPU seconds all processes of the machine have spent busy so far (/proc/stat), or None."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    return (sum(v) - v[3] - v[4] - v[7]) / os.sysconf("SC_CLK_TCK")     # without idle, iowait, steal


class OthersCPU:
    """`with OthersCPU() as o: ...`; then o.cores: the CPU other processes used meanwhile, in
    cores (the machine's busy time from /proc/stat minus this process's), None where unknown."""

    def __enter__(self):
        self.busy, self.own, self.wall = _busy_seconds(), time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *exc):
        wall = time.perf_counter() - self.wall
        busy = _busy_seconds()
        self.cores = None if busy is None or self.busy is None else \
            max(0.0, (busy - self.busy - (time.process_time() - self.own)) / wall)


@contextlib.contextmanager
def stage_clock():
    """Wraps what the trainer calls (minibatch._prepared and _part_cost, CNN._forward and
    loss_and_scores, the optimizers' step) to add up, from every thread, the CPU seconds of the
    calling thread spent in each of STAGES (CPU time: what the work costs, whatever else shares
    the cores), and the wall seconds the workers spent in their jobs (preparing and costing a
    part). Yields {stage: CPU seconds, "wall: worker jobs": ..., "CPU: worker jobs": ...};
    backward is the cost minus its forward (loss, backward, decay)."""
    from digits.nets import minibatch, optimizers
    seconds = dict.fromkeys(STAGES + ("wall: worker jobs", "CPU: worker jobs"), 0.0)
    lock = threading.Lock()
    inner = threading.local()          # the forward's time inside the current cost, per thread

    def timed(f, stage, minus=None):
        def wrapper(*args, **kwargs):
            start = time.thread_time()
            inner.seconds = 0.0
            out = f(*args, **kwargs)
            spent = time.thread_time() - start
            if stage == "forward":
                inner.seconds = spent
            with lock:
                seconds[stage] += spent - (inner.seconds if minus else 0.0)
            return out
        return wrapper

    def job(f):
        def wrapper(*args, **kwargs):
            start, start_cpu = time.perf_counter(), time.thread_time()
            out = f(*args, **kwargs)
            if threading.current_thread() is not threading.main_thread():
                with lock:
                    seconds["wall: worker jobs"] += time.perf_counter() - start
                    seconds["CPU: worker jobs"] += time.thread_time() - start_cpu
            return out
        return wrapper

    saved = [(minibatch, "_prepared"), (minibatch, "_part_cost"), (CNN, "_forward"), (CNN, "loss_and_scores")] + \
            [(cls, "step") for cls in optimizers.OPTIMIZERS.values()]
    originals = [(owner, name, getattr(owner, name)) for owner, name in saved]
    minibatch._prepared = job(timed(minibatch._prepared, "scale+distort"))
    minibatch._part_cost = job(minibatch._part_cost)
    CNN._forward = timed(CNN._forward, "forward")
    CNN.loss_and_scores = timed(CNN.loss_and_scores, "backward", minus="forward")
    for cls in optimizers.OPTIMIZERS.values():
        cls.step = timed(cls.step, "optimizer step")
    try:
        yield seconds
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)


@contextlib.contextmanager
def conv_path(name):
    """The CNN's conv stages computed by PATHS[name] for the duration."""
    saved = conv_stage.stage_forward, conv_stage.stage_backward
    conv_stage.stage_forward, conv_stage.stage_backward = PATHS[name]
    try:
        yield
    finally:
        conv_stage.stage_forward, conv_stage.stage_backward = saved


@contextlib.contextmanager
def _patched(owner, name, value):
    saved = getattr(owner, name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, saved)


def _prefetch(order):
    """The trainer's preparation of the next batch: "first" queued before this batch's costs
    (the former order), "off" not ahead at all (each batch prepared when its step begins)."""
    from digits.nets import minibatch
    batch_cost = minibatch._batch_cost

    def reordered(pool, net, batch, lamb, N, submitted=None):
        if order == "first" and submitted is not None:
            submitted()
        return batch_cost(pool, net, batch, lamb, N)
    return _patched(minibatch, "_batch_cost", reordered)


# Ways of training compared by --table: what each changes for the duration.
VARIANTS = {
    "now": contextlib.nullcontext,
    "prefetch-first": lambda: _prefetch("first"),
    "no-prefetch": lambda: _prefetch("off"),
    "whole-windows": lambda: _patched(conv_stage, "ROW_OFFSETS", False),
    "separate-layers": lambda: conv_path("separate layers"),
}
TABLE_VARIANTS = "now,prefetch-first,no-prefetch,whole-windows"


def variant_list(text):
    names = [v.strip() for v in text.split(",") if v.strip()]
    unknown = [v for v in names if v not in VARIANTS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"--variants: give some of {', '.join(VARIANTS)}")
    return names


def stage_table(train_x, train_y, args, workers, rounds, variants):
    """Train a fresh default CNN for --epochs on the images in each of `variants` (VARIANTS) in
    turn (after a short untimed warm-up; each round starts with the next variant), `rounds`
    times interleaved, and time the step's matrix products alone after each; print
    the median per-step CPU time of each stage, the floor, and step / floor, in CPU and wall
    time, where the workers' wall time went, and how much CPU other processes took meanwhile."""
    steps = args.epochs * -(-len(train_y) // args.batch_size)
    figures = {name: [] for name in variants}
    train_minibatch(CNN.random(0), train_x[:4 * args.batch_size], train_y[:4 * args.batch_size], epochs=1,
                    batch_size=args.batch_size, distort=args.distort, report=None, workers=workers)   # warm-up
    for r in range(rounds):
        for name in variants[r % len(variants):] + variants[:r % len(variants)]:    # each round begins elsewhere
            net = CNN.random(np.random.default_rng(args.seed))
            cpu = time.process_time()
            with VARIANTS[name](), stage_clock() as seconds, OthersCPU() as others:
                result = train_minibatch(net, train_x, train_y, epochs=args.epochs, batch_size=args.batch_size,
                                         lr=args.lr, rng=np.random.default_rng(args.seed), distort=args.distort,
                                         report=None, lamb=args.lamb, workers=workers)
            cpu = (time.process_time() - cpu) / steps / workers
            with VARIANTS[name]():
                floor, _, _, floor_cpu = arithmetic_floor(net, args.batch_size, workers, quiet=True)
            step = sum(result.history["seconds"]) / steps
            row = {stage: seconds[stage] / steps / workers for stage in STAGES}
            row["other"] = cpu - sum(row.values())
            busy = seconds["wall: worker jobs"] / steps / workers
            row.update({"step": cpu, "matrix-product floor": floor_cpu, "step / floor": cpu / floor_cpu,
                        "wall: step": step, "wall: floor": floor, "wall: step / floor": step / floor,
                        "wall: worker in its jobs": busy,
                        "  of which not running": busy - seconds["CPU: worker jobs"] / steps / workers,
                        "wall: worker idle": step - busy,
                        "others' CPU (cores)": others.cores if others.cores is not None else float("nan"),
                        "load average (1 min)": os.getloadavg()[0]})
            figures[name].append(row)
            print(f"  round {r + 1}, {name}: CPU {1e3 * cpu:.1f} ms per step and thread, floor "
                  f"{1e3 * floor_cpu:.1f} ms, ratio {cpu / floor_cpu:.2f}; wall {1e3 * step:.1f} ms, floor "
                  f"{1e3 * floor:.1f} ms, ratio {step / floor:.2f}; others used {others.cores or 0:.2f} "
                  f"cores, load {row['load average (1 min)']:.2f}", flush=True)
    print(f"\nper training step, ms of CPU time per worker thread (batch {args.batch_size}, {workers} worker "
          f"threads: the process's CPU time / {workers}; other = the rest: slicing, combining the parts' "
          f"gradients, the loop), then wall time (per worker: in its jobs, of which not running, e.g. "
          f"waiting for a core; idle); median of {rounds} rounds of {args.epochs} epoch(s) on "
          f"{len(train_y):,} images:")
    _print_table(figures, variants)
    quiet = {name: [row for row in rows if row["others' CPU (cores)"] < 0.2] for name, rows in figures.items()}
    if all(quiet.values()) and any(len(quiet[name]) < len(figures[name]) for name in variants):
        print(f"\nthe same, only the rounds in which other processes used < 0.2 cores "
              f"({', '.join(f'{name}: {len(quiet[name])}' for name in variants)} of {rounds}):")
        _print_table(quiet, variants)


def _print_table(figures, variants):
    width = max(16, max(len(v) for v in variants) + 2)
    print(f"  {'':26s}" + "".join(f"{name:>{width}s}" for name in variants))
    for key in figures[variants[0]][0]:
        cells = [float(np.median([row[key] for row in figures[name]])) for name in variants]
        plain = key.endswith("step / floor") or key.startswith(("others", "load"))
        print(f"  {key:26s}" + "".join(f"{c if plain else 1e3 * c:{width}.{2 if plain else 1}f}" for c in cells))


# Layout and col2im alternatives (--micro) ----------------------------------------------------------

def _nchw_stage(x, w, b, pad):
    """conv (NCHW, cols (C*k*k, N*Ho*Wo), weights (F, C*k*k)) -> 2x2 pool -> ReLU, then the
    backward pass of the same, with the same algorithms as digits.nets.layers."""
    N, C, H, W = x.shape
    F, _, k, _ = w.shape
    xp = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=x.dtype)
    xp[:, :, pad:pad + H, pad:pad + W] = x
    sN, sC, sH, sW = xp.strides
    win = as_strided(xp, (C, k, k, N, H, W), (sC, sH, sW, sN, sH, sW), writeable=False)
    cols = np.empty((C, k, k, N, H, W), dtype=x.dtype)
    cols[...] = win
    cols = cols.reshape(C * k * k, N * H * W)
    w2 = w.reshape(F, C * k * k)
    conv = np.ascontiguousarray((w2 @ cols + b[:, None]).reshape(F, N, H, W).transpose(1, 0, 2, 3))
    xr = conv.reshape(N, F, H // 2, 2, W // 2, 2)
    out = xr[:, :, :, 0, :, 0].copy()
    for a, c in ((0, 1), (1, 0), (1, 1)):
        np.maximum(out, xr[:, :, :, a, :, c], out=out)
    mask = np.empty(xr.shape, dtype=bool)
    taken = np.zeros(out.shape, dtype=bool)
    hit = np.empty(out.shape, dtype=bool)
    for a in range(2):
        for c in range(2):
            np.equal(xr[:, :, :, a, :, c], out, out=hit)
            hit &= ~taken
            mask[:, :, :, a, :, c] = hit
            taken |= hit
    relu = np.maximum(out, 0)
    # backward, with dout = relu itself as a stand-in gradient
    d = np.where(relu > 0, relu, 0)
    dconv = (mask * d[:, :, :, None, :, None]).reshape(N, F, H, W)
    d2 = np.ascontiguousarray(dconv.transpose(1, 0, 2, 3)).reshape(F, -1)
    dw = d2 @ cols.T
    db = d2.sum(axis=1)
    dxp = np.zeros((C, N, H + 2 * pad, W + 2 * pad), dtype=x.dtype)
    for i in range(k):
        for j in range(k):
            dxp[:, :, i:i + H, j:j + W] += (w[:, :, i, j].T @ d2).reshape(C, N, H, W)
    dx = np.ascontiguousarray(dxp[:, :, pad:pad + H, pad:pad + W].transpose(1, 0, 2, 3))
    return relu, dx, dw, db


def _nhwc_stage(x, w, b, pad):
    conv, conv_cache = layers.conv_forward(x, w, b, 1, pad)
    pooled, pool_cache = layers.max_pool_forward(conv, 2)
    relu, relu_cache = layers.relu_forward(pooled)
    d = layers.relu_backward(relu, relu_cache)
    d = layers.max_pool_backward(d, pool_cache)
    dx, dw, db = layers.conv_backward(d, conv_cache)
    return relu, dx, dw, db


def _dx_per_offset(d2, w, shape, pad):
    N, H, W, C = shape
    k = w.shape[0]
    dxp = np.zeros((N, H + 2 * pad, W + 2 * pad, C), dtype=d2.dtype)
    for i in range(k):
        for j in range(k):
            dxp[:, i:i + H, j:j + W, :] += (d2 @ w[i, j].T).reshape(N, H, W, C)
    return dxp[:, pad:pad + H, pad:pad + W, :]


def _dx_one_product_strided_adds(d2, w, shape, pad):
    N, H, W, C = shape
    k, F = w.shape[0], w.shape[3]
    d6 = (d2 @ w.reshape(-1, F).T).reshape(N, H, W, k, k, C)
    dxp = np.zeros((N, H + 2 * pad, W + 2 * pad, C), dtype=d2.dtype)
    for i in range(k):
        for j in range(k):
            dxp[:, i:i + H, j:j + W, :] += d6[:, :, :, i, j, :]
    return dxp[:, pad:pad + H, pad:pad + W, :]


def _dx_full_convolution(d2, w, shape, pad):
    N, H, W, C = shape
    k, F = w.shape[0], w.shape[3]
    flipped = w[::-1, ::-1].transpose(0, 1, 3, 2).reshape(-1, C)
    return (layers.im2col(d2.reshape(N, H, W, F), k, k, 1, k - 1 - pad) @ flipped).reshape(N, H, W, C)


def _best_of(functions, rounds):
    best = {name: float("inf") for name in functions}
    for _ in range(rounds):
        for name, f in functions.items():
            start = time.perf_counter()
            f()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def micro(batch_size, rounds=7):
    """Single-threaded BLAS, as each of the trainer's worker threads has it."""
    from digits.blas import blas_single_threaded
    with blas_single_threaded():
        _micro(batch_size, rounds)


def _micro(batch_size, rounds):
    rng = np.random.default_rng(0)
    print(f"conv stage (conv 'same' -> 2x2 pool -> ReLU, forward + backward), batch {batch_size}, "
          f"float32, single-threaded BLAS, best of {rounds}, ms:")
    for H, C, F, k in ((28, 1, 16, 5), (14, 16, 32, 5), (14, 16, 32, 3), (14, 32, 64, 3)):
        x = rng.random((batch_size, H, H, C), dtype=np.float32)
        w = (rng.standard_normal((k, k, C, F)) * 0.1).astype(np.float32)
        b = np.zeros(F, np.float32)
        x_nchw = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
        w_oihw = np.ascontiguousarray(w.transpose(3, 2, 0, 1))
        r1, dx1, dw1, _ = _nhwc_stage(x, w, b, k // 2)
        r2, dx2, dw2, _ = _nchw_stage(x_nchw, w_oihw, b, k // 2)
        assert np.allclose(r1, r2.transpose(0, 2, 3, 1), atol=1e-4)
        assert np.allclose(dx1, dx2.transpose(0, 2, 3, 1), atol=1e-3)
        best = _best_of({"NHWC": lambda: _nhwc_stage(x, w, b, k // 2),
                         "NCHW": lambda: _nchw_stage(x_nchw, w_oihw, b, k // 2)}, rounds)
        print(f"  {H}x{H}x{C} -> {F} filters {k}x{k}: NHWC {1e3 * best['NHWC']:7.2f}   "
              f"NCHW {1e3 * best['NCHW']:7.2f}   (NCHW / NHWC {best['NCHW'] / best['NHWC']:.2f})")
    print(f"conv input gradient (col2im), batch {batch_size}, ms:")
    for H, C, F, k in ((14, 8, 16, 5), (14, 16, 32, 5), (14, 16, 32, 3), (14, 32, 64, 3), (7, 32, 64, 3)):
        w = rng.standard_normal((k, k, C, F)).astype(np.float32)
        d2 = rng.standard_normal((batch_size * H * H, F)).astype(np.float32)
        shape = (batch_size, H, H, C)
        ways = {"per-offset products": lambda: _dx_per_offset(d2, w, shape, k // 2),
                "one product + strided adds": lambda: _dx_one_product_strided_adds(d2, w, shape, k // 2),
                "full convolution": lambda: _dx_full_convolution(d2, w, shape, k // 2)}
        reference = ways["per-offset products"]()
        for f in ways.values():
            assert np.allclose(f(), reference, atol=1e-3)
        best = _best_of(ways, rounds)
        print(f"  {H}x{H}x{C} <- {F} filters {k}x{k}: " +
              "   ".join(f"{name} {1e3 * t:6.2f}" for name, t in best.items()))


# The run ---------------------------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=DEFAULT_DATA, help="folder of the four MNIST IDX files")
    parser.add_argument("--epochs", type=int, default=RECIPE["epochs"])
    parser.add_argument("--arch", type=parse_arch, default=parse_arch("16-32:128"),
                        help="conv filter counts, then hidden dense sizes: 16-32:128")
    parser.add_argument("--kernel", type=int, default=5)
    parser.add_argument("--subset", type=int, default=None, help="train on the first N training images")
    parser.add_argument("--batch-size", type=int, default=RECIPE["batch_size"])
    parser.add_argument("--lr", type=float, default=RECIPE["lr"])
    parser.add_argument("--schedule", default=RECIPE["schedule"], help="cosine, constant or a factor per epoch")
    parser.add_argument("--optimizer", default="adam", choices=("adam", "momentum"))
    parser.add_argument("--lamb", type=float, default=RECIPE["lamb"], help="weight decay, the MLP's L2 convention")
    parser.add_argument("--no-distort", dest="distort", action="store_false",
                        help="train on the images as they are (default: random distortions)")
    parser.add_argument("--elastic", dest="distort", action="store_const", const="elastic",
                        help="elastic distortions on top of the affine ones (digits.nets.elastic)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=None,
                        help="threads sharing each batch (default 2; 1: one thread, multithreaded BLAS)")
    parser.add_argument("--validate", action="store_true", help="test accuracy after every epoch")
    parser.add_argument("--save", metavar="FOLDER", help="save the trained network (cnn.npz) there")
    parser.add_argument("--micro", action="store_true", help="time the layout and col2im alternatives only")
    parser.add_argument("--table", type=int, metavar="ROUNDS", default=0,
                        help="only the per-stage table of --variants, ROUNDS times interleaved "
                             "(use with --subset and --epochs)")
    parser.add_argument("--variants", type=variant_list, default=variant_list(TABLE_VARIANTS),
                        help=f"with --table: ways of training to compare, some of {', '.join(VARIANTS)} "
                             f"(default {TABLE_VARIANTS})")
    args = parser.parse_args(argv)
    schedule = args.schedule if args.schedule in ("cosine", "constant") else float(args.schedule)

    print(f"CPU: {cpu_model()}; NumPy SIMD: {numpy_simd()}")
    print(f"BLAS: {blas_description()}; numpy {np.__version__}")
    if args.micro:
        micro(args.batch_size)
        return

    train_x, train_y, test_x, test_y = load_mnist(args.data)
    if args.subset:
        train_x, train_y = train_x[:args.subset], train_y[:args.subset]
    convs, hidden = args.arch
    if args.table:
        stage_table(train_x, train_y, args, args.workers or min(2, os.cpu_count() or 1), args.table,
                    args.variants)
        return
    workers = args.workers or min(2, os.cpu_count() or 1)
    rng = np.random.default_rng(args.seed)
    net = CNN.random(rng, convs=convs, hidden=hidden, kernel=args.kernel)
    print(f"{net.describe()}: {sum(p.size for p in net.params.values()):,} parameters; "
          f"{len(train_y):,} training images, {args.epochs} epochs, batch {args.batch_size}, "
          f"Adam lr {args.lr:g} {args.schedule}, distortion {args.distort if isinstance(args.distort, str) else 'on' if args.distort else 'off'}, "
          f"lamb {args.lamb:g}, seed {args.seed}, {workers} worker thread(s)")
    wall = time.perf_counter()
    with OthersCPU() as others:
        result = train_minibatch(
            net, train_x, train_y, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, rng=rng,
            validation=(test_x, test_y) if args.validate else None, distort=args.distort,
            progress=progress_printer() if sys.stderr.isatty() else None, lamb=args.lamb,
            schedule=schedule, optimizer=args.optimizer, workers=workers)
    wall = time.perf_counter() - wall
    history, interrupted = result.history, result.stopped_early
    train_rss = peak_rss_mb()
    epochs_done = len(history["seconds"])
    train_seconds = sum(history["seconds"])
    start = time.perf_counter()
    accuracy = float(np.mean(net.predict_pixels(test_x) == test_y))
    predict_seconds = time.perf_counter() - start

    per_epoch = train_seconds / max(1, epochs_done)

    print(f"\n{net.describe()}, {epochs_done} epochs{f' ({result.why})' if interrupted else ''}")
    print(f"  training: {train_seconds:.1f} s ({per_epoch:.1f} s per epoch, "
          f"{len(train_y) / per_epoch:,.0f} images/s); wall time with evaluations {wall:.1f} s")
    if others.cores is not None:
        print(f"  meanwhile other processes used {others.cores:.2f} of the {os.cpu_count()} cores; load average "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} at the end")
    print(f"  test accuracy: {100 * accuracy:.2f} % ({len(test_y):,} images, predicted in {predict_seconds:.1f} s)")
    print(f"  peak memory (max RSS): {train_rss:.0f} MB after training, {peak_rss_mb():.0f} MB at the end")
    # The floor: the same products, alone, in this run.
    step_floor, products, how, _ = arithmetic_floor(net, args.batch_size, workers)
    epoch_floor = step_floor * len(train_y) / args.batch_size
    print(f"  arithmetic floor: {1e3 * step_floor:.1f} ms per step ({how}), {epoch_floor:.1f} s per epoch; "
          f"epoch time / floor = {per_epoch / epoch_floor:.2f}")
    if args.save:
        print(f"  saved: {net.save(args.save)}")


if __name__ == "__main__":
    main()
