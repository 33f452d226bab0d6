"""minigan.variants.dirac_gan: the closed-form field against minigan's autograd (a D that is one
Linear without bias, a G that is one Parameter theta), the closed-form Jacobian and its
eigenvalues against finite differences of the field, each rate against the measured one,
and the convergence claims of tutorial 09 (docs/math/convergence.md)."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigan
from minigan import losses, nn
from minigan.variants import dirac_gan
from minigan.variants.dirac_gan import DiracGAN

coordinates = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False)


# ---- the field, three ways ---------------------------------------------------------------------
def players(theta, psi):
    """D(x) = psi x: a Linear(1, 1) whose bias is frozen at 0; G = delta_theta: one Parameter."""
    D = nn.Linear(1, 1, backend="numpy", dtype="float64")
    D.weight = nn.Parameter(np.array([[psi]]), backend="numpy")
    D.bias = minigan.tensor([0.0], backend="numpy", dtype="float64")  # a constant: D learns no bias
    G = nn.Parameter(np.array([[theta]]), backend="numpy")
    return D, G


def autograd_field(game, theta, psi, x_real=(0.0,), x_fake_noise=(0.0,)):
    """(-d loss_G / d theta, -d loss_D / d psi) through minigan's losses and backward().

    x_real and x_fake_noise are the batch's real points and the noise added to G's point
    (both 0 without instance noise): the losses' means are then the game's expectations.
    """
    D, G = players(theta, psi)
    x_real = minigan.tensor(np.asarray(x_real, float)[:, None], backend="numpy")        # (m, 1)
    noise = minigan.tensor(np.asarray(x_fake_noise, float)[:, None], backend="numpy")   # (m, 1)
    if game.loss == "gan":
        loss_D = losses.discriminator_loss(D(x_real), D(G + noise))  # = -V
        loss_G = losses.generator_loss(D(G + noise), form=game.generator)
    else:  # WGAN: the critic descends mean D(fake) - mean D(real), G descends -mean D(fake)
        loss_D = losses.discriminator_loss(D(x_real), D(G + noise), form="wgan")
        loss_G = losses.generator_loss(D(G + noise), form="wgan")
    loss_D.backward(inputs=[D.weight])
    loss_G.backward(inputs=[G])
    return -G.grad.item(), -D.weight.grad.item()


@pytest.mark.parametrize("loss, generator", [("gan", "minimax"), ("gan", "non_saturating"), ("wgan", "minimax")])
@given(theta=coordinates, psi=coordinates)
def test_closed_form_field_matches_autograd_through_minigans_losses(loss, generator, theta, psi):
    game = DiracGAN(loss=loss, generator=generator)
    v_theta, v_psi = dirac_gan.vector_field(game, theta, psi)
    assert np.allclose([v_theta, v_psi], autograd_field(game, theta, psi), rtol=1e-12, atol=1e-12)


@given(theta=coordinates, psi=coordinates, gamma=st.floats(0.0, 5.0))
def test_r1_term_matches_double_backprop_through_grad_x_of_D(theta, psi, gamma):
    """R1 = gamma/2 |grad_x D(x_real)|^2, its psi-gradient by minigan.grad(create_graph=True)."""
    D, _ = players(theta, psi)
    x_real = minigan.tensor([[0.0]], requires_grad=True, backend="numpy", dtype="float64")
    (grad_x,) = minigan.grad(D(x_real).sum(), x_real, create_graph=True)   # = psi, as a graph
    r1 = 0.5 * gamma * (grad_x * grad_x).sum()
    r1.backward(inputs=[D.weight])
    plain = dirac_gan.vector_field(DiracGAN(), theta, psi)[1]
    with_r1 = dirac_gan.vector_field(DiracGAN(gamma=gamma), theta, psi)[1]
    assert with_r1 - plain == pytest.approx(-D.weight.grad.item(), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("loss, generator", [("gan", "minimax"), ("gan", "non_saturating")])
def test_instance_noise_field_is_the_expectation_of_the_sampled_one(loss, generator):
    """Quadrature against the batch mean of 200,000 noisy points through autograd, within 5 standard errors."""
    game, theta, psi, m = DiracGAN(loss=loss, generator=generator, noise=0.7), 0.8, -0.6, 200_000
    rng = np.random.default_rng(0)
    e1, e2 = rng.normal(0.0, game.noise, m), rng.normal(0.0, game.noise, m)
    sampled = np.array(autograd_field(game, theta, psi, x_real=e1, x_fake_noise=e2))
    # the same per-sample terms in NumPy, for their spread
    fake = theta + e2
    g_theta = psi * dirac_gan.f_prime((-psi if generator == "minimax" else psi) * fake, loss)
    g_psi = e1 * dirac_gan.f_prime(psi * e1, loss) - fake * dirac_gan.f_prime(-psi * fake, loss)
    standard_error = np.array([g_theta.std(), g_psi.std()]) / math.sqrt(m)
    exact = np.array(dirac_gan.vector_field(game, theta, psi))
    assert np.all(np.abs(exact - sampled) < 5 * standard_error), (exact, sampled, standard_error)
    assert not np.allclose(exact, dirac_gan.vector_field(DiracGAN(loss=loss, generator=generator), theta, psi),
                           atol=1e-2), "the noise should change the field at this point"


def test_penalties_and_the_value():
    theta, psi = 0.4, -1.5
    plain = dirac_gan.vector_field(DiracGAN("wgan"), theta, psi)
    assert plain == pytest.approx((psi, -theta))  # f(t) = t: the field is a rotation
    gp = dirac_gan.vector_field(DiracGAN("wgan", gp_weight=10.0), theta, psi)
    assert gp[0] == plain[0] and gp[1] == pytest.approx(plain[1] - 2 * 10.0 * (abs(psi) - 1) * np.sign(psi))
    # the field is the gradient of the value: finite differences of V in psi (D ascends V)
    game, eps = DiracGAN(noise=0.5), 1e-6
    numeric = (dirac_gan.value(game, theta, psi + eps) - dirac_gan.value(game, theta, psi - eps)) / (2 * eps)
    assert dirac_gan.vector_field(game, theta, psi)[1] == pytest.approx(numeric, rel=1e-7)
    assert dirac_gan.value(DiracGAN(), 0.0, 0.0) == pytest.approx(-2 * math.log(2))  # log 1/2 + log 1/2


def test_the_field_works_on_grids():
    theta, psi = np.meshgrid(np.linspace(-1, 1, 5), np.linspace(-2, 2, 4))
    v_theta, v_psi = dirac_gan.vector_field(DiracGAN(noise=0.3, gamma=1.0), theta, psi)
    assert v_theta.shape == v_psi.shape == (4, 5)
    assert v_psi[2, 3] == pytest.approx(dirac_gan.vector_field(DiracGAN(noise=0.3, gamma=1.0), theta[2, 3],
                                                               psi[2, 3])[1])


# ---- the Jacobian at the equilibrium -----------------------------------------------------------
settings_at_equilibrium = st.builds(  # every loss and generator, with R1 and instance noise
    DiracGAN, loss=st.sampled_from(["gan", "wgan"]), gamma=st.floats(0.0, 4.0), noise=st.floats(0.0, 1.5),
) | st.builds(DiracGAN, generator=st.just("non_saturating"), gamma=st.floats(0.0, 4.0), noise=st.floats(0.0, 1.5))


def finite_difference_jacobian(game, eps=1e-5):
    columns = []
    for step in (np.array([eps, 0.0]), np.array([0.0, eps])):
        plus = np.array(dirac_gan.vector_field(game, *step))
        minus = np.array(dirac_gan.vector_field(game, *-step))
        columns.append((plus - minus) / (2 * eps))
    return np.stack(columns, axis=1)  # column j: dv / dx_j


@given(game=settings_at_equilibrium)
def test_closed_form_jacobian_and_eigenvalues_match_finite_differences(game):
    J = dirac_gan.equilibrium_jacobian(game)
    assert np.allclose(J, finite_difference_jacobian(game), atol=1e-8)
    numeric = np.sort_complex(np.linalg.eigvals(finite_difference_jacobian(game)))
    assert np.allclose(np.sort_complex(dirac_gan.eigenvalues(game)), numeric, atol=1e-4)  # a double root: sqrt(1e-8)


def test_eigenvalues_of_the_paper():
    assert np.allclose(dirac_gan.eigenvalues(DiracGAN()), [0.5j, -0.5j])          # +-i f'(0): pure rotation
    assert np.allclose(dirac_gan.eigenvalues(DiracGAN("wgan")), [1j, -1j])
    for gamma in (0.1, 0.3, 1.0, 3.0):  # -gamma/2 +- sqrt(gamma^2/4 - f'(0)^2)
        root = np.sqrt(complex(gamma ** 2 / 4 - 0.25))
        assert np.allclose(dirac_gan.eigenvalues(DiracGAN(gamma=gamma)), [-gamma / 2 + root, -gamma / 2 - root])
        assert np.all(dirac_gan.eigenvalues(DiracGAN(gamma=gamma)).real < 0)
    assert np.all(dirac_gan.eigenvalues(DiracGAN(noise=0.5)).real < 0)  # instance noise damps psi too
    with pytest.raises(ValueError, match="gp_weight"):
        dirac_gan.equilibrium_jacobian(DiracGAN("wgan", gp_weight=1.0))


# ---- steps, and the claims of tutorial 09 -------------------------------------------------------
def test_one_step_of_each_method_by_hand():
    game, h = DiracGAN(gamma=0.5), 0.2
    v = np.array(dirac_gan.vector_field(game, 1.0, -0.5))
    assert np.allclose(dirac_gan.simultaneous(game, (1.0, -0.5), steps=1, h=h)[1], np.array([1.0, -0.5]) + h * v)
    psi = -0.5
    for _ in range(3):  # k = 3 steps of D with theta fixed, then G against the last psi
        psi += h * dirac_gan.vector_field(game, 1.0, psi)[1]
    theta = 1.0 + h * dirac_gan.vector_field(game, 1.0, psi)[0]
    assert np.allclose(dirac_gan.alternating(game, (1.0, -0.5), steps=1, h=h, k=3), [[1.0, -0.5], [theta, psi]])
    clipped = dirac_gan.alternating(DiracGAN("wgan", clip=0.5), (2.0, 0.0), steps=50, h=0.3, k=5)
    assert clipped.shape == (51, 2) and np.abs(clipped[:, 1]).max() == pytest.approx(0.5)


def test_unregularised_training_does_not_converge():
    start = math.hypot(1.0, 1.0)
    spiral = dirac_gan.distance(dirac_gan.simultaneous(DiracGAN(), steps=2000, h=0.1))
    assert spiral[-1] > start and np.all(np.diff(spiral) > 0)  # outwards, every step
    circle = dirac_gan.distance(dirac_gan.alternating(DiracGAN(), steps=2000, h=0.1))
    assert circle.min() > 0.95 * start                          # round and round, never closer
    for k in (1, 5):
        wgan = dirac_gan.distance(dirac_gan.alternating(DiracGAN("wgan", clip=1.0), steps=2000, h=0.1, k=k))
        assert wgan[-500:].min() > 0.3


def test_wgan_gp_circles_or_sticks_at_theta_two_lambda():
    for run, k in ((dirac_gan.simultaneous, {}), (dirac_gan.alternating, {"k": 5})):
        circling = dirac_gan.distance(run(DiracGAN("wgan", gp_weight=0.3), steps=2000, h=0.1, **k))
        assert circling[-500:].min() > 0.4
        stuck = run(DiracGAN("wgan", gp_weight=1.0), steps=2000, h=0.1, **k)[-1]
        assert stuck == pytest.approx([2.0, 0.0], abs=1e-3)  # psi* = 1 - theta / (2 lambda) reaches 0 there


@pytest.mark.parametrize("method", ["simultaneous", "alternating"])
def test_r1_with_gamma_1_converges(method):
    run = getattr(dirac_gan, method)
    assert dirac_gan.distance(run(DiracGAN(gamma=1.0), steps=2000, h=0.1))[-1] < 1e-3


@pytest.mark.parametrize("method, k", [("simultaneous", 1), ("alternating", 1), ("alternating", 3)])
@pytest.mark.parametrize("game", [DiracGAN(), DiracGAN(gamma=0.7, noise=0.4), DiracGAN("wgan", clip=1.0)], ids=repr)
def test_step_matrix_is_the_jacobian_of_one_real_step(method, k, game):
    def one_step(x):
        run = dirac_gan.simultaneous if method == "simultaneous" else dirac_gan.alternating
        return run(game, tuple(x), steps=1, h=0.3, **({} if method == "simultaneous" else {"k": k}))[1]
    eps = 1e-6
    numeric = np.stack([(one_step(e) - one_step(-e)) / (2 * eps) for e in np.eye(2) * eps], axis=1)
    assert np.allclose(dirac_gan.step_matrix(game, method, h=0.3, k=k), numeric, atol=1e-8)


@pytest.mark.parametrize("method", ["simultaneous", "alternating"])
@pytest.mark.parametrize("game", [DiracGAN(gamma=0.1), DiracGAN(gamma=3.0), DiracGAN(noise=0.5)], ids=repr)
def test_measured_rate_is_the_step_matrix_spectral_radius(method, game):
    d = dirac_gan.distance(getattr(dirac_gan, method)(game, steps=1500, h=0.1))
    measured = (d[-1] / d[-501]) ** (1 / 500)  # per step, over the last 500 (near the equilibrium)
    assert measured == pytest.approx(dirac_gan.spectral_radius(dirac_gan.step_matrix(game, method, h=0.1)), abs=2e-4)


@pytest.mark.parametrize("call, match", [
    (lambda: DiracGAN(loss="hinge"), "loss: got 'hinge'"),
    (lambda: DiracGAN(generator="nope"), "generator: got 'nope'"),
    (lambda: DiracGAN("wgan", generator="non_saturating"), "generator: got 'non_saturating' with loss 'wgan'"),
    (lambda: DiracGAN(gamma=-1.0), "gamma: got -1.0"),
    (lambda: DiracGAN(noise=float("nan")), "noise: got nan"),
    (lambda: DiracGAN(clip=0), "clip: got 0"),
    (lambda: dirac_gan.simultaneous(DiracGAN(), start=(1.0,)), "start: got"),
    (lambda: dirac_gan.simultaneous(DiracGAN(), steps=-1), "steps: got -1"),
    (lambda: dirac_gan.simultaneous(DiracGAN(), h=0.0), "h: got 0.0"),
    (lambda: dirac_gan.alternating(DiracGAN(), k=0), "k: got 0"),
    (lambda: dirac_gan.step_matrix(DiracGAN(), "simultaneous", k=2), "k: got 2 with simultaneous"),
    (lambda: dirac_gan.step_matrix(DiracGAN(), "leapfrog"), "method: got 'leapfrog'"),
])
def test_bad_input_gets_one_line_naming_the_argument(call, match):
    with pytest.raises(ValueError, match=match) as error:
        call()
    assert "\n" not in str(error.value)
