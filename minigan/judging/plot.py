"""Pictures of a GAN learning: losses, the discriminator's verdicts, samples and an animation.

Every function here takes plain NumPy arrays on the host (the caller copies them off the
device) and writes one file, atomically: the figure goes to a temporary file in the same
folder, then ``os.replace`` puts it in place, so a crash never leaves half an image behind
and never destroys the previous one.

- ``plot_losses``        D and G losses and the value V(D, G) over training steps; at the
                         game's equilibrium (p_g = p_data, D = 1/2) V = -log 4.
- ``plot_discriminator`` mean D(x) on real data and mean D(G(z)) on fakes over steps; both
                         head for 1/2 when D can no longer tell them apart. Under them, the
                         gradient norm reaching G, which collapses when G's loss saturates.
- ``plot_samples_2d``    real vs generated points over the discriminator's D(x) as a contour
                         (the real points and the mode centres drawn above the generated ones).
- ``plot_samples_1d``    the view of Goodfellow et al. (2014), Figure 1: the data density
                         (black, dotted), the generator's density (green) and D(x) (blue, dashed).
- ``plot_digits``        real and generated 8x8 digits as image grids.
- ``save_training_gif``  snapshots of samples taken during training, as an animated GIF.

matplotlib is imported here and only here; ``import minigan`` does not import this module.
Figures are made with ``matplotlib.figure.Figure`` directly (no pyplot): no GUI backend,
no global figure list to leak memory into.
"""
from __future__ import annotations

import contextlib
import math
import os

import numpy as np
from matplotlib.animation import PillowWriter
from matplotlib.figure import Figure

REAL_COLOUR = "0.15"          # near-black: the data
FAKE_COLOUR = "tab:orange"    # the generator's samples
DENSITY_COLOUR = "tab:green"  # Figure 1's green p_g
D_COLOUR = "tab:blue"         # Figure 1's blue D(x)


# ---- writing files ---------------------------------------------------------------------------
def _check_path(path, suffix: str) -> str:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path: got a {type(path).__name__}, wanted a str or os.PathLike ending in {suffix}")
    path = os.fspath(path)
    if not path.lower().endswith(suffix):
        raise ValueError(f"path: got {path!r}, wanted a file name ending in {suffix}")
    return path


@contextlib.contextmanager
def written_atomically(path: str, suffix: str):
    """Yield a temporary name beside ``path`` (ending in ``suffix``) to write to; when the
    block succeeds it replaces ``path`` in one step (os.replace), when it fails it is removed."""
    folder, name = os.path.split(path)
    temp = os.path.join(folder, f".{name}.{os.getpid()}.tmp{suffix}")
    try:
        yield temp
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.remove(temp)
        raise


def save_figure(fig: Figure, path, dpi: int = 100) -> str:
    """Write ``fig`` as a PNG to ``path`` atomically; return the path."""
    path = _check_path(path, ".png")
    with written_atomically(path, ".png") as temp:
        fig.savefig(temp, format="png", dpi=dpi)
    return path


# ---- checking inputs -------------------------------------------------------------------------
def _column(history, name: str) -> np.ndarray:
    """One field of the history as a float array: ``history`` is a list of per-step records
    (dicts) or a dict of columns."""
    try:
        if isinstance(history, dict):
            values = history[name]
        else:
            values = [record[name] for record in history]
    except (KeyError, TypeError):
        raise ValueError(f"history: has no field {name!r}; wanted per-step records with {name!r}") from None
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"history: field {name!r} has shape {values.shape}, wanted a non-empty 1-D series")
    return values


def _points(name: str, array, dim: int | None = None) -> np.ndarray:
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{name}: got a {type(array).__name__}, wanted a NumPy array (copy it to the host first)")
    array = np.asarray(array, dtype=np.float64)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[0] == 0 or (dim is not None and array.shape[1] != dim):
        wanted = f"(n, {dim})" if dim is not None else "(n, d)"
        raise ValueError(f"{name}: got shape {array.shape}, wanted a non-empty array of shape {wanted}")
    return array


def _smooth(values: np.ndarray) -> np.ndarray:
    """A moving mean over about 1% of the run: the trend under the minibatch noise."""
    window = max(1, len(values) // 100)
    if window == 1:
        return values
    kernel = np.ones(window) / window
    padded = np.concatenate([np.full(window - 1, values[0]), values])  # no dip at the start
    return np.convolve(padded, kernel, mode="valid")


def _legend_outside(ax, **options):
    """The legend to the right of the axes: beside the data, never over a line or a point."""
    return ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, fontsize="small", **options)


def _legend_below(ax, ncols: int):
    """The legend under the axes (and their x label): for square panels, where the right is taken."""
    legend = ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=ncols, fontsize="small")
    for handle in legend.legend_handles:  # every point marker one readable size, opaque
        if hasattr(handle, "set_sizes"):
            handle.set_sizes([30.0])
            handle.set_alpha(1.0)
    return legend


