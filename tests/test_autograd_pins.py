"""The Tensor's small promises, each pinned by a value a wrong wiring would change.

Mutation testing (benchmarks/mutation.py minigan/autograd.py) found these unguarded: the
operator and method spellings (``2.0 / x``, ``x.sum(axis=1)``, ``x.reshape(3, 2)``,
``x.leaky_relu()``) that the rest of the suite reaches only through ``minigan.ops``; the
``repr``; ``requires_grad_``; which lists become integer tensors; and broadcasting's VJP
over an axis of length 2. Every expected value here is computed with NumPy, not with the
op under test.
"""
import numpy as np
import numpy.testing as npt
import pytest
from strategies import BACKENDS

import minigan
from minigan.autograd import unbroadcast

X = np.array([[0.5, -1.0, 2.0], [-3.0, 1.5, 0.25]])   # (2, 3): not square, no two rows alike, both signs


def tensor(values, backend):
    return minigan.tensor(np.asarray(values, dtype=np.float64), backend=backend, dtype="float64")


def same(t, expected):
    """``t`` holds exactly NumPy's ``expected``: the same shape (no broadcasting leeway) and values."""
    expected = np.asarray(expected)
    assert t.shape == expected.shape
    npt.assert_allclose(t.numpy(), expected, rtol=1e-12, atol=1e-15)


# ---- reductions as methods: each argument reaches the op ------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", ["sum", "mean", "max"])
def test_reduction_methods_pass_axis_and_keepdims(backend, name):
    x, reduce = tensor(X, backend), getattr(np, name)
    same(getattr(x, name)(), reduce(X))                                   # all of it, to shape ()
    same(getattr(x, name)(axis=1), reduce(X, axis=1))                     # (2,)
    same(getattr(x, name)(0), reduce(X, axis=0))                          # (3,), axis by position
    same(getattr(x, name)(axis=0, keepdims=True), reduce(X, axis=0, keepdims=True))   # (1, 3)
    same(getattr(x, name)(1, True), reduce(X, axis=1, keepdims=True))     # (2, 1), both by position


# ---- shapes as methods ---------------------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_reshape_takes_sizes_or_one_shape(backend):
    x = tensor(X, backend)
    same(x.reshape(3, 2), X.reshape(3, 2))       # sizes as arguments
    same(x.reshape((3, 2)), X.reshape(3, 2))     # one tuple
    same(x.reshape(6), X.reshape(6))             # one size
    same(x.reshape(-1, 2), X.reshape(-1, 2))


@pytest.mark.parametrize("backend", BACKENDS)
def test_transpose_reverses_the_axes_or_follows_the_given_order(backend):
    cube = np.arange(24.0).reshape(2, 3, 4)
    x = tensor(cube, backend)
    same(x.transpose(), cube.transpose())                 # (4, 3, 2)
    same(x.transpose((1, 0, 2)), cube.transpose(1, 0, 2))  # (3, 2, 4)
    same(tensor(X, backend).T, X.T)


@pytest.mark.parametrize("backend", BACKENDS)
def test_len_is_the_first_axis(backend):
    assert len(tensor(X, backend)) == 2 and len(tensor(X.T, backend)) == 3


# ---- element-wise functions as methods -----------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_elementwise_methods_compute_their_function(backend):
    x = tensor(X, backend)
    same(tensor(np.abs(X), backend).log(), np.log(np.abs(X)))
    same(x.exp(), np.exp(X))
    same(x.tanh(), np.tanh(X))
    same(x.sigmoid(), 1 / (1 + np.exp(-X)))
    same(x.relu(), np.maximum(X, 0))
    same(x.softplus(), np.log1p(np.exp(X)))
    same(x.log_sigmoid(), -np.log1p(np.exp(-X)))
    same(x.leaky_relu(), np.where(X > 0, X, 0.2 * X))    # the default slope, 0.2 (DCGAN's)
    same(x.leaky_relu(0.1), np.where(X > 0, X, 0.1 * X))


# ---- a number on the left: the reflected operators keep the order ---------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_number_on_the_left_of_an_operator(backend):
    x = tensor(X, backend)
    same(2.0 + x, 2.0 + X)
    same(5.0 - x, 5.0 - X)
    same(3.0 * x, 3.0 * X)
    same(2.0 / x, 2.0 / X)        # not X / 2


