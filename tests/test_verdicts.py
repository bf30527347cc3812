"""The verdict classifier (theory.verdicts): each rule on facts whose class is known by hand."""

from __future__ import annotations

import math

import pytest

from numerics.rates import RateFit
from theory.verdicts import Facts, classify

GRID = (8.0, 16.0, 32.0, 64.0)


def _rate(slope: float, interval: tuple[float, float], seeds: int = 5, null: int = 0,
          grid: tuple[float, ...] = GRID) -> RateFit:
    return RateFit(grid, slope, interval, (-1.2, -0.8), seeds, null, (-1.5, -0.5))


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
    (_rate(-1.0, (-1.1, -0.9)), "holds", "within"),
    (_rate(-1.0, (-1.6, -0.9)), "violated", "not within"),   # interval too wide
    (_rate(-1.3, (-1.4, -1.2)), "violated", "outside"),       # point outside the window
    (_rate(-0.79, (-0.85, -0.7)), "violated", "outside"),
    (_rate(math.nan, (math.nan, math.nan)), "violated", "undefined"),
    (_rate(-1.0, (math.nan, math.nan)), "violated", "undefined"),
    (_rate(math.nan, (math.nan, math.nan), seeds=5, null=5), "vacuous", "identically 0"),
    (_rate(-1.0, (-1.1, -0.9), seeds=4), "vacuous", "underpowered: 4 seeds"),
    (_rate(-1.0, (-1.1, -0.9), seeds=6, null=2), "vacuous", "underpowered: 4 seeds"),
    (_rate(-1.0, (-1.1, -0.9), grid=GRID[:3]), "vacuous", "3 grid points"),
])
def test_rate_rules(rate: RateFit, cls: str, rule: str) -> None:
    verdict = classify(Facts(rate.slope, rate=rate))
    assert verdict.cls == cls and rule in verdict.rule


def test_a_rate_without_a_window_is_a_programming_error() -> None:
    bare = RateFit(GRID, -1.0, (-1.1, -0.9), None, 5)
    with pytest.raises(ValueError, match="window"):
        classify(Facts(-1.0, rate=bare))
