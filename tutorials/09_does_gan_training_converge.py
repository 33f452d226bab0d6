# %% [markdown]
# # 09 · Does GAN training converge? The Dirac-GAN
#
# **What this teaches.** Tutorial 08 showed GAN training going wrong on a ring; here we see
# *why* it can fail to settle even on the simplest game there is. Mescheder, Geiger & Nowozin
# (ICML 2018) shrink a GAN to two numbers: the data are one point at 0, the generator is one
# point at theta, the discriminator is a line through 0 with slope psi. We train it with
# gradient steps, simultaneous (both players move at once) and alternating (D first, then G,
# as Algorithm 1 does), for the plain GAN, WGAN with k critic steps (and WGAN-GP), instance
# noise and the R1 gradient penalty at several strengths. We draw the paths in the (theta, psi) plane and
# the distance to the equilibrium over the steps, and explain every outcome with one 2 x 2
# matrix: the Jacobian of the gradient field at the equilibrium, and its eigenvalues.
#
# **How long it runs.** About 5 seconds: it is 2-D NumPy. Fast mode (`MINIGAN_FAST=1`) runs
# the same steps and only draws its figures at a lower resolution, so it takes about as
# long; every number is the same.
#
# Builds on [05](05_the_minimax_game.py) (the game and its gradients) and
# [08](08_two_dims_and_mode_collapse.py) (training that fails to settle). The derivation is
# on the docs page "Does GAN training converge?" (`docs/math/convergence.md`).

# %%
import os
import pathlib

import matplotlib

matplotlib.use("Agg")  # draw into files, never open a window
import matplotlib.pyplot as plt
import numpy as np

from minigan.variants import dirac_gan
from minigan.variants.dirac_gan import DiracGAN

FAST = os.environ.get("MINIGAN_FAST") == "1"  # the test suite's quick mode: smaller figures only
HERE = pathlib.Path(__file__).resolve().parent if "__file__" in globals() else pathlib.Path.cwd()
FIGURES = pathlib.Path(os.environ.get("MINIGAN_FIGURES", HERE / "figures"))
FIGURES.mkdir(parents=True, exist_ok=True)
DPI = 50 if FAST else 100

# %% [markdown]
# ## 1. The game
#
# p_data = delta_0 (every real example is 0), G = delta_theta (every fake is theta), and
# D(x) = psi * x is the discriminator's logit, as everywhere in minigan (positive: "real").
# With one real and one fake example, minigan's value V = log sigmoid(a_real) +
# log(1 - sigmoid(a_fake)) becomes, writing f(t) = log sigmoid(t) = -log(1 + exp(-t)),
#
#     V(theta, psi) = f(psi * 0) + f(-psi * theta) = f(0) + f(-psi theta).
#
# D ascends V in psi, G descends it in theta. The **equilibrium** is (0, 0): G sits on the
# data, and D, which cannot tell the two apart, says logit 0 (D = 1/2) everywhere. One step
# of size h moves x = (theta, psi) along the **gradient vector field**
#
#     v(theta, psi) = (-dV/dtheta, dV/dpsi) = ( psi f'(-psi theta), -theta f'(-psi theta) ),
#
# with f'(t) = sigmoid(-t), so f'(0) = 1/2. For WGAN f(t) = t (D's loss is mean D(G(z)) -
# mean D(x)), and f' = 1. `dirac_gan.vector_field` computes v; tests/test_games.py checks it
# against minigan's own losses and `backward()` with D an `nn.Linear(1, 1)` (bias frozen at
# 0) and G one `nn.Parameter`.
#
# Look at v: it is perpendicular to (theta, psi) (their dot product is psi theta f' -
# theta psi f' = 0). The field only turns around the equilibrium, it never points at it.

