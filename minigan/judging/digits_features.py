"""A small digit classifier, trained with minigan itself, to judge generated 8x8 digits.

Two numbers tell how good a digits generator is (both need a classifier of real digits):

- classes covered: the classifier labels G's samples; a class counts when at least 1% of
  the samples land in it (``minigan.judging.metrics.classes_covered``). Mode collapse shows as
  few classes.
- the Frechet distance: fit a Gaussian to the classifier's hidden features of the real
  digits and another to those of G's samples, and measure how far apart they are
  (``minigan.judging.metrics.frechet_distance_gaussians``). This is the FID recipe of Heusel et
  al. (2017), with this small network in place of Inception.

The classifier is an MLP 64-128-64-10 trained with softmax cross-entropy and Adam on
1,500 of scikit-learn's 1,797 digits (the other 297 measure its accuracy, about 0.95 or
better). Its features are the 64 activations before the last layer. Training takes a few
seconds, so the weights and the real digits' feature statistics are cached in one ``.npz``
under ``$MINIGAN_CACHE`` (else ``~/.cache/minigan``) and reused; a missing, stale or
corrupt cache file is simply retrained and rewritten (atomically). It always runs on the
NumPy backend: scoring copies G's samples to the host, so it works the same after a GPU run.
"""
from __future__ import annotations

import hashlib
import json
import os
import zipfile

import numpy as np

from minigan import data, nn, optim, threads

from minigan.judging import metrics
from minigan.autograd import Tensor, no_grad
from minigan.backend import get_backend
from minigan.data.base import cache_dir, write_cache  # $MINIGAN_CACHE, else ~/.cache/minigan

CACHE_VERSION = 1
SIZES = [64, 128, 64, 10]        # the features are the 64 activations before the last Linear
N_TRAIN = 1500                   # the first 1,500 digits (shuffled by the seed) train it
STEPS, BATCH, LR = 800, 64, 1e-3   # about 28 passes over the 1,500: held-out accuracy ~0.97


def cross_entropy(logits: Tensor, onehot: Tensor) -> Tensor:
    """L = -mean_i log softmax(a_i)[y_i], with y one-hot: (m, classes) logits -> a scalar.

    log softmax(a) = (a - c) - log sum_j exp(a_j - c) for any c; c = max_j a_j keeps exp
    from overflowing. c is detached: the result does not depend on c, so neither does its
    gradient (which is softmax(a) - onehot, divided by m).
    """
    shifted = logits - logits.max(axis=1, keepdims=True).detach()            # (m, classes), max 0
    log_probs = shifted - shifted.exp().sum(axis=1, keepdims=True).log()     # (m, classes)
    return -(log_probs * onehot).sum(axis=1).mean()


class DigitsClassifier:
    """A trained MLP with the real digits' feature statistics: labels, features and scores.

    net          nn.MLP(SIZES) on the numpy backend, producing logits
    accuracy     its accuracy on the 297 held-out digits
    real_mean    (64,) mean of the features of all 1,797 real digits
    real_cov     (64, 64) their covariance
    """

    def __init__(self, net: nn.MLP, accuracy: float, real_mean=None, real_cov=None):
        self.net = net.eval()
        self.accuracy = float(accuracy)
        if real_mean is None or real_cov is None:
            real_mean, real_cov = metrics.gaussian_statistics(self.features(data.digits().images))
        self.real_mean, self.real_cov = np.asarray(real_mean), np.asarray(real_cov)

    def _input(self, images) -> Tensor:
        x = metrics.to_host(images, "images")
        if x.ndim != 2 or x.shape[1] != SIZES[0]:
            raise ValueError(f"images: got shape {x.shape}, wanted (n, 64) rows of 8x8 digits in [-1, 1]")
        return Tensor(x.astype(np.float32), self.net.backend)

    def features(self, images) -> np.ndarray:
        """(n, 64) hidden activations, on the host: every layer but the last Linear."""
        h = self._input(images)
        with no_grad():
            for layer in self.net.layers[:-1]:
                h = layer(h)
        return h.numpy()

    def predict(self, images) -> np.ndarray:
        """(n,) predicted digit classes, on the host."""
        with no_grad():
            logits = self.net(self._input(images)).numpy()
        return np.argmax(logits, axis=1)

    def score(self, samples) -> dict:
        """{"classes_covered": int, "frechet_distance": float} for generated digits (n >= 2)."""
        mean, cov = metrics.gaussian_statistics(self.features(samples))
        return {
            "classes_covered": metrics.classes_covered(self.predict(samples)).classes_covered,
            "frechet_distance": metrics.frechet_distance_gaussians(self.real_mean, self.real_cov, mean, cov),
        }


