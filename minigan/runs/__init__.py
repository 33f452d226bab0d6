"""Keeping a run: its folder, resuming it, stopping it cleanly (built on minigan.gan).

    folders.py     one run per folder: run-NNN, the lock, run.json, what is saved when
    resume.py      what a resume may change, and the lines it prints
    interrupts.py  Ctrl-C and SIGTERM: finish the step, save, say how to resume
"""
