# %% [markdown]
# # 17 · Faces and emoji: a DCGAN that draws cartoon faces, and what it covers
#
# **What this teaches.** The 2014 paper's field grew up on faces: "generated photos of
# faces or poses, realistic photos, even cartoon characters and emoji". This tutorial
# trains a DCGAN ([16](16_convolutions.py)) on 32x32 cartoon faces drawn by code, whose
# *factors* are known (colour, eyes, mouth: 100 combinations), so that what a GAN draws
# can be measured, not just looked at: a judge trained on the real faces says how many
# samples it recognises, how many of the 100 combinations they cover (mode collapse,
# counted), and how far their features are from the real ones. Then the same faces with an
# MLP instead of convolutions, and a conditional DCGAN asked for a face by its factors.
#
# **How long it runs.** About 12 minutes (about 20 seconds in fast mode, `MINIGAN_FAST=1`,
# which trains tiny networks for a few dozen steps and a small judge, and proves nothing
# about quality). The first run also draws the faces (a few seconds) and trains the faces
# judge (a minute or two) and caches both. (Times for two CPU cores with one BLAS thread,
# `OPENBLAS_NUM_THREADS=1`, estimated from the time of one training step; the training
# numbers this run prints are one run's, not claims: benchmarks/quality.py holds what has
# been measured over seeds.)
#
# Builds on [12](12_images.py) (judging images), [13](13_digits_semi_supervised_and_conditional.py)
# (conditional GANs) and [16](16_convolutions.py) (convolutions, DCGAN).

# %%
import os
import pathlib

import matplotlib

matplotlib.use("Agg")  # draw into files, never open a window
import matplotlib.pyplot as plt
import numpy as np

from minigan import data, gan
from minigan.data import cartoon
from minigan.judging import faces_judge, metrics, plot_faces
from minigan.variants import conditional

FAST = os.environ.get("MINIGAN_FAST") == "1"  # the test suite's quick mode
HERE = pathlib.Path(__file__).resolve().parent if "__file__" in globals() else pathlib.Path.cwd()
FIGURES = pathlib.Path(os.environ.get("MINIGAN_FIGURES", HERE / "figures"))
FIGURES.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## 1. Faces with known factors
#
# `data.faces(n, size, seed)` draws each face with signed distance fields (a disc, two
# eyes, a mouth, each anti-aliased) and returns its factors beside it. Five colours, four
# eye styles and five mouths make 5 x 4 x 5 = 100 combinations: each is a *mode* of the
# data, as each Gaussian was a mode of the ring in [8](08_two_dims_and_mode_collapse.py).
# Small shifts, sizes and tilts (the nuisances) make two faces of one combination differ.

# %%
faces = data.faces(n=2000, size=32, seed=0)
combinations = int(np.prod([len(styles) for styles in cartoon.FACTORS.values()]))
print({name: styles for name, styles in cartoon.FACTORS.items()})
print(f"{len(faces)} faces of shape {faces.image_shape}, pixels in [{faces.images.min():.0f}, {faces.images.max():.0f}]")
order = np.argsort(faces.factors["mouth"], kind="stable")[::40][:50]         # a few of each mouth, in order
plot_faces.plot_faces(faces.images[order], FIGURES / "17_real_faces.png", faces.image_shape, columns=10,
                      label="real faces, sorted by mouth")
print(f"CHECK combinations = {combinations}")
print(f"CHECK distinct_combinations_in_2000 = {len(np.unique(faces.labels))}")

# %% [markdown]
# ## 2. The judge, and three numbers
#
# `faces_judge.faces_judge()` is a small convolutional classifier with one softmax per
# factor, trained by minigan on real faces (and on a few images of noise, taught as "no
# face", so that it is unsure of what is not a face), then cached. From its answers:
#
# - **recognizable_fraction**: the share of samples it places with probability >= 0.9 in
#   every factor;
# - **combinations_covered**: how many of the 100 combinations the recognizable samples show;
# - the **Frechet distance** between Gaussians fitted to its features of real and of
#   generated faces, beside its *floor*: the distance between two sets of real faces.
#
# The metrics must be checked before they judge anything: real faces should score high, a
# generator that repeats one face should cover exactly 1 combination, and noise should be
# recognised as nothing.

# %%
if FAST:      # a small judge on 32x32 faces: enough to run the code, not to trust its numbers
    judge = faces_judge.train_judge(size=32, steps=60)
else:
    judge = faces_judge.faces_judge()
