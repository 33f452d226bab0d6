"""The arithmetic ops: +, -, *, /, negation, powers and the matrix product.

Binary ops broadcast their inputs, so their backward ends with ``unbroadcast``; a Python
number on either side becomes a constant tensor of the other side's dtype (``_lift``).
"""
from __future__ import annotations

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


# ---- the functions users call ----------------------------------------------------------------
def add(a, b): return apply(Add, *_pair(a, b))
def sub(a, b): return apply(Sub, *_pair(a, b))
def mul(a, b): return apply(Mul, *_pair(a, b))
def div(a, b): return apply(Div, *_pair(a, b))
def neg(x): return apply(Neg, x)
def matmul(a, b): return apply(MatMul, *_pair(a, b))


def pow(x, exponent):
    if not isinstance(exponent, numbers.Real) or isinstance(exponent, bool):
        raise TypeError(f"exponent: got {type(exponent).__name__}, wanted a Python number")
    # a plain Python number: a NumPy float64 exponent would promote float32 data to float64
    exponent = int(exponent) if isinstance(exponent, numbers.Integral) else float(exponent)
    return apply(Pow, x, p=exponent)
