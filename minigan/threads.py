"""How many BLAS threads minigan's training uses: whichever of 1 and all is faster, measured.

NumPy's matrix products run in a BLAS library (OpenBLAS, MKL) that splits each product over
several threads. On a quiet machine that helps big products a little. On a busy one it
hurts a lot: when one of the threads has no free core, the others wait for it at the end of
every product, so a laptop with one core taken by something else trains 2-3x slower with
two threads than with one (docs/performance.md has the numbers).

A ``ThreadPolicy`` decides by measuring, wherever a loop trains. It times a few iterations
with one thread and a few with all of them, keeps the faster, and measures again every
``every`` iterations, or sooner when the iteration time jumps (another program started).
Three ways to put a loop under it, each one line:

    with threads.policy():                 # a block of code
        for step in range(steps): ...
    @threads.trained                       # a whole function
    def train(...): ...
    for step in threads.loop(range(steps)):   # one loop, with or without an optimizer
        ...

What it times: an iteration is the time between two ticks of one clock. Every minigan
optimizer ticks at the start of its ``step()`` (``tick(self)``), so a loop that steps one
needs nothing more; ``loop`` ticks once per item, for a loop that steps none. The first
source that ticks is the clock; the others are ignored (a GAN's two optimizers would
otherwise time half-iterations).

It borrows the process-wide setting and gives it back: when the block ends, the thread
counts are what they were before. Only the outermost policy acts (one nested in it, say
``GAN.train`` called inside ``@trained``, stands aside), and it changes nothing when the
user has chosen already: an ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` or
``MKL_NUM_THREADS`` in the environment, or a ``threadpool_limits`` they entered around it.

    threads="auto"   measure, as above (the default)
    threads=n        n threads for the whole block
    threads=None     leave the libraries alone
"""
from __future__ import annotations

import functools
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


_ACTIVE = None  # the policy acting now (the outermost one), or None: one per process, as the BLAS setting is
_BLAS = None    # one Blas per process: finding the libraries takes about a millisecond


def tick(source) -> None:
    """``source`` (an optimizer, a loop) starts an iteration: the acting policy's clock, if any.

    Called by every minigan optimizer at the start of ``step()``; with no policy acting it
    costs one comparison."""
    if _ACTIVE is not None:
        _ACTIVE.tick(source)


def policy(threads="auto", **settings) -> "ThreadPolicy":
    """A fresh ThreadPolicy, for ``with threads.policy():`` around a loop that trains."""
    return ThreadPolicy(threads, **settings)


def trained(function):
    """Decorate a function that trains: its body runs under ``policy()``."""

    @functools.wraps(function)
    def under_the_policy(*args, **kwargs):
        with ThreadPolicy("auto"):
            return function(*args, **kwargs)

    return under_the_policy


