"""The classroom tools: released copies, the autograder, and the solution key (this repo).

For every assignment: its released copy grades 0 on the blanked parts and the parts left
in keep their points; the solution grades full marks; a planted bug in one region loses
exactly that part's points; a part that never returns is stopped by its time limit; the
same copy graded twice gets the same report. Grading runs each part in a subprocess, so
these tests share one copy per assignment (module-scoped fixtures) and grade only the
parts a test needs.
"""
import json
import re
import shutil
import subprocess
import sys
import time

import pytest

from minigan.assignments import __main__ as cli
from minigan.assignments.catalog import ASSIGNMENTS, SOURCE_ROOT
from minigan.assignments.grade import grade
from minigan.assignments.regions import body_of, find_all_regions, find_regions, fill_part, placeholder
from minigan.assignments.release import release

# Per assignment: a part released blank (None: none, so that the other part of a short
# assignment is graded in full), and a part with a planted bug: a wrong sign, or for the
# experiment the wrong measurement (D(x) where D(G(z)) was asked for).
PLANTED = {
    "A1": ("A1.8", "A1.1", "return unbroadcast(grad_y * b, a.shape), unbroadcast(-grad_y * a, b.shape)"),
    "A2": ("A2.1", "A2.3", "return grad_loss * _sigmoid(xp, a_fake) / a_fake.size"),
    "A3": ("A3.2", "A3.1", """
        x, z = self.sample(p_data, m), self.sample(p_z, m)
        real, fake = D(x), D(G(z).detach())
        loss_D = losses.discriminator_loss(real, fake, form=self.d_form)
        update(self.opt_D, loss_D)
        return loss_D, real, fake
        """),  # right for the plain GAN; forgets the penalty and the clipping
    "A4": (None, "A4.1", """
        config = ring_config(form, k, steps, seed)
        model = gan.build(config)
        history = callbacks.History()
        model.train(steps, callbacks=[history, *gan.schedules(config, model)])
        coverage = metrics.mode_coverage(model.generate(metrics.N_SAMPLES, seed=seed), model.p_data.centres,
                                         model.p_data.std)
        return {"form": form, "k": k, "steps": steps, "seed": seed, "modes_covered": coverage.modes_covered,
                "high_quality_fraction": coverage.high_quality_fraction,
                "early_d_fake": float(np.mean(history["d_real"][:early])),
                "early_g_grad_norm": float(np.mean(history["g_grad_norm"][:early]))}
        """),
    "A5": ("A5.2", "A5.1", """
        (grad_x,) = grad(scores.sum(), x)
        return (grad_x * grad_x).sum(axis=1).mean()
        """),  # no create_graph: the right value, but no gradient for D's weights
}
IDS = sorted(ASSIGNMENTS)


def points(report) -> dict:
    return {row["id"]: row["points"] for row in report["parts"]}


def status(report) -> dict:
    return {row["id"]: row["status"] for row in report["parts"]}


def full(part_id) -> int:
    return next(p.points for a in ASSIGNMENTS.values() for p in a.parts if p.id == part_id)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("assignments")


@pytest.fixture(scope="module", params=IDS)
def released(request, workdir):
    """(assignment id, path of its released copy, its grade): every part blanked."""
    aid = request.param
    path = release(aid, workdir / f"released-{aid}")
    return aid, path, grade(aid, path)


@pytest.fixture(scope="module", params=IDS)
def planted(request, workdir):
    """(assignment id, path, grade) of a copy with one part released blank and a bug in another."""
    aid = request.param
    blank, buggy, code = PLANTED[aid]
    path = release(aid, workdir / f"planted-{aid}", parts=[blank] if blank else [])
    fill_part(path, buggy, code)
    return aid, path, grade(aid, path)


# ---- the catalog and the regions -----------------------------------------------------------------
def test_every_part_has_a_region_and_a_check():
    regions = find_all_regions(SOURCE_ROOT / "minigan")
    for a in ASSIGNMENTS.values():
        for part in a.parts:
            assert part.id in regions, f"{part.id}: no '# BEGIN SOLUTION {part.id}' region in minigan/"
            module, function = part.check.split(":")
            checks = __import__(f"minigan.assignments.{module}", fromlist=[function])
            assert callable(getattr(checks, function)), part.check
            assert '"' not in part.hint and "\\" not in part.hint
    assert set(regions) == {p.id for a in ASSIGNMENTS.values() for p in a.parts}, "a region with no catalog entry"


