"""Minibatch training for any network of the contract (digits.nets.base).

    result = train_minibatch(net, images, labels, epochs=..., rng=rng, ...)

Each epoch visits the training images once in an order shuffled by `rng` (a numpy Generator),
`batch_size` at a time (with `sample`, all but a pool of alternatives, and a fresh few of those). Every batch is scaled to float32 in [0, 1] on its own (no float copy
of the whole set is made), optionally distorted (digits.imaging.distort: a small random
rotation, scale and shift of each image), and gives one step of the optimizer
(digits.nets.optimizers: Adam by default) on `net.loss_and_scores`. Measured on the default CNN
(benchmarks/bench_cnn.py, 6 epochs, cosine schedule): Adam lr 2e-3 99.35 % on the MNIST test
set, Adam lr 1e-3 99.27 %, momentum SGD lr 0.05 99.27 % (kept as optimizer="momentum").

Both cores: each batch is split between `workers` threads (2 by default), each scaling,
distorting and taking the cost of its part with single-threaded BLAS; the parts' gradients are
averaged, weighted by their sizes, so the step is that of the whole batch. NumPy and BLAS
release the GIL, so the im2col copies, pooling and additions run in parallel as well as the
matrix products. Measured 1.3-1.4x faster per epoch than one thread with two-threaded BLAS on
an idle 2-core machine, and far steadier when other processes share the cores. Each batch's
parts are scaled and distorted on the workers one batch ahead (`_Batches`): a worker that
finishes its part early prepares its part of the next batch while the optimizer steps. The
distortions are drawn for the whole batch in the calling thread, in batch order, so a run is
reproducible whatever the threads' timing.

Weight decay goes through the loss's `lamb`, the project's L2 convention (lamb / (2m) times the
squared non-bias weights, m the examples in the cost). Each batch of b images is given
lamb * b / N (N the training images), so the expected minibatch gradient is the gradient of
the full-data cost the L-BFGS trainer minimises with the same lamb.

Stopping early: Ctrl-C (KeyboardInterrupt, or digits.cli.Terminated for SIGTERM), or a batch
whose cost or step is not finite (diverged: the learning rate is far too large). Either way
the network is left with the parameters it had at the end of the last finished epoch (its
initial ones if none finished), and the TrainingResult says why.
"""
import contextlib
import os
import time
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from digits.blas import blas_single_threaded
from digits.constants import PIXEL_SCALE, PIXELS
from digits.imaging.distort import random_distortions, warp
from digits.nets import elastic
from digits.nets.optimizers import OPTIMIZERS, learning_rate
from digits.nets.training import TrainingResult, not_finite


class _Diverged(Exception):
    """Raised inside the loop when a step leaves the cost or the parameters non-finite."""


def _prepared(images, distortions, fields=None):
    """A part of a batch as the network reads it: float32 in [0, 1], distorted when
    `distortions` (see digits.imaging.distort) is not None, elastically too when `fields`
    (digits.nets.elastic) is not None. images: (m, 784) raw pixels."""
    X = images.astype(np.float32)
    X *= np.float32(PIXEL_SCALE)
    if distortions is None:
        return X
    return warp(X, distortions) if fields is None else elastic.warp(X, distortions, fields)


def _part_cost(net, X, labels, lamb, dropout=None):
    """The cost of a prepared part of a batch (X: an array, or a Future of one):
    (J, grads, number classified right). dropout: None, or (p, seed) for the network's dropout
    (its mask drawn from a Generator seeded with `seed`). Overflow is not warned about: a cost that
    is not finite stops training as diverged (train_minibatch)."""
    X = X.result() if isinstance(X, Future) else X
    noise = {} if dropout is None else {"dropout": (dropout[0], np.random.default_rng(dropout[1]))}
    with np.errstate(over="ignore", invalid="ignore"):     # per thread: each part sets its own
        J, grads, scores = net.loss_and_scores(X, labels, lamb, **noise)
    return float(J), grads, int(np.count_nonzero(np.argmax(scores, axis=1) == labels))


