"""Every tutorial runs to completion in fast mode, and its checked number is right.

Each tutorial ends by printing one line ``CHECK <name> = <number>``. The table below says
which name each tutorial must print and the range its number must fall in, so a change in
the library that breaks a lesson (a wrong gradient, a GAN that stops learning) fails here.
The scripts run as a new user would run them: ``python tutorials/NN_name.py``, from another
folder, with ``MINIGAN_FAST=1`` to keep each to a few seconds and figures sent to a
temporary folder.
"""
import math
import os
import pathlib
import re
import subprocess
import sys

import pytest

import minigan

ROOT = pathlib.Path(__file__).resolve().parent.parent
TUTORIALS = ROOT / "tutorials"

# tutorial file -> (checked name, lowest allowed, highest allowed)
CHECKS = {
    "01_arrays_and_backends.py": ("backend_max_abs_difference", 0.0, 1e-6),
    "02_autograd_from_scratch.py": ("max_abs_grad_difference", 0.0, 1e-12),
    "03_gradient_checking.py": ("max_abs_grad_error", 0.0, 1e-8),
    "04_layers_and_mlps.py": ("max_abs_grad_difference", 0.0, 1e-10),
    "05_the_minimax_game.py": ("gradient_ratio_at_D_001", 99.0 - 1e-6, 99.0 + 1e-6),
    "06_optimal_discriminator.py": ("value_gap", 0.0, 0.1),  # starts near 0.44; fast mode reaches ~0.03
    "07_algorithm1_1d.py": ("js_divergence", 0.0, 0.02),  # starts at log 2 = 0.69; ends near 0.003
    "08_two_dims_and_mode_collapse.py": ("modes_covered", 6, 8),  # of the ring's 8
    "09_images.py": ("classes_covered", 7, 10),  # of 10 digits
    "10_the_gpu.py": ("numpy_cupy_max_abs_difference", 0.0, 1e-4),  # without a GPU: gpu_available = 0
}

CHECK_LINE = re.compile(r"^CHECK (\w+) = (\S+)$", re.MULTILINE)


def tutorial_files():
    return sorted(p.name for p in TUTORIALS.glob("[0-9][0-9]_*.py"))


def run_tutorial(name, tmp_path):
    env = dict(os.environ, MINIGAN_FAST="1", MPLBACKEND="Agg", MINIGAN_FIGURES=str(tmp_path / "figures"),
               MINIGAN_CACHE=str(tmp_path / "cache"))  # tutorial 09's classifier: trained afresh, nothing in ~/.cache
    # Small matrices: BLAS threads only contend with each other (and with other test
    # processes) on a small machine; one thread made the training tutorials 4x faster on 2 cores.
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(variable, "1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, str(TUTORIALS / name)], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=300,
    )


def test_every_tutorial_has_a_check():
    assert tutorial_files() == sorted(CHECKS), "tutorials/ and the CHECKS table list different files"


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_tutorial_is_a_percent_script_that_says_what_it_teaches(name):
    text = (TUTORIALS / name).read_text()
    first_cell = text.split("# %%\n", 1)[0]
    assert text.startswith("# %% [markdown]\n"), "a tutorial opens with a Markdown cell"
    assert "What this teaches" in first_cell and "How long it runs" in first_cell
    assert "plt.show()" not in text, "tutorials save figures; a window would block the test run"


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_tutorial_runs_and_checks_its_number(name, tmp_path):
    result = run_tutorial(name, tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{name} exited with {result.returncode}:\n{output[-3000:]}"
    found = CHECK_LINE.findall(result.stdout)
    assert found, f"{name} printed no CHECK line:\n{output[-3000:]}"
    check_name, text = found[-1]
    if name == "10_the_gpu.py" and check_name == "gpu_available":
        # on a machine without a GPU the tutorial explains itself and reports 0
        assert float(text) == 0.0 and not minigan.gpu_available(), "a GPU is here but the tutorial did not use it"
        return
    wanted, low, high = CHECKS[name]
    value = float(text)
    assert check_name == wanted
    assert math.isfinite(value) and low <= value <= high, f"{name}: {check_name} = {value}, wanted [{low}, {high}]"
    assert any((tmp_path / "figures").glob("*.png")), f"{name} saved no figure"
