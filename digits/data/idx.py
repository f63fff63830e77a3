"""Reading and writing the IDX format of the official MNIST files (gzipped or not).

An IDX file is a 4-byte magic number (0, 0, type code, number of dimensions), one big-endian
uint32 per dimension, then the values. MNIST uses type 0x08 (unsigned bytes): images are
idx3 (count, 28, 28), labels idx1 (count,).
"""
import gzip
import struct

import numpy as np

from digits.errors import DataError

UBYTE = 0x08


def parse_idx(raw, name="IDX data"):
    """Array held in the bytes of an uncompressed IDX file; DataError if they are not one."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DataError(f"{name} is not an IDX file (bad magic number); use the official MNIST files")
    if raw[2] != UBYTE:
        raise DataError(f"{name} holds IDX type 0x{raw[2]:02x}, expected unsigned bytes (0x08)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise DataError(f"{name} has a truncated IDX header; download the file again")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    size = int(np.prod(shape, dtype=np.int64))
    if len(raw) - header != size:
        raise DataError(
            f"{name} should hold {size} values for shape {shape} but holds {len(raw) - header}; "
            "the file is truncated or corrupt, download it again")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def read_idx_bytes(path):
    """Uncompressed contents of an IDX file, gunzipping it when its name ends in .gz."""
    try:
        if str(path).endswith(".gz"):
            with gzip.open(path, "rb") as f:
                return f.read()
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise DataError(f"{path} not found") from None
    except (OSError, EOFError) as e:  # gzip raises these for damaged archives
        raise DataError(f"{path} cannot be read ({e}); download it again") from None


def read_idx(path):
    """The array stored in the IDX file at `path`."""
    return parse_idx(read_idx_bytes(path), name=str(path))


def idx_bytes(array):
    """An array of unsigned bytes encoded as an uncompressed IDX file."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, UBYTE, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()
