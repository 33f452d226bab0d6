"""Callbacks: everything around Algorithm 1 that is not Algorithm 1.

``GAN.train(steps, callbacks=[...])`` calls, for each callback,

    on_train_begin(gan, steps)     once, before the first iteration
    on_step(gan, record)           after every iteration (record: a gan.StepRecord)
    on_train_end(gan, finished)    once, at the end; finished=False after an error

so the training loop itself stays the paper's. The callbacks here:

- ``History``          every step's record, as columns of numbers (and a CSV file)
- ``ProgressBar``      a tqdm bar with the latest losses (off when stderr is not a terminal)
- ``PeriodicMetrics``  any function of the GAN, every so many steps
- ``Checkpoint``       the whole run saved to one file every so many steps and at the end
- ``LinearSchedule``   an optimizer setting moved linearly with the step (lr decay, momentum ramp)
- ``ExponentialDecay`` lr divided by a factor every step, down to a floor (the 2014 paper's code)
  (both are ``Schedule``s: a value computed from the step alone)

A record's numbers are 0-d arrays on the backend; History copies them to the host in
batches (one copy per field per ``flush_every`` steps), so a GPU is not stopped every step.
"""
from __future__ import annotations

import csv
import numbers
import sys

from minigan.gan import checkpoint
from minigan.backend import backend_of

# History's columns: the fields of a gan.StepRecord. All but step and lr are 0-d backend arrays.
FIELDS = ("step", "d_loss", "g_loss", "value", "d_real", "d_fake", "g_grad_norm", "lr")
ARRAY_FIELDS = FIELDS[1:-1]


class Callback:
    """Does nothing; subclasses override the hooks they need."""

    def on_train_begin(self, gan, steps: int) -> None:
        pass

    def on_step(self, gan, record) -> None:
        pass

    def on_train_end(self, gan, finished: bool) -> None:
        pass


def _check_steps(value, name: str = "every") -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name}: got {value!r}, wanted a positive integer (steps)")
    return int(value)


# ---- history --------------------------------------------------------------------------------
class History(Callback):
    """Every step's record, one list per field: ``history["d_loss"]``, ``history.as_columns()``."""

    def __init__(self, flush_every: int = 100):
        self.flush_every = _check_steps(flush_every, "flush_every")
        self.columns = {name: [] for name in FIELDS}
        self._pending = []  # records whose numbers are still on the backend

    def on_step(self, gan, record) -> None:
        self._pending.append(record)
        if len(self._pending) >= self.flush_every:
            self.flush()

    def on_train_end(self, gan, finished: bool) -> None:
        self.flush()

    def flush(self) -> None:
        """Copy the pending records to the host: one stacked copy per field."""
        records, self._pending = self._pending, []
        if not records:
            return
        xp = backend_of(records[0].d_loss).xp
        self.columns["step"].extend(r.step for r in records)
        self.columns["lr"].extend(r.lr for r in records)
        for name in ARRAY_FIELDS:
            stacked = xp.stack([getattr(r, name) for r in records])     # (n,) on the backend
            self.columns[name].extend(float(v) for v in backend_of(stacked).to_host(stacked).tolist())

    def __getitem__(self, name: str) -> list:
        if name not in self.columns:
            raise KeyError(f"history: got field {name!r}, wanted one of {', '.join(FIELDS)}")
        self.flush()
        return self.columns[name]

    def __len__(self) -> int:
        return len(self.columns["step"]) + len(self._pending)

    def as_columns(self) -> dict:
        """{field: list of numbers}, one entry per step recorded."""
        self.flush()
        return {name: list(values) for name, values in self.columns.items()}

    def write_csv(self, path) -> None:
        """Write the history to ``path`` as CSV (a header, then one row per step), atomically."""
        write_csv(path, self.as_columns())


def write_csv(path, columns: dict) -> None:
    """Write equal-length columns {name: values} to a CSV file, atomically."""
    lengths = {len(values) for values in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"columns: got lengths {sorted(lengths)}, wanted columns of one length")
    with checkpoint.atomic_file(path, "w") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        writer.writerows(zip(*columns.values()))


# ---- progress -------------------------------------------------------------------------------
class ProgressBar(Callback):
    """A tqdm progress bar showing the losses and D's verdicts every ``every`` steps.

    ``disable=None`` shows it only when ``file`` (stderr) is a terminal, so logs and CI
    output stay clean; True hides it, False forces it.
    """

    def __init__(self, every: int = 50, disable: bool | None = None, file=None):
        self.every = _check_steps(every)
        self.disable = disable
        self.file = file
        self.bar = None

    def on_train_begin(self, gan, steps: int) -> None:
        from tqdm.auto import tqdm  # a dependency of minigan, imported only when a bar is made

        file = sys.stderr if self.file is None else self.file
        disable = self.disable if self.disable is not None else not (hasattr(file, "isatty") and file.isatty())
        self.bar = tqdm(total=steps, desc="training", unit="step", file=file, disable=disable, dynamic_ncols=True)

    def on_step(self, gan, record) -> None:
        self.bar.update(1)
        if record.step % self.every == 0 and not self.bar.disable:
            values = record.to_floats()   # a host copy, every `every` steps only
            self.bar.set_postfix({"D loss": f"{values['d_loss']:.3f}", "G loss": f"{values['g_loss']:.3f}",
                                  "D(x)": f"{values['d_real']:.2f}", "D(G(z))": f"{values['d_fake']:.2f}"},
                                 refresh=False)

    def on_train_end(self, gan, finished: bool) -> None:
        if self.bar is not None:
            self.bar.close()


