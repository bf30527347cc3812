"""S10, the Hermite transform: eta_r(sigma) = E[sigma(Z) He_r(Z)] / sqrt(r!), Parseval.

* ``run_check`` holds for every drawn activation (Bessel: sum_{r <= R} eta_r^2 <= E[sigma^2], with
  a shrinking gap as R grows): a coefficient too large by 1% already breaks Bessel for tanh.
* eta_r of :mod:`theory.hermite` (mpmath Gauss-Legendre) equals an independent float64
  computation (:func:`properties.references.eta_reference`: numpy Gauss-Hermite, exact half-line
  moments for ReLU) for every named activation and r <= 10, to 1e-9 relative.
* Metamorphic: eta_r(c sigma) = c eta_r(sigma) (linearity) and eta_r(sigma(-x)) = (-1)^r
  eta_r(sigma) (He_r has the parity of r), on sympy expressions built from the drawn sigma, which
  go through the parser and the piecewise split again.
"""

from __future__ import annotations

import math

import mpmath
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from properties.assertions import assert_holds, checked, fail_case, family_ids
from properties.references import eta_reference
from properties.strategies import ALL, examples
from theory import activations, hermite
from theory.config import Config
from theory.symbols import x

FAMILIES = ("S10",)


@pytest.mark.parametrize("statement_id", family_ids(*FAMILIES))
@settings(max_examples=examples(3))
@given(activation=st.sampled_from(ALL))
def test_check_holds(statement_id: str, activation: str) -> None:
    config = Config(activation=activation)
    assert_holds(checked(statement_id, config), config)


@settings(max_examples=examples(12))
@given(activation=st.sampled_from(ALL), r=st.integers(0, 10))
def test_eta_matches_an_independent_computation(activation: str, r: int) -> None:
    with mpmath.workdps(40):
        value = float(hermite.eta(activation, r))
    reference = eta_reference(activation, r)
    if not math.isclose(value, reference, rel_tol=1e-9, abs_tol=1e-12):
        fail_case("hermite.coefficients", Config(activation=activation), measured=value,
                  bound=reference, relation="==", exact=False,
                  what=f"eta_{r}(sigma) (mpmath) = Gauss-Hermite in numpy")


@settings(max_examples=examples(2))
@given(activation=st.sampled_from(ALL), c=st.sampled_from((-3, 2, sp.Rational(1, 3))),
       r=st.integers(0, 7))
def test_linearity_and_parity(activation: str, c: sp.Expr, r: int) -> None:
    expr = activations.get(activation).expr
    scaled, mirrored = str(c * expr), str(expr.subs(x, -x))
    with mpmath.workdps(40):
        base = hermite.eta(activation, r)
        pairs = {f"eta_{r}({scaled}) = {c} eta_{r}(sigma)": (hermite.eta(scaled, r), c * base),
                 f"eta_{r}({mirrored}) = (-1)^{r} eta_{r}(sigma)":
                     (hermite.eta(mirrored, r), (-1) ** r * base)}
        for what, (value, expected) in pairs.items():
            expected = mpmath.mpf(sp.N(expected, 45))
            if abs(value - expected) > mpmath.mpf("1e-25") * (1 + abs(expected)):
                fail_case("hermite.coefficients", Config(activation=activation), what=what,
                          measured=float(value), bound=float(expected), relation="==",
                          exact=False)
