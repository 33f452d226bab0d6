"""Every op from one table: gradients against finite differences, forwards against NumPy.

``OPS`` maps a name to a ``Case``: how to build the op from tensors, the NumPy reference
for its forward, and a hypothesis strategy that draws the inputs (float64 host arrays,
kept inside the op's domain: log sees positive numbers, divisors and kinks stay away
from 0, max sees no ties) together with the op's settings (axis, exponent, index, ...).
The tests below run every row on every backend in ``BACKENDS``.
"""
import json
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import numpy.testing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import BACKENDS, arrays, away_from_zero, broadcast_pair, distinct, float32_logits, shapes
from test_conv import conv2d_loops, conv_transpose2d_loops

import minigan
from minigan import ops


@dataclass(frozen=True)
class Case:
    build: Callable  # (*tensors, **settings) -> Tensor
    reference: Callable  # (*float64 NumPy arrays, **settings) -> NumPy array
    inputs: st.SearchStrategy  # draws (arrays, settings)


# ---- input strategies: (tuple of float64 arrays, dict of settings) ------------------------
@st.composite
def unary(draw, values=arrays):
    return (draw(values(draw(shapes()))),), {}


@st.composite
def binary(draw, values_b=arrays):
    shape_a, shape_b = draw(broadcast_pair())
    return (draw(arrays(shape_a)), draw(values_b(shape_b))), {}


@st.composite
def with_scalar(draw, values=arrays):
    """One array and a Python float c (the op mixes them: x + c, c / x, ...)."""
    c = draw(st.floats(-3.0, 3.0, allow_nan=False).filter(lambda c: abs(c) > 0.1))
    return (draw(values(draw(shapes()))),), {"c": c}


@st.composite
def power(draw):
    """x ** p: integer powers on any sign, other powers on positive x only."""
    p = draw(st.sampled_from([2, 3, -1, 0.5, 1.5, -2.5]))
    shape = draw(shapes())
    x = draw(arrays(shape, -2.0, 2.0) if p in (2, 3) else arrays(shape, 0.3, 2.0))
    return (x,), {"p": p}


@st.composite
def leaky(draw):
    x = draw(away_from_zero(draw(shapes()), 0.05, 3.0))
    return (x,), {"slope": draw(st.sampled_from([0.0, 0.01, 0.2, 0.5]))}


@st.composite
def matmul_pair(draw):
    """(m, n) @ (n, p), and batched forms whose leading axes broadcast."""
    m, n, p, b = (draw(st.integers(1, 4)) for _ in range(4))
    batch_a, batch_b = draw(st.sampled_from([((), ()), ((b,), ()), ((), (b,)), ((1,), (b,)), ((b,), (b,))]))
    return (draw(arrays(batch_a + (m, n))), draw(arrays(batch_b + (n, p)))), {}


@st.composite
def reduction(draw, values=arrays):
    """An array and axis = None, an int or a tuple (negative axes too), keepdims or not."""
    shape = draw(shapes())
    ndim = len(shape)
    axis_int = st.integers(-ndim, ndim - 1)
    axis_tuple = st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim).flatmap(
        lambda axes: st.tuples(*[st.sampled_from([a, a - ndim]) for a in axes])
    )
    axis = draw(st.one_of(st.none(), axis_int, axis_tuple))
    return (draw(values(shape)),), {"axis": axis, "keepdims": draw(st.booleans())}


@st.composite
def reshaping(draw):
    shape = draw(shapes())
    size = int(np.prod(shape))
    target = draw(st.sampled_from([(size,), (-1,), shape[::-1], (1, size), shape + (1,), (size, -1)]))
    return (draw(arrays(shape)),), {"shape": target}


@st.composite
def permuting(draw):
    shape = draw(shapes())
    ndim = len(shape)
    perm = draw(st.permutations(range(ndim)))
    signed = tuple(draw(st.sampled_from([a, a - ndim])) for a in perm)  # e.g. (-1, 0) for (1, 0)
    axes = draw(st.sampled_from([None, signed]))
    return (draw(arrays(shape)),), {"axes": axes}


