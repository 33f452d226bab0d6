"""minigan.interop: the same networks, losses and optimizer steps in minigan and PyTorch.

Round trips are bit-identical; every supported layer and every loss gives the same values
and gradients in float64; an optimizer carried over mid-run continues as if PyTorch had run
from the start (5 minigan steps + 5 PyTorch steps == 10 PyTorch steps); anything that
cannot be mapped is refused in one line naming where it sits.
"""
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason='PyTorch is not installed (pip install -e ".[torch]")')
import torch.nn.functional as F  # noqa: E402

import minigan  # noqa: E402
from minigan import interop, losses, nn, optim  # noqa: E402

TIGHT = 1e-12  # float64: rounding only (the two sides add in different orders)


def x64(m, n, seed=0):
    return np.random.default_rng(seed).normal(size=(m, n))


def rng(seed=0):
    return minigan.get_backend("numpy").random(seed)


def torch_layout(array):
    """A minigan parameter's array in PyTorch's layout: 2-D weights are transposed."""
    return array.T if array.ndim == 2 else array


# ---- the layers, as minigan builds them: every supported kind ---------------------------------
LAYERS = {
    "Linear": lambda dtype: nn.Linear(3, 4, rng=rng(1), dtype=dtype),
    "ReLU": lambda dtype: nn.ReLU(),
    "LeakyReLU": lambda dtype: nn.LeakyReLU(0.3),
    "Tanh": lambda dtype: nn.Tanh(),
    "Sigmoid": lambda dtype: nn.Sigmoid(),
    "Dropout (eval)": lambda dtype: nn.Dropout(0.4, rng(2)).eval(),
    "MLP relu": lambda dtype: nn.MLP([3, 5, 5, 2], "relu", rng=rng(3), dtype=dtype),  # 5 x 5: a square weight
    "MLP leaky_relu": lambda dtype: nn.MLP([3, 6, 1], "leaky_relu", rng=rng(4), dtype=dtype),
    "MLP tanh, sigmoid out": lambda dtype: nn.MLP([3, 6, 2], "tanh", output="sigmoid", rng=rng(5), dtype=dtype),
    "MLP dropout (eval)": lambda dtype: nn.MLP([3, 6, 6, 2], "relu", output="tanh", dropout=0.3, rng=rng(6),
                                               dtype=dtype).eval(),
    "nested Sequential": lambda dtype: nn.Sequential(
        nn.Linear(3, 4, rng=rng(7), dtype=dtype), nn.Sequential(nn.Tanh(), nn.Linear(4, 2, rng=rng(8), dtype=dtype))),
}


def assert_bit_identical(a: dict, b: dict):
    assert list(a) == list(b)
    for name in a:
        assert a[name].dtype == b[name].dtype, name
        assert np.array_equal(a[name], b[name]), f"{name} changed on the round trip"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(LAYERS))
def test_round_trip_minigan_torch_minigan_is_bit_identical(name, dtype):
    module = LAYERS[name](dtype)
    converted = interop.to_torch(module)
    back = interop.from_torch(converted)
    assert_bit_identical(module.state_dict(), back.state_dict())
    assert converted.training == back.training == module.training
    for ours, theirs in zip(module.parameters(), converted.parameters()):  # PyTorch's layout, same bits
        assert np.array_equal(torch_layout(ours.numpy()), theirs.detach().numpy())


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_round_trip_torch_minigan_torch_is_bit_identical(dtype):
    with torch.random.fork_rng():  # PyTorch's own random initial weights, without moving the global generator
        torch.manual_seed(0)
        module = torch.nn.Sequential(torch.nn.Linear(3, 7), torch.nn.LeakyReLU(0.1), torch.nn.Dropout(0.2),
                                     torch.nn.Linear(7, 7), torch.nn.Tanh(), torch.nn.Linear(7, 1)).to(dtype)
    back = interop.to_torch(interop.from_torch(module))
    assert [n for n, _ in back.named_parameters()] == [n for n, _ in module.named_parameters()]
    for (name, a), b in zip(module.named_parameters(), back.parameters()):
        assert a.dtype == b.dtype and torch.equal(a, b), name
    assert back[1].negative_slope == 0.1 and back[2].p == 0.2


def test_to_torch_leaves_torchs_global_random_generator_alone():
    before = torch.random.get_rng_state()
    interop.to_torch(nn.MLP([2, 32, 32, 1]))
    assert torch.equal(before, torch.random.get_rng_state()), "converting drew PyTorch random numbers"


