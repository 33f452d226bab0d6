"""The Dirac-GAN: the smallest GAN, where one can see whether training converges.

Mescheder, Geiger & Nowozin, "Which Training Methods for GANs do actually Converge?"
(ICML 2018). The data are one point, p_data = delta_0; the generator is one point too,
G = delta_theta (one parameter, theta); the discriminator is a line through 0,
D(x) = psi * x (one parameter, psi), which is D's *logit*, as everywhere in minigan:
positive means "real". The equilibrium is (theta, psi) = (0, 0): G puts its point on the
data, and D, unable to tell them apart, says nothing (logit 0 everywhere).

The value. With f(t) = log sigmoid(t) = -log(1 + exp(-t)) ("gan") or f(t) = t ("wgan"),

    V(theta, psi) = f(D(real)) + f(-D(fake)) = f(psi * 0) + f(-psi * theta) = f(0) + f(-psi theta).

For "gan" this is minigan's V(D, G) = log sigmoid(a_real) + log(1 - sigmoid(a_fake)) on
one real and one fake example; for "wgan" it is D(real) - D(fake), minus the WGAN critic's
loss. (Mescheder et al. write D with the other sign, large on fakes: their psi is our
-psi, and their L = f(psi theta) + f(0) is our V. Nothing else changes.)

The gradient vector field. D ascends V, G descends its loss (V itself for the "minimax"
generator, -f(psi theta) = -log D(G) for the "non_saturating" one). A gradient step of
size h is x <- x + h v(x), with x = (theta, psi) and

    v(theta, psi) = (-d loss_G / d theta, d V / d psi)
                  = ( psi f'(-psi theta),  -theta f'(-psi theta) )     minimax generator
                  = ( psi f'( psi theta),  -theta f'(-psi theta) )     non-saturating generator

using d/dtheta f(-psi theta) = -psi f'(-psi theta). f'(t) = sigmoid(-t) for "gan"
(f'(0) = 1/2) and 1 for "wgan". Additions, each on psi's component:

- R1 (gamma): D's loss gets + gamma/2 * |grad_x D(x_real)|^2 = gamma/2 psi^2, since
  grad_x D = psi everywhere; so v_psi gets -gamma psi.
- WGAN-GP (gp_weight, lambda): + lambda (|grad_x D(x_hat)| - 1)^2 = lambda (|psi| - 1)^2 at
  every interpolate x_hat; v_psi gets -2 lambda (|psi| - 1) sign(psi).
- Instance noise (noise, sigma): both points blurred, x_real = e1, x_fake = theta + e2 with
  e1, e2 ~ N(0, sigma^2). V and the field become expectations, e.g.
  v_psi = E[e1 f'(psi e1)] - E[(theta + e2) f'(-psi (theta + e2))], computed exactly
  enough (Gauss-Hermite quadrature, 100 nodes) rather than sampled: the mean field.
- Weight clipping (clip, c): after each of D's steps psi is put back into [-c, c] (WGAN's
  way of keeping the critic 1-Lipschitz for c = 1).

The Jacobian at (0, 0). Differentiating v there (every term with psi or theta left over
vanishes), with a = f'(0) and f''(0) = -1/4 ("gan") or 0 ("wgan"):

    J = [[ 0,   a               ],
         [-a,  -gamma + 2 sigma^2 f''(0)]],   eigenvalues  d/2 +- sqrt(d^2/4 - a^2),  d = J[1, 1].

Unregularised (d = 0) they are +-i a, purely imaginary: the flow circles the equilibrium
(theta^2 + psi^2 is constant along it), simultaneous steps (x <- x + h v, whose linear map
I + h J has eigenvalues 1 +- i h a, of modulus sqrt(1 + h^2 a^2) > 1) spiral outwards, and
alternating steps (determinant 1) keep circling. R1 gives -gamma/2 +- sqrt(gamma^2/4 - a^2),
both with negative real part: small enough steps converge. docs/math/convergence.md has the
argument; tests/test_games.py checks the field against minigan's autograd and the
eigenvalues against finite differences; tutorial 09 runs every setting.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from minigan import threads

LOSSES = ("gan", "wgan")
GENERATORS = ("minimax", "non_saturating")
METHODS = ("simultaneous", "alternating")
QUADRATURE_NODES = 100  # Gauss-Hermite nodes for the expectation over instance noise


def f(t, loss):
    """f(t) = log sigmoid(t) = -log(1 + exp(-t)) for "gan", t for "wgan"."""
    return -np.logaddexp(0.0, -t) if loss == "gan" else t  # logaddexp form: finite for any t


def f_prime(t, loss):
    """f'(t) = sigmoid(-t) = 1 / (1 + exp(t)) for "gan" (1/2 at 0), 1 for "wgan"."""
    if loss == "gan":
        return 0.5 * (1.0 - np.tanh(0.5 * t))  # tanh form: no overflow for large |t|
    return np.ones_like(t)


