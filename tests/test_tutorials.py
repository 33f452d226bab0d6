"""Every tutorial runs to completion, and every number its text states is printed and true.

A tutorial's prose makes *measured claims*: a gradient error, a gap, modes covered, which
setting wins. Each one is printed by the run as a line ``CHECK <name> = <number>``, and the
table below says, for every tutorial, which names it must print and the range each must
fall in, once for the fast mode (``MINIGAN_FAST=1``, a few seconds, run by CI) and once for
the full run the prose describes. So a change in the library that breaks a lesson (a wrong
gradient, a GAN that stops learning) fails here, and so does a lesson whose text stops
matching its numbers.

- ``python -m pytest tests/test_tutorials.py``: every tutorial in fast mode (CI runs this).
- ``python -m pytest -m full tests/test_tutorials.py``: every tutorial in full mode, as a
  student runs it (about 5 minutes on two cores; not part of the default run, see setup.cfg).

The scripts run as a new user would run them: ``python tutorials/NN_name.py``, from another
folder, with figures sent to a temporary folder and one BLAS thread.
"""
import math
import os
import pathlib
import re
import subprocess
import sys
import time

import pytest

import minigan

ROOT = pathlib.Path(__file__).resolve().parent.parent
TUTORIALS = ROOT / "tutorials"
ANY = (-math.inf, math.inf)  # printed, and finite, but its value is not a claim in this mode

