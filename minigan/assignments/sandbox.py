"""The wall around the student's code: a sandboxed process, its limits, and its end.

What runs is what the teacher reads: the grader copies the ``.py`` files of the copy's
minigan/ (regular files only: no ``__pycache__``, no ``.pyc`` or ``.so``, no symbolic links)
into a private folder, and the student's Python runs that with ``-B`` (no bytecode written).

The student's process (harness.py) runs under bubblewrap (``bwrap``) where it can make
namespaces. It sees, read-only, that snapshot of the copy, the Python interpreter with its
standard library, the shared libraries it loads (/usr/lib) and the packages in
``PACKAGES``; nothing else of the machine (no grader
files, no reference minigan, no home folder, no site-packages). It gets a private /tmp (a
tmpfs of ``Limits.tmp_bytes``), no network, its own PID namespace (so it cannot see or
signal the grader, and everything it starts dies with it) and ``--die-with-parent``.

Where bwrap is missing or cannot make namespaces, the process is a plain subprocess:
``python -I -S -B`` with a clean environment, a temporary working folder and HOME, and
``sys.path`` holding only the snapshot and a folder of links to ``PACKAGES``. That keeps
the grader's own minigan off the path, but the code still runs with the teacher's
permissions (it can read and write what the teacher can: tamper.py watches the grader's
own files): it is not a sandbox, and the report says so.

Either way the process runs under resource limits (``Limits``): per process (address
space, CPU time, file size), and for the part as a whole where a control group can be
made (cgroups.py: memory, /tmp included, and processes). When the part ends, every
process it started is killed and the kill is verified.
"""
from __future__ import annotations

import importlib.util
import json
import math
import os
import resource
import shutil
import signal
import site
import stat
import subprocess
import sys
import sysconfig
from functools import lru_cache
from pathlib import Path

from minigan.assignments import cgroups, processes, wire
from minigan.assignments.limits import Limits

PACKAGES = ("numpy", "array_api_strict")  # all the checks' probes need besides the copy and the stdlib
HARNESS_FILES = ("harness.py", "probes.py", "wire.py")
HERE = Path(__file__).resolve().parent
INSTALL_HINT = "install bubblewrap (sudo apt-get install bubblewrap) to grade inside a sandbox"
SNAPSHOT_BYTES = 64 * 2**20  # the most .py source a copy's minigan/ may hold


class StudentTimeout(Exception):
    """The student's process did not answer within the part's time limit."""


class StudentDied(Exception):
    """The student's process ended (or broke the channel) before it answered."""


class CopyRefused(Exception):
    """The copy cannot be graded as it is (its message says why, for the student)."""


