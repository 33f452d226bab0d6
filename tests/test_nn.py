"""minigan.nn: gradients of every layer and of small whole networks, and the bookkeeping
(names, modes, state dicts, moving backends, input checks)."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from strategies import BACKENDS, arrays

import minigan
from minigan import Tensor, gradcheck

import minigan.nn as nn


# ---- helpers ------------------------------------------------------------------------------------
def host_tensor(array, backend, requires_grad=False):
    be = minigan.get_backend(backend)
    return Tensor(be.asarray(np.asarray(array)), be, requires_grad=requires_grad)


def set_by_name(module, dotted, value):
    """module.<dotted> = value, where dotted is a name from named_parameters()."""
    *path, last = dotted.split(".")
    owner = module
    for part in path:
        owner = owner[int(part)] if part.isdigit() else getattr(owner, part)
    if last.isdigit():
        owner[int(last)] = value
    else:
        setattr(owner, last, value)


def gradcheck_module(module, x_host, seed=0):
    """gradcheck of module(x) with respect to x and every parameter (float64)."""
    backend = module.backend
    names = [name for name, _ in module.named_parameters()]
    originals = module.parameters()

    def run(x, *params):
        for name, p in zip(names, params):  # plug gradcheck's leaves in place of the parameters
            set_by_name(module, name, p)
        try:
            return module(x)
        finally:
            for name, p in zip(names, originals):
                set_by_name(module, name, p)

    inputs = [host_tensor(x_host, backend, requires_grad=True)]
    inputs += [Tensor(p.data, backend, requires_grad=True) for p in originals]
    return gradcheck(run, inputs, names=["x", *names], seed=seed)


def x64(m, n, seed=0):
    return np.random.default_rng(seed).normal(size=(m, n))


# ---- gradients: every layer, w.r.t. its input and every parameter --------------------------------
ACTIVATIONS = {"relu": nn.ReLU, "leaky_relu": lambda: nn.LeakyReLU(0.3), "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@settings(max_examples=10)
@given(x=arrays((3, 4)))
def test_activation_gradients(backend, name, x):
    module = ACTIVATIONS[name]().to(backend)
    if name in ("relu", "leaky_relu"):
        x = np.where(np.abs(x) < 1e-3, 0.5, x)  # finite differences across the kink at 0 are wrong
    assert gradcheck_module(module, x)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("init", ["glorot", "normal", "he"])
def test_linear_gradients(backend, init):
    be = minigan.get_backend(backend)
    layer = nn.Linear(4, 3, init=init, rng=be.random(1), backend=backend, dtype="float64")
    layer.bias.data = be.asarray(np.linspace(-1, 1, 3))  # a non-zero bias, so the add is checked too
    assert gradcheck_module(layer, x64(5, 4))


@pytest.mark.parametrize("backend", BACKENDS)
def test_maxout_gradients(backend):
    be = minigan.get_backend(backend)
    layer = nn.Maxout(3, units=4, pieces=3, rng=be.random(2), backend=backend, dtype="float64")
    assert gradcheck_module(layer, x64(5, 3, seed=1))


@pytest.mark.parametrize("backend", BACKENDS)
def test_dropout_gradients_with_a_fixed_mask(backend):
    be = minigan.get_backend(backend)
    layer = nn.Dropout(0.4, be.random(3), backend=backend)
    layer.fixed_mask = be.random(4).bernoulli((5, 3), 0.6, dtype=be.xp.float64)
    assert gradcheck_module(layer, x64(5, 3))
    y = layer(host_tensor(np.ones((5, 3)), backend))
    assert np.allclose(y.numpy(), be.to_host(layer.fixed_mask) / 0.6)  # inverted scaling 1 / (1 - p)


def small_networks(backend):
    be = minigan.get_backend(backend)
    maxout_d = nn.Sequential(
        nn.Dropout(0.2, be.random(5), backend=backend),
        nn.Maxout(2, 4, 3, rng=be.random(6), backend=backend, dtype="float64"),
        nn.Dropout(0.5, be.random(7), backend=backend),
        nn.Linear(4, 1, rng=be.random(8), backend=backend, dtype="float64"),
    )
    f64 = dict(backend=backend, dtype="float64")
    return {  # name: (network, input width)
        "G relu, tanh output": (nn.MLP([3, 6, 5, 2], "relu", "tanh", rng=be.random(0), **f64), 3),
        "D leaky_relu, logits": (nn.MLP([2, 6, 5, 1], "leaky_relu", rng=be.random(1), **f64), 2),
        "MLP sigmoid, he init": (nn.MLP([2, 4, 1], "sigmoid", init="he", rng=be.random(2), **f64), 2),
        "D dropout": (nn.MLP([2, 6, 5, 1], "tanh", dropout=0.3, rng=be.random(3), **f64), 2),
        "D maxout (the paper's)": (maxout_d, 2),
    }


def fix_dropout_masks(module, x):
    """Give each Dropout in a Sequential a fixed mask of the shape it receives."""
    be = module.backend
    for k, layer in enumerate(module.layers):
        if isinstance(layer, nn.Dropout):
            layer.fixed_mask = be.random(10 + k).bernoulli(x.shape, 1 - layer.p, dtype=x.dtype)
        x = layer(x)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(small_networks("numpy")))
def test_whole_network_gradients(backend, name):
    module, n_in = small_networks(backend)[name]
    x = x64(4, n_in, seed=2)
    fix_dropout_masks(module, host_tensor(x, backend))
    assert gradcheck_module(module, x)


def test_a_wrong_layer_gradient_is_caught():
    """gradcheck_module can fail: a layer that cuts its weight's gradient is caught."""
    layer = nn.Linear(3, 2, backend="numpy", dtype="float64")

    class Broken(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = layer

        def forward(self, x):
            with minigan.no_grad():
                w = Tensor(self.inner.weight.data, self.inner.backend)  # gradient cut: wrong
            return x @ w + self.inner.bias

    with pytest.raises(minigan.GradcheckError):
        gradcheck_module(Broken(), x64(4, 3))


# ---- forward values against NumPy -------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_linear_and_maxout_forward_match_numpy(backend):
    be = minigan.get_backend(backend)
    x = x64(5, 3)
    lin = nn.Linear(3, 4, rng=be.random(0), backend=backend, dtype="float64")
    w, b = lin.weight.numpy(), lin.bias.numpy()
    assert np.allclose(lin(host_tensor(x, backend)).numpy(), x @ w + b)
    mo = nn.Maxout(3, units=2, pieces=3, rng=be.random(0), backend=backend, dtype="float64")
    z = x @ mo.linear.weight.numpy() + mo.linear.bias.numpy()
    assert np.allclose(mo(host_tensor(x, backend)).numpy(), z.reshape(5, 2, 3).max(axis=2))


@pytest.mark.parametrize("backend", BACKENDS)
def test_mlp_layout_and_activations(backend):
    be = minigan.get_backend(backend)
    G = nn.MLP([2, 8, 8, 2], "relu", output="tanh", rng=be.random(0), backend=backend)
    kinds = [type(layer).__name__ for layer in G.layers]
    assert kinds == ["Linear", "ReLU", "Linear", "ReLU", "Linear", "Tanh"]
    assert [n for n, _ in G.named_parameters()] == [
        "layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias", "layers.4.weight", "layers.4.bias",
    ]
    y = G(host_tensor(x64(7, 2).astype(np.float32), backend))
    assert y.shape == (7, 2) and y.dtype == be.default_float and np.all(np.abs(y.numpy()) < 1)
    D = nn.MLP([2, 8, 1], "leaky_relu", rng=be.random(0), backend=backend)
    assert isinstance(D.layers[1], nn.LeakyReLU) and D.layers[1].slope == 0.2
    assert isinstance(D.layers[-1], nn.Linear)  # logits out: no sigmoid
    # each layer draws its own weights from the one generator
    assert not np.allclose(G.layers[2].weight.numpy()[:2, :2], G.layers[0].weight.numpy()[:2, :2])


# ---- initialisation --------------------------------------------------------------------------
def test_inits_have_the_stated_spread():
    w = nn.Linear(200, 300, init="glorot").weight.numpy()
    limit = math.sqrt(6 / 500)
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.99 * limit
    assert abs(w.std() - limit / math.sqrt(3)) < 0.01 * limit
    assert abs(nn.Linear(200, 300, init="normal").weight.numpy().std() - 0.02) < 0.001
    assert abs(nn.Linear(200, 300, init="he").weight.numpy().std() - math.sqrt(2 / 200)) < 0.003
    assert np.all(nn.Linear(3, 4).bias.numpy() == 0)
    with pytest.raises(ValueError, match="init: got 'xavier'"):
        nn.Linear(2, 2, init="xavier")


@pytest.mark.parametrize("backend", BACKENDS)
def test_same_seed_same_network_on_every_backend(backend):
    be = minigan.get_backend(backend)
    a = nn.MLP([2, 5, 1], rng=be.random(3), backend=backend).state_dict()
    b = nn.MLP([2, 5, 1], rng=minigan.get_backend("numpy").random(3)).state_dict()
    c = nn.MLP([2, 5, 1], rng=minigan.get_backend("numpy").random(4)).state_dict()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["layers.0.weight"], c["layers.0.weight"])
    assert a["layers.0.weight"].dtype == np.float32