def test_names_map_by_position():
    D = nn.MLP([2, 8, 8, 1], "leaky_relu")
    names = [n for n, _ in interop.to_torch(D).named_parameters()]
    assert [n for n, _ in D.named_parameters()] == ["layers." + n for n in names]


@pytest.mark.parametrize("backend", ["numpy", "strict"])
def test_from_torch_onto_a_backend(backend):
    module = interop.to_torch(nn.MLP([2, 4, 1], dtype="float64"))
    back = interop.from_torch(module, backend=backend)
    assert back.backend.name == backend and all(p.backend.name == backend for p in back.parameters())
    y = back(minigan.tensor(x64(3, 2), backend=backend, dtype="float64"))
    assert np.allclose(y.numpy(), module(torch.from_numpy(x64(3, 2))).detach().numpy(), atol=TIGHT)


# ---- gradients: every supported layer ---------------------------------------------------------
@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_values_and_gradients_are_equal(name):
    """y = f(x), L = sum(y * w) for a fixed random w: y, dL/dx and dL/dtheta on both sides."""
    module = LAYERS[name]("float64")
    converted = interop.to_torch(module)
    n_in = 3
    x = x64(6, n_in, seed=1)
    x_ours = minigan.tensor(x, requires_grad=True, dtype="float64")
    y_ours = module(x_ours)
    w = x64(*y_ours.shape, seed=2)
    (y_ours * minigan.tensor(w, dtype="float64")).sum().backward()

    x_theirs = torch.tensor(x, requires_grad=True)
    y_theirs = converted(x_theirs)
    (y_theirs * torch.from_numpy(w)).sum().backward()

    np.testing.assert_allclose(y_ours.numpy(), y_theirs.detach().numpy(), rtol=0, atol=TIGHT)
    np.testing.assert_allclose(x_ours.grad, x_theirs.grad.numpy(), rtol=0, atol=TIGHT)
    for (pname, ours), theirs in zip(module.named_parameters(), converted.parameters()):
        np.testing.assert_allclose(torch_layout(ours.grad), theirs.grad.numpy(), rtol=0, atol=TIGHT, err_msg=pname)


def test_dropout_trains_in_both_and_keeps_its_probability():
    layer = nn.Dropout(0.25, rng(0))
    converted = interop.to_torch(layer)
    assert isinstance(converted, torch.nn.Dropout) and converted.p == 0.25 and converted.training
    x = torch.ones(4000, 1, dtype=torch.float64)
    dropped = float((converted(x) == 0).double().mean())
    assert 0.2 < dropped < 0.3  # masks come from PyTorch's own generator, with the same p