# ---- which sandbox -----------------------------------------------------------------------------
@lru_cache(maxsize=1)
def bwrap_problem() -> str | None:
    """None if bubblewrap runs here; else why not, in a few words."""
    path = shutil.which("bwrap")
    if path is None:
        return "bubblewrap (bwrap) is not installed"
    try:
        done = subprocess.run([path, "--unshare-all", "--die-with-parent", *_system_binds(), "--proc", "/proc",
                               "--dev", "/dev", _interpreter(), "-S", "-c", "pass"],
                              capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bwrap failed to start ({error})"
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip().splitlines()
        return f"bwrap cannot make its namespaces here ({reason[-1] if reason else done.returncode})"
    return None


def _interpreter() -> str:
    return os.path.realpath(sys.executable)


def _system_binds() -> list:
    """bwrap arguments that show the interpreter, its standard library and the libraries it loads."""
    args, bound = [], []
    for top in ("/lib", "/lib32", "/lib64", "/libx32", "/usr/lib", "/usr/lib32", "/usr/lib64", "/usr/libx32"):
        if os.path.islink(top):  # merged /usr: /lib -> usr/lib
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
            bound.append(top)
    prefix = os.path.realpath(sys.base_prefix)
    # the distribution's Python: its binary (the stdlib is in /usr/lib); any other (pyenv, conda,
    # /usr/local): its whole prefix, which holds the binary, libpython and the stdlib
    path = _interpreter() if prefix == "/usr" else prefix
    if not any(path.startswith(b + "/") for b in bound):
        args += ["--ro-bind", path, path]
        bound.append(path)
    for hidden in _hidden_dirs():  # site-packages inside those trees: another minigan may be installed there
        if any(hidden == b or hidden.startswith(b + "/") for b in bound):
            args += ["--tmpfs", hidden]
    return args


def _hidden_dirs() -> list:
    """Every package folder the interpreter knows, plus this minigan's own tree, that exists."""
    found = set(site.getsitepackages() + [site.getusersitepackages()])
    for base in {sys.base_prefix, sys.prefix}:
        paths = sysconfig.get_paths(vars={"base": base, "platbase": base})
        found.update({paths["purelib"], paths["platlib"]})
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    found.update({"/usr/lib/python3/dist-packages", f"/usr/local/lib/{version}/dist-packages",
                  f"/usr/local/lib/{version}/site-packages", f"/usr/lib/{version}/site-packages",
                  str(HERE.parents[1])})
    return sorted({os.path.realpath(p) for p in found if p and os.path.isdir(p)})


def snapshot(copy: Path, into: Path) -> Path:
    """Copy the ``.py`` files of ``copy``/minigan into ``into``/minigan; return ``into``.

    Regular files and folders only: a symbolic link (which could point at the solution key),
    bytecode, a compiled extension or any other file stays behind, so the code that runs is
    the code in the copy's ``.py`` files. CopyRefused if they hold more than SNAPSHOT_BYTES.
    """
    if os.path.islink(copy / "minigan"):  # os.walk would follow it: to the solution key, say
        raise CopyRefused("the copy's minigan/ is a symbolic link, not the student's own folder")
    total = 0
    into.mkdir(mode=0o755)
    for folder, subfolders, files in os.walk(copy / "minigan"):  # os.walk does not follow links
        subfolders[:] = sorted(d for d in subfolders if d != "__pycache__"
                               and not os.path.islink(os.path.join(folder, d)))
        target = into / Path(folder).relative_to(copy)
        target.mkdir(mode=0o755, exist_ok=True)
        for name in sorted(files):
            source = os.path.join(folder, name)
            info = os.lstat(source)
            if not name.endswith(".py") or not stat.S_ISREG(info.st_mode):
                continue
            total += info.st_size
            if total > SNAPSHOT_BYTES:
                raise CopyRefused(f"the copy's minigan/ holds more than {SNAPSHOT_BYTES >> 20} MiB of .py files")
            shutil.copyfile(source, target / name, follow_symlinks=False)
            os.chmod(target / name, 0o644)
    return into


def package_dirs() -> dict:
    """name -> folder of each package in PACKAGES that is installed, with its ``.libs`` folder (wheels)."""
    dirs = {}
    for name in PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            continue
        folder = Path(list(spec.submodule_search_locations)[0]).resolve()
        dirs[name] = folder
        libs = folder.parent / f"{name}.libs"
        if libs.is_dir():
            dirs[libs.name] = libs
    return dirs


# ---- the process -------------------------------------------------------------------------------
def _environment(home: str) -> dict:
    env = {"HOME": home, "TMPDIR": home, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0",
           "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # some processors need them (see docs/performance.md)
        if name in os.environ:
            env[name] = os.environ[name]
    return env


class StudentProcess:
    """One part's student process: start it, send it requests, end it (``with`` does that)."""

    def __init__(self, copy: Path, scratch: Path, limits: Limits, sandboxed: bool):
        self.copy, self.scratch, self.limits, self.sandboxed = Path(copy), Path(scratch), limits, sandboxed
        self.process = None
        self.pid_namespace = None
        self.before = set()
        self.processes_left = 0
        self.stderr_path = self.scratch / "stderr.txt"
        self.cgroup = None
        self.code = self.scratch / "copy"  # the snapshot of the copy that runs (snapshot())

    # -- start
    def command(self, info_fd=None) -> list:
        harness = self.scratch / "harness"
        harness.mkdir()
        for name in HARNESS_FILES:  # fresh copies: the student's process never sees the grader's own files
            shutil.copyfile(HERE / name, harness / name)
        if not self.sandboxed:
            site_dir = self.scratch / "site"
            site_dir.mkdir()
            for name, folder in package_dirs().items():
                (site_dir / name).symlink_to(folder, target_is_directory=True)
            return [_interpreter(), "-I", "-S", "-B", str(harness / "harness.py"), str(self.code), str(site_dir)]
        args = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--info-fd", str(info_fd),
                *_system_binds(), "--ro-bind", str(self.code), "/sandbox/copy",
                "--ro-bind", str(harness), "/sandbox/harness"]
        for name, folder in package_dirs().items():
            args += ["--ro-bind", str(folder), f"/sandbox/site/{name}"]
        args += ["--dir", "/sandbox/site", "--proc", "/proc", "--dev", "/dev",
                 "--size", str(self.limits.tmp_bytes), "--tmpfs", "/tmp", "--chdir", "/tmp", "--clearenv"]
        for name, value in _environment("/tmp").items():
            args += ["--setenv", name, value]
        return args + [_interpreter(), "-I", "-S", "-B", "/sandbox/harness/harness.py", "/sandbox/copy",
                       "/sandbox/site"]

    def start(self, timeout: float) -> dict:
        """Start the process and wait for its hello: {"ready": ..., "minigan": path} or {"error": ...}."""
        home = self.scratch / "home"
        home.mkdir()
        snapshot(self.copy, self.code)
        limits = self.limits
        nproc = processes.running_processes() + limits.processes  # RLIMIT_NPROC counts all of this user's
        self.cgroup = cgroup = cgroups.PartCgroup(limits.memory_bytes, limits.processes)

        def limit():  # runs in the child, before exec: bwrap and all it starts inherit the limits
            cpu = math.ceil(limits.cpu_seconds)
            for which, value in ((resource.RLIMIT_AS, limits.memory_bytes), (resource.RLIMIT_CPU, cpu),
                                 (resource.RLIMIT_FSIZE, limits.file_bytes), (resource.RLIMIT_NPROC, nproc),
                                 (resource.RLIMIT_CORE, 0)):
                try:
                    resource.setrlimit(which, (value, value + (which == resource.RLIMIT_CPU)))  # CPU: SIGXCPU first
                except (ValueError, OSError):  # a limit this system cannot set (RLIMIT_AS on macOS)
                    pass
            cgroup.join()

        info_read, info_write = os.pipe() if self.sandboxed else (None, None)
        command = self.command(info_write)
        self.before = processes.descendants()
        with open(self.stderr_path, "wb") as stderr:
            self.process = subprocess.Popen(
                command, cwd=home, env=_environment(str(home)), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=stderr, preexec_fn=limit, start_new_session=True,
                pass_fds=(info_write,) if self.sandboxed else ())
        if self.sandboxed:
            os.close(info_write)
            self._read_namespace(info_read)
        return self.receive(timeout)

    def _read_namespace(self, fd: int) -> None:
        """bwrap writes {"child-pid": N} on its info fd; N's PID namespace is the sandbox's."""
        with os.fdopen(fd, "rb") as info:
            text = info.read(4096)
        try:
            child = json.loads(text.decode())["child-pid"]
            self.pid_namespace = os.readlink(f"/proc/{child}/ns/pid")
        except (ValueError, KeyError, OSError):
            self.pid_namespace = None

    # -- talk
    def request(self, probe: str, timeout: float, max_elements: int = wire.MAX_ELEMENTS, **args) -> dict:
        """Send one request; return the decoded reply ({"result": ...} or {"error": ...}), refused
        (WireError) if it declares more than ``max_elements`` array elements."""
        self._send(wire.encode({"probe": probe, "args": args}), timeout)
        return self.receive(timeout, max_elements)

    def _send(self, data: bytes, timeout: float) -> None:
        try:
            wire.send_within(self.process.stdin.fileno(), data, timeout)
        except TimeoutError:
            raise StudentTimeout() from None
        except (BrokenPipeError, ConnectionResetError):
            raise StudentDied() from None

    def receive(self, timeout: float, max_elements: int = wire.MAX_ELEMENTS):
        """One reply, read within ``timeout`` seconds; StudentTimeout, StudentDied or WireError if not."""
        try:
            limit = min(wire.MAX_BYTES, 16 * max_elements + 2**20)  # complex128 is 16 bytes, plus headers and JSON
            return wire.decode(wire.receive_within(self.process.stdout.fileno(), timeout, limit), max_elements)
        except TimeoutError:
            raise StudentTimeout() from None
        except EOFError:
            raise StudentDied() from None

    # -- end
    def exit_signal(self) -> int | None:
        """The signal that ended the student's process (None if it exited, or still runs)."""
        try:
            code = self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return None
        if code < 0:
            return -code
        return code - 128 if self.sandboxed and code > 128 else None  # bwrap exits 128 + the child's signal

    def exit_status(self):
        return self.process.poll()

    def memory_exceeded(self) -> bool:
        """Whether the kernel stopped one of the part's processes at the part's memory limit (cgroup)."""
        return self.cgroup is not None and self.cgroup.memory_exceeded()

    def last_stderr_line(self) -> str:
        try:
            with open(self.stderr_path, "rb") as file:
                file.seek(max(0, os.path.getsize(self.stderr_path) - 4096))
                lines = [x for x in file.read().decode("utf-8", "replace").splitlines() if x.strip()]
        except OSError:
            return ""
        return lines[-1].strip() if lines else ""

    def close(self) -> None:
        """Kill the process and all it started; count what could not be killed (should be 0)."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self.processes_left = len(processes.kill_all(self._leftovers))
        if self.cgroup is not None:
            self.cgroup.remove()

    def _leftovers(self) -> set:
        """Sandboxed: every process in its PID namespace (killing bwrap ends it; this waits for
        the kernel to finish). Not sandboxed: the processes below the grader that were not
        there before the part started."""
        if self.sandboxed:
            return processes.in_namespace(self.pid_namespace) if self.pid_namespace else set()
        return processes.descendants() - self.before

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
