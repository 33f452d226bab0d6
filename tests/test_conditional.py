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


# ---- a step, replayed by hand (issue 26: a D shown fakes with the real batch's labels trained) -----
import minigan  # noqa: E402
from minigan import losses, optim  # noqa: E402
from minigan.autograd import Tensor  # noqa: E402

F32 = minigan.get_backend("numpy")
N, DIM, M = 30, 6, 8


def small_model(seed=0, **changes):
    host = np.random.default_rng(50 + seed)
    images, labels = host.uniform(-1, 1, (N, DIM)), host.integers(0, 10, N)
    settings = {"m": M, "noise_dim": 3, "g_hidden": (16,), "d_hidden": (16,), **changes}
    return conditional.ConditionalGAN(images, labels, seed=seed, **settings), images, labels


def t32(array):
    return Tensor(F32.asarray(np.asarray(array), dtype=F32.default_float), F32)


def test_a_step_pairs_each_fake_with_the_class_g_was_asked_for(monkeypatch):
    """D's loss: real pairs (x, y) from the data, fake pairs (G(z, y'), y') for classes y' drawn
    uniformly, the same y' G was given (pairing fakes with the real batch's labels instead
    trains, and teaches D nothing about the class asked for). Then G's loss on fresh z and y'."""
    model, images, labels = small_model()
    replay = F32.random(0)
    replay.set_state(model.rng.state())
    rows = replay.integers(0, N, (M,))
    z_d, y_d = model.p_z.sample(M, replay), replay.integers(0, 10, (M,))
    z_g, y_g = model.p_z.sample(M, replay), replay.integers(0, 10, (M,))
    eye = np.eye(10)
    seen, real_update = [], conditional.update

    def spy(optimizer, loss):
        G, D = model.G, model.D
        if optimizer is model.opt_D:
            fake = G(t32(np.concatenate([z_d, eye[y_d]], axis=1)))
            expected = losses.discriminator_loss(D(t32(np.concatenate([images[rows], eye[labels[rows]]], axis=1))),
                                                 D(ops_concat(fake, eye[y_d])))
        else:
            fake = G(t32(np.concatenate([z_g, eye[y_g]], axis=1)))
            expected = losses.generator_loss(D(ops_concat(fake, eye[y_g])), form="non_saturating")
        seen.append((optimizer, loss.item(), expected.item()))
        real_update(optimizer, loss)

    monkeypatch.setattr(conditional, "update", spy)
    record = model.train_step()
    assert [opt for opt, _, _ in seen] == [model.opt_D, model.opt_G]
    for _, got, expected in seen:
        assert got == pytest.approx(expected, rel=1e-5)
    assert record["d_loss"].item() == seen[0][1] and record["g_loss"].item() == seen[1][1]
    assert model.rng.state() == replay.state() and model.step == 1
    assert model.train(2) is model and model.step == 3


def ops_concat(x, onehot):
    return minigan.ops.concat([x, t32(onehot)], axis=1)


def test_the_networks_see_the_class_and_the_recipe_builds_them():
    model, _, _ = small_model(lr=3e-3)
    assert model.settings == {**conditional.RECIPE, "m": M, "noise_dim": 3, "g_hidden": (16,), "d_hidden": (16,),
                              "lr": 3e-3}
    shapes = [p.shape for p in model.G.parameters()]
    assert shapes[0] in ((3 + 10, 16), (16, 3 + 10)) and shapes[-1] == (DIM,)         # [z, onehot(y)] -> x
    assert [p.shape for p in model.D.parameters()][0] in ((DIM + 10, 16), (16, DIM + 10))   # [x, onehot(y)]
    assert model.D(t32(np.zeros((2, DIM + 10)))).shape == (2, 1)
    for opt in (model.opt_G, model.opt_D):
        assert isinstance(opt, optim.Adam) and opt.lr == 3e-3 and tuple(opt.betas) == (0.5, 0.999)
    np.testing.assert_array_equal(model.one_hot(F32.asarray(np.array([2, 0]))).numpy(), np.eye(10)[[2, 0]])
    assert model.m == M and model.classes == 10 and model.images.dtype == np.float32


