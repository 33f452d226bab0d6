"""DCGAN's two networks (Radford et al. 2016), built from Conv2d, ConvTranspose2d and BatchNorm2d.

The generator grows noise into an image, doubling the side at each step; the discriminator
mirrors it, halving the side with strided convolutions:

    G: z (m, noise_dim) -> Linear -> (w0, 4, 4) -> [ConvTranspose2d 4x4 stride 2, BatchNorm2d, ReLU]...
       -> ConvTranspose2d to C channels -> tanh                     4 -> 8 -> 16 -> 32 pixels
    D: image (C, S, S) -> [Conv2d 4x4 stride 2, LeakyReLU(0.2)]... -> Linear -> 1 logit

The paper's rules, each visible below: no pooling (strided convolutions in D, transposed
ones in G), batch normalisation in G, LeakyReLU with slope 0.2 in D, ReLU in G and tanh at
its output, weights drawn from N(0, 0.02). D has no batch normalisation here, so that the
gradient penalties (R1, WGAN-GP), which need each sample's score to depend on that sample
alone, stay available (docs/math/convolution.md).

Both take and give images as rows (m, C * S * S), as minigan's image datasets hold them, so
a DCGAN drops into Algorithm 1 wherever an MLP did.
"""
from __future__ import annotations

import math

from minigan.backend import get_backend
from minigan.nn.batchnorm import BatchNorm2d
from minigan.nn.containers import Sequential, activation
from minigan.nn.conv import Conv2d, ConvTranspose2d, Flatten, Unflatten
from minigan.nn.layers import LeakyReLU, Linear, ReLU, generator
from minigan.nn.minibatch_std import MinibatchStd


def doublings(image_shape) -> int:
    """How many times 4 pixels double to the image's side: 3 for 32x32. Checks the shape."""
    channels, rows, cols = image_shape
    steps = math.log2(rows / 4) if rows == cols and rows >= 8 else 0.5
    if steps != int(steps):
        raise ValueError(f"image_shape: got {tuple(image_shape)}, wanted (C, S, S) with S = 8, 16, 32, 64, ...")
    return int(steps)


def check_widths(name: str, widths, image_shape) -> tuple:
    if len(widths) != doublings(image_shape):
        side = image_shape[1]
        raise ValueError(f"{name}: got {len(widths)} widths {tuple(widths)}, wanted {doublings(image_shape)} "
                         f"(one per doubling from 4 to {side} pixels)")
    return tuple(widths)


def dcgan_generator(noise_dim: int, widths, image_shape, output: str = "tanh", *, rng=None, backend=None) -> Sequential:
    """G: (m, noise_dim) -> (m, C*S*S). ``widths``: channels at 4, 8, ... pixels, one per doubling."""
    widths = check_widths("widths", widths, image_shape)
    backend = get_backend(backend)
    kw = {"rng": generator(backend, rng), "backend": backend}                        # one rng draws every layer
    layers = [Linear(noise_dim, widths[0] * 16, init="normal", **kw), Unflatten((widths[0], 4, 4), backend=backend),
              BatchNorm2d(widths[0], backend=backend), ReLU(backend=backend)]          # (m, w0, 4, 4)
    for c_in, c_out in zip(widths, widths[1:]):                                      # side doubles each time
        layers += [ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1, bias=False, init="normal", **kw),
                   BatchNorm2d(c_out, backend=backend), ReLU(backend=backend)]
    layers += [ConvTranspose2d(widths[-1], image_shape[0], 4, stride=2, padding=1, init="normal", **kw)]
    if output is not None:
        layers.append(activation(output, "output").to(backend))                     # tanh: pixels in [-1, 1]
    return Sequential(*layers, Flatten(backend=backend))


def dcgan_discriminator(widths, image_shape, *, minibatch_std=False, rng=None, backend=None) -> Sequential:
    """D: (m, C*S*S) -> (m, 1) logits. ``widths``: channels after each halving, S/2 down to 4.

    ``minibatch_std``: append the batch's std as one more 4x4 channel before the last layer
    (minigan.nn.minibatch_std, ProGAN's remedy for mode collapse)."""
    widths = check_widths("widths", widths, image_shape)
    backend = get_backend(backend)
    kw = {"rng": generator(backend, rng), "backend": backend}
    layers, c_in = [Unflatten(tuple(image_shape), backend=backend)], image_shape[0]
    for c_out in widths:                                                             # side halves each time
        layers += [Conv2d(c_in, c_out, 4, stride=2, padding=1, init="normal", **kw), LeakyReLU(0.2, backend=backend)]
        c_in = c_out
    if minibatch_std:                                                                # (m, c, 4, 4) -> (m, c + 1, 4, 4)
        layers, c_in = layers + [MinibatchStd(backend=backend)], c_in + 1
    return Sequential(*layers, Flatten(backend=backend), Linear(c_in * 16, 1, init="normal", **kw))
