"""Grade a copy of minigan: the student's code in a sandbox, every verdict in the grader.

For each part, the grader (this process, with its own minigan) makes the inputs, starts
one sandboxed student process for the part (sandbox.py; it runs harness.py), and runs the
part's check. The check asks the student process for raw results (probes.py), computes
the expected ones itself, and compares them here. Nothing the student's process says
about itself is believed: a forged verdict is just a malformed reply, and a malformed,
missing, oversized or late reply fails that part with one line saying why.

The student process never imports the grader and the grader never imports the student's
code. A part that never returns is stopped by its time limit, a crash or a NaN fails that
part only, and when a part ends, every process it started is killed (and that is checked).
The checks are seeded and each student process runs NumPy on one thread, so the same copy
always gets the same grade and the same feedback. A failure of the grader itself (an
exception in a check that is not its verdict) takes no point from the student: the part
is marked ``"error": "grader"`` and the command exits 1. After each part the grader checks
that its own files, bytecode included, are as they were (tamper.py).

The report is a dict (``--json`` prints it as is)::

    {"assignment": "A2", "title": "...", "path": "/abs/path", "score": 17, "max_score": 20,
     "full_marks": false, "sandboxed": true, "sandbox": "bubblewrap", "grader_errors": [],
     "limits": {"memory_bytes": {"value": 2147483648, "how": "cgroup v2 memory.max, ..."}, ...},
     "parts": [{"id": "A2.1", "title": "Linear.forward", "points": 2, "max_points": 2,
                "status": "passed", "feedback": "...", "processes_left": 0}, ...]}

status: "passed" | "partial" (some points lost, the feedback says which) | "failed" |
"not_implemented" | "error" | "limit" | "timeout".
"""
from __future__ import annotations

import errno
import importlib
import math
import signal
import tempfile
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from minigan.assignments import cgroups, processes, sandbox, tamper, wire
from minigan.assignments.catalog import SOURCE_ROOT
from minigan.assignments.catalog import assignment as find_assignment
from minigan.assignments.checks import CheckFailed
from minigan.assignments.sandbox import CopyRefused, Limits, StudentDied, StudentProcess, StudentTimeout
from minigan.assignments.tamper import GraderTampered
from minigan.assignments.wire import WireError

FEEDBACK_CHARS = 500   # the longest feedback line a part gets (the longest hint is about 400)
SANDBOXES = ("auto", "bubblewrap", "subprocess")


class StudentRaised(Exception):
    """The student's code raised; ``info`` is {"type", "message", "where"} as its process sent it."""

    def __init__(self, info):
        super().__init__(str(info))
        self.info = info if isinstance(info, dict) else {}


def one_line(text, limit: int = FEEDBACK_CHARS) -> str:
    """``text`` as one printable line: control characters escaped, at most ``limit`` characters."""
    text = str(text)
    text = "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)
    return text if len(text) <= limit else text[:limit - 3] + "..."


class Student:
    """What a check sees of the student: ``run(probe, **inputs)`` returns that probe's raw result."""

    def __init__(self, process: StudentProcess, time_limit: float):
        self.process, self.time_limit, self.waited = process, time_limit, 0.0

    def remaining(self) -> float:
        return self.time_limit - self.waited

    def _timed(self, call):
        start = time.monotonic()
        try:
            return call(max(0.0, self.remaining()))
        finally:
            self.waited += time.monotonic() - start

    def start(self) -> None:
        hello = self._timed(self.process.start)
        if not isinstance(hello, dict) or "error" in hello:
            raise StudentRaised(hello.get("error") if isinstance(hello, dict) else None)
        copy = "/sandbox/copy" if self.process.sandboxed else str(self.process.code)
        if not str(hello.get("minigan", "")).startswith(copy + "/"):
            raise CheckFailed(f"import minigan found {one_line(hello.get('minigan'), 200)}, not the copy in "
                              f"{self.process.copy}")

    def run(self, probe: str, **inputs):
        budget = reply_budget(inputs)
        reply = self._timed(lambda timeout: self.process.request(probe, timeout, max_elements=budget, **inputs))
        if not isinstance(reply, dict) or not ({"result"} <= set(reply) or {"error"} <= set(reply)):
            raise CheckFailed("the student's process sent a reply that is neither a result nor an error")
        if "error" in reply:
            raise StudentRaised(reply["error"])
        return reply["result"]


def reply_budget(inputs) -> int:
    """The most array elements a reply may declare: 2**20, or four times what the request sent."""
    sent = [0]

    def count(v):
        if isinstance(v, (np.ndarray, np.generic)):
            sent[0] += np.size(v)
        elif isinstance(v, dict):
            for x in v.values():
                count(x)
        elif isinstance(v, (list, tuple)):
            for x in v:
                count(x)

    count(inputs)
    return int(min(wire.MAX_ELEMENTS, max(2**20, 4 * sent[0])))