def test_generate_is_g_of_noise_from_its_own_seed_and_leaves_training_alone():
    model, _, _ = small_model()
    state = model.rng.state()
    got = model.generate([4, 0, 9], seed=6)
    z = model.p_z.sample(3, F32.random(6))
    with minigan.no_grad():
        expected = model.G(t32(np.concatenate([z, np.eye(10)[[4, 0, 9]]], axis=1))).numpy()
    np.testing.assert_array_equal(got, expected)
    assert model.rng.state() == state and isinstance(got, np.ndarray)
    for bad in ([-1], [], [[1, 2]], [10]):
        with pytest.raises(ValueError, match="labels: got"):
            model.generate(bad)
    assert model.generate([0, 9]).shape == (2, DIM)


class Echo:
    """A judge that answers the class asked for, except for class 3 (says 4)."""

    def predict(self, images):
        asked = conditional.requested_classes(len(images))
        return np.where(asked == 3, 4, asked)


def test_class_agreement_is_the_share_of_rows_judged_as_asked():
    model, _, _ = small_model()
    assert conditional.class_agreement(model, Echo(), n=200) == pytest.approx(0.9)
    assert conditional.requested_classes(25).tolist() == [c for c in range(10) for _ in range(2)]
    assert conditional.requested_classes(6, classes=3).tolist() == [0, 0, 1, 1, 2, 2]


def test_the_recipe_is_the_measured_one():
    """Pinned: class_agreement 0.951 to 0.983 on seeds 0..4 with these settings (the comment
    above RECIPE; docs/tutorials.md); lr 5e-4 needed 3,000 steps. A change is a new measurement."""
    assert conditional.RECIPE == {"steps": 2000, "m": 64, "lr": 1e-3, "noise_dim": 16, "g_hidden": (256, 256),
                                  "d_hidden": (256, 256)}
    assert conditional.CLASSES == 10


def test_g_then_d_are_mlps_drawn_from_the_seeds_generator():
    """G: [z, onehot] -> ReLU layers -> tanh; D: [x, onehot] -> LeakyReLU layers -> one logit;
    G's weights drawn first, then D's, from backend.random(seed) (seed 0 by default)."""
    model, _, _ = small_model()
    rng = F32.random(0)
    G = minigan.nn.MLP([3 + 10, 16, DIM], "relu", "tanh", rng=rng)
    D = minigan.nn.MLP([DIM + 10, 16, 1], "leaky_relu", rng=rng)
    x = t32(np.random.default_rng(3).normal(size=(5, 13)) * 3)
    np.testing.assert_array_equal(model.G(x).numpy(), G(x).numpy())
    xd = t32(np.random.default_rng(4).normal(size=(5, DIM + 10)) * 3)
    np.testing.assert_array_equal(model.D(xd).numpy(), D(xd).numpy())
    assert model.rng.state() == rng.state()
    again = conditional.ConditionalGAN(np.zeros((3, DIM)), [0, 1, 2], m=2, noise_dim=3, g_hidden=(16,), d_hidden=(16,))
    first = [p.numpy() for p in again.G.parameters()]
    seeded = conditional.ConditionalGAN(np.zeros((3, DIM)), [0, 1, 2], seed=0, m=2, noise_dim=3, g_hidden=(16,),
                                        d_hidden=(16,))
    for a, b in zip(first, [p.numpy() for p in seeded.G.parameters()]):
        np.testing.assert_array_equal(a, b)                        # the default seed is 0


def test_the_backend_asked_for_holds_everything():
    model = conditional.ConditionalGAN(np.zeros((4, DIM)), np.array([0.0, 1.0, 2.0, 3.0]), backend="strict", m=2,
                                       noise_dim=3, g_hidden=(8,), d_hidden=(8,))
    assert model.backend.name == "strict" and model.G.backend is model.backend and model.D.backend is model.backend
    model.train_step()                                             # float labels (read from a file) are classes
    assert model.generate([1.0, 2.0]).shape == (2, DIM)


def test_generate_defaults_to_seed_0_and_takes_one_label():
    model, _, _ = small_model()
    np.testing.assert_array_equal(model.generate([1, 2]), model.generate([1, 2], seed=0))
    assert model.generate([3]).shape == (1, DIM)


