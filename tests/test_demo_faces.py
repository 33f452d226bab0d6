"""python -m minigan.demo --dataset faces: a DCGAN (or an MLP) on cartoon faces, judged by the faces judge.

The judge is made small here (a few steps on a few hundred faces): what is tested is that the
demo writes the whole run folder and the three numbers, not how good the judge is
(tests/test_faces_judge.py checks that).
"""
import json
import os

import numpy as np
import pytest
from PIL import Image

from minigan.demo import __main__ as demo
from minigan.judging import faces_judge, plot_faces

ARGS = ["--dataset", "faces", "--steps", "3", "--batch-size", "8", "--no-progress", "--quiet"]


@pytest.fixture(scope="module", autouse=True)
def quick_judge(tmp_path_factory):
    saved = {k: getattr(faces_judge, k) for k in ("STEPS", "N_FACES", "N_HELD_OUT", "FLOOR_N")}
    os.environ["MINIGAN_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    faces_judge.STEPS, faces_judge.N_FACES, faces_judge.N_HELD_OUT, faces_judge.FLOOR_N = 5, 300, 100, 200
    yield
    for k, v in saved.items():
        setattr(faces_judge, k, v)
    del os.environ["MINIGAN_CACHE"]


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["dcgan", "mlp"])
def test_a_faces_run_writes_the_whole_folder_and_the_judges_numbers(arch, tmp_path):
    assert demo.main([*ARGS, "--arch", arch, "--out", str(tmp_path)]) == 0
    run = tmp_path / "run-001"
    assert sorted(os.listdir(run)) == sorted((*demo.FILES, ".lock"))
    metrics = json.loads((run / "metrics.json").read_text())
    for name in ("recognizable_fraction", "combinations_covered", "frechet_distance", "frechet_floor", "judge_accuracy"):
        assert name in metrics, name
    with Image.open(run / "training.gif") as gif:
        assert gif.n_frames >= 2
    with Image.open(run / "samples.png") as png:
        assert png.mode in ("RGB", "RGBA")


def test_a_dcgan_needs_faces(tmp_path, capsys):
    assert demo.main(["--dataset", "ring", "--arch", "dcgan", "--steps", "1", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "arch: got 'dcgan' for dataset 'ring', wanted 'mlp'" in err and "Traceback" not in err
    assert not os.listdir(tmp_path)                                           # nothing made


def test_colour_grid_tiles_rows_in_order():
    images = np.stack([np.full(3 * 2 * 2, v) for v in (-1.0, 0.0, 1.0)])     # black, grey, white 2x2 faces
    grid = plot_faces.colour_grid(images, (3, 2, 2), columns=2, pad=1)
    assert grid.shape == (2 * 3 + 1, 2 * 3 + 1, 3)
    assert np.all(grid[1:3, 1:3] == 0.0) and np.all(grid[1:3, 4:6] == 0.5) and np.all(grid[4:6, 1:3] == 1.0)
    assert np.all(grid[0] == 1.0)                                             # white padding
    with pytest.raises(ValueError, match=r"image_shape: got \(1, 8, 8\), wanted \(3, rows, cols\)"):
        plot_faces.colour_grid(images, (1, 8, 8))


@pytest.mark.slow
def test_a_conditional_faces_run_writes_its_folder_scores_each_factor_and_resumes(tmp_path):
    """--dataset faces --conditional: a conditional DCGAN, the agreement per factor, a row per mouth."""
    args = ["--dataset", "faces", "--conditional", "--batch-size", "8", "--no-progress", "--quiet",
            "--out", str(tmp_path)]
    assert demo.main([*args, "--steps", "2"]) == 0
    run = tmp_path / "run-001"
    assert sorted(os.listdir(run)) == sorted(("run.json", "metrics.json", "history.csv", "checkpoint.npz",
                                              "losses.png", "samples.png", ".lock"))
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["dataset"] == "faces" and metrics["mode"] == "conditional" and metrics["config"]["arch"] == "dcgan"
    for factor in ("colour", "eyes", "mouth"):
        assert 0.0 <= metrics[f"{factor}_agreement"] <= 1.0
    for name in ("recognizable_fraction", "combinations_covered", "frechet_distance", "frechet_floor"):
        assert name in metrics, name
    with Image.open(run / "samples.png") as png:
        assert png.mode in ("RGB", "RGBA")
    assert len((run / "history.csv").read_text().splitlines()) == 1 + 2
    assert demo.main([*args[:-2], "--steps", "3", "--resume", str(run / "checkpoint.npz")]) == 0
    assert len((run / "history.csv").read_text().splitlines()) == 1 + 3


def test_conditional_faces_refuses_what_it_does_not_have(tmp_path, capsys):
    assert demo.main(["--dataset", "faces", "--conditional", "--arch", "mlp", "--out", str(tmp_path)]) == 2
    assert "--arch: not available with --conditional" in capsys.readouterr().err
    assert demo.main(["--dataset", "faces", "--labels", "100", "--out", str(tmp_path)]) == 2
    assert "--labels: got --dataset faces, wanted --dataset digits" in capsys.readouterr().err
    assert not os.listdir(tmp_path)