# ---- gradients: every loss ----------------------------------------------------------------------
# minigan's loss -> the same loss in PyTorch, as the tutorial and docs/next_steps.md write it.
# Real and fake batches differ in size (each mean has its own m) and in shape ((m, 1) and (m,)).
LOSSES = {
    "value_function": (
        lambda r, f: losses.value_function(r, f),
        lambda r, f: -(F.binary_cross_entropy_with_logits(r, torch.ones_like(r))
                       + F.binary_cross_entropy_with_logits(f, torch.zeros_like(f))),
    ),
    "discriminator_loss": (
        lambda r, f: losses.discriminator_loss(r, f),
        lambda r, f: F.binary_cross_entropy_with_logits(r, torch.ones_like(r))
        + F.binary_cross_entropy_with_logits(f, torch.zeros_like(f)),
    ),
    "generator_loss non_saturating": (
        lambda r, f: losses.generator_loss(f, form="non_saturating"),
        lambda r, f: F.binary_cross_entropy_with_logits(f, torch.ones_like(f)),
    ),
    "generator_loss minimax": (
        lambda r, f: losses.generator_loss(f, form="minimax"),
        lambda r, f: -F.binary_cross_entropy_with_logits(f, torch.zeros_like(f)),
    ),
    "discriminator_loss lsgan": (
        lambda r, f: losses.discriminator_loss(r, f, form="lsgan"),
        lambda r, f: 0.5 * F.mse_loss(r, torch.ones_like(r)) + 0.5 * F.mse_loss(f, torch.zeros_like(f)),
    ),
    "generator_loss lsgan": (
        lambda r, f: losses.generator_loss(f, form="lsgan"),
        lambda r, f: 0.5 * F.mse_loss(f, torch.ones_like(f)),
    ),
    "discriminator_loss wgan": (
        lambda r, f: losses.discriminator_loss(r, f, form="wgan"),
        lambda r, f: f.mean() - r.mean(),
    ),
    "generator_loss wgan": (
        lambda r, f: losses.generator_loss(f, form="wgan"),
        lambda r, f: -f.mean(),
    ),
    "discriminator_loss hinge": (   # logits of size ~3: some inside the margin, some past it
        lambda r, f: losses.discriminator_loss(r, f, form="hinge"),
        lambda r, f: F.relu(1.0 - r).mean() + F.relu(1.0 + f).mean(),
    ),
    "generator_loss hinge": (
        lambda r, f: losses.generator_loss(f, form="hinge"),
        lambda r, f: -f.mean(),
    ),
    "bce_with_logits, smoothed label 0.9": (
        lambda r, f: losses.bce_with_logits(r, 0.9),
        lambda r, f: F.binary_cross_entropy_with_logits(r, torch.full_like(r, 0.9)),
    ),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_values_and_gradients_are_equal(name):
    ours_fn, theirs_fn = LOSSES[name]
    real, fake = 3.0 * x64(7, 1, seed=3), 3.0 * x64(5, 1, seed=4).reshape(5)   # (7, 1) and (5,), logits up to ~9
    r_ours, f_ours = (minigan.tensor(a, requires_grad=True, dtype="float64") for a in (real, fake))
    r_theirs, f_theirs = (torch.tensor(a, requires_grad=True) for a in (real, fake))
    loss_ours, loss_theirs = ours_fn(r_ours, f_ours), theirs_fn(r_theirs, f_theirs)
    loss_ours.backward()
    loss_theirs.backward()
    assert abs(loss_ours.item() - loss_theirs.item()) <= TIGHT
    for ours, theirs in ((r_ours, r_theirs), (f_ours, f_theirs)):
        if theirs.grad is None:  # a loss of the fake logits only
            assert ours.grad is None or not np.any(ours.grad)
        else:
            np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=0, atol=TIGHT)


def test_bce_with_logits_gradient_to_the_targets_is_equal():
    a, t = x64(6, 1, seed=5), np.random.default_rng(6).uniform(size=(6, 1))
    a_ours, t_ours = (minigan.tensor(v, requires_grad=True, dtype="float64") for v in (a, t))
    a_theirs, t_theirs = (torch.tensor(v, requires_grad=True) for v in (a, t))
    losses.bce_with_logits(a_ours, t_ours).backward()
    F.binary_cross_entropy_with_logits(a_theirs, t_theirs).backward()
    np.testing.assert_allclose(a_ours.grad, a_theirs.grad.numpy(), rtol=0, atol=TIGHT)
    np.testing.assert_allclose(t_ours.grad, t_theirs.grad.numpy(), rtol=0, atol=TIGHT)


# ---- the gradient penalties: double backprop on both sides --------------------------------------
def torch_input_gradient(D, x):
    """grad_x of sum D(x), kept in the graph (create_graph) so the penalty reaches D's parameters."""
    (grad_x,) = torch.autograd.grad(D(x).sum(), x, create_graph=True)
    return grad_x                                                  # (m, dim)


PENALTIES = {
    "r1_penalty": (
        lambda D, real, fake, eps: losses.r1_penalty(D, real),
        lambda D, real, fake, eps: (torch_input_gradient(D, real.requires_grad_()) ** 2).sum(dim=1).mean(),
    ),
    "gradient_penalty": (   # minigan adds 1e-12 under the square root (a flat D): hence 1e-9 below
        lambda D, real, fake, eps: losses.gradient_penalty(D, real, fake, eps),
        lambda D, real, fake, eps: ((torch_input_gradient(D, (eps * real + (1 - eps) * fake).requires_grad_())
                                     .norm(2, dim=1) - 1) ** 2).mean(),
    ),
}


