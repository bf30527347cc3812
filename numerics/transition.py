r"""The statistics of a transition: a logistic in log m fitted to 0/1 outcomes, its bootstrap
interval, and a power law through the midpoints (issue 29's width thresholds, pure numbers).

- :func:`fit_logistic`: p(m) = 1 / (1 + exp(-beta (log m - mu))) by maximum likelihood on the
  0/1 outcomes (one per seed, ``m`` its width); the threshold m* = exp(mu) is the midpoint,
  p(m*) = 1/2.  An estimate at either end of the search range is *censored*.
- :func:`bootstrap_thresholds`: log m* of replicates that resample the outcomes of each width
  with replacement (the seed level), each refitted on a grid (:func:`fit_logistic_counts`),
  or, where a replicate's outcomes separate completely between two adjacent widths (no single
  maximum, :func:`separation`), drawn uniformly in log m between them;
  :func:`threshold` = the fit with the replicates' 95 % percentile interval.
- :func:`monotone_p`: the logistic's premise, a fraction that does not fall with m, tested
  against a free fraction per width (likelihood ratio, parametric bootstrap under the isotonic
  fit, :func:`isotonic`); below :data:`MONOTONE_LEVEL` the fraction *falls* and its midpoint is
  no threshold (:func:`located`).
- :func:`fit_power`: m*(n) ~ a n^gamma, least squares in log-log, the interval of gamma (and a)
  from the same bootstrap replicates refitted per replicate (:func:`power_slope`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from theory.errors import ConfigError

# --------------------------------------------------------------------------- logistic fits

BETA_MAX = 20.0
"""Largest logistic steepness (per unit of log m): with completely separated outcomes (every seed
0 below some width, 1 above) the likelihood grows without bound in the steepness, and the
bounded maximum puts the midpoint between the last 0 and the first 1."""
MU_MARGIN = math.log(2.0)
"""The midpoint is searched within [log m_min - MU_MARGIN, log m_max + MU_MARGIN]: an estimate
at either end is *censored* (every width's fraction on one side of 1/2: the threshold lies below
the smallest or above the largest width of the grid)."""
_MU_GRID, _BETA_GRID = 241, 36


@dataclasses.dataclass(frozen=True)
class Logistic:
    """p(m) = 1 / (1 + exp(-beta (log m - mu))): the midpoint m* = exp(mu) and steepness beta;
    ``censored`` is "below" / "above" when mu sits at the end of its search range, else ""."""

    mu: float
    beta: float
    censored: str = ""

    @property
    def m_star(self) -> float:
        return math.exp(self.mu)

    def p(self, m: np.ndarray | float) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.beta * (np.log(m) - self.mu)))


def _bounds(x: np.ndarray) -> tuple[float, float]:
    return float(x.min()) - MU_MARGIN, float(x.max()) + MU_MARGIN


def _loglik_table(x: np.ndarray, lo: float, hi: float, points: int = _MU_GRID,
                  betas: int = _BETA_GRID) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                    np.ndarray]:
    mus = np.linspace(lo, hi, points)
    bs = np.geomspace(0.05, BETA_MAX, betas)
    z = bs[None, :, None] * (x[None, None, :] - mus[:, None, None])  # (M, B, J)
    logp = -np.logaddexp(0.0, -z)
    log1mp = -np.logaddexp(0.0, z)
    return mus, bs, logp.reshape(-1, x.size), log1mp.reshape(-1, x.size)


def _censor(mu: float, lo: float, hi: float) -> str:
    step = (hi - lo) / (_MU_GRID - 1)
    return "below" if mu <= lo + step / 2 else "above" if mu >= hi - step / 2 else ""


def _counts(m: Sequence[float], outcomes: Sequence[float]
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct log-widths (increasing), the 1s ``k`` and the seeds ``s`` at each."""
    x = np.log(np.asarray(m, dtype=float))
    y = np.asarray(outcomes, dtype=float)
    if x.size != y.size or x.size == 0:
        raise ConfigError("outcomes", len(y), "one 0/1 outcome per width")
    widths, inv = np.unique(x, return_inverse=True)
    return (widths, np.bincount(inv, weights=y, minlength=widths.size),
            np.bincount(inv, minlength=widths.size).astype(float))


