"""Unpack a student's submission safely: a folder, a .zip or a .tar.gz, named by the student's id.

A submission is untrusted input before its code ever runs. An archive could write outside
the folder it is unpacked into (an absolute path, a ``../`` member, a member written
through a link it made earlier), point a link at the teacher's files, make a device file,
or expand from a few kilobytes into gigabytes (a zip bomb). So every member is checked
before anything is written:

- its path is relative, without ``..``, and not through a link (links are made last);
- it is a file, a folder or a link that stays inside the folder; nothing else;
- the members are at most ``MAX_MEMBERS``; the archive is at most ``MAX_PACKED`` bytes and
  what it unpacks to at most ``MAX_UNPACKED`` bytes, counted as the bytes are written
  (what an archive declares is not believed).

A folder submission is copied under the same rules. Anything refused raises
``BadSubmission`` with a one-line reason; the class grader makes it that student's
"error: bad archive", never the class's crash.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import re
import shutil
import stat
import tarfile
import zipfile
from pathlib import Path

MAX_PACKED = 50 * 2**20      # bytes of the archive itself (a released copy zips to about 0.4 MiB)
MAX_UNPACKED = 200 * 2**20   # bytes of everything it unpacks to (a copy is about 1.2 MiB)
MAX_MEMBERS = 5000           # files, folders and links (a copy has about 120 files)
CHUNK = 2**16
ARCHIVES = (".zip", ".tar.gz", ".tgz")
STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}")
SKIPPED = ("__pycache__", ".git")  # never unpacked: bytecode is not the code the teacher reads


class BadSubmission(Exception):
    """A submission that cannot be unpacked safely; the message is the one-line reason."""


# ---- which submissions ----------------------------------------------------------------------------
def student_id(entry: Path) -> str:
    """"alice.tar.gz" -> "alice"; a folder keeps its whole name."""
    name = entry.name
    if entry.is_dir() and not entry.is_symlink():
        return name
    for suffix in ARCHIVES:
        if name.lower().endswith(suffix):
            return name[:-len(suffix)]
    return name


def find_submissions(folder) -> tuple[dict, list]:
    """({student id: entry}, [one-line notes on what was skipped]) for the entries of ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"submissions: got {str(folder)!r}, wanted a folder holding one entry per student")
    found, notes = {}, []
    for entry in sorted(folder.iterdir()):
        is_archive = entry.name.lower().endswith(ARCHIVES)
        if entry.name.startswith("."):
            continue
        if entry.is_symlink():
            notes.append(f"skipped {entry.name!r}: a link (copy the submission itself into the folder)")
        elif not (entry.is_dir() or (entry.is_file() and is_archive)):
            notes.append(f"skipped {entry.name!r}: neither a folder nor a .zip, .tar.gz or .tgz")
        elif not STUDENT_ID.fullmatch(student_id(entry)):
            notes.append(f"skipped {ascii(entry.name)}: a student id is letters, digits and ._@+- (at most 100)")
        elif student_id(entry) in found:
            notes.append(f"skipped {entry.name!r}: student {student_id(entry)} already has "
                         f"{found[student_id(entry)].name!r}")
        else:
            found[student_id(entry)] = entry
    return found, notes


def fingerprint(entry: Path) -> str:
    """sha256 of an archive's bytes, or of a folder's listing (paths, sizes, times): changes when it does."""
    digest = hashlib.sha256()
    if entry.is_dir():
        for path in sorted(entry.rglob("*")):
            info = path.lstat()
            digest.update(f"{path.relative_to(entry)}\0{info.st_size}\0{info.st_mtime_ns}\n".encode(errors="replace"))
    else:
        with open(entry, "rb") as file:
            for block in iter(lambda: file.read(CHUNK), b""):
                digest.update(block)
    return digest.hexdigest()


