"""Every tutorial runs to completion, and every number its text states is printed and true.

A tutorial's prose makes *measured claims*: a gradient error, a gap, modes covered, which
setting wins. Each one is printed by the run as a line ``CHECK <name> = <number>``, and the
table below says, for every tutorial, which names it must print and the range each must
fall in, once for the fast mode (``MINIGAN_FAST=1``, a few seconds, run by CI) and once for
the full run the prose describes. So a change in the library that breaks a lesson (a wrong
gradient, a GAN that stops learning) fails here, and so does a lesson whose text stops
matching its numbers. The tutorials do not assert themselves; this file does.

What a number in a tutorial's text may be (docs/tutorials.md, "Numbers in the text"):

- exact everywhere (a closed form, an identity, a count that no rounding changes): asserted
  tightly;
- a range over seeds, measured on more than one BLAS configuration: a long training run is
  bit-identical on one machine with one thread count and one BLAS kernel, and on no other,
  so the full-mode ranges below were measured with ``OPENBLAS_NUM_THREADS=1``, with 2 and
  with ``OPENBLAS_CORETYPE=Haswell`` (``MEASURED`` keeps the values, and says which ran where). Each bound is the
  measured spread plus a margin: 1 mode, a factor of 2 for a ratio spanning orders of
  magnitude, 0.02 to 0.05 for a fraction, stated on the line;
- a comparison ("the non-saturating runs keep more modes"): printed as a difference or a
  minimum and asserted as that comparison.

Every full-mode range excludes the value its text rules out (the third entry of each
claim, its *negation*), and ``test_each_claims_negation_fails`` plants it: a range that the
negated claim would pass is a defect. Each tutorial's run time is asserted too, both ways.

- ``python -m pytest tests/test_tutorials.py``: every tutorial in fast mode (CI runs this).
- ``python -m pytest -m full tests/test_tutorials.py``: every tutorial in full mode, as a
  student runs it (about 10 minutes on two quiet cores; not part of the default run, see setup.cfg).

The scripts run as a new user would run them: ``python tutorials/NN_name.py``, from another
folder, with figures sent to a temporary folder and one BLAS thread (unless the environment
sets ``OPENBLAS_NUM_THREADS``: that is how the second configuration is run).
"""
import math
import os
import pathlib
import re
import resource
import statistics
import subprocess
import sys
import time

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import minigan

ROOT = pathlib.Path(__file__).resolve().parent.parent
TUTORIALS = ROOT / "tutorials"
ANY = (-math.inf, math.inf)  # printed, and finite, but its value is not a claim in this mode