# ---- training curves -------------------------------------------------------------------------
def plot_losses(history, path) -> str:
    """D and G losses (top) and the value V(D, G) (bottom) over steps, written to ``path``.

    ``history``: per-step records (or columns) with ``step``, ``d_loss``, ``g_loss``, ``value``.
    """
    step = _column(history, "step")
    fig = Figure(figsize=(9, 5.5), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    for name, label, colour in (("d_loss", "D loss  (= -V)", D_COLOUR), ("g_loss", "G loss", FAKE_COLOUR)):
        values = _column(history, name)
        top.plot(step, values, color=colour, alpha=0.25, linewidth=0.6)
        top.plot(step, _smooth(values), color=colour, label=label)
    top.axhline(math.log(4), color="tab:red", linestyle=":", label="log 4: D loss at equilibrium")
    top.set_ylabel("loss")
    _legend_outside(top)
    top.set_title("Losses: thin lines per step, thick lines a moving mean")

    value = _column(history, "value")
    bottom.plot(step, value, color="0.5", alpha=0.3, linewidth=0.6)
    bottom.plot(step, _smooth(value), color="0.1", label="V(D, G) estimate")
    bottom.axhline(-math.log(4), color="tab:red", linestyle="--", label="-log 4 (equilibrium)")
    bottom.set_xlabel("training step")
    bottom.set_ylabel("V(D, G)")
    _legend_outside(bottom)
    return save_figure(fig, path)


def plot_discriminator(history, path) -> str:
    """Mean D(x) and mean D(G(z)) over steps with the 1/2 line; below, G's gradient norm.

    ``history`` needs ``step``, ``d_real``, ``d_fake``; ``g_grad_norm`` is drawn when present.
    """
    step = _column(history, "step")
    try:
        grad_norm = _column(history, "g_grad_norm")
    except ValueError:
        grad_norm = None
    fig = Figure(figsize=(9, 5.5 if grad_norm is not None else 3.5), layout="constrained")
    axes = fig.subplots(2 if grad_norm is not None else 1, 1, sharex=True, squeeze=False)[:, 0]
    top = axes[0]
    for name, label, colour in (("d_real", "mean D(x), real data", REAL_COLOUR),
                                ("d_fake", "mean D(G(z)), generated", FAKE_COLOUR)):
        values = _column(history, name)
        top.plot(step, values, color=colour, alpha=0.25, linewidth=0.6)
        top.plot(step, _smooth(values), color=colour, label=label)
    top.axhline(0.5, color="tab:red", linestyle="--", label="1/2: D cannot tell them apart")
    top.set_ylim(-0.02, 1.02)
    top.set_ylabel("D output")
    _legend_outside(top)
    top.set_title("What the discriminator says")
    if grad_norm is not None:
        low = axes[1]
        low.plot(step, grad_norm, color=DENSITY_COLOUR, alpha=0.3, linewidth=0.6)
        low.plot(step, _smooth(grad_norm), color=DENSITY_COLOUR, label="|grad| reaching G")
        if np.all(grad_norm > 0):
            low.set_yscale("log")
        low.set_ylabel("gradient norm")
        _legend_outside(low)
    axes[-1].set_xlabel("training step")
    return save_figure(fig, path)


# ---- samples ---------------------------------------------------------------------------------
def _limits(real: np.ndarray, fake: np.ndarray, margin: float = 0.15):
    """Axis limits per column holding the data and most fakes (a few far-off fakes are cut)."""
    lo = np.minimum(real.min(axis=0), np.percentile(fake, 1, axis=0))
    hi = np.maximum(real.max(axis=0), np.percentile(fake, 99, axis=0))
    pad = margin * np.maximum(hi - lo, 1e-3)
    return lo - pad, hi + pad


def _draw_2d(ax, real, fake, discriminator=None, centres=None, limits=None, grid: int = 120):
    (x_lo, y_lo), (x_hi, y_hi) = limits if limits is not None else _limits(real, fake)
    contour = None
    if discriminator is not None:
        xs, ys = np.linspace(x_lo, x_hi, grid), np.linspace(y_lo, y_hi, grid)
        gx, gy = np.meshgrid(xs, ys)
        points = np.stack([gx.ravel(), gy.ravel()], axis=1)          # (grid*grid, 2)
        d = np.asarray(discriminator(points), dtype=np.float64).reshape(grid, grid)
        contour = ax.contourf(gx, gy, d, levels=np.linspace(0.0, 1.0, 11), cmap="RdBu_r", alpha=0.55)
    # Drawn bottom to top: the generated points, the real points above them (small, dark, so
    # the data show through a crowd of fakes), and the mode centres on top as open red rings.
    fakes = ax.scatter(fake[:, 0], fake[:, 1], s=6, color=FAKE_COLOUR, alpha=0.5, label="generated G(z)",
                       linewidths=0, zorder=2)
    ax.scatter(real[:, 0], real[:, 1], s=2, color=REAL_COLOUR, alpha=0.4, label="real x ~ p_data", linewidths=0,
               zorder=3)                                          # see-through: the fakes under them show
    if centres is not None:
        ax.scatter(centres[:, 0], centres[:, 1], marker="o", s=90, facecolors="none", edgecolors="tab:red",
                   linewidths=1.2, label="mode centres", zorder=4)       # open rings: the data show inside
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)
    ax.set_aspect("equal")
    ax.set_xlabel("x[0]")
    ax.set_ylabel("x[1]")
    return contour, fakes


