"""A network in one `.npz` file (NumPy's own format): written atomically, read back checked.

The file holds the parameters by name, plus `kind` (the registry name), `format` (FORMAT), the
kind's architecture as whole numbers (names of the kind's choosing, e.g. `convs`, `hidden`) and
optionally `temperature` (the calibration of predict_proba; absent when not calibrated), and
numbers from 0 to 1 a kind keeps beside its parameters (FRACTIONS: the stroke reader's join
weight and "not sure" line, `digits.nets.trajectory`), and words (WORDS: the kind of network the
stroke reader is joined with).

    path = save(net, folder, architecture, fractions, words)   # architecture: {name: int or ints}
    params, meta = read(folder, cls, advice, architecture_names, shapes_of)

`read` trusts nothing in the file (digits.nets.checked_npz): member names, declared sizes and
.npy headers are checked before any array is read, the architecture before the parameters,
the parameters' shapes from their headers before they are read; a FIFO or device is refused
before it is opened. Every problem is one WeightsError line ending in `advice`.
"""
import os
import re

import numpy as np

from digits.errors import OutputError, WeightsError
from digits.files import atomic_write, check_output_dir, make_output_dir, open_input
from digits.nets.base import check_matrix
from digits.nets.calibration import MAX_TEMPERATURE, MIN_TEMPERATURE, valid_temperature
from digits.nets.checked_npz import READ_ERRORS, CheckedNpz, NpzError

FORMAT = 1
FRACTIONS = ("weight", "sure_above")    # numbers from 0 to 1
WORDS = ("network",)                    # a kind of network, e.g. "committee"
RESERVED = ("kind", "format", "temperature") + FRACTIONS + WORDS
PARAM_NAME = re.compile(r"(m[0-9]\.)?[a-z]{2,8}[1-9]?[0-9]?_[Wb]")    # conv1_W, fc2_b, out_W, m0.out_W (a committee member's), ...
MAX_META_SIZE = 16      # elements of an architecture entry or a scalar: more is no architecture


def save(net, folder, architecture, fractions=None, words=None):
    """Write `folder/<net.FILES[0]>` (the folder is created if needed), all or nothing.
    `fractions`: {name in FRACTIONS: a number from 0 to 1 or None (left out)}, or None;
    `words`: {name in WORDS: a kind of network or None (left out)}, or None.

    Raises OutputError, leaving any earlier file untouched, when it cannot be written."""
    check_output_dir(folder, "the weights folder")
    make_output_dir(folder, "the weights folder")
    path = os.path.join(folder, net.FILES[0])
    arrays = {"kind": np.array(net.kind), "format": np.array(FORMAT)}
    arrays.update({name: np.array(value, dtype=np.int64) for name, value in architecture.items()})
    if net.temperature is not None:
        arrays["temperature"] = np.array(float(net.temperature))
    arrays.update({name: np.array(float(value)) for name, value in (fractions or {}).items() if value is not None})
    arrays.update({name: np.array(str(value)) for name, value in (words or {}).items() if value is not None})
    arrays.update(net.params)
    try:
        with atomic_write(path, "wb") as f:
            np.savez(f, **arrays)
    except OSError as e:
        raise OutputError(f"cannot save the network in {folder}: {e.strerror or e}; "
                          "free some space or choose another folder") from None
    return path


def read(folder, cls, advice, architecture_names, shapes_of):
    """(params, meta) from `folder/<cls.FILES[0]>`, a network of kind `cls.kind`.

    architecture_names: the kind's architecture entries (whole numbers; absent ones are left out
    of meta); shapes_of(meta) -> {name: shape} of its parameters, raising ValueError for an
    impossible architecture. params: float32 arrays, finite; meta: the small arrays (kind,
    format, the architecture, temperature) as read. Raises WeightsError, one line."""
    path = os.path.join(os.fspath(folder), cls.FILES[0])

    def fail(what):
        raise WeightsError(f"{what}; {advice}".replace("\n", " ")) from None

    if not os.path.lexists(path):
        fail(f"no {cls.FILES[0]} in {folder}")
    small = set(RESERVED) | set(architecture_names)
    with open_input(path, WeightsError, advice) as f:
        if f.read(4) != b"PK\x03\x04":
            fail(f"{path} is not an npz file")
        f.seek(0)
        try:
            with CheckedNpz(f, lambda name: name in small or PARAM_NAME.fullmatch(name) is not None) as npz:
                return _read_checked(npz, path, fail, cls.kind, small, architecture_names, shapes_of)
        except NpzError as e:
            fail(f"{path} is not a network file: {e}")
        except READ_ERRORS as e:
            fail(f"{path} is damaged or truncated ({str(e) or type(e).__name__})")
        except MemoryError:
            fail(f"{path} is too large to read")


