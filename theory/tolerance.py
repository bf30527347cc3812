"""One tolerance policy for every comparison of a measurement with a bound or an exact value.

A bound check ``measured <= bound`` holds when ``measured <= bound + rtol * max(|bound|,
|measured|) + atol``, with ``rtol`` and ``atol`` from the dtype the measurement was computed in
(:data:`RTOL`, :data:`ATOL`).  These absorb floating-point rounding only; they are never widened to
make a check pass.  A verdict whose margin is within the float32 tolerance is *fragile* and the
caller warns.
"""

from __future__ import annotations

import math

RTOL = {"float64": 1e-9, "float32": 1e-4, "mpmath": 1e-25}
ATOL = {"float64": 1e-12, "float32": 1e-6, "mpmath": 1e-30}


def leq(measured: float, bound: float, dtype: str = "float64") -> bool:
    """``measured <= bound`` up to the rounding tolerance of ``dtype``."""
    if math.isnan(measured) or math.isnan(bound):
        return False
    if math.isinf(bound):
        return bound > 0 or measured == bound
    return measured <= bound + RTOL[dtype] * max(abs(bound), abs(measured)) + ATOL[dtype]


def close(a: float, b: float, dtype: str = "float64") -> bool:
    """``a == b`` up to the rounding tolerance of ``dtype``."""
    return abs(a - b) <= RTOL[dtype] * max(abs(a), abs(b)) + ATOL[dtype]


def fragile(measured: float, bound: float) -> bool:
    """True when the verdict of ``measured <= bound`` could flip within float32 rounding."""
    if not (math.isfinite(measured) and math.isfinite(bound)):
        return False
    return abs(bound - measured) <= RTOL["float32"] * max(abs(bound), abs(measured)) + ATOL[
        "float32"]