@st.composite
def concatenating(draw):
    base = draw(shapes())
    axis = draw(st.integers(-len(base), len(base) - 1))
    sizes = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    parts = []
    for n in sizes:
        shape = list(base)
        shape[axis] = n
        parts.append(draw(arrays(tuple(shape))))
    return tuple(parts), {"axis": axis}


@st.composite
def basic_index(draw):
    """x[index] with an int or a slice (steps of either sign) for a prefix of the axes."""
    shape = draw(shapes())
    index = []
    for n in shape[: draw(st.integers(1, len(shape)))]:
        as_int = st.integers(-n, n - 1)
        bound = st.one_of(st.none(), st.integers(-n, n))
        as_slice = st.builds(slice, bound, bound, st.sampled_from([None, 1, 2, -1, -2]))
        index.append(draw(st.one_of(as_int, as_slice)))
    return (draw(arrays(shape)),), {"index": tuple(index) if len(index) > 1 else index[0]}


@st.composite
def broadcasting(draw):
    """x and a shape it broadcasts to (new leading axes, axes of length 1 copied)."""
    shape_x, shape_other = draw(broadcast_pair())
    return (draw(arrays(shape_x)),), {"shape": tuple(np.broadcast_shapes(shape_x, shape_other))}


@st.composite
def matrices(draw):
    """An array of at least two axes (a stack of matrices)."""
    return (draw(arrays(draw(shapes(min_dims=2)))),), {}


@st.composite
def choosing(draw):
    """where(condition, a, b): a and b that broadcast together, and a boolean condition of their shape."""
    shape_a, shape_b = draw(broadcast_pair())
    shape = tuple(np.broadcast_shapes(shape_a, shape_b))
    condition = draw(hnp.arrays(np.bool_, shape))
    return (draw(arrays(shape_a)), draw(arrays(shape_b))), {"condition": condition}


@st.composite
def row_index(draw):
    """x[rows] with a 1-D integer array of rows that may repeat (a list or a NumPy array)."""
    shape = draw(shapes())
    rows = draw(st.lists(st.integers(0, shape[0] - 1), min_size=1, max_size=6))
    rows = draw(st.sampled_from([rows, np.array(rows, dtype=np.int64)]))
    return (draw(arrays(shape)),), {"rows": rows}


@st.composite
def convolving(draw, transpose=False):
    """A small convolution: x (N, C, H, W), w (O, C, kH, kW), stride 1-2, padding 0-1 (test_conv.py
    sweeps kernels 1-5, strides 1-3, paddings 0-2). For the transpose, x has O channels and
    an output_padding below the stride; for conv2d_weight, the second input is grad_y."""
    n, c, o = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    k, s, p = draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(0, 1))
    size = max(1, k - 2 * p) + draw(st.integers(0, 2))
    w = draw(arrays((o, c, k, k), -1.0, 1.0))
    if transpose == "weight":
        h_out = (size + 2 * p - k) // s + 1
        return (draw(arrays((n, c, size, size), -1.0, 1.0)), draw(arrays((n, o, h_out, h_out), -1.0, 1.0))), \
            {"kernel": (k, k), "stride": s, "padding": p}
    if not transpose:
        return (draw(arrays((n, c, size, size), -1.0, 1.0)), w), {"stride": s, "padding": p}
    extra = draw(st.integers(0, s - 1))
    if (size - 1) * s + k + extra - 2 * p < 1:
        p = 0
    return (draw(arrays((n, o, size, size), -1.0, 1.0)), w), {"stride": s, "padding": p, "output_padding": extra}


@st.composite
def normalizing(draw):
    """Features (m >= 2, n) spread along the batch (each column's values at least 1 apart on
    average: no near-zero variance, where float32 would lose the digits the check compares)."""
    m, n = draw(st.integers(2, 5)), draw(st.integers(1, 3))
    spread = np.linspace(-3.0, 3.0, m)[:, None]
    return (draw(arrays((m, n), -0.4, 0.4)) + spread,), {"axis": 0}


