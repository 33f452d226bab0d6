"""Discrete data (minigan/nn/discrete.py, minigan/data/categorical.py, the categorical recipe).

The lesson, measured: a generator that samples (Gumbel-max, argmax) gets exactly zero
gradient, so training leaves it where it started; the Gumbel-softmax relaxation, in its
straight-through form, makes it learn the distribution (JS divergence below 0.05). Around
it: the dataset and the Gumbel noise have the statistics they claim, gumbel_softmax's
gradient is right, the JS metric has its known answers, and the demo runs end to end.
"""
import json
import math

import numpy as np
import numpy.testing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import BACKENDS, arrays

import minigan
from minigan import data, gan, nn, ops, optim
from minigan.demo import __main__ as demo
from minigan.nn import discrete
from minigan.judging import metrics

K = 8
GEOMETRIC = 0.5 ** np.arange(1, K + 1) / (1 - 0.5 ** K)   # 2^-(i+1) / (1 - 2^-8)


# ---- the data and the noise -------------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_categorical_samples_are_one_hot_with_the_right_frequencies(backend):
    p_data = data.categorical()
    npt.assert_allclose(p_data.probabilities, GEOMETRIC, rtol=1e-12)
    be = minigan.get_backend(backend)
    x = be.to_host(p_data.sample(20_000, be.random(0)))
    assert x.dtype == np.float32 and x.shape == (20_000, K)
    npt.assert_array_equal(x.sum(axis=1), 1.0)
    assert set(np.unique(x)) == {0.0, 1.0}
    frequencies = x.mean(axis=0)
    # each frequency within 4.5 binomial standard deviations of its probability
    npt.assert_array_less(np.abs(frequencies - GEOMETRIC), 4.5 * np.sqrt(GEOMETRIC * (1 - GEOMETRIC) / 20_000))
    again = be.to_host(p_data.sample(20_000, be.random(0)))
    npt.assert_array_equal(x, again)                       # same seed, same data
    npt.assert_array_equal(x, data.categorical().sample(20_000, minigan.get_backend("numpy").random(0)))


def test_categorical_refuses_bad_probabilities():
    for bad in ([1.0], [0.5, 0.6], [-0.5, 1.5], [[0.5, 0.5]], [math.nan, 1.0]):
        with pytest.raises(ValueError, match="probabilities: got"):
            data.categorical(bad)
    assert data.categorical([0.25, 0.75]).dim == 2


@pytest.mark.parametrize("backend", BACKENDS)
def test_gumbel_noise_has_the_gumbel_mean_and_variance(backend):
    be = minigan.get_backend(backend)
    g = be.to_host(data.gumbel_noise(4).sample(50_000, be.random(1))).astype(np.float64)
    assert g.shape == (50_000, 4) and np.all(np.isfinite(g))
    # mean 0.5772 (Euler's gamma), variance pi^2/6 = 1.645; standard errors 0.003 and 0.01
    assert abs(g.mean() - 0.5772156649) < 0.015
    assert abs(g.var() - math.pi ** 2 / 6) < 0.05


# ---- the metric ------------------------------------------------------------------------------
def test_js_divergence_categorical_known_answers():
    p = np.array([0.5, 0.5, 0.0])
    assert metrics.js_divergence_categorical(np.eye(3)[[0, 1, 0, 1]], p) == 0.0
    assert metrics.js_divergence_categorical(np.eye(3)[[2, 2]], p) == pytest.approx(math.log(2.0))
    soft = np.array([[0.6, 0.3, 0.1], [0.2, 0.7, 0.1]])         # soft rows count as their argmax
    npt.assert_array_equal(metrics.symbol_frequencies(soft), [0.5, 0.5, 0.0])
    assert metrics.js_divergence_categorical(np.full((8, 8), 1.0) * np.eye(8), GEOMETRIC) == pytest.approx(
        metrics.js_divergence(np.ones(8), GEOMETRIC))
    assert metrics.js_divergence(np.ones(8), GEOMETRIC) == pytest.approx(0.1829, abs=1e-4)   # the untrained G
    with pytest.raises(ValueError, match="probabilities: got shape"):
        metrics.js_divergence_categorical(np.eye(3), GEOMETRIC)
    with pytest.raises(ValueError, match="samples: got shape"):
        metrics.symbol_frequencies(np.ones(3))


