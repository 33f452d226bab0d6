"""The differentiable primitives: each forward beside its hand-derived backward (VJP).

Reading guide. ``y = f(x)`` forward; ``grad_y`` is dL/dy coming back; backward returns
``grad_x`` = dL/dx = grad_y * dy/dx (for matrices, the vector-Jacobian product). Each
docstring states both lines; docs/math/ops.md derives them, and
tests/test_ops.py::test_backward_matches_finite_differences checks every one.

Binary ops broadcast their inputs, so their backward ends with ``unbroadcast``.
"""
from __future__ import annotations

import builtins
import numbers

from minigan.autograd import Op, Tensor, apply, unbroadcast


def _lift(value, like: Tensor) -> Tensor:
    """A constant tensor for a Python number, on ``like``'s backend and dtype."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, numbers.Number):
        if not isinstance(value, numbers.Integral) and not like.backend.is_float(like.data):
            raise TypeError(f"operand: got the float {value!r} with an integer tensor, wanted an integer (or a float tensor)")
        return Tensor(like.backend.xp.asarray(value, dtype=like.data.dtype), like.backend)
    raise TypeError(f"operand: got {type(value).__name__}, wanted a Tensor or a Python number")


def _pair(a, b):
    if not isinstance(a, Tensor):
        return _lift(a, b), b
    return a, _lift(b, a)


# ---- arithmetic -------------------------------------------------------------------------
class Add(Op):
    """y = a + b.   VJP: grad_a = grad_y, grad_b = grad_y (each summed back to its shape)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a.shape, b.shape)
        return a + b

    @staticmethod
    def backward(ctx, grad_y):
        shape_a, shape_b = ctx.shapes
        need_a, need_b = ctx.needs_grad
        return (unbroadcast(grad_y, shape_a) if need_a else None,
                unbroadcast(grad_y, shape_b) if need_b else None)


class Sub(Op):
    """y = a - b.   VJP: grad_a = grad_y, grad_b = -grad_y."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a.shape, b.shape)
        return a - b

    @staticmethod
    def backward(ctx, grad_y):
        shape_a, shape_b = ctx.shapes
        return unbroadcast(grad_y, shape_a), unbroadcast(-grad_y, shape_b)


class Mul(Op):
    """y = a * b.   VJP: grad_a = grad_y * b, grad_b = grad_y * a."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad_y):
        a, b = ctx.saved
        # BEGIN SOLUTION A1.1
        return unbroadcast(grad_y * b, a.shape), unbroadcast(grad_y * a, b.shape)
        # END SOLUTION


class Div(Op):
    """y = a / b.   VJP: grad_a = grad_y / b, grad_b = -grad_y * a / b**2."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save(a, b)
        return a / b

    @staticmethod
    def backward(ctx, grad_y):
        a, b = ctx.saved
        return unbroadcast(grad_y / b, a.shape), unbroadcast(-grad_y * a / (b * b), b.shape)


class Neg(Op):
    """y = -x.   VJP: grad_x = -grad_y."""

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad_y):
        return -grad_y


class Pow(Op):
    """y = x ** p for a constant number p.   VJP: grad_x = grad_y * p * x ** (p - 1)."""

    @staticmethod
    def forward(ctx, x, p):
        ctx.save(x)
        ctx.p = p
        return x**p

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved
        return grad_y * ctx.p * x ** (ctx.p - 1)


class MatMul(Op):
    """y = a @ b, with a (..., m, n) and b (..., n, p).

    VJP: grad_a = grad_y @ b^T   (m, p) @ (p, n) -> (m, n)
         grad_b = a^T @ grad_y   (n, m) @ (m, p) -> (n, p)
    """

    @staticmethod
    def forward(ctx, a, b):
        if a.ndim < 2 or b.ndim < 2:
            raise ValueError(f"matmul: got shapes {tuple(a.shape)} and {tuple(b.shape)}, wanted at least 2-D arrays")
        if a.shape[-1] != b.shape[-2]:   # (..., m, n) @ (..., n, p): the n must agree
            raise ValueError(f"matmul: got shapes {tuple(a.shape)} and {tuple(b.shape)}; "
                             f"the inner sizes {a.shape[-1]} and {b.shape[-2]} must match")
        ctx.save(a, b)
        return ctx.xp.matmul(a, b)

    @staticmethod
    def backward(ctx, grad_y):
        a, b = ctx.saved
        xp = ctx.xp
        need_a, need_b = ctx.needs_grad  # False for data x, and for weights this backward holds fixed
        # BEGIN SOLUTION A1.2
        grad_a = grad_b = None           # None: no gradient wanted, none computed
        if need_a:
            grad_a = unbroadcast(xp.matmul(grad_y, xp.matrix_transpose(b)), a.shape)  # (m, p) @ (p, n)
        if need_b:
            grad_b = unbroadcast(xp.matmul(xp.matrix_transpose(a), grad_y), b.shape)  # (n, m) @ (m, p)
        return grad_a, grad_b
        # END SOLUTION


# ---- reductions -------------------------------------------------------------------------
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
        grad_y = _expand(ctx.xp, grad_y, ctx.shape, ctx.axis, ctx.keepdims)
        return ctx.xp.broadcast_to(grad_y / ctx.n, ctx.shape)


class Max(Op):
    """y = max of x over axis.

    VJP: grad_x = grad_y where x is the maximum, 0 elsewhere (split evenly among ties).
    """

    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        y = ctx.xp.max(x, axis=axis, keepdims=True)
        ctx.save(x, y)
        ctx.axis, ctx.keepdims = axis, keepdims
        return y if keepdims else ctx.xp.max(x, axis=axis)

    @staticmethod
    def backward(ctx, grad_y):
        x, y = ctx.saved
        xp = ctx.xp
        is_max = xp.astype(x == y, x.dtype)
        count = xp.sum(is_max, axis=ctx.axis, keepdims=True)
        grad_y = _expand(xp, grad_y, x.shape, ctx.axis, ctx.keepdims)
        return is_max * (grad_y / count)


# ---- shapes -----------------------------------------------------------------------------
class Reshape(Op):
    """y = x reshaped.   VJP: grad_x = grad_y reshaped back to x's shape."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return ctx.xp.reshape(x, shape)

    @staticmethod
    def backward(ctx, grad_y):
        return ctx.xp.reshape(grad_y, ctx.shape)


