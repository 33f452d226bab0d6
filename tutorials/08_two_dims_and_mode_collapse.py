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
# **How long it runs.** About 4 minutes: almost 2 for the knob table's 30 short runs, 2 to 3
# for the 25-mode grid (about 4 seconds in fast mode, `MINIGAN_FAST=1`, which trains smaller
# networks for fewer steps).
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

from minigan import gan, optim

from minigan.gan import callbacks

from minigan.judging import metrics

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
    ax.scatter(samples[:, 0], samples[:, 1], s=2, color="tab:orange", alpha=0.6, label="G's samples")
    ax.scatter(*model.p_data.centres.T, marker="x", s=20, color="k", label="mode centres", zorder=3)  # on top
    ax.set_xlim(-limit, limit)
    ax.set_ylim(-limit, limit)
    ax.set_aspect("equal")
    ax.set_xlabel("x[0]")
    ax.set_ylabel("x[1]")
    ax.set_title(title, fontsize=9)


def legend_below(fig, ax):
    """One legend for the whole figure, under the panels, where it covers no point."""
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncols=2, markerscale=2)


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

fig, axes = plt.subplots(1, 4, figsize=(15, 4.6), layout="constrained")
for ax, target in zip(axes, panel_steps):
    if target > model.step:
        model.train(target - model.step, callbacks=[measure, history, *schedules])
    scatter_panel(ax, model, f"step {target}: {coverage(model)['modes']} of 8 modes")
fig.suptitle("G's samples (orange) over D(x) (red: real, blue: fake); x = mode centres")
legend_below(fig, axes[0])
fig.savefig(FIGURES / "08_ring_training.png", dpi=100)
plt.close(fig)
print(f"trained {steps} steps in {time.perf_counter() - started:.0f} s; saved", FIGURES / "08_ring_training.png")
for row in measure.results:
    print(f"step {row['step']:5d}: {row['modes']} of 8 modes covered, high quality {row['high_quality']:.1%}")
ring_result = coverage(model)
all_found = min((row["step"] for row in measure.results if row["modes"] == 8), default=-1)  # -1: never
print(f"all 8 modes first covered at step {all_found}; at the end {ring_result['modes']} of 8, "
      f"high quality {ring_result['high_quality']:.1%}")

# %% [markdown]
# A typical run: the samples start as one small cloud; D soon marks the modes as its "real"
# regions (the light and red patches) and everything else as fake (blue), and G's samples
# flow into those patches. All 8 modes are found within the first few hundred steps: by
# the first measurement, step 300, in this run (seed 0, on every BLAS configuration
# measured; other seeds take longer). The rest of training tightens the samples onto them
# (the high-quality fraction climbs, to about 90% at the end) and pushes D toward 1/2 on
# the modes. Collapse, when it happens, shows as all samples crowding into a few modes while D
# turns the others red: G could get a reward there, but its gradient points to where D is
# currently most fooled.
#
# ## 3. One knob at a time, over seeds
#
# Shorter runs of a smaller GAN (1,200 steps, MLPs of 64 x 64, Adam at a constant lr of
# 3e-3), changing one thing each. The knobs:
#
# - **the loss form**: `loss="minimax"` (the game's own, saturating generator loss, tutorial
#   05) against the default non-saturating one;
# - **k**: the discriminator steps per generator step (the paper used k = 1);
# - **the learning rates**: each player's, separately.
#
# One run per setting is an anecdote, not a measurement: GAN outcomes vary from seed to seed
# (VEEGAN averages 5 runs), and even changing the number of BLAS threads (which changes the
# last bits of every sum) changes single runs. So every setting runs on 5 seeds, and the
# table shows the median and the range of the modes covered. Besides the coverage we
# record the mean D(G(z)) over the second half of each run: near 0, D rejects the fakes
# confidently, which is when the minimax loss saturates (its gradient on each fake is
# scaled by D(G(z)), the non-saturating one's by 1 - D(G(z)), tutorial 05).

