"""Hypothesis's settings for the property tests (docs/architecture.md#testing).

CI runs the "ci" profile: derandomised, so a failure seen in CI is the same failure on every run and
on a laptop; a bounded number of examples, so the properties cost seconds; no deadline, since a shared
CI machine's pauses are not the code's; and no example database, so nothing is written into the
checkout. `HYPOTHESIS_PROFILE=explore` searches longer and at random, for a person hunting a bug."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=100,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "explore",
    max_examples=2000,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
