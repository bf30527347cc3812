"""Checks: a measurement (:mod:`numerics.measure`) against its statement's bound (:mod:`theory`).

``run_check(id, config)`` is what ``resnet-ode check``, the property tests and the report all call:
it evaluates the statement's assumptions, measures, evaluates the bound, and returns a
:class:`theory.catalog.CheckResult`.  A check *holds* only where every assumption holds; elsewhere
it is "not applicable" and names the failed assumptions, but the measurement and (where it can be
evaluated) the bound are still reported.  Comparisons use :mod:`theory.tolerance` (rounding only).
Bounds beyond the float range are compared in log10 (``extra["log10_bound"]``) and reported as
``bound = None``.  Rates (1/L) are fitted over ``config.depths`` with a bootstrap interval over
``config.seeds`` (:mod:`numerics.rates`) and reported under ``extra["rate"]``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

from numerics.device import resolve
from numerics.measure import Measurement, measure
from numerics.rates import RateFit, rate_fit
from theory import tolerance
from theory.catalog import CheckResult, Statement, catalog, slack_log10
from theory.config import Config
from theory.errors import ConfigError


@dataclasses.dataclass
class Verdict:
    """What a statement's check function decides: bound, measured, holds (if applicable)."""

    measured: float | None
    bound: float | None
    holds: bool
    log10_bound: float | None = None
    notes: list[str] = dataclasses.field(default_factory=list)
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)
    rate: RateFit | None = None


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _leq(measured: float, bound: float, config: Config) -> bool:
    return tolerance.leq(measured, bound, config.dtype)


def _rate(m: Measurement, key: str, statement: Statement) -> RateFit:
    return rate_fit(m.series["L"], m.series[key], statement.rate_window, seed=m.config.seed)


# --------------------------------------------------------------------------- per statement


def _prop1(st: Statement, c: Config, m: Measurement) -> Verdict:
    from theory.finite_time import M_pi

    v = m.values
    bound = m.inputs["M0"] + c.T * M_pi(c.clip, c.clip_c, q=c.q, m=c.m, d=c.d, d_out=c.d_out)
    finite = math.isfinite(v["max_norm"]) and math.isfinite(v["final_loss"])
    return Verdict(v["max_norm"], bound, finite and _leq(v["max_norm"], bound, c),
                   notes=[f"step halving eta -> eta/2 -> eta/4: final-weight distances shrink by "
                          f"{v['halving_ratio']:.3g} (about 2 for a first-order approach to the "
                          "flow)"],
                   extra={"halving": m.series["halving"], "M_pi_observed": v["M_pi_observed"]})


def _prop3_bounded(st: Statement, c: Config, m: Measurement) -> Verdict:
    from theory.finite_time import M0_bound, M0_failure_probability, M_pi

    v = m.values
    m_pi = M_pi(c.clip, c.clip_c, q=c.q, m=c.m, d=c.d, d_out=c.d_out)
    # the statement: M = M0 + T M_pi with the measured M0 (deterministic); eq. (7)'s
    # 2 sqrt(qm) + T M_pi bounds it only on Lemma 20's event, for a tied initialization
    bound = m.inputs["M0"] + c.T * m_pi
    return Verdict(v["max_norm"], bound, _leq(v["max_norm"], bound, c),
                   notes=[f"M = T M_pi + 2 sqrt(qm) = {c.T * m_pi + M0_bound(c.q, c.m):.6g} "
                          f"(eq. 7) holds with probability >= 1 - "
                          f"{M0_failure_probability(c.q, c.m):.3g} for a tied initialization"],
                   extra={"M0": m.inputs["M0"], "M_pi": m_pi,
                          "M_pi_observed": v["M_pi_observed"]})


