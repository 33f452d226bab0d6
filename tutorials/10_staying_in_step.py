# %% [markdown]
# # 10 · Staying in step: what happens when one player trains without the other
#
# **What this teaches.** A GAN's two networks must stay in step: neither can keep training
# while the other waits. Both ways of breaking step are measured here, on the 8-mode ring:
#
# 1. **D wins.** G waits while D trains towards the best discriminator for it. D's
#    accuracy goes to 100%, and the gradient that reaches G under the game's own minimax
#    loss collapses by orders of magnitude, while under the non-saturating loss it grows
#    (Arjovsky & Bottou 2017, "Towards principled methods for training GANs", Section 2).
# 2. **G trains alone.** D waits (frozen) while G keeps taking its steps. G's samples leave
#    the modes D has not marked as its favourites and bunch up where the frozen D scores
#    highest: modes are lost, while the same steps with D still training keep them (the
#    "Helvetica scenario" of Goodfellow et al. 2014, Section 6).
#
# **How long it runs.** About 45 seconds (about 6 seconds in fast mode, `MINIGAN_FAST=1`,
# which trains D for fewer steps and runs section 2 on one seed instead of five).
# (Times measured on two CPU cores with one BLAS thread, `OPENBLAS_NUM_THREADS=1`.)
#
# Builds on [05](05_the_minimax_game.py) (the two generator losses and why the minimax one
# saturates) and [08](08_two_dims_and_mode_collapse.py) (the ring, modes covered, and the
# knob table whose k = 5 and slow-D rows are the mild versions of both effects).

# %%
import os
import pathlib
import time

import matplotlib

matplotlib.use("Agg")  # draw into files, never open a window
import matplotlib.pyplot as plt
import numpy as np

from minigan import Tensor, gan, losses

from minigan.judging import metrics

FAST = os.environ.get("MINIGAN_FAST") == "1"  # the test suite's quick mode
HERE = pathlib.Path(__file__).resolve().parent if "__file__" in globals() else pathlib.Path.cwd()
FIGURES = pathlib.Path(os.environ.get("MINIGAN_FIGURES", HERE / "figures"))
FIGURES.mkdir(parents=True, exist_ok=True)
started = time.perf_counter()


def small_ring_gan(seed=0):
    """Tutorial 08's knob-table GAN: MLPs of 64 x 64, Adam at a constant lr of 3e-3, m = 128.

    The lr is constant (no schedule), so the config's ``steps`` plays no part: every run
    below says how many steps it takes by calling ``train(n)``, ``discriminator_step()``
    or ``generator_step()`` itself.
    """
    config = gan.recipe("ring", m=128, g_hidden=(64, 64), d_hidden=(64, 64), lr=3e-3, lr_decay_to=1.0, seed=seed)
    return gan.build(config)


# %% [markdown]
# ## 1. D wins
#
# Algorithm 1 takes k discriminator steps per generator step. Let k grow without bound:
# G stands still and D trains towards D* = p_data / (p_data + p_g) for that G (tutorial 06).
# We do exactly that with `GAN.discriminator_step()` (one update of D, G untouched) and,
# every few D steps, measure two things on fixed batches:
#
# - **D's accuracy**: the fraction of 1,000 real points with D(x) > 1/2 and of 1,000 fakes
#   with D(G(z)) < 1/2, averaged;
# - **the gradient reaching G**: the norm of d L_G / d theta_G, over all of G's parameters,
#   for both generator losses on the same 1,000 noise vectors. Nothing is updated by it.
#
# Tutorial 05 derived why the two differ. With D(G(z)) = sigmoid(a), the minimax loss
# log(1 - D) has d/da = -D, the non-saturating loss -log D has d/da = -(1 - D): every fake's
# push on G is scaled by D(G(z)) under the first and by 1 - D(G(z)) under the second. So
# when D rejects the fakes with confidence (D(G(z)) near 0), the minimax gradient dies.
#
# Two generators wait: the untrained one (step 0, a small cloud near the origin: its
# samples and the ring do not overlap, so a perfect D exists, which is Arjovsky and
# Bottou's premise), and the same G after 400 joint steps, whose samples lie on and
# around the ring.

# %%
D_STEPS = 300 if FAST else 2000   # discriminator steps while G waits
MEASURE_EVERY = 10 if FAST else 20


