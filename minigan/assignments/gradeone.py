"""Grade one student's copy for the class grader, in a process of its own; and how many at once.

    python -I -c "...; main()" ASSIGNMENT COPY REPORT.json SANDBOX TIME_LIMIT MEMORY_BYTES PARTS

classroom.py starts one of these per student, with ``-I`` and the grader's own folder first
on ``sys.path`` (never the current folder). It calls ``grade()`` and writes its report to
REPORT.json atomically. Exit status: 0 written; 3 the grader's files changed while a part
ran (the class must stop); 130 interrupted; anything else, a failure of the grader itself.
A process per student keeps one copy's grading from reaching another's, lets Ctrl-C end
every copy in flight cleanly, and gives the grader's memory back after each copy.

That process is either a fork of the class grader (``worker="fork"``, the default on
Linux), which has already imported the grader and NumPy, or a fresh Python
(``worker="process"``), which imports them again for every copy: about 1 s of a loaded
core per copy (benchmarks/grading.py --profile measures it). Both run the same ``main``.

``choose_jobs`` decides how many run at once: no more than the cores by default, and never
more than fit in the memory available, at each part's memory limit plus the grader's own.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import traceback

from minigan.assignments.catalog import SOURCE_ROOT
from minigan.assignments.catalog import assignment as find_assignment
from minigan.assignments.grade import GraderTampered, grade
from minigan.assignments.sandbox import Limits
from minigan.gan.checkpoint import atomic_file

TAMPERED = 3
GRADER_BYTES = 2**29  # the grader's own process per job (it peaks near 250 MiB on A1): 512 MiB to be safe
# run with -I: the grader's own folder goes first on sys.path, the current folder never does
WORKER = ("import sys; sys.path.insert(0, sys.argv.pop(1)); "
          "from minigan.assignments.gradeone import main; sys.exit(main())")


def main(argv=None) -> int:
    assignment, copy, report_path, sandbox_name, time_limit, memory, parts = (argv or sys.argv[1:])
    try:
        report = grade(assignment, copy, parts=None if parts == "-" else parts.split(","),
                       time_limit=None if time_limit == "-" else float(time_limit),
                       limits=Limits(memory_bytes=int(memory)), sandbox_name=sandbox_name)
    except GraderTampered as error:
        print(error, file=sys.stderr)
        return TAMPERED
    except KeyboardInterrupt:
        return 130
    with atomic_file(report_path, "w") as file:
        json.dump(report, file)
    return 0


class Forked:
    """A fork of this process that runs ``main(argv)`` and exits; polled like a ``subprocess.Popen``."""

    def __init__(self, argv: list, cwd, output):
        self.returncode = None
        output.flush()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: a session of its own, Python's usual signals, output to the job's file
            code = 1
            try:
                os.setsid()
                signal.signal(signal.SIGINT, signal.default_int_handler)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                os.chdir(cwd)
                os.dup2(output.fileno(), 1)
                os.dup2(output.fileno(), 2)
                sys.stdout = sys.stderr = open(2, "w", buffering=1, closefd=False)  # not a caller's stand-ins
                code = main(argv)
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        self.pid = pid

    def poll(self):
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("gradeone", timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, number) -> None:
        if self.returncode is None:
            os.kill(self.pid, number)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class Job:
    """One student's copy being graded by a gradeone process."""

    def __init__(self, sid, entry, fingerprint, copy, work, args):
        self.sid, self.entry, self.fingerprint, self.work = sid, entry, fingerprint, work
        self.report_path = work / "report.json"
        self.stderr = open(work / "stderr.txt", "w+b")
        self.started = time.monotonic()
        limit = args.time_limit or find_assignment(args.assignment).time_limit
        self.deadline = len(args.parts or find_assignment(args.assignment).parts) * (limit + 30) + 120
        argv = [args.assignment, str(copy), str(self.report_path), args.sandbox,
                "-" if args.time_limit is None else str(args.time_limit), str(args.memory_bytes),
                ",".join(args.parts) if args.parts else "-"]
        # a session of its own: Ctrl-C reaches the class grader only, which then stops each job once
        if args.worker == "fork":
            self.process = Forked(argv, work, self.stderr)
        else:
            self.process = subprocess.Popen([sys.executable, "-I", "-c", WORKER, str(SOURCE_ROOT), *argv], cwd=work,
                                            stdin=subprocess.DEVNULL, stdout=self.stderr, stderr=self.stderr,
                                            start_new_session=True)

    def overdue(self) -> bool:
        """Past every part's time limit and then some: the grader itself is stuck."""
        return time.monotonic() - self.started > self.deadline

    def last_line(self) -> str:
        self.stderr.seek(0)
        lines = [x for x in self.stderr.read().decode("utf-8", "replace").splitlines() if x.strip()]
        return lines[-1] if lines else ""

    def stop(self, patience: float = 15.0) -> None:
        """Ask it to stop as Ctrl-C would (it ends its student's processes), then make sure."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=patience)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.stderr.close()


def available_memory() -> int:
    """Bytes of memory available now (Linux's MemAvailable; elsewhere, assume 4 GiB)."""
    try:
        with open("/proc/meminfo") as file:
            for line in file:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 4 * 2**30


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def choose_jobs(jobs, memory_bytes: int) -> int:
    """``jobs`` checked against the memory (each job: the part's limit + the grader), or the default."""
    per_job = memory_bytes + GRADER_BYTES
    fit = max(1, available_memory() // per_job)
    if jobs is None:
        return max(1, min(cores(), fit))
    if not (isinstance(jobs, int) and jobs >= 1):
        raise ValueError(f"--jobs: got {jobs!r}, wanted a whole number of copies at once, 1 or more")
    if jobs > fit:
        raise ValueError(f"--jobs: got {jobs}, but {jobs} x {per_job / 2**30:.1f} GiB (each part's memory limit and "
                         f"the grader's own) exceeds the {available_memory() / 2**30:.1f} GiB available; "
                         f"wanted at most {fit}")
    return jobs
