"""Checks: a measurement (:mod:`numerics.measure`) against its statement's bound (:mod:`theory`).

``run_check(id, config)`` is what ``resnet-ode check``, the property tests and the report all call:
it evaluates the statement's assumptions, measures, and returns a
:class:`theory.catalog.CheckResult`.  Each per-statement function below declares *facts*
(:class:`theory.verdicts.Facts`: measured, bound, a-priori bound of the measured quantity, rate fit,
power) and never a verdict: :func:`theory.verdicts.classify` alone decides holds / vacuous /
violated / n/a.  Where an assumption fails the check is "not applicable" and names it, but the
measurement and (where it can be evaluated) the bound are still reported.  Bounds beyond the float
range are carried in log10 (``extra["log10_bound"]``) and reported as ``bound = None``.  Rates are
fitted with a BCa interval over ``config.seeds`` (:mod:`numerics.rates`), under ``extra["rate"]``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from numerics.device import cpu_threads, resolve
from numerics.measure import Measurement, measure
from numerics.rates import RateFit, median_interval, rate_fit
from numerics.tracking import Tracking, flow_tracking
from theory import tolerance
from theory.catalog import CheckResult, Statement, catalog
from theory.config import Config
from theory.errors import ConfigError
from theory.verdicts import Control, Facts, classify, region_text, with_control


@dataclasses.dataclass
class Evidence:
    """What a statement's check function declares: the facts the classifier decides from, with
    notes and auxiliary numbers for the report (``rate``: a fit shown beside a bound check)."""

    facts: Facts
    notes: list[str] = dataclasses.field(default_factory=list)
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)
    rate: RateFit | None = None


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _rate(m: Measurement, key: str, statement: Statement, grid: str = "L") -> RateFit:
    return rate_fit(m.series[grid], m.series[key], statement.rate_window, seed=m.config.seed)


def _rate_evidence(rate: RateFit, what: str, **extra: Any) -> Evidence:
    """A rate check: the slope is the measurement, the fit decides."""
    return Evidence(Facts(rate.slope, rate=rate), notes=[f"measured: {what}"], extra=extra,
                    rate=rate)


# --------------------------------------------------------------------------- per statement


CLIPPED_SPEED = ("||Z(t)|| <= ||Z(0)|| + t sup ||pi(grad)|| <= M0 + T M_pi: the clipping alone "
                 "bounds the speed, no theorem needed")


def _prop1(st: Statement, c: Config, m: Measurement) -> Evidence:
    from theory.finite_time import M_pi

    v = m.values
    bound = m.inputs["M0"] + c.T * M_pi(c.clip, c.clip_c, q=c.q, m=c.m, d=c.d, d_out=c.d_out)
    finite = math.isfinite(v["max_norm"]) and math.isfinite(v["final_loss"])
    return Evidence(Facts(v["max_norm"] if finite else math.nan, bound, a_priori=bound,
                          a_priori_reason=CLIPPED_SPEED, dtype=c.dtype),
                    notes=[f"step halving eta -> eta/2 -> eta/4: final-weight distances shrink "
                           f"by {v['halving_ratio']:.3g} (about 2 for a first-order approach to "
                           "the flow)"],
                    extra={"halving": m.series["halving"], "M_pi_observed": v["M_pi_observed"]})


def _prop3_bounded(st: Statement, c: Config, m: Measurement) -> Evidence:
    from theory.finite_time import M0_bound, M0_failure_probability, M_pi

    v = m.values
    m_pi = M_pi(c.clip, c.clip_c, q=c.q, m=c.m, d=c.d, d_out=c.d_out)
    # the statement: M = M0 + T M_pi with the measured M0 (deterministic); eq. (7)'s
    # 2 sqrt(qm) + T M_pi bounds it only on Lemma 20's event, for a tied initialization
    bound = m.inputs["M0"] + c.T * m_pi
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
    return _rate_evidence(_rate(m, "values", st), "slope of log max_{k,t} ||Z_{k+1}(t) - "
                          "Z_k(t)|| against log L (tied initialization, clipped flow)",
                          onset=m.values.get("onset_L"), **_trained(m, st))


def _trained(m: Measurement, st: Statement) -> dict[str, Any]:
    """What training changed, beside the total gap (equal to it from a tied initialization):
    the slope of max_k ||D_{k+1}(T) - D_k(T)||, D_k = Z_k(T) - Z_k(0), against L."""
    return {"rate_trained": _rate(m, "trained", st).to_dict()}


def _prop3_growth_T(st: Statement, c: Config, m: Measurement) -> Evidence:
    rate = _rate(m, "K_emp", st, grid="T")
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


def _prop2(st: Statement, c: Config, m: Measurement) -> Evidence:
    from theory.euler import prop2_constants

    i = m.inputs
    consts = prop2_constants(c.activation, q=c.q, m=c.m, sup_V=i["sup_V"], sup_W=i["sup_W"],
                             lip_V=i["lip_V"], lip_W=i["lip_W"], norm_A=i["norm_A"],
                             norm_B=i["norm_B"], M_X=i["M_X"])
    bound = consts["C"] / c.L
    facts = Facts(m.values["gap"], _finite(bound), None if math.isfinite(bound) else math.inf,
                  a_priori=_finite(m.values["a_priori"]),
                  a_priori_reason="2 ||B||_2 max(||h_L||, ||H(1)||), from sigma's bound or "
                                  "its Lipschitz constant alone", dtype=c.dtype)
    return Evidence(facts, notes=[f"C = {consts['C']:.4g} (the paper's chain (35): "
                                  f"{consts['C_paper']:.4g}); L x gap = "
                                  f"{m.values['L_times_gap']:.4g}"],
                    extra={"C": consts["C"], "C_paper": consts["C_paper"]})


def _prop2_rate_L(st: Statement, c: Config, m: Measurement) -> Evidence:
    return _rate_evidence(_rate(m, "gap", st), "slope of log sup_x ||F(x) - F^L(x)|| against "
                          "log L (one pair of paths V, W per seed)")


def _prop2_width_m(st: Statement, c: Config, m: Measurement) -> Evidence:
    """C_emp(m) = L sup_x ||F - F^L|| does not depend on the width m (Remark 3's claim for the
    constants of model (3), measured here for Proposition 2's)."""
    rate = _rate(m, "C_emp", st, grid="m")
    return Evidence(Facts(rate.slope, rate=rate), rate=rate, extra=dict(m.values),
                    notes=[f"measured: slope of log C_emp(m) = log(L sup_x ||F(x) - F^L(x)||) "
                           f"against log m at L = {c.L}; the explicit C of Proposition 11 grows "
                           f"as m^{m.values['gamma_C']:.3g} on the same grid and draws"])


def _thm4(st: Statement, c: Config, m: Measurement) -> Evidence:
    extra = {k: v for k, v in m.values.items() if k.startswith(("richardson", "deepest"))}
    for name in ("z_l2", "h_sup", "out_sup"):
        extra[f"rate_{name}"] = _rate(m, name, st).to_dict()
    return _rate_evidence(_rate(m, "z_sup", st), "slope of log sup_{s,t} ||Z^L(s,t) - Z(s,t)|| "
                          "against log L (the limit Z solved on an s-grid)", **extra)


def _prop5(st: Statement, c: Config, m: Measurement) -> Evidence:
    from theory import pl

    local = pl.local_constants(c)
    mu = None if local is None else local["mu"]
    measured = m.values["pl_min"]
    notes = [] if mu is None else [f"mu_emp / mu = {measured / mu:.4g}"]
    return Evidence(Facts(measured, mu, relation=">=", a_priori=0.0,
                          a_priori_reason="G / l >= 0", dtype=c.dtype), notes=notes + m.notes,
                    extra={k: v for k, v in m.values.items() if k != "pl_min"})


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
    from theory.long_time import decay_bound

    # ||F(x_i) - y_i||^2 <= n l(T) <= n exp(-mu T) l(0)   (eq. 10)
    v = m.values
    bound = math.sqrt(c.n * decay_bound(c.T, v["l0"], c.n, c.q, c.activation, c.r))
    return Evidence(Facts(v["max_residual"], bound, a_priori=math.sqrt(c.n * v["l_T"]),
                          a_priori_reason="max_i ||F(x_i) - y_i|| <= sqrt(n l(T)) by the "
                                          "definition of l", dtype=c.dtype),
                    notes=["measured: max_i ||F(x_i) - y_i|| at T; bound: the finite-T "
                           "residual sqrt(n e^{-mu T} l(0)) of eq. (10)",
                           f"l(T) = {v['l_T']:.4g} at T = {c.T}"])


def _thm6_path(evidence: Evidence, m: Measurement) -> Evidence:
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
    return _thm6_path(_rate_evidence(_rate(m, "mu_T", st, grid="T"), "slope of log mu_emp(T) = "
                                     f"log inf_(t<=T) G/l against log T at L = {c.depths[-1]}"), m)


def _thm6_smooth_L(st: Statement, c: Config, m: Measurement) -> Evidence:
    return _thm6_path(_rate_evidence(_rate(m, "sup_gap", st), "slope of log sup_t max_k "
                                     "||Z_(k+1)(t) - Z_k(t)|| against log L"), m)


def _thm6_limit_L(st: Statement, c: Config, m: Measurement) -> Evidence:
    return _thm6_path(_rate_evidence(_rate(m, "limit_gap", st, grid="L_pair"), "slope of log "
                                     "max_x ||F^L_T(x) - F^(2L)_T(x)|| against log L on fresh "
                                     "inputs (the smaller depth of each consecutive pair)"), m)


def _doubling_facts(c: Config, per_seed: list[float]) -> tuple[Facts, str]:
    """The median over seeds of a per-seed doubling ratio (X(T) - X(T/2)) / (X(T/2) - X(T/4))
    (max over L) with its order-statistic interval (:func:`numerics.rates.median_interval`)
    against 1: X bounded in t needs the increments to shrink; logarithmic growth gives exactly 1,
    so an interval reaching 1 is inconclusive, never holds.  Returns the facts and the interval
    in words."""
    interval, coverage = median_interval(per_seed)
    median = float(np.median([x if math.isfinite(x) else 1e300 for x in per_seed]))
    return (Facts(median, 1.0, dtype=c.dtype, interval=interval),
            f"order-statistic interval [{interval[0]:.3g}, {interval[1]:.3g}] (coverage "
            f"{coverage:.4g}); linear growth gives 2, log t gives 1")


def _thm6_smooth_T(st: Statement, c: Config, m: Measurement) -> Evidence:
    facts, interval = _doubling_facts(c, m.series["doubling_per_seed"])
    ratios = ", ".join(f"{r:.3g}" for r in m.series["doubling_ratios"])
    return _thm6_path(Evidence(facts, notes=[f"measured: the median over seeds of max_L (S(T) - "
                                             f"S(T/2)) / (S(T/2) - S(T/4)) (seed medians per L: "
                                             f"{ratios}); its {interval}"]), m)


def _thm6_limits(st: Statement, c: Config, m: Measurement) -> Evidence:
    """Theorem 6 (i), (iii) and the joint limit (numerics.thm6_limits: what is measured, the
    grid and the tail in words)."""
    from numerics import thm6_limits

    if st.id == "thm6.joint":
        facts, interval = _doubling_facts(c, m.series["doubling_per_seed"])
        evidence = Evidence(facts, notes=[f"measured: the median over seeds of (C(T) - C(T/2)) / "
                                          f"(C(T/2) - C(T/4)); its {interval}"])
    else:
        evidence = _rate_evidence(_rate(m, "distance", st, grid="L_pair"),
                                  f"slope of log {thm6_limits.MEASURED[st.id]} against log L")
    notes, extra = thm6_limits.report(st, m)
    evidence.notes += notes
    evidence.extra.update(extra)
    return _thm6_path(evidence, m)


def _doubling_evidence(c: Config, m: Measurement, key: str, what: str) -> Evidence:
    """Proposition 8 (i), (iii): as thm6.smooth_T, for the quantity ``what``."""
    facts, interval = _doubling_facts(c, m.series[key])
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
    return _rate_evidence(_rate(m, "increment", st, grid="T"), "slope of log int_(T'/2)^(T') b "
                          f"dt against log T' at L = {c.depths[-1]}")


def _prop8_v(st: Statement, c: Config, m: Measurement) -> Evidence:
    return _rate_evidence(_rate(m, "mu", st), "slope of log inf_(t<=T) G/l against log L")


def _recurrence(st: Statement, c: Config, m: Measurement) -> Evidence:
    what = {"cor12.recurrence": "sup_(s,t) ||u^L_(floor(Ls))(t) - U(s,t)||",
            "cor13.recurrence": "sup_(t >= log L, s) ||u^L_(floor(Ls))(t) - U(s)||",
            "prop15.double_limit": "sup_(t >= log L, x) ||F^L(x;t) - F_inf(x)||"}[st.id]
    extra = {}
    if "hidden" in m.series:
        extra["rate_hidden"] = _rate(m, "hidden", st).to_dict()
    return _rate_evidence(_rate(m, "distance", st), f"slope of log {what} against log L "
                          "(numerics.recurrences)", **extra)


def _remark1_L(st: Statement, c: Config, m: Measurement) -> Evidence:
    """Remark 1: the 1/L shape of the neighbour gap under momentum or Adam (the fit decides),
    with gradient descent's on the same draws and the fit of what training changed beside it."""
    from numerics.optimizers import describe

    evidence = _rate_evidence(_rate(m, "values", st), f"slope of log sup_(t<=T) max_k "
                              f"||Z_(k+1)(t) - Z_k(t)|| against log L under {m.notes[0]}, "
                              "unclipped (numerics.optimizers)",
                              **{f"rate_{k}": _rate(m, k, st).to_dict() for k in ("gd", "moved")})
    evidence.notes.append(describe(m))
    return evidence


def _remark1_bounded(st: Statement, c: Config, m: Measurement) -> Evidence:
    """Remark 1: the weights bounded in t, as Proposition 8 (i) (the doubling ratio of R)."""
    from numerics.optimizers import describe

    facts, interval = _doubling_facts(c, m.series["R_doubling"])
    return Evidence(facts, notes=[f"measured: the median over seeds of max_L of the doubling "
                                  f"ratio of R(t) = sup_(s<=t) dist from initialization on T/4, "
                                  f"T/2, T under {m.notes[0]} (per seed: "
                                  + ", ".join(f"{x:.3g}" for x in m.series["R_doubling"])
                                  + f"); its {interval}", describe(m)])


def _lemma18(st: Statement, c: Config, m: Measurement) -> Evidence:
    worst = max(m.values.values())
    return Evidence(Facts(worst, 0.0), extra=dict(m.values),
                    notes=["measured: the largest relative violation (rhs - lhs) / max(|lhs|, "
                           f"|rhs|) over {m.inputs['trials']:g} drawn triples (<= 0 holds)"])


def _lemma20(st: Statement, c: Config, m: Measurement) -> Evidence:
    from theory.lemmas import lemma20_bound

    v = m.values
    bound = float(lemma20_bound(c.q, c.m, c.M_W))
    return Evidence(Facts(v["exact_tail"], bound, probability=True, dtype="mpmath"),
                    notes=["measured: the exact chi-square tail (mpmath)",
                           f"Monte Carlo: {v['mc_freq']:.4g} in [{v['mc_lo']:.3g}, "
                           f"{v['mc_hi']:.3g}] (95% Clopper-Pearson, {m.inputs['trials']:g} "
                           "draws)"], extra=dict(v))


def _lemma21(st: Statement, c: Config, m: Measurement) -> Evidence:
    from theory.lemmas import lemma21_delta

    v = m.values
    r = int(m.inputs["r"])
    delta = float(lemma21_delta(c.activation, r, c.m, c.n, c.d))
    # the Clopper-Pearson lower end: the failure frequency is significantly above delta only
    # if even its lower confidence bound is
    return Evidence(Facts(v["fail_lo"], delta, probability=True),
                    notes=[f"measured: the lower 95% Clopper-Pearson bound of the failure "
                           f"frequency {v['fail_freq']:.4g} (in [{v['fail_lo']:.3g}, "
                           f"{v['fail_hi']:.3g}], {m.inputs['trials']:g} draws); min smin / "
                           f"threshold = {v['min_ratio']:.4g}"], extra=dict(v))


def _hermite(st: Statement, c: Config, m: Measurement) -> Evidence:
    v = m.values
    return Evidence(Facts(v["max_rel_error"], tolerance.RTOL["mpmath"] * 1e5),
                    extra={"bessel_gaps": [v[f"bessel_gap_{R}"] for R in (7, 15, 31)]},
                    notes=["measured: max_{r <= 11} |eta_r - eta_r(ref)| / max(1, |eta_r(ref)|)"
                           f" against an independent reference ({m.notes[0]})",
                           f"Parseval: 1 - sum_(r<=31) eta_r^2 / E[sigma^2] = "
                           f"{v['bessel_gap_31']:.3g}"])


def _appd(st: Statement, c: Config, m: Measurement) -> Evidence:
    v = m.values
    path = m.series["w_even"]
    # w(t) moves monotonically toward w*, from below unless w(0) = 1/(2L) > w* (small C^{1/L});
    # each defect is scaled by its tolerance, so the bound is 1
    sign = 1.0 if path[0] <= v["w_star"] else -1.0
    tol = tolerance.RTOL["float64"] * abs(v["w_star"])
    back = max([sign * (a - b) for a, b in zip(path, path[1:], strict=False)] + [0.0])
    defect = max(v["odd_max_move"] / 1e-300 if v["odd_max_move"] else 0.0,
                 v["even_spread"] / (1e-12 * max(1.0, abs(v["w_even"]))),
                 back / max(tol, 1e-300) if back else 0.0,
                 max(0.0, sign * (path[-1] - v["w_star"])) / max(tol, 1e-300))
    return Evidence(Facts(defect, 1.0), extra=dict(v),
                    notes=["measured: the largest defect over (odd weights moved: must be 0, "
                           "even spread / 1e-12, monotone approach to w* / rounding) (<= 1)",
                           f"|w(T) - w*| = {v['w_error']:.3g} at T = {c.T}; odd weights moved "
                           f"{v['odd_max_move']:.3g}; even spread {v['even_spread']:.3g}; gap "
                           f"{v['gap']:.4g} -> w* + 1/(2L) = {v['gap_limit']:.4g}"])


def _sec43(st: Statement, c: Config, m: Measurement) -> Evidence:
    return _rate_evidence(_rate(m, "conv", st), "slope of log max_{k,t} ||Z_{k+1}(t) - Z_k(t)|| "
                          "against log L for a convolutional residual (tied initialization)")


def _sec43_smooth(st: Statement, c: Config, m: Measurement) -> Evidence:
    return _rate_evidence(_rate(m, "smooth", st), "slope of log max_{k,t} ||Z_{k+1}(t) - "
                          "Z_k(t)|| against log L for model (3) from a smooth Gaussian-process "
                          "initialization", **_trained(m, st))


def _sec43_long(st: Statement, c: Config, m: Measurement) -> Evidence:
    """Theorem 6's conclusions for model (11)'s convolutional residual (numerics.sec43): the
    statement's rate, with the PL ratio along the path beside it as a measured precondition
    (never a gate): :func:`_thm6_path`'s numbers and the fit of mu_emp(T') = inf_(t<=T') G/l
    (min over L) under thm6.pl_path's region, as numbers."""
    key, grid, what = {
        "sec43.long_decay": ("rho", "T", "slope of log rho(T') = log min_L log(l^L(0)/l^L(T'))"
                             "/T' against log T'"),
        "sec43.long_smooth_L": ("sup_gap", "L", "slope of log sup_(t<=T) max_k ||Z_(k+1)(t) - "
                                "Z_k(t)|| against log L")}[st.id]
    trained = _trained(m, st) if grid == "L" else {}  # tied: equal to the total gap at T
    evidence = _thm6_path(_rate_evidence(_rate(m, key, st, grid=grid), f"{what} (convolutional "
                                         "residual of model (11), unclipped flow)", **trained), m)
    pl = _rate(m, "mu_T", catalog["thm6.pl_path"], grid="T")
    evidence.notes.append(
        f"PL along the path (measured, not a gate): slope of log inf_(t<=T') G/l against log T' "
        f"{pl.slope:.3g} [{pl.interval[0]:.3g}, {pl.interval[1]:.3g}] (thm6.pl_path's region: "
        f"{region_text(catalog['thm6.pl_path'].rate_window)}); gradient descent against the "
        f"flow: max |log(l(T)/l(0)) + int G/l| = {m.values['max_disc_gap']:.3g}; smallest "
        f"l(T)/l(0) {m.values['min_l_T_over_l0']:.3g}")
    evidence.extra["precondition"]["pl_rate"] = pl.to_dict()
    evidence.extra["max_disc_gap"] = m.values["max_disc_gap"]
    return evidence


TRAINED_WITHIN = 0.05
"""A Section 5.2 run has trained when its test accuracy is at least the L = 1 reference's (same
seed, same budget) minus this (5 points)."""
BRANCH_ACTS = 0.01
"""Its residual branch acts when removing the branches costs at least this test accuracy."""
MIN_SEEDS = 3
"""The fewest seeds that can decide the contrast: the median's interval is then the range of the
ratios (coverage 1 - 2^(1-3) = 0.75), and holds / violated need all of them on one side of 1
(probability 1/4 when tied and i.i.d. are exchangeable, the control's case)."""


def table1_power(runs: list[dict[str, Any]]) -> str | None:
    """Why the runs of one row cannot decide Table 1's contrast (None: they can): too few
    seeds, a run that did not train (:data:`TRAINED_WITHIN`), or one whose residual branch does
    not act (:data:`BRANCH_ACTS`)."""
    if len(runs) < MIN_SEEDS:
        return f"{len(runs)} seeds (the contrast needs >= {MIN_SEEDS})"
    for r in runs:
        for init in ("tied", "iid"):
            acc, ref = r[f"{init}_test_acc"], r["ref_test_acc"]
            if acc < ref - TRAINED_WITHIN:
                return (f"seed {r['seed']}, {init}: test accuracy {acc:.3f} below the L = 1 "
                        f"reference {ref:.3f} minus {TRAINED_WITHIN} (not trained)")
            if acc - r[f"{init}_test_acc_no_branches"] < BRANCH_ACTS:
                return (f"seed {r['seed']}, {init}: removing the residual branches costs "
                        f"{acc - r[f'{init}_test_acc_no_branches']:.3f} < {BRANCH_ACTS} of "
                        "test accuracy (the branch does not act)")
    return None


def _table1(st: Statement, c: Config, m: Measurement) -> Evidence:
    v, runs = m.values, m.series["runs"]
    weak = table1_power(runs)
    ratios = [r["ratio"] for r in runs if r["ratio"] is not None]
    interval = f"[{min(ratios):.3g}, {max(ratios):.3g}]" if ratios else "n/a"

    def pct(key: str) -> str:
        return "n/a" if v[key] is None else f"{100 * v[key]:.1f}%"

    # the median's distribution-free interval (numerics.rates.median_interval): for 3 seeds the
    # range, coverage 0.75, so that the symmetric rule decides only with every seed on one side
    ci, coverage = median_interval(ratios) if ratios and len(ratios) == len(runs) \
        else (None, 0.95)
    return Evidence(Facts(v["ratio"], 1.0, powered=weak is None, power_reason=weak or "",
                          interval=ci, confidence=coverage),
                    extra=dict(v),
                    notes=["measured: median over seeds of roughness(tied) / roughness(iid), the "
                           "roughness of what training added to the residual convolutions "
                           "(mean_k ||D_(k+1) - D_k|| against a random order of the layers: 1 "
                           "for exchangeable layers, 3/(L+1) for a linear trend); bound 1: tied "
                           f"smoother than iid; over {len(runs)} seeds {interval}",
                           f"median test accuracy tied {pct('tied_test_acc')} (without the "
                           f"branches {pct('tied_test_acc_no_branches')}), iid "
                           f"{pct('iid_test_acc')} ({pct('iid_test_acc_no_branches')}), L = 1 "
                           f"reference {pct('ref_test_acc')}"] + m.notes)


CHECKS: dict[str, Callable[[Statement, Config, Measurement], Evidence]] = {
    "prop1.wellposed": _prop1,
    "prop2.euler": _prop2,
    "prop2.rate_L": _prop2_rate_L,
    "prop2.width_m": _prop2_width_m,
    "prop3.bounded": _prop3_bounded,
    "prop3.successive": _prop3_successive,
    "prop3.rate_L": _prop3_rate_L,
    "prop3.growth_T": _prop3_growth_T,
    "thm4.limit": _thm4,
    "prop5.pl": _prop5,
    "thm6.decay": _thm6_decay,
    "thm6.interpolation": _thm6_interpolation,
    "thm6.pl_path": _thm6_pl_path,
    "thm6.smooth_L": _thm6_smooth_L,
    "thm6.smooth_T": _thm6_smooth_T,
    "thm6.limit_L": _thm6_limit_L,
    **dict.fromkeys(("thm6.i_AB", "thm6.iii_hidden", "thm6.joint"), _thm6_limits),
    "prop8.i": _prop8_i,
    "prop8.iii": _prop8_iii,
    "prop8.iv": _prop8_iv,
    "prop8.v": _prop8_v,
    "cor12.recurrence": _recurrence,
    "cor13.recurrence": _recurrence,
    "prop15.double_limit": _recurrence,
    "lemma18.linalg": _lemma18,
    "lemma20.gaussian_norm": _lemma20,
    "lemma21.smin": _lemma21,
    "hermite.coefficients": _hermite,
    "appD.relu": _appd,
    "sec43.general": _sec43,
    "sec43.smooth_init": _sec43_smooth,
    "sec43.long_decay": _sec43_long,
    "sec43.long_smooth_L": _sec43_long,
    "table1.realdata": _table1,
    **dict.fromkeys(("remark1.momentum_L", "remark1.adam_L"), _remark1_L),
    **dict.fromkeys(("remark1.momentum_bounded", "remark1.adam_bounded"), _remark1_bounded),
}
assert set(CHECKS) == set(catalog), "every catalog statement needs a check"


MEMORY_FACTOR = 8
"""Resident copies of one network's weights during training (weights, initial weights, gradients,
the optimizer's and the streamed metrics' buffers), for :func:`memory_estimate`."""


def memory_estimate(config: Config) -> int:
    """Bytes a model (3) training of ``config`` holds at its deepest depth: every seed's weights
    (A, B, and 2 q m per layer) :data:`MEMORY_FACTOR` times, plus the hidden states n q per layer
    kept for the backward pass."""
    L = max(config.L, *config.depths)
    item = 4 if config.dtype == "float32" else 8
    weights = (config.q * (config.d + config.d_out) + 2 * L * config.q * config.m) * item
    hidden = config.n * config.q * (L + 1) * item
    return max(1, len(config.seeds)) * (MEMORY_FACTOR * weights + 2 * hidden)


def _memory_limit() -> int:
    """The machine's physical memory in bytes."""
    import os

    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def guard_limit() -> int:
    """The most bytes a check may plan for: half of the machine's physical memory."""
    return _memory_limit() // 2


def guard_resources(config: Config) -> None:
    """ConfigError (one line, with the estimate and the limit) when ``config``'s training cannot
    fit in half of the machine's memory: refused before anything is allocated."""
    need, limit = memory_estimate(config), guard_limit()
    if need > limit:
        L = max(config.L, *config.depths)
        sizes = f"L={L}, m={config.m}, q={config.q}, n={config.n}"
        raise ConfigError("sizes", sizes, f"training needs about {need / 2**30:.3g} GiB, more "
                          f"than half of this machine's memory ({limit / 2**30:.3g} GiB)")


def run_check(statement_id: str, config: Config, *, control: bool = True) -> CheckResult:
    """Measure ``statement_id`` for ``config``, declare its facts and classify them in the
    statement's scope (theory.catalog.Statement.scope); where the check holds and the statement
    names a negative control (and ``control``), measure the control and classify it too: a
    control that holds as well leaves the check vacuous (theory.verdicts.with_control)."""
    st = catalog[statement_id]
    resolve(config.device, config.dtype)  # CUDA asked for but absent: rejected before any work
    if st.id not in TRAINS_NOTHING:
        guard_resources(config)
    scope, failed_paper, failed = st.scope(config)
    tracking, untracked = _flow_tracking(st, config)  # a precondition, measured
    if untracked is not None:
        failed = [*failed, untracked]
        failed_paper = failed if scope == "paper" else failed_paper
    evidence, m = _evidence(st, config, failed)
    facts, notes = evidence.facts, list(evidence.notes)
    verdict = classify(facts, failed, scope=scope)  # type: ignore[arg-type]
    ctrl = None
    if control and verdict.cls == "holds" and st.control is not None:
        ctrl = _control(st, config)
    verdict = with_control(verdict, ctrl)
    log10_b = facts.log10_of_bound()
    slack = None
    if log10_b is not None and facts.measured is not None and facts.measured > 0 \
            and math.isfinite(log10_b) and facts.rate is None:
        slack = log10_b - math.log10(facts.measured)
        slack = slack if facts.relation == "<=" else -slack
    extra = {"values": m.values, "inputs": m.inputs, "series": m.series, **evidence.extra}
    if tracking is not None:
        extra["flow_tracking"] = tracking.to_dict()
        notes.append(tracking.note())
    if log10_b is not None and facts.rate is None:
        extra["log10_bound"] = log10_b
    if facts.a_priori is not None:
        extra["a_priori"] = facts.a_priori
    if facts.interval is not None:
        extra["interval"] = list(facts.interval)
    rate = evidence.rate or facts.rate
    if rate is not None:
        extra["rate"] = rate.to_dict()
        if st.rate_window is not None:
            notes.append(f"accepted: the slope's 95% interval {region_text(st.rate_window)}")
        if rate.null_seeds:
            notes.append(f"{rate.null_seeds} of {rate.seeds} seeds identically 0 at every "
                         "grid point (any C/L bound holds for them; left out of the slope)")
    if not failed and facts.bound is not None and tolerance.fragile(
            facts.measured or 0.0, facts.bound) and config.dtype == "float32":
        notes.append("fragile: the verdict is within float32 rounding of flipping")
    return CheckResult(
        id=st.id, paper_ref=st.paper_ref, claim=st.claim, config=config.to_dict(),
        applicable=scope == "paper" and not failed, failed_assumptions=failed_paper,
        bound=_finite(facts.bound) if facts.rate is None else None,
        measured=_finite(facts.measured), holds=verdict.holds, slack_log10=_finite(slack),
        rate_slope=None if rate is None else _finite(rate.slope),
        notes="; ".join(notes), extra=extra, verdict=verdict.cls, verdict_rule=verdict.rule,
        scope=scope,
        failed_requirements=failed if scope == "beyond" else [],
        control=None if ctrl is None else ctrl.to_dict())


TRAINS_NOTHING = frozenset({"lemma18.linalg", "lemma20.gaussian_norm", "lemma21.smin",
                            "hermite.coefficients", "appD.relu", "cor12.recurrence",
                            "cor13.recurrence", "prop15.double_limit"})
"""Statements whose check trains no model-(3) network (random matrices, quadrature, the scalar
network of Appendix D, fixed-weight recurrences): the resource guard, an estimate of a model-(3)
training's memory, does not apply."""


def _flow_tracking(st: Statement, config: Config) -> tuple[Tracking | None, str | None]:
    """For a gradient-flow statement (``st.flow``), whether gradient descent tracks the flow on
    its run (numerics.tracking; cached per configuration), and the failed precondition's name
    where it does not (None: it tracks, or the statement is no flow statement)."""
    if st.flow is None:
        return None, None
    with cpu_threads():
        tracking = flow_tracking(st.flow(config), st.flow_residual)
    return tracking, tracking.failure()


def _evidence(st: Statement, config: Config, failed: list[str]) -> tuple[Evidence, Measurement]:
    with cpu_threads():
        m = measure(st.id, config)
    try:
        return CHECKS[st.id](st, config, m), m
    except ConfigError as exc:  # the bound is undefined here (e.g. K' for a non-C^2 sigma)
        if not failed:
            raise
        return Evidence(Facts(None), notes=[f"bound undefined: {exc}"]), m


def _control(st: Statement, config: Config) -> Control:
    """The statement's negative control measured and classified as a paper-scope check without
    assumptions (it breaks one on purpose): it must not hold.  For a gradient-flow statement the
    control's gradient descent must track the flow too, else its failure may be the optimizer's
    (edge of stability), not the claim's: it is then n/a, and the check's power is not shown."""
    assert st.control is not None
    cfg, why = st.control(config)
    failure = _flow_tracking(st, cfg)[1]
    untracked = [] if failure is None else [failure]
    evidence, _ = _evidence(st, cfg, untracked)
    verdict = classify(evidence.facts, untracked)
    return Control(cfg.to_dict(), why, verdict.cls, verdict.rule,
                   _finite(evidence.facts.measured))
