"""minigan.gan.builder: a GANConfig becomes exactly the GAN it describes (issue 26).

Each field of the config is looked for in what build() makes: both optimizers with the
config's lr and betas (or momentum), the networks' shapes and activations drawn from the
seed's generator in a fixed order, the trainer's k, m, loss and penalty; schedules() gives
the lr decay and momentum ramp as values per step; resume() rebuilds, moves, changes.
"""
import numpy as np
import numpy.testing as npt
import pytest

import minigan
from minigan import data, gan, nn, optim
from minigan.gan import builder, checkpoint
from minigan.nn.discrete import CategoricalGenerator


def tiny(**changes):
    return gan.recipe("ring", **{"g_hidden": (8,), "d_hidden": (8,), "m": 16, "steps": 20, "threads": None,
                                 **changes})


def params(module):
    return [p.numpy().copy() for p in module.parameters()]


@pytest.mark.parametrize("betas", [(0.5, 0.999), (0.3, 0.8)])
def test_both_adams_get_the_configs_lr_and_betas(betas):
    model = builder.build(tiny(lr=3e-3, betas=betas))
    for opt, net in ((model.opt_G, model.G), (model.opt_D, model.D)):
        assert isinstance(opt, optim.Adam)
        assert opt.lr == 3e-3 and tuple(opt.betas) == betas
        assert [id(p) for p in opt.params] == [id(p) for p in net.parameters()]


def test_both_sgds_get_the_configs_lr_and_momentum():
    model = builder.build(tiny(optimizer="sgd", lr=1e-2, momentum=0.3, momentum_final=0.6))
    for opt, net in ((model.opt_G, model.G), (model.opt_D, model.D)):
        assert isinstance(opt, optim.SGD) and opt.lr == 1e-2 and opt.momentum == 0.3
        assert [id(p) for p in opt.params] == [id(p) for p in net.parameters()]


@pytest.mark.parametrize("noise", ["normal", "uniform"])
def test_g_then_d_are_drawn_from_the_seeds_generator_then_the_minibatches(noise):
    """One generator, backend.random(seed): G's weights, then D's, then every minibatch."""
    config = tiny(seed=5, noise=noise, noise_dim=3, g_activation="leaky_relu", g_output="tanh",
                  d_activation="tanh")         # not MLP's default (relu): D must be given its own
    model = builder.build(config)
    rng = minigan.get_backend("numpy").random(5)
    G = nn.MLP([3, 8, 2], "leaky_relu", "tanh", rng=rng)
    D = nn.MLP([2, 8, 1], "tanh", rng=rng)
    for ours, theirs in ((model.G, G), (model.D, D)):
        for a, b in zip(params(ours), params(theirs)):
            npt.assert_array_equal(a, b)
    assert model.rng.state() == rng.state()
    z = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    npt.assert_array_equal(model.G(minigan.tensor(z)).numpy(), G(minigan.tensor(z)).numpy())
    x = minigan.tensor(np.random.default_rng(1).normal(size=(64, 2)).astype(np.float32) * 3)
    npt.assert_array_equal(model.D(x).numpy(), D(x).numpy())           # D's own activation, not G's
    assert isinstance(model.p_z, data.UniformNoise if noise == "uniform" else data.NormalNoise)
    assert model.p_z.dim == 3


def test_the_trainer_gets_k_m_the_loss_and_the_penalty():
    config = tiny(k=3, m=32, loss="wgan", penalty="gp", gamma=2.5, clip=0.05)
    model = builder.build(config, check_every=7)
    assert (model.k, model.m, model.loss, model.penalty, model.gamma, model.clip) == (3, 32, "wgan", "gp", 2.5, 0.05)
    assert model.check_every == 7 and model.config is config and model.backend.name == "numpy"
    assert builder.build(tiny(threads=2)).thread_policy.threads == 2 and model.thread_policy.threads is None
    assert builder.build(tiny()).check_every == 25
    assert model.run_id == gan.run_id(config) and model.step == 0
    assert model.configs == [{"step": 0, "config": config.to_dict()}]
    assert model.start_norm == pytest.approx(model.parameter_norm()) and model.start_norm > 0


@pytest.mark.parametrize("dataset, dim", [("gaussian1d", 1), ("ring", 2), ("grid", 2), ("categorical", 8),
                                          ("points", 2)])
def test_each_dataset_gets_its_own_data(dataset, dim):
    changes = {"points": ((0.0, 1.0), (2.0, 3.0))} if dataset == "points" else {}
    config = gan.recipe(dataset, steps=10, threads=None, **changes)
    p_data = builder.make_dataset(config)
    assert p_data.dim == dim
    x = p_data.sample(4000, minigan.get_backend("numpy").random(0))
    if dataset == "ring":
        npt.assert_allclose(np.hypot(x[:, 0], x[:, 1]), 2.0, atol=0.15)
        assert len({round(a * 2) for a in np.arctan2(x[:, 1], x[:, 0]) * 4 / np.pi}) <= 10
    if dataset == "grid":
        assert len({(round(a / 2), round(b / 2)) for a, b in x}) == 25
    if dataset == "points":
        assert {(round(a), round(b)) for a, b in x} == {(0, 1), (2, 3)}
    if dataset == "gaussian1d":
        assert abs(x.mean() - 4.0) < 0.05
    model = builder.build(config)
    assert isinstance(model.G, CategoricalGenerator) == (dataset == "categorical")
    if dataset == "categorical":
        assert model.G.mode == "straight_through" and isinstance(model.p_z, data.GumbelNoise)


