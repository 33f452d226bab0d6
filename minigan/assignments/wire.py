"""What crosses between the grader and the student's process: numbers, never objects.

A message is a JSON-like value (dicts with string keys, lists, strings, numbers, booleans,
None) in which NumPy arrays may stand anywhere. It travels as one ``.npz`` archive: each
array is stored under a key of its own, and the rest is JSON text in the key ``"json"``,
with ``{"__array__": key}`` where an array was. A message can carry no Python object: only
numeric and boolean arrays are accepted, and nothing is ever unpickled.

A message is measured before it is read (``decode``): each member of the archive must be
stored, not compressed (so 261 KB cannot inflate to 256 MiB), and its ``.npy`` header is
read first. The dtype, shape and size it declares are checked (numbers only, the size its
stored bytes really have, all arrays together within ``max_elements``) before any array is
built, so a reply costs the grader at most about its own length in memory.

On a pipe, each message is framed by its length (8 bytes, big-endian) so the reader knows
where it ends and can refuse one that is too large before reading it. The student's side
reads and writes frames as it likes (``read_frame``, ``write_frame``); the grader's side
never blocks on it past a deadline (``send_within``, ``receive_within``).

This file runs on both sides: the grader imports it, and a copy of it runs in the
student's sandbox (harness.py). It needs only the standard library and NumPy.
"""
from __future__ import annotations

import io
import json
import math
import os
import selectors
import struct
import time
import zipfile

import numpy as np

MAX_BYTES = 64 * 2**20      # the largest message either side accepts: 64 MiB
MAX_ELEMENTS = 2**23        # the most array elements (all arrays together) a message may declare
MAX_ARRAYS = 4096           # the most arrays a message may hold (each costs the reader a zip entry)
ARRAY_KINDS = "biufc"       # bool, int, unsigned, float, complex: no objects, strings or records


class WireError(ValueError):
    """A message that is not one: truncated, too large, not an npz, or holding non-numbers."""


def encode(value) -> bytes:
    """The npz bytes of a message."""
    arrays = {}

    def lift(v):
        if isinstance(v, np.ndarray) or isinstance(v, np.generic):
            key = f"a{len(arrays)}"
            arrays[key] = np.asarray(v)
            return {"__array__": key}
        if isinstance(v, dict):
            return {str(k): lift(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [lift(x) for x in v]
        return v

    text = json.dumps(lift(value), allow_nan=True)
    buffer = io.BytesIO()
    np.savez(buffer, json=np.frombuffer(text.encode("utf-8"), dtype=np.uint8), **arrays)
    return buffer.getvalue()


def decode(data: bytes, max_elements: int = MAX_ELEMENTS):
    """The message in npz bytes; WireError if they are anything else, or more than was asked for.

    Every array is measured from its header before it is built: ``max_elements`` caps the
    elements of all of them together (the JSON text's bytes included).
    """
    if len(data) > MAX_BYTES:
        raise WireError(f"a message of {len(data)} bytes, over the limit of {MAX_BYTES}")
    count = _entries(data)
    if count > MAX_ARRAYS:
        raise WireError(f"a message of {count} arrays, over the limit of {MAX_ARRAYS}")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError, OSError) as error:
        raise WireError(f"not an npz message ({type(error).__name__}: {error})") from None
    arrays, budget = {}, max_elements
    with archive:
        for member in members:
            key, array = _read_member(archive, member, budget)
            budget -= array.size
            if key in arrays:
                raise WireError(f"the message holds array {key!r} twice")
            arrays[key] = array
    text = arrays.pop("json", None)
    if text is None or text.dtype != np.uint8 or text.ndim != 1:
        raise WireError("an npz message without its 'json' part")
    try:
        tree = json.loads(text.tobytes().decode("utf-8"))
    except (ValueError, RecursionError) as error:
        raise WireError(f"the message's json part does not parse ({type(error).__name__}: {error})") from None

    def lower(v):
        if isinstance(v, dict):
            if set(v) == {"__array__"}:
                if v["__array__"] not in arrays:
                    raise WireError(f"the message names an array {v['__array__']!r} it does not hold")
                return arrays[v["__array__"]]
            return {k: lower(x) for k, x in v.items()}
        if isinstance(v, list):
            return [lower(x) for x in v]
        return v

    try:
        return lower(tree)
    except RecursionError:
        raise WireError("the message's json part is nested too deeply") from None


def _entries(data: bytes) -> int:
    """How many entries a zip's end-of-central-directory record declares, read before the zip is
    parsed (parsing makes an object per entry); 0 where there is no such record (not a zip)."""
    at = data.rfind(b"PK\x05\x06", max(0, len(data) - 2**16 - 22))
    if at < 0 or len(data) < at + 22:
        return 0
    (count,) = struct.unpack("<H", data[at + 10:at + 12])
    return MAX_ARRAYS + 1 if count == 0xFFFF else count  # 0xFFFF: a zip64 archive, never one of ours


def _read_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, budget: int):
    """(key, array) of one ``.npy`` member, read only after its header says it fits."""
    name = member.filename
    if not name.endswith(".npy") or member.is_dir():
        raise WireError(f"not an npz message (member {name[:60]!r} is not a .npy array)")
    key = name[:-4]
    if member.compress_type != zipfile.ZIP_STORED:
        raise WireError(f"array {key[:60]!r} is compressed; only stored (uncompressed) arrays are accepted")
    try:
        with archive.open(member) as file:
            version = np.lib.format.read_magic(file)
            read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                           (2, 0): np.lib.format.read_array_header_2_0}.get(version)
            if read_header is None:
                raise ValueError(f"npy format version {version}")
            shape, fortran, dtype = read_header(file)
            if dtype.hasobject or dtype.kind not in ARRAY_KINDS or dtype.fields is not None:
                raise WireError(f"array {key!r} has dtype {dtype}, wanted numbers or booleans")
            count = math.prod(shape)
            if any(n < 0 for n in shape):
                raise WireError(f"array {key[:60]!r} declares shape {shape}")
            if count > budget:
                raise WireError(f"array {key[:60]!r} declares shape {shape}: more than the {budget} elements "
                                "the grader expects in this message")
            nbytes = count * dtype.itemsize
            if member.file_size - file.tell() != nbytes:
                raise WireError(f"array {key[:60]!r} declares shape {shape} of {dtype} ({nbytes} bytes) but "
                                f"holds {member.file_size - file.tell()}")
            array = np.frombuffer(bytearray(file.read(nbytes)), dtype=dtype)
    except WireError:
        raise
    except (ValueError, KeyError, EOFError, OSError, zipfile.BadZipFile) as error:
        raise WireError(f"not an npz message (array {key[:60]!r}: {type(error).__name__}: {error})") from None
    if len(array) != count:
        raise WireError(f"array {key[:60]!r} ends early")
    return key, array.reshape(shape, order="F" if fortran else "C")


