"""What the lab trains: its settings, the datasets it offers, and the GANConfig they make.

The page changes settings one at a time (``LabSettings.changed(name, value)``). Some act on
the running GAN at once (``LIVE``: the learning rates, the optimizer, G's loss, k, m, the
noise type); the others make a new run (``RESET``: the data, the noise dimension, the hidden
widths, the seed, the backend), since G and D no longer have the same shapes.

Datasets:

    ring, grid      the 2-D mixtures of minigan.data (8 and 25 modes), as in the demo
    gaussian1d      the 1-D Gaussian of the paper's Figure 1, drawn as a strip
    drawn           points placed by clicking or dragging on the page: p_data is a mixture
                    of small round Gaussians (std DRAWN_STD) centred on the points, and its
                    modes, for counting, are the clusters the points form (``clusters``)
"""
from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass

import numpy as np

from minigan import data, losses
from minigan.gan.config import GANConfig, recipe

DATASETS = ("ring", "grid", "gaussian1d", "drawn")
OPTIMIZERS = ("adam", "sgd")
NOISES = ("normal", "uniform")
BACKENDS = ("numpy", "cupy", "auto")
LIVE = ("lr_d", "lr_g", "optimizer", "loss", "k", "m", "noise")
RESET = ("dataset", "points", "noise_dim", "g_hidden", "d_hidden", "seed", "backend")
DRAWN_STD = data.POINTS_STD  # each drawn point is the centre of a Gaussian this wide
CLUSTER_GAP = 0.4         # drawn points closer than this (in a chain) are one cluster, one mode
MAX_POINTS = 2000         # drawn points the page may send
MAX_WIDTH, MAX_LAYERS = 512, 4
VIEW_2D = (-3.0, 3.0)     # the drawing area (ring and drawn data); grid uses GRID_VIEW
GRID_VIEW = (-5.5, 5.5)
STRIP_VIEW = (-3.0, 7.0)  # the 1-D Gaussian N(4, 0.5^2) and an untrained G near 0


@dataclass(frozen=True)
class LabSettings:
    """Everything the page can set. The defaults are the ring recipe at a constant lr."""

    dataset: str = "ring"
    points: tuple = ()                # drawn data: ((x, y), ...)
    lr_d: float = 1.5e-3
    lr_g: float = 1.5e-3
    optimizer: str = "adam"
    loss: str = "non_saturating"
    k: int = 1
    m: int = 256
    noise: str = "normal"
    noise_dim: int = 2
    g_hidden: tuple = (128, 128)
    d_hidden: tuple = (128, 128)
    seed: int = 0
    backend: str = "numpy"

    def changed(self, name: str, value) -> "LabSettings":
        """A copy with ``name`` set to ``value``; ValueError in one line if it is not allowed."""
        if name not in LIVE + RESET:
            raise ValueError(f"setting: got {name!r}, wanted one of {', '.join(LIVE + RESET)}")
        return dataclasses.replace(self, **{name: check(name, value)})

    def config(self) -> GANConfig:
        """The GANConfig of this run: the recipe of the dataset (drawn data: dataset "points",
        with the ring's networks; the ring until a point is drawn), with the lab's values, G's
        lr, a constant lr and one BLAS thread (the browser needs the other core)."""
        if self.dataset == "drawn":
            base, data_fields = ("points", {"points": self.points}) if self.points else ("ring", {})
        else:
            base, data_fields = self.dataset, {}
        return recipe(base, **data_fields, lr=self.lr_g, lr_decay_to=1.0, optimizer=self.optimizer, loss=self.loss, k=self.k,
                      m=self.m, noise=self.noise, noise_dim=self.noise_dim, g_hidden=self.g_hidden,
                      d_hidden=self.d_hidden, seed=self.seed, backend=self.backend, momentum_final=0.5,
                      threads=1)

    @classmethod
    def for_dataset(cls, dataset: str, **others) -> "LabSettings":
        """The settings of ``dataset``'s recipe (drawn data: the ring's), with ``others`` on top."""
        config = recipe("ring" if check("dataset", dataset) == "drawn" else dataset)
        values = {"dataset": dataset, "lr_d": config.lr, "lr_g": config.lr, "optimizer": config.optimizer,
                  "loss": config.loss, "k": config.k, "m": config.m, "noise": config.noise,
                  "noise_dim": config.noise_dim, "g_hidden": config.g_hidden, "d_hidden": config.d_hidden}
        return cls(**{**values, **{name: check(name, value) for name, value in others.items()}})

    def view(self) -> tuple:
        """The square the page shows, (low, high) on each axis (x only, for the strip)."""
        return {"grid": GRID_VIEW, "gaussian1d": STRIP_VIEW}.get(self.dataset, VIEW_2D)

    def to_dict(self) -> dict:
        return {f.name: [list(p) for p in v] if f.name == "points" else (list(v) if isinstance(v, tuple) else v)
                for f in dataclasses.fields(self) for v in [getattr(self, f.name)]}