def test_digits_build_images_in_minus_one_to_one():
    pytest.importorskip("sklearn")
    model = builder.build(gan.recipe("digits", steps=10, threads=None))
    assert model.p_data.dim == 64
    assert [p.shape for p in model.G.parameters()][-1] == (64,)


def test_build_refuses_what_is_not_a_config():
    with pytest.raises(TypeError, match="config: got dict, wanted a GANConfig"):
        builder.build(tiny().to_dict())


# ---- schedules --------------------------------------------------------------------------------
def test_the_lr_decays_linearly_from_lr_since_to_lr_end():
    config = tiny(lr=1e-2, lr_decay_to=0.1, steps=100, lr_since=20, lr_until=60)
    model = builder.build(config)
    (schedule,) = builder.schedules(config, model)
    assert schedule.attribute == "lr" and schedule.optimizers == [model.opt_G, model.opt_D]
    assert schedule.value(0) == pytest.approx(1e-2) and schedule.value(20) == pytest.approx(1e-2)
    assert schedule.value(40) == pytest.approx(5.5e-3) and schedule.value(60) == pytest.approx(1e-3)
    assert schedule.value(100) == pytest.approx(1e-3)
    assert builder.schedules(tiny(lr_decay_to=1.0), model) == []          # a constant lr: no schedule


def test_sgds_momentum_rises_to_momentum_final():
    config = tiny(optimizer="sgd", lr=1e-2, momentum=0.5, momentum_final=0.7, steps=50, lr_decay_to=1.0)
    model = builder.build(config)
    (ramp,) = builder.schedules(config, model)
    assert ramp.attribute == "momentum" and ramp.optimizers == [model.opt_G, model.opt_D]
    assert (ramp.value(0), ramp.value(25), ramp.value(50)) == pytest.approx((0.5, 0.6, 0.7))
    assert builder.schedules(config.replace(momentum_final=0.5), model) == []
    assert len(builder.schedules(config.replace(lr_decay_to=0.5), model)) == 2
    assert builder.schedules(tiny(lr_decay_to=1.0, momentum_final=0.9), model) == []   # adam: no ramp


# ---- resume -------------------------------------------------------------------------------------
@pytest.fixture()
def saved(tmp_path):
    def make(**changes):
        config = tiny(**changes)
        model = builder.build(config)
        model.train(6, callbacks=builder.schedules(config, model))
        return str(checkpoint.save(tmp_path / "run.npz", model)), model
    return make


def test_resume_is_the_run_at_its_step_with_its_id(saved):
    path, model = saved()
    back = builder.resume(path)
    assert back.step == 6 and back.run_id == model.run_id and back.configs == model.configs
    assert back.rng.state() == model.rng.state()
    for ours, theirs in ((back.G, model.G), (back.D, model.D)):
        for a, b in zip(params(ours), params(theirs)):
            npt.assert_array_equal(a, b)
    for ours, theirs in ((back.opt_G, model.opt_G), (back.opt_D, model.opt_D)):
        for key, value in theirs.state_dict().items():
            npt.assert_array_equal(ours.state_dict()[key], value, err_msg=key)


def test_resume_moves_the_backend_and_the_threads(saved):
    path, model = saved()
    back = builder.resume(path, backend="strict", threads=1)
    assert back.backend.name == "strict" and back.config.threads == 1 and back.config.backend == "strict"
    assert back.configs[-1] == {"step": 6, "config": back.config.to_dict()}   # the backend is part of the run's id
    assert builder.resume(path, threads=1).configs == model.configs  # the thread count alone is no change of it
    npt.assert_array_equal(back.G.parameters()[0].numpy(), model.G.parameters()[0].numpy())


def test_a_change_on_resume_is_recorded_with_its_step(saved):
    path, model = saved()
    back = builder.resume(path, changes={"k": 2})
    assert back.k == 2 and back.config.k == 2
    assert back.configs == [*model.configs, {"step": 6, "config": back.config.to_dict()}]