def generator_gradient_norm(model, z, form):
    """||d L_G / d theta_G|| for the loss ``form`` at noise z; only fills .grad, updates nothing."""
    loss = losses.generator_loss(model.D(model.G(z)), form=form)
    model.opt_G.zero_grad()
    loss.backward(inputs=model.opt_G.params)         # gradients into G's parameters only
    xp = model.backend.xp
    total = sum(float(xp.sum(p.grad * p.grad)) for p in model.opt_G.params)
    model.opt_G.zero_grad()                           # leave no gradient behind for the next step
    return float(np.sqrt(total))


def train_d_alone(joint_steps):
    """G trained jointly for ``joint_steps``, then D alone for D_STEPS: the measurements as columns."""
    model = small_ring_gan(seed=0)
    model.train(joint_steps)
    backend = model.backend
    real = backend.to_host(model.p_data.sample(1000, backend.random(2)))   # (1000, 2) held-out data
    fake = model.generate(1000, seed=3)                                      # (1000, 2): G is frozen
    z = Tensor(model.p_z.sample(1000, backend.random(3)), backend)          # the same z as those fakes
    rows = []
    for d_step in range(D_STEPS + 1):
        if d_step % MEASURE_EVERY == 0:
            d_real, d_fake = model.discriminate(real), model.discriminate(fake)
            rows.append({
                "d_step": d_step,
                "accuracy": 0.5 * (np.mean(d_real > 0.5) + np.mean(d_fake < 0.5)),
                "d_fake": float(np.mean(d_fake)),
                "minimax": generator_gradient_norm(model, z, "minimax"),
                "non_saturating": generator_gradient_norm(model, z, "non_saturating"),
            })
        if d_step < D_STEPS:
            model.discriminator_step()                # one update of D on a fresh minibatch
    return {name: np.array([row[name] for row in rows]) for name in rows[0]}


runs = {"G at step 0 (no overlap)": train_d_alone(0), "G at step 400 (overlapping)": train_d_alone(400)}
for label, r in runs.items():
    print(f"{label}: D steps 0 -> {D_STEPS}: accuracy {r['accuracy'][0]:.3f} -> {r['accuracy'][-1]:.3f}, "
          f"mean D(G(z)) {r['d_fake'][0]:.2e} -> {r['d_fake'][-1]:.2e}")
    for form in ("minimax", "non_saturating"):
        print(f"    {form:15s} gradient norm {r[form][0]:.3e} -> {r[form][-1]:.3e} "
              f"(x {r[form][-1] / r[form][0]:.2g})")

# %%
fig, (ax_steps, ax_acc) = plt.subplots(1, 2, figsize=(12, 4.6), layout="constrained")
styles = {"minimax": ("tab:red", "minimax log(1 - D(G(z)))"),
          "non_saturating": ("tab:blue", "non-saturating -log D(G(z))")}
for (label, r), line in zip(runs.items(), ("-", "--")):
    for form, (colour, name) in styles.items():
        ax_steps.semilogy(r["d_step"], r[form], line, color=colour, label=f"{name}, {label}")
        ax_acc.scatter(r["accuracy"], r[form], s=8, color=colour, marker="o" if line == "-" else "^")
ax_acc.set_yscale("log")
ax_steps.set_xlabel("discriminator steps while G waits")
ax_steps.set_ylabel("norm of the gradient reaching G")
ax_steps.set_title("The gradient G would get, as D trains")
ax_acc.set_xlabel("D's accuracy (real and fake, 1,000 each)")
ax_acc.set_title("The same, against D's accuracy (dots: G at step 0, triangles: step 400)", fontsize=10)
for ax in (ax_steps, ax_acc):
    ax.grid(True, which="both", alpha=0.3)
fig.legend(*ax_steps.get_legend_handles_labels(), loc="outside lower center", ncols=2, fontsize=8)
fig.savefig(FIGURES / "10_d_wins.png", dpi=100)
plt.close(fig)
print("saved", FIGURES / "10_d_wins.png")

no_overlap, overlap = runs["G at step 0 (no overlap)"], runs["G at step 400 (overlapping)"]

