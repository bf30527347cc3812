"""Theorem 6 (family S6): under the PL condition the unclipped flow's loss decays like e^{-mu t}
and the trained network interpolates (eq. 10); with measured constants, along the path (the PL
ratio, the smoothness of the layers in L and in t, the limit in L).  Each statement's measurement
and facts, bound to its catalog entry (:func:`theory.catalog.bind`); Theorem 6 (i), (iii) and the
joint limit are in :mod:`numerics.thm6_limits`.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from numerics.evidence import Evidence, doubling_facts, fit_rate, rate_evidence
from numerics.measure import Measurement, data, data_inputs, largest, recorded, run, samples
from numerics.model import MLP, forward
from theory.catalog import Statement, bind
from theory.config import Config
from theory.verdicts import Facts


def measure_thm6(config: Config) -> Measurement:
    """S6: the loss curve l(t) of the unclipped flow, the distances from initialization, and the
    final residuals max_i ||F(x_i) - y_i||."""
    result = run(config)
    X, Y = data(config)
    F = forward(result.params, X, MLP(config.activation, config.scaling))
    residual = float(torch.linalg.vector_norm(F[0] - Y, dim=-1).max())
    loss = result.series["loss"][:, 0]
    t = result.times
    positive = loss > 0
    rate = -float(np.polyfit(t[positive].double().numpy(), np.log(loss[positive].double()
                                                                    .numpy()), 1)[0])
    values = {"l0": float(loss[0]), "l_T": float(loss[-1]), "max_residual": residual,
              "empirical_rate": rate,
              "max_dist": max(largest(result, k) for k in ("dist_a", "dist_z", "dist_b"))}
    return Measurement("thm6.decay", config, values, data_inputs(*data(config)),
                       recorded(result, "loss", "dist_z"))


def measure_thm6_path(config: Config) -> Measurement:
    """S6 with measured constants, from :func:`numerics.longtime.path_runs` (shared by the four
    ids): whether every seed at every depth interpolates (l <= INTERPOLATION_LEVEL l(0)) by T/2;
    per depth the seed-median doubling ratio of S(t) on T/4, T/2, T; series: sup_t max_k gap per
    depth (grid "L"), mu_emp(T') at the deepest depth on the grid T' = T/8, T/4, T/2, T (grid
    "T") and the output gaps of consecutive depths on fresh inputs (grid "L_pair":
    :func:`numerics.longtime.limit_gaps`)."""
    from numerics.longtime import INTERPOLATION_LEVEL, doubling_ratio, limit_gaps, path_runs

    runs = path_runs(config)
    t = np.asarray(runs["t"])

    def at(x: float) -> int:
        return int(np.searchsorted(t, x * (1 - 1e-9)))

    T = float(t[-1])
    grid = [T / 8, T / 4, T / 2, T]
    iq, ih = at(T / 4), at(T / 2)
    per = runs["per_depth"]
    loss0 = np.asarray(per[0]["loss"])
    interpolated = all(bool(np.all(np.asarray(d["loss"])[ih] <= INTERPOLATION_LEVEL
                                   * np.asarray(d["loss"])[0])) for d in per)
    per_seed = []  # (depths, seeds) doubling ratios
    for d in per:
        S = np.asarray(d["S"])
        per_seed.append([doubling_ratio(S[iq, j], S[ih, j], S[-1, j]) for j in range(S.shape[1])])
    ratios = [float(np.median(r)) for r in per_seed]
    deepest = np.asarray(per[-1]["mu"])
    final = np.array([np.asarray(d["loss"])[-1] / np.asarray(d["loss"])[0] for d in per])
    values = {"interpolated_half": float(interpolated), "mu_emp": float(np.median(deepest[-1])),
              "doubling_ratio": max(ratios),
              "l_T_over_l0": float(np.median(loss0[-1] / loss0[0])),
              "max_l_T_over_l0": float(final.max()),
              "interpolated_T": float(np.mean(final <= INTERPOLATION_LEVEL))}
    series = {"L": runs["depths"], "sup_gap": [d["sup_gap"] for d in per], "T": grid,
              "doubling_per_seed": [float(x) for x in np.max(per_seed, axis=0)],
              "mu_T": [[float(v) for v in deepest[at(x)]] for x in grid[:-1]]
              + [[float(v) for v in deepest[-1]]], "doubling_ratios": ratios,
              "t": runs["t"], "S_mean": [np.asarray(d["S"]).mean(1).tolist() for d in per],
              "L_pair": runs["depths"][:-1], "limit_gap": limit_gaps(per)}
    return Measurement("thm6.path", config, values, data_inputs(*samples(config)), series)


def _thm6_decay(st: Statement, c: Config, m: Measurement) -> Evidence:
    from theory import pl
    from theory.long_time import decay_bound

    t, loss = m.series["t"], m.series["loss"]
    l0 = loss[0]  # the ratio is 1 at t = 0 by construction: compare at t > 0
    measured = max(lt / decay_bound(tt, l0, c.n, c.q, c.activation, c.r)
                   for tt, lt in zip(t[1:], loss[1:], strict=True))
    local = pl.local_constants(c)
    notes = ["measured: max_{t > 0} l(t) / (e^{-mu t} l(0)) (bound 1)",
             f"empirical decay rate {m.values['empirical_rate']:.4g}"
             + ("" if local is None else f" against the guaranteed mu = {local['mu']:.4g}")]
    return Evidence(Facts(measured, 1.0, dtype=c.dtype), notes=notes,
                    extra={"empirical_rate": m.values["empirical_rate"],
                           "max_dist": m.values["max_dist"],
                           "M": None if local is None else local["M"]})


def _thm6_interpolation(st: Statement, c: Config, m: Measurement) -> Evidence:
    from theory.long_time import interpolation_bound

    # ||F(x_i) - y_i||^2 <= n l(T) <= n exp(-mu T) l(0)   (eq. 10)
    v = m.values
    bound = interpolation_bound(c.T, v["l0"], c.n, c.q, c.activation, c.r)
    return Evidence(Facts(v["max_residual"], bound, a_priori=math.sqrt(c.n * v["l_T"]),
                          a_priori_reason="max_i ||F(x_i) - y_i|| <= sqrt(n l(T)) by the "
                                          "definition of l", dtype=c.dtype),
                    notes=["measured: max_i ||F(x_i) - y_i|| at T; bound: the finite-T "
                           "residual sqrt(n e^{-mu T} l(0)) of eq. (10)",
                           f"l(T) = {v['l_T']:.4g} at T = {c.T}"])


def path_precondition(evidence: Evidence, m: Measurement) -> Evidence:
    """The measured precondition of the S6 measured-constant checks (PL along the path), reported
    beside the conclusion and never used to filter it (it is part of Theorem 6's conclusion)."""
    v = m.values
    evidence.notes.append(
        f"precondition, measured (not a gate): l(T)/l(0) median {v['l_T_over_l0']:.3g}, largest "
        f"{v['max_l_T_over_l0']:.3g}; {100 * v['interpolated_T']:.0f}% of (seed, depth) runs "
        f"reach l <= 1e-2 l(0) by T, all by T/2: {'yes' if v['interpolated_half'] else 'no'}; "
        f"median mu_emp = {v['mu_emp']:.4g}")
    evidence.extra["precondition"] = {k: v[k] for k in ("l_T_over_l0", "max_l_T_over_l0",
                                                        "interpolated_T", "interpolated_half",
                                                        "mu_emp")}
    return evidence


def _thm6_pl_path(st: Statement, c: Config, m: Measurement) -> Evidence:
    evidence = rate_evidence(fit_rate(m, "mu_T", st, grid="T"), "slope of log mu_emp(T) = "
                             f"log inf_(t<=T) G/l against log T at L = {c.depths[-1]}")
    return path_precondition(evidence, m)


def _thm6_smooth_L(st: Statement, c: Config, m: Measurement) -> Evidence:
    evidence = rate_evidence(fit_rate(m, "sup_gap", st), "slope of log sup_t max_k "
                             "||Z_(k+1)(t) - Z_k(t)|| against log L")
    return path_precondition(evidence, m)


def _thm6_limit_L(st: Statement, c: Config, m: Measurement) -> Evidence:
    evidence = rate_evidence(fit_rate(m, "limit_gap", st, grid="L_pair"), "slope of log "
                             "max_x ||F^L_T(x) - F^(2L)_T(x)|| against log L on fresh "
                             "inputs (the smaller depth of each consecutive pair)")
    return path_precondition(evidence, m)


def _thm6_smooth_T(st: Statement, c: Config, m: Measurement) -> Evidence:
    facts, interval = doubling_facts(c, m.series["doubling_per_seed"])
    ratios = ", ".join(f"{r:.3g}" for r in m.series["doubling_ratios"])
    return path_precondition(Evidence(facts, notes=[
        f"measured: the median over seeds of max_L (S(T) - S(T/2)) / (S(T/2) - S(T/4)) (seed "
        f"medians per L: {ratios}); its {interval}"]), m)


bind("thm6.decay", measure=measure_thm6, facts=_thm6_decay)
bind("thm6.interpolation", measure=measure_thm6, facts=_thm6_interpolation)
bind("thm6.pl_path", measure=measure_thm6_path, facts=_thm6_pl_path)
bind("thm6.smooth_L", measure=measure_thm6_path, facts=_thm6_smooth_L)
bind("thm6.smooth_T", measure=measure_thm6_path, facts=_thm6_smooth_T)
bind("thm6.limit_L", measure=measure_thm6_path, facts=_thm6_limit_L)
