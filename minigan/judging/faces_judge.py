"""A small convolutional judge of cartoon faces, trained with minigan itself, to measure a face GAN.

The faces of ``minigan.data.faces`` come with their factors (colour, eyes, mouth), so a
classifier trained on real faces can say, for any image, which colour, which eyes and which
mouth it shows, and how sure it is. Three numbers follow (``minigan.judging.metrics``):

- recognizable_fraction: the share of G's samples the judge places confidently (largest
  probability >= 0.9) in every factor. Blurry or mixed faces fail it.
- combinations_covered: how many of the 100 factor combinations appear among the
  recognizable samples: the ring's "modes covered", for images. Mode collapse shows here.
- the Frechet distance between Gaussians fitted to the judge's 64 hidden features of real
  faces and of G's samples (FID's recipe with this small network in place of Inception),
  printed beside its floor: the distance between two sets of *real* faces of the same size,
  which is not 0 for a finite sample.

The judge: strided convolutions (32 -> 16 -> 8 -> 4 pixels), a Linear layer of 64 features,
then one Linear producing 5 + 4 + 5 logits, one softmax per factor, trained on the sum of
the three cross-entropies. Each minibatch also holds a few images of uniform noise whose
targets are uniform over every factor, so that the judge learns to be unsure of what is no
face (a network trained on faces alone is confidently wrong about noise). Like the digits' judge it is cached under ``$MINIGAN_CACHE`` (else
~/.cache/minigan) with a fingerprint of its recipe, retrained when missing, stale or damaged,
and always runs on the NumPy backend.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import zipfile

import numpy as np

from minigan import data, nn, ops, optim, threads
from minigan.autograd import Tensor, no_grad
from minigan.backend import get_backend
from minigan.data import cartoon
from minigan.data.base import cache_dir, write_cache
from minigan.judging import metrics
from minigan.judging.digits_features import cross_entropy

CACHE_VERSION = 1
FACTORS = list(cartoon.FACTORS)                          # colour, eyes, mouth
CLASSES = [len(cartoon.FACTORS[f]) for f in FACTORS]      # 5, 4, 5
N_FACES, N_HELD_OUT = 12000, 2000                        # faces(n=12000, seed=...): the last 2,000 held out
STEPS, BATCH, LR = 700, 64, 2e-3
NOISE = 16                                               # images of noise per minibatch, taught as "no factor"
WIDTHS = (16, 32, 64, 64)                                # channels after each stride-2 convolution
FEATURES = 64
FLOOR_N = 5000                                           # the sample size the Frechet floor is measured at


def make_networks(size: int, rng, backend):
    """(trunk, head): images (m, 3 size^2) -> features (m, 64) -> logits (m, 14)."""
    layers, channels, side = [nn.Unflatten((3, size, size))], 3, size
    for width in WIDTHS[: int(math.log2(size)) - 2]:        # halve the side down to 4 pixels
        layers += [nn.Conv2d(channels, width, 4, stride=2, padding=1, rng=rng, backend=backend), nn.LeakyReLU(0.2)]
        channels, side = width, side // 2
    layers += [nn.Flatten(), nn.Linear(channels * side * side, FEATURES, rng=rng, backend=backend), nn.LeakyReLU(0.2)]
    return nn.Sequential(*layers), nn.Linear(FEATURES, sum(CLASSES), rng=rng, backend=backend)


def split_logits(logits: Tensor) -> list:
    """The (m, 14) logits as one (m, classes) block per factor."""
    ends = np.cumsum([0, *CLASSES])
    return [logits[:, int(a):int(b)] for a, b in zip(ends[:-1], ends[1:])]


class FacesJudge:
    """A trained judge with the real faces' feature statistics.

    accuracy     {factor: accuracy on the held-out real faces}
    real_mean    (64,) mean of the features of real faces, real_cov (64, 64) their covariance
    floor        the Frechet distance between FLOOR_N fresh real faces and those statistics
    """

    def __init__(self, trunk, head, size: int, accuracy: dict, real_mean, real_cov, floor: float):
        self.trunk, self.head, self.size = trunk.eval(), head.eval(), size
        self.accuracy = {k: float(v) for k, v in accuracy.items()}
        self.real_mean, self.real_cov, self.floor = np.asarray(real_mean), np.asarray(real_cov), float(floor)

    def _input(self, images) -> Tensor:
        x = metrics.to_host(images, "images")
        dim = 3 * self.size * self.size
        if x.ndim != 2 or x.shape[1] != dim:
            raise ValueError(f"images: got shape {x.shape}, wanted (n, {dim}) rows of {self.size}x{self.size} "
                             "RGB faces in [-1, 1]")
        return Tensor(x.astype(np.float32), self.trunk.backend)

    def features(self, images, batch: int = 500) -> np.ndarray:
        """(n, 64) hidden features, on the host (computed ``batch`` images at a time)."""
        x = self._input(images)
        with no_grad():
            return np.concatenate([self.trunk(x[i:i + batch]).numpy() for i in range(0, x.shape[0], batch)])

    def probabilities(self, images) -> dict:
        """{factor: (n, classes) softmax probabilities}, on the host."""
        with no_grad():
            logits = self.head(Tensor(self.features(images), self.trunk.backend))
        return {f: ops.softmax(block, axis=1).numpy() for f, block in zip(FACTORS, split_logits(logits))}

    def score(self, samples) -> dict:
        """The three numbers for generated faces (n >= 2), and the Frechet floor beside them."""
        probabilities = self.probabilities(samples)
        mean, cov = metrics.gaussian_statistics(self.features(samples))
        return {
            "recognizable_fraction": metrics.recognizable_fraction(probabilities),
            "combinations_covered": metrics.combinations_covered(probabilities),
            "frechet_distance": metrics.frechet_distance_gaussians(self.real_mean, self.real_cov, mean, cov),
            "frechet_floor": self.floor,
        }


@threads.trained  # BLAS threads chosen by timing these steps (minigan.threads)
def train_judge(size: int = 32, seed: int = 0, steps: int | None = None) -> FacesJudge:
    """Train the judge on real faces on the numpy backend (about a minute on two cores)."""
    steps = STEPS if steps is None else steps
    backend = get_backend("numpy")
    rng = backend.random(seed)
    faces = data.faces(n=N_FACES, size=size, seed=seed)
    n_train = N_FACES - N_HELD_OUT
    onehots = [np.eye(k, dtype=np.float32)[faces.factors[f]] for f, k in zip(FACTORS, CLASSES)]
    trunk, head = make_networks(size, rng, backend)
    opt = optim.Adam(trunk.parameters() + head.parameters(), lr=LR, betas=(0.9, 0.999))
    uniform = [np.full((NOISE, k), 1.0 / k, dtype=np.float32) for k in CLASSES]
    for _ in range(steps):
        rows = backend.to_host(rng.integers(0, n_train, (BATCH,)))        # a minibatch of training faces,
        noise = backend.to_host(rng.uniform((NOISE, faces.dim), low=-1.0, high=1.0))   # and a few of noise
        x = np.concatenate([faces.images[rows], noise.astype(np.float32)])
        blocks = split_logits(head(trunk(Tensor(x, backend))))
        targets = [np.concatenate([y[rows], u]) for y, u in zip(onehots, uniform)]   # noise: no factor at all
        loss = sum(cross_entropy(b, Tensor(y, backend)) for b, y in zip(blocks, targets))
        opt.zero_grad()
        loss.backward()
        opt.step()
    judge = FacesJudge(trunk, head, size, {}, np.zeros(FEATURES), np.eye(FEATURES), 0.0)
    held_out = faces.images[n_train:]
    found = judge.probabilities(held_out)
    judge.accuracy = {f: float(np.mean(found[f].argmax(axis=1) == faces.factors[f][n_train:])) for f in FACTORS}
    judge.real_mean, judge.real_cov = metrics.gaussian_statistics(judge.features(faces.images))
    fresh = data.faces(n=FLOOR_N, size=size, seed=seed + 1, cache=False)   # other faces, same drawing
    mean, cov = metrics.gaussian_statistics(judge.features(fresh.images))
    judge.floor = metrics.frechet_distance_gaussians(judge.real_mean, judge.real_cov, mean, cov)
    return judge


def fingerprint(size: int = 32, seed: int = 0) -> str:
    """What a cached judge depends on: its recipe and the drawing of the faces."""
    recipe = {"version": CACHE_VERSION, "faces": cartoon.CACHE_VERSION, "n": N_FACES, "held_out": N_HELD_OUT,
              "steps": STEPS, "batch": BATCH, "noise": NOISE, "lr": LR, "widths": WIDTHS, "features": FEATURES, "size": size,
              "seed": seed, "floor_n": FLOOR_N}
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]


def cache_file(size: int = 32, seed: int = 0, folder: str | None = None) -> str:
    return os.path.join(folder or cache_dir(), f"faces_judge_v{CACHE_VERSION}_size{size}_seed{seed}.npz")


def _load(path: str, expected: str, size: int) -> FacesJudge:
    """The judge stored at ``path``; raises OSError, ValueError, KeyError, ... when unusable."""
    with np.load(path, allow_pickle=False) as stored:
        if str(stored["fingerprint"]) != expected:
            raise ValueError(f"{path}: made with other settings (fingerprint {stored['fingerprint']}, wanted {expected})")
        trunk, head = make_networks(size, None, get_backend("numpy"))
        trunk.load_state_dict({n: stored["trunk." + n] for n in trunk.state_dict()})
        head.load_state_dict({n: stored["head." + n] for n in head.state_dict()})
        accuracy = {f: float(stored["accuracy." + f]) for f in FACTORS}
        return FacesJudge(trunk, head, size, accuracy, stored["real_mean"], stored["real_cov"], float(stored["floor"]))


def _save(judge: FacesJudge, path: str, fingerprint_: str) -> None:
    arrays = {**{"trunk." + n: a for n, a in judge.trunk.state_dict().items()},
              **{"head." + n: a for n, a in judge.head.state_dict().items()},
              **{"accuracy." + f: np.asarray(a) for f, a in judge.accuracy.items()},
              "fingerprint": np.asarray(fingerprint_), "real_mean": judge.real_mean, "real_cov": judge.real_cov,
              "floor": np.asarray(judge.floor)}
    write_cache(path, arrays)


def faces_judge(size: int = 32, seed: int = 0, folder: str | None = None) -> FacesJudge:
    """The cached judge for faces of ``size`` pixels, trained (and cached) on first use."""
    if size not in cartoon.SIZES:
        raise ValueError(f"size: got {size!r}, wanted one of {', '.join(map(str, cartoon.SIZES))}")
    path, expected = cache_file(size, seed, folder), fingerprint(size, seed)
    try:
        return _load(path, expected, size)
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile):   # missing, stale, corrupt
        pass
    judge = train_judge(size, seed)
    _save(judge, path, expected)
    return judge
