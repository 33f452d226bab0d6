"""The grader's checks, each refusing a wrong answer and accepting a right one.

A bug in a check is a wrong grade for a whole class, so every check is run here on the
solution key's answers (it must pass) and on the same answers with one thing wrong (it
must refuse). To keep this fast the "student" is the grader's own minigan, run in this
process through the probes and the wire format (``InProcess``): the sandbox, the time
limits and the copy are tests/test_assignments.py's business.
"""
import copy

import numpy as np
import pytest

from minigan import autograd
from minigan.assignments import (checks, checks_autograd, checks_experiment, checks_penalties,
                                 checks_training)
from minigan.assignments import experiments, probes, wire
from minigan.assignments.catalog import ASSIGNMENTS
from minigan.assignments.checks import CheckFailed, PartialCredit, expect_close, float32_problem
from minigan.assignments.grade import load_check


class InProcess:
    """A student whose answers are the key's, computed here; ``change(probe, result)`` may alter each reply."""

    def __init__(self, change=None):
        self.change = change

    def run(self, probe, **inputs):
        result = wire.decode(wire.encode(probes.PROBES[probe](**copy.deepcopy(inputs))))  # as it travels
        return self.change(probe, result) if self.change else result


def scaled(value, factor, field=None, path=()):
    """Every float (array or number) in a reply multiplied by ``factor``, or only those of one
    ``field`` (the dict keys on the way to it, e.g. ("buffers", "velocity")); the rest as it was."""
    if isinstance(value, dict):
        return {k: scaled(v, factor, field, path + (k,)) for k, v in value.items()}
    if isinstance(value, list):
        return [scaled(v, factor, field, path) for v in value]
    if (isinstance(value, np.ndarray) and value.dtype.kind == "f") or isinstance(value, float):
        if field is not None and path != field:
            return value
        return value * factor if np.any(value) else value + (factor - 1)   # all zeros: off by factor - 1
    return value


def fields(value, path=()) -> set:
    """The fields of a reply that hold floats (see ``scaled``)."""
    if isinstance(value, dict):
        return set().union(*(fields(v, path + (k,)) for k, v in value.items()))
    if isinstance(value, list):
        return set().union(*(fields(v, path) for v in value))
    if (isinstance(value, np.ndarray) and value.dtype.kind == "f") or isinstance(value, float):
        return {path}
    return set()


PARTS = {p.id: p for a in ASSIGNMENTS.values() for p in a.parts}
# Each part's check against a reply whose numbers are off by a relative ``off``: ten times the
# part's tolerance, so a tolerance loosened 1000 times lets it through and fails this test.
# (A1.4, A1.5, A1.7 are judged by finite differences only, at rtol 1e-3.)
OFF = {"A1.1": 1e-8, "A1.2": 1e-8, "A1.3": 1e-8, "A1.4": 1e-2, "A1.5": 1e-2, "A1.6": 1e-2, "A1.7": 1e-2,
       "A1.8": 1e-8, "A2.1": 1e-4, "A2.2": 1e-5, "A2.3": 1e-5, "A2.4": 1e-5, "A2.5": 1e-3, "A2.6": 1e-3,
       "A3.1": 1e-3, "A3.2": 1e-3, "A5.1": 1e-6, "A5.2": {("grads",): 1e-2, "default": 1e-7},
       "A6.1": 1e-8, "A6.2": 1e-8, "A6.3": 1e-8}
# (A5.2's first derivative, "grads", is judged by finite differences; its second-order fields tightly.)


def off(part, field) -> float:
    value = {**OFF, **SLOW}[part]
    return value.get(field, value["default"]) if isinstance(value, dict) else value
SLOW = {"A4.1": 1e-3, "A4.2": 1e-3}   # they train GANs: in the full run (and A4.2's findings below); the
# runs' floats are compared to 1e-6 * max(1, |value|), an absolute 1e-6 for fractions and means below 1


@pytest.fixture(autouse=True)
def _restore_experiments():
    run_ring, compare = experiments.run_ring, experiments.compare
    yield
    experiments.run_ring, experiments.compare = run_ring, compare


