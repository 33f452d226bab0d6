"""Write a student copy: the package with one assignment's regions blanked, ready to install.

The copy holds the minigan package, the packaging files (so ``pip install -e .`` works),
the tutorials and tests that matter for the assignment, and an ASSIGNMENT.md that lists
the parts. It holds nothing of the grader: of minigan/assignments/ only the modules a
student writes or runs are kept (``STUDENT_MODULES``: A4's experiment), and its
``__main__.py`` is copy_main.py, which runs an installed grader or says how the copy is
graded. In it, each region of the assignment's parts becomes

    raise NotImplementedError("A2.3: implement MinimaxGeneratorLoss.backward (hint: ...)")

at the region's indentation, between the kept markers, and the ``VJP:`` text of the
docstrings around it (the op's class, the method) is taken out: the hint asks a question,
the derivation stays in docs/math. Every other region keeps its
solution: earlier assignments' (the student builds on them) and later ones' (so the rest
of the library, its tutorials and its demo still run).
"""
from __future__ import annotations

import ast
import glob
import shutil
from pathlib import Path

from minigan.assignments.catalog import SOURCE_ROOT
from minigan.assignments.catalog import assignment as find_assignment
from minigan.assignments.regions import find_all_regions, find_regions, placeholder, rewrite_regions

PROJECT_FILES = ("setup.cfg", "pyproject.toml", "README.md", "LICENSE")
STUDENT_MODULES = ("experiments.py",)   # all a copy keeps of minigan/assignments/ (A4's regions are there)
COPY_INIT = '''"""A student copy holds no part of the grader; ``python -m minigan.assignments`` says how it is graded.

experiments.py is A4's experiment (a solution region itself).
"""
'''
SHARED_TESTS = ("tests/conftest.py", "tests/strategies.py")


def message(part) -> str:
    """The words of the NotImplementedError that stands in for a part's region."""
    return f"{part.id}: implement {part.title} (hint: {part.hint})"


def release(name: str, out, parts=None, source=None) -> Path:
    """Write a student copy of assignment ``name`` to the new (or empty) folder ``out``.

    parts   optional list of part ids to blank (default: every part of the assignment)
    source  the solution key to copy from (default: the folder holding this minigan)
    Returns the copy's path.
    """
    chosen = find_assignment(name)
    source = SOURCE_ROOT if source is None else Path(source).resolve()
    blank = [p for p in chosen.parts if parts is None or p.id in {str(q).upper() for q in parts}]
    if parts is not None and len(blank) != len(set(parts)):
        ids = ", ".join(p.id for p in chosen.parts)
        raise ValueError(f"parts: got {list(parts)}, wanted parts of {chosen.id}: {ids}")
    out = Path(out).expanduser().resolve()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ValueError(f"out: got {str(out)!r}, which exists and is not an empty folder; wanted a new folder")
    regions = find_all_regions(source / "minigan")
    missing = [p.id for p in blank if p.id not in regions]
    if missing:
        raise ValueError(f"source: no '# BEGIN SOLUTION' region for {', '.join(missing)} in {source / 'minigan'}")

    out.mkdir(parents=True, exist_ok=True)
    grader = (source / "minigan" / "assignments").resolve()

    def leave_out(folder, names):  # bytecode everywhere; in minigan/assignments/, all but STUDENT_MODULES
        dropped = {n for n in names if n == "__pycache__" or n.endswith((".pyc", ".pyo"))}
        if Path(folder).resolve() == grader:
            dropped |= {n for n in names if n not in STUDENT_MODULES}
        return dropped

    shutil.copytree(source / "minigan", out / "minigan", ignore=leave_out)
    shutil.copyfile(grader / "copy_main.py", out / "minigan" / "assignments" / "__main__.py")
    (out / "minigan" / "assignments" / "__init__.py").write_text(COPY_INIT, encoding="utf-8")
    for name_ in PROJECT_FILES:
        if (source / name_).is_file():
            shutil.copy2(source / name_, out / name_)
    for pattern in SHARED_TESTS + tuple(chosen.tests) + tuple(chosen.tutorials):
        for found in sorted(glob.glob(str(source / pattern))):
            target = out / Path(found).relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(found, target)

    # blank the chosen parts, file by file (a part may have regions in several files)
    by_file: dict[Path, dict[str, str]] = {}
    for part in blank:
        for region in regions[part.id]:
            copy = out / Path(region.path).resolve().relative_to(source)
            by_file.setdefault(copy, {})[part.id] = placeholder(message(part))
    for path, code in sorted(by_file.items()):
        rewrite_regions(path, code)
        strip_vjp(path, set(code))
    (out / "ASSIGNMENT.md").write_text(readme(chosen, blank), encoding="utf-8")
    return out


