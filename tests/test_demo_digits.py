"""python -m minigan.demo --dataset digits --labels N / --conditional: tiny runs write what
they promise; bad flag combinations get one line and exit status 2 (minigan.demo.digits)."""
import json

import numpy as np
import pytest

from minigan.demo import __main__ as demo

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


@pytest.mark.parametrize("argv, words", [
    (["--labels", "100"], "--labels: got --dataset ring (the default), wanted --dataset digits"),
    (["--dataset", "grid", "--conditional"], "--conditional: got --dataset grid, wanted --dataset digits"),
    (["--dataset", "digits", "--labels", "105"], "--labels: got 105, wanted a multiple of 10"),
    (["--dataset", "digits", "--labels", "2000"], "--labels: got 2000, wanted a multiple of 10 from 10 to 1000"),
    (["--dataset", "digits", "--labels", "0"], "argument --labels: got '0', wanted a positive integer"),
    (["--dataset", "digits", "--labels", "100", "--conditional"], "--labels and --conditional: got both"),
    (["--dataset", "digits", "--conditional", "--k", "2"], "--k: not available with --conditional"),
    (["--dataset", "digits", "--labels", "100", "--resume", "x.npz"], "--resume: not available with --labels"),
    (["--dataset", "digits", "--labels", "100", "--loss", "minimax"], "--loss: not available with --labels"),
    (["--dataset", "digits", "--labels", "100", "--penalty", "r1"], "--penalty: not available with --labels"),
    (["--dataset", "digits", "--conditional", "--threads", "1"], "--threads: not available with --conditional"),
    (["--dataset", "digits", "--conditional", "--checkpoint-every", "50"],
     "--checkpoint-every: not available with --conditional"),
])
def test_bad_combinations_exit_2_with_one_line(tmp_path, capsys, argv, words):
    status, printed, err = run(capsys, *argv, "--out", str(tmp_path / "out"))
    assert status == 2 and printed == ""
    assert err.count("\n") == 1 and words in err, err
    assert not (tmp_path / "out").exists()                    # refused before anything was written