# tutorial file -> {claim: (fast-mode range, full-mode range, negation)}; each range is (low, high),
# inclusive. The negation is a value the text rules out: the full-mode range must exclude it.
# The comment on each line is what the tutorial's text says.
CLAIMS = {
    "01_arrays_and_backends.py": {
        "backend_max_abs_difference": ((0.0, 1e-6), (0.0, 1e-6), 1e-3),  # float32 rounding only
    },
    "02_autograd_from_scratch.py": {
        "max_abs_grad_difference": ((0.0, 1e-12), (0.0, 1e-12), 1e-6),  # float64 rounding only
    },
    "03_gradient_checking.py": {
        "float64_central_error_at_eps_1e_6": ((0.0, 1e-9), (0.0, 1e-9), 1e-6),  # "about 1e-10 or better"
        "float32_central_error_at_eps_1e_6": ((1e-3, 1e-1), (1e-3, 1e-1), 1e-6),  # "off in the third digit"
        "float32_best_eps": ((1e-4, 1e-1), (1e-4, 1e-1), 1e-6),  # "near 1e-3 to 1e-2"
        "max_abs_grad_error": ((0.0, 1e-8), (0.0, 1e-8), 1e-3),  # rounding-sized
    },
    "04_layers_and_mlps.py": {
        "max_abs_grad_difference": ((0.0, 1e-10), (0.0, 1e-10), 1e-4),
        "fit_improvement": ((10.0, math.inf), (10.0, math.inf), 2.0),  # "improved at least tenfold"
    },
    "05_the_minimax_game.py": {
        "minimax_theta_moved": ((0.0, 1e-4), (0.0, 1e-4), 0.1),  # "moves by less than 1e-4 in all"
        "non_saturating_crossing_step": ((1, 12), (1, 12), 50),  # "crosses within a dozen steps"
        "gradient_ratio_at_D_001": ((99.0 - 1e-6, 99.0 + 1e-6), (99.0 - 1e-6, 99.0 + 1e-6), 98.0),  # exact: 99
    },
    "06_optimal_discriminator.py": {
        "two_jsd": ((0.44, 0.45), (0.44, 0.45), 0.5),  # exact: "2 JSD = 0.448 for these two Gaussians"
        "value_gap_start": ((0.40, 0.50), (0.40, 0.50), 0.6),  # "starts near 2 JSD: this seed's D says about 1/2"
        "value_gap_start_minus_two_jsd": ((-0.01, 0.01), (-0.01, 0.01), 0.05),  # "within 0.01 of that"
        "value_gap": ((0.0, 0.1), (0.0, 0.005), 0.02),  # full: "0.005 or less"; fast: "a few hundredths"
    },
    "07_algorithm1_1d.py": {  # fast mode trains the same 600 steps (it only skips the animation)
        "js_divergence_start": ((0.68, math.log(2) + 1e-6), (0.68, math.log(2) + 1e-6), 0.6),  # "log 2, its largest value"
        "final_value": ((-1.45, -1.33), (-1.45, -1.33), -1.2),  # "near -log 4 = -1.386"
        "final_d_real": ((0.45, 0.55), (0.45, 0.55), 0.7),  # "near 1/2"
        "final_d_fake": ((0.45, 0.55), (0.45, 0.55), 0.3),
        "js_divergence": ((0.0, 0.01), (0.0, 0.01), 0.05),  # "below 0.01: the floor of 2,500 true samples"
    },
    "08_two_dims_and_mode_collapse.py": {
        # Fast mode only exercises the code (2 seeds of 20 steps): its knob table means nothing.
        # Full mode: "median M, range [a, b] over seeds 0 to 4"; margins 1 mode, 0.05 for a fraction.
        "ring_all_modes_by_step": ((1, 600), (1, 600), 1200),  # "by the first measurement, step 300, on seed 0"
        "ring_high_quality": ((0.0, 1.0), (0.85, 0.97), 0.7),  # "climbs, to about 90% at the end"
        "ring_modes_covered": ((6, 8), (8, 8), 7),  # "all 8 at the end of section 2's run"
        "median_modes_baseline": ((0, 8), (7, 8), 4),  # "all 8 modes on most seeds: median 8"
        "min_modes_baseline": ((0, 8), (3, 8), 0),  # "range [4, 8]": no seed collapses
        "max_modes_baseline": ((0, 8), (7, 8), 5),
        "median_modes_minimax": ((0, 8), (6, 8), 3),  # "k = 1: about as well as non-saturating, median 7 to 8"
        "min_modes_minimax": ((0, 8), (4, 8), 0),  # "range [5, 8]"
        "max_modes_minimax": ((0, 8), (7, 8), 3),
        "k1_minimax_minus_non_saturating": ((-8, 8), (-2, 1), -4),  # the comparison: "its median within a mode"
        "late_d_fake_k1_minimax": ((0, 1), (0.3, 0.6), 0.05),  # "D(G(z)) stays near 0.4": no saturation
        "median_modes_k5": ((0, 8), (6, 8), 3),  # "k = 5, non-saturating: median 7 to 8, as the baseline"
        "min_modes_k5": ((0, 8), (3, 8), 0),  # "range [4, 8]"
        "max_modes_k5": ((0, 8), (7, 8), 3),
        "median_modes_k5_minimax": ((0, 8), (0, 3), 6),  # "k = 5, minimax: loses modes on most seeds (median 1 to 2)"
        "min_modes_k5_minimax": ((0, 8), (0, 2), 6),  # "range [0, 3]"
        "max_modes_k5_minimax": ((0, 8), (2, 4), 8),
        "k5_non_saturating_minus_minimax": ((-8, 8), (4, 8), 0),  # the comparison: "at least 4 modes more, in median"
        "late_d_fake_k5_minimax": ((0, 1), (0.0, 0.1), 0.3),  # "D wins: D(G(z)) below 0.1"
        "late_d_fake_k5_non_saturating": ((0, 1), (0.15, 0.4), 0.05),  # "near 0.25"
        "median_modes_slow_D": ((0, 8), (0, 1), 6),  # "a D that falls behind collapses G: median 0"
        "min_modes_slow_D": ((0, 8), (0, 1), 6),
        "max_modes_slow_D": ((0, 8), (0, 3), 6),  # "at most 2 of 8 modes on any seed"
        "median_modes_slow_G": ((0, 8), (7, 8), 3),  # "a G that falls behind is as reliable as any row: median 8"
        "min_modes_slow_G": ((0, 8), (6, 8), 0),  # "range [7, 8]"
        "max_modes_slow_G": ((0, 8), (7, 8), 3),
        "grid_modes_covered": ((0, 25), (20, 25), 15),  # "at least 20 of the grid's 25 modes"
    },
    "09_does_gan_training_converge.py": {  # the same 2-D runs in both modes (fast only shrinks the figures)
        "jacobian_max_abs_error": ((0.0, 1e-8), (0.0, 1e-8), 1e-4),  # closed-form J against finite differences
        "gan_eigenvalue_real_abs": ((0.0, 1e-12), (0.0, 1e-12), 0.1),  # "purely imaginary"
        "gan_eigenvalue_imag": ((0.5 - 1e-9, 0.5 + 1e-9), (0.5 - 1e-9, 0.5 + 1e-9), 0.6),  # "+- i f'(0) = +- i/2"
        "r1_gamma_1_eigenvalue_real": ((-0.5 - 1e-9, -0.5 + 1e-9), (-0.5 - 1e-9, -0.5 + 1e-9), -0.4),  # "meet at -1/2"
        "gan_simultaneous_end_over_start": ((2.0, math.inf), (2.0, math.inf), 1.0),  # "more than twice as far out"
        "gan_alternating_end_over_start": ((0.95, 1.0), (0.95, 1.0), 1.1),  # "a little closer, 3%"
        "gan_alternating_min_over_start": ((0.97, 1.0), (0.97, 1.0), 0.5),  # "within 3% of its start on all steps"
        "wgan_simultaneous_late_min": ((0.4, 1.5), (0.4, 1.5), 0.01),  # "at a distance of 0.4 to about 1"
        "wgan_k1_late_min": ((0.4, 1.5), (0.4, 1.5), 0.01),
        "wgan_k5_late_min": ((0.4, 1.5), (0.4, 1.5), 0.01),
        "noise_simultaneous_distance": ((0.0, 1e-4), (0.0, 1e-4), 0.1),  # "within 1e-4"
        "noise_alternating_distance": ((0.0, 1e-4), (0.0, 1e-4), 0.1),
        "r1_gamma_1_simultaneous_distance": ((0.0, 1e-30), (0.0, 1e-30), 1e-10),  # "about 1e-35 or closer"
        "r1_gamma_1_alternating_distance": ((0.0, 1e-30), (0.0, 1e-30), 1e-10),
        "r1_largest_distance": ((0.0, 1e-3), (0.0, 1e-3), 0.1),  # "every regularised run converges"
        "rate_max_relative_error": ((0.0, 5e-3), (0.0, 5e-3), 0.05),  # "within 0.5%"
        "fastest_r1_gamma": ((1, 1), (1, 1), 2),  # "the fastest is gamma = 2 f'(0) = 1"
        "wgan_gp_circling_late_min": ((0.4, 2.0), (0.4, 2.0), 0.01),  # "with lambda = 0.3 the paths keep circling"
        "wgan_gp_stuck_theta": ((2.0 - 1e-3, 2.0 + 1e-3), (2.0 - 1e-3, 2.0 + 1e-3), 0.0),  # "stop at theta = 2 lambda"
        "non_saturating_alternating_distance": ((0.15, 0.25), (0.15, 0.25), 0.01),  # "0.20 after 2,000 steps"
        "non_saturating_quadrupling_ratio": ((1.8, 2.2), (1.8, 2.2), 4.0),  # "four times the steps for half the distance"
        "non_saturating_simultaneous_distance": ((0.4, 0.5), (0.4, 0.5), 0.01),  # "stall near 0.45"
    },
    "10_staying_in_step.py": {  # fast: D alone 300, G alone 200 steps, seed 0; full: 2,000 and 1,000, seeds 0-4
        # Full-mode margins: 1 mode; a factor of 2 for a ratio or a step count; 0.02 to 0.05 for a fraction.
        "d_accuracy_end": ((0.99, 1.0), (0.99, 1.0), 0.9),  # "D's accuracy reaches 100%" (G at step 0)
        "d_fake_end": ((0.0, 1e-2), (3.7e-6, 1.5e-5), 1e-3),  # "mean D(G(z)) falls to about 1e-5"
        "d_steps_to_full_accuracy": ((1, 50), (1, 40), 200),  # "100% by the first measurement, 20 D steps"
        "minimax_gradient_ratio": ((0.0, 0.05), (7e-5, 3e-4), 1e-2),  # "falls about 7,000-fold"
        "non_saturating_gradient_ratio": ((2.0, 100.0), (7.0, 28.0), 0.5),  # "grows about fourteenfold"
        "overlap_d_accuracy_end": ((0.5, 0.99), (0.92, 0.98), 1.0),  # "stops short of 100%: 0.94 to 0.96"
        "overlap_minimax_gradient_ratio": ((1.0, 100.0), (2.4, 19.0), 1e-3),  # "ends 5 to 9 times larger than it started"
        "modes_before": ((4, 8), (5, 7), 3),  # "a median of 6 modes when D is frozen"
        "modes_after": ((0, 4), (1, 3), 6),  # "a median of 2 after 1,000 steps of G alone"
        "modes_control": ((5, 8), (5, 8), 2),  # "the control: a median of 6 to 7"
        "modes_control_min": ((5, 8), (5, 8), 2),  # "the control keeps 6 or more on every seed"
        "modes_after_minus_control": ((-8, 8), (-6, -4), 0),  # the comparison: "5 modes fewer than its control (median)"
        "R_before": ((0.0, 0.2), (0.0, 0.1), 0.5),  # "R about 0.05 at the freeze"
        "R_after": ((0.4, 1.0), (0.68, 0.97), 0.3),  # "median 0.73 to 0.92"
        "R_after_min": ((0.0, 1.0), (0.24, 1.0), 0.1),  # "0.29 or more on every seed"
        "R_control": ((0.0, 0.2), (0.0, 0.1), 0.5),  # "the control's stays under 0.1"
        "R_control_max": ((0.0, 0.2), (0.0, 0.11), 0.5),  # "at most 0.09 on any seed"
        "d_fake_over_d_max": ((0.8, 1.05), (0.9, 1.05), 0.7),  # "within 10% of the frozen D's maximum"
        "steps_to_R_half": ((25, 200), (100, 700), 1050),  # "a median of 200 to 350 G steps"
        "late_freeze_modes_before": ((4, 8), (5, 8), 1),  # "6 to 8 when frozen"
        "late_freeze_modes_after": ((4, 8), (7, 8), 3),  # "8 at the end: as many as ever"
        "late_freeze_R_after": ((0.0, 0.3), (0.0, 0.3), 0.7),  # "the samples stay spread (R below 0.3)"
    },
    "11_discrete_data.py": {  # fast: one seed of 200 steps; full: seeds 0 to 2 of 600
        "js_untrained": ((0.1828, 0.1830), (0.1828, 0.1830), 0.2),  # exact: "0.183 nats"
        "js_true_samples": ((0.0, 0.002), (0.0, 0.002), 0.01),  # "below 0.002"
        "softmax_extreme_error": ((0.0, 1e-12), (0.0, 1e-12), 1e-3),  # stable at +-1e3
        "naive_softmax_is_nan": ((1, 1), (1, 1), 0),  # "inf / inf is NaN"
        "gumbel_max_js": ((0.0, 0.001), (0.0, 0.001), 0.01),  # "the frequencies match softmax(theta)"
        "sample_max_grad_norm": ((0.0, 0.0), (0.0, 0.0), 1e-3),  # exact: "exactly zero, on every step"
        "sample_theta_change": ((0.0, 0.0), (0.0, 0.0), 1e-3),  # exact: "theta does not move by a single bit"
        "d_change": ((0.05, math.inf), (0.05, math.inf), 0.0),  # "D learns"
        "argmax_mlp_change": ((0.0, 0.0), (0.0, 0.0), 1e-3),  # exact: "the same for any generator that argmaxes"
        "st_grad_norm": ((1e-3, math.inf), (1e-3, math.inf), 0.0),
        "st_tau_1_js_max": ((0.0, 0.05), (0.0, 0.002), 0.05),  # "below 0.002 on every seed"
        "st_tau_03_js_max": ((0.0, 0.05), (0.0, 0.002), 0.05),
        "st_sampled_js_max": ((0.0, 0.05), (0.0, 0.003), 0.05),  # "below 0.003"
        "soft_tau_1_js_min": (ANY, (0.15, math.log(2) + 1e-6), 0.01),  # "collapses ... final JS above 0.15"
        "soft_tau_1_best_js": (ANY, (0.0, 0.05), 0.2),  # "first gets within 0.05"
        "soft_tau_1_top_probability_min": (ANY, (0.95, 1.0), 0.6),  # "more than 95% of the mass on every seed"
        "soft_tau_01_js_max": ((0.0, 0.05), (0.003, 0.05), 0.1),  # "stays below 0.05, but wanders"
    },
    "12_images.py": {
        "noise_classes_covered": ((5, 10), (5, 10), 1),  # "noise covers most classes too"
        "frechet_over_noise": ((0.0, 0.5), (0.0, 0.05), 0.5),  # "well below it: under 5% in the full run"
        "classes_covered": ((7, 10), (10, 10), 7),  # "all 10 in the full run"
    },
    "13_digits_semi_supervised_and_conditional.py": {  # fast mode trains 150 and 750 steps: no claim on the gain
        # Full mode, seeds 0 to 2; margins 0.02 for an accuracy, about 1 point for a gain.
        "classifier_accuracy": ((0.5, 1.0), (0.94, 0.99), 0.9),  # seed 0's GAN classifier on the 300 test digits
        "supervised_only_accuracy": ((0.5, 1.0), (0.88, 0.92), 0.96),  # the same network on the 100 labels alone
        "median_gain_points": ((-30.0, 30.0), (4.5, 7.5), 0.0),  # "median gain 5.7 to 6.3 points"
        "min_gain_points": ((-30.0, 30.0), (3.5, 9.0), 0.0),  # the comparison: "beats labels-only on every seed"
        "median_gain_points_input_noise": ((-30.0, 30.0), (3.3, 6.7), 0.0),  # "median 4.3 to 5.7 with input noise"
        "min_gain_points_input_noise": ((-30.0, 30.0), (1.5, 8.0), 0.0),  # "still ahead on every seed"
        "median_gain_change_with_input_noise": ((-30.0, 30.0), (-2.5, -0.1), 0.5),  # the comparison: "noise shrinks it"
        "class_agreement": ((0.5, 1.0), (0.95, 1.0), 0.8),  # "0.95 or more in the full run"
    },
    "14_from_minigan_to_pytorch.py": {  # without PyTorch it prints torch_available = 0 instead (see below)
        "one_step_max_difference": ((0.0, 1e-6), (0.0, 1e-6), 1e-3),  # "to 1e-6 in float64" (asserted; ~1e-15)
        "modes_at_handover": ((0, 8), (8, 8), 6),  # "by step 500 minigan has found all 8 modes"
        "modes_after_torch": ((0, 8), (8, 8), 6),  # "ends at step 1,000 with all 8 modes"
        "modes_after_minigan": ((0, 8), (8, 8), 6),  # "as the continuation in minigan does"
        "high_quality_after_torch": ((0.0, 1.0), (0.6, 0.9), 0.3),  # "about three quarters"
        "high_quality_after_minigan": ((0.0, 1.0), (0.6, 0.9), 0.3),
        "first_step_d_loss_difference": ((0.0, 1e-5), (0.0, 1e-5), 1e-2),  # "to float32 rounding at worst"
        "autocast_d_difference": ((0.0, 0.03), (0.0, 0.03), 0.1),  # "D(x) moves by up to about 0.01"
        "ddp_processes": ((1, 1), (2, 2), 1),  # fast: a world of one; full: "two CPU processes" (the DDP run's world size)
        "ddp_max_abs_difference": ((0.0, 1e-5), (0.0, 1e-5), 1e-2),  # "to 1e-5 after 20 steps" (~1e-16)
    },
    "15_the_gpu.py": {  # without a GPU it prints gpu_available = 0 instead (see below)
        "numpy_cupy_max_abs_difference": ((0.0, 1e-4), (0.0, 1e-4), 1e-2),
    },
    "16_convolutions.py": {  # small float64 problems, the same in both modes: "to rounding"
        "im2col_max_error": ((0.0, 1e-12), (0.0, 1e-12), 1e-6),  # im2col's product against the loops (~4e-15)
        "grad_x_max_error": ((0.0, 1e-6), (0.0, 1e-6), 1e-3),  # the hand backward against central differences (~1e-8)
        "grad_w_max_error": ((0.0, 1e-6), (0.0, 1e-6), 1e-3),
        "minigan_backward_gap": ((0.0, 1e-12), (0.0, 1e-12), 1e-6),  # minigan's backward against the hand one
        "adjoint_relative_gap": ((0.0, 1e-12), (0.0, 1e-12), 1e-6),  # <conv(x, w), y> = <x, conv_transpose(y, w)> (~4e-16)
        "batchnorm_gradcheck": ((1, 1), (1, 1), 0),  # gradcheck passes (1) on batch norm's backward
        "r1_refuses_batchnorm": ((1, 1), (1, 1), 0),  # the penalty refuses a D with batch norm (1)
    },
    "17_faces_and_emoji.py": {  # fast: a 60-step judge and tiny networks; training numbers are printed, not claimed
        "combinations": ((100, 100), (100, 100), 99),  # exact: 5 x 4 x 5
        "distinct_combinations_in_2000": ((100, 100), (100, 100), 99),  # exact: the set is a function of its seed
        "judge_min_accuracy": ((0.5, 1.0), (0.98, 1.0), 0.9),  # "0.98 or more on every factor"
        "real_recognizable_fraction": ((0.0, 1.0), (0.95, 1.0), 0.5),  # real faces score high
        "real_combinations_covered": ((0, 100), (100, 100), 99),  # 5,000 real faces cover all 100
        "one_face_combinations_covered": ((1, 1), (1, 1), 2),  # exact: "a generator that repeats one face: 1"
        "noise_recognizable_fraction": ((0.0, 0.05), (0.0, 0.01), 0.5),  # "noise is recognised as nothing"
        "dcgan_steps": ((40, 40), (1500, 1500), 1499),  # exact: "1,500 of its 3,000 steps"
        "real_histogram_largest_bar_share": ((0.0, 1.0), (0.01, 0.05), 0.5),  # "about evenly (1% each)"
        "conditional_factors": ((3, 3), (3, 3), 2),  # exact: colour, eyes, mouth
    },
}


