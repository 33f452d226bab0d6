"""Where a part's check becomes its points, status and feedback (grade.py), without a student process.

A bug here is a wrong grade for every student at once: points kept for a wrong answer, a
grader failure charged to the student, a total that is not the sum of its parts. So each
way a part can end is played here by a stand-in for the student's process (``FakeProcess``)
and a stand-in check, and the row it gives is compared field by field. Fast: no process is
started (the real processes, sandbox and limits are tests/test_grader_attacks.py's).
"""
import errno
import signal
from types import SimpleNamespace

import numpy as np
import pytest

from minigan.assignments import grade as grading
from minigan.assignments import wire
from minigan.assignments.catalog import SOURCE_ROOT, Part
from minigan.assignments.checks import CheckFailed, PartialCredit
from minigan.assignments.grade import StudentRaised, format_table, one_line, reply_budget, run_part
from minigan.assignments.sandbox import CopyRefused, Limits, StudentDied, StudentTimeout

LIMITS = Limits(memory_bytes=2**30, cpu_seconds=10.0, processes=8, file_bytes=2**20, tmp_bytes=2**21)


class FakeProcess:
    """What run_part and Student use of a StudentProcess; ``replies`` answer ``request`` in turn."""

    made = []   # every one made, newest last

    def __init__(self, copy, scratch, limits, sandboxed, hello=None, replies=(), memory=False, left=0,
                 signal_=None, status=1, last=""):
        self.copy, self.scratch, self.limits, self.sandboxed = copy, scratch, limits, sandboxed
        self.code = scratch / "copy"
        where = "/sandbox/copy" if sandboxed else str(self.code)
        self.hello = {"minigan": f"{where}/minigan/__init__.py"} if hello is None else hello
        self.replies, self.requests, self.timeouts = list(replies), [], []
        self.memory, self.processes_left, self.signal, self.status, self.last = memory, 0, signal_, status, last
        self.left, self.closed = left, False
        FakeProcess.made.append(self)

    def start(self, timeout):
        self.timeouts.append(timeout)
        return self.hello

    def request(self, probe, timeout, max_elements=wire.MAX_ELEMENTS, **inputs):
        self.timeouts.append(timeout)
        self.requests.append((probe, max_elements, inputs))
        return self.replies.pop(0)

    def memory_exceeded(self):
        return self.memory

    def exit_signal(self):
        return self.signal

    def exit_status(self):
        return self.status

    def last_stderr_line(self):
        return self.last

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.processes_left, self.closed = self.left, True


def part_row(check, monkeypatch, points=4, time_limit=7.0, sandboxed=False, **process):
    """run_part's row for a part worth ``points`` graded by ``check(student)``."""
    monkeypatch.setattr(grading, "StudentProcess", lambda *a: FakeProcess(*a, **process))
    monkeypatch.setattr(grading, "load_check", lambda name: check)
    part = Part("A9.1", "the part", points, "checks_x:check_y", "hint")
    return run_part(part, SOURCE_ROOT, time_limit, LIMITS, sandboxed)


def raising(error):
    def check(student):
        raise error
    return check


# ---- a check's verdict -> the part's row ---------------------------------------------------------------
def test_a_passing_check_gives_every_point_and_its_feedback_line(monkeypatch):
    row = part_row(lambda student: "all right\nreally", monkeypatch, points=4)
    assert row == {"id": "A9.1", "title": "the part", "points": 4, "max_points": 4, "status": "passed",
                   "feedback": "all right\\nreally", "processes_left": 0}
    process = FakeProcess.made[-1]
    assert process.closed and process.sandboxed is False and process.copy == SOURCE_ROOT
    assert process.scratch.name.startswith("minigan-grade-A9.1-") and not process.scratch.exists()   # removed after


def test_a_passing_check_whose_feedback_is_not_a_string_still_gives_one_line(monkeypatch):
    assert part_row(lambda student: 12, monkeypatch)["feedback"] == "12"


def test_a_failed_check_gives_no_point_and_says_why(monkeypatch):
    row = part_row(raising(CheckFailed("d loss / d w: mismatch")), monkeypatch, points=3)
    assert (row["status"], row["points"], row["max_points"], row["feedback"]) == \
        ("failed", 0, 3, "d loss / d w: mismatch")


