"""minigan.judging.digits_features: the classifier behind the digits metrics, and its cache."""
import numpy as np
import pytest
from strategies import BACKENDS

import minigan
from minigan import data
from minigan.judging import digits_features


@pytest.mark.parametrize("backend", BACKENDS)
def test_cross_entropy_value_and_gradient(backend):
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(5, 4)) * 3.0
    labels = np.array([0, 3, 1, 1, 2])
    onehot = np.eye(4)[labels]
    a = minigan.tensor(logits, requires_grad=True, backend=backend, dtype="float64")
    loss = digits_features.cross_entropy(a, minigan.tensor(onehot, backend=backend, dtype="float64"))
    loss.backward()
    softmax = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert loss.item() == pytest.approx(-np.mean(np.log(softmax[np.arange(5), labels])), rel=1e-12)
    np.testing.assert_allclose(a.backend.to_host(a.grad),
                               (softmax - onehot) / 5, rtol=1e-10, atol=1e-12)


def test_cross_entropy_is_finite_for_huge_logits():
    a = minigan.tensor([[1000.0, -1000.0], [-1000.0, 1000.0]], requires_grad=True)
    loss = digits_features.cross_entropy(a, minigan.tensor([[1.0, 0.0], [0.0, 1.0]]))
    loss.backward()
    assert loss.item() == pytest.approx(0.0, abs=1e-6) and np.all(np.isfinite(a.grad))


@pytest.fixture(scope="module")
def classifier(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(digits_features, "STEPS", 300)           # shorter than the real 800; still > 0.9
        return folder, digits_features.digits_classifier(folder=str(folder))


def test_the_classifier_knows_its_digits(classifier):
    _, c = classifier
    assert c.accuracy > 0.9                                       # on the 297 held-out digits
    digits = data.digits()
    assert c.features(digits.images[:7]).shape == (7, 64)
    assert np.mean(c.predict(digits.images) == digits.labels) > 0.9


def test_scores_have_their_known_answers(classifier):
    _, c = classifier
    images = data.digits().images
    real = c.score(images[::2])                                   # half of the real digits
    collapsed = c.score(np.repeat(images[:1], 500, axis=0) + 0.01 * np.random.default_rng(0).normal(size=(500, 64)))
    assert real["classes_covered"] == 10
    assert collapsed["classes_covered"] == 1                      # mode collapse: one class
    assert collapsed["frechet_distance"] > 20 * real["frechet_distance"]


def test_the_cache_is_reused(classifier, monkeypatch):
    folder, c = classifier
    monkeypatch.setattr(digits_features, "STEPS", 300)           # the fixture's recipe: same fingerprint

    def no_training(*args, **kwargs):
        raise AssertionError("trained again instead of loading the cache")

    monkeypatch.setattr(digits_features, "train_classifier", no_training)
    loaded = digits_features.digits_classifier(folder=str(folder))
    assert loaded.accuracy == c.accuracy
    np.testing.assert_array_equal(loaded.real_cov, c.real_cov)
    for (name, p), (_, q) in zip(c.net.named_parameters(), loaded.net.named_parameters()):
        np.testing.assert_array_equal(p.numpy(), q.numpy(), err_msg=name)


def test_the_cache_folder_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MINIGAN_CACHE", str(tmp_path))
    assert digits_features.cache_dir() == str(tmp_path)
    assert digits_features.cache_file(seed=2).startswith(str(tmp_path))
    monkeypatch.setenv("MINIGAN_CACHE", "~/elsewhere")                 # ~ is the home folder, as in a shell
    assert digits_features.cache_dir() == str(tmp_path / "home" / "elsewhere")
    for unset in (monkeypatch.delenv, lambda name: monkeypatch.setenv(name, "")):  # unset or empty: the default
        unset("MINIGAN_CACHE")
        assert digits_features.cache_dir() == str(tmp_path / "home" / ".cache" / "minigan")


def test_the_classifier_is_cached_where_minigan_cache_says(monkeypatch, tmp_path):
    """With no folder= argument, the trained classifier's file lands in $MINIGAN_CACHE, not in ~/.cache."""
    monkeypatch.setattr(digits_features, "STEPS", 30)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MINIGAN_CACHE", str(tmp_path / "cache"))
    digits_features.digits_classifier()
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [f"digits_classifier_v{digits_features.CACHE_VERSION}_seed0.npz"]
    assert not (tmp_path / "home").exists()


def test_a_corrupt_cache_is_retrained_and_rewritten(tmp_path, monkeypatch):
    monkeypatch.setattr(digits_features, "STEPS", 30)
    path = digits_features.cache_file(folder=str(tmp_path))
    with open(path, "wb") as f:
        f.write(b"PK\x03\x04 not really a zip")
    c = digits_features.digits_classifier(folder=str(tmp_path))
    assert c.real_cov.shape == (64, 64)
    with np.load(path, allow_pickle=False) as stored:                # now a good cache file
        assert str(stored["fingerprint"]) == digits_features.fingerprint()
    assert [p.name for p in tmp_path.iterdir()] == [path.split("/")[-1]]   # no temporary left


def test_a_cache_made_with_other_settings_is_retrained(tmp_path, monkeypatch):
    monkeypatch.setattr(digits_features, "STEPS", 30)
    first = digits_features.digits_classifier(folder=str(tmp_path))
    monkeypatch.setattr(digits_features, "STEPS", 31)                 # another recipe, same file name
    retrained = []
    real_train = digits_features.train_classifier
    monkeypatch.setattr(digits_features, "train_classifier", lambda seed: retrained.append(seed) or real_train(seed))
    second = digits_features.digits_classifier(folder=str(tmp_path))
    assert retrained == [0]
    assert first.accuracy != second.accuracy or not np.array_equal(first.real_mean, second.real_mean)


def test_an_unwritable_cache_folder_still_scores(tmp_path, monkeypatch):
    monkeypatch.setattr(digits_features, "STEPS", 30)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    c = digits_features.digits_classifier(folder=str(blocker / "cache"))
    assert c.score(data.digits().images[:50])["classes_covered"] >= 1


def test_bad_images_are_refused(classifier):
    _, c = classifier
    with pytest.raises(ValueError, match=r"images: got shape \(3, 63\)"):
        c.features(np.zeros((3, 63)))