real = data.faces(n=5000, size=32, seed=7, cache=False)          # faces the judge never saw
first = np.flatnonzero(metrics.recognizable(judge.probabilities(real.images)))[0]   # a face the judge knows
collapsed = np.repeat(real.images[first:first + 1], 1000, axis=0)                     # a thousand times
noise = np.random.default_rng(0).uniform(-1, 1, (1000, real.dim)).astype(np.float32)
scores = {name: judge.score(images) for name, images in (("real", real.images), ("one face", collapsed),
                                                          ("noise", noise))}
print(f"judge's accuracy on held-out real faces: {judge.accuracy}")
for name, s in scores.items():
    print(f"{name:>9}: recognizable {s['recognizable_fraction']:.3f}, combinations {s['combinations_covered']:3d}, "
          f"Frechet {s['frechet_distance']:.2f} (floor {s['frechet_floor']:.2f})")
print(f"CHECK judge_min_accuracy = {min(judge.accuracy.values()):.4f}")
print(f"CHECK real_recognizable_fraction = {scores['real']['recognizable_fraction']:.4f}")
print(f"CHECK real_combinations_covered = {scores['real']['combinations_covered']}")
print(f"CHECK one_face_combinations_covered = {scores['one face']['combinations_covered']}")
print(f"CHECK noise_recognizable_fraction = {scores['noise']['recognizable_fraction']:.4f}")

# %% [markdown]
# ## 3. Training a DCGAN, and the three numbers over training
#
# `gan.recipe("faces")` is a DCGAN (batch normalisation in G, none in D, so the gradient
# penalties stay available), trained here for 1,500 of its 3,000 steps. Its optimizer is not
# the one Radford et al. (2016) published (Adam at 2e-4, beta1 = 0.5): with that one, G drew
# nearly one face for every z (1 or 2 of the 100 combinations at steps 250 and 500, seed 0).
# Three later remedies for that mode collapse are in the recipe: the R1 penalty on D's
# slope at real faces (Mescheder et al. 2018, tutorial 9), Adam at 1e-3 with betas
# (0, 0.99) as StyleGAN trains, and a minibatch-std channel in D (ProGAN, Karras et al.
# 2018: `minigan.nn.minibatch_std`), which lets D see that a minibatch of one face repeated
# is not varied like real data. We train it in chunks and score 1,000 samples
# after each one. Read the
# curves as the ring's modes-covered curve of tutorial 8: recognizable_fraction is sample
# quality, combinations_covered is diversity, and a GAN can win the first while losing the
# second.

# %%
SMALL = {"g_hidden": (16, 8, 4), "d_hidden": (4, 8, 16), "m": 16} if FAST else {}
steps, chunk = (40, 20) if FAST else (1500, 250)


def train_and_score(config, steps, chunk, n=1000):
    """Train ``config`` for ``steps`` in chunks; the judge's three numbers after each chunk."""
    model, curve = gan.build(config), []
    while model.step < steps:
        model.train(min(chunk, steps - model.step))
        curve.append({"step": model.step, **judge.score(model.generate(n, seed=1))})
        print(f"  step {model.step:5d}: {curve[-1]['recognizable_fraction']:.3f} recognizable, "
              f"{curve[-1]['combinations_covered']:3d} combinations, Frechet {curve[-1]['frechet_distance']:.1f}")
    return model, curve


print("DCGAN:")
dcgan, dcgan_curve = train_and_score(gan.recipe("faces", steps=steps, **SMALL), steps, chunk)
print("MLP, the same steps:")
mlp, mlp_curve = train_and_score(gan.recipe("faces", arch="mlp", steps=steps,
                                            **({"g_hidden": (32,), "d_hidden": (32,), "m": 16} if FAST else {})),
                                 steps, chunk)

fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), layout="constrained")
for name, curve in (("DCGAN", dcgan_curve), ("MLP", mlp_curve)):
    x = [c["step"] for c in curve]
    axes[0].plot(x, [c["recognizable_fraction"] for c in curve], marker="o", label=name)
    axes[1].plot(x, [c["combinations_covered"] for c in curve], marker="o", label=name)
    axes[2].semilogy(x, [c["frechet_distance"] for c in curve], marker="o", label=name)
axes[2].axhline(judge.floor, color="grey", linestyle="--", label="real vs real (floor)")
for ax, title in zip(axes, ("recognizable fraction", f"combinations covered (of {combinations})", "Frechet distance")):
    ax.set_title(title)
    ax.set_xlabel("step")
    ax.legend()
fig.savefig(FIGURES / "17_metrics_over_training.png", dpi=100)
plot_faces.plot_faces(dcgan.generate(100, seed=1), FIGURES / "17_dcgan_samples.png", real.image_shape,
                      real=real.images[:100], label=f"DCGAN's G(z) at step {dcgan.step}")