@pytest.mark.parametrize("points, kept", [(1, 0), (2, 1), (3, 2), (4, 2)])
def test_partial_credit_keeps_the_rest_of_the_points(points, kept, monkeypatch):
    row = part_row(raising(PartialCredit("not float32-exact", 0.5)), monkeypatch, points=points)
    assert row["points"] == kept and row["status"] == ("partial" if kept else "failed")
    lost = points - kept
    assert row["feedback"] == f"loses {lost} of its {points} point{'s' if points != 1 else ''}: not float32-exact"


def test_a_failure_of_the_grader_costs_the_student_nothing_and_is_marked(monkeypatch):
    row = part_row(raising(KeyError("weights")), monkeypatch, points=2)
    assert (row["status"], row["error"], row["points"]) == ("error", "grader", 0)
    assert row["feedback"] == ("KeyError: 'weights' (a failure of the grader, not of the student's code: "
                               "grade this part again)")


def test_a_timeout_scores_0_and_names_the_limit(monkeypatch):
    row = part_row(raising(StudentTimeout()), monkeypatch, time_limit=7.5)
    assert (row["status"], row["points"]) == ("timeout", 0)
    assert row["feedback"] == "stopped after the time limit of 7.5 s (an infinite loop, or far too slow)"


def test_a_malformed_reply_or_a_refused_copy_fails_the_part(monkeypatch):
    row = part_row(raising(wire.WireError("truncated")), monkeypatch)
    assert (row["status"], row["points"]) == ("failed", 0)
    assert row["feedback"] == "the student's process sent a malformed reply: truncated"
    row = part_row(raising(CopyRefused("the copy holds a link")), monkeypatch)
    assert (row["status"], row["points"], row["feedback"]) == ("failed", 0, "the copy holds a link")
    assert "error" not in row


def test_memory_over_the_limit_takes_the_points_even_of_a_pass(monkeypatch):
    row = part_row(lambda student: "fine", monkeypatch, memory=True, points=3)
    assert (row["status"], row["points"], row["feedback"]) == ("limit", 0, LIMITS.describe("memory of the part"))
    row = part_row(raising(KeyError("x")), monkeypatch, memory=True)   # but a grader failure stays the grader's
    assert (row["status"], row["error"]) == ("error", "grader")


def test_processes_that_could_not_be_killed_are_counted_and_warned_of(monkeypatch):
    row = part_row(lambda student: "fine", monkeypatch, left=2, points=1)
    assert row["processes_left"] == 2 and row["points"] == 1
    assert row["feedback"] == "fine [warning: 2 of its processes could not be killed]"


def test_feedback_is_cut_to_one_line_of_at_most_500_characters(monkeypatch):
    row = part_row(raising(CheckFailed("x" * 600)), monkeypatch)
    assert row["feedback"] == "x" * 497 + "..."
    assert one_line("y" * 500) == "y" * 500 and one_line("y" * 501) == "y" * 497 + "..."
    assert one_line("a\tb\x1b", 10) == "a\\tb\\x1b" and one_line(None) == "None"
    assert one_line("abcdef", 5) == "ab..."
    assert one_line("é\\'\"") == "é\\'\""   # printable: as it is (only control characters are escaped)


# ---- what the student's process says about an exception --------------------------------------------------
def raised_row(info, monkeypatch):
    return part_row(raising(StudentRaised(info)), monkeypatch)


def test_an_exception_in_the_students_code_scores_0_with_its_type_message_and_place(monkeypatch):
    row = raised_row({"type": "ValueError", "message": "bad shape", "where": " (at ops.py:3)"}, monkeypatch)
    assert (row["status"], row["points"], row["feedback"]) == ("error", 0, "ValueError: bad shape (at ops.py:3)")
    assert "error" not in row or row["error"] != "grader"
    assert raised_row({"type": "ValueError", "where": " (at x)"}, monkeypatch)["feedback"] == "ValueError (at x)"
    assert raised_row({}, monkeypatch)["feedback"] == "an exception the student's process did not describe"
    assert raised_row("not a dict", monkeypatch)["feedback"] == "an exception the student's process did not describe"


