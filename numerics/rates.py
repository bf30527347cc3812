"""Rates: log-log slopes over seeds, with a Student-t interval of the per-seed slopes.

A rate statement ("1/L", docs/verdicts.md) is measured on a grid x_j (depths L, horizons T or widths
m; at least 4 points) for every seed i (at least 5).  Each seed gets its own least-squares slope
b_i of log(value) against log(x) (:func:`per_seed_slopes`); the point estimate ``slope`` is their
mean and the interval its Student-t interval, mean -+ t_{0.975, s-1} sd(b) / sqrt(s) over the s
fitted seeds (:func:`t_interval`): the exponent of a typical network, which is what a per-network
bound C/L speaks of.  The verdict is not decided here: :func:`theory.verdicts.classify` compares
the interval with the statement's acceptable region, and :meth:`RateFit.seeds_to_decide` says how
many seeds would put an interval that straddles an edge on one side of it.

Why not the former BCa interval.  Until now the point estimate was the slope of the seed-mean and
the interval scipy's BCa bootstrap of it over seeds.  A bootstrap over s seeds sees a spread
shrunk by sqrt((s - 1) / s) and uses normal instead of t quantiles (1.96 against 2.78 at s = 5),
and the seed-mean weights each seed by its constant C_i, so a few large-C seeds set the slope.
Under the noise model :class:`SeedNoise` (below), 2000 Monte Carlo data sets per cell
(:func:`coverage`; sd about 0.005 at 95 %, 0.01 at 80 %), the nominal 95 % intervals cover the
true exponent in

    ==================================  =========  =========  =========  =========
    model (SeedNoise), BCa / t          3 seeds    5 seeds    8 seeds    10 seeds
    ==================================  =========  =========  =========  =========
    calibrated (the defaults)           .703/.951  .813/.959  .866/.955  .868/.951
    log_c_sd=1.0                        .682/.951  .783/.959  .835/.955  .835/.951
    log_c_sd=0.15                       .722/.951  .830/.959  .876/.955  .880/.951
    white-dominated (as prop2.width_m)  .703/.954  .831/.959  .867/.946  .885/.947
    tail_df=3 (heavy-tailed b_i)        .686/.961  .813/.959  .833/.961  .850/.958
    corr=0.9 (log C_i with b_i)         .673/.947  .737/.956  .674/.953  .613/.944
    ==================================  =========  =========  =========  =========

(white-dominated: log_c_sd=0.3, slope_sd=0, curvature_sd=0.4, white_sd=0.4).  The BCa interval
under-covers at every seed count used (0.81 at the 5 seeds of the checks); the t interval keeps
95 % within Monte Carlo error: exactly so when the per-seed slopes are normal (they are linear in
the log-noise), conservatively with heavy tails, and whatever C_i does, since a per-seed slope
does not see its seed's constant.  Where C_i and the seed's exponent are correlated (seen in the
checks' series, up to |0.95|) the seed-mean's slope is not even the typical exponent and BCa's
coverage falls with more seeds.  ``tests/test_rate_coverage.py`` re-measures the 5-seed cells.

Calibration of :class:`SeedNoise` (one run of the default configuration, seeds 0-4, of
prop2.rate_L, prop2.width_m, prop3.rate_L, thm4.limit and thm6.smooth_L at b28be36; each seed's
log-values split into intercept, slope, curvature and white residual): the seed constants
spread by sd(log C_i) 0.14-1.08 (median 0.29); the per-seed slopes by 0.0003-0.06 (0.2 for
prop2.width_m); within a seed the deviations are mostly a per-seed curvature (about half the
slope spread: correlated across grid points) plus white noise (0.1-0.3 of the slope spread,
prop2.width_m white-dominated at 0.4).  Defaults: log_c_sd 0.5, slope_sd 0.04, curvature_sd
0.02, white_sd 0.01 on the grid 8, 16, 32, 64.  ``method="bca"`` keeps the former fit for
comparison.

A seed whose values are exactly 0 everywhere (a gap that never opens: coordinate clipping
saturated at every step moves every layer by the same -eta c sign(.), in the network and in its
limit alike) satisfies any bound C/L; it is counted in ``null_seeds`` and left out of the fit
(every seed null: the classifier says vacuous).  A seed that is 0 at some points only has no
logarithm there, hence no slope (nan in ``per_seed``), and then neither has the fit: slope and
interval are nan and the classifier calls the slope undefined (it is neither dropped, which
would hide it, nor averaged in).  A negative or non-finite value makes the fit nan too.  One
fitted seed, or seeds on one slope, give the point interval (slope, slope): no spread measured
(the classifier calls fewer than 5 seeds underpowered).
"""