# ---- the comparisons every check uses -------------------------------------------------------------
def test_expect_close_refuses_nan_infinity_and_shape():
    for bad in (np.nan, np.inf, -np.inf):
        with pytest.raises(CheckFailed, match="a finite number"):
            expect_close("g", np.array([1.0, bad]), np.array([1.0, 2.0]))
    with pytest.raises(CheckFailed, match=r"got shape \(2,\), wanted \(2, 1\)"):
        expect_close("g", np.ones(2), np.ones((2, 1)))
    with pytest.raises(CheckFailed, match="got str, wanted numbers"):
        expect_close("g", "1.0", 1.0)
    with pytest.raises(ValueError, match="wanted value is not finite"):  # the grader's own bug, never a pass
        expect_close("g", np.array([1.0, 2.0]), np.array([1.0, np.nan]))


def test_expect_close_draws_the_line_at_its_tolerance():
    wanted = np.array([1.0, -2.0, 1e-9])
    expect_close("g", wanted * (1 + 0.9e-5), wanted, rtol=1e-5, atol=0.0)
    with pytest.raises(CheckFailed, match=r"mismatch at index \(1,\)"):
        expect_close("g", wanted * (1 + 1.1e-5), wanted, rtol=1e-5, atol=0.0)
    expect_close("g", wanted + 0.9e-7, wanted, rtol=0.0, atol=1e-7)
    with pytest.raises(CheckFailed):
        expect_close("g", wanted + 1.1e-7, wanted, rtol=0.0, atol=1e-7)


def test_expect_close_defaults_and_its_boundary():
    """The defaults (rtol 1e-5, atol 1e-7) judge A1.6's saturated sigmoid (it names atol only); the
    line is inclusive, as np.isclose's: |got - wanted| <= atol + rtol |wanted| passes."""
    expect_close("g", np.array([1.0 + 0.9e-5, 0.9e-7]), np.array([1.0, 0.0]))
    with pytest.raises(CheckFailed, match=r"^g: mismatch at index \(0,\): got 1.00001, wanted 1$"):
        expect_close("g", np.array([1.0 + 1.1e-5, 0.0]), np.array([1.0, 0.0]))
    with pytest.raises(CheckFailed, match=r"^g: mismatch at index \(1,\)"):
        expect_close("g", np.array([1.0, 1.1e-7]), np.array([1.0, 0.0]))
    expect_close("g", np.array([[1.0, 1.5]]), np.array([[1.0, 1.0]]), rtol=0.0, atol=0.5)   # exactly on the line
    expect_close("g", np.array([]), np.array([]))
    with pytest.raises(CheckFailed, match=r"^g: mismatch at index \(1, 0\): got 9, wanted 2$"):   # the worst
        expect_close("g", np.array([[1.5], [9.0]]), np.array([[1.0], [2.0]]), rtol=0.0, atol=0.1)


def test_expect_close_compares_a_float32_wanted_in_float64():
    """Linear's check wants x32 @ w32 + b32: its tolerance must not be rounded to float32
    (1e-5 in float32 is 9.99999975e-6, which would refuse a difference of 9.9999999e-6)."""
    expect_close("g", np.array([1.0 + 9.9999999e-6]), np.array([1.0], dtype=np.float32), rtol=1e-5, atol=0.0)


def test_comparisons_name_what_they_compare():
    with pytest.raises(CheckFailed, match=r"^d w: got str, wanted numbers$"):
        expect_close("d w", "1.0", 1.0)
    with pytest.raises(CheckFailed, match=r"^d w: got None, wanted numbers$"):
        expect_close("d w", None, 1.0)
    with pytest.raises(CheckFailed, match=r"^d w: got str, wanted numbers$"):
        float32_problem("d w", "1.0", 1.0)
    with pytest.raises(CheckFailed, match=r"^d w: got ndarray, wanted numbers$"):
        checks.as_numbers("d w", np.array([1j]))
    assert checks.as_numbers("x", np.array([True, False])).tolist() == [1.0, 0.0]
    assert checks.as_numbers("x", np.array([3], dtype=np.uint8)).dtype == np.float64
    assert checks.as_numbers("x", np.array([3], dtype=np.float32)).dtype == np.float64


