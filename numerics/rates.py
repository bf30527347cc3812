"""Rates in L: least-squares log-log slopes with a bootstrap interval over seeds.

A "1/L" statement is checked as in THEORY.md §3: fit log(measured) against log(L) over at least 4
depths; with several seeds, resample the seeds with replacement, fit the slope of the log of the
resampled mean at each depth, and take the percentile interval.  The rate check passes when the
interval meets the statement's window (e.g. [-1.2, -0.8]).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from theory.errors import ConfigError


def loglog_slope(depths: Sequence[float], values: Sequence[float]) -> tuple[float, float]:
    """Least-squares (slope, intercept) of log(value) against log(L)."""
    x = np.log(np.asarray(depths, dtype=float))
    y = np.log(np.asarray(values, dtype=float))
    if x.size < 2 or x.size != y.size:
        raise ConfigError("depths", tuple(depths), "needs at least two depths, one value each")
    slope, intercept = np.polyfit(x, y, 1)
    return float(slope), float(intercept)


@dataclasses.dataclass(frozen=True)
class RateFit:
    """``slope`` of the seed-mean, its bootstrap ``interval`` over seeds, and whether the interval
    meets ``window`` (None without a window or when a value is not positive)."""

    depths: tuple[int, ...]
    slope: float
    interval: tuple[float, float]
    window: tuple[float, float] | None
    meets: bool | None
    seeds: int

    def to_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


def rate_fit(depths: Sequence[int], values: Sequence[Sequence[float]],
             window: tuple[float, float] | None = None, *, n_boot: int = 2000,
             seed: int = 0) -> RateFit:
    """Fit the rate of ``values[j][i]`` (depth j, seed i) against ``depths[j]``."""
    v = np.asarray(values, dtype=float)
    if v.ndim != 2 or v.shape[0] != len(depths):
        raise ConfigError("values", v.shape, "must be (len(depths), seeds)")
    if not np.all(v > 0) or not np.all(np.isfinite(v)):
        return RateFit(tuple(depths), float("nan"), (float("nan"), float("nan")), window, None,
                       v.shape[1])
    slope, _ = loglog_slope(depths, v.mean(axis=1))
    if v.shape[1] == 1:
        interval = (slope, slope)
    else:
        rng = np.random.default_rng(seed)
        picks = rng.integers(0, v.shape[1], size=(n_boot, v.shape[1]))
        x = np.log(np.asarray(depths, dtype=float))
        y = np.log(v[:, picks].mean(axis=2))  # (depths, n_boot)
        xc = x - x.mean()
        boot = (xc @ (y - y.mean(axis=0))) / (xc @ xc)
        lo, hi = np.percentile(boot, [2.5, 97.5])
        interval = (float(lo), float(hi))
    meets = None if window is None else bool(interval[0] <= window[1] and interval[1] >= window[0])
    return RateFit(tuple(int(L) for L in depths), slope, interval, window, meets, v.shape[1])
