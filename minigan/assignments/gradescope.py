"""Gradescope: the autograder bundle, and what runs inside it for each submission.

    python -m minigan.assignments gradescope A1 --out autograder.zip

writes the zip Gradescope's "Autograder Specifications" ask for: at its top ``setup.sh``
(run once, as root, when Gradescope builds the image: it installs Python, bubblewrap and
this minigan) and ``run_autograder`` (run for every submission), with the grader's source
beside them in ``minigan-src/``. Gradescope unpacks the zip in /autograder/source, puts the
student's files in /autograder/submission, and reads /autograder/results/results.json:

    {"score": 17, "execution_time": 12, "output": "...", "visibility": "visible",
     "stdout_visibility": "hidden",
     "tests": [{"name": "A1.1 Mul.backward ...", "number": "A1.1", "score": 2, "max_score": 2,
                "status": "passed", "output": "passed: ...", "visibility": "visible"}, ...]}

``run_autograder`` runs the grader in the bundle (minigan-src/, first on ``sys.path``), so
the grade is the one this bundle gives wherever it runs. It takes the folder from
``AUTOGRADER_ROOT`` (default /autograder) and the Python from ``MINIGAN_PYTHON``, so a
test can run it on a folder laid out the same way.
The submission is copied under unpack.py's rules first (its links, sizes, bytecode).
Gradescope's containers usually cannot make bubblewrap's namespaces: then the copy runs
as a plain subprocess, with the report's warning in the output, and Gradescope's own
container (one per submission) is the wall.
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from minigan.assignments import packing, unpack
from minigan.assignments.catalog import SOURCE_ROOT
from minigan.assignments.catalog import assignment as find_assignment
from minigan.assignments.grade import GraderTampered, grade, one_line
from minigan.gan.checkpoint import atomic_file

VISIBILITY = ("visible", "hidden", "after_due_date", "after_published")
PROJECT_FILES = ("setup.cfg", "pyproject.toml", "README.md", "LICENSE")

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3 python3-pip python3-venv bubblewrap
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install --no-cache-dir /autograder/source/minigan-src array-api-strict
"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this for every submission: it grades {assignment} on /autograder/submission
# and writes /autograder/results/results.json. AUTOGRADER_ROOT and MINIGAN_PYTHON stand in
# for /autograder and the image's Python (a test runs it on a folder laid out the same way).
set -uo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{MINIGAN_PYTHON:-/autograder/venv/bin/python}}"
cd /  # -I: neither the current folder nor PYTHONPATH on sys.path; the bundle's own grader goes first
exec "$PYTHON" -I -c 'import sys; sys.path.insert(0, sys.argv.pop(1)); from minigan.assignments.__main__ import main; sys.exit(main())' \
    "$ROOT/source/minigan-src" gradescope {assignment} --run "$ROOT" --visibility {visibility}
"""


def bundle(name: str, out, visibility: str = "visible") -> Path:
    """Write the autograder zip for assignment ``name`` to ``out``; byte-identical for the same source."""
    chosen = find_assignment(name)
    if visibility not in VISIBILITY:
        raise ValueError(f"--visibility: got {visibility!r}, wanted one of {', '.join(VISIBILITY)}")
    out = Path(out)
    if out.suffix.lower() != ".zip":
        raise ValueError(f"--out: got {str(out)!r}, wanted a file name ending in .zip")
    members = [("setup.sh", SETUP.encode(), True),
               ("run_autograder", RUN.format(assignment=chosen.id, visibility=visibility).encode(), True)]
    members += packing.folder_members(SOURCE_ROOT / "minigan", "minigan-src/minigan/")
    members += [(f"minigan-src/{f}", (SOURCE_ROOT / f).read_bytes(), False)
                for f in PROJECT_FILES if (SOURCE_ROOT / f).is_file()]
    out.parent.mkdir(parents=True, exist_ok=True)
    return packing.write_zip(out, members)


