"""Batch normalisation: the op's closed-form backward, the layers in both modes, their buffers.

- ops.batch_norm against NumPy, its gradient and second derivative against finite
  differences (features and images), on every backend;
- BatchNorm1d/2d: training mode uses the batch statistics and moves the running ones
  (PyTorch's update, unbiased variance); eval mode uses the running ones, so an example's
  output no longer depends on the rest of its batch; train()/eval() switch;
- the running statistics are Buffers: in state_dict, moved by to(), out of parameters(),
  and through a checkpoint round trip of a GAN whose generator holds a BatchNorm;
- the penalties refuse a discriminator with batch normalisation in training mode.
"""
import re

import numpy as np
import numpy.testing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import BACKENDS

import minigan
from minigan import data, gan, losses, nn, ops, optim
from minigan.gan import checkpoint


def standardized(x, axes, eps):
    mean = x.mean(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)


@st.composite
def batches(draw):
    """Features (m, n) with axis (0,) or images (N, C, H, W) with axes (0, 2, 3), at least 2 values per channel."""
    images = draw(st.booleans())
    shape = draw(hnp.array_shapes(min_dims=4, max_dims=4, max_side=3) if images
                 else hnp.array_shapes(min_dims=2, max_dims=2, max_side=5))
    axes = (0, 2, 3) if images else (0,)
    if np.prod([shape[a] for a in axes]) < 2:
        shape = (2,) + shape[1:]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scale = draw(st.sampled_from([0.1, 1.0, 5.0]))
    return rng.normal(size=shape) * scale + draw(st.floats(-3, 3)), axes


@pytest.mark.parametrize("backend", BACKENDS)
@given(batch=batches())
def test_batch_norm_op_forward_and_gradients(backend, batch):
    host, axes = batch
    x = minigan.tensor(host, requires_grad=True, backend=backend, dtype="float64")
    npt.assert_allclose(ops.batch_norm(x, axes).numpy(), standardized(host, axes, 1e-5), rtol=1e-10, atol=1e-10)
    minigan.gradcheck(lambda t: ops.batch_norm(t, axes), [x])
    minigan.gradgradcheck(lambda t: ops.batch_norm(t, axes), [x], directions=3)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_gradient_ignores_shifts_and_scalings_of_a_channel(backend):
    """x_hat does not change when a channel is shifted or scaled, so grad_x sums to 0 and is
    orthogonal to x_hat, channel by channel: the two terms the closed form subtracts. (Scaling
    is exact only as eps -> 0, so eps is tiny here.)"""
    rng = np.random.default_rng(0)
    x = minigan.tensor(rng.normal(size=(6, 3, 2, 2)), requires_grad=True, backend=backend, dtype="float64")
    y = ops.batch_norm(x, (0, 2, 3), eps=1e-12)
    y.backward(rng.normal(size=y.shape))
    grad = x.backend.to_host(x.grad)
    npt.assert_allclose(grad.sum(axis=(0, 2, 3)), 0.0, atol=1e-12)
    npt.assert_allclose((grad * y.numpy()).sum(axis=(0, 2, 3)), 0.0, atol=1e-9)


def layer(kind, backend, n=3):
    bn = (nn.BatchNorm2d if kind == "2d" else nn.BatchNorm1d)(n, backend=backend, dtype="float64")
    be = minigan.get_backend(backend)
    rng = np.random.default_rng(1)
    bn.weight.data = be.asarray(rng.normal(size=n))
    bn.bias.data = be.asarray(rng.normal(size=n))
    return bn


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", ["1d", "2d"])
def test_training_mode_uses_the_batch_and_moves_the_running_statistics(backend, kind):
    bn = layer(kind, backend)
    shape, axes = ((4, 3, 2, 5), (0, 2, 3)) if kind == "2d" else ((7, 3), (0,))
    host = np.random.default_rng(2).normal(size=shape) * 3 + 2
    x = minigan.tensor(host, requires_grad=True, backend=backend, dtype="float64")
    gamma, beta = bn.weight.numpy(), bn.bias.numpy()
    per_channel = (1, 3) + (1,) * (len(shape) - 2)
    y = bn(x)
    npt.assert_allclose(y.numpy(), standardized(host, axes, 1e-5) * gamma.reshape(per_channel)
                        + beta.reshape(per_channel), rtol=1e-10, atol=1e-10)
    n = host.size // 3
    npt.assert_allclose(bn.running_mean.numpy(), 0.1 * host.mean(axis=axes), rtol=1e-12)
    npt.assert_allclose(bn.running_var.numpy(), 0.9 + 0.1 * host.var(axis=axes) * n / (n - 1), rtol=1e-12)
    params = [x, bn.weight, bn.bias]
    minigan.gradcheck(lambda a, g, b: with_affine(bn, g, b, lambda: bn(a)), params)


