"""How many BLAS threads minigan's training uses: whichever of 1 and all is faster, measured.

NumPy's matrix products run in a BLAS library (OpenBLAS, MKL) that splits each product over
several threads. On a quiet machine that helps big products a little. On a busy one it
hurts a lot: when one of the threads has no free core, the others wait for it at the end of
every product, so a laptop with one core taken by something else trains 2-3x slower with
two threads than with one (docs/performance.md has the numbers).

``ThreadPolicy`` is a training callback that decides by measuring. It times a few steps
with one thread and a few with all of them, keeps the faster, and measures again every
``every`` steps, or sooner when the step time jumps (another program started); a run
trained in pieces (``train`` called again) keeps its recent choice. It borrows
the process-wide setting and gives it back: when training ends the thread counts are what
they were before. It changes nothing when the user has chosen already: an
``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` or ``MKL_NUM_THREADS`` in the environment, or
a ``threadpool_limits`` they entered around the training.

    threads="auto"   measure, as above (the default)
    threads=n        n threads for the whole run
    threads=None     leave the libraries alone
"""
from __future__ import annotations

import numbers
import os
import statistics
import time
from collections import deque

ENVIRONMENT = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def check_threads(value, name: str = "threads"):
    """"auto", None, or a positive int; else a ValueError naming ``name``."""
    if value is None or value == "auto":
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 1:
        return int(value)
    raise ValueError(f"{name}: got {value!r}, wanted 'auto', None or a positive number of threads")


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


class Blas:
    """The BLAS libraries NumPy loaded, through threadpoolctl: read and set their thread count."""

    def __init__(self):
        from threadpoolctl import ThreadpoolController

        self.controller = ThreadpoolController().select(user_api="blas")

    def threads(self) -> int | None:
        counts = [lib.num_threads for lib in self.controller.lib_controllers]
        return max(counts) if counts else None

    def set(self, n: int) -> None:
        for lib in self.controller.lib_controllers:
            lib.set_num_threads(n)

    def restore(self, saved: list) -> None:
        for lib, n in zip(self.controller.lib_controllers, saved):
            lib.set_num_threads(n)

    def save(self) -> list:
        return [lib.num_threads for lib in self.controller.lib_controllers]


class ThreadPolicy:
    """Choose the BLAS thread count while a GAN trains (see the module's docstring).

    probe   steps timed for each candidate count, one count after the other, one thread
            first; each count's first steps are not timed: one step, and for one thread at
            least ``settle`` seconds, the time the library's idle threads keep spinning on
            the cores after their last product (they would slow the one thread down)
    margin  one thread is chosen only when it is this much faster than all of them (the
            library's own setting): on a quiet machine a near tie keeps the default
    every   steps between two probes; doubled (up to 8 times) each time a probe confirms
            the choice, so a steady machine is rarely disturbed
    jump    probe again at once when the median of the last ``window`` steps is this many
            times the chosen count's probe median (another program started, or stopped)
    After training, ``choices`` lists (step, threads chosen, {threads: median seconds}).
    """

    def __init__(self, threads="auto", probe: int = 12, settle: float = 0.1, margin: float = 0.9, every: int = 500,
                 jump: float = 2.0, window: int = 20, blas=None, clock=time.perf_counter):
        self.threads = check_threads(threads)
        self.probe, self.settle, self.margin = probe, settle, margin
        self.every, self.jump, self.window = every, jump, window
        self.blas, self.clock = blas, clock
        self.choices, self.reason = [], None
        self._saved, self._plan, self._since, self._interval = None, [], 0, every

    # ---- the callback -------------------------------------------------------------------
    def on_train_begin(self, gan, steps: int) -> None:
        self._saved, self._last = None, None
        self.reason = self._why_not(gan)
        if self.reason is not None:
            return
        self._saved = self.blas.save()
        if self.threads != "auto":
            self.blas.set(self.threads)
        elif self._plan:  # a run trained in pieces: a probe under way goes on
            self.blas.set(self._plan[0][0])
        elif self.choices and self._since < self._interval:  # ... and a recent choice holds
            self.blas.set(self.choices[-1][1])
        else:
            self._start_probe()

    def on_step(self, gan, record) -> None:
        if self._saved is None or self.threads != "auto":
            return
        now = self.clock()
        seconds, self._last = (None if self._last is None else now - self._last), now
        if seconds is None:
            return
        if self._plan:  # probing: (threads, seconds still to let pass untimed, steps to time) per count
            n, untimed, timed = self._plan[0]
            if untimed > 0:
                self._plan[0] = (n, untimed - seconds, timed)
            else:
                self._times[n].append(seconds)
                if len(self._times[n]) == timed:
                    self._plan.pop(0)
                    if self._plan:
                        self.blas.set(self._plan[0][0])
                    else:
                        self._choose(gan.step)
            return
        self._recent.append(seconds)
        self._since += 1
        slow = self._since % self.window == 0 and statistics.median(self._recent) > self.jump * self._baseline
        if self._since >= self._interval or slow:
            if slow:
                self._interval = self.every  # the machine changed: watch it closely again
            self._start_probe()

    def on_train_end(self, gan, finished: bool) -> None:
        if self._saved is not None:
            self.blas.restore(self._saved)  # borrowed, given back
            self._saved = None

    # ---- the decisions --------------------------------------------------------------------
    def _why_not(self, gan) -> str | None:
        """Why the policy leaves the threads alone this run (None: it does not)."""
        if self.threads is None:
            return "threads=None"
        if gan.backend.name != "numpy":
            return f"the {gan.backend.name} backend does not use NumPy's BLAS"
        chosen = [name for name in ENVIRONMENT if os.environ.get(name)]
        if chosen and self.threads == "auto":  # the user's word; a number given to minigan is too
            return f"{chosen[0]}={os.environ[chosen[0]]} is set"
        if self.threads == "auto" and cores() == 1:
            return "one core: nothing to choose"
        if self.blas is None:
            try:
                self.blas = Blas()
            except ImportError:
                return "threadpoolctl is not installed"
        current = self.blas.threads()
        if current is None:
            return "NumPy's BLAS is not one threadpoolctl can set"
        if self.threads == "auto" and current < cores():
            return f"the BLAS is already limited to {current} thread(s) (a threadpool_limits of the user's?)"
        return None

    def _start_probe(self) -> None:
        candidates = sorted({1, cores()})
        self._times = {n: [] for n in candidates}
        # untimed: for one thread, `settle` seconds (the other threads stop spinning); else one step
        self._plan = [(n, self.settle if n == 1 else 1e-12, self.probe) for n in candidates]
        self._recent, self._since = deque(maxlen=self.window), 0
        if len(candidates) > 1:
            self.blas.set(self._plan[0][0])
        else:
            self._plan, self._baseline = [], float("inf")

    def _choose(self, step: int) -> None:
        medians = {n: statistics.median(times) for n, times in self._times.items()}
        most = max(medians)
        best = min(medians, key=medians.get)
        if medians[best] > self.margin * medians[most]:  # a near tie: keep the library's own setting
            best = most
        same = bool(self.choices) and self.choices[-1][1] == best
        self._interval = min(self._interval * 2, 8 * self.every) if same else self.every
        self.blas.set(best)
        self._baseline = medians[best]
        self.choices.append((step, best, medians))
