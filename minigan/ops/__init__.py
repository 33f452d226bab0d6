"""The differentiable primitives: each forward beside its hand-derived backward (VJP).

Reading guide. ``y = f(x)`` forward; ``grad_y`` is dL/dy coming back; backward returns
``grad_x`` = dL/dx = grad_y * dy/dx (for matrices, the vector-Jacobian product). Each
docstring states both lines; docs/math/ops.md derives them, and
tests/test_ops.py::test_backward_matches_finite_differences checks every one.

The ops live in files by kind; every name is importable from ``minigan.ops``:

- arithmetic.py   +, -, *, /, negation, powers, the matrix product
- reductions.py   sum, mean, max over axes
- shapes.py       reshape, transpose, broadcasting, concatenation, indexing
- elementwise.py  exp, log, tanh, the sigmoid family, the rectifiers, where
- softmax.py      softmax, log_softmax; one_hot and argmax (no gradient: they cut the graph)
- conv.py         conv2d, conv_transpose2d and conv2d_weight: each one's backward is the others
- batchnorm.py    batch_norm: standardising with the batch's statistics, its closed-form backward

The backward passes are written with ``ctx.xp``: the array library (NumPy, CuPy) on the
default path, and this package itself under ``backward(create_graph=True)``, whose
gradients are then Tensors with a graph of their own (docs/math/ops.md#second-derivatives).
So this package also offers the array API's names those passes use: ``permute_dims``,
``matrix_transpose``, ``broadcast_to``, ``where``.
"""
# every name, re-exported: minigan.ops.Mul, minigan.ops.sigmoid, ...
from minigan.ops.arithmetic import Add, Div, MatMul, Mul, Neg, Pow, Sub, add, div, matmul, mul, neg, pow, sub  # noqa: F401
from minigan.ops.elementwise import (  # noqa: F401
    Exp, LeakyReLU, Log, LogSigmoid, ReLU, Sigmoid, Softplus, Tanh, Where,
    exp, leaky_relu, log, log_sigmoid, relu, sigmoid, sigmoid_and_complement, softplus, tanh, where,
)
from minigan.ops.reductions import Max, Mean, Sum, max, mean, sum  # noqa: F401
from minigan.ops.shapes import (  # noqa: F401
    AddAt, BroadcastTo, Concat, Index, Reshape, Scatter, Take, Transpose,
    broadcast_to, concat, getitem, matrix_transpose, permute_dims, reshape, transpose,
)
from minigan.ops.softmax import LogSoftmax, Softmax, argmax, log_softmax, one_hot, softmax  # noqa: F401
from minigan.ops.conv import (  # noqa: F401
    Conv2d, Conv2dWeight, ConvTranspose2d, conv2d, conv2d_weight, conv_transpose2d,
)
from minigan.ops.batchnorm import BatchNorm, batch_norm  # noqa: F401