def with_affine(bn, gamma, beta, fn):
    """fn() with bn's gamma and beta replaced by gradcheck's own copies (then put back)."""
    old = bn.weight, bn.bias
    bn.weight, bn.bias = gamma, beta
    try:
        return fn()
    finally:
        bn.weight, bn.bias = old


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", ["1d", "2d"])
def test_eval_mode_uses_the_running_statistics(backend, kind):
    bn = layer(kind, backend)
    shape = (4, 3, 2, 2) if kind == "2d" else (5, 3)
    rng = np.random.default_rng(3)
    for _ in range(3):   # move the running statistics away from (0, 1)
        bn(minigan.tensor(rng.normal(size=shape) * 2 + 1, backend=backend, dtype="float64"))
    mean, var = bn.running_mean.numpy(), bn.running_var.numpy()
    host = rng.normal(size=shape)
    x = minigan.tensor(host, requires_grad=True, backend=backend, dtype="float64")
    assert bn.eval() is bn and not bn.training
    per_channel = (1, 3) + (1,) * (len(shape) - 2)
    expected = ((host - mean.reshape(per_channel)) / np.sqrt(var.reshape(per_channel) + 1e-5)
                * bn.weight.numpy().reshape(per_channel) + bn.bias.numpy().reshape(per_channel))
    npt.assert_allclose(bn(x).numpy(), expected, rtol=1e-10, atol=1e-12)
    npt.assert_array_equal(bn.running_mean.numpy(), mean)            # eval does not move them
    one = minigan.tensor(host[:1], backend=backend, dtype="float64")
    npt.assert_allclose(bn(one).numpy(), expected[:1], rtol=1e-10, atol=1e-12)   # alone = in its batch
    minigan.gradcheck(lambda a, g, b: with_affine(bn, g, b, lambda: bn(a)), [x, bn.weight, bn.bias])
    bn.train()
    assert bn.training and not np.allclose(bn(x).numpy(), expected)


def test_buffers_are_saved_moved_and_not_learned():
    net = nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4), nn.ReLU())
    assert [name for name, _ in net.named_parameters()] == [
        "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"]
    assert [name for name, _ in net.named_buffers()] == ["layers.1.running_mean", "layers.1.running_var"]
    assert list(net.state_dict()) == ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias",
                                      "layers.1.running_mean", "layers.1.running_var"]   # PyTorch's order
    net(minigan.tensor(np.random.default_rng(4).normal(size=(8, 2)), dtype="float32"))
    saved = net.state_dict()
    other = nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4), nn.ReLU())
    other.load_state_dict(saved)
    npt.assert_array_equal(other.layers[1].running_var.numpy(), saved["layers.1.running_var"])
    with pytest.raises(ValueError, match="missing parameters"):
        other.load_state_dict({k: v for k, v in saved.items() if "running" not in k})
    net.to("strict")
    assert net.layers[1].running_mean.backend.name == "strict"
    npt.assert_array_equal(net.layers[1].running_mean.numpy(), saved["layers.1.running_mean"])
    assert not net.layers[1].running_mean.requires_grad


def test_running_statistics_survive_a_checkpoint(tmp_path):
    """A GAN whose G holds a BatchNorm: after training, save, load into a fresh GAN: the running
    statistics (and so G in eval mode) are exactly the same."""
    def make():
        be = minigan.get_backend("numpy")
        rng = be.random(0)
        G = nn.Sequential(nn.Linear(2, 8, rng=rng), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2, rng=rng))
        D = nn.MLP([2, 8, 1], "leaky_relu", rng=rng)
        return gan.GAN(G, D, data.ring(), data.normal_noise(2), optim.Adam(G.parameters(), lr=1e-3),
                       optim.Adam(D.parameters(), lr=1e-3), m=16, rng=rng)

    trained = make().train(5)
    trained.run_id = "batchnorm-test"   # a GAN built by hand has no run id of its own
    bn = trained.G.layers[1]
    assert not np.allclose(bn.running_var.numpy(), 1.0)
    path = checkpoint.save(tmp_path / "bn.npz", trained)
    fresh = make()
    checkpoint.restore(checkpoint.read(path), fresh)
    for name in ("running_mean", "running_var"):
        npt.assert_array_equal(getattr(fresh.G.layers[1], name).numpy(), getattr(bn, name).numpy())
    z = minigan.tensor(np.random.default_rng(5).normal(size=(4, 2)), dtype="float32")
    npt.assert_array_equal(fresh.G.eval()(z).numpy(), trained.G.eval()(z).numpy())


