r"""Two width thresholds of Theorem 6, measured seed by seed: interpolation and the ODE limit.

Theorem 6 assumes m >= c1 n (c1 = 1.3e7 for tanh) and concludes two things: the loss interpolates
and the trained weights stay a discretization of a Lipschitz path (sup_t max_k ||Z_{k+1}(t) -
Z_k(t)|| = O(1/L), outputs of depths L and 2L O(1/L) apart).  Interpolation alone is not the
implicit regularization (at n = 8, m = 1 every run interpolates while the gap decays like
L^-0.23), so this module measures, per (n, m) and per seed (an independent draw of data and
initialization), both outcomes, from which :mod:`numerics.width_analysis` fits a width threshold
to each:

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
  smooth (:func:`outcomes`, the one definition of both, also on a depth sub-grid).

:func:`width_point` is the sweep task: one (n, m) with every seed and depth, each depth one
batched training of all seeds (:func:`numerics.flow.run_config` with ``seeds``), one flat record
per seed, to the horizon T(n) of :func:`numerics.horizon.horizon`.  Every point also records each
seed's t_hit (the first recorded time with l(t) <= LEVEL l(0), :func:`hit_times`) and its outcome
at T/2 (``interp_half``), so that the report shows the threshold at T/2 beside the one at T (how
far the horizon moves it) and where the interpolating seeds crossed the level.

**Gradient descent vs the flow.**  Every width trains with the same eta; where the trained
network's curvature puts that step past the damping edge (max_t eta lambda_max >= 1 + W(1/e) =
1.28 in the flow's metric; 2 is the edge of stability) or the step halving is not first order
(:mod:`numerics.tracking`), an outcome is about gradient descent, not the flow (4) of Theorem 6.
Each seed's record carries its flow tracking beside its outcomes (:func:`tracking_fields`); the
fractions and fits keep every seed, and :func:`numerics.width_analysis.tracking_summary` says per
n at which widths gradient descent does not track the flow.
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

from numerics.flow import TrainResult, checkpointing, run_config
from numerics.longtime import INTERPOLATION_LEVEL, fresh_inputs, require_long_time
from numerics.model import MLP, forward
from numerics.rates import per_seed_slopes
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


def _depth_runs(config: Config, seeds: tuple[int, ...], checkpoint_dir: Path | None = None
                ) -> list[dict[str, Any] | None]:
    """Per seed of ``seeds``, the measurements of one batched training at ``config.L`` (None for a
    seed that diverged: the batch is rerun seed by seed after a divergence), checkpointed to
    ``checkpoint_dir``/L{L}-seeds-S0-S1-...pt when given."""
    every = max(1, config.iterations // RECORD_POINTS)
    name = f"L{config.L}-seeds-" + "-".join(map(str, seeds))
    try:
        result = run_config(config, seeds=seeds, record_every=every,
                            **checkpointing(checkpoint_dir, name, config.iterations))
    except DivergenceError:
        if len(seeds) == 1:
            return [None]
        return [r for s in seeds for r in _depth_runs(config, (s,), checkpoint_dir)]
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


def width_point(config: Config, checkpoint_dir: Path | None = None) -> list[dict[str, float]]:
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
    cached).  ``checkpoint_dir`` (given by the sweep engine, :mod:`reports.sweep.engine`): every
    training checkpoints there, so that a killed task resumes where it stopped; ``resumed`` = 1
    when it did (its ``wall_s`` and ``track_wall_s`` then count the last sitting only)."""
    resumed = checkpoint_dir is not None and any(checkpoint_dir.rglob("*.pt"))
    records = point_records(config, checkpoint_dir)
    began = time.perf_counter()
    tracking = flow_tracking(dataclasses.replace(config, L=max(config.depths)),
                             checkpoint_dir=None if checkpoint_dir is None
                             else checkpoint_dir / "tracking").per_seed
    track_wall = time.perf_counter() - began
    return [rec | tracking_fields(tracking[j].to_dict())
            | {"track_wall_s": track_wall, "resumed": float(resumed)}
            for j, rec in enumerate(records)]


