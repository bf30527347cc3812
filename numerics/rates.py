"""Rates: least-squares log-log slopes with a BCa bootstrap interval over seeds.

A rate statement ("1/L", THEORY.md §3) is fitted as log(seed-mean of measured) against log(x)
(x a depth L, a horizon T or a width m) over at least 4 grid points and 5 seeds; the interval is
scipy's bias-corrected and accelerated bootstrap (``scipy.stats.bootstrap``, ``method="BCa"``) of
that slope over the seeds, resampled with replacement.  The verdict is not decided here:
:func:`theory.verdicts.classify` reads the fit (the point estimate must lie in ``window``, the
interval within ``wide_window``, and too few seeds or points make the fit underpowered).

A seed whose values are exactly 0 everywhere (a gap that never opens: coordinate clipping
saturated at every step moves every layer by the same -eta c sign(.), in the network and in its
limit alike) satisfies any bound C/L; it is counted in ``null_seeds`` and left out of the fit
(every seed null: the classifier says vacuous).  A seed that is 0 at some points only enters the
seed-mean as it is; a resample whose mean is 0 at some point has no slope, and then neither has
the BCa interval (nan: the classifier says the slope is undefined).
"""

from __future__ import annotations

import dataclasses
import warnings
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
    """``slope`` of the seed-mean over the grid ``depths`` (depths, horizons or widths), its 95%
    BCa ``interval`` over seeds, the statement's ``window`` (for the slope) and ``wide_window``
    (for the interval); ``seeds`` counts every seed, ``null_seeds`` those identically 0."""

    depths: tuple[float, ...]
    slope: float
    interval: tuple[float, float]
    window: tuple[float, float] | None
    seeds: int
    null_seeds: int = 0
    wide_window: tuple[float, float] | None = None

    def to_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


def _slopes(x: np.ndarray, means: np.ndarray) -> np.ndarray:
    """Least-squares slopes of log(means[:, j]) against x, for every column j (nan where a
    mean is not positive)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.where(means > 0, np.log(np.where(means > 0, means, 1.0)), np.nan)
    xc = x - x.mean()
    return (xc @ (y - y.mean(axis=0))) / (xc @ xc)


def rate_fit(depths: Sequence[float], values: Sequence[Sequence[float]],
             window: tuple[float, float] | None = None,
             wide_window: tuple[float, float] | None = None, *, n_boot: int = 2000,
             seed: int = 0) -> RateFit:
    """Fit the rate of ``values[j][i]`` (grid point j, seed i) against ``depths[j]``."""
    from scipy.stats import bootstrap

    v = np.asarray(values, dtype=float)
    if v.ndim != 2 or v.shape[0] != len(depths):
        raise ConfigError("values", v.shape, "must be (len(depths), seeds)")
    grid = tuple(float(L) for L in depths)
    seeds = v.shape[1]
    null = np.all(v == 0, axis=0)
    nan2 = (float("nan"), float("nan"))
    if null.all():
        return RateFit(grid, float("nan"), nan2, window, seeds, seeds, wide_window)
    v = v[:, ~null]
    mean = v.mean(axis=1)
    if not np.all(v >= 0) or not np.all(np.isfinite(v)) or not np.all(mean > 0):
        return RateFit(grid, float("nan"), nan2, window, seeds, int(null.sum()), wide_window)
    slope, _ = loglog_slope(depths, mean)
    x = np.log(np.asarray(depths, dtype=float))
    keep = np.ones(v.shape[1], dtype=bool)
    jackknife = [_slopes(x, v[:, keep ^ (np.arange(v.shape[1]) == i)].mean(axis=1)[:, None])[0]
                 for i in range(v.shape[1])] if v.shape[1] > 1 else [slope]
    if np.ptp(jackknife) <= 1e-12 * max(1.0, abs(slope)):
        interval = (slope, slope)  # one seed, or every resample on one slope: no spread
    else:
        def statistic(idx: np.ndarray, axis: int = -1) -> np.ndarray:
            idx = np.asarray(idx, dtype=int)
            picked = v[:, idx]  # (points, ..., seeds)
            return _slopes(x, picked.mean(axis=-1).reshape(len(x), -1)).reshape(idx.shape[:-1])

        with warnings.catch_warnings():  # a resample without a slope: the interval is nan
            warnings.simplefilter("ignore")
            res = bootstrap((np.arange(v.shape[1]),), statistic, n_resamples=n_boot,
                            vectorized=True, method="BCa", confidence_level=0.95,
                            random_state=np.random.default_rng(seed))
        interval = (float(res.confidence_interval.low), float(res.confidence_interval.high))
    return RateFit(grid, slope, interval, window, seeds, int(null.sum()), wide_window)
