"""minigan.losses.penalties: R1 and WGAN-GP's gradient penalty, losses on grad_x D(x).

Their values on a linear D are known exactly (R1 = ||w||^2, GP = (||w|| - 1)^2); their
gradients with respect to D's parameters, which come from a recorded backward
(create_graph), are checked against finite differences; and a penalty built without the
recorded backward is shown to fail (docs/math/losses.md#gradient-penalties).
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import BACKENDS

import minigan
from minigan import Tensor, gradcheck, losses, nn, ops


def host(array, backend="numpy", requires_grad=False):
    be = minigan.get_backend(backend)
    return Tensor(be.asarray(np.asarray(array, dtype=np.float64)), be, requires_grad=requires_grad)


def tanh_mlp(W1, b1, W2, b2):
    """D(x) = tanh(x W1 + b1) W2 + b2, from parameter tensors (so gradcheck can move them)."""
    return lambda x: ops.tanh(x @ W1 + b1) @ W2 + b2


def parameters(rng, n_in=2, hidden=4, backend="numpy"):
    shapes = [(n_in, hidden), (hidden,), (hidden, 1), (1,)]
    return [host(rng.normal(size=s) * 0.8, backend, True) for s in shapes]


# ---- exact values on a linear D ----------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=10)
@given(seed=st.integers(0, 2**16), m=st.integers(1, 5), dim=st.integers(1, 4))
def test_r1_and_gp_of_a_linear_d_are_known_exactly(backend, seed, m, dim):
    rng = np.random.default_rng(seed)
    w, b = rng.normal(size=(dim, 1)), rng.normal(size=(1,))
    D = lambda x: x @ host(w, backend) + host(b, backend)  # noqa: E731   grad_x D = w everywhere
    x, y = host(rng.normal(size=(m, dim)) * 3, backend), host(rng.normal(size=(m, dim)), backend)
    eps = host(rng.uniform(size=(m, 1)), backend)
    norm = float(np.sqrt(np.sum(w * w)))
    assert losses.r1_penalty(D, x).item() == pytest.approx(norm**2, rel=1e-12)
    assert losses.gradient_penalty(D, x, y, eps).item() == pytest.approx((norm - 1) ** 2, rel=1e-9, abs=1e-12)


def test_r1_of_an_nn_linear_is_the_squared_weight_norm_and_its_gradient_2w():
    be = minigan.get_backend("numpy")
    D = nn.Linear(3, 1, rng=be.random(0), dtype="float64")
    x = host(np.random.default_rng(1).normal(size=(6, 3)))
    r1 = losses.r1_penalty(D, x)
    w = D.weight.numpy()
    assert r1.item() == pytest.approx(float(np.sum(w * w)), rel=1e-14)
    r1.backward()
    np.testing.assert_allclose(D.weight.grad, 2 * w, rtol=1e-14)
    assert D.bias.grad is None  # the slope does not depend on the bias


# ---- gradients with respect to D's parameters, against finite differences ------------------------
@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=8)
@given(seed=st.integers(0, 2**16), m=st.integers(1, 4))
def test_r1_gradient_in_d_parameters_matches_finite_differences(backend, seed, m):
    rng = np.random.default_rng(seed)
    x = host(rng.normal(size=(m, 2)), backend)
    assert gradcheck(lambda *p: losses.r1_penalty(tanh_mlp(*p), x), parameters(rng, backend=backend))


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=8)
@given(seed=st.integers(0, 2**16), m=st.integers(1, 4))
def test_gp_gradient_in_d_parameters_matches_finite_differences(backend, seed, m):
    rng = np.random.default_rng(seed)
    real, fake = host(rng.normal(size=(m, 2)), backend), host(rng.normal(size=(m, 2)) + 2, backend)
    eps = host(rng.uniform(size=(m, 1)), backend)
    assert gradcheck(lambda *p: losses.gradient_penalty(tanh_mlp(*p), real, fake, eps),
                     parameters(rng, backend=backend))


def test_gp_sits_on_the_line_between_real_and_fake():
    """x^ = eps real + (1 - eps) fake: eps = 1 is R1-like at the real points, eps = 0 at the fakes."""
    rng = np.random.default_rng(3)
    D = tanh_mlp(*parameters(rng))
    real, fake = host(rng.normal(size=(5, 2))), host(rng.normal(size=(5, 2)))
    for eps, at in ((1.0, real), (0.0, fake)):
        gp = losses.gradient_penalty(D, real, fake, host(np.full((5, 1), eps))).item()
        x = at.detach().requires_grad_()
        (g,) = minigan.grad(D(x).sum(), x)
        assert gp == pytest.approx(float(np.mean((np.linalg.norm(g.numpy(), axis=1) - 1) ** 2)), rel=1e-10)


def test_a_penalty_without_the_recorded_backward_is_caught():
    """Taking grad_x D(x) as a constant (no create_graph) gives D's weights no gradient from it."""
    rng = np.random.default_rng(0)
    params = parameters(rng)
    x = host(rng.normal(size=(3, 2)))

    def detached_r1(*p):
        leaf = x.detach().requires_grad_()
        (g,) = minigan.grad(tanh_mlp(*p)(leaf).sum(), leaf)   # create_graph=False: a constant
        return (g * g).sum(axis=1).mean() + 0.0 * p[0].sum()  # (kept connected, so backward runs)

    with pytest.raises(minigan.GradcheckError):
        gradcheck(detached_r1, params)


