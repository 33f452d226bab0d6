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

import subprocess
import sys
import tempfile
from pathlib import Path

CLEAN_MAIN = ("import sys; sys.path.insert(0, sys.argv.pop(1)); "
              "from minigan.assignments.__main__ import main; sys.exit(main(sys.argv[1:]))")


def command(root, argv, prefix) -> list:
    """The command that runs the grader at ``root`` on ``argv``, reading bytecode only from ``prefix``."""
    return [sys.executable, "-I", "-B", "-X", f"pycache_prefix={prefix}", "-c", CLEAN_MAIN, str(root), *argv]


def relaunch(main_file: str, argv: list) -> int:
    """Run the command line of the grader whose ``__main__.py`` is ``main_file`` in a clean Python."""
    root = Path(main_file).resolve().parents[2]
    with tempfile.TemporaryDirectory(prefix="minigan-grader-nopyc-") as prefix:
        try:
            return subprocess.call(command(root, argv, prefix))
        except KeyboardInterrupt:  # Ctrl-C reached the clean Python too; it has already stopped
            return 130
