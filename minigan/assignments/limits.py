"""What one part's processes may use, and how the report says it was enforced.

Per process, by ``setrlimit`` (sandbox.py sets them in the child before it starts the
student's code): address space, CPU time, file size, and the user's process count. For
the part as a whole, where a control group can be made (cgroups.py): memory, pages in the
private /tmp included, and processes. The private /tmp itself is a tmpfs of ``tmp_bytes``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """What one part's process may use. ``cpu_seconds=None``: twice the part's time limit."""

    memory_bytes: int = 2 * 2**30      # 2 GiB: each process's address space, and the part's memory
    cpu_seconds: float | None = None   # (all its processes and its /tmp together) where a cgroup holds it
    processes: int = 64                # processes the student's code may start
    file_bytes: int = 64 * 2**20       # the largest file it may write
    tmp_bytes: int = 256 * 2**20       # the size of the sandbox's private /tmp (a tmpfs)

    def describe(self, what: str) -> str:
        if what == "memory":
            return f"memory limit of {_size(self.memory_bytes)} exceeded"
        if what == "memory of the part":
            return f"memory limit of {_size(self.memory_bytes)} for the part's processes and its /tmp together " \
                   "exceeded (the kernel stopped one of them)"
        if what == "tmp":
            return f"the private /tmp's size limit of {_size(self.tmp_bytes)} exceeded"
        if what == "file":
            return f"file-size limit of {_size(self.file_bytes)} exceeded"
        if what == "processes":
            return f"process limit of {self.processes} exceeded"
        return f"CPU-time limit of {self.cpu_seconds:g} s exceeded"

    def enforced(self, sandboxed: bool, group_how: dict) -> dict:
        """The report's ``"limits"``: each limit, its value, and how it was enforced (in words)."""
        per_process = "setrlimit RLIMIT_AS, per process"
        if not group_how.get("memory"):
            per_process += f" (not the part as a whole: up to {self.processes} processes of it each)"
        nproc = "setrlimit RLIMIT_NPROC" + (" (which Linux does not enforce for root)" if os.geteuid() == 0 else "")
        return {"memory_bytes": {"value": self.memory_bytes, "how": group_how.get("memory") or per_process},
                "address_space_bytes": {"value": self.memory_bytes, "how": per_process},
                "tmp_bytes": {"value": self.tmp_bytes if sandboxed else None,
                              "how": "bubblewrap --size on the private /tmp (a tmpfs)" if sandboxed else
                              "none: not sandboxed, /tmp is the machine's (each file within file_bytes)"},
                "processes": {"value": self.processes, "how": group_how.get("processes") or nproc},
                "cpu_seconds": {"value": self.cpu_seconds, "how": "setrlimit RLIMIT_CPU, per process"},
                "file_bytes": {"value": self.file_bytes, "how": "setrlimit RLIMIT_FSIZE, per file"}}


def _size(n: int) -> str:
    return f"{n / 2**30:g} GiB" if n >= 2**30 else f"{n / 2**20:g} MiB"
