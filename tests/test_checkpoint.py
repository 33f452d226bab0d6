"""Checkpoints: exact resume, atomic writes, clear errors on bad files, moving between backends."""
import os
import zipfile

import numpy as np
import pytest

import minigan
from minigan import data, gan, nn, optim

from minigan.gan import checkpoint
from minigan.gan.callbacks import Callback, Checkpoint


def tiny_config(**changes):
    settings = {"g_hidden": (8,), "d_hidden": (8,), "m": 16, "steps": 20}
    return gan.recipe("ring", **{**settings, **changes})


def run(config, steps, model=None):
    model = gan.build(config) if model is None else model
    model.train(steps, callbacks=gan.schedules(config, model))
    return model


def state(model) -> dict:
    """Every array and number the next step depends on."""
    arrays = {}
    for group, values in (("G", model.G.state_dict()), ("D", model.D.state_dict()),
                          ("opt_G", model.opt_G.state_dict()), ("opt_D", model.opt_D.state_dict())):
        arrays.update({f"{group}/{key}": value for key, value in values.items()})
    return arrays


def assert_identical(a, b):
    sa, sb = state(a), state(b)
    assert sa.keys() == sb.keys()
    for key in sa:
        assert sa[key].dtype == sb[key].dtype and np.array_equal(sa[key], sb[key]), f"{key} differs"
    assert a.step == b.step and a.rng.state() == b.rng.state()


# ---- exact resume ---------------------------------------------------------------------------
@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_resume_from_n_to_2n_is_bit_identical_to_an_uninterrupted_run(tmp_path, optimizer):
    config = tiny_config(optimizer=optimizer, lr=0.01)   # schedules: lr decay (and SGD's momentum ramp)
    uninterrupted = run(config, 20)

    first_half = run(config, 10)
    path = checkpoint.save(tmp_path / "run.npz", first_half)
    resumed = gan.resume(path)
    assert resumed.step == 10 and resumed.last_checkpoint == str(path)
    run(config, 10, model=resumed)
    assert_identical(resumed, uninterrupted)


def test_checkpoint_callback_resumes_exactly_too(tmp_path):
    config = tiny_config()
    uninterrupted = run(config, 12)
    model = gan.build(config)
    model.train(7, callbacks=[*gan.schedules(config, model), Checkpoint(tmp_path / "c.npz", every=3)])
    assert checkpoint.read(tmp_path / "c.npz").step == 7       # every 3 steps, and at the end
    resumed = gan.resume(tmp_path / "c.npz")
    run(config, 5, model=resumed)
    assert_identical(resumed, uninterrupted)


# ---- what the file is ----------------------------------------------------------------------------
def test_the_file_is_one_npz_of_plain_arrays(tmp_path):
    model = run(tiny_config(), 3)
    path = checkpoint.save(tmp_path / "run.npz", model)
    with np.load(path, allow_pickle=False) as npz:   # would raise on any object (pickled) array
        assert str(npz["format"]) == "minigan-checkpoint" and int(npz["version"]) == 2
        assert int(npz["step"]) == 3
        assert all(npz[key].dtype != object for key in npz.files)
        assert "G/layers.0.weight" in npz.files and "opt_D/m.0" in npz.files
    saved = checkpoint.read(path)
    assert saved.config == model.config.to_dict()
    assert os.listdir(tmp_path) == ["run.npz"]   # no temporary file left behind


# ---- atomic write -----------------------------------------------------------------------------
def test_a_crash_between_temp_write_and_rename_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "run.npz"
    model = run(tiny_config(), 3)
    checkpoint.save(path, model)
    good = path.read_bytes()
    model.train(2)

    def killed(src, dst):
        assert os.path.getsize(src) > 0      # the new file was fully written ...
        raise OSError("killed before the rename")  # ... and the process died here
    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(OSError, match="killed"):
        checkpoint.save(path, model)
    monkeypatch.undo()
    assert path.read_bytes() == good
    assert checkpoint.read(path).step == 3
    assert os.listdir(tmp_path) == ["run.npz"]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy warns about the NaN it is given
