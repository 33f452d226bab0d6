"""minigan.optim: updates against the rules computed by hand, schedules changing lr and
momentum mid-training, exact resume from a state dict, and which network a step moves."""
import math

import numpy as np
import pytest
from strategies import BACKENDS

import minigan
from minigan import Tensor

import minigan.losses as losses
import minigan.nn as nn
import minigan.optim as optim

SHAPES = [(3, 2), (2,)]


def make_params(backend, dtype="float64", seed=0):
    be = minigan.get_backend(backend)
    rng = np.random.default_rng(seed)
    return [nn.Parameter(be.asarray(rng.normal(size=s).astype(dtype)), be) for s in SHAPES]


def gradient_sequence(steps, seed=1):
    """A fixed gradient for every parameter at every step (the hand computation uses the same)."""
    rng = np.random.default_rng(seed)
    return [[rng.normal(size=s) for s in SHAPES] for _ in range(steps)]


def run(opt, params, grads, schedule=None):
    """Feed the gradients in, step after step; ``schedule(opt, t)`` may change settings first."""
    be = params[0].backend
    for t, step_grads in enumerate(grads):
        if schedule:
            schedule(opt, t)
        for p, g in zip(params, step_grads):
            p.grad = be.asarray(g, dtype=p.dtype)
        opt.step()
    return [p.numpy() for p in params]


# ---- the rules, computed by hand in NumPy -------------------------------------------------------
def sgd_by_hand(p0, grads, lrs, momenta, nesterov):
    p, v = [x.copy() for x in p0], [np.zeros_like(x) for x in p0]
    for t, step_grads in enumerate(grads):
        lr, mu = lrs[t], momenta[t]
        for i, g in enumerate(step_grads):
            v[i] = mu * v[i] - lr * g
            p[i] = p[i] + (mu * v[i] - lr * g if nesterov else v[i])
    return p


def adam_by_hand(p0, grads, lrs, beta1s, beta2=0.999, eps=1e-8):
    p, m, v = [x.copy() for x in p0], [np.zeros_like(x) for x in p0], [np.zeros_like(x) for x in p0]
    for t, step_grads in enumerate(grads, start=1):
        b1 = beta1s[t - 1]
        for i, g in enumerate(step_grads):
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = beta2 * v[i] + (1 - beta2) * g**2
            m_hat, v_hat = m[i] / (1 - b1**t), v[i] / (1 - beta2**t)
            p[i] = p[i] - lrs[t - 1] * m_hat / (np.sqrt(v_hat) + eps)
    return p


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("momentum, nesterov", [(0.0, False), (0.5, False), (0.9, False), (0.9, True)])
def test_sgd_matches_the_rule_by_hand(backend, momentum, nesterov):
    params = make_params(backend)
    p0 = [p.numpy().copy() for p in params]
    grads = gradient_sequence(5)
    got = run(optim.SGD(params, lr=0.1, momentum=momentum, nesterov=nesterov), params, grads)
    want = sgd_by_hand(p0, grads, [0.1] * 5, [momentum] * 5, nesterov)
    assert all(np.allclose(g, w, rtol=1e-12, atol=1e-14) for g, w in zip(got, want))
    if momentum == 0.0:  # plain gradient descent, written out once more
        plain = [x - 0.1 * sum(gs[i] for gs in grads) for i, x in enumerate(p0)]
        assert all(np.allclose(g, w) for g, w in zip(got, plain))


@pytest.mark.parametrize("backend", BACKENDS)
def test_adam_matches_the_rule_by_hand(backend):
    params = make_params(backend)
    p0 = [p.numpy().copy() for p in params]
    grads = gradient_sequence(6)
    got = run(optim.Adam(params, lr=0.01, betas=(0.5, 0.999)), params, grads)
    want = adam_by_hand(p0, grads, [0.01] * 6, [0.5] * 6)
    assert all(np.allclose(g, w, rtol=1e-12, atol=1e-14) for g, w in zip(got, want))
    # the first Adam step moves every coordinate by about lr (m_hat / sqrt(v_hat) = sign(g))
    fresh = make_params(backend)
    first = run(optim.Adam(fresh, lr=0.01), fresh, grads[:1])
    assert all(np.allclose(np.abs(f - x), 0.01, rtol=1e-5) for f, x in zip(first, p0))


