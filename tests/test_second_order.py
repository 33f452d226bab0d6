"""Double backprop: every op's second derivative, minigan.grad, and Hessian-vector products.

``backward(create_graph=True)`` and ``minigan.grad(..., create_graph=True)`` record the
backward pass itself, so a gradient is a Tensor that can be differentiated again. The
checks: for every row of test_ops.py's table, the gradient of <v, grad_x> against finite
differences of the first derivative (``gradgradcheck``); the same for the losses and an
MLP; Hessian-vector products against finite differences of gradients; and the API.
"""
import numpy as np
import numpy.testing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import BACKENDS
from test_ops import OPS, leaves

import minigan
from minigan import losses, nn, ops
from minigan.autograd import Op, apply
from minigan.ops.elementwise import sigmoid_and_complement


# ---- every op: d/dx <v, grad_x> against finite differences ----------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(OPS))
@given(data=st.data())
def test_second_derivative_matches_finite_differences(name, backend, data):
    case = OPS[name]
    hosts, settings = data.draw(case.inputs)
    minigan.gradgradcheck(lambda *xs: case.build(*xs, **settings), leaves(hosts, backend, "float64"))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(OPS))
@given(data=st.data())
def test_each_vjp_differentiates_in_its_cotangent(name, backend, data):
    """h(v) = v^T J(x) is linear in the cotangent v; its own VJP runs the backward of the
    backward (Index's is Scatter, Take's AddAt, Sum's is broadcast_to, ...), which HVPs need.
    Against finite differences in v."""
    case = OPS[name]
    hosts, settings = data.draw(case.inputs)
    xs = leaves(hosts, backend, "float64")
    with minigan.no_grad():
        shape = case.build(*xs, **settings).shape
    v = minigan.tensor(np.random.default_rng(0).standard_normal(shape), requires_grad=True, backend=backend,
                       dtype="float64")

    def first_derivative(v):
        grads = minigan.grad(case.build(*xs, **settings), xs, grad_outputs=v, create_graph=True)
        return ops.concat([ops.reshape(g, (-1,)) for g in grads])

    minigan.gradcheck(first_derivative, [v])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("form", ["non_saturating", "minimax"])
def test_losses_second_derivatives(backend, form):
    rng = np.random.default_rng(1)
    real, fake = leaves([rng.normal(size=(5, 1)) * 2, rng.normal(size=(4, 1)) * 2], backend, "float64")
    minigan.gradgradcheck(losses.discriminator_loss, [real, fake])
    minigan.gradgradcheck(losses.value_function, [real, fake])
    minigan.gradgradcheck(lambda a: losses.generator_loss(a, form=form), [fake])
    targets = minigan.tensor(rng.uniform(size=(5, 1)), backend=backend, dtype="float64")
    minigan.gradgradcheck(losses.bce_with_logits, [real, targets])


class SigmoidWithConstantComplement(Op):
    """A planted bug: saves 1 - y, a value computed from x, which a recorded backward takes
    as a constant. The first derivative is right, the second is not."""

    @staticmethod
    def forward(ctx, x):
        y, one_minus_y = sigmoid_and_complement(ctx.xp, x)
        ctx.save(y, one_minus_y)
        return y

    @staticmethod
    def backward(ctx, grad_y):
        y, one_minus_y = ctx.saved
        return grad_y * y * one_minus_y


def test_gradgradcheck_catches_a_wrong_second_derivative():
    x = minigan.tensor([0.5, -1.0, 2.0], requires_grad=True, dtype="float64")
    minigan.gradcheck(lambda t: apply(SigmoidWithConstantComplement, t), [x])  # first order: fine
    with pytest.raises(minigan.GradcheckError, match="gradient mismatch"):
        minigan.gradgradcheck(lambda t: apply(SigmoidWithConstantComplement, t), [x])
    minigan.gradgradcheck(ops.sigmoid, [x])  # the real Sigmoid recomputes it: right