def conv2d_weight_reference(x, grad_y, kernel, stride, padding):
    """sum over n, p, q of grad_y[n, o, p, q] x_pad[n, c, s p + i, s q + j], through conv2d_loops:
    w[o, c, i, j] = <conv2d(x, e_ocij), grad_y>, one unit weight e at a time."""
    o, c = grad_y.shape[1], x.shape[1]
    g = np.zeros((o, c) + tuple(kernel))
    for index in np.ndindex(g.shape):
        unit = np.zeros(g.shape)
        unit[index] = 1.0
        g[index] = np.sum(conv2d_loops(x, unit, (stride, stride), (padding, padding)) * grad_y)
    return g


def standardized(x, axis):
    return (x - x.mean(axis=axis, keepdims=True)) / np.sqrt(x.var(axis=axis, keepdims=True) + 1e-5)


def positive(shape):
    return arrays(shape, 0.1, 3.0)


def kinked(shape):  # relu and leaky_relu have a kink at 0: finite differences must not cross it
    return away_from_zero(shape, 0.05, 3.0)


# ---- NumPy references for the nonlinear ones ------------------------------------------------
def np_sigmoid(x):
    return np.exp(-np.logaddexp(0.0, -x))


def np_leaky_relu(x, slope):
    return np.where(x > 0, x, slope * x)


def np_max(x, axis, keepdims):
    return np.max(x, axis=axis, keepdims=keepdims)


# ---- the table ------------------------------------------------------------------------------
OPS = {
    "add": Case(lambda a, b: a + b, lambda a, b: a + b, binary()),
    "sub": Case(lambda a, b: a - b, lambda a, b: a - b, binary()),
    "mul": Case(lambda a, b: a * b, lambda a, b: a * b, binary()),
    "div": Case(lambda a, b: a / b, lambda a, b: a / b, binary(values_b=away_from_zero)),
    "neg": Case(lambda x: -x, lambda x: -x, unary()),
    "add_scalar": Case(lambda x, c: x + c, lambda x, c: x + c, with_scalar()),
    "rsub_scalar": Case(lambda x, c: c - x, lambda x, c: c - x, with_scalar()),
    "rmul_scalar": Case(lambda x, c: c * x, lambda x, c: c * x, with_scalar()),
    "rdiv_scalar": Case(lambda x, c: c / x, lambda x, c: c / x, with_scalar(values=away_from_zero)),
    "pow": Case(lambda x, p: x**p, lambda x, p: x**p, power()),
    "matmul": Case(lambda a, b: a @ b, lambda a, b: a @ b, matmul_pair()),
    "sum": Case(ops.sum, lambda x, axis, keepdims: np.sum(x, axis=axis, keepdims=keepdims), reduction()),
    "mean": Case(ops.mean, lambda x, axis, keepdims: np.mean(x, axis=axis, keepdims=keepdims), reduction()),
    "max": Case(ops.max, np_max, reduction(values=distinct)),
    "reshape": Case(ops.reshape, lambda x, shape: np.reshape(x, shape), reshaping()),
    "transpose": Case(ops.transpose, lambda x, axes: np.transpose(x, axes), permuting()),
    "concat": Case(
        lambda *xs, axis: ops.concat(xs, axis=axis), lambda *xs, axis: np.concatenate(xs, axis=axis), concatenating()
    ),
    "broadcast_to": Case(ops.broadcast_to, lambda x, shape: np.broadcast_to(x, shape), broadcasting()),
    "matrix_transpose": Case(ops.matrix_transpose, lambda x: np.swapaxes(x, -1, -2), matrices()),
    "where": Case(lambda a, b, condition: ops.where(minigan.tensor(condition, backend=a.backend), a, b),
                  lambda a, b, condition: np.where(condition, a, b), choosing()),
    "index_basic": Case(lambda x, index: x[index], lambda x, index: x[index], basic_index()),
    "index_rows": Case(lambda x, rows: x[rows], lambda x, rows: x[np.asarray(rows)], row_index()),
    "exp": Case(ops.exp, np.exp, unary()),
    "log": Case(ops.log, np.log, unary(values=positive)),
    "tanh": Case(ops.tanh, np.tanh, unary()),
    "sigmoid": Case(ops.sigmoid, np_sigmoid, unary()),
    "relu": Case(ops.relu, lambda x: np.maximum(x, 0.0), unary(values=kinked)),
    "leaky_relu": Case(ops.leaky_relu, np_leaky_relu, leaky()),
    "softplus": Case(ops.softplus, lambda x: np.logaddexp(0.0, x), unary()),
    "log_sigmoid": Case(ops.log_sigmoid, lambda x: -np.logaddexp(0.0, -x), unary()),
    "conv2d": Case(ops.conv2d, lambda x, w, stride, padding: conv2d_loops(x, w, (stride,) * 2, (padding,) * 2),
                   convolving()),
    "conv_transpose2d": Case(ops.conv_transpose2d, lambda x, w, stride, padding, output_padding: conv_transpose2d_loops(
        x, w, (stride,) * 2, (padding,) * 2, (output_padding,) * 2), convolving(transpose=True)),
    "conv2d_weight": Case(ops.conv2d_weight, conv2d_weight_reference, convolving(transpose="weight")),
    "batch_norm": Case(ops.batch_norm, standardized, normalizing()),
}