def test_each_field_of_a_raised_exception_is_cut_to_its_own_length(monkeypatch):
    row = raised_row({"type": "T" * 150, "message": "m" * 600, "where": "w" * 300}, monkeypatch)
    assert row["feedback"] == one_line(f"{'T' * 97}...: {'m' * 417}...{'w' * 197}...")   # then to 500 in all
    info = {"type": "T" * 101, "message": "m" * 421, "where": "w" * 201}
    assert grading._raised(info, LIMITS)["feedback"] == f"{'T' * 97}...: {'m' * 417}...{'w' * 197}..."
    info = {"type": "T" * 100, "message": "m" * 420, "where": "w" * 200}
    assert grading._raised(info, LIMITS)["feedback"] == f"{'T' * 100}: {'m' * 420}{'w' * 200}"


def test_an_unfinished_part_is_not_implemented(monkeypatch):
    row = raised_row({"type": "NotImplementedError", "message": "A1.3: which axes?", "where": " (ops.py:9)"},
                     monkeypatch)
    assert (row["status"], row["points"], row["feedback"]) == ("not_implemented", 0, "A1.3: which axes? (ops.py:9)")


def test_a_copy_that_does_not_import_is_an_error_of_the_copy(monkeypatch):
    info = {"type": "SyntaxError", "message": "invalid syntax", "where": " (nn.py:1)", "stage": "import"}
    row = raised_row(info, monkeypatch)
    assert (row["status"], row["feedback"]) == ("error", "import minigan failed: SyntaxError: invalid syntax (nn.py:1)")
    row = raised_row({**info, "type": "NotImplementedError"}, monkeypatch)   # the import stage comes first
    assert row["status"] == "error" and row["feedback"].startswith("import minigan failed: NotImplementedError")


@pytest.mark.parametrize("info, what", [
    ({"type": "MemoryError", "where": " (x)"}, "memory"),
    ({"type": "OSError", "errno": errno.EFBIG, "where": " (x)"}, "file"),
    ({"type": "OSError", "errno": errno.ENOSPC, "where": " (x)"}, "tmp"),
    ({"type": "BlockingIOError", "errno": errno.EAGAIN, "where": " (x)"}, "processes"),
])
def test_a_limit_reached_from_inside_is_a_limit_with_the_limit_named(info, what, monkeypatch):
    row = raised_row(info, monkeypatch)
    assert (row["status"], row["points"]) == ("limit", 0)
    assert row["feedback"] == f"{LIMITS.describe(what)} ({info['type']} (x))"


def test_eagain_is_the_process_limit_only_from_fork(monkeypatch):
    row = raised_row({"type": "OSError", "errno": errno.EAGAIN, "message": "try again"}, monkeypatch)
    assert (row["status"], row["feedback"]) == ("error", "OSError: try again")


# ---- a student process that died before it answered --------------------------------------------------
@pytest.mark.parametrize("number, what", [(signal.SIGXCPU, "cpu"), (signal.SIGXFSZ, "file")])
def test_a_process_killed_by_a_limit_signal_is_a_limit(number, what, monkeypatch):
    row = part_row(raising(StudentDied()), monkeypatch, signal_=number)
    assert (row["status"], row["points"], row["feedback"]) == ("limit", 0, LIMITS.describe(what))


def test_a_process_that_died_says_how_and_its_last_words(monkeypatch):
    row = part_row(raising(StudentDied()), monkeypatch, signal_=int(signal.SIGSEGV), last="Segmentation fault")
    assert (row["status"], row["points"]) == ("error", 0)
    assert row["feedback"] == f"the student's process died (signal {int(signal.SIGSEGV)}): Segmentation fault"
    row = part_row(raising(StudentDied()), monkeypatch, status=3)
    assert row["feedback"] == "the student's process died (exit status 3)"
    row = part_row(raising(StudentDied()), monkeypatch, status=None)
    assert (row["status"], row["points"]) == ("error", 0)
    assert row["feedback"] == "the student's process closed its channel to the grader before answering"


