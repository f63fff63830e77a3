"""Drawings that are not digits: letters, symbols, scribbles, two digits written over each
other, stray marks. A network that has only ever seen digits has no way to say "this is none";
these teach the apps' "not a digit" check (digits.nets.rejection) what "none" looks like.

    strokes = draw(family, rng, pen_digits)      # one drawing: strokes in tablet coordinates (y up)
    FAMILIES                                      # the kinds, each a function (rng, pen_digits) -> strokes

Each drawing is made from a template of a few corner points in a unit box (y up), its corners
jittered, the whole rotated, slanted and stretched, and its lines sampled every few
hundredths as a pen tablet samples them; `digits.imaging.strokes.fit_to_canvas` then places it
on a canvas like any pen digit. benchmarks/not_a_digit.py measures the families on fresh
drawings, and kinds of drawing no network here saw on UNSEEN_FAMILIES, which training never draws.
"""
import numpy as np

# Letters and symbols that no careful writer would take for a digit (no O, I, l, S, Z, B, G,
# b, g, q: they are digits' shapes). Each: a list of strokes, each a list of (x, y) corners.
LETTERS = {
    "A": [[(0, 0), (0.5, 1), (1, 0)], [(0.25, 0.45), (0.75, 0.45)]],
    "E": [[(1, 1), (0, 1), (0, 0), (1, 0)], [(0, 0.5), (0.7, 0.5)]],
    "F": [[(1, 1), (0, 1), (0, 0)], [(0, 0.55), (0.7, 0.55)]],
    "H": [[(0, 1), (0, 0)], [(1, 1), (1, 0)], [(0, 0.5), (1, 0.5)]],
    "K": [[(0, 1), (0, 0)], [(0.9, 1), (0, 0.45), (1, 0)]],
    "M": [[(0, 0), (0.05, 1), (0.5, 0.35), (0.95, 1), (1, 0)]],
    "N": [[(0, 0), (0, 1), (1, 0), (1, 1)]],
    "R": [[(0, 0), (0, 1), (0.75, 1), (0.95, 0.8), (0.75, 0.55), (0, 0.55)], [(0.3, 0.55), (1, 0)]],
    "W": [[(0, 1), (0.22, 0), (0.5, 0.65), (0.78, 0), (1, 1)]],
    "X": [[(0, 1), (1, 0)], [(1, 1), (0, 0)]],
    "Y": [[(0, 1), (0.5, 0.5), (1, 1)], [(0.5, 0.5), (0.5, 0)]],
    "V": [[(0, 1), (0.5, 0), (1, 1)]],
    "T": [[(0, 1), (1, 1)], [(0.5, 1), (0.5, 0)]],
    "D": [[(0, 0), (0, 1), (0.6, 1), (0.95, 0.75), (0.95, 0.25), (0.6, 0), (0, 0)]],
    "P": [[(0, 0), (0, 1), (0.75, 1), (0.95, 0.85), (0.95, 0.65), (0.75, 0.5), (0, 0.5)]],
    "m": [[(0, 0), (0, 0.6)], [(0, 0.4), (0.25, 0.6), (0.5, 0.4), (0.5, 0)], [(0.5, 0.4), (0.75, 0.6), (1, 0.4), (1, 0)]],
    "w": [[(0, 0.6), (0.25, 0), (0.5, 0.4), (0.75, 0), (1, 0.6)]],
    "k": [[(0, 1), (0, 0)], [(0.8, 0.6), (0, 0.3), (0.8, 0)]],
    "h": [[(0, 1), (0, 0)], [(0, 0.4), (0.4, 0.6), (0.8, 0.45), (0.8, 0)]],
}

SYMBOLS = {
    "plus": [[(0.5, 0), (0.5, 1)], [(0, 0.5), (1, 0.5)]],
    "asterisk": [[(0.5, 0), (0.5, 1)], [(0.07, 0.25), (0.93, 0.75)], [(0.07, 0.75), (0.93, 0.25)]],
    "hash": [[(0.35, 0), (0.35, 1)], [(0.7, 0), (0.7, 1)], [(0, 0.35), (1, 0.35)], [(0, 0.7), (1, 0.7)]],
    "equals": [[(0, 0.35), (1, 0.35)], [(0, 0.7), (1, 0.7)]],
    "triangle": [[(0, 0), (0.5, 1), (1, 0), (0, 0)]],
    "square": [[(0, 0), (0, 1), (1, 1), (1, 0), (0, 0)]],
    "star": [[(0.5, 1), (0.2, 0), (1, 0.62), (0, 0.62), (0.8, 0), (0.5, 1)]],
    "check": [[(0, 0.45), (0.35, 0), (1, 1)]],
    "arrow": [[(0, 0.5), (1, 0.5)], [(0.7, 0.8), (1, 0.5), (0.7, 0.2)]],
    "less": [[(1, 1), (0, 0.5), (1, 0)]],
    "zigzag": [[(0, 0.5), (0.15, 1), (0.3, 0), (0.45, 1), (0.6, 0), (0.75, 1), (0.9, 0)]],
}