class _Batches:
    """The epoch's batches, each split into parts, prepared (`_prepared`) on the pool one batch
    ahead: batch b + 1 is queued behind batch b's costs (`start` after `_batch_cost` has
    submitted them), so each worker scales and distorts its part of the next batch as soon as it
    has finished its cost, while the calling thread combines the parts' gradients and steps the
    optimizer. (Queued before the costs, the preparation held both workers up at the start of
    every step and the optimizer's step then ran on an idle pool.) The distortions are drawn
    here, in the calling thread, in batch order: a run is reproducible whatever the threads' timing."""

    def __init__(self, pool, images, labels, order, batch_size, workers, rng, distort, dropout=0.0):
        self.pool, self.images, self.labels, self.order = pool, images, labels, order
        self.batch_size, self.workers, self.rng, self.distort = batch_size, workers, rng, distort
        self.dropout = dropout
        self.ahead = {}

    def start(self, b):
        """Queue batch b's preparation (if b is a batch of the epoch and not queued yet)."""
        if b * self.batch_size < len(self.order) and b not in self.ahead:
            self.ahead[b] = self._start(b)

    def _start(self, b):
        """(parts: slices of the batch, prepared parts: Futures or arrays, labels of each part,
        each part's dropout: None, or (p, the seed of its mask))."""
        idx = self.order[b * self.batch_size:(b + 1) * self.batch_size]
        m = len(idx)
        distortions = random_distortions(self.rng, m) if self.distort else None
        fields = elastic.random_fields(self.rng, m) if self.distort == "elastic" else None
        parts = [slice(p[0], p[-1] + 1) for p in np.array_split(np.arange(m), min(self.workers, m))]
        prepared = []
        for part in parts:
            args = (self.images[idx[part]], None if distortions is None else distortions[part],
                    None if fields is None else fields[part])
            prepared.append(_prepared(*args) if self.pool is None else self.pool.submit(_prepared, *args))
        # drawn after the distortions, and only with dropout: runs without it keep their random stream
        dropouts = [(self.dropout, seed) for seed in self.rng.integers(2 ** 63, size=len(parts))] \
            if self.dropout else [None] * len(parts)
        return parts, prepared, [self.labels[idx[part]] for part in parts], dropouts

    def get(self, b):
        """Batch b (queued earlier by `start`, or now)."""
        self.start(b)
        return self.ahead.pop(b)


def _batch_cost(pool, net, batch, lamb, N, submitted=None):
    """The parts' costs, run on the pool (or here), combined into the whole batch's:
    (J, grads, right), each part weighted by its share of the batch's m images. Each part's
    cost is its mean over its m_p examples with weight decay lamb * m_p / N (N the training
    images): the batch's cost is the m_p / m weighted sum of the parts'. `submitted()` is called
    once the parts are queued (the trainer then queues the next batch's preparation behind them)."""
    parts, prepared, labels, dropouts = batch
    m = parts[-1].stop
    jobs = [(net, X, y, lamb * (part.stop - part.start) / N, dropout)
            for part, X, y, dropout in zip(parts, prepared, labels, dropouts)]
    if pool is None:
        results = [_part_cost(*job) for job in jobs]
        if submitted is not None:
            submitted()
    else:
        futures = [pool.submit(_part_cost, *job) for job in jobs]
        if submitted is not None:
            submitted()
        results = [f.result() for f in futures]
    J, grads, right = results[0]
    if len(results) > 1:
        w = (parts[0].stop - parts[0].start) / m
        J = J * w
        for g in grads.values():          # the part's own arrays: scaled in place
            g *= w
        for part, (J_p, grads_p, right_p) in zip(parts[1:], results[1:]):
            w = (part.stop - part.start) / m
            J += J_p * w
            for k, g in grads.items():
                g += w * grads_p[k]
            right += right_p
    return J, grads, right