# ---- what a check sees of the student --------------------------------------------------------------------
def test_the_student_is_asked_with_the_time_left_and_a_reply_budget(monkeypatch):
    clock = SimpleNamespace(now=100.0)
    monkeypatch.setattr(grading, "time", SimpleNamespace(monotonic=lambda: clock.now))
    answers = [{"result": 1}, {"result": {"y": 2}}, {"result": 3}]
    process = FakeProcess(SOURCE_ROOT, SOURCE_ROOT, LIMITS, False, replies=answers)
    process.request = lambda probe, timeout, max_elements, **inputs: (
        process.timeouts.append(timeout), process.requests.append((probe, max_elements, inputs)),
        setattr(clock, "now", clock.now + 2.0), process.replies.pop(0))[-1]
    student = grading.Student(process, 5.0)
    assert student.remaining() == 5.0
    assert student.run("mul", a=np.zeros(3)) == 1 and student.remaining() == 3.0
    assert student.run("sum", a=np.zeros((2**19 + 1, 2))) == {"y": 2}
    assert student.run("sum") == 3
    assert process.timeouts == [5.0, 3.0, 1.0] and student.waited == 6.0
    assert [r[1] for r in process.requests] == [2**20, 4 * (2**20 + 2), 2**20]
    assert process.requests[0][0] == "mul" and process.requests[0][2]["a"].shape == (3,)
    process.replies.append({"result": 4})
    assert student.run("sum") == 4 and process.timeouts[-1] == 0.0   # past the limit: no time, not a negative one


def test_a_reply_that_is_neither_result_nor_error_fails_the_part():
    for reply in ([1], {"results": 1}, {}, "result"):
        student = grading.Student(FakeProcess(SOURCE_ROOT, SOURCE_ROOT, LIMITS, False, replies=[reply]), 5.0)
        with pytest.raises(CheckFailed, match="neither a result nor an error"):
            student.run("mul")
    student = grading.Student(FakeProcess(SOURCE_ROOT, SOURCE_ROOT, LIMITS, False,
                                          replies=[{"error": {"type": "ValueError"}, "result": 1}]), 5.0)
    with pytest.raises(StudentRaised) as raised:   # an error wins over a result sent with it
        student.run("mul")
    assert raised.value.info == {"type": "ValueError"}
    student = grading.Student(FakeProcess(SOURCE_ROOT, SOURCE_ROOT, LIMITS, False, replies=[{"result": None}]), 5.0)
    assert student.run("mul") is None
    student = grading.Student(FakeProcess(SOURCE_ROOT, SOURCE_ROOT, LIMITS, False,
                                          replies=[{"error": {"type": "KeyError"}}]), 5.0)
    with pytest.raises(StudentRaised) as raised:   # an error alone: the student's exception, not a malformed reply
        student.run("mul")
    assert raised.value.info == {"type": "KeyError"} and str(raised.value) == "{'type': 'KeyError'}"


def test_reply_budget_counts_every_array_sent_however_deep():
    assert reply_budget({}) == 2**20
    assert reply_budget({"a": np.zeros(2**18 + 1)}) == 2**20 + 4
    nested = {"a": [np.zeros(2**18), (np.zeros(2**17), {"b": np.float64(1.0)})], "c": 3.0, "d": "text"}
    assert reply_budget(nested) == 4 * (2**18 + 2**17 + 1)
    assert reply_budget({"a": np.zeros(2**22)}) == wire.MAX_ELEMENTS   # never more than a message may hold


def test_the_student_must_import_the_copy_it_was_given(monkeypatch):
    for sandboxed, where in ((False, None), (True, "/sandbox/copy")):
        process = FakeProcess(SOURCE_ROOT, SOURCE_ROOT / "scratch", LIMITS, sandboxed)
        grading.Student(process, 5.0).start()   # its own minigan: accepted
        assert process.timeouts == [5.0]
        copy = where or str(process.code)
        for found in (f"{copy}-sibling/minigan/__init__.py", f"/elsewhere{copy}/minigan/__init__.py", copy, None):
            process.hello = {"minigan": found}
            with pytest.raises(CheckFailed, match=r"^import minigan found .*, not the copy in "):
                grading.Student(process, 5.0).start()


