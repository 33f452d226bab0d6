"""Classroom assignments: student copies with solution regions blanked, and the autograder.

    python -m minigan.assignments list
    python -m minigan.assignments release A2 --out student-a2
    python -m minigan.assignments grade A2 --path student-a2 [--json]

- catalog.py     the assignments, their parts, points, hints and checks
- regions.py     finding, blanking and filling ``# BEGIN SOLUTION`` regions
- release.py     writing a student copy
- grade.py       grading a copy: one sandboxed student process per part, every verdict here
- sandbox.py     the student's process: bubblewrap (or a plain subprocess), limits, cleanup
- harness.py     what runs in that process: answers the grader's requests with the copy
- probes.py      the requests: run the student's code on the grader's inputs, return numbers
- wire.py        the messages between the two: npz without pickle
- checks*.py     the checks, one function per part, run in the grader's process
- experiments.py A4's experiment (a solution region itself)

This package's ``__init__`` imports nothing, so a student copy imports even when broken.
"""