def fit_logistic(m: Sequence[float], outcomes: Sequence[float]) -> Logistic:
    """Maximum likelihood of the logistic in log m on 0/1 ``outcomes`` (one per seed, ``m`` its
    width): a grid search over (mu, beta) for the global maximum, polished with
    ``scipy.optimize.minimize`` (L-BFGS-B, beta in (0, BETA_MAX], mu within the margin)."""
    from scipy.optimize import minimize

    widths, k, s = _counts(m, outcomes)
    lo, hi = _bounds(widths)
    mus, bs, logp, log1mp = _loglik_table(widths, lo, hi)
    ll = logp @ k + log1mp @ (s - k)
    best = int(np.argmax(ll))
    mu0, b0 = mus[best // bs.size], bs[best % bs.size]

    def nll(theta: np.ndarray) -> tuple[float, np.ndarray]:
        mu, beta = theta
        z = beta * (widths - mu)
        p = 1.0 / (1.0 + np.exp(-z))
        value = -float(k @ -np.logaddexp(0.0, -z) + (s - k) @ -np.logaddexp(0.0, z))
        r = k - s * p  # d loglik / dz
        return value, -np.array([float(r @ (-beta * np.ones_like(z))), float(r @ (widths - mu))])

    res = minimize(nll, np.array([mu0, b0]), jac=True, method="L-BFGS-B",
                   bounds=[(lo, hi), (1e-3, BETA_MAX)])
    mu, beta = (res.x if res.fun <= -ll[best] + 1e-12 else (mu0, b0))
    return Logistic(float(mu), float(beta), _censor(float(mu), lo, hi))


def fit_logistic_counts(x: np.ndarray, k: np.ndarray, s: np.ndarray) -> np.ndarray:
    """The midpoints mu (log m*) of the grid maximum likelihood for many count tables at once:
    ``k`` (R, J) successes of ``s`` (J,) or (R, J) seeds at log-widths ``x`` (J,); (R,).  The
    bootstrap's refit (the grid step is 1/240 of the search range, about 0.03 in log m)."""
    lo, hi = _bounds(x)
    mus, bs, logp, log1mp = _loglik_table(x, lo, hi)
    s = np.broadcast_to(s, k.shape)
    ll = k @ logp.T + (s - k) @ log1mp.T  # (R, M*B)
    return mus[np.argmax(ll, axis=1) // bs.size]


def separation(x: np.ndarray, k: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per count table (``k`` (R, J) of ``s`` (J,) at increasing log-widths ``x``), the bracket
    (x_j, x_{j+1}) where its outcomes separate completely (every seed 0 up to width j, every
    seed 1 from j + 1 on; at least one of each), else (nan, nan): there the likelihood is
    maximal, as beta grows without bound, for *every* midpoint in the bracket, so the data
    locate m* to the bracket and no closer."""
    zeros, ones = k == 0, k == np.broadcast_to(s, k.shape)
    J = x.size
    lo, hi = np.full(k.shape[0], np.nan), np.full(k.shape[0], np.nan)
    for j in range(J - 1):
        cut = zeros[:, :j + 1].all(axis=1) & ones[:, j + 1:].all(axis=1)
        lo[cut], hi[cut] = x[j], x[j + 1]
    return lo, hi


def bootstrap_thresholds(m: Sequence[float], outcomes: Sequence[float], reps: int = 1000,
                         seed: int = 0) -> np.ndarray:
    """log m* of ``reps`` bootstrap replicates: the seeds of each width resampled with
    replacement (seed-level 0/1 outcomes), each replicate refitted (:func:`fit_logistic_counts`);
    a replicate whose outcomes separate completely between two adjacent widths
    (:func:`separation`) has no single maximum-likelihood midpoint: its log m* is drawn
    uniformly over that bracket (the bounded steepness BETA_MAX would put every such replicate
    at the bracket's centre, and an interval of a few grid steps where the data leave a factor
    of the grid's spacing open)."""
    x = np.log(np.asarray(m, dtype=float))
    y = np.asarray(outcomes, dtype=float)
    widths, inv = np.unique(x, return_inverse=True)
    rng = np.random.default_rng(seed)
    k = np.zeros((reps, widths.size))
    s = np.zeros(widths.size)
    for j in range(widths.size):
        ys = y[inv == j]
        draws = rng.integers(0, ys.size, size=(reps, ys.size))
        k[:, j] = ys[draws].sum(axis=1)
        s[j] = ys.size
    mu = fit_logistic_counts(widths, k, s)
    lo, hi = separation(widths, k, s)
    split = ~np.isnan(lo)
    mu[split] = rng.uniform(lo[split], hi[split])
    return mu


def isotonic(p: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The non-decreasing q minimizing sum_j w_j (p_j - q_j)^2 (pool adjacent violators); for
    fractions p_j = k_j / s_j with weights s_j it is the binomial maximum likelihood under the
    order constraint q_1 <= q_2 <= ..."""
    blocks: list[list[float]] = []  # [weighted mean, weight, length]
    for pj, wj in zip(p.tolist(), w.tolist(), strict=True):
        blocks.append([pj, wj, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            (a, wa, na), (b, wb, nb) = blocks.pop(-2), blocks.pop()
            blocks.append([(a * wa + b * wb) / (wa + wb), wa + wb, na + nb])
    return np.array([v for v, _, length in blocks for _ in range(length)])


def _deviance(k: np.ndarray, s: np.ndarray, q: np.ndarray) -> np.ndarray:
    """2 sum_j [k_j log(p_j / q_j) + (s_j - k_j) log((1 - p_j) / (1 - q_j))], p_j = k_j / s_j
    (0 log 0 = 0); k (..., J)."""
    p = k / s
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(k > 0, k * np.log(p / q), 0.0)
        b = np.where(k < s, (s - k) * np.log((1 - p) / (1 - q)), 0.0)
    return 2 * (a + b).sum(axis=-1)


def monotone_p(m: Sequence[float], outcomes: Sequence[float], reps: int = 1000,
               seed: int = 0) -> float:
    """p-value of "the fraction of 1s does not fall with m" (the premise of :func:`fit_logistic`):
    the likelihood ratio of a free fraction per width against the isotonic maximum likelihood q
    (:func:`isotonic`), 2 sum_j [k_j log(p_j/q_j) + (s_j - k_j) log((1-p_j)/(1-q_j))], its null
    distribution from ``reps`` parametric bootstrap draws k*_j ~ Bin(s_j, q_j) refitted.  1 when
    the fractions are already monotone."""
    _, k, s = _counts(m, outcomes)
    q = isotonic(k / s, s)
    observed = float(_deviance(k, s, q))
    if observed <= 1e-12:
        return 1.0
    draws = np.random.default_rng(seed).binomial(s.astype(int), q, size=(reps, s.size))
    null = np.array([_deviance(d, s, isotonic(d / s, s)) for d in draws.astype(float)])
    return float((1 + np.sum(null >= observed - 1e-9)) / (reps + 1))


MONOTONE_LEVEL = 0.05
"""A fraction whose :func:`monotone_p` is below this *falls* with m: its logistic midpoint is no
transition, so it is neither quoted as a threshold nor fitted in a power law (a flagged n is
left out of the fit, the others stay; the test's size is at most 5 % at each outcome and n)."""


def located(t: dict[str, Any]) -> bool:
    """Whether the threshold dict ``t`` (:func:`threshold`) locates a transition: its midpoint
    is inside the grid (not censored) and the fraction does not fall with m."""
    return not t["censored"] and not t["falls"]


def percentile_interval(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    lo, hi = np.quantile(values, [(1 - confidence) / 2, (1 + confidence) / 2])
    return float(lo), float(hi)


def threshold(m: Sequence[float], outcomes: Sequence[float], n: int, reps: int,
              seed: int) -> tuple[dict[str, Any], np.ndarray]:
    """The fitted threshold at one n (JSON-ready) and its bootstrap replicates (log m*); the
    interval is the replicates' 95 % percentile interval widened by half the refit's grid step
    (1/480 of the log-width range plus margins) at each end; ``monotone_p``: :func:`monotone_p`,
    and ``falls`` when it is below :data:`MONOTONE_LEVEL` (the midpoint is no transition, so
    ``censored`` is "": a fraction that falls has no threshold to censor)."""
    fit = fit_logistic(m, outcomes)
    boot = bootstrap_thresholds(m, outcomes, reps, seed)
    monotone = monotone_p(m, outcomes, reps, seed + 1)
    falls = monotone < MONOTONE_LEVEL
    lo, hi = percentile_interval(boot)
    x = np.log(np.asarray(m, dtype=float))
    half_step = (float(x.max() - x.min()) + 2 * MU_MARGIN) / (_MU_GRID - 1) / 2
    lo, hi = lo - half_step, hi + half_step  # the replicates' grid resolution, both ends
    return {"n": n, "m_star": fit.m_star, "interval": [math.exp(lo), math.exp(hi)],
            "log_m_star": fit.mu, "beta": fit.beta, "censored": "" if falls else fit.censored,
            "m_star_over_n": fit.m_star / n, "widths": sorted({float(v) for v in m}),
            "monotone_p": monotone, "falls": falls}, boot


# --------------------------------------------------------------------------- power laws


@dataclasses.dataclass(frozen=True)
class PowerFit:
    """m*(n) ~ a n^gamma: least squares in log-log over ``ns`` (the n whose threshold is not
    censored), and the 95 % percentile interval of gamma (and a) over the bootstrap replicates."""

    gamma: float
    prefactor: float
    interval: tuple[float, float] | None
    prefactor_interval: tuple[float, float] | None
    ns: tuple[int, ...]


def power_slope(ns: Sequence[float], values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(gamma, log a) of log values = log a + gamma log n; ``values`` (len(ns),) or
    (len(ns), R) for R fits at once."""
    x = np.log(np.asarray(ns, dtype=float))
    y = np.log(np.asarray(values, dtype=float))
    xc = x - x.mean()
    gamma = (xc @ (y - y.mean(axis=0))) / (xc @ xc)
    return gamma, y.mean(axis=0) - gamma * x.mean()


def fit_power(ns: Sequence[int], m_star: Sequence[float],
              replicates: np.ndarray | None = None) -> PowerFit | None:
    """The power fit of m*(n) (None for fewer than 2 n); ``replicates`` (len(ns), R): the
    bootstrap thresholds at the same n, for the interval."""
    if len(ns) < 2:
        return None
    gamma, log_a = power_slope(ns, np.asarray(m_star, dtype=float))
    interval = prefactor = None
    if replicates is not None:
        g, la = power_slope(ns, np.asarray(replicates, dtype=float))
        interval = percentile_interval(g)
        lo, hi = percentile_interval(la)
        prefactor = (math.exp(lo), math.exp(hi))
    return PowerFit(float(gamma), float(math.exp(log_a)), interval, prefactor,
                    tuple(int(n) for n in ns))


def beyond(ns: Sequence[int], m_star: Sequence[float], replicates: np.ndarray,
           t: dict[str, Any]) -> dict[str, Any]:
    """The power fit over ``ns`` extrapolated to a threshold ``t`` (a :func:`threshold` dict)
    left out of it: the predicted m* = a n^gamma and its 95 % percentile interval over the
    replicates' fits (``replicates`` as for :func:`fit_power`), and ``consistent``: False only
    where the data at n contradict the power law.  Censored ("above" / "below": every width on
    one side of 1/2, ``bound`` the largest / smallest width): the whole predicted interval on
    the wrong side of the bound.  Located (``censored`` "", ``bound`` None; e.g. an n whose
    horizon does not meet the rule): the threshold's interval and the predicted one disjoint."""
    n, side = int(t["n"]), t["censored"]
    gamma, log_a = power_slope(ns, np.asarray(m_star, dtype=float))
    g, la = power_slope(ns, np.asarray(replicates, dtype=float))
    lo, hi = percentile_interval(np.exp(la + g * math.log(n)))
    if side == "above":
        bound, consistent = float(t["widths"][-1]), hi >= t["widths"][-1]
    elif side == "below":
        bound, consistent = float(t["widths"][0]), lo <= t["widths"][0]
    else:
        bound, consistent = None, t["interval"][0] <= hi and lo <= t["interval"][1]
    return {"n": n, "censored": side, "bound": bound,
            "predicted": float(math.exp(log_a + gamma * math.log(n))), "interval": [lo, hi],
            "consistent": bool(consistent)}
