"""The grader against a student who cheats: each attack scores 0 and the grader reports in full.

Every attack is code put into one part (A1.4, Exp.backward) of an A1 copy; the copy's other
parts keep their solutions and A1.5 is graded beside it, so each test also shows that
grading goes on and the next part is judged as usual. Each runs in the bubblewrap sandbox
(skipped, with the reason, where bwrap cannot make namespaces) and in the plain-subprocess
fallback. Where the fallback cannot stop an attack (it runs with the teacher's
permissions: docs/teaching.md, "Can students cheat?"), the test says what it does instead.
"""
import os
import shutil
import subprocess
import sys
import uuid

import pytest

from minigan.assignments import __main__ as cli
from minigan.assignments import grade as grade_module
from minigan.assignments import processes, sandbox
from minigan.assignments.catalog import SOURCE_ROOT
from minigan.assignments.grade import GraderTampered, format_table, grade
from minigan.assignments.regions import fill_part
from minigan.assignments.release import release

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
    assert err[-1].startswith("error: the grader's own files changed while part A1.4 ran (assignments/checks.py")


@pytest.mark.parametrize("mode", MODES)
def test_patching_numpy_or_the_copys_checks_earns_nothing(copy, mode):
    copy_checks = copy / "minigan" / "assignments" / "checks_autograd.py"
    copy_gradcheck = copy / "minigan" / "gradcheck.py"
    saved = copy_checks.read_text(), copy_gradcheck.read_text()
    copy_checks.write_text(saved[0] + "\n\ndef check_exp(student):\n    return 'passed, honestly'\n")
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
        copy_checks.write_text(saved[0])
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
    group = processes.PidsCgroup(1)
    made = group.path is not None
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
