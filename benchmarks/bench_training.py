"""Speed and memory of training, the reference formulation against this project, in one run.

    python -m benchmarks.bench_training [--data PATH] [--maxiter 100] [--repeats 7]

1. Per evaluation: the cost and gradient on the 60,000 training images, timed alternately for
   the reference formulation (written out below as the tutorial wrote it: it appends the bias
   column and builds the one-hot labels with a Python loop on every call), this project in
   float64 and in float32. Median of --repeats calls each.
2. Whole runs: the reference's main script (below) and `python main.py` in float64 and float32,
   each in a fresh process, for training time, test accuracy and peak memory (max RSS).
"""
import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

from digits.constants import DATA_DIR, REPO as ROOT
from digits.data import mnist as dataset
from digits.nets import MLP
from digits.nets.base import pack
from digits.nets.lbfgs import optimizer_blas_single_threaded
from model import CostFunction


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
    with optimizer_blas_single_threaded() if fix_threads else contextlib.nullcontext():
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
def time_evaluations(X_train, y_train, repeats):
    """Median seconds per cost-and-gradient call of each formulation, timed alternately."""
    params = initial_params(784, 100, 10, np.random.default_rng(0))
    X_scaled = X_train / 255
    candidates = {
        "reference": lambda p: reference_neural_network(p.copy(), 784, 100, 10, X_scaled, y_train, 0.1),
        "float64": CostFunction(X_train, y_train, 784, 100, 10, 0.1, scale=1 / 255),
        "float32": CostFunction(X_train, y_train, 784, 100, 10, 0.1, dtype=np.float32, scale=1 / 255),
    }
    times = {name: [] for name in candidates}
    costs = {}
    for _ in range(repeats + 1):  # the first round warms up and is dropped
        for name, evaluate in candidates.items():
            start = time.perf_counter()
            costs[name] = evaluate(params)[0]
            times[name].append(time.perf_counter() - start)
    return {name: float(np.median(t[1:])) for name, t in times.items()}, costs


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
        "reference": [sys.executable, __file__, "--reference-child", mat_path, "--maxiter", str(maxiter)],
        "reference, SciPy's BLAS on 1 thread": [sys.executable, __file__, "--reference-child", mat_path,
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
    folder = data or os.environ.get("MNIST_DIR") or os.path.join(ROOT, "..", "shared", "mnist")
    X, y = dataset.load_mnist(folder)
    path = os.path.join(tempfile.mkdtemp(), dataset.MAT_NAME)
    dataset.save_mat(path, X, y)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", help="mnist-original.mat or a folder of MNIST IDX files")
    parser.add_argument("--maxiter", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--reference-child", metavar="MAT", help=argparse.SUPPRESS)
    parser.add_argument("--fix-threads", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.reference_child:
        return reference_main(args.reference_child, args.maxiter, args.fix_threads)

    mat_path = mat_file(args.data)
    # Whole runs first, while this process is small: a child's max RSS includes what it had when
    # it was forked from here, before it exec'd.
    print(f"Whole runs, {args.maxiter} iterations, each in its own process:", flush=True)
    runs = whole_runs(mat_path, args.maxiter)
    X, y = dataset.load_mat(mat_path)
    print(f"Per evaluation, 60,000 images, median of {args.repeats}:", flush=True)
    seconds, costs = time_evaluations(X[:60000], y[:60000], args.repeats)

    ref = runs["reference"]
    ours = ("float64", "float32")
    print()
    print("| | reference formulation | float64 (default) | float32 |")
    print("|---|---|---|---|")
    print("| cost + gradient, 60,000 images | " + " | ".join(f"{seconds[n]:.3f} s" for n in ("reference", *ours)) + " |")
    print("| speed-up per evaluation | 1.00x | " + " | ".join(f"{seconds['reference'] / seconds[n]:.2f}x" for n in ours) + " |")
    print(f"| training, {args.maxiter} iterations | " + " | ".join(f"{runs[n]['train_s']:.1f} s" for n in ("reference", *ours)) + " |")
    print("| speed-up of training | 1.00x | " + " | ".join(f"{ref['train_s'] / runs[n]['train_s']:.2f}x" for n in ours) + " |")
    print("| whole run: start, load, train, evaluate, save | " + " | ".join(f"{runs[n]['wall_s']:.1f} s" for n in ("reference", *ours)) + " |")
    print("| speed-up of the whole run | 1.00x | " + " | ".join(f"{ref['wall_s'] / runs[n]['wall_s']:.2f}x" for n in ours) + " |")
    print("| test accuracy | " + " | ".join(f"{runs[n]['accuracy']:.2f} %" for n in ("reference", *ours)) + " |")
    print("| peak memory (max RSS) of the whole run | " + " | ".join(f"{runs[n]['peak_mb']:.0f} MB" for n in ("reference", *ours)) + " |")
    print("| memory relative to the reference | 1.00x | " + " | ".join(f"{runs[n]['peak_mb'] / ref['peak_mb']:.2f}x" for n in ours) + " |")
    fixed = runs["reference, SciPy's BLAS on 1 thread"]
    print(f"\nThe reference formulation with SciPy's BLAS on one thread during L-BFGS-B (as train.py runs it): "
          f"{fixed['train_s']:.1f} s, {ref['train_s'] / fixed['train_s']:.2f}x faster than as written, "
          f"{fixed['accuracy']:.2f} % test accuracy.")
    print(f"\nCosts at the initial weights agree: reference {costs['reference']:.10f}, "
          f"float64 {costs['float64']:.10f}, float32 {costs['float32']:.10f}")


if __name__ == "__main__":
    sys.exit(main())