def test_get_names_the_first_missing_step():
    reply = {"grads": [np.zeros(2)], "n": 3}
    assert checks.get(reply, "grads", 0) is reply["grads"][0] and checks.get(reply) is reply
    with pytest.raises(CheckFailed, match=r"^the reply\['grads'\] has no \[1\]: the student's process sent"):
        checks.get(reply, "grads", 1)
    with pytest.raises(CheckFailed, match=r"^the reply has no \['y'\]: "):
        checks.get(reply, "y")
    with pytest.raises(CheckFailed, match=r"^the reply\['n'\] has no \['x'\]: "):
        checks.get(reply, "n", "x")


def test_backends_are_numpy_and_strict_where_it_is_installed(monkeypatch):
    """array-api-strict is a test dependency, so the suite always grades on both."""
    assert checks.backends() == ["numpy", "strict"]
    find = checks.importlib.util.find_spec
    monkeypatch.setattr(checks.importlib.util, "find_spec",
                        lambda name, *a: None if name == "array_api_strict" else find(name, *a))
    assert checks.backends() == ["numpy"]
    assert checks.on_backends(["numpy", "strict"]) == "(numpy, strict)" and checks.on_backends(["numpy"]) == "(numpy)"


def test_float32_problem_is_the_suites_bound():
    true = np.array([1.0, 1e-20, 1e-40, 0.0])
    assert float32_problem("g", true * (1 + 1.9e-6), true) is None
    assert "relative error" in float32_problem("g", true * (1 + 2.1e-6), true)
    assert float32_problem("g", np.array([1.0, 1e-20, 0.0, 1e-39]), true) is None   # below TINY32: absolute
    assert float32_problem("g", np.array([1.0, 1e-20, 2e-38, 0.0]), true) is not None
    assert float32_problem("g", np.array([1.0, np.nan, 0.0, 0.0]), true) is not None
    assert float32_problem("g", np.ones(3), true).endswith("wanted (4,)")
    tiny = checks.TINY32
    assert float32_problem("g", np.array([tiny * (1 + 1e-3)]), np.array([tiny])) is not None   # TINY32 is normal
    assert float32_problem("g", np.array([tiny]), np.array([0.0])) is None   # exactly on the line: within
    assert float32_problem("g", np.array([2.0]), np.array([1.0])) is not None   # one number is judged too
    assert float32_problem("g", np.array([]), np.array([])) is None
    assert float32_problem("g", np.array([1.0, 3.0]), np.array([1.0, 2.0])) == \
        "g: got 3, wanted 2 (relative error over 2e-06)"   # the worst entry


def test_float32_problem_judges_a_float32_truth_in_float64():
    """The bound 2e-6 |true| computed in float64, not rounded to float32 (1.99999999495e-6, which
    would refuse an error of 1.999999998e-6)."""
    assert float32_problem("g", np.array([1.0 + 1.999999998e-6]), np.array([1.0], dtype=np.float32)) is None


def test_partial_credit_loses_its_share_and_says_so():
    lost = PartialCredit("float32 missed", checks.FLOAT32_SHARE)
    assert (lost.points_kept(2), lost.points_kept(3), lost.points_kept(4), lost.points_kept(1)) == (1, 2, 2, 0)
    assert lost.feedback(3) == "loses 1 of its 3 points: float32 missed"
    assert lost.feedback(2) == "loses 1 of its 2 points: float32 missed"
    assert lost.feedback(1) == "loses 1 of its 1 point: float32 missed"
    assert CheckFailed("wrong").points_kept(5) == 0 and CheckFailed("wrong").feedback(5) == "wrong"


def test_a_missing_gradient_is_excused_only_where_every_wanted_entry_is_zero():
    assert checks.missing_gradient_excused(np.zeros((3, 2)))
    assert not checks.missing_gradient_excused(np.array([0.0, 0.0, 1e-12]))
    assert not checks.missing_gradient_excused(np.array([0.0, np.nan]))


# ---- every check: the key passes, numbers off by ten tolerances fail -------------------------------
def _each_field_refused(part):
    """The key passes; then each field of the replies, alone, off by OFF[part], fails: so no one
    comparison's tolerance can be loosened 1000 times unnoticed."""
    check, seen = load_check(PARTS[part].check), set()

    def record(probe, result):
        seen.update(fields(result))
        return result
    assert isinstance(check(InProcess(record)), str)
    assert seen, part
    for field in sorted(seen):
        with pytest.raises(CheckFailed) as refused:
            check(InProcess(lambda probe, result: scaled(result, 1 + off(part, field), field)))
        assert type(refused.value) is CheckFailed or part in FLOAT32_PARTS, field   # not partial credit


