"""Classroom assignments: student copies with solution regions blanked, and the autograder.

    python -m minigan.assignments list
    python -m minigan.assignments release A2 --out student-a2
    python -m minigan.assignments grade A2 --path student-a2 [--json]

- catalog.py     the assignments, their parts, points, hints and checks
- regions.py     finding, blanking and filling ``# BEGIN SOLUTION`` regions
- release.py     writing a student copy
- grade.py       grading a copy: one sandboxed student process per part, every verdict here
- sandbox.py     the student's process: bubblewrap (or a plain subprocess), its .py-only snapshot, cleanup
- limits.py      what a part may use; cgroups.py: one control group per part (memory, processes)
- tamper.py      the grader's own files (bytecode included), checked after every part
- launch.py      `python -m` starts the grader again where the current folder cannot reach it
- copy_main.py   a student copy's `__main__.py`: runs the installed grader, or says how to grade
- harness.py     what runs in that process: answers the grader's requests with the copy
- probes.py      the requests: run the student's code on the grader's inputs, return numbers
- wire.py        the messages between the two: npz without pickle
- checks*.py     the checks, one function per part, run in the grader's process
- mistakes.py    common wrong answers, with the feedback and points each gets (for tests and docs)
- experiments.py A4's experiment (a solution region itself)

This package's ``__init__`` imports nothing, so a student copy imports even when broken.
"""