def test_a_diverged_run_never_overwrites_the_last_good_checkpoint(tmp_path):
    class BreakG(Callback):
        def on_step(self, model, record):
            if record.step == 5:
                weight = model.G.parameters()[0]
                weight.data = weight.data * float("nan")

    path = tmp_path / "run.npz"
    model = gan.build(tiny_config())
    with pytest.raises(gan.TrainingDiverged) as error:
        model.train(20, callbacks=[Checkpoint(path, every=4), BreakG()])
    assert f"last good checkpoint: {path}" in str(error.value)
    assert checkpoint.read(path).step == 4
    with pytest.raises(checkpoint.CheckpointError, match="not finite; refusing"):
        checkpoint.save(path, model)
    assert checkpoint.read(path).step == 4


def test_random_bytes_are_not_a_checkpoint_and_never_unpickled(tmp_path):
    # np.load on these bytes would try pickle ("pickled data"); the zip signature is checked first
    rng = np.random.default_rng(0)
    for name, data in (("random.npz", rng.bytes(4096)), ("pickle.npz", b"\x80\x04" + rng.bytes(100))):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(checkpoint.CheckpointError) as error:
            checkpoint.read(tmp_path / name)
        assert str(error.value) == f"checkpoint {tmp_path / name}: not a minigan checkpoint (not a zip file, as every .npz is)"


def test_the_same_state_gives_the_same_bytes(tmp_path):
    model = run(tiny_config(), 3)
    first = checkpoint.save(tmp_path / "a.npz", model)
    with zipfile.ZipFile(first) as archive:       # no clock in the file: np.savez would stamp the time
        assert {info.date_time for info in archive.infolist()} == {checkpoint.ZIP_DATE}
    second = checkpoint.save(tmp_path / "b.npz", gan.resume(first))
    assert open(first, "rb").read() == open(second, "rb").read()


def test_the_run_travels_with_the_checkpoint(tmp_path):
    model = run(tiny_config(), 3)
    saved = checkpoint.read(checkpoint.save(tmp_path / "a.npz", model))
    assert saved.run == {"run_id": model.run_id, "configs": [{"step": 0, "config": model.config.to_dict()}],
                         "start_norm": model.start_norm}
    assert model.run_id.startswith("ring-seed0-") and model.start_norm > 0
    resumed = gan.resume(tmp_path / "a.npz", changes={"lr": 1e-4})
    assert resumed.run_id == model.run_id and resumed.start_norm == model.start_norm
    assert [c["step"] for c in resumed.configs] == [0, 3] and resumed.configs[1]["config"]["lr"] == 1e-4


def test_a_version_1_checkpoint_still_loads(tmp_path, good_file):
    with np.load(good_file, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files if k != "run"}
    arrays["version"] = np.asarray(1)
    np.savez(tmp_path / "v1.npz", **arrays)
    resumed = gan.resume(tmp_path / "v1.npz")
    assert resumed.step == 2 and resumed.run_id.startswith("ring-seed0-")


def test_resuming_with_another_optimizer_keeps_the_networks_and_starts_it_fresh(good_file):
    adam = gan.resume(good_file)
    sgd = gan.resume(good_file, changes={"optimizer": "sgd", "lr": 0.01})
    assert type(sgd.opt_G).__name__ == "SGD" and sgd.step == adam.step and sgd.rng.state() == adam.rng.state()
    for a, b in zip(adam.G.parameters() + adam.D.parameters(), sgd.G.parameters() + sgd.D.parameters()):
        assert np.array_equal(a.numpy(), b.numpy())
    sgd.train(2)                                     # trains on from there


# ---- bad files ----------------------------------------------------------------------------------
@pytest.fixture
def good_file(tmp_path):
    return checkpoint.save(tmp_path / "good.npz", run(tiny_config(), 2))


@pytest.mark.parametrize("keep", [10, 0.5, -30])
def test_truncated_files_get_a_clear_error(tmp_path, good_file, keep):
    data = open(good_file, "rb").read()
    cut = int(len(data) * keep) if isinstance(keep, float) else keep
    bad = tmp_path / "bad.npz"
    bad.write_bytes(data[:cut])
    with pytest.raises(checkpoint.CheckpointError, match=r"bad.npz: not a readable .npz file \(truncated or corrupt\?\)"):
        checkpoint.read(bad)


def test_a_flipped_byte_is_caught(tmp_path, good_file):
    data = bytearray(open(good_file, "rb").read())
    with zipfile.ZipFile(good_file) as z:
        info = z.getinfo("G/layers.0.weight.npy")
    data[info.header_offset + 200] ^= 0xFF   # inside that member's array bytes
    bad = tmp_path / "bad.npz"
    bad.write_bytes(bytes(data))
    with pytest.raises(checkpoint.CheckpointError, match="truncated or corrupt"):
        checkpoint.read(bad)