def point_records(config: Config, checkpoint_dir: Path | None = None) -> list[dict[str, float]]:
    """:func:`width_point`'s records without the flow tracking: every depth of ``config.depths``
    trained (all seeds batched, checkpointed to ``checkpoint_dir`` when given) and one flat
    record per seed, ``wall_s`` the trainings' wall time (of this call: a resumed call counts
    only what it ran)."""
    require_long_time(config)
    depths = tuple(sorted(config.depths))
    if len(depths) < 2:
        raise ConfigError("depths", config.depths, "the width thresholds need >= 2 depths")
    began = time.perf_counter()
    seeds = tuple(config.seeds)
    runs = {L: _depth_runs(dataclasses.replace(config, L=L), seeds, checkpoint_dir)
            for L in depths}
    wall = time.perf_counter() - began
    return [_record(config, depths, [runs[L][j] for L in depths], seed) | {"wall_s": wall}
            for j, seed in enumerate(seeds)]


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
    thresholds keep every seed; :func:`numerics.width_analysis.tracking_summary` says which
    widths are about the flow)."""
    return {"track_eta_lambda_max": as_float(tracking["max_eta_lambda_max"]),
            "track_ratio": as_float(tracking["ratio"]), "tracks": float(bool(tracking["tracks"])),
            "track_seed": float(tracking["seed"]), "track_L": float(tracking["L"])}


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
    for (a, ra), (b, rb) in itertools.pairwise(zip(depths, per_depth, strict=True)):
        ga, gb = rec[f"gap_L{a}"], rec[f"gap_L{b}"]
        rec[f"local_slope_L{a}_{b}"] = (math.log(gb / ga) / math.log(b / a)
                                        if ga > 0 and gb > 0 else nan)
        rec[f"limit_gap_L{a}_{b}"] = (nan if ra is None or rb is None else float(
            (ra["F"] - rb["F"]).norm(dim=-1).amax()))
    return rec | outcomes(rec, depths)


def outcomes(record: Mapping[str, Any], depths: Sequence[int]) -> dict[str, float]:
    """A seed's outcomes on the increasing depth grid ``depths``, from its per-depth fields:
    ``gap_slope`` (least squares of log gap_L{L} against log L), ``limit_slope`` (of log
    limit_gap_L{a}_{b} against log a, >= 2 pairs), ``smooth`` and ``limit_smooth`` (slope <=
    :data:`SMOOTH_EDGE`; nan compares False: not smooth), ``interpolated`` and
    ``interpolated_half`` at the deepest depth, ``L_max``."""
    pairs = list(itertools.pairwise(depths))
    gap_slope = _slope(depths, [as_float(record[f"gap_L{L}"]) for L in depths])
    limit_slope = (_slope([a for a, _ in pairs], [as_float(record.get(f"limit_gap_L{a}_{b}"))
                                                  for a, b in pairs])
                   if len(pairs) >= 2 else math.nan)
    return {"gap_slope": gap_slope, "limit_slope": limit_slope,
            "interpolated": as_float(record[f"interp_L{depths[-1]}"]),
            "interpolated_half": as_float(record[f"interp_half_L{depths[-1]}"]),
            "smooth": float(gap_slope <= SMOOTH_EDGE),
            "limit_smooth": float(limit_slope <= SMOOTH_EDGE), "L_max": float(depths[-1])}


def _slope(x: Sequence[float], values: Sequence[float]) -> float:
    v = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(v)):
        return math.nan
    return float(per_seed_slopes(x, v[:, None])[0])


def as_float(v: Any) -> float:
    """A record's field as a float (None, as JSON stores nan, read as nan)."""
    return math.nan if v is None else float(v)


def study_base(**fields: Any) -> Config:
    """Model (3) of the long-time study (:func:`reports.sections.pl.study_base`: tanh, sphere
    data, d = d' = 4, q = 8, unclipped, tied, eta = 0.01), sizes and T set per point."""
    base = {"n": 8, "d": 4, "d_out": 4, "q": 8, "m": 4, "L": 8, "T": 40.0, "eta": 0.01,
            "activation": "tanh", "data": "sphere", "clip": "none", "init": "tied",
            "seeds": (0, 1, 2, 3, 4)} | fields
    return Config.from_mapping(base)