def test_a_hello_with_an_error_is_the_students_exception():
    process = FakeProcess(SOURCE_ROOT, SOURCE_ROOT, LIMITS, False, hello={"error": {"type": "ImportError"}})
    with pytest.raises(StudentRaised) as raised:
        grading.Student(process, 5.0).start()
    assert raised.value.info == {"type": "ImportError"}
    process.hello = ["not", "a", "dict"]
    with pytest.raises(StudentRaised) as raised:
        grading.Student(process, 5.0).start()
    assert raised.value.info == {}


# ---- the parts' rows -> the report's total -----------------------------------------------------------
def graded(monkeypatch, verdicts, **kwargs):
    """grade("A1", ...) with each part's check replaced by ``verdicts[part id]`` (a string passes,
    an exception is raised); no student process, no tamper fingerprint."""
    parts = {p.id: p for p in grading.find_assignment("A1").parts}
    monkeypatch.setattr(grading, "StudentProcess", lambda *a: FakeProcess(*a))
    monkeypatch.setattr(grading.tamper, "fingerprint", lambda files, own: {})
    monkeypatch.setattr(grading.tamper, "check", lambda before, own, part: before)
    times = []

    def load(name):
        part = next(p for p in parts.values() if p.check == name)

        def check(student):
            times.append((part.id, student.time_limit))
            verdict = verdicts.get(part.id, "fine")
            if isinstance(verdict, Exception):
                raise verdict
            return verdict
        return check
    monkeypatch.setattr(grading, "load_check", load)
    report = grading.grade("A1", **{"sandbox_name": "subprocess", **kwargs})
    return report, times


def test_the_score_is_the_sum_of_the_parts_and_full_marks_needs_every_point(monkeypatch):
    report, _ = graded(monkeypatch, {})
    assert report["score"] == report["max_score"] == 20 and report["full_marks"]
    assert [row["id"] for row in report["parts"]] == [f"A1.{i}" for i in range(1, 9)]
    assert report["assignment"] == "A1" and report["title"].startswith("Autograd")
    assert report["sandboxed"] is False and report["sandbox"] == "subprocess" and report["grader_errors"] == []
    assert report["warning"] == "grading was not sandboxed (sandbox='subprocess' was asked for)"
    assert report["path"] == str(SOURCE_ROOT) and report["limits"]["memory_bytes"]["value"] == Limits().memory_bytes
    report, _ = graded(monkeypatch, {"A1.2": PartialCredit("float32", 0.5), "A1.8": CheckFailed("wrong")})
    assert (report["score"], report["max_score"], report["full_marks"]) == (20 - 1 - 6, 20, False)


def test_a_grader_failure_is_listed_and_is_never_full_marks(monkeypatch):
    report, _ = graded(monkeypatch, {"A1.4": KeyError("x")}, parts=["a1.4", "A1.5"])
    assert [row["id"] for row in report["parts"]] == ["A1.4", "A1.5"]
    assert (report["score"], report["max_score"], report["grader_errors"]) == (0 + 1, 2, ["A1.4"])
    assert not report["full_marks"]
    report, _ = graded(monkeypatch, {}, parts=["A1.4", "A1.5"])
    assert (report["score"], report["max_score"], report["full_marks"]) == (2, 2, True)


def test_grade_gives_each_part_the_time_limit_and_twice_it_of_cpu(monkeypatch):
    made = len(FakeProcess.made)
    _, times = graded(monkeypatch, {}, parts=["A1.1"], time_limit=2.5)
    assert times == [("A1.1", 2.5)] and FakeProcess.made[made].limits.cpu_seconds == 5.0
    _, times = graded(monkeypatch, {}, parts=["A1.1"], time_limit=2.2)
    assert FakeProcess.made[-1].limits.cpu_seconds == 5.0   # rounded up to whole seconds
    _, times = graded(monkeypatch, {}, parts=["A1.1"])
    assert times == [("A1.1", grading.find_assignment("A1").time_limit)]
    _, times = graded(monkeypatch, {}, parts=["A1.1"], limits=Limits(cpu_seconds=3.0))
    assert FakeProcess.made[-1].limits.cpu_seconds == 3.0


