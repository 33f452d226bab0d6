"""The reductions: sum, mean and max over axes, and the VJP that copies grad_y back along them."""
from __future__ import annotations

import builtins

from minigan.autograd import Op, Tensor, apply


def _expand(xp, grad_y, shape, axis, keepdims):
    """Put back the reduced axes of grad_y (as length 1) so it broadcasts against shape."""
    if keepdims or axis is None:  # already broadcastable (a 0-d grad broadcasts as it is)
        return grad_y
    axes = (axis,) if isinstance(axis, int) else axis
    axes = sorted(a % len(shape) for a in axes)
    new_shape = list(grad_y.shape)
    for a in axes:
        new_shape.insert(a, 1)
    return xp.reshape(grad_y, tuple(new_shape))


class Sum(Op):
    """y = sum of x over axis.   VJP: grad_x = grad_y copied along the summed axes."""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        return ctx.xp.sum(x, axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad_y):
        # BEGIN SOLUTION A1.3
        grad_y = _expand(ctx.xp, grad_y, ctx.shape, ctx.axis, ctx.keepdims)
        return ctx.xp.broadcast_to(grad_y, ctx.shape)
        # END SOLUTION


class Mean(Op):
    """y = mean of x over axis (n elements each).   VJP: grad_x = grad_y / n, copied back."""

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        y = ctx.xp.mean(x, axis=axis, keepdims=keepdims)
        ctx.n = x.size // builtins.max(y.size, 1) if x.size else 1
        return y

    @staticmethod
    def backward(ctx, grad_y):
        return Sum.backward(ctx, grad_y / ctx.n)  # the sum's VJP (ctx holds the same shape and axes), over n


class Max(Op):
    """y = max of x over axis.

    VJP: grad_x = grad_y where x is the maximum, 0 elsewhere (split evenly among ties).
    """

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        xp = ctx.xp
        y = xp.max(x, axis=axis, keepdims=True)
        is_max = xp.astype(x == y, x.dtype)                             # 1 at each maximum, 0 elsewhere
        ctx.save(is_max / xp.sum(is_max, axis=axis, keepdims=True))   # a tie's share: a constant mask
        ctx.shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        return y if keepdims else xp.max(x, axis=axis)

    @staticmethod
    def backward(ctx, grad_y):
        (share,) = ctx.saved
        return share * _expand(ctx.xp, grad_y, ctx.shape, ctx.axis, ctx.keepdims)


# ---- the functions users call ----------------------------------------------------------------
def _check_axis(x: Tensor, axis):
    axes = () if axis is None else tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    for a in axes:
        if not isinstance(a, int) or not -x.ndim <= a < builtins.max(x.ndim, 1):
            raise ValueError(f"axis: got {axis!r}, wanted None or axes of a {x.ndim}-D tensor")
    return axis if axis is None or isinstance(axis, int) else tuple(axis)


def sum(x, axis=None, keepdims=False): return apply(Sum, x, axis=_check_axis(x, axis), keepdims=keepdims)
def mean(x, axis=None, keepdims=False): return apply(Mean, x, axis=_check_axis(x, axis), keepdims=keepdims)
def max(x, axis=None, keepdims=False): return apply(Max, x, axis=_check_axis(x, axis), keepdims=keepdims)
