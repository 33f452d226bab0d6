# %% [markdown]
# # 12 · Images: 8x8 digits, sample grids, classes covered and the Fréchet distance
#
# **What this teaches.** The same Algorithm 1 on images: 8x8 handwritten digits, 64 pixels
# each. Images cannot be judged by eye at scale, so we measure: a small classifier (trained
# with minigan itself) tells which digit each sample looks like, giving the **classes
# covered** (mode collapse on images means some digits never appear), and the **Fréchet
# distance** between the classifier's features of real and generated digits (the FID recipe
# with a small network in place of Inception).
#
# **How long it runs.** About 25 seconds (about 5 in fast mode, `MINIGAN_FAST=1`, which
# trains a smaller GAN for fewer steps). The first run also trains the classifier (a few
# seconds) and caches it under `$MINIGAN_CACHE` or `~/.cache/minigan`.
# (Times measured on two CPU cores with one BLAS thread, `OPENBLAS_NUM_THREADS=1`; if yours
# are far slower, see the note on threads in `tutorials/README.md`.)
#
# Builds on [08](08_two_dims_and_mode_collapse.py) (modes and how to count them).

# %%
import os
import pathlib
import time

import matplotlib

matplotlib.use("Agg")  # draw into files, never open a window
import matplotlib.pyplot as plt
import numpy as np

from minigan import data, gan

from minigan.judging import digits_features

from minigan.judging import metrics

from minigan.judging import plot

FAST = os.environ.get("MINIGAN_FAST") == "1"  # the test suite's quick mode
HERE = pathlib.Path(__file__).resolve().parent if "__file__" in globals() else pathlib.Path.cwd()
FIGURES = pathlib.Path(os.environ.get("MINIGAN_FIGURES", HERE / "figures"))
FIGURES.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## 1. The data
#
# `data.digits()` loads scikit-learn's 1,797 handwritten digits, each an 8x8 image flattened
# to a row of 64 numbers and scaled to [-1, 1]. To a GAN an image is just a point in 64
# dimensions; the generator ends with `tanh` so its outputs land in the same range.

# %%
digits = data.digits()
print(digits, digits.images.shape, digits.images.dtype,
      f"values in [{digits.images.min():.0f}, {digits.images.max():.0f}]")
print("examples per class:", np.bincount(digits.labels))

# %% [markdown]
# ## 2. A judge: a digit classifier
#
# `digits_features.digits_classifier()` is an MLP 64-128-64-10 trained on 1,500 of the real
# digits (its accuracy is measured on the other 297). Its 64 hidden activations before the
# last layer are the *features*. The Fréchet distance fits a Gaussian to the features of
# each set and measures
#
# $$d^2 = \lVert\mu_r - \mu_g\rVert^2 + \operatorname{Tr}\bigl(C_r + C_g - 2\,(C_r C_g)^{1/2}\bigr),$$
#
# 0 for identical statistics. Two reference points give it a scale.

# %%
classifier = digits_features.digits_classifier()
print(f"classifier accuracy on held-out digits: {classifier.accuracy:.3f}")
real_score = classifier.score(digits.images[:1000])
noise_score = classifier.score(np.random.default_rng(0).uniform(-1, 1, (1000, 64)))
for label, score in (("1,000 real digits", real_score), ("1,000 uniform noises", noise_score)):
    print(f"{label:21s}: {score['classes_covered']:2d} classes, Fréchet distance {score['frechet_distance']:7.2f}")

# %% [markdown]
# Noise "covers" classes too (most of them; all 10 in the runs measured): the classifier must put every input somewhere. That is why
# classes covered alone is not enough, and the Fréchet distance, which looks at the whole
# feature distribution, is reported beside it.
#
# ## 3. Training, watched
#
# `gan.recipe("digits")`: noise of 16 dimensions, MLPs of 256 x 256, a tanh output, Adam at
# the DCGAN learning rate 2e-4. We look at the samples for one fixed set of 100 noise
# vectors (`generate(..., seed=1)` always draws the same z), so the grids show the same
# z's turning into digits.

# %%
if FAST:
    config = gan.recipe("digits", steps=300, g_hidden=(128, 128), d_hidden=(128, 128), lr=1e-3)
else:
    config = gan.recipe("digits")
