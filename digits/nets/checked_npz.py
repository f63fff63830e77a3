"""Reading an .npz file without trusting it: names and sizes are checked before any array is read.

`np.load` reads a member in full when it is asked for, sized by what the member's own header
claims: a header claiming 10^14 elements ends in a MemoryError, and a 2 kB member that inflates
to 2.4 GB is read in full before anyone looks at its name. `CheckedNpz` first reads the zip's
directory and every member's .npy header (a few hundred bytes each) and refuses the file when

- a member's name is not one the caller expects, or appears twice, or there are too many;
- a member declares more than MAX_MEMBER_BYTES (MAX_TOTAL_BYTES in all) once inflated;
- its header is not a plain .npy header, holds Python objects, or claims a shape whose size
  differs from the member's declared size.

Only then does `read(name)` read an array, which the zip reader cannot inflate beyond the
declared size.
"""
import zipfile
import zlib

import numpy as np

MAX_MEMBERS = 128                   # a committee of 9 CNNs (its most) holds 80 arrays
MAX_MEMBER_BYTES = 256 << 20        # the shipped CNN's largest array takes 0.8 MB
MAX_TOTAL_BYTES = 512 << 20
SUFFIX = ".npy"

# What a damaged file can raise while its directory, headers or arrays are read.
READ_ERRORS = (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error, NotImplementedError)


class NpzError(ValueError):
    """The file is not an npz this reads; the message says what is wrong with it."""


class CheckedNpz:
    """An open .npz file (binary file object `file`) whose directory and headers were checked.

    `expected(name)` says whether a member name (without ".npy") may appear. `headers` maps
    each name to (shape, dtype) as its header declares them. Raises NpzError (or one of
    READ_ERRORS for a damaged zip) on anything amiss.
    """

    def __init__(self, file, expected):
        self.zip = zipfile.ZipFile(file)
        members = self.zip.infolist()
        if len(members) > MAX_MEMBERS:
            raise NpzError(f"it holds {len(members)} members; a network has at most {MAX_MEMBERS}")
        self.headers, self._members, total = {}, {}, 0
        for info in members:
            name = info.filename[:-len(SUFFIX)] if info.filename.endswith(SUFFIX) else None
            if name is None or not expected(name):
                raise NpzError(f"it holds a member {info.filename[:60]!r} that no network has")
            if name in self.headers:
                raise NpzError(f"it holds the member {name!r} twice")
            if info.file_size > MAX_MEMBER_BYTES or total + info.file_size > MAX_TOTAL_BYTES:
                raise NpzError(f"its member {name!r} declares {info.file_size:,} bytes; "
                               f"this reads at most {MAX_MEMBER_BYTES >> 20} MB an array")
            total += info.file_size
            self.headers[name] = self._header(info)
            self._members[name] = info

    def _header(self, info):
        """(shape, dtype) from the .npy header of zip member `info`, checked against its size."""
        with self.zip.open(info) as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
            else:
                raise NpzError(f"its member {info.filename!r} has an .npy header of version {version}")
            header_bytes = f.tell()
        if dtype.hasobject:
            raise NpzError(f"its member {info.filename!r} holds Python objects, not numbers")
        size = dtype.itemsize * int(np.prod(shape, dtype=object))
        if size != info.file_size - header_bytes:
            raise NpzError(f"its member {info.filename!r} claims a shape {shape} that does not match its size")
        return tuple(shape), dtype

    def read(self, name):
        """The array `name` (its header already checked)."""
        with self.zip.open(self._members[name]) as f:
            return np.lib.format.read_array(f, allow_pickle=False)

    def close(self):
        self.zip.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
