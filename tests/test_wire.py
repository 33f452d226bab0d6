"""The grader's messages: numbers survive the trip, anything else is refused with one line,
and a message is measured from its headers before anything in it is built."""
import io
import os
import struct
import time
import tracemalloc
import zipfile

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
    (npz(a0=np.array([{"an": "object"}], dtype=object)), "wanted numbers or booleans"),  # pickled: refused
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


def message_with(array, compress=False, json_text=b'{"result": {"__array__": "a0"}}') -> bytes:
    buffer = io.BytesIO()
    (np.savez_compressed if compress else np.savez)(buffer, json=np.frombuffer(json_text, dtype=np.uint8), a0=array)
    return buffer.getvalue()


def test_a_zip_bomb_is_refused_before_it_is_inflated():
    bomb = message_with(np.zeros(2**28, dtype=bool), compress=True)  # 256 MiB of False in about 261 KB
    assert len(bomb) < 300_000
    tracemalloc.start()
    try:
        with pytest.raises(wire.WireError, match="compressed; only stored"):
            wire.decode(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20, peak  # the message's own bytes, never the 256 MiB it would inflate to


def stored_with_header(shape, dtype, data: bytes) -> bytes:
    """A stored npz whose a0.npy declares ``shape`` and ``dtype`` but holds ``data``."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
                                                  "fortran_order": False, "shape": shape})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        text = b'{"result": {"__array__": "a0"}}'
        archive.writestr("json.npy", message_json_npy(text))
        archive.writestr("a0.npy", header.getvalue() + data)  # the header writer writes the magic too
    return buffer.getvalue()


def message_json_npy(text: bytes) -> bytes:
    out = io.BytesIO()
    np.save(out, np.frombuffer(text, dtype=np.uint8))
    return out.getvalue()


@pytest.mark.parametrize("shape, dtype, data, words", [
    ((2**28,), "bool", bytes(16), "more than the"),          # declares 256 MiB, holds 16 bytes: refused unread
    ((4,), "float64", bytes(16), "declares shape .4,. of float64 .32 bytes. but holds 16"),
    ((-1, 4), "float64", bytes(32), "declares shape"),
    ((2,), "<U3", bytes(24), "wanted numbers or booleans"),
])
def test_a_header_that_does_not_fit_is_refused_before_the_array_is_built(shape, dtype, data, words):
    with pytest.raises(wire.WireError, match=words):
        wire.decode(stored_with_header(shape, dtype, data), max_elements=2**20)


def test_max_elements_caps_all_arrays_together():
    data = message_with(np.zeros(600), json_text=b'{"result": [{"__array__": "a0"}, {"__array__": "a0"}]}')
    assert len(wire.decode(data, max_elements=700)["result"]) == 2
    with pytest.raises(wire.WireError, match="more than the"):
        wire.decode(data, max_elements=500)


def test_a_message_of_too_many_arrays_is_refused_before_it_is_parsed(monkeypatch):
    monkeypatch.setattr(wire, "MAX_ARRAYS", 5)
    with pytest.raises(wire.WireError, match="a message of 11 arrays, over the limit of 5"):
        wire.decode(wire.encode({"many": [np.zeros(1)] * 10}))


def test_an_array_comes_back_writable_and_in_its_order():
    a = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    back = wire.decode(wire.encode({"a": a}))["a"]
    np.testing.assert_array_equal(back, a)
    back[0, 0] = 7.0  # a check may work on it in place