# ---- metrics ---------------------------------------------------------------------------------
class PeriodicMetrics(Callback):
    """Call ``fn(gan) -> dict`` every ``every`` steps (and at the end); keep the results.

    ``results`` is a list of dicts, each with the ``step`` it was measured at. ``print_to``
    (a file such as sys.stdout) prints each result as one line.
    """

    def __init__(self, every: int, fn, at_end: bool = True, print_to=None):
        self.every = _check_steps(every)
        if not callable(fn):
            raise TypeError(f"fn: got {type(fn).__name__}, wanted a function gan -> dict of numbers")
        self.fn, self.at_end, self.print_to = fn, at_end, print_to
        self.results = []

    def measure(self, gan) -> None:
        if self.results and self.results[-1]["step"] == gan.step:
            return  # measured at this step already
        values = self.fn(gan)
        if not isinstance(values, dict):
            raise TypeError(f"fn: returned {type(values).__name__}, wanted a dict of numbers")
        self.results.append({"step": gan.step, **values})
        if self.print_to is not None:
            print(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in self.results[-1].items()),
                  file=self.print_to)

    def on_step(self, gan, record) -> None:
        if record.step % self.every == 0:
            self.measure(gan)

    def on_train_end(self, gan, finished: bool) -> None:
        if finished and self.at_end:
            self.measure(gan)


# ---- checkpoints ----------------------------------------------------------------------------
class Checkpoint(Callback):
    """Save the run to ``path`` every ``every`` steps (None: only at the end) and at the end.

    Before each save the GAN's losses and parameters are checked: a diverged run raises
    TrainingDiverged instead, so a good checkpoint is never overwritten by a broken one.
    """

    def __init__(self, path, every: int | None = None, at_end: bool = True):
        self.path = path
        self.every = None if every is None else _check_steps(every)
        self.at_end = at_end
        self.saved_step = None

    def save(self, gan) -> None:
        gan.check_finite(parameters=True)   # raises TrainingDiverged naming the step
        checkpoint.save(self.path, gan)
        gan.last_checkpoint, self.saved_step = str(self.path), gan.step

    def on_step(self, gan, record) -> None:
        if self.every is not None and record.step % self.every == 0:
            self.save(gan)

    def on_train_end(self, gan, finished: bool) -> None:
        if finished and self.at_end and self.saved_step != gan.step:
            self.save(gan)


# ---- schedules ------------------------------------------------------------------------------
def _optimizer_list(optimizers, attribute: str) -> list:
    optimizers = list(optimizers) if isinstance(optimizers, (list, tuple)) else [optimizers]
    for i, opt in enumerate(optimizers):
        if not hasattr(opt, attribute):
            raise ValueError(f"optimizers[{i}]: a {type(opt).__name__} has no setting {attribute!r}")
    return optimizers


class Schedule(Callback):
    """Sets ``attribute`` ("lr", "momentum", ...) of each optimizer to ``value(step)`` before
    every iteration. The value depends on the step alone, so a resumed run follows it exactly."""

    def __init__(self, optimizers, attribute: str):
        self.optimizers = _optimizer_list(optimizers, attribute)
        self.attribute = attribute

    def value(self, step: int) -> float:
        raise NotImplementedError

    def apply(self, step: int) -> None:
        for opt in self.optimizers:
            setattr(opt, self.attribute, self.value(step))

    def on_train_begin(self, gan, steps: int) -> None:
        self.apply(gan.step)          # the value for the next iteration

    def on_step(self, gan, record) -> None:
        self.apply(record.step)


class LinearSchedule(Schedule):
    """start + (end - start) * clip((step - begin) / (steps - begin), 0, 1):
    ``start`` up to step ``begin``, then linearly to ``end`` at step ``steps``, then ``end``.

    Examples: the lr decayed linearly to a tenth; SGD's momentum rising from 0.5 to 0.7.
    Past ``steps`` the value stays at ``end``: training longer never undoes the schedule.
    """

    def __init__(self, optimizers, attribute: str, start: float, end: float, steps: int, begin: int = 0):
        super().__init__(optimizers, attribute)
        self.start, self.end = float(start), float(end)
        self.steps = _check_steps(steps, "steps")
        if not isinstance(begin, numbers.Integral) or isinstance(begin, bool) or not 0 <= begin < self.steps:
            raise ValueError(f"begin: got {begin!r}, wanted an integer step in [0, steps={self.steps})")
        self.begin = int(begin)

    def value(self, step: int) -> float:
        fraction = min(max((step - self.begin) / (self.steps - self.begin), 0.0), 1.0)
        return self.start + (self.end - self.start) * fraction


class ExponentialDecay(Schedule):
    """max(start / factor**step, floor): divided by ``factor`` every step, never below ``floor``.

    The 2014 paper's MNIST code: lr start 0.1, factor 1.000004, floor 1e-6.
    """

    def __init__(self, optimizers, start: float, factor: float, floor: float = 0.0, attribute: str = "lr"):
        super().__init__(optimizers, attribute)
        if not isinstance(factor, numbers.Real) or not factor >= 1.0:
            raise ValueError(f"factor: got {factor!r}, wanted a number >= 1")
        self.start, self.factor, self.floor = float(start), float(factor), float(floor)

    def value(self, step: int) -> float:
        return max(self.start / self.factor ** step, self.floor)
