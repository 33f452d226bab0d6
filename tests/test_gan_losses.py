"""The trainer's loss options: each form, the penalties (r1, r2, gp) and WGAN's weight
clipping, as GANConfig fields, applied by GAN.discriminator_step; checkpoints carry them."""
import json

import numpy as np
import pytest

from minigan import gan, losses

from minigan.gan import algorithm1, checkpoint
from minigan.autograd import Tensor


def tiny(**changes):
    settings = {"g_hidden": (8,), "d_hidden": (8,), "m": 16, "steps": 10}
    return gan.build(gan.recipe("ring", **{**settings, **changes}))


def d_parameters(model):
    return [p.numpy().copy() for p in model.D.parameters()]


# ---- each form trains, and D descends the form that goes with G's ---------------------------
@pytest.mark.parametrize("loss", losses.GENERATOR_FORMS)
def test_each_loss_uses_its_discriminator_form(loss, monkeypatch):
    model = tiny(loss=loss)
    forms = []
    original = losses.discriminator_loss
    monkeypatch.setattr(losses, "discriminator_loss", lambda r, f, form: forms.append(form) or original(r, f, form))
    record = model.train_step().to_floats()
    assert forms == [losses.DISCRIMINATOR_FORM[loss]] and np.isfinite(record["d_loss"])


# ---- the penalty is added to L_D, on the right points -----------------------------------------
@pytest.mark.parametrize("penalty", ["r1", "r2", "gp"])
def test_the_penalty_is_added_to_the_discriminator_loss(penalty, monkeypatch):
    model = tiny(penalty=penalty, gamma=3.0, loss="wgan" if penalty == "gp" else "non_saturating")
    state = model.rng.state()
    seen = {}
    real_update = gan.update

    def spy_update(optimizer, loss):
        if optimizer is model.opt_D:   # before D moves: L_D + the penalty, recomputed by hand
            replay = type(model.rng)(model.backend, 0)
            replay.set_state(state)
            x = Tensor(model.p_data.sample(model.m, replay), model.backend)      # the same draws, in order
            fakes = model.G(Tensor(model.p_z.sample(model.m, replay), model.backend)).detach()
            loss_D = losses.discriminator_loss(model.D(x), model.D(fakes), form=model.d_form).item()
            if penalty == "gp":
                eps = Tensor(replay.uniform((model.m, 1), dtype=x.dtype), model.backend)
                term = 3.0 * losses.gradient_penalty(model.D, x, fakes, eps).item()
            else:
                term = 1.5 * losses.r1_penalty(model.D, x if penalty == "r1" else fakes).item()
            seen["wanted"], seen["got"], seen["term"] = loss_D + term, loss.item(), term
        real_update(optimizer, loss)

    monkeypatch.setattr(algorithm1, "update", spy_update)
    model.discriminator_step()
    assert seen["term"] > 0 and seen["got"] == pytest.approx(seen["wanted"], rel=1e-5)


def test_no_penalty_leaves_the_discriminator_loss_alone(monkeypatch):
    model = tiny()
    got = []
    real_update = gan.update
    monkeypatch.setattr(algorithm1, "update", lambda opt, loss: got.append(loss) or real_update(opt, loss))
    loss_D, _, _ = model.discriminator_step()
    assert got[0] is loss_D   # the very tensor: nothing added on the default path


def test_a_penalised_run_is_reproducible():
    a, b = tiny(loss="wgan", penalty="gp", k=2), tiny(loss="wgan", penalty="gp", k=2)
    a.train(3)
    b.train(3)
    assert all(np.array_equal(p, q) for p, q in zip(d_parameters(a), d_parameters(b)))
    assert a.rng.state() == b.rng.state()


# ---- weight clipping ----------------------------------------------------------------------------
def test_clipping_keeps_every_d_parameter_in_range_and_leaves_g_alone():
    model = tiny(loss="wgan", clip=0.01)
    g_before = [p.numpy().copy() for p in model.G.parameters()]
    model.discriminator_step()
    assert all(np.max(np.abs(p)) <= 0.01 for p in d_parameters(model))
    assert any(np.max(np.abs(p)) == pytest.approx(0.01) for p in d_parameters(model))  # it did bite
    assert all(np.array_equal(p.numpy(), q) for p, q in zip(model.G.parameters(), g_before))


# ---- config ----------------------------------------------------------------------------------
@pytest.mark.parametrize("field, value, message", [
    ("penalty", "r3", "penalty: got 'r3', wanted None or one of r1, r2, gp"),
    ("gamma", 0, "gamma: got 0, wanted a positive number"),
    ("gamma", float("inf"), "gamma: got inf, wanted a positive number"),
    ("clip", -0.01, "clip: got -0.01, wanted a positive number"),
    ("loss", "wasserstein", "loss: got 'wasserstein', wanted one of non_saturating, minimax, lsgan, wgan, hinge"),
])
def test_config_names_the_bad_loss_option(field, value, message):
    with pytest.raises(ValueError, match=message):
        gan.GANConfig(**{field: value})