def loop(iterable, threads="auto"):
    """Yield the items of ``iterable`` under a policy that times each iteration.

    ``for step in threads.loop(range(steps)):`` is a student's own loop, measured. On a
    ``break`` or an error the generator is closed (CPython does it at once) and the thread
    counts are given back.
    """
    with ThreadPolicy(threads) as chooser:
        for item in iterable:
            tick(chooser)  # this loop is the clock: it ticks before any optimizer inside it
            yield item

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
    """Choose the BLAS thread count while a loop trains (see the module's docstring).

    A context manager: ``with ThreadPolicy("auto"):``; ``GAN.train`` keeps one per GAN, so a
    run trained in pieces (``train`` called again) keeps its recent choice or goes on with a
    probe under way.

    probe   iterations timed for each candidate count, one count after the other, one thread
            first, and at least ``probe_seconds`` of them; each count's first iterations are
            not timed: one, and for one thread at least ``settle`` seconds, the time the
            library's idle threads keep spinning on the cores after their last product (they
            would slow the one thread down). The counts are compared by their mean iteration:
            a loop's occasional slow iteration (tutorial 06 evaluates D on a 4,001-point grid
            every 20th step, the one product big enough for BLAS to split) is where a busy
            core costs most, and a median would leave it out
    margin  one thread is chosen only when it is this much faster than all of them (the
            library's own setting): on a quiet machine a near tie keeps the default
    every   iterations between two probes; doubled (up to 8 times) each time a probe confirms
            the choice, so a steady machine is rarely disturbed
    jump    probe again at once when the median of the last ``window`` iterations is this many
            times the chosen count's probe mean (another program started, or stopped)
    backend the backend the loop computes on, when known: only "numpy" uses NumPy's BLAS
            (else the clock's, an optimizer's, is asked at its first tick)
    After training, ``choices`` lists (iteration, threads chosen, {threads: mean seconds}),
    and ``reason`` says why the policy stood aside, when it did.
    """

    def __init__(self, threads="auto", probe: int = 12, settle: float = 0.1, margin: float = 0.9, every: int = 500,
                 jump: float = 2.0, window: int = 20, blas=None, clock=time.perf_counter, backend=None,
                 probe_seconds: float = 0.1):
        self.threads = check_threads(threads)
        self.probe, self.probe_seconds, self.settle, self.margin = probe, probe_seconds, settle, margin
        self.every, self.jump, self.window = every, jump, window
        self.blas, self.clock, self.backend = blas, clock, backend
        self.choices, self.reason, self.iterations = [], None, 0
        self._saved, self._plan, self._since, self._interval = None, [], 0, every
        self._source, self._last = None, None

    # ---- the block: borrow the setting, give it back ---------------------------------------
    def __enter__(self) -> "ThreadPolicy":
        global _ACTIVE
        self._saved, self._source, self._last = None, None, None
        self.reason = self._why_not()
        if self.reason is not None:
            return self
        _ACTIVE = self
        self._saved = self.blas.save()
        if self.threads != "auto":
            self.blas.set(self.threads)
        elif self._plan:  # trained in pieces: a probe under way goes on
            self.blas.set(self._plan[0][0])
        elif self.choices and self._since < self._interval:  # ... and a recent choice holds
            self.blas.set(self.choices[-1][1])
        else:
            self._plan = None  # the first tick starts a probe, once it has shown the backend
        return self

    def __exit__(self, *error) -> None:
        global _ACTIVE
        if self._saved is not None:
            self.blas.restore(self._saved)  # borrowed, given back
            self._saved = None
        if _ACTIVE is self:
            _ACTIVE = None
        if self._plan is None:
            self._plan = []

    # the callback hooks, for code that drives a policy as GAN.train once did
    def on_train_begin(self, gan, steps: int) -> None:
        self.backend = gan.backend
        self.__enter__()

    def on_step(self, gan, record) -> None:
        pass  # the optimizers' ticks time the iterations

    def on_train_end(self, gan, finished: bool) -> None:
        self.__exit__()

    # ---- the clock -------------------------------------------------------------------------
    def tick(self, source) -> None:
        """An iteration starts (``source``: the policy's clock, or ignored; see the module)."""
        if self._saved is None or self.threads != "auto":
            return
        if self._source is None:
            self._source = source
            backend = getattr(source, "backend", None)
            if backend is not None and getattr(backend, "name", "numpy") != "numpy":
                self.reason = f"the {backend.name} backend does not use NumPy's BLAS"
                self.__exit__()
                return
        elif source is not self._source:
            return
        self.iterations += 1
        now = self.clock()
        seconds, self._last = (None if self._last is None else now - self._last), now
        if self._plan is None:  # the first tick of a fresh run
            self._start_probe()
        if seconds is None:
            return
        if self._plan:  # probing: (threads, seconds still to let pass untimed, iterations to time) per count
            n, untimed, timed = self._plan[0]
            if untimed > 0:
                self._plan[0] = (n, untimed - seconds, timed)
            else:
                self._times[n].append(seconds)
                if len(self._times[n]) >= timed and sum(self._times[n]) >= self.probe_seconds:
                    self._plan.pop(0)
                    if self._plan:
                        self.blas.set(self._plan[0][0])
                    else:
                        self._choose()
            return
        self._recent.append(seconds)
        self._since += 1
        slow = self._since % self.window == 0 and statistics.median(self._recent) > self.jump * self._baseline
        if self._since >= self._interval or slow:
            if slow:
                self._interval = self.every  # the machine changed: watch it closely again
            self._start_probe()

    # ---- the decisions --------------------------------------------------------------------
    def _why_not(self) -> str | None:
        """Why the policy leaves the threads alone this time (None: it does not)."""
        global _BLAS
        if self.threads is None:
            return "threads=None"
        if _ACTIVE is not None and _ACTIVE is not self:
            return "inside another policy, which chooses"
        if self.backend is not None and self.backend.name != "numpy":
            return f"the {self.backend.name} backend does not use NumPy's BLAS"
        chosen = [name for name in ENVIRONMENT if os.environ.get(name)]
        if chosen and self.threads == "auto":  # the user's word; a number given to minigan is too
            return f"{chosen[0]}={os.environ[chosen[0]]} is set"
        if self.threads == "auto" and cores() == 1:
            return "one core: nothing to choose"
        if self.blas is None:
            try:
                _BLAS = _BLAS or Blas()
            except ImportError:
                return "threadpoolctl is not installed"
            self.blas = _BLAS
        current = self.blas.threads()
        if current is None:
            return "NumPy's BLAS is not one threadpoolctl can set"
        if self.threads == "auto" and current < cores():
            return f"the BLAS is already limited to {current} thread(s) (a threadpool_limits of the user's?)"
        return None

    def _start_probe(self) -> None:
        candidates = sorted({1, cores()})
        self._times = {n: [] for n in candidates}
        # untimed: for one thread, `settle` seconds (the other threads stop spinning); else one iteration
        self._plan = [(n, self.settle if n == 1 else 1e-12, self.probe) for n in candidates]
        self._recent, self._since = deque(maxlen=self.window), 0
        if len(candidates) > 1:
            self.blas.set(self._plan[0][0])
        else:
            self._plan, self._baseline = [], float("inf")

    def _choose(self) -> None:
        means = {n: statistics.fmean(times) for n, times in self._times.items()}
        most = max(means)
        best = min(means, key=means.get)
        if means[best] > self.margin * means[most]:  # a near tie: keep the library's own setting
            best = most
        same = bool(self.choices) and self.choices[-1][1] == best
        self._interval = min(self._interval * 2, 8 * self.every) if same else self.every
        self.blas.set(best)
        self._baseline = means[best]
        self.choices.append((self.iterations, best, means))
