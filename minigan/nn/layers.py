"""Layers: Linear, the activations, Dropout and Maxout.

Every layer maps a minibatch ``x`` of shape (m, n_in) to (m, n_out). The layers with
weights draw them from an explicit generator ``rng`` (``backend.random(seed)``); with
``rng=None`` they use ``backend.random(0)``, so an unseeded network is still reproducible.
The derivatives live in the ops the forward uses (minigan/ops/); nothing here needs a
backward of its own.
"""
from __future__ import annotations

import numbers

from minigan import ops
from minigan.autograd import Tensor
from minigan.backend import Random
from minigan.nn.init import weight as init_weight
from minigan.nn.module import Module, Parameter


# ---- argument checks shared by the layers ---------------------------------------------------
def check_size(name: str, value) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name}: got {value!r}, wanted a positive integer")
    return int(value)


def float_dtype(backend, dtype):
    """The dtype to make weights in: the backend's default float (float32) unless asked."""
    if dtype is None:
        return backend.default_float
    if isinstance(dtype, str):
        dtype = backend.dtype(dtype)
    if not backend.xp.isdtype(dtype, "real floating"):
        raise ValueError(f"dtype: got {dtype}, wanted a floating dtype such as 'float32' or 'float64'")
    return dtype


def generator(backend, rng) -> Random:
    """The generator to draw from: ``rng``, or ``backend.random(0)`` when it is None."""
    if rng is None:
        return backend.random(0)
    if not isinstance(rng, Random):
        raise TypeError(f"rng: got {type(rng).__name__}, wanted a generator from backend.random(seed)")
    if rng.backend is not backend:
        raise ValueError(
            f"rng: got a generator for backend {rng.backend.name!r}, wanted one for {backend.name!r} "
            f"(make it with get_backend({backend.name!r}).random(seed))"
        )
    return rng


