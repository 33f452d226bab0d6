"""Run one part's check in a process of its own (grade.py starts it; not for direct use).

    python -I runner.py CHECK STUDENT_ROOT RESULT_JSON

CHECK is "module:function" in this folder. The student's copy at STUDENT_ROOT goes first
on ``sys.path``, so ``import minigan`` inside the check is the student's package; the
checks themselves are loaded from this folder (the grader's copy) as the package
``minigan_grader``, so a student's edits to their own copy of the checks change nothing.
The outcome goes to RESULT_JSON as {"status": ..., "feedback": ...}; status is one of
"passed", "failed", "not_implemented", "error". A crash that kills this process, or a
hang, is seen by grade.py as a missing result.
"""
import importlib
import importlib.util
import json
import os
import sys
import traceback
from pathlib import Path

GRADER_DIR = Path(__file__).resolve().parent


def load_grader():
    """Import this folder as the package ``minigan_grader``, apart from the student's ``minigan``."""
    spec = importlib.util.spec_from_file_location(
        "minigan_grader", GRADER_DIR / "__init__.py", submodule_search_locations=[str(GRADER_DIR)]
    )
    package = importlib.util.module_from_spec(spec)
    sys.modules["minigan_grader"] = package
    spec.loader.exec_module(package)
    return package


def where_in(root: Path, error: BaseException) -> str:
    """" (at minigan/ops.py:73 in backward)": the last place in the student's copy the error passed."""
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if _inside(root, f.filename) and not _is_grader(f.filename)]
    if not frames:
        return ""
    frame = frames[-1]
    return f" (at {Path(frame.filename).resolve().relative_to(root)}:{frame.lineno} in {frame.name})"


def _is_grader(filename: str) -> bool:
    """A frame in the grader's own checks (when grading the copy the grader lives in)."""
    path = Path(filename).resolve()
    return path.parent == GRADER_DIR and (path.name.startswith("checks") or path.name == "runner.py")


def _inside(root: Path, filename: str) -> bool:
    try:
        Path(filename).resolve().relative_to(root)
    except ValueError:
        return False
    return True


def run(check: str, root: Path) -> dict:
    """Import the student's minigan, run the check, and say how it went."""
    sys.path.insert(0, str(root))
    try:
        import minigan
    except BaseException as error:  # a syntax error in the student's package, or worse
        return {"status": "error", "feedback": f"import minigan failed: {type(error).__name__}: {error}"}
    if not _inside(root, minigan.__file__):
        return {"status": "error", "feedback": f"import minigan found {minigan.__file__}, not the copy in {root}"}
    grader = load_grader()
    module_name, function_name = check.split(":")
    function = getattr(importlib.import_module(f"{grader.__name__}.{module_name}"), function_name)
    checks = importlib.import_module(f"{grader.__name__}.checks")
    try:
        feedback = function()
    except checks.CheckFailed as failure:
        return {"status": "failed", "feedback": str(failure)}
    except NotImplementedError as error:
        return {"status": "not_implemented", "feedback": f"{error}{where_in(root, error)}"}
    except Exception as error:
        message = str(error).splitlines()[0] if str(error) else ""
        return {"status": "error", "feedback": f"{type(error).__name__}: {message}{where_in(root, error)}"}
    return {"status": "passed", "feedback": str(feedback)}


def main(argv) -> int:
    check, root, result_path = argv
    result = run(check, Path(root).resolve())
    partial = result_path + ".partial"
    with open(partial, "w", encoding="utf-8") as file:
        json.dump(result, file)
    os.replace(partial, result_path)  # atomic: grade.py reads a whole result or none
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