class Transpose(Op):
    """y = x with its axes permuted.   VJP: grad_x = grad_y permuted back (inverse permutation)."""

    @staticmethod
    def forward(ctx, x, axes=None):
        axes = tuple(reversed(range(x.ndim))) if axes is None else tuple(a % x.ndim for a in axes)
        ctx.inverse = tuple(sorted(range(len(axes)), key=lambda i: axes[i]))
        return ctx.xp.permute_dims(x, axes)

    @staticmethod
    def backward(ctx, grad_y):
        return ctx.xp.permute_dims(grad_y, ctx.inverse)


class Concat(Op):
    """y = [x1, x2, ...] joined along axis.   VJP: grad_xi = the slice of grad_y where xi went."""

    @staticmethod
    def forward(ctx, *xs, axis=0):
        ctx.axis, ctx.sizes = axis, [x.shape[axis] for x in xs]
        return ctx.xp.concat(xs, axis=axis)

    @staticmethod
    def backward(ctx, grad_y):
        grads, start = [], 0
        axis = ctx.axis % grad_y.ndim
        for n in ctx.sizes:
            index = (slice(None),) * axis + (slice(start, start + n), Ellipsis)
            grads.append(grad_y[index])
            start += n
        return tuple(grads)


class Index(Op):
    """y = x[index] for basic indices (ints, slices, Ellipsis).

    VJP: grad_x = zeros like x, with grad_y written where the index picked.
    """

    @staticmethod
    def forward(ctx, x, index):
        ctx.shape, ctx.dtype, ctx.index = x.shape, x.dtype, index
        return x[index]

    @staticmethod
    def backward(ctx, grad_y):
        grad_x = ctx.xp.zeros(ctx.shape, dtype=ctx.dtype)
        grad_x[ctx.index] = grad_y
        return grad_x


class Take(Op):
    """y = x[indices] for a 1-D integer array of row indices (rows may repeat).

    VJP: grad_x = zeros like x, with each row of grad_y added to the row it came from.
    """

    @staticmethod
    def forward(ctx, x, indices):
        ctx.shape, ctx.dtype, ctx.indices = x.shape, x.dtype, indices
        return ctx.xp.take(x, indices, axis=0)

    @staticmethod
    def backward(ctx, grad_y):
        zeros = ctx.xp.zeros(ctx.shape, dtype=ctx.dtype)
        return ctx.backend.add_at(zeros, ctx.indices, grad_y)