# %% [markdown]
# What the numbers show (the CHECK lines at the end print each one; each holds on every
# BLAS configuration measured, see docs/tutorials.md, "Numbers in the text"):
#
# - **Against the untrained G, D wins completely**: its accuracy reaches 100% by the first
#   measurement after the start (20 D steps), and from then on it only grows more
#   confident, mean D(G(z)) falling to about 1e-5 after 2,000 steps.
# - **The minimax gradient collapses with it**: by a factor of about 7,000 after 2,000 D
#   steps (about 300 after the 300 steps of fast mode), and it is still falling. G, were
#   it allowed a step, would barely move: the saturation of tutorial 05, now with a real
#   D and a real G.
# - **The non-saturating gradient does not**: it *grows*, about fourteenfold, because D's
#   logit gets steeper as D grows surer, and the non-saturating loss passes that slope on
#   unscaled (1 - D(G(z)) is near 1). Arjovsky and Bottou note that it is not a cure
#   either: its updates grow and get noisy as D nears perfection; it only keeps G moving.
# - **The right panel is the same story against accuracy**: the points fall (minimax) or
#   rise (non-saturating) along the vertical line at 100%. Accuracy alone does not tell
#   how badly G is starved; D's *confidence* does, and it keeps growing after the
#   accuracy is perfect.
# - **With an overlapping G, D cannot win like this**: against the G of step 400 D's
#   accuracy stops short of 100% (0.94 to 0.96), because some of G's samples sit on the
#   modes where no D can tell them from data, and those samples keep the minimax gradient
#   alive (it ends 5 to 9 times larger than it started: G at step 400 is already a
#   different G on each machine, so this number moves more than the others). The
#   collapse needs what Arjovsky and
#   Bottou argue is the usual case for real data (both distributions on thin,
#   low-dimensional sets): supports that (nearly) do not overlap, so that a perfect D
#   exists. Early in training, with a poor G, that is exactly the situation, which is why
#   the paper's non-saturating loss matters most at the start.
#
# ## 2. G trains alone
#
# Now the other way round. Train the same GAN jointly for 400 steps, when G has found most
# of the ring but not settled (tutorial 08: all modes by about step 300 to 900), then
# freeze D and keep calling `GAN.generator_step()` (Algorithm 1's last line; D is never
# updated again). Against a fixed D, G's best move is to put every sample at D's maximum:
# G ascends log D(G(z)) and nothing pushes it to stay spread. As a control, the same
# GAN continues Algorithm 1 as usual (D still training) for the same number of steps.
#
# We count the modes covered (`metrics.mode_coverage`, tutorial 08) and one number more,
# the **concentration** R = |mean of x / |x||: the length of the average of the unit
# vectors pointing at each sample. Samples spread evenly around the ring give R near 0;
# samples all on one side of it give R near 1. Mode counts on this ring jump from
# measurement to measurement (a mode counts once one sample lies within 3 std = 0.06 of
# its centre), R moves smoothly. And to see *where* the samples go, we compare mean
# D(G(z)) with the frozen D's maximum over the plane.

# %%
FREEZE_AT = 400                        # joint steps before D is frozen
G_ALONE_STEPS = 200 if FAST else 1000
SEEDS = range(1) if FAST else range(5)
EVERY = 25 if FAST else 50
grid = np.linspace(-4, 4, 161)
gx, gy = np.meshgrid(grid, grid)
plane = np.stack([gx.ravel(), gy.ravel()], axis=1)   # (161 * 161, 2): where D's maximum is looked for


def measure(model):
    samples = model.generate(metrics.N_SAMPLES, seed=1)                      # (2500, 2), own noise
    c = metrics.mode_coverage(samples, model.p_data.centres, model.p_data.std)
    directions = samples / np.linalg.norm(samples, axis=1, keepdims=True)    # (2500, 2) unit vectors
    return {"modes": c.modes_covered, "R": float(np.linalg.norm(directions.mean(axis=0))),
            "d_fake": float(np.mean(model.discriminate(samples)))}


def scatter_panel(ax, model, title):
    """G's samples over D(x) as a contour, with the mode centres (as in tutorial 08)."""
    samples = model.generate(1000, seed=1)
    limit = 2.7
    view = np.linspace(-limit, limit, 80)
    vx, vy = np.meshgrid(view, view)
    d = model.discriminate(np.stack([vx.ravel(), vy.ravel()], axis=1)).reshape(vx.shape)
    ax.contourf(vx, vy, d, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.5)
    ax.scatter(samples[:, 0], samples[:, 1], s=2, color="tab:orange", alpha=0.6, label="G's samples")
    ax.scatter(*model.p_data.centres.T, marker="x", s=20, color="k", label="mode centres", zorder=3)
    ax.set_xlim(-limit, limit)
    ax.set_ylim(-limit, limit)
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=9)


