"""The engine: how backward() walks the graph, and how a Tensor guards what it holds."""
import numpy as np
import numpy.testing as npt
import pytest
from strategies import BACKENDS

import minigan
from minigan import ops
from minigan.autograd import Context, Op, Tensor, apply, topological_order


def leaf(values, backend, dtype="float64"):
    return minigan.tensor(np.asarray(values, dtype=np.float64), requires_grad=True, backend=backend, dtype=dtype)


def grad_of(t):
    return t.backend.to_host(t.grad)


# ---- accumulation and broadcasting -----------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_gradients_add_up_for_a_tensor_used_more_than_once(backend):
    x = leaf([1.0, -2.0, 3.0], backend)
    (x * x + x).sum().backward()  # d/dx (x^2 + x) = 2x + 1
    npt.assert_allclose(grad_of(x), [3.0, -3.0, 7.0])


@pytest.mark.parametrize("backend", BACKENDS)
def test_gradients_add_up_through_a_reused_intermediate(backend):
    x = leaf([0.5, 2.0], backend)
    h = x * 2.0
    (h * h + h).sum().backward()  # dy/dh = 2h + 1, dh/dx = 2
    npt.assert_allclose(grad_of(x), (2 * (2 * np.array([0.5, 2.0])) + 1) * 2)


@pytest.mark.parametrize("backend", BACKENDS)
def test_gradients_accumulate_across_backward_calls(backend):
    x = leaf([1.0, 2.0], backend)
    (x * 3.0).sum().backward()
    (x * x).sum().backward()  # a new graph: its gradient adds to the first
    npt.assert_allclose(grad_of(x), [3.0 + 2.0, 3.0 + 4.0])


@pytest.mark.parametrize("backend", BACKENDS)
def test_broadcast_inputs_get_gradients_of_their_own_shape(backend):
    a = leaf(np.ones((3, 1)), backend)
    b = leaf(np.arange(4.0), backend)
    c = leaf(2.0, backend)
    (a * b + c).sum().backward()  # (3, 1) * (4,) + () -> (3, 4)
    npt.assert_allclose(grad_of(a), np.full((3, 1), 0 + 1 + 2 + 3.0))
    npt.assert_allclose(grad_of(b), np.full(4, 3.0))
    npt.assert_allclose(grad_of(c), 12.0)
    for t in (a, b, c):
        assert isinstance(t.grad, t.backend.array_type)  # a 0-d array, not a NumPy scalar


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_chain_of_10000_ops_needs_no_recursion(backend):
    x = leaf([1.0], backend)
    y = x
    for _ in range(10_000):  # 10,000 nodes deep: a recursive walk would pass Python's limit (1,000)
        y = -y
    y.backward()
    npt.assert_allclose(grad_of(x), [1.0])
    npt.assert_allclose(y.numpy(), [1.0])