# %%
h, steps, start = 0.1, 2000, (1.0, 1.0)  # step size, generator steps, the starting point
start_distance = float(np.hypot(*start))
print(f"start {start}, distance to (0, 0) = {start_distance:.4f}; h = {h}, {steps} steps")
for point in [(1.0, 1.0), (1.0, -0.5), (-0.5, 2.0)]:
    v = np.array(dirac_gan.vector_field(DiracGAN(), *point))
    print(f"v{point} = ({v[0]:+.4f}, {v[1]:+.4f}); v . x = {v @ np.array(point):+.1e}")

# %% [markdown]
# ## 2. The eigenvalue argument
#
# Near (0, 0), v(x) is about J x, with J the Jacobian of v at the equilibrium. Differentiate
# v at (0, 0) (every term still holding theta or psi vanishes):
#
#     J = [[ 0,      f'(0)],
#          [-f'(0),  0    ]],   eigenvalues lambda = +- i f'(0) = +- i/2.
#
# Purely imaginary: the linearised flow x' = J x is a rotation, with no pull towards the
# centre. R1 (D's loss + gamma/2 * |grad_x D(x_real)|^2 = gamma/2 psi^2, as grad_x D = psi)
# adds -gamma psi to psi's step, so J[1, 1] = -gamma and
#
#     lambda = -gamma/2 +- sqrt(gamma^2/4 - f'(0)^2),
#
# both with real part below 0: a pull towards the equilibrium. Instance noise of standard
# deviation sigma (both points blurred) gives J[1, 1] = 2 sigma^2 f''(0) = -sigma^2/2 (a
# pull too); WGAN has f' = 1 and f'' = 0: eigenvalues +- i, whatever k. The closed forms
# (`dirac_gan.equilibrium_jacobian`, `dirac_gan.eigenvalues`) against central differences
# of the field itself:

# %%
def numeric_jacobian(game, eps=1e-5):
    """dv/dx at (0, 0) by central differences of the field, one column per coordinate."""
    columns = [(np.array(dirac_gan.vector_field(game, *e)) - np.array(dirac_gan.vector_field(game, *-e))) / (2 * eps)
               for e in np.eye(2) * eps]
    return np.stack(columns, axis=1)


games = {  # short name (for the CHECK lines) -> (label, the setting)
    "gan": ("GAN", DiracGAN()),
    "wgan": ("WGAN (|psi| <= 1)", DiracGAN("wgan", clip=1.0)),
    "noise_0.5": ("instance noise sigma = 0.5", DiracGAN(noise=0.5)),
    "r1_0.1": ("R1 gamma = 0.1", DiracGAN(gamma=0.1)),
    "r1_0.3": ("R1 gamma = 0.3", DiracGAN(gamma=0.3)),
    "r1_1": ("R1 gamma = 1", DiracGAN(gamma=1.0)),
    "r1_3": ("R1 gamma = 3", DiracGAN(gamma=3.0)),
}
jacobian_error = 0.0
print(f"{'setting':28s} {'J (closed form)':>26s}  eigenvalues")
for key, (label, game) in games.items():
    J = dirac_gan.equilibrium_jacobian(game)
    jacobian_error = max(jacobian_error, float(np.abs(J - numeric_jacobian(game)).max()))
    lam = dirac_gan.eigenvalues(game)
    print(f"{label:28s} {str(J.round(3).tolist()):>26s}  {lam[0]:.3f}, {lam[1]:.3f}")
print(f"closed-form J against finite differences: largest difference {jacobian_error:.1e}")

# %% [markdown]
# ## 3. Training the plain GAN: spiralling out, or circling
#
# **Simultaneous steps** x <- x + h v(x): near the equilibrium that is x <- (I + h J) x,
# whose eigenvalues 1 +- i h/2 have modulus sqrt(1 + h^2/4) > 1, so every step moves
# *outwards*. Exactly, too: v is perpendicular to x, so |x + h v|^2 = |x|^2 + h^2 |v|^2.
# **Alternating steps** (D moves, then G answers the new D) have a linear map of
# determinant 1 with eigenvalues on the unit circle: the path goes round and round, never
# closer. `dirac_gan.simultaneous` and `dirac_gan.alternating` return the path, one row
# (theta, psi) per generator step.

