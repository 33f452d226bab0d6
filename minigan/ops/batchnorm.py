"""Batch normalisation's op: standardise each channel with the statistics of the batch.

    x_hat = batch_norm(x, axis, eps) = (x - mu) / sqrt(var + eps)

mu and var are the mean and the (biased) variance over ``axis``: (0,) for features (m, n)
(BatchNorm1d), (0, 2, 3) for images (N, C, H, W) (BatchNorm2d), so each channel gets its
own. The layer (minigan/nn/batchnorm.py) scales and shifts x_hat with its learned
gamma and beta through the ordinary mul and add ops; this op is only the part whose
gradient is worth deriving by hand, because mu and var depend on every x in the batch.

The backward is grad_y minus what the batch statistics take away (BatchNorm's docstring;
docs/math/convolution.md#batch-normalisation derives it): shifting every x of a channel by
the same amount changes no x_hat, so grad_x sums to 0 over the channel, and neither does
scaling them, so grad_x is orthogonal to x_hat.
"""
from __future__ import annotations

from minigan.autograd import Op, Tensor, apply


class BatchNorm(Op):
    """y = (x - mean(x)) / sqrt(var(x) + eps), statistics over ``axis`` (one per channel).

    VJP: grad_x = r * (grad_y - mean(grad_y) - y * mean(grad_y * y)),  r = 1 / sqrt(var + eps)
    """

    @staticmethod
    def forward(ctx, x, axis, eps):
        xp = ctx.xp
        ctx.axis, ctx.eps = axis, eps
        centred = x - xp.mean(x, axis=axis, keepdims=True)
        r = (xp.mean(centred * centred, axis=axis, keepdims=True) + eps) ** -0.5   # 1 / sqrt(var + eps)
        y = centred * r
        ctx.save(x, y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        x, y = ctx.saved
        xp, axis = ctx.xp, ctx.axis
        # r from x again, not saved: a recorded backward must see how it depends on x
        centred = x - xp.mean(x, axis=axis, keepdims=True)
        r = (xp.mean(centred * centred, axis=axis, keepdims=True) + ctx.eps) ** -0.5
        # BEGIN SOLUTION A6.3
        mean_grad = xp.mean(grad_y, axis=axis, keepdims=True)              # what a shift of the channel sees
        mean_grad_y = xp.mean(grad_y * y, axis=axis, keepdims=True)        # what a scaling of it sees
        return r * (grad_y - mean_grad - y * mean_grad_y)
        # END SOLUTION


def batch_norm(x, axis=0, eps=1e-5):
    """(x - mean) / sqrt(var + eps) over ``axis`` (an int or a tuple), with the batch's own statistics."""
    if not isinstance(x, Tensor):
        raise TypeError(f"batch_norm: x: got {type(x).__name__}, wanted a Tensor")
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    if not axes or not all(isinstance(a, int) and 0 <= a < x.ndim for a in axes):
        raise ValueError(f"axis: got {axis!r}, wanted axes of a {x.ndim}-D tensor (0 <= axis < {x.ndim})")
    if not eps > 0:
        raise ValueError(f"eps: got {eps!r}, wanted a positive number")
    return apply(BatchNorm, x, axis=axes, eps=float(eps))
