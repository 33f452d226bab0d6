"""The classroom tools: released copies, the autograder, and the solution key (this repo).

For every assignment: its released copy grades 0 on the blanked parts and the parts left
in keep their points; the solution grades full marks; a planted bug in one region loses
exactly that part's points; a part that never returns is stopped by its time limit; the
same copy graded twice gets the same report. Grading runs each part in a subprocess, so
these tests share one copy per assignment (module-scoped fixtures) and grade only the
parts a test needs.
"""
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import time

import pytest

from minigan.assignments import __main__ as cli
from minigan.assignments.catalog import ASSIGNMENTS, SOURCE_ROOT
from minigan.assignments.grade import grade
from minigan.assignments.mistakes import MISTAKES, PART_TESTS
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
    "A6": ("A6.3", "A6.2", """
        for i in range(k_h):
            for j in range(k_w):
                out[:, i:i + s_h * (h - 1) + 1:s_h, j:j + s_w * (w - 1) + 1:s_w, :] = cols[:, :, :, i, j, :]
        return xp.permute_dims(out[:, p_h:p_h + h_out, p_w:p_w + w_out, :], (0, 3, 1, 2))
        """),  # overlapping windows overwrite each other instead of adding up
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
    assert (workdir / "installed" / "minigan" / "assignments" / "experiments.py").is_file()
    assert not (workdir / "installed" / "minigan" / "assignments" / "harness.py").exists()  # no grader in a copy


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
    checks = path / "minigan" / "assignments" / "checks_autograd.py"  # a copy has none: the student adds one
    checks.write_text("def check_exp():\n    return 'passed, honestly'\n")
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


# ---- each graded computation in one place: blanking a region breaks every path through it -----------
PATHS = {  # a library path -> code that runs it in a copy (numpy; `leaf`, `back` defined below)
    "a * b": "a, b = leaf([1., 2.]), leaf([3., 4.]); back(a * b)",
    "a @ b": "a, b = leaf(np.ones((2, 3))), leaf(np.ones((3, 2))); back(a @ b)",
    "x.sum(axis)": "back(leaf(np.ones((2, 3))).sum(axis=0))",
    "x.mean(axis)": "back(leaf(np.ones((2, 3))).mean(axis=0))",
    "x.exp()": "back(leaf([0.5]).exp())",
    "x.log()": "back(leaf([0.5]).log())",
    "x.sigmoid()": "back(leaf([0.5]).sigmoid())",
    "ops.relu(x)": "back(ops.relu(leaf([0.5])))",
    "x.tanh()": "back(leaf([0.5]).tanh())",
    "Tensor.backward": "back(leaf([0.5]) + 1.0)",
    "minigan.grad": "x = leaf([0.5]); minigan.grad(x + 1.0, x, grad_outputs=np.ones(1))",
    "gradcheck": "from minigan.gradcheck import gradcheck; gradcheck(lambda x: x + 1.0, [leaf([0.5])])",
    "nn.Linear, nn.MLP": "nn.MLP([2, 3, 1], 'relu')(minigan.tensor(np.ones((4, 2)), dtype='float32'))",
    "losses.discriminator_loss": "losses.discriminator_loss(leaf([1., 2.]), leaf([0.5])).backward()",
    "losses.value_function": "losses.value_function(leaf([1., 2.]), leaf([0.5])).backward()",
    "losses.generator_loss minimax": "losses.generator_loss(leaf([0.5]), 'minimax').backward()",
    "losses.generator_loss non_saturating": "losses.generator_loss(leaf([0.5]), 'non_saturating').backward()",
    "optim.SGD": "p = leaf([1.]); p.grad = np.ones(1); optim.SGD([p], lr=0.1, momentum=0.5).step()",
    "optim.Adam": "p = leaf([1.]); p.grad = np.ones(1); optim.Adam([p]).step()",
    "GAN.train": "gan.build(gan.recipe('ring', steps=2)).train(2)",
    "GAN.train with R1": "gan.build(gan.recipe('ring', steps=2, penalty='r1', gamma=1.0)).train(1)",
    "losses.r1_penalty": "D = nn.MLP([2, 3, 1], 'tanh', dtype='float64'); "
                         "losses.r1_penalty(D, minigan.tensor(np.ones((4, 2)), dtype='float64')).backward()",
    "losses.gradient_penalty": "D = nn.MLP([2, 3, 1], 'tanh', dtype='float64'); x = leaf(np.ones((4, 2))); "
                               "losses.gradient_penalty(D, x, x * 0.5, leaf(np.full((4, 1), 0.3))).backward()",
    "experiments.run_ring": "from minigan.assignments import experiments; experiments.run_ring(steps=2, early=1)",
    "experiments.compare": "from minigan.assignments import experiments; experiments.compare(steps=2)",
    "demo selfcheck's training step": "from minigan.demo import selfcheck; "
                                      "selfcheck.compare_step(minigan.get_backend('numpy'))",
    "ConditionalGAN.train_step": "from minigan.variants import conditional; "
                                 "conditional.ConditionalGAN(np.zeros((20, 64)), np.arange(20) % 10).train_step()",
    "ops.conv2d": "back(ops.conv2d(leaf(np.ones((1, 2, 4, 4))), leaf(np.ones((3, 2, 2, 2))), stride=1, padding=1))",
    "ops.batch_norm": "back(ops.batch_norm(leaf(np.arange(8.0).reshape(4, 2)), 0))",
}
TRAINING = ["GAN.train", "GAN.train with R1", "experiments.run_ring", "experiments.compare",
            "demo selfcheck's training step"]