def test_the_gan_checks_its_loss_options():
    model = tiny()
    parts = (model.G, model.D, model.p_data, model.p_z, model.opt_G, model.opt_D)
    with pytest.raises(ValueError, match="penalty: got 'R1'"):
        gan.GAN(*parts, rng=model.rng, penalty="R1")
    with pytest.raises(ValueError, match="clip: got 0"):
        gan.GAN(*parts, rng=model.rng, clip=0)


def test_a_run_named_before_the_loss_options_keeps_its_id():
    """The new fields at their defaults stay out of the fingerprint; set, they change it."""
    base = gan.recipe("ring")
    from minigan.gan.config import ADDED_LATER  # penalty, gamma, clip, and points since
    identity = {k: v for k, v in base.to_dict().items() if k != "threads" and k not in ADDED_LATER}
    import hashlib
    old = f"ring-seed0-{hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:8]}"
    assert gan.run_id(base) == old == "ring-seed0-4225b51b"   # the ring recipe's id before any of them
    assert len({gan.run_id(base), gan.run_id(base.replace(penalty="r1")), gan.run_id(base.replace(clip=0.1)),
                gan.run_id(base.replace(penalty="r1", gamma=1.0))}) == 4


# ---- checkpoints carry the options; an old one without them still loads -----------------------
def test_checkpoints_carry_the_loss_options(tmp_path):
    model = tiny(loss="wgan", penalty="gp", gamma=5.0, clip=0.5)
    model.train(2)
    path = checkpoint.save(tmp_path / "a.npz", model)
    resumed = gan.resume(path)
    assert (resumed.loss, resumed.penalty, resumed.gamma, resumed.clip) == ("wgan", "gp", 5.0, 0.5)
    model.train(2)
    resumed.train(2)
    assert all(np.array_equal(p, q) for p, q in zip(d_parameters(model), d_parameters(resumed)))


def test_a_checkpoint_from_before_the_loss_options_still_loads(tmp_path):
    model = tiny()
    model.train(2)
    path = checkpoint.save(tmp_path / "new.npz", model)
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    config = json.loads(str(arrays["config"]))
    for name in ("penalty", "gamma", "clip"):
        del config[name]
    arrays["config"] = np.asarray(json.dumps(config), dtype=np.str_)
    np.savez(tmp_path / "old.npz", **arrays)
    resumed = gan.resume(tmp_path / "old.npz")
    assert resumed.step == 2 and resumed.penalty is None and resumed.clip is None
    assert resumed.run_id == model.run_id


# ---- the demo and resume ------------------------------------------------------------------------
def test_the_demo_trains_with_a_loss_pair_and_a_penalty(tmp_path, capsys):
    from minigan.demo import __main__ as demo

    status = demo.main(["--steps", "4", "--batch-size", "16", "--loss", "hinge", "--penalty", "r1", "--gamma", "2",
                        "--out", str(tmp_path), "--no-progress", "--checkpoint-every", "2"])
    out = capsys.readouterr().out
    assert status == 0 and "hinge loss, r1 penalty gamma=2" in out
    config = json.loads((tmp_path / "run-001" / "metrics.json").read_text())["config"]
    assert (config["loss"], config["penalty"], config["gamma"], config["clip"]) == ("hinge", "r1", 2.0, None)


def test_a_resume_may_change_the_penalty_and_says_so():
    from minigan.runs import resume

    saved = gan.recipe("ring").to_dict()
    plan = resume.plan(saved, 100, {"penalty": "gp", "gamma": 1.0, "loss": "wgan", "clip": None})
    assert {k: plan.changes[k] for k in ("penalty", "gamma", "loss")} == {"penalty": "gp", "gamma": 1.0, "loss": "wgan"}
    assert "penalty None -> 'gp'" in plan.lines[0] and "clip" not in plan.changes


# ---- the recipes of the loss pairs ----------------------------------------------------------------
def test_a_loss_pair_brings_its_recipe_and_explicit_changes_win():
    from minigan.gan.config import LOSS_RECIPES

    plain = gan.recipe("ring")
    for (loss, penalty), settings in LOSS_RECIPES.items():
        config = gan.recipe("ring", loss=loss, penalty=penalty)
        assert {name: getattr(config, name) for name in settings} == settings
        assert config.loss == loss and config.penalty == penalty and config.steps == plain.steps
    wgan_gp = gan.recipe("ring", loss="wgan", penalty="gp", k=7)
    assert wgan_gp.k == 7 and wgan_gp.betas == LOSS_RECIPES["wgan", "gp"]["betas"]
    assert gan.recipe("ring", loss="minimax").k == plain.k   # a pair with no recipe keeps the dataset's


@pytest.mark.parametrize("backend", ["strict", pytest.param("cupy", marks=pytest.mark.skipif(
    not __import__("minigan").gpu_available(), reason="no CUDA GPU"))])
@pytest.mark.parametrize("changes", [{"loss": "wgan", "penalty": "gp", "clip": 0.5}, {"penalty": "r1"},
                                     {"loss": "hinge", "penalty": "r2"}, {"loss": "lsgan"}])
def test_every_option_keeps_to_the_backend(backend, changes):
    """The strict backend refuses host arrays: eps, clipping and the penalties stay on the device."""
    model = tiny(backend=backend, **changes)
    model.train(2)
    assert np.isfinite(model.train_step().to_floats()["d_loss"])
