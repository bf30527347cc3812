"""The one verdict classifier: a check's class decided from declared facts (docs/verdicts.md).

Every check has a *scope* (results.json schema 3):

- ``"paper"``: the statement under its own assumptions (explicit or empirical constants).  Its
  classes are ``"holds"`` (informative: the measurement could have violated it here and its
  negative control does), ``"vacuous"`` (not violated, but could not have been: the rule that
  fired is named), ``"violated"``, ``"inconclusive"`` (the evidence decides neither way: an
  interval across the edge of the acceptable region) and ``"n/a"`` (an assumption fails, named;
  decided before any fact is looked at).
- ``"beyond"``: the statement's *conclusion* tested where one of its assumptions fails or is
  replaced by a measured one (other widths, measured preconditions, other optimizers).  It answers
  a question, never checks the theorem: its classes are ``"holds"`` (the conclusion holds beyond
  the assumptions), ``"fails"`` (the conclusion fails there, which does not contradict the paper),
  ``"inconclusive"``, ``"vacuous"`` and ``"n/a"`` (the experiment's own requirements fail).
  A beyond-check is never ``"violated"``, never a finding against the paper and never changes the
  exit status.

A statement's facts function (its ``facts``, in its family module under numerics/) never decides
a verdict: it declares :class:`Facts` (what was measured, with its interval where it is an
estimate over random draws, against what bound, what the measured quantity reaches anyway,
whether the experiment had power) and :func:`classify` applies the rules below in order.

1. failed requirements -> ``n/a`` (for a paper-scope check: the statement's assumptions);
2. ``powered`` is False (e.g. a training that did not reach its declared level) -> ``vacuous``,
   "underpowered: <why>";
3. a rate (``rate`` given): every seed identically 0 -> ``vacuous``; fewer than
   :data:`MIN_SEEDS` non-null seeds or :data:`MIN_POINTS` grid points -> ``vacuous``
   (underpowered); slope or interval undefined -> ``inconclusive``; then the *symmetric* rule
   on the fitted exponent's 95 % interval against the statement's acceptable region (one-sided
   for an O(.) bound, two-sided for a claimed exponent): inside -> ``holds``, disjoint ->
   ``violated``, across an edge -> ``inconclusive`` (with the seeds that would decide it,
   :meth:`numerics.rates.RateFit.seeds_to_decide`);
4. otherwise a comparison ``measured <relation> bound`` (in log10 where the bound is past the float
   range; rounding tolerance of :mod:`theory.tolerance` only).  Where the measurement is an
   estimate over random draws it carries a 95 % ``interval``, and the same symmetric rule
   applies to it: on the bound's side -> rule 5, on the other -> ``violated``, across ->
   ``inconclusive``.
   A deterministic measurement (an exact tail, a fixed-seed run) is compared as a point: not
   finite or false -> ``violated``;
5. true, but the bound cannot bind: it is non-finite or past the float range; a probability bound
   >= 1; a "<=" bound at or above ``a_priori`` (an upper bound of the measured quantity that needs
   no theorem, e.g. ||Z_{k+1} - Z_k|| <= ||Z_{k+1}|| + ||Z_k||), or a ">=" bound at or below it (a
   lower bound that needs no theorem, e.g. G/l >= 0) -> ``vacuous``;
6. else ``holds``; a ``holds`` whose negative control (:class:`Control`: the same measurement
   where the claim should fail) also holds had no power -> ``vacuous``; one whose control is
   neither held nor failed (inconclusive, vacuous, n/a) has not shown its power ->
   ``inconclusive``.

For a beyond-check, ``violated`` reads ``fails``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Literal

from theory import tolerance

if TYPE_CHECKING:
    from numerics.rates import RateFit

Class = Literal["holds", "vacuous", "violated", "inconclusive", "fails", "n/a"]
CLASSES: tuple[Class, ...] = ("holds", "vacuous", "violated", "inconclusive", "fails", "n/a")
Scope = Literal["paper", "beyond"]
SCOPES: tuple[Scope, ...] = ("paper", "beyond")
MIN_SEEDS, MIN_POINTS = 5, 4
"""A rate needs >= 5 non-null seeds (a t interval on 4 degrees of freedom: t_0.975 = 2.78; with
3 seeds it is 4.30 and the interval is too wide to decide anything) and >= 4 grid points (two
points always lie on a line: a slope's spread needs at least two residual degrees of freedom)."""
FLOAT_MAX_LOG10 = math.log10(1.7976931348623157e308)


@dataclasses.dataclass(frozen=True)
class Facts:
    """What a check declares; :func:`classify` decides from these alone.

    ``measured`` and ``bound`` (or ``log10_bound`` where the bound is past the float range) are
    compared by ``relation``; ``interval`` is the interval of ``measured`` (coverage
    ``confidence``) where it is an estimate over random draws (None: a deterministic
    measurement); ``probability`` marks a
    probability bound (>= 1 is vacuous); ``a_priori`` is what the measured quantity reaches anyway
    with ``a_priori_reason`` saying why; ``rate`` replaces the comparison by a rate check;
    ``powered=False`` with ``power_reason`` marks an experiment that could not have shown
    anything.
    """

    measured: float | None
    bound: float | None = None
    log10_bound: float | None = None
    relation: Literal["<=", ">="] = "<="
    probability: bool = False
    a_priori: float | None = None
    a_priori_reason: str = ""
    rate: RateFit | None = None
    powered: bool = True
    power_reason: str = ""
    dtype: str = "float64"
    interval: tuple[float, float] | None = None
    confidence: float = 0.95

    def log10_of_bound(self) -> float | None:
        """log10 of the bound (``log10_bound`` if given), None without a positive bound."""
        if self.log10_bound is not None:
            return self.log10_bound
        if self.bound is None or math.isnan(self.bound):
            return None
        if self.bound == math.inf:
            return math.inf
        return math.log10(self.bound) if self.bound > 0 else None


@dataclasses.dataclass(frozen=True)
class Verdict:
    """A class, the rule that decided it (in words) and the check's scope."""

    cls: Class
    rule: str
    scope: Scope = "paper"

    @property
    def holds(self) -> bool | None:
        """``results.json``'s ``holds``, a statement of the paper's: True unless violated, None
        where not applicable, inconclusive, or for a beyond-check (which tests no statement)."""
        if self.scope == "beyond" or self.cls in ("n/a", "inconclusive"):
            return None
        return self.cls != "violated"

    @property
    def outcome(self) -> str:
        """The verdict in words: a paper-scope class, or a beyond-check's answer."""
        if self.scope == "paper":
            return {"n/a": "not applicable"}.get(self.cls, self.cls)
        return {"holds": "conclusion holds beyond the assumptions",
                "fails": "conclusion fails beyond the assumptions",
                "inconclusive": "inconclusive beyond the assumptions",
                "vacuous": "vacuous beyond the assumptions",
                "n/a": "not applicable"}[self.cls]


@dataclasses.dataclass(frozen=True)
class Control:
    """A negative control's outcome: the same measurement in ``config`` (a dict of Config fields)
    where the claim should fail (``why``), and the class it got there."""

    config: dict[str, object]
    why: str
    verdict: Class
    rule: str
    measured: float | None = None

    @property
    def failed(self) -> bool:
        """The control did what it must: it did not hold."""
        return self.verdict in ("violated", "fails")

    def to_dict(self) -> dict[str, object]:
        return {**dataclasses.asdict(self), "failed": self.failed}


def classify(facts: Facts, failed: list[str] | tuple[str, ...] = (), *,
             scope: Scope = "paper") -> Verdict:
    """The class of a check from its facts (rules 1-5 of the module docstring); ``failed`` are
    the requirements that fail (the statement's assumptions for a paper-scope check, the
    experiment's own for a beyond-check)."""
    verdict = _classify(facts, failed)
    if scope == "beyond" and verdict.cls == "violated":
        verdict = Verdict("fails", verdict.rule)
    return dataclasses.replace(verdict, scope=scope)


def with_control(verdict: Verdict, control: Control | None) -> Verdict:
    """Rule 6: a ``holds`` whose negative control holds too had no power (``vacuous``), one whose
    control did not fail either has not shown it (``inconclusive``); a ``holds`` without a
    control stays, its rule saying so."""
    if verdict.cls != "holds":
        return verdict
    if control is None:
        return dataclasses.replace(verdict, rule=verdict.rule + "; no negative control")
    if control.verdict == "holds":
        return dataclasses.replace(verdict, cls="vacuous", rule=(
            f"no power: its negative control ({control.why}) holds too ({control.rule})"))
    if not control.failed:
        return dataclasses.replace(verdict, cls="inconclusive", rule=(
            f"{verdict.rule}, but its power is not shown: the negative control ({control.why}) "
            f"is {control.verdict} ({control.rule})"))
    return dataclasses.replace(verdict, rule=verdict.rule + f"; negative control ({control.why})"
                                                            f" {control.verdict}")


def _classify(facts: Facts, failed: list[str] | tuple[str, ...]) -> Verdict:
    if failed:
        return Verdict("n/a", "assumptions failed: " + ", ".join(failed))
    if not facts.powered:
        return Verdict("vacuous", "underpowered: " + (facts.power_reason or "no power"))
    if facts.rate is not None:
        return _classify_rate(facts.rate)
    return _classify_comparison(facts)


def region_text(region: tuple[float, float]) -> str:
    """``[lo, hi]``, or the one-sided ``<= hi`` / ``>= lo``."""
    lo, hi = region
    if lo == -math.inf:
        return f"<= {hi:g}"
    if hi == math.inf:
        return f">= {lo:g}"
    return f"[{lo:g}, {hi:g}]"


def side(interval: tuple[float, float], region: tuple[float, float]) -> str:
    """``"inside"`` (the interval within the closed region), ``"outside"`` (within the closure
    of its complement: the mirror image of inside, so that both need the same evidence) or
    ``"across"``."""
    (ilo, ihi), (lo, hi) = interval, region
    if lo <= ilo and ihi <= hi:
        return "inside"
    if ihi <= lo or ilo >= hi:
        return "outside"
    return "across"


def _classify_rate(rate: RateFit) -> Verdict:
    if rate.seeds and rate.null_seeds == rate.seeds:
        return Verdict("vacuous", "every seed identically 0 at every depth (any C/L bound holds)")
    if rate.window is None:
        raise ValueError("a rate check needs a window (its acceptable region)")
    seeds, points = rate.seeds - rate.null_seeds, len(rate.depths)
    if seeds < MIN_SEEDS or points < MIN_POINTS:
        return Verdict("vacuous", f"underpowered: {seeds} seeds and {points} grid points "
                                  f"(a rate needs >= {MIN_SEEDS} and >= {MIN_POINTS})")
    s, (ilo, ihi) = rate.slope, rate.interval
    if not (math.isfinite(s) and math.isfinite(ilo) and math.isfinite(ihi)):
        return Verdict("inconclusive", "slope or interval undefined (a value is not positive at "
                                       "some grid point)")
    region = region_text(rate.window)
    where = side((ilo, ihi), rate.window)
    text = f"slope {s:.3g}, 95% interval [{ilo:.3g}, {ihi:.3g}]"
    if where == "inside":
        return Verdict("holds", f"{text} within {region}")
    if where == "outside":
        return Verdict("violated", f"{text} outside {region}")
    lo, hi = rate.window
    edge = lo if ilo < lo else hi
    need = rate.seeds_to_decide(edge)
    more = "" if need is None else f"; about {need} seeds would decide it"
    return Verdict("inconclusive", f"{text} across the edge {edge:g} of {region}{more}")


def _compare(facts: Facts, m: float) -> bool:
    """``m <relation> bound`` up to rounding, in log10 past the float range (an infinite end of
    an interval is compared as it is: +inf is never <= a finite bound)."""
    if math.isinf(m) and facts.bound is not None and math.isfinite(facts.bound):
        return (m < 0) if facts.relation == "<=" else (m > 0)
    if facts.bound is not None and math.isfinite(facts.bound):
        if facts.relation == "<=":
            return tolerance.leq(m, facts.bound, facts.dtype)
        return tolerance.leq(facts.bound, m, facts.dtype)
    lb = facts.log10_of_bound()
    if lb is None:
        raise ValueError("a comparison needs a bound or its log10")
    if facts.relation == "<=":
        return m <= 0 or lb == math.inf or math.log10(m) <= lb + 1e-9
    return m > 0 and lb != math.inf and math.log10(m) >= lb - 1e-9


def _classify_comparison(facts: Facts) -> Verdict:
    m, rel = facts.measured, facts.relation
    if m is None or math.isnan(m) or math.isinf(m):
        return Verdict("violated", f"measurement not finite ({m})")
    if facts.interval is not None:
        lo, hi = facts.interval
        if math.isnan(lo) or math.isnan(hi):
            return Verdict("inconclusive", f"measured {m:.4g}, interval undefined")
        good = [_compare(facts, x) for x in (lo, hi)]
        shown = (f"measured {m:.4g}, {100 * facts.confidence:.4g}% interval [{lo:.4g}, "
                 f"{hi:.4g}]")
        if not any(good):
            return Verdict("violated", f"{shown} {'>' if rel == '<=' else '<'} bound")
        if not all(good):
            return Verdict("inconclusive", f"{shown} across the bound")
    elif not _compare(facts, m):
        return Verdict("violated", f"measured {m:.4g} {'>' if rel == '<=' else '<'} bound")
    lb = facts.log10_of_bound()
    if rel == "<=" and lb is not None and lb > FLOAT_MAX_LOG10:
        shown = "infinite" if lb == math.inf else f"10^{lb:.4g}"
        return Verdict("vacuous", f"bound past the float range ({shown})")
    if facts.probability and facts.bound is not None and facts.bound >= 1:
        return Verdict("vacuous", f"probability bound >= 1 ({facts.bound:.4g})")
    if facts.a_priori is not None and facts.bound is not None:
        why = f" ({facts.a_priori_reason})" if facts.a_priori_reason else ""
        if rel == "<=" and facts.bound >= facts.a_priori:
            return Verdict("vacuous", f"bound {facts.bound:.4g} >= the a-priori bound "
                                      f"{facts.a_priori:.4g}{why}")
        if rel == ">=" and facts.bound <= facts.a_priori:
            return Verdict("vacuous", f"bound {facts.bound:.4g} <= the a-priori bound "
                                      f"{facts.a_priori:.4g}{why}")
    return Verdict("holds", f"measured {m:.4g} {rel} bound, which could have been violated")
