"""The checkpoint file's fields, each at the edge of what it may hold (issue 26: mutation
survivors of minigan/gan/checkpoint.py). A field one step past its edge is refused with a
line that names the file; one step inside it loads."""
import json

import numpy as np
import pytest

from minigan import gan
from minigan.gan import checkpoint


def tiny(**changes):
    return gan.recipe("ring", **{"g_hidden": (8,), "d_hidden": (8,), "m": 16, "steps": 20, "threads": None, **changes})


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A checkpoint at step 4, and its members as a dict of arrays."""
    model = gan.build(tiny())
    model.train(4)
    path = str(checkpoint.save(tmp_path_factory.mktemp("ckpt") / "run.npz", model))
    with np.load(path, allow_pickle=False) as npz:
        return path, {k: npz[k] for k in npz.files}


def crafted(tmp_path, arrays, **changes):
    path = str(tmp_path / "crafted.npz")
    np.savez(path, **{**arrays, **changes})
    return path


def run_text(arrays, **changes):
    run = json.loads(str(arrays["run"]))
    run.update(changes)
    return np.asarray(json.dumps(run))


def test_a_run_at_step_0_saves_and_loads(tmp_path):
    """Step 0 and Adam's step count 0 are counts, not errors (>= 0, not > 0)."""
    model = gan.build(tiny())
    path = checkpoint.save(tmp_path / "zero.npz", model)
    again = gan.build(tiny())
    checkpoint.load(path, again)
    assert again.step == 0 and checkpoint.read(path).step == 0


def test_saving_a_state_that_is_not_finite_is_refused(tmp_path):
    model = gan.build(tiny())
    model.D.parameters()[0].data[0, 0] = np.nan
    with pytest.raises(checkpoint.CheckpointError, match=r"nan.npz: D layers.0.weight is not finite; refusing"):
        checkpoint.save(tmp_path / "nan.npz", model)
    assert not (tmp_path / "nan.npz").exists()


@pytest.mark.parametrize("field, value, says", [
    ("format", np.asarray("numpy-checkpoint"), r"not a minigan checkpoint \(no 'minigan-checkpoint' format tag\)"),
    ("version", np.asarray(2.0), r"crafted.npz: version is \(\) float64, wanted one integer"),
    ("step", np.asarray([4]), r"crafted.npz: step is \(1,\) int64, wanted one integer"),
    ("config", np.asarray(5), r"crafted.npz: config is \(\) int64 of \d+ bytes, wanted one text"),
    ("config", np.asarray(['{"dataset": "ring"}']), r"crafted.npz: config is \(1,\) <U\d+ of \d+ bytes, wanted one text"),
])
def test_each_header_field_names_the_file_and_what_it_is(tmp_path, saved, field, value, says):
    path = crafted(tmp_path, saved[1], **{field: value})
    with pytest.raises(checkpoint.CheckpointError, match=says):
        checkpoint.read(path)


@pytest.mark.parametrize("run, says", [
    ({"run_id": 5}, "run is not an object with a run_id and a list of configs"),
    ({"configs": {"step": 0}}, "run is not an object with a run_id and a list of configs"),
    ({"configs": [5]}, r"run.configs has 5, wanted"),
    ({"configs": [{"step": 1.5, "config": {}}]}, r"run.configs has .*1.5"),
    ({"configs": [{"step": True, "config": {}}]}, r"run.configs has .*True"),
    ({"configs": [{"step": 0, "config": "ring"}]}, r"run.configs has .*'ring'"),
    ({"start_norm": "big"}, r"run.start_norm is 'big', wanted a finite norm"),
    ({"start_norm": float("inf")}, r"run.start_norm is inf"),
])
def test_the_run_field_is_checked_entry_by_entry(tmp_path, saved, run, says):
    path = crafted(tmp_path, saved[1], run=run_text(saved[1], **run))
    with pytest.raises(checkpoint.CheckpointError, match=f"crafted.npz: {says}"):
        checkpoint.read(path)


def test_a_run_that_is_not_an_object_is_refused(tmp_path, saved):
    path = crafted(tmp_path, saved[1], run=np.asarray("[1, 2]"))
    with pytest.raises(checkpoint.CheckpointError, match="crafted.npz: run is not an object"):
        checkpoint.read(path)


@pytest.mark.parametrize("run", [{"configs": [{"step": 0, "config": {}}, {"step": 4, "config": {}}]},
                                 {"start_norm": 0.0}, {"start_norm": 0.5}, {"start_norm": None}])
def test_the_edges_a_run_may_hold(tmp_path, saved, run):
    """A config that began at the checkpoint's own step, a norm of 0 (or below 1), none at all."""
    path = crafted(tmp_path, saved[1], run=run_text(saved[1], **run))
    assert checkpoint.read(path).step == 4


def test_members_of_no_group_are_left_alone(tmp_path, saved):
    path = crafted(tmp_path, saved[1], **{"notes/why": np.asarray("kept by a user")})
    read = checkpoint.read(path)
    assert set(read.headers) == {"G", "D", "opt_G", "opt_D"}
    checkpoint.load(path, gan.build(tiny()))


def test_another_optimizers_checkpoint_is_named_as_such(saved):
    """With the optimizers' state asked for, the config's optimizer must agree (the arrays differ too,
    but the line says why)."""
    with pytest.raises(checkpoint.CheckpointError, match=r"run.npz: written for optimizer='adam', this GAN has "
                                                         r"optimizer='sgd'"):
        checkpoint.load(saved[0], gan.build(tiny(optimizer="sgd")))
    model = gan.build(tiny(optimizer="sgd"))
    checkpoint.restore(checkpoint.read(saved[0]), model, optimizer_state=False)   # networks only: fine
    assert model.step == 4
