"""Run the grader's command line in a Python that the current folder cannot reach.

``python -m minigan.assignments`` puts the current folder first on ``sys.path``. Run from
the folder that holds a checkout named ``minigan``, ``import minigan`` finds that folder (an
empty namespace package) instead of the package; run from inside a student's copy, it
finds the copy's minigan. Either way the verdict would depend on where the teacher stood.
So ``__main__`` hands its arguments to ``relaunch``, which runs them again as

    python -I -B -X pycache_prefix=EMPTY -c "...; sys.path.insert(0, ROOT); main()" ARGS...

- ``-I``: no current folder on the path, no ``PYTHON*`` variables, no user site-packages;
- ROOT: the folder that holds this minigan, found from this file's own path;
- ``-B`` and an empty ``pycache_prefix``: no bytecode read or written, so a ``.pyc`` planted
  in a ``__pycache__`` folder cannot stand in for the grader's code.

The arguments keep their meaning (``--path .`` is still the current folder). This file
needs only the standard library: it runs before anything else of the grader is imported.
"""
from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
from pathlib import Path

CLEAN_MAIN = ("import sys; sys.path.insert(0, sys.argv.pop(1)); "
              "from minigan.assignments.__main__ import main; sys.exit(main(sys.argv[1:]))")


def command(root, argv, prefix) -> list:
    """The command that runs the grader at ``root`` on ``argv``, reading bytecode only from ``prefix``."""
    return [sys.executable, "-I", "-B", "-X", f"pycache_prefix={prefix}", "-c", CLEAN_MAIN, str(root), *argv]


def run_to_the_end(cmd: list) -> int:
    """Run ``cmd`` and wait until it has finished, whatever signal arrives meanwhile.

    Ctrl-C in a terminal reaches every process of the foreground group, the clean Python
    included, which stops itself cleanly (grade-class saves what it graded and says how to
    go on). So this process only waits: it must not kill the child in the middle of that, as
    ``subprocess.call`` does on KeyboardInterrupt. A SIGTERM sent to this process alone is
    passed on. (A handler, not SIG_IGN, so that the child starts with Python's own.)
    Returns the child's exit status, 128 + n when signal n killed it.
    """
    process, early = None, []

    def pass_on(signum, frame):
        if signum != signal.SIGTERM:
            return
        if process is None:
            early.append(signum)          # before Popen returned: passed on just after
        else:
            process.send_signal(signum)

    previous = {s: signal.signal(s, pass_on) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        process = subprocess.Popen(cmd)
        for signum in early:
            process.send_signal(signum)
        status = process.wait()
        return 128 - status if status < 0 else status     # killed by signal n: 128 + n, as a shell says
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def relaunch(main_file: str, argv: list) -> int:
    """Run the command line of the grader whose ``__main__.py`` is ``main_file`` in a clean Python."""
    root = Path(main_file).resolve().parents[2]
    with tempfile.TemporaryDirectory(prefix="minigan-grader-nopyc-") as prefix:
        return run_to_the_end(command(root, argv, prefix))
