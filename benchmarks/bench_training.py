"""Speed and memory of training, the reference formulation against this project, in one run.

    python -m benchmarks.bench_training [--data PATH] [--maxiter 100] [--repeats 7]
                                        [--no-whole-runs] [--lbfgs-iterations 20]

0. The machine: CPU model, NumPy's vector extensions, the BLAS and its threads (threadpoolctl),
   and the element-wise forms model.py could use for the sigmoid, softplus and backward step,
   in ns per element (one block of examples x 100 hidden units, one core, fastest of 30).
1. Whole runs: the reference's main script (below) and `python main.py` in float64 and float32,
   each in a fresh process, for training time, test accuracy and peak memory (max RSS).
2. Per evaluation: the cost and gradient on the 60,000 training images, timed alternately for
   the reference formulation (written out below as the tutorial wrote it: it appends the bias
   column and builds the one-hot labels with a Python loop on every call), this project in
   float64 and in float32, and, as the floor, the two big matrix products alone (forward
   X @ Theta1.T and backward delta2.T @ A1, 60,000 x 785 x 100) in each precision, both as
   one call each on all the BLAS's threads and split into blocks over the cores as
   CostFunction does; the faster of the two is the floor. Median of --repeats calls each (each
   the second of two calls in a row, as in training).
3. L-BFGS-B's own time per iteration (what the optimiser spends outside the cost function),
   over --lbfgs-iterations iterations in each precision.
"""
import argparse
import concurrent.futures
import contextlib
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
from threadpoolctl import ThreadpoolController, threadpool_info

from digits.constants import DATA_DIR, REPO as ROOT
from digits.data import mnist as dataset
from digits.nets import MLP
from digits.nets.base import pack
import model
from digits.blas import numpy_blas_threads, scipy_blas_single_threaded
from digits.nets.fast_mlp import BLOCK_ROWS, CostFunction


def initial_params(input_size, hidden_size, num_labels, rng):
    """The reference's random initial weights as one vector (the same draws as MLP.random)."""
    assert (input_size, num_labels) == (784, 10)
    return pack(MLP.random(hidden_size, rng).params)


# ---- The reference formulation, as the tutorial wrote it --------------------------------------
def reference_neural_network(nn_params, input_layer_size, hidden_layer_size, num_labels, X, y, lamb):
    Theta1 = np.reshape(nn_params[:hidden_layer_size * (input_layer_size + 1)],
                        (hidden_layer_size, input_layer_size + 1), 'C')
    Theta2 = np.reshape(nn_params[hidden_layer_size * (input_layer_size + 1):],
                        (num_labels, hidden_layer_size + 1), 'C')
    m = X.shape[0]
    one_matrix = np.ones((m, 1))
    X = np.append(one_matrix, X, axis=1)
    a1 = X
    z2 = np.dot(X, Theta1.transpose())
    a2 = 1 / (1 + np.exp(-z2))
    one_matrix = np.ones((m, 1))
    a2 = np.append(one_matrix, a2, axis=1)
    z3 = np.dot(a2, Theta2.transpose())
    a3 = 1 / (1 + np.exp(-z3))
    y_vect = np.zeros((m, 10))
    for i in range(m):
        y_vect[i, int(y[i])] = 1
    J = (1 / m) * (np.sum(np.sum(-y_vect * np.log(a3) - (1 - y_vect) * np.log(1 - a3)))) + (lamb / (2 * m)) * (
        sum(sum(pow(Theta1[:, 1:], 2))) + sum(sum(pow(Theta2[:, 1:], 2))))
    Delta3 = a3 - y_vect
    Delta2 = np.dot(Delta3, Theta2) * a2 * (1 - a2)
    Delta2 = Delta2[:, 1:]
    Theta1[:, 0] = 0
    Theta1_grad = (1 / m) * np.dot(Delta2.transpose(), a1) + (lamb / m) * Theta1
    Theta2[:, 0] = 0
    Theta2_grad = (1 / m) * np.dot(Delta3.transpose(), a2) + (lamb / m) * Theta2
    grad = np.concatenate((Theta1_grad.flatten(), Theta2_grad.flatten()))
    return J, grad


def reference_predict(Theta1, Theta2, X):
    m = X.shape[0]
    X = np.append(np.ones((m, 1)), X, axis=1)
    a2 = 1 / (1 + np.exp(-np.dot(X, Theta1.transpose())))
    a2 = np.append(np.ones((m, 1)), a2, axis=1)
    a3 = 1 / (1 + np.exp(-np.dot(a2, Theta2.transpose())))
    return np.argmax(a3, axis=1)