# ---- networks ---------------------------------------------------------------------------------
def mlp(backend, activation="tanh", sizes=(3, 5, 4, 1)):
    return nn.MLP(list(sizes), activation=activation, rng=minigan.get_backend(backend).random(0),
                  backend=backend, dtype="float64")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "leaky_relu"])
def test_mlp_second_derivatives(backend, activation):
    """Second derivatives of an MLP by its input and by every weight and bias: the check
    perturbs the tensors it passes in, so the forward must use them (D's own Linear layers,
    their weights swapped for the passed tensors), not D's stored parameters."""
    D = mlp(backend, activation)
    x = minigan.tensor(np.random.default_rng(2).normal(size=(4, 3)), requires_grad=True, backend=backend,
                       dtype="float64")
    linears = [layer for layer in D.layers if isinstance(layer, nn.Linear)]
    stored = [(layer.weight, layer.bias) for layer in linears]

    def forward(x, *params):
        for layer, (w, b) in zip(linears, zip(params[0::2], params[1::2])):
            layer.weight, layer.bias = w, b
        try:
            return D(x)
        finally:
            for layer, (w, b) in zip(linears, stored):
                layer.weight, layer.bias = w, b

    params = [leaf for pair in stored for leaf in leaves([p.numpy() for p in pair], backend, "float64")]
    minigan.gradgradcheck(forward, [x] + params, directions=3)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("activation", [ops.tanh, ops.sigmoid, ops.softplus])
def test_a_penalty_on_the_input_gradient_has_the_right_weight_gradient(backend, activation):
    """R1's form, mean ||grad_x D(x)||^2 for D(x) = f(x W1 + b1) W2, differentiated by the
    weights through the recorded backward: against finite differences."""
    rng = np.random.default_rng(3)
    x = minigan.tensor(rng.normal(size=(6, 3)), requires_grad=True, backend=backend, dtype="float64")
    weights = leaves([rng.normal(size=(3, 5)), rng.normal(size=(5,)), rng.normal(size=(5, 1))], backend, "float64")

    def penalty(W1, b1, W2):
        (grad_x,) = minigan.grad((activation(x @ W1 + b1) @ W2).sum(), x, create_graph=True)  # (6, 3)
        return (grad_x * grad_x).sum(axis=1).mean()

    minigan.gradcheck(penalty, weights)


@pytest.mark.parametrize("backend", BACKENDS)
def test_hessian_vector_products_through_an_mlp(backend):
    """Hv from double backprop equals (g(theta + eps v) - g(theta - eps v)) / (2 eps); u.Hv = v.Hu."""
    be = minigan.get_backend(backend)
    rng = np.random.default_rng(4)
    D = mlp(backend, "tanh", sizes=(3, 6, 1))
    x = minigan.tensor(rng.normal(size=(8, 3)), backend=backend, dtype="float64")
    targets = minigan.tensor(rng.uniform(size=(8, 1)), backend=backend, dtype="float64")
    params = list(D.parameters())

    def loss():
        return losses.bce_with_logits(D(x), targets)

    def hvp(v):
        grads = minigan.grad(loss(), params, create_graph=True)
        dot = sum(((g * t).sum() for g, t in zip(grads, v)), start=minigan.tensor(0.0, backend=backend, dtype="float64"))
        return [h.numpy() for h in minigan.grad(dot, params)]

    v = [minigan.tensor(rng.normal(size=p.shape), backend=backend, dtype="float64") for p in params]
    u = [minigan.tensor(rng.normal(size=p.shape), backend=backend, dtype="float64") for p in params]
    Hv, Hu = hvp(v), hvp(u)

    eps, originals = 1e-5, [p.numpy() for p in params]

    def grads_at(sign):
        for p, p0, t in zip(params, originals, v):
            p.data = be.asarray(p0 + sign * eps * t.numpy())
        return [g.numpy() for g in minigan.grad(loss(), params)]

    numeric = [(a - b) / (2 * eps) for a, b in zip(grads_at(+1), grads_at(-1))]
    for p, p0 in zip(params, originals):
        p.data = be.asarray(p0)
    for h, n in zip(Hv, numeric):
        npt.assert_allclose(h, n, rtol=1e-5, atol=1e-8)
    u_Hv = sum(float(np.sum(a.numpy() * b)) for a, b in zip(u, Hv))
    v_Hu = sum(float(np.sum(a.numpy() * b)) for a, b in zip(v, Hu))
    assert u_Hv == pytest.approx(v_Hu, rel=1e-10, abs=1e-12)  # the Hessian is symmetric


