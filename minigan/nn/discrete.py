"""Generating discrete data: why sampling a symbol stops the gradient, and the Gumbel-softmax fix.

A generator of one symbol out of K holds K logits theta. The Gumbel-max trick samples it:
with g = -log(-log u) Gumbel noise (``data.gumbel_noise``),

    symbol = argmax(theta + g)   is a sample of   softmax(theta).

But argmax is piecewise constant: its gradient is 0, so a discriminator's verdict on the
one-hot row ``one_hot(symbol)`` says nothing to theta, and training never moves it
(``mode="sample"``; minigan.ops.argmax cuts the graph).

The Gumbel-softmax relaxation (Jang, Gu and Poole 2017; Maddison, Mnih and Teh 2017)
replaces the argmax by a softmax at temperature tau:

    y_soft = softmax((theta + g) / tau)          near one-hot for small tau, smooth for large

- ``mode="soft"`` outputs y_soft itself: differentiable, but not a symbol, and a
  discriminator can tell a soft row from a one-hot one;
- ``mode="straight_through"`` outputs the sample y_hard = one_hot(argmax(y_soft)) in the
  forward pass and takes the gradient of y_soft in the backward one:
  y = y_hard - detach(y_soft) + y_soft, whose value is y_hard and whose gradient is y_soft's.

All the randomness is an explicit input: ``gumbel_softmax(logits, tau, rng=...)`` draws the
noise from a ``backend.random(seed)`` generator; ``CategoricalGenerator`` takes it as its
input z, so G(z) is a function and a seed fixes a run. tutorials/11_discrete_data.py
measures all three modes.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from minigan import nn, ops
from minigan.autograd import Tensor, no_grad
from minigan.backend import Random
from minigan.data.categorical import gumbel_noise

MODES = ("sample", "soft", "straight_through")


def check_tau(tau) -> float:
    if isinstance(tau, bool) or not isinstance(tau, numbers.Real) or not 0 < tau < math.inf:
        raise ValueError(f"tau: got {tau!r}, wanted a positive temperature")
    return float(tau)


def gumbel_softmax(logits: Tensor, tau: float = 1.0, hard: bool = False, *, rng: Random | None = None,
                   noise: Tensor | None = None) -> Tensor:
    """softmax((logits + g) / tau) along the last axis, g Gumbel(0, 1) noise of logits' shape.

    hard=False: the relaxed sample y_soft, differentiable in the logits.
    hard=True:  the straight-through sample: one-hot rows forward (exact samples of
                softmax(logits)), y_soft's gradient backward.
    The noise comes from ``rng`` (a backend.random(seed) generator: reproducible) or is
    given as ``noise`` (a Tensor (..., K) that broadcasts against the logits, such as (m, K)
    noise for (K,) logits); exactly one of the two.
    """
    tau = check_tau(tau)
    if not isinstance(logits, Tensor):
        raise TypeError(f"logits: got a {type(logits).__name__}, wanted a Tensor")
    if (rng is None) == (noise is None):
        raise ValueError("rng, noise: got " + ("both" if rng is not None else "neither") +
                         ", wanted exactly one (a backend.random(seed) generator, or the Gumbel noise itself)")
    if noise is None:
        if not isinstance(rng, Random) or rng.backend is not logits.backend:
            raise TypeError(f"rng: got {rng!r}, wanted a generator from {logits.backend.name!r} backend.random(seed)")
        rows = int(np.prod(logits.shape[:-1])) if logits.ndim > 1 else 1
        draw = gumbel_noise(logits.shape[-1]).sample(rows, rng)                    # (rows, K) float32
        noise = Tensor(logits.xp.astype(logits.xp.reshape(draw, logits.shape), logits.dtype), logits.backend)
    elif not isinstance(noise, Tensor) or noise.ndim < 1 or noise.shape[-1] != logits.shape[-1]:
        raise ValueError(f"noise: got {getattr(noise, 'shape', type(noise).__name__)}, wanted a Tensor of shape "
                         f"(..., {logits.shape[-1]}) that broadcasts against the logits")
    y_soft = ops.softmax((logits + noise) / tau, axis=-1)                              # (..., K)
    if not hard:
        return y_soft
    y_hard = ops.one_hot(ops.argmax(y_soft), y_soft.shape[-1], dtype=y_soft.dtype)     # no graph
    return y_hard - y_soft.detach() + y_soft       # value y_hard, gradient that of y_soft


class CategoricalGenerator(nn.Module):
    """G(z) for one symbol out of K: K logits theta and the Gumbel noise z ~ gumbel_noise(K).

    mode "sample"            one_hot(argmax(theta + z)): exact samples, and no gradient at all
         "soft"              softmax((theta + z) / tau): the relaxed sample
         "straight_through"  one-hot forward, the soft sample's gradient backward
    theta starts at 0 (every symbol equally likely). The distribution G samples (in the
    sample and straight-through modes) is exactly softmax(theta): ``probabilities()``.
    """

    def __init__(self, k: int, mode: str = "straight_through", tau: float = 1.0, *, backend=None, dtype=None):
        super().__init__(backend)
        if isinstance(k, bool) or not isinstance(k, int) or k < 2:
            raise ValueError(f"k: got {k!r}, wanted an integer >= 2 (the number of symbols)")
        if mode not in MODES:
            raise ValueError(f"mode: got {mode!r}, wanted one of {', '.join(MODES)} "
                             f"(for dataset 'categorical', GANConfig.g_output is this mode)")
        self.k, self.mode, self.tau = k, mode, check_tau(tau)
        dtype = self.backend.default_float if dtype is None else (
            self.backend.dtype(dtype) if isinstance(dtype, str) else dtype)
        self.logits = nn.Parameter(self.backend.xp.zeros((k,), dtype=dtype), self.backend)   # theta, (K,)

    def forward(self, z):
        if z.ndim != 2 or z.shape[1] != self.k:
            raise ValueError(f"z: got shape {z.shape}, wanted (m, {self.k}) Gumbel noise")
        if self.mode == "sample":                                                  # the Gumbel-max sample
            return ops.one_hot(ops.argmax(self.logits + z), self.k, dtype=self.logits.dtype)   # graph ends here
        return gumbel_softmax(self.logits, self.tau, hard=self.mode == "straight_through", noise=z)   # (m, K)

    def probabilities(self) -> np.ndarray:
        """softmax(theta) on the host (float64): the distribution G's symbols follow."""
        with no_grad():
            return ops.softmax(self.logits, axis=-1).numpy().astype(np.float64)

    def __repr__(self):
        return f"CategoricalGenerator(k={self.k}, mode={self.mode!r}, tau={self.tau})"