# ---- unpacking ------------------------------------------------------------------------------------
class Writer:
    """Writes members under ``root`` after checking each one, counting members and bytes."""

    def __init__(self, root: Path):
        self.root, self.members, self.bytes, self.links = root, 0, 0, []

    def member_path(self, name: str) -> Path | None:
        """The checked destination of member ``name`` (None: a member that is skipped)."""
        self.members += 1
        if self.members > MAX_MEMBERS:
            raise BadSubmission(f"more than {MAX_MEMBERS} members")
        shown = ascii(name)[1:-1][:120]
        if "\0" in name or "\\" in name or re.match(r"[A-Za-z]:", name):
            raise BadSubmission(f"a member's name is not a plain relative path ({shown})")
        if name.startswith("/"):
            raise BadSubmission(f"a member has an absolute path ({shown})")
        parts = [p for p in name.split("/") if p not in ("", ".")]
        if ".." in parts:
            raise BadSubmission(f"a member's path leaves the folder ({shown})")
        if not parts or any(p in SKIPPED for p in parts) or parts[-1].endswith(".pyc"):
            return None
        return self.root.joinpath(*parts)

    def folder(self, path: Path) -> None:
        for parent in reversed([path, *path.parents]):
            if parent == self.root or self.root not in parent.parents:
                continue
            if parent.is_symlink() or (parent.exists() and not parent.is_dir()):
                raise BadSubmission(f"a member is written through a link or a file "
                                    f"({ascii(str(parent.relative_to(self.root)))[1:-1]})")
            if not parent.exists():
                parent.mkdir()

    def file(self, path: Path, source) -> None:
        """Copy the stream ``source`` to ``path``, stopping at the unpacked-size cap."""
        self.folder(path.parent)
        if path.is_symlink() or path.exists():
            raise BadSubmission(f"two members have the same path ({ascii(str(path.relative_to(self.root)))[1:-1]})")
        with open(path, "xb") as out:
            for block in iter(lambda: source.read(CHUNK), b""):
                self.bytes += len(block)
                if self.bytes > MAX_UNPACKED:
                    raise BadSubmission(f"it unpacks to more than {MAX_UNPACKED // 2**20} MiB")
                out.write(block)

    def link(self, path: Path, target: str) -> None:
        self.links.append((path, target))  # made after every file: nothing is ever written through one

    def finish(self) -> None:
        for path, target in self.links:
            where = ascii(str(path.relative_to(self.root)))[1:-1]
            if os.path.isabs(target) or "\0" in target:
                raise BadSubmission(f"a link leaves the folder ({where} -> {ascii(target)[1:-1][:80]})")
            self.folder(path.parent)
            if path.is_symlink() or path.exists():
                raise BadSubmission(f"two members have the same path ({where})")
            os.symlink(target, path)
        for path, target in self.links:  # resolved on disk, through every other link
            real = Path(os.path.realpath(path))
            if real != self.root and self.root not in real.parents:
                raise BadSubmission(f"a link leaves the folder ({ascii(str(path.relative_to(self.root)))[1:-1]} "
                                    f"-> {ascii(target)[1:-1][:80]})")


class CappedReader:
    """A stream that refuses to give more than ``cap`` bytes (a tar.gz is read through it)."""

    def __init__(self, stream, cap: int):
        self.stream, self.left = stream, cap

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(CHUNK if size is None or size < 0 else size)
        self.left -= len(data)
        if self.left < 0:
            raise BadSubmission(f"it unpacks to more than {MAX_UNPACKED // 2**20} MiB")
        return data


def _unzip(archive: Path, writer: Writer) -> None:
    with zipfile.ZipFile(archive) as packed:
        members = packed.infolist()
        if len(members) > MAX_MEMBERS:
            raise BadSubmission(f"more than {MAX_MEMBERS} members")
        for info in members:
            path = writer.member_path(info.filename)
            mode = info.external_attr >> 16
            if info.flag_bits & 0x1:
                raise BadSubmission("a member is encrypted")
            if path is None:
                continue
            kind = stat.S_IFMT(mode)  # 0 where the zip did not say (Windows, Python's writestr)
            if info.is_dir() or kind == stat.S_IFDIR:
                writer.folder(path)
            elif kind == stat.S_IFLNK:
                with packed.open(info) as source:
                    writer.link(path, source.read(4097).decode("utf-8", "replace")[:4096])
            elif kind not in (0, stat.S_IFREG):
                raise BadSubmission(f"a member is a device, pipe or socket ({ascii(info.filename)[1:-1][:120]})")
            else:
                with packed.open(info) as source:
                    writer.file(path, source)