# ---- elementwise functions ----------------------------------------------------------------
class Exp(Op):
    """y = exp(x).   VJP: grad_x = grad_y * y  (exp is its own derivative)."""

    @staticmethod
    def forward(ctx, x):
        y = ctx.xp.exp(x)
        ctx.save(y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        (y,) = ctx.saved
        # BEGIN SOLUTION A1.4
        return grad_y * y
        # END SOLUTION


class Log(Op):
    """y = log(x).   VJP: grad_x = grad_y / x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return ctx.xp.log(x)

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved
        # BEGIN SOLUTION A1.5
        return grad_y / x
        # END SOLUTION


class Tanh(Op):
    """y = tanh(x).   VJP: grad_x = grad_y * (1 - y**2)."""

    @staticmethod
    def forward(ctx, x):
        y = ctx.xp.tanh(x)
        ctx.save(y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        (y,) = ctx.saved
        return grad_y * (1.0 - y * y)


def sigmoid_and_complement(xp, x):
    """(sigmoid(x), sigmoid(-x)) for a raw array x, each correct to within a few roundings.

    sigmoid(-x) = 1 - sigmoid(x), but computed without the subtraction, which gives 0 once
    sigmoid(x) rounds to 1 (from x = 16.7 in float32). Both come from e = exp(-|x|), which
    lies in [0, 1] and so never overflows:

        sigmoid(|x|)  = 1 / (1 + e)     in [1/2, 1]
        sigmoid(-|x|) = e / (1 + e)     in [0, 1/2]: as exact as exp itself, down to its underflow

    (The tanh form 0.5 * (tanh(x / 2) + 1) adds 1 to a tanh near -1 for negative x, and the
    sum keeps only tanh's rounding error: 0 from x = -20 in float32, where the truth is 2.1e-9.)
    docs/math/ops.md#sigmoid; benchmarks/sigmoid_accuracy.py measures both forms.
    """
    e = xp.exp(-xp.abs(x))  # in [0, 1]: exp of a non-positive number
    large = 1.0 / (1.0 + e)  # sigmoid(|x|)
    small = e * large  # sigmoid(-|x|) = e / (1 + e)
    positive = x >= 0
    return xp.where(positive, large, small), xp.where(positive, small, large)


class Sigmoid(Op):
    """y = sigmoid(x) = 1 / (1 + exp(-x)).

    VJP: grad_x = grad_y * y * (1 - y), with 1 - y = sigmoid(-x) saved by the forward
         (1.0 - y would be 0 wherever y rounds to 1, and the gradient with it)
    """

    @staticmethod
    def forward(ctx, x):
        y, one_minus_y = sigmoid_and_complement(ctx.xp, x)  # exp(-|x|) form: exact, no overflow
        ctx.save(y, one_minus_y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        y, one_minus_y = ctx.saved
        # BEGIN SOLUTION A1.6
        return grad_y * y * one_minus_y
        # END SOLUTION


class ReLU(Op):
    """y = max(x, 0).   VJP: grad_x = grad_y where x > 0, else 0."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x > 0)
        return ctx.xp.maximum(x, 0.0)

    @staticmethod
    def backward(ctx, grad_y):
        (positive,) = ctx.saved
        # BEGIN SOLUTION A1.7
        return ctx.xp.where(positive, grad_y, 0.0)
        # END SOLUTION


class LeakyReLU(Op):
    """y = x if x > 0 else slope * x.   VJP: grad_x = grad_y if x > 0 else slope * grad_y.

    Both lines multiply by the slope dy/dx (1 where x > 0, ``slope`` elsewhere), so the
    forward computes it once, as floats, and the backward reuses it: two products, cheaper
    than choosing elementwise with xp.where on a random-looking mask.
    """

    @staticmethod
    def forward(ctx, x, slope=0.2):
        dy_dx = ctx.xp.astype(x > 0, x.dtype)   # 1 where x > 0, 0 elsewhere
        dy_dx *= 1.0 - slope
        dy_dx += slope                          # 1 where x > 0, slope elsewhere
        ctx.save(dy_dx)
        return x * dy_dx

    @staticmethod
    def backward(ctx, grad_y):
        (dy_dx,) = ctx.saved
        return grad_y * dy_dx


class Softplus(Op):
    """y = log(1 + exp(x)).   VJP: grad_x = grad_y * sigmoid(x).

    Computed as logaddexp(x, 0) = max(x, 0) + log1p(exp(-|x|)): finite for any x (exp(1e4)
    would overflow), and exact for very negative x, where log1p(tiny) = tiny.
    """

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return ctx.xp.logaddexp(x, 0.0)

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved
        sigmoid_x, _ = sigmoid_and_complement(ctx.xp, x)
        return grad_y * sigmoid_x


class LogSigmoid(Op):
    """y = log(sigmoid(x)) = -softplus(-x).   VJP: grad_x = grad_y * (1 - sigmoid(x)) = grad_y * sigmoid(-x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return -ctx.xp.logaddexp(-x, 0.0)

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved
        _, sigmoid_minus_x = sigmoid_and_complement(ctx.xp, x)  # 1 - sigmoid(x), without the subtraction
        return grad_y * sigmoid_minus_x


# ---- the functions users call ---------------------------------------------------------------
def add(a, b): return apply(Add, *_pair(a, b))
def sub(a, b): return apply(Sub, *_pair(a, b))
def mul(a, b): return apply(Mul, *_pair(a, b))
def div(a, b): return apply(Div, *_pair(a, b))
def neg(x): return apply(Neg, x)
def matmul(a, b): return apply(MatMul, *_pair(a, b))
def exp(x): return apply(Exp, x)
def log(x): return apply(Log, x)
def tanh(x): return apply(Tanh, x)
def sigmoid(x): return apply(Sigmoid, x)
def relu(x): return apply(ReLU, x)
def softplus(x): return apply(Softplus, x)
def log_sigmoid(x): return apply(LogSigmoid, x)


def pow(x, exponent):
    if not isinstance(exponent, numbers.Real) or isinstance(exponent, bool):
        raise TypeError(f"exponent: got {type(exponent).__name__}, wanted a Python number")
    # a plain Python number: a NumPy float64 exponent would promote float32 data to float64
    exponent = int(exponent) if isinstance(exponent, numbers.Integral) else float(exponent)
    return apply(Pow, x, p=exponent)


def leaky_relu(x, slope=0.2):
    if not isinstance(slope, numbers.Real) or not 0 <= slope < 1:
        raise ValueError(f"slope: got {slope!r}, wanted a number in [0, 1)")
    return apply(LeakyReLU, x, slope=float(slope))


def _check_axis(x: Tensor, axis):
    axes = () if axis is None else (axis,) if isinstance(axis, int) else tuple(axis)
    for a in axes:
        if not isinstance(a, int) or not -x.ndim <= a < builtins.max(x.ndim, 1):
            raise ValueError(f"axis: got {axis!r}, wanted None or axes of a {x.ndim}-D tensor")
    return axis if axis is None or isinstance(axis, int) else tuple(axis)


def sum(x, axis=None, keepdims=False): return apply(Sum, x, axis=_check_axis(x, axis), keepdims=keepdims)
def mean(x, axis=None, keepdims=False): return apply(Mean, x, axis=_check_axis(x, axis), keepdims=keepdims)
def max(x, axis=None, keepdims=False): return apply(Max, x, axis=_check_axis(x, axis), keepdims=keepdims)


def transpose(x, axes=None):
    if axes is not None:
        axes = tuple(axes)
        in_range = all(isinstance(a, int) and -x.ndim <= a < x.ndim for a in axes)
        if not in_range or sorted(a % x.ndim for a in axes) != list(range(x.ndim)):
            raise ValueError(f"axes: got {axes!r}, wanted None or a permutation of the {x.ndim} axes")
    return apply(Transpose, x, axes=axes)


def reshape(x, shape):
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return apply(Reshape, x, shape=shape)


def concat(tensors, axis=0):
    tensors = list(tensors)
    if not tensors or not all(isinstance(t, Tensor) for t in tensors):
        raise TypeError("tensors: wanted a non-empty list of Tensors")
    return apply(Concat, *tensors, axis=axis)


def getitem(x, index):
    """x[index]: basic indices (ints, slices, ...) or a 1-D integer array of rows."""
    if isinstance(index, Tensor):
        index = index.data
    if isinstance(index, numbers.Integral) and not isinstance(index, bool):
        index = int(index)  # a NumPy integer is a plain int index, not a 0-d array of rows
    elif isinstance(index, list) or hasattr(index, "dtype"):
        indices = x.backend.asarray(index)
        if indices.ndim != 1 or not x.xp.isdtype(indices.dtype, "integral"):
            raise IndexError(f"index: got an array of shape {tuple(indices.shape)}, wanted a 1-D integer array of rows")
        return apply(Take, x, indices=indices)
    index = index if isinstance(index, tuple) else (index,)
    for entry in index:
        # an array inside a tuple would be NumPy "advanced" indexing, whose repeats
        # Index.backward would overwrite instead of adding up: refuse it
        if not (entry is None or entry is Ellipsis or isinstance(entry, slice)
                or (isinstance(entry, numbers.Integral) and not isinstance(entry, bool))):
            raise IndexError(
                f"index: got {type(entry).__name__} inside a tuple, wanted ints, slices, ... or None "
                "(index rows with one 1-D integer array: x[rows])"
            )
    index = tuple(int(e) if isinstance(e, numbers.Integral) else e for e in index)
    if Ellipsis not in index:
        index = index + (Ellipsis,)  # the array API wants every axis named
    return apply(Index, x, index=index)
