"""python -m minigan.assignments list | release A2 --out DIR | grade A2 [--path DIR] [--json]

Exit status: 0 on success (for ``grade``: full marks only), 1 when a grade is not full
marks or the grader itself failed (a part marked "error: grader"), 2 for a usage error (a
bad argument, an unknown assignment, a missing copy).

Run as ``python -m``, the command first starts itself again in a Python that neither the
current folder nor any bytecode can reach (launch.py), so the report is the same wherever
the teacher runs it.
"""
from __future__ import annotations

import argparse
import json
import sys

if __name__ == "__main__":  # before the grader's own imports: they too must not come from the current folder
    from minigan.assignments.launch import relaunch

    sys.exit(relaunch(__file__, sys.argv[1:]))

from minigan.assignments import classroom, gradescope, packing
from minigan.assignments.catalog import ASSIGNMENTS, SOURCE_ROOT
from minigan.assignments.grade import SANDBOXES, GraderTampered, format_table, grade, one_line
from minigan.assignments.sandbox import Limits
from minigan.assignments.regions import find_all_regions
from minigan.assignments.release import release


def list_assignments() -> str:
    """Every assignment, its parts, points and where each part's region is."""
    regions = find_all_regions(SOURCE_ROOT / "minigan")
    lines = []
    for a in ASSIGNMENTS.values():
        lines.append(f"{a.id}  {a.title}  ({a.points} points, {a.time_limit:g} s per part)")
        for p in a.parts:
            where = ", ".join(f"{r.path.relative_to(SOURCE_ROOT)}:{r.begin + 1}" for r in regions.get(p.id, []))
            lines.append(f"  {p.id:<5} {p.points:>2}  {p.title}  [{where or 'region missing'}]")
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m minigan.assignments", description=__doc__.splitlines()[0])
    commands = top.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="the assignments, their parts and points")
    rel = commands.add_parser("release", help="write a student copy with an assignment's regions blanked")
    rel.add_argument("assignment", help="A1, A2, A3, A4 or A5")
    rel.add_argument("--out", required=True, help="a new (or empty) folder for the copy")
    rel.add_argument("--parts", help="blank only these parts, e.g. A2.3,A2.4 (default: all of them)")
    rel.add_argument("--zip", action="store_true", help="also write A2-student.zip beside the copy (reproducible)")
    gr = commands.add_parser("grade", help="grade an assignment on a copy")
    gr.add_argument("assignment", help="A1, A2, A3 or A4")
    gr.add_argument("--path", help="the copy to grade (default: the minigan being run, the solution key)")
    gr.add_argument("--parts", help="grade only these parts, e.g. A2.3,A2.4")
    gr.add_argument("--time-limit", type=float, help="seconds per part (default: the assignment's)")
    gr.add_argument("--memory-limit", type=float, default=2.0, help="GiB of address space per part (default: 2)")
    gr.add_argument("--sandbox", choices=SANDBOXES, default="auto",
                    help="auto (bubblewrap where it works, else a plain subprocess with a warning), "
                         "bubblewrap (refuse to grade without it) or subprocess")
    gr.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    classroom.add_parser(commands)
    gradescope.add_parser(commands)
    return top


def split(text):
    """"A2.3,A2.4" -> ["A2.3", "A2.4"]; None stays None (every part)."""
    return None if text is None else [p.strip() for p in text.split(",") if p.strip()]


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    if args.command == "grade-class":
        return classroom.main(args)
    if args.command == "gradescope":
        return gradescope.main(args)
    try:
        if args.command == "list":
            print(list_assignments())
            return 0
        if args.command == "release":
            out = release(args.assignment, args.out, parts=split(args.parts))
            print(f"wrote a student copy of {args.assignment.upper()} to {out} (see its ASSIGNMENT.md)")
            if args.zip:
                print(f"wrote {packing.release_zip(args.assignment, out)}, the file to hand out")
            return 0
        if not args.memory_limit > 0:
            raise ValueError(f"--memory-limit: got {args.memory_limit:g}, wanted a positive number of GiB")
        report = grade(args.assignment, args.path, parts=split(args.parts), time_limit=args.time_limit,
                       limits=Limits(memory_bytes=int(args.memory_limit * 2**30)), sandbox_name=args.sandbox)
    except ValueError as error:  # may quote the copy's path: one line, escaped
        print(f"error: {one_line(error, 2000)}", file=sys.stderr)
        return 2
    except GraderTampered as error:
        print(f"error: {one_line(error, 2000)}", file=sys.stderr)
        return 1
    if report["warning"]:
        print(f"warning: {report['warning']}", file=sys.stderr)
    print(json.dumps(report, indent=2) if args.json else format_table(report))
    if report["grader_errors"]:
        print(f"error: the grader failed on {', '.join(report['grader_errors'])}: grade again once it is fixed",
              file=sys.stderr)
    return 0 if report["full_marks"] else 1


if __name__ == "__main__":
    sys.exit(main())