# tutorial file -> {claim: (fast-mode range, full-mode range)}; each range is (low, high), inclusive.
# The comment on each line is what the tutorial's text says.
CLAIMS = {
    "01_arrays_and_backends.py": {
        "backend_max_abs_difference": ((0.0, 1e-6), (0.0, 1e-6)),  # float32 rounding only
    },
    "02_autograd_from_scratch.py": {
        "max_abs_grad_difference": ((0.0, 1e-12), (0.0, 1e-12)),  # float64 rounding only
    },
    "03_gradient_checking.py": {
        "float64_central_error_at_eps_1e_6": ((0.0, 1e-9), (0.0, 1e-9)),  # "about 1e-10 or better"
        "float32_central_error_at_eps_1e_6": ((1e-3, 1e-1), (1e-3, 1e-1)),  # "off in the third digit"
        "float32_best_eps": ((1e-4, 1e-1), (1e-4, 1e-1)),  # "near 1e-3 to 1e-2"
        "max_abs_grad_error": ((0.0, 1e-8), (0.0, 1e-8)),  # rounding-sized
    },
    "04_layers_and_mlps.py": {
        "max_abs_grad_difference": ((0.0, 1e-10), (0.0, 1e-10)),
        "fit_improvement": ((10.0, math.inf), (10.0, math.inf)),  # "improved at least tenfold"
    },
    "05_the_minimax_game.py": {
        "minimax_theta_moved": ((0.0, 1e-4), (0.0, 1e-4)),  # "moves by less than 1e-4 in all"
        "non_saturating_crossing_step": ((1, 12), (1, 12)),  # "crosses within a dozen steps"
        "gradient_ratio_at_D_001": ((99.0 - 1e-6, 99.0 + 1e-6), (99.0 - 1e-6, 99.0 + 1e-6)),
    },
    "06_optimal_discriminator.py": {
        "two_jsd": ((0.44, 0.45), (0.44, 0.45)),  # "2 JSD = 0.448 for these two Gaussians"
        "value_gap_start": ((0.40, 0.50), (0.40, 0.50)),  # "starts at 0.45" (this seed; 0.56 to 0.76 on others)
        "value_gap_start_minus_two_jsd": ((-0.01, 0.01), (-0.01, 0.01)),  # "within 0.01 of that"
        "value_gap": ((0.0, 0.1), (0.0, 0.005)),  # full: "0.003 or less" on every seed; fast: "a few hundredths"
    },
    "07_algorithm1_1d.py": {  # fast mode trains the same 600 steps (it only skips the animation)
        "js_divergence_start": ((0.6, math.log(2) + 1e-6), (0.6, math.log(2) + 1e-6)),  # "log 2 here; 0.63 to 0.69"
        "final_value": ((-1.45, -1.33), (-1.45, -1.33)),  # "near -log 4 = -1.386"
        "final_d_real": ((0.45, 0.55), (0.45, 0.55)),  # "near 1/2"
        "final_d_fake": ((0.45, 0.55), (0.45, 0.55)),
        "js_divergence": ((0.0, 0.01), (0.0, 0.01)),  # "about 0.003", the floor of 2,500 true samples
    },
    "08_two_dims_and_mode_collapse.py": {
        "ring_all_modes_by_step": ((1, 600), (1, 300)),  # "by step 300 in this run" (300 to 900 on seeds 1 to 4)
        "ring_high_quality": ((0.0, 1.0), (0.8, 1.0)),  # "climbs, to about 90% at the end"
        "ring_modes_covered": ((6, 8), (8, 8)),  # 8 of 8 at the end of section 2's run
        # The knob table over seeds. Fast mode only exercises the code (2 seeds of 20 steps).
        "knob_seeds": ((2, 2), (5, 5)),
        "median_modes_baseline": ((0, 8), (6, 8)),  # "all 8 modes on most seeds" (median 8; 7 on 10 other runs)
        "median_modes_minimax": ((0, 8), (6, 8)),  # "at k = 1, as well as the non-saturating loss"
        "k1_minimax_minus_non_saturating": ((-8, 8), (-1, 8)),
        "late_d_fake_k1_minimax": ((0, 1), (0.3, 0.6)),  # "D(G(z)) stays near 0.4": no saturation
        "median_modes_k5": ((0, 8), (6, 8)),  # "k = 5, non-saturating: as many modes as the baseline"
        "median_modes_k5_minimax": ((0, 8), (0, 3)),  # "k = 5, minimax: collapses"
        "k5_non_saturating_minus_minimax": ((-8, 8), (4, 8)),
        "late_d_fake_k5_minimax": ((0, 1), (0.0, 0.1)),  # "D wins: D(G(z)) about 0.05"
        "late_d_fake_k5_non_saturating": ((0, 1), (0.15, 0.4)),  # "near 0.25"
        "median_modes_slow_D": ((0, 8), (0, 1)),  # "collapses G on every seed"
        "max_modes_slow_D": ((0, 8), (0, 2)),  # 0 on all five here; at most 2 in 10 other runs
        "median_modes_slow_G": ((0, 8), (8, 8)),  # "as reliable as any row": 8 of 8 on four seeds, 7 on the fifth
        "min_modes_slow_G": ((0, 8), (7, 8)),
        "grid_modes_covered": ((0, 25), (20, 25)),  # section 4's grid run (25 modes)
    },
    "09_does_gan_training_converge.py": {  # the same 2-D runs in both modes (fast only shrinks the figures)
        "jacobian_max_abs_error": ((0.0, 1e-8), (0.0, 1e-8)),  # closed-form J against finite differences
        "gan_eigenvalue_real_abs": ((0.0, 1e-12), (0.0, 1e-12)),  # "purely imaginary"
        "gan_eigenvalue_imag": ((0.5 - 1e-9, 0.5 + 1e-9), (0.5 - 1e-9, 0.5 + 1e-9)),  # "+- i f'(0) = +- i/2"
        "r1_gamma_1_eigenvalue_real": ((-0.5 - 1e-9, -0.5 + 1e-9), (-0.5 - 1e-9, -0.5 + 1e-9)),  # "meet at -1/2"
        "gan_simultaneous_end_over_start": ((2.0, math.inf), (2.0, math.inf)),  # "more than twice as far out"
        "gan_alternating_end_over_start": ((0.95, 1.0), (0.95, 1.0)),  # "a little closer, 3%"
        "gan_alternating_min_over_start": ((0.97, 1.0), (0.97, 1.0)),  # "within 3% of its start on all steps"
        "wgan_simultaneous_late_min": ((0.4, 1.5), (0.4, 1.5)),  # "at a distance of 0.4 to about 1"
        "wgan_k1_late_min": ((0.4, 1.5), (0.4, 1.5)),
        "wgan_k5_late_min": ((0.4, 1.5), (0.4, 1.5)),
        "noise_simultaneous_distance": ((0.0, 1e-4), (0.0, 1e-4)),  # "within 1e-4"
        "noise_alternating_distance": ((0.0, 1e-4), (0.0, 1e-4)),
        "r1_gamma_1_simultaneous_distance": ((0.0, 1e-30), (0.0, 1e-30)),  # "about 1e-35 or closer" (issue: < 1e-3)
        "r1_gamma_1_alternating_distance": ((0.0, 1e-30), (0.0, 1e-30)),
        "r1_largest_distance": ((0.0, 1e-3), (0.0, 1e-3)),  # "every regularised run converges"
        "rate_max_relative_error": ((0.0, 5e-3), (0.0, 5e-3)),  # "within 0.5%"
        "fastest_r1_gamma": ((1, 1), (1, 1)),  # "the fastest is gamma = 2 f'(0) = 1"
        "wgan_gp_circling_late_min": ((0.4, 2.0), (0.4, 2.0)),  # "with lambda = 0.3 the paths keep circling"
        "wgan_gp_stuck_theta": ((2.0 - 1e-3, 2.0 + 1e-3), (2.0 - 1e-3, 2.0 + 1e-3)),  # "stop at theta = 2 lambda"
        "non_saturating_alternating_distance": ((0.15, 0.25), (0.15, 0.25)),  # "0.20 after 2,000 steps"
        "non_saturating_quadrupling_ratio": ((1.8, 2.2), (1.8, 2.2)),  # "four times the steps for half the distance"
        "non_saturating_simultaneous_distance": ((0.4, 0.5), (0.4, 0.5)),  # "stall near 0.45"
    },
    "10_staying_in_step.py": {  # fast: D alone 300, G alone 200 steps, seed 0; full: 2,000 and 1,000, seeds 0-4
        "d_accuracy_end": ((0.99, 1.0), (0.99, 1.0)),  # "D's accuracy reaches 100%" (G at step 0)
        "d_fake_end": ((0.0, 1e-2), (0.0, 1e-4)),  # "mean D(G(z)) falling to about 1e-5"
        "d_steps_to_full_accuracy": ((1, 50), (1, 50)),  # "100% by the first measurement (20 D steps)"
        "minimax_gradient_ratio": ((0.0, 0.05), (0.0, 1e-3)),  # "collapses by a factor of about 7,000"
        "non_saturating_gradient_ratio": ((2.0, 100.0), (5.0, 50.0)),  # "grows, about fourteenfold"
        "overlap_d_accuracy_end": ((0.5, 0.99), (0.85, 0.99)),  # "only reaches about 0.94"
        "overlap_minimax_gradient_ratio": ((1.0, 100.0), (2.0, 50.0)),  # "ends about 9 times larger"
        "g_alone_seeds": ((1, 1), (5, 5)),
        "g_alone_steps": ((200, 200), (1000, 1000)),
        "modes_before": ((4, 8), (4, 8)),  # "a median of 6 modes when D is frozen"
        "modes_after": ((0, 4), (0, 3)),  # "to a median of 2" (per seed 2, 1, 0, 6, 7)
        "modes_control": ((5, 8), (5, 8)),  # "the control ends with a median of 7"
        "modes_control_min": ((5, 8), (5, 8)),  # "(6 to 8)"
        "R_before": ((0.0, 0.2), (0.0, 0.2)),  # "from about 0.06"
        "R_after": ((0.4, 1.0), (0.5, 1.0)),  # "to a median of 0.73"
        "R_control": ((0.0, 0.2), (0.0, 0.1)),  # "the control's stays under 0.1"
        "R_control_max": ((0.0, 0.2), (0.0, 0.12)),  # "at most 0.09 on every seed"
        "d_fake_over_d_max": ((0.8, 1.05), (0.9, 1.05)),  # "within 10% of the frozen D's maximum"
        "steps_to_R_half": ((25, 200), (100, 800)),  # "a median of 350 G steps": a few hundred
        "late_freeze_modes_before": ((4, 8), (4, 8)),  # "6 when frozen"
        "late_freeze_modes_after": ((4, 8), (6, 8)),  # "on as many modes as ever (8 at the end)"
        "late_freeze_R_after": ((0.0, 0.3), (0.0, 0.3)),  # "the samples stay spread (R 0.16)"
    },
    "11_discrete_data.py": {  # fast: one seed of 200 steps; full: seeds 0 to 2 of 600
        "js_untrained": ((0.1828, 0.1830), (0.1828, 0.1830)),  # "0.183 nats"
        "js_true_samples": ((0.0, 0.002), (0.0, 0.002)),  # "about 0.0003"
        "softmax_extreme_error": ((0.0, 1e-12), (0.0, 1e-12)),  # stable at +-1e3
        "naive_softmax_is_nan": ((1, 1), (1, 1)),  # "inf / inf is NaN"
        "gumbel_max_js": ((0.0, 0.001), (0.0, 0.001)),  # "the frequencies match softmax(theta)"
        "sample_max_grad_norm": ((0.0, 0.0), (0.0, 0.0)),  # "exactly zero, on every step"
        "sample_theta_change": ((0.0, 0.0), (0.0, 0.0)),  # "theta does not move by a single bit"
        "sample_js_change": ((0.0, 0.0), (0.0, 0.0)),
        "d_change": ((0.05, math.inf), (0.05, math.inf)),  # "D learns"
        "argmax_mlp_change": ((0.0, 0.0), (0.0, 0.0)),  # "the same holds for any generator that argmaxes"
        "st_grad_norm": ((1e-3, math.inf), (1e-3, math.inf)),
        "st_tau_1_js_max": ((0.0, 0.05), (0.0, 0.002)),  # "0.0005 to 0.0011 after 600" (issue: < 0.05)
        "st_tau_03_js_max": ((0.0, 0.05), (0.0, 0.002)),
        "st_sampled_js_max": ((0.0, 0.05), (0.0, 0.003)),  # "at most 0.0012"
        "soft_tau_1_js_min": (ANY, (0.15, math.log(2) + 1e-6)),  # "collapses ... JS 0.2 to 0.6"
        "soft_tau_1_best_js": (ANY, (0.0, 0.05)),  # "down to 0.006 to 0.04 by steps 100 to 150"
        "soft_tau_1_top_probability_min": (ANY, (0.95, 1.0)),  # "more than 95% of the mass on every seed"
        "soft_tau_01_js_max": ((0.0, 0.05), (0.003, 0.05)),  # "stays below 0.05, but wanders (0.006 to 0.013)"
    },
    "12_images.py": {
        "noise_classes_covered": ((5, 10), (5, 10)),  # "noise covers classes too (all 10 here)"
        "frechet_over_noise": ((0.0, 0.5), (0.0, 0.05)),  # "well below it: about 0.015 in the full run"
        "classes_covered": ((7, 10), (10, 10)),  # "all 10 in the full run"
    },
    "13_digits_semi_supervised_and_conditional.py": {  # fast mode trains 150 and 750 steps: no claim on the gain
        "classifier_accuracy": ((0.5, 1.0), (0.94, 0.98)),  # seed 0's GAN classifier on the 300 test digits
        "supervised_only_accuracy": ((0.5, 1.0), (0.87, 0.93)),  # the same network on the 100 labels alone
        "median_gain_points": ((-30.0, 30.0), (4.0, 7.0)),  # "about 5 points (4.7 to 6.0 on seeds 0 to 2)"
        "median_gain_points_input_noise": ((-30.0, 30.0), (2.0, 5.5)),  # "shrinks, to a median of about 4"
        "class_agreement": ((0.5, 1.0), (0.95, 1.0)),  # "0.95 or more in the full run"
    },
    "14_from_minigan_to_pytorch.py": {  # without PyTorch it prints torch_available = 0 instead (see below)
        "one_step_max_difference": ((0.0, 1e-6), (0.0, 1e-6)),  # "to 1e-6 in float64" (asserted; ~1e-15)
        "modes_at_handover": ((0, 8), (8, 8)),  # "by step 500 minigan has found all 8 modes"
        "modes_after_torch": ((0, 8), (8, 8)),  # "ends at step 1,000 with all 8 modes"
        "modes_after_minigan": ((0, 8), (8, 8)),  # "as the continuation in minigan does"
        "high_quality_after_torch": ((0.0, 1.0), (0.6, 0.9)),  # "about three quarters"
        "high_quality_after_minigan": ((0.0, 1.0), (0.6, 0.9)),
        "first_step_d_loss_difference": ((0.0, 1e-5), (0.0, 1e-5)),  # "to float32 rounding at worst"
        "autocast_d_difference": ((0.0, 0.03), (0.0, 0.03)),  # "D(x) moves by up to about 0.01"
        "ddp_processes": ((1, 1), (2, 2)),  # fast: a world of one; full: "two CPU processes"
        "ddp_max_abs_difference": ((0.0, 1e-5), (0.0, 1e-5)),  # "to 1e-5 after 20 steps" (~1e-16)
    },
    "15_the_gpu.py": {  # without a GPU it prints gpu_available = 0 instead (see below)
        "numpy_cupy_max_abs_difference": ((0.0, 1e-4), (0.0, 1e-4)),
    },
    "16_convolutions.py": {  # small float64 problems, the same in both modes: "to rounding"
        "im2col_max_error": ((0.0, 1e-12), (0.0, 1e-12)),  # im2col's product against the loops (~4e-15)
        "grad_x_max_error": ((0.0, 1e-6), (0.0, 1e-6)),  # the hand backward against central differences (~1e-8)
        "grad_w_max_error": ((0.0, 1e-6), (0.0, 1e-6)),
        "minigan_backward_gap": ((0.0, 1e-12), (0.0, 1e-12)),  # minigan's backward against the hand one
        "adjoint_relative_gap": ((0.0, 1e-12), (0.0, 1e-12)),  # <conv(x, w), y> = <x, conv_transpose(y, w)> (~4e-16)
        "batchnorm_gradcheck": ((1, 1), (1, 1)),
        "r1_refuses_batchnorm": ((1, 1), (1, 1)),
    },
}

