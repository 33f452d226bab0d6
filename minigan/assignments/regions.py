"""Solution regions: the marked bodies that a student copy leaves for the student to write.

In the library source a region is the lines between two inert comments, a line
``# BEGIN SOLUTION <id>`` (the part id, e.g. A1.1) and a line ``# END SOLUTION``, both at the
indentation of the body they enclose; ``Mul.backward`` in minigan/ops/arithmetic.py is one.

A region is a block of whole statements at the indentation of its BEGIN line that ends
the function's path, so replacing the lines between the markers by one ``raise`` at that
indentation is still valid Python. Blanking keeps both markers, so a released copy shows
the student where to write and the tools can still find (and fill) the region.
"""
from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

BEGIN = re.compile(r"^(?P<indent>[ \t]*)# BEGIN SOLUTION (?P<id>\S+)[ \t]*$")
END = re.compile(r"^[ \t]*# END SOLUTION[ \t]*$")


@dataclass(frozen=True)
class Region:
    """One marked region: lines ``begin`` and ``end`` hold the markers (0-based line numbers)."""

    part: str      # "A1.3"
    path: Path     # the file it is in
    begin: int     # index of the "# BEGIN SOLUTION" line
    end: int       # index of the "# END SOLUTION" line
    indent: str    # the BEGIN line's indentation: the body's


def find_regions(path: Path, lines: list[str] | None = None) -> list[Region]:
    """The regions in one source file, in order; malformed markers raise ValueError."""
    path = Path(path)
    if lines is None:
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    regions, open_region = [], None
    for number, line in enumerate(lines):
        begin, end = BEGIN.match(line.rstrip("\r\n")), END.match(line.rstrip("\r\n"))
        if begin:
            if open_region is not None:
                raise ValueError(f"{path}:{number + 1}: region {begin['id']} begins inside region {open_region[0]}")
            open_region = (begin["id"], number, begin["indent"])
        elif end:
            if open_region is None:
                raise ValueError(f"{path}:{number + 1}: '# END SOLUTION' without a BEGIN")
            part, start, indent = open_region
            regions.append(Region(part, path, start, number, indent))
            open_region = None
    if open_region is not None:
        raise ValueError(f"{path}:{open_region[1] + 1}: region {open_region[0]} has no '# END SOLUTION'")
    return regions


def find_all_regions(package_dir: Path) -> dict[str, list[Region]]:
    """Every region under a package folder, keyed by part id (a part may span several regions)."""
    found: dict[str, list[Region]] = {}
    for path in sorted(Path(package_dir).rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        for region in find_regions(path):
            found.setdefault(region.part, []).append(region)
    return found


def placeholder(message: str) -> str:
    """The ``raise NotImplementedError("...")`` statement that stands in for a blanked region."""
    if '"' in message or "\\" in message:
        raise ValueError(f"message: got {message!r}, wanted no double quotes or backslashes")
    pieces = textwrap.wrap(message, width=72, drop_whitespace=False)
    if len(pieces) == 1:
        return f'raise NotImplementedError("{message}")'
    body = "".join(f'    "{piece}"\n' for piece in pieces)
    return f"raise NotImplementedError(\n{body})"


def indented(code: str, indent: str) -> list[str]:
    """A code snippet (any indentation) as body lines at ``indent``, each ending in a newline."""
    lines = textwrap.dedent(code).strip("\n").splitlines()
    return [(indent + line if line.strip() else "") + "\n" for line in lines]


def rewrite_regions(path: Path, code: dict[str, str]) -> int:
    """Replace the body of every region of ``path`` whose part id is a key of ``code``.

    ``code`` maps a part id to a snippet, indented here to each region's indentation. The
    markers stay. Returns how many regions were rewritten. The new text must compile
    (a SyntaxError names the file and line), else the file is left as it was.
    """
    path = Path(path)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    regions = [r for r in find_regions(path, lines) if r.part in code]
    for region in reversed(regions):  # from the bottom up, so earlier line numbers stay valid
        lines[region.begin + 1:region.end] = indented(code[region.part], region.indent)
    text = "".join(lines)
    compile(text, str(path), "exec")
    path.write_text(text, encoding="utf-8")
    return len(regions)


def body_of(region: Region) -> str:
    """The code between a region's markers, as it is in the file now."""
    lines = Path(region.path).read_text(encoding="utf-8").splitlines(keepends=True)
    return "".join(lines[region.begin + 1:region.end])


def fill_part(root: Path, part: str, code: str) -> int:
    """Write ``code`` into every region of ``part`` in the copy at ``root``; returns how many.

    For tests and teachers: put a solution (or a planted bug) into one region of a copy.
    """
    regions = find_all_regions(Path(root) / "minigan").get(part, [])
    if not regions:
        raise ValueError(f"part: got {part!r}, wanted a part with a region under {Path(root) / 'minigan'}")
    for path in sorted({r.path for r in regions}):
        rewrite_regions(path, {part: code})
    return len(regions)
