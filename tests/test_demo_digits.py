"""python -m minigan.demo --dataset digits --labels N / --conditional: tiny runs write what
they promise; bad flag combinations get one line and exit status 2 (minigan.demo.digits)."""
import csv
import json
import os

import pytest

from minigan.demo import __main__ as demo
from minigan.gan import checkpoint

from minigan.judging import digits_features

pytest.importorskip("sklearn")


def run(capsys, *argv):
    status = demo.main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_tiny_semi_supervised_run(tmp_path, capsys):
    out = tmp_path / "out"
    status, printed, err = run(capsys, "--dataset", "digits", "--labels", "20", "--steps", "5", "--batch-size", "16",
                               "--seed", "3", "--out", str(out))
    assert status == 0, err
    folder = out / "run-001"
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["mode"] == "semi_supervised" and metrics["seed"] == 3 and metrics["labels"] == 20
    for key in ("classifier_accuracy", "supervised_only_accuracy"):
        assert 0.0 <= metrics[key] <= 1.0
        assert metrics[key] * metrics["test_digits"] == pytest.approx(round(metrics[key] * metrics["test_digits"]))
    assert metrics["gain"] == pytest.approx(metrics["classifier_accuracy"] - metrics["supervised_only_accuracy"])
    for name in ("learning_curves.png", "samples.png", "curves.csv", "run.json"):
        assert (folder / name).stat().st_size > 0, name
    assert json.loads((folder / "run.json").read_text())["state"] == "finished"
    assert "classifier_accuracy=" in printed


def test_tiny_conditional_run(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MINIGAN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(digits_features, "STEPS", 60)       # a rough judge is enough here
    out = tmp_path / "out"
    status, _, err = run(capsys, "--dataset", "digits", "--conditional", "--steps", "5", "--out", str(out), "--quiet")
    assert status == 0, err
    metrics = json.loads((out / "run-001" / "metrics.json").read_text())
    assert metrics["mode"] == "conditional" and 0.0 <= metrics["class_agreement"] <= 1.0
    assert (out / "run-001" / "samples.png").stat().st_size > 0


# ---- issue 27: every mode's folder holds the full set, and its resume works ---------------------------
COMMON = ["checkpoint.npz", "history.csv", "losses.png", "metrics.json", "run.json", "samples.png"]
MODES = {"conditional": (["--conditional"], COMMON),
         "labels": (["--labels", "20"], COMMON + ["curves.csv", "learning_curves.png"])}


def listing(folder):
    return sorted(n for n in os.listdir(folder) if n != ".lock")


@pytest.mark.parametrize("mode", sorted(MODES))
def test_every_mode_writes_the_full_set_and_resumes_as_if_never_stopped(tmp_path, capsys, monkeypatch, mode):
    monkeypatch.setenv("MINIGAN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(digits_features, "STEPS", 60)
    flags, files = MODES[mode]
    tiny = ["--dataset", "digits", *flags, "--batch-size", "16", "--checkpoint-every", "3", "--quiet"]
    # one run of 8 steps, and one of 5 steps resumed to 8
    assert run(capsys, *tiny, "--steps", "8", "--out", str(tmp_path / "whole"))[0] == 0
    assert run(capsys, *tiny, "--steps", "5", "--out", str(tmp_path / "cut"))[0] == 0
    whole, cut = tmp_path / "whole" / "run-001", tmp_path / "cut" / "run-001"
    assert listing(cut) == sorted(files)
    info = json.loads((cut / "run.json").read_text())
    assert info["state"] == "finished" and sorted(info["files"]) == sorted(files)
    assert checkpoint.read(cut / "checkpoint.npz").step == 5
    assert [int(r["step"]) for r in csv.DictReader(open(cut / "history.csv"))] == [1, 2, 3, 4, 5]
    status, _, err = run(capsys, *tiny, "--steps", "8", "--resume", str(cut / "checkpoint.npz"))
    assert status == 0, err
    assert listing(cut) == sorted(files) and sorted(os.listdir(tmp_path / "cut")) == ["latest", "run-001"]
    assert (cut / "history.csv").read_bytes() == (whole / "history.csv").read_bytes()   # bit for bit
    assert (cut / "checkpoint.npz").read_bytes() != b"" and checkpoint.read(cut / "checkpoint.npz").step == 8
    a, b = (json.loads((f / "metrics.json").read_text()) for f in (whole, cut))
    keys = ("class_agreement",) if mode == "conditional" else ("classifier_accuracy", "supervised_only_accuracy")
    assert all(a[k] == b[k] for k in keys) and b["resumed_from"] == 5
    if mode == "labels":
        assert (cut / "curves.csv").read_bytes() == (whole / "curves.csv").read_bytes()


def test_a_resume_of_another_mode_is_refused_in_one_line(tmp_path, capsys):
    tiny = ["--dataset", "digits", "--batch-size", "16", "--steps", "2", "--quiet"]
    assert run(capsys, *tiny, "--labels", "20", "--out", str(tmp_path / "out"))[0] == 0
    path = tmp_path / "out" / "run-001" / "checkpoint.npz"
    before = path.read_bytes()
    status, _, err = run(capsys, *tiny, "--conditional", "--resume", str(path))
    assert status == 2 and err.count("\n") == 1
    assert "a run of 'labels20' (seed 0), not of this command's 'conditional'" in err
    assert path.read_bytes() == before


@pytest.mark.parametrize("argv, words", [
    (["--labels", "100"], "--labels: got --dataset ring (the default), wanted --dataset digits"),
    (["--dataset", "grid", "--conditional"], "--conditional: got --dataset grid, wanted --dataset digits"),
    (["--dataset", "digits", "--labels", "105"], "--labels: got 105, wanted a multiple of 10"),
    (["--dataset", "digits", "--labels", "2000"], "--labels: got 2000, wanted a multiple of 10 from 10 to 1000"),
    (["--dataset", "digits", "--labels", "0"], "argument --labels: got '0', wanted a positive integer"),
    (["--dataset", "digits", "--labels", "100", "--conditional"], "--labels and --conditional: got both"),
    (["--dataset", "digits", "--conditional", "--k", "2"], "--k: not available with --conditional"),
    (["--dataset", "digits", "--labels", "100", "--optimizer", "sgd"], "--optimizer: not available with --labels"),
    (["--dataset", "digits", "--labels", "100", "--loss", "minimax"], "--loss: not available with --labels"),
    (["--dataset", "digits", "--labels", "100", "--penalty", "r1"], "--penalty: not available with --labels"),
    (["--dataset", "digits", "--conditional", "--threads", "1"], "--threads: not available with --conditional"),
])
def test_bad_combinations_exit_2_with_one_line(tmp_path, capsys, argv, words):
    status, printed, err = run(capsys, *argv, "--out", str(tmp_path / "out"))
    assert status == 2 and printed == ""
    assert err.count("\n") == 1 and words in err, err
    assert not (tmp_path / "out").exists()                    # refused before anything was written