def test_list_prints_every_part_with_its_points(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for a in ASSIGNMENTS.values():
        assert f"{a.id}  {a.title}  ({a.points} points" in out
        for part in a.parts:
            assert f"{part.id:<5} {part.points:>2}  {part.title}" in out
    assert "region missing" not in out


def test_malformed_regions_are_refused(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    # BEGIN SOLUTION X1.1\n    return 1\n")
    with pytest.raises(ValueError, match="X1.1 has no '# END SOLUTION'"):
        find_regions(bad)
    bad.write_text("def f():\n    # END SOLUTION\n")
    with pytest.raises(ValueError, match="without a BEGIN"):
        find_regions(bad)
    compile("def f():\n" + "\n".join("    " + line for line in placeholder("A9.9: " + "word " * 40).splitlines()),
            "placeholder", "exec")


def test_release_refuses_bad_arguments(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "file").write_text("x")
    with pytest.raises(ValueError, match="out: got"):
        release("A1", tmp_path / "full")
    with pytest.raises(ValueError, match="parts: got"):
        release("A1", tmp_path / "new", parts=["A2.1"])
    with pytest.raises(ValueError, match="assignment: got 'A9'"):
        release("A9", tmp_path / "new")
    with pytest.raises(ValueError, match="wanted a folder holding a minigan/ package"):
        grade("A1", tmp_path)
    assert cli.main(["grade", "A9"]) == 2


# ---- released copies -------------------------------------------------------------------------------
def test_release_blanks_exactly_the_assignments_regions(released):
    aid, path, _ = released
    source, copy = find_all_regions(SOURCE_ROOT / "minigan"), find_all_regions(path / "minigan")
    assert set(copy) == set(source)
    for part_id, regions in copy.items():
        for region, original in zip(regions, source[part_id]):
            body = body_of(region)
            if part_id.startswith(aid + "."):
                assert re.match(rf'\s*raise NotImplementedError\(\s*"{part_id}: implement', body), body
            else:  # earlier and later assignments keep their solutions
                assert body == body_of(original), part_id
    assert (path / "setup.cfg").is_file() and (path / "pyproject.toml").is_file() and (path / "ASSIGNMENT.md").is_file()
    assert (path / "tests" / "conftest.py").is_file() and any((path / "tutorials").glob("*.py"))
    for test in ASSIGNMENTS[aid].tests:
        assert (path / test).is_file() == (SOURCE_ROOT / test).is_file(), test


def _above(region) -> str:
    """The text from the top-level class or def that holds a region down to the region."""
    lines = region.path.read_text().splitlines()
    owner = next(i for i in range(region.begin, -1, -1) if re.match(r"(class|def) ", lines[i]))
    return "\n".join(lines[owner:region.begin])


def test_released_copy_hints_ask_and_its_docstrings_keep_no_vjp(released):
    aid, path, _ = released
    source = find_all_regions(SOURCE_ROOT / "minigan")
    stripped = 0
    for part in ASSIGNMENTS[aid].parts:
        assert "?" in part.hint, part.id  # a question that leads there, not the answer
        for region, original in zip(find_all_regions(path / "minigan")[part.id], source[part.id]):
            assert "VJP:" not in _above(region), part.id
            stripped += "VJP:" in _above(original)
    assert stripped >= {"A1": 7, "A2": 3}.get(aid, 0)  # the solution key's ops and losses do state them


def test_the_value_function_does_not_give_a22_away():
    source = (SOURCE_ROOT / "minigan" / "losses" / "minimax.py").read_text()
    value_backward = source.split("class ValueFunction")[1].split("class DiscriminatorLoss")[0]
    assert "DiscriminatorLoss.backward(ctx, grad_v)" in value_backward and "_sigmoid" not in value_backward


def test_released_copy_imports_with_its_parts_blank(released):
    _, path, _ = released
    code = "import minigan, minigan.nn, minigan.losses, minigan.optim, minigan.gan, minigan.assignments.experiments"
    done = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(path)!r}); {code}; "
                           "print(minigan.__file__)"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(path / "minigan" / "__init__.py")


def test_released_copy_installs(workdir):
    path = release("A2", workdir / "install-check")
    # built the way a student's pip builds it (an isolated build environment, as for minigan itself)
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(workdir / "installed"), str(path)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert (workdir / "installed" / "minigan" / "assignments" / "harness.py").is_file()


def test_released_copy_grades_zero_on_its_blanked_parts(released):
    aid, _, report = released
    assert report["score"] == 0 and not report["full_marks"]
    assert report["max_score"] == ASSIGNMENTS[aid].points
    for row in report["parts"]:
        assert row["status"] == "not_implemented", row
        assert row["feedback"].startswith(f"{row['id']}: implement") and "hint:" in row["feedback"]


def test_blanked_part_scores_zero_and_the_others_keep_their_points(planted):
    aid, _, report = planted
    blank, buggy, _ = PLANTED[aid]
    for part_id, got in points(report).items():
        if part_id == blank:
            assert got == 0 and status(report)[part_id] == "not_implemented"
        elif part_id != buggy:
            assert got == full(part_id), report


# ---- the solution key ------------------------------------------------------------------------------
@pytest.mark.parametrize("aid", IDS)
def test_solution_grades_full_marks(aid):
    report = grade(aid)
    assert report["full_marks"], json.dumps(report, indent=1)
    assert report["score"] == ASSIGNMENTS[aid].points
    assert all(row["status"] == "passed" for row in report["parts"])


