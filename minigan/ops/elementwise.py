"""The elementwise functions: exp, log, tanh, the sigmoid family, the rectifiers and where.

Each derivative is written with what the forward saved: its input, its output, or a mask.
Under ``backward(create_graph=True)`` the saved input and output are the graph's own
tensors and a mask is a constant, so the same lines give a differentiable gradient
(a mask's derivative is 0 wherever it is defined).
"""
from __future__ import annotations

import numbers

from minigan.autograd import Op, Tensor, apply, unbroadcast
from minigan.ops.arithmetic import _pair  # a number on either side becomes a constant tensor


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
        # BEGIN SOLUTION A5.2
        return grad_y * (1.0 - y * y)
        # END SOLUTION


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
    if isinstance(x, Tensor):  # a differentiable backward (create_graph): the recorded ops
        return sigmoid(x), sigmoid(-x)
    e = xp.exp(-xp.abs(x))  # in [0, 1]: exp of a non-positive number
    large = 1.0 / (1.0 + e)  # sigmoid(|x|)
    small = e * large  # sigmoid(-|x|) = e / (1 + e)
    positive = x >= 0
    return xp.where(positive, large, small), xp.where(positive, small, large)


class Sigmoid(Op):
    """y = sigmoid(x) = 1 / (1 + exp(-x)).

    VJP: grad_x = grad_y * y * (1 - y), with 1 - y = sigmoid(-x) computed from the saved x
         (1.0 - y would be 0 wherever y rounds to 1, and the gradient with it)
    """

    @staticmethod
    def forward(ctx, x):
        y, _ = sigmoid_and_complement(ctx.xp, x)  # exp(-|x|) form: exact, no overflow
        ctx.save(x)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        (x,) = ctx.saved
        y, one_minus_y = sigmoid_and_complement(ctx.xp, x)  # (sigmoid(x), sigmoid(-x)), both exact
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


class Where(Op):
    """y = a where condition, else b  (condition: a constant boolean array).

    VJP: grad_a = grad_y where condition, else 0;  grad_b = grad_y where not, else 0
         (each summed back to its input's shape)
    """

    @staticmethod
    def forward(ctx, a, b, condition):
        ctx.condition, ctx.shapes = condition, (a.shape, b.shape)
        return ctx.xp.where(condition, a, b)

    @staticmethod
    def backward(ctx, grad_y):
        shape_a, shape_b = ctx.shapes
        grad_a = ctx.xp.where(ctx.condition, grad_y, 0.0)
        grad_b = ctx.xp.where(ctx.condition, 0.0, grad_y)
        return unbroadcast(grad_a, shape_a), unbroadcast(grad_b, shape_b)


# ---- the functions users call ----------------------------------------------------------------
def exp(x): return apply(Exp, x)
def log(x): return apply(Log, x)
def tanh(x): return apply(Tanh, x)
def sigmoid(x): return apply(Sigmoid, x)
def relu(x): return apply(ReLU, x)
def softplus(x): return apply(Softplus, x)
def log_sigmoid(x): return apply(LogSigmoid, x)


def leaky_relu(x, slope=0.2):
    if not isinstance(slope, numbers.Real) or not 0 <= slope < 1:
        raise ValueError(f"slope: got {slope!r}, wanted a number in [0, 1)")
    return apply(LeakyReLU, x, slope=float(slope))


def where(condition, a, b):
    """a where ``condition`` is true, else b; a or b may be a Python number.

    condition: a boolean Tensor or array (a constant: no gradient flows into it).
    """
    a, b = _pair(a, b)
    if isinstance(condition, Tensor):
        condition = condition.data
    condition = a.backend.check(condition)
    if not a.backend.xp.isdtype(condition.dtype, "bool"):
        raise TypeError(f"condition: got dtype {condition.dtype}, wanted a boolean array")
    return apply(Where, a, b, condition=condition)