# %%
def run(game, method, k=1):
    path = dirac_gan.simultaneous(game, start, steps, h) if method == "sim" else \
        dirac_gan.alternating(game, start, steps, h, k)
    return path, dirac_gan.distance(path)


runs = {}  # (name, "sim" or "alt") -> (path, distance)
for key, (_, game) in games.items():
    for method in ("sim", "alt"):
        runs[key, method] = run(game, method)
runs["wgan_k5", "alt"] = run(games["wgan"][1], "alt", k=5)

gan_sim, gan_alt = runs["gan", "sim"][1], runs["gan", "alt"][1]
print(f"GAN, simultaneous: distance {gan_sim[0]:.3f} -> {gan_sim[-1]:.3f} after {steps} steps "
      f"(grew at every step: {bool(np.all(np.diff(gan_sim) > 0))})")
print(f"GAN, alternating:  distance {gan_alt[0]:.3f} -> {gan_alt[-1]:.3f}, between {gan_alt.min():.3f} "
      f"and {gan_alt.max():.3f} throughout")

# %% [markdown]
# Neither converges. Simultaneous steps end more than twice as far out as they started.
# Alternating steps end a little *closer* than they started, 3% (the orbit of the
# alternating map is an ellipse, not a circle: its radius varies by about h f'(0)/2 = 2.5%),
# but they never get anywhere near the equilibrium: the distance stays within 3% of its
# start on all 2,000 steps.
#
# ## 4. WGAN with k critic steps, and instance noise
#
# WGAN's critic is kept 1-Lipschitz by clipping its weight, |psi| <= 1; Algorithm 1 with k
# critic steps per generator step is `alternating(..., k=k)`. The eigenvalues are +- i for
# every k: more critic steps do not create a pull towards the equilibrium. Instance noise
# does: with sigma = 0.5 both eigenvalues have real part -sigma^2/4 = -1/16.

# %%
for key, method, label in [("wgan", "sim", "WGAN, simultaneous"), ("wgan", "alt", "WGAN, alternating, k = 1"),
                           ("wgan_k5", "alt", "WGAN, alternating, k = 5"),
                           ("noise_0.5", "sim", "noise 0.5, simultaneous"),
                           ("noise_0.5", "alt", "noise 0.5, alternating")]:
    d = runs[key, method][1]
    print(f"{label:26s}: distance after {steps} steps {d[-1]:.2e}; smallest over the last 500 {d[-500:].min():.2e}")

# %% [markdown]
# WGAN keeps moving round the equilibrium at a distance of 0.4 to about 1 (with k = 5 the
# critic reaches psi = +-1 before each generator step, so the path is a narrow loop), while
# instance noise brings both kinds of steps within 1e-4 of it.
#
# ## 5. R1 at several strengths: convergence, at a rate the eigenvalues predict
#
# With the penalty the eigenvalues have negative real part, and small enough steps
# converge. How fast? Near (0, 0) one step multiplies the distance by about the spectral
# radius rho (largest eigenvalue modulus) of the step's linear map: I + h J for simultaneous
# steps, M_G M_D for alternating ones (`dirac_gan.step_matrix`). We measure the rate over
# the last 500 steps of each run (before the distance reaches float64's floor) and compare.

# %%
def measured_rate(d, window=500, floor=1e-12):
    """Per-step factor of the distance over the last ``window`` steps above ``floor``."""
    end = int(np.nonzero(d > floor)[0][-1])
    return float((d[end] / d[end - window]) ** (1.0 / window))