def _read_checked(npz, path, fail, kind, small, architecture_names, shapes_of):
    meta = {}
    for name in small & set(npz.headers):
        shape, dtype = npz.headers[name]
        if int(np.prod(shape)) > MAX_META_SIZE or dtype.kind not in "iufU" or dtype.itemsize > 256:
            fail(f"{path}: '{name}' is not a small number or word ({'x'.join(map(str, shape))} {dtype})")
        meta[name] = npz.read(name)
    found = meta.get("kind")
    if found is None or found.shape != () or found.dtype.kind != "U":
        fail(f"{path} does not say which kind of network it holds (no 'kind')")
    if str(found) != kind:
        fail(f"{path} holds a '{found}' network, not a {kind}")
    fmt = meta.get("format")
    if fmt is None or fmt.shape != () or fmt.dtype.kind not in "iu" or int(fmt) != FORMAT:
        fail(f"{path} is in an unknown format ({'none' if fmt is None else fmt!s}; this version reads {FORMAT})")
    for name in architecture_names:
        if name in meta and (meta[name].dtype.kind not in "iu" or meta[name].ndim > 1):
            fail(f"{path} has an impossible architecture ('{name}' is not whole numbers)")
    try:
        shapes = shapes_of(meta)
    except (KeyError, ValueError) as e:
        fail(f"{path} lacks its architecture or has an impossible one ({e})")
    extra = sorted(set(npz.headers) - set(shapes) - small)
    if extra:
        fail(f"{path} holds arrays this architecture does not have: {', '.join(extra)}")
    for name, shape in shapes.items():         # from the headers: nothing read yet
        if name not in npz.headers:
            fail(f"{path} lacks the array {name}")
        declared, dtype = npz.headers[name]
        if dtype.kind != "f":
            fail(f"{path}: {name} holds {dtype} values, expected floats")
        if declared != tuple(shape):
            fail(f"{path}: {name} has shape {'x'.join(map(str, declared))}, expected {'x'.join(map(str, shape))}")
    params = {}
    for name, shape in shapes.items():
        a = npz.read(name)
        try:
            check_matrix(name, a, tuple(shape), path)
        except WeightsError as e:
            fail(str(e))
        with np.errstate(over="ignore"):
            params[name] = a.astype(np.float32)
        if not np.isfinite(params[name]).all():
            fail(f"{path}: {name} holds values too large for float32 (over 3.4e38)")
    if "temperature" in meta:
        t = meta["temperature"]
        if t.shape != () or t.dtype.kind != "f" or not valid_temperature(float(t)):
            fail(f"{path} has an invalid temperature {t!s} (expected a number from "
                 f"{MIN_TEMPERATURE} to {MAX_TEMPERATURE})")
    for name in FRACTIONS:
        if name in meta:
            v = meta[name]
            if v.shape != () or v.dtype.kind != "f" or not 0 <= float(v) <= 1:
                fail(f"{path} has an invalid {name} {v!s} (expected a number from 0 to 1)")
    for name in WORDS:
        if name in meta:
            v = meta[name]
            if v.shape != () or v.dtype.kind != "U" or not re.fullmatch(r"[a-z]{1,32}", str(v)):
                fail(f"{path} has an invalid {name} {v!s} (expected the name of a kind of network)")
    return params, meta


def apply_temperature(net, meta):
    """net with the file's temperature (checked by `read`), if it had one."""
    if "temperature" in meta:
        net.temperature = float(meta["temperature"])
    return net