model = gan.build(config)
schedules = gan.schedules(config, model)
steps = config.steps
checkpoints = [0] + [steps * i // 5 for i in range(1, 6)]
grids, scores = {}, []
started = time.perf_counter()
for target in checkpoints:
    if target > model.step:
        model.train(target - model.step, callbacks=schedules)
    samples = model.generate(1000, seed=1)  # (1000, 64) on the host
    grids[target] = samples[:100]
    scores.append({"step": target, **classifier.score(samples)})
    print(f"step {target:5d}: {scores[-1]['classes_covered']:2d} classes, "
          f"Fréchet distance {scores[-1]['frechet_distance']:7.2f}   ({time.perf_counter() - started:.0f} s)")

# %%
fig, axes = plt.subplots(1, len(checkpoints), figsize=(3 * len(checkpoints), 3.3))
for ax, step in zip(axes, checkpoints):
    ax.imshow(plot.image_grid(grids[step], columns=10), cmap="gray_r", vmin=-1, vmax=1, interpolation="nearest")
    ax.set_title(f"step {step}")
    ax.set_axis_off()
fig.suptitle("The same 100 noise vectors z, mapped by G as training goes")
fig.tight_layout()
fig.savefig(FIGURES / "09_samples_over_training.png", dpi=100)
plt.close(fig)
plot.plot_digits(grids[steps], FIGURES / "09_final_samples.png", real=digits.images[:100],
                 title=f"step {steps}: real (left) and generated (right)")
print("saved", FIGURES / "09_samples_over_training.png", "and", FIGURES / "09_final_samples.png")

# %% [markdown]
# ## 4. The numbers over training, and which digits G makes
#
# Classes covered counts a digit when at least 1% of the samples are classified as it. The
# distribution of predicted classes shows more: a GAN that collapses onto a few digits
# shows a few tall bars, one that covers the data shows ten bars near 10% each (the real
# data's frequencies).

# %%
final_samples = model.generate(1000, seed=1)
predicted = classifier.predict(final_samples)
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 3.6))
ax0.plot([s["step"] for s in scores], [s["frechet_distance"] for s in scores], "o-", label="generated")
ax0.axhline(real_score["frechet_distance"], color="k", ls=":", label="real digits")
ax0.axhline(noise_score["frechet_distance"], color="0.6", ls="--", label="uniform noise")
ax0.set_yscale("log")
ax0.set_xlabel("step")
ax0.set_ylabel("Fréchet distance")
ax0.legend(fontsize=8)
ax0.set_title("Fréchet distance to the real digits")
ax1.bar(np.arange(10) - 0.2, np.bincount(predicted, minlength=10) / len(predicted), width=0.4, label="generated")
ax1.bar(np.arange(10) + 0.2, np.bincount(digits.labels, minlength=10) / len(digits.labels), width=0.4, label="real")
ax1.set_xticks(range(10))
ax1.set_xlabel("class predicted by the classifier")
ax1.set_ylabel("fraction of samples")
ax1.legend(fontsize=8)
ax1.set_title(f"{scores[-1]['classes_covered']} of 10 classes covered")
fig.tight_layout()
fig.savefig(FIGURES / "09_scores.png", dpi=100)
plt.close(fig)
print("saved", FIGURES / "09_scores.png")
coverage = metrics.classes_covered(predicted)
print("share of each class among the samples:", np.round(np.bincount(predicted, minlength=10) / len(predicted), 3))

# %% [markdown]
# The same run from the command line: `python -m minigan.demo --dataset digits` (add
# `--backend cupy` on a GPU, tutorial 15). The 2014 paper trained on the 28x28 MNIST digits
# with a larger generator (1200-unit layers) and a maxout discriminator; `data.mnist(path)`
# and `gan.recipe("mnist")` are here for that, and take correspondingly longer on a CPU.
#
# ## The checked number
#
# The digit classes covered by the final samples (of 10: all 10 in the full run, on both
# BLAS configurations measured), the
# classes "covered" by uniform noise (at least half of
# them, which is why the count alone is not enough), and the final Fréchet distance as a
# fraction of noise's: well below it, under 5% in the full run (it falls by two orders of
# magnitude from step 0; the exact figure depends on the machine's rounding, see
# docs/tutorials.md, "Numbers in the text"), under 50% in fast mode.

# %%
assert scores[-1]["frechet_distance"] < noise_score["frechet_distance"] / 2, scores[-1]
print(f"CHECK noise_classes_covered = {noise_score['classes_covered']}")
print(f"CHECK frechet_over_noise = {scores[-1]['frechet_distance'] / noise_score['frechet_distance']:.4f}")
print(f"CHECK classes_covered = {coverage.classes_covered}")
