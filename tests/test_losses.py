"""minigan.losses: each loss three ways (closed-form backward, autograd through the
primitive ops, finite differences), its value against NumPy, extreme logits, and the
saturation fact behind the non-saturating generator loss (docs/math/losses.md)."""
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import BACKENDS, float32_logits

import minigan
from minigan import Tensor, gradcheck, gradgradcheck, ops

import minigan.losses as losses


def host_tensor(array, backend, requires_grad=False, dtype=None):
    be = minigan.get_backend(backend)
    array = np.asarray(array, dtype=dtype)
    return Tensor(be.asarray(array), be, requires_grad=requires_grad)


# ---- the paper's formulas, written the naive way -------------------------------------------------
def np_sigmoid(a):
    return 1 / (1 + np.exp(-a))


def np_value(a_real, a_fake):
    """V = mean log D(x) + mean log(1 - D(G(z))) straight from the paper (float64)."""
    return np.mean(np.log(np_sigmoid(a_real))) + np.mean(np.log(1 - np_sigmoid(a_fake)))


NUMPY_LOSSES = {
    "value_function": lambda r, f: np_value(r, f),
    "discriminator_loss": lambda r, f: -np_value(r, f),
    "generator_minimax": lambda r, f: np.mean(np.log(1 - np_sigmoid(f))),
    "generator_non_saturating": lambda r, f: -np.mean(np.log(np_sigmoid(f))),
    "bce_with_logits": lambda r, f: np.mean(-f * np.log(np_sigmoid(r)) - (1 - f) * np.log(1 - np_sigmoid(r))),
    # the later forms, on D's raw outputs (the formulas, written out)
    "discriminator_lsgan": lambda r, f: 0.5 * np.mean((r - 1) ** 2) + 0.5 * np.mean(f**2),
    "discriminator_wgan": lambda r, f: np.mean(f) - np.mean(r),
    "discriminator_hinge": lambda r, f: np.mean(np.maximum(1 - r, 0)) + np.mean(np.maximum(1 + f, 0)),
    "generator_lsgan": lambda r, f: 0.5 * np.mean((f - 1) ** 2),
    "generator_wgan": lambda r, f: -np.mean(f),
    "generator_hinge": lambda r, f: -np.mean(f),
}

# the same losses through autograd's primitive ops (log, sigmoid, mean): finite for moderate logits
PRIMITIVE_LOSSES = {
    "value_function": lambda r, f: ops.mean(ops.log(ops.sigmoid(r))) + ops.mean(ops.log(1.0 - ops.sigmoid(f))),
    "discriminator_loss": lambda r, f: -(ops.mean(ops.log(ops.sigmoid(r))) + ops.mean(ops.log(1.0 - ops.sigmoid(f)))),
    "generator_minimax": lambda r, f: ops.mean(ops.log(1.0 - ops.sigmoid(f))),
    "generator_non_saturating": lambda r, f: -ops.mean(ops.log(ops.sigmoid(f))),
    "bce_with_logits": lambda r, f: ops.mean(-f * ops.log(ops.sigmoid(r)) - (1.0 - f) * ops.log(1.0 - ops.sigmoid(r))),
    "discriminator_lsgan": lambda r, f: 0.5 * ops.mean((r - 1.0) ** 2) + 0.5 * ops.mean(f**2),
    "discriminator_wgan": lambda r, f: ops.mean(f) - ops.mean(r),
    "discriminator_hinge": lambda r, f: ops.mean(ops.relu(1.0 - r)) + ops.mean(ops.relu(1.0 + f)),
    "generator_lsgan": lambda r, f: 0.5 * ops.mean((f - 1.0) ** 2),
    "generator_wgan": lambda r, f: -ops.mean(f),
    "generator_hinge": lambda r, f: -ops.mean(f),
}

# the fused ops under test; every entry takes (real, fake) (bce: (logits, targets))
FUSED_LOSSES = {
    "value_function": losses.value_function,
    "discriminator_loss": losses.discriminator_loss,
    "generator_minimax": lambda r, f: losses.generator_loss(f, form="minimax"),
    "generator_non_saturating": lambda r, f: losses.generator_loss(f, form="non_saturating"),
    "bce_with_logits": losses.bce_with_logits,
    "discriminator_lsgan": lambda r, f: losses.discriminator_loss(r, f, form="lsgan"),
    "discriminator_wgan": lambda r, f: losses.discriminator_loss(r, f, form="wgan"),
    "discriminator_hinge": lambda r, f: losses.discriminator_loss(r, f, form="hinge"),
    "generator_lsgan": lambda r, f: losses.generator_loss(f, form="lsgan"),
    "generator_wgan": lambda r, f: losses.generator_loss(f, form="wgan"),
    "generator_hinge": lambda r, f: losses.generator_loss(f, form="hinge"),
}