def test_the_penalties_refuse_a_discriminator_with_batch_norm_in_training_mode():
    D = nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4), nn.LeakyReLU(0.2), nn.Linear(4, 1))
    x = minigan.tensor(np.random.default_rng(6).normal(size=(5, 2)), dtype="float32")
    eps = minigan.tensor(np.full((5, 1), 0.5))
    with pytest.raises(ValueError, match="D: got a BatchNorm1d in training mode"):
        losses.r1_penalty(D, x)
    with pytest.raises(ValueError, match="D: got a BatchNorm1d in training mode"):
        losses.gradient_penalty(D, x, x * 0.5, eps)
    D.eval()   # running statistics: each score depends on its own sample only, and the trick holds
    assert np.isfinite(losses.r1_penalty(D, x).item())


def test_why_they_refuse_it():
    """With batch statistics, one gradient of the summed scores is not each sample's own gradient:
    row i of grad_x sum_j D(x_j) differs from grad_x D(x_i) taken alone (x_i moves the batch mean)."""
    D = nn.Sequential(nn.Linear(2, 4, dtype="float64"), nn.BatchNorm1d(4, dtype="float64"), nn.Tanh(),
                      nn.Linear(4, 1, dtype="float64"))
    host = np.random.default_rng(7).normal(size=(5, 2))
    x = minigan.tensor(host, requires_grad=True, dtype="float64")
    (summed,) = minigan.grad(D(x).sum(), x)
    x0 = minigan.tensor(host, requires_grad=True, dtype="float64")
    (own,) = minigan.grad(D(x0)[0].sum(), x0)   # d D(x_0) / d x, where x_0's row is its own gradient
    assert not np.allclose(summed.numpy()[0], own.numpy()[0], atol=1e-3)
    assert not np.allclose(own.numpy()[1:], 0.0)   # D(x_0) depends on the other samples too


def test_layer_errors():
    with pytest.raises(ValueError, match="momentum: got 2"):
        nn.BatchNorm2d(3, momentum=2)
    with pytest.raises(ValueError, match=r"BatchNorm2d: x: got \(2, 4, 3, 3\), wanted \(N, 3, H, W\)"):
        nn.BatchNorm2d(3)(minigan.tensor(np.ones((2, 4, 3, 3))))
    with pytest.raises(ValueError, match="one value per channel"):
        nn.BatchNorm1d(3)(minigan.tensor(np.ones((1, 3)), dtype="float32"))
    assert nn.BatchNorm1d(3).eval()(minigan.tensor(np.ones((1, 3)), dtype="float32")).shape == (1, 3)


# ---- pinned by mutation testing (issue 26: benchmarks/mutation.py) --------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_batch_norm_op_defaults_to_the_batch_axis_and_refuses_bad_axes_and_eps(backend):
    """axis 0 by default (features (m, n): one mean and variance per column); axes must name
    existing axes (our message, not the array library's); eps must be positive."""
    host = np.array([[1.0, 10.0], [3.0, 20.0], [8.0, 60.0]])
    x = minigan.tensor(host, backend=backend, dtype="float64")
    npt.assert_allclose(ops.batch_norm(x).numpy(), standardized(host, (0,), 1e-5), rtol=1e-12)
    for axis in [(), 2, (0, 2), -1]:
        with pytest.raises(ValueError, match=rf"^axis: got {re.escape(repr(axis))}, wanted axes of a 2-D tensor"):
            ops.batch_norm(x, axis)
    for eps in (0, 0.0, -1e-5):
        with pytest.raises(ValueError, match=rf"^eps: got {eps!r}, wanted a positive number"):
            ops.batch_norm(x, eps=eps)