def check_root(path) -> Path:
    root = Path(path).expanduser().resolve()
    if not (root / "minigan" / "__init__.py").is_file():
        raise ValueError(f"path: got {str(path)!r}, wanted a folder holding a minigan/ package (a student copy)")
    return root


def load_check(name: str):
    """"checks_autograd:check_mul" -> the grader's own function (never the copy's)."""
    module, function = name.split(":")
    return getattr(importlib.import_module(f"minigan.assignments.{module}"), function)


def run_part(part, root: Path, time_limit: float, limits: Limits, sandboxed: bool) -> dict:
    """Grade one part against the copy at ``root``; return its row of the report."""
    row = {"id": part.id, "title": part.title, "points": 0, "max_points": part.points}
    check = load_check(part.check)
    with tempfile.TemporaryDirectory(prefix=f"minigan-grade-{part.id}-") as scratch:
        process = StudentProcess(root, Path(scratch), limits, sandboxed)
        with process:
            student = Student(process, time_limit)
            try:
                student.start()
                feedback = check(student)
                row.update(status="passed", feedback=str(feedback), points=part.points)
            except CheckFailed as failure:  # PartialCredit keeps some points
                kept = failure.points_kept(part.points)
                row.update(status="partial" if kept else "failed", feedback=failure.feedback(part.points),
                           points=kept)
            except StudentRaised as raised:
                row.update(_raised(raised.info, limits))
            except StudentTimeout:
                row.update(status="timeout", feedback=f"stopped after the time limit of {time_limit:g} s "
                                                      "(an infinite loop, or far too slow)")
            except StudentDied:
                row.update(_died(process, limits))
            except WireError as error:
                row.update(status="failed", feedback=f"the student's process sent a malformed reply: {error}")
            except CopyRefused as error:
                row.update(status="failed", feedback=str(error))
            except Exception as error:  # the grader's own failure: no point is the student's to lose
                row.update(status="error", error="grader", feedback=f"{type(error).__name__}: {error} (a failure "
                           "of the grader, not of the student's code: grade this part again)")
            if process.memory_exceeded() and row.get("error") != "grader":
                row.update(status="limit", points=0, feedback=limits.describe("memory of the part"))
        row["processes_left"] = process.processes_left
        if process.processes_left:
            row["feedback"] += f" [warning: {process.processes_left} of its processes could not be killed]"
    row["feedback"] = one_line(row["feedback"])
    return row


def _raised(info: dict, limits: Limits) -> dict:
    """The row for an exception the student's code raised, from what its process said of it."""
    kind, message, where = (one_line(info.get(key, ""), limit) for key, limit in
                            (("type", 100), ("message", 420), ("where", 200)))
    kind = kind or "an exception the student's process did not describe"
    if info.get("stage") == "import":  # the copy's minigan did not even import
        return {"status": "error", "feedback": f"import minigan failed: {kind}: {message}{where}"}
    if kind == "NotImplementedError":
        return {"status": "not_implemented", "feedback": f"{message}{where}"}
    if kind == "MemoryError":
        return {"status": "limit", "feedback": f"{limits.describe('memory')} (MemoryError{where})"}
    if info.get("errno") == errno.EFBIG:  # Python ignores SIGXFSZ: the write fails instead
        return {"status": "limit", "feedback": f"{limits.describe('file')} ({kind}{where})"}
    if info.get("errno") == errno.ENOSPC:  # the private /tmp is full
        return {"status": "limit", "feedback": f"{limits.describe('tmp')} ({kind}{where})"}
    if info.get("errno") == errno.EAGAIN and kind == "BlockingIOError":
        return {"status": "limit", "feedback": f"{limits.describe('processes')} ({kind}{where})"}
    return {"status": "error", "feedback": f"{kind}: {message}{where}" if message else f"{kind}{where}"}


def _died(process: StudentProcess, limits: Limits) -> dict:
    """The row for a student process that ended before it answered."""
    number = process.exit_signal()
    if number == signal.SIGXCPU:
        return {"status": "limit", "feedback": limits.describe("cpu")}
    if number == signal.SIGXFSZ:
        return {"status": "limit", "feedback": limits.describe("file")}
    last = process.last_stderr_line()
    if process.exit_status() is None:
        return {"status": "error", "feedback": "the student's process closed its channel to the grader before "
                                              "answering"}
    how = f"signal {number}" if number else f"exit status {process.exit_status()}"
    return {"status": "error", "feedback": f"the student's process died ({how}){': ' + last if last else ''}"}


