r"""The width study's records (:func:`numerics.thresholds.width_point`, one per seed) turned into
what S15 shows (issue 29): transition curves, thresholds per n and their exponents.

:func:`cells`: per (n, m) the fraction of seeds with each outcome (the transition curves), the
gap's per-seed slopes with their Student-t interval and its side of the O(1/L) region, the local
slopes and the flow tracking.  :func:`analyze`: per n and outcome the threshold m*(n), the
midpoint of a logistic in log m fitted by maximum likelihood to the seed-level outcomes, with a
bootstrap interval over seeds (:func:`numerics.transition.threshold`: seeds resampled within each
(n, m), refitted), and the exponent of m*(n) ~ a n^gamma with its interval from the same
bootstrap replicates (:func:`numerics.transition.fit_power`); on a common depth grid
(:func:`common_grid`, the outcomes recomputed there by :func:`restrict`).  The fractions and fits
keep every seed; :func:`tracking_summary` says per n at which widths gradient descent does not
track the flow (4) of Theorem 6.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np

from numerics.rates import t_interval
from numerics.thresholds import LEVEL, SMOOTH_EDGE, as_float, outcomes, tracking_fields
from numerics.transition import beyond, fit_power, located, threshold
from theory.catalog import ONE_OVER_L
from theory.errors import ConfigError
from theory.verdicts import side

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
    groups: dict[tuple[float, float], list[Mapping[str, Any]]] = {}
    for r in records:
        groups.setdefault((float(r["n"]), float(r["m"])), []).append(r)
    horizons: dict[float, set[float]] = {}
    for r in records:
        horizons.setdefault(float(r["n"]), set()).add(float(r["T"]))
    for n, Ts in sorted(horizons.items()):
        if len(Ts) > 1:  # a threshold "within T(n)" is of one horizon
            raise ConfigError("records", f"n = {n:g}", f"ran to different horizons {sorted(Ts)}: "
                              "analyze the records of one T(n) at a time")
    out = []
    for (n, m), rs in sorted(groups.items()):
        depths = _depths_of(rs[0])
        cell: dict[str, Any] = {"n": int(n), "m": int(m), "m_over_n": m / n, "seeds": len(rs),
                                "T": float(rs[0]["T"]), "depths": depths}
        for name, key in OUTCOMES.items():
            cell[f"fraction_{name}"] = float(np.mean([as_float(r[key]) for r in rs]))
        slopes = [as_float(r["gap_slope"]) for r in rs]
        mean, lo, hi = t_interval(slopes)
        cell["gap_slopes"] = slopes
        cell["gap_slope"] = mean
        cell["gap_slope_interval"] = [lo, hi]
        cell["rate_side"] = (side((lo, hi), ONE_OVER_L) if math.isfinite(lo) and math.isfinite(hi)
                             else "undefined")
        cell["limit_slopes"] = [as_float(r["limit_slope"]) for r in rs]
        cell["local_slopes"] = {f"{a}-{b}": _median([r.get(f"local_slope_L{a}_{b}") for r in rs])
                                for a, b in itertools.pairwise(depths)}
        cell["fraction_interp_L"] = {
            str(L): float(np.mean([as_float(r[f"interp_L{L}"]) for r in rs])) for L in depths}
        cell["median_l_ratio_L"] = {str(L): _median([r[f"l_ratio_L{L}"] for r in rs])
                                    for L in depths}
        cell["median_gap_L"] = {str(L): _median([r[f"gap_L{L}"] for r in rs]) for L in depths}
        L = depths[-1]
        hits = [as_float(r[f"t_hit_L{L}"]) / float(r["T"]) for r in rs
                if as_float(r["interpolated"])]
        cell["median_hit_over_T"] = _median(hits)
        cell["max_hit_over_T"] = max(hits) if hits else math.nan
        cell["diverged"] = int(sum(as_float(r["diverged"]) for r in rs))
        cell["wall_s"] = _median([r.get("wall_s") for r in rs])
        cell |= _cell_tracking(rs)
        out.append(cell)
    return out


def _cell_tracking(rs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A cell's flow tracking from its records': ``tracks`` False when a seed's does not, True
    when every seed's is known and does, else None (unknown); ``track_eta_lambda_max`` and
    ``track_ratio`` of its worst seed (the first that does not track, else the one with the
    largest eta lambda_max); ``seeds_tracked`` of the ``seeds_tracking_known`` networks measured
    track (counted by ``track_seed``: a measurement that data swept before per-seed tracking
    borrow from the point's first seed counts once)."""
    known = [r for r in rs if math.isfinite(as_float(r.get("tracks")))]
    if not known:
        return {"tracks": None, "track_eta_lambda_max": math.nan, "track_ratio": math.nan,
                "seeds_tracked": 0, "seeds_tracking_known": 0}
    bad = [r for r in known if not as_float(r["tracks"])]
    measured = {as_float(r.get("track_seed")): bool(as_float(r["tracks"])) for r in known}
    worst = bad[0] if bad else max(known, key=lambda r: as_float(r["track_eta_lambda_max"]))
    tracks = False if bad else (True if len(known) == len(rs) else None)
    return {"tracks": tracks, "track_eta_lambda_max": as_float(worst["track_eta_lambda_max"]),
            "track_ratio": as_float(worst["track_ratio"]),
            "seeds_tracked": sum(measured.values()), "seeds_tracking_known": len(measured)}


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


