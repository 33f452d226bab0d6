"""softmax, log_softmax, one_hot and argmax (minigan/ops/softmax.py, docs/math/softmax.md).

The two softmax ops: backward against finite differences (float64, every backend), forward
against NumPy, rows that sum to 1, log_softmax = log(softmax), exact and finite answers at
logits of +-1e3, and the second derivative (the backward differentiated once more, with
``minigan.grad(..., create_graph=True)``, via minigan.gradgradcheck) against finite
differences of the first.
one_hot and argmax: their values, and that they give no gradient.
"""
import warnings

import numpy as np
import numpy.testing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import BACKENDS, arrays, shapes

import minigan
from minigan import ops


def np_log_softmax(x, axis):
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


SOFTMAX_OPS = {  # name -> (op, NumPy reference in float64)
    "softmax": (ops.softmax, lambda x, axis: np.exp(np_log_softmax(x, axis))),
    "log_softmax": (ops.log_softmax, np_log_softmax),
}


@st.composite
def logits_and_axis(draw, low=-3.0, high=3.0):
    shape = draw(shapes())
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    return draw(arrays(shape, low, high)), axis


def leaf(host, backend, dtype="float64"):
    return minigan.tensor(host, requires_grad=True, backend=backend, dtype=dtype)


# ---- the first derivative and the forward -------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(SOFTMAX_OPS))
@given(drawn=logits_and_axis())
def test_backward_matches_finite_differences(name, backend, drawn):
    host, axis = drawn
    op, _ = SOFTMAX_OPS[name]
    minigan.gradcheck(lambda x: op(x, axis=axis), [leaf(host, backend)])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(SOFTMAX_OPS))
@given(drawn=logits_and_axis(-30.0, 30.0))
def test_forward_matches_numpy_and_keeps_float32(name, backend, drawn):
    host, axis = drawn
    op, reference = SOFTMAX_OPS[name]
    y = op(leaf(host, backend), axis=axis)
    npt.assert_allclose(y.numpy(), reference(host, axis), rtol=1e-12, atol=1e-12)
    x32 = leaf(host, backend, "float32")
    y32 = op(x32, axis=axis)
    y32.backward(np.ones(y32.shape))
    float32 = x32.backend.xp.float32
    assert y32.dtype == float32 and x32.grad.dtype == float32


@pytest.mark.parametrize("backend", BACKENDS)
@given(drawn=logits_and_axis(-30.0, 30.0))
def test_softmax_rows_are_distributions_and_log_softmax_is_their_log(backend, drawn):
    host, axis = drawn
    x = leaf(host, backend)
    p = ops.softmax(x, axis=axis).numpy()
    assert np.all(p >= 0)
    npt.assert_allclose(np.sum(p, axis=axis), 1.0, rtol=1e-12)
    log_p = ops.log_softmax(x, axis=axis).numpy()
    safe = p > 1e-300                 # where log(softmax) is itself finite and accurate
    npt.assert_allclose(log_p[safe], np.log(p[safe]), rtol=1e-10, atol=1e-12)


# ---- stable at logits of +-1e3 ---------------------------------------------------------------
EXTREME = np.array([[1e3, -1e3, 0.0], [-1e3, -1e3 + 1.0, -1e3], [1e3, 1e3, 1e3 - 2.0]])
# exact answers, worked by hand: subtracting the row maximum leaves exponents of 0, -1, -2, -1000, -2000
E1, E2 = np.exp(-1.0), np.exp(-2.0)
SOFTMAX_EXTREME = np.array([[1.0, 0.0, np.exp(-1e3)],
                            [E1 / (1 + 2 * E1), 1 / (1 + 2 * E1), E1 / (1 + 2 * E1)],
                            [1 / (2 + E2), 1 / (2 + E2), E2 / (2 + E2)]])
LOG_SOFTMAX_EXTREME = np.array([[0.0, -2e3, -1e3],
                                [-1 - np.log1p(2 * E1), -np.log1p(2 * E1), -1 - np.log1p(2 * E1)],
                                [-np.log(2 + E2), -np.log(2 + E2), -2 - np.log(2 + E2)]])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(SOFTMAX_OPS))
def test_stable_at_logits_of_plus_minus_1e3(name, dtype, backend):
    """Exact, finite values and gradients, with no overflow warning, where exp(1e3) = inf."""
    op, _ = SOFTMAX_OPS[name]
    wanted = SOFTMAX_EXTREME if name == "softmax" else LOG_SOFTMAX_EXTREME
    x = leaf(EXTREME, backend, dtype)
    grad_y = np.array([[1.0, -2.0, 0.5], [0.3, 1.0, -1.0], [2.0, 0.0, 1.0]])
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        y = op(x)
        y.backward(grad_y)
    value, grad = y.numpy(), x.backend.to_host(x.grad)
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(grad))
    tol = 1e-6 if dtype == "float32" else 1e-12
    npt.assert_allclose(value, wanted, rtol=tol, atol=tol)
    # the VJPs of docs/math/softmax.md, evaluated in float64 on the exact values
    p = SOFTMAX_EXTREME
    expected = (p * (grad_y - np.sum(grad_y * p, axis=-1, keepdims=True)) if name == "softmax"
                else grad_y - p * np.sum(grad_y, axis=-1, keepdims=True))
    npt.assert_allclose(grad, expected, rtol=tol, atol=tol)


# ---- the second derivative -------------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(SOFTMAX_OPS))
@given(drawn=logits_and_axis(), seed=st.integers(0, 2**16))
def test_second_derivative_matches_finite_differences_of_the_first(name, backend, drawn, seed):
    """The backward, recorded (create_graph=True) and differentiated again, against central
    differences of the first derivative h(x) = d<v, op(x)>/dx (minigan.gradgradcheck)."""
    host, axis = drawn
    op, _ = SOFTMAX_OPS[name]
    minigan.gradgradcheck(lambda x: op(x, axis=axis), [leaf(host, backend)], seed=seed)


