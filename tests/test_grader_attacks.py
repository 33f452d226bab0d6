"""The grader against a student who cheats: each attack scores 0 and the grader reports in full.

Every attack is code put into one part (A1.4, Exp.backward) of an A1 copy; the copy's other
parts keep their solutions and A1.5 is graded beside it, so each test also shows that
grading goes on and the next part is judged as usual. Each runs in the bubblewrap sandbox
(skipped, with the reason, where bwrap cannot make namespaces) and in the plain-subprocess
fallback. Where the fallback cannot stop an attack (it runs with the teacher's
permissions: docs/teaching.md, "Can students cheat?"), the test says what it does instead.
"""
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from minigan.assignments import __main__ as cli
from minigan.assignments import grade as grade_module
from minigan.assignments import cgroups, sandbox
from minigan.assignments.catalog import ASSIGNMENTS, SOURCE_ROOT
from minigan.assignments.grade import GraderTampered, format_table, grade
from minigan.assignments.regions import fill_part
from minigan.assignments.release import STUDENT_MODULES, release

SOLVED_EXP = "return grad_y * y"
MODES = [pytest.param("bubblewrap", marks=pytest.mark.skipif(sandbox.bwrap_problem() is not None,
                                                             reason=f"no sandbox here: {sandbox.bwrap_problem()}")),
         "subprocess"]


@pytest.fixture(scope="module")
def copy(tmp_path_factory):
    return release("A1", tmp_path_factory.mktemp("attacks") / "copy", parts=[])


def attack(copy, mode, code, **options):
    """Put ``code`` into A1.4, grade A1.4 and A1.5, and check the report is whole; return A1.4's row."""
    fill_part(copy, "A1.4", code)
    try:
        report = grade("A1", copy, parts=["A1.4", "A1.5"], sandbox_name=mode, **options)
    finally:
        fill_part(copy, "A1.4", SOLVED_EXP)
    rows = {row["id"]: row for row in report["parts"]}
    assert rows["A1.5"]["status"] == "passed" and report["score"] == 1 and report["max_score"] == 2, report
    assert report["sandboxed"] is (mode == "bubblewrap")
    assert rows["A1.4"]["points"] == 0 and rows["A1.4"]["processes_left"] == 0, rows["A1.4"]
    assert "\n" not in rows["A1.4"]["feedback"] and len(rows["A1.4"]["feedback"]) <= 500
    return rows["A1.4"]


def test_the_solved_part_passes_in_both_modes(copy):
    for mode in ["subprocess"] + ([] if sandbox.bwrap_problem() else ["bubblewrap"]):
        assert grade("A1", copy, parts=["A1.4"], sandbox_name=mode)["full_marks"]


@pytest.mark.parametrize("mode", MODES)
def test_a_forged_verdict_is_a_malformed_reply(copy, mode):
    # what used to earn full marks: {"status": "passed"} into every file and stream it can reach, then exit
    forged = on_every_fd('framed(wire.encode({"status": "passed"})) + framed(wire.encode({"result": {"status": "passed"}}))')
    row = attack(copy, mode, forged + """
        for arg in sys.argv[1:]:
            try:
                with open(arg, "w") as file:
                    json.dump({"status": "passed", "feedback": "all good"}, file)
            except OSError:
                pass
        os._exit(0)
        """)
    assert row["status"] in ("failed", "error"), row


@pytest.mark.parametrize("mode", MODES)
def test_the_grader_and_files_outside_the_copy_are_out_of_reach(copy, mode, tmp_path):
    canary = tmp_path / "canary.txt"
    canary.write_text("SECRET-" + uuid.uuid4().hex)
    row = attack(copy, mode, f"""
        import importlib.util, os, sys
        seen = [name for name in ("minigan_grader", "minigan.assignments.grade") if name in sys.modules]
        finders = [p for p in sys.path if os.path.isdir(p) and any("editable" in f for f in os.listdir(p))]
        try:
            secret = open({str(canary)!r}).read()
        except OSError as error:
            secret = type(error).__name__
        try:
            solution = open({str(SOURCE_ROOT / "minigan" / "ops" / "arithmetic.py")!r}).read()[:5]
        except OSError as error:
            solution = type(error).__name__
        raise RuntimeError(f"modules={{seen}} finders={{finders}} canary={{secret}} solution={{solution}}")
        """)
    assert row["status"] == "error"
    assert "modules=[] finders=[]" in row["feedback"], row  # the grader's minigan is not on the path
    if mode == "bubblewrap":  # nothing outside the copy is visible at all
        assert "canary=FileNotFoundError solution=FileNotFoundError" in row["feedback"], row
    else:  # the fallback runs with the teacher's permissions: it can read files by their path
        assert "canary=SECRET-" in row["feedback"]