@threads.trained  # BLAS threads chosen by timing these steps (minigan.threads)
def train_classifier(seed: int = 0, steps: int | None = None) -> DigitsClassifier:
    """Train the classifier on the numpy backend from ``seed`` (a few seconds); ``steps``
    defaults to STEPS."""
    steps = STEPS if steps is None else steps
    backend = get_backend("numpy")
    rng = backend.random(seed)
    digits = data.digits()
    order = np.argsort(backend.to_host(rng.uniform((len(digits),))))        # a seeded shuffle
    train, held_out = order[:N_TRAIN], order[N_TRAIN:]
    x_train, y_train = digits.images[train], digits.labels[train]
    onehot = np.eye(SIZES[-1], dtype=np.float32)[y_train]                   # (1500, 10)

    net = nn.MLP(SIZES, "relu", rng=rng, backend=backend)
    opt = optim.Adam(net.parameters(), lr=LR, betas=(0.9, 0.999))
    for _ in range(steps):
        rows = backend.to_host(rng.integers(0, N_TRAIN, (BATCH,)))          # a minibatch, with replacement
        loss = cross_entropy(net(Tensor(x_train[rows], backend)), Tensor(onehot[rows], backend))
        opt.zero_grad()
        loss.backward()
        opt.step()

    classifier = DigitsClassifier(net, accuracy=0.0)
    accuracy = np.mean(classifier.predict(digits.images[held_out]) == digits.labels[held_out])
    classifier.accuracy = float(accuracy)
    return classifier


def fingerprint(seed: int = 0) -> str:
    """What a cached classifier depends on: the recipe, the seed and the digits themselves.

    A cache file made with other settings or other data has another fingerprint and is
    retrained rather than silently reused.
    """
    recipe = {"version": CACHE_VERSION, "sizes": SIZES, "n_train": N_TRAIN, "steps": STEPS,
              "batch": BATCH, "lr": LR, "seed": seed}
    digest = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode())
    digest.update(np.ascontiguousarray(data.digits().images).tobytes())
    return digest.hexdigest()[:16]


def cache_file(seed: int = 0, folder: str | None = None) -> str:
    return os.path.join(folder or cache_dir(), f"digits_classifier_v{CACHE_VERSION}_seed{seed}.npz")


def _load(path: str, expected: str) -> DigitsClassifier:
    """The classifier stored at ``path``; raises OSError, ValueError, KeyError, ... when unusable."""
    with np.load(path, allow_pickle=False) as stored:
        if str(stored["fingerprint"]) != expected:
            raise ValueError(f"{path}: made with other settings or data (fingerprint {stored['fingerprint']}, wanted {expected})")
        net = nn.MLP(SIZES, "relu", backend="numpy")
        net.load_state_dict({name: stored[name] for name, _ in net.named_parameters()})
        return DigitsClassifier(net, float(stored["accuracy"]), stored["real_mean"], stored["real_cov"])


def _save(classifier: DigitsClassifier, path: str, fingerprint: str) -> None:
    """Write the cache file atomically; a folder we cannot write to just means no cache."""
    arrays = dict(classifier.net.state_dict(), fingerprint=np.asarray(fingerprint),
                  accuracy=np.asarray(classifier.accuracy),
                  real_mean=classifier.real_mean, real_cov=classifier.real_cov)
    write_cache(path, arrays)


def digits_classifier(seed: int = 0, folder: str | None = None) -> DigitsClassifier:
    """The cached classifier for ``seed``, trained (and cached) on first use."""
    path, expected = cache_file(seed, folder), fingerprint(seed)
    try:
        return _load(path, expected)
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile):  # missing, stale, corrupt: retrain
        pass
    classifier = train_classifier(seed)
    _save(classifier, path, expected)
    return classifier
