"""Theorem 4 (family S4; Appendix A.5, Theorem 14): the trained depth-L networks converge to the
limit training dynamics at rate 1/L.  The measurement is the depth study of
:mod:`numerics.depth_study` (Figure 1 draws the same one); its facts fit the rate.  Bound to the
catalog entry by :func:`theory.catalog.bind`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from numerics.depth_study import depth_study
from numerics.evidence import Evidence, fit_rate, rate_evidence
from numerics.measure import Measurement
from theory.catalog import Statement, bind
from theory.config import Config


def measure_thm4(config: Config) -> Measurement:
    """S4: distances of depth-L networks to the limit dynamics solved on an s-grid (Appendix A.5),
    for every depth of ``config.depths`` and seed of ``config.seeds`` (each seed its own
    initialization and limit), with a Richardson check for the first seed."""
    studies = [depth_study(dataclasses.replace(config, seed=seed)) for seed in config.seeds]
    first = studies[0]
    values = {f"slope_{k}": v for k, v in first.slopes.items()}
    gaps = [study.gaps() for study in studies]
    series: dict[str, list[Any]] = {"L": list(first.depths)}
    for name in ("z_sup", "z_l2", "h_sup", "out_sup", "a_sup", "b_sup"):
        series[name] = [[getattr(g[j], name) for g in gaps] for j in range(len(first.depths))]
    if first.richardson is not None:
        r = first.richardson
        values.update(richardson_z=r.z_extrapolated, deepest_z=r.z_deepest,
                      richardson_out=r.out_extrapolated, deepest_out=r.out_deepest)
    limit = first.limit
    series["limit_t"] = list(limit.times)
    series["limit_loss"] = [float(v) for v in limit.loss[:, 0]]
    return Measurement("thm4.limit", config, values, {}, series)


def _thm4(st: Statement, c: Config, m: Measurement) -> Evidence:
    extra = {k: v for k, v in m.values.items() if k.startswith(("richardson", "deepest"))}
    for name in ("z_l2", "h_sup", "out_sup"):
        extra[f"rate_{name}"] = fit_rate(m, name, st).to_dict()
    return rate_evidence(fit_rate(m, "z_sup", st), "slope of log sup_{s,t} ||Z^L(s,t) - Z(s,t)|| "
                         "against log L (the limit Z solved on an s-grid)", **extra)


bind("thm4.limit", measure=measure_thm4, facts=_thm4)
