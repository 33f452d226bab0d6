"""What crosses between the grader and the student's process: numbers, never objects.

A message is a JSON-like value (dicts with string keys, lists, strings, numbers, booleans,
None) in which NumPy arrays may stand anywhere. It travels as one ``.npz`` archive: each
array is stored under a key of its own, and the rest is JSON text in the key ``"json"``,
with ``{"__array__": key}`` where an array was. Loading uses ``allow_pickle=False``, and
only numeric and boolean arrays are accepted, so a message can carry no Python object.

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
import os
import selectors
import struct
import time

import numpy as np

MAX_BYTES = 64 * 2**20   # the largest message either side accepts: 64 MiB
ARRAY_KINDS = "biufc"    # bool, int, unsigned, float, complex: no objects, strings or records


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


def decode(data: bytes):
    """The message in npz bytes; WireError if they are anything else."""
    if len(data) > MAX_BYTES:
        raise WireError(f"a message of {len(data)} bytes, over the limit of {MAX_BYTES}")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except Exception as error:  # a zip that is not one, a pickled array, a truncated file
        raise WireError(f"not an npz message ({type(error).__name__}: {error})") from None
    text = arrays.pop("json", None)
    if text is None or text.dtype != np.uint8 or text.ndim != 1:
        raise WireError("an npz message without its 'json' part")
    for key, array in arrays.items():
        if array.dtype.kind not in ARRAY_KINDS:
            raise WireError(f"array {key!r} has dtype {array.dtype}, wanted numbers or booleans")
    try:
        tree = json.loads(text.tobytes().decode("utf-8"))
    except ValueError as error:
        raise WireError(f"the message's json part does not parse ({error})") from None

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

    return lower(tree)


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


def receive_within(fd: int, timeout: float) -> bytes:
    """Read one frame's npz bytes from a pipe within ``timeout`` seconds.

    TimeoutError if it does not come in time, EOFError if the pipe ends first, WireError if
    its length is over MAX_BYTES (before reading any of it).
    """
    data, wanted, deadline = bytearray(), 8, time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while len(data) < wanted:
            if not selector.select(max(0.0, deadline - time.monotonic())):
                raise TimeoutError("no whole message within the time limit")
            chunk = os.read(fd, min(wanted - len(data), 2**20))
            if not chunk:
                raise EOFError("the pipe ended")
            data += chunk
            if wanted == 8 and len(data) == 8:
                (size,) = struct.unpack(">Q", bytes(data))
                if size > MAX_BYTES:
                    raise WireError(f"a message of {size} bytes, over the limit of {MAX_BYTES}")
                wanted += size
    return bytes(data[8:])
