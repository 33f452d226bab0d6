# %% [markdown]
# # 07 · Algorithm 1 on 1-D data: the paper's Figure 1, as training goes
#
# **What this teaches.** The whole GAN training loop, Algorithm 1 of Goodfellow et al.
# (2014), as `minigan.gan` runs it: k discriminator steps, then one generator step, with the
# paper's names. On 1-D data every quantity can be drawn, so we reproduce the panels of the
# paper's Figure 1 from a real run: the data density, the generator's density, the
# discriminator D(x) and the map z -> x = G(z), from a poor start to p_g close to p_data
# with D near 1/2.
#
# **How long it runs.** About 8 seconds (about 4 in fast mode, `MINIGAN_FAST=1`, which
# skips the animation).
# (Times measured on two CPU cores with one BLAS thread, `OPENBLAS_NUM_THREADS=1`; if yours
# are far slower, see the note on threads in `tutorials/README.md`.)
#
# Builds on [06](06_optimal_discriminator.py) (D* and -log 4). The loop is read line by line
# in [Algorithm 1, annotated](../docs/math/algorithm1.md).

# %%
import inspect
import os
import pathlib

import matplotlib

matplotlib.use("Agg")  # draw into files, never open a window
import matplotlib.pyplot as plt
import numpy as np

import minigan
from minigan import gan
from minigan.gan import callbacks
from minigan.judging import metrics
from minigan.judging import plot

FAST = os.environ.get("MINIGAN_FAST") == "1"  # the test suite's quick mode: fewer iterations
HERE = pathlib.Path(__file__).resolve().parent if "__file__" in globals() else pathlib.Path.cwd()
FIGURES = pathlib.Path(os.environ.get("MINIGAN_FIGURES", HERE / "figures"))
FIGURES.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## 1. Algorithm 1, as the code reads
#
# The paper's loop, for each training iteration:
#
# ```
# repeat k times:
#     sample m noise vectors z ~ p_z and m examples x ~ p_data
#     update D by ascending  grad_theta_d  mean[ log D(x) + log(1 - D(G(z))) ]
# sample m noise vectors z ~ p_z
# update G by descending grad_theta_g  mean[ log(1 - D(G(z))) ]   (or the non-saturating form)
# ```
#
# and here is the method that runs it, printed from the library itself:

# %%
print(inspect.getsource(gan.GAN.train_step))

# %% [markdown]
# Three details are worth a look. `G(z).detach()` in D's step: D's update must not push
# gradients into G. `discriminator_loss` is -V, so *descending* it *ascends* V, as the paper
# asks. And G's step draws fresh noise and goes through D (whose parameters its optimizer
# does not hold), so only G moves. Everything else (the loss history, progress, checkpoints,
# the learning-rate schedule) happens in callbacks, outside this loop.
#
# ## 2. The run
#
# `gan.recipe("gaussian1d")` is the library's tested setting for this problem: p_data =
# N(4, 0.5^2), normal noise z, an MLP discriminator, Adam with a decaying learning rate. Its
# generator is the smallest that can do the job: `MLP([1, 1])`, G(z) = w z + b, which can
# turn N(0, 1) into any Gaussian N(b, w^2). (The paper's Figure 1 used uniform z; a linear G
# could only make uniform distributions from it.) `gan.build` makes G, D, p_z, p_data, both
# optimizers and one seeded generator that fixes the whole run.

# %%
steps = 600  # the recipe's length: short enough for fast mode too (fast mode skips the animation)
config = gan.recipe("gaussian1d", steps=steps)
model = gan.build(config)
print(config)
print("G:", model.G)
print("D:", model.D)
p_data = model.p_data
lo, hi = -2.0, 8.0  # the plotting range: the data (mean 4) and where G starts (near 0)

# %% [markdown]
# We train in chunks and take a snapshot after each: G's samples for a fixed, evenly spaced
# set of noise values (to draw the map z -> x), G's samples for density estimates, and D(x)
# on a grid. In full mode we also keep samples every 20 steps for an animation.