def test_every_form_is_in_the_tables():
    """A form added to minigan.losses without its three-way tests fails here."""
    d_forms = {"gan" if name == "discriminator_loss" else name.removeprefix("discriminator_")
               for name in FUSED_LOSSES if name.startswith("discriminator_")}
    g_forms = {name.removeprefix("generator_") for name in FUSED_LOSSES if name.startswith("generator_")}
    assert d_forms == set(losses.DISCRIMINATOR_FORMS) and g_forms == set(losses.GENERATOR_FORMS)
    assert set(FUSED_LOSSES) == set(NUMPY_LOSSES) == set(PRIMITIVE_LOSSES)


@st.composite
def logit_pair(draw, low=-8.0, high=8.0):
    """Real and fake logits of shape (m,) or (m, 1), batch sizes possibly different.
    (For bce the second array is targets in [0, 1] of the first one's shape.)"""
    column = draw(st.booleans())
    m_real, m_fake = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    shape = lambda m: (m, 1) if column else (m,)  # noqa: E731
    floats = st.floats(low, high, allow_nan=False, allow_infinity=False)
    real = draw(hnp.arrays(np.float64, shape(m_real), elements=floats))
    fake = draw(hnp.arrays(np.float64, shape(m_fake), elements=floats))
    targets = draw(hnp.arrays(np.float64, shape(m_real), elements=st.floats(0.0, 1.0)))
    return real, fake, targets


def inputs_for(name, pair):
    real, fake, targets = pair
    return (real, targets) if name == "bce_with_logits" else (real, fake)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(FUSED_LOSSES))
@given(pair=logit_pair())
def test_value_matches_numpy(backend, name, pair):
    a, b = inputs_for(name, pair)
    got = FUSED_LOSSES[name](host_tensor(a, backend), host_tensor(b, backend))
    assert got.shape == ()
    assert np.isclose(got.item(), NUMPY_LOSSES[name](a, b), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(FUSED_LOSSES))
@given(pair=logit_pair())
def test_closed_form_gradient_matches_autograd_through_primitive_ops(backend, name, pair):
    a, b = inputs_for(name, pair)
    grads = []
    for loss in (FUSED_LOSSES[name], PRIMITIVE_LOSSES[name]):
        x, y = host_tensor(a, backend, True), host_tensor(b, backend, True)
        out = loss(x, y)
        out.backward()
        grads.append([None if t.grad is None else minigan.get_backend(backend).to_host(t.grad) for t in (x, y)])
    for fused, primitive in zip(*grads):
        if primitive is None:  # the generator losses do not use the real logits
            assert fused is None
        else:
            assert np.allclose(fused, primitive, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(FUSED_LOSSES))
@given(pair=logit_pair(low=-20.0, high=20.0))
def test_closed_form_gradient_matches_finite_differences(backend, name, pair):
    a, b = inputs_for(name, pair)
    if "hinge" in name:  # finite differences need the scores off the hinge's kinks at +-1
        assume(np.all(np.abs(np.abs(a) - 1.0) > 1e-3) and np.all(np.abs(np.abs(b) - 1.0) > 1e-3))
    if name.startswith("generator"):  # one input: the fake logits
        assert gradcheck(lambda f: FUSED_LOSSES[name](None, f), [host_tensor(b, backend, True)])
    else:
        assert gradcheck(FUSED_LOSSES[name], [host_tensor(a, backend, True), host_tensor(b, backend, True)])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(FUSED_LOSSES))
@settings(max_examples=10)
@given(pair=logit_pair(low=-6.0, high=6.0))
def test_closed_form_gradient_can_be_differentiated_again(backend, name, pair):
    """Each backward, recorded (create_graph), has the right derivative: what a gradient
    penalty on D, or a Hessian-vector product, differentiates through."""
    a, b = inputs_for(name, pair)
    if "hinge" in name:
        assume(np.all(np.abs(np.abs(a) - 1.0) > 1e-3) and np.all(np.abs(np.abs(b) - 1.0) > 1e-3))
    if name.startswith("generator"):
        assert gradgradcheck(lambda f: FUSED_LOSSES[name](None, f), [host_tensor(b, backend, True)])
    else:
        assert gradgradcheck(FUSED_LOSSES[name], [host_tensor(a, backend, True), host_tensor(b, backend, True)])


