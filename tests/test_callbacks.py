"""Callbacks: the hooks' order, History, the progress bar, metrics, checkpoints, schedules."""
import csv
import io
import math

import pytest

from minigan import gan

from minigan.gan import checkpoint
from minigan.gan.callbacks import (FIELDS, Callback, Checkpoint, ExponentialDecay, History, LinearSchedule,
                               PeriodicMetrics, ProgressBar, write_csv)


def tiny(**changes):
    settings = {"g_hidden": (8,), "d_hidden": (8,), "m": 16, "steps": 10}
    return gan.build(gan.recipe("ring", **{**settings, **changes}))


class Log(Callback):
    def __init__(self):
        self.calls = []

    def on_train_begin(self, model, steps):
        self.calls.append(("begin", model.step, steps))

    def on_step(self, model, record):
        self.calls.append(("step", record.step))

    def on_train_end(self, model, finished):
        self.calls.append(("end", model.step, finished))


def test_hooks_are_called_in_order_and_end_is_told_about_errors():
    model, log = tiny(), Log()
    model.train(3, callbacks=[log])
    model.train(2, callbacks=[log])
    assert log.calls == [("begin", 0, 3), ("step", 1), ("step", 2), ("step", 3), ("end", 3, True),
                         ("begin", 3, 2), ("step", 4), ("step", 5), ("end", 5, True)]

    class Boom(Callback):
        def on_step(self, model, record):
            raise KeyError("boom")

    log = Log()
    with pytest.raises(KeyError):
        model.train(3, callbacks=[log, Boom()])
    assert log.calls[-1] == ("end", 6, False)


# ---- history ----------------------------------------------------------------------------------
def test_history_keeps_every_step_of_every_field():
    model, history = tiny(), History(flush_every=4)
    records = []

    class Keep(Callback):
        def on_step(self, model, record):
            records.append(record.to_floats())

    model.train(10, callbacks=[history, Keep()])
    columns = history.as_columns()
    assert list(columns) == list(FIELDS) and len(history) == 10
    assert columns["step"] == list(range(1, 11))
    for i, record in enumerate(records):
        for name in FIELDS:
            assert columns[name][i] == pytest.approx(record[name], rel=1e-6), name
    assert all(v == -d for v, d in zip(columns["value"], columns["d_loss"]))
    with pytest.raises(KeyError, match="wanted one of step"):
        history["colour"]


def test_history_batches_its_host_copies():
    model, history = tiny(), History(flush_every=100)
    model.train(5, callbacks=[history])  # flushed at the end of train
    assert len(history.columns["step"]) == 5
    history.on_step(model, model.train_step())
    assert len(history.columns["step"]) == 5 and len(history) == 6   # pending on the backend
    assert history["step"][-1] == 6                                  # reading flushes
    batched = History(flush_every=2)
    for _ in range(5):
        batched.on_step(model, model.train_step())
    assert batched.columns["step"] == [7, 8, 9, 10] and len(batched) == 5   # copied two at a time


def test_history_writes_csv(tmp_path):
    model, history = tiny(), History()
    model.train(4, callbacks=[history])
    history.write_csv(tmp_path / "history.csv")
    rows = list(csv.DictReader(open(tmp_path / "history.csv")))
    assert len(rows) == 4 and list(rows[0]) == list(FIELDS)
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4]
    assert float(rows[2]["d_loss"]) == pytest.approx(history["d_loss"][2])
    with pytest.raises(ValueError, match="columns of one length"):
        write_csv(tmp_path / "x.csv", {"a": [1, 2], "b": [1]})


# ---- progress bar --------------------------------------------------------------------------------
class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_is_silent_off_a_terminal_and_shown_on_one():
    quiet, shown = io.StringIO(), FakeTerminal()
    tiny().train(4, callbacks=[ProgressBar(file=quiet)])
    assert quiet.getvalue() == ""
    tiny().train(4, callbacks=[ProgressBar(every=2, file=shown)])
    assert "4/4" in shown.getvalue() and "D loss" in shown.getvalue()
    hidden = FakeTerminal()
    tiny().train(4, callbacks=[ProgressBar(file=hidden, disable=True)])
    assert hidden.getvalue() == ""


# ---- periodic metrics -----------------------------------------------------------------------------
def test_periodic_metrics_run_every_n_steps_and_at_the_end():
    out = io.StringIO()
    metrics = PeriodicMetrics(3, lambda model: {"mean_x": float(model.generate(10).mean())}, print_to=out)
    tiny().train(7, callbacks=[metrics])
    assert [r["step"] for r in metrics.results] == [3, 6, 7]
    assert all(math.isfinite(r["mean_x"]) for r in metrics.results)
    assert out.getvalue().splitlines()[0].startswith("step=3 mean_x=")
    with pytest.raises(TypeError, match="fn: got int"):
        PeriodicMetrics(3, 5)
    with pytest.raises(ValueError, match="every: got 0"):
        PeriodicMetrics(0, lambda model: {})


