"""Convolutional layers: Conv2d, ConvTranspose2d, and Flatten / Unflatten between them and Linear.

Images flow as (N, C, H, W): N examples, C channels, H rows, W columns (PyTorch's layout).
A DCGAN discriminator shrinks them with strided convolutions; its generator grows noise
back into an image with transposed convolutions, the convolution's own backward used
forward (minigan/ops/conv.py; docs/math/convolution.md):

    D = nn.Sequential(nn.Conv2d(3, 64, 4, stride=2, padding=1), nn.LeakyReLU(0.2),   # 32 -> 16
                      ..., nn.Flatten(), nn.Linear(256 * 4 * 4, 1))
    G = nn.Sequential(nn.Linear(100, 256 * 4 * 4), nn.Unflatten((256, 4, 4)), ...,
                      nn.ConvTranspose2d(64, 3, 4, stride=2, padding=1), nn.Tanh())   # 16 -> 32

The weights keep PyTorch's layouts: Conv2d's (c_out, c_in, kH, kW), ConvTranspose2d's
(c_in, c_out, kH, kW). (Linear is the exception: (n_in, n_out), rows being examples.)
The derivatives live in the ops; nothing here needs a backward of its own.
"""
from __future__ import annotations

import math

from minigan import ops
from minigan.autograd import Tensor
from minigan.nn.init import weight as init_weight
from minigan.nn.layers import check_size, float_dtype, generator
from minigan.nn.module import Module, Parameter
from minigan.ops.conv import as_pair


def check_image(layer: str, x, channels: int, dtype) -> None:
    """x must be an (N, channels, H, W) Tensor of the layer's dtype."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{layer}: x: got {type(x).__name__}, wanted a Tensor (N, {channels}, H, W)")
    if x.ndim != 4 or x.shape[1] != channels:
        raise ValueError(f"{layer}: x: got shape {x.shape}, wanted (N, {channels}, H, W)")
    if x.dtype != dtype:
        raise TypeError(f"{layer}: x: got dtype {x.dtype}, wanted {dtype} (the layer's dtype)")


class _Convolution(Module):
    """What Conv2d and ConvTranspose2d share: sizes, settings, weight and bias."""

    def __init__(self, c_in, c_out, kernel_size, stride, padding, bias, weight_shape, init, rng, backend, dtype):
        super().__init__(backend)
        self.c_in, self.c_out = check_size("c_in", c_in), check_size("c_out", c_out)
        self.kernel_size = as_pair("kernel_size", kernel_size, 1)
        self.stride, self.padding = as_pair("stride", stride, 1), as_pair("padding", padding, 0)
        dtype = float_dtype(self.backend, dtype)
        rng = generator(self.backend, rng)
        area = self.kernel_size[0] * self.kernel_size[1]
        shape = weight_shape(self.c_in, self.c_out) + self.kernel_size
        self.weight = Parameter(init_weight(init, rng, self.c_in * area, self.c_out * area, dtype, shape), self.backend)
        self.bias = Parameter(self.backend.xp.zeros((self.c_out,), dtype=dtype), self.backend) if bias else None

    def settings(self) -> str:
        text = f"{self.c_in}, {self.c_out}, kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
        return text + ("" if self.bias is not None else ", bias=False")


class Conv2d(_Convolution):
    """y = conv2d(x, weight) + bias: (N, c_in, H, W) -> (N, c_out, Ho, Wo),
    Ho = (H + 2 padding - kernel) // stride + 1.

    weight (c_out, c_in, kH, kW), bias (c_out,) (none with ``bias=False``, as before a
    BatchNorm, whose shift would cancel it). kernel_size, stride, padding: an int or a pair.
    init: "glorot" (the default), "normal" (N(0, 0.02), DCGAN) or "he", with fans
    c_in kH kW and c_out kH kW.
    """

    def __init__(self, c_in, c_out, kernel_size, stride=1, padding=0, bias=True, *, init="glorot", rng=None,
                 backend=None, dtype=None):
        super().__init__(c_in, c_out, kernel_size, stride, padding, bias, lambda i, o: (o, i), init, rng, backend,
                         dtype)

    def forward(self, x):
        check_image("Conv2d", x, self.c_in, self.weight.dtype)
        return ops.conv2d(x, self.weight, self.bias, stride=self.stride, padding=self.padding)

    def __repr__(self):
        return f"Conv2d({self.settings()})"


class ConvTranspose2d(_Convolution):
    """y = conv_transpose2d(x, weight) + bias: (N, c_in, H, W) -> (N, c_out, Ho, Wo),
    Ho = (H - 1) stride - 2 padding + kernel + output_padding (PyTorch's formula).

    The transpose of Conv2d(c_out, c_in, ...) with the same weight: where that one maps a
    kH x kW patch to one pixel, this one spreads one pixel over a patch. weight
    (c_in, c_out, kH, kW), PyTorch's layout. With kernel 4, stride 2, padding 1 it doubles
    H and W, a DCGAN generator's step.
    """

    def __init__(self, c_in, c_out, kernel_size, stride=1, padding=0, output_padding=0, bias=True, *, init="glorot",
                 rng=None, backend=None, dtype=None):
        super().__init__(c_in, c_out, kernel_size, stride, padding, bias, lambda i, o: (i, o), init, rng, backend,
                         dtype)
        self.output_padding = as_pair("output_padding", output_padding, 0)
        if any(e >= s for e, s in zip(self.output_padding, self.stride)):
            raise ValueError(f"output_padding: got {output_padding!r}, wanted each smaller than the stride {self.stride}")

    def forward(self, x):
        check_image("ConvTranspose2d", x, self.c_in, self.weight.dtype)
        return ops.conv_transpose2d(x, self.weight, self.bias, stride=self.stride, padding=self.padding,
                                    output_padding=self.output_padding)

    def __repr__(self):
        extra = f", output_padding={self.output_padding}" if any(self.output_padding) else ""
        return f"ConvTranspose2d({self.settings()}{extra})"


class Flatten(Module):
    """(N, C, H, W) (or any (N, ...)) -> (N, C * H * W): from the convolutions to a Linear layer."""

    def forward(self, x):
        return ops.reshape(x, (x.shape[0], math.prod(x.shape[1:])))


class Unflatten(Module):
    """(N, prod(shape)) -> (N, *shape): from a Linear layer to the convolutions, e.g. shape (256, 4, 4)."""

    def __init__(self, shape, backend=None):
        super().__init__(backend)
        if not isinstance(shape, (tuple, list)) or not shape:
            raise ValueError(f"shape: got {shape!r}, wanted a tuple of positive sizes such as (256, 4, 4)")
        self.shape = tuple(check_size(f"shape[{i}]", n) for i, n in enumerate(shape))

    def forward(self, x):
        if not isinstance(x, Tensor) or x.ndim != 2 or x.shape[1] != math.prod(self.shape):
            got = x.shape if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"Unflatten: x: got {got}, wanted (N, {math.prod(self.shape)}) to make (N, *{self.shape})")
        return ops.reshape(x, (x.shape[0],) + self.shape)

    def __repr__(self):
        return f"Unflatten({self.shape})"
