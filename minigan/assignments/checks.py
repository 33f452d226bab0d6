"""What every part's check shares: the failure type, the backends to try, and comparisons.

A check is a function with no arguments that imports the student's ``minigan`` (the copy
being graded: runner.py puts it first on ``sys.path``), exercises one part, and either
returns a line of feedback (the part passes) or raises ``CheckFailed`` whose message is
the feedback (the part scores 0). Any other exception also scores 0; the runner reports
it with the place in the student's code where it was raised.

Checks compare against references computed here with NumPy, never against the student's
own code, and are seeded: the same copy gets the same grade and the same words.
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


def host(value) -> np.ndarray:
    """A NumPy copy of a Tensor, a backend array (numpy, strict, cupy) or a number."""
    from minigan.backend import backend_of

    if hasattr(value, "backend") and hasattr(value, "numpy"):  # a minigan Tensor
        return np.asarray(value.numpy())
    if isinstance(value, (int, float, list, tuple, np.ndarray, np.generic)):
        return np.asarray(value)
    return np.asarray(backend_of(value).to_host(value))


def expect_close(what: str, got, wanted, rtol: float = 1e-5, atol: float = 1e-7) -> None:
    """Raise CheckFailed unless ``got`` matches ``wanted`` (same shape, finite, close).

    The message names ``what``, the worst index, and both values there.
    """
    got, wanted = host(got), host(wanted).astype(np.float64)
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