@pytest.mark.parametrize("mode", MODES)
def test_writing_into_the_grader_its_cwd_and_home(copy, mode, tmp_path, monkeypatch):
    grader = tmp_path / "grader"  # a copy of the grader's own tree, so the real one is never at risk
    shutil.copytree(SOURCE_ROOT / "minigan", grader / "minigan", ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(grade_module, "SOURCE_ROOT", grader)
    (tmp_path / "cwd").mkdir()
    (tmp_path / "home").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    checks = grader / "minigan" / "assignments" / "checks_autograd.py"
    targets = [checks, tmp_path / "cwd" / "planted.txt", tmp_path / "home" / ".bashrc"]
    original = checks.read_text()
    code = f"""
        wrote = []
        for path in {[str(t) for t in targets]!r}:
            try:
                with open(path, "a") as file:
                    file.write("\\ndef check_exp(student):\\n    return 'passed'\\n")
                wrote.append(path)
            except OSError:
                pass
        raise RuntimeError(f"wrote {{len(wrote)}}")
        """
    if mode == "subprocess":  # it can write; the grader sees its own files change and stops
        fill_part(copy, "A1.4", code)
        try:
            with pytest.raises(GraderTampered, match="checks_autograd.py"):
                grade("A1", copy, parts=["A1.4", "A1.5"], sandbox_name=mode)
        finally:
            fill_part(copy, "A1.4", SOLVED_EXP)
        return
    row = attack(copy, mode, code)
    assert "wrote 0" in row["feedback"], row
    assert checks.read_text() == original
    assert not (tmp_path / "cwd" / "planted.txt").exists() and not (tmp_path / "home" / ".bashrc").exists()


def test_a_changed_grader_stops_the_cli_with_one_line(copy, tmp_path, monkeypatch, capsys):
    grader = tmp_path / "grader"
    shutil.copytree(SOURCE_ROOT / "minigan", grader / "minigan", ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(grade_module, "SOURCE_ROOT", grader)
    target = grader / "minigan" / "assignments" / "checks.py"
    fill_part(copy, "A1.4", f"open({str(target)!r}, 'a').write('# planted')\nreturn grad_y * y")
    try:
        assert cli.main(["grade", "A1", "--path", str(copy), "--parts", "A1.4", "--sandbox", "subprocess"]) == 1
    finally:
        fill_part(copy, "A1.4", SOLVED_EXP)
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: the grader's own files changed while part A1.4 ran (assignments/checks.py in ")


@pytest.mark.parametrize("mode", MODES)
def test_patching_numpy_or_adding_checks_to_the_copy_earns_nothing(copy, mode):
    copy_checks = copy / "minigan" / "assignments" / "checks_autograd.py"  # a copy has none: the student adds one
    copy_gradcheck = copy / "minigan" / "gradcheck.py"
    saved = "", copy_gradcheck.read_text()
    copy_checks.write_text("def check_exp(student):\n    return 'passed, honestly'\n")
    copy_gradcheck.write_text(saved[1].replace('    if not eps > 0:', '    return True\n    if not eps > 0:', 1))
    try:
        row = attack(copy, mode, """
            import numpy
            numpy.abs = lambda x, *args, **kwargs: numpy.zeros_like(x)
            numpy.allclose = lambda *args, **kwargs: True
            numpy.isfinite = lambda x, *args, **kwargs: numpy.ones_like(x, dtype=bool)
            return grad_y * 0.0  # a wrong answer
            """)
    finally:
        copy_checks.unlink()
        copy_gradcheck.write_text(saved[1])
    assert row["status"] == "failed" and "gradient mismatch" in row["feedback"], row


def on_every_fd(frame: str) -> str:
    """Attack code: write the bytes ``frame`` evaluates to on every fd the channel may be, then exit."""
    return f"""
        import json, os, pickle, struct, sys
        import wire
        def framed(data):
            return struct.pack(">Q", len(data)) + data
        frame = {frame}
        for fd in range(3, 32):
            try:
                os.write(fd, frame)
            except OSError:
                pass
        """


MALFORMED = {
    "wrong shape": "import numpy\nreturn numpy.zeros((7, 7))",
    "a string": "return 'a gradient, trust me'",
    "an object": "return {'not': 'an array'}",
    "None": "return None",
    "a pickle on the channel":
        on_every_fd('framed(pickle.dumps({"result": {"grads": [1.0], "kinds": ["numpy"]}}))') + "os._exit(0)",
    "an empty list on the channel": on_every_fd("framed(wire.encode([]))") + "os._exit(0)",
    "an error that is not one": on_every_fd('framed(wire.encode({"error": "passed"}))') + "os._exit(0)",
    "a huge length": on_every_fd('struct.pack(">Q", 2**40)') + "os._exit(0)",
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_a_malformed_reply_fails_the_part_with_one_line(copy, mode, kind):
    row = attack(copy, mode, MALFORMED[kind])
    assert row["status"] in ("failed", "error"), row


@pytest.mark.parametrize("mode", MODES)
def test_six_gigabytes_hit_the_memory_limit(copy, mode):
    row = attack(copy, mode, "block = bytearray(6 * 10**9)\nreturn grad_y * y")
    assert row["status"] == "limit" and row["feedback"].startswith("memory limit of 2 GiB exceeded"), row


@pytest.mark.parametrize("mode", MODES)
def test_an_endless_loop_hits_the_time_or_the_cpu_limit(copy, mode):
    row = attack(copy, mode, "while True:\n    pass", time_limit=3)
    assert row["status"] == "timeout" and "time limit of 3 s" in row["feedback"], row
    row = attack(copy, mode, "while True:\n    pass", time_limit=30, limits=sandbox.Limits(cpu_seconds=1))
    assert row["status"] == "limit" and row["feedback"] == "CPU-time limit of 1 s exceeded", row


@pytest.mark.parametrize("mode", MODES)
def test_a_file_too_large_hits_the_file_size_limit(copy, mode):
    row = attack(copy, mode, "open('big.bin', 'wb').write(bytes(2**21))\nreturn grad_y * y",
                 limits=sandbox.Limits(file_bytes=2**20))
    assert row["status"] == "limit" and row["feedback"].startswith("file-size limit of 1 MiB exceeded"), row


def _running(marker: str) -> list:
    found = []
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as file:
                if marker.encode() in file.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc to look for leftover processes")
@pytest.mark.parametrize("mode", MODES)
def test_no_process_the_student_started_outlives_the_part(copy, mode):
    marker = "minigan-attack-" + uuid.uuid4().hex
    row = attack(copy, mode, f"""
        import os, subprocess, sys, time
        sleeper = [sys.executable, "-c", "import time; time.sleep(300)", {marker!r}]
        for i in range(20):
            subprocess.Popen(sleeper, start_new_session=(i % 2 == 0))
        if os.fork() == 0:  # a child that leaves the session, then double-forks away from it
            os.setsid()
            if os.fork() == 0:
                os.execv(sys.executable, sleeper)
            os._exit(0)
        time.sleep(1)
        raise RuntimeError("started 21 sleepers")
        """)
    assert row["feedback"].startswith("RuntimeError: started 21 sleepers"), row
    assert _running(marker) == []


@pytest.mark.parametrize("mode", MODES)
def test_a_long_message_cannot_fake_the_total(copy, mode, capsys):
    fill_part(copy, "A1.4", "fake = 'total    20/20  full marks '\n"
                            "raise RuntimeError('x ' * 45 + fake + chr(27) + '[2J' + fake * 30 + chr(10) + fake)")
    try:
        report = grade("A1", copy, parts=["A1.4", "A1.5"], sandbox_name=mode)
        assert cli.main(["grade", "A1", "--path", str(copy), "--parts", "A1.4,A1.5", "--sandbox", mode]) == 1
    finally:
        fill_part(copy, "A1.4", SOLVED_EXP)
    table = capsys.readouterr().out.rstrip("\n").splitlines()
    assert [line for line in table if line.startswith("total")] == ["total      1/2"], table
    assert table[-1] == "total      1/2" and table == format_table(report).splitlines()
    assert "\x1b" not in "\n".join(table) and len(report["parts"][0]["feedback"]) <= 500


def test_grade_refuses_a_sandbox_it_cannot_have(copy, monkeypatch):
    monkeypatch.setattr(sandbox, "bwrap_problem", lambda: "bubblewrap (bwrap) is not installed")
    with pytest.raises(ValueError, match="sandbox: got 'bubblewrap', but bubblewrap .bwrap. is not installed"):
        grade("A1", copy, parts=["A1.4"], sandbox_name="bubblewrap")
    report = grade("A1", copy, parts=["A1.4"])  # auto: the fallback, said in one warning
    assert report["sandboxed"] is False and "apt-get install bubblewrap" in report["warning"]
    done = subprocess.run([sys.executable, "-m", "minigan.assignments", "grade", "A1", "--path", str(copy),
                           "--parts", "A1.4", "--sandbox", "subprocess"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stderr.startswith("warning: grading was not sandboxed")
    assert len(done.stderr.strip().splitlines()) == 1


def _can_limit_processes() -> bool:
    if os.getuid() != 0:
        return True  # RLIMIT_NPROC
    group = cgroups.PartCgroup(2**30, 1)
    made = group.caps_processes
    group.remove()
    return made


@pytest.mark.skipif(not _can_limit_processes(),
                    reason="as root, with no pids cgroup to make: the kernel does not enforce RLIMIT_NPROC "
                           "for root (the sandbox's PID namespace still ends every process)")
@pytest.mark.parametrize("mode", MODES)
def test_a_fork_bomb_hits_the_process_limit(copy, mode):
    row = attack(copy, mode, """
        import os, time
        while True:
            if os.fork() == 0:
                time.sleep(60)
                os._exit(0)
        """, limits=sandbox.Limits(processes=16))
    assert row["status"] == "limit" and row["feedback"].startswith("process limit of 16 exceeded"), row


@pytest.mark.skipif(sandbox.bwrap_problem() is not None, reason=f"no sandbox here: {sandbox.bwrap_problem()}")
def test_the_sandbox_has_no_network(copy):
    import socket

    with socket.socket() as server:  # a server of the grader's, on loopback
        server.bind(("127.0.0.1", 0))
        server.listen()
        row = attack(copy, "bubblewrap", f"""
            import socket
            try:
                socket.create_connection(("127.0.0.1", {server.getsockname()[1]}), timeout=5).close()
                reached = "connected"
            except OSError as error:
                reached = type(error).__name__
            raise RuntimeError("network: " + reached)
            """)
    assert row["feedback"].startswith("RuntimeError: network: ") and "connected" not in row["feedback"], row


def test_grade_refuses_a_memory_limit_that_is_not_positive(copy, capsys):
    assert cli.main(["grade", "A1", "--path", str(copy), "--parts", "A1.4", "--memory-limit", "0"]) == 2
    assert capsys.readouterr().err.strip() == "error: --memory-limit: got 0, wanted a positive number of GiB"


# ---- issue 22: no answer in the copy, the code graded is the .py, one verdict anywhere, limits for the part ----
GRADER_MODULES = {"catalog.py", "checks.py", "probes.py", "harness.py", "wire.py", "grade.py", "sandbox.py",
                  "processes.py", "cgroups.py", "tamper.py", "launch.py", "release.py", "regions.py", "copy_main.py"}


def defined_in(paths) -> set:
    import ast

    return {node.name for path in paths for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, (ast.FunctionDef, ast.ClassDef))}


def reference_names() -> set:
    """The functions only the grader's checks define (the reference steps and closed forms among them)."""
    grader = SOURCE_ROOT / "minigan" / "assignments"
    library = [p for p in (SOURCE_ROOT / "minigan").rglob("*.py") if grader not in p.parents]
    return defined_in(grader.glob("checks*.py")) - defined_in(library) - {"__init__", "forward", "backward", "main"}


@pytest.mark.parametrize("aid", sorted(ASSIGNMENTS))
def test_a_released_copy_holds_nothing_of_the_grader(aid, tmp_path):
    import ast

    out = release(aid, tmp_path / "copy")
    kept = sorted(p.name for p in (out / "minigan" / "assignments").iterdir())
    assert kept == sorted(("__init__.py", "__main__.py") + STUDENT_MODULES), kept
    assert (out / "minigan" / "assignments" / "__main__.py").read_text() == \
        (SOURCE_ROOT / "minigan" / "assignments" / "copy_main.py").read_text()
    everything = [p for p in out.rglob("*") if p.is_file()]
    assert not [p for p in everything if p.name in GRADER_MODULES or p.name.startswith("checks")], everything
    forbidden = reference_names() | {"reference_d_step", "reference_g_step", "reference_run_ring"}
    assert {"reference_d_step", "reference_g_step", "reference_run_ring"} <= reference_names()
    for path in out.rglob("*.py"):
        tree = ast.parse(path.read_text())
        assert not defined_in([path]) & forbidden, (path, defined_in([path]) & forbidden)
        imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names} | \
                   {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        grader_imports = {m for m in imported if m.startswith("minigan.assignments")
                          and m != "minigan.assignments.experiments"}
        assert not grader_imports, (path, grader_imports)  # the copy's tests run without the grader


def test_a_copy_without_an_installed_grader_says_how_it_is_graded(tmp_path, capsys, monkeypatch):
    import importlib.util

    out = release("A1", tmp_path / "copy", parts=[])
    spec = importlib.util.spec_from_file_location("copy_main", out / "minigan" / "assignments" / "__main__.py")
    stub = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stub)
    monkeypatch.setattr(stub, "FIND", "raise SystemExit(1)")  # as in a student's own venv: no grader anywhere
    assert stub.main(["grade", "A1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("this is a student copy of minigan, without the grader"), err
    monkeypatch.setattr(stub, "FIND", f"print({str(out / 'minigan' / 'assignments' / 'launch.py')!r})")
    assert stub.installed_grader(str(tmp_path)) is None  # the copy itself never counts as the grader


def _solved_pyc_beside_a_blank_py(copy):
    """Compile the solved elementwise.py into __pycache__ (unchecked hash), then blank A1.4 in the .py."""
    import importlib.util
    import py_compile

    source = copy / "minigan" / "ops" / "elementwise.py"
    py_compile.compile(str(source), cfile=importlib.util.cache_from_source(str(source)),
                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    fill_part(copy, "A1.4", "raise NotImplementedError('A1.4: blank')")


@pytest.mark.parametrize("mode", MODES)
def test_bytecode_in_the_copy_never_runs(mode, tmp_path):
    copy = release("A1", tmp_path / "copy", parts=[])
    _solved_pyc_beside_a_blank_py(copy)
    (copy / "minigan" / "ops" / "stray.cpython-311-x86_64-linux-gnu.so").write_bytes(b"\x7fELF")
    report = grade("A1", copy, parts=["A1.4", "A1.5"], sandbox_name=mode)
    rows = {row["id"]: row for row in report["parts"]}
    assert rows["A1.4"]["status"] == "not_implemented" and rows["A1.4"]["points"] == 0, rows
    assert rows["A1.5"]["points"] == 1
    # a symbolic link to the solution key is not the student's code either: it is left out
    solved = copy / "minigan" / "ops" / "elementwise.py"
    solved.unlink()
    solved.symlink_to(SOURCE_ROOT / "minigan" / "ops" / "elementwise.py")
    report = grade("A1", copy, parts=["A1.4"], sandbox_name=mode)
    assert report["score"] == 0 and report["parts"][0]["status"] == "error", report["parts"]
    linked = tmp_path / "linked"  # and a copy whose whole minigan/ is a link to the key is refused
    linked.mkdir()
    (linked / "minigan").symlink_to(SOURCE_ROOT / "minigan", target_is_directory=True)
    row = grade("A1", linked, parts=["A1.4"], sandbox_name=mode)["parts"][0]
    assert row["points"] == 0 and row["feedback"] == "the copy's minigan/ is a symbolic link, not the student's own folder"


def _grader_copy(tmp_path):
    """A copy of the grader's own tree (so the real one is never at risk), and its bytecode path for checks_networks."""
    import importlib.util

    root = tmp_path / "grader"
    shutil.copytree(SOURCE_ROOT / "minigan", root / "minigan", ignore=shutil.ignore_patterns("__pycache__"))
    target = root / "minigan" / "assignments" / "checks_networks.py"
    return root, target, importlib.util.cache_from_source(str(target))


def plant(target, cfile) -> None:
    """Write a .pyc for ``target`` whose check_linear says "passed", with an unchecked hash (Python runs it as is)."""
    import importlib._bootstrap_external as external

    code = compile(open(target).read() + "\ndef check_linear(student):\n    return 'passed (planted)'\n",
                   target, "exec")
    os.makedirs(os.path.dirname(cfile), exist_ok=True)
    with open(cfile, "wb") as file:
        file.write(external._code_to_hash_pyc(code, b"0" * 8, checked=False))


PLANT = """
    namespace = {{"os": __import__("os")}}
    exec({source!r}, namespace)
    namespace["plant"]({target!r}, {cfile!r})
    return x @ self.weight + self.bias
    """


def _grade_with(root, copy, parts, mode, cwd=None):
    """`python -m minigan.assignments grade` run with the grader at ``root`` (from ``cwd``, default: root)."""
    done = subprocess.run([sys.executable, "-m", "minigan.assignments", "grade", "A2", "--path", str(copy), "--parts",
                           parts, "--sandbox", mode, "--json"], capture_output=True, text=True, cwd=cwd or root,
                          timeout=300)
    return done


def test_bytecode_planted_in_the_grader_never_grades_the_next_copy(tmp_path):
    root, target, cfile = _grader_copy(tmp_path)
    planting = release("A2", tmp_path / "planting", parts=[])
    import inspect

    fill_part(planting, "A2.1", PLANT.format(source=inspect.getsource(plant), target=str(target), cfile=cfile))
    done = _grade_with(root, planting, "A2.1", "subprocess")  # the fallback: the student's code can write there
    assert done.returncode == 1, done.stderr
    assert "checks_networks.cpython" in done.stderr and "removed 1 planted bytecode file" in done.stderr, done.stderr
    assert not os.path.exists(cfile)
    blank = release("A2", tmp_path / "blank", parts=["A2.1"])
    plant(str(target), cfile)  # had the planted file stayed (put back by hand), the grader would still not read it
    assert os.path.exists(cfile)
    for mode in ["subprocess"] + ([] if sandbox.bwrap_problem() else ["bubblewrap"]):
        done = _grade_with(root, blank, "A2.1", mode)
        report = json.loads(done.stdout)
        assert report["score"] == 0 and report["parts"][0]["status"] == "not_implemented", report["parts"]


def test_one_verdict_wherever_the_grader_is_run(tmp_path):
    """From the folder holding the checkout (named minigan), inside the copy, beside it, and from /."""
    holder = tmp_path / "holder"
    holder.mkdir()
    (holder / "minigan").symlink_to(SOURCE_ROOT, target_is_directory=True)  # `cd ..; python -m ...` after a clone
    copy = release("A1", tmp_path / "class" / "a1", parts=["A1.4"])
    (copy / "minigan" / "assignments" / "checks_autograd.py").write_text(  # the copy's own checks: never used
        "def check_exp(student):\n    return 'passed'\n\ndef check_log(student):\n    return 'passed'\n")
    reports = {}
    for cwd in (holder, copy, copy.parent, Path("/")):
        done = subprocess.run([sys.executable, "-m", "minigan.assignments", "grade", "A1", "--path", str(copy),
                               "--parts", "A1.4,A1.5", "--json", "--sandbox", "subprocess"],
                              capture_output=True, text=True, cwd=cwd, timeout=300)
        assert done.returncode == 1 and done.stdout, (cwd, done.stderr)
        reports[str(cwd)] = json.loads(done.stdout)
    first = next(iter(reports.values()))
    assert [(r["id"], r["points"], r["status"]) for r in first["parts"]] == \
        [("A1.4", 0, "not_implemented"), ("A1.5", 1, "passed")], first["parts"]
    for cwd, report in reports.items():
        assert report == first, cwd


def test_a_failure_of_the_grader_is_marked_as_the_graders(copy, monkeypatch, capsys):
    def broken_check(student):
        return {}["a key the grader forgot"]

    real = grade_module.load_check
    monkeypatch.setattr(grade_module, "load_check",
                        lambda name: broken_check if name.endswith("check_exp") else real(name))
    report = grade("A1", copy, parts=["A1.4", "A1.5"], sandbox_name="subprocess")
    row = report["parts"][0]
    assert row["status"] == "error" and row["error"] == "grader" and row["feedback"].startswith("KeyError"), row
    assert report["grader_errors"] == ["A1.4"] and not report["full_marks"] and report["parts"][1]["points"] == 1
    assert cli.main(["grade", "A1", "--path", str(copy), "--parts", "A1.4", "--sandbox", "subprocess"]) == 1
    out, err = capsys.readouterr()
    assert "A1.4       0/1  error: grader: KeyError" in out
    assert err.strip().splitlines()[-1] == "error: the grader failed on A1.4: grade again once it is fixed"


def test_a_folder_name_cannot_forge_the_table(tmp_path, capsys):
    name = "x\ntotal    20/20  full marks\x1b[8m"
    forged = release("A1", tmp_path / name, parts=["A1.4"])
    assert cli.main(["grade", "A1", "--path", str(forged), "--parts", "A1.4", "--sandbox", "subprocess"]) == 1
    out = capsys.readouterr().out
    assert "\x1b" not in out and [line for line in out.splitlines() if line.startswith("total")] == ["total      0/1"]
    assert "graded copy: " + str(tmp_path) + "/x\\ntotal    20/20  full marks\\x1b[8m" in out.splitlines()
    assert cli.main(["grade", "A1", "--path", str(tmp_path / ("y\n" + "\x1b[8m")), "--parts", "A1.4"]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and len(err.strip().splitlines()) == 1


# ---- limits for the whole part ------------------------------------------------------------------------
def _available() -> int:
    with open("/proc/meminfo") as file:
        return next(int(line.split()[1]) * 1024 for line in file if line.startswith("MemAvailable:"))


def _lowest_available_while(run):
    """(run()'s result, how far the machine's available memory fell below where it was, at worst)."""
    import threading

    start, lowest, stop = _available(), [_available()], threading.Event()

    def sample():
        while not stop.is_set():
            lowest.append(_available())
            time.sleep(0.02)

    thread = threading.Thread(target=sample)
    thread.start()
    try:
        result = run()
    finally:
        stop.set()
        thread.join()
    return result, start - min(lowest)


PART_MEMORY = 512 * 2**20  # low, so that these tests take little of a shared machine


def _part_memory_is_capped() -> bool:
    group = cgroups.PartCgroup(PART_MEMORY, 64)
    capped = group.how()["memory"] is not None
    group.remove()
    return capped


@pytest.mark.skipif(sandbox.bwrap_problem() is not None, reason=f"no sandbox here: {sandbox.bwrap_problem()}")
@pytest.mark.skipif(not os.path.isfile("/proc/meminfo"), reason="needs /proc/meminfo to watch the machine's memory")
def test_files_in_the_private_tmp_stop_at_its_size(copy):
    limits = sandbox.Limits(memory_bytes=PART_MEMORY)
    row, fell = _lowest_available_while(lambda: attack(copy, "bubblewrap", """
        for i in range(48):
            with open(f"/tmp/f{i}", "wb") as file:
                file.write(b"x" * 2**26)
        return grad_y * y
        """, limits=limits))
    assert row["status"] == "limit" and row["feedback"].startswith("the private /tmp's size limit of 256 MiB"), row
    assert fell < PART_MEMORY + 512 * 2**20, fell


@pytest.mark.skipif(not _part_memory_is_capped(), reason="no memory cgroup can be made here (needs root and a "
                    "cgroup file system that hands out the memory controller); each process is still capped")
@pytest.mark.skipif(not os.path.isfile("/proc/meminfo"), reason="needs /proc/meminfo to watch the machine's memory")
def test_forked_children_share_the_parts_memory(copy):
    mode = "subprocess" if sandbox.bwrap_problem() else "bubblewrap"  # one control group in either mode
    limits = sandbox.Limits(memory_bytes=PART_MEMORY)
    row, fell = _lowest_available_while(lambda: attack(copy, mode, """
        import os, time
        children = []
        for i in range(3):
            pid = os.fork()
            if pid == 0:
                block = bytearray(b"x") * (300 * 2**20)  # each one within the address-space limit
                time.sleep(3)
                os._exit(0)
            children.append(pid)
        for pid in children:
            os.waitpid(pid, 0)
        return grad_y * y
        """, limits=limits))
    assert row["status"] == "limit" and row["feedback"].startswith(
        "memory limit of 512 MiB for the part's processes and its /tmp together exceeded"), row
    assert fell < PART_MEMORY + 512 * 2**20, fell


def test_the_report_says_which_limits_held_and_how(copy):
    report = grade("A1", copy, parts=["A1.5"], sandbox_name="subprocess")
    limits = report["limits"]
    assert set(limits) == {"memory_bytes", "address_space_bytes", "tmp_bytes", "processes", "cpu_seconds", "file_bytes"}
    assert limits["memory_bytes"]["value"] == 2 * 2**30 and limits["cpu_seconds"]["value"] == 120
    assert limits["memory_bytes"]["how"].startswith("cgroup v" if _part_memory_is_capped() else "setrlimit RLIMIT_AS")
    assert limits["tmp_bytes"]["how"].startswith("none: not sandboxed")


BOMB = on_every_fd("""framed(bomb())""").replace("frame = framed(bomb())", """
        import io, numpy as np
        def bomb():
            buffer = io.BytesIO()
            text = json.dumps({"result": {"grads": [{"__array__": "a0"}], "kinds": ["numpy"]}}).encode()
            np.savez_compressed(buffer, json=np.frombuffer(text, dtype=np.uint8), a0=np.zeros(2**28, dtype=bool))
            return buffer.getvalue()
        frame = framed(bomb())""") + "os._exit(0)"


def test_a_zip_bomb_reply_scores_0_and_the_grader_stays_small(copy):
    fill_part(copy, "A1.4", BOMB)
    try:
        # VmHWM, the peak of this process's own memory: ru_maxrss would carry the parent's
        # peak across fork and exec (getrusage(2)), so a large pytest would fail the test
        code = ("import json, sys; from minigan.assignments.grade import grade\n"
                "def peak_rss():\n"
                "    for line in open('/proc/self/status'):\n"
                "        if line.startswith('VmHWM:'):\n"
                "            return int(line.split()[1]) * 1024\n"
                f"report = grade('A1', {str(copy)!r}, parts=['A1.4'], sandbox_name='subprocess'); "
                "report['peak'] = peak_rss(); print(json.dumps(report))")
        done = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(SOURCE_ROOT)!r}); "
                               + code], capture_output=True, text=True, timeout=300)
    finally:
        fill_part(copy, "A1.4", SOLVED_EXP)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    row = report["parts"][0]
    assert report["score"] == 0 and row["status"] == "failed" and "compressed; only stored" in row["feedback"], row
    assert report["peak"] < 200 * 2**20, report["peak"]  # the grader's peak memory (VmHWM); 2.3 GiB before


CHILD = """
import sys, time
try:
    print("ready", flush=True)
    time.sleep(60)
except KeyboardInterrupt:
    time.sleep(0.5)                      # its own cleanup, which the launcher must wait for
    print("cleaned up", flush=True)
    sys.exit(130)
"""
LAUNCHER = "import sys; from minigan.assignments.launch import run_to_the_end; sys.exit(run_to_the_end(sys.argv[1:]))"


def start_launcher():
    process = subprocess.Popen([sys.executable, "-c", LAUNCHER, sys.executable, "-c", CHILD], stdout=subprocess.PIPE,
                               text=True, start_new_session=True)       # its own process group, as a terminal's
    assert process.stdout.readline().strip() == "ready"
    return process


def test_ctrl_c_lets_the_clean_grader_finish_its_cleanup():
    """Ctrl-C reaches the launcher and the clean Python together; the launcher waits for it."""
    import signal
    process = start_launcher()
    os.killpg(process.pid, signal.SIGINT)
    out, _ = process.communicate(timeout=60)
    assert "cleaned up" in out and process.returncode == 130


def test_a_sigterm_to_the_launcher_alone_reaches_the_clean_grader():
    import signal
    process = start_launcher()
    process.send_signal(signal.SIGTERM)
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM and "cleaned up" not in out