# ---- Dropout ---------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_dropout_train_and_eval(backend):
    be = minigan.get_backend(backend)
    x = host_tensor(np.ones((400, 50), dtype=np.float32), backend)
    drop = nn.Dropout(0.3, be.random(0), backend=backend)
    y = drop(x).numpy()
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.01
    assert np.allclose(y[kept], 1 / 0.7)  # E[y] = x
    assert not np.array_equal(drop(x).numpy(), y)  # a fresh mask each call
    again = nn.Dropout(0.3, be.random(0), backend=backend)
    assert np.array_equal(again(x).numpy(), y)  # same seed, same mask
    assert drop.eval()(x) is x and not drop.training
    assert drop.train()(x) is not x


# ---- Module bookkeeping ----------------------------------------------------------------------
def test_train_eval_zero_grad_reach_every_submodule():
    D = nn.MLP([2, 4, 4, 1], "leaky_relu", dropout=0.5)
    assert D.eval() is D and not any(m.training for m in D.modules())
    D.train()
    assert all(m.training for m in D.modules())
    D(minigan.tensor(np.ones((3, 2), dtype=np.float32))).sum().backward()
    assert all(p.grad is not None for p in D.parameters())
    D.zero_grad()
    assert all(p.grad is None for p in D.parameters())


def test_state_dict_is_a_host_copy_and_round_trips():
    host = minigan.get_backend("numpy")
    a, b = nn.MLP([2, 4, 1], rng=host.random(0)), nn.MLP([2, 4, 1], rng=host.random(1))
    state = a.state_dict()
    assert all(isinstance(v, np.ndarray) for v in state.values())
    a.layers[0].weight.data += 1.0  # changing the module afterwards leaves the saved copy alone
    assert not np.array_equal(state["layers.0.weight"], a.layers[0].weight.numpy())
    b.load_state_dict(state)
    assert all(np.array_equal(b.state_dict()[k], state[k]) for k in state)
    b.layers[0].weight.data *= 2.0  # and the loaded module does not write into the dict
    assert not np.array_equal(state["layers.0.weight"], b.layers[0].weight.numpy())


