"""theory.derivations: each symbolic verdict is confirmed numerically, by evaluating the printed
and the derived expressions at random points (mpmath, 40 digits)."""

from __future__ import annotations

import random

import mpmath
import pytest
import sympy as sp

from theory import derivations as D

IDS = [d.id for d in D.derivations()]
EXPECTED_DISAGREE = {"prop5.p_lower", "prop5.pl_radius", "thm6.label_threshold", "appD.gradient"}


def _values(expr_pair, rng):
    """Random values for the free symbols: integers >= 3 for integer symbols, log-uniform
    positive reals in [1e-2, 1e2] otherwise."""
    symbols = set().union(*(e.free_symbols for e in expr_pair))
    return {s: rng.randint(3, 400) if s.is_integer else mpmath.mpf(10) ** rng.uniform(-2, 2)
            for s in sorted(symbols, key=str)}


def _gap(pair, values):
    """|a - b| / max(|a|, |b|) for the pair evaluated at ``values`` (40 digits)."""
    with mpmath.workdps(40):
        a, b = (sp.lambdify(list(values), e, "mpmath")(*values.values()) for e in pair)
        return abs(a - b) / max(abs(a), abs(b))


def _relative_gaps(derivation, points=60):
    rng = random.Random(derivation.id)
    pair = (derivation.printed, derivation.derived)
    symbols = sorted(set().union(*(e.free_symbols for e in pair)), key=str)
    fns = [sp.lambdify(symbols, e, "mpmath") for e in pair]
    gaps = []
    with mpmath.workdps(40):
        for _ in range(points):
            values = list(_values(pair, rng).values())
            a, b = (f(*values) for f in fns)
            gaps.append(abs(a - b) / max(abs(a), abs(b)))
    return gaps


@pytest.mark.parametrize("derivation_id", [i for i in IDS if not D.derivations()[IDS.index(i)]
                                           .under])
def test_verdict_is_confirmed_numerically(derivation_id):
    derivation = D.derivations()[IDS.index(derivation_id)]
    gaps = _relative_gaps(derivation)
    if derivation.verdict == "agrees":
        assert max(gaps) < 1e-25
    else:
        assert max(gaps) > 1e-6


def test_the_disagreements():
    verdicts = {d.id: d.verdict for d in D.derivations()}
    assert {i for i, v in verdicts.items() if v == "disagrees"} == EXPECTED_DISAGREE
    by_id = {d.id: d for d in D.derivations()}
    q, x = sp.Symbol("q", positive=True, integer=True), sp.Symbol("x", positive=True)
    assert sp.simplify(by_id["thm6.label_threshold"].ratio - 1 / q) == 0
    assert sp.simplify(by_id["appD.gradient"].ratio - 1 / x) == 0


def test_side_conditions_resolve_the_radius():
    """Under |eta_r| <= K/sqrt 2 (Stein) the two PL radii coincide; numerically at random K,
    eta <= K/sqrt 2, n, q."""
    d = {d.id: d for d in D.derivations()}["prop5.pl_radius_eta_bound"]
    assert d.verdict == "agrees"
    rng = random.Random(0)
    K, eta = (s for s in d.printed.free_symbols if str(s) in ("K_sigma", "|eta_r|"))
    for _ in range(10):
        values = _values((d.printed, d.derived), rng)
        with mpmath.workdps(40):
            values[eta] = values[K] * mpmath.mpf(rng.uniform(0.001, 1)) / mpmath.sqrt(2)
        assert _gap((d.printed, d.derived), values) <= 1e-25


def test_findings_and_module_attribute():
    found = {f["id"]: f["text"] for f in D.findings()}
    assert EXPECTED_DISAGREE <= set(found)
    assert "q**3" in found["thm6.label_threshold"] and "q**2" in found["thm6.label_threshold"]
    assert D.DERIVATIONS == D.derivations()
    with pytest.raises(AttributeError):
        D.NOT_THERE  # noqa: B018