def f_second(t, loss):
    """f''(t) = -sigmoid(t) sigmoid(-t) for "gan" (-1/4 at 0), 0 for "wgan"."""
    if loss == "gan":
        return -0.25 * (1.0 - np.tanh(0.5 * t) ** 2)
    return np.zeros_like(t)


@dataclass(frozen=True)
class DiracGAN:
    """One setting of the game: the loss and the regularisers (the module docstring derives each).

    loss "gan" or "wgan"; generator "minimax" or "non_saturating" (only for "gan");
    gamma: the R1 weight (D's loss + gamma/2 |grad_x D(x_real)|^2); noise: the instance
    noise's standard deviation sigma; gp_weight: WGAN-GP's lambda; clip: None or c > 0,
    psi kept in [-c, c] after each of D's steps.
    """

    loss: str = "gan"
    generator: str = "minimax"
    gamma: float = 0.0
    noise: float = 0.0
    gp_weight: float = 0.0
    clip: float | None = None

    def __post_init__(self):
        if self.loss not in LOSSES:
            raise ValueError(f"loss: got {self.loss!r}, wanted one of {', '.join(LOSSES)}")
        if self.generator not in GENERATORS:
            raise ValueError(f"generator: got {self.generator!r}, wanted one of {', '.join(GENERATORS)}")
        if self.loss == "wgan" and self.generator != "minimax":
            raise ValueError(f"generator: got {self.generator!r} with loss 'wgan', wanted 'minimax' "
                             "(the WGAN generator descends -D(G(z)), which is V up to a constant)")
        for name in ("gamma", "noise", "gp_weight"):
            _check_number(name, getattr(self, name), "a number >= 0", lambda v: v >= 0)
        if self.clip is not None:
            _check_number("clip", self.clip, "None or a number > 0", lambda v: v > 0)


def _check_number(name, value, wanted, ok):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or not ok(value):
        raise ValueError(f"{name}: got {value!r}, wanted {wanted}")


# Gauss-Hermite nodes z and weights for the weight exp(-z^2 / 2), computed once: then
# E[g(e)] = sum(w * g(sigma * z)) / sqrt(2 pi) for e ~ N(0, sigma^2), exact for polynomials
# of degree below 2 * QUADRATURE_NODES. For the sigmoids of "gan" the error grows with
# sigma |psi|: against 200 nodes on |theta|, |psi| <= 3 it was 1e-15 at sigma = 0.5, 5e-9 at
# sigma = 1 and 2e-6 at sigma = 1.5.
_Z, _W = np.polynomial.hermite_e.hermegauss(QUADRATURE_NODES)
_W = _W / math.sqrt(2.0 * math.pi)


def _noise_nodes(sigma):
    """Points e and weights w with sum(w * g(e)) = E[g(e)] for e ~ N(0, sigma^2), shape (n,)."""
    if sigma == 0:
        return np.zeros(1), np.ones(1)  # no noise: the expectation is the value at e = 0
    return sigma * _Z, _W


