"""A restore that fails half way leaves the GAN exactly as it was: networks, optimizers,
the training generator, the step and the run (minigan.gan.checkpoint.restore; issue 26).

The generator matters as much as the weights: a GAN whose weights were rolled back but
whose generator was left at the checkpoint's state would train on other minibatches than
the run it is, silently. Each test makes the restore fail at one point and compares every
array and number the next step depends on.
"""
import dataclasses

import numpy as np
import pytest

from minigan import gan
from minigan.gan import checkpoint


def tiny(**changes):
    return gan.recipe("ring", **{"g_hidden": (8,), "d_hidden": (8,), "m": 16, "steps": 20, "threads": None, **changes})


@pytest.fixture()
def saved_and_target(tmp_path):
    """A checkpoint at step 4 (seed 0), and a different GAN at step 2 (seed 1) to load it into."""
    source = gan.build(tiny())
    source.train(4)
    path = checkpoint.save(tmp_path / "run.npz", source)
    target = gan.build(tiny(seed=1))
    target.train(2)
    return checkpoint.read(path), target


def everything(model) -> dict:
    arrays = {}
    for group, module in (("G", model.G), ("D", model.D), ("opt_G", model.opt_G), ("opt_D", model.opt_D)):
        arrays.update({f"{group}/{key}": np.array(value) for key, value in module.state_dict().items()})
    return {"arrays": arrays, "rng": model.rng.state(), "step": model.step, "run_id": model.run_id,
            "configs": model.configs, "start_norm": model.start_norm,
            "last_checkpoint": getattr(model, "last_checkpoint", None)}


def assert_unchanged(before, model):
    after = everything(model)
    assert after["arrays"].keys() == before["arrays"].keys()
    for key, value in before["arrays"].items():
        assert np.array_equal(after["arrays"][key], value), f"{key} changed"
    assert after["rng"] == before["rng"], "the generator was not rolled back"
    for name in ("step", "run_id", "configs", "start_norm", "last_checkpoint"):
        assert after[name] == before[name], name


def fail_on(module, monkeypatch):
    def refuse(state):
        raise ValueError("planted: this state does not load")
    monkeypatch.setattr(module, "load_state_dict", refuse)


@pytest.mark.parametrize("where", ["G", "D", "opt_G", "opt_D"])
def test_a_failure_at_any_group_rolls_back_everything_the_generator_included(saved_and_target, where, monkeypatch):
    saved, target = saved_and_target
    before = everything(target)
    original = getattr(target, where).load_state_dict
    calls = []

    def refuse_the_first_time(state):          # the checkpoint's state fails; the rollback's own loads
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("planted: this state does not load")
        return original(state)

    monkeypatch.setattr(getattr(target, where), "load_state_dict", refuse_the_first_time)
    with pytest.raises(checkpoint.CheckpointError, match=r"run.npz: does not fit this GAN: ValueError: planted"):
        checkpoint.restore(saved, target)
    assert_unchanged(before, target)


def test_a_bad_generator_state_changes_nothing(saved_and_target):
    saved, target = saved_and_target
    before = everything(target)
    bad = dataclasses.replace(saved, rng_state={"bit_generator": "PCG64", "state": {"state": "x", "inc": 1}})
    with pytest.raises(checkpoint.CheckpointError, match="does not fit this GAN"):
        checkpoint.restore(bad, target)
    assert_unchanged(before, target)


def test_a_restore_that_works_takes_everything_from_the_file(saved_and_target):
    saved, target = saved_and_target
    checkpoint.restore(saved, target)
    again = gan.build(tiny())
    again.train(4)
    expected = everything(again)
    got = everything(target)
    for key, value in expected["arrays"].items():
        assert np.array_equal(got["arrays"][key], value), key
    assert got["rng"] == expected["rng"] and got["step"] == 4 and target.last_checkpoint == saved.path
    assert (got["run_id"], got["configs"]) == (expected["run_id"], expected["configs"])
    assert got["start_norm"] == pytest.approx(expected["start_norm"])


def test_networks_only_leaves_the_optimizers_as_they_are(saved_and_target):
    saved, target = saved_and_target
    before = everything(target)
    checkpoint.restore(saved, target, optimizer_state=False)
    after = everything(target)
    again = gan.build(tiny())
    again.train(4)
    expected = everything(again)
    for key, value in before["arrays"].items():
        wanted = value if key.startswith("opt_") else expected["arrays"][key]
        assert np.array_equal(after["arrays"][key], wanted), key
    assert after["rng"] == saved.rng_state and target.step == 4