# ---- gumbel_softmax ----------------------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
@given(logits=arrays((3, 4), -2.0, 2.0), noise=arrays((3, 4), -1.0, 3.0), tau=st.sampled_from([0.5, 1.0, 2.0]))
def test_soft_gumbel_softmax_backward_matches_finite_differences(backend, logits, noise, tau):
    g = minigan.tensor(noise, backend=backend, dtype="float64")
    x = minigan.tensor(logits, requires_grad=True, backend=backend, dtype="float64")
    minigan.gradcheck(lambda theta: discrete.gumbel_softmax(theta, tau, noise=g), [x])


@pytest.mark.parametrize("backend", BACKENDS)
def test_straight_through_is_one_hot_forward_and_soft_backward(backend):
    host = np.array([[0.5, -1.0, 2.0, 0.0], [1.0, 1.5, -0.5, 0.2]])
    noise = minigan.tensor(np.array([[0.1, 2.0, -0.3, 0.4], [0.0, -1.0, 1.0, 0.5]]), backend=backend,
                           dtype="float64")
    w = np.array([[1.0, -2.0, 0.5, 3.0], [0.3, 0.0, -1.0, 2.0]])
    x_hard = minigan.tensor(host, requires_grad=True, backend=backend, dtype="float64")
    y_hard = discrete.gumbel_softmax(x_hard, 0.5, hard=True, noise=noise)
    scores = host + x_hard.backend.to_host(noise.data)
    npt.assert_array_equal(y_hard.numpy(), np.eye(4)[np.argmax(scores, axis=1)])   # exactly one-hot
    y_hard.backward(w)
    x_soft = minigan.tensor(host, requires_grad=True, backend=backend, dtype="float64")
    discrete.gumbel_softmax(x_soft, 0.5, noise=noise).backward(w)
    npt.assert_allclose(x_hard.backend.to_host(x_hard.grad), x_soft.backend.to_host(x_soft.grad), rtol=1e-12)
    assert np.abs(x_soft.backend.to_host(x_soft.grad)).max() > 1e-3               # and it is not zero


@pytest.mark.parametrize("backend", BACKENDS)
def test_gumbel_max_samples_follow_softmax_of_the_logits(backend):
    """The Gumbel-max trick: argmax(theta + g) is a sample of softmax(theta), and the hard
    gumbel_softmax, drawing its noise from an explicit rng, is reproducible."""
    be = minigan.get_backend(backend)
    theta = np.array([1.0, 0.0, -1.0, 0.5])
    logits = minigan.tensor(np.broadcast_to(theta, (20_000, 4)), backend=backend, dtype="float64")
    y = discrete.gumbel_softmax(logits, 1.0, hard=True, rng=be.random(3)).numpy()
    p = np.exp(theta) / np.exp(theta).sum()
    npt.assert_array_less(np.abs(y.mean(axis=0) - p), 4.5 * np.sqrt(p * (1 - p) / 20_000))
    again = discrete.gumbel_softmax(logits, 1.0, hard=True, rng=be.random(3)).numpy()
    npt.assert_array_equal(y, again)


def test_gumbel_softmax_refuses_bad_arguments():
    x = minigan.tensor(np.zeros((2, 3)))
    rng = minigan.get_backend("numpy").random(0)
    with pytest.raises(ValueError, match="tau: got 0"):
        discrete.gumbel_softmax(x, 0, rng=rng)
    with pytest.raises(ValueError, match="rng, noise: got neither"):
        discrete.gumbel_softmax(x)
    with pytest.raises(ValueError, match="rng, noise: got both"):
        discrete.gumbel_softmax(x, rng=rng, noise=x)
    with pytest.raises(ValueError, match="noise: got"):
        discrete.gumbel_softmax(x, noise=minigan.tensor(np.zeros((2, 4))))
    with pytest.raises(TypeError, match="rng: got"):
        discrete.gumbel_softmax(x, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="mode: got 'argmax'"):
        discrete.CategoricalGenerator(8, "argmax")
    with pytest.raises(ValueError, match="z: got shape"):
        discrete.CategoricalGenerator(8)(minigan.tensor(np.zeros((2, 3))))


