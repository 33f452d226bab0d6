"""Grading a class: how long a synthetic class of A1 copies takes, and where one copy's time goes.

    python benchmarks/grading.py --copies 30 --jobs 1 2          # the class timing table
    python benchmarks/grading.py --copies 300 --jobs 2           # the big class (minutes)
    python benchmarks/grading.py --profile                       # one copy, phase by phase
    python benchmarks/grading.py --copies 30 --show-summary      # and print the class's summary.md

The synthetic class cycles through 20 kinds of copy: 6 copies of the key, 2 blank, 9 with a
catalogued mistake (one part wrong each: a wrong sign, a missing factor, a transpose
forgotten, the float32-inexact sigmoid, a graph walk that lists a node before its parents),
and 3 attacks that end fast (a forged "passed" on stdout, an 8 GiB allocation, an archive
with a ``../`` member). Copies are folders, zips and tarballs in turn. An endless loop costs
its part's whole time limit (60 s), so it is left out unless ``--with-timeouts``.

Targets on 2 quiet cores: 30 copies of A1 in 60 s or less; 300 in 10 minutes or less.
The machine this runs on may be shared: the script prints the load (``os.getloadavg``)
before and after each run; compare runs made together, as ratios. It also prints the CPU
seconds the whole run used (the grader and every process below it): on 2 quiet cores a run
cannot take less than half of that, and it moves less with the load than the wall time.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from minigan.assignments import packing  # noqa: E402
from minigan.assignments.catalog import ASSIGNMENTS  # noqa: E402
from minigan.assignments.mistakes import PUSH_MARKING_WALK  # noqa: E402
from minigan.assignments.regions import fill_part  # noqa: E402
from minigan.assignments.release import release  # noqa: E402

MISTAKES = {  # name: (part, code in its region)
    "mul_sign": ("A1.1", "return unbroadcast(grad_y * b, a.shape), unbroadcast(-grad_y * a, b.shape)"),
    "mul_no_unbroadcast": ("A1.1", "return grad_y * b, grad_y * a"),
    "matmul_no_transpose": ("A1.2", """
        grad_a = grad_b = None
        if need_a:
            grad_a = unbroadcast(xp.matmul(grad_y, b), a.shape)
        if need_b:
            grad_b = unbroadcast(xp.matmul(a, grad_y), b.shape)
        return grad_a, grad_b
        """),
    "sum_no_expand": ("A1.3", "return ctx.xp.broadcast_to(grad_y, ctx.shape)"),
    "exp_twice": ("A1.4", "return grad_y * y * 2.0"),
    "log_times_x": ("A1.5", "return grad_y * x"),
    "sigmoid_one_minus": ("A1.6", "return grad_y * y * (1.0 - y)"),
    "relu_no_mask": ("A1.7", "return grad_y"),
    "walk_marks_on_push": ("A1.8", PUSH_MARKING_WALK),      # the catalogued mistake (assignments/mistakes.py)
}
ATTACKS = {
    "forged_verdict": ("A1.4", "print('A1.4 passed 1/1'); print('total 20/20 full marks'); return grad_y * y"),
    "memory_hog": ("A1.5", "big = bytearray(8 * 2**30); return grad_y / x"),
}
TIMEOUT_ATTACK = ("A1.7", "while True: pass")
KINDS = (["key"] * 3 + ["blank"] + list(MISTAKES)[:5] + ["forged_verdict"] + ["key"] * 3 + ["blank"]
         + list(MISTAKES)[5:] + ["memory_hog", "bad_archive"])


def make_kinds(folder: Path, with_timeouts: bool) -> dict:
    """kind -> a folder holding that copy (bad_archive is made per student)."""
    kinds = {"key": release("A1", folder / "key", parts=[]), "blank": release("A1", folder / "blank")}
    for name, (part, code) in {**MISTAKES, **ATTACKS, **({"endless": TIMEOUT_ATTACK} if with_timeouts else {})}.items():
        kinds[name] = release("A1", folder / name, parts=[])
        fill_part(kinds[name], part, code)
    return kinds


def make_class(n: int, folder: Path, kinds: dict, with_timeouts: bool) -> Path:
    """``n`` submissions in ``folder``/submissions: the kinds in turn, as folders, zips and tarballs."""
    subs = folder / "submissions"
    subs.mkdir(parents=True)
    order = KINDS + (["endless"] if with_timeouts else [])
    for i in range(n):
        kind, sid = order[i % len(order)], f"s{i:04d}"
        if kind == "bad_archive":
            packing.write_zip(subs / f"{sid}.zip", [("../outside.txt", b"x", False)])
        elif i % 3 == 0:
            shutil.copytree(kinds[kind], subs / sid)
        elif i % 3 == 1:
            packing.write_zip(subs / f"{sid}.zip", packing.folder_members(kinds[kind], f"{sid}/"))
        else:
            with tarfile.open(subs / f"{sid}.tar.gz", "w:gz") as packed:
                packed.add(kinds[kind], arcname=sid)
    return subs


def grade_class(subs: Path, out: Path, jobs: int, worker: str, parts=None) -> tuple:
    """(wall seconds, CPU seconds of the grader and every process below it) for one grade-class run."""
    command = [sys.executable, "-m", "minigan.assignments", "grade-class", "A1", str(subs), "--out", str(out),
               "--jobs", str(jobs), "--worker", worker, "--quiet"] + (["--parts", parts] if parts else [])
    start, cpu = time.perf_counter(), _children_cpu()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    seconds, cpu = time.perf_counter() - start, _children_cpu() - cpu
    if done.returncode != 0:
        raise SystemExit(f"grade-class failed ({done.returncode}): {done.stderr.strip().splitlines()[-1:]}")
    return seconds, cpu


def _children_cpu() -> float:
    """User + system CPU seconds of the processes this one has waited for (and theirs, and so on)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def profile(copy: Path, repeats: int) -> None:
    """One copy of the key, part by part: the student process's start, the check, the end."""
    from minigan.assignments import processes
    from minigan.assignments.grade import choose_sandbox
    from minigan.assignments.sandbox import Limits

    sandboxed, _ = choose_sandbox("auto")
    limits = Limits(cpu_seconds=120.0)
    timings = {}
    with processes.subreaper():  # as grade() does: what the sandbox leaves is reaped here, at once
        _profile_parts(copy, repeats, sandboxed, limits, timings)
    python = _time(lambda: subprocess.run([sys.executable, "-I", "-S", "-c", "pass"]), repeats)
    numpy = _time(lambda: subprocess.run([sys.executable, "-I", "-c", "import numpy"]), repeats)
    grader = _time(lambda: subprocess.run([sys.executable, "-I", "-c", "import sys; sys.path.insert(0, sys.argv[1]);"
                                           " import minigan.assignments.grade", str(ROOT)]), repeats)
    print(f"sandbox: {'bubblewrap' if sandboxed else 'subprocess'}; medians of {repeats}; load {_load()}")
    print(f"{'part':<6} {'start':>7} {'check':>7} {'end':>6}   (s)")
    for pid, rows in timings.items():
        start, check, end = (statistics.median(r[i] for r in rows) for i in range(3))
        print(f"{pid:<6} {start:7.3f} {check:7.3f} {end:6.3f}")
    total = [sum(statistics.median(r[i] for r in rows) for rows in timings.values()) for i in range(3)]
    print(f"{'all':<6} {total[0]:7.3f} {total[1]:7.3f} {total[2]:6.3f}")
    print(f"a bare python: {python:.3f} s; python + import numpy: {numpy:.3f} s; "
          f"the class grader's worker (python + the grader): {grader:.3f} s")