def test_load_state_dict_errors_name_the_problem():
    D = nn.MLP([2, 4, 1])
    state = D.state_dict()
    before = D.state_dict()
    bad = dict(state, **{"layers.2.weight": np.zeros((5, 1), dtype=np.float32)})
    bad["layers.0.weight"] = np.zeros((2, 4), dtype=np.float32)
    with pytest.raises(ValueError, match=r"state\['layers.2.weight'\]: got shape \(5, 1\), wanted \(4, 1\)"):
        D.load_state_dict(bad)
    assert np.array_equal(D.state_dict()["layers.0.weight"], before["layers.0.weight"])  # nothing loaded
    missing = {k: v for k, v in state.items() if k != "layers.0.bias"}
    with pytest.raises(ValueError, match=r"missing parameters \['layers.0.bias'\]"):
        D.load_state_dict(missing)
    with pytest.raises(ValueError, match=r"unexpected keys \['extra'\]"):
        D.load_state_dict(dict(state, extra=np.zeros(1)))
    with pytest.raises(TypeError, match="wanted an array"):
        D.load_state_dict(dict(state, **{"layers.0.bias": [0.0] * 4}))
    with pytest.raises(TypeError, match="state: got list"):
        D.load_state_dict([])


@pytest.mark.parametrize("target", ["strict", "numpy"])
def test_module_moved_between_backends_gives_same_outputs(target):
    source = "numpy" if target == "strict" else "strict"
    be = minigan.get_backend(source)
    D = nn.MLP([2, 6, 6, 1], "leaky_relu", rng=be.random(0), backend=source, dropout=0.5).eval()
    G = nn.Sequential(nn.Maxout(2, 3, 2, rng=be.random(1), backend=source), nn.Tanh())
    x_host = x64(5, 2).astype(np.float32)
    expected = [D(host_tensor(x_host, source)).numpy(), G(host_tensor(x_host, source)).numpy()]
    weight = D.parameters()[0]
    assert D.to(target) is D and G.to(target) is G
    assert D.backend.name == target and all(p.backend.name == target for p in D.parameters() + G.parameters())
    assert D.parameters()[0] is weight and str(weight.dtype).endswith("float32")  # same objects, same dtype
    got = [D(host_tensor(x_host, target)).numpy(), G(host_tensor(x_host, target)).numpy()]
    assert all(np.array_equal(e, g) for e, g in zip(expected, got))
    # the dropout generator continues its stream on the new backend
    D.train()
    assert D(host_tensor(x_host, target)).shape == (5, 1)