tick = time.perf_counter()
alone_runs, panels = [], []
fig, axes = plt.subplots(1, 4, figsize=(15, 4.4), layout="constrained")
for seed in SEEDS:
    model = small_ring_gan(seed)
    model.train(FREEZE_AT)                          # Algorithm 1, both players
    d_max = float(model.discriminate(plane).max())  # the frozen D's favourite value
    curve = [{"step": 0, **measure(model)}]
    if seed == 0:
        first = curve[0]
        scatter_panel(axes[0], model, f"frozen at step {FREEZE_AT}: {first['modes']} of 8 modes, R {first['R']:.2f}")
    for step in range(1, G_ALONE_STEPS + 1):
        model.generator_step()                      # G moves; D is never updated again
        if step % EVERY == 0:
            curve.append({"step": step, **measure(model)})
        if seed == 0 and step in (G_ALONE_STEPS // 5, G_ALONE_STEPS):
            now = curve[-1]
            scatter_panel(axes[1 if step < G_ALONE_STEPS else 2], model,
                          f"G alone, {step} steps: {now['modes']} of 8 modes, R {now['R']:.2f}")
    control = small_ring_gan(seed)
    control.train(FREEZE_AT + G_ALONE_STEPS)        # the same first 400 steps, then D keeps training
    in_step = measure(control)
    if seed == 0:
        scatter_panel(axes[3], control,
                      f"control, D still training: {in_step['modes']} of 8 modes, R {in_step['R']:.2f}")
    concentrated = [row["step"] for row in curve if row["R"] >= 0.5]
    alone_runs.append({"seed": seed, "curve": curve, "control": in_step, "d_max": d_max,
                       "steps_to_R_half": concentrated[0] if concentrated else G_ALONE_STEPS + EVERY})
    last = curve[-1]
    print(f"seed {seed}: modes {curve[0]['modes']} -> {last['modes']} (control {in_step['modes']}), "
          f"R {curve[0]['R']:.2f} -> {last['R']:.2f} (control {in_step['R']:.2f}), "
          f"mean D(G(z)) {curve[0]['d_fake']:.2f} -> {last['d_fake']:.2f} of D's max {d_max:.2f}, "
          f"R >= 0.5 from step {alone_runs[-1]['steps_to_R_half']}")
print(f"{len(alone_runs)} seeds in {time.perf_counter() - tick:.0f} s")
fig.suptitle("G trains alone against a frozen D: G's samples (orange) over D(x) (red: real, blue: fake); "
             "x = mode centres (seed 0)")
fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=2, markerscale=2)
fig.savefig(FIGURES / "10_g_alone.png", dpi=100)
plt.close(fig)
print("saved", FIGURES / "10_g_alone.png")

# %%
fig, (ax_modes, ax_r) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
for run in alone_runs:
    steps = [row["step"] for row in run["curve"]]
    ax_modes.plot(steps, [row["modes"] for row in run["curve"]], marker=".", label=f"seed {run['seed']}")
    ax_r.plot(steps, [row["R"] for row in run["curve"]], marker=".")
ax_modes.set_ylabel("modes covered (of 8)")
ax_modes.set_title("Modes covered, per seed")
ax_r.set_ylabel("concentration R")
ax_r.set_title("R: 0 when spread around the ring, 1 when all on one side")
for ax in (ax_modes, ax_r):
    ax.set_xlabel("generator steps with D frozen")
    ax.grid(True, alpha=0.3)
ax_modes.legend(fontsize=8)
fig.savefig(FIGURES / "10_g_alone_curves.png", dpi=100)
plt.close(fig)
print("saved", FIGURES / "10_g_alone_curves.png")


def median(key, where=lambda run: run["curve"][-1]):
    return float(np.median([where(run)[key] for run in alone_runs]))


def per_seed(value):
    return [value(run) for run in alone_runs]


summary = {
    "modes_before": median("modes", lambda run: run["curve"][0]),
    "modes_after": median("modes"),
    "modes_control": median("modes", lambda run: run["control"]),
    "modes_control_min": min(run["control"]["modes"] for run in alone_runs),   # the control's worst seed
    # the comparison, seed by seed: G alone ends with fewer modes than the same GAN kept in step
    "modes_after_minus_control": float(np.median(per_seed(lambda run: run["curve"][-1]["modes"]
                                                           - run["control"]["modes"]))),
    "R_before": median("R", lambda run: run["curve"][0]),
    "R_after": median("R"),
    "R_after_min": min(per_seed(lambda run: run["curve"][-1]["R"])),
    "R_control": median("R", lambda run: run["control"]),
    "R_control_max": max(run["control"]["R"] for run in alone_runs),
    "d_fake_over_d_max": float(np.median([run["curve"][-1]["d_fake"] / run["d_max"] for run in alone_runs])),
    "steps_to_R_half": float(np.median([run["steps_to_R_half"] for run in alone_runs])),
}
print({name: round(value, 3) for name, value in summary.items()})

