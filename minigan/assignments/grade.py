"""Grade a copy of minigan: each part's check in its own process, with a time limit.

One process per part (runner.py) is what keeps the grader standing: a student's infinite
loop is killed at the part's time limit, a crash or a NaN fails that part's check, and
the next part starts in a clean interpreter. The checks are seeded and each process runs
NumPy on one thread, so the same copy always gets the same grade and the same feedback.

The report is a dict (``--json`` prints it as is)::

    {"assignment": "A2", "title": "...", "path": "/abs/path", "score": 17, "max_score": 20,
     "full_marks": false,
     "parts": [{"id": "A2.1", "title": "Linear.forward", "points": 2, "max_points": 2,
                "status": "passed", "feedback": "..."}, ...]}

status: "passed" | "failed" | "not_implemented" | "error" | "timeout".
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from minigan.assignments.catalog import SOURCE_ROOT
from minigan.assignments.catalog import assignment as find_assignment

RUNNER = Path(__file__).resolve().parent / "runner.py"
ONE_THREAD = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def check_root(path) -> Path:
    root = Path(path).expanduser().resolve()
    if not (root / "minigan" / "__init__.py").is_file():
        raise ValueError(f"path: got {str(path)!r}, wanted a folder holding a minigan/ package (a student copy)")
    return root


def run_part(part, root: Path, time_limit: float) -> dict:
    """Run one part's check against the copy at ``root``; return its row of the report."""
    row = {"id": part.id, "title": part.title, "points": 0, "max_points": part.points}
    env = dict(os.environ, MPLBACKEND="Agg", **{name: "1" for name in ONE_THREAD})
    with tempfile.TemporaryDirectory(prefix=f"minigan-grade-{part.id}-") as scratch:
        result_path = Path(scratch) / "result.json"
        stderr_path = Path(scratch) / "stderr.txt"
        command = [sys.executable, "-I", str(RUNNER), part.check, str(root), str(result_path)]
        with open(stderr_path, "wb") as stderr:
            # cwd: a scratch folder, so files the student's code writes land nowhere that matters;
            # a new session, so a timeout can kill whatever the check started as well
            process = subprocess.Popen(command, cwd=scratch, env=env, stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True)
            try:
                process.wait(timeout=time_limit)
            except subprocess.TimeoutExpired:
                _kill(process)
                row.update(status="timeout", feedback=f"stopped after the time limit of {time_limit:g} s "
                                                        "(an infinite loop, or far too slow)")
                return row
        if not result_path.is_file():
            row.update(status="error", feedback=f"the check's process died (exit status {process.returncode})"
                                                 f"{_last_line(stderr_path)}")
            return row
        result = json.loads(result_path.read_text(encoding="utf-8"))
    row.update(status=result["status"], feedback=result["feedback"])
    if result["status"] == "passed":
        row["points"] = part.points
    return row


def _kill(process: subprocess.Popen) -> None:
    """Kill the part's process and everything it started (its own session)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (AttributeError, ProcessLookupError, PermissionError):
        process.kill()
    process.wait()


def _last_line(path: Path) -> str:
    lines = [line for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    return f": {lines[-1].strip()}" if lines else ""


def grade(name: str, path=None, parts=None, time_limit: float | None = None) -> dict:
    """Grade assignment ``name`` on the copy at ``path`` (default: the running minigan's folder).

    parts       optional list of part ids to grade (the others are left out of the report)
    time_limit  seconds per part (default: the assignment's, 60 s unless the catalog says more)
    """
    chosen = find_assignment(name)
    root = check_root(SOURCE_ROOT if path is None else path)
    wanted = [p.id for p in chosen.parts] if parts is None else [str(p).upper() for p in parts]
    unknown = [p for p in wanted if p not in {q.id for q in chosen.parts}]
    if unknown:
        raise ValueError(f"parts: got {unknown}, wanted parts of {chosen.id}: {', '.join(p.id for p in chosen.parts)}")
    limit = chosen.time_limit if time_limit is None else float(time_limit)
    if not limit > 0:
        raise ValueError(f"time_limit: got {time_limit!r}, wanted a positive number of seconds")
    rows = [run_part(p, root, limit) for p in chosen.parts if p.id in wanted]
    score = sum(row["points"] for row in rows)
    max_score = sum(row["max_points"] for row in rows)
    return {"assignment": chosen.id, "title": chosen.title, "path": str(root), "score": score,
            "max_score": max_score, "full_marks": score == max_score, "parts": rows}


def format_table(report: dict, width: int = 100) -> str:
    """The report as a table for people: part, points, feedback (wrapped), and the total."""
    lines = [f"{report['assignment']}: {report['title']}", f"graded copy: {report['path']}", ""]
    lines.append(f"{'part':<6} {'points':>7}  feedback")
    indent = " " * 16
    for row in report["parts"]:
        points = f"{row['points']}/{row['max_points']}"
        text = f"{row['status'].replace('_', ' ')}: {row['feedback']}"
        wrapped = textwrap.wrap(text, width=width - len(indent), break_on_hyphens=False) or [""]
        lines.append(f"{row['id']:<6} {points:>7}  {wrapped[0]}")
        lines.extend(indent + piece for piece in wrapped[1:])
    lines.append(f"{'total':<6} {str(report['score']) + '/' + str(report['max_score']):>7}"
                 + ("  full marks" if report["full_marks"] else ""))
    return "\n".join(lines)
