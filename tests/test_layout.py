"""The package reads in order: the engine, the blocks, Algorithm 1, then what is built on them.

Three things keep the layout true as the code grows:
- every import in minigan (read with ``ast``, lazy imports inside functions included) points
  down the layers listed once below, never up, and no two modules import each other except
  the pair the engine needs (autograd <-> ops, autograd <-> backprop, written where it happens);
- every dotted ``minigan.x.y`` path and every ``minigan/...py`` file the docs, tutorials,
  benchmarks and README mention exists;
- the reading map in minigan/__init__.py and docs/index.md names every top-level part, and
  its line counts are near the truth.
"""
from __future__ import annotations

import ast
import importlib
import pathlib
import re

import pytest

import minigan

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "minigan"

# The layers, bottom first. A module may import from its own layer and the ones before it.
LAYERS = [
    ("engine", ["minigan.backend", "minigan.threads", "minigan.autograd", "minigan.backprop", "minigan.ops",
                "minigan.gradcheck"]),
    ("blocks", ["minigan", "minigan.nn", "minigan.losses", "minigan.optim", "minigan.data"]),
    ("algorithm 1", ["minigan.gan"]),
    ("built on it", ["minigan.runs", "minigan.variants", "minigan.judging", "minigan.interop"]),
    ("programs", ["minigan.demo", "minigan.lab", "minigan.assignments"]),
]
# The one cycle allowed, the engine's core: a Tensor's methods call the ops, the ops make
# Tensors, and backward() (the walk, in backprop) walks Tensors and calls ops. PyTorch's
# autograd and its ops meet the same way. Every other import is one way.
ENGINE_CORE = ("minigan.autograd", "minigan.backprop", "minigan.ops")
PROGRAMS = dict(LAYERS)["programs"]


def module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def part_of(name: str) -> str:
    """The layer entry a module belongs to: the longest listed prefix."""
    entries = [entry for _, entries in LAYERS for entry in entries]
    matches = [e for e in entries if name == e or name.startswith(e + ".")]
    return max(matches, key=len)


def rank(name: str) -> int:
    entry = part_of(name)
    return next(i for i, (_, entries) in enumerate(LAYERS) if entry in entries)


def imports_of(path: pathlib.Path, name: str) -> set:
    """The minigan modules ``path`` imports, resolved to modules that exist."""
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return {m for m in found if m == "minigan" or m.startswith("minigan.")}


GRAPH = {name: imports_of(path, name) - {name} for name, path in MODULES.items()}


def test_every_module_has_a_layer():
    for name in MODULES:
        assert part_of(name), f"{name} is in no layer: add it to LAYERS in tests/test_layout.py"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_point_down(name):
    upward = [m for m in GRAPH[name] if rank(m) > rank(name)]
    assert not upward, f"{name} (layer {LAYERS[rank(name)][0]}) imports from a layer above it: {upward}"


@pytest.mark.parametrize("name", sorted(m for m in MODULES if part_of(m) in PROGRAMS))
def test_programs_stand_alone(name):
    others = [m for m in GRAPH[name] if part_of(m) in PROGRAMS and part_of(m) != part_of(name)]
    assert not others, f"{name} imports another program: {others}"


def test_no_cycles_but_the_engines_own():
    """Modules that reach each other through imports: only autograd, backprop and ops may."""
    def own_package(a, b):   # a package's __init__ re-exporting its modules is no cycle of the reading order
        return b.startswith(a + ".") or a.startswith(b + ".")

    def reach(start):
        seen, todo = set(), [start]
        while todo:
            here = todo.pop()
            for nxt in GRAPH.get(here, ()):
                if nxt not in seen and not own_package(here, nxt):
                    seen.add(nxt)
                    todo.append(nxt)
        return seen
    reached = {name: reach(name) for name in MODULES}
    cycles = sorted({tuple(sorted((a, b))) for a in MODULES for b in reached[a]
                     if b != a and a in reached.get(b, ()) and not {part_of(a), part_of(b)} <= set(ENGINE_CORE)})
    assert not cycles, f"modules that import each other: {cycles[:10]}"


# ---- every path the prose names exists -------------------------------------------------------
TEXTS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")), *sorted((ROOT / "tutorials").glob("*.py")),
         ROOT / "tutorials" / "README.md", *sorted((ROOT / "benchmarks").glob("*")), ROOT / "mkdocs.yml",
         ROOT / "setup.cfg", *sorted((ROOT / "tests").glob("*.py")), *MODULES.values()]
DOTTED = re.compile(r"(?<![\w/.])minigan(?:\.[A-Za-z_][A-Za-z0-9_]*)+")
FILES = re.compile(r"(?<![\w/.])minigan/[\w/]+\.py\b")


def resolves(dotted: str) -> bool:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def mentions():
    for path in TEXTS:
        if path.is_file() and path.name != "test_layout.py":
            text = path.read_text(errors="replace")
            for found in set(DOTTED.findall(text)):
                yield path.relative_to(ROOT), "dotted", found.rstrip(".")
            for found in set(FILES.findall(text)):
                yield path.relative_to(ROOT), "file", found


def test_every_path_the_prose_names_exists():
    pytest.importorskip("matplotlib")
    missing = []
    for where, kind, name in mentions():
        if name.split(".")[-1] in {"py", "md", "npz", "json", "csv", "png", "gif"}:   # a file name, not a path
            continue
        ok = (ROOT / name).is_file() if kind == "file" else resolves(name)
        if not ok:
            missing.append(f"{where}: {name}")
    assert not missing, "paths that do not exist:\n" + "\n".join(sorted(missing))


def test_the_path_check_can_fail():
    assert not resolves("minigan.callbacks")          # moved to minigan.gan.callbacks
    assert not resolves("minigan.gan.no_such_name")
    assert resolves("minigan.gan.callbacks.History") and resolves("minigan.tensor")


# ---- the reading map ------------------------------------------------------------------------
MAP_LINE = re.compile(r"^\s{4}([\w]+(?:/|\.py))\s+\((\d+)\)\s", re.M)


def lines_of(entry: str) -> int:
    path = PACKAGE / entry
    files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return sum(len(f.read_text().splitlines()) for f in files)


@pytest.mark.parametrize("text", [minigan.__doc__, (ROOT / "docs" / "index.md").read_text()],
                         ids=["minigan/__init__.py", "docs/index.md"])
def test_reading_map_is_true(text):
    listed = dict(MAP_LINE.findall(text))
    top = {p.name + ("/" if p.is_dir() else "") for p in PACKAGE.iterdir()
           if (p.is_dir() and (p / "__init__.py").exists()) or (p.suffix == ".py" and p.name != "__init__.py")}
    assert set(listed) == top, f"the map lists {sorted(set(listed) - top)} that are not there and misses {sorted(top - set(listed))}"
    for entry, stated in listed.items():
        actual, stated = lines_of(entry), int(stated)
        assert abs(actual - stated) <= max(60, stated // 4), f"{entry}: the map says {stated} lines, it has {actual}"
    order = [entry for entry in listed]
    layer_of = {entry: rank("minigan." + entry.rstrip("/").removesuffix(".py")) for entry in order}
    assert [layer_of[e] for e in order] == sorted(layer_of[e] for e in order), "the map is not in layer order"