# ---- the API ------------------------------------------------------------------------------------
def test_grad_returns_tensors_and_leaves_dot_grad_alone():
    x = minigan.tensor([1.0, 2.0], requires_grad=True, dtype="float64")
    w = minigan.tensor([3.0, -1.0], requires_grad=True, dtype="float64")
    h = x * w                                           # a non-leaf input works too
    y = (h * h).sum()
    gx, gh = minigan.grad(y, [x, h], retain_graph=True)
    npt.assert_allclose(gx.numpy(), 2 * x.numpy() * w.numpy() ** 2)
    npt.assert_allclose(gh.numpy(), 2 * h.numpy())
    assert x.grad is None and w.grad is None and not gx.requires_grad
    (gw,) = minigan.grad(y, w)                          # the graph was kept: a second pass works
    npt.assert_allclose(gw.numpy(), 2 * w.numpy() * x.numpy() ** 2)
    with pytest.raises(RuntimeError, match="already freed"):
        minigan.grad(y, w)


def test_backward_create_graph_leaves_tensors_and_the_default_leaves_arrays():
    x = minigan.tensor([0.5, -2.0], requires_grad=True, dtype="float64")
    (x * x * x).sum().backward(create_graph=True)
    assert isinstance(x.grad, minigan.Tensor) and x.grad.requires_grad
    g = x.grad
    x.grad = None
    g.sum().backward()                                  # d/dx sum 3x^2 = 6x
    npt.assert_allclose(x.grad, 6 * x.numpy())
    assert not isinstance(x.grad, minigan.Tensor)       # the default pass: arrays, as before


def test_optimizer_steps_on_a_gradient_left_as_a_tensor():
    p = minigan.tensor([1.0, -1.0], requires_grad=True, dtype="float64")
    (p * p).sum().backward(create_graph=True)
    minigan.optim.SGD([p], lr=0.25).step()
    npt.assert_allclose(p.numpy(), [0.5, -0.5])         # p - 0.25 * 2p, from the gradient's value


def test_multiple_outputs_add_up_and_grad_outputs_are_checked():
    x = minigan.tensor([1.0, 2.0, 3.0], requires_grad=True, dtype="float64")
    a, b = x * 2.0, (x * x).sum()
    (g,) = minigan.grad([a, b], x, grad_outputs=[np.ones(3), None])
    npt.assert_allclose(g.numpy(), 2.0 + 2 * x.numpy())
    with pytest.raises(ValueError, match="grad_outputs: got 1, wanted one per output"):
        minigan.grad([x * 2.0, (x * 3.0).sum()], x, grad_outputs=[np.ones(3)])
    with pytest.raises(ValueError, match="shape"):
        minigan.grad(x * 2.0, x, grad_outputs=np.ones(2))
    with pytest.raises(ValueError, match="got no grad_outputs"):
        minigan.grad(x * 2.0, x)


def test_unused_and_bad_inputs_raise_one_line_errors():
    x = minigan.tensor([1.0], requires_grad=True, dtype="float64")
    z = minigan.tensor([2.0], requires_grad=True, dtype="float64")
    with pytest.raises(ValueError, match=r"inputs\[1\]: the outputs do not depend on it"):
        minigan.grad((x * 2.0).sum(), [x, z])
    gx, gz = minigan.grad((x * 2.0).sum(), [x, z], allow_unused=True)
    assert gz is None and gx.item() == 2.0
    with pytest.raises(ValueError, match=r"inputs\[0\]: .* wanted a Tensor with requires_grad=True"):
        minigan.grad((x * 2.0).sum(), [minigan.tensor([1.0])])
    with pytest.raises(ValueError, match=r"outputs\[0\]"):
        minigan.grad(minigan.tensor([1.0]), [x])


