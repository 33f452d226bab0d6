"""Classroom assignments: student copies with solution regions blanked, and the autograder.

    python -m minigan.assignments list
    python -m minigan.assignments release A2 --out student-a2
    python -m minigan.assignments grade A2 --path student-a2 [--json]

- catalog.py     the assignments, their parts, points, hints and checks
- regions.py     finding, blanking and filling ``# BEGIN SOLUTION`` regions
- release.py     writing a student copy
- grade.py       grading a copy, one process per part, with a time limit each
- runner.py      the process that runs one part's check
- checks*.py     the checks, one function per part
- experiments.py A4's experiment (a solution region itself)

This package's ``__init__`` imports nothing: the grader loads this folder apart from the
student's ``minigan`` (see runner.py), and a student copy must import even when broken.
"""
