r"""Proposition 8 (p17-18) measured on trained networks: one batched run of the seeds per depth
(model (3) on the unclipped flow (4) from ``config``: Theorem 6's setting where the check asks
for it), recorded at about :data:`POINTS` flow times, streamed by :class:`numerics.metrics.Monitor`.

Per depth L and seed, along t in [0, T]:

- ``dist(t)`` = max(||A(t) - A(0)||_F, sup_k ||Z_k(t) - Z_k(0)||, ||B(t) - B(0)||_F) and its running
  supremum R(t) (item (i): the weights stay within M of the initialization, uniformly in t, L);
- ``b(t)`` = max(||dA/dt||_F, sup_k ||dZ_k/dt||, ||dB/dt||_F), the norms of the flow's right-hand
  sides (rows rhs_a, rhs_z, rhs_b), and its running integral I(t) = int_0^t b (item (iii): b is
  integrable, i.e. I is bounded in t);
- the increments int_{T'/2}^{T'} b over T' = T/8, T/4, T/2, T, which bound ||theta(T') -
  theta(T'/2)|| (item (iv): a Cauchy criterion, the weights converge as t -> infinity);
- mu(L) = inf_{t <= T} G/l, the PL constant along the path per depth (item (v): one mu for every
  L gives l^L(t) <= e^{-mu t} l^L(0) uniformly in L).

(ii) is measured by ``thm6.smooth_L`` and ``thm6.smooth_T`` (the same quantity, S(t)).  The
facts of each item are bound with the measurement to its catalog entry at the end (family S14;
:func:`theory.catalog.bind`).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import numpy as np
import torch

from numerics.evidence import Evidence, doubling_facts, fit_rate, rate_evidence
from numerics.flow import run_config
from numerics.longtime import doubling_ratio
from numerics.measure import Measurement, data_inputs, samples
from theory.catalog import Statement, bind
from theory.config import Config

POINTS = 128
"""Recorded flow times per run (every N / POINTS iterations, and the last)."""


def _running_integral(t: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Trapezoid running integral of b (R, seeds) over the recorded times t (R,)."""
    steps = (b[1:] + b[:-1]) / 2 * np.diff(t)[:, None]
    return np.concatenate([np.zeros((1, b.shape[1])), np.cumsum(steps, axis=0)])


@functools.lru_cache(maxsize=2)
def runs(config: Config) -> dict[str, Any]:
    """Per depth of ``config.depths``: t, R(t) and I(t) (lists over recorded t, then seeds), the
    streamed sup_t dist, mu = inf_t G/l, and l(0), l(T)."""
    every = max(1, config.iterations // POINTS)
    out: dict[str, Any] = {"depths": list(config.depths), "per_depth": []}
    for L in config.depths:
        res = run_config(dataclasses.replace(config, L=L), seeds=config.seeds,
                         record_every=every)
        s = {k: res.series[k].double().numpy() for k in ("dist_a", "dist_z", "dist_b", "rhs_a",
                                                         "rhs_z", "rhs_b", "loss")}
        t = res.times.double().numpy()
        dist = np.maximum(np.maximum(s["dist_a"], s["dist_z"]), s["dist_b"])
        b = np.maximum(np.maximum(s["rhs_a"], s["rhs_z"]), s["rhs_b"])
        sup_dist = torch.stack([res.maxima[k] for k in ("dist_a", "dist_z", "dist_b")]).amax(0)
        out["t"] = t.tolist()
        out["per_depth"].append({
            "L": L, "R": np.maximum.accumulate(dist, axis=0).tolist(),
            "I": _running_integral(t, b).tolist(),
            "sup_dist": sup_dist.double().tolist(),
            "mu": res.minima["pl"].double().tolist(),
            "l0": s["loss"][0].tolist(), "lT": s["loss"][-1].tolist()})
    return out


def measure_prop8(config: Config) -> Measurement:
    """The four measured items (module docstring): per seed the largest over L of the doubling
    ratios of R and I on T/4, T/2, T (grid-free); the increments of I over [T'/2, T'] at the
    deepest depth (grid "T"); mu per depth (grid "L")."""
    r = runs(config)
    t = np.asarray(r["t"])
    T = float(t[-1])

    def at(x: float) -> int:
        return int(np.searchsorted(t, x * (1 - 1e-9)))

    iq, ih = at(T / 4), at(T / 2)
    per = r["per_depth"]
    seeds = len(config.seeds)

    def ratios(key: str) -> list[float]:
        out = []
        for j in range(seeds):
            out.append(max(doubling_ratio(d[key][iq][j], d[key][ih][j], d[key][-1][j])
                           for d in per))
        return out

    grid = [T / 8, T / 4, T / 2, T]
    deepest = np.asarray(per[-1]["I"])
    increments = [[float(deepest[at(x)][j] - deepest[at(x / 2)][j]) for j in range(seeds)]
                  for x in grid]
    l_ratio = [float(np.median(np.asarray(d["lT"]) / np.asarray(d["l0"]))) for d in per]
    values = {"sup_dist": float(max(max(d["sup_dist"]) for d in per)),
              "sup_integral": float(max(max(d["I"][-1]) for d in per)),
              "l_T_over_l0": max(l_ratio)}
    series = {"L": r["depths"], "T": grid, "R_doubling": ratios("R"),
              "I_doubling": ratios("I"), "increment": increments,
              "mu": [d["mu"] for d in per], "sup_dist": [d["sup_dist"] for d in per],
              "l_T_over_l0": l_ratio}
    return Measurement("prop8", config, values, data_inputs(*samples(config)), series)


def _doubling_evidence(c: Config, m: Measurement, key: str, what: str) -> Evidence:
    """Proposition 8 (i), (iii): as thm6.smooth_T, for the quantity ``what``."""
    facts, interval = doubling_facts(c, m.series[key])
    return Evidence(facts, notes=[f"measured: the median over seeds of max_L of the doubling "
                                  f"ratio of {what} on T/4, T/2, T (per seed: "
                                  + ", ".join(f"{x:.3g}" for x in m.series[key])
                                  + f"); its {interval}; the largest l(T)/l(0) over depths "
                                  f"{m.values['l_T_over_l0']:.3g}"],
                    extra={"sup_dist": m.values["sup_dist"],
                           "sup_integral": m.values["sup_integral"]})


def _prop8_i(st: Statement, c: Config, m: Measurement) -> Evidence:
    return _doubling_evidence(c, m, "R_doubling", "R(t) = sup_(s<=t) dist from initialization")


def _prop8_iii(st: Statement, c: Config, m: Measurement) -> Evidence:
    return _doubling_evidence(c, m, "I_doubling", "I(t) = int_0^t b, b the largest speed")


def _prop8_iv(st: Statement, c: Config, m: Measurement) -> Evidence:
    return rate_evidence(fit_rate(m, "increment", st, grid="T"), "slope of log int_(T'/2)^(T') b "
                         f"dt against log T' at L = {c.depths[-1]}")


def _prop8_v(st: Statement, c: Config, m: Measurement) -> Evidence:
    return rate_evidence(fit_rate(m, "mu", st), "slope of log inf_(t<=T) G/l against log L")


bind("prop8.i", measure=measure_prop8, facts=_prop8_i)
bind("prop8.iii", measure=measure_prop8, facts=_prop8_iii)
bind("prop8.iv", measure=measure_prop8, facts=_prop8_iv)
bind("prop8.v", measure=measure_prop8, facts=_prop8_v)