def test_parameter_construction():
    p = nn.Parameter(np.zeros((2, 3), dtype=np.float32), "strict")
    assert p.requires_grad and p.backend.name == "strict" and p.shape == (2, 3)
    assert nn.Parameter(np.ones(3)).backend.name == "numpy"
    with pytest.raises(TypeError, match="floating"):
        nn.Parameter(np.arange(3))


# ---- input checks ----------------------------------------------------------------------------
def test_bad_arguments_get_clear_errors():
    with pytest.raises(ValueError, match="n_in: got 0"):
        nn.Linear(0, 3)
    with pytest.raises(ValueError, match="n_out: got 2.5"):
        nn.Linear(2, 2.5)
    with pytest.raises(ValueError, match="p: got 1.0"):
        nn.Dropout(1.0)
    with pytest.raises(ValueError, match="slope: got -0.1"):
        nn.LeakyReLU(-0.1)
    with pytest.raises(ValueError, match="activation: got 'swish'"):
        nn.MLP([2, 3, 1], "swish")
    with pytest.raises(ValueError, match="output: got 'softmax'"):
        nn.MLP([2, 3, 1], output="softmax")
    with pytest.raises(ValueError, match="sizes: got"):
        nn.MLP([2])
    with pytest.raises(ValueError, match="dropout: got 2"):
        nn.MLP([2, 3, 1], dropout=2)
    with pytest.raises(TypeError, match=r"modules\[1\]: got int"):
        nn.Sequential(nn.ReLU(), 3)
    with pytest.raises(TypeError, match="rng: got int"):
        nn.Linear(2, 2, rng=0)
    with pytest.raises(ValueError, match="rng: got a generator for backend 'numpy', wanted one for 'strict'"):
        nn.Linear(2, 2, rng=minigan.get_backend("numpy").random(0), backend="strict")
    with pytest.raises(ValueError, match="dtype: got"):
        nn.Linear(2, 2, dtype="int32")
    layer = nn.Linear(3, 2)
    with pytest.raises(ValueError, match=r"x: got shape \(4, 2\), wanted \(m, 3\)"):
        layer(minigan.tensor(np.zeros((4, 2), dtype=np.float32)))
    with pytest.raises(TypeError, match="x: got dtype float64, wanted float32"):
        layer(minigan.tensor(np.zeros((4, 3))))
    with pytest.raises(TypeError, match="x: got ndarray, wanted a Tensor"):
        layer(np.zeros((4, 3), dtype=np.float32))
    with pytest.raises(NotImplementedError, match="must define forward"):
        nn.Module()(1)
