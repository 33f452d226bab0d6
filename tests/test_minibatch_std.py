"""minigan.nn.minibatch_std: the batch's std as an extra channel (ProGAN), its gradients, and D with it."""
import numpy as np
import pytest

import minigan
from minigan import Tensor, gradcheck, gradgradcheck, nn
from minigan.nn.minibatch_std import EPS, MinibatchStd


def images(shape, seed=0, backend="numpy"):
    be = minigan.get_backend(backend)
    return Tensor(be.asarray(np.random.default_rng(seed).normal(size=shape)), be, requires_grad=True)


@pytest.mark.parametrize("backend", ["numpy", "strict"])
def test_the_extra_channel_is_the_mean_std_over_the_batch(backend):
    x = images((5, 3, 4, 4), backend=backend)
    y = MinibatchStd()(x).numpy()
    host = x.numpy()
    assert y.shape == (5, 4, 4, 4)
    np.testing.assert_array_equal(y[:, :3], host)                                  # the images pass unchanged
    wanted = np.sqrt(host.var(axis=0) + EPS).mean()                                # biased variance (1/N), ProGAN's
    np.testing.assert_allclose(y[:, 3], np.full((5, 4, 4), wanted), rtol=1e-12)


def test_a_collapsed_batch_is_told_from_a_varied_one():
    """The point of the layer: N copies of one image give sqrt(eps), distinct images much more."""
    one = np.random.default_rng(1).normal(size=(1, 2, 4, 4))
    same = MinibatchStd()(minigan.tensor(np.repeat(one, 8, axis=0))).numpy()[0, 2, 0, 0]
    varied = MinibatchStd()(minigan.tensor(np.random.default_rng(2).normal(size=(8, 2, 4, 4)))).numpy()[0, 2, 0, 0]
    assert same == pytest.approx(np.sqrt(EPS), rel=1e-6) and varied > 0.5


def test_gradients_match_finite_differences():
    """Through the std channel every image's gradient depends on the others (the d s / d x_n term)."""
    weights = minigan.tensor(np.random.default_rng(3).normal(size=(4, 3, 2, 2)))
    assert gradcheck(lambda x: MinibatchStd()(x) * weights, [images((4, 2, 2, 2))])
    assert gradgradcheck(lambda x: MinibatchStd()(x) * weights, [images((4, 2, 2, 2), seed=4)])   # R1 needs it


def test_the_std_term_of_the_gradient_is_there():
    """Only the extra channel read: grad_x = (x - mu) / (N sigma C H W) exactly (docstring)."""
    x = images((4, 2, 2, 2), seed=5)
    MinibatchStd()(x)[:, 2:].sum().backward()
    host = x.numpy()
    n, c, h, w = host.shape
    sigma = np.sqrt(host.var(axis=0) + EPS)
    wanted = n * h * w * (host - host.mean(axis=0)) / (n * sigma * c * h * w)     # g_s = N H W (all ones)
    np.testing.assert_allclose(np.asarray(x.grad), wanted, rtol=1e-10)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match=r"MinibatchStd: x: got \(3, 4\), wanted images \(N, C, H, W\)"):
        MinibatchStd()(minigan.tensor(np.zeros((3, 4))))
    with pytest.raises(ValueError, match="eps: got 0, wanted a positive number"):
        MinibatchStd(eps=0)


def test_a_dcgan_discriminator_with_it():
    be = minigan.get_backend("numpy")
    D = nn.dcgan_discriminator((4, 8), (3, 16, 16), minibatch_std=True, rng=be.random(0), backend=be)
    kinds = [type(layer).__name__ for layer in D.layers]
    assert kinds[-3:] == ["MinibatchStd", "Flatten", "Linear"] and D.layers[-1].n_in == (8 + 1) * 16
    plain = nn.dcgan_discriminator((4, 8), (3, 16, 16), rng=be.random(0), backend=be)
    assert "MinibatchStd" not in [type(layer).__name__ for layer in plain.layers]
    x = Tensor(be.random(1).normal((6, 3 * 16 * 16), dtype=be.default_float), be)
    assert tuple(D(x).shape) == (6, 1)


class SmallImages:
    """Stands in for the faces (drawing 20,000 of them takes a while): 1 x 8 x 8 images."""

    dim, image_shape = 64, (1, 8, 8)

    def sample(self, m, rng):
        return rng.uniform((m, 64), -1.0, 1.0)


def test_the_config_field_builds_it_and_is_checked(monkeypatch):
    from minigan import gan
    from minigan.gan import builder
    monkeypatch.setattr(builder, "make_dataset", lambda config: SmallImages())
    assert gan.run_id(gan.recipe("ring")) == gan.run_id(gan.recipe("ring", minibatch_std=False))   # old run ids kept
    with pytest.raises(ValueError, match="minibatch_std: got True for arch 'mlp', wanted False"):
        gan.recipe("ring", minibatch_std=True)
    with pytest.raises(ValueError, match="minibatch_std: got 1, wanted True or False"):
        gan.recipe("faces", minibatch_std=1)
    config = gan.recipe("faces", g_hidden=(4,), d_hidden=(4,), noise_dim=3, m=4, steps=2, threads=None)
    model = gan.build(config)
    assert [type(layer).__name__ for layer in model.D.layers][-3] == "MinibatchStd"
    model.train(2)                                                                # with R1 through the layer
    assert "MinibatchStd" not in [type(layer).__name__ for layer in gan.build(config.replace(minibatch_std=False)).D.layers]
