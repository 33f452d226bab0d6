"""Reading an ``.npz`` that may have been crafted: headers first, sizes capped, no pickle.

An ``.npz`` is a zip of ``.npy`` files. ``np.load`` trusts what the zip says: a member
that inflates to gigabytes (a zip bomb) is inflated before anyone can look at its shape.
Here every member is looked at before a byte of its data is read:

    archive = NpzReader(path, limit=MAX_BYTES)     # the zip's directory only
    archive.header("step")                          # (shape, dtype) from the .npy header
    archive.array("step")                           # the array, checked against its header

- only members that are asked for are read (anything else in the file is never inflated);
- the zip's own uncompressed size of a member must be exactly what its ``.npy`` header
  says (header bytes + shape x itemsize): a member cannot hide more data than it declares;
- the sizes of the members asked for add up to at most ``limit`` bytes;
- only plain numbers and strings: an object (pickled) array is refused.

Every problem is an ``NpzError`` (a ValueError) with one line naming the member.
"""
from __future__ import annotations

import math
import zipfile

import numpy as np

MAX_HEADER = 10_000          # bytes of an .npy header (NumPy's own default limit)
PLAIN_KINDS = "biufU"        # bool, int, unsigned, float, unicode: nothing that needs pickle


class NpzError(ValueError):
    """An .npz member that is missing, malformed, or larger than it may be."""


class NpzReader:
    """The members of one ``.npz`` file, read one by one after their headers are checked."""

    def __init__(self, path, limit: int):
        self.path, self.limit, self.used = path, limit, 0
        self.zip = zipfile.ZipFile(path)            # reads the directory at the end of the file only
        self.members = {info.filename[:-4]: info for info in self.zip.infolist() if info.filename.endswith(".npy")}
        self.headers = {}

    def close(self) -> None:
        self.zip.close()

    def __enter__(self) -> "NpzReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def names(self) -> list:
        return list(self.members)

    def header(self, name: str):
        """(shape, dtype) of member ``name``, from its .npy header (a few hundred bytes read)."""
        if name in self.headers:
            return self.headers[name][:2]
        if name not in self.members:
            raise NpzError(f"member {name!r} is missing")
        info = self.members[name]
        with self.zip.open(info) as f:
            version = np.lib.format.read_magic(f)
            reader = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
            if version not in reader:
                raise NpzError(f"member {name!r}: .npy format version {version} is not one NumPy writes")
            shape, fortran, dtype = reader[version](f, max_header_size=MAX_HEADER)
            offset = f.tell()                        # where the data begins
        if dtype.kind not in PLAIN_KINDS or dtype.hasobject:
            raise NpzError(f"member {name!r}: dtype {dtype} is not plain numbers or text")
        if any(not isinstance(n, int) or n < 0 for n in shape):
            raise NpzError(f"member {name!r}: shape {shape} is not a shape")
        size = offset + math.prod(shape) * dtype.itemsize
        if info.file_size != size:                   # the zip and the header must tell the same story
            raise NpzError(f"member {name!r}: the zip says {info.file_size} bytes, its header "
                           f"{shape} {dtype} means {size}")
        self.headers[name] = (tuple(shape), dtype, fortran)
        return self.headers[name][:2]

    def array(self, name: str) -> np.ndarray:
        """Member ``name`` as an array, once its header passed and the total stays under the limit."""
        shape, dtype = self.header(name)
        size = self.members[name].file_size
        if self.used + size > self.limit:
            raise NpzError(f"member {name!r}: {size} bytes would bring what is read to {self.used + size}, "
                           f"over the limit of {self.limit}")
        self.used += size
        with self.zip.open(self.members[name]) as f:   # reads exactly file_size bytes, then checks the CRC
            array = np.lib.format.read_array(f, allow_pickle=False, max_header_size=MAX_HEADER)
        if array.shape != shape or array.dtype != dtype:
            raise NpzError(f"member {name!r}: read {array.shape} {array.dtype}, its header said {shape} {dtype}")
        return array