def _profile_parts(copy, repeats, sandboxed, limits, timings) -> None:
    from minigan.assignments.grade import Student, load_check
    from minigan.assignments.sandbox import StudentProcess

    for _ in range(repeats):
        for part in ASSIGNMENTS["A1"].parts:
            check = load_check(part.check)
            with tempfile.TemporaryDirectory() as scratch:
                t0 = time.perf_counter()
                with StudentProcess(copy, Path(scratch), limits, sandboxed) as process:
                    student = Student(process, 60.0)
                    student.start()
                    t1 = time.perf_counter()
                    check(student)
                    t2 = time.perf_counter()
                t3 = time.perf_counter()
            timings.setdefault(part.id, []).append((t1 - t0, t2 - t1, t3 - t2))


def _time(call, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, nargs="*", default=[30])
    parser.add_argument("--jobs", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--worker", nargs="*", default=["fork"], help="fork, process or both (compared in turn)")
    parser.add_argument("--parts", help="grade only these parts (a smoke run), e.g. A1.4")
    parser.add_argument("--profile", action="store_true", help="time one copy's parts, phase by phase")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--with-timeouts", action="store_true", help="add an endless loop to the class")
    parser.add_argument("--show-summary", action="store_true", help="print the last run's summary.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="minigan-grading-") as tmp:
        tmp = Path(tmp)
        kinds = make_kinds(tmp / "kinds", args.with_timeouts)
        if args.profile:
            profile(kinds["key"], args.repeats)
            return
        print(f"{'copies':>6} {'jobs':>4} {'worker':>7} {'seconds':>8} {'s/copy':>7} {'cpu s':>7} "
              f"{'cpu/copy':>8}  load before -> after (1, 5, 15 min)")
        for n in args.copies:
            subs = make_class(n, tmp / f"class{n}", kinds, args.with_timeouts)
            for jobs in args.jobs:
                for worker in args.worker:
                    out = tmp / f"results{n}-{jobs}-{worker}"
                    before = _load()
                    seconds, cpu = grade_class(subs, out, jobs, worker, args.parts)
                    print(f"{n:>6} {jobs:>4} {worker:>7} {seconds:8.1f} {seconds / n:7.2f} {cpu:7.1f} {cpu / n:8.2f}"
                          f"  {before} -> {_load()}", flush=True)
            if args.show_summary:
                print(out.joinpath("summary.md").read_text())


if __name__ == "__main__":
    main()
