"""The verdict classifier (theory.verdicts): each rule on facts whose class is known by hand."""

from __future__ import annotations

import math

import pytest

from numerics.rates import RateFit
from theory.verdicts import Control, Facts, classify, with_control

GRID = (8.0, 16.0, 32.0, 64.0)


def _rate(slope: float, interval: tuple[float, float], seeds: int = 5, null: int = 0,
          grid: tuple[float, ...] = GRID, window: tuple[float, float] = (-math.inf, -0.8)
          ) -> RateFit:
    return RateFit(grid, slope, interval, window, seeds, null)


@pytest.mark.parametrize(("facts", "cls", "rule"), [
    (Facts(0.5, 1.0), "holds", "could have been violated"),
    (Facts(1.0 + 1e-13, 1.0), "holds", "could have been violated"),  # rounding only
    (Facts(1.01, 1.0), "violated", "> bound"),
    (Facts(math.nan, 1.0), "violated", "not finite"),
    (Facts(None, 1.0), "violated", "not finite"),
    (Facts(0.3, None, math.inf), "vacuous", "float range"),
    (Facts(0.3, None, 400.0), "vacuous", "10^400"),
    (Facts(0.3, 1e300, 300.0), "holds", "could have been violated"),
    (Facts(0.3, 2.0, probability=True), "vacuous", "probability bound >= 1"),
    (Facts(0.3, 0.9, probability=True), "holds", "could have been violated"),
    (Facts(0.3, 5.0, a_priori=4.0, a_priori_reason="2 max ||Z_k||"), "vacuous",
     "a-priori bound 4 (2 max ||Z_k||)"),
    (Facts(0.3, 3.0, a_priori=4.0), "holds", "could have been violated"),
    (Facts(0.3, 1e-3, relation=">=", a_priori=0.0), "holds", "could have been violated"),
    (Facts(0.3, 0.0, relation=">=", a_priori=0.0), "vacuous", "a-priori bound 0"),
    (Facts(1e-4, 1e-3, relation=">="), "violated", "< bound"),
    (Facts(0.3, 1.0, powered=False, power_reason="did not train"), "vacuous",
     "underpowered: did not train"),
])
def test_comparison_rules(facts: Facts, cls: str, rule: str) -> None:
    verdict = classify(facts)
    assert verdict.cls == cls and rule in verdict.rule
    assert verdict.holds is (cls != "violated")


def test_failed_assumptions_come_first() -> None:
    verdict = classify(Facts(99.0, 1.0), ["m >= c1*n"])
    assert (verdict.cls, verdict.holds) == ("n/a", None) and "m >= c1*n" in verdict.rule


@pytest.mark.parametrize(("rate", "cls", "rule"), [
    (_rate(-1.0, (-1.1, -0.9)), "holds", "within <= -0.8"),
    (_rate(-1.3, (-1.4, -1.2)), "holds", "within"),          # faster than 1/L: one-sided, holds
    (_rate(-1.0, (-1.6, -0.7)), "inconclusive", "across the edge -0.8"),
    (_rate(-0.5, (-0.6, -0.4)), "violated", "outside <= -0.8"),
    (_rate(-0.79, (-0.85, -0.7)), "inconclusive", "across"),  # a point outside is not enough
    (_rate(0.0, (-0.1, 0.1), window=(-0.2, 0.2)), "holds", "within [-0.2, 0.2]"),
    (_rate(0.3, (0.25, 0.35), window=(-0.2, 0.2)), "violated", "outside [-0.2, 0.2]"),
    (_rate(1.0, (0.9, 1.1), window=(0.8, math.inf)), "holds", "within >= 0.8"),
    (_rate(math.nan, (math.nan, math.nan)), "inconclusive", "undefined"),
    (_rate(-1.0, (math.nan, math.nan)), "inconclusive", "undefined"),
    (_rate(math.nan, (math.nan, math.nan), seeds=5, null=5), "vacuous", "identically 0"),
    (_rate(-1.0, (-1.1, -0.9), seeds=4), "vacuous", "underpowered: 4 seeds"),
    (_rate(-1.0, (-1.1, -0.9), seeds=6, null=2), "vacuous", "underpowered: 4 seeds"),
    (_rate(-1.0, (-1.1, -0.9), grid=GRID[:3]), "vacuous", "3 grid points"),
])
def test_rate_rules(rate: RateFit, cls: str, rule: str) -> None:
    verdict = classify(Facts(rate.slope, rate=rate))
    assert verdict.cls == cls and rule in verdict.rule


