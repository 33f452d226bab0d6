"""Grade a whole class: one entry per student, graded in parallel, resumable, into RESULTS/.

    python -m minigan.assignments grade-class A1 SUBMISSIONS/ --out RESULTS/ [--jobs N] [--student ID]

For each student (a folder, .zip or .tar.gz in SUBMISSIONS named by the student's id) the
grader unpacks the submission safely (unpack.py) into RESULTS/work/ID, grades it in a
process of its own (gradeone.py, which calls ``grade()``), and writes RESULTS/results/ID.json
atomically: one file per student, so an interrupted class loses at most the copies in
flight. The same command again grades only the students without a result, whose
submission changed since (its fingerprint), or on whose copy the grader itself failed;
``--student ID`` grades that one again.
Then gradebook.py writes grades.csv, feedback/, report.json, summary.md and totals.png from
every result file.

Up to ``--jobs`` copies are graded at once. The default fits the machine: no more than its
cores, and each job's memory (the part's limit plus the grader's own) times the jobs must
fit in the memory available now.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import time
from datetime import datetime, timezone
from dataclasses import replace
from pathlib import Path

from minigan.assignments import gradebook, unpack
from minigan.assignments.catalog import assignment as find_assignment
from minigan.assignments.gradeone import TAMPERED, Job, choose_jobs
from minigan.assignments.grade import SANDBOXES, GraderTampered, choose_sandbox, load_check, one_line
from minigan.gan.checkpoint import atomic_file

WORKERS = ("fork", "process") if hasattr(os, "fork") and sys.platform.startswith("linux") else ("process",)


def load_results(folder: Path, chosen) -> dict:
    """student id -> its result record, for every readable result file of this assignment and parts."""
    results = {}
    for path in sorted(folder.glob("*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a torn file cannot happen (atomic writes); a hand-edited one is graded again
        if (isinstance(record, dict) and record.get("assignment") == chosen.id and record.get("student") == path.stem
                and record.get("graded_parts") == [p.id for p in chosen.parts]):
            results[path.stem] = record
    return results


def record_for(chosen, sid: str, entry: Path, fingerprint: str, status: str, seconds: float, report=None,
               reason: str = "") -> dict:
    report = report or {}
    broken = [row for row in report.get("parts", []) if row.get("status") == "error: grader"]
    if status == "graded" and broken:  # the grader failed on a part: the total is not the student's
        status, reason = "error: grader", f"{broken[0]['id']}: {broken[0].get('feedback', '')}"
    return {"student": sid, "assignment": chosen.id, "graded_parts": [p.id for p in chosen.parts],
            "submission": entry.name, "fingerprint": fingerprint,
            "status": status, "reason": one_line(reason, 300), "score": report.get("score", 0),
            "max_score": chosen.points, "parts": report.get("parts", []), "seconds": round(seconds, 2),
            "sandbox": report.get("sandbox"), "warning": report.get("warning"),
            "graded_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}


class Interrupted(Exception):
    pass


def _on_sigterm(number, frame):
    raise KeyboardInterrupt


def grade_class(args, say=print) -> dict:
    """Grade the class described by the parsed ``args``; return gradebook.write_all's summary."""
    whole = find_assignment(args.assignment)
    args.assignment = whole.id
    unknown = [p for p in args.parts or [] if p not in {q.id for q in whole.parts}]
    if unknown or args.parts == []:
        raise ValueError(f"--parts: got {unknown or args.parts}, wanted parts of {whole.id}: "
                         f"{', '.join(p.id for p in whole.parts)}")
    # the assignment as graded here: its parts, or those of --parts (their points make the maximum)
    chosen = replace(whole, parts=tuple(p for p in whole.parts if args.parts is None or p.id in args.parts))
    entries, notes = unpack.find_submissions(args.submissions)
    out = Path(args.out).resolve()
    for sid in [sid for sid, entry in entries.items() if entry.resolve() == out]:  # --out inside SUBMISSIONS
        del entries[sid]
    if args.student is not None and args.student not in entries:
        raise ValueError(f"--student: got {args.student!r}, wanted one of the {len(entries)} students in "
                         f"{args.submissions}")
    warning = choose_sandbox(args.sandbox)[1]  # refuse a sandbox it cannot have before anything is written
    if warning:
        say(f"warning: {warning}", file=sys.stderr)
    args.jobs = choose_jobs(args.jobs, args.memory_bytes)
    results_dir, work_root = out / "results", out / "work"
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / "class.json").is_file())):
        raise ValueError(f"--out: got {str(out)!r}, which is not a new folder nor one grade-class wrote; "
                         "wanted a new folder (or the same one again, to resume)")
    for folder in (out, results_dir, work_root):
        folder.mkdir(parents=True, exist_ok=True)
    marker = out / "class.json"
    if marker.exists() and json.loads(marker.read_text()).get("assignment") != chosen.id:
        raise ValueError(f"--out: got {str(out)!r}, which holds the results of another assignment "
                         f"({json.loads(marker.read_text()).get('assignment')}); wanted a new folder for {chosen.id}")
    with atomic_file(marker, "w") as file:
        json.dump({"assignment": chosen.id, "submissions": str(Path(args.submissions).resolve())}, file)
    import filelock
    try:
        lock = filelock.FileLock(str(out / ".grade-class.lock"), timeout=0)
        lock.acquire()
    except filelock.Timeout:
        raise ValueError(f"--out: another grade-class is writing to {out} now; wait for it, or use another folder")
    try:
        return _grade_locked(args, chosen, entries, notes, out, results_dir, work_root, say)
    finally:
        lock.release()


