"""Proposition 8 item by item (theory.prop8) against independent values: numerical quadrature,
a numerical ODE solve, numpy norms; Figure 2's failed assumptions; the findings' kinds."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from scipy.integrate import solve_ivp

from theory import prop8
from theory.derivations import findings

BY_ID = {d.id: d for d in prop8.derivations()}
VALUES = {"K": 1.3, "M_A": 1.2, "M_B": 1.1, "M_X": 2.0, "M": 0.05, "l_0": 0.7, "mu": 0.4}


def _num(expr: sp.Expr, **extra: float) -> float:
    subs = {s: extra.get(s.name, VALUES.get(s.name)) for s in expr.free_symbols}
    return float(expr.subs(subs))


@pytest.mark.parametrize("name,c", [("Z", "K*M_B"), ("A", "M_B*M_X"), ("B", "M_A*M_X")])
def test_displacements_by_quadrature(name: str, c: str) -> None:
    v = VALUES
    coef = {"Z": v["K"] * v["M_B"], "A": v["M_B"] * v["M_X"], "B": v["M_A"] * v["M_X"]}[name]
    def speed(s: float) -> float:
        return 2 * math.exp(v["K"]) * coef * math.sqrt(v["l_0"]) * math.exp(-v["mu"] * s / 2)

    quad = float(mpmath.quad(speed, [0, mpmath.inf]))
    d = BY_ID[f"prop8.i_displacement_{name}"]
    assert d.verdict == "agrees"
    assert _num(d.printed) == pytest.approx(quad, rel=1e-10)


def test_norm_error_on_the_matrix() -> None:
    """||[I_d; 0]||_F = sqrt(d) exceeds ||[I_d; 0]||_2 + M = 1 + M for d >= 2, M <= 1/64."""
    d = BY_ID["prop8.i_norms"]
    assert d.verdict == "disagrees"
    for dim in (2, 3, 16):
        A = np.vstack([np.eye(dim), np.zeros((dim, dim))])
        fro, op = np.linalg.norm(A, "fro"), np.linalg.norm(A, 2)
        assert op == pytest.approx(1.0) and fro == pytest.approx(math.sqrt(dim))
        M = 1 / 64
        assert fro > op + M  # the printed bound fails at t = 0
        assert _num(d.derived, d=dim, M=M) == pytest.approx(fro + M)


def test_decay_against_a_numerical_solve() -> None:
    v = VALUES
    sol = solve_ivp(lambda s, y: -v["mu"] * y, (0, 5), [v["l_0"]], rtol=1e-11, atol=1e-13)
    assert BY_ID["prop8.v_decay"].verdict == "agrees"
    assert _num(BY_ID["prop8.v_decay"].printed.subs(sp.Symbol("t", positive=True), 5)) == \
        pytest.approx(sol.y[0, -1], rel=1e-8)


def test_tail_and_integrability() -> None:
    v = VALUES
    t0 = 3.0
    def speed(s: float) -> float:
        return (2 * math.exp(v["K"]) * v["M_B"] * v["M_X"] * math.sqrt(v["l_0"])
                * math.exp(-v["mu"] * s / 2))

    tail = float(mpmath.quad(speed, [t0, mpmath.inf]))
    d = BY_ID["prop8.iv_tail"]
    assert _num(d.printed.subs(sp.Symbol("t", positive=True), t0)) == pytest.approx(tail)
    # at mu = (22) with M_B M_X the largest term, int_0^inf b = M / 2 (numerically)
    mu22 = max(v["M_B"] * v["K"], v["M_B"] * v["M_X"], v["M_A"] * v["M_X"]) * 8 \
        * math.exp(v["K"]) * math.sqrt(v["l_0"]) / v["M"]
    def b(s: float) -> float:
        return (2 * math.exp(v["K"]) * v["M_A"] * v["M_X"] * math.sqrt(v["l_0"])
                * math.exp(-mu22 * s / 2))

    assert float(mpmath.quad(b, [0, mpmath.inf])) <= v["M"] / 2 * (1 + 1e-12)
    for key in ("prop8.iii_integrable", "prop8.ii_forcing", "prop8.ii_exponent",
                "prop8.iv_tail_M", "prop8.i_half_Z", "prop8.i_half_A", "prop8.i_half_B"):
        assert BY_ID[key].verdict == "agrees", key


def test_adjoint_chain_factor_two() -> None:
    assert BY_ID["prop8.adjoint_chain"].verdict == "disagrees"
    assert BY_ID["prop8.adjoint_chain"].ratio == 2


def test_findings_kinds_and_figure2() -> None:
    kinds = {f["id"]: f["kind"] for f in findings()}
    assert kinds["prop8.i_norms"] == "error"
    assert kinds["prop8.adjoint_chain"] == "imprecision"
    assert kinds["prop8.v_decay"] == "agreement"
    assert kinds["figure2.assumptions"] == "error"
    failed = prop8.figure2_failed()
    for name in ("sigma bounded", "q >= d + d'", "m >= c1*n", "||x_i|| = sqrt(q) (data = sphere)"):
        assert name in failed
    text = next(f["text"] for f in findings() if f["id"] == "figure2.assumptions")
    assert "p8" in text and "p40" in text