def _prop3_successive(st: Statement, c: Config, m: Measurement) -> Verdict:
    from theory.finite_time import (
        M_pi,
        pi_lipschitz,
        prop3_constants,
        successive_bound_log10,
    )

    v, i = m.values, m.inputs
    consts = prop3_constants(c.activation, q=c.q, m=c.m, T=c.T,
                             M_pi=M_pi(c.clip, c.clip_c, q=c.q, m=c.m, d=c.d, d_out=c.d_out),
                             M_X=i["M_X"], M_Y=i["M_Y"], M0=i["M0"],
                             lip_pi=pi_lipschitz(c.clip))
    log10_bound = successive_bound_log10(i["init_gap"], c.L, consts, c.T)
    measured = v["max_gap"]
    extra = {"K_emp": v["K_emp"], "log10_K_tied": consts["log10_K_tied"],
             "alpha": consts["alpha"], "log10_alpha": consts["log10_alpha"],
             "log10_beta": consts["log10_beta"]}
    notes = [f"K_emp = L x max gap = {v['K_emp']:.4g}"]
    if math.isinf(log10_bound) and math.isfinite(consts["log10_alpha"]):
        # log10 bound = log10(gap0 + beta T / L) + alpha T / ln 10, dominated by its second term
        log10_log10 = consts["log10_alpha"] + math.log10(c.T / math.log(10))
        extra["log10_log10_bound"] = log10_log10
        notes.append(f"bound = 10^(10^{log10_log10:.4g}): beyond float range, finite")
        holds = math.isfinite(measured)
    else:
        holds = measured == 0 or math.log10(measured) <= log10_bound + 1e-9
        notes.append(f"K = beta T e^(alpha T) = 10^{consts['log10_K_tied']:.4g}")
    bound = 10**log10_bound if log10_bound < 308 else None
    return Verdict(measured, bound, holds, log10_bound if math.isfinite(log10_bound) else None,
                   notes=notes, extra=extra, rate=_rate(m, "values", st))


def _prop2(st: Statement, c: Config, m: Measurement) -> Verdict:
    from theory.euler import prop2_constants

    i = m.inputs
    consts = prop2_constants(c.activation, q=c.q, m=c.m, sup_V=i["sup_V"], sup_W=i["sup_W"],
                             lip_V=i["lip_V"], lip_W=i["lip_W"], norm_A=i["norm_A"],
                             norm_B=i["norm_B"], M_X=i["M_X"])
    bound = consts["C"] / c.L
    rate = rate_fit(m.series["L"], [[g] for g in m.series["gap"]], st.rate_window)
    return Verdict(m.values["gap"], _finite(bound), _leq(m.values["gap"], bound, c),
                   notes=[f"C = {consts['C']:.4g} (the paper's chain (35): "
                          f"{consts['C_paper']:.4g}); L x gap = {m.values['L_times_gap']:.4g}"],
                   extra={"C": consts["C"], "C_paper": consts["C_paper"]}, rate=rate)


def _thm4(st: Statement, c: Config, m: Measurement) -> Verdict:
    rate = _rate(m, "z_sup", st)
    extra = {k: v for k, v in m.values.items() if k.startswith(("richardson", "deepest"))}
    for name in ("z_l2", "h_sup", "out_sup"):
        extra[f"rate_{name}"] = _rate(m, name, st).to_dict()
    return Verdict(rate.slope, None, bool(rate.meets), extra=extra, rate=rate,
                   notes=["measured: slope of log sup_{s,t} ||Z^L(s,t) - Z(s,t)|| against "
                          "log L (the limit Z solved on an s-grid)"])


def _prop5(st: Statement, c: Config, m: Measurement) -> Verdict:
    from theory import pl

    local = pl.local_constants(c)
    mu = None if local is None else local["mu"]
    measured = m.values["pl_min"]
    holds = mu is not None and measured >= mu * (1 - tolerance.RTOL[c.dtype])
    notes = [] if mu is None else [f"mu_emp / mu = {measured / mu:.4g}"]
    return Verdict(measured, mu, holds, notes=notes + m.notes,
                   extra={k: v for k, v in m.values.items() if k != "pl_min"})


def _thm6_decay(st: Statement, c: Config, m: Measurement) -> Verdict:
    from theory.long_time import decay_bound

    t, loss = m.series["t"], m.series["loss"]
    l0 = loss[0]  # the ratio is 1 at t = 0 by construction: compare at t > 0
    measured = max(lt / decay_bound(tt, l0, c.n, c.q, c.activation, c.r)
                   for tt, lt in zip(t[1:], loss[1:], strict=True))
    from theory import pl

    local = pl.local_constants(c)
    notes = [f"empirical decay rate {m.values['empirical_rate']:.4g}"
             + ("" if local is None else f" against the guaranteed mu = {local['mu']:.4g}")]
    return Verdict(measured, 1.0, _leq(measured, 1.0, c), notes=notes,
                   extra={"empirical_rate": m.values["empirical_rate"],
                          "max_dist": m.values["max_dist"],
                          "M": None if local is None else local["M"]})


