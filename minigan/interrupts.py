"""Stopping a run cleanly on Ctrl-C (SIGINT) or ``kill`` (SIGTERM).

Python's default turns Ctrl-C into a KeyboardInterrupt wherever the program happens to
be, perhaps halfway through an optimizer's update, and SIGTERM ends the process at once.
Neither leaves a state worth saving. ``StopOnSignal`` catches both while its ``with``
block runs, and

- during training (it is one of the callbacks) lets the current iteration finish, then
  raises ``Interrupted`` from ``on_step``: the GAN is exactly at a step boundary, so a
  checkpoint saved then resumes bit for bit;
- elsewhere raises ``Interrupted`` at once (nothing half-done is saved there);
- inside ``with stop.deferred():`` only remembers the signal, for code that must not be
  cut short (writing the last checkpoint); ``check()`` raises it afterwards.

The previous handlers come back when the block ends: process-wide state is borrowed.
"""
from __future__ import annotations

import contextlib
import signal
import threading

from minigan.callbacks import Callback

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(Exception):
    """A SIGINT or SIGTERM arrived. ``exit_status`` is the shell's 128 + signal number (130, 143)."""

    def __init__(self, signum: int):
        self.signum = signum
        self.name = signal.Signals(signum).name
        self.exit_status = 128 + signum
        super().__init__(f"{self.name} received")


class StopOnSignal(Callback):
    """Turns SIGINT and SIGTERM into ``Interrupted`` at a safe point (see the module's docstring)."""

    def __init__(self):
        self.signum = None          # the signal received, if any
        self.deferring = False
        self._previous = {}

    def __enter__(self) -> "StopOnSignal":
        if threading.current_thread() is threading.main_thread():   # handlers can only be set there
            for signum in SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}

    def _handle(self, signum, frame) -> None:
        self.signum = signum
        if not self.deferring:
            raise Interrupted(signum)

    def check(self) -> None:
        """Raise Interrupted if a signal has arrived."""
        if self.signum is not None:
            raise Interrupted(self.signum)

    @contextlib.contextmanager
    def deferred(self):
        """Signals inside the block are remembered, not raised (``check()`` raises them later)."""
        before, self.deferring = self.deferring, True
        try:
            yield
        finally:
            self.deferring = before

    # ---- as a callback: training defers signals to the end of the current iteration -----------
    def on_train_begin(self, gan, steps: int) -> None:
        self.deferring = True

    def on_step(self, gan, record) -> None:
        self.check()

    def on_train_end(self, gan, finished: bool) -> None:
        self.deferring = False