rate_error = 0.0
print(f"{'setting':28s} {'method':>6s} {'distance':>10s} {'predicted rho':>14s} {'measured':>9s}")
for key in ("noise_0.5", "r1_0.1", "r1_0.3", "r1_1", "r1_3"):
    label, game = games[key]
    for method, name in (("sim", "simultaneous"), ("alt", "alternating")):
        d = runs[key, method][1]
        predicted = dirac_gan.spectral_radius(dirac_gan.step_matrix(game, name, h))
        measured = measured_rate(d)
        rate_error = max(rate_error, abs(measured - predicted) / predicted)
        print(f"{label:28s} {method:>6s} {d[-1]:10.1e} {predicted:14.5f} {measured:9.5f}")
print(f"largest relative difference between predicted and measured rates: {rate_error:.1e}")
gammas = {"r1_0.1": 0.1, "r1_0.3": 0.3, "r1_1": 1.0, "r1_3": 3.0}
fastest = min(gammas, key=lambda key: runs[key, "sim"][1][-1])
print(f"fastest gamma (simultaneous): {gammas[fastest]}")

# %% [markdown]
# Every regularised run converges, R1 with gamma = 1 to about 1e-35 or closer, and the
# measured rate matches the eigenvalue prediction to within 0.5%, most runs to 1e-5. The
# largest gaps have reasons: the gamma = 1 simultaneous run has a double eigenvalue, where a
# slowly shrinking factor n rides on rho^n, and the spirals' distance wobbles within each
# turn. More penalty is
# not always faster: gamma = 0.1 leaves the spiral almost undamped (real part -0.05), and
# gamma = 3 is overdamped, with one slow eigenvalue -1.5 + sqrt(2) = -0.09. The fastest is
# gamma = 2 f'(0) = 1, where the two eigenvalues meet at -1/2: *critical damping*, as for a
# spring.
#
# ## 6. WGAN-GP: a penalty that pulls the wrong way
#
# WGAN-GP (Gulrajani et al. 2017) replaces the clipping by lambda (|grad_x D(x_hat)| - 1)^2,
# which here is lambda (|psi| - 1)^2 at every x_hat: it pulls |psi| towards 1, not psi
# towards 0, and has a kink at psi = 0, so there is no Jacobian to read and no pull towards
# the equilibrium. With lambda = 0.3 the paths keep circling. With lambda = 1 something
# worse happens: D cannot change the sign of psi without crossing psi = 0, where the penalty
# is largest, so it settles on psi = 1 - theta / (2 lambda) > 0 (the wrong sign for a fake
# at theta > 0), G follows that slope *away* from the data, and both stop at theta = 2 lambda,
# psi = 0: a stationary point that is not the equilibrium.

# %%
gp_runs = {lam: {m: run(DiracGAN("wgan", gp_weight=lam), m, k=5 if m == "alt" else 1)[0] for m in ("sim", "alt")}
           for lam in (0.3, 1.0)}
for lam, paths in gp_runs.items():
    for method, path in paths.items():
        d = dirac_gan.distance(path)
        print(f"WGAN-GP lambda = {lam}, {method} (k = {5 if method == 'alt' else 1}): ends at "
              f"({path[-1, 0]:+.3f}, {path[-1, 1]:+.3f}); distance over the last 500 steps {d[-500:].min():.2f} "
              f"to {d[-500:].max():.2f}")

# %% [markdown]
# ## 7. The figures

# %%
panels = [("gan", "GAN"), ("wgan", "WGAN, |psi| <= 1"), ("noise_0.5", "instance noise 0.5"),
          ("r1_0.1", "R1 gamma = 0.1"), ("r1_0.3", "R1 gamma = 0.3"), ("r1_1", "R1 gamma = 1"),
          ("r1_3", "R1 gamma = 3")]