# ---- planted bugs, hangs, crashes ------------------------------------------------------------------
def test_planted_bug_loses_exactly_that_parts_points(planted):
    aid, _, report = planted
    blank, buggy, _ = PLANTED[aid]
    assert points(report)[buggy] == 0 and status(report)[buggy] == "failed"
    lost = full(buggy) + (full(blank) if blank else 0)
    assert report["score"] == ASSIGNMENTS[aid].points - lost
    feedback = next(row["feedback"] for row in report["parts"] if row["id"] == buggy)
    if aid == "A1":  # a failed gradient check names the op, the input and the worst index
        assert feedback.startswith("Mul backward, inputs a (3, 4), b (3, 4) on numpy: b: gradient mismatch at index (")


def test_grading_is_deterministic(planted):
    aid, path, report = planted
    blank, buggy, _ = PLANTED[aid]
    again = grade(aid, path, parts=[buggy] + ([blank] if blank else []))
    assert again["parts"] == [row for row in report["parts"] if row["id"] in (buggy, blank)]


@pytest.mark.parametrize("aid", IDS)
def test_a_part_that_never_returns_is_stopped_by_its_time_limit(aid, workdir):
    part = ASSIGNMENTS[aid].parts[0]
    path = release(aid, workdir / f"hang-{aid}", parts=[])
    fill_part(path, part.id, "while True:\n    pass")
    start = time.monotonic()
    report = grade(aid, path, parts=[part.id], time_limit=2)
    assert time.monotonic() - start < 30
    assert report["parts"][0]["status"] == "timeout" and report["score"] == 0
    assert "time limit of 2 s" in report["parts"][0]["feedback"]


def test_a_crash_or_a_nan_costs_that_part_only(workdir):
    path = release("A1", workdir / "crash", parts=[])
    fill_part(path, "A1.4", "import os\nos._exit(3)")          # the process dies
    fill_part(path, "A1.5", "return grad_y / x * float('nan')")  # a NaN gradient
    fill_part(path, "A1.6", "return undefined_name")             # an exception
    report = grade("A1", path, parts=["A1.4", "A1.5", "A1.6", "A1.7"])
    assert status(report) == {"A1.4": "error", "A1.5": "failed", "A1.6": "error", "A1.7": "passed"}
    rows = {row["id"]: row["feedback"] for row in report["parts"]}
    assert "exit status 3" in rows["A1.4"]
    assert "analytic nan" in rows["A1.5"]
    assert rows["A1.6"].startswith("NameError: name 'undefined_name' is not defined (at minigan/ops/elementwise.py:")


def test_grade_cli_prints_a_table_or_json_and_exits_0_only_for_full_marks(workdir, capsys):
    path = release("A1", workdir / "cli", parts=["A1.1"])
    assert cli.main(["grade", "A1", "--path", str(path), "--parts", "A1.1,A1.4", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert (report["score"], report["max_score"], [r["id"] for r in report["parts"]]) == (1, 3, ["A1.1", "A1.4"])
    assert cli.main(["grade", "A1", "--path", str(path), "--parts", "A1.4"]) == 0
    table = capsys.readouterr().out
    assert "A1.4       1/1  passed: Exp backward matches" in table and "total      1/1  full marks" in table


def test_the_grader_uses_its_own_checks_not_the_copys(workdir):
    path = release("A1", workdir / "tampered", parts=["A1.4"])
    checks = path / "minigan" / "assignments" / "checks_autograd.py"
    checks.write_text(checks.read_text() + "\n\ndef check_exp():\n    return 'passed, honestly'\n")
    shutil.rmtree(path / "minigan" / "assignments" / "__pycache__", ignore_errors=True)
    assert grade("A1", path, parts=["A1.4"])["parts"][0]["status"] == "not_implemented"


# ---- the feedback names the mistake ---------------------------------------------------------------
def test_a3_names_a_generator_step_that_uses_the_other_form(workdir):
    path = release("A3", workdir / "a3-other-form", parts=[])
    fill_part(path, "A3.2", """
        z = self.sample(p_z, m)
        other = "minimax" if self.loss == "non_saturating" else "non_saturating"
        loss_G = losses.generator_loss(D(G(z)), form=other)
        update(self.opt_G, loss_G)
        return loss_G
        """)
    (row,) = grade("A3", path, parts=["A3.2"])["parts"]
    assert row["points"] == 0 and "the generator's step used the other loss form; use self.loss" in row["feedback"]


def test_a5_names_a_tanh_backward_whose_gradient_has_no_graph(workdir):
    path = release("A5", workdir / "a5-no-graph", parts=[])
    fill_part(path, "A5.2", """
        if isinstance(y, Tensor):  # right numbers, taken out of the graph
            return Tensor(grad_y.data * (1.0 - y.data * y.data), y.backend)
        return grad_y * (1.0 - y * y)
        """)
    (row,) = grade("A5", path, parts=["A5.2"])["parts"]
    assert row["points"] == 0 and "the gradient came back with no graph" in row["feedback"], row