# ---- input checks ------------------------------------------------------------------------------
def test_penalties_check_their_inputs():
    D = lambda x: x @ host(np.ones((2, 1)))  # noqa: E731
    x = host(np.zeros((3, 2)))
    with pytest.raises(TypeError, match="x: got list, wanted a Tensor of samples"):
        losses.r1_penalty(D, [[0.0, 0.0]])
    with pytest.raises(ValueError, match=r"x: got shape \(3,\)"):
        losses.r1_penalty(D, host(np.zeros(3)))
    with pytest.raises(ValueError, match=r"D: got outputs \(3, 2\) for 3 samples, wanted one score per sample"):
        losses.r1_penalty(lambda x: x, x)
    with pytest.raises(TypeError, match="D: got str"):
        losses.r1_penalty("D", x)
    with pytest.raises(ValueError, match=r"eps: got \(3,\), wanted a Tensor of shape \(3, 1\)"):
        losses.gradient_penalty(D, x, x, host(np.zeros(3)))
    with pytest.raises(ValueError, match=r"fake: got shape \(2, 2\), wanted real's shape \(3, 2\)"):
        losses.gradient_penalty(D, x, host(np.zeros((2, 2))), host(np.zeros((3, 1))))


# ---- detaching: a penalty is a loss on D alone (issue 26) ---------------------------------------
def test_the_penalties_reach_d_only_and_leave_their_inputs_alone():
    """The points are constants: G (behind the fakes), real points and eps that require grad
    get no gradient from a penalty, the caller's tensors are not turned into leaves that
    require grad, and D's parameters do get one. Without the detaching, R2 on G(z) would
    send its gradient into G, and GP's into eps."""
    rng = np.random.default_rng(4)
    D_params = parameters(rng)
    D = tanh_mlp(*D_params)
    G_params = [host(rng.normal(size=(2, 2)), requires_grad=True)]
    z = host(rng.normal(size=(5, 2)))
    real = host(rng.normal(size=(5, 2)), requires_grad=True)
    eps = host(rng.uniform(size=(5, 1)), requires_grad=True)
    plain = host(rng.normal(size=(5, 2)))
    for name, penalty in (("r1", lambda fake: losses.r1_penalty(D, real)),
                          ("r2", lambda fake: losses.r1_penalty(D, fake)),
                          ("gp", lambda fake: losses.gradient_penalty(D, real, fake, eps))):
        for p in (*D_params, *G_params, real, eps):
            p.grad = None
        fake = z @ G_params[0]                                         # G(z): in G's graph
        penalty(fake).backward()
        assert G_params[0].grad is None and real.grad is None and eps.grad is None, name
        assert all(p.grad is not None and np.abs(p.grad).max() > 0 for p in D_params[:3]), name
    losses.r1_penalty(D, plain)
    losses.gradient_penalty(D, plain, plain, host(np.full((5, 1), 0.5)))
    assert not plain.requires_grad and plain.is_leaf


def test_r1_on_images_is_the_penalty_on_their_rows():
    """Images (m, C, H, W) are taken as rows (m, C*H*W) and given to D in their own shape."""
    rng = np.random.default_rng(5)
    W = host(rng.normal(size=(12, 1)) * 0.5, requires_grad=True)
    images = host(rng.normal(size=(3, 3, 2, 2)))
    seen = []

    def D(x):
        seen.append(x.shape)
        return ops.tanh(x.reshape(x.shape[0], -1) @ W)

    r1 = losses.r1_penalty(D, images)
    rows = images.detach().reshape(3, 12).requires_grad_()
    (g,) = minigan.grad(ops.tanh(rows @ W).sum(), rows)
    assert r1.item() == pytest.approx(float(np.mean(np.sum(g.numpy() ** 2, axis=1))), rel=1e-12)
    assert seen == [(3, 3, 2, 2)]