def strip_vjp(path: Path, parts: set) -> None:
    """Take the ``VJP:`` text out of the docstrings of the classes and functions holding ``parts``' regions."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    begins = [r.begin + 1 for r in find_regions(path, lines) if r.part in parts]  # 1-based, as ast counts
    spans = set()
    for node in ast.walk(ast.parse("".join(lines))):
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)) and any(node.lineno <= b <= node.end_lineno for b in begins):
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                spans.add((first.lineno - 1, first.end_lineno))
    for start, end in sorted(spans, reverse=True):  # from the bottom up, so earlier line numbers stay valid
        lines[start:end] = without_vjp(lines[start:end])
    text = "".join(lines)
    compile(text, str(path), "exec")
    path.write_text(text, encoding="utf-8")


def without_vjp(doc: list) -> list:
    """A docstring's lines without its VJP: a "VJP: ..." line and the lines indented under it,
    or, in a one-line docstring, the words from "VJP:" to the closing quotes."""
    out, vjp_indent = [], None
    for line in doc:
        indent = len(line) - len(line.lstrip())
        if vjp_indent is not None:
            if line.strip() and indent > vjp_indent and not line.strip().startswith('"""'):
                continue  # the VJP goes on on this line
            vjp_indent = None
        at = line.find("VJP:")
        if at < 0:
            out.append(line)
        elif not line[:at].strip():  # the line starts with VJP: drop it, and the blank line before it
            vjp_indent = indent
            if out and not out[-1].strip():
                out.pop()
        else:
            close = line.find('"""', at)
            out.append(line[:at].rstrip() + (line[close:] if close >= 0 else "\n"))
    if len(out) == 2 and out[1].strip() == '"""':  # only the summary is left: one line, as PEP 257 has it
        out = [out[0].rstrip("\n") + '"""\n']
    return out


def readme(chosen, blank) -> str:
    """ASSIGNMENT.md for the copy: what to write, where, for how many points, how to check."""
    rows = "\n".join(f"| {p.id} | {p.title} | {p.points} |" for p in blank)
    rows = rows or "| - | nothing: every part is already solved | - |"
    return f"""# {chosen.id}: {chosen.title}

Each part below is a function body in the minigan package that now raises
`NotImplementedError("{chosen.id}.1: implement ...")` with a hint. Find them with

    grep -rn "BEGIN SOLUTION {chosen.id}" minigan

and write each body between its `# BEGIN SOLUTION` and `# END SOLUTION` lines (leave the
markers where they are).

| part | what to write | points |
|------|---------------|--------|
{rows}

Set up and check your work:

    pip install -e ".[test]"
    python -m pytest tests

The grader is not in this copy (it holds the answers): your teacher runs it on your copy
with `python -m minigan.assignments grade {chosen.id} --path <your copy>`. It prints one line of
feedback per part: a failed gradient check names the op, the input and the worst index.
Each part runs in a sandboxed process of its own with a time limit of {chosen.time_limit:g} seconds
and a memory limit of 2 GiB; it runs your `.py` files (never a `.pyc`), and judges what
your code computes, never what it says about itself.
"""