FLOAT32_PARTS = ("A1.6", "A2.2", "A2.3", "A2.4")
SLOW_FIELDS = ("A1.8",)   # six graphs, a few seconds each


@pytest.mark.parametrize("part", sorted(set(OFF) - set(SLOW_FIELDS)))
def test_each_check_passes_the_key_and_refuses_each_number_just_outside_its_tolerance(part):
    _each_field_refused(part)


@pytest.mark.full
@pytest.mark.parametrize("part", [*SLOW_FIELDS, *sorted(SLOW)])
def test_each_check_refuses_each_number_just_outside_its_tolerance_slow(part):
    _each_field_refused(part)


@pytest.mark.parametrize("part", ["A2.2", "A2.3", "A2.4"])
def test_the_losses_small_cases_keep_their_own_tolerance(part):
    """Off by 1e-5 on the small batches only (the large and float32 ones right): the closed-form
    comparison there (rtol 1e-6) must refuse it on its own."""
    def small_off(probe, result):
        grads = result.get("grads") if isinstance(result, dict) else None
        return scaled(result, 1 + 1e-5) if grads and max(np.size(g) for g in grads) < 1000 else result
    with pytest.raises(CheckFailed, match="d loss / d"):
        load_check(PARTS[part].check)(InProcess(small_off))


@pytest.mark.parametrize("part", SLOW_FIELDS)
def test_each_check_passes_the_key_and_refuses_all_numbers_just_outside_its_tolerance(part):
    check = load_check(PARTS[part].check)
    assert isinstance(check(InProcess()), str)
    with pytest.raises(CheckFailed):
        check(InProcess(lambda probe, result: scaled(result, 1 + off(part, None))))


@pytest.mark.parametrize("part", ["A1.6", "A2.2", "A2.3", "A2.4"])
def test_float32_is_worth_a_share_of_the_points(part):
    """Off by 1e-5 (within float64's tolerance, over float32's 2e-6): partial credit, named."""
    def float32_off(probe, result):
        if isinstance(result, dict) and result.get("grads") and str(result["grads"][0].size) == "20001":
            return scaled(result, 1 + 1e-5)
        return result
    with pytest.raises(PartialCredit, match="not float32-exact"):
        load_check(PARTS[part].check)(InProcess(float32_off))


