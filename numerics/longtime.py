r"""The long-time regime of Theorem 6, measured along the path: one point of the phase diagram.

:func:`phase_point` trains model (3) on the unclipped flow (4) (tied initialization of Section 3,
data on the sphere ||x_i|| = sqrt(q) as Proposition 5 assumes) for every seed of
``config.seeds`` in one batched :func:`numerics.flow.train` call, streaming in O(L) memory
(:class:`numerics.metrics.Monitor`):

- the loss l(t) and the PL ratio G(t)/l(t), G = ||dl/dA||_F^2 + L sum_k ||dl/dZ_k||_F^2 +
  ||dl/dB||_F^2 (Definition 1), with its running infimum mu_emp = inf_{t <= T} G/l;
- the distance from the initialization max(||A - A(0)||_F, sup_k ||Z_k - Z_k(0)||, ||B -
  B(0)||_F), maximized over t (Proposition 8 (i): the weights stay within M of it);
- sup_t L max_k ||Z_{k+1}(t) - Z_k(t)|| (Theorem 6 (ii): bounded by K~ for all t);
- the discretization check of dl/dt = -G: on the flow, log l(T) - log l(0) = -integral_0^T G/l dt
  exactly, so ``disc_gap`` = log(l(T)/l(0)) + eta sum_{i<N} G_i/l_i is the error of gradient
  descent with step eta against the flow (O(eta)), NOT a check of a theorem.

A seed "interpolates" when l(T) <= :data:`INTERPOLATION_LEVEL` l(0) (declared here, one place).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from numerics.data import make_data
from numerics.flow import TrainResult, run_config
from numerics.model import MLP, forward
from numerics.rates import rate_fit
from theory.catalog import ONE_OVER_L
from theory.config import Config
from theory.errors import ConfigError, DivergenceError

INTERPOLATION_LEVEL = 1e-2
"""A seed interpolates within the horizon T when l(T) <= INTERPOLATION_LEVEL * l(0)."""

KEYS = ("n", "m", "L", "seed", "T", "eta", "y_scale", "l0", "l_T", "interpolated", "mu_emp",
        "pl_init", "pl_T", "rate_emp", "max_dist", "max_dist_z", "sup_L_gap", "integral_pl",
        "disc_gap", "diverged")
"""The keys of every record of :func:`phase_point` (all floats)."""


def require_long_time(config: Config) -> None:
    """ConfigError (one line) unless ``config`` is Theorem 6's setting: model (3) with the paper's
    scaling, the unclipped flow, the tied initialization and data on the sphere."""
    for name, wanted in (("data", "sphere"), ("clip", "none"), ("init", "tied"),
                         ("scaling", "paper")):
        if getattr(config, name) != wanted:
            raise ConfigError(name, getattr(config, name), f"the long-time phase diagram "
                              f"(Theorem 6) needs {name} = {wanted}")


def phase_point(config: Config) -> list[dict[str, float]]:
    """One record per seed of ``config.seeds`` (keys :data:`KEYS`) for ``config``'s (n, m, L, T,
    eta, y_scale): the seeds are batched in one training; when the batch diverges, the seeds are
    rerun one by one and a diverged seed's record is ``diverged = 1`` with nan measurements."""
    return run_point(config, points=0)[0]


phase_point.requires = require_long_time  # type: ignore[attr-defined]  # sweeps check it first