class Recording:
    """A judge that keeps the images it was shown and calls them all class 0."""

    def predict(self, images):
        self.images = images
        return np.zeros(len(images), dtype=np.int64)


def test_class_agreement_judges_n_rows_generated_from_its_seed():
    model, _, _ = small_model()
    judge = Recording()
    conditional.class_agreement(model, judge, n=50, seed=3)
    np.testing.assert_array_equal(judge.images, model.generate(conditional.requested_classes(50), seed=3))
    conditional.class_agreement(model, judge)
    np.testing.assert_array_equal(judge.images, model.generate(conditional.requested_classes(1000), seed=0))


# ---- several factors and a DCGAN (the faces, issue 29) ----------------------------------------------
SHAPE, COUNTS = (3, 8, 8), (3, 2, 4)             # tiny faces-like data: 8x8 RGB, three factors


def factored_model(seed=0, backend=None, **changes):
    host = np.random.default_rng(60 + seed)
    images = host.uniform(-1, 1, (N, 3 * 8 * 8))
    labels = np.stack([host.integers(0, k, N) for k in COUNTS], axis=1)        # (N, 3)
    settings = {"arch": "dcgan", "m": M, "noise_dim": 3, "g_hidden": (4,), "d_hidden": (4,), **changes}
    model = conditional.ConditionalGAN(images, labels, seed=seed, backend=backend, classes=COUNTS,
                                       image_shape=SHAPE, **settings)
    return model, images, labels


def test_projection_d_is_w_phi_plus_the_classes_embedding_dotted_with_phi():
    """D(x, y) = w . phi(x) + b + (onehot(y) V) . phi(x): the class meets the image. Joined
    before the last Linear instead, a class would shift every image's logit by one constant."""
    model, images, labels = factored_model()
    D = model.D
    x, y = t32(images[:4]), model.one_hot(F32.asarray(labels[:4]))
    phi = D.features(x).numpy()                                                  # (4, F)
    w, b, V = D.head.weight.numpy(), D.head.bias.numpy(), D.embed.numpy()
    expected = phi @ w + b + np.sum((y.numpy() @ V) * phi, axis=1, keepdims=True)
    np.testing.assert_allclose(model.discriminator(x, y).numpy(), expected, rtol=1e-5, atol=1e-6)
    assert V.shape == (sum(COUNTS), phi.shape[1])
    names = [name for name, _ in D.named_parameters()]
    assert names[-1] == "embed" and "head.weight" in names
    other = model.one_hot(F32.asarray(np.array([[1, 1, 3]] * 4)))                # every image asked as one class
    shift = (model.discriminator(x, other) - model.discriminator(x, y)).numpy().ravel()
    assert np.ptp(shift) > 1e-4 * np.abs(shift).max()                            # a different shift per image


def test_gradients_through_the_projection_discriminator_match_finite_differences():
    be = minigan.get_backend("numpy")
    D = conditional.ProjectionDiscriminator((2,), (1, 8, 8), 3, rng=be.random(1), backend=be)
    for _, p in D.named_parameters():
        p.data = p.data.astype(np.float64)
    host = np.random.default_rng(2)
    x = minigan.tensor(host.normal(size=(3, 64)), requires_grad=True, backend=be)
    y = minigan.tensor(np.eye(3)[[0, 2, 1]], backend=be)
    assert minigan.gradcheck(lambda x: (D(x, y) ** 2).sum(), [x])
    V = D.embed
    V.requires_grad = True
    assert minigan.gradcheck(lambda v: (D(x.detach(), y) ** 2).sum(), [V])