def test_a_wrong_closed_form_is_caught():
    """The three-way check can fail: a backward with the sign of (sigmoid(a) - 1) flipped."""

    class Wrong(losses.NonSaturatingGeneratorLoss):
        @staticmethod
        def backward(ctx, grad_loss):
            (a,) = ctx.saved
            return grad_loss * (1 - 1 / (1 + ctx.xp.exp(-a))) / a.size

    x = host_tensor([0.5, -1.0, 2.0], "numpy", True)
    with pytest.raises(minigan.GradcheckError):
        gradcheck(lambda f: minigan.autograd.apply(Wrong, f), [x])


# ---- relations between the losses ---------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_discriminator_loss_is_minus_value_and_is_bce_on_labels(backend):
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(7, 1)) * 3, rng.normal(size=(7, 1)) * 3
    r, f = host_tensor(real, backend), host_tensor(fake, backend)
    loss_d = losses.discriminator_loss(r, f).item()
    assert loss_d == pytest.approx(-losses.value_function(r, f).item(), abs=1e-14)
    # with equal batch sizes, L_D = BCE(real, 1) + BCE(fake, 0): "label real as 1, fake as 0"
    assert loss_d == pytest.approx(losses.bce_with_logits(r, 1.0).item() + losses.bce_with_logits(f, 0.0).item())
    # the non-saturating generator loss is BCE with the fakes labelled real
    assert losses.generator_loss(f).item() == pytest.approx(losses.bce_with_logits(f, 1.0).item())


@pytest.mark.parametrize("backend", BACKENDS)
def test_what_each_later_form_asks_of_d_and_g(backend):
    """The hinge's margin, the critic's constant gradient, LSGAN's targets, exactly."""
    be = minigan.get_backend(backend)
    r, f = host_tensor([2.0, 0.5], backend, True), host_tensor([-3.0, 0.0], backend, True)
    loss = losses.discriminator_loss(r, f, form="hinge")
    loss.backward()
    assert loss.item() == pytest.approx((0 + 0.5) / 2 + (0 + 1) / 2)
    assert be.to_host(r.grad).tolist() == [0.0, -0.5] and be.to_host(f.grad).tolist() == [0.0, 0.5]  # past the margin: 0
    r, f = host_tensor([5.0, -7.0], backend, True), host_tensor([1.0, 2.0, 3.0], backend, True)
    losses.discriminator_loss(r, f, form="wgan").backward()
    assert be.to_host(r.grad).tolist() == [-0.5, -0.5] and np.allclose(be.to_host(f.grad), 1 / 3)
    # LSGAN: the generator's gradient grows with the distance to the real label, 1
    for a_f, wanted in ((0.0, -1.0), (-4.0, -5.0), (1.0, 0.0)):
        g = host_tensor([a_f], backend, True)
        losses.generator_loss(g, form="lsgan").backward()
        assert float(be.to_host(g.grad)[0]) == wanted
    r, f = host_tensor([1.0], backend), host_tensor([0.0], backend)
    assert losses.discriminator_loss(r, f, form="lsgan").item() == 0.0   # D on its targets: real 1, fake 0


# ---- extreme logits: finite values and gradients ---------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_extreme_logits_give_finite_values_and_gradients(backend, dtype):
    big = np.array([1e4, -1e4, 0.0, 80.0, -80.0])
    for name, loss in FUSED_LOSSES.items():
        targets = np.array([1.0, 0.0, 0.5, 1.0, 0.0])
        a, b = (big, targets) if name == "bce_with_logits" else (big, big[::-1].copy())
        x, y = host_tensor(a, backend, True, dtype), host_tensor(b, backend, True, dtype)
        out = loss(x, y)
        out.backward()
        assert np.isfinite(out.item()), name
        for t in (x, y):
            if t.grad is not None:
                assert np.all(np.isfinite(minigan.get_backend(backend).to_host(t.grad))), name
                assert str(t.grad.dtype).endswith(dtype)
    # and the limits are the right ones: a confident, correct D has loss 0 and gradient 0 ...
    r, f = host_tensor([1e4], backend, True, dtype), host_tensor([-1e4], backend, True, dtype)
    loss = losses.discriminator_loss(r, f)
    loss.backward()
    assert loss.item() == 0.0 and r.grad[0] == 0 and f.grad[0] == 0
    # ... a confidently wrong D has loss |a| with gradient of size 1 per example
    r, f = host_tensor([-1e4], backend, True, dtype), host_tensor([1e4], backend, True, dtype)
    loss = losses.discriminator_loss(r, f)
    loss.backward()
    assert loss.item() == 2e4 and float(r.grad[0]) == -1.0 and float(f.grad[0]) == 1.0
    # the non-saturating generator still gets a full-size gradient when D rejects its fakes
    f = host_tensor([-1e4, -1e4], backend, True, dtype)
    losses.generator_loss(f, "non_saturating").backward()
    assert np.allclose(minigan.get_backend(backend).to_host(f.grad), [-0.5, -0.5])