def results(chosen, report: dict | None, problem: str, seconds: float, visibility: str) -> dict:
    """Gradescope's results.json for a report (or, with ``problem``, for a copy that was not graded)."""
    tests = []
    rows = {row["id"]: row for row in (report or {}).get("parts", [])}
    for part in chosen.parts:
        row = rows.get(part.id)
        if row is None:
            text, score = f"not graded: {problem}", 0
        else:
            text, score = f"{row['status'].replace('_', ' ')}: {row['feedback']}", row["points"]
        tests.append({"name": f"{part.id} {part.title}", "number": part.id, "score": score,
                      "max_score": part.points, "status": "passed" if score == part.points else "failed",
                      "output": text, "visibility": visibility})
    score = sum(t["score"] for t in tests)
    lines = [f"{chosen.id}: {chosen.title}: {score}/{chosen.points}"]
    if problem:
        lines.append(f"Not graded: {problem}")
    if any(row.get("status") == "error: grader" for row in rows.values()):
        lines.append("The grader itself failed on a part (its output says which); your teacher will grade it again.")
    if report and report.get("warning"):
        lines.append(f"Note: {report['warning']}")
    return {"score": score, "execution_time": round(seconds), "output": "\n".join(lines), "output_format": "text",
            "visibility": visibility, "stdout_visibility": "hidden", "tests": tests}


def find_submission(folder: Path) -> Path:
    """The submission as uploaded: the folder itself, or the one archive in it (Gradescope unzips
    .zip uploads, but not a zip inside a folder, nor a .tar.gz)."""
    inside = [p for p in folder.iterdir() if not p.name.startswith(".")] if folder.is_dir() else []
    if len(inside) == 1 and inside[0].is_file() and inside[0].name.lower().endswith(unpack.ARCHIVES):
        return inside[0]
    return folder


def run(name: str, root, visibility: str = "visible") -> int:
    """Grade ``root``/submission, write ``root``/results/results.json; exit status for run_autograder."""
    chosen, root, started = find_assignment(name), Path(root), time.monotonic()
    report, problem, status = None, "", 0
    with tempfile.TemporaryDirectory(prefix="minigan-gradescope-") as work:
        try:
            copy = unpack.unpack(find_submission(root / "submission"), Path(work) / "copy")
            report = grade(chosen.id, copy)
        except unpack.BadSubmission as error:
            problem = f"the submission cannot be used ({error}); upload the folder of your copy, the one " \
                      "holding minigan/, or a zip of it"
        except (GraderTampered, ValueError, OSError) as error:
            problem, status = f"the grader failed ({one_line(error, 300)}); your teacher will grade it again", 1
    (root / "results").mkdir(parents=True, exist_ok=True)
    with atomic_file(root / "results" / "results.json", "w") as file:
        json.dump(results(chosen, report, problem, time.monotonic() - started, visibility), file, indent=1)
    return status


def add_parser(commands) -> None:
    gs = commands.add_parser("gradescope", help="write Gradescope's autograder zip for an assignment")
    gs.add_argument("assignment", help="A1 to A5")
    gs.add_argument("--out", help="the zip to write (default: A1-autograder.zip)")
    gs.add_argument("--visibility", default="visible", help="when students see the tests: " + ", ".join(VISIBILITY))
    gs.add_argument("--run", metavar="ROOT", help="(run_autograder uses it) grade ROOT/submission into ROOT/results")


def main(args) -> int:
    try:
        if args.run is not None:
            if args.visibility not in VISIBILITY:
                raise ValueError(f"--visibility: got {args.visibility!r}, wanted one of {', '.join(VISIBILITY)}")
            return run(args.assignment, args.run, args.visibility)
        out = bundle(args.assignment, args.out or f"{args.assignment.upper()}-autograder.zip", args.visibility)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {out}: upload it as the assignment's autograder on Gradescope (Configure Autograder, zip file)")
    return 0
