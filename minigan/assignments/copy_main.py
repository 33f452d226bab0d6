"""A student copy's ``minigan/assignments/__main__.py`` (release.py puts this file there).

A copy holds no part of the grader: no checks, no probes, no reference steps, no catalog.
``python -m minigan.assignments ...`` run in a copy (or run by a teacher standing inside
one, where Python finds the copy's minigan first) lands here. If a grader is installed
outside the copy (the teacher's course minigan), this runs it, exactly as the same command
would from any other folder; otherwise it says in one line how the copy is graded.

It needs only the standard library, and finds the installed grader with ``python -I``
started in ``/``, so neither the copy nor the current folder can stand in for it.
"""
import subprocess
import sys
import tempfile
from pathlib import Path

COPY = Path(__file__).resolve().parents[2]
FIND = "import minigan.assignments.launch as launch; print(launch.__file__)"
RUN = ("import sys; sys.path.insert(0, sys.argv.pop(1)); from minigan.assignments.launch import relaunch; "
       "sys.exit(relaunch(sys.argv.pop(1), sys.argv[1:]))")
HOW = ("this is a student copy of minigan, without the grader: your teacher grades it with "
       "`python -m minigan.assignments grade A1 --path <this folder>` using the course's minigan; "
       "check your own work with `python -m pytest tests`")


def clean_python(prefix: str) -> list:
    """A Python with no current folder on its path, reading and writing no bytecode."""
    return [sys.executable, "-I", "-B", "-X", f"pycache_prefix={prefix}"]


def installed_grader(prefix: str):
    """The ``launch.py`` of a grader installed outside this copy, or None."""
    found = subprocess.run([*clean_python(prefix), "-c", FIND], capture_output=True, text=True, cwd="/")
    path = Path(found.stdout.strip() or "/").resolve()
    if found.returncode != 0 or path.name != "launch.py" or COPY == path or COPY in path.parents:
        return None
    return path


def main(argv) -> int:
    with tempfile.TemporaryDirectory(prefix="minigan-nopyc-") as prefix:
        launch = installed_grader(prefix)
        if launch is None:
            print(HOW, file=sys.stderr)
            return 2
        grader_main = launch.parent / "__main__.py"
        return subprocess.call([*clean_python(prefix), "-c", RUN, str(launch.parents[2]), str(grader_main), *argv])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
