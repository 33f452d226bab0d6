"""minigan.variants.conditional where its mutation run found the tests silent (issue 26, after
issue 29's faces): the DCGAN's networks drawn from the seed, two factors, faces_gan's data and
recipe, and the defaults of the grid and agreement helpers. Fast: tiny networks, no training."""
import numpy as np
import pytest

from minigan import nn
from minigan.autograd import Tensor
from minigan.variants import conditional

SHAPE, COUNTS, N = (3, 8, 8), (3, 2), 20   # two factors: a bug that treats 2 as "one" shows here


def two_factor_model(seed=0, backend=None, arch="mlp"):
    host = np.random.default_rng(70 + seed)
    images = host.uniform(-1, 1, (N, 3 * 8 * 8))
    labels = np.stack([host.integers(0, k, N) for k in COUNTS], axis=1)          # (N, 2)
    settings = {"arch": arch, "m": 6, "noise_dim": 3, "g_hidden": (4,), "d_hidden": (4,)}
    return conditional.ConditionalGAN(images, labels, seed=seed, backend=backend, classes=COUNTS, image_shape=SHAPE,
                                      **settings)


def same_parameters(a, b) -> bool:
    a, b = [p.numpy() for p in a], [p.numpy() for p in b]
    return len(a) == len(b) and all(x.shape == y.shape and np.array_equal(x, y) for x, y in zip(a, b))


def test_two_factors_are_one_hot_side_by_side_and_drawn_in_turn():
    model = two_factor_model()
    got = model.one_hot(model.backend.asarray(np.array([[2, 0], [0, 1]]))).numpy()
    np.testing.assert_array_equal(got, [[0, 0, 1, 1, 0], [1, 0, 0, 0, 1]])
    replay = model.backend.random(0)
    replay.set_state(model.rng.state())
    drawn = [np.asarray(replay.integers(0, k, (6,))) for k in COUNTS]          # colour-like, then eyes-like
    wanted = np.concatenate([np.eye(3)[drawn[0]], np.eye(2)[drawn[1]]], axis=1)
    np.testing.assert_array_equal(model.fake_classes(6).numpy(), wanted)


@pytest.mark.parametrize("backend", ["numpy", "strict"])
def test_the_dcgan_networks_are_drawn_from_the_seeds_generator_g_first(backend):
    """G = dcgan_generator([z, onehot], ..., "tanh"), then D's convolutions and head, then V
    (normal, std 0.02, the head's dtype), all from the model's seeded generator in that order."""
    model = two_factor_model(seed=4, backend=backend, arch="dcgan")
    be, k = model.backend, sum(COUNTS)
    rng = be.random(4)
    G = nn.dcgan_generator(3 + k, (4,), SHAPE, "tanh", rng=rng, backend=be)
    D = nn.dcgan_discriminator((4,), SHAPE, rng=rng, backend=be)
    V = rng.normal((k, D.layers[-1].n_in), 0.0, 0.02, dtype=be.default_float)
    assert same_parameters(model.G.parameters(), G.parameters())
    assert same_parameters(model.D.parameters()[:-1], D.parameters())
    np.testing.assert_array_equal(model.D.embed.numpy(), Tensor(V, be).numpy())
    z = Tensor(be.asarray(np.random.default_rng(1).normal(size=(4, 3 + k)), dtype=be.default_float), be)
    np.testing.assert_array_equal(model.G(z).numpy(), G(z).numpy())              # tanh last, as G's
    assert model.D.backend is be and model.D.embed.backend is be
    assert model.D.embed.dtype == model.D.head.weight.dtype


def test_generate_names_what_it_wanted():
    host = np.random.default_rng(3)
    model = conditional.ConditionalGAN(host.uniform(-1, 1, (12, 6)), host.integers(0, 10, 12), m=4, noise_dim=3,
                                       g_hidden=(8,), d_hidden=(8,))
    with pytest.raises(ValueError, match=r"^labels: got \[10\]\.\.\., wanted a list of classes 0 to 9$"):
        model.generate([10])
    with pytest.raises(ValueError, match=r"^labels: got \[\[0, 2\]\]\.\.\., wanted rows of 2 classes below \(3, 2\)$"):
        two_factor_model().generate([[0, 2]])


def test_a_grid_has_10_columns_by_default():
    rows = conditional.requested_rows(COUNTS, 0)
    assert rows.shape == (3 * 10, 2) and rows[:10, 1].tolist() == [c % 2 for c in range(10)]


class Judge:
    """Keeps the images it was shown and calls every one class 0 of every factor."""

    def probabilities(self, images):
        self.images = images
        return {name: np.eye(k)[np.zeros(len(images), dtype=int)] for name, k in zip(("a", "b"), COUNTS)}


def test_factor_agreement_judges_1000_images_from_seed_0_by_default_and_its_seed_when_given():
    model, judge = two_factor_model(), Judge()
    found = conditional.factor_agreement(model, judge)
    asked = conditional.requested_combinations(1000, COUNTS)
    np.testing.assert_array_equal(judge.images, model.generate(asked, seed=0))
    assert found == {"a": float(np.mean(asked[:, 0] == 0)), "b": float(np.mean(asked[:, 1] == 0))}
    conditional.factor_agreement(model, judge, n=12, seed=1)
    np.testing.assert_array_equal(judge.images, model.generate(conditional.requested_combinations(12, COUNTS), seed=1))


def test_faces_gan_is_the_faces_recipe_on_the_faces_factors(monkeypatch):
    """data.faces(20000, 32) by default (24 faces here), labels its (colour, eyes, mouth)
    columns, 5 + 4 + 5 classes, the DCGAN of FACES_RECIPE at the seed and backend asked for."""
    real, asked = conditional.data.faces, []
    monkeypatch.setattr(conditional.data, "faces", lambda n, size: asked.append((n, size)) or real(n=24, size=size))
    small = {"g_hidden": (4, 2, 2), "d_hidden": (2, 2, 4)}                      # 4 -> 8 -> 16 -> 32 pixels
    model = conditional.faces_gan(**small)
    assert asked == [(20000, 32)]
    faces = real(n=24, size=32)
    labels = np.stack([faces.factors[f] for f in ("colour", "eyes", "mouth")], axis=1)
    np.testing.assert_array_equal(model.images, faces.images.astype(np.float32))
    np.testing.assert_array_equal(model.labels, labels)
    assert model.counts == model.classes == (5, 4, 5) and model.arch == "dcgan" and model.backend.name == "numpy"
    assert model.settings == {**conditional.RECIPE, **conditional.FACES_RECIPE, **small}
    same = conditional.ConditionalGAN(faces.images, labels, seed=0, classes=(5, 4, 5), image_shape=(3, 32, 32),
                                      **{**conditional.FACES_RECIPE, **small})
    assert same_parameters(model.G.parameters(), same.G.parameters())          # seed 0 by default
    other = conditional.faces_gan(seed=2, backend="strict", size=16, n=50, g_hidden=(4, 2), d_hidden=(2, 4))
    assert asked[-1] == (50, 16) and other.backend.name == "strict" and other.images.shape == (24, 3 * 16 * 16)
    again = conditional.ConditionalGAN(real(n=24, size=16).images, other.labels, seed=2, backend="strict",
                                       classes=(5, 4, 5), image_shape=(3, 16, 16),
                                       **{**conditional.FACES_RECIPE, "g_hidden": (4, 2), "d_hidden": (2, 4)})
    assert same_parameters(other.G.parameters(), again.G.parameters())