def test_a_numpy_array_on_the_left_is_named_in_the_error():
    """ndarray @ tensor and ndarray * tensor reach the Tensor's reflected operator
    (__array_priority__), which refuses the array by its type: wrap it in minigan.tensor."""
    x = tensor(np.eye(2), "numpy")
    with pytest.raises(TypeError, match="operand: got ndarray, wanted a Tensor"):
        np.ones((2, 2)) @ x
    with pytest.raises(TypeError, match="operand: got ndarray, wanted a Tensor"):
        np.ones((2, 2)) * x
    with pytest.raises(ValueError, match=r"matmul: got shapes \(\) and \(2, 2\)"):   # a number: matmul's own check
        2.0 @ x


# ---- what a tensor says about itself -------------------------------------------------------------
def test_repr_shows_the_values_the_backend_and_requires_grad_only_when_set():
    data = np.array([1.0, 2.0], dtype=np.float32)
    assert repr(minigan.tensor(data)) == f"Tensor({data!r}, backend='numpy')"
    assert repr(minigan.tensor(data, requires_grad=True)) == f"Tensor({data!r}, backend='numpy', requires_grad=True)"
    assert repr(minigan.tensor(data, backend="strict")) == f"Tensor({data!r}, backend='strict')"


@pytest.mark.parametrize("backend", BACKENDS)
def test_requires_grad_underscore_sets_the_flag_and_returns_the_tensor(backend):
    x = tensor(X, backend)
    assert x.requires_grad is False
    assert x.requires_grad_() is x and x.requires_grad is True
    (x * 2.0).sum().backward()                               # the flag is what backward reads
    same(minigan.tensor(x.grad, backend=backend), np.full((2, 3), 2.0))
    assert x.requires_grad_(False) is x and x.requires_grad is False
    counts = minigan.tensor([1, 2], backend=backend)
    assert counts.requires_grad_(False) is counts and counts.requires_grad is False   # turning it off is always fine


# ---- which data become integer tensors -----------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_nested_list_is_integer_only_when_every_entry_is_an_int(backend):
    xp = minigan.get_backend(backend).xp
    assert xp.isdtype(minigan.tensor([[1, 2], [3, 4]], backend=backend).dtype, "signed integer")
    assert minigan.tensor([1, 2.5], backend=backend).dtype == xp.float32           # one float: all floats
    assert minigan.tensor([[1, 2], [3, 4.5]], backend=backend).dtype == xp.float32  # a float in a later row
    assert minigan.tensor([[1, 2], [3, True]], backend=backend).dtype == xp.float32  # a bool is not an int here


def test_an_array_of_a_numpy_subclass_from_a_numpy_submodule_is_a_numpy_array():
    """The foreign-array check looks at the top package of the array's module: numpy.ma's
    masked array is NumPy's, so the strict backend takes it like any ndarray."""
    t = minigan.tensor(np.ma.array([1.0, 2.0]), backend="strict")
    assert t.backend.name == "strict" and t.numpy().tolist() == [1.0, 2.0]


# ---- broadcasting's VJP sums the copies --------------------------------------------------------
def test_unbroadcast_sums_an_axis_of_any_length_down_to_one():
    grad = np.arange(6.0).reshape(2, 3)
    npt.assert_array_equal(unbroadcast(grad, (1, 3)), [[3.0, 5.0, 7.0]])     # over 2 rows
    npt.assert_array_equal(unbroadcast(grad, (2, 1)), [[3.0], [12.0]])       # over 3 columns
    npt.assert_array_equal(unbroadcast(grad, (3,)), [3.0, 5.0, 7.0])         # a leading axis dropped
    assert unbroadcast(grad, (2, 3)) is grad


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_row_added_to_two_rows_gets_their_summed_gradient(backend):
    row = minigan.tensor(np.array([[1.0, 2.0, 3.0]]), requires_grad=True, backend=backend)
    rows = tensor(X, backend)
    (row * rows).sum().backward()                            # (1, 3) broadcast over 2 rows
    same(minigan.tensor(row.grad, backend=backend), X.sum(axis=0, keepdims=True))