# ---- the lesson: zero gradient, then learning --------------------------------------------------
def categorical_gan(mode, tau=1.0, seed=0, lr=1e-2):
    """A GAN whose G is 8 logits fed Gumbel noise and whose D is a small MLP (the recipe's shapes)."""
    backend = minigan.get_backend("numpy")
    rng = backend.random(seed)
    p_data = data.categorical()
    G = discrete.CategoricalGenerator(K, mode, tau)
    D = nn.MLP([K, 32, 1], "leaky_relu", rng=rng)
    adam = dict(lr=lr, betas=(0.5, 0.999))
    return gan.GAN(G, D, p_data, data.gumbel_noise(K), optim.Adam(G.parameters(), **adam),
                   optim.Adam(D.parameters(), **adam), m=128, rng=rng)


def test_a_generator_that_samples_gets_exactly_zero_gradient_and_never_moves():
    model = categorical_gan("sample")
    start = model.G.logits.numpy().copy()
    z = model.sample(model.p_z, 64)
    fake = model.G(z)
    assert not fake.requires_grad and fake.is_leaf      # argmax cut the graph: G(z) leads back to nothing
    loss = minigan.losses.generator_loss(model.D(fake), form="non_saturating")
    loss.backward()                                      # reaches D's parameters only
    assert model.G.logits.grad is None and model.D.parameters()[0].grad is not None
    model.D.zero_grad()
    for _ in range(50):
        record = model.train_step()
        assert float(record.g_grad_norm) == 0.0
        assert model.G.logits.grad is None
    npt.assert_array_equal(model.G.logits.numpy(), start)          # not one bit moved
    assert float(np.abs(model.D.parameters()[0].numpy()).sum()) > 0      # while D did train


@pytest.mark.parametrize("seed", [0, 1])
def test_straight_through_gumbel_softmax_learns_the_distribution(seed):
    model = categorical_gan("straight_through", seed=seed)
    before = metrics.js_divergence(model.G.probabilities(), GEOMETRIC)
    model.train(300)
    after = metrics.js_divergence(model.G.probabilities(), GEOMETRIC)
    sampled = metrics.js_divergence_categorical(model.generate(metrics.N_SAMPLES, seed=5), GEOMETRIC)
    assert before == pytest.approx(0.1829, abs=1e-4)
    assert after < 0.05 and sampled < 0.05, (before, after, sampled)


# ---- the recipe and the demo ---------------------------------------------------------------------
def test_categorical_recipe_learns_with_a_gumbel_generator():
    """The demo's recipe, trained for a quarter of its steps, is already below 0.05."""
    config = gan.recipe("categorical", steps=150)
    model = gan.build(config)
    assert isinstance(model.G, discrete.CategoricalGenerator) and model.G.mode == "straight_through"
    assert isinstance(model.p_z, data.GumbelNoise) and model.p_data.dim == K
    model.train(config.steps, callbacks=gan.schedules(config, model))
    assert metrics.js_divergence_categorical(model.generate(metrics.N_SAMPLES), GEOMETRIC) < 0.05


def test_demo_categorical_end_to_end(tmp_path, capsys):
    """Every file, and metrics.json with the JS divergence (12 steps: the figures take the time)."""
    out = tmp_path / "out"
    status = demo.main(["--dataset", "categorical", "--steps", "12", "--out", str(out), "--no-progress"])
    assert status == 0, capsys.readouterr().err
    run = out / "run-001"
    results = json.loads((run / "metrics.json").read_text())
    assert results["dataset"] == "categorical" and results["steps"] == 12
    assert 0 <= results["js_divergence"] <= math.log(2.0)
    assert results["js_divergence"] == pytest.approx(
        metrics.js_divergence(results["symbol_frequencies"], GEOMETRIC), abs=1e-3)
    npt.assert_allclose(results["true_probabilities"], GEOMETRIC, atol=1e-4)
    for name in demo.FILES:
        assert (run / name).stat().st_size > 0, name


