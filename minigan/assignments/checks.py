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
    """A part's check found a wrong answer; the message is the feedback for the student.

    The part scores 0, unless the check raised ``PartialCredit``.
    """

    def points_kept(self, points: int) -> int:
        return 0

    def feedback(self, points: int) -> str:
        return str(self)


class PartialCredit(CheckFailed):
    """Right in every way the part is graded on but one, which costs ``share`` of its points.

    Raised only after the rest of the part's check passed. The part loses
    ``max(1, floor(share * points))`` points, and the feedback says so first:
    "loses 1 of its 2 points: ...".
    """

    def __init__(self, message: str, share: float):
        super().__init__(message)
        self.share = float(share)

    def points_kept(self, points: int) -> int:
        return max(0, points - max(1, int(self.share * points)))

    def feedback(self, points: int) -> str:
        lost = points - self.points_kept(points)
        return f"loses {lost} of its {points} point{'s' if points != 1 else ''}: {self}"


FLOAT32_SHARE = 0.5   # the share of a part's points that float32 exactness is worth, where the hint teaches it


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

    The message names ``what``, the worst index, and both values there. ``wanted`` is the
    grader's own number: one that is not finite is the grader's bug, and raises ValueError
    (a NaN compares as neither close nor far, so it must never reach the comparison).
    """
    got, wanted = as_numbers(what, got), np.asarray(wanted, dtype=np.float64)
    if not np.all(np.isfinite(wanted)):
        raise ValueError(f"expect_close({what!r}): the grader's own wanted value is not finite")
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


def missing_gradient_excused(wanted) -> bool:
    """A gradient the student's code did not compute (None) counts as right only where the
    grader's own gradient is zero in every entry: a parameter the loss does not depend on."""
    wanted = np.asarray(wanted, dtype=np.float64)
    return bool(np.all(wanted == 0))


def expect(condition: bool, message: str) -> None:
    """Raise CheckFailed(message) unless ``condition``."""
    if not condition:
        raise CheckFailed(message)


def on_backends(names: list) -> str:
    """"(numpy, strict)": the backends a feedback line speaks for."""
    return "(" + ", ".join(names) + ")"


TINY32 = float(np.finfo(np.float32).tiny)  # 1.2e-38, the smallest normal float32
FLOAT32_RTOL = 2e-6                        # the suite's bound (tests/test_ops.py, tests/test_losses.py)


def float32_problem(what: str, got, true) -> str | None:
    """Where a float32 result misses the suite's float32 bound, in words; None where it holds.

    The bound: within FLOAT32_RTOL of the float64 truth wherever that is a normal float32,
    within TINY32 of it elsewhere (the ``assert_float32_exact`` of tests/test_ops.py).
    """
    got, true = as_numbers(what, got), np.asarray(true, dtype=np.float64)
    if got.shape != true.shape:
        return f"{what}: got shape {got.shape}, wanted {true.shape}"
    normal = np.abs(true) >= TINY32
    allowed = np.where(normal, FLOAT32_RTOL * np.abs(true), TINY32)
    excess = np.where(np.isfinite(got), np.abs(got - true) - allowed, np.inf)
    if excess.size == 0 or excess.max() <= 0:
        return None
    index = int(np.argmax(excess))
    return f"{what}: got {got.flat[index]:.6g}, wanted {true.flat[index]:.6g} (relative error over {FLOAT32_RTOL:g})"