# ---- one_hot and argmax: symbols, and no gradient ---------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_argmax_and_one_hot_values(backend):
    host = np.array([[0.1, 2.0, -1.0, 2.0], [5.0, 0.0, 0.0, 4.9]])
    x = leaf(host, backend)
    index = ops.argmax(x)
    npt.assert_array_equal(index.numpy(), [1, 0])                 # the first of two equal maxima
    npt.assert_array_equal(ops.argmax(x, axis=0).numpy(), [1, 0, 1, 1])
    rows = ops.one_hot(index, 4)
    npt.assert_array_equal(rows.numpy(), [[0, 1, 0, 0], [1, 0, 0, 0]])
    assert rows.dtype == x.backend.default_float
    assert ops.one_hot(index, 4, dtype="float64").dtype == x.backend.xp.float64
    npt.assert_array_equal(ops.one_hot(minigan.tensor([[2, 0]], backend=backend), 3).numpy(),
                           [[[0, 0, 1], [1, 0, 0]]])               # shape indices.shape + (k,)


@pytest.mark.parametrize("backend", BACKENDS)
def test_argmax_and_one_hot_cut_the_graph(backend):
    """What a generator ending in argmax gets: outputs that require no grad, so backward refuses,
    and the gradient reaching the logits through any path that does go on is exactly 0."""
    x = leaf(np.array([[0.3, -1.0, 2.0], [1.0, 0.5, 0.0]]), backend)
    rows = ops.one_hot(ops.argmax(ops.softmax(x)), 3)
    assert not rows.requires_grad and rows.is_leaf
    with pytest.raises(RuntimeError, match="does not require grad"):
        ops.sum(rows).backward()
    loss = ops.sum(rows * 3.0) + 0.0 * ops.sum(x)                # x enters only through a 0 weight
    loss.backward()
    assert np.all(x.backend.to_host(x.grad) == 0.0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_bad_arguments_raise(backend):
    x = minigan.tensor(np.ones((2, 3)), backend=backend)
    with pytest.raises(ValueError, match="axis: got 2"):
        ops.softmax(x, axis=2)
    with pytest.raises(ValueError, match="axis"):
        ops.log_softmax(x, axis=(0, 1))
    with pytest.raises(ValueError, match="axis"):
        ops.argmax(minigan.tensor(1.0, backend=backend))
    with pytest.raises(TypeError, match="wanted a floating dtype"):
        ops.softmax(minigan.tensor([1, 2], backend=backend))
    with pytest.raises(TypeError, match="x: got a ndarray"):
        ops.softmax(np.ones(3))
    with pytest.raises(ValueError, match=r"indices: got values outside \[0, 3\)"):
        ops.one_hot(minigan.tensor([0, 3], backend=backend), 3)
    with pytest.raises(TypeError, match="integer dtype"):
        ops.one_hot(x, 3)
    with pytest.raises(ValueError, match="k: got 0"):
        ops.one_hot(minigan.tensor([0], backend=backend), 0)


# ---- pinned by mutation testing (issue 26: benchmarks/mutation.py) --------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_an_axis_past_a_vector_is_refused_not_wrapped(backend):
    """axis 1 of a 1-D tensor is an error; wrapped (1 % 1 = 0) it would silently mean axis 0."""
    x = minigan.tensor(np.ones(3), backend=backend)
    for op in (ops.softmax, ops.log_softmax, ops.argmax):
        with pytest.raises(ValueError, match=r"^axis: got 1, wanted one axis \(an int\) of a 1-D tensor"):
            op(x, axis=1)
        with pytest.raises(ValueError, match=r"^axis: got True"):
            op(x, axis=True)


@pytest.mark.parametrize("backend", BACKENDS)
def test_integer_logits_are_refused_by_name(backend):
    x = minigan.tensor([1, 2], backend=backend)
    for name in ("softmax", "log_softmax"):
        with pytest.raises(TypeError, match=rf"^{name}: got dtype .*int64, wanted a floating dtype"):
            getattr(ops, name)(x)


@pytest.mark.parametrize("backend", BACKENDS)
def test_one_hot_takes_one_symbol_and_refuses_a_k_that_is_not_an_int(backend):
    zeros = minigan.tensor([0, 0], backend=backend)
    npt.assert_array_equal(ops.one_hot(zeros, 1).numpy(), [[1.0], [1.0]])   # k = 1: one symbol, always chosen
    for k in (True, 2.0, "3"):
        with pytest.raises(ValueError, match=rf"^k: got {k!r}, wanted a positive integer"):
            ops.one_hot(zeros, k)


@pytest.mark.parametrize("backend", BACKENDS)
def test_one_hot_takes_a_dtype_object_and_indices_of_any_integer_dtype(backend):
    """A dtype object as well as a name; and uint64 indices, which array-api-strict will not
    compare with int64 symbols (the symbols take the indices' dtype)."""
    x = minigan.tensor(np.array([2, 0]), backend=backend)
    float64 = x.xp.float64
    rows = ops.one_hot(x, 3, dtype=float64)
    assert rows.dtype == float64
    npt.assert_array_equal(rows.numpy(), [[0, 0, 1], [1, 0, 0]])
    for dtype in (np.uint64, np.uint8, np.int8, np.int32):
        indices = minigan.tensor(np.array([2, 0], dtype=dtype), backend=backend)
        npt.assert_array_equal(ops.one_hot(indices, 3).numpy(), [[0, 0, 1], [1, 0, 0]])