from __future__ import annotations

import dataclasses
import functools
import math
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
    """A fitted rate over the grid ``depths`` (depths, horizons or widths): the point estimate
    ``slope`` and its ``confidence`` (95 %) ``interval`` over seeds, both from ``method`` (``"t"``:
    the mean of the per-seed slopes and its Student-t interval; ``"bca"``: the slope of the
    seed-mean and its BCa bootstrap interval, kept for comparison), the statement's acceptable
    region ``window``; ``seeds`` counts every seed, ``null_seeds`` those identically 0 (left out
    of the fit), ``per_seed`` holds the fitted seeds' own log-log slopes (nan for a seed not
    positive at some grid point; empty for a fit built by hand)."""

    depths: tuple[float, ...]
    slope: float
    interval: tuple[float, float]
    window: tuple[float, float] | None
    seeds: int
    null_seeds: int = 0
    per_seed: tuple[float, ...] = ()
    method: str = "t"
    confidence: float = 0.95

    def to_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)

    def seeds_to_decide(self, edge: float) -> int | None:
        """The least number s >= 2 of (non-null) seeds at which the t interval's half-width
        t_{(1+confidence)/2, s-1} sd / sqrt(s), with sd the measured spread of the per-seed slopes,
        is smaller than |slope - edge|: the interval would then lie on one side of ``edge``.  An
        estimate, the spread taken as known.  None where it cannot decide: the point estimate on
        the edge, or undefined (nan), or no spread measured (fewer than 2 seeds).  Seeds on one
        slope (sd 0) decide at 2."""
        s = self.slope
        if not (math.isfinite(s) and not math.isnan(edge)) or s == edge:
            return None
        spread = _per_seed_spread(self)
        if spread is None:
            return None
        sd, distance = spread[0], abs(s - edge)
        if sd == 0 or math.isinf(distance):
            return 2

        def decided(n: int) -> bool:
            return _t_quantile(self.confidence, n - 1) * sd / math.sqrt(n) < distance

        if decided(2):
            return 2
        low, high = 2, 4  # decided(low) false, decided(high) to be made true
        while not decided(high):
            low, high = high, high * 2
        while high - low > 1:
            mid = (low + high) // 2
            low, high = (low, mid) if decided(mid) else (mid, high)
        return high


METHODS = ("t", "bca")


def per_seed_slopes(depths: Sequence[float], values: Sequence[Sequence[float]]) -> np.ndarray:
    """Least-squares slope of log(values[:, i]) against log(depths) for every seed i (column);
    nan for a seed not positive at some grid point (it has no logarithm there)."""
    x = np.log(np.asarray(depths, dtype=float))
    v = np.asarray(values, dtype=float)
    if v.ndim != 2 or v.shape[0] != x.size or x.size < 2:
        raise ConfigError("values", v.shape, "must be (len(depths), seeds) with >= 2 depths")
    positive = np.all(v > 0, axis=0)
    y = np.log(np.where(v > 0, v, 1.0))
    xc = x - x.mean()
    slopes = (xc @ (y - y.mean(axis=0))) / (xc @ xc)
    return np.where(positive, slopes, np.nan)


def _t_quantile(confidence: float, df: float) -> float:
    from scipy.stats import t

    return float(t.ppf(0.5 + confidence / 2, df))


def t_interval(slopes: Sequence[float], confidence: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high): the mean of the per-seed ``slopes`` and its Student-t interval
    mean -+ t_{(1+confidence)/2, s-1} sd / sqrt(s) (sd with s - 1 degrees of freedom).  One seed,
    or seeds on one slope to 1e-12 relative: the point (mean, mean, mean), no spread measured.
    A nan slope makes all three nan."""
    b = np.asarray(slopes, dtype=float)
    if b.size == 0 or not np.all(np.isfinite(b)):
        return float("nan"), float("nan"), float("nan")
    mean = float(b.mean())
    if b.size == 1 or np.ptp(b) <= 1e-12 * max(1.0, abs(mean)):
        return mean, mean, mean
    half = _t_quantile(confidence, b.size - 1) * float(b.std(ddof=1)) / math.sqrt(b.size)
    return mean, mean - half, mean + half


def _slopes(x: np.ndarray, means: np.ndarray) -> np.ndarray:
    """Least-squares slopes of log(means[:, j]) against x, for every column j (nan where a
    mean is not positive)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.where(means > 0, np.log(np.where(means > 0, means, 1.0)), np.nan)
    xc = x - x.mean()
    return (xc @ (y - y.mean(axis=0))) / (xc @ xc)


