"""minigan.judging.metrics on cases whose answers are known in closed form."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import BACKENDS

from minigan import data, get_backend, tensor

from minigan.judging import metrics

LOG2 = math.log(2.0)


# ---- mode coverage ------------------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("make", [data.ring, data.grid])
def test_true_samples_cover_every_mode_at_the_gaussian_high_quality_fraction(backend, make):
    dist = make()
    samples = dist.sample(metrics.N_SAMPLES, get_backend(backend).random(0))   # a backend array goes in as is
    result = metrics.mode_coverage(samples, dist.centres, dist.std)
    assert result.modes_covered == result.modes_total == dist.modes
    assert result.n_samples == 2500 and sum(result.counts) == round(result.high_quality_fraction * 2500)
    # P(|noise| <= 3 std) for 2-D round Gaussian noise is 1 - exp(-9/2); binomial sd over 2,500 is 0.002.
    assert abs(result.high_quality_fraction - (1 - math.exp(-4.5))) < 0.008


def test_a_collapsed_generator_covers_one_mode():
    dist = data.ring()
    rng = np.random.default_rng(0)
    samples = dist.centres[3] + rng.normal(0.0, dist.std, (2500, 2))   # every sample near mode 3
    result = metrics.mode_coverage(tensor(samples), dist.centres, dist.std)   # a Tensor goes in too
    assert result.modes_covered == 1 and result.modes_total == 8
    assert result.counts[3] == sum(result.counts) and result.counts[3] > 2400


def test_samples_far_from_every_mode_cover_none():
    dist = data.grid()
    samples = np.full((2500, 2), 100.0)
    result = metrics.mode_coverage(samples, dist.centres, dist.std)
    assert (result.modes_covered, result.high_quality_fraction, sum(result.counts)) == (0, 0.0, 0)


def test_high_quality_means_within_three_std_of_the_nearest_centre():
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    std = 0.5                                               # radius 1.5
    samples = np.array([
        [1.4, 0.0],        # 2.8 std from centre 0: high quality
        [0.0, 1.6],        # 3.2 std from centre 0: not
        [10.0, 1.45],      # centre 1, high quality
        [5.0, 5.0],        # nearest centre 0 (a tie broken low), far from all: not
        [np.nan, 0.0],     # a diverged generator's sample: not
    ])
    result = metrics.mode_coverage(samples, centres, std)
    assert result.counts == (1, 1, 0)
    assert result.modes_covered == 2 and result.high_quality_fraction == pytest.approx(2 / 5)


@pytest.mark.parametrize("call, message", [
    (lambda: metrics.mode_coverage(np.zeros(5), np.zeros((2, 2)), 0.1), r"^samples: got shape \(5,\)"),
    (lambda: metrics.mode_coverage(np.zeros((5, 2)), np.zeros((2, 3)), 0.1), r"^centres: got shape \(2, 3\)"),
    (lambda: metrics.mode_coverage(np.zeros((5, 2)), np.zeros((2, 2)), 0.0), "^std: got 0.0"),
    (lambda: metrics.js_divergence([0.5, 0.5], [1.0]), r"^q: got shape \(1,\)"),
    (lambda: metrics.js_divergence([0.5, -0.5], [0.5, 0.5]), "^p: got"),
    (lambda: metrics.js_divergence_1d(np.zeros(4), np.exp, 1.0, 0.0), "^lo, hi: got 1.0, 0.0"),
    (lambda: metrics.js_divergence_1d(np.zeros(4), np.exp, 0.0, 1.0, bins=0), "^bins: got 0"),
    (lambda: metrics.js_divergence_1d(np.zeros((4, 2)), np.exp, 0.0, 1.0), r"^samples: got shape \(4, 2\)"),
    (lambda: metrics.js_divergence_1d(np.zeros(4), lambda x: -x, 0.0, 1.0), "^density: returned"),
    (lambda: metrics.classes_covered([0, 1, 10]), r"^predicted_labels: .* wanted \(n,\) integer labels in 0..9"),
    (lambda: metrics.classes_covered([0, 1.5]), "^predicted_labels"),
    (lambda: metrics.classes_covered([0, 1], n_classes=0), "^n_classes: got 0"),
    (lambda: metrics.classes_covered([0, 1], min_fraction=0), "^min_fraction: got 0"),
    (lambda: metrics.frechet_distance(np.zeros((1, 3)), np.zeros((5, 3))), r"^features: got shape \(1, 3\)"),
    (lambda: metrics.frechet_distance(np.zeros((4, 3)), np.zeros((5, 2))), "^features_b: got 2 features"),
])
def test_metrics_reject_bad_input_in_one_line(call, message):
    with pytest.raises(ValueError, match=message) as error:
        call()
    assert "\n" not in str(error.value)


def test_metrics_refuse_things_that_are_not_arrays():
    with pytest.raises(TypeError, match="^samples: got a dict"):
        metrics.mode_coverage({}, np.zeros((2, 2)), 0.1)


# ---- Jensen-Shannon divergence ----------------------------------------------------------------

def entropy(p):
    p = p[p > 0]
    return -np.sum(p * np.log(p))


distributions = hnp.arrays(np.float64, 6, elements=st.floats(0.0, 1.0)).filter(lambda a: a.sum() > 1e-3)


@given(p=distributions, q=distributions)
def test_js_divergence_is_symmetric_and_equals_the_entropy_form(p, q):
    # Independent form: JSD = H(M) - (H(p) + H(q)) / 2 with M = (p + q) / 2.
    p, q = p / p.sum(), q / q.sum()
    direct = entropy(0.5 * (p + q)) - 0.5 * (entropy(p) + entropy(q))
    value = metrics.js_divergence(p, q)
    assert value == pytest.approx(direct, abs=1e-12)
    assert value == metrics.js_divergence(q, p)
    assert 0.0 <= value <= LOG2


def test_js_divergence_keeps_a_subnormal_probability():
    """Half of 4.9e-324 rounds to 0: a midpoint formed first would give log(p / 0) and the clip at log 2."""
    p, q = np.array([4.9e-324, 0.25, 0.25, 0.5]), np.array([0.0, 1.0, 0.0, 0.0])
    direct = entropy(0.5 * (p + q)) - 0.5 * (entropy(p) + entropy(q))
    assert metrics.js_divergence(p, q) == pytest.approx(direct, abs=1e-12)
    assert direct < 0.39


def test_js_divergence_is_0_for_equal_and_log2_for_disjoint_distributions():
    assert metrics.js_divergence([0.2, 0.3, 0.5], [2.0, 3.0, 5.0]) == pytest.approx(0.0, abs=1e-15)
    assert metrics.js_divergence([0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 0.1, 0.9]) == pytest.approx(LOG2, abs=1e-15)


@pytest.mark.parametrize("backend", BACKENDS)
def test_js_1d_of_the_data_itself_is_near_0(backend):
    dist = data.gaussian_1d()
    samples = dist.sample(20_000, get_backend(backend).random(0))
    lo, hi = dist.interval()
    assert metrics.js_divergence_1d(samples, dist.density, lo, hi) < 0.003   # histogram bias ~ bins / (8 n)


def test_js_1d_counts_the_mass_outside_the_range_as_one_more_bin():
    dist = data.gaussian_1d()
    samples = dist.sample(20_000, get_backend("numpy").random(1))
    narrow = (dist.mean - dist.std, dist.mean + dist.std)        # 32% of p_data lies outside
    assert metrics.js_divergence_1d(samples, dist.density, *narrow) < 0.003
    inside_only = samples[np.abs(samples[:, 0] - dist.mean) <= dist.std]
    assert metrics.js_divergence_1d(inside_only, dist.density, *narrow) > 0.05


def test_js_1d_of_far_away_samples_is_near_log2():
    dist = data.gaussian_1d()
    far = np.random.default_rng(0).normal(40.0, 0.5, 5000)       # outside [lo, hi] entirely
    inside_but_far = np.full(5000, dist.mean + 5.5 * dist.std)   # inside the range, where p_data ~ 0
    lo, hi = dist.interval()
    assert metrics.js_divergence_1d(far, dist.density, lo, hi) == pytest.approx(LOG2, abs=1e-6)
    assert metrics.js_divergence_1d(inside_but_far, dist.density, lo, hi) == pytest.approx(LOG2, abs=1e-3)


def test_js_1d_matches_the_integral_for_two_gaussians():
    # p_data = N(4, 0.5^2), G's samples from N(4.5, 0.5^2): JSD by direct integration of the densities.
    p_data, p_g = data.gaussian_1d(4.0, 0.5), data.gaussian_1d(4.5, 0.5)
    x = np.linspace(0.0, 9.0, 200_001)
    p, q = p_data.density(x), p_g.density(x)
    m = 0.5 * (p + q)
    integrand = 0.5 * p * np.log(p / m) + 0.5 * q * np.log(q / m)
    exact = np.sum(0.5 * (integrand[1:] + integrand[:-1]) * np.diff(x))
    samples = np.random.default_rng(1).normal(4.5, 0.5, 100_000)
    estimate = metrics.js_divergence_1d(samples, p_data.density, *p_data.interval(), bins=100)
    assert 0.10 < exact < 0.12                                   # about shift^2 / 8 for a 1-std shift
    assert estimate == pytest.approx(exact, abs=0.003)


# ---- classes covered -----------------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_classes_covered_counts_classes_above_the_minimum_fraction(backend):
    labels = np.concatenate([np.repeat(np.arange(10), 100), [7]])          # every class: 10 covered
    b = get_backend(backend)
    assert metrics.classes_covered(b.asarray(labels)).classes_covered == 10
    collapsed = np.concatenate([np.full(990, 3), np.full(5, 1), np.full(5, 8)])  # strays below 1%
    result = metrics.classes_covered(b.asarray(collapsed))
    assert (result.classes_covered, result.classes_total) == (1, 10)
    assert result.counts == (0, 5, 0, 990, 0, 0, 0, 0, 5, 0)
    assert metrics.classes_covered(collapsed, min_fraction=0.005).classes_covered == 3


# ---- Frechet distance ----------------------------------------------------------------------

def correlated_features(seed, n=4000, d=4):
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(d, d))
    return rng.normal(size=(n, d)) @ mixing                      # (n, d) with a full covariance


@pytest.mark.parametrize("backend", BACKENDS)
def test_frechet_distance_is_0_for_identical_inputs_and_the_shift_for_shifted_ones(backend):
    b = get_backend(backend)
    f = correlated_features(0)
    assert metrics.frechet_distance(b.asarray(f), b.asarray(f)) == pytest.approx(0.0, abs=1e-8)
    shift = np.array([1.0, -2.0, 0.5, 0.0])
    assert metrics.frechet_distance(f, f + shift) == pytest.approx(np.sum(shift ** 2), abs=1e-8)  # = 5.25


def test_frechet_distance_of_1d_gaussians_is_the_closed_form():
    rng = np.random.default_rng(2)
    a, b = rng.normal(1.0, 2.0, (500, 1)), rng.normal(-0.5, 0.7, (800, 1))
    closed = (a.mean() - b.mean()) ** 2 + (a.std(ddof=1) - b.std(ddof=1)) ** 2
    assert metrics.frechet_distance(a, b) == pytest.approx(closed, rel=1e-10)


def test_frechet_distance_of_commuting_covariances_is_the_sum_of_sqrt_gaps():
    # C_a = R diag(w_a) R^T, C_b = R diag(w_b) R^T commute: Tr(...) = sum (sqrt(w_a) - sqrt(w_b))^2.
    rotation, _ = np.linalg.qr(np.random.default_rng(3).normal(size=(3, 3)))
    w_a, w_b = np.array([4.0, 1.0, 0.25]), np.array([1.0, 9.0, 0.25])
    cov_a, cov_b = rotation @ np.diag(w_a) @ rotation.T, rotation @ np.diag(w_b) @ rotation.T
    mean_a, mean_b = np.zeros(3), np.array([0.0, 3.0, 4.0])
    expected = 25.0 + np.sum((np.sqrt(w_a) - np.sqrt(w_b)) ** 2)          # 25 + 1 + 4 + 0
    assert metrics.frechet_distance_gaussians(mean_a, cov_a, mean_b, cov_b) == pytest.approx(expected, rel=1e-10)


def test_frechet_distance_matches_the_eigenvalues_of_the_unsymmetric_product():
    # Direct route: Tr((C_a C_b)^(1/2)) = sum of sqrt of the eigenvalues of C_a C_b (real, >= 0).
    f_a, f_b = correlated_features(4), correlated_features(5) + 1.0
    mean_a, cov_a = metrics.gaussian_statistics(f_a)
    mean_b, cov_b = metrics.gaussian_statistics(f_b)
    np.testing.assert_allclose(cov_a, np.cov(f_a, rowvar=False), rtol=1e-12)
    trace_sqrt = np.sum(np.sqrt(np.linalg.eigvals(cov_a @ cov_b).real))
    direct = np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_sqrt
    value = metrics.frechet_distance(f_a, f_b)
    assert value > 1.0 and value == pytest.approx(direct, rel=1e-9)
    assert metrics.frechet_distance(f_b, f_a) == pytest.approx(value, rel=1e-9)   # symmetric
