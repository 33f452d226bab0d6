"""Discrete data: one symbol out of K, as a one-hot row, and the Gumbel noise that samples it.

- ``categorical(probabilities)``: p_data over K symbols, each example a float32 one-hot row
  of length K. The default is K = 8 symbols with a skewed (geometric) distribution, each
  symbol half as likely as the one before: p_i = 2^-(i+1) / (1 - 2^-8), so symbol 0 is drawn
  50.2% of the time and symbol 7 only 0.4%. Skewed on purpose: a generator that learns
  nothing (uniform, 1/8 each) is far from it (JS divergence 0.183 nats), and one that
  collapses onto the favourite symbol is farther (0.215).
- ``gumbel_noise(dim)``: p_z for a generator of symbols. g = -log(-log u), u uniform on
  (0, 1), is Gumbel(0, 1) noise; the Gumbel-max trick says argmax(logits + g) is then a
  sample of the categorical distribution softmax(logits) (minigan.nn.discrete).

The JS divergence between generated rows and p_data is ``minigan.judging.metrics.js_divergence_categorical``.
"""
from __future__ import annotations

import math

import numpy as np

from minigan.data.base import Distribution, check_positive_int


def geometric_probabilities(k: int) -> np.ndarray:
    """p_i proportional to 2^-i, i = 0 .. k-1 (float64, summing to 1)."""
    weights = 0.5 ** np.arange(check_positive_int("k", k))
    return weights / weights.sum()


class Categorical(Distribution):
    """p_data(symbol i) = probabilities[i]; samples are one-hot rows, shape (m, K), float32."""

    name = "categorical"

    def __init__(self, probabilities):
        super().__init__()
        p = np.asarray(probabilities, dtype=np.float64)
        if p.ndim != 1 or p.size < 2 or not np.all(np.isfinite(p)) or np.any(p < 0) or abs(p.sum() - 1.0) > 1e-9:
            raise ValueError(f"probabilities: got {np.asarray(probabilities)!r:.80}, wanted K >= 2 non-negative "
                             f"numbers summing to 1")
        self.probabilities = p
        self.dim = p.size

    @property
    def k(self) -> int:
        return self.dim

    def __repr__(self) -> str:
        return f"categorical(probabilities={np.round(self.probabilities, 4).tolist()})"

    def sample(self, m, rng):
        """m examples: a float32 (m, K) array of one-hot rows on rng's backend.

        Inverse-CDF sampling: one uniform u per example, and the symbol is the number of
        cumulative probabilities (of the first K - 1 symbols) that u passes.
        """
        m = self.check_sample_args(m, rng)
        xp = rng.backend.xp
        bounds = self.resident("bounds", np.cumsum(self.probabilities)[:-1], rng.backend)   # (K - 1,)
        u = rng.uniform((m,))                                                            # (m,) in [0, 1)
        symbol = xp.searchsorted(bounds, u, side="right")                                # (m,) in [0, K)
        rows = xp.expand_dims(symbol, axis=-1) == xp.arange(self.dim, dtype=symbol.dtype)  # (m, K) bool
        return xp.astype(rows, rng.backend.default_float)


class GumbelNoise(Distribution):
    """z = -log(-log u), u uniform on (0, 1), in ``dim`` dimensions: standard Gumbel noise.

    Its mean is the Euler-Mascheroni constant 0.5772 and its variance pi^2 / 6.
    """

    name = "gumbel_noise"

    def __init__(self, dim: int):
        super().__init__()
        self.dim = check_positive_int("dim", dim)

    def __repr__(self) -> str:
        return f"gumbel_noise(dim={self.dim})"

    def sample(self, m, rng):
        """m noise vectors: a float32 (m, dim) array on rng's backend."""
        m = self.check_sample_args(m, rng)
        xp = rng.backend.xp
        # u in [tiny, 1): log u < 0 and finite, so -log(-log u) is finite (at most 88.7 in float32)
        u = rng.uniform((m, self.dim), low=float(np.finfo(np.float32).tiny), high=1.0)
        return -xp.log(-xp.log(u))


def categorical(probabilities=None) -> Categorical:
    """p_data over K symbols; by default K = 8 with p_i proportional to 2^-i."""
    return Categorical(geometric_probabilities(8) if probabilities is None else probabilities)


def gumbel_noise(dim: int) -> GumbelNoise:
    """Standard Gumbel noise in ``dim`` dimensions: the p_z of a generator of symbols."""
    return GumbelNoise(dim)


EULER_GAMMA = 0.5772156649015329          # the mean of Gumbel(0, 1) noise
GUMBEL_VARIANCE = math.pi ** 2 / 6.0      # its variance