def choose_sandbox(sandbox_name: str) -> tuple:
    """(sandboxed, warning or None) for ``sandbox=`` "auto", "bubblewrap" or "subprocess"."""
    if sandbox_name not in SANDBOXES:
        raise ValueError(f"sandbox: got {sandbox_name!r}, wanted one of {', '.join(SANDBOXES)}")
    if sandbox_name == "subprocess":
        return False, "grading was not sandboxed (sandbox='subprocess' was asked for)"
    problem = sandbox.bwrap_problem()
    if problem is None:
        return True, None
    if sandbox_name == "bubblewrap":
        raise ValueError(f"sandbox: got 'bubblewrap', but {problem}; {sandbox.INSTALL_HINT}")
    return False, f"grading was not sandboxed: {problem}; {sandbox.INSTALL_HINT}"


def grade(name: str, path=None, parts=None, time_limit: float | None = None, limits: Limits | None = None,
          sandbox_name: str = "auto") -> dict:
    """Grade assignment ``name`` on the copy at ``path`` (default: the running minigan's folder).

    parts         optional list of part ids to grade (the others are left out of the report)
    time_limit    seconds per part (default: the assignment's, 60 s unless the catalog says more)
    limits        memory, CPU, process and file-size limits for each part (default: Limits())
    sandbox_name  "auto" (bubblewrap where it works, else a plain subprocess and a warning),
                  "bubblewrap" (refuse to grade without it) or "subprocess"
    """
    chosen = find_assignment(name)
    root = check_root(SOURCE_ROOT if path is None else path)
    wanted = [p.id for p in chosen.parts] if parts is None else [str(p).upper() for p in parts]
    unknown = [p for p in wanted if p not in {q.id for q in chosen.parts}]
    if unknown:
        raise ValueError(f"parts: got {unknown}, wanted parts of {chosen.id}: {', '.join(p.id for p in chosen.parts)}")
    limit = chosen.time_limit if time_limit is None else float(time_limit)
    if not (isinstance(limit, float) and limit > 0 and math.isfinite(limit)):
        raise ValueError(f"time_limit: got {time_limit!r}, wanted a positive number of seconds")
    limits = limits or Limits()
    if limits.cpu_seconds is None:
        limits = replace(limits, cpu_seconds=float(math.ceil(2 * limit)))
    sandboxed, warning = choose_sandbox(sandbox_name)
    todo = [p for p in chosen.parts if p.id in wanted]
    own = SOURCE_ROOT / "minigan"
    group = cgroups.PartCgroup(limits.memory_bytes, limits.processes)  # made and removed: what can be enforced
    enforced = limits.enforced(sandboxed, group.how())
    group.remove()
    rows = []
    with tamper.no_bytecode(), processes.subreaper():
        for part in todo:
            load_check(part.check)  # every check imported before any student code runs
        before = tamper.fingerprint(tamper.watched_files(own), own)
        for part in todo:
            rows.append(run_part(part, root, limit, limits, sandboxed))
            before = tamper.check(before, own, part.id)
    score = sum(row["points"] for row in rows)
    max_score = sum(row["max_points"] for row in rows)
    grader_errors = [row["id"] for row in rows if row.get("error") == "grader"]
    return {"assignment": chosen.id, "title": chosen.title, "path": str(root), "score": score,
            "max_score": max_score, "full_marks": score == max_score and not grader_errors, "sandboxed": sandboxed,
            "sandbox": "bubblewrap" if sandboxed else "subprocess", "warning": warning, "parts": rows,
            "grader_errors": grader_errors, "limits": enforced}


def format_table(report: dict, width: int = 100) -> str:
    """The report as a table for people: part, points, feedback (wrapped), and the total, last."""
    lines = [f"{report['assignment']}: {report['title']}", f"graded copy: {one_line(report['path'], 10**4)}", ""]
    lines.append(f"{'part':<6} {'points':>7}  feedback")
    indent = " " * 16
    for row in report["parts"]:
        points = f"{row['points']}/{row['max_points']}"
        status = "error: grader" if row.get("error") == "grader" else row["status"].replace("_", " ")
        text = f"{status}: {one_line(row['feedback'])}"
        wrapped = textwrap.wrap(text, width=width - len(indent), break_on_hyphens=False) or [""]
        lines.append(f"{one_line(row['id'], 8):<6} {points:>7}  {wrapped[0]}")
        lines.extend(indent + piece for piece in wrapped[1:])
    lines.append(f"{'total':<6} {str(report['score']) + '/' + str(report['max_score']):>7}"
                 + ("  full marks" if report["full_marks"] else ""))
    return "\n".join(lines)