# %%
snapshot_steps = [0, steps // 10, steps // 3, steps]
z_line = np.linspace(-2.5, 2.5, 25, dtype=np.float32)[:, None]  # (25, 1): most of N(0, 1)
xs = np.linspace(lo, hi, 400)
history = callbacks.History()
schedules = gan.schedules(config, model)  # the lr decay the recipe asks for
snapshots = {}


def snapshot():
    with minigan.no_grad():
        mapped = model.G(minigan.tensor(z_line, backend=model.backend)).numpy()[:, 0]
    return {"samples": model.generate(2500, seed=1)[:, 0], "mapped": mapped, "d": model.discriminate(xs[:, None])}


js_lo, js_hi = p_data.interval()  # mean +- 6 std: where p_data's mass is
js_at = {}  # step -> JSD(p_data, p_g)
frames = []  # (step, samples) for the animation
every = steps if FAST else 20
for target in snapshot_steps:
    while model.step < target:
        model.train(min(every, target - model.step), callbacks=[history, *schedules])
        frames.append((model.step, model.generate(500, seed=2)))
    snapshots[target] = snapshot()
    js_at[target] = metrics.js_divergence_1d(snapshots[target]["samples"], p_data.density, js_lo, js_hi)
    print(f"step {model.step:5d}: JSD(p_data, p_g) = {js_at[target]:.4f}")

# %% [markdown]
# ## 3. Figure 1, from the run
#
# In each panel: the data density (black, dotted), the generator's density estimated from
# its samples (green), D(x) (blue, dashed), and below, the noise line z with arrows to
# x = G(z). Read left to right:
#
# - **step 0**: G maps z to a narrow blob far from the data; D is untrained;
# - **early**: D has learned where the data are (high on them, low on G's samples), and G's
#   samples flow up D's slope, toward the data;
# - **later**: G's density has moved onto the data and is reshaping to match its width;
# - **end**: p_g lies close to p_data and D is near 1/2 everywhere the data are: D can no
#   longer tell the two apart, the equilibrium of Theorem 1.

# %%
def draw_panel(ax, shot, title):
    ax.plot(xs, p_data.density(xs), ":", color="k", lw=2, label="p_data")
    ax.plot(xs, plot.gaussian_kde_1d(shot["samples"], xs), color="tab:green", lw=2, label="p_g")
    ax.plot(xs, shot["d"], "--", color="tab:blue", lw=2, label="D(x)")
    # the map z -> x: z's range drawn on a line below, stretched to the panel's width
    z_drawn = lo + (z_line[:, 0] + 2.5) / 5.0 * (hi - lo)
    for z_pos, x_pos in zip(z_drawn, np.clip(shot["mapped"], lo, hi)):
        ax.annotate("", (x_pos, -0.05), (z_pos, -0.35), arrowprops=dict(arrowstyle="->", color="0.5", lw=0.6))
    ax.axhline(-0.05, color="k", lw=0.8)
    ax.axhline(-0.35, color="k", lw=0.8)
    ax.text(lo, -0.02, "x", fontsize=8)
    ax.text(lo, -0.45, "z", fontsize=8)
    ax.set_ylim(-0.5, 1.1)
    ax.set_xlim(lo, hi)
    ax.set_yticks([0, 0.5, 1])
    ax.set_title(title)


fig, axes = plt.subplots(1, 4, figsize=(16, 3.8), sharey=True)
for ax, (label, step) in zip(axes, zip("abcd", snapshot_steps)):
    draw_panel(ax, snapshots[step], f"({label}) step {step}")
    ax.set_xlabel("x  (below: z, stretched to the same width)")
axes[0].set_ylabel("density, or D(x)")
axes[0].legend(loc="upper left", fontsize=8)
fig.tight_layout()
fig.savefig(FIGURES / "07_figure1_panels.png", dpi=100)
plt.close(fig)
print("saved", FIGURES / "07_figure1_panels.png")

# %% [markdown]
# The paper's panel (b), D trained to convergence against a fixed G, is what tutorial 06
# did. In real training D takes only k steps between G's moves, so it is never quite D*:
# the theory's assumption, approximately met.
#
# ## 4. The training curves
#
# `minigan.judging.plot` draws what `callbacks.History` recorded at every step. The losses should
# settle near log 4 for D (its loss is -V, and V -> -log 4 at the equilibrium), and mean D(x)
# and D(G(z)) near 1/2.

# %%
plot.plot_losses(history.as_columns(), FIGURES / "07_losses.png")
plot.plot_discriminator(history.as_columns(), FIGURES / "07_discriminator.png")
print("saved", FIGURES / "07_losses.png", "and", FIGURES / "07_discriminator.png")
if not FAST:
    real = p_data.sample(2000, model.backend.random(3))
    real = model.backend.to_host(real)
    plot.save_training_gif(frames, FIGURES / "07_training.gif", real=real, density=p_data.density)
    print("saved", FIGURES / "07_training.gif")
last = {name: float(np.mean(history[name][-100:])) for name in ("value", "d_real", "d_fake")}
print(f"last 100 steps: V = {last['value']:.3f} (-log 4 = {-np.log(4):.3f}), "
      f"mean D(x) = {last['d_real']:.3f}, mean D(G(z)) = {last['d_fake']:.3f}")

# %% [markdown]
# Try it yourself: `k=5` (D trained harder between G's moves), `loss="minimax"` (tutorial
# 05's saturating generator), or a larger learning rate: pass them to `gan.recipe` above and
# compare the panels. The same run from the command line is
# `python -m minigan.demo --dataset gaussian1d`.
#
# ## The checked numbers
#
# The Jensen-Shannon divergence between p_data and G's samples at the start (log 2 = 0.69,
# its largest value: G's first samples miss the data entirely), the last 100 steps' V and
# mean verdicts (near -log 4 and 1/2: the equilibrium), and the divergence at the end (0
# for a perfect generator; here below 0.01, the level a histogram of 2,500 true samples
# scores). Over seeds 0 to 4 (change `seed=` in the recipe above), on each BLAS
# configuration measured, the start is median 0.69, range [0.63, 0.69], and the end median
# 0.002, range [0.0017, 0.0029].

# %%
print(f"CHECK js_divergence_start = {js_at[0]:.4f}")
print(f"CHECK final_value = {last['value']:.4f}")  # the mean over the last 100 steps, as printed above
print(f"CHECK final_d_real = {last['d_real']:.4f}")
print(f"CHECK final_d_fake = {last['d_fake']:.4f}")
print(f"CHECK js_divergence = {js_at[steps]:.4f}")
