"""Zips that come out byte-identical from the same files: the student copy and the Gradescope bundle.

A zip records, for each member, a date, the system that made it and its permissions, and
lists members in the order they were added. Left to themselves these change from one run
(or machine) to the next, so the same release would give a different file and a different
checksum. Here every member gets the same fixed date (1980-01-01, the earliest a zip can
hold), Unix as its system, 0644 (0755 if executable) as its permissions, and the members
are sorted by path and compressed at one fixed level. No folders are stored (unzip makes
them), and bytecode and ``__pycache__`` are left out.
"""
from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

from minigan.assignments.catalog import assignment as find_assignment
from minigan.gan.checkpoint import atomic_file

ZIP_DATE = (1980, 1, 1, 0, 0, 0)
UNIX = 3          # the "made by" system in a zip's member header
LEVEL = 9         # deflate's compression level: fixed, since another level gives other bytes


def member(name: str, executable: bool = False) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.create_system = UNIX
    info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def files_of(folder: Path) -> list:
    """Every regular file below ``folder`` as (posix path relative to it, path), sorted, without bytecode."""
    found = []
    for path in folder.rglob("*"):
        relative = path.relative_to(folder)
        if "__pycache__" in relative.parts or path.suffix == ".pyc" or path.is_symlink() or not path.is_file():
            continue
        found.append((relative.as_posix(), path))
    return sorted(found)


def write_zip(zip_path, members: list) -> Path:
    """Write ``members``, a list of (name in the zip, bytes, executable), sorted by name, atomically."""
    zip_path = Path(zip_path)
    with atomic_file(zip_path, "wb") as file:
        with zipfile.ZipFile(file, "w") as packed:
            for name, data, executable in sorted(members, key=lambda m: m[0]):
                packed.writestr(member(name, executable), data, compresslevel=LEVEL)
    return zip_path


def folder_members(folder: Path, prefix: str = "") -> list:
    """(prefix + path, bytes, executable) for every file of ``folder``, for write_zip."""
    return [(prefix + name, path.read_bytes(), bool(os.stat(path).st_mode & stat.S_IXUSR))
            for name, path in files_of(Path(folder))]


def release_zip(name: str, copy) -> Path:
    """Zip the released copy at ``copy`` as ``A1-student.zip`` beside it; members under ``A1-student/``."""
    chosen = find_assignment(name)
    copy = Path(copy).resolve()
    top = f"{chosen.id}-student"
    return write_zip(copy.parent / f"{top}.zip", folder_members(copy, top + "/"))
