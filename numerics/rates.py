"""Rates in L: least-squares log-log slopes with a bootstrap interval over seeds.

A "1/L" statement is checked as in THEORY.md §3: fit log(measured) against log(L) over at least 4
depths; with several seeds, resample the seeds with replacement, fit the slope of the log of the
resampled mean at each depth, and take the percentile interval.  The rate check passes when the
interval meets the statement's window (e.g. [-1.2, -0.8]).

A seed whose values are exactly 0 at every depth (a gap that never opens: coordinate clipping
saturated at every step moves every layer by the same -eta c sign(.), in the network and in its
limit alike) satisfies any bound C/L; it is counted in ``null_seeds`` and left out of the fit.
When every seed is null the rate is undefined and the 1/L claim holds trivially (``meets`` is
True).  A seed that is 0 at some depths only (a gap sampled on the coarse grid of a shallow
network can vanish there) enters the seed-mean as it is; bootstrap resamples whose mean is 0 at
some depth have no slope and are left out of the interval (counted).  A seed-mean of 0 at some
depth leaves the rate undefined: ``meets`` is None.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from theory.errors import ConfigError


def loglog_slope(depths: Sequence[float], values: Sequence[float]) -> tuple[float, float]:
    """Least-squares (slope, intercept) of log(value) against log(L); (nan, nan) when a value is
    not positive (no logarithm: e.g. a ResNet equal to its ODE, a ReLU never active)."""
    x = np.log(np.asarray(depths, dtype=float))
    v = np.asarray(values, dtype=float)
    if x.size < 2 or x.size != v.size:
        raise ConfigError("depths", tuple(depths), "needs at least two depths, one value each")
    if not np.all(v > 0):
        return float("nan"), float("nan")
    slope, intercept = np.polyfit(x, np.log(v), 1)
    return float(slope), float(intercept)


@dataclasses.dataclass(frozen=True)
class RateFit:
    """``slope`` of the seed-mean, its bootstrap ``interval`` over seeds, and whether the interval
    meets ``window`` (None without a window or when a value is not positive); ``seeds`` counts
    every seed, ``null_seeds`` those identically 0 (left out of the fit),
    ``degenerate_resamples`` the bootstrap resamples left out for a zero mean at some depth."""

    depths: tuple[int, ...]
    slope: float
    interval: tuple[float, float]
    window: tuple[float, float] | None
    meets: bool | None
    seeds: int
    null_seeds: int = 0
    degenerate_resamples: int = 0
    wide_window: tuple[float, float] | None = None  # the interval must lie within it (rule 3)

    def to_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


def rate_fit(depths: Sequence[int], values: Sequence[Sequence[float]],
             window: tuple[float, float] | None = None, *, n_boot: int = 2000,
             seed: int = 0) -> RateFit:
    """Fit the rate of ``values[j][i]`` (depth j, seed i) against ``depths[j]``."""
    v = np.asarray(values, dtype=float)
    if v.ndim != 2 or v.shape[0] != len(depths):
        raise ConfigError("values", v.shape, "must be (len(depths), seeds)")
    seeds = v.shape[1]
    null = np.all(v == 0, axis=0)
    undefined = (float("nan"), (float("nan"), float("nan")), window)
    if null.all():
        return RateFit(tuple(depths), *undefined, None if window is None else True, seeds, seeds)
    v = v[:, ~null]
    mean = v.mean(axis=1)
    if not np.all(v >= 0) or not np.all(np.isfinite(v)) or not np.all(mean > 0):
        return RateFit(tuple(depths), *undefined, None, seeds, int(null.sum()))
    slope, _ = loglog_slope(depths, mean)
    degenerate = 0
    if v.shape[1] == 1:
        interval = (slope, slope)
    else:
        rng = np.random.default_rng(seed)
        picks = rng.integers(0, v.shape[1], size=(n_boot, v.shape[1]))
        means = v[:, picks].mean(axis=2)  # (depths, n_boot)
        kept = np.all(means > 0, axis=0)  # a resample of zeros at some depth has no slope
        degenerate = int(n_boot - kept.sum())
        x = np.log(np.asarray(depths, dtype=float))
        y = np.log(means[:, kept])
        xc = x - x.mean()
        boot = (xc @ (y - y.mean(axis=0))) / (xc @ xc)
        lo, hi = np.percentile(boot, [2.5, 97.5])
        interval = (float(lo), float(hi))
    meets = None if window is None else bool(interval[0] <= window[1] and interval[1] >= window[0])
    return RateFit(tuple(int(L) for L in depths), slope, interval, window, meets, seeds,
                   int(null.sum()), degenerate)