def train_minibatch(net, images, labels, epochs, batch_size=128, lr=1e-3, rng=None, validation=None,
                    distort=False, report=print, progress=None, lamb=0.0, schedule="cosine",
                    optimizer="adam", workers=None, dropout=0.0, sample=None):
    """Train `net` in place on raw pixels; returns a TrainingResult (digits.nets.training).

    images: (N, 784) or (N, 28, 28) uint8 pixels 0..255 (any numeric type scaled the same way);
    labels: (N,) digits; epochs, batch_size: whole numbers; lr: the initial learning rate;
    rng: a numpy Generator (or a seed) for the shuffling and the distortions;
    validation: None or (images, labels) scored after every epoch;
    distort: train on randomly distorted copies of each batch (digits.imaging.distort); "elastic":
    with elastic distortions on top (digits.nets.elastic);
    report(line): called once per epoch; progress(done_images, total_images, seconds): called
    after every batch with the images done in the current epoch, the epoch's total and the
    seconds since the epoch began;
    lamb: weight decay (see the module docstring); schedule: see optimizers.learning_rate;
    optimizer: "adam" or "momentum" (heavy ball, 0.9);
    dropout: in each step, each unit of the network's hidden dense layers dropped with this
    probability (`net.loss_and_scores(..., dropout=(p, rng))`, a Generator per part of the batch,
    seeded from `rng` in batch order: reproducible whatever the threads' timing, though not across
    worker counts, each part drawing its own masks); 0: none;
    sample: None, or (pool, count): `pool` indexes images of which only `count`, drawn afresh
    at random (without replacement) each epoch, are trained on in that epoch, beside all the
    others: more varied copies of some images (16 drawings of each pen digit, 8 a pass) without
    giving them a larger share of the training (an epoch is then N - len(pool) + count images);
    workers: threads sharing each batch (default: 2 on a machine with 2 or more CPUs), each
    with single-threaded BLAS; `net.loss_and_scores` is then called from several threads at
    once on parts of the batch (it only reads `params`, as the contract has it).

    The result's history holds per-epoch lists "loss" (mean cost over the epoch's batches, as
    trained), "train_accuracy" (of the batches as trained: distorted ones if distort),
    "validation_accuracy" (None without validation) and "seconds" (training time of the epoch).
    """
    rng = np.random.default_rng(rng)
    images = np.asarray(images)
    N = images.shape[0]
    images = images.reshape(N, -1)
    labels = np.asarray(labels).astype(np.intp, copy=False).ravel()
    if images.shape[1] != PIXELS or labels.shape != (N,):
        raise ValueError(f"images {images.shape} and labels {labels.shape} are not N x {PIXELS} and N")
    if N == 0 or int(epochs) < 0 or int(batch_size) < 1:
        raise ValueError(f"need images, epochs >= 0 and batch_size >= 1 (got {N}, {epochs}, {batch_size})")
    epochs, batch_size = int(epochs), int(batch_size)
    always, alternatives, count = _epoch_parts(N, sample)
    N = always.size + count               # the images of one epoch
    workers = max(1, min(2, os.cpu_count() or 1) if workers is None else int(workers))
    params = net.params
    opt = OPTIMIZERS[optimizer](params)
    steps_per_epoch = -(-N // batch_size)
    total_steps = max(1, epochs * steps_per_epoch)
    result = TrainingResult("epoch", {"loss": [], "train_accuracy": [], "validation_accuracy": [], "seconds": []})
    history = result.history
    finished = {k: p.copy() for k, p in params.items()}
    began = time.perf_counter()
    with contextlib.ExitStack() as stack:
        pool = None
        if workers > 1:
            stack.enter_context(blas_single_threaded())
            pool = stack.enter_context(ThreadPoolExecutor(workers, thread_name_prefix="minibatch"))
        try:
            for epoch in range(epochs):
                start = time.perf_counter()
                batches = _Batches(pool, images, labels, _epoch_order(rng, always, alternatives, count), batch_size,
                                   workers, rng, distort, dropout)
                loss_sum, correct = 0.0, 0
                for b in range(steps_per_epoch):
                    batch = batches.get(b)
                    m = batch[0][-1].stop
                    J, grads, right = _batch_cost(pool, net, batch, lamb, N, lambda: batches.start(b + 1))
                    with np.errstate(over="ignore", invalid="ignore"):
                        opt.step(params, grads, learning_rate(lr, schedule, epoch * steps_per_epoch + b,
                                                              total_steps, epoch))
                    trouble = not_finite(J, params)
                    if trouble:
                        raise _Diverged(f"{trouble} in epoch {epoch + 1}, batch {b + 1}")
                    loss_sum += J * m
                    correct += right
                    if progress is not None:
                        progress(min((b + 1) * batch_size, N), N, time.perf_counter() - start)
                seconds = time.perf_counter() - start
                finished = {k: p.copy() for k, p in params.items()}
                history["loss"].append(loss_sum / N)
                history["train_accuracy"].append(correct / N)
                history["validation_accuracy"].append(None)
                history["seconds"].append(seconds)
                line = (f"epoch {epoch + 1}/{epochs}: loss {loss_sum / N:.4f}, "
                        f"training accuracy {100 * correct / N:.2f} %")
                if validation is not None:
                    accuracy = _accuracy(net, *validation)
                    history["validation_accuracy"][-1] = accuracy
                    line += f", validation accuracy {100 * accuracy:.2f} %"
                if report is not None:
                    report(line + f" ({seconds:.1f} s, {N / seconds:,.0f} images/s)")
        except (KeyboardInterrupt, _Diverged) as stop:
            if isinstance(stop, _Diverged):
                result.diverged = str(stop)
            else:
                result.interruption = stop     # digits.cli.Terminated for SIGTERM
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)    # no part still reads the params
            for k, p in params.items():
                p[...] = finished[k]
    result.seconds = time.perf_counter() - began
    return result


