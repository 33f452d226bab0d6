"""One control group per part: a memory cap and a process cap for all of the part's processes.

Resource limits (``setrlimit``) hold per process: three forked children may each use the
whole memory limit, and files in the sandbox's private /tmp (a tmpfs: memory) count for
no process at all. A control group counts them together. Where the grader runs as root and
the machine lets it make a group, each part's process joins a new one before it starts its
student code, so everything it starts and every page it puts in /tmp is charged there:

- cgroup v2 (one unified tree): ``memory.max``, ``memory.swap.max`` = 0, ``pids.max``, in
  a group under the first folder of the grader's own branch whose ``cgroup.subtree_control``
  hands out the ``memory`` and ``pids`` controllers;
- cgroup v1 (one tree per controller): ``memory.limit_in_bytes`` (and the memory+swap
  limit, where there is one) under the grader's own memory group, ``pids.max`` under its
  pids group.

When the group's memory runs out, the kernel's OOM killer stops one of the part's
processes, and the group's ``oom_kill`` count says so (``memory_exceeded``). Elsewhere
(not root, or no cgroup file system to write) nothing is made, ``how`` says so, and the
per-process limits are all there is (sandbox.py).
"""
from __future__ import annotations

import os
import time

ROOT = "/sys/fs/cgroup"


def _own_paths() -> dict:
    """{controller or "": path} of this process's groups, from /proc/self/cgroup ("" = v2)."""
    found = {}
    try:
        with open("/proc/self/cgroup") as file:
            for line in file:
                _, controllers, path = line.rstrip("\n").split(":", 2)
                for name in controllers.split(",") if controllers else [""]:
                    found[name] = path
    except (OSError, ValueError):
        pass
    return found


def _v2_parent(wanted: set) -> str | None:
    """The deepest folder on the grader's v2 branch whose children get the ``wanted`` controllers."""
    own = _own_paths().get("")
    for mount in (ROOT, os.path.join(ROOT, "unified")):
        if own is None or not os.path.isfile(os.path.join(mount, "cgroup.controllers")):
            continue
        folder = os.path.normpath(mount + own)
        while folder.startswith(mount):
            try:
                with open(os.path.join(folder, "cgroup.subtree_control")) as file:
                    if wanted <= set(file.read().split()):
                        return folder
            except OSError:
                pass
            if folder == mount:
                break
            folder = os.path.dirname(folder)
    return None


def _write(folder: str, name: str, value) -> None:
    with open(os.path.join(folder, name), "w") as file:
        file.write(str(value))


class PartCgroup:
    """The groups one part's processes join; ``how`` says what they cap, in words."""

    def __init__(self, memory_bytes: int, processes: int):
        self.memory_bytes, self.processes = memory_bytes, processes
        self.folders = []        # every group made, to join and remove
        self.memory = None       # the group that holds the memory cap
        self.version = None      # "v2" or "v1"
        if os.geteuid() != 0:
            return
        name = f"minigan-grade-{os.getpid()}-{time.monotonic_ns()}"
        parent = _v2_parent({"memory", "pids"})
        if parent is not None and self._make(os.path.join(parent, name), [
                ("memory.max", memory_bytes), ("memory.swap.max", 0), ("pids.max", processes)]):
            self.memory, self.version = self.folders[-1], "v2"
            return
        own = _own_paths()
        if "memory" in own and self._make(os.path.normpath(f"{ROOT}/memory{own['memory']}/{name}"), [
                ("memory.limit_in_bytes", memory_bytes), ("memory.memsw.limit_in_bytes", memory_bytes)]):
            self.memory, self.version = self.folders[-1], "v1"
        if "pids" in own:
            self._make(os.path.normpath(f"{ROOT}/pids{own['pids']}/{name}"), [("pids.max", processes)])

    def _make(self, folder: str, settings: list) -> bool:
        """Make ``folder`` and write its settings (a missing swap file is skipped); False if it cannot."""
        _sweep(os.path.dirname(folder))
        try:
            os.mkdir(folder)
        except OSError:
            return False
        try:
            for file, value in settings:
                if "swap" in file and not os.path.exists(os.path.join(folder, file)):
                    continue
                _write(folder, file, value)
        except OSError:
            _remove(folder)
            return False
        self.folders.append(folder)
        return True

    @property
    def caps_processes(self) -> bool:
        return any(os.path.exists(os.path.join(f, "pids.max")) for f in self.folders)

    def how(self) -> dict:
        """{"memory": ..., "processes": ...}: how each cap is enforced, in words (None: not by a group)."""
        memory = {"v2": "cgroup v2 memory.max", "v1": "cgroup v1 memory.limit_in_bytes"}.get(self.version)
        return {"memory": memory and f"{memory}, for all of the part's processes and its /tmp together",
                "processes": "cgroup pids.max" if self.caps_processes else None}

    def join(self) -> None:
        """Move the calling process into every group (called in the child, before exec)."""
        for folder in self.folders:
            _write(folder, "cgroup.procs", os.getpid())

    def memory_exceeded(self) -> bool:
        """Whether the kernel killed a process of the group for want of memory."""
        if self.memory is None:
            return False
        name = "memory.events" if self.version == "v2" else "memory.oom_control"
        try:
            with open(os.path.join(self.memory, name)) as file:
                counts = dict(line.split() for line in file if len(line.split()) == 2)
        except (OSError, ValueError):
            return False
        return int(counts.get("oom_kill", 0)) > 0 or int(counts.get("under_oom", 0)) > 0

    def remove(self, patience: float = 5.0) -> None:
        for folder in self.folders:
            _remove(folder, patience)
        self.folders = []


def _sweep(parent: str) -> None:
    """Remove the empty groups that graders killed mid-part left in ``parent`` (their process is gone)."""
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        fields = name.split("-")
        if len(fields) == 4 and name.startswith("minigan-grade-") and fields[2].isdigit() \
                and not os.path.exists(f"/proc/{fields[2]}"):
            _remove(os.path.join(parent, name), patience=0)


def _remove(folder: str, patience: float = 5.0) -> None:
    deadline = time.monotonic() + patience
    while True:
        try:
            os.rmdir(folder)
            return
        except FileNotFoundError:
            return
        except OSError:  # its last tasks are still exiting
            if time.monotonic() > deadline:
                return
            time.sleep(0.02)