def _circle(cx, cy, r, start=0.0, turn=1.0, n=24):
    t = start + np.linspace(0, 2 * np.pi * turn, n)
    return list(zip(cx + r * np.cos(t), cy + r * np.sin(t)))


def _curves():
    """Symbols made of curves, built when asked (a fresh random-free template each time)."""
    heart = [(0.5 + 0.5 * np.sin(t) ** 3,
              0.55 + 0.4 * (13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)) / 17)
             for t in np.linspace(0, 2 * np.pi, 40)]
    return {
        "heart": [heart],
        "smiley": [_circle(0.5, 0.5, 0.5), _circle(0.33, 0.65, 0.03, n=6), _circle(0.67, 0.65, 0.03, n=6),
                   _circle(0.5, 0.5, 0.3, start=np.pi * 1.15, turn=0.35, n=10)],
        "crossed circle": [_circle(0.5, 0.5, 0.5), [(0.5, 0), (0.5, 1)], [(0, 0.5), (1, 0.5)]],
        "spiral": [[(0.5 + 0.05 * t * np.cos(t), 0.5 + 0.05 * t * np.sin(t)) for t in np.linspace(0, 9, 40)]],
        "percent": [_circle(0.2, 0.8, 0.17, n=12), [(0.95, 1), (0.05, 0)], _circle(0.8, 0.2, 0.17, n=12)],
        "wave": [[(x, 0.5 + 0.3 * np.sin(4 * np.pi * x)) for x in np.linspace(0, 1, 30)]],
        "at": [_circle(0.5, 0.5, 0.22, n=14) + _circle(0.5, 0.5, 0.5, start=0, turn=0.9, n=24)],
    }


def _sampled(points, step=0.03):
    """A polyline's points every `step` along it (a pen tablet samples a moving pen)."""
    points = np.asarray(points, dtype=np.float64)
    out = [points[:1]]
    for a, b in zip(points[:-1], points[1:]):
        n = max(1, int(np.ceil(np.linalg.norm(b - a) / step)))
        out.append(a + (b - a) * (np.arange(1, n + 1) / n)[:, None])
    return np.concatenate(out)


def varied(template, rng, jitter=0.06):
    """A template's strokes with corners jittered, then rotated, slanted and stretched at random,
    sampled as a tablet would: a list of (n, 2) float arrays, tablet units (0..500, y up)."""
    angle = rng.uniform(-0.35, 0.35)
    c, s = np.cos(angle), np.sin(angle)
    matrix = np.diag(rng.uniform(0.7, 1.3, 2)) @ np.array([[1, rng.uniform(-0.3, 0.3)], [0, 1]]) @ np.array([[c, -s], [s, c]])
    strokes = []
    for stroke in template:
        corners = np.asarray(stroke, dtype=np.float64) + rng.normal(0, jitter / 2, (len(stroke), 2))
        strokes.append(500 * (_sampled(corners) - 0.5) @ matrix.T + 250)
    return strokes


def letter(rng, pen_digits=None):
    return varied(LETTERS[rng.choice(sorted(LETTERS))], rng)


def symbol(rng, pen_digits=None):
    shapes = {**SYMBOLS, **_curves()}
    return varied(shapes[rng.choice(sorted(shapes))], rng, jitter=0.04)


def scribble(rng, pen_digits=None):
    """A random smooth scrawl: a few loops and turns, or hatching, or a filled-in blot."""
    style = rng.integers(3)
    if style == 0:          # a wandering line with random turns
        n = rng.integers(25, 60)
        heading = np.cumsum(rng.normal(0, 0.6, n))
        steps = np.column_stack((np.cos(heading), np.sin(heading))) * 0.06
        points = np.cumsum(steps, axis=0)
        return varied([points.tolist()], rng, jitter=0.0)
    if style == 1:          # hatching: parallel strokes
        k = rng.integers(3, 7)
        return varied([[(x, 0), (x + 0.3, 1)] for x in np.linspace(0, 0.7, k)], rng, jitter=0.03)
    loops = rng.integers(3, 7)     # a blot: circles scrawled over each other
    t = np.linspace(0, 2 * np.pi * loops, 30 * loops)
    r = 0.3 + 0.15 * rng.random() * np.sin(rng.uniform(1, 3) * t)
    points = np.column_stack((0.5 + r * np.cos(t) + 0.1 * np.sin(t / loops), 0.5 + r * np.sin(t)))
    return varied([points.tolist()], rng, jitter=0.0)


def overlaid(rng, pen_digits):
    """Two different pen digits written over each other, in the same place."""
    i, j = rng.integers(len(pen_digits), size=2)
    while pen_digits[j].label == pen_digits[i].label:
        j = rng.integers(len(pen_digits))
    shift = rng.uniform(-60, 60, 2)
    return [s.astype(np.float64) for s in pen_digits[i].strokes] + \
           [s.astype(np.float64) + shift for s in pen_digits[j].strokes]


