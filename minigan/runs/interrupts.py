"""Stopping a run cleanly on Ctrl-C (SIGINT) or ``kill`` (SIGTERM).

Python's default turns Ctrl-C into a KeyboardInterrupt wherever the program happens to
be, perhaps halfway through an optimizer's update or a file's rename, and SIGTERM ends the
process at once. Neither leaves a state worth saving. ``StopOnSignal`` catches both while
its ``with`` block runs and only remembers them: ``check()`` raises ``Interrupted`` at a
point the program chose. As a callback it checks after every iteration, so training stops
exactly at a step boundary and the checkpoint saved then resumes bit for bit.

Inside ``with stop.immediately():`` a signal raises Interrupted at once, wherever the code
is: for work that is safe to cut short (drawing the figures at the end). The previous
handlers come back when the ``with`` block ends: process-wide state is borrowed. A signal
the process was started ignoring (``nohup``, a shell script's background job) stays ignored.
"""
from __future__ import annotations

import contextlib
import signal
import threading

from minigan.gan.callbacks import Callback

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(Exception):
    """A SIGINT or SIGTERM arrived. ``exit_status`` is the shell's 128 + signal number (130, 143)."""

    def __init__(self, signum: int):
        self.signum = signum
        self.name = signal.Signals(signum).name
        self.exit_status = 128 + signum
        super().__init__(f"{self.name} received")


class StopOnSignal(Callback):
    """Turns SIGINT and SIGTERM into ``Interrupted`` at safe points (see the module's docstring)."""

    def __init__(self):
        self.signum = None          # the signal received, if any
        self.at_once = False        # True inside immediately()
        self._previous = {}

    def __enter__(self) -> "StopOnSignal":
        if threading.current_thread() is threading.main_thread():   # handlers can only be set there
            for signum in SIGNALS:
                if signal.getsignal(signum) is signal.SIG_IGN:
                    continue        # ignored on purpose (nohup, a shell's background job): leave it so
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}

    def _handle(self, signum, frame) -> None:
        self.signum = signum
        if self.at_once:
            raise Interrupted(signum)

    def check(self) -> None:
        """Raise Interrupted if a signal has arrived."""
        if self.signum is not None:
            raise Interrupted(self.signum)

    @contextlib.contextmanager
    def immediately(self):
        """Inside the block a signal (or one already received) raises Interrupted at once."""
        self.check()
        self.at_once = True
        try:
            yield
        finally:
            self.at_once = False

    def on_step(self, gan, record) -> None:
        self.check()                # after the iteration, its history and its checkpoint
