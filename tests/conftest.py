"""Shared test settings: hypothesis profiles and the backends every test runs on.

Profiles: ``ci`` (default; bounded examples, no deadline) and ``dev`` (many more
examples). Run the long one with ``HYPOTHESIS_PROFILE=dev python -m pytest``.
"""
import os

# The tests' matrices are tiny: one BLAS thread is as fast, and it cannot spin against
# another process for the second core. The trainer chooses its threads itself
# (minigan/threads.py), but many tests call NumPy outside it: with one core busy the
# unit-test files ran in 13.6 s with this and 15.0 s without (docs/performance.md).
# Set before NumPy is first imported; an explicit setting in the environment wins.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import signal  # noqa: E402

import matplotlib  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

# The interrupt tests send SIGINT (Ctrl-C) to the trainer, the grader and the run folders.
# A suite started in the background by a script (`python -m pytest &`) inherits SIGINT
# ignored, and Python then leaves it ignored, in this process and every child: those tests
# would fail for a reason that is not minigan's. Give Ctrl-C its usual meaning back (a child
# started from here gets the default again, and Python's KeyboardInterrupt with it).
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

matplotlib.use("Agg")

settings.register_profile("ci", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
