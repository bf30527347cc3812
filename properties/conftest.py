"""Fixtures of the property suite (the Hypothesis profiles live in the root ``conftest.py``)."""

from __future__ import annotations

import pytest

from properties.strategies import ALL


@pytest.fixture(scope="session", autouse=True)
def activation_profiles() -> None:
    """Compute the sympy profile of every named activation once, before any example is drawn.

    Drawing a configuration validates its activation (``Config`` builds the profile, seconds of
    sympy the first time, cached afterwards); warming the cache here keeps those seconds out of
    Hypothesis' data-generation timing instead of silencing its ``too_slow`` health check."""
    from theory import activations

    for name in ALL:
        activations.get(name)
