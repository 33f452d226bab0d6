"""Pictures of a generator of symbols: how often it makes each one, against the true probabilities.

- ``plot_categorical``       bars of the true probabilities (dark) and of the generated
                             symbols' frequencies (orange), side by side, with the JS divergence.
- ``save_categorical_gif``   the same bars over training, one frame per snapshot.

Generated rows (one-hot, or soft Gumbel-softmax rows) count as their argmax
(``minigan.judging.metrics.symbol_frequencies``). Files are written atomically, as in minigan.judging.plot.
"""
from __future__ import annotations

import numpy as np
from matplotlib.animation import PillowWriter
from matplotlib.figure import Figure

from minigan.judging import metrics
from minigan.judging.plot import FAKE_COLOUR, REAL_COLOUR, _check_path, save_figure, written_atomically

WIDTH = 0.4   # each of the two bars per symbol


def _check_probabilities(probabilities) -> np.ndarray:
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 1 or p.size < 2 or not np.all(np.isfinite(p)) or np.any(p < 0):
        raise ValueError(f"probabilities: got shape {p.shape}, wanted K >= 2 non-negative numbers")
    return p / p.sum()


def _draw_bars(ax, p, q):
    """Two bars per symbol: p (true) and q (generated); returns q's bars, to update."""
    symbols = np.arange(p.size)
    ax.bar(symbols - WIDTH / 2, p, WIDTH, color=REAL_COLOUR, label="p_data (true)")
    bars = ax.bar(symbols + WIDTH / 2, q, WIDTH, color=FAKE_COLOUR, label="generated G(z)")
    ax.set_xticks(symbols)
    ax.set_xlabel("symbol")
    ax.set_ylabel("probability")
    ax.set_ylim(0.0, 1.05 * max(float(p.max()), 0.55))
    ax.legend(loc="upper right")
    return bars


def plot_categorical(fake, probabilities, path, title: str | None = None) -> str:
    """Bars of p_data's ``probabilities`` beside the symbol frequencies of ``fake`` (n, K) rows."""
    p = _check_probabilities(probabilities)
    q = metrics.symbol_frequencies(fake)
    if q.shape != p.shape:
        raise ValueError(f"fake: got rows of {q.size} symbols, wanted {p.size} (one per probability)")
    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.subplots()
    _draw_bars(ax, p, q)
    js = metrics.js_divergence(p, q)
    ax.set_title(f"{title + ': ' if title else ''}JS divergence {js:.4f} nats ({len(fake)} samples)")
    return save_figure(fig, path)


def save_categorical_gif(snapshots, probabilities, path, fps: int = 4, dpi: int = 80) -> str:
    """An animated GIF of the generated symbols' frequencies over training.

    ``snapshots``: a list of ``(step, rows)`` with (n, K) host arrays of generated rows.
    """
    path = _check_path(path, ".gif")
    if not isinstance(fps, int) or isinstance(fps, bool) or fps < 1:
        raise ValueError(f"fps: got {fps!r}, wanted a positive integer")
    p = _check_probabilities(probabilities)
    if not snapshots:
        raise ValueError("snapshots: got an empty list, wanted at least one (step, rows) pair")
    frames = [(int(step), metrics.symbol_frequencies(rows)) for step, rows in snapshots]
    if any(q.shape != p.shape for _, q in frames):
        raise ValueError(f"snapshots: got rows of other than {p.size} symbols, wanted one per probability")
    fig = Figure(figsize=(5, 3.8))
    ax = fig.subplots()
    bars = _draw_bars(ax, p, frames[0][1])
    fig.tight_layout(rect=(0, 0, 1, 0.95))    # lay out once: every frame the same size
    fig.set_layout_engine("none")
    title = ax.set_title("")
    writer = PillowWriter(fps=fps)
    with written_atomically(path, ".gif") as temp:
        with writer.saving(fig, temp, dpi):
            for step, q in frames:
                for bar, height in zip(bars, q):
                    bar.set_height(height)
                title.set_text(f"generated symbols, step {step} (JS {metrics.js_divergence(p, q):.3f})")
                writer.grab_frame()
    return path