def test_several_factors_one_hot_side_by_side_and_drawn_in_turn():
    model, images, labels = factored_model()
    got = model.one_hot(F32.asarray(np.array([[2, 0, 3], [0, 1, 0]]))).numpy()
    np.testing.assert_array_equal(got, [[0, 0, 1, 1, 0, 0, 0, 0, 1], [1, 0, 0, 0, 1, 1, 0, 0, 0]])
    replay = F32.random(0)
    replay.set_state(model.rng.state())
    drawn = np.stack([replay.integers(0, k, (M,)) for k in COUNTS], axis=1)     # colour, eyes, mouth in turn
    np.testing.assert_array_equal(model.fake_classes(M).numpy(), model.one_hot(F32.asarray(drawn)).numpy())
    assert model.counts == COUNTS and model.classes == COUNTS
    first = [p.shape for p in model.G.parameters()][0]
    assert first in ((3 + 9, 4 * 16), (4 * 16, 3 + 9))                         # [z, onehot(y)] into G's Linear
    for bad in ([1, 2], [[3, 0, 0]], [[0, 2, 0]], [[0, 0, -1]], [[0, 0]], []):
        with pytest.raises(ValueError, match="labels: got"):
            model.generate(bad)
    with pytest.raises(ValueError, match=r"labels: got shape \(30,\), wanted \(n,\) classes or \(n, 3\) rows"):
        conditional.ConditionalGAN(images, labels[:, 0], classes=COUNTS, image_shape=SHAPE, arch="dcgan")
    with pytest.raises(ValueError, match="arch: got 'dcgan'"):
        conditional.ConditionalGAN(images, labels, classes=COUNTS, arch="dcgan")


@pytest.mark.parametrize("backend", ["numpy", "strict"])
def test_a_conditional_dcgan_trains_and_generates_in_eval_mode(backend):
    model, _, labels = factored_model(backend=backend)
    before = [p.numpy().copy() for p in model.D.parameters()]
    model.train(2)
    assert model.step == 2 and all(np.any(a != p.numpy()) for a, p in zip(before, model.D.parameters()))
    assert model.G.training
    out = model.generate(labels[:5], seed=1)
    assert out.shape == (5, 3 * 8 * 8) and np.abs(out).max() <= 1.0 and model.G.training
    np.testing.assert_array_equal(out[:1], model.generate(labels[:1], seed=1)[:1])   # eval: no batch statistics


def test_grid_rows_and_every_combination_asked_in_turn():
    rows = conditional.requested_rows((3, 2, 4), row_factor=2, columns=3)
    assert rows.tolist() == [[0, 0, r] if c == 0 else [1, 1, r] if c == 1 else [2, 0, r]
                             for r in range(4) for c in range(3)]
    every = conditional.requested_combinations(30, (3, 2, 4))
    assert len({tuple(r) for r in every[:24]}) == 24 and every[24:].tolist() == every[:6].tolist()
    assert every[:3].tolist() == [[0, 0, 0], [0, 0, 1], [0, 0, 2]]


class FactorJudge:
    """Answers every factor right except the last, which it always calls class 0."""

    def probabilities(self, images):
        asked = conditional.requested_combinations(len(images), COUNTS)
        return {name: np.eye(k)[asked[:, f] if f < 2 else np.zeros(len(images), int)]
                for f, (name, k) in enumerate(zip(("colour", "eyes", "mouth"), COUNTS))}


def test_factor_agreement_is_per_factor_on_every_combination():
    model, _, _ = factored_model()
    assert conditional.factor_agreement(model, FactorJudge(), n=48) == {"colour": 1.0, "eyes": 1.0, "mouth": 0.25}


def test_class_agreement_asks_for_the_models_own_classes():
    host = np.random.default_rng(7)
    model = conditional.ConditionalGAN(host.uniform(-1, 1, (12, DIM)), host.integers(0, 3, 12), classes=3, m=4,
                                       noise_dim=3, g_hidden=(8,), d_hidden=(8,))
    judge = Recording()
    assert conditional.class_agreement(model, judge, n=30) == pytest.approx(1 / 3)   # 10 rows of each of 0, 1, 2
    assert len(judge.images) == 30


def test_class_agreement_judges_1000_rows_by_default():
    host = np.random.default_rng(8)
    model = conditional.ConditionalGAN(host.uniform(-1, 1, (14, DIM)), host.integers(0, 7, 14), classes=7, m=4,
                                       noise_dim=3, g_hidden=(8,), d_hidden=(8,))
    judge = Recording()
    conditional.class_agreement(model, judge)
    assert len(judge.images) == 7 * (1000 // 7)                   # 142 of each class (1001 would give 143)