def _thm6_interpolation(st: Statement, c: Config, m: Measurement) -> Verdict:
    from theory.long_time import decay_bound

    # ||F(x_i) - y_i||^2 <= n l(T) <= n exp(-mu T) l(0)   (eq. 10)
    bound = math.sqrt(c.n * decay_bound(c.T, m.values["l0"], c.n, c.q, c.activation, c.r))
    return Verdict(m.values["max_residual"], bound, _leq(m.values["max_residual"], bound, c),
                   notes=[f"l(T) = {m.values['l_T']:.4g} at T = {c.T}"])


def _lemma18(st: Statement, c: Config, m: Measurement) -> Verdict:
    worst = max(m.values.values())
    return Verdict(worst, 0.0, _leq(worst, 0.0, c), extra=dict(m.values),
                   notes=["measured: the largest relative violation (rhs - lhs) / max(|lhs|, "
                          f"|rhs|) over {m.inputs['trials']:g} drawn triples (<= 0 holds)"])


def _lemma20(st: Statement, c: Config, m: Measurement) -> Verdict:
    from theory.lemmas import lemma20_bound

    v = m.values
    bound = float(lemma20_bound(c.q, c.m, c.M_W))
    holds = tolerance.leq(v["exact_tail"], bound, "mpmath") and v["mc_lo"] <= bound
    return Verdict(v["exact_tail"], bound, holds,
                   notes=[f"Monte Carlo: {v['mc_freq']:.4g} in [{v['mc_lo']:.3g}, "
                          f"{v['mc_hi']:.3g}] (95% Clopper-Pearson, {m.inputs['trials']:g} draws)"],
                   extra=dict(v))


def _lemma21(st: Statement, c: Config, m: Measurement) -> Verdict:
    from theory.lemmas import lemma21_delta

    v = m.values
    r = int(m.inputs["r"])
    delta = float(lemma21_delta(c.activation, r, c.m, c.n, c.d))
    holds = v["fail_lo"] <= delta
    notes = [f"failure frequency {v['fail_freq']:.4g} in [{v['fail_lo']:.3g}, "
             f"{v['fail_hi']:.3g}] (95% Clopper-Pearson, {m.inputs['trials']:g} draws); "
             f"min smin / threshold = {v['min_ratio']:.4g}"]
    if delta >= 1:
        notes.append("vacuous: delta >= 1")
    return Verdict(v["fail_freq"], delta, holds, notes=notes, extra=dict(v))


def _hermite(st: Statement, c: Config, m: Measurement) -> Verdict:
    g = [m.values[f"bessel_gap_{R}"] for R in (7, 15, 31)]
    tol = tolerance.RTOL["float64"]
    bessel = all(x >= -tol for x in g)
    decreasing = g[2] <= g[1] + tol and g[1] <= g[0] + tol
    return Verdict(g[2], None, bessel and decreasing, extra={"bessel_gaps": g,
                                                             "eta": m.series["eta"]},
                   notes=["measured: (E[sigma^2] - sum_{r<=31} eta_r^2) / E[sigma^2]; holds: "
                          "Bessel's inequality at R = 7, 15, 31 and a shrinking tail"])


def _appd(st: Statement, c: Config, m: Measurement) -> Verdict:
    v = m.values
    path = m.series["w_even"]
    # w(t) moves monotonically toward w*, from below unless w(0) = 1/(2L) > w* (small C^{1/L})
    sign = 1.0 if path[0] <= v["w_star"] else -1.0
    monotone = all(sign * (b - a) >= 0 for a, b in zip(path, path[1:], strict=False)) \
        and sign * (path[-1] - v["w_star"]) <= tolerance.RTOL["float64"] * abs(v["w_star"])
    holds = v["odd_max_move"] == 0.0 and v["even_spread"] <= 1e-12 * max(1.0, abs(v["w_even"])) \
        and monotone
    return Verdict(v["w_error"], None, holds, extra=dict(v),
                   notes=[f"|w(T) - w*| = {v['w_error']:.3g} at T = {c.T}; odd weights moved "
                          f"{v['odd_max_move']:.3g}; even spread {v['even_spread']:.3g}; gap "
                          f"{v['gap']:.4g} -> w* + 1/(2L) = {v['gap_limit']:.4g}"])