def _number(name, value, low, high):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not low < value < high:
        raise ValueError(f"{name}: got {value!r}, wanted a number between {low:g} and {high:g}")
    return float(value)


def _integer(name, value, low, high):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not low <= value <= high:
        raise ValueError(f"{name}: got {value!r}, wanted an integer from {low} to {high}")
    return int(value)


def _choice(name, value, allowed):
    if value not in allowed:
        raise ValueError(f"{name}: got {value!r}, wanted one of {', '.join(allowed)}")
    return value


def check(name: str, value):
    """``value`` for setting ``name``, checked (and made hashable); ValueError naming it."""
    if name in ("lr_d", "lr_g"):
        return _number(name, value, 0.0, 1.0)
    if name == "k":
        return _integer(name, value, 1, 20)
    if name == "m":
        return _integer(name, value, 1, 4096)
    if name == "noise_dim":
        return _integer(name, value, 1, 64)
    if name == "seed":
        return _integer(name, value, 0, 2**31 - 1)
    if name in ("g_hidden", "d_hidden"):
        if not isinstance(value, (list, tuple)) or len(value) > MAX_LAYERS:
            raise ValueError(f"{name}: got {value!r}, wanted a list of at most {MAX_LAYERS} widths")
        return tuple(_integer(f"{name}[{i}]", w, 1, MAX_WIDTH) for i, w in enumerate(value))
    if name == "points":
        return check_points(value)
    allowed = {"dataset": DATASETS, "optimizer": OPTIMIZERS, "noise": NOISES, "backend": BACKENDS,
               "loss": losses.GENERATOR_FORMS}[name]
    return _choice(name, value, allowed)


def check_points(value) -> tuple:
    """Drawn points as a tuple of (x, y) pairs of finite numbers inside the drawing area."""
    if not isinstance(value, (list, tuple)) or len(value) > MAX_POINTS:
        raise ValueError(f"points: got {type(value).__name__} of {len(value) if hasattr(value, '__len__') else '?'} "
                         f"items, wanted a list of at most {MAX_POINTS} [x, y] pairs")
    low, high = VIEW_2D
    result = []
    for i, p in enumerate(value):
        ok = isinstance(p, (list, tuple)) and len(p) == 2 and all(
            isinstance(c, numbers.Real) and not isinstance(c, bool) and math.isfinite(c) and low <= c <= high for c in p)
        if not ok:
            raise ValueError(f"points[{i}]: got {p!r}, wanted [x, y] with both in [{low:g}, {high:g}]")
        result.append((float(p[0]), float(p[1])))
    return tuple(result)


# ---- the data ------------------------------------------------------------------------------
def clusters(points, gap: float = CLUSTER_GAP):
    """The clusters drawn points form, as (centres (c, 2), labels (n,) in 0..c-1): two points
    are in one cluster when a chain of points, each within ``gap`` of the next, joins them."""
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)                    # (n, 2)
    label = np.arange(len(p))                                                  # each point its own cluster
    near = np.sqrt(((p[:, None, :] - p[None, :, :]) ** 2).sum(axis=2)) <= gap   # (n, n)
    while True:                          # spread the smallest label along every link until it settles
        smallest = np.where(near, label[None, :], len(p)).min(axis=1)
        if not np.any(smallest < label):
            break
        label = np.minimum(label, smallest)
    _, label = np.unique(label, return_inverse=True)                          # renumber 0..c-1
    centres = np.stack([p[label == c].mean(axis=0) for c in range(label.max() + 1)]) if len(p) else np.zeros((0, 2))
    return centres, label


def drawn_data(points) -> data.GaussianMixture:
    """p_data for drawn points: a small round Gaussian on each point, all equally likely
    (what GANConfig's dataset "points" builds, so a saved drawn run resumes on its points)."""
    return data.points(points, DRAWN_STD)


def mode_centres(settings: LabSettings, p_data):
    """(centres (modes, dim), std) that modes covered is counted against for this data.

    Drawn data: the clusters' centres, and a std that holds a cluster: the points' own
    Gaussian (DRAWN_STD) and their spread around the centre, per coordinate, of the widest one.
    """
    if settings.dataset == "drawn" and not settings.points:
        return np.zeros((0, 2)), DRAWN_STD                                  # nothing drawn yet: no modes
    if settings.dataset == "drawn":
        points = np.asarray(settings.points, dtype=np.float64)
        centres, label = clusters(points)
        spread = max(np.sqrt(np.mean(np.sum((points[label == c] - centre) ** 2, axis=1)) / 2)
                     for c, centre in enumerate(centres))
        return centres, float(np.hypot(DRAWN_STD, spread))
    if settings.dataset == "gaussian1d":
        return np.array([[p_data.mean]]), p_data.std
    return p_data.centres, p_data.std