@pytest.mark.parametrize("backend", BACKENDS)
def test_changing_lr_and_momentum_mid_training_takes_effect(backend):
    grads = gradient_sequence(6)
    lrs = [0.1, 0.1, 0.1, 0.03, 0.01, 0.01]
    momenta = [0.5, 0.5, 0.6, 0.7, 0.7, 0.7]  # the paper's code raised momentum 0.5 -> 0.7

    def schedule(opt, t):
        opt.lr, opt.momentum = lrs[t], momenta[t]

    params = make_params(backend)
    p0 = [p.numpy().copy() for p in params]
    got = run(optim.SGD(params, lr=0.1, momentum=0.5), params, grads, schedule)
    want = sgd_by_hand(p0, grads, lrs, momenta, nesterov=False)
    fixed = sgd_by_hand(p0, grads, [0.1] * 6, [0.5] * 6, nesterov=False)
    assert all(np.allclose(g, w, rtol=1e-12) for g, w in zip(got, want))
    assert not np.allclose(got[0], fixed[0])

    beta1s = [0.5, 0.5, 0.9, 0.9, 0.9, 0.9]

    def adam_schedule(opt, t):
        opt.lr, opt.betas = lrs[t], (beta1s[t], 0.999)

    params = make_params(backend)
    got = run(optim.Adam(params, lr=0.1), params, grads, adam_schedule)
    want = adam_by_hand(p0, grads, lrs, beta1s)
    assert all(np.allclose(g, w, rtol=1e-12) for g, w in zip(got, want))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", ["sgd", "adam"])
def test_float32_stays_float32_and_updates_in_place(backend, name):
    params = make_params(backend, dtype="float32")
    arrays = [p.data for p in params]
    lr = np.float64(0.1)  # a NumPy float64 lr must not promote float32 parameters
    opt = optim.SGD(params, lr=lr, momentum=0.9) if name == "sgd" else optim.Adam(params, lr=lr)
    run(opt, params, gradient_sequence(2))
    assert all(str(p.dtype).endswith("float32") for p in params)
    assert all(p.data is a for p, a in zip(params, arrays))  # written in place: no new arrays
    assert all(str(b.dtype).endswith("float32") for arrays in opt.buffers.values() for b in arrays)


# ---- resume: state_dict round trip ------------------------------------------------------------
def train_steps(D, opt, steps, seed):
    """A few real discriminator steps (backward through an MLP), on seeded data."""
    be = D.backend
    rng = be.random(seed)
    for _ in range(steps):
        x, fake = Tensor(rng.normal((16, 2), 1.0, 1.0), be), Tensor(rng.normal((16, 2)), be)
        opt.zero_grad()
        losses.discriminator_loss(D(x), D(fake)).backward()
        opt.step()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", ["sgd", "adam"])
def test_state_dict_round_trip_gives_identical_continued_updates(backend, name):
    def make():
        D = nn.MLP([2, 8, 1], "leaky_relu", rng=minigan.get_backend(backend).random(0), backend=backend)
        if name == "sgd":
            return D, optim.SGD(D.parameters(), lr=0.05, momentum=0.5, nesterov=True)
        return D, optim.Adam(D.parameters())

    D, opt = make()
    train_steps(D, opt, 3, seed=1)
    opt.lr = 0.02  # a schedule's change is part of the state
    saved_model, saved_opt = D.state_dict(), opt.state_dict()
    assert saved_opt["step"].shape == () and int(saved_opt["step"]) == 3 and float(saved_opt["lr"]) == 0.02
    assert all(isinstance(v, np.ndarray) for v in saved_opt.values())
    train_steps(D, opt, 3, seed=2)
    uninterrupted = D.state_dict()

    D2, opt2 = make()
    D2.load_state_dict(saved_model)
    opt2.load_state_dict(saved_opt)
    assert opt2.step_count == 3 and opt2.lr == 0.02
    train_steps(D2, opt2, 3, seed=2)
    resumed = D2.state_dict()
    assert all(np.array_equal(uninterrupted[k], resumed[k]) for k in uninterrupted)  # bit for bit
    # and the saved dict was not changed by the training after it (copies, not views)
    assert int(saved_opt["step"]) == 3


