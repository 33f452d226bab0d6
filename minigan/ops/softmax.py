"""Softmax and log-softmax, the ops that turn K logits into a distribution over K symbols;
and one_hot and argmax, which turn it back into symbols and, on purpose, cut the graph.

Both softmax ops subtract the row's maximum before exp: softmax(x) = softmax(x - c) for any
constant c, and with c = max(x) the largest exponent is exp(0) = 1, so logits of +-1e3
(where exp overflows to inf in float32 and float64 alike) give exact, finite answers.

Each backward uses only the saved output y and functions that both an array namespace and
minigan.ops provide (sum, exp, * and -), so under ``backward(create_graph=True)`` the same
lines are recorded and differentiate once more. The derivations are in docs/math/softmax.md.

one_hot and argmax are not differentiable: argmax is piecewise constant (its derivative is
0 wherever it exists), so they return Tensors with requires_grad False, cut from the graph.
A generator that ends in them gets no gradient at all; that is the lesson of
tutorials/11_discrete_data.py, and the reason for the Gumbel-softmax (minigan.nn.discrete).
"""
from __future__ import annotations

from minigan.autograd import Op, Tensor, apply


class Softmax(Op):
    """y = exp(x) / sum(exp(x), axis)   (each slice along ``axis`` sums to 1).

    VJP: grad_x = y * (grad_y - sum(grad_y * y, axis))   (the Jacobian diag(y) - y y^T, applied)
    """

    @staticmethod
    def forward(ctx, x, axis=-1):
        xp = ctx.xp
        ctx.axis = axis
        e = xp.exp(x - xp.max(x, axis=axis, keepdims=True))   # the largest exponent is exp(0) = 1
        y = e / xp.sum(e, axis=axis, keepdims=True)
        ctx.save(y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        (y,) = ctx.saved
        inner = ctx.xp.sum(grad_y * y, axis=ctx.axis, keepdims=True)   # <grad_y, y> per slice, kept as length 1
        return y * (grad_y - inner)


class LogSoftmax(Op):
    """y = x - log(sum(exp(x), axis))   (= log(softmax(x)), without the log of a tiny number).

    VJP: grad_x = grad_y - exp(y) * sum(grad_y, axis)   (exp(y) is softmax(x))
    """

    @staticmethod
    def forward(ctx, x, axis=-1):
        xp = ctx.xp
        ctx.axis = axis
        shifted = x - xp.max(x, axis=axis, keepdims=True)       # <= 0, with a 0 in every slice
        y = shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))   # the sum is in [1, K]
        ctx.save(y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        (y,) = ctx.saved
        total = ctx.xp.sum(grad_y, axis=ctx.axis, keepdims=True)   # sum of grad_y per slice
        return grad_y - ctx.xp.exp(y) * total


# ---- the functions users call ----------------------------------------------------------------
def _check_axis(x, axis) -> int:
    if not isinstance(x, Tensor):
        raise TypeError(f"x: got a {type(x).__name__}, wanted a Tensor (make one with minigan.tensor)")
    if isinstance(axis, bool) or not isinstance(axis, int) or not -x.ndim <= axis < max(x.ndim, 1) or x.ndim == 0:
        raise ValueError(f"axis: got {axis!r}, wanted one axis (an int) of a {x.ndim}-D tensor")
    return axis % x.ndim


def _check_float(name: str, x) -> None:
    if not x.backend.is_float(x.data):
        raise TypeError(f"{name}: got dtype {x.dtype}, wanted a floating dtype (logits)")


def softmax(x, axis=-1):
    """softmax(x) along ``axis``: non-negative, summing to 1 along it (docs/math/softmax.md)."""
    axis = _check_axis(x, axis)
    _check_float("softmax", x)
    return apply(Softmax, x, axis=axis)


def log_softmax(x, axis=-1):
    """log(softmax(x)) along ``axis``, finite for any finite logits (docs/math/softmax.md)."""
    axis = _check_axis(x, axis)
    _check_float("log_softmax", x)
    return apply(LogSoftmax, x, axis=axis)


def argmax(x, axis=-1) -> Tensor:
    """The index of the largest entry along ``axis`` (the first one on ties), an integer Tensor.

    No gradient: the result has requires_grad False and no link to x. A small change of the
    logits does not change which one is largest, so the derivative is 0 wherever it exists;
    the graph is cut here, and nothing before it can learn through it.
    """
    axis = _check_axis(x, axis)
    return Tensor(x.xp.argmax(x.data, axis=axis), x.backend)


def one_hot(indices, k: int, dtype=None) -> Tensor:
    """Rows of k zeros with a 1 at each index: shape indices.shape + (k,), float (default dtype).

    ``indices``: an integer Tensor with values in [0, k). No gradient: integer indices carry
    none, so the result has requires_grad False (one_hot(argmax(y)) is a symbol, not a
    function G can be trained through).
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k: got {k!r}, wanted a positive integer (the number of symbols)")
    if not isinstance(indices, Tensor):
        raise TypeError(f"indices: got a {type(indices).__name__}, wanted an integer Tensor")
    xp, backend = indices.xp, indices.backend
    if not xp.isdtype(indices.dtype, "integral"):
        raise TypeError(f"indices: got dtype {indices.dtype}, wanted an integer dtype")
    if indices.size and not bool(xp.all((indices.data >= 0) & (indices.data < k))):
        raise ValueError(f"indices: got values outside [0, {k}), wanted symbols 0 to {k - 1}")
    dtype = backend.default_float if dtype is None else (backend.dtype(dtype) if isinstance(dtype, str) else dtype)
    symbols = xp.arange(k, dtype=indices.dtype)                              # (k,)
    rows = xp.expand_dims(indices.data, axis=-1) == symbols                   # indices.shape + (k,), bool
    return Tensor(xp.astype(rows, dtype), backend)