grid = np.linspace(-2.2, 2.2, 13)
gt, gp = np.meshgrid(grid, grid)
fig, axes = plt.subplots(2, 4, figsize=(15, 7.8), layout="constrained")
for ax, (key, title) in zip(axes.ravel(), panels):
    game = games[key][1]
    v_theta, v_psi = dirac_gan.vector_field(game, gt, gp)
    ax.quiver(gt, gp, v_theta, v_psi, color="0.75", angles="xy")
    ax.plot(*runs[key, "sim"][0].T, color="tab:red", lw=1, label="simultaneous")
    ax.plot(*runs[key, "alt"][0].T, color="tab:blue", lw=1, label="alternating")
    if key == "wgan":
        ax.plot(*runs["wgan_k5", "alt"][0].T, color="tab:green", lw=1, ls="--", label="alternating, k = 5")
        ax.legend(loc="lower left", fontsize=7)
    ax.plot(*start, "ko", ms=4)
    ax.plot(0, 0, "k*", ms=10)
    ax.set(xlim=(-2.2, 2.2), ylim=(-2.2, 2.2), xlabel="theta (G)", ylabel="psi (D)", title=title, aspect="equal")
ax = axes.ravel()[-1]  # the last panel: distance over steps
for key, colour in zip(["gan", "wgan", "noise_0.5", "r1_0.1", "r1_1", "r1_3"], plt.cm.tab10.colors):
    ax.semilogy(runs[key, "sim"][1], color=colour, lw=1, label=games[key][0])
    ax.semilogy(runs[key, "alt"][1], color=colour, lw=1, ls="--")
ax.set(xlabel="generator step", ylabel="distance to (0, 0)", ylim=(1e-18, 10),
       title="distance (solid: sim., dashed: alt.)")
ax.legend(fontsize=7)
axes[0, 0].legend(loc="lower left", fontsize=7)
fig.suptitle(f"The Dirac-GAN from (1, 1), h = {h}, {steps} steps: the field (grey) and the paths; * the equilibrium")
fig.savefig(FIGURES / "09_dirac_gan.png", dpi=DPI)
plt.close(fig)
print("saved", FIGURES / "09_dirac_gan.png")

fig, ax = plt.subplots(figsize=(5.5, 4.5), layout="constrained")
sweep = np.linspace(0.0, 3.0, 301)
locus = np.array([dirac_gan.eigenvalues(DiracGAN(gamma=g)) for g in sweep])  # (301, 2)
ax.plot(locus.real, locus.imag, ".", color="0.6", ms=2)
for g, marker in zip(gammas.values(), "osD^"):
    lam = dirac_gan.eigenvalues(DiracGAN(gamma=g))
    ax.plot(lam.real, lam.imag, marker, label=f"gamma = {g}")
ax.plot([0, 0], [-0.5, 0.5], "kx", ms=8, label="gamma = 0: +- i/2")
ax.axvline(0, color="k", lw=0.5)
ax.set(xlabel="real part", ylabel="imaginary part", title="Eigenvalues of J under R1, gamma from 0 to 3")
ax.legend(fontsize=8)
fig.savefig(FIGURES / "09_eigenvalues.png", dpi=DPI)
plt.close(fig)
print("saved", FIGURES / "09_eigenvalues.png")

# %% [markdown]
# In the figure the plain GAN's simultaneous path (red) spirals outwards and its alternating
# path (blue) circles; WGAN's paths circle inside |psi| <= 1; instance noise and R1 pull both
# into the centre, gamma = 0.1 in a slow spiral, gamma = 1 almost straight, gamma = 3 first
# fast (psi collapses) and then slowly along theta. The second figure is the eigenvalue
# argument in a picture: as gamma grows the two eigenvalues leave the imaginary axis, meet
# at -1/2 when gamma = 1, and then split along the real axis, one of them back towards 0.
#
# ## 8. An aside: the non-saturating generator
#
# minigan's default generator loss, -log D(G(z)), changes G's component to psi f'(psi theta).
# At (0, 0) its Jacobian is the same (eigenvalues +- i/2), so the eigenvalues promise
# nothing; but away from 0 the field now leans inwards a little (d|x|^2/dt = -2 u tanh(u/2)
# with u = psi theta, at most 0): alternating steps creep towards the equilibrium, the
# distance falling like 1/sqrt(steps) rather than by a constant factor (0.39, 0.28 and 0.20
# after 500, 1,000 and 2,000 steps: four times the steps for half the distance), while
# simultaneous steps stall near 0.45, where that lean balances their outward h^2 |v|^2. A
# loss can help a little through its curvature away from the equilibrium; only a term that
# changes J (R1, noise) gives a rate.