# The full-mode values measured for the claims that training runs over seeds decide, on each
# configuration: (one BLAS thread, two threads, OpenBLAS's Haswell kernel with one thread);
# None where that configuration was not run. On the 2-core machine they were measured on
# (December 2026; OpenBLAS 0.3.31, whose default kernel there is SkylakeX), two threads gave
# the same numbers as one, bit for bit, wherever both ran (tutorials 07 and 10, and 200
# steps of the ring recipe); the Haswell kernel gave different ones, and with it one and two
# threads differ too (tests/test_reproducible.py's docstring, docs/backends.md). Tutorial 07
# ran in fast mode for the second and third configurations: it trains the same 600 steps.
# test_every_measured_configuration_lies_inside_the_full_mode_ranges checks each value.
CONFIGURATIONS = ("OPENBLAS_NUM_THREADS=1", "OPENBLAS_NUM_THREADS=2", "OPENBLAS_CORETYPE=Haswell, 1 thread")
MEASURED = {
    "07_algorithm1_1d.py": {
        "js_divergence_start": (0.6931, 0.6931, 0.6931),
        "final_value": (-1.3861, -1.3861, -1.386),
        "final_d_real": (0.5003, 0.5003, 0.5001),
        "final_d_fake": (0.4997, 0.4997, 0.4995),
        "js_divergence": (0.0029, 0.0029, 0.0028),
    },
    "08_two_dims_and_mode_collapse.py": {
        "ring_all_modes_by_step": (300, None, 300),
        "ring_high_quality": (0.9208, None, 0.9152),
        "ring_modes_covered": (8, None, 8),
        "median_modes_baseline": (8, None, 8),
        "min_modes_baseline": (4, None, 6),
        "max_modes_baseline": (8, None, 8),
        "median_modes_minimax": (8, None, 7),
        "min_modes_minimax": (7, None, 5),
        "max_modes_minimax": (8, None, 8),
        "k1_minimax_minus_non_saturating": (0, None, -1),
        "late_d_fake_k1_minimax": (0.396, None, 0.396),
        "median_modes_k5": (8, None, 7),
        "min_modes_k5": (4, None, 5),
        "max_modes_k5": (8, None, 8),
        "median_modes_k5_minimax": (2, None, 1),
        "min_modes_k5_minimax": (1, None, 0),
        "max_modes_k5_minimax": (3, None, 3),
        "k5_non_saturating_minus_minimax": (6, None, 6),
        "late_d_fake_k5_minimax": (0.047, None, 0.039),
        "late_d_fake_k5_non_saturating": (0.248, None, 0.256),
        "median_modes_slow_D": (0, None, 0),
        "min_modes_slow_D": (0, None, 0),
        "max_modes_slow_D": (0, None, 2),
        "median_modes_slow_G": (8, None, 8),
        "min_modes_slow_G": (7, None, 7),
        "max_modes_slow_G": (8, None, 8),
        "grid_modes_covered": (25, None, 25),
    },
    "10_staying_in_step.py": {
        "d_accuracy_end": (1.0, 1.0, 1.0),
        "d_fake_end": (7.386e-06, 7.386e-06, 7.386e-06),
        "d_steps_to_full_accuracy": (20.0, 20.0, 20.0),
        "minimax_gradient_ratio": (0.0001373, 0.0001373, 0.0001373),
        "non_saturating_gradient_ratio": (14.114, 14.114, 14.114),
        "overlap_d_accuracy_end": (0.942, 0.942, 0.956),
        "overlap_minimax_gradient_ratio": (9.42, 9.42, 4.814),
        "modes_before": (6, 6, 6),
        "modes_after": (2, 2, 2),
        "modes_control": (7, 7, 6),
        "modes_control_min": (6, 6, 6),
        "modes_after_minus_control": (-5, -5, -5),
        "R_before": (0.0606646, 0.0606646, 0.0468117),
        "R_after": (0.730987, 0.730987, 0.923623),
        "R_after_min": (0.38, 0.380089, 0.288805),
        "R_control": (0.0304489, 0.0304489, 0.0371812),
        "R_control_max": (0.085675, 0.085675, 0.08025),
        "d_fake_over_d_max": (0.963529, 0.963529, 0.974799),
        "steps_to_R_half": (350, 350, 200),
        "late_freeze_modes_before": (6.0, 6.0, 8.0),
        "late_freeze_modes_after": (8.0, 8.0, 8.0),
        "late_freeze_R_after": (0.161, 0.161, 0.241),
    },
    "12_images.py": {
        "noise_classes_covered": (10, None, 10),
        "frechet_over_noise": (0.0141, None, 0.0162),
        "classes_covered": (10, None, 10),
    },
    "13_digits_semi_supervised_and_conditional.py": {
        "classifier_accuracy": (0.96, None, 0.97),
        "supervised_only_accuracy": (0.9, None, 0.9),
        "median_gain_points": (5.67, None, 6.33),
        "min_gain_points": (4.7, None, 4.67),
        "median_gain_points_input_noise": (4.33, None, 5.67),
        "min_gain_points_input_noise": (2.7, None, 4.33),
        "median_gain_change_with_input_noise": (-1.4, None, -0.6),
        "class_agreement": (0.982, None, 0.983),
    },
    # the judge's claims: one cached judge (trained once, BLAS threads chosen by minigan.threads),
    # scored with 1 and with 2 threads; the training sections print numbers but claim none
    "17_faces_and_emoji.py": {
        "judge_min_accuracy": (1.0, 1.0, None),
        "real_recognizable_fraction": (0.9996, 0.9996, None),
        "real_combinations_covered": (100, 100, None),
        "noise_recognizable_fraction": (0.0, 0.0, None),
        "real_histogram_largest_bar_share": (0.023, 0.023, None),
    },
}