def _epoch_parts(N, sample):
    """(the indices trained on every epoch, the pool of alternatives, how many of them an epoch
    takes) for `sample` (see train_minibatch); ValueError for a pool that is not distinct
    indices of the N images or a count outside 1..len(pool)."""
    if sample is None:
        return np.arange(N), np.arange(0), 0
    pool, count = sample
    pool = np.asarray(pool)
    if pool.ndim != 1 or not np.issubdtype(pool.dtype, np.integer) or (pool.size and (pool.min() < 0 or pool.max() >= N)):
        raise ValueError(f"sample: the pool must be indices of the {N} images")
    if np.unique(pool).size != pool.size or not 1 <= int(count) <= pool.size:
        raise ValueError(f"sample: need distinct indices and 1 <= count <= {pool.size} (got count {count})")
    always = np.ones(N, dtype=bool)
    always[pool] = False
    return np.flatnonzero(always), pool.astype(np.intp), int(count)


def _epoch_order(rng, always, alternatives, count):
    """One epoch's images in the order they are visited: every one of `always` and `count` of
    the `alternatives` (drawn here, before the shuffle; nothing drawn when there are none, so
    that runs without a sample keep their random stream)."""
    if not count:
        return rng.permutation(always)
    return rng.permutation(np.concatenate([always, rng.choice(alternatives, count, replace=False)]))


def _accuracy(net, images, labels):
    """The share of `images` (raw 0..255 pixels) that `net` reads as `labels`."""
    labels = np.asarray(labels).ravel()
    predicted = net.predict_pixels(np.asarray(images).reshape(len(labels), -1))
    return float(np.mean(predicted == labels))


def minibatch_options(epochs, batch_size, lr):
    """The training options of a kind trained here, with that kind's defaults."""
    from digits.cli import positive_float, whole_number
    from digits.nets.training import Option
    return (Option("epochs", whole_number(1), epochs, "passes over the training images"),
            Option("batch_size", whole_number(1), batch_size, "images per Adam step", "B"),
            Option("lr", positive_float, lr, "initial learning rate, lowered to 0 along a half cosine", "R"))
