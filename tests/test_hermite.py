"""theory.hermite: eta_r against independent quadratures, closed forms and Parseval."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from numpy.polynomial import hermite_e

from theory import activations, hermite
from theory.config import Config
from theory.errors import ConfigError
from theory.symbols import x

TIGHT = mpmath.mpf("1e-25")


@pytest.fixture(autouse=True)
def _high_precision():
    """Compare at 50 digits (eta returns its dps digits; arithmetic rounds to the context's)."""
    with mpmath.workdps(50):
        yield


def _mp(value: sp.Expr) -> mpmath.mpf:
    return mpmath.mpf(sp.N(value, 60))


def _he_text(s: int) -> str:
    return str(sp.expand(sp.hermite_prob(s, x)))


@pytest.mark.parametrize("s", range(9))
def test_orthonormality(s: int) -> None:
    """eta_r(He_s) / sqrt(s!) = <h_s, h_r> = delta_rs for r, s <= 8, against the same inner
    products computed by numpy's Gauss-Hermite(e) rule (exact for these polynomials)."""
    nodes, weights = hermite_e.hermegauss(30)
    weights = weights / math.sqrt(2 * math.pi)
    he_s = hermite_e.hermeval(nodes, [0] * s + [1])
    for r in range(9):
        he_r = hermite_e.hermeval(nodes, [0] * r + [1])
        reference = float(np.sum(weights * he_s * he_r)) / math.sqrt(
            math.factorial(r) * math.factorial(s))
        ours = hermite.eta(_he_text(s), r) / mpmath.sqrt(mpmath.factorial(s))
        assert reference == pytest.approx(float(r == s), abs=1e-12)
        assert abs(ours - (r == s)) < TIGHT


@pytest.mark.parametrize("name", ["relu", "identity", "sin", "erf"])
def test_closed_forms(name: str) -> None:
    for r in range(0, 14):
        assert abs(hermite.eta(name, r) - _mp(hermite.eta_closed_form(name, r))) < TIGHT


@pytest.mark.parametrize(("name", "r"), [("relu", r) for r in range(6)]
                         + [("sin", 1), ("sin", 3), ("erf", 1), ("erf", 3)])
def test_closed_forms_against_sympy_integration(name: str, r: int) -> None:
    """The closed forms themselves, against sympy's exact Gaussian integrals."""
    expr = activations.get(name).expr
    density = sp.exp(-x**2 / 2) / sp.sqrt(2 * sp.pi)
    if name == "relu":
        moment = sp.integrate(x * sp.hermite_prob(r, x) * density, (x, 0, sp.oo))
    else:
        moment = sp.integrate(expr * sp.hermite_prob(r, x) * density, (x, -sp.oo, sp.oo))
    exact = moment / sp.sqrt(sp.factorial(r))
    assert abs(_mp(exact) - _mp(hermite.eta_closed_form(name, r))) < mpmath.mpf("1e-40")


@pytest.mark.parametrize(("name", "r"), [
    ("tanh", 3), ("tanh", 6), ("gelu", 2), ("gelu", 5), ("sigmoid", 3), ("softplus", 2),
    ("softplus", 4), ("x/(1+x**2)", 3), ("Min(x, 1) + Max(x, -1) - x", 3),
    ("Min(x, 1) + Max(x, -1) - x", 6)])
def test_against_tanh_sinh(name: str, r: int) -> None:
    """Against mpmath's tanh-sinh quadrature (split at 0 and +-1), polynomial via mpmath."""
    f = sp.lambdify(x, activations.get(name).expr, "mpmath")
    with mpmath.workdps(40):
        value = mpmath.quad(lambda t: f(t) * mpmath.hermite(r, t / mpmath.sqrt(2))
                            * 2 ** (-mpmath.mpf(r) / 2) * mpmath.npdf(t),
                            [-mpmath.inf, -1, 0, 1, mpmath.inf])
        reference = value / mpmath.sqrt(mpmath.factorial(r))
    assert abs(hermite.eta(name, r) - reference) < mpmath.mpf("1e-30")


def test_second_moments_closed_form() -> None:
    assert abs(hermite.second_moment("sin") - (1 - mpmath.exp(-2)) / 2) < mpmath.mpf("1e-35")
    assert abs(hermite.second_moment("erf") - 2 / mpmath.pi * mpmath.asin(mpmath.mpf(2) / 3)
               ) < mpmath.mpf("1e-35")
    assert abs(hermite.second_moment("relu") - mpmath.mpf(1) / 2) < mpmath.mpf("1e-35")


@pytest.mark.parametrize("name", ["tanh", "erf", "sin"])
def test_parseval(name: str) -> None:
    tails = []
    for R in (7, 15, 31):
        partial, total = hermite.parseval_partial(name, R)
        tails.append(total - partial)
    assert all(t > -TIGHT for t in tails)
    assert tails[0] > tails[1] > tails[2] or tails[2] < TIGHT
    assert tails[2] < mpmath.mpf("1e-6") * hermite.second_moment(name)
    if name == "sin":  # eta_r^2 = e^{-1}/r! (odd r): the tail after R = 31 is below 1e-35
        assert tails[2] < mpmath.mpf("1e-30")


@pytest.mark.parametrize("name", ["tanh", "erf", "sin", "sigmoid"])
def test_odd_activations_have_no_even_coefficients(name: str) -> None:
    assert sp.simplify(activations.get(name).expr.subs(x, -x) + activations.get(name).expr) == 0
    for r in range(0, 16, 2):
        assert abs(hermite.eta(name, r)) < mpmath.mpf("1e-35")
    assert abs(hermite.eta(name, 3)) > mpmath.mpf("1e-3")


def test_first_nonzero() -> None:
    expected = {"tanh": 3, "gelu": 2, "relu": 2, "identity": None, "sigmoid": 3, "softplus": 2,
                "sin": 3, "erf": 3}
    assert {name: hermite.first_nonzero(name) for name in activations.NAMES} == expected
    assert hermite.index("tanh") == 3 and hermite.index("tanh", 5) == 5


def test_sign_of_eta_tanh_is_negative() -> None:
    # The finding: eta_3(tanh) < 0, so Proposition 5's constants must use |eta_r|.
    assert hermite.eta("tanh", 3) < 0


def test_assumptions_and_bad_input() -> None:
    for name in activations.NAMES:
        assert hermite.assumptions(Config(activation=name)) == []
    with pytest.raises(ConfigError):
        hermite.eta("tanh", -1)
    with pytest.raises(ConfigError):
        hermite.eta("tanh", 2, dps=5)
