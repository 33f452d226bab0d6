"""What every part's check shares: the failure type, the backends to try, and comparisons.

A check is a function ``check(student)`` that runs in the grader's process. It makes the
part's inputs, asks the student's sandboxed process to run the student's code on them
(``student.run("probe", **inputs)``, see probes.py), computes the expected results with
the grader's own minigan or NumPy, and compares. It returns one line of feedback (the part
passes) or raises ``CheckFailed`` whose message is the feedback (the part scores 0).

What comes back from the student's process is untrusted: any value may be missing, of the
wrong type or shape, or huge. ``get`` and ``expect_close`` turn each such case into a
CheckFailed with one line saying what was wrong, never a crash. Checks are seeded: the
same copy gets the same grade and the same words.
"""
from __future__ import annotations

import importlib.util

import numpy as np


class CheckFailed(AssertionError):
    """A part's check found a wrong answer; the message is the feedback for the student."""


def backends() -> list:
    """The backends a part must work on: numpy, and the strict array-API stand-in if installed.

    The strict backend catches NumPy leaking into backend-agnostic code (``np.exp`` on a
    strict array), the same bug that breaks the GPU.
    """
    if importlib.util.find_spec("array_api_strict") is None:
        return ["numpy"]
    return ["numpy", "strict"]


def get(value, *path):
    """``value[path[0]][path[1]]...``, or CheckFailed naming the first step that is not there."""
    where = "the reply"
    for key in path:
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            raise CheckFailed(f"{where} has no [{key!r}]: the student's process sent something else") from None
        where += f"[{key!r}]"
    return value


def as_numbers(what: str, value) -> np.ndarray:
    """``value`` as a float64 array, or CheckFailed if it is not numbers."""
    if value is None:
        raise CheckFailed(f"{what}: got None, wanted numbers")
    try:
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise TypeError(array.dtype)
        return array.astype(np.float64)
    except (TypeError, ValueError):
        raise CheckFailed(f"{what}: got {type(value).__name__}, wanted numbers") from None


def expect_close(what: str, got, wanted, rtol: float = 1e-5, atol: float = 1e-7) -> None:
    """Raise CheckFailed unless ``got`` matches ``wanted`` (same shape, finite, close).

    The message names ``what``, the worst index, and both values there.
    """
    got, wanted = as_numbers(what, got), np.asarray(wanted, dtype=np.float64)
    if got.shape != wanted.shape:
        raise CheckFailed(f"{what}: got shape {got.shape}, wanted {wanted.shape}")
    bad = ~np.isfinite(got)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise CheckFailed(f"{what}: got {got[index]} at index {index}, wanted {wanted[index]:.6g} (a finite number)")
    excess = np.abs(got - wanted) - (atol + rtol * np.abs(wanted))
    if excess.size and excess.max() > 0:
        index = np.unravel_index(int(np.argmax(excess)), excess.shape)
        index = tuple(int(i) for i in index)
        raise CheckFailed(f"{what}: mismatch at index {index}: got {got[index]:.6g}, wanted {wanted[index]:.6g}")


def expect(condition: bool, message: str) -> None:
    """Raise CheckFailed(message) unless ``condition``."""
    if not condition:
        raise CheckFailed(message)


def on_backends(names: list) -> str:
    """"(numpy, strict)": the backends a feedback line speaks for."""
    return "(" + ", ".join(names) + ")"