def test_categorical_run_resumes_bit_identically(tmp_path):
    """G's logits, D, both Adams and the generator all come back from a checkpoint: 40 steps,
    or 20 + a resume + 20, end with the same bits."""
    from minigan.gan import checkpoint

    config = gan.recipe("categorical", steps=40)
    uninterrupted = gan.build(config)
    uninterrupted.train(40, callbacks=gan.schedules(config, uninterrupted))
    first_half = gan.build(config)
    first_half.train(20, callbacks=gan.schedules(config, first_half))
    resumed = gan.resume(checkpoint.save(tmp_path / "run.npz", first_half))
    assert isinstance(resumed.G, discrete.CategoricalGenerator) and resumed.step == 20
    resumed.train(20, callbacks=gan.schedules(config, resumed))
    for a, b in ((uninterrupted.G, resumed.G), (uninterrupted.D, resumed.D)):
        for (name, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
            npt.assert_array_equal(p.numpy(), q.numpy(), err_msg=name)
    assert uninterrupted.rng.state() == resumed.rng.state()


# ---- values pinned against NumPy (issue 26: a Gumbel-softmax multiplying by tau trained too) ------
def np_softmax(a):
    e = np.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("tau", [0.25, 0.5, 2.0, 3.0])
def test_gumbel_softmax_divides_by_the_temperature(tau):
    """softmax((theta + g) / tau): small tau sharpens, large tau flattens. A gradient check
    cannot see (theta + g) * tau, nor can tau = 1: only the values can."""
    theta = np.array([[0.5, -1.0, 2.0, 0.0], [1.0, 1.5, -0.5, 0.2]])
    g = np.array([[0.1, 2.0, -0.3, 0.4], [0.0, -1.0, 1.0, 0.5]])
    y = discrete.gumbel_softmax(minigan.tensor(theta, dtype="float64"), tau, noise=minigan.tensor(g, dtype="float64"))
    npt.assert_allclose(y.numpy(), np_softmax((theta + g) / tau), rtol=1e-12)
    assert y.dtype == np.float64
    hard = discrete.gumbel_softmax(minigan.tensor(theta, dtype="float64"), tau, True, noise=minigan.tensor(g, dtype="float64"))
    assert hard.dtype == np.float64
    npt.assert_array_equal(hard.numpy(), np.eye(4)[np.argmax(theta + g, axis=1)])


@pytest.mark.parametrize("shape", [(4,), (3, 4), (2, 3, 4)])
def test_the_noise_drawn_from_rng_is_gumbel_noise_of_the_logits_shape(shape):
    """rng given: g = gumbel_noise(K).sample(rows, rng), one row of K per row of logits."""
    be = minigan.get_backend("numpy")
    theta = np.random.default_rng(1).normal(size=shape)
    y = discrete.gumbel_softmax(minigan.tensor(theta, dtype="float64"), 0.5, rng=be.random(7))
    rows = int(np.prod(shape[:-1]))
    g = data.gumbel_noise(shape[-1]).sample(rows, be.random(7)).astype(np.float64).reshape(shape)
    npt.assert_allclose(y.numpy(), np_softmax((theta + g) / 0.5), rtol=1e-6)
    assert y.shape == shape and y.dtype == np.float64


def test_the_default_is_the_soft_sample_at_temperature_one():
    theta, g = np.array([[0.3, -0.2, 0.1]]), np.array([[0.5, 0.0, -0.5]])
    y = discrete.gumbel_softmax(minigan.tensor(theta, dtype="float64"), noise=minigan.tensor(g, dtype="float64"))
    npt.assert_allclose(y.numpy(), np_softmax(theta + g), rtol=1e-12)        # soft, tau 1


def test_noise_of_any_shape_that_broadcasts_is_taken_and_others_refused():
    x = minigan.tensor(np.zeros((2, 3)))
    ok = discrete.gumbel_softmax(x, noise=minigan.tensor(np.array([0.0, 1.0, 2.0])))    # (K,) against (2, K)
    npt.assert_allclose(ok.numpy()[0], np_softmax(np.array([0.0, 1.0, 2.0])), rtol=1e-6)
    assert discrete.gumbel_softmax(x, noise=minigan.tensor(np.zeros((5, 2, 3)))).shape == (5, 2, 3)
    for bad in (np.zeros((2, 3)), minigan.tensor(np.float32(1.0)), minigan.tensor(np.zeros((3, 2)))):
        with pytest.raises(ValueError, match="noise: got"):
            discrete.gumbel_softmax(x, noise=bad)
    with pytest.raises(TypeError, match="logits: got a ndarray"):
        discrete.gumbel_softmax(np.zeros((2, 3)), noise=x)
    with pytest.raises(TypeError, match="rng: got"):
        discrete.gumbel_softmax(x, rng=minigan.get_backend("strict").random(0))


@pytest.mark.parametrize("tau", [math.inf, -1.0, True, "1", math.nan])
def test_a_temperature_must_be_a_positive_finite_number(tau):
    with pytest.raises(ValueError, match="tau: got"):
        discrete.gumbel_softmax(minigan.tensor(np.zeros((1, 2))), tau, noise=minigan.tensor(np.zeros((1, 2))))
    with pytest.raises(ValueError, match="tau: got"):
        discrete.CategoricalGenerator(3, "soft", tau)


def test_the_generator_in_each_mode_is_the_function_its_docstring_says():
    theta = np.array([0.4, -1.0, 1.2])
    z = np.array([[1.0, 0.0, -0.5], [-1.0, 2.5, 0.0]])                     # argmax(theta + z) = 0, 1
    for mode in discrete.MODES:
        G = discrete.CategoricalGenerator(3, mode, 0.5, dtype="float64")
        G.load_state_dict({"logits": theta})
        y = G(minigan.tensor(z, dtype="float64"))
        assert y.dtype == np.float64 and y.shape == (2, 3)
        if mode == "soft":
            npt.assert_allclose(y.numpy(), np_softmax((theta + z) / 0.5), rtol=1e-12)
        else:
            npt.assert_array_equal(y.numpy(), np.eye(3)[[0, 1]])
        assert y.requires_grad == (mode != "sample")
        npt.assert_allclose(G.probabilities(), np_softmax(theta), rtol=1e-12)
        assert G.probabilities().dtype == np.float64
    assert repr(discrete.CategoricalGenerator(2)) == "CategoricalGenerator(k=2, mode='straight_through', tau=1.0)"


def test_the_generator_checks_k_and_takes_its_dtype_and_backend():
    for bad in (1, 0, True, 2.0, "3"):
        with pytest.raises(ValueError, match="k: got"):
            discrete.CategoricalGenerator(bad)
    strict = discrete.CategoricalGenerator(2, backend="strict")
    assert strict.backend.name == "strict" and strict.logits.backend is strict.backend
    assert discrete.CategoricalGenerator(4, dtype=np.float64).logits.dtype == np.float64
    assert discrete.CategoricalGenerator(4).logits.dtype == np.float32
    npt.assert_array_equal(discrete.CategoricalGenerator(5).logits.numpy(), np.zeros(5))


def test_hard_samples_of_any_rank_and_a_dtype_named_on_any_backend():
    theta = np.random.default_rng(2).normal(size=(2, 3, 4))
    g = np.random.default_rng(3).normal(size=(2, 3, 4))
    hard = discrete.gumbel_softmax(minigan.tensor(theta, dtype="float64"), 0.5, True, noise=minigan.tensor(g, dtype="float64"))
    npt.assert_array_equal(hard.numpy(), np.eye(4)[np.argmax(theta + g, axis=-1)])     # (2, 3, 4), one-hot rows
    strict = discrete.CategoricalGenerator(4, backend="strict", dtype="float64")       # a name, not a NumPy dtype
    assert strict.logits.backend.name == "strict" and strict.probabilities().dtype == np.float64
