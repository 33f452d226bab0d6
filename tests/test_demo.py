"""python -m minigan.demo: tiny runs on every dataset, every file it writes, every error path.

Runs call ``demo.main([...])`` in-process (capsys captures what it prints); the tests of
locks, signals and concurrent runs (tests/test_runs.py) start the real command in
subprocesses.
"""
import contextlib
import csv
import io
import json
import os
import shlex
import subprocess
import sys

import numpy as np
import pytest
from matplotlib import image as mpimg
from PIL import Image

import minigan
from minigan.demo import __main__ as demo
from minigan.gan import checkpoint
from minigan.judging import digits_features

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RUN_FILES = sorted((*demo.FILES, ".lock"))      # what a finished run's folder holds, and nothing else
FIGURES = ("losses.png", "discriminator.png", "samples.png")


def run(capsys, *argv):
    """(exit status, stdout, stderr) of the demo run in-process."""
    status = demo.main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def read_history(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def assert_figures(out):
    for name in FIGURES:
        path = out / name
        assert path.read_bytes()[:8] == PNG_SIGNATURE, name
        pixels = mpimg.imread(path)
        assert float(np.var(pixels[..., :3])) > 1e-3, f"{name} is blank"
    with Image.open(out / "training.gif") as gif:
        assert gif.format == "GIF" and gif.n_frames >= 2


@pytest.fixture(scope="module")
def ring_run(tmp_path_factory):
    """One tiny ring run shared by the tests that only read its output (and what it printed)."""
    out = tmp_path_factory.mktemp("ring") / "out"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        status = demo.main(["--steps", "12", "--batch-size", "32", "--out", str(out), "--no-progress",
                            "--checkpoint-every", "5"])
    assert status == 0
    (out.parent / "printed.txt").write_text(printed.getvalue())
    return out / "run-001"


def test_ring_run_writes_every_file(ring_run):
    assert sorted(os.listdir(ring_run)) == RUN_FILES     # and no temporary files left over
    assert os.readlink(ring_run.parent / "latest") == "run-001"
    assert_figures(ring_run)
    results = json.loads((ring_run / "metrics.json").read_text())
    assert results["dataset"] == "ring" and results["backend"] == "numpy" and results["steps"] == 12
    assert results["seed"] == 0 and results["seconds"] > 0
    assert results["modes_total"] == 8 and 0 <= results["modes_covered"] <= 8
    assert 0.0 <= results["high_quality_fraction"] <= 1.0
    assert results["config"]["m"] == 32
    rows = read_history(ring_run / "history.csv")
    assert [int(r["step"]) for r in rows] == list(range(1, 13))
    assert list(rows[0]) == ["step", "d_loss", "g_loss", "value", "d_real", "d_fake", "g_grad_norm", "lr"]
    lr = [float(r["lr"]) for r in rows]
    assert lr[0] == 1.5e-3 and all(a > b for a, b in zip(lr, lr[1:]))          # the decay, step by step
    with np.load(ring_run / "checkpoint.npz", allow_pickle=False) as saved:
        assert int(saved["step"]) == 12


def test_every_file_carries_the_run_id(ring_run):
    info = json.loads((ring_run / "run.json").read_text())
    run_id = info["run_id"]
    assert run_id.startswith("ring-seed0-") and info["state"] == "finished" and info["step"] == 12
    assert info["writer"]["pid"] > 0 and "--steps 12" in info["writer"]["command"]
    assert sorted(info["files"]) == sorted(demo.FILES)
    assert json.loads((ring_run / "metrics.json").read_text())["run_id"] == run_id
    assert checkpoint.read(ring_run / "checkpoint.npz").run["run_id"] == run_id


def test_the_summary_names_the_files(ring_run):
    printed = (ring_run.parent.parent / "printed.txt").read_text()
    assert f"in {ring_run}{os.sep}" in printed
    assert "training a GAN on ring (numpy) to step 12" in printed
    assert "modes_covered=" in printed and "high_quality_fraction=" in printed
    for name in demo.FILES:
        assert name in printed


@pytest.mark.parametrize("dataset, key", [("grid", "modes_covered"), ("gaussian1d", "js_divergence")])
def test_tiny_run_on_each_toy_dataset(tmp_path, capsys, dataset, key):
    out = tmp_path / "out"
    status, printed, err = run(capsys, "--dataset", dataset, "--steps", "4", "--batch-size", "32", "--out", str(out),
                               "--k", "2", "--loss", "minimax", "--optimizer", "sgd", "--lr", "0.01", "--seed", "3",
                               "--backend", "auto", "--quiet")
    assert (status, printed, err) == (0, "", "")               # --quiet: nothing printed
    out = out / "run-001"
    results = json.loads((out / "metrics.json").read_text())
    assert results["dataset"] == dataset and results["seed"] == 3 and key in results
    assert results["backend"] == ("cupy" if minigan.gpu_available() else "numpy")   # what "auto" picked
    assert results["config"]["k"] == 2 and results["config"]["loss"] == "minimax"
    assert results["config"]["optimizer"] == "sgd" and results["config"]["lr"] == 0.01
    if dataset == "gaussian1d":
        assert 0.0 <= results["js_divergence"] <= np.log(2)
    else:
        assert results["modes_total"] == 25
    assert_figures(out)


def test_tiny_digits_run(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MINIGAN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(digits_features, "STEPS", 60)       # a rough classifier is enough here
    out = tmp_path / "out"
    status, _, err = run(capsys, "--dataset", "digits", "--steps", "3", "--batch-size", "16", "--out", str(out))
    assert status == 0, err
    out = out / "run-001"
    results = json.loads((out / "metrics.json").read_text())
    assert results["dataset"] == "digits"
    assert 0 <= results["classes_covered"] <= 10 and results["frechet_distance"] >= 0.0
    assert_figures(out)
    assert os.listdir(tmp_path / "cache") == [os.path.basename(digits_features.cache_file())]


def test_resume_continues_the_history_in_the_runs_own_folder(tmp_path, capsys):
    out = tmp_path / "out"
    assert run(capsys, "--steps", "6", "--batch-size", "16", "--out", str(out))[0] == 0
    folder = out / "run-001"
    before = read_history(folder / "history.csv")
    status, printed, err = run(capsys, "--resume", str(out / "latest" / "checkpoint.npz"), "--steps", "10")
    assert status == 0, err
    assert "resumed at step 6" in printed and "resuming at step 6 with steps 6 -> 10" in printed
    assert sorted(os.listdir(out)) == ["latest", "run-001"]          # the same run, in its own folder
    after = read_history(folder / "history.csv")
    assert [int(r["step"]) for r in after] == list(range(1, 11))
    assert after[:6] == before                                   # the earlier rows are kept as they were
    results = json.loads((folder / "metrics.json").read_text())
    assert results["steps"] == 10 and results["resumed_from"] == 6 and results["config"]["m"] == 16
    saved = checkpoint.read(folder / "checkpoint.npz")
    assert saved.step == 10 and [c["step"] for c in saved.run["configs"]] == [0, 6]


def test_resume_into_another_folder_makes_a_new_run_folder_there(tmp_path, capsys, ring_run):
    status, _, err = run(capsys, "--resume", str(ring_run / "checkpoint.npz"), "--steps", "14",
                         "--out", str(tmp_path / "b"))
    assert status == 0, err
    rows = read_history(tmp_path / "b" / "run-001" / "history.csv")
    assert [int(r["step"]) for r in rows] == list(range(1, 15))
    assert rows[:12] == read_history(ring_run / "history.csv")
    assert checkpoint.read(ring_run / "checkpoint.npz").step == 12       # the original run is as it was


# ---- errors: one line, the right exit status, nothing in --out destroyed --------------------
EARLIER_FILES = ("metrics.json", "history.csv", "checkpoint.npz", "losses.png", "discriminator.png", "samples.png",
                 "training.gif")    # what an --out folder held before runs had folders of their own


@pytest.fixture
def full_out(tmp_path):
    """An --out folder holding an earlier run's files (stand-ins), to check none is destroyed."""
    out = tmp_path / "out"
    out.mkdir()
    for name in EARLIER_FILES:
        (out / name).write_bytes(b"earlier " + name.encode())
    return out


def assert_untouched(out, new_folders=()):
    """The earlier files are all there, unchanged, beside nothing but ``new_folders``."""
    assert sorted(os.listdir(out)) == sorted((*EARLIER_FILES, *new_folders))
    for name in EARLIER_FILES:
        assert (out / name).read_bytes() == b"earlier " + name.encode()


def assert_one_line(err, *words):
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert "Traceback" not in err
    for word in words:
        assert word in err, err


@pytest.mark.parametrize("argv, words", [
    (["--backend", "tpu"], ["--backend", "invalid choice", "numpy"]),
    (["--dataset", "cifar"], ["--dataset", "invalid choice", "ring"]),
    (["--frobnicate"], ["unrecognized arguments: --frobnicate", "--help"]),
    (["--steps", "0"], ["--steps", "got '0'", "positive integer"]),
    (["--steps", "ten"], ["--steps", "got 'ten'"]),
    (["--batch-size", "-4"], ["--batch-size", "positive integer"]),
    (["--k", "0"], ["--k", "positive integer"]),
    (["--lr", "0"], ["--lr", "positive number"]),
    (["--lr=-1e-3"], ["--lr", "positive number"]),
    (["--lr", "nan"], ["--lr", "positive number"]),
    (["--seed", "-1"], ["--seed", "integer >= 0"]),
    (["--loss", "wasserstein"], ["--loss", "invalid choice"]),
    (["--penalty", "r3"], ["--penalty", "invalid choice", "gp"]),
    (["--gamma", "0"], ["--gamma", "positive number"]),
    (["--clip", "inf"], ["--clip", "positive number"]),
    (["--gamma", "5"], ["--gamma 5", "--penalty"]),
])
def test_usage_errors_exit_2_with_one_line(capsys, full_out, argv, words):
    status, out, err = run(capsys, *argv, "--out", str(full_out))
    assert status == 2 and out == ""
    assert_one_line(err, "error:", *words)
    assert_untouched(full_out)


def test_help_exits_0(capsys):
    status, out, _ = run(capsys, "--help")
    assert status == 0 and "--backend" in out and "--resume" in out


def test_missing_resume_file(capsys, full_out):
    status, _, err = run(capsys, "--resume", str(full_out / "nope.npz"), "--out", str(full_out))
    assert status == 1
    assert_one_line(err, "--resume", "no such file", "checkpoint.npz")
    assert_untouched(full_out)


def test_a_folder_given_to_resume(capsys, full_out):
    status, _, err = run(capsys, "--resume", str(full_out), "--out", str(full_out))
    assert status == 1
    assert_one_line(err, "--resume", "that is a folder", "checkpoint.npz")
    assert_untouched(full_out)


def test_corrupt_resume_file(capsys, full_out):
    # full_out/checkpoint.npz holds a few bytes of text: not a checkpoint
    status, _, err = run(capsys, "--resume", str(full_out / "checkpoint.npz"), "--out", str(full_out))
    assert status == 1
    assert_one_line(err, "--resume", "not a minigan checkpoint (not a zip file")
    assert "pickle" not in err
    assert_untouched(full_out)


def test_random_bytes_given_to_resume(tmp_path, capsys):
    (tmp_path / "random.npz").write_bytes(np.random.default_rng(1).bytes(3000))
    status, _, err = run(capsys, "--resume", str(tmp_path / "random.npz"))
    assert status == 1
    assert_one_line(err, f"--resume: checkpoint {tmp_path / 'random.npz'}: not a minigan checkpoint")
    assert "pickle" not in err


def test_truncated_resume_file(tmp_path, capsys, ring_run):
    good = (ring_run / "checkpoint.npz").read_bytes()
    broken = tmp_path / "checkpoint.npz"
    broken.write_bytes(good[: len(good) // 2])
    status, _, err = run(capsys, "--resume", str(broken), "--out", str(tmp_path / "out"))
    assert status == 1
    assert_one_line(err, "--resume", "truncated or corrupt")
    assert broken.read_bytes() == good[: len(good) // 2]


def test_a_crafted_negative_step_is_refused_before_anything_is_touched(tmp_path, capsys):
    # issue 27: step -5 was accepted, and the resume rewrote history.csv from step -4, losing the rows
    out = tmp_path / "out"
    assert run(capsys, "--steps", "6", "--batch-size", "16", "--out", str(out))[0] == 0
    folder = out / "run-001"
    with np.load(folder / "checkpoint.npz", allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["step"] = np.asarray(-5)
    with open(folder / "checkpoint.npz", "wb") as f:
        checkpoint.write_npz(f, arrays)
    before = {name: (folder / name).read_bytes() for name in os.listdir(folder)}
    status, _, err = run(capsys, "--resume", str(folder / "checkpoint.npz"), "--steps", "10")
    assert status == 1
    assert_one_line(err, "--resume", "step -5", "iteration count >= 0")
    assert {name: (folder / name).read_bytes() for name in os.listdir(folder)} == before
    assert sorted(os.listdir(out)) == ["latest", "run-001"]


def test_a_checkpoint_whose_step_is_not_the_historys_length_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    assert run(capsys, "--steps", "6", "--batch-size", "16", "--out", str(out))[0] == 0
    folder = out / "run-001"
    rows = (folder / "history.csv").read_text().splitlines()
    (folder / "history.csv").write_text("\n".join(rows[:1] + rows[3:]) + "\n")   # steps 1 and 2 gone
    before = (folder / "history.csv").read_bytes()
    status, _, err = run(capsys, "--resume", str(folder / "checkpoint.npz"), "--steps", "10", "--out", str(tmp_path / "b"))
    assert status == 1
    assert_one_line(err, "history.csv has 4 rows up to step 6", "checkpoint is at step 6", "move history.csv away")
    assert (folder / "history.csv").read_bytes() == before and not (tmp_path / "b").exists()


@pytest.mark.parametrize("argv, words", [
    (["--dataset", "grid"], ["--dataset grid", "has dataset='ring'", "cannot change", "new run"]),
    (["--batch-size", "64"], ["--batch-size 64", "has m=32", "cannot change"]),
    (["--seed", "5"], ["--seed 5", "has seed=0", "cannot change"]),
    (["--steps", "11"], ["--steps 11", "already at step 12", "--steps 12 or more"]),
])
def test_resume_refuses_to_change_what_makes_the_run(capsys, ring_run, full_out, argv, words):
    status, _, err = run(capsys, "--resume", str(ring_run / "checkpoint.npz"), *argv, "--out", str(full_out))
    assert status == 2
    assert_one_line(err, *words)
    assert_untouched(full_out)


def test_a_diverged_run(capsys, full_out):
    status, _, err = run(capsys, "--steps", "30", "--batch-size", "16", "--lr", "1e30", "--out", str(full_out))
    assert status == 1
    assert_one_line(err, "training diverged", "nan at step", "--lr", "last good checkpoint")
    assert_untouched(full_out, new_folders=["latest", "run-001"])       # its own folder, beside the old files


def test_unwritable_out(tmp_path, capsys):
    a_file = tmp_path / "results.txt"
    a_file.write_text("keep me")
    for out in (a_file, a_file / "sub"):                    # a file, and a folder under a file
        status, _, err = run(capsys, "--steps", "2", "--out", str(out))
        assert status == 1
        assert_one_line(err, "--out", "cannot write", "choose another folder")
    assert a_file.read_text() == "keep me"


@pytest.mark.skipif(minigan.gpu_available(), reason="this machine has a GPU: cupy works here")
def test_cupy_without_a_gpu(capsys, full_out):
    status, _, err = run(capsys, "--backend", "cupy", "--out", str(full_out))
    assert status == 1
    assert_one_line(err, "cupy", "--backend numpy")
    assert_untouched(full_out)


def test_the_real_command_prints_no_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "minigan.demo", "--resume", str(tmp_path / "missing.npz"),
                             "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and result.stdout == ""
    assert_one_line(result.stderr, "python -m minigan.demo: error: --resume", "no such file")


def test_importing_minigan_and_the_demo_does_not_import_matplotlib():
    code = "import sys, minigan, minigan.demo, minigan.gan; assert 'matplotlib' not in sys.modules, 'imported'"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


# ---- a full disk (issue 27): which file, the last good checkpoint, the command that resumes ----------
@contextlib.contextmanager
def small_disk(path, size: str):
    """A tmpfs of ``size`` at ``path`` (root, where the machine lets us mount one); else skip."""
    path.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                             capture_output=True).returncode == 0 if hasattr(os, "geteuid") and os.geteuid() == 0 else False
    if not mounted:
        pytest.skip("cannot mount a tmpfs here (not root, or not allowed); the write-wrapper test covers this")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def assert_disk_full_reported(err, folder, step):
    assert_one_line(err, f"could not write {folder / 'checkpoint.npz'} (No space left on device)",
                    f"the last good checkpoint is {folder / 'checkpoint.npz'} (step {step})",
                    "resume with: python -m minigan.demo ", f"--resume {folder / 'checkpoint.npz'}\n")
    info = json.loads((folder / "run.json").read_text())
    assert info["state"] == "stopped" and "No space left on device" in info["error"]
    assert not [n for n in os.listdir(folder) if n.endswith(".tmp")]      # no half-written file left


def test_a_full_disk_on_a_small_tmpfs(tmp_path, capsys):
    # 640 kB: the first checkpoint (about 430 kB) fits, a second beside it (written, then swapped in) does not
    with small_disk(tmp_path / "disk", "640k") as disk:
        out = disk / "out"
        status, _, err = run(capsys, "--steps", "12", "--batch-size", "16", "--checkpoint-every", "5",
                             "--out", str(out), "--no-progress")
        assert status == 1
        folder = out / "run-001"
        assert_disk_full_reported(err, folder, 0)
        assert checkpoint.read(folder / "checkpoint.npz").step == 0
        subprocess.run(["mount", "-o", "remount,size=8m", str(disk)], check=True)   # space freed
        command = shlex.split(err.split("resume with: ")[1])[3:]                  # the command it printed
        status, printed, err = run(capsys, *command)
        assert status == 0, err
        assert [int(r["step"]) for r in read_history(folder / "history.csv")] == list(range(1, 13))
        assert json.loads((folder / "run.json").read_text())["state"] == "finished"


def test_a_full_disk_with_a_write_that_fails(tmp_path, capsys, monkeypatch):
    writes = []

    def full_after_one(file, arrays):                   # the second checkpoint finds the disk full
        writes.append(1)
        if len(writes) > 1:
            raise OSError(28, "No space left on device")
        return real(file, arrays)

    real = checkpoint.write_npz
    monkeypatch.setattr(checkpoint, "write_npz", full_after_one)
    out = tmp_path / "out"
    status, _, err = run(capsys, "--steps", "12", "--batch-size", "16", "--checkpoint-every", "5",
                         "--out", str(out), "--no-progress")
    assert status == 1
    assert_disk_full_reported(err, out / "run-001", 0)


def test_the_categorical_run_writes_the_full_set_and_resumes(tmp_path, capsys):
    # issue 27: every mode's folder holds what the README promises, with a resume that works
    out = tmp_path / "out"
    tiny = ["--dataset", "categorical", "--batch-size", "16", "--checkpoint-every", "2", "--no-progress"]
    assert run(capsys, *tiny, "--steps", "3", "--out", str(out))[0] == 0
    folder = out / "run-001"
    assert sorted(os.listdir(folder)) == RUN_FILES
    assert_figures(folder)
    status, _, err = run(capsys, "--resume", str(folder / "checkpoint.npz"), "--steps", "5", "--no-progress")
    assert status == 0, err
    assert sorted(os.listdir(folder)) == RUN_FILES and sorted(os.listdir(out)) == ["latest", "run-001"]
    assert [int(r["step"]) for r in read_history(folder / "history.csv")] == list(range(1, 6))
    assert json.loads((folder / "metrics.json").read_text())["resumed_from"] == 3
