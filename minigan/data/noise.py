"""Noise priors p_z: where the generator's input z comes from.

The generator G turns a noise vector z ~ p_z into a sample G(z). Any simple distribution
works; what matters is that it is easy to sample and fixed during training. Two are here:

- ``normal_noise(dim)``:  z ~ N(0, I), the usual choice today;
- ``uniform_noise(dim)``: z uniform on [-sqrt(3), sqrt(3)]^dim, the prior of the 2014
  paper's code. That interval has mean 0 and variance (2 sqrt 3)^2 / 12 = 1, so both priors
  give G inputs on the same scale.
"""
from __future__ import annotations

import math

from minigan.data.base import Distribution, check_positive_int

SQRT3 = math.sqrt(3.0)


class NormalNoise(Distribution):
    """z ~ N(0, I) in ``dim`` dimensions."""

    name = "normal_noise"

    def __init__(self, dim: int):
        super().__init__()
        self.dim = check_positive_int("dim", dim)

    def __repr__(self) -> str:
        return f"normal_noise(dim={self.dim})"

    def sample(self, m, rng):
        """m noise vectors: a float32 (m, dim) array on rng's backend."""
        m = self.check_sample_args(m, rng)
        return rng.normal((m, self.dim))


class UniformNoise(Distribution):
    """z uniform on [-sqrt(3), sqrt(3)]^dim: mean 0, variance 1 in each coordinate."""

    name = "uniform_noise"

    def __init__(self, dim: int):
        super().__init__()
        self.dim = check_positive_int("dim", dim)

    def __repr__(self) -> str:
        return f"uniform_noise(dim={self.dim})"

    def sample(self, m, rng):
        """m noise vectors: a float32 (m, dim) array on rng's backend."""
        m = self.check_sample_args(m, rng)
        return rng.uniform((m, self.dim), -SQRT3, SQRT3)


def normal_noise(dim: int) -> NormalNoise:
    """The standard normal prior p_z = N(0, I) in ``dim`` dimensions."""
    return NormalNoise(dim)


def uniform_noise(dim: int) -> UniformNoise:
    """The uniform prior on [-sqrt(3), sqrt(3)]^dim (unit variance), as in the paper's code."""
    return UniformNoise(dim)
