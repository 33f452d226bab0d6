"""The processes a part leaves behind: finding them, capping them, ending them (Linux).

A student's code may start processes that leave its session (``setsid``) or outlive their
parent (a double fork). To end them all when a part ends, the grader looks them up in
/proc: in the sandbox, by the PID namespace they share; without it, as descendants of the
grader, which is a child subreaper while it grades (``subreaper``), so an orphan is
reparented to the grader instead of to init and stays findable. (Capping how many there
may be, and their memory together, is cgroups.py's.)
"""
from __future__ import annotations

import ctypes
import os
import signal
import sys
import time


def running_processes() -> int:
    """How many processes this user runs now (RLIMIT_NPROC counts them all)."""
    uid, count = os.getuid(), 0
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        try:
            count += entry.isdigit() and os.stat(f"/proc/{entry}").st_uid == uid
        except OSError:
            pass
    return count


def _pids() -> list:
    return [int(e) for e in os.listdir("/proc") if e.isdigit()] if os.path.isdir("/proc") else []


def _readlink(path: str) -> str | None:
    try:
        return os.readlink(path)
    except OSError:
        return None


def _parent(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            stat = file.read().decode(errors="replace")
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()  # after "pid (name) ": state, ppid, ...
    return int(fields[1]) if len(fields) > 1 and fields[0] != "Z" else None


def descendants(root: int | None = None) -> set:
    """The live processes below ``root`` (default: this one), found through /proc."""
    root = os.getpid() if root is None else root
    children: dict = {}
    for pid in _pids():
        children.setdefault(_parent(pid), []).append(pid)
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _reap(pids) -> None:
    """Collect the exit status of those of ``pids`` that are this process's children."""
    for pid in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except (ChildProcessError, OSError):
            pass


class subreaper:
    """Within this block, orphaned descendants are reparented to this process (Linux), not to init."""

    PR_SET_CHILD_SUBREAPER = 36

    def _set(self, on: int) -> None:
        if sys.platform.startswith("linux"):
            try:
                ctypes.CDLL(None, use_errno=True).prctl(self.PR_SET_CHILD_SUBREAPER, on, 0, 0, 0)
            except (OSError, AttributeError):
                pass

    def __enter__(self):
        self._set(1)
        return self

    def __exit__(self, *exc):
        self._set(0)


def in_namespace(namespace: str) -> set:
    """The live processes in the PID namespace ``namespace`` (a /proc/PID/ns/pid link's text)."""
    return {pid for pid in _pids() if _readlink(f"/proc/{pid}/ns/pid") == namespace}


def kill_all(find, patience: float = 5.0) -> set:
    """SIGKILL what ``find()`` returns until it returns nothing or ``patience`` runs out; the survivors."""
    deadline = time.monotonic() + patience
    while True:
        left = find()
        if not left or time.monotonic() > deadline:
            return left
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        _reap(left)
        time.sleep(0.02)