# %%
ns = DiracGAN(generator="non_saturating")
ns_sim, ns_alt = run(ns, "sim")[1], run(ns, "alt")[1]
print(f"non-saturating, alternating: distance after 500, 1000, 2000 steps: "
      f"{ns_alt[500]:.3f}, {ns_alt[1000]:.3f}, {ns_alt[2000]:.3f} (halving the error takes 4x the steps)")
print(f"non-saturating, simultaneous: distance after 1000 and 2000 steps: {ns_sim[1000]:.3f}, {ns_sim[2000]:.3f}")

# %% [markdown]
# ## The checked numbers
#
# The eigenvalues of the unregularised game and of R1 with gamma = 1; how far each run ends
# from the equilibrium, as a fraction of its start for the ones that do not converge; the
# rate check; WGAN-GP circling (lambda = 0.3) and stuck at theta = 2 lambda (lambda = 1);
# and the non-saturating aside.

# %%
print(f"CHECK jacobian_max_abs_error = {jacobian_error:.2e}")
lam_gan, lam_r1 = dirac_gan.eigenvalues(games["gan"][1]), dirac_gan.eigenvalues(games["r1_1"][1])
print(f"CHECK gan_eigenvalue_real_abs = {np.abs(lam_gan.real).max():.3g}")
print(f"CHECK gan_eigenvalue_imag = {lam_gan.imag.max():.6f}")
print(f"CHECK r1_gamma_1_eigenvalue_real = {lam_r1.real.max():.6f}")
print(f"CHECK gan_simultaneous_end_over_start = {gan_sim[-1] / gan_sim[0]:.4f}")
print(f"CHECK gan_alternating_end_over_start = {gan_alt[-1] / gan_alt[0]:.4f}")
print(f"CHECK gan_alternating_min_over_start = {gan_alt.min() / gan_alt[0]:.4f}")
print(f"CHECK wgan_simultaneous_late_min = {runs['wgan', 'sim'][1][-500:].min():.4f}")
print(f"CHECK wgan_k1_late_min = {runs['wgan', 'alt'][1][-500:].min():.4f}")
print(f"CHECK wgan_k5_late_min = {runs['wgan_k5', 'alt'][1][-500:].min():.4f}")
print(f"CHECK noise_simultaneous_distance = {runs['noise_0.5', 'sim'][1][-1]:.3e}")
print(f"CHECK noise_alternating_distance = {runs['noise_0.5', 'alt'][1][-1]:.3e}")
print(f"CHECK r1_gamma_1_simultaneous_distance = {runs['r1_1', 'sim'][1][-1]:.3e}")
print(f"CHECK r1_gamma_1_alternating_distance = {runs['r1_1', 'alt'][1][-1]:.3e}")
print(f"CHECK r1_largest_distance = {max(runs[key, m][1][-1] for key in gammas for m in ('sim', 'alt')):.3e}")
print(f"CHECK rate_max_relative_error = {rate_error:.2e}")
print(f"CHECK fastest_r1_gamma = {gammas[fastest]:g}")
print(f"CHECK wgan_gp_circling_late_min = {min(dirac_gan.distance(p)[-500:].min() for p in gp_runs[0.3].values()):.4f}")
print(f"CHECK wgan_gp_stuck_theta = {min(abs(p[-1, 0]) for p in gp_runs[1.0].values()):.4f}")
print(f"CHECK non_saturating_alternating_distance = {ns_alt[-1]:.4f}")
print(f"CHECK non_saturating_quadrupling_ratio = {ns_alt[500] / ns_alt[2000]:.3f}")
print(f"CHECK non_saturating_simultaneous_distance = {ns_sim[-1]:.4f}")