# %% [markdown]
# One more run: the same seed-0 GAN frozen much later, at step 1,500, when it is close to
# the equilibrium (D near 1/2 on the ring), then G alone for the same number of steps.

# %%
LATE_FREEZE = 600 if FAST else 1500
late = small_ring_gan(0)
late.train(LATE_FREEZE)
late_before = measure(late)
for _ in range(G_ALONE_STEPS):
    late.generator_step()
late_after = measure(late)
print(f"frozen at step {LATE_FREEZE}: modes {late_before['modes']} -> {late_after['modes']}, "
      f"R {late_before['R']:.2f} -> {late_after['R']:.2f} after {G_ALONE_STEPS} steps of G alone")

# %% [markdown]
# What the numbers show (medians and ranges over seeds 0 to 4; the CHECK lines print each
# one, and each statement holds on every BLAS configuration measured):
#
# - **G alone loses modes**: from a median of 6 modes when D is frozen to a median of 2
#   after 1,000 steps of G alone, while the control, the same GAN with D still training
#   for those 1,000 steps, ends with a median of 6 to 7 (6 or more on every seed). Seed by
#   seed, G alone ends with fewer modes than its control: a median of 5 fewer. Most seeds
#   collapse onto 0 to 3 modes; on one or two the samples bunch (R climbs too) but still
#   touch 6 or 7 modes. Which seeds those are depends on the machine: the printout above
#   is one example run.
# - **Its samples bunch up on one side**: the concentration R climbs from about 0.05 to
#   a median of 0.73 to 0.92 (0.29 or more on every seed), while the control's stays
#   under 0.1 on every seed. R passes 0.5 after a median of 200 to 350 G steps: a few
#   hundred steps, as the paper's warning leads one to expect.
# - **They run to D's favourite place**: at the end mean D(G(z)) is within 10% of the
#   frozen D's maximum over the whole plane. G did what its loss
#   asks against a D that no longer answers: it found the region D likes best and sent
#   its samples there. In the first panel the frozen D's reddest patches are on the upper
#   left arc of the ring; in the second and third, G's samples have piled into them.
# - **How fast depends on how much D has to say.** Frozen at step 1,500 instead, close to
#   the equilibrium, where D(x) is near 1/2 on the ring and every mode is a small bump of
#   its own, the same 1,000 steps of G alone leave the samples spread (R below 0.3 at the
#   end) and on as many modes as ever (8 at the end). The G-alone
#   collapse is a danger *during* training, while D has opinions; at the equilibrium
#   there is little left to exploit, as the theory says (tutorial 06: D* = 1/2 when
#   p_g = p_data).
#
# Tutorial 08's knob table showed the mild forms of both effects inside Algorithm 1
# itself: k = 5 (D ahead) starves the minimax generator, and a D whose lr is ten times
# too small (G ahead) lets G collapse on every seed.

# %% [markdown]
# ## The checked numbers
#
# Section 1 (G at step 0, then at step 400), then section 2's medians over the seeds.

# %%
print(f"CHECK d_accuracy_end = {no_overlap['accuracy'][-1]:.4f}")
print(f"CHECK d_fake_end = {no_overlap['d_fake'][-1]:.3e}")
perfect = no_overlap["d_step"][no_overlap["accuracy"] == 1.0]   # the D steps measured at 100% accuracy
print(f"CHECK d_steps_to_full_accuracy = {perfect[0] if perfect.size else -1}")
print(f"CHECK minimax_gradient_ratio = {no_overlap['minimax'][-1] / no_overlap['minimax'][0]:.3e}")
ns = no_overlap["non_saturating"]
print(f"CHECK non_saturating_gradient_ratio = {ns[-1] / ns[0]:.3f}")
print(f"CHECK overlap_d_accuracy_end = {overlap['accuracy'][-1]:.4f}")
print(f"CHECK overlap_minimax_gradient_ratio = {overlap['minimax'][-1] / overlap['minimax'][0]:.3f}")
for name, value in summary.items():
    print(f"CHECK {name} = {value:g}")
print(f"CHECK late_freeze_modes_before = {late_before['modes']}")
print(f"CHECK late_freeze_modes_after = {late_after['modes']}")
print(f"CHECK late_freeze_R_after = {late_after['R']:.3f}")
print(f"total {time.perf_counter() - started:.0f} s")