# "How long it runs" in each tutorial's first cell, in seconds, for (fast, full) mode, as
# measured on two CPU cores with one BLAS thread. The full-mode test allows three times as
# long (a shared machine is slower); the fast mode's bound keeps CI short.
SECONDS = {
    "01_arrays_and_backends.py": (2, 2), "02_autograd_from_scratch.py": (2, 2),
    "03_gradient_checking.py": (2, 2), "04_layers_and_mlps.py": (2, 3),
    "05_the_minimax_game.py": (3, 3), "06_optimal_discriminator.py": (2, 10),
    "07_algorithm1_1d.py": (4, 8), "08_two_dims_and_mode_collapse.py": (10, 240),
    "09_does_gan_training_converge.py": (5, 5),
    "10_staying_in_step.py": (6, 45),
    "11_discrete_data.py": (5, 20), "12_images.py": (5, 25), "13_digits_semi_supervised_and_conditional.py": (10, 150), "14_from_minigan_to_pytorch.py": (10, 60), "15_the_gpu.py": (15, 60),
    "16_convolutions.py": (3, 3),
}

CHECK_LINE = re.compile(r"^CHECK (\w+) = (\S+)$", re.MULTILINE)


def tutorial_files():
    return sorted(p.name for p in TUTORIALS.glob("[0-9][0-9]_*.py"))