PENALTIES = ["GAN.train with R1", "losses.r1_penalty", "losses.gradient_penalty"]
# region -> the paths that compute through it (docs/teaching.md has this table); every other path
# of PATHS works with the region blank (checked for all regions in the full run)
DEPENDS = {
    "A1.1": ["a * b", *PENALTIES],
    "A1.2": ["a @ b", *TRAINING, *PENALTIES[1:], "ConditionalGAN.train_step"],
    "A1.3": ["x.sum(axis)", "x.mean(axis)", *PENALTIES],
    "A1.4": ["x.exp()"],
    "A1.5": ["x.log()"],
    "A1.6": ["x.sigmoid()"],
    "A1.7": ["ops.relu(x)", *TRAINING, "ConditionalGAN.train_step"],
    "A1.8": [name for name in PATHS if name not in ("nn.Linear, nn.MLP", "optim.SGD", "optim.Adam")],
    "A2.1": ["nn.Linear, nn.MLP", *TRAINING, *PENALTIES[1:], "ConditionalGAN.train_step"],
    "A2.2": ["losses.discriminator_loss", "losses.value_function", *TRAINING, "ConditionalGAN.train_step"],
    "A2.3": ["losses.generator_loss minimax", "experiments.compare"],
    "A2.4": ["losses.generator_loss non_saturating", *TRAINING, "ConditionalGAN.train_step"],
    "A2.5": ["optim.SGD"],
    "A2.6": ["optim.Adam", *TRAINING, "ConditionalGAN.train_step"],
    "A3.1": TRAINING,
    "A3.2": TRAINING,
    "A4.1": ["experiments.run_ring", "experiments.compare"],
    "A4.2": ["experiments.compare"],
    "A5.1": ["GAN.train with R1", "losses.r1_penalty"],
    "A5.2": ["x.tanh()", *PENALTIES[1:], "demo selfcheck's training step", "ConditionalGAN.train_step"],
    "A6.1": ["ops.conv2d"],
    "A6.2": ["ops.conv2d"],
    "A6.3": ["ops.batch_norm"],
}
RUN_PATHS = """
import json, sys
import numpy as np, minigan
from minigan import nn, losses, optim, ops, gan
def leaf(v): return minigan.tensor(np.asarray(v, dtype=float), requires_grad=True, dtype="float64")
def back(y): y.backward(minigan.tensor(np.ones(y.shape), dtype=y.dtype))
results = {}
for name, code in json.loads(sys.argv[1]).items():
    try:
        exec(code, dict(globals()))
        results[name] = "ran"
    except NotImplementedError as error:
        results[name] = "NotImplementedError " + str(error).split(":")[0]
    except Exception as error:
        results[name] = f"{type(error).__name__}: {error}"
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def key_copy(workdir):
    """A copy with every region filled in (the key's bodies), for blanking one region at a time."""
    return release("A1", workdir / "key-copy", parts=[])


def run_paths(copy, names) -> dict:
    done = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(copy)!r})\n" + RUN_PATHS,
                           json.dumps({name: PATHS[name] for name in names})],
                          capture_output=True, text=True, timeout=600, cwd=copy)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def blanked_paths(copy, part, names) -> dict:
    region = find_all_regions(copy / "minigan")[part][0]
    original = body_of(region)
    fill_part(copy, part, f'raise NotImplementedError("{part}: blank")')
    try:
        return run_paths(copy, names)
    finally:
        fill_part(copy, part, original)


