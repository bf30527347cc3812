"""The check runner: a statement's measurement against its bound, classified.

``run_check(id, config)`` is what ``resnet-ode check``, the property tests and the report all call:
it evaluates the statement's assumptions, refuses a configuration that cannot fit in memory
(:func:`guard_resources`), measures (the statement's ``measure``), declares the facts (its
``facts``: :class:`numerics.evidence.Evidence`) and returns a :class:`theory.catalog.CheckResult`;
where the check holds it measures the statement's negative control too (:func:`_control`).  Each
statement's ``measure`` and ``facts`` live in its family's module under numerics/, bound to the
catalog entry when the module is imported (:func:`theory.catalog.bind`): this module imports them
all.  Facts never decide a verdict: :func:`theory.verdicts.classify` alone decides holds /
vacuous / violated / n/a.  Where an assumption fails the check is "not applicable" and names it,
but the measurement and (where it can be evaluated) the bound are still reported.  Bounds beyond
the float range are carried in log10 (``extra["log10_bound"]``) and reported as ``bound = None``.
Rates are fitted with an interval over ``config.seeds`` (:mod:`numerics.rates`), under
``extra["rate"]``.
"""

from __future__ import annotations

import math

from numerics import (  # noqa: F401  each binds its statements (theory.catalog.bind)
    appd,
    euler,
    finite_time,
    hermite,
    lemma18,
    lemma20,
    lemma21,
    optimizers,
    pl,
    prop1,
    prop8,
    recurrences,
    sec43,
    table1,
    thm4,
    thm6,
    thm6_limits,
)
from numerics.device import cpu_threads, resolve
from numerics.evidence import Evidence, finite_or_none
from numerics.measure import Measurement
from numerics.tracking import Tracking, flow_tracking
from theory import tolerance
from theory.catalog import CheckResult, Statement, catalog
from theory.config import Config
from theory.errors import ConfigError
from theory.verdicts import Control, Facts, classify, region_text, with_control

assert all(st.measure and st.facts for st in catalog.values()), \
    "every catalog statement needs a measurement and facts (theory.catalog.bind)"


def measure(statement_id: str, config: Config) -> Measurement:
    """The measurement of ``statement_id`` (a catalog id) for ``config``: its statement's bound
    ``measure``."""
    st = catalog[statement_id]
    if st.measure is None:
        raise ConfigError("statement", st.id, "no measurement bound (theory.catalog.bind)")
    m = st.measure(config)
    m.id = st.id
    return m


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
    if st.trains:
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
        bound=finite_or_none(facts.bound) if facts.rate is None else None,
        measured=finite_or_none(facts.measured), holds=verdict.holds,
        slack_log10=finite_or_none(slack),
        rate_slope=None if rate is None else finite_or_none(rate.slope),
        notes="; ".join(notes), extra=extra, verdict=verdict.cls, verdict_rule=verdict.rule,
        scope=scope,
        failed_requirements=failed if scope == "beyond" else [],
        control=None if ctrl is None else ctrl.to_dict())


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
        assert st.facts is not None  # bound with the measurement
        return st.facts(st, config, m), m
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
                   finite_or_none(evidence.facts.measured))