print(f"CHECK dcgan_steps = {dcgan.step}")

# %% [markdown]
# ## 4. Why convolutions: the MLP on the same faces
#
# The MLP sees a face as 3,072 unrelated numbers: nothing tells it that a pixel's
# neighbours matter more than a pixel across the image, or that an eye is an eye wherever
# it sits. A convolution shares one small filter across every position, which is both
# fewer parameters and the right prior for pictures. Compare the two rows of numbers
# above, and the two curves: benchmarks/quality.py runs both over seeds with the same time
# budget (a step of the MLP is cheaper, so it gets more steps there).

# %%
print(f"parameters: DCGAN G {sum(int(np.prod(p.shape)) for p in dcgan.G.parameters()):,}, "
      f"MLP G {sum(int(np.prod(p.shape)) for p in mlp.G.parameters()):,}")

# %% [markdown]
# ## 5. Mode collapse, made visible
#
# combinations_covered is one number; the histogram behind it shows *how* a generator
# covers the combinations: a healthy one spreads its samples over all 100 bars about
# evenly (1% each), a collapsing one piles them onto a few. Real faces are the reference.

# %%
def combination_histogram(images):
    """How many of ``images`` the judge recognises as each of the 100 combinations."""
    probabilities = judge.probabilities(images)
    keep = metrics.recognizable(probabilities)
    chosen = {f: p.argmax(axis=1)[keep] for f, p in probabilities.items()}
    return np.bincount(cartoon.combination(chosen), minlength=combinations)


fig, axes = plt.subplots(1, 2, figsize=(12, 3.2), sharey=True, layout="constrained")
for ax, (name, images) in zip(axes, (("real faces", real.images[:1000]), ("DCGAN", dcgan.generate(1000, seed=1)))):
    counts = combination_histogram(images)
    ax.bar(np.arange(combinations), counts, width=1.0)
    ax.set_title(f"{name}: {int((counts > 0).sum())} combinations, {int(counts.sum())} recognizable of 1000")
    ax.set_xlabel("combination (colour x eyes x mouth)")
axes[0].set_ylabel("samples")
fig.savefig(FIGURES / "17_combinations_histogram.png", dpi=100)
real_counts = combination_histogram(real.images[:1000])
print(f"CHECK real_histogram_largest_bar_share = {real_counts.max() / real_counts.sum():.4f}")

# %% [markdown]
# ## 6. Conditional faces
#
# As in tutorial 13, a conditional GAN is told what to draw: G gets [z, onehot(y)], where
# y is now three factors (5 + 4 + 5 = 14 one-hot columns). D is a *projection
# discriminator*: D(x, y) = w . phi(x) + b + (onehot(y) V) . phi(x), with phi(x) its
# convolutional features. Joining y to phi(x) before the last Linear layer would only add
# a constant per class, which never meets the image; the product lets each class weigh
# the image's features its own way (minigan/variants/conditional.py). The judge then
# measures, factor by factor, whether G drew what it was asked for.

# %%
cgan = conditional.faces_gan(seed=0, **({"g_hidden": (16, 8, 4), "d_hidden": (4, 8, 16), "m": 16} if FAST else {}))
cgan.train(20 if FAST else 800)
agreement = conditional.factor_agreement(cgan, judge, n=1000, seed=0)
print(f"asked and drawn agree: {agreement}")
rows = conditional.requested_rows(cgan.counts, row_factor=2)                 # row r: mouth r
plot_faces.plot_faces(cgan.generate(rows, seed=0), FIGURES / "17_conditional_grid.png", real.image_shape, columns=10,
                      label="G(z, y): row r asked for mouth r")
print(f"CHECK conditional_factors = {len(agreement)}")

# %% [markdown]
# ## 7. The application claim, measured
#
# The paper's closing claim, that GANs make "generated photos of faces ... even cartoon
# characters and emoji", is now something minigan measures rather than shows: the three
# numbers above, for G's samples, against the same numbers for real faces. What one run of
# this tutorial reaches is printed above; what holds over seeds, and at what cost in time,
# is benchmarks/quality.py's faces table (and docs/limits.md, claim 5). A sample grid is a
# picture; a count of combinations covered is a measurement.
#
# The same runs from the command line, each writing a run folder (samples, losses,
# metrics.json, a checkpoint, training.gif):
#
#     python -m minigan.demo --dataset faces
#     python -m minigan.demo --dataset faces --arch mlp
#     python -m minigan.demo --dataset faces --conditional
