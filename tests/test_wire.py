"""The grader's messages: numbers survive the trip, anything else is refused with one line."""
import io
import os
import struct
import time

import numpy as np
import pytest

from minigan.assignments import wire


def npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def test_a_message_round_trips_with_its_arrays_in_place():
    message = {"grads": [np.arange(6.0).reshape(2, 3), None, np.float32(2.5)], "kinds": ["numpy", "None"],
               "counts": {"D": 3, "ok": True}, "nan": float("nan")}
    back = wire.decode(wire.encode(message))
    assert back["kinds"] == ["numpy", "None"] and back["counts"] == {"D": 3, "ok": True}
    np.testing.assert_array_equal(back["grads"][0], message["grads"][0])
    assert back["grads"][1] is None and back["grads"][2].dtype == np.float32 and back["grads"][2] == 2.5
    assert np.isnan(back["nan"])


@pytest.mark.parametrize("data, words", [
    (b"not a zip at all", "not an npz message"),
    (npz(a0=np.array([{"an": "object"}], dtype=object)), "not an npz message"),  # pickled: refused
    (npz(a0=np.zeros(3)), "without its 'json' part"),
    (npz(json=np.frombuffer(b'{"x": 1}', dtype=np.uint8), a0=np.array(["text"])), "wanted numbers or booleans"),
    (npz(json=np.frombuffer(b'{"x": {"__array__": "a7"}}', dtype=np.uint8)), "does not hold"),
    (npz(json=np.frombuffer(b'{"x": ', dtype=np.uint8)), "does not parse"),
])
def test_decode_refuses_what_is_not_a_message(data, words):
    with pytest.raises(wire.WireError, match=words):
        wire.decode(data)


def test_decode_refuses_a_message_over_the_limit(monkeypatch):
    monkeypatch.setattr(wire, "MAX_BYTES", 1000)
    with pytest.raises(wire.WireError, match="over the limit of 1000"):
        wire.decode(wire.encode({"big": np.zeros(1000)}))


def test_receive_within_times_out_ends_and_refuses_huge_lengths():
    read, write = os.pipe()
    try:
        start = time.monotonic()
        with pytest.raises(TimeoutError):
            wire.receive_within(read, 0.2)  # nothing is ever written
        assert time.monotonic() - start < 2
        os.write(write, struct.pack(">Q", 2**40))
        with pytest.raises(wire.WireError, match="over the limit"):
            wire.receive_within(read, 1.0)  # refused from the length alone
        data = wire.encode({"result": [1, 2]})
        wire.send_within(write, data, 1.0)
        assert wire.decode(wire.receive_within(read, 1.0)) == {"result": [1, 2]}
        os.write(write, struct.pack(">Q", 100) + b"short")
        os.close(write)
        write = None
        with pytest.raises(EOFError):
            wire.receive_within(read, 1.0)
    finally:
        os.close(read)
        if write is not None:
            os.close(write)


def test_send_within_times_out_when_nobody_reads():
    read, write = os.pipe()
    try:
        with pytest.raises(TimeoutError):
            wire.send_within(write, bytes(4 * 2**20), 0.2)  # more than a pipe's buffer
    finally:
        os.close(read)
        os.close(write)
