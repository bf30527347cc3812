"""Proposition 3 (with Proposition 7; family S3): the clipped flow's weights stay bounded and
neighbouring layers O(1/L) apart (eq. 7).  Each statement's measurement and facts, bound to its
catalog entry (:func:`theory.catalog.bind`).  S1 (:mod:`numerics.prop1`) reuses the bounded run.

Norms are the paper's: ||Z_k|| = ||V_k||_F + ||W_k||_F, ||A||_F, ||B||_F.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from numerics.evidence import Evidence, fit_rate, rate_evidence, trained_rate
from numerics.flow import Flow, train
from numerics.measure import (
    Measurement,
    data,
    data_inputs,
    depth_sweep,
    initial,
    largest,
    recorded,
    run,
    samples,
)
from numerics.metrics import frobenius, layer_norms, successive_gaps
from numerics.model import MLP, Params
from theory.catalog import Statement, bind, catalog
from theory.config import Config
from theory.verdicts import Facts


def _norms(p: Params) -> dict[str, float]:
    """||A||_F, sup_k ||Z_k||, ||B||_F and max_k ||Z_{k+1} - Z_k|| of network 0."""
    gaps = successive_gaps(p.Z)
    return {"A": float(frobenius(p.A)[0]), "Z": float(layer_norms(p.Z).amax(1)[0]),
            "B": float(frobenius(p.B)[0]),
            "gap": float(gaps.amax(1)[0]) if gaps.shape[1] else 0.0}


def measure_prop3_bounded(config: Config) -> Measurement:
    """S3: max over t of ||A(t)||_F, sup_k ||Z_k(t)||, ||B(t)||_F, with M0 and the observed M_pi."""
    result = run(config)
    init = _norms(result.params0)
    values = {"max_A": largest(result, "a_norm"), "max_Z": largest(result, "z_norm"),
              "max_B": largest(result, "b_norm"),
              "M_pi_observed": max(largest(result, k) for k in ("rhs_a", "rhs_z", "rhs_b")),
              "final_loss": float(result.series["loss"][-1, 0])}
    values["max_norm"] = max(values["max_A"], values["max_Z"], values["max_B"])
    inputs = {"M0": max(init["A"], init["Z"], init["B"]), **data_inputs(*data(config))}
    return Measurement("prop3.bounded", config, values, inputs,
                       recorded(result, "loss", "z_norm", "a_norm", "b_norm"))


def measure_prop3_successive(config: Config) -> Measurement:
    """S3 / eq. (7): max_{k,t} ||Z_{k+1}(t) - Z_k(t)||, K_emp = L x that maximum, the initial gap,
    and the same maximum for every depth of ``config.depths`` and seed of ``config.seeds``."""
    result = run(config)
    init = _norms(result.params0)
    values = {"max_gap": largest(result, "gap"), "K_emp": config.L * largest(result, "gap"),
              "max_Z": largest(result, "z_norm"),
              "max_norm": max(largest(result, k) for k in ("a_norm", "z_norm", "b_norm"))}
    inputs = {"init_gap": init["gap"], "M0": max(init["A"], init["Z"], init["B"]),
              **data_inputs(*data(config))}
    return Measurement("prop3.successive", config, values, inputs,
                       recorded(result, "gap", "loss"))


def measure_prop3_rate_L(config: Config) -> Measurement:
    """S3 in L: max_{k,t} ||Z_{k+1}(t) - Z_k(t)|| for every depth of ``config.depths`` and seed of
    ``config.seeds``, and the onset: the smallest depth from which every local slope between
    neighbouring depths (of the seed-mean) lies in the 1/L window."""
    series = depth_sweep(config, lambda r: r.maxima["gap"])
    return Measurement("prop3.rate_L", config, {"onset_L": onset(series["L"], series["values"])},
                       data_inputs(*samples(config)), series)


def onset(depths: Sequence[int], values: Sequence[Sequence[float]],
          window: tuple[float, float] = catalog["prop3.rate_L"].rate_window or (-1.2, -0.8)
          ) -> float:
    """The smallest depth from which the local log-log slopes of the seed-mean all lie in
    ``window`` (nan if even the last pair is outside it or a mean is 0)."""
    mean = np.asarray(values, dtype=float).mean(axis=1)
    if not np.all(mean > 0):
        return math.nan
    local = np.diff(np.log(mean)) / np.diff(np.log(np.asarray(depths, dtype=float)))
    inside = (window[0] <= local) & (local <= window[1])
    start = len(local)
    while start > 0 and inside[start - 1]:
        start -= 1
    return math.nan if start == len(local) else float(depths[start])


def measure_prop3_growth_T(config: Config) -> Measurement:
    """S3 in T: K_emp(t) = L max_{k, t' <= t} ||Z_{k+1}(t') - Z_k(t')|| along one run of the seeds
    of ``config.seeds`` (batched), on the small-T grid t = t0 2^j (j = 0..5), t0 the first time
    at which every seed's gap is open (from a tied initialization every layer gets the same first
    step, so t0 >= 2 eta; saturated coordinate clipping keeps the layers equal longer) and on
    every recorded t where it is positive, with least-squares fits of the growth over the whole
    horizon: polynomial (log K against log t, exponent ``p_emp``) and eq. (7)'s shape
    beta t e^{alpha t} (log(K/t) against t, rate ``alpha_emp``), with their residual sums of
    squares."""
    X, Y = samples(config)
    flow = Flow.from_config(config)
    result = train(initial(config, seeds=config.seeds), X, Y, flow,
                   MLP(config.activation, config.scaling), record_every=1)
    t = result.times.double().numpy()
    K = config.L * torch.cummax(result.series["gap"].double(), dim=0).values.numpy()
    opened = np.flatnonzero(np.all(K > 0, axis=1) & (t > 0))  # a log grid starts after 0
    t0 = t[opened[0]] if opened.size else math.inf
    small = [int(np.argmin(np.abs(t - t0 * 2**j))) for j in range(6)
             if t0 * 2**j <= t[-1] * (1 + 1e-9)]
    mean = K.mean(axis=1)
    keep = (t > 0) & (mean > 0)
    values = {"K_emp_T": float(mean[-1]), "p_emp": math.nan, "alpha_emp": math.nan,
              "rss_poly": math.nan, "rss_exp": math.nan}
    if keep.sum() >= 3:
        lt, lk = np.log(t[keep]), np.log(mean[keep])
        (p, _), rss_p = np.polyfit(lt, lk, 1, full=True)[:2]
        (alpha, _), rss_e = np.polyfit(t[keep], lk - lt, 1, full=True)[:2]
        values.update(p_emp=float(p), alpha_emp=float(alpha), rss_poly=float(rss_p[0]),
                      rss_exp=float(rss_e[0]))
    init = _norms(result.params0)
    inputs = {"M0": max(init["A"], init["Z"], init["B"]), **data_inputs(X, Y)}
    return Measurement("prop3.growth_T", config, values, inputs,
                       {"T": [float(t[j]) for j in small],
                        "K_emp": [[float(k) for k in K[j]] for j in small],
                        "T_all": [float(x) for x in t[keep]],
                        "K_emp_all": [float(k) for k in mean[keep]]})


CLIPPED_SPEED = ("||Z(t)|| <= ||Z(0)|| + t sup ||pi(grad)|| <= M0 + T M_pi: the clipping alone "
                 "bounds the speed, no theorem needed")


def _prop3_bounded(st: Statement, c: Config, m: Measurement) -> Evidence:
    from theory.finite_time import M0_bound, M0_failure_probability, M_bound, M_pi

    v = m.values
    m_pi = M_pi(c.clip, c.clip_c, q=c.q, m=c.m, d=c.d, d_out=c.d_out)
    # the statement: M = M0 + T M_pi with the measured M0 (deterministic); eq. (7)'s
    # 2 sqrt(qm) + T M_pi bounds it only on Lemma 20's event, for a tied initialization
    bound = M_bound(m.inputs["M0"], c.T, m_pi)
    return Evidence(Facts(v["max_norm"], bound, a_priori=bound, a_priori_reason=CLIPPED_SPEED,
                          dtype=c.dtype),
                    notes=[f"bound M = M0 + T M_pi with the measured M0 = {m.inputs['M0']:.6g}; "
                           f"eq. (7)'s 2 sqrt(qm) + T M_pi = {c.T * m_pi + M0_bound(c.q, c.m):.6g}"
                           f" holds with probability >= 1 - "
                           f"{M0_failure_probability(c.q, c.m):.3g} for a tied initialization"],
                    extra={"M0": m.inputs["M0"], "M_pi": m_pi,
                           "M_pi_observed": v["M_pi_observed"]})


def _prop3_constants(c: Config, i: dict[str, float]) -> dict[str, float]:
    """alpha, beta, K of eq. (7) for ``c`` with the measured M0, M_X, M_Y."""
    from theory.finite_time import M_pi, pi_lipschitz, prop3_constants

    return prop3_constants(c.activation, q=c.q, m=c.m, T=c.T,
                           M_pi=M_pi(c.clip, c.clip_c, q=c.q, m=c.m, d=c.d, d_out=c.d_out),
                           M_X=i["M_X"], M_Y=i["M_Y"], M0=i["M0"], lip_pi=pi_lipschitz(c.clip))


def _prop3_successive(st: Statement, c: Config, m: Measurement) -> Evidence:
    from theory.finite_time import successive_bound_log10

    v, i = m.values, m.inputs
    consts = _prop3_constants(c, i)
    log10_bound = successive_bound_log10(i["init_gap"], c.L, consts, c.T)
    extra = {"K_emp": v["K_emp"], "log10_K_tied": consts["log10_K_tied"],
             "alpha": consts["alpha"], "log10_alpha": consts["log10_alpha"],
             "log10_beta": consts["log10_beta"]}
    notes = [f"K_emp = L x max gap = {v['K_emp']:.4g}"]
    if math.isinf(log10_bound) and math.isfinite(consts["log10_alpha"]):
        # log10 bound = log10(gap0 + beta T / L) + alpha T / ln 10, dominated by its second term
        log10_log10 = consts["log10_alpha"] + math.log10(c.T / math.log(10))
        extra["log10_log10_bound"] = log10_log10
        notes.append(f"bound = 10^(10^{log10_log10:.4g})")
    else:
        notes.append(f"K = beta T e^(alpha T) = 10^{consts['log10_K_tied']:.4g}")
    # no theorem needed: ||Z_{k+1} - Z_k|| <= ||Z_{k+1}|| + ||Z_k|| <= 2 max_{k,t} ||Z_k(t)||
    return Evidence(Facts(v["max_gap"], 10**log10_bound if log10_bound < 308 else None,
                          log10_bound, a_priori=2 * v["max_Z"],
                          a_priori_reason="2 max_{k,t} ||Z_k(t)||, the triangle inequality",
                          dtype=c.dtype), notes=notes, extra=extra)


def _prop3_rate_L(st: Statement, c: Config, m: Measurement) -> Evidence:
    return rate_evidence(fit_rate(m, "values", st), "slope of log max_{k,t} ||Z_{k+1}(t) - "
                         "Z_k(t)|| against log L (tied initialization, clipped flow)",
                         onset=m.values.get("onset_L"), **trained_rate(m, st))


def _prop3_growth_T(st: Statement, c: Config, m: Measurement) -> Evidence:
    rate = fit_rate(m, "K_emp", st, grid="T")
    v = m.values
    log10_alpha = _prop3_constants(c, m.inputs)["log10_alpha"]
    better = "exponential" if v["rss_exp"] < v["rss_poly"] else "polynomial"
    return Evidence(Facts(rate.slope, rate=rate), rate=rate, extra={"log10_alpha": log10_alpha},
                    notes=["measured: slope of log K_emp(T) against log T on the small-T grid, "
                           "K_emp(T) = L max_{k, t<=T} ||Z_{k+1}(t) - Z_k(t)|| (eq. 7: "
                           "K = beta T e^{alpha T}, so K_emp(T) = O(T) as T -> 0)",
                           f"growth over T in [{m.series['T_all'][0]:.3g}, "
                           f"{m.series['T_all'][-1]:.3g}]: exponential rate "
                           f"{v['alpha_emp']:.3g} (log K_emp / T against T) vs polynomial "
                           f"exponent {v['p_emp']:.3g} (log K_emp against log T); the {better} "
                           f"fits better (residuals {v['rss_exp']:.3g} vs {v['rss_poly']:.3g}); "
                           f"the paper's alpha = 10^{log10_alpha:.4g}"])


bind("prop3.bounded", measure=measure_prop3_bounded, facts=_prop3_bounded)
bind("prop3.successive", measure=measure_prop3_successive, facts=_prop3_successive)
bind("prop3.rate_L", measure=measure_prop3_rate_L, facts=_prop3_rate_L)
bind("prop3.growth_T", measure=measure_prop3_growth_T, facts=_prop3_growth_T)
