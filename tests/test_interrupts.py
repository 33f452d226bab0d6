"""StopOnSignal: real signals sent to this process, caught only at safe points."""
import os
import signal

import pytest

from minigan import gan
from minigan.gan.callbacks import Callback
from minigan.runs.interrupts import Interrupted, StopOnSignal


def tiny():
    return gan.build(gan.recipe("ring", g_hidden=(8,), d_hidden=(8,), m=16, steps=10))


def test_a_signal_is_remembered_until_check():
    with StopOnSignal() as stop:
        os.kill(os.getpid(), signal.SIGTERM)           # delivered before kill() returns (to this thread)
        assert stop.signum == signal.SIGTERM           # ... and only remembered: we are still here
        with pytest.raises(Interrupted) as raised:
            stop.check()
    assert raised.value.name == "SIGTERM" and raised.value.exit_status == 143


def test_immediately_raises_at_once_and_the_old_handlers_come_back():
    before = signal.getsignal(signal.SIGINT)
    with StopOnSignal() as stop:
        with pytest.raises(Interrupted) as raised:
            with stop.immediately():
                os.kill(os.getpid(), signal.SIGINT)
                pytest.fail("not interrupted")
        assert raised.value.exit_status == 130 and not stop.at_once
        with pytest.raises(Interrupted):
            with stop.immediately():                    # one received earlier raises on entry
                pytest.fail("entered")
    assert signal.getsignal(signal.SIGINT) is before


def test_training_stops_at_the_end_of_the_step_the_signal_arrived_in():
    model, seen = tiny(), []

    class SignalDuringStep3(Callback):
        def on_step(self, gan, record):
            seen.append(record.step)
            if record.step == 3:
                os.kill(os.getpid(), signal.SIGINT)

    with StopOnSignal() as stop:
        with pytest.raises(Interrupted):
            model.train(10, callbacks=[SignalDuringStep3(), stop])
    assert model.step == 3 and seen == [1, 2, 3]        # step 3 finished, step 4 never began


def test_a_signal_ignored_on_purpose_stays_ignored():
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)    # as nohup or a background job starts us
    try:
        with StopOnSignal() as stop:
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            os.kill(os.getpid(), signal.SIGINT)
            stop.check()                                     # nothing received
            assert signal.getsignal(signal.SIGTERM) == stop._handle
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)
