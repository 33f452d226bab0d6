"""The faces judge (minigan.judging.faces_judge) and the metrics it feeds (minigan.judging.metrics)."""
import os

import numpy as np
import pytest

from minigan import data
from minigan.judging import faces_judge, metrics


def one_hot_probabilities(labels, sizes=(5, 4, 5), confidence=1.0):
    """{factor: (n, k)} with ``confidence`` on each label and the rest spread evenly."""
    out = {}
    for name, k, column in zip(("colour", "eyes", "mouth"), sizes, np.asarray(labels).T):
        p = np.full((len(column), k), (1.0 - confidence) / (k - 1))
        p[np.arange(len(column)), column] = confidence
        out[name] = p
    return out


# ---- the metrics, on probabilities with known answers ---------------------------------------
def test_confident_samples_are_recognizable_and_unsure_ones_are_not():
    labels = [[0, 0, 0], [1, 2, 3], [4, 3, 4]]
    assert metrics.recognizable_fraction(one_hot_probabilities(labels)) == 1.0
    assert metrics.recognizable_fraction(one_hot_probabilities(labels, confidence=0.85)) == 0.0
    sure = one_hot_probabilities(labels)
    sure["mouth"][1] = [0.2, 0.2, 0.2, 0.2, 0.2]       # one factor unsure: that sample does not count
    assert metrics.recognizable_fraction(sure) == pytest.approx(2 / 3)
    assert metrics.recognizable(sure).tolist() == [True, False, True]


def test_the_threshold_is_inclusive_and_adjustable():
    p = one_hot_probabilities([[0, 0, 0]], confidence=0.9)
    assert metrics.recognizable_fraction(p) == 1.0 and metrics.recognizable_fraction(p, threshold=0.95) == 0.0


def test_combinations_covered_counts_distinct_recognizable_triples():
    labels = [[0, 0, 0], [0, 0, 0], [0, 0, 1], [1, 0, 0], [4, 3, 4]]
    p = one_hot_probabilities(labels)
    assert metrics.combinations_covered(p) == 4
    p["colour"][4] = 0.2                                 # the (4, 3, 4) sample becomes unsure: not covered
    assert metrics.combinations_covered(p) == 3


def test_a_collapsed_generator_covers_one_combination():
    assert metrics.combinations_covered(one_hot_probabilities([[2, 1, 3]] * 500)) == 1


def test_every_combination_covers_all_hundred():
    grid = np.stack(np.meshgrid(range(5), range(4), range(5), indexing="ij"), -1).reshape(-1, 3)
    assert metrics.combinations_covered(one_hot_probabilities(grid)) == 100


def test_bad_probabilities_say_what_is_wrong():
    with pytest.raises(TypeError, match="probabilities: got list"):
        metrics.recognizable_fraction([np.ones((2, 5))])
    with pytest.raises(ValueError, match="probabilities: got shapes"):
        metrics.combinations_covered({"colour": np.ones((3, 5)), "eyes": np.ones((2, 4))})


# ---- the judge itself ------------------------------------------------------------------
@pytest.fixture(scope="module")
def judge(tmp_path_factory):
    """A judge of 16x16 faces trained briefly (the cached default is 32x32, trained longer)."""
    os.environ["MINIGAN_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    try:
        return faces_judge.train_judge(size=16, steps=300)
    finally:
        del os.environ["MINIGAN_CACHE"]


@pytest.mark.slow
def test_the_judge_reads_every_factor_of_held_out_faces(judge):
    assert set(judge.accuracy) == {"colour", "eyes", "mouth"}
    assert min(judge.accuracy.values()) >= 0.95          # 300 steps at 16 px; the cached judge is trained longer


@pytest.mark.slow
def test_real_faces_score_high_a_collapse_covers_one_and_noise_nothing(judge):
    real = data.faces(n=1000, size=16, seed=11, cache=False).images
    scores = judge.score(real)
    assert scores["recognizable_fraction"] >= 0.8 and scores["combinations_covered"] >= 95
    assert scores["frechet_distance"] < 5 * scores["frechet_floor"] + 0.5
    collapsed = judge.score(np.repeat(real[:1], 1000, axis=0))
    assert collapsed["combinations_covered"] == 1 and collapsed["frechet_distance"] > 50 * scores["frechet_distance"]
    noise = judge.score(np.random.default_rng(0).uniform(-1, 1, real.shape).astype(np.float32))
    assert noise["recognizable_fraction"] <= 0.02 and noise["combinations_covered"] <= 3


@pytest.mark.slow
def test_the_judge_is_cached_and_a_damaged_cache_is_retrained(judge, tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(faces_judge, "train_judge", lambda size, seed: calls.append((size, seed)) or judge)
    path = faces_judge.cache_file(16, 0, str(tmp_path))
    first = faces_judge.faces_judge(size=16, folder=str(tmp_path))
    assert calls == [(16, 0)] and os.path.isfile(path)
    again = faces_judge.faces_judge(size=16, folder=str(tmp_path))      # read back, not retrained
    assert calls == [(16, 0)] and again.accuracy == first.accuracy
    faces = data.faces(n=50, size=16, seed=3, cache=False).images
    assert np.allclose(again.features(faces), judge.features(faces), atol=1e-6)
    with open(path, "wb") as file:
        file.write(b"damaged")
    faces_judge.faces_judge(size=16, folder=str(tmp_path))
    assert calls == [(16, 0), (16, 0)]
    stale = dict(np.load(path))
    stale["fingerprint"] = np.asarray("another recipe")
    np.savez(path, **stale)
    faces_judge.faces_judge(size=16, folder=str(tmp_path))
    assert len(calls) == 3


def test_the_judge_refuses_images_of_another_size(judge):
    with pytest.raises(ValueError, match=r"images: got shape \(2, 3072\), wanted \(n, 768\)"):
        judge.score(np.zeros((2, 3072), np.float32))
    with pytest.raises(ValueError, match="size: got 20"):
        faces_judge.faces_judge(size=20)