def _grade_locked(args, chosen, entries, notes, out, results_dir, work_root, say) -> dict:
    for leftover in work_root.iterdir():  # copies in flight when an earlier run was killed
        unpack.remove(leftover)
    fingerprints = {sid: unpack.fingerprint(entry) for sid, entry in entries.items()}
    done = load_results(results_dir, chosen)
    if args.student is not None:
        todo = [args.student]
    else:
        todo = [sid for sid in entries if done.get(sid, {}).get("fingerprint") != fingerprints[sid]
                or done[sid]["status"] == "error: grader"]  # the grader failed there: try again
    for note in notes:
        say(f"warning: {note}", file=sys.stderr)
    say(f"{chosen.id}: {len(entries)} students, {len(entries) - len(todo)} already graded, {len(todo)} to grade, "
        f"{args.jobs} at a time", file=sys.stderr)
    for part in chosen.parts:  # the checks imported once, here, before any fork
        load_check(part.check)
    bar = progress_bar(len(entries), len(entries) - len(todo), args.progress)
    running: list[Job] = []
    queue = list(todo)
    graded = 0
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        while queue or running:
            while queue and len(running) < args.jobs:
                job, record = _start(args, chosen, queue.pop(0), entries, fingerprints, work_root)
                if job is not None:
                    running.append(job)
                else:
                    _save(results_dir, record)
                    graded += 1
                    bar(record)
            time.sleep(0.05)
            for job in [j for j in running if j.process.poll() is not None or j.overdue()]:
                running.remove(job)
                record = _finish(chosen, job)
                _save(results_dir, record)
                graded += 1
                bar(record)
    except KeyboardInterrupt:
        _stop_all(running)
        bar(None)
        summary = gradebook.write_all(out, chosen, entries, load_results(results_dir, chosen), notes)
        raise Interrupted(f"interrupted: {summary['graded']} of {len(entries)} students have results in {out}; "
                          "run the same command again to grade the others") from None
    finally:
        _stop_all(running)  # after a grader failure: the copies in flight are not graded
        signal.signal(signal.SIGTERM, previous)
    bar(None)
    summary = gradebook.write_all(out, chosen, entries, load_results(results_dir, chosen), notes)
    summary["graded_now"] = graded
    return summary


def _stop_all(running: list) -> None:
    while running:
        job = running.pop()
        job.stop()
        unpack.remove(job.work)


def _start(args, chosen, sid, entries, fingerprints, work_root):
    """Unpack student ``sid`` and start its grading: (Job, None), or (None, record) for a bad archive."""
    entry = entries[sid]
    work = Path(tempfile.mkdtemp(prefix=f"{sid}.", dir=work_root))
    started = time.monotonic()
    try:
        copy = unpack.unpack(entry, work / "copy")
    except unpack.BadSubmission as error:
        unpack.remove(work)
        return None, record_for(chosen, sid, entry, fingerprints[sid], "error: bad archive",
                                time.monotonic() - started, reason=str(error))
    except BaseException:  # Ctrl-C while unpacking
        unpack.remove(work)
        raise
    return Job(sid, entry, fingerprints[sid], copy, work, args), None


