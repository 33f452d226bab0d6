"""A fixed train / held-out test split of the 8x8 digits, and a few labels per class from it.

The semi-supervised classifier (``minigan.variants.semi_supervised``) and the conditional GAN
(``minigan.variants.conditional``) learn from the *train* part only; accuracies are measured on the
*test* part, which no training ever sees. The split is made once and for all:

- 30 test digits per class (300 in all), the other 1,497 for training;
- chosen per class by a NumPy generator seeded with ``SPLIT_SEED``, independent of any
  run's seed, so every run, seed and backend sees the same two parts.

``labelled_indices(labels, per_class, seed)`` then picks ``per_class`` training examples of
each class whose labels a semi-supervised run may use (10 per class: the "100 labels" of
``python -m minigan.demo --dataset digits --labels 100``); which ones depends on the run's
seed, and all the other training digits are its unlabelled data.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from minigan.data.base import check_positive_int
from minigan.data.images import ImageDataset, digits

SPLIT_SEED = 2016            # fixed for good: changing it changes every reported accuracy
TEST_PER_CLASS = 30          # 300 held-out test digits, 30 of each class
CLASSES = 10


@dataclass(frozen=True)
class DigitsSplit:
    """The two disjoint parts: ``train`` (1,497 digits) and ``test`` (300), with the row
    numbers each took from ``data.digits()`` (``train_rows``, ``test_rows``, sorted)."""

    train: ImageDataset
    test: ImageDataset
    train_rows: np.ndarray
    test_rows: np.ndarray


def split_rows(labels, test_per_class: int = TEST_PER_CLASS, seed: int = SPLIT_SEED):
    """(train_rows, test_rows): ``test_per_class`` rows of each class for the test part, drawn
    by ``np.random.default_rng(seed)``, the rest for training; both sorted, disjoint."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    test = []
    for label in range(CLASSES):                                      # class by class: stratified
        rows = np.flatnonzero(labels == label)
        if len(rows) <= test_per_class:
            raise ValueError(f"test_per_class: got {test_per_class}, wanted fewer than the {len(rows)} "
                             f"examples of class {label}")
        test.append(rng.choice(rows, size=test_per_class, replace=False))
    test_rows = np.sort(np.concatenate(test))
    train_rows = np.setdiff1d(np.arange(len(labels)), test_rows)     # sorted, and disjoint by construction
    return train_rows, test_rows


def digits_split() -> DigitsSplit:
    """The fixed split of scikit-learn's digits (needs the ``minigan[datasets]`` extra)."""
    whole = digits()
    train_rows, test_rows = split_rows(whole.labels)
    train = ImageDataset(whole.images[train_rows], whole.labels[train_rows], whole.image_shape,
                         name="digits", spec="part='train'")
    test = ImageDataset(whole.images[test_rows], whole.labels[test_rows], whole.image_shape,
                        name="digits", spec="part='test'")
    return DigitsSplit(train, test, train_rows, test_rows)


def labelled_indices(labels, per_class: int, seed: int) -> np.ndarray:
    """``per_class`` indices into ``labels`` for each class (sorted), drawn with ``seed``."""
    per_class = check_positive_int("per_class", per_class)
    labels = np.asarray(labels)
    rng = np.random.default_rng([seed, SPLIT_SEED])                 # its own stream: not the run's generator
    chosen = []
    for label in range(CLASSES):
        rows = np.flatnonzero(labels == label)
        if len(rows) < per_class:
            raise ValueError(f"per_class: got {per_class}, wanted at most the {len(rows)} examples of class {label}")
        chosen.append(rng.choice(rows, size=per_class, replace=False))
    return np.sort(np.concatenate(chosen))