def test_small_gradients_keep_their_precision():
    """sigmoid(a) - 1 computed as -sigmoid(-a): at a = 20 in float32 it is -2.06e-9, not 0."""
    r = host_tensor([20.0], "numpy", True, "float32")
    losses.discriminator_loss(r, host_tensor([0.0], "numpy", dtype="float32")).backward()
    assert r.grad[0] == pytest.approx(-1 / (1 + math.exp(20.0)), rel=1e-5)


def sigmoid64(a):
    """sigmoid in float64 in the exp(-|a|) form: the reference for float32 accuracy."""
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def assert_float32_exact(got, true):
    """Within 2e-6 of the float64 truth wherever that is a normal float32; within 2**-126 elsewhere."""
    got, true, tiny = np.asarray(got, dtype=np.float64), np.asarray(true), float(np.finfo(np.float32).tiny)
    normal = np.abs(true) >= tiny
    np.testing.assert_allclose(got[normal], true[normal], rtol=2e-6, atol=0)
    np.testing.assert_allclose(got[~normal], true[~normal], rtol=0, atol=tiny)


@pytest.mark.parametrize("backend", BACKENDS)
@given(a=float32_logits())
def test_sigmoid_helper_matches_float64(backend, a):
    """losses._sigmoid (every loss gradient is one, over m) is float32-exact for logits in [-88, 88]."""
    be = minigan.get_backend(backend)
    assert_float32_exact(be.to_host(losses._sigmoid(be.xp, be.asarray(a))), sigmoid64(a.astype(np.float64)))


@pytest.mark.parametrize("backend", BACKENDS)
def test_loss_gradients_are_float32_exact_for_every_logit(backend):
    """D's and G's gradients on 20,001 float32 logits in [-88, 88] against float64."""
    a = np.linspace(-88.0, 88.0, 20_001).astype(np.float32)
    a64, m = a.astype(np.float64), a.size
    be = minigan.get_backend(backend)
    r, f = host_tensor(a, backend, True), host_tensor(a, backend, True)
    losses.discriminator_loss(r, f).backward()
    assert_float32_exact(be.to_host(r.grad), -sigmoid64(-a64) / m)  # (sigmoid(a) - 1) / m
    assert_float32_exact(be.to_host(f.grad), sigmoid64(a64) / m)
    for form, expected in (("minimax", -sigmoid64(a64) / m), ("non_saturating", -sigmoid64(-a64) / m)):
        g = host_tensor(a, backend, True)
        losses.generator_loss(g, form).backward()
        assert_float32_exact(be.to_host(g.grad), expected)


# ---- the saturation fact (Goodfellow et al. 2014, Section 3) ----------------------------------
def generator_gradients(d_of_g_z, backend="numpy"):
    """d L_G / d a_fake for both generator losses at D(G(z)) = d_of_g_z (one sample)."""
    a = math.log(d_of_g_z) - math.log1p(-d_of_g_z)  # logit: sigmoid(a) = D(G(z))
    grads = {}
    for form in ("minimax", "non_saturating"):
        x = host_tensor([a], backend, True, "float64")
        losses.generator_loss(x, form).backward()
        grads[form] = float(minigan.get_backend(backend).to_host(x.grad)[0])
    return grads


@pytest.mark.parametrize("backend", BACKENDS)
def test_non_saturating_gradient_is_99_times_larger_at_d_0_01(backend):
    grads = generator_gradients(0.01, backend)
    assert grads["minimax"] == pytest.approx(-0.01, rel=1e-9)         # -D(G(z)) / m
    assert grads["non_saturating"] == pytest.approx(-0.99, rel=1e-9)  # -(1 - D(G(z))) / m
    assert grads["non_saturating"] / grads["minimax"] == pytest.approx(99.0, rel=1e-9)


