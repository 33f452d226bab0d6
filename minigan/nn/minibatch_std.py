"""MinibatchStd: let D see how varied a whole minibatch is (Karras et al. 2018, ProGAN).

A discriminator that judges each image alone cannot tell a generator that draws one good
face for every z from one that draws many: each image, alone, looks real. This layer gives
D one number about the whole minibatch, how much its images differ, as an extra channel
of every image's feature map. Real minibatches are varied; a collapsed G's are not, so D
can now reject a collapsed minibatch, and G is pushed to spread out (mode collapse,
tutorial 08 and 17).

Forward, for x of shape (N, C, H, W):

    mu    = (1/N) sum_n x_n                                   (C, H, W): the batch's mean
    sigma = sqrt((1/N) sum_n (x_n - mu)^2 + eps)              (C, H, W): each feature's std over the batch
    s     = mean of sigma over its C H W entries              a scalar
    y     = [x, s * ones(N, 1, H, W)] joined along channels   (N, C + 1, H, W)

Backward: the first C channels pass grad_y through; the new channel's gradient, summed
(every one of its N H W entries is s), is g_s = sum grad_y[:, C]. Since the deviations
x_n - mu sum to zero over n, d var / d x_n = (2/N)(x_n - mu), so

    d s / d x_n = (x_n - mu) / (N sigma C H W)
    grad_x      = grad_y[:, :C] + g_s (x - mu) / (N sigma C H W)

(built here from the mean, power and concatenation ops, which carry those derivatives;
tests/test_minibatch_std.py checks the sum against finite differences).

ProGAN takes sigma over groups of 4 images; here the group is the whole minibatch, the
simplest form. Every output then depends on every image: D(x_i) is no longer a function
of x_i alone, so evaluate D on whole minibatches (Algorithm 1 does). The gradient
penalties still run (they differentiate the summed scores, as StyleGAN2 does with this
layer), but their per-sample gradient then includes the term through s (losses/penalties.py).
"""
from __future__ import annotations

import numbers

from minigan import ops
from minigan.autograd import Tensor
from minigan.nn.module import Module

EPS = 1e-8          # ProGAN's: keeps sqrt's derivative finite when the batch is all one image


class MinibatchStd(Module):
    """(N, C, H, W) -> (N, C + 1, H, W): the batch's mean standard deviation as one extra channel."""

    def __init__(self, eps=EPS, backend=None):
        super().__init__(backend)
        if not isinstance(eps, numbers.Real) or isinstance(eps, bool) or not eps > 0:
            raise ValueError(f"eps: got {eps!r}, wanted a positive number")
        self.eps = float(eps)

    def forward(self, x):
        if not isinstance(x, Tensor) or x.ndim != 4:
            got = x.shape if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"MinibatchStd: x: got {got}, wanted images (N, C, H, W)")
        n, _, rows, cols = x.shape
        deviation = x - x.mean(axis=0, keepdims=True)                          # x_n - mu      (N, C, H, W)
        sigma = ((deviation * deviation).mean(axis=0) + self.eps) ** 0.5       # std per feature  (C, H, W)
        s = sigma.mean().reshape((1, 1, 1, 1))                                 # one number     (1, 1, 1, 1)
        return ops.concat([x, ops.broadcast_to(s, (n, 1, rows, cols))], axis=1)

    def __repr__(self):
        return "MinibatchStd()"