def test_grade_checks_its_own_files_after_every_part(monkeypatch):
    """The fingerprint of the grader's own minigan before the first part, checked after each part
    against the one the check before returned (tamper.py does the comparing)."""
    calls = []
    monkeypatch.setattr(grading.tamper, "watched_files", lambda own: calls.append(("watched", own)) or {"files"})
    report, _ = graded(monkeypatch, {}, parts=["A1.1", "A1.2"])
    monkeypatch.setattr(grading.tamper, "fingerprint", lambda files, own: calls.append(("fingerprint", files, own))
                        or "fingerprint 0")
    monkeypatch.setattr(grading.tamper, "check", lambda before, own, part: calls.append(("check", before, own, part))
                        or f"fingerprint {part}")
    own = SOURCE_ROOT / "minigan"
    calls.clear()
    grading.grade("A1", parts=["A1.1", "A1.2"], sandbox_name="subprocess")
    assert calls == [("watched", own), ("fingerprint", {"files"}, own), ("check", "fingerprint 0", own, "A1.1"),
                     ("check", "fingerprint A1.1", own, "A1.2")]


class FakeGroup:
    made = []

    def __init__(self, memory_bytes, processes):
        self.args, self.removed = (memory_bytes, processes), False
        FakeGroup.made.append(self)

    def how(self):
        return {"memory": f"a cap of {self.args[0]}", "processes": f"a cap of {self.args[1]}"}

    def remove(self):
        self.removed = True


def test_a_sandboxed_grading_says_so_and_reports_the_limits_it_could_enforce(monkeypatch, tmp_path):
    (tmp_path / "minigan").mkdir()
    (tmp_path / "minigan" / "__init__.py").write_text("")
    monkeypatch.setattr(grading.sandbox, "bwrap_problem", lambda: None)
    monkeypatch.setattr(grading.cgroups, "PartCgroup", FakeGroup)
    limits = Limits(memory_bytes=2**30, processes=9)
    report, _ = graded(monkeypatch, {}, parts=["A1.1"], path=tmp_path, limits=limits, sandbox_name="auto")
    assert report["path"] == str(tmp_path.resolve()) and FakeProcess.made[-1].copy == tmp_path.resolve()
    assert report["sandboxed"] is True and report["sandbox"] == "bubblewrap" and report["warning"] is None
    assert FakeProcess.made[-1].sandboxed is True and report["full_marks"]
    assert FakeGroup.made[-1].args == (2**30, 9) and FakeGroup.made[-1].removed
    group_how = FakeGroup.made[-1].how()
    assert report["limits"] == grading.replace(limits, cpu_seconds=120.0).enforced(True, group_how)
    assert report["limits"]["tmp_bytes"]["value"] == limits.tmp_bytes   # (None when not sandboxed)


def test_grade_is_sandboxed_where_it_can_be_by_default(monkeypatch):
    graded(monkeypatch, {}, parts=["A1.1"])   # the stand-ins
    monkeypatch.setattr(grading, "choose_sandbox", lambda name: (False, f"asked for {name}"))
    assert grading.grade("A1", parts=["A1.1"])["warning"] == "asked for auto"


def test_grade_takes_a_time_limit_under_a_second(monkeypatch):
    _, times = graded(monkeypatch, {}, parts=["A1.1"], time_limit=0.5)
    assert times == [("A1.1", 0.5)] and FakeProcess.made[-1].limits.cpu_seconds == 1.0


@pytest.mark.parametrize("kwargs, words", [
    ({"parts": ["A1.9", "A2.1"]}, r"^parts: got \['A1.9', 'A2.1'\], wanted parts of A1: A1.1, "),
    ({"time_limit": 0}, r"^time_limit: got 0, wanted a positive number of seconds"),
    ({"time_limit": -1}, r"^time_limit: got -1, wanted"),
    ({"time_limit": float("inf")}, r"^time_limit: got inf, wanted"),
    ({"time_limit": float("nan")}, r"^time_limit: got nan, wanted"),
])
def test_grade_refuses_parts_and_time_limits_it_cannot_use(kwargs, words, monkeypatch):
    with pytest.raises(ValueError, match=words):
        graded(monkeypatch, {}, **kwargs)