@given(d=st.floats(1e-6, 1 - 1e-6))
def test_gradient_ratio_is_one_minus_d_over_d(d):
    grads = generator_gradients(d)
    # both push the fake logit up (descending them raises D(G(z)))
    assert grads["minimax"] < 0 and grads["non_saturating"] < 0
    assert grads["non_saturating"] / grads["minimax"] == pytest.approx((1 - d) / d, rel=1e-6)
    # the non-saturating one is the stronger exactly while D rejects the fakes (D < 1/2)
    assert (abs(grads["non_saturating"]) > abs(grads["minimax"])) == ((1 - d) / d > 1)


# ---- input checks ------------------------------------------------------------------------------
def test_bad_inputs_get_clear_errors():
    ok = host_tensor([0.1, 0.2], "numpy")
    with pytest.raises(TypeError, match="real_logits: got list, wanted a Tensor"):
        losses.discriminator_loss([0.1, 0.2], ok)
    with pytest.raises(TypeError, match="fake_logits: got dtype int64, wanted a floating dtype"):
        losses.value_function(ok, minigan.tensor([1, 0]))
    with pytest.raises(ValueError, match=r"fake_logits: got shape \(2, 2\), wanted \(m,\) or \(m, 1\)"):
        losses.generator_loss(host_tensor(np.zeros((2, 2)), "numpy"))
    with pytest.raises(ValueError, match=r"real_logits: got shape \(0,\)"):
        losses.discriminator_loss(host_tensor(np.zeros(0), "numpy"), ok)
    with pytest.raises(ValueError, match=r"got shape \(\)"):
        losses.generator_loss(host_tensor(0.5, "numpy"))
    with pytest.raises(TypeError, match="fake_logits: got dtype float32, wanted real_logits' dtype float64"):
        losses.discriminator_loss(ok, host_tensor([0.1], "numpy", dtype="float32"))
    with pytest.raises(ValueError, match="form: got 'wasserstein', wanted one of non_saturating, minimax, lsgan"):
        losses.generator_loss(ok, form="wasserstein")
    with pytest.raises(ValueError, match="form: got 'non_saturating', wanted one of gan, lsgan, wgan, hinge"):
        losses.discriminator_loss(ok, ok, form="non_saturating")   # a generator's form
    with pytest.raises(ValueError, match="targets: got shape"):
        losses.bce_with_logits(ok, host_tensor([1.0], "numpy"))
    with pytest.raises(ValueError, match="targets: got 2"):
        losses.bce_with_logits(ok, 2)
    with pytest.raises(ValueError, match="fake_logits: got backend 'strict', wanted real_logits' backend 'numpy'"):
        losses.discriminator_loss(ok, host_tensor([0.1], "strict"))


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_hinge_score_exactly_on_the_margin_sends_no_gradient(backend):
    """At the kinks (a_r = 1, a_f = -1) the hinge takes relu's derivative at 0, which is 0
    (docs/math/losses.md): the fused backward and autograd through ops.relu agree there too.
    A mask with <= (or >=) would send -1/m_r (+1/m_f) from a score already on the margin."""
    be = minigan.get_backend(backend)
    grads = []
    for loss in (FUSED_LOSSES["discriminator_hinge"], PRIMITIVE_LOSSES["discriminator_hinge"]):
        r, f = host_tensor([1.0, 0.5], backend, True), host_tensor([-1.0, 0.0], backend, True)
        loss(r, f).backward()
        grads.append((be.to_host(r.grad).tolist(), be.to_host(f.grad).tolist()))
    assert grads[0] == grads[1] == ([0.0, -0.5], [0.0, 0.5])   # on the margin: 0; inside it: -+1/m


def test_bce_with_logits_names_what_it_got_for_logits():
    with pytest.raises(TypeError, match="logits: got list, wanted a floating Tensor of logits"):
        losses.bce_with_logits([0.1, 0.2], 1.0)
    with pytest.raises(TypeError, match="logits: got dtype int64, wanted a floating Tensor of logits"):
        losses.bce_with_logits(minigan.tensor([1, 0]), 1.0)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bce_with_a_number_as_targets_keeps_the_logits_dtype(backend, dtype):
    """A number (0.9: one-sided label smoothing) becomes targets of the logits' own dtype, so
    float32 logits train in float32 (a float64 fill would be refused as the wrong dtype)."""
    a = np.array([2.0, -1.0, 0.5])
    logits = host_tensor(a, backend, True, dtype)
    loss = losses.bce_with_logits(logits, 0.9)
    loss.backward()
    assert str(loss.dtype).endswith(dtype) and str(logits.grad.dtype).endswith(dtype)
    assert loss.item() == pytest.approx(NUMPY_LOSSES["bce_with_logits"](a, np.full(3, 0.9)), rel=1e-6)
