"""Batch normalisation: BatchNorm1d for features (m, n), BatchNorm2d for images (N, C, H, W).

    y = gamma * (x - mu) / sqrt(var + eps) + beta          one mu, var, gamma, beta per channel

Training mode (``train()``, the default): mu and var are the batch's own, per channel over
the examples (and the pixels, for images), and the gradient flows through them too
(the closed form is minigan/ops/batchnorm.py's). Each call also moves the running
statistics towards the batch's, as PyTorch does:

    running_mean = (1 - momentum) running_mean + momentum mu
    running_var  = (1 - momentum) running_var  + momentum var n / (n - 1)   (unbiased)

Evaluation mode (``eval()``): mu and var are the running statistics, constants, so each
example's output depends on that example alone. The running statistics are Buffers: in
``state_dict()`` and checkpoints, not in ``parameters()``.

A batch-normalised discriminator mixes the examples of a batch: D(x_i) depends on every
x_j. R1 and WGAN-GP take each example's input gradient from one gradient of the summed
scores, which is then wrong, so the penalties refuse such a D in training mode
(docs/math/convolution.md#batch-normalisation-and-gradient-penalties).
"""
from __future__ import annotations

import numbers

from minigan import ops
from minigan.autograd import Tensor, no_grad
from minigan.nn.layers import check_size, float_dtype
from minigan.nn.module import Buffer, Module, Parameter


class _BatchNorm(Module):
    """What BatchNorm1d and BatchNorm2d share; ``axes`` are the ones statistics are taken over."""

    axes = ()
    layout = ""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, *, backend=None, dtype=None):
        super().__init__(backend)
        self.num_features = check_size("num_features", num_features)
        if not isinstance(eps, numbers.Real) or isinstance(eps, bool) or not eps > 0:
            raise ValueError(f"eps: got {eps!r}, wanted a positive number")
        if not isinstance(momentum, numbers.Real) or isinstance(momentum, bool) or not 0 <= momentum <= 1:
            raise ValueError(f"momentum: got {momentum!r}, wanted a number in [0, 1]")
        self.eps, self.momentum = float(eps), float(momentum)
        dtype = float_dtype(self.backend, dtype)
        xp = self.backend.xp
        self.weight = Parameter(xp.ones((self.num_features,), dtype=dtype), self.backend)    # gamma
        self.bias = Parameter(xp.zeros((self.num_features,), dtype=dtype), self.backend)    # beta
        self.running_mean = Buffer(xp.zeros((self.num_features,), dtype=dtype), self.backend)
        self.running_var = Buffer(xp.ones((self.num_features,), dtype=dtype), self.backend)

    def per_channel(self, t: Tensor, ndim: int) -> Tensor:
        """A (C,) tensor shaped to broadcast along axis 1: (1, C) or (1, C, 1, 1)."""
        return ops.reshape(t, (1, self.num_features) + (1,) * (ndim - 2))

    def forward(self, x):
        name = type(self).__name__
        if not isinstance(x, Tensor) or x.ndim != len(self.axes) + 1 or x.shape[1] != self.num_features:
            got = x.shape if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"{name}: x: got {got}, wanted {self.layout.format(c=self.num_features)}")
        if x.dtype != self.weight.dtype:
            raise TypeError(f"{name}: x: got dtype {x.dtype}, wanted {self.weight.dtype} (the layer's dtype)")
        if self.training:
            n = x.size // self.num_features                       # values per channel
            if n < 2:
                raise ValueError(f"{name}: x: got shape {x.shape}, one value per channel; training mode "
                                 "wants at least 2 to take a variance (use eval() for single examples)")
            x_hat = ops.batch_norm(x, self.axes, self.eps)
            self.update_running_statistics(x.data, n)
        else:
            with no_grad():   # constants: the running statistics are not learned
                scale = (self.running_var + self.eps) ** -0.5
                mean = self.running_mean
            x_hat = (x - self.per_channel(mean, x.ndim)) * self.per_channel(scale, x.ndim)
        return x_hat * self.per_channel(self.weight, x.ndim) + self.per_channel(self.bias, x.ndim)

    def update_running_statistics(self, x, n: int) -> None:
        """Move the running mean and (unbiased) variance a step ``momentum`` towards the batch's."""
        xp = self.backend.xp
        mean = xp.mean(x, axis=self.axes)
        centred = x - xp.reshape(mean, (1, self.num_features) + (1,) * (x.ndim - 2))
        var = xp.mean(centred * centred, axis=self.axes) * (n / (n - 1))
        m = self.momentum
        self.running_mean.data = (1.0 - m) * self.running_mean.data + m * mean   # new arrays, not in place
        self.running_var.data = (1.0 - m) * self.running_var.data + m * var

    def __repr__(self):
        return f"{type(self).__name__}({self.num_features}, eps={self.eps}, momentum={self.momentum})"


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of features (m, n): statistics over the m examples, per feature."""

    axes = (0,)
    layout = "(m, {c})"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of images (N, C, H, W): statistics over the N examples and the
    H x W pixels, per channel."""

    axes = (0, 2, 3)
    layout = "(N, {c}, H, W)"
