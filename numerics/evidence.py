"""What a statement's facts function declares (:class:`Evidence`), and the helpers the families
share to declare it: rate fits over the seeds (:func:`fit_rate`, :func:`rate_evidence`), what
training changed (:func:`trained_rate`) and the doubling ratio of a quantity bounded in t
(:func:`doubling_facts`).  A facts function never decides a verdict:
:func:`theory.verdicts.classify` does (numerics.checks).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from numerics.measure import Measurement
from numerics.rates import RateFit, median_interval, rate_fit
from theory.catalog import Statement
from theory.config import Config
from theory.verdicts import Facts


@dataclasses.dataclass
class Evidence:
    """What a statement's check function declares: the facts the classifier decides from, with
    notes and auxiliary numbers for the report (``rate``: a fit shown beside a bound check)."""

    facts: Facts
    notes: list[str] = dataclasses.field(default_factory=list)
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)
    rate: RateFit | None = None


def finite_or_none(value: float | None) -> float | None:
    """``value`` where it is a finite float, else None (JSON has no inf or nan)."""
    return value if value is not None and math.isfinite(value) else None


def fit_rate(m: Measurement, key: str, statement: Statement, grid: str = "L") -> RateFit:
    """The fit of log ``m.series[key]`` against log ``m.series[grid]`` over the seeds, in the
    statement's acceptable region (:func:`numerics.rates.rate_fit`)."""
    return rate_fit(m.series[grid], m.series[key], statement.rate_window, seed=m.config.seed)


def rate_evidence(rate: RateFit, what: str, **extra: Any) -> Evidence:
    """A rate check: the slope is the measurement, the fit decides."""
    return Evidence(Facts(rate.slope, rate=rate), notes=[f"measured: {what}"], extra=extra,
                    rate=rate)


def trained_rate(m: Measurement, st: Statement) -> dict[str, Any]:
    """What training changed, beside the total gap (equal to it from a tied initialization):
    the slope of max_k ||D_{k+1}(T) - D_k(T)||, D_k = Z_k(T) - Z_k(0), against L."""
    return {"rate_trained": fit_rate(m, "trained", st).to_dict()}


def doubling_facts(c: Config, per_seed: list[float]) -> tuple[Facts, str]:
    """The median over seeds of a per-seed doubling ratio (X(T) - X(T/2)) / (X(T/2) - X(T/4))
    (max over L) with its order-statistic interval (:func:`numerics.rates.median_interval`)
    against 1: X bounded in t needs the increments to shrink; logarithmic growth gives exactly 1,
    so an interval reaching 1 is inconclusive, never holds.  Returns the facts and the interval
    in words."""
    interval, coverage = median_interval(per_seed)
    median = float(np.median([x if math.isfinite(x) else 1e300 for x in per_seed]))
    return (Facts(median, 1.0, dtype=c.dtype, interval=interval),
            f"order-statistic interval [{interval[0]:.3g}, {interval[1]:.3g}] (coverage "
            f"{coverage:.4g}); linear growth gives 2, log t gives 1")