def _finish(chosen, job: Job) -> dict:
    code = job.process.returncode
    seconds = time.monotonic() - job.started
    try:
        if code == TAMPERED:
            raise GraderTampered(job.last_line())
        if code == 0:
            report = json.loads(job.report_path.read_text(encoding="utf-8"))
            return record_for(chosen, job.sid, job.entry, job.fingerprint, "graded", seconds, report)
        if code in (130, -signal.SIGINT):
            raise KeyboardInterrupt
        if code is None:
            job.stop(patience=5)
            return record_for(chosen, job.sid, job.entry, job.fingerprint, "error: grader", seconds,
                              reason=f"the grader did not finish this copy in {job.deadline:g} s")
        return record_for(chosen, job.sid, job.entry, job.fingerprint, "error: grader", seconds,
                          reason=f"the grader failed on this copy (exit status {code}): {job.last_line()}")
    finally:
        job.stderr.close()
        unpack.remove(job.work)


def _save(folder: Path, record: dict) -> None:
    with atomic_file(folder / f"{record['student']}.json", "w") as file:
        json.dump(record, file, indent=1)


def progress_bar(total: int, initial: int, show: bool):
    """A function to call with each new record (None at the end): a tqdm bar on a terminal, else a line each."""
    if show and sys.stderr.isatty():
        from tqdm import tqdm
        tqdm.monitor_interval = 0  # no monitor thread: the class grader forks
        bar = tqdm(total=total, initial=initial, unit="student", file=sys.stderr, smoothing=0.1)

        def update(record):
            if record is None:
                bar.close()
            else:
                bar.set_postfix_str(f"{record['student'][:20]} {_short(record)}")
                bar.update(1)
        return update
    count = [initial]

    def line(record):
        if record is not None and show:
            count[0] += 1
            print(f"[{count[0]}/{total}] {record['student']}: {_short(record)} ({record['seconds']:.1f} s)",
                  file=sys.stderr, flush=True)
    return line


def _short(record: dict) -> str:
    if record["status"] == "graded":
        return f"{record['score']}/{record['max_score']}"
    return record["status"]


# ---- the command line ---------------------------------------------------------------------------
def add_parser(commands) -> None:
    gc = commands.add_parser("grade-class", help="grade every student's submission in a folder, in parallel")
    gc.add_argument("assignment", help="A1 to A5")
    gc.add_argument("submissions", help="a folder with one folder, .zip or .tar.gz per student, named by the id")
    gc.add_argument("--out", required=True, help="the results folder (the same one again resumes)")
    gc.add_argument("--jobs", type=int, help="copies graded at once (default: what the cores and memory fit)")
    gc.add_argument("--student", help="grade this student again (after a fix), and rewrite the gradebook")
    gc.add_argument("--parts", help="grade only these parts, e.g. A1.4,A1.5 (default: all of them)")
    gc.add_argument("--time-limit", type=float, help="seconds per part (default: the assignment's)")
    gc.add_argument("--memory-limit", type=float, default=2.0, help="GiB of address space per part (default: 2)")
    gc.add_argument("--sandbox", choices=SANDBOXES, default="auto", help="as for grade")
    gc.add_argument("--worker", choices=WORKERS, default=WORKERS[0],
                    help="how each copy's grader starts: a fork of this one (Linux), or a new Python")
    gc.add_argument("--quiet", action="store_true", help="no progress bar or lines")


def main(args) -> int:
    """Run ``grade-class`` from parsed arguments; exit status 0, 1 (a grader failure), 2 or 130."""
    if not args.memory_limit > 0:
        print(f"error: --memory-limit: got {args.memory_limit:g}, wanted a positive number of GiB", file=sys.stderr)
        return 2
    args.memory_bytes = int(args.memory_limit * 2**30)
    args.parts = None if args.parts is None else [p.strip().upper() for p in args.parts.split(",") if p.strip()]
    args.progress = not args.quiet
    try:
        summary = grade_class(args)
    except (ValueError, OSError) as error:  # OSError: a folder that cannot be written, a full disk
        print(f"error: {one_line(error)}", file=sys.stderr)
        return 2
    except GraderTampered as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except Interrupted as error:
        print(error, file=sys.stderr)
        return 130
    print(f"graded {summary['graded_now']} now; {summary['graded']} of {summary['students']} students have "
          f"results ({summary['errors']} with errors); see {Path(args.out) / 'summary.md'} and grades.csv")
    return 0
