"""The command line: ``python -m minigan.demo`` trains a GAN and draws what happened.

    __main__.py       the demo's options and its run (``python -m minigan.demo --help``)
    prepare.py        a new run folder, or the run a --resume continues
    digits.py         the digits runs that use labels (semi-supervised, conditional)
    selfcheck.py      ``python -m minigan.demo.selfcheck``: is this machine set up right?
    selfcheck_ops.py  the op cases the self-check runs
"""
