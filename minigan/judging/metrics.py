"""How good is a generator? Numbers with known answers, computed with NumPy on the host.

- Mixtures (ring, grid): ``mode_coverage`` counts the modes a generator reaches and the
  fraction of its samples that land close to a mode, as VEEGAN (Srivastava et al. 2017)
  defines them. Draw ``N_SAMPLES`` = 2,500 samples from G, as that paper does.
- 1-D: ``js_divergence_1d`` is the Jensen-Shannon divergence between p_data (density known)
  and a histogram of G's samples: the quantity Theorem 1 of the GAN paper says training
  minimises (C(G) = -log 4 + 2 JSD).
- Discrete (one of K symbols): ``js_divergence_categorical`` compares the frequencies of
  G's symbols with p_data's probabilities.
- Images: ``classes_covered`` counts the digit classes a classifier sees among G's
  samples; ``frechet_distance`` compares the Gaussians fitted to two sets of feature
  vectors (the features come from a classifier trained on the real digits; this module
  only takes the arrays, so any feature extractor plugs in).
- Faces with known factors: ``recognizable_fraction`` and ``combinations_covered`` read a
  judge's per-factor probabilities (``minigan.judging.faces_judge``).

Every function accepts NumPy arrays, backend arrays (CuPy, strict) or Tensors, copies them
to the host and computes in float64.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from minigan.autograd import Tensor
from minigan.backend import backend_of

N_SAMPLES = 2500           # samples drawn from G for mode_coverage, as in VEEGAN
HIGH_QUALITY_STDS = 3.0    # a sample within 3 std of its nearest centre is high quality


def to_host(array, name: str = "array") -> np.ndarray:
    """A NumPy float64 copy of a Tensor, a backend array, a NumPy array or a list."""
    if isinstance(array, Tensor):
        host = array.numpy()
    elif isinstance(array, (np.ndarray, np.generic, list, tuple, int, float)):
        host = np.asarray(array)
    else:
        try:
            host = backend_of(array).to_host(array)
        except TypeError:
            raise TypeError(
                f"{name}: got a {type(array).__name__}, wanted a NumPy or backend array or a Tensor"
            ) from None
    if not (np.issubdtype(host.dtype, np.number) or host.dtype == np.bool_):
        raise TypeError(f"{name}: got dtype {host.dtype}, wanted numbers")
    return host.astype(np.float64)


# ---- mixtures: modes covered and high-quality fraction ---------------------------------------

@dataclass(frozen=True)
class ModeCoverage:
    """modes_covered of modes_total; high_quality_fraction of n_samples; counts[i] = the
    high-quality samples whose nearest centre is mode i."""

    modes_covered: int
    modes_total: int
    high_quality_fraction: float
    counts: tuple
    n_samples: int


def mode_coverage(samples, centres, std) -> ModeCoverage:
    """VEEGAN's mode metrics for samples of a Gaussian mixture with round modes of one ``std``.

    A sample is high quality when it lies within 3 std of its nearest centre; a mode is
    covered when it is the nearest centre of at least one high-quality sample. Pass
    ``N_SAMPLES`` (2,500) generator samples. Samples of the mixture itself cover every
    mode with a high-quality fraction of P(|noise| <= 3 std) = 1 - e^(-4.5) = 0.9889 in 2-D.
    A non-finite sample (a diverged G) counts as low quality.

    samples (n, dim), centres (modes, dim), std > 0.
    """
    x = to_host(samples, "samples")
    c = to_host(centres, "centres")
    if x.ndim != 2 or x.shape[0] < 1:
        raise ValueError(f"samples: got shape {x.shape}, wanted (n, dim) with n >= 1")
    if c.ndim != 2 or c.shape[0] < 1 or c.shape[1] != x.shape[1] or not np.all(np.isfinite(c)):
        raise ValueError(f"centres: got shape {c.shape}, wanted a finite (modes, {x.shape[1]}) array")
    if isinstance(std, bool) or not isinstance(std, (int, float, np.number)) or not std > 0 or not math.isfinite(std):
        raise ValueError(f"std: got {std!r}, wanted a positive finite number")

    offsets = x[:, None, :] - c[None, :, :]                   # (n, 1, dim) - (1, modes, dim) -> (n, modes, dim)
    distances = np.sqrt(np.sum(offsets ** 2, axis=2))         # (n, modes)
    nearest = np.argmin(distances, axis=1)                    # (n,) index of the nearest centre
    to_nearest = distances[np.arange(x.shape[0]), nearest]    # (n,) distance to it (NaN for a NaN sample)
    high_quality = to_nearest <= HIGH_QUALITY_STDS * std      # (n,) bool; NaN <= r is False
    counts = np.bincount(nearest[high_quality], minlength=c.shape[0])   # (modes,)
    return ModeCoverage(
        modes_covered=int(np.sum(counts > 0)),
        modes_total=int(c.shape[0]),
        high_quality_fraction=float(np.mean(high_quality)),
        counts=tuple(int(k) for k in counts),
        n_samples=int(x.shape[0]),
    )


# ---- 1-D: Jensen-Shannon divergence ---------------------------------------------------------

def js_divergence(p, q) -> float:
    """JSD(p || q) = KL(p || M) / 2 + KL(q || M) / 2 with M = (p + q) / 2, in nats.

    ``p``, ``q``: two discrete distributions on the same outcomes (non-negative, each
    normalised here). Symmetric, 0 exactly when p = q, log 2 when they share no outcome.
    """
    p, q = to_host(p, "p"), to_host(q, "q")
    for name, d in (("p", p), ("q", q)):
        if d.ndim != 1 or d.shape != p.shape or not np.all(np.isfinite(d)) or np.any(d < 0) or d.sum() <= 0:
            raise ValueError(f"{name}: got shape {d.shape} (sum {d.sum()}), wanted non-negative finite "
                             f"weights of shape {p.shape} with a positive sum")
    p, q = p / p.sum(), q / q.sum()
    value = 0.5 * _kl_to_middle(p, q) + 0.5 * _kl_to_middle(q, p)
    return float(min(max(value, 0.0), math.log(2.0)))        # clip the last bit of rounding


def _kl_to_middle(p: np.ndarray, q: np.ndarray) -> float:
    """KL(p || M), M = (p + q) / 2: sum p log(2p / (p + q)), with 0 log 0 = 0.

    Written with p + q, not M: halving a subnormal p (4.9e-324) rounds M to 0, and
    log(p / 0) = inf would turn a JSD of 0.42 into the clip at log 2.
    """
    seen = p > 0
    return float(np.sum(p[seen] * np.log(2.0 * p[seen] / (p[seen] + q[seen]))))


def js_divergence_1d(samples, density, lo: float, hi: float, bins: int = 50) -> float:
    """JSD between p_data (a host ``density`` function) and G's ``samples``, in [0, log 2].

    Both are turned into probabilities of ``bins`` equal bins on [lo, hi] plus one bin for
    everything outside: p_data's by integrating ``density`` over each bin (trapezoid rule on
    16 points per bin), G's by counting samples. Choose [lo, hi] to hold nearly all of
    p_data (``Gaussian1D.interval()``). The histogram makes even true samples score a little
    above 0, about bins / (8 n) for n samples.
    """
    x = to_host(samples, "samples")
    if x.ndim == 2 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 1 or x.shape[0] < 1:
        raise ValueError(f"samples: got shape {x.shape}, wanted (n,) or (n, 1) with n >= 1")
    if not callable(density):
        raise TypeError(f"density: got a {type(density).__name__}, wanted a function of a NumPy array")
    numbers = all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in (lo, hi))
    if not (numbers and math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"lo, hi: got {lo!r}, {hi!r}, wanted finite numbers with lo < hi")
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise ValueError(f"bins: got {bins!r}, wanted a positive integer")

    per_bin = 16
    grid = np.linspace(lo, hi, bins * per_bin + 1)            # (bins * 16 + 1,) points
    f = np.asarray(density(grid), dtype=np.float64)
    if f.shape != grid.shape or not np.all(np.isfinite(f)) or np.any(f < 0):
        raise ValueError(f"density: returned shape {f.shape} with values {f.min()}..{f.max()}, "
                         f"wanted non-negative finite values of shape {grid.shape}")
    slivers = 0.5 * (f[:-1] + f[1:]) * np.diff(grid)           # trapezoids, (bins * 16,)
    p_bins = np.sum(np.reshape(slivers, (bins, per_bin)), axis=1)   # (bins,) mass of p_data per bin
    p_outside = max(0.0, 1.0 - float(np.sum(p_bins)))

    inside = (x >= lo) & (x <= hi)                             # NaN samples are outside
    counts, _ = np.histogram(x[inside], bins=bins, range=(lo, hi))
    q_bins = counts / x.shape[0]
    q_outside = 1.0 - float(np.mean(inside))
    return js_divergence(np.append(p_bins, p_outside), np.append(q_bins, q_outside))


def symbol_frequencies(samples) -> np.ndarray:
    """The fraction of rows whose largest entry is symbol i, for (n, K) generated rows (float64, (K,)).

    A one-hot row stands for its symbol; a soft row (a relaxed Gumbel-softmax sample) for
    its argmax, the symbol it would become (the first one on ties).
    """
    x = to_host(samples, "samples")
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 2 or not np.all(np.isfinite(x)):
        raise ValueError(f"samples: got shape {x.shape}, wanted finite (n, K) rows with n >= 1, K >= 2")
    return np.bincount(np.argmax(x, axis=1), minlength=x.shape[1]) / x.shape[0]


def js_divergence_categorical(samples, probabilities) -> float:
    """JSD between the symbols of G's (n, K) ``samples`` and p_data's K ``probabilities``, in nats.

    The sampling error alone makes n true samples score about (K - 1) / (8 n): 0.0003 for
    K = 8 and n = 2,500.
    """
    p = to_host(probabilities, "probabilities")
    q = symbol_frequencies(samples)
    if p.shape != q.shape:
        raise ValueError(f"probabilities: got shape {p.shape}, wanted ({q.shape[0]},), one per symbol of the samples")
    return js_divergence(p, q)


# ---- images: classes covered and the Frechet distance --------------------------------------

@dataclass(frozen=True)
class ClassCoverage:
    """classes_covered of classes_total; counts[c] = samples predicted as class c."""

    classes_covered: int
    classes_total: int
    counts: tuple
    min_fraction: float


def classes_covered(predicted_labels, n_classes: int = 10, min_fraction: float = 0.01) -> ClassCoverage:
    """How many classes a classifier finds among G's samples.

    A class is covered when at least ``min_fraction`` of the samples are predicted as it
    (the default 0.01 is a tenth of the 0.1 each of 10 classes gets from the real data, so
    a stray misclassification or two does not count as a class). Mode collapse shows as few
    classes covered.
    """
    labels = to_host(predicted_labels, "predicted_labels")
    if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)) or n_classes < 1:
        raise ValueError(f"n_classes: got {n_classes!r}, wanted a positive integer")
    if labels.ndim != 1 or labels.shape[0] < 1 or np.any(labels != np.round(labels)) \
            or np.any(labels < 0) or np.any(labels >= n_classes):
        raise ValueError(f"predicted_labels: got shape {labels.shape} with values {labels.min()}..{labels.max()}, "
                         f"wanted (n,) integer labels in 0..{n_classes - 1}")
    if isinstance(min_fraction, bool) or not isinstance(min_fraction, (int, float)) or not 0 < min_fraction <= 1:
        raise ValueError(f"min_fraction: got {min_fraction!r}, wanted a number in (0, 1]")
    counts = np.bincount(labels.astype(np.int64), minlength=n_classes)   # (n_classes,)
    covered = counts >= min_fraction * labels.shape[0]
    return ClassCoverage(int(np.sum(covered)), int(n_classes), tuple(int(k) for k in counts), float(min_fraction))


def gaussian_statistics(features) -> tuple[np.ndarray, np.ndarray]:
    """(mean (d,), covariance (d, d)) of feature vectors (n, d), n >= 2 (unbiased covariance).

    Computing the real data's statistics once and reusing them is how the Frechet distance
    is usually cached.
    """
    f = to_host(features, "features")
    if f.ndim != 2 or f.shape[0] < 2 or f.shape[1] < 1 or not np.all(np.isfinite(f)):
        raise ValueError(f"features: got shape {f.shape}, wanted finite (n, d) feature vectors with n >= 2")
    mean = np.mean(f, axis=0)                                  # (d,)
    centred = f - mean                                         # (n, d)
    covariance = centred.T @ centred / (f.shape[0] - 1)        # (d, n) @ (n, d) -> (d, d)
    return mean, covariance


def frechet_distance_gaussians(mean_a, cov_a, mean_b, cov_b) -> float:
    """Frechet (2-Wasserstein squared) distance between N(mean_a, cov_a) and N(mean_b, cov_b):

        |mean_a - mean_b|^2 + Tr(cov_a + cov_b - 2 (cov_a cov_b)^(1/2))

    cov_a cov_b is not symmetric, but it has the same eigenvalues as the symmetric
    S cov_b S with S = cov_a^(1/2), so Tr((cov_a cov_b)^(1/2)) = sum of sqrt(eigenvalues of
    S cov_b S): two symmetric eigen-decompositions, no general matrix square root needed.
    """
    mean_a, mean_b = np.asarray(mean_a, np.float64), np.asarray(mean_b, np.float64)
    cov_a, cov_b = np.asarray(cov_a, np.float64), np.asarray(cov_b, np.float64)
    d = mean_a.shape[0] if mean_a.ndim == 1 else -1
    if mean_a.shape != (d,) or mean_b.shape != (d,) or cov_a.shape != (d, d) or cov_b.shape != (d, d):
        raise ValueError(f"means and covariances: got shapes {mean_a.shape}, {cov_a.shape}, {mean_b.shape}, "
                         f"{cov_b.shape}, wanted (d,), (d, d), (d,), (d, d)")
    sqrt_a = _symmetric_sqrt(cov_a)                            # (d, d)
    middle = sqrt_a @ cov_b @ sqrt_a                           # (d, d), symmetric positive semi-definite
    trace_sqrt = np.sum(np.sqrt(np.clip(np.linalg.eigvalsh(0.5 * (middle + middle.T)), 0.0, None)))
    value = np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2.0 * trace_sqrt
    return float(max(value, 0.0))                              # never negative; rounding can dip below 0


def _symmetric_sqrt(c: np.ndarray) -> np.ndarray:
    """C^(1/2) = V diag(sqrt(w)) V^T for symmetric C = V diag(w) V^T (w < 0 from rounding -> 0)."""
    w, v = np.linalg.eigh(0.5 * (c + c.T))
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T         # scales column j of V by sqrt(w_j)


def frechet_distance(features_a, features_b) -> float:
    """Frechet distance between Gaussians fitted to two sets of feature vectors (n, d).

    0 for identical inputs; for 1-D Gaussians it is (mu_a - mu_b)^2 + (s_a - s_b)^2.
    With classifier features of real and generated digits, this is the FID recipe.
    """
    mean_a, cov_a = gaussian_statistics(features_a)
    mean_b, cov_b = gaussian_statistics(features_b)
    if mean_a.shape != mean_b.shape:
        raise ValueError(
            f"features_b: got {mean_b.shape[0]} features per row, wanted {mean_a.shape[0]} like features_a"
        )
    return frechet_distance_gaussians(mean_a, cov_a, mean_b, cov_b)


RECOGNIZABLE = 0.9   # a judge's largest probability, in every factor, for a sample to count as recognizable


def _factor_probabilities(probabilities) -> list:
    """The judge's {factor: (n, classes)} probabilities as host arrays, checked."""
    if not isinstance(probabilities, dict) or not probabilities:
        raise TypeError(f"probabilities: got {type(probabilities).__name__}, wanted {{factor: (n, classes) array}}")
    blocks = [to_host(p, f"probabilities[{name!r}]") for name, p in probabilities.items()]
    n = blocks[0].shape[0]
    if any(b.ndim != 2 or b.shape[0] != n or n < 1 for b in blocks):
        raise ValueError(f"probabilities: got shapes {[b.shape for b in blocks]}, wanted (n, classes) with one n")
    return blocks


def recognizable(probabilities, threshold: float = RECOGNIZABLE) -> np.ndarray:
    """(n,) bools: the samples whose largest probability is >= ``threshold`` in every factor."""
    return np.all([b.max(axis=1) >= threshold for b in _factor_probabilities(probabilities)], axis=0)


def recognizable_fraction(probabilities, threshold: float = RECOGNIZABLE) -> float:
    """The share of samples a judge places confidently in every factor (real faces: near 1)."""
    return float(np.mean(recognizable(probabilities, threshold)))


def combinations_covered(probabilities, threshold: float = RECOGNIZABLE) -> int:
    """How many factor combinations (colour, eyes, mouth) appear among the recognizable
    samples: a combination is covered when at least one sample is recognizably it.
    The modes covered of the ring, for images; a collapsed generator covers 1."""
    blocks = _factor_probabilities(probabilities)
    keep = recognizable(probabilities, threshold)
    chosen = np.stack([b.argmax(axis=1) for b in blocks], axis=1)[keep]     # (recognizable, factors)
    return int(len(np.unique(chosen, axis=0)))
