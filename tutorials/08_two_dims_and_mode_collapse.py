# %% [markdown]
# # 08 · Two dimensions and mode collapse: ring, grid, and what the knobs do
#
# **What this teaches.** Real data have many modes (kinds of faces, styles of digits). A
# generator that learns only some of them still fools a discriminator locally, and this
# *mode collapse* is the best-known GAN failure. On the 8-mode ring and the 25-mode grid it is
# visible and countable: we count the modes covered and the fraction of high-quality samples
# as training goes (the metrics of VEEGAN, Srivastava et al. 2017), then change one knob at
# a time (the loss form, k, each player's learning rate) and close with the limits the paper
# and the literature name.
#
# **How long it runs.** About 4 minutes, 3 of them for the 25-mode grid (about 6 seconds in
# fast mode, `MINIGAN_FAST=1`, which trains smaller networks for fewer steps).
# (Times measured on two CPU cores with one BLAS thread, `OPENBLAS_NUM_THREADS=1`; if yours
# are far slower, see the note on threads in `tutorials/README.md`.)
#
# Builds on [07](07_algorithm1_1d.py) (Algorithm 1 with `minigan.gan`).

# %%
import os
import pathlib
import time

import matplotlib

matplotlib.use("Agg")  # draw into files, never open a window
import matplotlib.pyplot as plt
import numpy as np

from minigan import callbacks, gan, metrics, optim

FAST = os.environ.get("MINIGAN_FAST") == "1"  # the test suite's quick mode
HERE = pathlib.Path(__file__).resolve().parent if "__file__" in globals() else pathlib.Path.cwd()
FIGURES = pathlib.Path(os.environ.get("MINIGAN_FIGURES", HERE / "figures"))
FIGURES.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## 1. The ring and how to score a generator
#
# `data.ring()`: 8 small Gaussians (std 0.02) evenly spaced on a circle of radius 2. Draw
# 2,500 samples from G. A sample is **high quality** if it lies within 3 standard deviations
# of its nearest mode's centre; a mode is **covered** if it is the nearest centre of at least
# one high-quality sample (`metrics.mode_coverage`). True samples cover all 8 modes with a
# high-quality fraction of 1 - e^-4.5 = 98.9%. For scale, VEEGAN's table reports a plain GAN
# on this ring covering 1 mode (and PacGAN's rerun about 6.3).

# %%
def coverage(model):
    samples = model.generate(metrics.N_SAMPLES, seed=1)  # its own noise: does not disturb training
    c = metrics.mode_coverage(samples, model.p_data.centres, model.p_data.std)
    return {"modes": c.modes_covered, "high_quality": c.high_quality_fraction}


def scatter_panel(ax, model, title):
    """G's samples over D(x) as a contour, with the mode centres."""
    samples = model.generate(1000, seed=1)
    limit = 1.35 * np.abs(model.p_data.centres).max()
    grid = np.linspace(-limit, limit, 80)
    gx, gy = np.meshgrid(grid, grid)
    d = model.discriminate(np.stack([gx.ravel(), gy.ravel()], axis=1)).reshape(gx.shape)
    ax.contourf(gx, gy, d, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.5)
    ax.scatter(samples[:, 0], samples[:, 1], s=2, color="tab:orange", alpha=0.6)
    ax.scatter(*model.p_data.centres.T, marker="x", s=20, color="k")
    ax.set_xlim(-limit, limit)
    ax.set_ylim(-limit, limit)
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=9)


# %% [markdown]
# ## 2. A run on the ring, watched
#
# `gan.recipe("ring")` is the library's tested setting (MLPs of 128 x 128, Adam, minibatches
# of 256). `callbacks.PeriodicMetrics` measures coverage every so many steps without
# touching the loop; we also draw the samples over D's verdict a few times.

# %%
if FAST:  # smaller networks, fewer steps: a few seconds
    ring_config = gan.recipe("ring", steps=600, m=64, g_hidden=(64, 64), d_hidden=(64, 64), lr=3e-3)