def test_load_state_dict_errors_name_the_problem():
    params = make_params("numpy")
    sgd, adam = optim.SGD(params, lr=0.1), optim.Adam(params)
    wrong_kind = r"missing keys \['beta1', 'beta2', 'eps', 'm.0', 'm.1', 'v.0', 'v.1'\], unexpected keys \['momentum'"
    with pytest.raises(ValueError, match=wrong_kind):
        adam.load_state_dict(sgd.state_dict())
    state = adam.state_dict()
    state["v.1"] = np.zeros((3,))
    with pytest.raises(ValueError, match=r"state\['v.1'\]: got shape \(3,\), wanted \(2,\)"):
        adam.load_state_dict(state)
    state = adam.state_dict()
    state["lr"] = np.asarray(-1.0)
    with pytest.raises(ValueError, match="lr: got -1.0"):
        adam.load_state_dict(state)
    assert adam.lr == 2e-4  # unchanged after a refused load
    with pytest.raises(ValueError, match=r"unexpected keys \['velocity.2'\]"):
        sgd.load_state_dict(dict(sgd.state_dict(), **{"velocity.2": np.zeros(2)}))
    with pytest.raises(TypeError, match="state: got list"):
        sgd.load_state_dict([])


# ---- what a step touches ------------------------------------------------------------------------
def test_zero_grad_and_parameters_without_gradient_are_skipped():
    params = make_params("numpy")
    before = [p.numpy().copy() for p in params]
    opt = optim.Adam(params, lr=0.1)
    params[0].grad = np.ones((3, 2))
    opt.step()
    assert not np.allclose(params[0].numpy(), before[0]) and np.array_equal(params[1].numpy(), before[1])
    opt.zero_grad()
    assert all(p.grad is None for p in params)
    opt.step()  # nothing has a gradient: nothing moves
    assert np.array_equal(params[1].numpy(), before[1])


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_generator_step_leaves_the_discriminator_alone_and_vice_versa(backend):
    be = minigan.get_backend(backend)
    G = nn.MLP([2, 8, 2], "relu", rng=be.random(0), backend=backend)
    D = nn.MLP([2, 8, 1], "leaky_relu", rng=be.random(1), backend=backend)
    opt_G, opt_D = optim.Adam(G.parameters(), lr=0.01), optim.SGD(D.parameters(), lr=0.1, momentum=0.5)
    rng = be.random(2)
    x, z = Tensor(rng.normal((16, 2)), be), Tensor(rng.normal((16, 2)), be)

    # discriminator step: G(z) detached, so no gradient reaches G and G does not move
    g_before, d_before = G.state_dict(), D.state_dict()
    opt_D.zero_grad()
    losses.discriminator_loss(D(x), D(G(z).detach())).backward()
    opt_D.step()
    assert all(p.grad is None for p in G.parameters())
    assert all(np.array_equal(G.state_dict()[k], g_before[k]) for k in g_before)
    assert all(not np.array_equal(D.state_dict()[k], d_before[k]) for k in d_before)

    # generator step: the gradient flows through D (D's grads fill up) but only G moves
    for form in ("non_saturating", "minimax"):
        g_before, d_before = G.state_dict(), D.state_dict()
        opt_G.zero_grad()
        losses.generator_loss(D(G(z)), form).backward()
        opt_G.step()
        assert all(np.array_equal(D.state_dict()[k], d_before[k]) for k in d_before)
        assert all(not np.array_equal(G.state_dict()[k], g_before[k]) for k in g_before)


# ---- input checks -------------------------------------------------------------------------------
def test_bad_arguments_get_clear_errors():
    params = make_params("numpy")
    with pytest.raises(ValueError, match=r"lr: got -1.0, wanted a number in \(0.0, inf\)"):
        optim.SGD(params, lr=-1.0)
    with pytest.raises(ValueError, match="momentum: got 1.5"):
        optim.SGD(params, lr=0.1, momentum=1.5)
    with pytest.raises(ValueError, match=r"betas\[0\]: got 1.0"):
        optim.Adam(params, betas=(1.0, 0.999))
    with pytest.raises(ValueError, match="betas: got 0.5"):
        optim.Adam(params, betas=0.5)
    with pytest.raises(ValueError, match="eps: got 0"):
        optim.Adam(params, eps=0)
    with pytest.raises(ValueError, match="params: got an empty list"):
        optim.Adam([])
    with pytest.raises(TypeError, match=r"params\[0\]: got Tensor, wanted a Tensor with requires_grad=True"):
        optim.SGD([minigan.tensor([1.0])], lr=0.1)
    with pytest.raises(ValueError, match="the same parameter twice"):
        optim.SGD([params[0], params[0]], lr=0.1)
    with pytest.raises(ValueError, match=r"params\[1\]: got backend 'strict'"):
        optim.SGD([params[0], make_params("strict")[0]], lr=0.1)
    opt = optim.SGD(params, lr=0.1)
    opt.lr = math.nan  # a schedule gone wrong is caught at the next step
    with pytest.raises(ValueError, match="lr: got nan"):
        opt.step()
