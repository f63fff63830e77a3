"""Elastic distortions of a training batch (Simard, Steinkraus & Platt 2003), on top of the affine ones.

    distortions = random_distortions(rng, n)          # digits.imaging.distort: rotation, scale, shift
    fields = random_fields(rng, n)                    # (n, 2, GRID, GRID) control-point displacements
    X = warp(X, distortions, fields)                  # float32 (n, 784)

Simard et al. smooth a random displacement field per image with a Gaussian; here the field is
drawn at GRID x GRID control points spread over the image and interpolated bilinearly to every
pixel, a smooth field for the price of one small matrix product (a Gaussian filter of the
whole field cost more than the warp itself). Each control point moves up to AMPLITUDE pixels
in each direction. The affine part and the bilinear read are digits.imaging.distort.warp's
(the same limits); the field's displacement is added to each output pixel's source point.
"""
import numpy as np

from digits.constants import SIDE
from digits.imaging import distort

GRID = 4            # control points per side, at rows and columns 0, 9, 18, 27
AMPLITUDE = 2.0     # pixels, in each direction, at each control point

_UPSAMPLING = {}


def random_fields(rng, n, grid=GRID, amplitude=AMPLITUDE):
    """(n, 2, grid, grid): each image's displacements (rows, then columns) at the control points."""
    return rng.uniform(-amplitude, amplitude, (n, 2, grid, grid))


def upsampling(grid):
    """(grid*grid, SIDE*SIDE) float32: bilinear weights of the control points at every pixel."""
    if grid not in _UPSAMPLING:
        pos = np.arange(SIDE) * (grid - 1) / (SIDE - 1)           # each pixel's place on the grid
        lo = np.minimum(np.floor(pos).astype(int), grid - 2)
        f = pos - lo
        w1 = np.zeros((SIDE, grid))                               # (pixel, control point), 1-D
        w1[np.arange(SIDE), lo] = 1 - f
        w1[np.arange(SIDE), lo + 1] += f
        _UPSAMPLING[grid] = np.einsum("ra,cb->abrc", w1, w1).reshape(grid * grid, SIDE * SIDE).astype(np.float32)
    return _UPSAMPLING[grid]


def warp(X, distortions, fields):
    """Images X (B, 784) warped by the affine `distortions` (B, 5) (digits.imaging.distort.
    random_distortions) and the displacement `fields` (B, 2, g, g): float32 (B, 784)."""
    X = np.asarray(X, dtype=np.float32)
    B = X.shape[0]
    g = fields.shape[-1]
    shift = (np.asarray(fields, dtype=np.float32).reshape(B * 2, g * g) @ upsampling(g)).reshape(B, 2, SIDE * SIDE)
    return distort.warp(X, distortions, shift)