def check_input(layer: str, x, n_in: int, dtype) -> None:
    """x must be a (m, n_in) Tensor of the layer's dtype (no silent float64 promotion)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{layer}: x: got {type(x).__name__}, wanted a Tensor of shape (m, {n_in})")
    if x.ndim != 2 or x.shape[1] != n_in:
        raise ValueError(f"{layer}: x: got shape {x.shape}, wanted (m, {n_in})")
    if x.dtype != dtype:
        raise TypeError(f"{layer}: x: got dtype {x.dtype}, wanted {dtype} (the layer's dtype)")


# ---- the affine layer -------------------------------------------------------------------------
class Linear(Module):
    """y = x @ weight + bias, with weight (n_in, n_out) and bias (n_out,).

    init: "glorot" (uniform, the default), "normal" (N(0, 0.02), DCGAN) or "he".
    Gradients (from the matmul and add ops): grad_weight = x^T @ grad_y,
    grad_bias = grad_y summed over the batch, grad_x = grad_y @ weight^T.
    """

    def __init__(self, n_in, n_out, *, init="glorot", rng=None, backend=None, dtype=None):
        super().__init__(backend)
        self.n_in, self.n_out = check_size("n_in", n_in), check_size("n_out", n_out)
        dtype = float_dtype(self.backend, dtype)
        rng = generator(self.backend, rng)
        self.weight = Parameter(init_weight(init, rng, self.n_in, self.n_out, dtype), self.backend)
        self.bias = Parameter(self.backend.xp.zeros((self.n_out,), dtype=dtype), self.backend)

    def forward(self, x):
        check_input("Linear", x, self.n_in, self.weight.dtype)
        # (m, n_in) @ (n_in, n_out) -> (m, n_out); + (n_out,) broadcasts over the m rows
        # BEGIN SOLUTION A2.1
        return x @ self.weight + self.bias
        # END SOLUTION

    def __repr__(self):
        return f"Linear({self.n_in}, {self.n_out})"


# ---- activations: no parameters, one op each --------------------------------------------------
class ReLU(Module):
    """y = max(x, 0)."""

    def forward(self, x):
        return ops.relu(x)


class LeakyReLU(Module):
    """y = x for x > 0, slope * x otherwise (slope 0.2 in DCGAN's discriminator)."""

    def __init__(self, slope=0.2, backend=None):
        super().__init__(backend)
        if not isinstance(slope, numbers.Real) or not 0 <= slope < 1:
            raise ValueError(f"slope: got {slope!r}, wanted a number in [0, 1)")
        self.slope = float(slope)

    def forward(self, x):
        return ops.leaky_relu(x, self.slope)

    def __repr__(self):
        return f"LeakyReLU(slope={self.slope})"


class Tanh(Module):
    """y = tanh(x), in (-1, 1): a generator's output layer for data scaled to [-1, 1]."""

    def forward(self, x):
        return ops.tanh(x)


class Sigmoid(Module):
    """y = 1 / (1 + exp(-x)), in (0, 1). A discriminator outputs logits instead: see losses."""

    def forward(self, x):
        return ops.sigmoid(x)


# ---- Dropout -----------------------------------------------------------------------------------
class Dropout(Module):
    """Training: y = x * mask / (1 - p), each mask entry 1 with probability 1 - p, else 0.
    Evaluation (``eval()``): y = x.

    Dividing by the keep probability 1 - p ("inverted dropout") keeps E[y] = x, so nothing
    needs rescaling at evaluation. The mask comes from the explicit generator ``rng``.
    To check gradients, set ``fixed_mask`` to a 0/1 array of x's shape: every call then
    uses that mask (finite differences need the same function at every evaluation).
    """

    def __init__(self, p=0.5, rng=None, *, backend=None):
        super().__init__(backend)
        if not isinstance(p, numbers.Real) or isinstance(p, bool) or not 0 <= p < 1:
            raise ValueError(f"p: got {p!r}, wanted a drop probability in [0, 1)")
        self.p = float(p)
        self.rng = generator(self.backend, rng)
        self.fixed_mask = None  # a 0/1 keep-mask array reused by every call, or None

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        mask = self.fixed_mask
        if mask is None:
            mask = self.rng.bernoulli(x.shape, keep, dtype=x.dtype)  # drawn fresh each call
        elif tuple(mask.shape) != x.shape:
            raise ValueError(f"fixed_mask: got shape {tuple(mask.shape)}, wanted x's shape {x.shape}")
        return x * Tensor(mask / keep, x.backend)  # a constant: no gradient to the mask

    def to(self, backend):
        """Move to ``backend``; the generator continues its stream there (same state)."""
        old = self.backend
        super().to(backend)
        rng = self.backend.random(self.rng.seed)
        rng.set_state(self.rng.state())
        self.rng = rng
        if self.fixed_mask is not None:
            self.fixed_mask = self.backend.asarray(old.to_host(self.fixed_mask))
        return self

    def __repr__(self):
        return f"Dropout(p={self.p})"


# ---- Maxout ------------------------------------------------------------------------------------
class Maxout(Module):
    """y_j = max over k of (x @ W + b)[j, k]: ``units`` outputs, each the largest of ``pieces``
    linear functions of x (Goodfellow et al., 2013; the 2014 GAN paper's discriminator).

    One Linear(n_in, units * pieces) computes every piece; columns j * pieces ... j * pieces
    + pieces - 1 belong to unit j. The max op sends each unit's gradient to its winning piece.
    """

    def __init__(self, n_in, units, pieces, *, init="glorot", rng=None, backend=None, dtype=None):
        super().__init__(backend)
        self.units, self.pieces = check_size("units", units), check_size("pieces", pieces)
        self.linear = Linear(n_in, self.units * self.pieces, init=init, rng=rng, backend=self.backend, dtype=dtype)

    def forward(self, x):
        z = self.linear(x)                                     # (m, units * pieces)
        z = ops.reshape(z, (x.shape[0], self.units, self.pieces))  # (m, units, pieces)
        return ops.max(z, axis=2)                              # (m, units)

    def __repr__(self):
        return f"Maxout({self.linear.n_in}, units={self.units}, pieces={self.pieces})"
