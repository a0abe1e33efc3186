"""Shared test configuration: hypothesis profiles for the property-based (fuzz) tests.

``HYPOTHESIS_PROFILE=ci`` (default) keeps every property test bounded so the default suite stays
fast; ``make fuzz`` selects ``fuzz`` (≥ 10,000 examples per property over the suite's properties).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
settings.register_profile(
    "fuzz",
    max_examples=10_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