def test_a_backward_that_returns_an_array_under_create_graph_is_refused():
    class ArrayBackward(Op):
        @staticmethod
        def forward(ctx, x):
            return x * 2.0

        @staticmethod
        def backward(ctx, grad_y):
            return grad_y.data * 2.0  # an array: nothing recorded

    x = minigan.tensor([1.0], requires_grad=True, dtype="float64")
    with pytest.raises(TypeError, match="ArrayBackward.backward: under create_graph it returned a ndarray"):
        minigan.grad(apply(ArrayBackward, x).sum(), x, create_graph=True)


def test_create_graph_records_even_inside_no_grad():
    x = minigan.tensor([3.0], requires_grad=True, dtype="float64")
    y = (x * x * x).sum()
    with minigan.no_grad():
        (g,) = minigan.grad(y, x, create_graph=True)
        assert not minigan.is_grad_enabled()             # and no_grad() is itself again after it
    assert g.requires_grad
    (h,) = minigan.grad(g.sum(), x)
    assert h.item() == pytest.approx(18.0)


# ---- minigan.grad's corner cases (issue 26) --------------------------------------------------------
def test_the_same_output_twice_adds_its_seeds():
    """grad([y, y], x, [a, b]) = (a + b) dy/dx: a second seed for one output adds to the first
    (overwriting it gives b dy/dx, and passes every test that names each output once)."""
    x = minigan.tensor([1.0, -2.0], requires_grad=True, dtype="float64")
    y = x * x                                                     # dy/dx = 2x (diagonal)
    a, b = np.array([1.0, 3.0]), np.array([0.5, -1.0])
    (g,) = minigan.grad([y, y], x, grad_outputs=[a, b], retain_graph=True)
    npt.assert_allclose(g.numpy(), (a + b) * 2 * x.numpy())
    s = (x * x * x).sum()
    (g,) = minigan.grad([s, s], x, create_graph=True)            # recorded: 2 * 3x^2, differentiable
    npt.assert_allclose(g.numpy(), 6 * x.numpy() ** 2)
    (h,) = minigan.grad(g.sum(), x)
    npt.assert_allclose(h.numpy(), 12 * x.numpy())


def test_an_output_that_is_also_an_input_gets_its_seed_back():
    x = minigan.tensor([2.0, 5.0], requires_grad=True, dtype="float64")
    y = x * 3.0
    gy, gx = minigan.grad(y, [y, x], grad_outputs=np.array([1.0, -1.0]))
    npt.assert_allclose(gy.numpy(), [1.0, -1.0])
    npt.assert_allclose(gx.numpy(), [3.0, -3.0])
    assert isinstance(gy, minigan.Tensor) and isinstance(gx, minigan.Tensor)


def test_backward_adds_into_grad_across_calls_and_kinds():
    """.grad accumulates: an array plus an array, an array plus a recorded Tensor, a Tensor
    plus an array; backward(inputs=...) fills only the leaves named."""
    x = minigan.tensor([1.0, 2.0], requires_grad=True, dtype="float64")
    w = minigan.tensor([3.0, 4.0], requires_grad=True, dtype="float64")
    (x * w).sum().backward()
    (x * x).sum().backward()
    npt.assert_allclose(x.grad, w.numpy() + 2 * x.numpy())        # array + array
    (x * x * x).sum().backward(create_graph=True)                 # array + Tensor -> Tensor
    assert isinstance(x.grad, minigan.Tensor)
    npt.assert_allclose(x.grad.numpy(), w.numpy() + 2 * x.numpy() + 3 * x.numpy() ** 2)
    (x * 2.0).sum().backward()                                    # Tensor + array -> array
    npt.assert_allclose(np.asarray(x.grad.numpy() if isinstance(x.grad, minigan.Tensor) else x.grad),
                        w.numpy() + 2 * x.numpy() + 3 * x.numpy() ** 2 + 2.0)
    x.grad, w.grad = None, None
    (x * w).sum().backward(inputs=[w])
    assert x.grad is None
    npt.assert_allclose(w.grad, x.numpy())
    with pytest.raises(ValueError, match=r"inputs\[0\]: .*wanted a leaf"):
        (x * w).sum().backward(inputs=[x * 1.0])