def leaves(hosts, backend, dtype):
    return [minigan.tensor(h, requires_grad=True, backend=backend, dtype=dtype) for h in hosts]


# ---- the properties --------------------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(OPS))
@given(data=st.data())
def test_backward_matches_finite_differences(name, backend, data):
    case = OPS[name]
    hosts, settings = data.draw(case.inputs)
    minigan.gradcheck(lambda *xs: case.build(*xs, **settings), leaves(hosts, backend, "float64"))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(OPS))
@given(data=st.data())
def test_forward_matches_numpy(name, backend, data):
    """float64 matches the reference closely; float32 stays float32, forward and backward."""
    case = OPS[name]
    hosts, settings = data.draw(case.inputs)
    y = case.build(*leaves(hosts, backend, "float64"), **settings)
    expected = case.reference(*hosts, **settings)
    assert y.shape == np.shape(expected)
    npt.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-12)

    # float32 in, float32 out: no promotion by the op or by a Python scalar in it
    xs = leaves(hosts, backend, "float32")
    float32 = xs[0].backend.xp.float32
    y = case.build(*xs, **settings)
    assert y.dtype == float32
    y.backward(np.ones(y.shape))
    for x in xs:
        assert x.grad.dtype == float32 and tuple(x.grad.shape) == x.shape
    # the float32 forward is the float64 one rounded (inputs rounded the same way first)
    expected = case.reference(*[h.astype(np.float32).astype(np.float64) for h in hosts], **settings)
    npt.assert_allclose(y.numpy(), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_max_splits_the_gradient_among_ties(backend):
    """Where several elements share the maximum, each gets an equal share of grad_y."""
    host = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    x = minigan.tensor(host, requires_grad=True, backend=backend, dtype="float64")
    ops.max(x, axis=1).backward(np.array([6.0, 3.0]))
    npt.assert_allclose(x.backend.to_host(x.grad), [[0.0, 3.0, 3.0], [1.0, 1.0, 1.0]])
    x.zero_grad()
    ops.max(x).backward()  # the two 3.0s tie over the whole array
    npt.assert_allclose(x.backend.to_host(x.grad), [[0.0, 0.5, 0.5], [0.0, 0.0, 0.0]])


# ---- numerically stable forms -------------------------------------------------------------
EXTREME = np.array([-1e4, -100.0, -88.8, -20.0, -1.0, 0.0, 1.0, 20.0, 88.8, 100.0, 1e4])
STABLE = {  # name -> (op, f(x), f'(x)), references in stable float64 forms
    "sigmoid": (ops.sigmoid, np_sigmoid, lambda x: np_sigmoid(x) * np_sigmoid(-x)),
    "softplus": (ops.softplus, lambda x: np.logaddexp(0.0, x), np_sigmoid),
    "log_sigmoid": (ops.log_sigmoid, lambda x: -np.logaddexp(0.0, -x), lambda x: np_sigmoid(-x)),
}
TINY32 = float(np.finfo(np.float32).tiny)  # 1.2e-38, the smallest normal float32


def run_quietly(op, x):
    """y = op(x) and its backward with grad_y = 1, where any warning or overflow is an error."""
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        y = op(x)
        y.backward(np.ones(y.shape))  # cast to y's dtype by backward
    return y.numpy(), x.backend.to_host(x.grad)


def assert_float32_exact(got, true, what):
    """Within 2e-6 of the float64 truth wherever that is a normal float32; within 2**-126 elsewhere."""
    got, true = np.asarray(got, dtype=np.float64), np.asarray(true, dtype=np.float64)
    normal = np.abs(true) >= TINY32
    npt.assert_allclose(got[normal], true[normal], rtol=2e-6, atol=0, err_msg=what)
    npt.assert_allclose(got[~normal], true[~normal], rtol=0, atol=TINY32, err_msg=what)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(STABLE))
