"""minigan.variants.conditional: G(z, y) and D(x, y) see the class, a short run's rows follow it, and
class_agreement counts what the judge says (Mirza and Osindero, 2014)."""
import numpy as np
import pytest

from minigan.variants import conditional

pytest.importorskip("sklearn")

from minigan.data.splits import digits_split  # noqa: E402


@pytest.fixture(scope="module")
def trained():
    split = digits_split()
    model = conditional.ConditionalGAN(split.train.images, split.train.labels, seed=0,
                                       g_hidden=(128, 128), d_hidden=(128, 128), lr=2e-3)
    return model.train(750), split                      # about 5 s; the class shows from about step 500


def test_rows_follow_the_requested_class(trained):
    """Loose: the mean of the digits asked to be c lies nearer the mean real c than any other
    class's mean real digit, for most c. An unconditional G (or one that ignores y) gives the
    same mean for every row and scores about 1 of 10."""
    model, split = trained
    real_means = np.stack([split.train.images[split.train.labels == c].mean(axis=0) for c in range(10)])
    asked = conditional.requested_classes(500)
    fake = model.generate(asked, seed=1)
    fake_means = np.stack([fake[asked == c].mean(axis=0) for c in range(10)])
    distances = ((fake_means[:, None, :] - real_means[None, :, :]) ** 2).sum(axis=2)   # (asked, real class)
    assert np.sum(np.argmin(distances, axis=1) == np.arange(10)) >= 7, np.argmin(distances, axis=1)


def test_generate_is_seeded_and_checks_labels(trained):
    model, _ = trained
    np.testing.assert_array_equal(model.generate([1, 2], seed=4), model.generate([1, 2], seed=4))
    assert model.generate([3] * 5).shape == (5, 64)
    with pytest.raises(ValueError, match="labels: got"):
        model.generate([10])


class Judge:
    """Stands in for the digits classifier: says 'class 0' for everything."""

    def predict(self, images):
        return np.zeros(len(images), dtype=np.int64)


def test_class_agreement_counts_what_the_judge_says(trained):
    model, _ = trained
    assert conditional.class_agreement(model, Judge(), n=1000) == pytest.approx(0.1)   # right only for row 0
    assert conditional.requested_classes(30).tolist() == [c for c in range(10) for _ in range(3)]


def test_a_short_run_on_the_strict_backend():
    """array-api-strict refuses NumPy arrays: a host array leaking into a step would fail here."""
    split = digits_split()
    model = conditional.ConditionalGAN(split.train.images, split.train.labels, seed=0, backend="strict", m=8)
    assert model.train(2).generate([1, 2, 3]).shape == (3, 64)
