"""The grader's own files: a fingerprint taken before the student's code runs, checked after each part.

Without bubblewrap the student's code runs as a process of the machine (sandbox.py). It
could rewrite a check, or leave a ``.pyc`` in a ``__pycache__`` folder that Python would run
in place of its ``.py`` the next time the grader imports it. So the grader fingerprints
every file of its own minigan (bytecode included) and every file of every module it has
imported (NumPy's too), and compares after each part:

- a changed or new ``.py`` (or any other file) stops the grading (``GraderTampered``);
- a changed or new ``.pyc`` is harmless when it is the compiled code of its own source
  (another Python process caching it); one that is not is removed, so no later grading
  runs it, and the grading stops.

While it grades, the grader itself reads and writes no bytecode for what it imports
(``no_bytecode``): a planted ``.pyc`` cannot stand in for a check it has not imported yet.
"""
from __future__ import annotations

import hashlib
import importlib.util
import marshal
import os
import sys
import tempfile
from pathlib import Path


class GraderTampered(RuntimeError):
    """The grader's own files changed while a part ran: grading cannot be trusted and stops."""


def tree_files(own: Path) -> set:
    """Every file under the grader's minigan ``own``, bytecode included."""
    return {p for p in own.rglob("*") if p.is_file()}


def watched_files(own: Path) -> set:
    """The tree's files and the files (source and bytecode) of every module imported so far."""
    files = tree_files(own)
    for module in list(sys.modules.values()):
        for name in ("__file__", "__cached__"):
            path = getattr(module, name, None)
            if isinstance(path, str) and os.path.isfile(path):
                files.add(Path(path))
    return files


def fingerprint(files, own: Path) -> dict:
    """path -> the sha256 of the file's bytes for the grader's own tree, and for any other file
    (NumPy's shared libraries can be hundreds of MiB) its inode, size and ctime, which every
    write changes and no user can set back; None where it cannot be read."""
    found = {}
    for path in map(Path, files):
        try:
            if own in path.parents:
                found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                info = path.stat()
                found[str(path)] = f"{info.st_ino}:{info.st_size}:{info.st_ctime_ns}"
        except OSError:
            found[str(path)] = None
    return found


def compiled_from_source(pyc: str) -> bool:
    """Whether ``pyc`` holds exactly the code its ``.py`` compiles to (so Python running it is harmless)."""
    try:
        source = importlib.util.source_from_cache(pyc)
        data = Path(pyc).read_bytes()
        if data[:4] != importlib.util.MAGIC_NUMBER:
            return False
        name = Path(pyc).name  # "checks.cpython-311.pyc", or "checks.cpython-311.opt-1.pyc" for python -O
        level = int(name.split(".opt-")[1].split(".")[0]) if ".opt-" in name else 0
        compiled = compile(Path(source).read_bytes(), source, "exec", dont_inherit=True, optimize=level)
        return marshal.loads(data[16:]) == compiled
    except (ValueError, OSError, EOFError, TypeError, SyntaxError):
        return False


def check(before: dict, own: Path, part: str) -> dict:
    """The fingerprint to compare with after the next part; GraderTampered if anything but harmless
    bytecode changed since ``before`` (a module first imported during the part is not a change)."""
    after = fingerprint(set(map(Path, before)) | tree_files(own), own)
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    harmless = [k for k in changed if k.endswith(".pyc") and after.get(k) and compiled_from_source(k)]
    planted = [k for k in changed if k not in harmless]
    if not planted:
        return {**after, **fingerprint(watched_files(own) - set(map(Path, after)), own)}
    removed = [k for k in planted if k.endswith(".pyc") and after.get(k) and _remove(k)]
    shown = ", ".join(os.path.relpath(k, own) if k.startswith(str(own) + os.sep) else k for k in planted[:3])
    raise GraderTampered(
        f"the grader's own files changed while part {part} ran ({shown}{', ...' if len(planted) > 3 else ''} "
        f"in {own}); "
        + (f"removed {len(removed)} planted bytecode file(s); " if removed else "")
        + "grading stopped: reinstall the grader, and grade with bubblewrap so student code cannot reach them")


def _remove(path: str) -> bool:
    try:
        os.remove(path)
        return True
    except OSError:
        return False


class no_bytecode:
    """Within this block, this process neither reads nor writes ``.pyc`` files for what it imports.

    ``sys.pycache_prefix`` points at an empty private folder (so ``__pycache__`` folders are
    not read) and ``sys.dont_write_bytecode`` keeps it empty. Both are restored after.
    """

    def __enter__(self):
        self.saved = sys.pycache_prefix, sys.dont_write_bytecode
        self.folder = tempfile.TemporaryDirectory(prefix="minigan-grader-nopyc-")
        sys.pycache_prefix, sys.dont_write_bytecode = self.folder.name, True
        return self

    def __exit__(self, *exc):
        sys.pycache_prefix, sys.dont_write_bytecode = self.saved
        self.folder.cleanup()