def _bca(depths: Sequence[float], v: np.ndarray, n_boot: int, seed: int,
         confidence: float) -> tuple[float, tuple[float, float]]:
    """The former rule: the slope of the seed-mean and its BCa bootstrap interval over seeds."""
    from scipy.stats import bootstrap

    slope, _ = loglog_slope(depths, v.mean(axis=1))
    x = np.log(np.asarray(depths, dtype=float))
    keep = np.ones(v.shape[1], dtype=bool)
    jackknife = [_slopes(x, v[:, keep ^ (np.arange(v.shape[1]) == i)].mean(axis=1)[:, None])[0]
                 for i in range(v.shape[1])] if v.shape[1] > 1 else [slope]
    if np.ptp(jackknife) <= 1e-12 * max(1.0, abs(slope)):
        return slope, (slope, slope)  # one seed, or every resample on one slope: no spread

    def statistic(idx: np.ndarray, axis: int = -1) -> np.ndarray:
        idx = np.asarray(idx, dtype=int)
        picked = v[:, idx]  # (points, ..., seeds)
        return _slopes(x, picked.mean(axis=-1).reshape(len(x), -1)).reshape(idx.shape[:-1])

    with warnings.catch_warnings():  # a resample without a slope: the interval is nan
        warnings.simplefilter("ignore")
        res = bootstrap((np.arange(v.shape[1]),), statistic, n_resamples=n_boot,
                        vectorized=True, method="BCa", confidence_level=confidence,
                        random_state=np.random.default_rng(seed))
    return slope, (float(res.confidence_interval.low), float(res.confidence_interval.high))


def rate_fit(depths: Sequence[float], values: Sequence[Sequence[float]],
             window: tuple[float, float] | None = None, *, n_boot: int = 2000,
             seed: int = 0, method: str = "t", confidence: float = 0.95) -> RateFit:
    """Fit the rate of ``values[j][i]`` (grid point j, seed i) against ``depths[j]``.

    ``method="t"`` (the default): the mean of the per-seed log-log slopes with its Student-t
    interval; ``method="bca"``: the former slope of the seed-mean with a BCa bootstrap interval of
    ``n_boot`` resamples drawn from ``seed`` (unused by ``"t"``, which draws nothing)."""
    if method not in METHODS:
        raise ConfigError("method", method, f"one of {METHODS}")
    if not 0 < confidence < 1:
        raise ConfigError("confidence", confidence, "in (0, 1)")
    v = np.asarray(values, dtype=float)
    if v.ndim != 2 or v.shape[0] != len(depths):
        raise ConfigError("values", v.shape, "must be (len(depths), seeds)")
    grid = tuple(float(L) for L in depths)
    seeds = v.shape[1]
    null = np.all(v == 0, axis=0)
    nan, nan2 = float("nan"), (float("nan"), float("nan"))
    fit = functools.partial(RateFit, grid, window=window, seeds=seeds, null_seeds=int(null.sum()),
                            method=method, confidence=confidence)
    if null.all():
        return fit(slope=nan, interval=nan2)
    v = v[:, ~null]
    if not np.all(v >= 0) or not np.all(np.isfinite(v)):
        return fit(slope=nan, interval=nan2)
    per_seed = tuple(float(b) for b in per_seed_slopes(depths, v))
    if method == "bca":
        if not np.all(v.mean(axis=1) > 0):
            return fit(slope=nan, interval=nan2, per_seed=per_seed)
        slope, interval = _bca(depths, v, n_boot, seed, confidence)
        return fit(slope=slope, interval=interval, per_seed=per_seed)
    slope, lo, hi = t_interval(per_seed, confidence)  # a seed without a slope: all nan
    return fit(slope=slope, interval=(lo, hi), per_seed=per_seed)


def _per_seed_spread(fit: RateFit) -> tuple[float, int] | None:
    """(sd of the per-seed slopes, their number): measured from ``fit.per_seed`` where it holds
    two or more slopes, else recovered from a t ``interval`` (a fit rebuilt from a results file),
    half-width = t_{s-1} sd / sqrt(s); None when neither is available."""
    b = np.asarray(fit.per_seed, dtype=float)
    if b.size >= 2:
        return (float(b.std(ddof=1)), b.size) if np.all(np.isfinite(b)) else None
    s = fit.seeds - fit.null_seeds
    lo, hi = fit.interval
    if s < 2 or not (math.isfinite(lo) and math.isfinite(hi)):
        return None
    return (hi - lo) / 2 * math.sqrt(s) / _t_quantile(fit.confidence, s - 1), s