def test_the_dependency_table_names_real_paths_and_every_region():
    assert set(DEPENDS) == {p.id for a in ASSIGNMENTS.values() for p in a.parts}
    assert all(set(paths) <= set(PATHS) for paths in DEPENDS.values())
    docs = (SOURCE_ROOT / "docs" / "teaching.md").read_text()
    for part, paths in DEPENDS.items():
        row = next(line for line in docs.splitlines() if line.startswith(f"| {part} |"))
        assert sorted(re.findall(r"`([^`]+)`", row.split("|")[2])) == sorted(paths), part


@pytest.mark.parametrize("part", ["A1.3", "A1.6", "A3.1", "A5.1"])
def test_a_blank_region_breaks_every_path_through_it(part, key_copy):
    """The fast sample; the full run checks every region, and that the other paths still work."""
    results = blanked_paths(key_copy, part, DEPENDS[part])
    assert results == {name: f"NotImplementedError {part}" for name in DEPENDS[part]}


@pytest.mark.full
@pytest.mark.parametrize("part", sorted(DEPENDS))
def test_a_blank_region_breaks_exactly_the_paths_the_table_names(part, key_copy):
    results = blanked_paths(key_copy, part, list(PATHS))
    wanted = {name: f"NotImplementedError {part}" if name in DEPENDS[part] else "ran" for name in PATHS}
    assert results == wanted


# ---- common mistakes: the grade, its feedback and the copy's own tests agree -------------------------
def _copy_tests(copy, part) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *PART_TESTS[part]],
                          cwd=copy, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "HYPOTHESIS_PROFILE": "ci"})


@pytest.fixture(scope="module")
def mistake_copies(workdir):
    """One copy of the key per assignment, into which each mistake is put in turn."""
    return {aid: release(aid, workdir / f"mistakes-{aid}", parts=[]) for aid in IDS}


def _with_mistake(copies, mistake, then):
    copy = copies[mistake.part.split(".")[0]]
    original = body_of(find_all_regions(copy / "minigan")[mistake.part][0])
    fill_part(copy, mistake.part, mistake.code)
    try:
        return then(copy)
    finally:
        fill_part(copy, mistake.part, original)


def _grade_one(mistake):
    return lambda copy: grade(mistake.part.split(".")[0], copy, parts=[mistake.part])["parts"][0]


FAST_MISTAKES = [m for m in MISTAKES if m.part not in ("A4.1", "A4.2")]


@pytest.mark.parametrize("mistake", FAST_MISTAKES, ids=lambda m: f"{m.part} {m.name}")
def test_each_catalogued_mistake_keeps_its_points_and_is_named(mistake, mistake_copies):
    row = _with_mistake(mistake_copies, mistake, _grade_one(mistake))
    assert row["points"] == mistake.kept, row
    assert mistake.feedback in row["feedback"], row