def run_tutorial(name, tmp_path, fast=True):
    env = dict(os.environ, MPLBACKEND="Agg", MINIGAN_FIGURES=str(tmp_path / "figures"),
               MINIGAN_CACHE=str(tmp_path / "cache"))  # tutorial 12's classifier: trained afresh, nothing in ~/.cache
    env.pop("MINIGAN_FAST", None)
    if fast:
        env["MINIGAN_FAST"] = "1"
    # Small matrices: BLAS threads only contend with each other (and with other test
    # processes) on a small machine; one thread made the training tutorials 4x faster on 2 cores.
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(variable, "1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, str(TUTORIALS / name)], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=300 if fast else 1800,
    )
    return result, time.perf_counter() - started


def check_claims(name, tmp_path, fast):
    result, seconds = run_tutorial(name, tmp_path, fast)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{name} exited with {result.returncode}:\n{output[-3000:]}"
    printed = dict(CHECK_LINE.findall(result.stdout))
    assert printed, f"{name} printed no CHECK line:\n{output[-3000:]}"
    if name == "14_from_minigan_to_pytorch.py" and "torch_available" in printed:
        # without PyTorch the tutorial says how to install it and reports 0
        assert float(printed["torch_available"]) == 0.0 and not torch_importable(), \
            "PyTorch is installed but the tutorial did not use it"
        return
    if name == "15_the_gpu.py" and "gpu_available" in printed:
        # on a machine without a GPU the tutorial explains itself and reports 0
        assert float(printed["gpu_available"]) == 0.0 and not minigan.gpu_available(), \
            "a GPU is here but the tutorial did not use it"
        return
    assert any((tmp_path / "figures").glob("*.png")), f"{name} saved no figure"
    claims = CLAIMS[name]
    assert sorted(printed) == sorted(claims), f"{name}: printed {sorted(printed)}, the table has {sorted(claims)}"
    mode = 0 if fast else 1
    wrong = []
    for claim, ranges in claims.items():
        value = float(printed[claim])
        low, high = ranges[mode]
        if not (math.isfinite(value) and low <= value <= high):
            wrong.append(f"{claim} = {value}, wanted [{low}, {high}]")
    assert not wrong, f"{name} ({'fast' if fast else 'full'} mode): " + "; ".join(wrong)
    limit = SECONDS[name][mode] * 3 + (30 if fast else 10)  # + Python's start-up and a busy machine
    assert seconds <= limit, f"{name} took {seconds:.0f} s, its first cell says about {SECONDS[name][mode]} s"


def torch_importable() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def test_every_tutorial_has_claims_and_a_time():
    assert tutorial_files() == sorted(CLAIMS) == sorted(SECONDS), "tutorials/, CLAIMS and SECONDS list different files"


@pytest.mark.parametrize("name", sorted(CLAIMS))
def test_tutorial_is_a_percent_script_that_says_what_it_teaches(name):
    text = (TUTORIALS / name).read_text()
    first_cell = text.split("# %%\n", 1)[0]
    assert text.startswith("# %% [markdown]\n"), "a tutorial opens with a Markdown cell"
    assert "What this teaches" in first_cell and "How long it runs" in first_cell
    assert "plt.show()" not in text, "tutorials save figures; a window would block the test run"


@pytest.mark.parametrize("name", sorted(CLAIMS))
def test_tutorial_runs_and_its_claims_hold_in_fast_mode(name, tmp_path):
    check_claims(name, tmp_path, fast=True)


@pytest.mark.full
@pytest.mark.parametrize("name", sorted(CLAIMS))
def test_tutorial_runs_and_its_claims_hold_in_full_mode(name, tmp_path):
    check_claims(name, tmp_path, fast=False)
