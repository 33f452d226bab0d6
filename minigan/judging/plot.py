"""Pictures of a GAN learning: losses, the discriminator's verdicts, samples and an animation.

Every function here takes plain NumPy arrays on the host (the caller copies them off the
device) and writes one file, atomically: the figure goes to a temporary file in the same
folder, then ``os.replace`` puts it in place, so a crash never leaves half an image behind
and never destroys the previous one.

- ``plot_losses``        D and G losses and -L_D over training steps, named as the loss form
                         names them; for the 2014 forms, at the game's equilibrium
                         (p_g = p_data, D = 1/2) V = -log 4.
- ``plot_discriminator`` mean D(x) on real data and mean D(G(z)) on fakes over steps, in D's
                         own units (a probability, an lsgan score or a critic score); for the
                         2014 forms and lsgan both head for 1/2 when D can no longer tell them
                         apart. Under them, the gradient norm reaching G.
- ``plot_samples_2d``    generated points (on top, see-through) over the real ones (small,
                         beneath), over D's output as a filled contour; mode circles as thin
                         outlines.
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
from dataclasses import dataclass

import numpy as np
from matplotlib.animation import PillowWriter
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.patches import Circle

REAL_COLOUR = "0.15"          # near-black: the data
FAKE_COLOUR = "tab:orange"    # the generator's samples
DENSITY_COLOUR = "tab:green"  # Figure 1's green p_g
D_COLOUR = "tab:blue"         # Figure 1's blue D(x)


# ---- what D outputs, and what each loss is called, per loss form -------------------------------
@dataclass(frozen=True)
class Form:
    """How to label one loss form's figures (``GANConfig.loss`` names the form).

    The 2014 forms give D a logit and D(x) = sigmoid(logit), a probability that is 1/2 at the
    equilibrium, where V = -log 4. lsgan's D regresses real samples to b = 1 and fakes to
    a = 0: a raw score, whose equilibrium is D = (a + b)/2 = 1/2 and L_D = 1/4. wgan's and
    hinge's D is a critic: a score with no probability in it and no value it must take when
    p_g = p_data, so no 1/2 line and no -log 4; its colours are centred at 0.
    """

    d_output: str                # what D(x) is: the colour bar's and the mean panel's label
    real_label: str              # the mean panel's two curves
    fake_label: str
    d_loss: str                  # the loss curves, in the form's own names
    g_loss: str
    value: str                   # what -L_D is
    d_level: tuple | None        # (y, label): D's output at the equilibrium, or None
    d_loss_level: tuple | None   # (y, label): L_D at the equilibrium, or None
    value_level: tuple | None    # (y, label): -L_D at the equilibrium, or None
    centre: float | None         # a score's colour map is centred here; None: a probability in [0, 1]


_GAN_2014 = dict(
    d_output="D(x): probability x is real", real_label="mean D(x), real data",
    fake_label="mean D(G(z)), generated", d_loss="D loss  -[log D(x) + log(1 - D(G(z)))]",
    value="V(D, G) estimate", d_level=(0.5, "1/2: D cannot tell them apart"),
    d_loss_level=(math.log(4), "log 4: D loss at equilibrium"),
    value_level=(-math.log(4), "-log 4 (equilibrium)"), centre=None)
_CRITIC = dict(
    d_output="critic score D(x)", real_label="mean critic score, real data",
    fake_label="mean critic score, generated", g_loss="G loss  -mean D(G(z))", d_level=None, centre=0.0)
FORMS = {
    "non_saturating": Form(**_GAN_2014, g_loss="G loss  -log D(G(z))"),
    "minimax": Form(**_GAN_2014, g_loss="G loss  log(1 - D(G(z)))"),
    "lsgan": Form(d_output="D(x): least-squares score (real 1, fake 0)", real_label="mean D(x), real data",
                  fake_label="mean D(G(z)), generated", d_loss="D loss  1/2 (D(x) - 1)^2 + 1/2 D(G(z))^2",
                  g_loss="G loss  1/2 (D(G(z)) - 1)^2", value="-(D loss)",
                  d_level=(0.5, "D = 1/2: equilibrium for a = 0, b = 1"),
                  d_loss_level=(0.25, "1/4: D loss at equilibrium"),
                  value_level=(-0.25, "-1/4 (equilibrium)"), centre=0.5),
    "wgan": Form(**_CRITIC, d_loss="critic loss  mean D(G(z)) - mean D(x)",
                 value="mean D(x) - mean D(G(z)): the critic's estimate of W_1",
                 d_loss_level=None, value_level=(0.0, "0: W_1 when p_g = p_data")),
    "hinge": Form(**_CRITIC, d_loss="D loss  mean relu(1 - D(x)) + mean relu(1 + D(G(z)))",
                  value="-(D loss)", d_loss_level=(2.0, "2: least D loss when p_g = p_data"),
                  value_level=(-2.0, "-2 (p_g = p_data)")),
}


def form(loss) -> Form:
    """The labels of loss form ``loss`` ("non_saturating", "minimax", "lsgan", "wgan", "hinge")."""
    if loss not in FORMS:
        raise ValueError(f"loss: got {loss!r}, wanted one of {', '.join(FORMS)}")
    return FORMS[loss]


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
def losses_figure(history, loss: str = "non_saturating") -> Figure:
    """D and G losses (top) and -L_D (bottom) over steps, labelled as loss form ``loss`` names them.

    ``history``: per-step records (or columns) with ``step``, ``d_loss``, ``g_loss``, ``value``.
    """
    names = form(loss)
    step = _column(history, "step")
    fig = Figure(figsize=(9, 5.5), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    for name, label, colour in (("d_loss", names.d_loss, D_COLOUR), ("g_loss", names.g_loss, FAKE_COLOUR)):
        values = _column(history, name)
        top.plot(step, values, color=colour, alpha=0.25, linewidth=0.6)
        top.plot(step, _smooth(values), color=colour, label=label)
    if names.d_loss_level is not None:
        top.axhline(names.d_loss_level[0], color="tab:red", linestyle=":", label=names.d_loss_level[1])
    top.set_ylabel("loss")
    _legend_outside(top)
    top.set_title("Losses: thin lines per step, thick lines a moving mean")

    value = _column(history, "value")
    bottom.plot(step, value, color="0.5", alpha=0.3, linewidth=0.6)
    bottom.plot(step, _smooth(value), color="0.1", label=names.value)
    if names.value_level is not None:
        bottom.axhline(names.value_level[0], color="tab:red", linestyle="--", label=names.value_level[1])
    bottom.set_xlabel("training step")
    bottom.set_ylabel("-L_D" if loss not in ("non_saturating", "minimax") else "V(D, G)")
    _legend_outside(bottom)
    return fig


def plot_losses(history, path, loss: str = "non_saturating") -> str:
    """``losses_figure(history, loss)`` written to ``path``."""
    return save_figure(losses_figure(history, loss), path)


def discriminator_figure(history, loss: str = "non_saturating") -> Figure:
    """Mean D(x) and mean D(G(z)) over steps, with D's equilibrium line where the form has one
    (1/2 for the 2014 forms and lsgan; none for a wgan or hinge critic); below, G's gradient norm.

    ``history`` needs ``step``, ``d_real``, ``d_fake`` (in D's own units: ``gan.StepRecord``);
    ``g_grad_norm`` is drawn when present.
    """
    names = form(loss)
    step = _column(history, "step")
    try:
        grad_norm = _column(history, "g_grad_norm")
    except ValueError:
        grad_norm = None
    fig = Figure(figsize=(9, 5.5 if grad_norm is not None else 3.5), layout="constrained")
    axes = fig.subplots(2 if grad_norm is not None else 1, 1, sharex=True, squeeze=False)[:, 0]
    top = axes[0]
    for name, label, colour in (("d_real", names.real_label, REAL_COLOUR), ("d_fake", names.fake_label, FAKE_COLOUR)):
        values = _column(history, name)
        top.plot(step, values, color=colour, alpha=0.25, linewidth=0.6)
        top.plot(step, _smooth(values), color=colour, label=label)
    if names.d_level is not None:
        top.axhline(names.d_level[0], color="tab:red", linestyle="--", label=names.d_level[1])
    if names.centre is None:                      # a probability
        top.set_ylim(-0.02, 1.02)
    top.set_ylabel("D output" if names.d_level is not None else "critic score")
    _legend_outside(top)
    top.set_title("What the discriminator says" if names.d_level is not None else "What the critic says")
    if grad_norm is not None:
        low = axes[1]
        low.plot(step, grad_norm, color=DENSITY_COLOUR, alpha=0.3, linewidth=0.6)
        low.plot(step, _smooth(grad_norm), color=DENSITY_COLOUR, label="|grad| reaching G")
        if np.all(grad_norm > 0):
            low.set_yscale("log")
        low.set_ylabel("gradient norm")
        _legend_outside(low)
    axes[-1].set_xlabel("training step")
    return fig


def plot_discriminator(history, path, loss: str = "non_saturating") -> str:
    """``discriminator_figure(history, loss)`` written to ``path``."""
    return save_figure(discriminator_figure(history, loss), path)


# ---- samples ---------------------------------------------------------------------------------
def _limits(real: np.ndarray, fake: np.ndarray, margin: float = 0.15):
    """Axis limits per column holding the data and most fakes (a few far-off fakes are cut)."""
    lo = np.minimum(real.min(axis=0), np.percentile(fake, 1, axis=0))
    hi = np.maximum(real.max(axis=0), np.percentile(fake, 99, axis=0))
    pad = margin * np.maximum(hi - lo, 1e-3)
    return lo - pad, hi + pad


def contour_colours(d: np.ndarray, centre: float | None) -> dict:
    """The filled contour's levels and norm: 0 to 1 for a probability; for a score, 11 levels
    over the scores drawn and a diverging norm whose white sits at ``centre`` (0 for a
    critic), blue below it, red above, whatever range the scores take."""
    if centre is None:
        return {"levels": np.linspace(0.0, 1.0, 11)}
    low, high = float(np.min(d)), float(np.max(d))
    if high - low < 1e-9:
        low, high = low - 0.5, high + 0.5
    tiny = 1e-6 * (high - low)
    return {"levels": np.linspace(low, high, 11),
            "norm": TwoSlopeNorm(vcenter=centre, vmin=min(low, centre - tiny), vmax=max(high, centre + tiny))}


def _draw_2d(ax, real, fake, discriminator=None, centres=None, limits=None, grid: int = 120,
             loss: str = "non_saturating", radius: float | None = None):
    (x_lo, y_lo), (x_hi, y_hi) = limits if limits is not None else _limits(real, fake)
    contour = None
    if discriminator is not None:
        xs, ys = np.linspace(x_lo, x_hi, grid), np.linspace(y_lo, y_hi, grid)
        gx, gy = np.meshgrid(xs, ys)
        points = np.stack([gx.ravel(), gy.ravel()], axis=1)          # (grid*grid, 2)
        d = np.asarray(discriminator(points), dtype=np.float64).reshape(grid, grid)
        contour = ax.contourf(gx, gy, d, cmap="RdBu_r", alpha=0.55, **contour_colours(d, form(loss).centre))
    # Drawn bottom to top: the real points, small and grey, so the data show wherever G has no
    # samples; the generated points above them, see-through, so a crowd of them reads as dense
    # and hides nothing; the modes as thin outlines (the high-quality radius, when given).
    ax.scatter(real[:, 0], real[:, 1], s=2, color=REAL_COLOUR, alpha=0.35, label="real x ~ p_data", linewidths=0,
               zorder=2)
    fakes = ax.scatter(fake[:, 0], fake[:, 1], s=8, color=FAKE_COLOUR, alpha=0.35, label="generated G(z)",
                       linewidths=0, zorder=3)
    if centres is not None and radius is not None:
        for i, (cx, cy) in enumerate(centres):
            ax.add_patch(Circle((cx, cy), radius, fill=False, edgecolor="0.1", linewidth=0.6, zorder=4,
                                label=f"modes (radius {radius:.2g})" if i == 0 else None))
    elif centres is not None:
        ax.scatter(centres[:, 0], centres[:, 1], marker="o", s=120, facecolors="none", edgecolors="0.1",
                   linewidths=0.6, label="mode centres", zorder=4)
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)
    ax.set_aspect("equal")
    ax.set_xlabel("x[0]")
    ax.set_ylabel("x[1]")
    return contour, fakes


def samples_2d_figure(real, fake, discriminator=None, centres=None, title: str | None = None,
                      loss: str = "non_saturating", radius: float | None = None) -> Figure:
    """Generated 2-D points over the real ones; behind them D's output as a filled contour when given.

    ``real``, ``fake``: (n, 2) host arrays. ``discriminator``: a function from an (N, 2) host
    array to D's N outputs in loss form ``loss``'s units (probabilities D(x) in [0, 1] for the
    2014 forms, raw scores for lsgan, wgan and hinge). ``centres``: optional (K, 2) mode
    centres, drawn as circles of ``radius`` when it is given.
    """
    real, fake = _points("real", real, 2), _points("fake", fake, 2)
    centres = None if centres is None else _points("centres", centres, 2)
    fig = Figure(figsize=(6, 6.2), layout="constrained")
    ax = fig.subplots()
    contour, _ = _draw_2d(ax, real, fake, discriminator, centres, loss=loss, radius=radius)
    if contour is not None:
        fig.colorbar(contour, ax=ax, label=form(loss).d_output, shrink=0.85)
    _legend_below(ax, ncols=3)
    ax.set_title(title or "Real vs generated samples")
    return fig


def plot_samples_2d(real, fake, path, discriminator=None, centres=None, title: str | None = None,
                    loss: str = "non_saturating", radius: float | None = None) -> str:
    """``samples_2d_figure(...)`` written to ``path``."""
    return save_figure(samples_2d_figure(real, fake, discriminator, centres, title, loss, radius), path)


def gaussian_kde_1d(samples: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """A Gaussian kernel density estimate of ``samples`` at ``xs`` (Silverman's bandwidth).

    p_hat(x) = mean_i N(x; s_i, h^2),  h = 1.06 * std * n^(-1/5)
    """
    samples = np.asarray(samples, dtype=np.float64).ravel()
    h = 1.06 * max(samples.std(), 1e-3) * samples.size ** (-0.2)
    u = (xs[:, None] - samples[None, :]) / h                        # (len(xs), n)
    return np.exp(-0.5 * u * u).mean(axis=1) / (h * math.sqrt(2 * math.pi))


def _draw_1d(ax, real, fake, density=None, discriminator=None, limits=None, points: int = 400,
             loss: str = "non_saturating"):
    lo, hi = limits if limits is not None else (v[0] for v in _limits(real, fake, margin=0.25))
    xs = np.linspace(lo, hi, points)
    p_data = np.asarray(density(xs), dtype=np.float64) if density is not None else gaussian_kde_1d(real, xs)
    ax.plot(xs, p_data, color="black", linestyle=":", linewidth=2, label="p_data (data)")
    ax.plot(xs, gaussian_kde_1d(fake, xs), color=DENSITY_COLOUR, linewidth=2, label="p_g (generator)")
    ax.set_xlim(lo, hi)
    ax.set_xlabel("x")
    ax.set_ylabel("density")
    top = max(1.05, 1.1 * float(np.max(p_data)))
    ax.set_ylim(0, top)
    if discriminator is None:
        return
    names = form(loss)
    d = np.asarray(discriminator(xs[:, None]), dtype=np.float64).ravel()
    if names.centre is None:                   # a probability: on the density's axis, as in Figure 1
        ax.plot(xs, d, color=D_COLOUR, linestyle="--", linewidth=2, label="D(x)")
        ax.axhline(names.d_level[0], color=D_COLOUR, linewidth=0.6, alpha=0.5)
        ax.set_ylabel("density, or D(x)")
        return
    score = ax.twinx()                         # a score has its own scale: an axis of its own
    score.plot(xs, d, color=D_COLOUR, linestyle="--", linewidth=2)
    ax.plot([], [], color=D_COLOUR, linestyle="--", linewidth=2, label=names.d_output)   # in the legend
    level = names.d_level[0] if names.d_level is not None else names.centre
    score.axhline(level, color=D_COLOUR, linewidth=0.6, alpha=0.5)
    score.set_ylabel(names.d_output, color=D_COLOUR)


def plot_samples_1d(real, fake, path, density=None, discriminator=None, title: str | None = None,
                    loss: str = "non_saturating") -> str:
    """Goodfellow et al. (2014), Figure 1: p_data (black dotted), p_g (green), D(x) (blue dashed).

    ``real``, ``fake``: (n,) or (n, 1) host arrays. ``density``: p_data's exact density as a
    function of a host array (else estimated from ``real``). ``discriminator``: an (N, 1) host
    array -> D's N outputs in loss form ``loss``'s units (probabilities for the 2014 forms, drawn
    on the density's axis; scores on an axis of their own). At the equilibrium the green curve
    lies on the black one and, for the 2014 forms, D = 1/2.
    """
    real, fake = _points("real", real, 1), _points("fake", fake, 1)
    fig = Figure(figsize=(9, 4), layout="constrained")
    ax = fig.subplots()
    _draw_1d(ax, real, fake, density, discriminator, loss=loss)
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


def _first_frame(ax, dim, real, first, limits, density, centres=None, radius=None):
    """Draw the first frame; return ``update(samples)``, which redraws only what changes."""
    if dim == 2:
        _, fake = _draw_2d(ax, real, first, centres=centres, limits=limits, radius=radius)   # fake: G's points
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


def save_training_gif(snapshots, path, real=None, density=None, fps: int = 4, dpi: int = 80,
                      centres=None, radius: float | None = None) -> str:
    """An animated GIF of generated samples over training, one frame per snapshot.

    ``snapshots``: a list of ``(step, samples)`` with host arrays of generated samples, all
    of one dimension: 1 (drawn as a density over ``density`` or ``real``'s), 2 (points on top
    of ``real``'s, with ``centres`` as circles of ``radius`` when given, as in
    ``plot_samples_2d``) or 64 (8x8 digit grids). Axis limits are fixed from the data and the
    last snapshot, so the frames line up. Written with matplotlib's PillowWriter, atomically.
    """
    path = _check_path(path, ".gif")
    if not isinstance(fps, int) or isinstance(fps, bool) or fps < 1:
        raise ValueError(f"fps: got {fps!r}, wanted a positive integer")
    frames, dim = _check_snapshots(snapshots)
    if dim in (1, 2) and real is None:
        raise ValueError(f"real: got None, wanted the real samples to draw {dim}-D snapshots over")
    real = None if real is None else _points("real", real, dim)
    centres = None if centres is None or dim != 2 else _points("centres", centres, 2)
    limits = None
    if dim == 2:
        limits = _limits(real, frames[-1][1])
    elif dim == 1:
        lo, hi = _limits(real, frames[-1][1], margin=0.25)
        limits = (lo[0], hi[0])

    fig = Figure(figsize=(4, 4.8) if dim != 1 else (5, 3.8))
    ax = fig.subplots()
    update = _first_frame(ax, dim, real, frames[0][1], limits, density, centres, radius)
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