def reference_main(mat_path, maxiter, fix_threads=False):
    """The tutorial's main.py (seeded initial weights, no files written).

    fix_threads: run SciPy's own BLAS on one thread during L-BFGS-B, as train.py does, to show
    how much of the speed-up that alone gives.
    """
    from scipy.io import loadmat
    from scipy.optimize import minimize
    data = loadmat(mat_path)
    # The timer starts where train.py's does: at the pixels, before they are scaled.
    start = time.perf_counter()
    X = data['data'].transpose() / 255
    y = data['label'].flatten()
    X_train, y_train, X_test, y_test = X[:60000, :], y[:60000], X[60000:, :], y[60000:]
    nn_params = initial_params(784, 100, 10, np.random.default_rng(0))
    with scipy_blas_single_threaded() if fix_threads else contextlib.nullcontext():
        result = minimize(reference_neural_network, x0=nn_params, args=(784, 100, 10, X_train, y_train, 0.1),
                          options={'maxiter': maxiter}, method="L-BFGS-B", jac=True)
    print(f"Trained in {time.perf_counter() - start:.1f} s ({result.nit} iterations)")
    Theta1 = np.reshape(result["x"][:100 * 785], (100, 785))
    Theta2 = np.reshape(result["x"][100 * 785:], (10, 101))
    print(f"Test Set Accuracy: {np.mean(reference_predict(Theta1, Theta2, X_test) == y_test) * 100:f}")
    print(f"Training Set Accuracy: {np.mean(reference_predict(Theta1, Theta2, X_train) == y_train) * 100:f}")
    with tempfile.TemporaryDirectory() as folder:  # the reference saved its weights too
        np.savetxt(os.path.join(folder, 'Theta1.txt'), Theta1, delimiter=' ')
        np.savetxt(os.path.join(folder, 'Theta2.txt'), Theta2, delimiter=' ')


