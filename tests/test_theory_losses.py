"""The optimal discriminators of the later loss forms, measured by training a D on two
fixed 1-D distributions whose densities we know (docs/math/losses.md).

- LSGAN with labels a (fake) and b (real): D*(x) = (b p_d(x) + a p_g(x)) / (p_d(x) + p_g(x)).
- hinge: D*(x) = +1 where p_d > p_g, -1 where p_d < p_g.
- WGAN-GP between N(0, 1) and N(2, 1): mean D(x) - mean D(G(z)) estimates W_1 = 2. The
  penalty is soft, so the best critic is a little steeper than 1 where the interpolates
  are rare: its estimate is 2 + int h^2 / (2 lambda rho) (derived in the docs), 2.21 at
  lambda = 10 and 2.02 at lambda = 100. Both numbers are measured here.

Each D is a small tanh MLP in float64. The LSGAN and hinge Ds train on "quantile samples"
(the n quantiles of each distribution: a deterministic stand-in for a large sample); the
critic on fresh minibatches, since the gradient penalty needs random pairs.
"""
import math
from statistics import NormalDist

import numpy as np
import pytest

import minigan
from minigan import Tensor, losses, nn, optim

BE = minigan.get_backend("numpy")
F64 = BE.dtype("float64")


def quantiles(n=400, mu=0.0):
    return mu + np.array([NormalDist().inv_cdf((i + 0.5) / n) for i in range(n)])


def pdf(x, mu):
    return np.exp(-0.5 * (x - mu) ** 2) / math.sqrt(2 * math.pi)


def column(values) -> Tensor:
    return Tensor(BE.asarray(np.asarray(values, dtype=np.float64)[:, None]), BE)


def small_d(seed=0, hidden=16):
    return nn.MLP([1, hidden, hidden, 1], "tanh", rng=BE.random(seed), dtype="float64")


def scores(D, points) -> np.ndarray:
    with minigan.no_grad():
        return D(column(points)).numpy()[:, 0]


def train_full_batch(D, loss_of, steps=1000, lr=1e-2):
    """Adam on one fixed batch, lr decayed linearly to 0: the minimiser of ``loss_of(D)``."""
    opt = optim.Adam(D.parameters(), lr=lr)
    for step in range(steps):
        opt.lr = lr * (1 - step / steps) + 1e-5
        opt.zero_grad()
        loss_of(D).backward()
        opt.step()
    return D


# ---- LSGAN -----------------------------------------------------------------------------------
MU = 1.5  # p_d = N(0, 1), p_g = N(1.5, 1)


@pytest.mark.parametrize("a, b", [(-1.0, 1.0)])   # the labels of Mao et al.'s first scheme
def test_lsgan_discriminator_learns_the_optimal_one_for_labels_a_b(a, b):
    """D descends 1/2 mean (D(x) - b)^2 + 1/2 mean (D(G(z)) - a)^2, written with the "lsgan"
    form (targets 1 and 0) on (D - a) / (b - a); that rescaling moves the minimiser with it."""
    real, fake = column(quantiles()), column(quantiles(mu=MU))

    def loss(D):
        return losses.discriminator_loss((D(real) - a) / (b - a), (D(fake) - a) / (b - a), form="lsgan")

    D = train_full_batch(small_d(), loss)
    grid = np.linspace(-1.5, 3.0, 91)
    p_d, p_g = pdf(grid, 0.0), pdf(grid, MU)
    d_star = (b * p_d + a * p_g) / (p_d + p_g)
    gap = np.max(np.abs(scores(D, grid) - d_star))
    print(f"LSGAN a={a}, b={b}: max |D - D*| on [-1.5, 3] = {gap:.4f}")
    assert gap < 0.03
    assert np.max(np.abs(p_d / (p_d + p_g) - d_star)) > 0.5   # the measure can fail: the 2014 D* is far off


# ---- hinge ---------------------------------------------------------------------------------------
def test_hinge_discriminator_learns_plus_one_where_p_d_wins_and_minus_one_where_p_g_does():
    real, fake = column(quantiles()), column(quantiles(mu=MU))
    D = train_full_batch(small_d(), lambda D: losses.discriminator_loss(D(real), D(fake), form="hinge"))
    grid = np.linspace(-1.5, 3.0, 91)
    d_star = np.where(pdf(grid, 0.0) > pdf(grid, MU), 1.0, -1.0)     # the densities cross at MU / 2
    away = np.abs(grid - MU / 2) > 0.5                                # a smooth D needs room to turn
    d = scores(D, grid)
    print(f"hinge: max |D - D*| away from the crossing = {np.max(np.abs(d - d_star)[away]):.4f}")
    assert np.max(np.abs(d - d_star)[away]) < 0.05
    assert np.all(np.sign(d[np.abs(grid - MU / 2) > 0.1]) == d_star[np.abs(grid - MU / 2) > 0.1])


# ---- WGAN-GP ------------------------------------------------------------------------------------
def wgan_gp_estimate(lam, steps=800, m=128, lr=1e-2, seed=0):
    """Train a critic with L_D = mean D(G(z)) - mean D(x) + lam GP; return mean D(x) - mean D(G(z))."""
    rng = BE.random(seed)
    D = small_d(seed)
    last = D.parameters()[-2]
    last.data = last.data * 0.0   # the critic starts flat: the loss, not the penalty, picks its sign
    opt = optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.9))
    for step in range(steps):
        opt.lr = lr * (1 - step / steps) + 1e-5
        x, y = Tensor(rng.normal((m, 1), dtype=F64), BE), Tensor(rng.normal((m, 1), 2.0, dtype=F64), BE)
        eps = Tensor(rng.uniform((m, 1), dtype=F64), BE)
        opt.zero_grad()
        (losses.discriminator_loss(D(x), D(y), form="wgan") + lam * losses.gradient_penalty(D, x, y, eps)).backward()
        opt.step()
    q = quantiles()
    return float(np.mean(scores(D, q)) - np.mean(scores(D, q + 2.0)))


def soft_penalty_optimum(lam) -> float:
    """The best critic's estimate under a soft penalty: 2 + int h^2 / (2 lam rho) dx, with
    h = Phi(x) - Phi(x - 2) and rho the density of x^ = eps x + (1 - eps) y (docs/math/losses.md)."""
    x = np.linspace(-8.0, 10.0, 3601)
    phi = np.vectorize(NormalDist().cdf)
    h = phi(x) - phi(x - 2.0)
    eps = np.linspace(0.0, 1.0, 1001)[:, None]
    mean, var = 2.0 * (1 - eps), eps**2 + (1 - eps) ** 2
    rho = np.trapezoid(np.exp(-((x - mean) ** 2) / (2 * var)) / np.sqrt(2 * np.pi * var), eps[:, 0], axis=0)
    return 2.0 + float(np.trapezoid(h * h / (2 * lam * rho), x))


@pytest.mark.parametrize("lam", [100.0, 10.0])
def test_wgan_gp_critic_estimates_the_wasserstein_distance(lam):
    estimate, theory = wgan_gp_estimate(lam), soft_penalty_optimum(lam)
    print(f"WGAN-GP lambda={lam:g}: critic's estimate {estimate:.4f}, soft-penalty optimum {theory:.4f}, W_1 = 2")
    assert estimate == pytest.approx(theory, rel=0.01)          # the measured critic is the optimal one
    if lam >= 100:
        assert estimate == pytest.approx(2.0, rel=0.05)         # and estimates W_1 within 5%
    else:
        assert estimate > 2.0 * 1.05                            # lambda = 10 overestimates W_1 by 10%