# %%
def run(seed, steps, lr_G=None, lr_D=None, **changes):
    config = gan.recipe("ring", steps=steps, m=128, g_hidden=(64, 64), d_hidden=(64, 64), lr=3e-3, seed=seed,
                        **changes)
    variant = gan.build(config)
    if lr_G is not None:  # each player its own learning rate: replace that optimizer
        variant.opt_G = optim.Adam(variant.G.parameters(), lr=lr_G, betas=config.betas)
    if lr_D is not None:
        variant.opt_D = optim.Adam(variant.D.parameters(), lr=lr_D, betas=config.betas)
    record = callbacks.History()
    variant.train(steps, callbacks=[record])  # constant learning rates: no schedules here
    return {"seed": seed, **coverage(variant), "model": variant,
            "late_d_fake": float(np.mean(record["d_fake"][steps // 2:]))}  # the second half


knob_steps = 20 if FAST else 1200  # fast mode only exercises the code: its table means nothing
seeds = range(2) if FAST else range(5)
settings = {  # short name (for the CHECK lines) -> (what the table says, the changes)
    "baseline": ("baseline: non-saturating, k=1", {}),
    "minimax": ("loss='minimax', k=1", {"loss": "minimax"}),
    "k5": ("k=5, non-saturating", {"k": 5}),
    "k5_minimax": ("k=5, loss='minimax'", {"k": 5, "loss": "minimax"}),
    "slow_D": ("D's lr / 10 (D falls behind)", {"lr_D": 3e-4}),
    "slow_G": ("G's lr / 10 (G falls behind)", {"lr_G": 3e-4}),
}
tick = time.perf_counter()
results = {key: [run(seed, knob_steps, **changes) for seed in seeds] for key, (_, changes) in settings.items()}
print(f"{len(settings)} settings x {len(seeds)} seeds, {knob_steps} steps each, in {time.perf_counter() - tick:.0f} s")
print(f"{'setting':30s} {'modes per seed':>15s} {'median':>6s} {'range':>6s} {'HQ':>5s} {'late D(G(z))':>12s}")
summary = {}
for key, (label, _) in settings.items():
    modes = [r["modes"] for r in results[key]]
    summary[key] = {"median": float(np.median(modes)), "min": min(modes), "max": max(modes),
                    "d_fake": float(np.median([r["late_d_fake"] for r in results[key]]))}
    hq = np.median([r["high_quality"] for r in results[key]])
    row = summary[key]
    print(f"{label:30s} {' '.join(map(str, modes)):>15s} {row['median']:6.1f} {row['min']:>3d}-{row['max']:<2d} "
          f"{hq:5.0%} {row['d_fake']:12.3f}")

# %% [markdown]
# What the numbers show. The table printed above is one example run: its per-seed counts
# are this machine's (its BLAS kernel and thread count round every product one way;
# another machine rounds them another way, and after a few hundred steps trains a
# different run). What holds on every configuration measured (one BLAS thread and
# OpenBLAS's Haswell kernel; two threads gave the same runs as one on the machine measured:
# docs/tutorials.md, "Numbers in the text"), as the median and
# range of the modes covered over seeds 0 to 4, is below; the CHECK lines at the end print
# each number and the tests assert each statement:
#
# - **The baseline covers all 8 modes on most seeds**: median 8, range [4, 8]. 1,200
#   steps at a constant lr leave the samples loose (the high-quality fraction is well
#   under half); the recipe of section 2, with its decaying lr and 3,000 steps, is what
#   tightens them.
# - **At k = 1 the minimax loss does about as well as the non-saturating one** (median 7
#   to 8, range [5, 8]; its median within a mode of the baseline's), against the textbook
#   story. The story is right, but it is about a discriminator that *wins*: the minimax
#   gradient on a fake is scaled by D(G(z)), and vanishes only when D rejects the fakes
#   confidently. A LeakyReLU MLP trained by Adam for one step per G step never gets that
#   far ahead: in the second half of training D(G(z)) stays near 0.4, where the minimax
#   gradient (scaled by 0.4) is two thirds of the non-saturating one (scaled by
#   1 - D(G(z)) = 0.6): no saturation, so little difference.
# - **Make D win, and saturation bites.** With k = 5 the discriminator takes five steps
#   per generator step and pulls ahead: under the minimax loss D(G(z)) falls below 0.1 in
#   the second half, so G's push on each fake is more than ten times weaker than the
#   non-saturating loss would give, and those runs lose modes on most seeds (median 1 to
#   2, range [0, 3]). With the same k the non-saturating runs keep D(G(z)) near 0.25 and
#   cover about as many modes as the baseline (median 7 to 8, range [4, 8]): at least 4
#   modes more than the minimax runs, in median. This is the case the non-saturating loss
#   exists for (Section 3 of the paper, tutorial 05).
# - **A D that falls behind collapses G on every seed** (median 0, at most 2 of 8 modes
#   on any seed). G piles its samples wherever the slow D is currently fooled, and the
#   slow D does not push them out again: the paper's warning about training G too much
#   without updating D (Section 6, the "Helvetica scenario"), made visible.
# - **A G that falls behind is as reliable as any row** (median 8, range [7, 8]): D stays
#   ahead of G, as the theory assumes (tutorial 06), and with the non-saturating loss a D
#   that is ahead still gives G a strong gradient.
#
# The story is robust, the exact counts are not: a different machine, or an earlier
# version of minigan's sigmoid (the same function, different last bits), moves single
# seeds by a mode or more. The statements above are what survives that.
#
# The figure shows, for each setting, the run of the first seed that scored the median,
# over its own D. Look at the k = 5 minimax panel: D calls a whole arc of the ring real
# (red) where G has no samples, and G does not go there, because its gradient on samples D
# rejects is scaled by their D(G(z)), near 0. In the slow-D panel G's samples have left the
# ring altogether (the streak at the bottom right edge).

# %%
fig, axes = plt.subplots(2, 3, figsize=(12, 8.6), layout="constrained")
for ax, (key, (label, _)) in zip(axes.ravel(), settings.items()):
    row = summary[key]
    shown = min(results[key], key=lambda r: (abs(r["modes"] - row["median"]), r["seed"]))
    scatter_panel(ax, shown["model"], f"{label}\nseed {shown['seed']}: {shown['modes']} of 8 modes "
                  f"(median {row['median']:g}, {row['min']}-{row['max']})")
fig.suptitle("One knob at a time: G's samples (orange) over D(x) (red: real, blue: fake); x = mode centres")
legend_below(fig, axes[0, 0])
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
fig, ax = plt.subplots(figsize=(5, 5.6), layout="constrained")
scatter_panel(ax, grid_model, f"grid: {grid_result['modes']} of 25 modes")
legend_below(fig, ax)
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
# ## The checked numbers
#
# Every statement about the knob table above, as numbers (the tests assert each one in the
# full run), then the modes covered by the ring run of section 2 (of 8) and by the grid run
# of section 4 (of 25).

# %%
for key in ("baseline", "minimax", "k5", "k5_minimax", "slow_D", "slow_G"):   # median and range over seeds
    print(f"CHECK median_modes_{key} = {summary[key]['median']:g}")
    print(f"CHECK min_modes_{key} = {summary[key]['min']}")
    print(f"CHECK max_modes_{key} = {summary[key]['max']}")
print(f"CHECK k1_minimax_minus_non_saturating = {summary['minimax']['median'] - summary['baseline']['median']:g}")
print(f"CHECK k5_non_saturating_minus_minimax = {summary['k5']['median'] - summary['k5_minimax']['median']:g}")
print(f"CHECK late_d_fake_k1_minimax = {summary['minimax']['d_fake']:.3f}")
print(f"CHECK late_d_fake_k5_minimax = {summary['k5_minimax']['d_fake']:.3f}")
print(f"CHECK late_d_fake_k5_non_saturating = {summary['k5']['d_fake']:.3f}")
print(f"CHECK ring_all_modes_by_step = {all_found}")
print(f"CHECK ring_high_quality = {ring_result['high_quality']:.4f}")
print(f"CHECK ring_modes_covered = {ring_result['modes']}")
print(f"CHECK grid_modes_covered = {grid_result['modes']}")

# %% [markdown]
# ## Next
#
# Mode collapse is one way GAN training goes wrong; never settling is another. Tutorial
# [09](09_does_gan_training_converge.py) shrinks a GAN to two numbers, the Dirac-GAN of
# Mescheder et al. (2018), and shows with one 2 x 2 matrix why plain gradient steps circle
# its equilibrium (or spiral away from it) and why a gradient penalty, R1, makes them converge.