def value(game: DiracGAN, theta, psi):
    """V(theta, psi) = E f(psi e1) + E f(-psi (theta + e2)); f(0) + f(-psi theta) without noise."""
    e, w = _noise_nodes(game.noise)
    theta, psi = np.asarray(theta, float)[..., None], np.asarray(psi, float)[..., None]  # (..., 1) against (n,)
    return np.sum(w * (f(psi * e, game.loss) + f(-psi * (theta + e), game.loss)), axis=-1)


def vector_field(game: DiracGAN, theta, psi):
    """v(theta, psi) = (-d loss_G / d theta, d V / d psi - d penalties / d psi): the step direction.

    Without noise or penalties: v = (psi f'(-psi theta), -theta f'(-psi theta)) for the
    minimax generator (psi f'(psi theta) first for the non-saturating one). theta and psi
    may be arrays of one shape (a grid, for a quiver plot); returns (v_theta, v_psi).
    """
    e, w = _noise_nodes(game.noise)
    theta, psi = np.asarray(theta, float)[..., None], np.asarray(psi, float)[..., None]  # (..., 1) against (n,)
    fake = theta + e                                        # (..., n) the blurred fake points
    slope_fake = f_prime(-psi * fake, game.loss)            # f' at D's verdict on them
    if game.generator == "minimax":                          # G descends f(-psi x_fake)
        v_theta = np.sum(w * psi * slope_fake, axis=-1)
    else:                                                    # G descends -f(psi x_fake) = -log D(G)
        v_theta = np.sum(w * psi * f_prime(psi * fake, game.loss), axis=-1)
    # D ascends E f(psi e1) + E f(-psi x_fake): d/dpsi = E e1 f'(psi e1) - E x_fake f'(-psi x_fake)
    v_psi = np.sum(w * (e * f_prime(psi * e, game.loss) - fake * slope_fake), axis=-1)
    psi = psi[..., 0]
    v_psi = v_psi - game.gamma * psi                                     # R1: -d/dpsi gamma/2 psi^2
    v_psi = v_psi - 2.0 * game.gp_weight * (np.abs(psi) - 1.0) * np.sign(psi)  # -d/dpsi lambda (|psi| - 1)^2
    return v_theta, v_psi


def equilibrium_jacobian(game: DiracGAN):
    """J = dv/d(theta, psi) at (0, 0) = [[0, a], [-a, -gamma + 2 sigma^2 f''(0)]], a = f'(0)."""
    if game.gp_weight > 0:
        raise ValueError(f"gp_weight: got {game.gp_weight!r}; the field has a kink at psi = 0 "
                         "(|psi|), so it has no Jacobian there: wanted 0")
    a = float(f_prime(np.float64(0.0), game.loss))
    d = -game.gamma + 2.0 * game.noise ** 2 * float(f_second(np.float64(0.0), game.loss))
    return np.array([[0.0, a], [-a, d]])


def eigenvalues(game: DiracGAN):
    """The eigenvalues of J at (0, 0), in closed form: d/2 +- sqrt(d^2/4 - a^2), as complex numbers.

    From det(J - lambda I) = lambda^2 - d lambda + a^2 = 0 (trace d, determinant a^2).
    """
    J = equilibrium_jacobian(game)
    a, d = J[0, 1], J[1, 1]
    root = np.sqrt(complex(d * d / 4.0 - a * a))
    return np.array([d / 2.0 + root, d / 2.0 - root])