def test_foreign_files_are_named_as_such(tmp_path):
    np.savez(tmp_path / "weights.npz", w=np.zeros(3))
    with pytest.raises(checkpoint.CheckpointError, match="not a minigan checkpoint"):
        checkpoint.read(tmp_path / "weights.npz")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(checkpoint.CheckpointError, match=r"notes.txt: not a minigan checkpoint \(not a zip file"):
        checkpoint.read(tmp_path / "notes.txt")
    (tmp_path / "empty.npz").write_bytes(b"")
    with pytest.raises(checkpoint.CheckpointError, match=r"empty.npz: not a minigan checkpoint \(an empty file\)"):
        checkpoint.read(tmp_path / "empty.npz")
    with pytest.raises(checkpoint.CheckpointError, match="no such file"):
        checkpoint.read(tmp_path / "missing.npz")
    with pytest.raises(checkpoint.CheckpointError, match="format version 99 is newer"):
        np.savez(tmp_path / "future.npz", format=np.asarray("minigan-checkpoint"), version=np.asarray(99))
        checkpoint.read(tmp_path / "future.npz")
    assert issubclass(checkpoint.CheckpointError, ValueError)


def test_a_checkpoint_for_another_network_is_refused_and_changes_nothing(good_file):
    other = gan.build(tiny_config(g_hidden=(16,)))
    before = state(other)
    with pytest.raises(checkpoint.CheckpointError, match=r"written for g_hidden=\[8\], this GAN has g_hidden=\[16\]"):
        checkpoint.load(good_file, other)
    other.config = None   # a hand-built GAN: only the shapes can tell
    with pytest.raises(checkpoint.CheckpointError, match=r"G layers.0.weight has shape \(2, 8\) \(float32\), this GAN's has \(2, 16\)"):
        checkpoint.load(good_file, other)
    after = state(other)
    assert all(np.array_equal(before[k], after[k]) for k in before) and other.step == 0


def test_missing_entries_are_reported(tmp_path, good_file):
    with np.load(good_file, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files if k != "opt_G/m.0"}
    np.savez(tmp_path / "partial.npz", **arrays)
    with pytest.raises(checkpoint.CheckpointError, match=r"opt_G does not match this GAN \(missing \['m.0'\]"):
        checkpoint.load(tmp_path / "partial.npz", gan.build(tiny_config()))


# ---- backends -----------------------------------------------------------------------------------
def test_a_numpy_checkpoint_loads_on_the_strict_backend(good_file):
    on_numpy = gan.resume(good_file)
    on_strict = gan.resume(good_file, backend="strict")
    assert on_strict.backend.name == "strict" and on_strict.config.backend == "strict"
    assert_identical(on_strict, on_numpy)
    for p in on_strict.G.parameters():
        assert isinstance(p.data, on_strict.backend.array_type)
    on_numpy.train(3)
    on_strict.train(3)           # the same draws from the same generator state
    a, b = state(on_numpy), state(on_strict)
    assert all(np.allclose(a[k], b[k], rtol=1e-5, atol=1e-6) for k in a)


