"""theory.derivations: each symbolic verdict is confirmed numerically, by evaluating the printed
and the derived expressions at random points (mpmath, 40 digits)."""

from __future__ import annotations

import math
import random

import mpmath
import pytest
import sympy as sp

from theory import derivations as D

IDS = [d.id for d in D.derivations()]
EXPECTED_DISAGREE = {"prop5.p_lower", "prop5.pl_radius", "thm6.label_threshold", "appD.gradient",
                     "remark3.width_free_C", "prop8.i_norms", "prop8.adjoint_chain"}


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


def test_gronwall_extremal_solution_numerically():
    """u(t) = a + b + int_0^t c u solved by fine Euler steps: u(1) -> (a + b) e^c, which is what
    the PDF's p20 prints (the initial gap inside the parenthesis multiplied by the exponential),
    so the derivation agrees and is no finding."""
    d = {d.id: d for d in D.derivations()}["prop8.gronwall_gap"]
    assert d.verdict == "agrees" and d.ratio == 1
    assert "prop8.gronwall_gap" not in {f["id"] for f in D.findings()}
    for a, b, c in ((1.0, 0.5, 2.0), (0.0, 0.5, 2.0)):
        u, N = a + b, 200000
        for _ in range(N):
            u += c * u / N
        values = {s: v for s in d.printed.free_symbols for name, v in
                  (("a", a), ("b", b), ("c", c)) if str(s) == name}
        assert u == pytest.approx(float(d.printed.subs(values)), rel=1e-4)
        assert u == pytest.approx(float(d.derived.subs(values)), rel=1e-4)


def test_every_finding_has_a_kind():
    """Each finding carries one of the report's kinds; the disagreements are errors or
    imprecisions, the side-condition agreements agreements (kinds re-checked on the PDF)."""
    from reports.findings import KINDS

    found = {f["id"]: f["kind"] for f in D.findings()}
    assert set(found.values()) <= set(KINDS)
    assert {found[i] for i in EXPECTED_DISAGREE} <= {"error", "imprecision"}
    assert {i for i, k in found.items() if k == "error"} == {"prop5.p_lower",
                                                              "remark3.width_free_C",
                                                              "prop8.i_norms",
                                                              "figure2.assumptions"}
    for d in D.derivations():
        if d.under and d.verdict == "agrees":
            assert found[d.id] == "agreement"
    assert D.kind("not.classified") == "error"


def test_remark3_threshold_falls_with_width_numerically():
    """The upper bound c3^2 c4^2 / (64 n^4 q^2 M_B^2 K1^2 e^{2 K1}) of C, K1 = K_sigma (sqrt(qm)
    + M)^2 / (4 sqrt(qm)), evaluated in floats: log C falls by ~ K_sigma (sqrt(q m2) - sqrt(q m1))
    / 2 from m1 to m2, and the derived m-derivative has the sign of a finite difference."""
    def log_upper(m, q=4.0, M=0.01, Ks=1.0):
        K1 = Ks * (math.sqrt(q * m) + M) ** 2 / (4 * math.sqrt(q * m))
        return -2 * math.log(K1) - 2 * K1
    d = {d.id: d for d in D.derivations()}["remark3.width_free_C"]
    names = {str(s): s for s in d.derived.free_symbols}
    for m in (4.0, 100.0, 10000.0):
        fd = (log_upper(m * 1.001) - log_upper(m * 0.999)) / (0.002 * m)
        derived = float(d.derived.subs({names["m"]: m, names["q"]: 4, names["M"]: 0.01,
                                        names["K_sigma"]: 1}))
        assert derived == pytest.approx(fd, rel=1e-4) and derived < 0
    assert log_upper(1e4) - log_upper(1e2) < -80
