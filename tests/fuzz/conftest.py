"""Hypothesis settings for the parser property tests: deterministic in CI, no per-example deadline.

Examples are derived from a fixed seed (``derandomize``) so a CI run is reproducible, and
no example database is written. There is no per-example deadline: the machine is shared,
and a hang is caught by pytest's per-test timeout, not by a timing assertion.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

settings.register_profile(
    "assay",
    deadline=None,
    derandomize=True,
    database=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# a longer search to run by hand: pytest tests/fuzz --hypothesis-profile=assay-long
settings.register_profile("assay-long", settings.get_profile("assay"), max_examples=3000)
settings.load_profile("assay")