def _median(values: Sequence[Any]) -> float:
    v = np.array([as_float(x) for x in values], dtype=float)
    v = v[np.isfinite(v)]
    return float(np.median(v)) if v.size else math.nan


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
    for a, b in itertools.pairwise(grid):
        for p in ("local_slope_L", "limit_gap_L"):
            out[f"{p}{a}_{b}"] = record.get(f"{p}{a}_{b}")
    return out | outcomes(out, grid)


def analyze(records: Sequence[Mapping[str, Any]], *, reps: int = 1000, seed: int = 0,
            q: int | None = None, d_out: int | None = None, c1: float | None = None,
            grid: Sequence[int] | None = None,
            fit_ns: Collection[int] | None = None) -> dict[str, Any]:
    """Everything the report shows, JSON-ready, on the depth ``grid`` (default: the depths every
    record measured, :func:`common_grid`; outcomes recomputed there, :func:`restrict`):
    ``cells`` (:func:`cells`); ``thresholds[name]`` per n (name in :data:`OUTCOMES`) with
    bootstrap intervals (:func:`numerics.transition.threshold`; the bootstrap seed of an n is
    ``seed + 7919 n``, so one n's data gives one interval in every study); ``exponents[name]``
    (:class:`numerics.transition.PowerFit` over the n of ``fit_ns``, default every n, whose
    threshold is located, :func:`numerics.transition.located`, the interval from the same
    replicates, and ``beyond``: its prediction at each n whose threshold is censored or left
    out of the fit, :func:`numerics.transition.beyond`);
    ``by_depth``:
    m*_interp per depth of the grid (does it move with L?); ``per_sample``: the parameters per
    sample 2 L q m* / (n d') at each depth; ``reference``: c1 n, n and sqrt(n); ``tracking``:
    per n the widths where gradient descent does not track the flow (:func:`tracking_summary`)."""
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
        for n in ns:
            rs = [r for r in records if int(r["n"]) == n]
            th, boot = threshold([float(r["m"]) for r in rs], [as_float(r[key]) for r in rs], n,
                                 reps, seed + 7919 * n)
            boots.setdefault(name, {})[n] = boot
            rows.append(th)
        return rows

    def exponent(name: str, rows: list[dict[str, Any]]) -> dict[str, Any] | None:
        usable = [t for t in rows if located(t) and (fit_ns is None or t["n"] in fit_ns)]
        if len(usable) < 2:
            return None
        ns_fit, m_fit = [t["n"] for t in usable], [t["m_star"] for t in usable]
        reps_fit = np.exp(np.stack([boots[name][t["n"]] for t in usable]))
        fit = dataclasses.asdict(fit_power(ns_fit, m_fit, reps_fit))
        return fit | {"beyond": [beyond(ns_fit, m_fit, reps_fit, t) for t in rows
                                 if t["censored"] or (located(t) and t["n"] not in ns_fit)]}

    for name, key in OUTCOMES.items():
        out["thresholds"][name] = per_n(key, name)
        out["exponents"][name] = exponent(name, out["thresholds"][name])
    depths = _depths_of(records[0]) if records else []
    for L in depths:
        name = f"interp_L{L}"
        rows = per_n(name, name)
        out["by_depth"][str(L)] = {"thresholds": rows, "exponent": exponent(name, rows)}
    if q is not None and d_out is not None:
        out["per_sample"] = {name: [{"n": t["n"], **{str(L): 2 * L * q * t["m_star"] / (t["n"]
                                                                                      * d_out)
                                                    for L in depths}}
                                    for t in out["thresholds"][name]] for name in MAIN}
    out["reference"] = [{"n": n, "c1_n": None if c1 is None else c1 * n, "n_linear": float(n),
                         "sqrt_n": math.sqrt(n)} for n in ns]
    return out


def with_tracking(records: Sequence[Mapping[str, Any]],
                  measured: Mapping[tuple[int, int, float, float], Mapping[str, Any]]
                  ) -> list[dict[str, Any]]:
    """``records`` with the flow tracking of their (n, m, eta, T) from ``measured``
    (``to_dict`` form, e.g. ``reports/data/width-tracking.json``) where a record has none of its
    own (data swept before width_point recorded it); a record's own measurement is kept."""
    out = []
    for r in records:
        own = math.isfinite(as_float(r.get("tracks")))
        t = measured.get((int(r["n"]), int(r["m"]), float(r["eta"]), float(r["T"])))
        out.append(dict(r) if own or t is None else dict(r) | tracking_fields(t))
    return out