def test_stable_at_extreme_inputs(name, dtype, backend):
    """sigmoid, softplus, log_sigmoid: finite values and gradients at +-1e4, no warning."""
    op, f, df = STABLE[name]
    x = minigan.tensor(EXTREME, requires_grad=True, backend=backend, dtype=dtype)
    value, grad = run_quietly(op, x)
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(grad))
    x_rounded = EXTREME.astype(dtype).astype(np.float64)
    npt.assert_allclose(value, f(x_rounded), rtol=1e-6, atol=1e-6)
    npt.assert_allclose(grad, df(x_rounded), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(STABLE))
@given(host=float32_logits())
def test_float32_matches_float64_reference(name, backend, host):
    """sigmoid, softplus, log_sigmoid in float32, forward and backward: relative error at most
    2e-6 against float64 at the same x, for x in [-88, 88] (benchmarks/sigmoid_accuracy.py
    prints the table; the old tanh form of sigmoid was off by a factor of 14 near x = -20)."""
    op, f, df = STABLE[name]
    value, grad = run_quietly(op, minigan.tensor(host, requires_grad=True, backend=backend))
    x = host.astype(np.float64)
    assert_float32_exact(value, f(x), f"{name} forward")
    assert_float32_exact(grad, df(x), f"{name} backward")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(STABLE))
def test_float32_exact_on_a_dense_grid(name, backend):
    """The same bound on 200,001 evenly spaced float32 x in [-88, 88], so no region is missed."""
    op, f, df = STABLE[name]
    host = np.linspace(-88.0, 88.0, 200_001).astype(np.float32)
    value, grad = run_quietly(op, minigan.tensor(host, requires_grad=True, backend=backend))
    x = host.astype(np.float64)
    assert_float32_exact(value, f(x), f"{name} forward")
    assert_float32_exact(grad, df(x), f"{name} backward")


def test_sigmoid_keeps_tiny_values_and_gradients():
    """The two numbers the tanh form got wrong: sigmoid(-20) = 2.06e-9 (not 0), and
    sigmoid'(20) = 2.06e-9 (not 0, which is y * (1 - y) once y rounds to 1)."""
    x = minigan.tensor([-20.0, 20.0], requires_grad=True)
    y = ops.sigmoid(x)
    y.backward(np.ones(2, dtype=np.float32))
    assert y.numpy()[0] == pytest.approx(2.0611537e-09, rel=1e-6)
    npt.assert_allclose(x.grad, [2.0611537e-09, 2.0611537e-09], rtol=1e-6)


