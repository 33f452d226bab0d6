"""Initial weights: where the numbers a network learns start from.

Each function draws a (n_in, n_out) weight matrix from an explicit seeded generator
(``backend.random(seed)``), so the same seed gives the same network on every backend.
Biases start at zero (set by the layers).

- ``glorot``: uniform on [-r, r] with r = sqrt(6 / (n_in + n_out)) (Glorot and Bengio,
  2010): the variance 2 / (n_in + n_out) keeps signals and gradients about the same size
  from layer to layer when the activations are roughly linear near 0 (tanh, sigmoid).
- ``he``: normal with std sqrt(2 / n_in) (He et al., 2015): ReLU zeroes half its inputs,
  so twice Glorot's variance keeps the signal's size.
- ``normal``: normal with std 0.02, the DCGAN recipe (Radford et al., 2016).
"""
from __future__ import annotations

import math

INIT_NAMES = ("glorot", "normal", "he")


def glorot_uniform(rng, n_in: int, n_out: int, dtype, shape=None):
    limit = math.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(shape or (n_in, n_out), -limit, limit, dtype=dtype)


def normal(rng, n_in: int, n_out: int, dtype, std: float = 0.02, shape=None):
    return rng.normal(shape or (n_in, n_out), 0.0, std, dtype=dtype)


def he_normal(rng, n_in: int, n_out: int, dtype, shape=None):
    return rng.normal(shape or (n_in, n_out), 0.0, math.sqrt(2.0 / n_in), dtype=dtype)


def weight(name: str, rng, n_in: int, n_out: int, dtype, shape=None):
    """A (n_in, n_out) weight array drawn with the init called ``name`` ("glorot", "normal", "he").

    ``shape``: another shape to draw, with the fans n_in and n_out given (a convolution's
    (O, C, kH, kW) weight has n_in = C kH kW inputs per output and n_out = O kH kW).
    """
    if name == "glorot":
        return glorot_uniform(rng, n_in, n_out, dtype, shape)
    if name == "normal":
        return normal(rng, n_in, n_out, dtype, shape=shape)
    if name == "he":
        return he_normal(rng, n_in, n_out, dtype, shape)
    raise ValueError(f"init: got {name!r}, wanted one of {', '.join(INIT_NAMES)}")
