"""The formula shown for a statement is the expression its check evaluates (issue 27).

For every statement that shows a :class:`theory.formula.Formula`, the shown expression, with its
definitions substituted, is evaluated here by another route (sympy's ``N`` at 30 digits on values
taken from the check's record and on constants of sigma computed by hand: K_sigma = M_sigma = 1,
sup|tanh''| = 4 / (3 sqrt 3), eta_3(tanh) by mpmath quadrature) and must equal the bound the check
reports (run_check at a tiny configuration, or the family's bound function) to 1e-12 relative.
A rate statement's formula shows the acceptance of its window, and follows the window.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re

import mpmath
import pytest
import sympy as sp

from numerics.checks import run_check
from theory.catalog import CheckResult, catalog
from theory.config import Config
from theory.formula import Acceptance, Formula

TINY = Config(n=6, d=2, d_out=2, q=4, m=3, L=4, T=0.2, eta=0.05, activation="tanh",
              clip="coord", depths=(4, 8), seeds=(0, 1), trials=50, data="sphere")
GENERATED = [sid for sid, st in catalog.items() if isinstance(st.shown, Formula)]
RATES = [sid for sid, st in catalog.items() if isinstance(st.shown, Acceptance)]


@functools.cache
def eta_3_tanh() -> mpmath.mpf:
    """eta_3(tanh) = E[tanh(Z) He_3(Z)] / sqrt(3!), He_3(z) = z^3 - 3z, by quadrature."""
    with mpmath.workdps(40):
        f = lambda z: mpmath.tanh(z) * (z**3 - 3 * z) * mpmath.npdf(z)  # noqa: E731
        return mpmath.quad(f, [-mpmath.inf, 0, mpmath.inf]) / mpmath.sqrt(6)


def by_name(expr: sp.Expr, values: dict[str, float]) -> float:
    """``expr`` at ``values`` (keyed by symbol name; every free symbol needs one), by sympy.N."""
    symbols = {str(s): s for s in expr.free_symbols}
    assert set(symbols) <= set(values), set(symbols) - set(values)
    subs = {symbols[k]: sp.Float(v, 40) if isinstance(v, float) else v
            for k, v in values.items() if k in symbols}
    return float(sp.N(expr.xreplace(subs), 30))


@functools.cache
def sizes(c: Config) -> dict[str, float]:
    """The configuration's sizes and tanh's constants, computed by hand."""
    M_pi = max(c.clip_c * math.sqrt(c.q * c.d), 2 * c.clip_c * math.sqrt(c.q * c.m),
               c.clip_c * math.sqrt(c.q * c.d_out))  # coordinate clipping: c sqrt(#entries)
    return {"n": c.n, "q": c.q, "m": c.m, "d": c.d, "L": c.L, "T": c.T, "K_sigma": 1,
            "M_sigma": 1, "sup|sigma''|": sp.Integer(4) / (3 * sp.sqrt(3)), "M_pi": M_pi,
            "Lip_pi": 1, "|eta_r|": abs(float(eta_3_tanh())), "eta_r": float(eta_3_tanh()),
            "v_x": 1, "M_W": c.M_W, "r": 3}


@pytest.fixture(scope="module")
def records() -> dict[str, CheckResult]:
    return {sid: run_check(sid, TINY, control=False)
            for sid in GENERATED if sid != "thm6.decay"}


def test_every_bound_and_probability_statement_shows_a_generated_formula() -> None:
    """Which statements keep text is the catalog's documented rule: no computed bound."""
    kept = {st.kind for sid, st in catalog.items() if isinstance(st.shown, str)}
    assert kept <= {"bound", "identity", "experiment"}
    assert {catalog[sid].kind for sid in GENERATED} == {"bound", "probability"}


@pytest.mark.parametrize("sid", GENERATED)
def test_the_shown_text_names_every_symbol_of_the_expression(sid: str) -> None:
    st = catalog[sid]
    shown = st.formula
    assert isinstance(st.shown, Formula)
    parts = [st.shown.rhs, *(e for _, e in st.shown.where), *(s for s, _ in st.shown.where)]
    for symbol in set().union(*(p.free_symbols for p in parts)):
        assert str(symbol) in shown, (symbol, shown)
    assert st.shown.expr.free_symbols.isdisjoint(s for s, _ in st.shown.where)


@pytest.mark.parametrize("sid", [s for s in GENERATED if s != "thm6.decay"])
def test_the_shown_expression_is_the_bound_the_check_reports(
        sid: str, records: dict[str, CheckResult]) -> None:
    record = records[sid]
    expr = catalog[sid].shown.expr  # type: ignore[union-attr]
    values = dict(sizes(TINY)) | record.extra.get("inputs", {}) | record.extra.get("values", {})
    values |= {"M_0": values.get("M0"), "||Z_{k+1}(0) - Z_k(0)||": values.get("init_gap"),
               "l_0": values.get("l0")}
    if record.bound is None:  # beyond the float range: compare log10
        expected = record.extra["log10_bound"]
        got = by_name(sp.log(expr, 10), values)
    else:
        expected, got = record.bound, by_name(expr, values)
    assert got == pytest.approx(expected, rel=1e-12)


def test_the_decay_formula_is_the_decay_bound() -> None:
    """thm6.decay reports max_t l(t) / bound(t) against 1: its formula against the family's
    bound function at a few (t, l(0))."""
    from theory.long_time import DECAY, decay_bound

    for t, l0 in ((0.0, 1.0), (0.5, 2.5), (30.0, 0.1)):
        expected = decay_bound(t, l0, TINY.n, TINY.q, "tanh")
        got = by_name(DECAY.expr, dict(sizes(TINY)) | {"t": t, "l_0": l0})
        assert got == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("sid", RATES)
def test_a_rate_formula_shows_its_window(sid: str) -> None:
    st = catalog[sid]
    assert st.rate_window is not None
    relation, edge = re.search(r"95% interval of .* (<=|>=) (\S+)$", st.formula).groups()
    lo, hi = st.rate_window
    assert (relation, float(edge)) == (("<=", hi) if lo == -math.inf else (">=", lo))
    moved = dataclasses.replace(st, rate_window=(-math.inf, -0.123))
    assert moved.formula.endswith("<= -0.123") and "-0.8" not in moved.formula