def _sec43(st: Statement, c: Config, m: Measurement) -> Verdict:
    conv = _rate(m, "conv", st)
    smooth = _rate(m, "smooth", st)
    return Verdict(conv.slope, None, bool(conv.meets) and bool(smooth.meets), rate=conv,
                   extra={"rate_smooth_init": smooth.to_dict()},
                   notes=[f"convolutional residual slope {conv.slope:.3g}, smooth-init model (3) "
                          f"slope {smooth.slope:.3g}"])


def _table1(st: Statement, c: Config, m: Measurement) -> Verdict:
    v = m.values
    tied = (v["tied_relative_1"] + v["tied_relative_2"]) / 2
    iid = (v["iid_relative_1"] + v["iid_relative_2"]) / 2
    ratio = tied / iid if iid > 0 else math.inf
    return Verdict(ratio, 1.0, ratio < 1.0, extra=dict(v),
                   notes=[f"relative smoothness mean_k ||conv_(k+1) - conv_k|| / mean_k ||conv_k||"
                          f": tied {tied:.3g}, iid {iid:.3g}; test accuracy tied "
                          f"{v['tied_test_acc']:.3f}, iid {v['iid_test_acc']:.3f}"] + m.notes)


CHECKS: dict[str, Callable[[Statement, Config, Measurement], Verdict]] = {
    "prop1.wellposed": _prop1,
    "prop2.euler": _prop2,
    "prop3.bounded": _prop3_bounded,
    "prop3.successive": _prop3_successive,
    "thm4.limit": _thm4,
    "prop5.pl": _prop5,
    "thm6.decay": _thm6_decay,
    "thm6.interpolation": _thm6_interpolation,
    "lemma18.linalg": _lemma18,
    "lemma20.gaussian_norm": _lemma20,
    "lemma21.smin": _lemma21,
    "hermite.coefficients": _hermite,
    "appD.relu": _appd,
    "sec43.general": _sec43,
    "table1.realdata": _table1,
}
assert set(CHECKS) == set(catalog), "every catalog statement needs a check"


def run_check(statement_id: str, config: Config) -> CheckResult:
    """Measure ``statement_id`` for ``config`` and compare with its bound."""
    st = catalog[statement_id]
    resolve(config.device, config.dtype)  # CUDA asked for but absent: rejected before any work
    failed = st.assumptions(config)
    m = measure(st.id, config)
    notes: list[str] = []
    try:
        verdict = CHECKS[st.id](st, config, m)
    except ConfigError as exc:  # the bound is undefined here (e.g. K' for a non-C^2 sigma)
        if not failed:
            raise
        verdict = Verdict(None, None, False, notes=[f"bound undefined: {exc}"])
    notes += verdict.notes
    log10_b = verdict.log10_bound
    if log10_b is None and verdict.bound is not None and verdict.bound > 0:
        log10_b = math.log10(verdict.bound)
    slack = None
    if log10_b is not None and verdict.measured is not None and verdict.measured > 0 \
            and math.isfinite(log10_b):
        slack = log10_b - math.log10(verdict.measured)
        slack = slack if st.relation == "<=" else -slack
    elif verdict.bound is not None and verdict.measured is not None:
        slack = slack_log10(verdict.bound, verdict.measured, st.relation)
    extra = {"values": m.values, "inputs": m.inputs, "series": m.series, **verdict.extra}
    if log10_b is not None:
        extra["log10_bound"] = log10_b
    if verdict.rate is not None:
        extra["rate"] = verdict.rate.to_dict()
        if verdict.rate.null_seeds:
            notes.append(f"{verdict.rate.null_seeds} of {verdict.rate.seeds} seeds have a gap "
                         "identically 0 at every depth (the bound holds trivially; left out of "
                         "the slope)")
    if not failed and verdict.bound is not None and tolerance.fragile(
            verdict.measured or 0.0, verdict.bound) and config.dtype == "float32":
        notes.append("fragile: the verdict is within float32 rounding of flipping")
    return CheckResult(
        id=st.id, paper_ref=st.paper_ref, claim=st.claim, config=config.to_dict(),
        applicable=not failed, failed_assumptions=failed,
        bound=_finite(verdict.bound), measured=_finite(verdict.measured),
        holds=verdict.holds if not failed else None, slack_log10=_finite(slack),
        rate_slope=None if verdict.rate is None else _finite(verdict.rate.slope),
        notes="; ".join(notes), extra=extra)