@pytest.mark.parametrize("activation", ["tanh", "leaky_relu"])
@pytest.mark.parametrize("name", sorted(PENALTIES))
def test_penalty_values_and_gradients_in_ds_parameters_are_equal(name, activation):
    ours_fn, theirs_fn = PENALTIES[name]
    D = nn.MLP([2, 8, 8, 1], activation, rng=rng(9), dtype="float64")
    D_torch = interop.to_torch(D)
    real, fake = x64(6, 2, seed=10), x64(6, 2, seed=11)
    eps = np.random.default_rng(12).uniform(size=(6, 1))
    penalty = ours_fn(D, *(minigan.tensor(a, dtype="float64") for a in (real, fake, eps)))
    penalty.backward()
    penalty_torch = theirs_fn(D_torch, *(torch.from_numpy(a) for a in (real, fake, eps)))
    penalty_torch.backward()
    assert abs(penalty.item() - penalty_torch.item()) <= 1e-9
    for (pname, ours), theirs in zip(D.named_parameters(), D_torch.parameters()):
        # None = no path from the penalty (the output bias; with leaky_relu every bias: grad_x D is
        # piecewise constant in them). Either side may say None where the other has zeros.
        ours_grad = np.zeros(tuple(theirs.shape)) if ours.grad is None else torch_layout(ours.grad)
        theirs_grad = np.zeros(theirs.shape) if theirs.grad is None else theirs.grad.numpy()
        np.testing.assert_allclose(ours_grad, theirs_grad, rtol=0, atol=1e-9, err_msg=pname)


# ---- optimizers: state carried over mid-run ----------------------------------------------------
OPTIMIZERS = {
    "Adam": lambda params: optim.Adam(params, lr=1e-2, betas=(0.5, 0.999)),
    "SGD momentum": lambda params: optim.SGD(params, lr=0.05, momentum=0.9),
    "SGD nesterov": lambda params: optim.SGD(params, lr=0.05, momentum=0.9, nesterov=True),
    "SGD plain": lambda params: optim.SGD(params, lr=0.05),
}


def batches(n, seed=7):
    """n (real, fake) minibatches for a discriminator, the same list for both sides."""
    g = np.random.default_rng(seed)
    return [(g.normal(1.0, 0.5, size=(16, 2)), g.normal(-1.0, 0.5, size=(16, 2))) for _ in range(n)]


def minigan_steps(D, opt, data):
    for x_real, x_fake in data:
        opt.zero_grad()
        real, fake = (D(minigan.tensor(x, dtype="float64")) for x in (x_real, x_fake))
        losses.discriminator_loss(real, fake).backward()
        opt.step()


def torch_steps(D, opt, data):
    for x_real, x_fake in data:
        opt.zero_grad()
        real, fake = D(torch.from_numpy(x_real)), D(torch.from_numpy(x_fake))
        loss = (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
                + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))
        loss.backward()
        opt.step()


def max_difference(a, b):
    return max(float((p - q).detach().abs().max()) for p, q in zip(a.parameters(), b.parameters()))


@pytest.mark.parametrize("kind", sorted(OPTIMIZERS))
def test_five_minigan_steps_then_five_torch_steps_equal_ten_torch_steps(kind):
    make = OPTIMIZERS[kind]
    data = batches(10)
    D = nn.MLP([2, 8, 8, 1], "leaky_relu", rng=rng(0), dtype="float64")
    D_ten = interop.to_torch(D)                                        # PyTorch from step 0
    opt_ten = interop.to_torch_optimizer(make(D.parameters()), D_ten.parameters())
    torch_steps(D_ten, opt_ten, data)

    opt = make(D.parameters())
    minigan_steps(D, opt, data[:5])                                    # 5 steps in minigan ...
    D_five = interop.to_torch(D)
    opt_five = interop.to_torch_optimizer(opt, D_five.parameters())
    fresh = interop.to_torch(D)
    torch_steps(D_five, opt_five, data[5:])                            # ... and 5 more in PyTorch
    assert max_difference(D_five, D_ten) <= 1e-12

    # the carried state is what made them equal: a fresh optimizer ends elsewhere
    torch_steps(fresh, interop.to_torch_optimizer(make(nn.MLP([2, 8, 8, 1], dtype="float64").parameters()),
                                                  fresh.parameters()), data[5:])
    if kind != "SGD plain":  # plain gradient descent has no state to carry
        assert max_difference(fresh, D_ten) > 1e-4