else:
    ring_config = gan.recipe("ring")
model = gan.build(ring_config)
steps = ring_config.steps
measure = callbacks.PeriodicMetrics(every=steps // 10, fn=coverage)
history = callbacks.History()
schedules = gan.schedules(ring_config, model)
panel_steps = [0, steps // 10, steps // 3, steps]
started = time.perf_counter()

fig, axes = plt.subplots(1, 4, figsize=(15, 4))
for ax, target in zip(axes, panel_steps):
    if target > model.step:
        model.train(target - model.step, callbacks=[measure, history, *schedules])
    scatter_panel(ax, model, f"step {target}: {coverage(model)['modes']} of 8 modes")
fig.suptitle("G's samples (orange) over D(x) (red: real, blue: fake); x = mode centres")
fig.tight_layout()
fig.savefig(FIGURES / "08_ring_training.png", dpi=100)
plt.close(fig)
print(f"trained {steps} steps in {time.perf_counter() - started:.0f} s; saved", FIGURES / "08_ring_training.png")
for row in measure.results:
    print(f"step {row['step']:5d}: {row['modes']} of 8 modes covered, high quality {row['high_quality']:.1%}")
ring_result = coverage(model)

# %% [markdown]
# A typical run: the samples start as one small cloud; D soon marks the modes as its "real"
# regions (the light and red patches) and everything else as fake (blue), and G's samples
# flow into those patches. All 8 modes are usually found within the first few hundred steps;
# the rest of training tightens the samples onto them (the high-quality fraction climbs) and
# pushes D toward 1/2 on the modes. Collapse, when it happens, shows as all samples crowding into a few modes while D
# turns the others red: G could get a reward there, but its gradient points to where D is
# currently most fooled.
#
# ## 3. One knob at a time
#
# Shorter runs of a smaller GAN, changing one thing each. The knobs:
#
# - **the loss form**: `loss="minimax"` (the game's own, saturating generator loss, tutorial
#   05) against the default non-saturating one;
# - **k**: the discriminator steps per generator step (the paper used k = 1);
# - **the learning rates**: each player's, separately. A discriminator that learns too
#   slowly gives G no useful direction; one that learns too fast saturates, and the
#   non-saturating loss exists for that case.
#
# One run per setting is an anecdote, not a measurement: GAN outcomes vary from seed to seed
# (VEEGAN averages 5 runs). `benchmarks/quality.py` runs the seeds; here, read the table as
# a demonstration of what can happen.

# %%
def run(name, steps, lr_G=None, lr_D=None, **changes):
    config = gan.recipe("ring", steps=steps, m=128, g_hidden=(64, 64), d_hidden=(64, 64), lr=3e-3, **changes)
    variant = gan.build(config)
    if lr_G is not None:  # each player its own learning rate: replace that optimizer
        variant.opt_G = optim.Adam(variant.G.parameters(), lr=lr_G, betas=config.betas)
    if lr_D is not None:
        variant.opt_D = optim.Adam(variant.D.parameters(), lr=lr_D, betas=config.betas)
    tick = time.perf_counter()
    variant.train(steps)  # constant learning rates: no schedules here
    return {"name": name, **coverage(variant), "seconds": time.perf_counter() - tick, "model": variant}


knob_steps = 20 if FAST else 1200  # fast mode only exercises the code: its table means nothing
variants = [
    run("baseline: non-saturating, k=1, lr 3e-3", knob_steps),
    run("loss='minimax'", knob_steps, loss="minimax"),
    run("k=5", knob_steps, k=5),
    run("D's lr / 10 (D falls behind)", knob_steps, lr_D=3e-4),
    run("G's lr / 10 (G falls behind)", knob_steps, lr_G=3e-4),
]
print(f"{'setting':42s} {'modes':>5s} {'high quality':>13s} {'time':>6s}")
for v in variants:
    print(f"{v['name']:42s} {v['modes']:5d} {v['high_quality']:13.1%} {v['seconds']:5.0f}s")

# %% [markdown]
# When we ran it (seed 0, NumPy, 1,200 steps each), the baseline and the slow-G run covered
# all 8 modes, and the slow-D run collapsed: every sample in one streak, covering one mode
# or none. The other rows landed in between, and their exact counts changed when we merely
# changed the number of BLAS threads (which changes the last bits of every sum): single runs
# are anecdotes. The collapse is the paper's warning made visible: a G that outpaces D piles
# its samples wherever D is currently fooled, and a slow D does not push them out again.
# The figure shows each run's samples over its own D.

# %%
fig, axes = plt.subplots(1, len(variants), figsize=(4 * len(variants), 4))
for ax, v in zip(axes, variants):
    scatter_panel(ax, v["model"], f"{v['name']}\n{v['modes']} of 8, HQ {v['high_quality']:.0%}")
fig.tight_layout()
fig.savefig(FIGURES / "08_knobs.png", dpi=90)
plt.close(fig)
print("saved", FIGURES / "08_knobs.png")

# %% [markdown]
# ## 4. The grid: 25 modes
#
# `data.grid()` puts 25 Gaussians (std 0.05) on a 5 x 5 grid. More modes, closer together:
# a harder test of diversity. VEEGAN reports a plain GAN covering 3.3 of them (PacGAN's
# rerun: 17.3).

# %%
if FAST:
    grid_config = gan.recipe("grid", steps=150, m=64, g_hidden=(64, 64), d_hidden=(64, 64), lr=3e-3)
else:
    grid_config = gan.recipe("grid")
grid_model = gan.build(grid_config)
tick = time.perf_counter()
grid_model.train(grid_config.steps, callbacks=gan.schedules(grid_config, grid_model))
grid_result = coverage(grid_model)
print(f"grid, {grid_config.steps} steps in {time.perf_counter() - tick:.0f} s: "
      f"{grid_result['modes']} of 25 modes, high quality {grid_result['high_quality']:.1%}")
fig, ax = plt.subplots(figsize=(5, 5))
scatter_panel(ax, grid_model, f"grid: {grid_result['modes']} of 25 modes")
fig.tight_layout()
fig.savefig(FIGURES / "08_grid.png", dpi=100)
plt.close(fig)
print("saved", FIGURES / "08_grid.png")

# %% [markdown]
# ## 5. The limits
#
# The 2014 paper and the work after it name the ways a GAN fails. Each is visible above or
# one experiment away:
#
# - **The two networks must stay in step.** Theory assumes D reaches D* between G's moves
#   (tutorial 06); in practice D takes k steps. If G trains much more than D, G can map many
#   z to the one x that D currently likes best (the paper's "Helvetica scenario", Section 6):
#   mode collapse. If D races ahead, it rejects every fake with certainty and the minimax
#   loss gives G nothing (tutorial 05). The learning-rate rows of the table probe both sides.
# - **Diversity.** Nothing in the loss asks G to cover every mode: a G that produces perfect
#   samples of 3 modes is locally hard to improve on. The data must be diverse, and the
#   model must be pushed to be. Methods that fight collapse (unrolled GANs, VEEGAN, PacGAN)
#   report 7.6 to 8 ring modes against a plain GAN's 1 to 6.3.
# - **Discrete data.** G learns by gradients flowing from D through G's output into G's
#   weights. If the output is discrete (words, tokens, integers), the step from G's numbers
#   to a symbol (rounding, argmax) has derivative 0 almost everywhere, so no gradient
#   arrives. That is why GANs struggle with text. In numbers:

# %%
x = np.array([0.3, 1.7, 2.45])
eps = 1e-6
print("d round(x)/dx by finite differences:", (np.round(x + eps) - np.round(x - eps)) / (2 * eps))

# %% [markdown]
# ## The checked number
#
# The ring modes covered by the run of section 2 (of 8).

# %%
print(f"CHECK modes_covered = {ring_result['modes']}")
