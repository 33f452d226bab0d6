"""minigan.nn.dcgan and the faces recipe: DCGAN's networks inside Algorithm 1."""
import numpy as np
import pytest

import minigan
from minigan import gan, nn
from minigan.autograd import Tensor
from minigan.gan import checkpoint


def tiny(side=8, widths=(4,), backend="numpy", dtype=None):
    be = minigan.get_backend(backend)
    rng = be.random(0)
    G = nn.dcgan_generator(3, widths, (3, side, side), rng=rng, backend=be)
    D = nn.dcgan_discriminator(widths[::-1], (3, side, side), rng=rng, backend=be)
    return be, G, D


@pytest.mark.parametrize("backend", ["numpy", "strict"])
def test_shapes_rows_in_rows_out(backend):
    be, G, D = tiny(16, (8, 4), backend)
    z = Tensor(be.random(1).normal((5, 3), dtype=be.default_float), be)
    images = G(z)
    assert tuple(images.shape) == (5, 3 * 16 * 16)
    assert float(images.numpy().min()) >= -1.0 and float(images.numpy().max()) <= 1.0     # tanh
    assert tuple(D(images).shape) == (5, 1)


def test_the_papers_rules_are_in_the_layers():
    _, G, D = tiny(32, (16, 8, 4))
    kinds = lambda net: [type(layer).__name__ for layer in net.layers]                 # noqa: E731
    assert kinds(G).count("BatchNorm2d") == 3 and kinds(G).count("ConvTranspose2d") == 3 and kinds(G)[-2:] == ["Tanh", "Flatten"]
    assert "BatchNorm2d" not in kinds(D) and kinds(D).count("Conv2d") == 3            # no BN in D: penalties stay valid
    assert all(layer.slope == 0.2 for layer in D.layers if type(layer).__name__ == "LeakyReLU")
    weights = np.concatenate([p.numpy().ravel() for name, p in D.named_parameters() if name.endswith("weight")])
    assert abs(weights.std() - 0.02) < 0.002                                            # N(0, 0.02)


def test_widths_must_match_the_image_size():
    with pytest.raises(ValueError, match=r"widths: got 2 widths \(8, 4\), wanted 3 \(one per doubling from 4 to 32 pixels\)"):
        nn.dcgan_generator(3, (8, 4), (3, 32, 32))
    with pytest.raises(ValueError, match=r"image_shape: got \(3, 24, 24\)"):
        nn.dcgan_discriminator((8,), (3, 24, 24))


def test_gradients_through_a_whole_dcgan_match_finite_differences():
    """z -> G (with batch normalisation) -> D -> sum, in float64: every layer's VJP chained."""
    be = minigan.get_backend("numpy")
    rng = be.random(3)
    G = nn.dcgan_generator(2, (2,), (1, 8, 8), rng=rng, backend=be)
    D = nn.dcgan_discriminator((2,), (1, 8, 8), rng=rng, backend=be)
    for module in (G, D):                     # the networks are float32; a gradient check wants float64
        for _, array in module.named_parameters() + module.named_buffers():
            array.data = array.data.astype(np.float64)
    z = minigan.tensor(rng.normal((4, 2)).astype(np.float64), requires_grad=True, backend=be)
    assert minigan.gradcheck(lambda z: (D(G(z)) ** 2).sum(), [z])


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory):
    return str(tmp_path_factory.mktemp("cache"))        # the 20,000 faces are drawn once for this file


@pytest.fixture
def cache(shared_cache, monkeypatch):
    monkeypatch.setenv("MINIGAN_CACHE", shared_cache)


def small_faces(**changes):
    return gan.recipe("faces", **{"g_hidden": (8, 4, 4), "d_hidden": (4, 4, 8), "noise_dim": 4, "m": 8, "steps": 3,
                                  **changes})


def test_the_faces_recipe_is_a_dcgan_and_the_mlp_has_its_own_widths():
    config = gan.recipe("faces")
    assert config.arch == "dcgan" and config.g_output == "tanh" and config.betas == (0.0, 0.99) and config.lr == 1e-3
    assert config.minibatch_std and config.penalty == "r1"
    mlp = gan.recipe("faces", arch="mlp")
    assert mlp.arch == "mlp" and mlp.g_hidden == (256, 512)
    assert gan.recipe("faces", arch="mlp", g_hidden=(64,)).g_hidden == (64,)          # explicit changes win
    with pytest.raises(ValueError, match="arch: got 'dcgan' for dataset 'ring', wanted 'mlp'"):
        gan.recipe("ring", arch="dcgan")
    with pytest.raises(ValueError, match="arch: got 'cnn', wanted one of mlp, dcgan"):
        gan.recipe("faces", arch="cnn")


def test_arch_at_its_default_keeps_old_run_ids():
    assert gan.run_id(gan.recipe("ring")) == gan.run_id(gan.recipe("ring", arch="mlp"))
    assert gan.run_id(small_faces()) != gan.run_id(small_faces(arch="mlp"))


@pytest.mark.parametrize("backend", ["numpy", "strict"])
def test_a_short_dcgan_run_trains_and_checkpoints_its_running_statistics(backend, cache, tmp_path):
    model = gan.build(small_faces(backend=backend))
    model.train(3)
    means = {n: b.numpy().copy() for n, b in model.G.named_buffers() if n.endswith("running_mean")}
    assert means and any(np.abs(m).max() > 0 for m in means.values())                  # BN saw batches
    samples = model.generate(6)
    assert samples.shape == (6, 3072) and np.isfinite(samples).all()
    after = {n: b.numpy() for n, b in model.G.named_buffers() if n.endswith("running_mean")}
    assert all(np.array_equal(means[n], after[n]) for n in means)                      # looking changed nothing
    path = checkpoint.save(str(tmp_path / "faces.npz"), model)
    again = gan.resume(path, backend=backend)
    assert all(np.array_equal(b.numpy(), dict(model.G.named_buffers())[n].numpy()) for n, b in again.G.named_buffers())
    assert np.array_equal(again.generate(6), samples)


def test_the_mlp_on_faces_builds_from_the_same_data(cache):
    model = gan.build(small_faces(arch="mlp", g_hidden=(16,), d_hidden=(16,)))
    assert type(model.G).__name__ == "MLP" and model.G.sizes == [4, 16, 3072]
    model.train(2)