# ---- A1.8 -----------------------------------------------------------------------------------------
def push_marking(root):
    """The classic wrong walk: a node is marked visited when pushed, not when finished."""
    order, visited, stack = [], {id(root)}, [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        stack.append((node, True))
        for parent in node._parents:
            if parent.requires_grad and id(parent) not in visited:
                visited.add(id(parent))
                stack.append((parent, False))
    return order


def recursive(root):
    order, seen = [], set()

    def visit(node):
        if id(node) not in seen:
            seen.add(id(node))
            for parent in node._parents:
                if parent.requires_grad:
                    visit(parent)
            order.append(node)
    visit(root)
    return order


@pytest.mark.parametrize("walk, words", [
    (push_marking, "a node marked visited when it is pushed"),
    (recursive, "recursion limit on the chain graph"),
    (lambda root: push_marking(root)[::-1], "must end with the root"),
    (lambda root: push_marking(root) + push_marking(root)[:1], "twice"),
])
def test_a18_refuses_wrong_walks(walk, words, monkeypatch):
    monkeypatch.setattr(autograd, "topological_order", walk)  # what the probe lists; backprop keeps the key's,
    # which the grader's own reference uses in this same process
    with pytest.raises(CheckFailed, match=words):
        checks_autograd.check_topological_order(InProcess())


def test_a18_refuses_a_walk_that_loses_the_freed_graph_error():
    def forget_freed(probe, result):
        result["shared"]["second_backward"] = "AttributeError"
        return result
    with pytest.raises(CheckFailed, match="second backward through the freed shared graph raised 'AttributeError'"):
        checks_autograd.check_topological_order(InProcess(forget_freed))


def test_the_push_marking_walk_gets_the_issues_example_wrong():
    """b = 2x, a = 3b, (b + a).sum(): x.grad is 8; the push-marking walk's order gives 2."""
    built = probes.graphs("numpy")["shared"][0]
    order = push_marking(built[-1])
    assert [built.index(t) for t in order] == [2, 0, 1, 3]   # a before its parent b


# ---- A3 --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mistake", sorted(checks_training.D_MISTAKES))
def test_a31_names_each_mistake(mistake, monkeypatch):
    from minigan.gan import GAN
    monkeypatch.setattr(GAN, "discriminator_step", lambda self: checks_training.reference_d_step(self, mistake=mistake))
    with pytest.raises(CheckFailed) as refused:
        checks_training.check_discriminator_step(InProcess())
    assert str(refused.value).endswith(checks_training.D_MISTAKES[mistake])


@pytest.mark.parametrize("mistake", sorted(checks_training.G_MISTAKES))
def test_a32_names_each_mistake(mistake, monkeypatch):
    from minigan.gan import GAN
    if mistake == "other form":
        def step(self):
            return checks_training.reference_g_step(self, form={"minimax": "non_saturating"}.get(self.loss, "minimax"))
    else:
        def step(self):
            return checks_training.reference_g_step(self, mistake=mistake)
    monkeypatch.setattr(GAN, "generator_step", step)
    with pytest.raises(CheckFailed) as refused:
        checks_training.check_generator_step(InProcess())
    assert str(refused.value).endswith(checks_training.G_MISTAKES[mistake])


def test_a31_with_z_sampled_first_is_algorithm_1_too(monkeypatch):
    from minigan.gan import GAN
    monkeypatch.setattr(GAN, "discriminator_step", lambda self: checks_training.reference_d_step(self, "zx"))
    assert "returning (loss_D, real, fake)" in checks_training.check_discriminator_step(InProcess())


# ---- A4.2 ------------------------------------------------------------------------------------------
def test_a42_altered_tables_each_turn_a_finding():
    runs = {(form, k): {"early_g_grad_norm": 0.5 + i, "early_d_fake": 0.4 - 0.1 * (k == 5), "modes_covered": 8 - i}
            for i, (form, k) in enumerate((f, k) for f in experiments.FORMS for k in experiments.K_VALUES)}
    runs["minimax", 5]["early_g_grad_norm"] = 0.1
    assert all(checks_experiment.findings_of(runs).values())
    tables = dict(checks_experiment.altered_tables(runs))
    names = ["minimax_gradient_weaker", "more_d_steps_lower_d_fake", "non_saturating_covers_more"]
    for label, false in zip(list(tables)[:3], names):
        assert [name for name, value in checks_experiment.findings_of(tables[label]).items() if not value] == [false]
    assert checks_experiment.findings_of(tables["ties"]) == dict(zip(names, (False, False, True)))


@pytest.mark.full
@pytest.mark.parametrize("findings", ["constants", "strict covers_more"])
def test_a42_refuses_findings_not_computed_from_the_runs(findings, monkeypatch):
    def compare(steps=experiments.STEPS, seed=0):
        runs = [experiments.run_ring(f, k, steps, seed) for f in experiments.FORMS for k in experiments.K_VALUES]
        by = {(r["form"], r["k"]): r for r in runs}
        if findings == "constants":
            return {"runs": runs, "findings": dict.fromkeys(checks_experiment.findings_of(by), True)}
        found = checks_experiment.findings_of(by)
        found["non_saturating_covers_more"] = by["non_saturating", 5]["modes_covered"] > by["minimax", 5]["modes_covered"]
        return {"runs": runs, "findings": found}
    monkeypatch.setattr(experiments, "compare", compare)
    with pytest.raises(CheckFailed, match="compute each finding from the runs"):
        checks_experiment.check_compare(InProcess())


# ---- A5: a missing gradient is excused only where it is zero ----------------------------------------
def test_a51_refuses_a_missing_gradient_where_one_is_wanted():
    def drop_first_gradient(probe, result):
        if probe == "penalty":
            result["grads"][0] = None
        return result
    with pytest.raises(CheckFailed, match="has no gradient"):
        checks_penalties.check_r1(InProcess(drop_first_gradient))


def test_a51_excuses_the_last_bias_which_the_penalty_does_not_depend_on():
    def drop_last_bias(probe, result):
        if probe == "penalty":
            result["grads"][-1] = None
        return result
    checks_penalties.check_r1(InProcess(drop_last_bias))


def test_every_part_is_tested_here():
    assert set(OFF) | set(SLOW) == set(PARTS)