def test_violated_and_holds_need_the_same_evidence() -> None:
    """Symmetric significance: mirroring the interval about the edge swaps holds and violated,
    and an interval across the edge is inconclusive whichever side its centre is on."""
    edge = -0.8
    for half in (0.05, 0.2):
        for centre in (-1.0, -0.6, -0.85, -0.75):
            inside = classify(Facts(centre, rate=_rate(centre, (centre - half, centre + half))))
            mirror = 2 * edge - centre
            outside = classify(Facts(mirror, rate=_rate(mirror, (mirror - half, mirror + half))))
            expected = {"holds": "violated", "violated": "holds",
                        "inconclusive": "inconclusive"}[inside.cls]
            assert outside.cls == expected, (centre, half, inside, outside)


def test_an_inconclusive_rate_names_the_seeds_that_would_decide_it() -> None:
    per_seed = (-1.1, -0.5, -0.9, -0.7, -0.8)  # mean -0.8 +- 0.05: straddles the edge
    fit = RateFit(GRID, -0.8 - 0.05, (-1.2, -0.5), (-math.inf, -0.8), 5, per_seed=per_seed)
    verdict = classify(Facts(fit.slope, rate=fit))
    assert verdict.cls == "inconclusive" and "seeds would decide it" in verdict.rule


@pytest.mark.parametrize(("interval", "cls"), [
    ((0.2, 0.9), "holds"), ((0.5, 1.3), "inconclusive"), ((1.1, 2.0), "violated"),
    ((0.2, math.inf), "inconclusive"), ((1.5, math.inf), "violated"),
    ((math.nan, 0.5), "inconclusive")])
def test_a_measurement_with_an_interval_is_decided_symmetrically(
        interval: tuple[float, float], cls: str) -> None:
    measured = min(x for x in interval if math.isfinite(x))  # a finite estimate inside
    verdict = classify(Facts(measured, 1.0, interval=interval))
    assert verdict.cls == cls


def test_beyond_scope_never_violates_and_has_its_own_words() -> None:
    bad = classify(Facts(2.0, 1.0), scope="beyond")
    assert (bad.cls, bad.scope, bad.holds) == ("fails", "beyond", None)
    assert bad.outcome == "conclusion fails beyond the assumptions"
    good = classify(Facts(0.5, 1.0), scope="beyond")
    assert (good.cls, good.holds) == ("holds", None) and "holds beyond" in good.outcome
    assert classify(Facts(2.0, 1.0)).cls == "violated"


def test_a_control_that_passes_leaves_the_check_vacuous() -> None:
    held = classify(Facts(0.5, 1.0))
    passed = Control({"init": "iid"}, "i.i.d. initialization", "holds", "measured 0.4 <= bound")
    failed = Control({"init": "iid"}, "i.i.d. initialization", "violated", "measured 3 > bound")
    assert with_control(held, passed).cls == "vacuous"
    assert "no power" in with_control(held, passed).rule
    assert with_control(held, failed).cls == "holds"
    undecided = Control({"init": "iid"}, "i.i.d. initialization", "inconclusive", "across")
    assert with_control(held, undecided).cls == "inconclusive"
    assert "no negative control" in with_control(held, None).rule
    assert with_control(classify(Facts(2.0, 1.0)), passed).cls == "violated"


def test_a_rate_without_a_window_is_a_programming_error() -> None:
    bare = RateFit(GRID, -1.0, (-1.1, -0.9), None, 5)
    with pytest.raises(ValueError, match="window"):
        classify(Facts(-1.0, rate=bare))
