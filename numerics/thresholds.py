r"""Two width thresholds of Theorem 6, measured seed by seed: interpolation and the ODE limit.

Theorem 6 assumes m >= c1 n (c1 = 1.3e7 for tanh) and concludes two things: the loss interpolates
and the trained weights stay a discretization of a Lipschitz path (sup_t max_k ||Z_{k+1}(t) -
Z_k(t)|| = O(1/L), outputs of depths L and 2L O(1/L) apart).  Interpolation alone is not the
implicit regularization (at n = 8, m = 1 every run interpolates while the gap decays like
L^-0.23), so this module measures, per (n, m) and per seed (an independent draw of data and
initialization), both outcomes and fits a width threshold to each:

- **interpolates**: l(T) <= :data:`LEVEL` l(0) at the deepest depth of the grid (the network
  closest to the ODE; every depth's own outcome is kept, ``interp_L{L}``, so that the threshold
  can be fitted per depth);
- **smooth** (1/L-smooth): the seed's least-squares slope of log sup_t max_k ||Z_{k+1}(t) -
  Z_k(t)|| against log L over the depth grid is <= -0.8, the edge of the one-sided O(1/L) region
  :data:`theory.catalog.ONE_OVER_L` (its derivation: ``ONE_OVER_L_WHY``; the alternatives it must
  reject, an O(1) or L^-1/2 gap, are flatter than -0.5).  The slope of the limit gaps
  max_x ||F^L_T(x) - F^{2L}_T(x)|| (:func:`numerics.longtime.limit_gaps`, fresh inputs) against L
  is recorded beside it (``limit_slope``; ``limit_smooth`` under the same edge), and the local
  slopes between consecutive depths (``local_slope_L{a}_{b}``) show whether the rate is
  asymptotic on the grid.  A seed without a slope (a gap exactly 0, a diverged run) is not
  smooth.

:func:`width_point` is the sweep task: one (n, m) with every seed and depth, each depth one
batched training of all seeds (:func:`numerics.flow.run_config` with ``seeds``), one flat record
per seed.  :func:`analyze` turns records into the transition curves (fraction of seeds per
(n, m)), logistic fits in log m (maximum likelihood on the seed-level 0/1 outcomes,
:func:`fit_logistic`), thresholds m*(n) = the logistic's midpoint with a bootstrap interval over
seeds (:func:`bootstrap_thresholds`: seeds resampled within each (n, m), refitted), and the
exponents of m*(n) ~ a n^gamma with intervals from the same bootstrap replicates
(:func:`fit_power`).

**The horizon T(n)** is set from measured decay, not a multiple of n chosen in advance
(:func:`horizon`): a pilot (:func:`pilot`) trains, at each pilot n, :data:`PILOT_SEEDS` seeds
(disjoint from the sweeps' seeds) of a wide network (m = :data:`PILOT_RATIO` n, L =
:data:`PILOT_L`, where PL is best conditioned) for a long time and records each seed's first
time t_hit with l(t) <= LEVEL l(0); t_knee(n) = the slowest seed's t_hit.  T(n) =
:data:`HORIZON_FACTOR` t_knee(n), rounded up to an integer, where a pilot was measured at n
(:data:`PILOT_FILE`), and else from the fit t_knee ~ b n^alpha over the measured pilots (least
squares in log-log, extrapolated): twice the time the slowest well-conditioned seed takes to go
past the knee.  m*_interp is therefore "the width from which on a seed interpolates within
twice the time a wide network needs"; every point also records each seed's t_hit and its
outcome at T/2 (``interp_half``), so that the report shows the threshold at T/2 beside the one
at T (how far the horizon moves it) and where the interpolating seeds crossed the level.

**Gradient descent vs the flow.**  Every width trains with the same eta; where the trained
network's curvature puts that step past the damping edge (max_t eta lambda_max >= 1 + W(1/e) =
1.28 in the flow's metric; 2 is the edge of stability) or the step halving is not first order
(:mod:`numerics.tracking`), an outcome is about gradient descent, not the flow (4) of Theorem 6.
Each point records its flow tracking beside its outcomes (:func:`tracking_fields`, one network
per point); the fractions and fits keep every seed, and :func:`tracking_summary` says per n at
which widths gradient descent does not track the flow.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from numerics.flow import TrainResult, run_config
from numerics.longtime import INTERPOLATION_LEVEL, fresh_inputs, require_long_time
from numerics.model import MLP, forward
from numerics.rates import per_seed_slopes, t_interval
from numerics.tracking import flow_tracking
from theory.catalog import ONE_OVER_L
from theory.config import Config
from theory.errors import ConfigError, DivergenceError

LEVEL = INTERPOLATION_LEVEL
"""A seed interpolates when l(T) <= LEVEL l(0) (:data:`numerics.longtime.INTERPOLATION_LEVEL`)."""
SMOOTH_EDGE = ONE_OVER_L[1]
"""A seed is 1/L-smooth when its per-seed slope is <= this edge (-0.8) of the one-sided O(1/L)
region :data:`theory.catalog.ONE_OVER_L`."""
RECORD_POINTS = 200
"""Recorded flow times per training (for t_hit and the loss at T/2)."""

# --------------------------------------------------------------------------- the horizon

HORIZON_FACTOR = 2.0
PILOT_RATIO = 4
PILOT_L = 8
PILOT_SEEDS = (1000, 1001, 1002, 1003, 1004)
PILOT_FILE = Path(__file__).resolve().parent.parent / "reports" / "data" / "width-pilot.json"
"""The measured pilots (:func:`pilot`, one JSON object per n: t_hit per seed, t_knee, T_pilot,
wall time, machine), written by ``python -m numerics.thresholds pilot N ...``.  A data file, not
code: a new pilot changes the horizon (hence the configuration and the sweep's keys) of its own n
only."""


def pilot(base: Config, n: int, T_pilot: float | None = None,
          doublings: int = 3) -> dict[str, Any]:
    """t_hit per seed for the wide pilot network at ``n`` (m = PILOT_RATIO n, L = PILOT_L, seeds
    PILOT_SEEDS), run to ``T_pilot`` (default 6 n^0.8 + 60) and, while a seed has not reached
    the level, again to twice the horizon (at most ``doublings`` times); t_knee = the slowest
    seed's t_hit (inf when one never reached it); JSON-ready."""
    import platform

    T = float(T_pilot if T_pilot is not None else math.ceil(6 * n ** 0.8 + 60))
    began = time.perf_counter()
    for _ in range(doublings + 1):
        c = dataclasses.replace(base, n=n, m=PILOT_RATIO * n, L=PILOT_L, T=T, seeds=PILOT_SEEDS)
        result = run_config(c, seeds=c.seeds, record_every=max(1, c.iterations // 400))
        hits = hit_times(result)
        if all(math.isfinite(h) for h in hits):
            break
        T *= 2
    knee = max(hits) if all(math.isfinite(h) for h in hits) else math.inf
    return {"n": n, "m": c.m, "L": c.L, "T_pilot": T, "eta": c.eta, "seeds": list(PILOT_SEEDS),
            "t_hit": [h if math.isfinite(h) else None for h in hits],
            "t_knee": knee if math.isfinite(knee) else None,
            "wall_s": time.perf_counter() - began, "machine": platform.node() + " "
            + platform.processor()}


def pilots(path: Path | None = None) -> dict[int, float]:
    """The measured t_knee per pilot n (:data:`PILOT_FILE`; a pilot whose slowest seed never
    reached the level is left out)."""
    import json

    p = PILOT_FILE if path is None else path
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {int(e["n"]): float(e["t_knee"]) for e in data["pilots"] if e.get("t_knee")}


def fit_horizon(measured: Mapping[int, float] | None = None) -> tuple[float, float]:
    """(b, alpha) of t_knee(n) ~ b n^alpha, least squares in log-log over the pilots."""
    measured = pilots() if measured is None else measured
    if len(measured) < 2:
        raise ConfigError("pilots", dict(measured), "the horizon rule needs >= 2 measured pilots")
    x, y = np.log(list(measured)), np.log(list(measured.values()))
    alpha, log_b = np.polyfit(x, y, 1)
    return float(math.exp(log_b)), float(alpha)


def horizon(n: int, measured: Mapping[int, float] | None = None) -> float:
    """T(n) = HORIZON_FACTOR t_knee(n), rounded up to an integer: the measured pilot's t_knee
    where one exists at n, else the power fit's b n^alpha (:func:`fit_horizon`, extrapolated)."""
    measured = pilots() if measured is None else measured
    if n in measured:
        knee = measured[n]
    else:
        b, alpha = fit_horizon(measured)
        knee = b * n ** alpha
    return float(math.ceil(HORIZON_FACTOR * knee - 1e-9))


# --------------------------------------------------------------------------- one (n, m)


def hit_times(result: TrainResult) -> list[float]:
    """Per network: the first recorded flow time with l(t) <= LEVEL l(0) (nan: never)."""
    loss = result.series["loss"].double()
    below = loss <= LEVEL * loss[0]
    t = result.times.double()
    out = []
    for j in range(loss.shape[1]):
        idx = torch.nonzero(below[:, j]).flatten()
        out.append(float(t[idx[0]]) if idx.numel() else math.nan)
    return out


def _depth_runs(config: Config, seeds: tuple[int, ...]) -> list[dict[str, Any] | None]:
    """Per seed of ``seeds``, the measurements of one batched training at ``config.L`` (None for a
    seed that diverged: the batch is rerun seed by seed after a divergence)."""
    every = max(1, config.iterations // RECORD_POINTS)
    try:
        result = run_config(config, seeds=seeds, record_every=every)
    except DivergenceError:
        if len(seeds) == 1:
            return [None]
        return [r for s in seeds for r in _depth_runs(config, (s,))]
    loss = result.series["loss"].double()
    t = result.times.double()
    half = int(torch.searchsorted(t, t[-1] / 2))
    F = forward(result.params, fresh_inputs(config),
                MLP(config.activation, config.scaling)).double()
    hits = hit_times(result)
    out: list[dict[str, Any] | None] = []
    for j in range(len(seeds)):
        out.append({"l0": float(loss[0, j]), "l_T": float(loss[-1, j]),
                    "l_half": float(loss[half, j]), "t_hit": hits[j],
                    "gap": float(result.maxima["gap"][j]),
                    "mu": float(result.minima["pl"][j]), "F": F[j]})
    return out


def width_point(config: Config) -> list[dict[str, float]]:
    """The sweep task: for every seed of ``config.seeds`` (batched) and every depth of
    ``config.depths`` (one training each, to ``config.T``), one flat record (all floats; nan
    where undefined): per depth L ``l_ratio_L{L}`` = l(T)/l(0), ``interp_L{L}``,
    ``interp_half_L{L}`` (at T/2), ``t_hit_L{L}``, ``gap_L{L}`` = sup_t max_k ||Z_{k+1} - Z_k||,
    ``mu_L{L}`` = inf_t G/l; per consecutive pair ``local_slope_L{a}_{b}`` and
    ``limit_gap_L{a}_{b}``; ``gap_slope``, ``limit_slope``, ``interpolated``,
    ``interpolated_half``, ``smooth``, ``limit_smooth``, ``diverged`` and the sizes; ``wall_s``:
    the whole task's wall time (every seed and depth); each seed's flow tracking
    (:func:`tracking_fields`, measured on every seed's network, batched, recorded beside its
    outcomes, never filtering them) and ``track_wall_s``, the tracking's wall time (0 when
    cached)."""
    require_long_time(config)
    depths = tuple(sorted(config.depths))
    if len(depths) < 2:
        raise ConfigError("depths", config.depths, "the width thresholds need >= 2 depths")
    began = time.perf_counter()
    seeds = tuple(config.seeds)
    runs = {L: _depth_runs(dataclasses.replace(config, L=L), seeds) for L in depths}
    wall = time.perf_counter() - began
    tracking = flow_tracking(dataclasses.replace(config, L=depths[-1])).per_seed
    track_wall = time.perf_counter() - began - wall
    out = []
    for j, seed in enumerate(seeds):
        out.append(_record(config, depths, [runs[L][j] for L in depths], seed)
                   | {"wall_s": wall} | tracking_fields(tracking[j].to_dict())
                   | {"track_wall_s": track_wall})
    return out


TRACKING_FIELDS = ("track_eta_lambda_max", "track_ratio", "tracks", "track_seed", "track_L")
"""A point's flow tracking in its records (:func:`tracking_fields`; absent or nan: unknown, as
in data measured before it was recorded)."""


def tracking_fields(tracking: Mapping[str, Any]) -> dict[str, float]:
    """The record fields of :meth:`numerics.tracking.Tracking.to_dict` (None read as nan): does
    gradient descent at the point's eta track the flow (4)?  ``track_eta_lambda_max`` = max_t
    eta lambda_max at the checkpoints, ``track_ratio`` = the step-halving ratio, ``tracks`` = 1
    or 0 by the rule :meth:`numerics.tracking.Tracking.failure`, measured on the record's own
    network (seed ``track_seed``; data measured before each seed was tracked carries the
    point's first seed, :data:`reports.sections.width.TRACKING_FILE`) at the grid's deepest
    depth ``track_L``.
    A precondition measured on the optimizer, recorded beside the outcomes (the fractions and
    thresholds keep every seed; :func:`tracking_summary` says which widths are about the
    flow)."""
    return {"track_eta_lambda_max": _num(tracking["max_eta_lambda_max"]),
            "track_ratio": _num(tracking["ratio"]), "tracks": float(bool(tracking["tracks"])),
            "track_seed": float(tracking["seed"]), "track_L": float(tracking["L"])}


def with_tracking(records: Sequence[Mapping[str, Any]],
                  measured: Mapping[tuple[int, int, float, float], Mapping[str, Any]]
                  ) -> list[dict[str, Any]]:
    """``records`` with the flow tracking of their (n, m, eta, T) from ``measured``
    (``to_dict`` form, e.g. ``reports/data/width-tracking.json``) where a record has none of its
    own (data swept before width_point recorded it); a record's own measurement is kept."""
    out = []
    for r in records:
        own = math.isfinite(_num(r.get("tracks")))
        t = measured.get((int(r["n"]), int(r["m"]), float(r["eta"]), float(r["T"])))
        out.append(dict(r) if own or t is None else dict(r) | tracking_fields(t))
    return out


def _record(config: Config, depths: tuple[int, ...], per_depth: list[dict[str, Any] | None],
            seed: int) -> dict[str, float]:
    nan = math.nan
    rec: dict[str, float] = {"n": float(config.n), "m": float(config.m), "T": float(config.T),
                             "eta": float(config.eta), "y_scale": float(config.y_scale),
                             "L_max": float(depths[-1]), "seed_value": float(seed),
                             "diverged": float(any(r is None for r in per_depth))}
    for L, r in zip(depths, per_depth, strict=True):
        if r is None:
            rec |= {f"l_ratio_L{L}": nan, f"interp_L{L}": 0.0, f"interp_half_L{L}": 0.0,
                    f"t_hit_L{L}": nan, f"gap_L{L}": nan, f"mu_L{L}": nan}
            continue
        ratio = r["l_T"] / r["l0"] if r["l0"] > 0 else nan
        rec |= {f"l_ratio_L{L}": ratio, f"interp_L{L}": float(r["l_T"] <= LEVEL * r["l0"]),
                f"interp_half_L{L}": float(r["l_half"] <= LEVEL * r["l0"]),
                f"t_hit_L{L}": r["t_hit"], f"gap_L{L}": r["gap"], f"mu_L{L}": r["mu"]}
    gaps = [rec[f"gap_L{L}"] for L in depths]
    limits = []
    for (a, ra), (b, rb) in itertools.pairwise(zip(depths, per_depth, strict=True)):
        ga, gb = rec[f"gap_L{a}"], rec[f"gap_L{b}"]
        rec[f"local_slope_L{a}_{b}"] = (math.log(gb / ga) / math.log(b / a)
                                        if ga > 0 and gb > 0 else nan)
        lim = nan if ra is None or rb is None else float(
            (ra["F"] - rb["F"]).norm(dim=-1).amax())
        rec[f"limit_gap_L{a}_{b}"] = lim
        limits.append(lim)
    rec["gap_slope"] = _slope(depths, gaps)
    rec["limit_slope"] = _slope(depths[:-1], limits) if len(limits) >= 2 else nan
    rec["interpolated"] = rec[f"interp_L{depths[-1]}"]
    rec["interpolated_half"] = rec[f"interp_half_L{depths[-1]}"]
    rec["smooth"] = float(rec["gap_slope"] <= SMOOTH_EDGE)  # nan compares False: not smooth
    rec["limit_smooth"] = float(rec["limit_slope"] <= SMOOTH_EDGE)
    return rec


def _slope(x: Sequence[float], values: Sequence[float]) -> float:
    v = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(v)):
        return math.nan
    return float(per_seed_slopes(x, v[:, None])[0])


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


def fit_logistic(m: Sequence[float], outcomes: Sequence[float]) -> Logistic:
    """Maximum likelihood of the logistic in log m on 0/1 ``outcomes`` (one per seed, ``m`` its
    width): a grid search over (mu, beta) for the global maximum, polished with
    ``scipy.optimize.minimize`` (L-BFGS-B, beta in (0, BETA_MAX], mu within the margin)."""
    from scipy.optimize import minimize

    x = np.log(np.asarray(m, dtype=float))
    y = np.asarray(outcomes, dtype=float)
    if x.size != y.size or x.size == 0:
        raise ConfigError("outcomes", len(y), "one 0/1 outcome per width")
    widths, inv = np.unique(x, return_inverse=True)
    k = np.bincount(inv, weights=y, minlength=widths.size)
    s = np.bincount(inv, minlength=widths.size).astype(float)
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


def bootstrap_thresholds(m: Sequence[float], outcomes: Sequence[float], reps: int = 1000,
                         seed: int = 0) -> np.ndarray:
    """log m* of ``reps`` bootstrap replicates: the seeds of each width resampled with
    replacement (seed-level 0/1 outcomes), each replicate refitted (:func:`fit_logistic_counts`)."""
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
    return fit_logistic_counts(widths, k, s)


def percentile_interval(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    lo, hi = np.quantile(values, [(1 - confidence) / 2, (1 + confidence) / 2])
    return float(lo), float(hi)


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


# --------------------------------------------------------------------------- the analysis

OUTCOMES = {"interp": "interpolated", "ode": "smooth", "limit": "limit_smooth",
            "interp_half": "interpolated_half"}
"""The thresholds fitted per n: m*_interp (interpolation at T at the deepest depth), m*_ode (the
gap's per-seed slope <= -0.8), m*_limit (the limit gaps' slope <= -0.8) and m*_interp at T/2."""
MAIN = ("interp", "ode")


def _depths_of(record: Mapping[str, Any]) -> list[int]:
    return sorted(int(k[len("gap_L"):]) for k in record if k.startswith("gap_L"))


def cells(records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per (n, m): seeds, the fraction of each outcome, the per-seed gap slopes with their mean
    and Student-t interval and its side of ONE_OVER_L (the verdict rule of docs/verdicts.md),
    the median local slopes, the fraction interpolating per depth and at T/2, the median l(T)/l(0)
    per depth, the median t_hit / T of the interpolating seeds, and the point's flow tracking
    (:func:`_cell_tracking`)."""
    from theory.verdicts import side

    groups: dict[tuple[float, float], list[Mapping[str, Any]]] = {}
    for r in records:
        groups.setdefault((float(r["n"]), float(r["m"])), []).append(r)
    out = []
    for (n, m), rs in sorted(groups.items()):
        depths = _depths_of(rs[0])
        cell: dict[str, Any] = {"n": int(n), "m": int(m), "m_over_n": m / n, "seeds": len(rs),
                                "T": float(rs[0]["T"]), "depths": depths}
        for name, key in OUTCOMES.items():
            cell[f"fraction_{name}"] = float(np.mean([_num(r[key]) for r in rs]))
        slopes = [_num(r["gap_slope"]) for r in rs]
        mean, lo, hi = t_interval(slopes)
        cell["gap_slopes"] = slopes
        cell["gap_slope"] = mean
        cell["gap_slope_interval"] = [lo, hi]
        cell["rate_side"] = (side((lo, hi), ONE_OVER_L) if math.isfinite(lo) and math.isfinite(hi)
                             else "undefined")
        cell["limit_slopes"] = [_num(r["limit_slope"]) for r in rs]
        cell["local_slopes"] = {f"{a}-{b}": _median([r.get(f"local_slope_L{a}_{b}") for r in rs])
                                for a, b in itertools.pairwise(depths)}
        cell["fraction_interp_L"] = {str(L): float(np.mean([_num(r[f"interp_L{L}"]) for r in rs]))
                                     for L in depths}
        cell["median_l_ratio_L"] = {str(L): _median([r[f"l_ratio_L{L}"] for r in rs])
                                    for L in depths}
        cell["median_gap_L"] = {str(L): _median([r[f"gap_L{L}"] for r in rs]) for L in depths}
        L = depths[-1]
        hits = [_num(r[f"t_hit_L{L}"]) / float(r["T"]) for r in rs if _num(r["interpolated"])]
        cell["median_hit_over_T"] = _median(hits)
        cell["max_hit_over_T"] = max(hits) if hits else math.nan
        cell["diverged"] = int(sum(_num(r["diverged"]) for r in rs))
        cell["wall_s"] = _median([r.get("wall_s") for r in rs])
        cell |= _cell_tracking(rs)
        out.append(cell)
    return out


def _cell_tracking(rs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A cell's flow tracking from its records': ``tracks`` False when a seed's does not, True
    when every seed's is known and does, else None (unknown); ``track_eta_lambda_max`` and
    ``track_ratio`` of its worst seed (the first that does not track, else the one with the
    largest eta lambda_max)."""
    known = [r for r in rs if math.isfinite(_num(r.get("tracks")))]
    if not known:
        return {"tracks": None, "track_eta_lambda_max": math.nan, "track_ratio": math.nan}
    bad = [r for r in known if not _num(r["tracks"])]
    worst = bad[0] if bad else max(known, key=lambda r: _num(r["track_eta_lambda_max"]))
    tracks = False if bad else (True if len(known) == len(rs) else None)
    return {"tracks": tracks, "track_eta_lambda_max": _num(worst["track_eta_lambda_max"]),
            "track_ratio": _num(worst["track_ratio"])}


def tracking_summary(cell_list: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per n (increasing): at which widths gradient descent at the sweep's eta does not track
    the flow (``untracked``: the cell's ``tracks`` is False) and where that is not known
    (``unknown``), and ``flow_from``: the smallest width from which on every width of the grid
    was measured and tracks (None where the widest does not or is unknown); per measured width
    max_t eta lambda_max and the step-halving ratio (``max_eta_lambda_max``, ``ratio``).  The
    transition curves from ``flow_from`` on are about the flow (4) of Theorem 6; at the
    untracked widths they are about gradient descent at that step."""
    out = []
    for n in sorted({int(c["n"]) for c in cell_list}):
        cs = sorted((c for c in cell_list if int(c["n"]) == n), key=lambda c: c["m"])
        flow_from = None
        for c in reversed(cs):
            if c["tracks"] is not True:
                break
            flow_from = int(c["m"])
        out.append({"n": n, "untracked": [int(c["m"]) for c in cs if c["tracks"] is False],
                    "unknown": [int(c["m"]) for c in cs if c["tracks"] is None],
                    "flow_from": flow_from,
                    "max_eta_lambda_max": {str(int(c["m"])): c["track_eta_lambda_max"]
                                           for c in cs if c["tracks"] is not None},
                    "ratio": {str(int(c["m"])): c["track_ratio"] for c in cs
                              if c["tracks"] is not None}})
    return out


def _num(v: Any) -> float:
    return math.nan if v is None else float(v)


def _median(values: Sequence[Any]) -> float:
    v = np.array([_num(x) for x in values], dtype=float)
    v = v[np.isfinite(v)]
    return float(np.median(v)) if v.size else math.nan


def threshold(m: Sequence[float], outcomes: Sequence[float], n: int, reps: int,
              seed: int) -> tuple[dict[str, Any], np.ndarray]:
    """The fitted threshold at one n (JSON-ready) and its bootstrap replicates (log m*); the
    interval is the replicates' 95 % percentile interval widened by half the refit's grid step
    (1/480 of the log-width range plus margins) at each end."""
    fit = fit_logistic(m, outcomes)
    boot = bootstrap_thresholds(m, outcomes, reps, seed)
    lo, hi = percentile_interval(boot)
    x = np.log(np.asarray(m, dtype=float))
    half_step = (float(x.max() - x.min()) + 2 * MU_MARGIN) / (_MU_GRID - 1) / 2
    lo, hi = lo - half_step, hi + half_step  # the replicates' grid resolution, both ends
    return {"n": n, "m_star": fit.m_star, "interval": [math.exp(lo), math.exp(hi)],
            "log_m_star": fit.mu, "beta": fit.beta, "censored": fit.censored,
            "m_star_over_n": fit.m_star / n, "widths": sorted({float(v) for v in m})}, boot


def common_grid(records: Sequence[Mapping[str, Any]]) -> tuple[int, ...]:
    """The depths every record measured."""
    sets = [set(_depths_of(r)) for r in records]
    return tuple(sorted(set.intersection(*sets))) if sets else ()


def restrict(record: Mapping[str, Any], grid: Sequence[int]) -> dict[str, Any]:
    """``record`` with its outcomes recomputed on the depth sub-grid ``grid`` (consecutive depths
    of the record's own grid): the gap slope over ``grid``, the limit slope over its pairs,
    smooth, limit_smooth, and interpolation at ``grid[-1]``; the per-depth fields of other
    depths dropped."""
    grid = tuple(sorted(grid))
    own = _depths_of(record)
    if not set(grid) <= set(own) or len(grid) < 2:
        raise ConfigError("grid", grid, f"must be >= 2 depths of the record's {own}")
    out = {k: v for k, v in record.items()
           if not any(k.startswith(p) for p in ("l_ratio_L", "interp_L", "interp_half_L",
                                                "t_hit_L", "gap_L", "mu_L", "local_slope_L",
                                                "limit_gap_L"))}
    for L in grid:
        for p in ("l_ratio_L", "interp_L", "interp_half_L", "t_hit_L", "gap_L", "mu_L"):
            out[f"{p}{L}"] = record[f"{p}{L}"]
    limits = []
    for a, b in itertools.pairwise(grid):
        for p in ("local_slope_L", "limit_gap_L"):
            out[f"{p}{a}_{b}"] = record.get(f"{p}{a}_{b}")
        limits.append(_num(out[f"limit_gap_L{a}_{b}"]))
    out["gap_slope"] = _slope(grid, [_num(record[f"gap_L{L}"]) for L in grid])
    out["limit_slope"] = _slope(grid[:-1], limits) if len(limits) >= 2 else math.nan
    out["smooth"] = float(out["gap_slope"] <= SMOOTH_EDGE)
    out["limit_smooth"] = float(out["limit_slope"] <= SMOOTH_EDGE)
    out["interpolated"] = _num(record[f"interp_L{grid[-1]}"])
    out["interpolated_half"] = _num(record[f"interp_half_L{grid[-1]}"])
    out["L_max"] = float(grid[-1])
    return out


def analyze(records: Sequence[Mapping[str, Any]], *, reps: int = 1000, seed: int = 0,
            q: int | None = None, d_out: int | None = None, c1: float | None = None,
            grid: Sequence[int] | None = None) -> dict[str, Any]:
    """Everything the report shows, JSON-ready, on the depth ``grid`` (default: the depths every
    record measured, :func:`common_grid`; outcomes recomputed there, :func:`restrict`):
    ``cells`` (:func:`cells`); ``thresholds[name]`` per n (name in :data:`OUTCOMES`) with
    bootstrap intervals; ``exponents[name]`` (:class:`PowerFit` over the uncensored n, the
    interval from the same replicates); ``by_depth``: m*_interp per depth of the grid (does it
    move with L?); ``per_sample``: the parameters per sample 2 L q m* / (n d') at each depth;
    ``reference``: c1 n, n and sqrt(n); ``tracking``: per n the widths where gradient descent
    does not track the flow (:func:`tracking_summary`)."""
    grid = tuple(common_grid(records) if grid is None else grid)
    records = [restrict(r, grid) for r in records]
    ns = sorted({int(r["n"]) for r in records})
    cell_list = cells(records)
    out: dict[str, Any] = {"cells": cell_list, "tracking": tracking_summary(cell_list),
                           "thresholds": {}, "exponents": {},
                           "by_depth": {}, "reps": reps, "level": LEVEL, "grid": list(grid),
                           "smooth_edge": SMOOTH_EDGE, "ns": ns}
    boots: dict[str, dict[int, np.ndarray]] = {}

    def per_n(key: str, name: str) -> list[dict[str, Any]]:
        rows = []
        for j, n in enumerate(ns):
            rs = [r for r in records if int(r["n"]) == n]
            th, boot = threshold([float(r["m"]) for r in rs], [_num(r[key]) for r in rs], n,
                                 reps, seed + 7919 * j)
            boots.setdefault(name, {})[n] = boot
            rows.append(th)
        return rows

    for name, key in OUTCOMES.items():
        out["thresholds"][name] = per_n(key, name)
        usable = [t for t in out["thresholds"][name] if not t["censored"]]
        fit = fit_power([t["n"] for t in usable], [t["m_star"] for t in usable],
                        np.exp(np.stack([boots[name][t["n"]] for t in usable]))
                        if len(usable) >= 2 else None)
        out["exponents"][name] = None if fit is None else dataclasses.asdict(fit)
    depths = _depths_of(records[0]) if records else []
    for L in depths:
        name = f"interp_L{L}"
        rows = per_n(name, name)
        usable = [t for t in rows if not t["censored"]]
        fit = fit_power([t["n"] for t in usable], [t["m_star"] for t in usable],
                        np.exp(np.stack([boots[name][t["n"]] for t in usable]))
                        if len(usable) >= 2 else None)
        out["by_depth"][str(L)] = {"thresholds": rows,
                                   "exponent": None if fit is None else dataclasses.asdict(fit)}
    if q is not None and d_out is not None:
        out["per_sample"] = {name: [{"n": t["n"], **{str(L): 2 * L * q * t["m_star"] / (t["n"]
                                                                                      * d_out)
                                                    for L in depths}}
                                    for t in out["thresholds"][name]] for name in MAIN}
    out["reference"] = [{"n": n, "c1_n": None if c1 is None else c1 * n, "n_linear": float(n),
                         "sqrt_n": math.sqrt(n)} for n in ns]
    return out


# --------------------------------------------------------------------------- command line


def _main(argv: Sequence[str] | None = None) -> None:
    """``python -m numerics.thresholds pilot N ...``: the horizon pilot at each N (JSON lines)."""
    import json
    import sys

    from numerics.device import cpu_threads

    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] != "pilot":
        raise SystemExit("usage: python -m numerics.thresholds pilot N [N ...]")
    with cpu_threads():
        for n in args[1:]:
            entry = pilot(study_base(), int(n))
            print(json.dumps(entry), flush=True)
            try:
                data = json.loads(PILOT_FILE.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                data = {"rule": "T(n) = 2 t_knee(n); numerics.thresholds.horizon", "pilots": []}
            data["pilots"] = sorted([e for e in data["pilots"] if e["n"] != entry["n"]]
                                    + [entry], key=lambda e: e["n"])
            PILOT_FILE.parent.mkdir(parents=True, exist_ok=True)
            PILOT_FILE.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def study_base(**fields: Any) -> Config:
    """Model (3) of the long-time study (:func:`reports.sections.pl.study_base`: tanh, sphere
    data, d = d' = 4, q = 8, unclipped, tied, eta = 0.01), sizes and T set per point."""
    base = {"n": 8, "d": 4, "d_out": 4, "q": 8, "m": 4, "L": 8, "T": 40.0, "eta": 0.01,
            "activation": "tanh", "data": "sphere", "clip": "none", "init": "tied",
            "seeds": (0, 1, 2, 3, 4)} | fields
    return Config.from_mapping(base)


if __name__ == "__main__":
    _main()