def _untar(archive: Path, writer: Writer) -> None:
    with gzip.open(archive, "rb") as unzipped:
        # stream mode ("r|"): members are read in order, through a reader that caps the bytes
        with tarfile.open(fileobj=CappedReader(unzipped, MAX_UNPACKED + 2**20), mode="r|") as packed:
            for info in packed:
                path = writer.member_path(info.name)
                if path is None:
                    continue
                if info.isdir():
                    writer.folder(path)
                elif info.issym():
                    writer.link(path, info.linkname)
                elif info.islnk():  # a hard link: a copy of a member already written
                    source = writer.member_path(info.linkname)
                    writer.members -= 1
                    if source is None or not source.is_file() or source.is_symlink():
                        raise BadSubmission(f"a hard link points outside the archive ({ascii(info.name)[1:-1][:120]})")
                    with open(source, "rb") as stream:
                        writer.file(path, stream)
                elif info.isreg():
                    writer.file(path, packed.extractfile(info))
                else:
                    raise BadSubmission(f"a member is a device, pipe or socket ({ascii(info.name)[1:-1][:120]})")


def _copy_folder(folder: Path, writer: Writer) -> None:
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        target = writer.member_path(name)
        if target is None:
            continue
        if path.is_symlink():
            writer.link(target, os.readlink(path))
        elif path.is_dir():
            writer.folder(target)
        elif path.is_file():
            with open(path, "rb") as source:
                writer.file(target, source)
        else:
            raise BadSubmission(f"a member is a device, pipe or socket ({ascii(name)[1:-1][:120]})")


def unpack(entry, dest) -> Path:
    """Unpack (or copy) the submission ``entry`` into the new folder ``dest``; return the copy's root,
    the folder holding ``minigan/__init__.py`` (``dest`` itself or one folder below it)."""
    entry, dest = Path(entry), Path(dest).resolve()
    dest.mkdir(parents=True)
    writer = Writer(dest)
    name = entry.name.lower()
    try:
        if entry.is_dir():
            _copy_folder(entry, writer)
        else:
            if entry.stat().st_size > MAX_PACKED:
                raise BadSubmission(f"the archive is larger than {MAX_PACKED // 2**20} MiB")
            if name.endswith(".zip"):
                _unzip(entry, writer)
            else:
                _untar(entry, writer)
        writer.finish()
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, gzip.BadGzipFile, zipfile.LargeZipFile) as error:
        raise BadSubmission(f"not a readable archive ({type(error).__name__}: {str(error)[:120]})") from None
    except (OSError, NotImplementedError, RuntimeError) as error:  # unsupported compression, a name too long...
        raise BadSubmission(f"cannot be unpacked ({type(error).__name__}: {str(error)[:120]})") from None
    if writer.members == 0:
        raise BadSubmission("the submission is empty")
    return find_copy(dest)


def find_copy(dest: Path) -> Path:
    """The folder holding the minigan package: ``dest`` or its only subfolder that holds one."""
    if (dest / "minigan" / "__init__.py").is_file():
        return dest
    below = [p for p in sorted(dest.iterdir()) if p.is_dir() and not p.is_symlink()
             and (p / "minigan" / "__init__.py").is_file()]
    if len(below) == 1:
        return below[0]
    raise BadSubmission("no minigan/ package in it" if not below else "more than one minigan/ package in it")


def remove(folder) -> None:
    """Remove an unpacked copy (links are removed, never followed)."""
    shutil.rmtree(folder, ignore_errors=True)