def run_point(config: Config, points: int = 200
              ) -> tuple[list[dict[str, float]], dict[str, list[Any]]]:
    """:func:`phase_point`'s records and, from the same run, :func:`curve`'s series at about
    ``points`` flow times (``points=0``: none; after a divergence: the seeds that did not
    diverge)."""
    require_long_time(config)
    every = config.iterations if points == 0 else max(1, config.iterations // points)
    try:
        result = train_long(config, config.seeds, record_every=every)
        return records(config, result, config.seeds), curve(config, result, config.seeds)
    except DivergenceError:
        pass
    out: list[dict[str, float]] = []
    series: dict[str, list[Any]] = {"t": [], "sup_L_gap": [], "loss": [], "seeds": []}
    for seed in config.seeds:
        try:
            result = train_long(config, (seed,), record_every=every)
        except DivergenceError:
            out.append(_diverged(config, seed))
            continue
        out += records(config, result, (seed,))
        one = curve(config, result, (seed,))
        series["t"] = one["t"]
        for key in ("sup_L_gap", "loss", "seeds"):
            series[key] += one[key]
    return out, series


def train_long(config: Config, seeds: tuple[int, ...], **train_kwargs: object) -> TrainResult:
    """The batched run of :func:`phase_point` (series kept at t = 0 and T only, unless
    ``train_kwargs`` say otherwise)."""
    require_long_time(config)
    kwargs: dict[str, object] = {"record_every": config.iterations} | train_kwargs
    return run_config(config, seeds=seeds, **kwargs)


def curve(config: Config, result: TrainResult, seeds: tuple[int, ...]) -> dict[str, list[Any]]:
    """Theorem 6 (ii) along one run: the recorded flow times t and, per seed, the running
    supremum S(t) = sup_{s <= t} L max_k ||Z_{k+1}(s) - Z_k(s)|| (over the recorded times; the
    last value is the exact streamed supremum over every iteration) and the loss l(t)."""
    gap = torch.cummax(result.series["gap"], dim=0).values * config.L
    gap[-1] = torch.maximum(gap[-1], result.maxima["gap"] * config.L)
    b = gap.shape[1]
    return {"t": [float(t) for t in result.times],
            "sup_L_gap": [[float(v) for v in gap[:, j]] for j in range(b)],
            "loss": [[float(v) for v in result.series["loss"][:, j]] for j in range(b)],
            "seeds": list(seeds)}


def records(config: Config, result: TrainResult, seeds: tuple[int, ...]) -> list[dict[str, float]]:
    """The per-seed records (:data:`KEYS`) of a finished :func:`train_long` run."""
    l0, lT = result.series["loss"][0], result.series["loss"][-1]
    integral = result.integral("pl")
    dist = torch.stack([result.maxima[k] for k in ("dist_a", "dist_z", "dist_b")]).amax(0)
    T = float(result.times[-1])
    out = []
    for j, seed in enumerate(seeds):
        log_decay = math.log(float(lT[j]) / float(l0[j])) if lT[j] > 0 else -math.inf
        out.append({
            **_sizes(config, seed),
            "l0": float(l0[j]), "l_T": float(lT[j]),
            "interpolated": float(lT[j] <= INTERPOLATION_LEVEL * l0[j]),
            "mu_emp": float(result.minima["pl"][j]), "pl_init": float(result.series["pl"][0, j]),
            "pl_T": float(result.series["pl"][-1, j]), "rate_emp": -log_decay / T,
            "max_dist": float(dist[j]), "max_dist_z": float(result.maxima["dist_z"][j]),
            "sup_L_gap": config.L * float(result.maxima["gap"][j]),
            "integral_pl": float(integral[j]), "disc_gap": log_decay + float(integral[j]),
            "diverged": 0.0})
    return out


def _sizes(config: Config, seed: int) -> dict[str, float]:
    return {"n": float(config.n), "m": float(config.m), "L": float(config.L),
            "seed": float(seed), "T": float(config.iterations * config.eta),
            "eta": float(config.eta), "y_scale": float(config.y_scale)}


def _diverged(config: Config, seed: int) -> dict[str, float]:
    out = dict.fromkeys(KEYS, math.nan) | _sizes(config, seed)
    return out | {"interpolated": 0.0, "diverged": 1.0}



# --------------------------------------------------------------------------- the phase diagram


def horizon(n: int, T_per_n: float) -> float:
    """The horizon T = T_per_n * n of a phase-diagram point: the PL ratio G/l at initialization
    scales like 1/n (Definition 1's l is a mean over n samples), so a fixed T would measure the
    time to interpolate rather than the ability to."""
    return T_per_n * n


def grid_configs(base: Config, ns: Sequence[int], ratios: Sequence[float],
                 T_per_n: float) -> list[Config]:
    """The configurations of the (n, m) phase diagram: m = max(1, round(ratio n)), T = horizon."""
    out = []
    for n in ns:
        for ratio in ratios:
            out.append(dataclasses.replace(base, n=n, m=max(1, round(ratio * n)),
                                           T=horizon(n, T_per_n)))
    return out


def cells(records: Sequence[dict[str, float]], by: tuple[str, ...] = ("n", "m")
          ) -> list[dict[str, float]]:
    """Per (n, m) cell (or per ``by``): the fraction of seeds interpolating, the medians of mu_emp,
    max_dist and sup_L_gap, and the seed count; sorted by ``by``."""
    groups: dict[tuple[float, ...], list[dict[str, float]]] = {}
    for r in records:
        groups.setdefault(tuple(r[k] for k in by), []).append(r)
    out = []
    for key in sorted(groups):
        rs = groups[key]
        cell = dict(zip(by, key, strict=True))
        cell["fraction"] = sum(r["interpolated"] for r in rs) / len(rs)
        for name in ("mu_emp", "max_dist", "sup_L_gap", "rate_emp"):
            cell[name] = float(np.nanmedian([r[name] for r in rs]))
        cell["seeds"] = float(len(rs))
        out.append(cell)
    return out


@dataclasses.dataclass(frozen=True)
class Threshold:
    """m*(n) bracketed by the grid: the fraction interpolating is < 1/2 at ``m_lo`` and >= 1/2 at
    ``m_hi`` and every larger grid width (``m_lo`` = 0: already at the smallest width; ``m_hi`` =
    inf: never); ``m_star`` is the geometric midpoint (``m_hi`` when m_lo = 0, nan when never)."""

    n: int
    m_lo: float
    m_hi: float

    @property
    def m_star(self) -> float:
        if math.isinf(self.m_hi):
            return math.nan
        return self.m_hi if self.m_lo == 0 else math.sqrt(self.m_lo * self.m_hi)


def thresholds(cell_list: Sequence[dict[str, float]]) -> list[Threshold]:
    """The width threshold m*(n) of every n of a phase diagram (:class:`Threshold`)."""
    out = []
    for n in sorted({c["n"] for c in cell_list}):
        row = sorted((c for c in cell_list if c["n"] == n), key=lambda c: c["m"])
        m_lo, m_hi = 0.0, math.inf
        for j in range(len(row) - 1, -1, -1):
            if row[j]["fraction"] < 0.5:
                m_lo = row[j]["m"]
                break
            m_hi = row[j]["m"]
        out.append(Threshold(int(n), m_lo, m_hi))
    return out


@dataclasses.dataclass(frozen=True)
class PowerFit:
    """m* ~ a n^gamma: least squares through the midpoints, and the interval of slopes over every
    choice of bracket ends (m_lo or m_hi at each n; the smallest width stands in for m_lo = 0)."""

    gamma: float
    interval: tuple[float, float]
    prefactor: float
    points: int


def fit_power(ths: Sequence[Threshold]) -> PowerFit | None:
    """The fit of m*(n) ~ a n^gamma over the n with a finite bracket (None for fewer than 2)."""
    usable = [t for t in ths if math.isfinite(t.m_hi)]
    if len(usable) < 2:
        return None
    x = np.log([t.n for t in usable])
    mid = np.log([t.m_star for t in usable])
    gamma, log_a = np.polyfit(x, mid, 1)
    ends = [(math.log(t.m_lo) if t.m_lo > 0 else math.log(t.m_hi), math.log(t.m_hi))
            for t in usable]
    slopes = [np.polyfit(x, np.array(choice), 1)[0] for choice in itertools.product(*ends)]
    return PowerFit(float(gamma), (float(min(slopes)), float(max(slopes))), float(math.exp(log_a)),
                    len(usable))


# --------------------------------------------------------------------------- uniform smoothness


PATH_POINTS = 64
"""Recorded flow times of a :func:`path_runs` run (every N / PATH_POINTS iterations, the last)."""
FRESH_INPUTS = 64
"""Inputs, off the training sample, on which :func:`path_runs` evaluates the trained networks."""
FRESH_SEED = 1_000_003
"""Offset of their seed from ``config.seed`` (a draw of ``config.data``, independent of the
training sample)."""


def fresh_inputs(config: Config) -> torch.Tensor:
    """:data:`FRESH_INPUTS` inputs of ``config.data``'s distribution, seeded apart from the
    training sample (seed ``config.seed + FRESH_SEED``)."""
    X, _ = make_data(config.data, n=FRESH_INPUTS, d=config.d, d_out=config.d_out, q=config.q,
                     seed=config.seed + FRESH_SEED, dtype=config.dtype, device=config.device)
    return X


@functools.lru_cache(maxsize=4)
def path_runs(config: Config) -> dict[str, Any]:
    r"""Theorem 6 with measured constants: for every depth of ``config.depths`` one batched run of
    the seeds of ``config.seeds`` to T (model (3) from ``config``; no setting is imposed, so that a
    configuration outside Theorem 6's setting is still measured), recorded at about
    :data:`PATH_POINTS` flow times.  Per depth (lists over recorded t, then seeds): the loss
    l(t), the running infimum mu(t) = inf_{s <= t} G/l (over the recorded times; the last entry
    is the streamed infimum over every iteration), S(t) = sup_{s <= t} L max_k ||Z_{k+1}(s) -
    Z_k(s)|| (the last entry streamed, as in :func:`curve`) and sup_t max_k ||Z_{k+1} - Z_k||
    (streamed); ``F_fresh``, the trained networks F^L_T on :func:`fresh_inputs` (a float64
    tensor: seeds, inputs, d'); ``snapshots``, the parameters that Theorem 6 (i), (iii) and the
    joint limit need (:func:`numerics.thm6_limits.kept_snapshots`).  Cached: the checks of one
    configuration share it."""
    from numerics.thm6_limits import kept_snapshots, snapshot_times  # imports this module

    every = max(1, config.iterations // PATH_POINTS)
    out: dict[str, Any] = {"depths": list(config.depths), "per_depth": []}
    X_fresh = fresh_inputs(config)
    for L in config.depths:
        c = dataclasses.replace(config, L=L)
        result = run_config(c, seeds=config.seeds, record_every=every,
                            record_times=snapshot_times(config), snapshots=True)
        F = forward(result.params, X_fresh, MLP(config.activation, config.scaling))
        mu = torch.cummin(result.series["pl"].double(), dim=0).values
        mu[-1] = torch.minimum(mu[-1], result.minima["pl"].double())
        S = curve(c, result, config.seeds)["sup_L_gap"]
        out["t"] = [float(t) for t in result.times]
        out["per_depth"].append({
            "L": L, "loss": result.series["loss"].double().tolist(), "mu": mu.tolist(),
            "S": [list(col) for col in zip(*S, strict=True)],
            "sup_gap": [float(v) for v in result.maxima["gap"]],
            "F_fresh": F.double(), "snapshots": kept_snapshots(config, result)})
    return out


def limit_gaps(per_depth: list[dict[str, Any]]) -> list[list[float]]:
    """Theorem 6 (iv) in L: for consecutive depths L_j < L_(j+1), per seed, max over the fresh
    inputs of ||F^(L_j)_T(x) - F^(L_(j+1))_T(x)|| (F^L = F_inf + c / L + o(1/L) makes it ~ 1/L
    for doubling depths)."""
    out = []
    for a, b in itertools.pairwise(per_depth):
        diff = a["F_fresh"] - b["F_fresh"]  # (seeds, inputs, d')
        out.append([float(v) for v in diff.norm(dim=-1).amax(dim=-1)])
    return out


def doubling_ratio(S_quarter: float, S_half: float, S_T: float) -> float:
    """(S(T) - S(T/2)) / (S(T/2) - S(T/4)): the growth over [T/2, T] against that over
    [T/4, T/2].  Linear growth gives 2, sqrt(t) gives sqrt 2, log t gives 1, and a function
    approaching its supremum like e^{-ct} gives e^{-cT/4} (1 + e^{-cT/4}), < 1 for cT > 2:
    below 1 the increments shrink as T doubles (0 where S stopped growing; inf where it starts
    growing only after T/2)."""
    rise, before = S_T - S_half, S_half - S_quarter
    if rise <= 0:
        return 0.0
    return math.inf if before <= 0 else rise / before



# --------------------------------------------------------------------------- the whole study

PLATEAU_GROWTH = 0.05
"""S(t) "plateaus in T" when the seed-median of S(T) / S(T/2) - 1 is at most this (a linear
growth gives 1)."""


@dataclasses.dataclass(frozen=True)
class Study:
    """The grids of the long-time study: the (n, m = ratio n) phase diagram at horizon T_per_n n;
    at n = ``depth_n``, the depths (for an interpolating and a non-interpolating width ratio,
    ``depth_ratios``, run to ``smooth_T_factor`` horizons so that S(t) can plateau) and the label
    scales (at the first ratio, at the horizon)."""

    ns: tuple[int, ...]
    ratios: tuple[float, ...]
    T_per_n: float
    depth_n: int
    depth_ratios: tuple[float, float]
    depths: tuple[int, ...]
    y_scales: tuple[float, ...]
    smooth_T_factor: float = 3.0


Progress = Callable[[str], None] | None


def _runner(progress: Progress) -> Callable[[Config], tuple[list[dict[str, float]],
                                                              dict[str, list[Any]]]]:
    def point(config: Config) -> tuple[list[dict[str, float]], dict[str, list[Any]]]:
        if progress is not None:
            progress(f"n={config.n} m={config.m} L={config.L} y_scale={config.y_scale:g} "
                     f"T={config.T:g}")
        return run_point(config, points=120)
    return point


def phase_diagram(base: Config, study: Study, progress: Progress = None) -> dict[str, Any]:
    """The (n, m) phase diagram of ``study`` from ``base`` (sizes and T replaced), JSON-ready:
    records, cells, m*(n) (:class:`Threshold`) and the power fit (None for fewer than two finite
    thresholds)."""
    point = _runner(progress)
    records = [r for c in grid_configs(base, study.ns, study.ratios, study.T_per_n)
               for r in point(c)[0]]
    cell_list = cells(records)
    ths = thresholds(cell_list)
    fit = fit_power(ths)
    return {"study": dataclasses.asdict(study), "base": base.to_dict(),
            "level": INTERPOLATION_LEVEL, "records": records, "cells": cell_list,
            "thresholds": [dataclasses.asdict(t) | {"m_star": t.m_star} for t in ths],
            "fit": None if fit is None else dataclasses.asdict(fit)}


def depth_and_labels(base: Config, study: Study, progress: Progress = None) -> dict[str, Any]:
    """At n = ``study.depth_n``: per regime (interpolating / not) the :func:`smoothness` study
    over ``study.depths`` to ``smooth_T_factor`` horizons, and per label scale the records and
    cells at the horizon (width ratio ``depth_ratios[0]``, depth ``base.L``), JSON-ready."""
    point = _runner(progress)
    n, T0 = study.depth_n, horizon(study.depth_n, study.T_per_n)
    regimes = {}
    for name, ratio in zip(("interpolating", "not interpolating"), study.depth_ratios,
                           strict=True):
        m, T = max(1, round(ratio * n)), study.smooth_T_factor * T0
        runs = [point(dataclasses.replace(base, n=n, m=m, L=L, T=T)) for L in study.depths]
        regimes[name] = smoothness(study.depths, runs, T0) | {"ratio": ratio, "m": m, "T": T}
    m = max(1, round(study.depth_ratios[0] * n))
    labels = [r for y in study.y_scales
              for r in point(dataclasses.replace(base, n=n, m=m, y_scale=y, T=T0))[0]]
    return {"study": dataclasses.asdict(study), "base": base.to_dict(), "n": n, "horizon": T0,
            "level": INTERPOLATION_LEVEL, "regimes": regimes, "labels": labels,
            "label_cells": cells(labels, ("y_scale",)), "label_m": m}


def smoothness(depths: Sequence[int], runs: Sequence[tuple[list[dict[str, float]],
                                                            dict[str, list[Any]]]],
               horizon_T: float) -> dict[str, Any]:
    """Theorem 6 (ii) over depths: per depth the curve S(t) (seed-mean), S(T) and the growth
    S(T) / S(T/2) - 1 per seed, whether S plateaus (:data:`PLATEAU_GROWTH`), the fraction of
    seeds interpolating by ``horizon_T`` (from the recorded loss) and by T; and the fit of
    sup_t max_k gap = S(T) / L against L (slope -1: the curves collapse, gap ~ 1/L)."""
    per_depth = []
    finals = []
    for L, (recs, series) in zip(depths, runs, strict=True):
        t = np.asarray(series["t"])
        curves, loss = np.asarray(series["sup_L_gap"]), np.asarray(series["loss"])
        half = int(np.searchsorted(t, t[-1] / 2))
        at = int(np.searchsorted(t, horizon_T * (1 + 1e-12), side="right")) - 1
        growth = (curves[:, -1] / curves[:, half] - 1).tolist()
        finals.append(list(curves[:, -1] / L))
        per_depth.append({"L": L, "t": series["t"], "S_mean": curves.mean(0).tolist(),
                          "S_T": curves[:, -1].tolist(), "growth": growth,
                          "plateaus": bool(np.median(growth) <= PLATEAU_GROWTH),
                          "fraction_horizon": float(np.mean(
                              loss[:, at] <= INTERPOLATION_LEVEL * loss[:, 0])),
                          "fraction": sum(r["interpolated"] for r in recs) / len(recs),
                          "mu_emp": float(np.nanmedian([r["mu_emp"] for r in recs]))})
    seeds = min(len(f) for f in finals)
    collapse = rate_fit(list(depths), [f[:seeds] for f in finals], ONE_OVER_L)
    return {"depths": list(depths), "per_depth": per_depth, "collapse": collapse.to_dict()}