# "How long it runs" in each tutorial's first cell, in seconds, for (fast, full) mode, on two
# quiet CPU cores with one BLAS thread (the full time is read back from the first cell by
# test_the_stated_time_is_the_first_cells). The test measures the tutorial's CPU time (user +
# system, its child processes included: on a quiet core with one BLAS thread that is its wall
# time, and a busy machine does not inflate it the way it inflates wall time), scales the
# stated time by this machine's speed (``machine_speed``: a reference workload timed here
# against REFERENCE_SECONDS) and fails a tutorial more than 3 times faster or slower.
SECONDS = {
    "01_arrays_and_backends.py": (2, 2), "02_autograd_from_scratch.py": (2, 2),
    "03_gradient_checking.py": (2, 2), "04_layers_and_mlps.py": (2, 3),
    "05_the_minimax_game.py": (3, 3), "06_optimal_discriminator.py": (2, 10),
    "07_algorithm1_1d.py": (4, 8), "08_two_dims_and_mode_collapse.py": (4, 240),
    "09_does_gan_training_converge.py": (5, 5),
    "10_staying_in_step.py": (6, 45),
    "11_discrete_data.py": (5, 20), "12_images.py": (5, 25), "13_digits_semi_supervised_and_conditional.py": (10, 150),
    "14_from_minigan_to_pytorch.py": (10, 60), "15_the_gpu.py": (15, 60), "16_convolutions.py": (3, 3),
    "17_faces_and_emoji.py": (20, 720),
}
TIME_FACTOR = 3.0           # "within 3x either way"
STARTUP_SECONDS = 1.0       # Python and matplotlib's imports: a floor under the fast mode's few seconds
REFERENCE_SECONDS = 0.15    # CPU seconds of reference_workload() on the machine the times were measured on