def test_adam_state_is_carried_in_torchs_layout():
    D = nn.MLP([2, 3, 1], rng=rng(0), dtype="float64")
    opt = optim.Adam(D.parameters(), lr=1e-2)
    minigan_steps(D, opt, batches(3))
    converted = interop.to_torch(D)
    carried = interop.to_torch_optimizer(opt, converted.parameters())
    group = carried.param_groups[0]
    assert (group["lr"], group["betas"], group["eps"]) == (1e-2, (0.5, 0.999), 1e-8)
    for i, p in enumerate(converted.parameters()):
        state = carried.state[p]
        assert float(state["step"]) == 3
        assert np.array_equal(state["exp_avg"].numpy(), torch_layout(opt.buffers["m"][i]))
        assert np.array_equal(state["exp_avg_sq"].numpy(), torch_layout(opt.buffers["v"][i]))


# ---- what cannot be mapped, and bad input ---------------------------------------------------------
class Doubling(nn.Module):
    def forward(self, x):
        return x * 2.0


class Reversed(nn.Sequential):   # a Sequential whose forward is not the layers in order
    def forward(self, x):
        for layer in reversed(self.layers):
            x = layer(x)
        return x


def test_an_unsupported_minigan_layer_is_named():
    model = nn.Sequential(nn.Linear(4, 6), nn.Maxout(6, 2, 3))
    with pytest.raises(interop.UnsupportedLayer, match=r"module\.layers\[1\]: got a Maxout, .*Linear, ReLU"):
        interop.to_torch(model)
    with pytest.raises(interop.UnsupportedLayer, match=r"^module: got a Doubling"):
        interop.to_torch(Doubling())
    with pytest.raises(interop.UnsupportedLayer, match=r"^module: got a Reversed"):
        interop.to_torch(Reversed(nn.Linear(2, 2), nn.Tanh()))


def test_an_unsupported_torch_layer_is_named():
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Conv1d(1, 1, 3)))
    with pytest.raises(interop.UnsupportedLayer, match=r"torch_module\[1\]\[1\]: got a torch\.nn\.Conv1d"):
        interop.from_torch(model)
    with pytest.raises(interop.UnsupportedLayer, match=r"bias=False"):
        interop.from_torch(torch.nn.Linear(2, 2, bias=False))
    with pytest.raises(interop.UnsupportedLayer, match=r"negative_slope=1.5"):
        interop.from_torch(torch.nn.LeakyReLU(1.5))


def test_bad_arguments_say_what_was_wanted():
    D = nn.MLP([2, 3, 1], dtype="float64")
    converted = interop.to_torch(D)
    with pytest.raises(TypeError, match="module: got str, wanted a minigan nn.Module"):
        interop.to_torch("D")
    with pytest.raises(TypeError, match="torch_module: got MLP, wanted a torch.nn.Module"):
        interop.from_torch(D)
    opt = optim.Adam(D.parameters())
    with pytest.raises(ValueError, match="torch_params: got 3 parameters, wanted 4"):
        interop.to_torch_optimizer(opt, list(converted.parameters())[:3])
    untransposed = [torch.nn.Parameter(torch.from_numpy(p.numpy())) for p in D.parameters()]
    with pytest.raises(ValueError, match=r"torch_params\[0\]: got shape \(2, 3\), wanted \(3, 2\)"):
        interop.to_torch_optimizer(opt, untransposed)
    with pytest.raises(TypeError, match="opt: got dict, wanted a minigan optim.Adam or optim.SGD"):
        interop.to_torch_optimizer({}, converted.parameters())


def test_without_torch_a_clear_message(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)   # import torch now fails, as where it is not installed
    with pytest.raises(ModuleNotFoundError, match=r'pip install -e "\.\[torch\]"'):
        interop.to_torch(nn.Linear(2, 2))


def test_importing_minigan_interop_does_not_import_torch():
    code = "import sys, minigan, minigan.interop; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# ---- convolutional networks: conv, transposed conv, batch norm, flatten ------------------------
