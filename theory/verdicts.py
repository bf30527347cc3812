"""The one verdict classifier: a check's class decided from declared facts (THEORY.md §3).

Every applicable check gets exactly one class (results.json schema 2, DESIGN.md "Contract"):

- ``"holds"``: informative; the measurement could have violated the bound here, and did not;
- ``"vacuous"``: not violated, but could not have been here (the rule that fired is named);
- ``"violated"``;
- ``"n/a"``: an assumption of the statement fails (named; decided before any fact is looked at).

Per-statement check functions (:mod:`numerics.checks`) never decide a verdict: they declare
:class:`Facts` (what was measured, against what bound, what the measured quantity can reach
anyway, whether the experiment had power) and :func:`classify` applies the rules below in order.

1. failed assumptions -> ``n/a``;
2. ``powered`` is False (e.g. a training that did not reach its declared level) -> ``vacuous``,
   "underpowered: <why>";
3. a rate (``rate`` given): every seed identically 0 -> ``vacuous``; fewer than
   :data:`MIN_SEEDS` non-null seeds or :data:`MIN_POINTS` grid points -> ``vacuous``
   (underpowered: 3 seeds give only 10 distinct bootstrap resamples); slope or interval undefined
   -> ``violated``; the point estimate in ``window`` and the interval within ``wide_window`` ->
   ``holds``, else ``violated``;
4. otherwise a comparison ``measured <relation> bound`` (in log10 where the bound is past the float
   range; rounding tolerance of :mod:`theory.tolerance` only): not finite or false -> ``violated``;
5. true, but the bound cannot bind: it is non-finite or past the float range; a probability bound
   >= 1; a "<=" bound at or above ``a_priori`` (an upper bound of the measured quantity that needs
   no theorem, e.g. ||Z_{k+1} - Z_k|| <= ||Z_{k+1}|| + ||Z_k||), or a ">=" bound at or below it (a
   lower bound that needs no theorem, e.g. G/l >= 0) -> ``vacuous``;
6. else ``holds``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Literal

from theory import tolerance

if TYPE_CHECKING:
    from numerics.rates import RateFit

Class = Literal["holds", "vacuous", "violated", "n/a"]
CLASSES: tuple[Class, ...] = ("holds", "vacuous", "violated", "n/a")
MIN_SEEDS, MIN_POINTS = 5, 4
FLOAT_MAX_LOG10 = math.log10(1.7976931348623157e308)


@dataclasses.dataclass(frozen=True)
class Facts:
    """What a check declares; :func:`classify` decides from these alone.

    ``measured`` and ``bound`` (or ``log10_bound`` where the bound is past the float range) are
    compared by ``relation``; ``probability`` marks a probability bound (>= 1 is vacuous);
    ``a_priori`` is what the measured quantity reaches anyway with ``a_priori_reason`` saying why;
    ``rate`` replaces the comparison by a rate check; ``powered=False`` with ``power_reason`` marks
    an experiment that could not have shown anything.
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
    """A class and the rule that decided it, in words."""

    cls: Class
    rule: str

    @property
    def holds(self) -> bool | None:
        """``results.json``'s ``holds``: True unless violated, None where not applicable."""
        return None if self.cls == "n/a" else self.cls != "violated"


def classify(facts: Facts, failed_assumptions: list[str] | tuple[str, ...] = ()) -> Verdict:
    """The class of a check from its facts (rules 1-6 of the module docstring)."""
    if failed_assumptions:
        return Verdict("n/a", "assumptions failed: " + ", ".join(failed_assumptions))
    if not facts.powered:
        return Verdict("vacuous", "underpowered: " + (facts.power_reason or "no power"))
    if facts.rate is not None:
        return _classify_rate(facts.rate)
    return _classify_comparison(facts)


def _classify_rate(rate: RateFit) -> Verdict:
    if rate.seeds and rate.null_seeds == rate.seeds:
        return Verdict("vacuous", "every seed identically 0 at every depth (any C/L bound holds)")
    if rate.window is None:
        raise ValueError("a rate check needs a window")
    seeds, points = rate.seeds - rate.null_seeds, len(rate.depths)
    if seeds < MIN_SEEDS or points < MIN_POINTS:
        return Verdict("vacuous", f"underpowered: {seeds} seeds and {points} grid points "
                                  f"(a rate needs >= {MIN_SEEDS} and >= {MIN_POINTS})")
    lo, hi = rate.window
    wlo, whi = rate.wide_window or rate.window
    s, (ilo, ihi) = rate.slope, rate.interval
    if not (math.isfinite(s) and math.isfinite(ilo) and math.isfinite(ihi)):
        return Verdict("violated", "slope or interval undefined (a mean is not positive at "
                                   "some grid point)")
    if not lo <= s <= hi:
        return Verdict("violated", f"slope {s:.3g} outside [{lo:g}, {hi:g}]")
    if not (wlo <= ilo and ihi <= whi):
        return Verdict("violated", f"slope {s:.3g} in [{lo:g}, {hi:g}] but its interval "
                                   f"[{ilo:.3g}, {ihi:.3g}] not within [{wlo:g}, {whi:g}]")
    return Verdict("holds", f"slope {s:.3g} in [{lo:g}, {hi:g}], interval [{ilo:.3g}, {ihi:.3g}] "
                            f"within [{wlo:g}, {whi:g}]")


def _compare(facts: Facts) -> bool:
    """``measured <relation> bound`` up to rounding, in log10 past the float range."""
    m = facts.measured
    assert m is not None
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
    if not _compare(facts):
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