def median_interval(values: Sequence[float], level: float = 0.95
                    ) -> tuple[tuple[float, float], float]:
    """The distribution-free interval of a median from order statistics, (x_(k), x_(s+1-k)) with
    the largest k whose coverage 1 - 2 P(Binomial(s, 1/2) < k) is >= ``level``; with too few
    values for ``level`` the whole range (x_(1), x_(s)), coverage 1 - 2^(1-s) (0.9375 for five
    seeds).  Returns (interval, its exact coverage)."""
    from scipy.stats import binom

    x, s = sorted(values), len(values)
    k = 1
    while k + 1 <= s // 2 and 1 - 2 * binom.cdf(k, s, 0.5) >= level:
        k += 1
    return (x[k - 1], x[s - k]), float(1 - 2 * binom.cdf(k - 1, s, 0.5))


# --------------------------------------------------------------------------- coverage


@dataclasses.dataclass(frozen=True)
class SeedNoise:
    """The noise model of per-seed measurements: seed i's value at grid point x_j is

        v[j, i] = C_i x_j^slope exp(b_i u_j + c_i w_j + e_ij),

    u_j = log x_j - mean(log x), w_j the quadratic in u orthogonal to 1 and u; log C_i ~
    N(0, ``log_c_sd``^2) (a seed-level constant), b_i a per-seed slope deviation (sd
    ``slope_sd``; normal, or Student-t with ``tail_df`` degrees of freedom for heavy tails),
    c_i ~ N(0, ``curvature_sd``^2) a per-seed curvature (the noise is correlated across grid
    points within a seed), e_ij ~ N(0, ``white_sd``^2) white noise; ``corr`` correlates log C_i
    with b_i.  The exponent to recover is ``slope``: the mean per-seed exponent; with ``corr``
    0 and a grid symmetric in log x it is also the least-squares slope of log E[v_j].  The
    defaults are calibrated on the checks' own series (module docstring)."""

    depths: tuple[float, ...] = (8.0, 16.0, 32.0, 64.0)
    slope: float = -1.0
    log_c_sd: float = 0.5
    slope_sd: float = 0.04
    curvature_sd: float = 0.02
    white_sd: float = 0.01
    tail_df: float | None = None
    corr: float = 0.0

    def sample(self, rng: np.random.Generator, reps: int, seeds: int) -> np.ndarray:
        """``reps`` data sets of ``seeds`` seeds: an array (reps, len(depths), seeds)."""
        x = np.log(np.asarray(self.depths, dtype=float))
        u = x - x.mean()
        w = u**2 - np.mean(u**2)
        w = w - (w @ u) / (u @ u) * u
        z_c, z_b = rng.standard_normal((2, reps, 1, seeds))
        if self.tail_df is not None:  # Student-t scaled to unit variance
            z_b = rng.standard_t(self.tail_df, (reps, 1, seeds))
            z_b = z_b / math.sqrt(self.tail_df / (self.tail_df - 2))
        b = self.slope_sd * (self.corr * z_c + math.sqrt(1 - self.corr**2) * z_b)
        c = self.curvature_sd * rng.standard_normal((reps, 1, seeds))
        e = self.white_sd * rng.standard_normal((reps, x.size, seeds))
        log_v = (self.log_c_sd * z_c + (self.slope + b) * x[:, None] + c * w[:, None] + e)
        return np.exp(log_v)


def coverage(noise: SeedNoise, seeds: int, reps: int = 2000, *, method: str = "t",
             seed: int = 0, n_boot: int = 2000) -> float:
    """The fraction of ``reps`` data sets drawn from ``noise`` whose :func:`rate_fit` interval
    (``method``) contains ``noise.slope`` (Monte Carlo sd sqrt(p (1 - p) / reps): 0.005 at 2000
    replications of a 95 % interval)."""
    rng = np.random.default_rng(seed)
    data = noise.sample(rng, reps, seeds)
    boot = rng.integers(1 << 30, size=reps)
    hits = 0
    for values, b in zip(data, boot, strict=True):
        lo, hi = rate_fit(noise.depths, values, method=method, seed=int(b), n_boot=n_boot).interval
        hits += lo <= noise.slope <= hi
    return hits / reps