def test_topological_order_puts_every_node_after_its_parents():
    x = leaf([1.0], "numpy")
    a, b = x * 2.0, x + 1.0
    y = a * b + a  # a diamond, with a reused
    order = topological_order(y)
    assert len(order) == len({id(t) for t in order}) == 5  # x, a, b, a * b, y
    position = {id(t): i for i, t in enumerate(order)}
    for node in order:
        for parent in node._parents:
            if parent.requires_grad:  # constants such as the lifted 2.0 are not walked
                assert position[id(parent)] < position[id(node)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_parent_listed_first_but_used_by_its_sibling_is_still_walked_first(backend):
    """b = 2x, a = 3b, out = b + a: out's parents are b and a, and a needs b. A walk that
    marks a node visited when it is pushed (not when it is finished) lists a before b,
    and x.grad comes out 2 instead of 2 + 3 * 2 = 8."""
    x = leaf([1.0, -1.0], backend)
    b = x * 2.0
    a = b * 3.0
    out = b + a
    position = {id(t): i for i, t in enumerate(topological_order(out))}
    assert position[id(b)] < position[id(a)] < position[id(out)]
    out.sum().backward()
    npt.assert_array_equal(grad_of(x), [8.0, 8.0])


# ---- the output gradient ------------------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_non_scalar_output_takes_an_explicit_gradient(backend):
    x = leaf(np.arange(6.0).reshape(2, 3), backend)
    g = np.arange(6.0).reshape(2, 3) - 2.0
    (x * 3.0).backward(g)
    npt.assert_allclose(grad_of(x), 3.0 * g)
    x.zero_grad()
    (x * 3.0).backward(minigan.tensor(g, backend=backend, dtype="float64"))  # a Tensor works too
    npt.assert_allclose(grad_of(x), 3.0 * g)


@pytest.mark.parametrize("backend", BACKENDS)
def test_output_gradient_missing_or_of_the_wrong_shape_raises(backend):
    x = leaf(np.ones((2, 3)), backend)
    with pytest.raises(ValueError, match=r"got no grad for a tensor of shape \(2, 3\)"):
        (x * 2.0).backward()
    with pytest.raises(ValueError, match=r"got grad of shape \(3, 2\), wanted \(2, 3\)"):
        (x * 2.0).backward(np.ones((3, 2)))
    other = "strict" if backend != "strict" else "numpy"
    with pytest.raises(ValueError, match="backend"):
        (x * 2.0).backward(minigan.tensor(np.ones((2, 3)), backend=other))
    with pytest.raises(RuntimeError, match="does not require grad"):
        minigan.tensor([1.0, 2.0], backend=backend).sum().backward()


@pytest.mark.parametrize("backend", BACKENDS)
def test_output_gradient_takes_the_output_dtype(backend):
    x = leaf([1.0, 2.0], backend, dtype="float32")
    (x * 2.0).backward(np.ones(2, dtype=np.float64))
    assert x.grad.dtype == x.backend.xp.float32


# ---- backward(inputs=...): gradients for some leaves only ------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_backward_with_inputs_fills_only_those_leaves(backend):
    a, b, c = leaf([[1.0, 2.0]], backend), leaf([[3.0], [4.0]], backend), leaf([5.0], backend)
    ((a @ b) * c).sum().backward(inputs=[b])
    assert a.grad is None and c.grad is None
    npt.assert_allclose(grad_of(b), [[5.0], [10.0]])  # d (a @ b) c / db = a^T c
    ((a @ b) * c).sum().backward(inputs=[a, c])       # the same values as a full backward
    npt.assert_allclose(grad_of(a), [[15.0, 20.0]])
    npt.assert_allclose(grad_of(c), [11.0])
    npt.assert_allclose(grad_of(b), [[5.0], [10.0]])  # untouched by the second pass


@pytest.mark.parametrize("backend", BACKENDS)
def test_backward_inputs_must_be_leaves_that_require_grad(backend):
    x = leaf([1.0, 2.0], backend)
    h = x * 2.0
    for bad in (h, minigan.tensor([1.0, 2.0], backend=backend), "x"):
        with pytest.raises(ValueError, match=r"inputs\[0\]"):
            (h * h).sum().backward(inputs=[bad], retain_graph=True)


class Spy(Op):
    """y = a * b, recording which inputs each backward was asked for."""

    calls = []

    @staticmethod
    def forward(ctx, a, b):
        ctx.save(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad_y):
        a, b = ctx.saved
        Spy.calls.append(ctx.needs_grad)
        return grad_y * b, grad_y * a


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_op_is_told_which_inputs_need_a_gradient(backend):
    x, w = leaf([1.0, 2.0], backend), leaf([3.0, 4.0], backend)
    constant = minigan.tensor([5.0, 6.0], backend=backend, dtype="float64")
    Spy.calls = []
    apply(Spy, constant, w).sum().backward()              # a constant (the data) needs none
    apply(Spy, x, w).sum().backward(inputs=[w])           # x is held fixed by this backward
    apply(Spy, x, w).sum().backward()
    assert Spy.calls == [(False, True), (False, True), (True, True)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_matmul_skips_the_vjp_of_an_input_that_needs_none(backend):
    be = minigan.get_backend(backend)
    a, b = be.asarray(np.ones((4, 3))), be.asarray(np.full((3, 2), 2.0))
    ctx = Context(be)
    ops.MatMul.forward(ctx, a, b)
    for needs, a_none, b_none in (((False, True), True, False), ((True, False), False, True)):
        ctx.needs_grad = needs
        grad_a, grad_b = ops.MatMul.backward(ctx, be.asarray(np.ones((4, 2))))
        assert (grad_a is None, grad_b is None) == (a_none, b_none)
    npt.assert_allclose(be.to_host(grad_a), np.full((4, 3), 4.0))  # grad_y @ b^T


# ---- freeing the graph ----------------------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_second_backward_through_a_freed_graph_raises(backend):
    x = leaf([1.0, 2.0], backend)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="freed.*retain_graph=True"):
        y.backward()
    z = x * x
    z.sum().backward()
    with pytest.raises(RuntimeError, match="freed"):
        (z * 2.0).sum().backward()  # a new output, but through z's freed graph


@pytest.mark.parametrize("backend", BACKENDS)
def test_retain_graph_allows_a_second_backward(backend):
    x = leaf([1.0, 2.0], backend)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    npt.assert_allclose(grad_of(x), 2 * (2 * np.array([1.0, 2.0])))


# ---- no_grad, detach, zero_grad -------------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_no_grad_records_nothing(backend):
    x = leaf([1.0, 2.0], backend)
    with minigan.no_grad():
        y = (x * x).exp()
    assert not y.requires_grad and y.is_leaf and y._parents == ()
    npt.assert_allclose(y.numpy(), np.exp([1.0, 4.0]))
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()


def test_no_grad_nests_and_restores_even_after_an_error():
    assert minigan.is_grad_enabled()
    with minigan.no_grad():
        with minigan.no_grad():
            assert not minigan.is_grad_enabled()
        assert not minigan.is_grad_enabled()  # the inner block restores the outer state
    assert minigan.is_grad_enabled()
    with pytest.raises(KeyError):
        with minigan.no_grad():
            raise KeyError("inside")
    assert minigan.is_grad_enabled()


@pytest.mark.parametrize("backend", BACKENDS)
def test_detach_cuts_the_graph(backend):
    x = leaf([1.0, 2.0], backend)
    d = (x * 3.0).detach()
    assert not d.requires_grad and d.is_leaf
    npt.assert_allclose(d.numpy(), [3.0, 6.0])
    (d * x).sum().backward()  # only the direct path counts: d is a constant
    npt.assert_allclose(grad_of(x), [3.0, 6.0])


@pytest.mark.parametrize("backend", BACKENDS)
def test_zero_grad_starts_accumulation_afresh(backend):
    x = leaf([1.0, 2.0], backend)
    (x * 5.0).sum().backward()
    x.zero_grad()
    assert x.grad is None
    (x * 2.0).sum().backward()
    npt.assert_allclose(grad_of(x), [2.0, 2.0])


# ---- what a Tensor accepts --------------------------------------------------------------------------
def test_a_tensor_refuses_an_array_of_another_library():
    strict = minigan.get_backend("strict")
    x = minigan.tensor([1.0, 2.0], backend=strict)
    leaked = np.exp(x.data)  # NumPy quietly computes on the strict array and returns NumPy
    assert isinstance(leaked, np.ndarray)
    with pytest.raises(TypeError, match="leaked"):
        Tensor(leaked, strict)
    with pytest.raises(TypeError, match="array_api_strict"):
        minigan.tensor(x.data, backend="numpy")


class LeakyBackward(Op):
    """y = 2x, whose backward (wrongly) computes with NumPy on any backend."""

    @staticmethod
    def forward(ctx, x):
        return 2.0 * x

    @staticmethod
    def backward(ctx, grad_y):
        return np.multiply(grad_y, 2.0)


def test_a_backward_that_leaks_numpy_is_caught():
    x = leaf([1.0, 2.0], "strict")
    y = apply(LeakyBackward, x) * 1.0
    with pytest.raises(TypeError, match="leaked"):
        y.sum().backward()


def test_an_op_on_two_backends_raises():
    a = minigan.tensor([1.0, 2.0], backend="numpy")
    b = minigan.tensor([1.0, 2.0], backend="strict")
    with pytest.raises(ValueError, match=r"backends 'numpy' and 'strict'.*\.to\("):
        a + b
    with pytest.raises(ValueError, match="backends"):
        ops.concat([a, b])


@pytest.mark.parametrize("backend", BACKENDS)
def test_requires_grad_on_an_integer_tensor_raises(backend):
    with pytest.raises(TypeError, match="requires_grad"):
        minigan.tensor([1, 2], requires_grad=True, backend=backend)
    with pytest.raises(TypeError, match="requires_grad"):
        minigan.tensor([1, 2], backend=backend).requires_grad_()


@pytest.mark.parametrize("backend", BACKENDS)
def test_tensor_dtype_rules(backend):
    xp = minigan.get_backend(backend).xp
    assert minigan.tensor(1.5, backend=backend).dtype == xp.float32  # Python floats: default float
    assert minigan.tensor([1.0, 2], backend=backend).dtype == xp.float32
    assert minigan.tensor([], backend=backend).dtype == xp.float32
    assert xp.isdtype(minigan.tensor([1, 2], backend=backend).dtype, "signed integer")  # ints stay ints
    assert xp.isdtype(minigan.tensor(3, backend=backend).dtype, "signed integer")
    assert minigan.tensor(True, backend=backend).dtype == xp.bool
    assert minigan.tensor(np.ones(2), backend=backend).dtype == xp.float64  # arrays keep their dtype
    assert minigan.tensor(np.ones(2, dtype=np.int32), backend=backend).dtype == xp.int32
    assert minigan.tensor(1.5, backend=backend, dtype="float64").dtype == xp.float64
    assert minigan.tensor([1, 2], backend=backend, dtype=xp.float64).dtype == xp.float64
    with pytest.raises(ValueError, match="dtype"):
        minigan.tensor(1.0, backend=backend, dtype="float99")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("data, error, words", [
    (None, TypeError, "got None, wanted a number"),
    ("1.5", TypeError, "got the string '1.5', wanted a number"),
    (b"ab", TypeError, "got the string b'ab'"),
    (["a", "b"], TypeError, "got a list of strings, wanted real numbers"),
    ([[1.0, 2.0], [3.0, "x"]], TypeError, "list of strings"),
    ([1.0, None], TypeError, "objects that are not numbers (such as None)"),
    ({"a": 1}, TypeError, "dict of objects"),
    (1 + 2j, TypeError, "got complex numbers, wanted real numbers"),
    ([1.0, 2j], TypeError, "got complex numbers"),
    (np.ones(2, dtype=np.complex64), TypeError, "got complex numbers"),
    (np.array(["2026-01-01"], dtype="datetime64[D]"), TypeError, "of dates"),
    ([[1.0, 2.0], [3.0]], ValueError, "got a ragged nested list (rows of different lengths), wanted a rectangular"),
    ([[[1.0]], [[1.0, 2.0]]], ValueError, "ragged nested list"),
])
def test_tensor_refuses_what_is_not_an_array_of_real_numbers(backend, data, error, words):
    with pytest.raises(error) as raised:
        minigan.tensor(data, backend=backend)
    assert str(raised.value).startswith("data: got ") and words in str(raised.value)


def test_tensor_refuses_a_complex_backend_array():
    import array_api_strict as strict

    with pytest.raises(TypeError, match="data: got complex numbers"):
        minigan.tensor(strict.asarray([1j]), backend="strict")


def test_tensor_infers_the_backend_of_its_data():
    strict_array = minigan.get_backend("strict").asarray([1.0])
    assert minigan.tensor(strict_array).backend.name == "strict"
    assert minigan.tensor([1.0]).backend.name == "numpy"
    t = minigan.tensor([1.0, 2.0], backend="strict", requires_grad=True)
    copy = minigan.tensor(t)  # a new leaf on the same data
    assert copy.backend is t.backend and copy.is_leaf and not copy.requires_grad


@pytest.mark.parametrize("backend", BACKENDS)
def test_to_moves_a_leaf_between_backends(backend):
    x = minigan.tensor([[1.0, 2.0]], requires_grad=True, backend="numpy", dtype="float64")
    y = x.to(backend)
    assert y.backend.name == backend and y.is_leaf and y.requires_grad and y.dtype == y.backend.xp.float64
    npt.assert_array_equal(y.numpy(), [[1.0, 2.0]])
    (y * 2.0).sum().backward()
    npt.assert_allclose(grad_of(y), [[2.0, 2.0]])
    assert x.grad is None  # a copy: no gradient flows back to the original
    npt.assert_array_equal(y.to("numpy").numpy(), x.numpy())


@pytest.mark.parametrize("backend", BACKENDS)
def test_item_and_numpy(backend):
    x = minigan.tensor([[2.5]], backend=backend)
    assert x.item() == 2.5 and isinstance(x.item(), float)
    host = minigan.tensor([1.0, 2.0], backend=backend).numpy()
    assert isinstance(host, np.ndarray) and host.dtype == np.float32
    npt.assert_array_equal(host, [1.0, 2.0])
    with pytest.raises(ValueError, match="one element"):
        minigan.tensor([1.0, 2.0], backend=backend).item()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_float_with_an_integer_tensor_is_refused_not_truncated(backend):
    counts = minigan.tensor([1, 2, 3], backend=backend)
    with pytest.raises(TypeError, match="operand: got the float 0.5 with an integer tensor"):
        counts * 0.5
    assert (counts * 2).numpy().tolist() == [2, 4, 6]