# ---- Measurements -----------------------------------------------------------------------------
def machine():
    """Lines naming the CPU, NumPy's vector extensions and the BLAS this run used."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), cpu)
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:  # NumPy 1.x
        from numpy.core._multiarray_umath import __cpu_features__ as features
    # AVX512_SKX is the group NumPy's AVX-512 loops need (False too when NPY_DISABLE_CPU_FEATURES
    # turns AVX-512 off, while AVX512F may still say what the CPU has).
    simd = [name for name in ("AVX512_SKX", "AVX2", "FMA3", "ASIMD") if features.get(name)]
    lines = [f"CPU: {cpu}, {os.cpu_count()} logical CPUs; NumPy {np.__version__} using {', '.join(simd) or 'no SIMD'}"
             f"{'' if features.get('AVX512_SKX') else ' (no AVX-512)'}"
             f"{'; CPU has AVX-512F' if features.get('AVX512F') and not features.get('AVX512_SKX') else ''}"]
    for lib in threadpool_info():
        lines.append(f"{lib['user_api'].upper()}: {lib['internal_api']} {lib.get('version')}, "
                     f"{lib.get('architecture', '?')} kernels, {lib['num_threads']} threads "
                     f"({os.path.basename(lib['filepath'])})")
    return lines


def element_wise_forms(rows=BLOCK_ROWS, hidden=100, runs=30):
    """ns per element of candidate forms of the element-wise steps, on one block (in cache)."""
    from scipy.special import expit
    rng = np.random.default_rng(0)
    table = {}
    for dtype in (np.float64, np.float32):
        cap = np.log(np.finfo(dtype).max).astype(dtype)
        z = (rng.standard_normal((rows, hidden)) * 3).astype(dtype)
        a = expit(z)
        d = rng.standard_normal((rows, hidden)).astype(dtype)
        out, tmp = np.empty_like(z), np.empty_like(z)

        def tanh_form():
            np.multiply(z, 0.5, out=out)
            np.tanh(out, out=out)
            np.multiply(out, 0.5, out=out)
            np.add(out, 0.5, out=out)

        def exp_form():
            np.negative(z, out=out)
            np.minimum(out, cap, out=out)
            np.exp(out, out=out)
            np.add(out, 1, out=out)
            np.divide(1, out, out=out)

        def exp_abs_form():
            np.abs(z, out=tmp)
            np.negative(tmp, out=tmp)
            np.exp(tmp, out=tmp)
            np.add(tmp, 1, out=tmp)
            np.divide(1, tmp, out=out)
            np.subtract(1, out, out=out, where=z < 0)

        def softplus_log1p():
            np.maximum(z, 0, out=tmp)
            np.abs(z, out=out)
            np.negative(out, out=out)
            np.exp(out, out=out)
            np.log1p(out, out=out)
            np.add(out, tmp, out=out)

        def softplus_log():
            np.maximum(z, 0, out=tmp)
            np.abs(z, out=out)
            np.negative(out, out=out)
            np.exp(out, out=out)
            np.add(out, 1, out=out)
            np.log(out, out=out)
            np.add(out, tmp, out=out)

        def backward():
            np.subtract(1, a, out=tmp)
            np.multiply(tmp, a, out=tmp)
            np.multiply(d, tmp, out=out)

        def backward_temporary():
            np.multiply(d, a, out=out)
            np.multiply(out, 1 - a, out=out)

        forms = {
            "sigmoid: model.sigmoid(z, out=z)": lambda: model.sigmoid(z, out=out),
            "sigmoid: 0.5*tanh(z/2)+0.5, in place": tanh_form,
            "sigmoid: 1/(1+exp(min(-z, 709.78))), in place": exp_form,
            "sigmoid: exp(-|z|), then 1/(1+e) or 1-1/(1+e)": exp_abs_form,
            "sigmoid: scipy.special.expit(z, out=)": lambda: expit(z, out=out),
            "softplus: max(z,0)+log1p(exp(-|z|)), in place": softplus_log1p,
            "softplus: max(z,0)+log(1+exp(-|z|)), in place": softplus_log,
            "softplus: np.logaddexp(0, z)": lambda: np.logaddexp(0, z, out=out),
            "backward: d*(a*(1-a)), in place": backward,
            "backward: d*a*(1-a) with a temporary": backward_temporary,
            "tanh alone": lambda: np.tanh(z, out=out),
            "exp alone": lambda: np.exp(z, out=out),
            "log1p alone": lambda: np.log1p(a, out=out),
            "multiply alone": lambda: np.multiply(z, a, out=out),
        }
        for name, form in forms.items():
            best = np.inf
            for _ in range(runs):
                start = time.perf_counter()
                form()
                best = min(best, time.perf_counter() - start)
            table.setdefault(name, {})[np.dtype(dtype).name] = best / z.size * 1e9
    return table


def big_products(X_train, params, dtype):
    """The two big products of one evaluation, alone: one call each, and in blocks over the cores.

    X_train @ Theta1.T forward and delta2.T @ A1 backward, A1 = [1, X] (60,000 x 785).
    """
    A1 = model.add_bias_column(X_train, dtype, scale=1 / 255)
    Theta1 = params[:100 * 785].reshape(100, 785).astype(dtype)
    delta2 = np.random.default_rng(1).standard_normal((A1.shape[0], 100)).astype(dtype)

    def whole():
        return A1 @ Theta1.T, delta2.T @ A1

    threads = numpy_blas_threads()
    starts = range(0, A1.shape[0], BLOCK_ROWS)
    blas = ThreadpoolController().select(user_api="blas")  # made once: it takes milliseconds
    # (its own controller, not digits.blas: the floor is timed with exactly one limit set)

    def block(start):
        rows = slice(start, start + BLOCK_ROWS)
        return A1[rows] @ Theta1.T, delta2[rows].T @ A1[rows]

    def in_blocks():
        with blas.limit(limits=1), concurrent.futures.ThreadPoolExecutor(threads) as pool:
            return list(pool.map(block, starts))

    return whole, in_blocks


def time_evaluations(X_train, y_train, repeats):
    """Median seconds per cost-and-gradient call of each formulation and of the products alone.

    All are timed alternately, round after round, so that other load on the machine falls on
    all of them alike.
    """
    params = initial_params(784, 100, 10, np.random.default_rng(0))
    X_scaled = X_train / 255
    candidates = {
        "reference": lambda p: reference_neural_network(p.copy(), 784, 100, 10, X_scaled, y_train, 0.1),
        "float64": CostFunction(X_train, y_train, 784, 100, 10, 0.1, scale=1 / 255),
        "float32": CostFunction(X_train, y_train, 784, 100, 10, 0.1, dtype=np.float32, scale=1 / 255),
    }
    for dtype in ("float64", "float32"):
        whole, in_blocks = big_products(X_train, params, dtype)
        candidates[f"{dtype} products, one call each"] = lambda p, f=whole: f()
        candidates[f"{dtype} products, in blocks over the cores"] = lambda p, f=in_blocks: f()
    times = {name: [] for name in candidates}
    costs = {}
    for _ in range(repeats + 1):  # the first round warms up and is dropped
        for name, evaluate in candidates.items():
            # Each is called twice in a row and the second call timed: in training the calls
            # follow each other. A first call pays for what ran before it, measured on the
            # 2-core EPYC VM: the reference's took 0.8-1.5 s against 0.43 s for the next (it
            # pages in ~1.5 GB of temporaries per call), and CostFunction's ~30 ms more right
            # after a product on all of OpenBLAS's threads, whose idle threads spin on for a
            # while (OPENBLAS_THREAD_TIMEOUT) and take a core from its blocks.
            evaluate(params)
            start = time.perf_counter()
            result = evaluate(params)
            times[name].append(time.perf_counter() - start)
            if "products" not in name:
                costs[name] = result[0]
    return {name: float(np.median(t[1:])) for name, t in times.items()}, costs


def optimizer_time(X_train, y_train, iterations):
    """L-BFGS-B's own seconds per iteration (outside the cost function), and evaluations per iteration."""
    from scipy.optimize import minimize
    params = initial_params(784, 100, 10, np.random.default_rng(0))
    found = {}
    for dtype in (np.float64, np.float32):
        cost = CostFunction(X_train, y_train, 784, 100, 10, 0.1, dtype=dtype, scale=1 / 255)
        inside = []

        def timed(p):
            start = time.perf_counter()
            result = cost(p)
            inside.append(time.perf_counter() - start)
            return result

        with scipy_blas_single_threaded():  # as digits.nets.lbfgs.train runs it
            start = time.perf_counter()
            result = minimize(timed, params, method="L-BFGS-B", jac=True, options={"maxiter": iterations})
            total = time.perf_counter() - start
        found[np.dtype(dtype).name] = {"own_s": (total - sum(inside)) / result.nit, "nit": result.nit,
                                       "evaluations": len(inside), "evaluation_s": float(np.median(inside))}
    return found