def test_choose_sandbox(monkeypatch):
    monkeypatch.setattr(grading.sandbox, "bwrap_problem", lambda: None)
    assert grading.choose_sandbox("auto") == (True, None) and grading.choose_sandbox("bubblewrap") == (True, None)
    monkeypatch.setattr(grading.sandbox, "bwrap_problem", lambda: "no bwrap")
    sandboxed, warning = grading.choose_sandbox("auto")
    assert not sandboxed and warning == f"grading was not sandboxed: no bwrap; {grading.sandbox.INSTALL_HINT}"
    with pytest.raises(ValueError, match="^sandbox: got 'bubblewrap', but no bwrap; "):
        grading.choose_sandbox("bubblewrap")
    with pytest.raises(ValueError, match="^sandbox: got 'docker', wanted one of auto, bubblewrap, subprocess"):
        grading.choose_sandbox("docker")


def test_check_root_wants_a_minigan_package(tmp_path):
    assert grading.check_root(SOURCE_ROOT) == SOURCE_ROOT
    (tmp_path / "minigan").mkdir()
    with pytest.raises(ValueError, match="^path: got .*, wanted a folder holding a minigan/ package"):
        grading.check_root(tmp_path)
    (tmp_path / "minigan" / "__init__.py").write_text("")
    assert grading.check_root(tmp_path / "minigan" / "..") == tmp_path.resolve()


def test_load_check_finds_the_graders_own_function():
    from minigan.assignments import checks_autograd
    assert grading.load_check("checks_autograd:check_mul") is checks_autograd.check_mul


# ---- the table ---------------------------------------------------------------------------------------
def test_the_table_shows_each_part_its_status_and_the_total():
    report = {"assignment": "A1", "title": "Autograd", "path": "/copy", "score": 3, "max_score": 5,
              "full_marks": False, "parts": [
                  {"id": "A1.1", "points": 2, "max_points": 2, "status": "passed", "feedback": "fine"},
                  {"id": "A1.2", "points": 1, "max_points": 2, "status": "not_implemented", "feedback": "w " * 30},
                  {"id": "A1.3", "points": 0, "max_points": 1, "status": "error", "error": "grader",
                   "feedback": "KeyError"}]}
    assert format_table(report, width=50).splitlines() == [
        "A1: Autograd", "graded copy: /copy", "",
        "part    points  feedback",
        "A1.1       2/2  passed: fine",
        "A1.2       1/2  not implemented: w w w w w w w w w",   # 50 characters: the width
        "                w w w w w w w w w w w w w w w w w",
        "                w w w w",
        "A1.3       0/1  error: grader: KeyError",
        "total      3/5"]
    report.update(score=5, full_marks=True)
    assert format_table(report).splitlines()[-1] == "total      5/5  full marks"


def test_the_table_is_100_wide_keeps_hyphenated_words_whole_and_cuts_what_it_shows():
    row = {"id": "A1.1", "points": 2, "max_points": 2, "status": "passed", "feedback": "a" * 75 + " b"}
    report = {"assignment": "A1", "title": "T", "path": "/copy", "score": 2, "max_score": 2, "full_marks": True,
              "parts": [row]}
    assert [len(line) for line in format_table(report).splitlines()[4:6]] == [16 + 83, 16 + 1]   # 85 > 84 columns
    row["feedback"] = "a" * 74 + " b"
    assert len(format_table(report).splitlines()[4]) == 100
    row["feedback"] = "x" * 20 + " non-saturating, -1e-05"   # a hyphenated word stays whole ("non-" would fit)
    assert format_table(report, width=50).splitlines()[4:6] == ["A1.1       2/2  passed: " + "x" * 20,
                                                               " " * 16 + "non-saturating, -1e-05"]
    row["id"] = "ABCDEFGHIJKL"
    assert format_table(report).splitlines()[4].startswith("ABCDE...     2/2  passed")
    report["path"] = "/" + "p" * 11999   # a path is shown whole up to 10,000 characters
    assert format_table(report).splitlines()[1] == "graded copy: " + report["path"][:9997] + "..."
    report["path"] = "/" + "p" * 999
    assert format_table(report).splitlines()[1] == "graded copy: " + report["path"]