CHECK_LINE = re.compile(r"^CHECK (\w+) = (\S+)$", re.MULTILINE)


def reference_workload(steps: int = 2000):
    """Small matrix products in a Python loop, one BLAS thread: the shape of minigan's training."""
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(128, 64)), 0.1 * rng.normal(size=(64, 64))   # a minibatch, a layer
    with threadpool_limits(1):
        for _ in range(steps):
            h = np.tanh(x @ w)
            w = w - 1e-6 * (h.T @ h)
    return w


def machine_speed() -> float:
    """This machine's slowness against the reference machine: > 1 is slower (median of 3 runs, CPU time)."""
    times = []
    for _ in range(3):
        started = time.process_time()
        reference_workload()
        times.append(time.process_time() - started)
    return statistics.median(times) / REFERENCE_SECONDS


def time_failure(name: str, stated: float, cpu_seconds: float, speed: float) -> str | None:
    """Why ``cpu_seconds`` is not within TIME_FACTOR of ``stated`` scaled by ``speed``, or None."""
    expected = stated * speed
    low, high = expected / TIME_FACTOR, expected * TIME_FACTOR + STARTUP_SECONDS
    if low <= cpu_seconds <= high:
        return None
    return (f"{name} took {cpu_seconds:.1f} CPU seconds; its first cell says about {stated} s, which on this "
            f"machine (speed factor {speed:.2f}) allows {low:.1f} to {high:.1f}")