def write_frame(stream, value) -> None:
    """Send one message on a binary stream."""
    data = encode(value)
    stream.write(struct.pack(">Q", len(data)) + data)
    stream.flush()


def read_frame(stream):
    """Receive one message from a binary stream (blocking); EOFError at the end of the stream."""
    header = stream.read(8)
    if len(header) < 8:
        raise EOFError("the stream ended")
    (size,) = struct.unpack(">Q", header)
    if size > MAX_BYTES:
        raise WireError(f"a message of {size} bytes, over the limit of {MAX_BYTES}")
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("the stream ended inside a message")
    return decode(data)


def send_within(fd: int, data: bytes, timeout: float) -> None:
    """Write one frame of npz bytes to a pipe within ``timeout`` seconds, or TimeoutError."""
    frame, deadline = struct.pack(">Q", len(data)) + data, time.monotonic() + timeout
    os.set_blocking(fd, False)
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_WRITE)
        while frame:
            if not selector.select(max(0.0, deadline - time.monotonic())):
                raise TimeoutError("the reader took no more within the time limit")
            try:
                frame = frame[os.write(fd, frame):]
            except BlockingIOError:
                continue


def receive_within(fd: int, timeout: float, limit: int = MAX_BYTES) -> bytes:
    """Read one frame's npz bytes from a pipe within ``timeout`` seconds.

    TimeoutError if it does not come in time, EOFError if the pipe ends first, WireError if
    its length is over ``limit`` (before reading any of it).
    """
    header, deadline = b"", time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)

        def read(n: int) -> bytes:
            if not selector.select(max(0.0, deadline - time.monotonic())):
                raise TimeoutError("no whole message within the time limit")
            chunk = os.read(fd, min(n, 2**20))
            if not chunk:
                raise EOFError("the pipe ended")
            return chunk

        while len(header) < 8:
            header += read(8 - len(header))
        (size,) = struct.unpack(">Q", header)
        if size > limit:
            raise WireError(f"a message of {size} bytes, over the limit of {limit}")
        chunks, got = [], 0
        while got < size:
            chunks.append(read(size - got))
            got += len(chunks[-1])
    return b"".join(chunks)  # the message's bytes, held once
