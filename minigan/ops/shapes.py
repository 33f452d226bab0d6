"""The shape ops: reshape, transpose, broadcasting, concatenation and indexing. Their VJPs move
grad_y back to where each input element went; none changes a value.

Each VJP is itself a shape op (the reshape back, the inverse permutation, a sum, a slice), so
under ``backward(create_graph=True)`` it is recorded like any other op. Indexing and its VJP
come in adjoint pairs, each the other's backward: Index and Scatter, Take and AddAt; the
backward runs its partner with ``ctx.run``, on arrays or recorded, as the pass wants.
"""
from __future__ import annotations

import numbers

from minigan.autograd import Op, Tensor, apply, unbroadcast


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


class BroadcastTo(Op):
    """y = x copied along new leading axes and along its axes of length 1, to ``shape``.

    VJP: grad_x = grad_y summed over those copies (``unbroadcast``).
    """

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return ctx.xp.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad_y):
        return unbroadcast(grad_y, ctx.shape)


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
        ctx.shape, ctx.index = x.shape, index
        return x[index]

    @staticmethod
    def backward(ctx, grad_y):
        return ctx.run(Scatter, grad_y, shape=ctx.shape, index=ctx.index)


class Scatter(Op):
    """y = zeros of ``shape``, with x written where ``index`` picks (Index's VJP).

    VJP: grad_x = grad_y[index]   (Scatter and Index are each other's backward)
    """

    @staticmethod
    def forward(ctx, x, shape, index):
        ctx.index = index
        y = ctx.xp.zeros(shape, dtype=x.dtype)
        y[index] = x
        return y

    @staticmethod
    def backward(ctx, grad_y):
        return ctx.run(Index, grad_y, index=ctx.index)


class Take(Op):
    """y = x[indices] for a 1-D integer array of row indices (rows may repeat).

    VJP: grad_x = zeros like x, with each row of grad_y added to the row it came from.
    """

    @staticmethod
    def forward(ctx, x, indices):
        ctx.shape, ctx.indices = x.shape, indices
        return ctx.xp.take(x, indices, axis=0)

    @staticmethod
    def backward(ctx, grad_y):
        return ctx.run(AddAt, grad_y, shape=ctx.shape, indices=ctx.indices)


class AddAt(Op):
    """y = zeros of ``shape``, with row i of x added to row indices[i] (Take's VJP).

    VJP: grad_x = grad_y[indices]   (AddAt and Take are each other's backward)
    """

    @staticmethod
    def forward(ctx, x, shape, indices):
        ctx.indices = indices
        zeros = ctx.xp.zeros(shape, dtype=x.dtype)
        return ctx.backend.add_at(zeros, indices, x)

    @staticmethod
    def backward(ctx, grad_y):
        return ctx.run(Take, grad_y, indices=ctx.indices)


# ---- the functions users call ----------------------------------------------------------------
def transpose(x, axes=None):
    if axes is not None:
        axes = tuple(axes)
        in_range = all(isinstance(a, int) and -x.ndim <= a < x.ndim for a in axes)
        if not in_range or sorted(a % x.ndim for a in axes) != list(range(x.ndim)):
            raise ValueError(f"axes: got {axes!r}, wanted None or a permutation of the {x.ndim} axes")
    return apply(Transpose, x, axes=axes)


def permute_dims(x, axes):
    """The array API's name for transpose with explicit axes (backward passes use it)."""
    return transpose(x, axes)


def matrix_transpose(x):
    """Swap the last two axes: (..., m, n) -> (..., n, m)."""
    if x.ndim < 2:
        raise ValueError(f"x: got shape {x.shape}, wanted at least 2 axes")
    axes = tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2)
    return apply(Transpose, x, axes=axes)


def broadcast_to(x, shape):
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return apply(BroadcastTo, x, shape=shape)


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