def claim_failures(name: str, printed: dict, fast: bool) -> list[str]:
    """Each claim of ``name`` whose printed value lies outside its range for the mode."""
    wrong = []
    for claim, (fast_range, full_range, _) in CLAIMS[name].items():
        value = float(printed[claim])
        low, high = fast_range if fast else full_range
        if not (math.isfinite(value) and low <= value <= high):
            wrong.append(f"{claim} = {value:g}, wanted [{low:g}, {high:g}]")
    return wrong


def tutorial_files():
    return sorted(p.name for p in TUTORIALS.glob("[0-9][0-9]_*.py"))


def one_blas_thread(env) -> bool:
    return all(env.get(variable, "1") == "1" for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"))


def tutorial_env(tmp_path, fast):
    env = dict(os.environ, MPLBACKEND="Agg", MINIGAN_FIGURES=str(tmp_path / "figures"),
               MINIGAN_CACHE=str(tmp_path / "cache"))  # tutorial 12's classifier: trained afresh, nothing in ~/.cache
    env.pop("MINIGAN_FAST", None)
    if fast:
        env["MINIGAN_FAST"] = "1"
    # Small matrices: BLAS threads only contend with each other (and with other test
    # processes) on a small machine; one thread made the training tutorials 4x faster on 2 cores.
    # A thread count in the environment is kept: the second configuration runs this way.
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(variable, "1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def run_tutorial(name, tmp_path, fast=True):
    """(the finished process, its CPU seconds with its children's)."""
    env = tutorial_env(tmp_path, fast)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(
        [sys.executable, str(TUTORIALS / name)], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=300 if fast else 3600,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return result, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def check_claims(name, tmp_path, fast):
    speed = machine_speed()
    result, cpu_seconds = run_tutorial(name, tmp_path, fast)
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
    wrong = claim_failures(name, printed, fast)
    assert not wrong, f"{name} ({'fast' if fast else 'full'} mode): " + "; ".join(wrong)
    if one_blas_thread(tutorial_env(tmp_path, fast)):   # the stated times are for one BLAS thread
        failure = time_failure(name, SECONDS[name][0 if fast else 1], cpu_seconds, speed)
        assert failure is None, failure


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


STATED_TIME = re.compile(r"How long it runs\.\*\* About (\d+(?:\.\d+)?) (second|minute)s?")


@pytest.mark.parametrize("name", sorted(CLAIMS))
def test_the_stated_time_is_the_first_cells(name):
    """SECONDS holds what the text says, so the time asserted is the time a student is told."""
    number, unit = STATED_TIME.search((TUTORIALS / name).read_text()).groups()
    stated = float(number) * (60 if unit == "minute" else 1)
    assert SECONDS[name][1] == pytest.approx(stated, rel=0.25), \
        f"{name}: its first cell says about {stated:g} s, SECONDS says {SECONDS[name][1]}"


# ---- the checks check: each claim's negation and each wrong time fails ----------------------------
@pytest.mark.parametrize("name", sorted(CLAIMS))
def test_each_claims_negation_fails(name):
    """Plant, one at a time, the value each claim's text rules out among values that pass:
    the full-mode check must fail on it, and on nothing else."""
    passing = {claim: inside(full) for claim, (_, full, _) in CLAIMS[name].items()}
    assert claim_failures(name, passing, fast=False) == []
    for claim, (_, (low, high), negation) in CLAIMS[name].items():
        assert not (low <= negation <= high), f"{name}: {claim}'s range [{low}, {high}] holds its negation {negation}"
        planted = dict(passing, **{claim: negation})
        failures = claim_failures(name, planted, fast=False)
        assert len(failures) == 1 and failures[0].startswith(f"{claim} = "), (claim, failures)


def inside(interval):
    low, high = interval
    if math.isinf(low) and math.isinf(high):
        return 0.0
    if math.isinf(high):
        return low + 1.0
    if math.isinf(low):
        return high - 1.0
    return (low + high) / 2


@pytest.mark.parametrize("name", sorted(MEASURED))
def test_every_measured_configuration_lies_inside_the_full_mode_ranges(name):
    """The ranges hold what was measured on each configuration (MEASURED), so the bounds
    come from the measured spread; no measured value sits where its negation is."""
    for claim, values in MEASURED[name].items():
        low, high = CLAIMS[name][claim][1]
        outside = {config: value for config, value in zip(CONFIGURATIONS, values)
                   if value is not None and not low <= value <= high}
        assert not outside, f"{name}: {claim} measured {outside}, outside [{low}, {high}]"


def test_a_time_more_than_3x_off_either_way_fails():
    assert time_failure("t", 10, 10.0, 1.0) is None
    assert time_failure("t", 10, 40.0, 2.0) is None                  # a machine half as fast: twice the time
    assert "took 31.2 CPU seconds" in time_failure("t", 10, 31.2, 1.0)   # stated time too short
    assert time_failure("t", 10, 3.2, 1.0) is not None                # stated time too long: now caught
    assert time_failure("t", 10, 6.0, 2.0) is not None                # too fast for a slow machine


def test_the_machine_speed_is_near_1_on_an_idle_reference_core():
    """The reference workload runs; its speed factor is a positive number (near 1 here)."""
    speed = machine_speed()
    assert 0.05 < speed < 50


@pytest.mark.parametrize("name", sorted(CLAIMS))
def test_tutorial_runs_and_its_claims_hold_in_fast_mode(name, tmp_path):
    check_claims(name, tmp_path, fast=True)


@pytest.mark.full
@pytest.mark.parametrize("name", sorted(CLAIMS))
def test_tutorial_runs_and_its_claims_hold_in_full_mode(name, tmp_path):
    check_claims(name, tmp_path, fast=False)
