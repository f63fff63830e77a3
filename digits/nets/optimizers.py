"""Gradient steps on a dict of parameter arrays, updated in place: Adam, momentum, schedules.

    opt = Adam(net.params)
    opt.step(net.params, grads, lr)      # grads keyed like params

Used by the minibatch trainer (digits/nets/minibatch.py); L-BFGS-B is SciPy's (lbfgs.py).
"""
import math

import numpy as np


def learning_rate(lr, schedule, step, total_steps, epoch):
    """The learning rate of step `step` (0-based) of `total_steps`, in epoch `epoch` (0-based).

    schedule: "cosine" lowers it from lr to 0 along a half cosine over all the steps;
    "constant" keeps it; a number d in (0, 1] multiplies it by d after each epoch.
    """
    if schedule == "cosine":
        return lr * 0.5 * (1 + math.cos(math.pi * step / total_steps))
    if schedule == "constant":
        return lr
    if isinstance(schedule, (int, float)) and 0 < schedule <= 1:
        return lr * schedule ** epoch
    raise ValueError(f"unknown learning-rate schedule {schedule!r}: 'cosine', 'constant' or a factor in (0, 1]")


class Adam:
    """Adam (Kingma & Ba 2015): per-parameter steps scaled by running moments of the gradient."""

    def __init__(self, params, beta1=0.9, beta2=0.999, eps=1e-8):
        self.beta1, self.beta2, self.eps, self.t = beta1, beta2, eps, 0
        self.m = {k: np.zeros_like(p) for k, p in params.items()}
        self.v = {k: np.zeros_like(p) for k, p in params.items()}
        self.work = {k: (np.empty_like(p), np.empty_like(p)) for k, p in params.items()}   # no allocation per step

    def step(self, params, grads, lr):
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        step = lr * math.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t)    # bias corrections folded in
        for k, p in params.items():
            g, m, v = grads[k], self.m[k], self.v[k]
            t, u = self.work[k]
            m *= b1
            m += np.multiply(g, 1 - b1, out=t)                # m = b1 m + (1 - b1) g
            v *= b2
            np.multiply(g, g, out=t)
            v += np.multiply(t, 1 - b2, out=t)                # v = b2 v + (1 - b2) g^2
            np.multiply(m, step, out=t)
            np.sqrt(v, out=u)
            u += self.eps
            p -= np.divide(t, u, out=t)                       # p -= step m / (sqrt(v) + eps)


class Momentum:
    """SGD with (heavy-ball) momentum."""

    def __init__(self, params, momentum=0.9):
        self.momentum = momentum
        self.velocity = {k: np.zeros_like(p) for k, p in params.items()}

    def step(self, params, grads, lr):
        for k, p in params.items():
            v = self.velocity[k]
            v *= self.momentum
            v -= lr * grads[k]
            p += v


OPTIMIZERS = {"adam": Adam, "momentum": Momentum}
