"""Toy data distributions p_data whose answers are known: a 1-D Gaussian and 2-D mixtures.

- ``gaussian_1d(mean, std)``: the 1-D picture of the paper's Figure 1. Its density is known,
  so the optimal discriminator D*(x) = p_data(x) / (p_data(x) + p_g(x)) and the
  Jensen-Shannon divergence to the generator can be computed.
- ``ring(modes, radius, std)`` and ``grid(side, spacing, std)``: mixtures of small round
  Gaussians, the standard test of mode collapse (VEEGAN, Srivastava et al. 2017). A
  generator that learns only some modes is easy to see and to count with
  ``minigan.judging.metrics.mode_coverage(samples, dist.centres, dist.std)``.
"""
from __future__ import annotations

import math

import numpy as np

from minigan.data.base import Distribution, check_finite_number, check_positive_int, check_positive_number


class Gaussian1D(Distribution):
    """p_data = N(mean, std^2) on the real line; samples have shape (m, 1)."""

    name = "gaussian1d"
    dim = 1

    def __init__(self, mean: float, std: float):
        super().__init__()
        self.mean = check_finite_number("mean", mean)
        self.std = check_positive_number("std", std)

    def __repr__(self) -> str:
        return f"gaussian_1d(mean={self.mean}, std={self.std})"

    def sample(self, m, rng):
        """m examples x ~ N(mean, std^2): a float32 (m, 1) array on rng's backend."""
        m = self.check_sample_args(m, rng)
        return rng.normal((m, 1), self.mean, self.std)

    def density(self, x):
        """p_data(x) = exp(-(x - mean)^2 / (2 std^2)) / (std sqrt(2 pi)), on the host.

        ``x``: a number or NumPy array of any shape; returns float64 of the same shape.
        """
        x = np.asarray(x, dtype=np.float64)
        u = (x - self.mean) / self.std
        return np.exp(-0.5 * u * u) / (self.std * math.sqrt(2.0 * math.pi))

    def interval(self, width: float = 6.0) -> tuple[float, float]:
        """(mean - width std, mean + width std): a plotting range that holds all the mass."""
        width = check_positive_number("width", width)
        return self.mean - width * self.std, self.mean + width * self.std


class GaussianMixture(Distribution):
    """An equal-weight mixture of round Gaussians N(centre_i, std^2 I).

    ``centres``: (modes, dim) NumPy array of mode centres; ``std``: one standard deviation
    shared by every mode and every coordinate.
    To sample: pick a mode uniformly for each of the m examples, then add Gaussian noise.
    """

    def __init__(self, centres, std: float, name: str = "mixture", spec: str | None = None):
        super().__init__()
        centres = np.asarray(centres, dtype=np.float64)
        if centres.ndim != 2 or centres.shape[0] < 1 or centres.shape[1] < 1 or not np.all(np.isfinite(centres)):
            raise ValueError(f"centres: got shape {centres.shape}, wanted a finite (modes, dim) array")
        self.centres = centres
        self.std = check_positive_number("std", std)
        self.dim = centres.shape[1]
        self.name = name
        self._spec = spec if spec is not None else f"modes={self.modes}, std={self.std}"

    @property
    def modes(self) -> int:
        return self.centres.shape[0]

    def __repr__(self) -> str:
        return f"{self.name}({self._spec})"

    def sample(self, m, rng):
        """m examples: a float32 (m, dim) array on rng's backend.

        Draw order (fixed, so a seed means the same data everywhere): the m mode indices,
        then the (m, dim) Gaussian offsets.
        """
        m = self.check_sample_args(m, rng)
        xp = rng.backend.xp
        centres = self.resident("centres", self.centres, rng.backend)   # (modes, dim), on the device
        which = rng.integers(0, self.modes, (m,))                       # (m,) mode of each example
        offsets = rng.normal((m, self.dim), 0.0, self.std)              # (m, dim)
        return xp.take(centres, which, axis=0) + offsets                 # (m, dim)


def gaussian_1d(mean: float = 4.0, std: float = 0.5) -> Gaussian1D:
    """The 1-D data distribution N(mean, std^2) for the Figure 1 experiment.

    The paper gives no numbers for Figure 1. The defaults put the data away from where an
    untrained generator starts (near 0 with unit spread, from a unit-variance prior) and
    make it narrower, so G has to both move and shrink its output, and D has a clear job.
    """
    return Gaussian1D(mean, std)


def ring(modes: int = 8, radius: float = 2.0, std: float = 0.02) -> GaussianMixture:
    """``modes`` Gaussians evenly spaced on a circle: centre i at angle 2 pi i / modes.

    The angles stop one step short of 2 pi (``linspace(0, 2 pi, modes)`` would put the last
    centre on top of the first and leave only modes - 1 distinct ones).
    """
    modes = check_positive_int("modes", modes)
    radius = check_positive_number("radius", radius)
    std = check_positive_number("std", std)
    angles = 2.0 * np.pi * np.arange(modes) / modes                           # (modes,)
    centres = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)     # (modes, 2)
    return GaussianMixture(centres, std, name="ring", spec=f"modes={modes}, radius={radius}, std={std}")


def grid(side: int = 5, spacing: float = 2.0, std: float = 0.05) -> GaussianMixture:
    """side x side Gaussians on a square grid centred at the origin.

    With the defaults: 25 modes at {-4, -2, 0, 2, 4}^2.
    """
    side = check_positive_int("side", side)
    spacing = check_positive_number("spacing", spacing)
    std = check_positive_number("std", std)
    ticks = (np.arange(side) - (side - 1) / 2.0) * spacing                   # (side,), centred on 0
    xs, ys = np.meshgrid(ticks, ticks, indexing="ij")
    centres = np.stack([xs.ravel(), ys.ravel()], axis=1)                      # (side^2, 2)
    return GaussianMixture(centres, std, name="grid", spec=f"side={side}, spacing={spacing}, std={std}")


POINTS_STD = 0.05  # the Gaussian around each given point (the lab's drawn data)


def points(centres, std: float = POINTS_STD) -> GaussianMixture:
    """An equal-weight mixture of round Gaussians, one on each given (x, y) point.

    The lab's "draw your own" data: every click or drag places a point, and p_data is a
    small Gaussian on each. Nearby points make one mode together (lab/settings.py counts them).
    """
    centres = np.asarray(centres, dtype=np.float64)
    if centres.ndim != 2 or centres.shape[0] < 1 or centres.shape[1] != 2 or not np.all(np.isfinite(centres)):
        raise ValueError(f"centres: got an array of shape {centres.shape}, wanted finite (x, y) points (n, 2), n >= 1")
    std = check_positive_number("std", std)
    return GaussianMixture(centres, std, name="points", spec=f"{len(centres)} points, std={std}")