def dcgan_pair(dtype):
    """A small DCGAN: G (10 -> 4 x 4 x 8 -> 8 x 8 x 4 -> 16 x 16 x 3) with BatchNorm, D mirrored."""
    G = nn.Sequential(nn.Linear(10, 8 * 4 * 4, rng=rng(11), dtype=dtype), nn.BatchNorm1d(8 * 4 * 4, dtype=dtype),
                      nn.ReLU(), nn.Unflatten((8, 4, 4)),
                      nn.ConvTranspose2d(8, 4, 4, stride=2, padding=1, bias=False, init="normal", rng=rng(12),
                                         dtype=dtype),
                      nn.BatchNorm2d(4, dtype=dtype), nn.ReLU(),
                      nn.ConvTranspose2d(4, 3, (3, 4), stride=(2, 2), padding=(1, 1), output_padding=(1, 0),
                                         rng=rng(13), dtype=dtype), nn.Tanh())
    D = nn.Sequential(nn.Conv2d(3, 4, 4, stride=2, padding=1, rng=rng(14), dtype=dtype), nn.LeakyReLU(0.2),
                      nn.Conv2d(4, 8, (4, 3), stride=(2, 1), padding=(1, 2), bias=False, rng=rng(15), dtype=dtype),
                      nn.BatchNorm2d(8, dtype=dtype), nn.LeakyReLU(0.2), nn.Flatten(),
                      nn.Linear(8 * 4 * 10, 1, rng=rng(16), dtype=dtype))
    return G, D


def prime_running_statistics(module, x):
    """One training-mode forward, so the running statistics are not the initial (0, 1)."""
    module(minigan.tensor(x, dtype=str(module.parameters()[0].dtype)))
    return module


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_convolutional_round_trips_are_bit_identical(dtype):
    G, D = dcgan_pair(dtype)
    prime_running_statistics(G, x64(5, 10, seed=9))
    for module in (G, D.eval()):
        converted = interop.to_torch(module)
        back = interop.from_torch(converted)
        assert_bit_identical(module.state_dict(), back.state_dict())   # buffers included
        assert converted.training == back.training == module.training
        ours = module.state_dict()
        theirs = {k: v.numpy() for k, v in converted.state_dict().items() if not k.endswith("num_batches_tracked")}
        assert [f"layers.{k}" for k in theirs] == list(ours)
        for key, value in theirs.items():
            assert np.array_equal(torch_layout(ours["layers." + key]), value), key
        again = interop.to_torch(back)
        for (name, a), b in zip(converted.state_dict().items(), again.state_dict().values()):
            assert a.dtype == b.dtype and torch.equal(a, b), name


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("net", ["G", "D"])
def test_convolutional_values_gradients_and_running_statistics_are_equal(net, mode):
    """y, dL/dx, dL/dtheta (and, in training mode, the updated running statistics) equal PyTorch's."""
    G, D = dcgan_pair("float64")
    module = {"G": G, "D": D}[net]
    x = x64(5, 10, seed=1) if net == "G" else np.random.default_rng(1).normal(size=(5, 3, 16, 16))
    prime_running_statistics(module, x * 0.5 + 1.0)
    module.train(mode == "train")
    converted = interop.to_torch(module)
    x_ours = minigan.tensor(x, requires_grad=True, dtype="float64")
    y_ours = module(x_ours)
    w = np.random.default_rng(2).normal(size=y_ours.shape)
    (y_ours * minigan.tensor(w, dtype="float64")).sum().backward()
    x_theirs = torch.tensor(x, requires_grad=True)
    y_theirs = converted(x_theirs)
    (y_theirs * torch.from_numpy(w)).sum().backward()
    np.testing.assert_allclose(y_ours.numpy(), y_theirs.detach().numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(x_ours.grad, x_theirs.grad.numpy(), rtol=0, atol=1e-10)
    for (name, ours), theirs in zip(module.named_parameters(), converted.parameters()):
        np.testing.assert_allclose(torch_layout(ours.grad), theirs.grad.numpy(), rtol=1e-10, atol=1e-10, err_msg=name)
    for (name, ours), theirs in zip(module.named_buffers(), [b for n, b in converted.named_buffers()
                                                             if not n.endswith("num_batches_tracked")]):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-14, err_msg=name)


def test_convolutions_minigan_cannot_compute_are_refused():
    with pytest.raises(interop.UnsupportedLayer, match=r"torch_module\[0\]: got a Conv2d with .*dilation=\(2, 2\)"):
        interop.from_torch(torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, dilation=2)))
    with pytest.raises(interop.UnsupportedLayer, match="groups=2"):
        interop.from_torch(torch.nn.ConvTranspose2d(4, 4, 3, groups=2))
    with pytest.raises(interop.UnsupportedLayer, match="affine=False"):
        interop.from_torch(torch.nn.BatchNorm2d(3, affine=False))
    with pytest.raises(interop.UnsupportedLayer, match="got a torch.nn.Flatten"):
        interop.from_torch(torch.nn.Flatten(start_dim=0))