def test_a_recorded_pass_keeps_the_graph_and_a_plain_one_frees_it():
    x = minigan.tensor([1.5], requires_grad=True, dtype="float64")
    y = (x * x * x).sum()
    minigan.grad(y, x, create_graph=True)
    (g,) = minigan.grad(y, x)                                     # create_graph kept the graph
    assert g.item() == pytest.approx(3 * 1.5 ** 2)
    with pytest.raises(RuntimeError, match="already freed"):
        minigan.grad(y, x)
    z = (x * 2.0).sum()
    minigan.grad(z, x, create_graph=True, retain_graph=False)
    with pytest.raises(RuntimeError, match="already freed"):
        minigan.grad(z, x)


def test_a_tensor_seed_is_differentiated_through_under_create_graph():
    """A Tensor grad_outputs under create_graph stays in the graph: d/dv of grad(y, x, v) = dy/dx."""
    x = minigan.tensor([1.0, 3.0], requires_grad=True, dtype="float64")
    v = minigan.tensor([2.0, -1.0], requires_grad=True, dtype="float64")
    (g,) = minigan.grad(x * x, x, grad_outputs=v, create_graph=True)   # g = 2 x v
    npt.assert_allclose(g.numpy(), 2 * x.numpy() * v.numpy())
    (gv,) = minigan.grad(g.sum(), v)
    npt.assert_allclose(gv.numpy(), 2 * x.numpy())
    (g,) = minigan.grad(x * x, x, grad_outputs=v)                 # not recorded: the seed's value only
    assert not g.requires_grad
    with pytest.raises(ValueError, match="backend"):
        minigan.grad(x * x, x, grad_outputs=minigan.tensor([1.0, 1.0], backend="strict"))


def test_an_array_seed_under_create_graph_is_recorded_and_float32_stays_float32():
    """grad_outputs given as an array under create_graph starts a recorded pass (a Tensor seed);
    the implicit seed 1 has the root's dtype, so float32 gradients stay float32."""
    x = minigan.tensor([1.0, 3.0], requires_grad=True, dtype="float64")
    (g,) = minigan.grad(x * x * x, x, grad_outputs=np.array([2.0, -1.0]), create_graph=True)   # 3x^2 v
    npt.assert_allclose(g.numpy(), 3 * x.numpy() ** 2 * np.array([2.0, -1.0]))
    assert g.requires_grad
    (h,) = minigan.grad(g.sum(), x)                                                        # 6x v
    npt.assert_allclose(h.numpy(), 6 * x.numpy() * np.array([2.0, -1.0]))
    w = minigan.tensor([0.5, -2.0], requires_grad=True)                                 # float32
    (w * w).sum().backward()
    assert w.grad.dtype == np.float32
    (gw,) = minigan.grad((w * w * w).sum(), w, create_graph=True)
    assert gw.dtype == np.float32 and gw.requires_grad


def test_a_recorded_backward_through_indexing_runs_its_vjp_as_an_op():
    """x[idx]'s VJP is itself an op (a scatter, GraphContext.run): differentiable again."""
    x = minigan.tensor([1.0, 2.0, 3.0], requires_grad=True, dtype="float64")
    y = (x[np.array([0, 2, 2])] ** 3).sum()                                               # x0^3 + 2 x2^3
    (g,) = minigan.grad(y, x, create_graph=True)
    npt.assert_allclose(g.numpy(), [3.0, 0.0, 6 * 9.0])
    (h,) = minigan.grad((g * g).sum(), x)                                                 # d/dx sum g^2
    npt.assert_allclose(h.numpy(), [2 * 3.0 * 6.0, 0.0, 2 * 54.0 * 12 * 3.0])
