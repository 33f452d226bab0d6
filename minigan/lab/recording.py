"""What the lab's worker records as it trains: the chart rows for the page, and training.gif's frames.

    Recorder            each iteration's record as Python floats (the page's charts)
    ThinnedSnapshots    results.Snapshots for a run with no planned end: at most SNAPSHOTS_KEPT frames
    finite, mean_sigmoid   a row the page can read (JSON has no NaN); mean D(.) of a minibatch
"""
from __future__ import annotations

import math

from minigan import ops
from minigan.gan import callbacks
from minigan.judging import results

SNAPSHOTS_KEPT = 40        # frames of training.gif kept (thinned as the run grows)


class Recorder(callbacks.Callback):
    """Each iteration's record as Python floats, for the page's charts."""

    def __init__(self):
        self.rows = []

    def on_step(self, model, record):
        self.rows.append({"kind": "iteration", **finite(record.to_floats())})


class ThinnedSnapshots(results.Snapshots):
    """results.Snapshots that keeps at most SNAPSHOTS_KEPT frames: past that, every other
    frame goes and the interval doubles (a lab run has no planned end). The lab trains in
    pieces of a few steps, so neither the start nor the end of a piece takes a snapshot:
    only every ``every`` steps (and the lab's own ``take`` at step 0)."""

    def on_train_begin(self, model, steps) -> None:
        pass

    def on_train_end(self, model, finished) -> None:
        pass

    def take(self, model) -> None:
        super().take(model)
        if len(self.frames) > SNAPSHOTS_KEPT:
            self.frames = self.frames[::2]
            self.every *= 2


def finite(row: dict) -> dict:
    """The row with NaN and infinities (a diverged run) as None: JSON has no NaN, the page skips None."""
    return {k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in row.items()}


def mean_sigmoid(logits) -> float:
    """mean D(.) of a minibatch of logits, as a Python float: the library's exp(-|a|) form,
    on the backend (1 / (1 + exp(-a)) overflows for a below about -88 in float32)."""
    xp = logits.xp
    probability, _ = ops.sigmoid_and_complement(xp, logits.data)
    return float(xp.mean(probability))
