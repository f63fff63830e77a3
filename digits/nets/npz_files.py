"""A network in one `.npz` file (NumPy's own format): written atomically, read back checked.

The file holds the parameters by name, plus `kind` (the registry name), `format` (FORMAT), the
kind's architecture as whole numbers (names of the kind's choosing, e.g. `convs`, `hidden`) and
optionally `temperature` (the calibration of predict_proba; absent when not calibrated).

    path = save(net, folder, architecture)          # architecture: {name: int or ints}
    arrays, fail = read(folder, cls, advice)        # checked kind and format; fail(what) raises
    params = float_params(arrays, shapes, path, fail)
    set_temperature(net, arrays, path, fail)
"""
import os
import zipfile
import zlib

import numpy as np

from digits.errors import OutputError, WeightsError
from digits.files import atomic_write, check_output_dir, make_output_dir
from digits.nets.base import check_matrix

FORMAT = 1
RESERVED = ("kind", "format", "temperature")


def save(net, folder, architecture):
    """Write `folder/<net.FILES[0]>` (the folder is created if needed), all or nothing.

    Raises OutputError, leaving any earlier file untouched, when it cannot be written."""
    check_output_dir(folder, "the weights folder")
    make_output_dir(folder, "the weights folder")
    path = os.path.join(folder, net.FILES[0])
    arrays = {"kind": np.array(net.kind), "format": np.array(FORMAT)}
    arrays.update({name: np.array(value, dtype=np.int64) for name, value in architecture.items()})
    if net.temperature is not None:
        arrays["temperature"] = np.array(float(net.temperature))
    arrays.update(net.params)
    try:
        with atomic_write(path, "wb") as f:
            np.savez(f, **arrays)
    except OSError as e:
        raise OutputError(f"cannot save the network in {folder}: {e.strerror or e}; "
                          "free some space or choose another folder") from None
    return path


def read(folder, cls, advice):
    """The arrays of `folder/<cls.FILES[0]>`, of kind `cls.kind` and this FORMAT: (arrays, fail).

    fail(what) raises the WeightsError "<what>; <advice>" (one line) for the caller's own checks.
    """
    path = os.path.join(os.fspath(folder), cls.FILES[0])

    def fail(what):
        raise WeightsError(f"{what}; {advice}".replace("\n", " ")) from None

    if not os.path.isfile(path):
        fail(f"no {cls.FILES[0]} in {folder}")
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
    except OSError as e:
        fail(f"cannot read {path}: {e.strerror or e}")
    if magic != b"PK\x03\x04":
        fail(f"{path} is not an npz file")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as e:
        fail(f"{path} is damaged or truncated ({str(e) or type(e).__name__})")

    kind = arrays.get("kind")
    if kind is None or kind.shape != () or kind.dtype.kind != "U":
        fail(f"{path} does not say which kind of network it holds (no 'kind')")
    if str(kind) != cls.kind:
        fail(f"{path} holds a '{kind}' network, not a {cls.kind}")
    fmt = arrays.get("format")
    if fmt is None or fmt.shape != () or fmt.dtype.kind not in "iu" or int(fmt) != FORMAT:
        fail(f"{path} is in an unknown format ({'none' if fmt is None else fmt!s}; this version reads {FORMAT})")
    return arrays, fail


def whole_numbers(arrays, names, path, fail):
    """Check that each architecture entry in `names` is there, as whole numbers (0-d or 1-d)."""
    for name in names:
        if name not in arrays or arrays[name].dtype.kind not in "iu" or arrays[name].ndim > 1:
            fail(f"{path} lacks its architecture ('{name}' missing or not whole numbers)")


def float_params(arrays, shapes, path, fail, architecture_names=()):
    """The parameters named in `shapes` ({name: shape}), each checked (present, floats of that
    shape, finite) and as float32; no other array may be in the file."""
    for name in shapes:
        if name not in arrays:
            fail(f"{path} lacks the array {name}")
    extra = sorted(set(arrays) - set(shapes) - set(RESERVED) - set(architecture_names))
    if extra:
        fail(f"{path} holds arrays this architecture does not have: {', '.join(extra)}")
    params = {}
    for name, shape in shapes.items():
        a = arrays[name]
        if a.dtype.kind != "f":
            fail(f"{path}: {name} holds {a.dtype} values, expected floats")
        try:
            check_matrix(name, a, shape, path)
        except WeightsError as e:
            fail(str(e))
        params[name] = a.astype(np.float32)
    return params


def set_temperature(net, arrays, path, fail):
    """net.temperature from the file's `temperature`, if there is one (checked)."""
    if "temperature" in arrays:
        t = arrays["temperature"]
        if t.shape != () or t.dtype.kind != "f" or not np.isfinite(t) or float(t) <= 0:
            fail(f"{path} has an invalid temperature {t!s} (expected one positive number)")
        net.temperature = float(t)
    return net