def plot_samples_2d(real, fake, path, discriminator=None, centres=None, title: str | None = None) -> str:
    """Real and generated 2-D points; behind them D(x) as a filled contour when given.

    ``real``, ``fake``: (n, 2) host arrays. ``discriminator``: a function from an (N, 2)
    host array to N probabilities D(x) in [0, 1]. ``centres``: optional (K, 2) mode centres.
    """
    real, fake = _points("real", real, 2), _points("fake", fake, 2)
    centres = None if centres is None else _points("centres", centres, 2)
    fig = Figure(figsize=(6, 6.2), layout="constrained")
    ax = fig.subplots()
    contour, _ = _draw_2d(ax, real, fake, discriminator, centres)
    if contour is not None:
        fig.colorbar(contour, ax=ax, label="D(x): probability x is real", shrink=0.85)
    _legend_below(ax, ncols=3)
    ax.set_title(title or "Real vs generated samples")
    return save_figure(fig, path)


def gaussian_kde_1d(samples: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """A Gaussian kernel density estimate of ``samples`` at ``xs`` (Silverman's bandwidth).

    p_hat(x) = mean_i N(x; s_i, h^2),  h = 1.06 * std * n^(-1/5)
    """
    samples = np.asarray(samples, dtype=np.float64).ravel()
    h = 1.06 * max(samples.std(), 1e-3) * samples.size ** (-0.2)
    u = (xs[:, None] - samples[None, :]) / h                        # (len(xs), n)
    return np.exp(-0.5 * u * u).mean(axis=1) / (h * math.sqrt(2 * math.pi))


def _draw_1d(ax, real, fake, density=None, discriminator=None, limits=None, points: int = 400):
    lo, hi = limits if limits is not None else (v[0] for v in _limits(real, fake, margin=0.25))
    xs = np.linspace(lo, hi, points)
    p_data = np.asarray(density(xs), dtype=np.float64) if density is not None else gaussian_kde_1d(real, xs)
    ax.plot(xs, p_data, color="black", linestyle=":", linewidth=2, label="p_data (data)")
    ax.plot(xs, gaussian_kde_1d(fake, xs), color=DENSITY_COLOUR, linewidth=2, label="p_g (generator)")
    ax.set_xlim(lo, hi)
    ax.set_xlabel("x")
    ax.set_ylabel("density")
    if discriminator is not None:
        d = np.asarray(discriminator(xs[:, None]), dtype=np.float64).ravel()
        ax.plot(xs, d, color=D_COLOUR, linestyle="--", linewidth=2, label="D(x)")
        ax.axhline(0.5, color=D_COLOUR, linewidth=0.6, alpha=0.5)
        ax.set_ylabel("density, or D(x)")
    top = max(1.05, 1.1 * float(np.max(p_data)))
    ax.set_ylim(0, top)


def plot_samples_1d(real, fake, path, density=None, discriminator=None, title: str | None = None) -> str:
    """Goodfellow et al. (2014), Figure 1: p_data (black dotted), p_g (green), D(x) (blue dashed).

    ``real``, ``fake``: (n,) or (n, 1) host arrays. ``density``: p_data's exact density as a
    function of a host array (else estimated from ``real``). ``discriminator``: an (N, 1) host
    array -> N probabilities. At the equilibrium the green curve lies on the black one and D = 1/2.
    """
    real, fake = _points("real", real, 1), _points("fake", fake, 1)
    fig = Figure(figsize=(9, 4), layout="constrained")
    ax = fig.subplots()
    _draw_1d(ax, real, fake, density, discriminator)
    _legend_outside(ax)
    ax.set_title(title or "Data density, generator density and the discriminator")
    return save_figure(fig, path)


def image_grid(images, side: int = 8, columns: int = 10, pad: int = 1) -> np.ndarray:
    """Tile ``images`` ((n, side*side) rows) into one 2-D array, ``columns`` per row, with padding."""
    images = _points("images", images, side * side)
    n = images.shape[0]
    rows = math.ceil(n / columns)
    cell = side + pad
    canvas = np.full((rows * cell + pad, columns * cell + pad), np.nan)  # NaN = background
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        canvas[pad + r * cell: pad + r * cell + side, pad + c * cell: pad + c * cell + side] = image.reshape(side, side)
    return canvas


def _draw_digits(ax, images, title):
    columns = math.ceil(math.sqrt(len(images)))                       # a square-ish grid
    ax.imshow(image_grid(images, columns=columns), cmap="gray_r", vmin=-1.0, vmax=1.0, interpolation="nearest")
    ax.set_title(title)
    ax.set_axis_off()


def plot_digits(fake, path, real=None, title: str | None = None) -> str:
    """Generated 8x8 digits (values in [-1, 1], rows of 64) as a grid; real ones beside them."""
    fake = _points("fake", fake, 64)[:100]
    panels = 2 if real is not None else 1
    fig = Figure(figsize=(4.2 * panels, 4.6), layout="constrained")
    axes = fig.subplots(1, panels, squeeze=False)[0]
    if real is not None:
        _draw_digits(axes[0], _points("real", real, 64)[:100], "real digits")
    _draw_digits(axes[-1], fake, "generated G(z)")
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)