def run_measured(command):
    """Run a command; returns its stdout, wall seconds and peak memory (max RSS) in MB."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    out = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f"error: {' '.join(command)} failed with exit code {process.returncode}")
    return out, time.perf_counter() - start, usage.ru_maxrss / 1024


def whole_runs(mat_path, maxiter):
    runs = {}
    weights_dir = tempfile.mkdtemp()
    commands = {
        "reference": [sys.executable, "-m", "benchmarks.bench_training", "--reference-child", mat_path, "--maxiter", str(maxiter)],
        "reference, SciPy's BLAS on 1 thread": [sys.executable, "-m", "benchmarks.bench_training", "--reference-child", mat_path,
                                                "--maxiter", str(maxiter), "--fix-threads"],
        "float64": [sys.executable, "main.py", "--data", mat_path, "--maxiter", str(maxiter), "--weights-dir", weights_dir,
                    "--no-report"],
        "float32": [sys.executable, "main.py", "--data", mat_path, "--maxiter", str(maxiter), "--weights-dir", weights_dir,
                    "--dtype", "float32", "--no-report"],
    }
    for name, command in commands.items():
        out, wall, peak_mb = run_measured(command)
        runs[name] = {
            "train_s": float(re.search(r"Trained in ([\d.]+) s", out).group(1)),
            "accuracy": float(re.search(r"Test Set Accuracy: ([\d.]+)", out).group(1)),
            "wall_s": wall, "peak_mb": peak_mb,
        }
        print(f"  {name}: {json.dumps(runs[name])}", flush=True)
    return runs


def mat_file(data):
    """A mnist-original.mat to feed both sides: --data, data/, or one made from ../shared/mnist."""
    if data and data.endswith(".mat"):
        return data
    default = os.path.join(DATA_DIR, dataset.MAT_NAME)
    if not data and os.path.exists(default):
        return default
    from benchmarks.pen_drawings import mnist_dir
    X, y = dataset.load_mnist(mnist_dir(data))
    path = os.path.join(tempfile.mkdtemp(), dataset.MAT_NAME)
    dataset.save_mat(path, X, y)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", help="mnist-original.mat or a folder of MNIST IDX files")
    parser.add_argument("--maxiter", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--no-whole-runs", dest="whole_runs", action="store_false",
                        help="skip the whole runs in fresh processes (the slow part)")
    parser.add_argument("--lbfgs-iterations", type=int, default=20,
                        help="iterations over which L-BFGS-B's own time is measured (default 20)")
    parser.add_argument("--reference-child", metavar="MAT", help=argparse.SUPPRESS)
    parser.add_argument("--fix-threads", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.reference_child:
        return reference_main(args.reference_child, args.maxiter, args.fix_threads)

    mat_path = mat_file(args.data)
    print("\n".join(machine()))
    print(f"Load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    runs = None
    if args.whole_runs:
        # Whole runs first, while this process is small: a child's max RSS includes what it had
        # when it was forked from here, before it exec'd.
        print(f"Whole runs, {args.maxiter} iterations, each in its own process:", flush=True)
        runs = whole_runs(mat_path, args.maxiter)
    X, y = dataset.load_mat(mat_path)
    X, y = X[:60000], y[:60000]
    print("Element-wise forms, ns per element:", flush=True)
    forms = element_wise_forms()
    print(f"Per evaluation, 60,000 images, median of {args.repeats}:", flush=True)
    seconds, costs = time_evaluations(X, y, args.repeats)
    print(f"L-BFGS-B's own time, {args.lbfgs_iterations} iterations:", flush=True)
    optimizer = optimizer_time(X, y, args.lbfgs_iterations)
    print(f"Load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    ours = ("float64", "float32")
    floor = {n: min(seconds[f"{n} products, one call each"], seconds[f"{n} products, in blocks over the cores"])
             for n in ours}
    print()
    print("| | reference formulation | float64 (default) | float32 |")
    print("|---|---|---|---|")
    print("| cost + gradient, 60,000 images | " + " | ".join(f"{seconds[n]:.3f} s" for n in ("reference", *ours)) + " |")
    print("| speed-up per evaluation | 1.00x | " + " | ".join(f"{seconds['reference'] / seconds[n]:.2f}x" for n in ours) + " |")
    print("| the two big products alone, one call each | | " + " | ".join(f"{seconds[f'{n} products, one call each']:.3f} s" for n in ours) + " |")
    print("| the two big products alone, in blocks over the cores | | " + " | ".join(f"{seconds[f'{n} products, in blocks over the cores']:.3f} s" for n in ours) + " |")
    print("| evaluation / floor (the faster of the two) | " + f"{seconds['reference'] / floor['float64']:.2f}x | " + " | ".join(f"{seconds[n] / floor[n]:.2f}x" for n in ours) + " |")
    print("| evaluation outside the products (evaluation - floor) | " + f"{seconds['reference'] - floor['float64']:.3f} s | " + " | ".join(f"{seconds[n] - floor[n]:.3f} s" for n in ours) + " |")
    print("| L-BFGS-B's own time per iteration | | " + " | ".join(f"{optimizer[n]['own_s'] * 1000:.1f} ms" for n in ours) + " |")
    print("| cost evaluations per iteration | | " + " | ".join(f"{optimizer[n]['evaluations'] / optimizer[n]['nit']:.2f}" for n in ours) + " |")
    if runs:
        ref = runs["reference"]
        print(f"| training, {args.maxiter} iterations | " + " | ".join(f"{runs[n]['train_s']:.1f} s" for n in ("reference", *ours)) + " |")
        print("| speed-up of training | 1.00x | " + " | ".join(f"{ref['train_s'] / runs[n]['train_s']:.2f}x" for n in ours) + " |")
        print("| whole run: start, load, train, evaluate, save | " + " | ".join(f"{runs[n]['wall_s']:.1f} s" for n in ("reference", *ours)) + " |")
        print("| speed-up of the whole run | 1.00x | " + " | ".join(f"{ref['wall_s'] / runs[n]['wall_s']:.2f}x" for n in ours) + " |")
        print("| test accuracy | " + " | ".join(f"{runs[n]['accuracy']:.2f} %" for n in ("reference", *ours)) + " |")
        print("| peak memory (max RSS) of the whole run | " + " | ".join(f"{runs[n]['peak_mb']:.0f} MB" for n in ("reference", *ours)) + " |")
        print("| memory relative to the reference | 1.00x | " + " | ".join(f"{runs[n]['peak_mb'] / ref['peak_mb']:.2f}x" for n in ours) + " |")
    print()
    print(f"Element-wise forms, ns per element (a block of {BLOCK_ROWS} x 100, in cache, one core, fastest of 30):")
    print("| form | float64 | float32 |")
    print("|---|---|---|")
    for name, ns in forms.items():
        print(f"| {name} | {ns['float64']:.2f} | {ns['float32']:.2f} |")
    if runs:
        fixed = runs["reference, SciPy's BLAS on 1 thread"]
        print(f"\nThe reference formulation with SciPy's BLAS on one thread during L-BFGS-B (as train.py runs it): "
              f"{fixed['train_s']:.1f} s, {ref['train_s'] / fixed['train_s']:.2f}x faster than as written, "
              f"{fixed['accuracy']:.2f} % test accuracy.")
    print(f"\nCosts at the initial weights agree: reference {costs['reference']:.10f}, "
          f"float64 {costs['float64']:.10f}, float32 {costs['float32']:.10f}")


if __name__ == "__main__":
    sys.exit(main())