def mark(rng, pen_digits=None):
    """A stray mark: a dash, near level (a steep line could be a 1), what the number reader
    leaves out between digits. (A dot the apps refuse before any network reads it.)"""
    tilt = rng.uniform(-0.2, 0.2)
    length = rng.uniform(300, 500)
    x = np.linspace(-0.5, 0.5, 20) * length
    return [np.column_stack((250 + x * np.cos(tilt), 250 + x * np.sin(tilt) + rng.normal(0, 3, x.size)))]


FAMILIES = {"letters": letter, "symbols": symbol, "scribbles": scribble, "overlaid digits": overlaid,
            "marks": mark}


# Never trained on: letters and symbols none of the families above draws, to measure how the
# "not a digit" output does on kinds of drawing it never saw (benchmarks.not_a_digit), as the
# drawings of other people will be. Left out, as for training: shapes a digit takes (C, open like
# a 0 or 6; J, a 1 with a foot; L, a 4 or 7 turned; Q, a 0 or 9; ampersand; question mark). Some
# kept come near one all the same (u, an open 4; hourglass, a straight 8): the README has each.
UNSEEN_LETTERS = {
    "n": [[(0, 0), (0, 0.6)], [(0, 0.4), (0.5, 0.62), (1, 0.4), (1, 0)]],
    "r": [[(0, 0), (0, 0.6)], [(0, 0.35), (0.45, 0.6), (0.9, 0.55)]],
    "u": [[(0, 0.6), (0, 0.15), (0.5, 0), (1, 0.15)], [(1, 0.6), (1, 0)]],
    "e": [[(0.05, 0.35), (1, 0.35), (0.9, 0.58), (0.5, 0.7), (0.1, 0.55), (0, 0.3), (0.2, 0.05), (0.55, 0), (0.95, 0.12)]],
    "f": [[(0.9, 0.95), (0.6, 1), (0.35, 0.85), (0.35, 0)], [(0, 0.55), (0.75, 0.55)]],
    "t": [[(0.4, 1), (0.4, 0.1), (0.6, 0), (0.9, 0.05)], [(0, 0.65), (0.85, 0.65)]],
    "lambda": [[(0, 1), (0.2, 1), (1, 0)], [(0.5, 0.55), (0, 0)]],
    "pi": [[(0, 1), (1, 1)], [(0.3, 1), (0.25, 0)], [(0.7, 1), (0.75, 0)]],
    "Sigma": [[(1, 1), (0, 1), (0.5, 0.5), (0, 0), (1, 0)]],
    "psi": [[(0, 0.8), (0.05, 0.45), (0.5, 0.3), (0.95, 0.45), (1, 0.8)], [(0.5, 1), (0.5, 0)]],
}
UNSEEN_SYMBOLS = {
    "greater": [[(0, 1), (1, 0.5), (0, 0)]],
    "divide": [[(0, 0.5), (1, 0.5)], [(0.48, 0.85), (0.52, 0.85)], [(0.48, 0.15), (0.52, 0.15)]],
    "plus-minus": [[(0.5, 0.3), (0.5, 1)], [(0.1, 0.65), (0.9, 0.65)], [(0.1, 0.05), (0.9, 0.05)]],
    "arrow up": [[(0.5, 0), (0.5, 1)], [(0.2, 0.7), (0.5, 1), (0.8, 0.7)]],
    "hourglass": [[(0, 1), (1, 1), (0, 0), (1, 0), (0, 1)]],
    "house": [[(0.1, 0), (0.1, 0.6), (0.5, 1), (0.9, 0.6), (0.9, 0), (0.1, 0)]],
    "stick figure": [[(0.5, 0.75), (0.5, 0.35)], [(0.2, 0.6), (0.8, 0.6)], [(0.25, 0), (0.5, 0.35), (0.75, 0)]],
    "tilde": [[(0, 0.4), (0.25, 0.6), (0.5, 0.45), (0.75, 0.35), (1, 0.6)]],
    "infinity": [[(0.5, 0.5), (0.25, 0.75), (0, 0.5), (0.25, 0.25), (0.5, 0.5), (0.75, 0.75), (1, 0.5),
                  (0.75, 0.25), (0.5, 0.5)]],
    "bowtie": [[(0, 0), (0, 1), (1, 0), (1, 1), (0, 0)]],
}


def unseen_letter(rng, pen_digits=None):
    return varied(UNSEEN_LETTERS[rng.choice(sorted(UNSEEN_LETTERS))], rng)


def unseen_symbol(rng, pen_digits=None):
    return varied(UNSEEN_SYMBOLS[rng.choice(sorted(UNSEEN_SYMBOLS))], rng, jitter=0.04)


# Drawn only to measure, never to train (digits.data.training_set draws FAMILIES alone).
UNSEEN_FAMILIES = {"letters never trained on": unseen_letter, "symbols never trained on": unseen_symbol}
_EVERY_FAMILY = {**FAMILIES, **UNSEEN_FAMILIES}      # made once: `draw` is called for every drawing


def draw(family, rng, pen_digits=None):
    """One drawing of `family` (a key of FAMILIES or UNSEEN_FAMILIES): strokes in tablet
    coordinates, y up."""
    return _EVERY_FAMILY[family](rng, pen_digits)