def test_a_new_lr_rescales_sgds_velocity_and_a_new_optimizer_starts_empty(saved):
    path, model = saved(optimizer="sgd", lr=1e-2, lr_decay_to=1.0)
    velocity = [v.copy() for v in model.opt_D.buffers["velocity"]]
    back = builder.resume(path, changes={"lr": 5e-3})
    for got, old in zip(back.opt_D.buffers["velocity"], velocity):
        npt.assert_allclose(got, old * 0.5, rtol=1e-6)               # in parameter units: scaled with the lr
    same = builder.resume(path)
    for got, old in zip(same.opt_D.buffers["velocity"], velocity):
        npt.assert_array_equal(got, old)
    adam = builder.resume(path, changes={"optimizer": "adam"})
    assert isinstance(adam.opt_D, optim.Adam) and adam.opt_D.state_dict()["step"] == 0
    npt.assert_array_equal(adam.D.parameters()[0].numpy(), model.D.parameters()[0].numpy())


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_a_new_lr_on_resume_is_the_lr_a_constant_lr_run_goes_on_with(saved, optimizer):
    """Bug found by issue 26: the restored optimizer state held the old lr, and with no lr
    schedule (lr_decay_to = 1, the digits recipe's) nothing set the new one: --lr was printed
    and ignored."""
    path, _ = saved(optimizer=optimizer, lr=1e-2, lr_decay_to=1.0)
    back = builder.resume(path, changes={"lr": 5e-3})
    back.train(2, callbacks=builder.schedules(back.config, back))
    assert back.opt_G.lr == back.opt_D.lr == 5e-3
    assert builder.resume(path).opt_D.lr == 1e-2


def test_resume_refuses_a_checkpoint_without_a_config_or_a_bad_change(saved):
    path, model = saved()
    with pytest.raises(checkpoint.CheckpointError, match="its config is not valid here: k: got 0"):
        builder.resume(path, changes={"k": 0})
    model.config = None
    bare = checkpoint.save(path.replace("run.npz", "bare.npz"), model)
    with pytest.raises(checkpoint.CheckpointError, match="holds no config"):
        builder.resume(bare)


class SmallImages:
    """Stands in for the faces (drawing 20,000 of them takes a while): 1 x 8 x 8 images."""

    dim, image_shape = 64, (1, 8, 8)

    def sample(self, m, rng):
        return rng.uniform((m, 64), -1.0, 1.0)


@pytest.mark.parametrize("noise, backend, output", [("normal", "numpy", "tanh"), ("uniform", "strict", None)])
def test_a_dcgan_config_builds_dcgan_networks_from_the_seed(noise, backend, output, monkeypatch):
    monkeypatch.setattr(builder, "make_dataset", lambda config: SmallImages())
    config = gan.recipe("faces", g_hidden=(4,), d_hidden=(2,), noise_dim=3, noise=noise, seed=2, m=4, steps=3,
                        threads=None, backend=backend, g_output=output)
    model = builder.build(config)
    rng = minigan.get_backend(backend).random(2)
    G = nn.dcgan_generator(3, (4,), (1, 8, 8), output, rng=rng, backend=backend)
    D = nn.dcgan_discriminator((2,), (1, 8, 8), minibatch_std=True, rng=rng, backend=backend)   # the faces' recipe has it
    assert model.G.backend.name == model.D.backend.name == backend
    z = minigan.tensor(np.random.default_rng(0).normal(size=(4, 3)) * 3, backend=backend, dtype="float32")
    npt.assert_array_equal(model.G.backend.to_host(model.G(z).data), G.backend.to_host(G(z).data))   # its output too
    for ours, theirs in ((model.G, G), (model.D, D)):
        assert type(ours) is type(theirs) and len(params(ours)) == len(params(theirs))
        for a, b in zip(params(ours), params(theirs)):
            npt.assert_array_equal(a, b)
    assert model.rng.state() == rng.state()
    assert isinstance(model.p_z, data.UniformNoise if noise == "uniform" else data.NormalNoise) and model.p_z.dim == 3
    assert isinstance(model.opt_D, optim.Adam) and model.opt_D.lr == 1e-3


def test_a_config_saved_without_an_optimizer_field_resumes_with_its_state(saved, tmp_path):
    """A config without the field (written before it existed) means the default, adam: the
    optimizer's state loads."""
    import json
    path, model = saved()
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    config = json.loads(str(arrays["config"]))
    del config["optimizer"]
    arrays["config"] = np.asarray(json.dumps(config))
    older = str(tmp_path / "older.npz")
    np.savez(older, **arrays)
    back = builder.resume(older)
    for key, value in model.opt_D.state_dict().items():
        npt.assert_array_equal(back.opt_D.state_dict()[key], value, err_msg=key)


def test_the_image_datasets_come_from_their_own_loaders(monkeypatch):
    """faces and mnist (slow to draw or not on disk here): the loader each calls, with its path."""
    calls = []
    monkeypatch.setattr(data, "faces", lambda: calls.append("faces") or "the faces")
    monkeypatch.setattr(data, "mnist", lambda path: calls.append(path) or "mnist")
    assert builder.make_dataset(gan.recipe("faces")) == "the faces"
    assert builder.make_dataset(gan.recipe("mnist", dataset_path="/data/mnist")) == "mnist"
    assert calls == ["faces", "/data/mnist"]


@pytest.mark.parametrize("mode", ["soft", "sample"])
def test_a_categorical_g_takes_its_mode_and_backend_from_the_config(mode):
    model = builder.build(gan.recipe("categorical", g_output=mode, backend="strict", steps=10, threads=None))
    assert model.G.mode == mode and model.G.backend.name == "strict" and model.G.k == 8