def test_accuracy_benchmark_runs_and_finds_the_old_form_wrong(capsys, monkeypatch):
    """benchmarks/sigmoid_accuracy.py on a small grid: the new forms meet 2e-6, the old tanh form did not."""
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parent.parent))  # benchmarks/ is not installed
    from benchmarks import sigmoid_accuracy

    assert sigmoid_accuracy.main(["--points", "2001", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    table = result["backends"]["numpy"]["table"]
    assert result["failures"] == [] and table["sigmoid"]["new"]["backward"][0] <= 2e-6
    assert table["sigmoid"]["old"]["forward"][0] > 1.0  # 0.5 * (tanh(x / 2) + 1): wrong by > 100%


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("slope", [0.0, 0.2])
def test_leaky_relu_at_infinities_keeps_its_dtype(backend, slope):
    host = np.array([-np.inf, -2.0, -0.0, 0.0, 3.0, np.inf], dtype=np.float32)
    x = minigan.tensor(host, requires_grad=True, backend=backend)
    with np.errstate(invalid="ignore"):  # slope 0 at -inf: 0 * -inf is NaN, as in the where form below
        y = ops.leaky_relu(x, slope)
        y.backward(np.ones(6))
        wanted = np.where(host > 0, host, np.float32(slope) * host)
    assert y.dtype == x.dtype and x.grad.dtype == x.dtype   # float32 stays float32
    npt.assert_array_equal(y.numpy(), wanted)
    npt.assert_array_equal(x.backend.to_host(x.grad), np.where(host > 0, np.float32(1.0), np.float32(slope)))


# ---- the same ops as Tensor methods ---------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_methods_call_the_same_ops(backend):
    host = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
    x = minigan.tensor(host, backend=backend, dtype="float64")
    pairs = [
        (x.exp(), np.exp(host)), (x.tanh(), np.tanh(host)), (x.sigmoid(), np_sigmoid(host)),
        (x.relu(), np.maximum(host, 0)), (x.leaky_relu(0.1), np_leaky_relu(host, 0.1)),
        (x.softplus(), np.logaddexp(0, host)), (x.log_sigmoid(), -np.logaddexp(0, -host)),
        ((x * x).log(), np.log(host * host)), (x.sum(axis=1), host.sum(axis=1)),
        (x.mean(axis=0, keepdims=True), host.mean(axis=0, keepdims=True)), (x.max(), host.max()),
        (x.reshape(3, 2), host.reshape(3, 2)), (x.reshape((6,)), host.reshape(6)), (x.T, host.T),
        (x.transpose((1, 0)), host.T), (x @ x.T, host @ host.T), (x**2, host**2), (2.0 - x, 2.0 - host),
        (1.0 + x, 1.0 + host), (3.0 / x, 3.0 / host), (x / 4, host / 4), (x - 1, host - 1),
    ]
    for got, expected in pairs:
        npt.assert_allclose(got.numpy(), expected, rtol=1e-12)


# ---- bad inputs get a clear error --------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_bad_arguments_raise(backend):
    x = minigan.tensor(np.ones((2, 3)), backend=backend)
    with pytest.raises(ValueError, match="axis"):
        ops.sum(x, axis=2)
    with pytest.raises(ValueError, match="axes"):
        ops.transpose(x, (0, 0))
    with pytest.raises(ValueError, match="matmul"):
        ops.matmul(x, minigan.tensor(np.ones(3), backend=backend))
    with pytest.raises(ValueError) as error:
        ops.matmul(x, minigan.tensor(np.ones((4, 5)), backend=backend))
    assert str(error.value) == "matmul: got shapes (2, 3) and (4, 5); the inner sizes 3 and 4 must match"
    with pytest.raises(ValueError, match=r"shapes \(2, 3\) and \(2, 3\); the inner sizes 3 and 2"):
        x @ x
    with pytest.raises(TypeError, match="exponent"):
        ops.pow(x, x)
    with pytest.raises(ValueError, match="slope"):
        ops.leaky_relu(x, 1.5)
    with pytest.raises(IndexError, match="1-D integer array"):
        x[np.array([[0, 1]])]
    with pytest.raises(IndexError, match="inside a tuple"):
        x[:, [0, 0]]  # NumPy advanced indexing: refused, its repeats would lose gradient
    with pytest.raises(TypeError, match="operand"):
        x + "a"
    with pytest.raises(TypeError, match="Tensor"):
        ops.exp(np.ones(3))
    with pytest.raises(TypeError, match="condition: got dtype .*float64, wanted a boolean array"):
        ops.where(x, x, 0.0)                 # a float mask is a mistake, not a condition
    with pytest.raises(ValueError, match=r"x: got shape \(3,\), wanted at least 2 axes"):
        ops.matrix_transpose(minigan.tensor(np.ones(3), backend=backend))


@pytest.mark.parametrize("backend", BACKENDS)
def test_numpy_integer_index_is_a_plain_index(backend):
    x = minigan.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, backend=backend, dtype="float64")
    y = x[np.int64(1)]
    assert y.shape == (3,)
    y.sum().backward()
    npt.assert_array_equal(x.backend.to_host(x.grad), [[0, 0, 0], [1, 1, 1]])


# ---- pinned by mutation testing (issue 26: benchmarks/mutation.py) --------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_reductions_default_to_every_axis_without_keepdims(backend):
    """sum(x), mean(x), max(x) are 0-d; the Op classes (exported, used with apply) default the same way."""
    host = np.array([[1.0, -2.0, 4.0], [0.5, 3.0, -1.0]])
    x = minigan.tensor(host, backend=backend, dtype="float64")
    for function, op, reference in [(ops.sum, ops.Sum, np.sum), (ops.mean, ops.Mean, np.mean), (ops.max, ops.Max, np.max)]:
        for y in (function(x), minigan.autograd.apply(op, x)):
            assert y.shape == () and y.numpy() == reference(host)
        for y in (function(x, axis=1), minigan.autograd.apply(op, x, axis=1)):
            assert y.shape == (2,)
            npt.assert_allclose(y.numpy(), reference(host, axis=1), rtol=1e-15)


@pytest.mark.parametrize("backend", BACKENDS)
def test_reduction_axes_may_be_a_list(backend):
    host = np.arange(6.0).reshape(2, 3)
    x = minigan.tensor(host, requires_grad=True, backend=backend, dtype="float64")
    npt.assert_allclose(ops.sum(x, axis=[0, 1]).numpy(), 15.0)
    npt.assert_allclose(ops.mean(x, axis=[0]).numpy(), [1.5, 2.5, 3.5])
    y = ops.max(x, axis=[1])
    npt.assert_allclose(y.numpy(), [2.0, 5.0])
    y.backward(np.ones(2))
    npt.assert_allclose(x.backend.to_host(x.grad), [[0, 0, 1], [0, 0, 1]])


@pytest.mark.parametrize("backend", BACKENDS)
def test_reductions_refuse_axes_outside_the_tensor_in_their_own_words(backend):
    """Our one-line message, not the array library's (NumPy's AxisError also says "axis")."""
    x, row = (minigan.tensor(np.ones(shape), backend=backend) for shape in [(2, 3), (3,)])
    for function in (ops.sum, ops.mean, ops.max):
        for axis in (2, -3, (0, 2), 1.0):
            with pytest.raises(ValueError, match=rf"^axis: got {re.escape(repr(axis))}, wanted None or axes of a 2-D"):
                function(x, axis=axis)
        with pytest.raises(ValueError, match=r"^axis: got 1, wanted None or axes of a 1-D tensor"):
            function(row, axis=1)


def test_the_mean_of_an_empty_tensor_has_a_quiet_backward():
    """n = 0 elements per mean: the backward divides by 1 instead (grad_x is empty anyway), no warning."""
    x = minigan.tensor(np.zeros((0, 3)), requires_grad=True, dtype="float64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # NumPy's "mean of empty slice": the forward's NaN is NumPy's
        y = ops.mean(x, axis=0)
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        y.backward(np.ones(3))
    assert x.grad.shape == (0, 3)


@pytest.mark.parametrize("backend", BACKENDS)
def test_integer_tensors_take_integers_and_refuse_floats(backend):
    """A Python int joins an integer tensor (exactly, as an integer); a float is refused, not truncated to 0."""
    x = minigan.tensor(np.array([2, -3]), backend=backend)
    for y, wanted in [(x + 1, [3, -2]), (2 * x, [4, -6]), (x**2, [4, 9]), (ops.pow(x, np.int64(3)), [8, -27])]:
        assert y.dtype == x.dtype            # integer powers stay integers (a float exponent would make floats)
        npt.assert_array_equal(y.numpy(), wanted)
    with pytest.raises(TypeError, match=r"^operand: got the float 0.5 with an integer tensor"):
        x + 0.5


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", ["add", "matmul"])
def test_a_backward_computes_only_the_gradients_wanted(name, backend):
    """ctx.needs_grad (False for data, or for weights held fixed): the backward returns None there,
    computing nothing; what is wanted is still right."""
    be = minigan.backend.get_backend(backend)
    a, b, grad_y = np.arange(6.0).reshape(2, 3), np.array([1.0, -2.0, 0.5]), np.ones((2, 3))
    if name == "add":   # (2, 3) + (3,): b's gradient sums over the copies
        op, b, wanted = ops.Add, b, [grad_y, grad_y.sum(axis=0)]
    else:               # (2, 3) @ (3, 3)
        op, b = ops.MatMul, np.outer(b, [1.0, 2.0, 3.0])
        wanted = [grad_y @ b.T, a.T @ grad_y]
    ctx = minigan.autograd.Context(be)
    op.forward(ctx, be.asarray(a), be.asarray(b))
    for needs in [(True, False), (False, True)]:
        ctx.needs_grad = needs
        grads = op.backward(ctx, be.asarray(grad_y))
        assert [g is None for g in grads] == [not n for n in needs]
        got = [be.to_host(g) for g, n in zip(grads, needs) if n]
        npt.assert_allclose(got[0], [w for w, n in zip(wanted, needs) if n][0])


@pytest.mark.parametrize("backend", BACKENDS)
def test_relu_and_leaky_relu_at_and_around_zero(backend):
    """relu'(0) = 0 (x > 0 picks the gradient, as in PyTorch); leaky_relu's default slope is 0.2,
    the Op's too, and a slope of 1 (the identity: no longer a rectifier) is refused."""
    host = np.array([-2.0, -0.0, 0.0, 3.0])
    x = minigan.tensor(host, requires_grad=True, backend=backend, dtype="float64")
    ops.relu(x).backward(np.ones(4))
    npt.assert_array_equal(x.backend.to_host(x.grad), [0.0, 0.0, 0.0, 1.0])
    for y in (ops.leaky_relu(x), minigan.autograd.apply(ops.LeakyReLU, x)):
        npt.assert_array_equal(y.numpy(), [-0.4, -0.0, 0.0, 3.0])
    x.zero_grad()
    ops.leaky_relu(x).backward(np.ones(4))
    npt.assert_array_equal(x.backend.to_host(x.grad), [0.2, 0.2, 0.2, 1.0])
    for slope in (1, 1.0, -0.1):
        with pytest.raises(ValueError, match=rf"^slope: got {slope!r}, wanted a number in \[0, 1\)"):
            ops.leaky_relu(x, slope)


@pytest.mark.parametrize("backend", BACKENDS)
def test_shape_ops_take_int_shapes_tensor_indices_and_default_axes(backend):
    """An int shape for reshape and broadcast_to; an integer Tensor of rows as an index; concat's
    default axis 0 (the Op's too); permute_dims with its own axes (not the reversal)."""
    host = np.arange(6.0).reshape(2, 3)
    x = minigan.tensor(host, backend=backend, dtype="float64")
    assert ops.reshape(x, 6).shape == (6,) and ops.broadcast_to(ops.reshape(x, 6)[0], 4).shape == (4,)
    npt.assert_array_equal(x[minigan.tensor([1, 0, 1], backend=backend)].numpy(), host[[1, 0, 1]])
    for y in (ops.concat([x, x]), minigan.autograd.apply(ops.Concat, x, x)):
        npt.assert_array_equal(y.numpy(), np.concatenate([host, host], axis=0))
    cube = minigan.tensor(np.arange(24.0).reshape(2, 3, 4), backend=backend, dtype="float64")
    npt.assert_array_equal(ops.permute_dims(cube, (1, 0, 2)).numpy(), np.arange(24.0).reshape(2, 3, 4).transpose(1, 0, 2))


@pytest.mark.parametrize("backend", BACKENDS)
def test_shape_ops_refuse_bad_axes_and_lists_in_their_own_words(backend):
    """Axes past the last are refused, not wrapped ((1, 2) of a 2-D tensor would pass as (1, 0));
    concat wants a non-empty list of Tensors."""
    x = minigan.tensor(np.ones((2, 3)), backend=backend)
    for axes in [(1, 2), (0, 3), (0, -3)]:
        with pytest.raises(ValueError, match=rf"^axes: got {re.escape(repr(axes))}, wanted None or a permutation"):
            ops.transpose(x, axes)
    for tensors in ([], [x, np.ones((2, 3))]):
        with pytest.raises(TypeError, match=r"^tensors: wanted a non-empty list of Tensors"):
            ops.concat(tensors)
