"""Shared test settings: hypothesis profiles and the backends every test runs on.

Profiles: ``ci`` (default; bounded examples, no deadline) and ``dev`` (many more
examples). Run the long one with ``HYPOTHESIS_PROFILE=dev python -m pytest``.
"""
import os

import matplotlib
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")

settings.register_profile("ci", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