# ---- the animation ---------------------------------------------------------------------------
def _check_snapshots(snapshots):
    try:
        frames = [(int(step), _points("snapshot samples", samples)) for step, samples in snapshots]
    except (TypeError, ValueError) as error:
        raise ValueError(f"snapshots: {error}; wanted a list of (step, samples) pairs") from None
    if not frames:
        raise ValueError("snapshots: got an empty list, wanted at least one (step, samples) pair")
    dims = sorted({samples.shape[1] for _, samples in frames})
    if len(dims) != 1 or dims[0] not in (1, 2, 64):
        raise ValueError(f"snapshots: samples have dimension {dims}, wanted all 1, all 2 or all 64")
    return frames, dims[0]


def _first_frame(ax, dim, real, first, limits, density):
    """Draw the first frame; return ``update(samples)``, which redraws only what changes."""
    if dim == 2:
        _, fake = _draw_2d(ax, real, first, limits=limits)      # fake: the generated points
        _legend_below(ax, ncols=2)
        return lambda samples: fake.set_offsets(samples)
    if dim == 1:
        _draw_1d(ax, real, first, density, limits=limits)
        _legend_below(ax, ncols=2)
        line = ax.lines[1]                                       # p_g, the green curve
        xs = line.get_xdata()
        return lambda samples: line.set_ydata(gaussian_kde_1d(samples, xs))
    n = min(len(first), 64)
    columns = math.ceil(math.sqrt(n))
    picture = ax.imshow(image_grid(first[:n], columns=columns), cmap="gray_r", vmin=-1.0, vmax=1.0,
                        interpolation="nearest")
    ax.set_axis_off()
    return lambda samples: picture.set_data(image_grid(samples[:n], columns=columns))


def save_training_gif(snapshots, path, real=None, density=None, fps: int = 4, dpi: int = 80) -> str:
    """An animated GIF of generated samples over training, one frame per snapshot.

    ``snapshots``: a list of ``(step, samples)`` with host arrays of generated samples, all
    of one dimension: 1 (drawn as a density over ``density`` or ``real``'s), 2 (points over
    ``real``) or 64 (8x8 digit grids). Axis limits are fixed from the data and the last
    snapshot, so the frames line up. Written with matplotlib's PillowWriter, atomically.
    """
    path = _check_path(path, ".gif")
    if not isinstance(fps, int) or isinstance(fps, bool) or fps < 1:
        raise ValueError(f"fps: got {fps!r}, wanted a positive integer")
    frames, dim = _check_snapshots(snapshots)
    if dim in (1, 2) and real is None:
        raise ValueError(f"real: got None, wanted the real samples to draw {dim}-D snapshots over")
    real = None if real is None else _points("real", real, dim)
    limits = None
    if dim == 2:
        limits = _limits(real, frames[-1][1])
    elif dim == 1:
        lo, hi = _limits(real, frames[-1][1], margin=0.25)
        limits = (lo[0], hi[0])

    fig = Figure(figsize=(4, 4.8) if dim != 1 else (5, 3.8))
    ax = fig.subplots()
    update = _first_frame(ax, dim, real, frames[0][1], limits, density)
    fig.tight_layout(rect=(0, 0, 1, 0.95))    # lay out once: every frame the same size, and
    fig.set_layout_engine("none")             # no layout pass (an extra draw) per frame
    title = ax.set_title("")
    writer = PillowWriter(fps=fps)
    with written_atomically(path, ".gif") as temp:      # PillowWriter picks GIF from the suffix
        with writer.saving(fig, temp, dpi):
            for step, samples in frames:
                update(samples)
                title.set_text(f"generated samples, step {step}")
                writer.grab_frame()
    return path