@pytest.mark.full
@pytest.mark.parametrize("mistake", [m for m in MISTAKES if m not in FAST_MISTAKES], ids=lambda m: m.name)
def test_each_catalogued_experiment_mistake_is_named(mistake, mistake_copies):
    row = _with_mistake(mistake_copies, mistake, _grade_one(mistake))
    assert row["points"] == mistake.kept and mistake.feedback in row["feedback"], row


AGREEMENT_SAMPLE = ["1 - y written as 1.0 - y", "a walk that marks a node visited when it is pushed"]


def _agreement(mistake, copies):
    def grade_and_test(copy):
        row = _grade_one(mistake)(copy)
        return row, _copy_tests(copy, mistake.part)
    row, tests = _with_mistake(copies, mistake, grade_and_test)
    assert (row["points"] == row["max_points"]) == (tests.returncode == 0), (row, tests.stdout[-2000:])


@pytest.mark.parametrize("name", AGREEMENT_SAMPLE)
def test_the_grade_and_the_copys_tests_agree_on_a_mistake(name, mistake_copies):
    """The issue's examples: 2/2 from the grader beside 8 failing tests is what this forbids."""
    _agreement(next(m for m in MISTAKES if m.name == name), mistake_copies)


@pytest.mark.full
@pytest.mark.parametrize("mistake", [m for m in MISTAKES if m.part in PART_TESTS], ids=lambda m: f"{m.part} {m.name}")
def test_the_grade_and_the_copys_tests_agree_on_every_mistake(mistake, mistake_copies):
    _agreement(mistake, mistake_copies)


@pytest.mark.full
@pytest.mark.parametrize("part", sorted(PART_TESTS))
def test_the_keys_copy_passes_the_tests_each_part_answers_to(part, mistake_copies):
    tests = _copy_tests(mistake_copies[part.split(".")[0]], part)
    assert tests.returncode == 0, tests.stdout[-2000:]


def test_every_mistake_has_a_part_and_every_part_with_tests_a_mistake():
    parts = {p.id for a in ASSIGNMENTS.values() for p in a.parts}
    assert {m.part for m in MISTAKES} <= parts and set(PART_TESTS) <= parts
    assert set(PART_TESTS) <= {m.part for m in MISTAKES}


def test_a_shipped_test_file_imports_only_shipped_test_files(released):
    aid, path, _ = released
    shipped = {p.stem for p in (path / "tests").glob("*.py")}
    for test in (path / "tests").glob("*.py"):
        for node in ast.walk(ast.parse(test.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("test_"):
                assert node.module in shipped, f"{aid}: {test.name} imports {node.module}, not in the copy"


def test_a_copy_whose_minigan_claims_a_sibling_folder_is_refused(workdir):
    """The copy-path check: a path that merely starts with the copy's ("/x/copy-evil/...") is
    not inside the copy ("/x/copy/...")."""
    path = release("A1", workdir / "sibling", parts=[])
    init = path / "minigan" / "__init__.py"
    init.write_text(init.read_text() + "\nimport os as _os\n"
                    "__file__ = _os.path.dirname(_os.path.dirname(__file__)) + '-evil/minigan/__init__.py'\n")
    (row,) = grade("A1", path, parts=["A1.4"])["parts"]
    assert row["points"] == 0 and row["feedback"].startswith("import minigan found") and "-evil/minigan" in row["feedback"]


def test_the_graph_walk_is_graded_apart_from_the_ops_it_walks(workdir):
    """A1.8's graphs run through the grader's own Scale op and addition, not the copy's Mul or
    Exp: a wrong Mul.backward (A1.1) and a wrong Exp.backward (A1.4) leave A1.8's 6 points."""
    path = release("A1", workdir / "a18-apart", parts=[])
    fill_part(path, "A1.1", "return unbroadcast(grad_y * b, a.shape), unbroadcast(-grad_y * a, b.shape)")
    fill_part(path, "A1.4", "return grad_y * y * 2.0")
    report = grade("A1", path, parts=["A1.1", "A1.4", "A1.8"])
    assert points(report) == {"A1.1": 0, "A1.4": 0, "A1.8": 6}, report