# ---- checkpoints -----------------------------------------------------------------------------------
def test_checkpoint_saves_every_n_steps_and_at_the_end(tmp_path):
    path = tmp_path / "run.npz"
    steps_seen = []

    class Look(Callback):
        def on_step(self, model, record):
            if path.exists():
                steps_seen.append(checkpoint.read(path).step)

    model = tiny()
    model.train(7, callbacks=[Checkpoint(path, every=3), Look()])
    assert sorted(set(steps_seen)) == [3, 6]
    assert checkpoint.read(path).step == 7 and model.last_checkpoint == str(path)
    model.train(0, callbacks=[Checkpoint(tmp_path / "only_end.npz")])
    assert checkpoint.read(tmp_path / "only_end.npz").step == 7


# ---- schedules ---------------------------------------------------------------------------------------
def test_linear_schedule_sets_the_value_before_each_step():
    model = tiny()
    seen = []

    class Look(Callback):   # listed before the schedule: sees the lr the step just used
        def on_step(self, model, record):
            seen.append((model.opt_G.lr, model.opt_D.lr))

    schedule = LinearSchedule([model.opt_G, model.opt_D], "lr", 1.0, 0.1, steps=4)
    model.train(6, callbacks=[Look(), schedule])
    assert [g for g, _ in seen] == pytest.approx([1.0, 0.775, 0.55, 0.325, 0.1, 0.1])
    assert all(g == d for g, d in seen)
    with pytest.raises(ValueError, match="has no setting 'momentum'"):
        LinearSchedule(model.opt_G, "momentum", 0.5, 0.7, 10)


def test_linear_schedule_can_begin_later_and_holds_its_end_value_past_it():
    model = tiny()
    schedule = LinearSchedule(model.opt_G, "lr", 1.0, 0.1, steps=14, begin=10)
    assert [schedule.value(s) for s in (0, 10, 12, 14, 100)] == pytest.approx([1.0, 1.0, 0.55, 0.1, 0.1])
    assert LinearSchedule(model.opt_G, "lr", 1.0, 0.1, steps=4).value(1000) == pytest.approx(0.1)
    with pytest.raises(ValueError, match=r"begin: got 14, wanted an integer step in \[0, steps=14\)"):
        LinearSchedule(model.opt_G, "lr", 1.0, 0.1, steps=14, begin=14)


def test_the_schedules_end_where_the_config_says():
    config = gan.recipe("ring", m=16, steps=40, lr=1.0, lr_decay_to=0.1, lr_since=20, lr_until=30,
                        optimizer="sgd", momentum_until=10)
    lr, momentum = gan.schedules(config, gan.build(config))
    assert (lr.begin, lr.steps, momentum.steps) == (20, 30, 10)
    assert lr.value(25) == pytest.approx(0.55) and lr.value(39) == pytest.approx(0.1) and momentum.value(20) == 0.7


def test_history_has_the_lr_each_step_used():
    model, history = tiny(), History()
    model.train(5, callbacks=[history, LinearSchedule([model.opt_G, model.opt_D], "lr", 1.0, 0.5, steps=4)])
    assert history["lr"] == pytest.approx([1.0, 0.875, 0.75, 0.625, 0.5])


def test_momentum_ramp_and_the_papers_exponential_decay():
    model = tiny(optimizer="sgd", lr=0.1, momentum=0.5, momentum_final=0.7, steps=10)
    ramp = gan.schedules(model.config, model)
    assert [s.attribute for s in ramp] == ["lr", "momentum"]
    assert ramp[1].value(0) == 0.5 and ramp[1].value(5) == pytest.approx(0.6) and ramp[1].value(50) == 0.7
    decay = ExponentialDecay(model.opt_G, start=0.1, factor=1.000004, floor=1e-6)
    assert decay.value(0) == 0.1 and decay.value(1) == pytest.approx(0.1 / 1.000004)
    assert decay.value(10**8) == 1e-6
    model.train(3, callbacks=[decay])
    assert model.opt_G.lr == pytest.approx(0.1 / 1.000004 ** 3)
    with pytest.raises(ValueError, match="factor: got 0.5"):
        ExponentialDecay(model.opt_G, start=0.1, factor=0.5)