def step_matrix(game: DiracGAN, method="simultaneous", h=0.1, k=1):
    """M with x_next = M x to first order near (0, 0): one step of ``method`` (theory for its rate).

    Simultaneous: M = I + h J. Alternating: D's step, theta fixed, is
    M_D = [[1, 0], [h J10, 1 + h J11]], G's step against the new psi is
    M_G = [[1 + h J00, h J01], [0, 1]], and one generator step after k of D's is
    M = M_G M_D^k. The distance shrinks near (0, 0) by about max |eigenvalue of M| a step.
    """
    if method not in METHODS:
        raise ValueError(f"method: got {method!r}, wanted one of {', '.join(METHODS)}")
    _check_number("h", h, "a step size > 0", lambda v: v > 0)
    _check_k(k)
    if method == "simultaneous" and k != 1:
        raise ValueError(f"k: got {k!r} with simultaneous steps, wanted 1 (k discriminator steps need alternating)")
    J = equilibrium_jacobian(game)
    if method == "simultaneous":
        return np.eye(2) + h * J
    m_d = np.array([[1.0, 0.0], [h * J[1, 0], 1.0 + h * J[1, 1]]])
    m_g = np.array([[1.0 + h * J[0, 0], h * J[0, 1]], [0.0, 1.0]])
    return m_g @ np.linalg.matrix_power(m_d, k)


def spectral_radius(matrix):
    """max |eigenvalue|: the factor by which repeated steps of ``matrix`` shrink (< 1) or grow."""
    return float(np.max(np.abs(np.linalg.eigvals(matrix))))


# ---- training: gradient steps of size h ---------------------------------------------------------
def _check_run(start, steps, h):
    if not (isinstance(start, (tuple, list, np.ndarray)) and len(start) == 2
            and all(isinstance(s, numbers.Real) and math.isfinite(s) for s in start)):
        raise ValueError(f"start: got {start!r}, wanted (theta, psi), two finite numbers")
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise ValueError(f"steps: got {steps!r}, wanted a whole number >= 0")
    _check_number("h", h, "a step size > 0", lambda v: v > 0)


def _check_k(k):
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(f"k: got {k!r}, wanted a whole number >= 1 (discriminator steps per generator step)")


def _clipped(game, psi):
    return psi if game.clip is None else min(max(psi, -game.clip), game.clip)


def simultaneous(game: DiracGAN, start=(1.0, 1.0), steps=2000, h=0.1):
    """Both players step at once from the same point: x <- x + h v(x). Returns (steps + 1, 2).

    Row i is (theta, psi) after i steps; row 0 is the start.
    """
    _check_run(start, steps, h)
    theta, psi = float(start[0]), float(start[1])
    path = np.empty((steps + 1, 2))
    path[0] = theta, psi
    for i in threads.loop(range(1, steps + 1)):  # every training loop under one thread policy (minigan.threads)
        v_theta, v_psi = vector_field(game, theta, psi)  # both from the same (theta, psi)
        theta, psi = theta + h * float(v_theta), _clipped(game, psi + h * float(v_psi))
        path[i] = theta, psi
    return path


def alternating(game: DiracGAN, start=(1.0, 1.0), steps=2000, h=0.1, k=1):
    """Algorithm 1's order: k steps of D, then one of G against the new D. Returns (steps + 1, 2).

    Row i is (theta, psi) after i generator steps (each preceded by k discriminator steps).
    """
    _check_run(start, steps, h)
    _check_k(k)
    theta, psi = float(start[0]), float(start[1])
    path = np.empty((steps + 1, 2))
    path[0] = theta, psi
    for i in threads.loop(range(1, steps + 1)):  # every training loop under one thread policy (minigan.threads)
        for _ in range(k):                                   # k discriminator steps, theta fixed
            psi = _clipped(game, psi + h * float(vector_field(game, theta, psi)[1]))
        theta = theta + h * float(vector_field(game, theta, psi)[0])  # one generator step
        path[i] = theta, psi
    return path


def distance(path):
    """Distance to the equilibrium (0, 0) of each row of a (steps + 1, 2) trajectory."""
    path = np.asarray(path, float)
    return np.hypot(path[:, 0], path[:, 1])