def test_atomic_files_get_the_usual_permissions(tmp_path):
    import os
    import stat

    from minigan.gan.checkpoint import atomic_file

    old = os.umask(0o022)
    try:
        with atomic_file(tmp_path / "metrics.json", "w") as f:
            f.write("{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "metrics.json").st_mode) == 0o644


# ---- crafted files (issue 27): every field checked against its meaning before anything is used ----
def crafted(tmp_path, good_file, name="crafted.npz", **replace):
    """good_file with some members replaced (None: left out), written as minigan writes it."""
    with np.load(good_file, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    for key, value in replace.items():
        key = key.replace("__", "/")
        if value is None:
            arrays.pop(key)
        else:
            arrays[key] = value
    with open(tmp_path / name, "wb") as f:
        checkpoint.write_npz(f, arrays)
    return tmp_path / name


@pytest.mark.parametrize("field, value, says", [
    ("step", np.asarray(-5), r"step -5: wanted a version from 1 and an iteration count >= 0"),
    ("step", np.asarray(2.5), r"step is \(\) float64, wanted one integer"),
    ("step", np.arange(3), r"step is \(3,\) int64, wanted one integer"),
    ("config", np.asarray('{"dataset": "ring", "m": -4}'), r"its config is not valid"),
    ("config", np.asarray('{"nonsense": 1}'), r"its config is not valid: values: got unknown config fields"),
    ("rng", np.asarray("[1, 2]"), r"rng is list, wanted a generator state"),
    ("run", np.asarray('{"run_id": "x", "configs": [{"step": 9, "config": {}}], "start_norm": 1.0}'),
     r"run.configs has .*'step': 9.*wanted \{'step': 0 to 2"),
    ("run", np.asarray('{"run_id": "x", "configs": [], "start_norm": -1}'), r"run.start_norm is -1, wanted a finite"),
    ("config", np.asarray("[" * 200_000 + "]" * 200_000), r"not a readable .npz file.*RecursionError"),
])
def test_a_field_that_means_nothing_is_refused_in_one_line(tmp_path, good_file, field, value, says):
    path = crafted(tmp_path, good_file, **{field: value})
    with pytest.raises(checkpoint.CheckpointError, match=says) as error:
        gan.resume(path)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("key, value, says", [
    ("G/layers.0.weight", np.full((2, 8), np.nan, dtype=np.float32), "G layers.0.weight holds values that are not finite"),
    ("opt_D/step", np.asarray(-3), "opt_D step holds a negative count"),
    ("G/layers.0.weight", np.zeros((2, 8), dtype=np.float64), r"has shape \(2, 8\) \(float64\), this GAN's has \(2, 8\) \(float32\)"),
])
def test_arrays_are_checked_before_any_is_loaded(tmp_path, good_file, key, value, says):
    path = crafted(tmp_path, good_file, **{key: value})
    model = gan.build(tiny_config())
    before = state(model)
    with pytest.raises(checkpoint.CheckpointError, match=says):
        checkpoint.load(path, model)
    after = state(model)
    assert all(np.array_equal(before[k], after[k]) for k in before) and model.step == 0


def bomb(path, good_file, member: str, header_shape, inflated: int):
    """good_file plus ``member``: an .npy header for ``header_shape`` float32, then ``inflated``
    zero bytes, deflated (a few hundred kB on disk)."""
    import io

    with zipfile.ZipFile(good_file) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            if info.filename != member:
                out.writestr(info, source.read(info))
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": header_shape})
        with out.open(member, "w", force_zip64=True) as f:
            f.write(header.getvalue())
            zeros = bytes(1 << 20)
            for _ in range(inflated >> 20):
                f.write(zeros)
    return path


@pytest.mark.parametrize("member, header_shape", [
    ("G/layers.0.weight.npy", (2, 8)),              # the header tells a small array, the zip a large one
    ("G/layers.0.weight.npy", (2, 8 << 20)),        # an honest header, of an array this GAN does not have
])
def test_a_zip_bomb_is_refused_before_it_is_inflated(tmp_path, good_file, member, header_shape):
    import tracemalloc

    path = bomb(tmp_path / "bomb.npz", good_file, member, header_shape, inflated=64 << 20)
    assert os.path.getsize(path) < 4 << 20
    tracemalloc.start()
    try:
        with pytest.raises(checkpoint.CheckpointError, match="layers.0.weight"):
            gan.resume(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, f"{peak} bytes allocated to refuse it"


def test_members_nobody_asked_for_are_never_read(tmp_path, good_file):
    import tracemalloc

    path = bomb(tmp_path / "extra.npz", good_file, "junk.npy", (16 << 20,), inflated=64 << 20)
    tracemalloc.start()
    try:
        resumed = gan.resume(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert resumed.step == 2 and peak < 8 << 20


def test_a_gan_built_by_hand_saves_and_loads_into_another_built_the_same_way(tmp_path):
    """No build(), so no run id: checkpoint.load is the way (gan.resume needs a config)."""
    def make():
        rng = minigan.get_backend("numpy").random(0)
        G, D = nn.MLP([2, 8, 2], rng=rng), nn.MLP([2, 8, 1], rng=rng)
        return gan.GAN(G, D, data.ring(), data.normal_noise(2), optim.Adam(G.parameters()),
                       optim.Adam(D.parameters()), rng=rng)
    model = make()
    model.train(3)
    path = checkpoint.save(tmp_path / "hand.npz", model)
    other = make()
    checkpoint.load(path, other)
    assert other.step == 3 and np.array_equal(other.generate(20), model.generate(20))
    with pytest.raises(checkpoint.CheckpointError, match="holds no config"):
        gan.resume(path)
