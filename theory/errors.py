"""Errors shared by every layer of the testbed.

Every invalid input is rejected before any work with one line that names the field, its value and
the rule it breaks (``name=value!r: rule``).  The command line turns :class:`ConfigError` into that
one line on stderr and exit status 2; the Python API raises it (it is a :class:`ValueError`).
"""

from __future__ import annotations

from typing import Any


class ConfigError(ValueError):
    """An invalid configuration or argument: ``field=value: rule``."""

    def __init__(self, field: str, value: Any, rule: str) -> None:
        self.field = field
        self.value = value
        self.rule = rule
        super().__init__(f"{field}={value!r}: {rule}")


class DivergenceError(ArithmeticError):
    """A training run blew up: non-finite or exploding quantity at a given iteration."""

    def __init__(self, iteration: int, quantity: str, value: float, limit: float | None = None):
        self.iteration = iteration
        self.quantity = quantity
        self.value = value
        self.limit = limit
        rule = "non-finite" if limit is None else f"exceeds the limit {limit:g}"
        super().__init__(
            f"diverged at iteration {iteration} (t = iteration x eta): {quantity}={value!r} {rule}"
        )