@pytest.mark.parametrize("shape", [(4, 3, 2, 2), (4, 2, 6)])
def test_both_penalties_on_images_give_d_images_and_sum_over_every_pixel(shape):
    rng = np.random.default_rng(6)
    W = host(rng.normal(size=(12, 1)) * 0.5, requires_grad=True)
    seen = []

    def D(x):
        seen.append(x.shape)
        flat = x.reshape(x.shape[0], -1)
        return ops.tanh(flat @ W) + 0.1 * (flat * flat) @ W    # not linear: the gradient depends on the point

    real, fake = host(rng.normal(size=shape)), host(rng.normal(size=shape))
    eps = host(rng.uniform(size=(4, 1)))

    def by_rows(points):
        rows = points.reshape(4, 12).detach().requires_grad_()
        (g,) = minigan.grad(D(rows).sum(), rows)
        return np.sum(g.numpy() ** 2, axis=1)                      # ||grad_x D(x_i)||^2 over all 12 numbers

    assert losses.r1_penalty(D, real).item() == pytest.approx(float(np.mean(by_rows(real))), rel=1e-10)
    x_hat = host(eps.numpy() * real.numpy().reshape(4, 12) + (1 - eps.numpy()) * fake.numpy().reshape(4, 12))
    expected = float(np.mean((np.sqrt(by_rows(x_hat) + losses.penalties.TINY) - 1) ** 2))
    seen.clear()
    assert losses.gradient_penalty(D, real, fake, eps).item() == pytest.approx(expected, rel=1e-10)
    assert seen == [shape]                                            # D was shown images, not rows


def test_a_flat_d_has_a_finite_gradient_penalty():
    """||g|| = sqrt(||g||^2 + TINY): where D is flat the norm is 1e-6, not sqrt(0) (whose
    derivative is infinite) or sqrt(-TINY) (NaN)."""
    w = host(np.zeros((2, 1)), requires_grad=True)
    x = host(np.ones((3, 2)))
    gp = losses.gradient_penalty(lambda t: t @ w, x, x, host(np.full((3, 1), 0.5)))
    assert gp.item() == pytest.approx((1e-6 - 1) ** 2, rel=1e-12)
    gp.backward()
    assert np.all(np.isfinite(w.grad))


def test_the_points_must_be_floating_samples_and_d_a_module_without_batch_statistics():
    D = lambda x: x @ host(np.ones((2, 1)))  # noqa: E731
    with pytest.raises(ValueError, match=r"x: got shape \(3, 2\) and dtype int64"):
        losses.r1_penalty(D, Tensor(np.zeros((3, 2), dtype=np.int64), minigan.get_backend("numpy")))
    with pytest.raises(ValueError, match=r"x: got shape \(0, 2\)"):
        losses.r1_penalty(D, host(np.zeros((0, 2))))
    with pytest.raises(TypeError, match="real: got list"):
        losses.gradient_penalty(D, [[0.0, 0.0]], host(np.zeros((1, 2))), host(np.zeros((1, 1))))
    with pytest.raises(TypeError, match="real: got ndarray"):
        losses.gradient_penalty(D, np.zeros((3, 2)), host(np.zeros((3, 2))), host(np.zeros((3, 1))))
    with pytest.raises(TypeError, match="fake: got ndarray"):
        losses.gradient_penalty(D, host(np.zeros((3, 2))), np.zeros((3, 2)), host(np.zeros((3, 1))))
    with pytest.raises(ValueError, match=r"eps: got ndarray, wanted"):
        losses.gradient_penalty(D, host(np.zeros((3, 2))), host(np.zeros((3, 2))), np.zeros((3, 1)))
    with pytest.raises(ValueError, match="D: got outputs ndarray for 3 samples"):
        losses.r1_penalty(lambda x: np.zeros((3, 1)), host(np.zeros((3, 2))))
    bn = nn.Sequential(nn.Linear(2, 4, rng=minigan.get_backend("numpy").random(0)), nn.BatchNorm1d(4),
                       nn.Linear(4, 1, rng=minigan.get_backend("numpy").random(1)))
    with pytest.raises(ValueError, match="D: got a BatchNorm1d in training mode"):
        losses.r1_penalty(bn, host(np.ones((3, 2))))
    bn.eval()
    assert np.isfinite(losses.r1_penalty(bn, Tensor(np.ones((3, 2), dtype=np.float32), minigan.get_backend("numpy"))).item())
