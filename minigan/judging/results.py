"""What a finished demo run shows: its quality numbers and its figures.

``Snapshots`` collects generated samples during training for training.gif; ``measure``
gives the dataset's quality numbers (modes covered, JS divergence, classes covered);
``write_figures`` draws losses.png, discriminator.png, samples.png and training.gif.
matplotlib is imported only when the figures are drawn.
"""
from __future__ import annotations

import os

from minigan.autograd import Tensor, no_grad
from minigan.gan import callbacks

from minigan.judging import metrics

SNAPSHOTS = 20                 # frames of training.gif
SNAPSHOT_SAMPLES = {1: 1000, 2: 500, 8: 1000}   # generated samples per frame, by data dimension (images: 64;
                                                # 8: categorical's symbols, whose bars need counts)


class Snapshots(callbacks.Callback):
    """Generated samples every ``every`` steps, for training.gif.

    The noise is the same for every frame (``gan.generate`` with a fixed seed, a generator
    of its own), so the frames show G changing, not z, and training is not disturbed.
    """

    def __init__(self, every: int, n: int, seed: int):
        self.every, self.n, self.seed = max(1, every), n, seed
        self.frames = []

    def take(self, model) -> None:
        if not self.frames or self.frames[-1][0] != model.step:
            self.frames.append((model.step, model.generate(self.n, seed=self.seed)))

    def on_train_begin(self, model, steps):
        self.take(model)

    def on_step(self, model, record):
        if record.step % self.every == 0:
            self.take(model)

    def on_train_end(self, model, finished):
        if finished:
            self.take(model)


def measure(model, samples) -> dict:
    """The dataset's quality numbers for ``samples`` (metrics.N_SAMPLES generated ones)."""
    p_data = model.p_data
    if model.config.dataset in ("ring", "grid"):
        found = metrics.mode_coverage(samples, p_data.centres, p_data.std)
        return {"modes_covered": found.modes_covered, "modes_total": found.modes_total,
                "high_quality_fraction": found.high_quality_fraction}
    if model.config.dataset == "gaussian1d":
        return {"js_divergence": metrics.js_divergence_1d(samples, p_data.density, *p_data.interval())}
    if model.config.dataset == "categorical":   # how often G makes each symbol, against p_data
        return {"js_divergence": metrics.js_divergence_categorical(samples, p_data.probabilities),
                "symbol_frequencies": metrics.symbol_frequencies(samples).round(4).tolist(),
                "true_probabilities": p_data.probabilities.round(4).tolist()}
    if model.config.dataset == "faces":       # the faces judge: trained (once, then cached) on real faces
        from minigan.judging import faces_judge
        judge = faces_judge.faces_judge(size=p_data.image_shape[1])
        return {**judge.score(samples), "judge_accuracy": judge.accuracy}
    from minigan.judging import digits_features  # trains (once, then cached) a small classifier of real digits
    classifier = digits_features.digits_classifier()
    return {**classifier.score(samples), "classifier_accuracy": classifier.accuracy}


def write_figures(model, history: dict, snapshots: list, samples, out: str) -> None:
    """losses.png, discriminator.png, samples.png and training.gif (matplotlib loads here)."""
    from minigan.judging import plot

    p_data, seed, loss = model.p_data, model.config.seed, model.config.loss
    plot.plot_losses(history, os.path.join(out, "losses.png"), loss=loss)
    plot.plot_discriminator(history, os.path.join(out, "discriminator.png"), loss=loss)
    title = f"{model.config.dataset}, step {model.step}"
    figure, gif = os.path.join(out, "samples.png"), os.path.join(out, "training.gif")
    if model.config.dataset == "digits":
        plot.plot_digits(samples[:100], figure, real=p_data.images[:100], title=title)
        plot.save_training_gif(snapshots, gif)
        return
    if model.config.dataset == "faces":         # colour images: a grid beside real faces
        from minigan.judging import plot_faces
        plot_faces.plot_faces(samples[:100], figure, p_data.image_shape, real=p_data.images[:100], title=title)
        plot_faces.save_faces_gif(snapshots, gif, p_data.image_shape)
        return
    if model.config.dataset == "categorical":   # bars of learned vs true probabilities
        from minigan.judging import plot_categorical
        plot_categorical.plot_categorical(samples, p_data.probabilities, figure, title=title)
        plot_categorical.save_categorical_gif(snapshots, p_data.probabilities, gif)
        return
    real = model.backend.to_host(p_data.sample(len(samples), model.backend.random(seed + 1)))
    if p_data.dim == 1:
        plot.plot_samples_1d(real, samples, figure, density=p_data.density, discriminator=d_output(model),
                             title=title, loss=loss)
        plot.save_training_gif(snapshots, gif, real=real, density=p_data.density)
    else:
        radius = metrics.HIGH_QUALITY_STDS * p_data.std      # a sample inside counts as high quality
        plot.plot_samples_2d(real, samples, figure, discriminator=d_output(model), centres=p_data.centres,
                             title=title, loss=loss, radius=radius)
        plot.save_training_gif(snapshots, gif, real=real, centres=p_data.centres)   # small frames: rings of one size


def d_output(model):
    """D's output for host points, in its loss form's units: D(x) = sigmoid(logit) for the 2014
    forms, the raw score for lsgan, wgan and hinge (``plot.FORMS`` labels each)."""
    if model.config.loss in ("non_saturating", "minimax"):
        return model.discriminate

    def score(points):
        x = Tensor(model.backend.asarray(points, dtype=model.backend.default_float), model.backend)
        with no_grad():
            return model.D(x).numpy().reshape(-1)
    return score
