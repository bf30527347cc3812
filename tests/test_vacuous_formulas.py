"""The explicit constants whose checks are vacuous at every reachable size (Proposition 7's
bound past the float range, Proposition 2's C with 20+ orders of slack) are caught here instead:
each against an independent evaluation of the printed formula (plain floats and the standard
library, written from the docstrings of theory.euler and theory.finite_time), on inputs where the
values are moderate."""

from __future__ import annotations

import math

import pytest

from theory.euler import prop2_constants
from theory.finite_time import successive_bound, successive_bound_log10


@pytest.mark.parametrize(("gap0", "L", "alpha", "beta", "T"), [
    (0.0, 16, 0.7, 3.0, 1.5), (0.01, 4, 2.0, 0.5, 0.25), (0.2, 64, 0.05, 40.0, 3.0)])
def test_proposition_7_bound_against_its_formula(gap0: float, L: int, alpha: float, beta: float,
                                                 T: float) -> None:
    """(||Z_{k+1}(0) - Z_k(0)|| + beta T / L) e^{alpha T} (eq. 7's general form)."""
    constants = {"alpha": alpha, "log10_beta": math.log10(beta)}
    expected = (gap0 + beta * T / L) * math.exp(alpha * T)
    assert successive_bound(gap0, L, constants, T) == pytest.approx(expected, rel=1e-12)
    assert successive_bound_log10(gap0, L, constants, T) == pytest.approx(math.log10(expected),
                                                                          rel=1e-12)


def _C_by_hand(K: float, M_sigma: float, m: int, q: int, sup_V: float, sup_W: float,
               lip_V: float, lip_W: float, norm_A: float, norm_B: float, M_X: float) -> float:
    """C = norm_B (e^{C_h} - 1)/C_h (a lip_V + b lip_W + C~/2) of theory.euler's docstring."""
    C_h = K * sup_V * sup_W / math.sqrt(m * q)
    H = norm_A * M_X * math.exp(C_h)
    a = min(M_sigma, K * sup_W * H / math.sqrt(m * q))
    b = K * sup_V * H / math.sqrt(m * q)
    C_tilde = C_h * C_h * H + a * lip_V + b * lip_W
    return norm_B * math.expm1(C_h) / C_h * (a * lip_V + b * lip_W + C_tilde / 2)


@pytest.mark.parametrize("inputs", [
    {"q": 4, "m": 8, "sup_V": 1.0, "sup_W": 2.0, "lip_V": 0.5, "lip_W": 1.5, "norm_A": 1.0,
     "norm_B": 1.0, "M_X": 2.0},
    {"q": 16, "m": 32, "sup_V": 3.0, "sup_W": 5.0, "lip_V": 2.0, "lip_W": 0.1, "norm_A": 1.0,
     "norm_B": 0.5, "M_X": 4.0}])
def test_proposition_2_constant_against_its_formula(inputs: dict[str, float]) -> None:
    # tanh: K_sigma = M_sigma = 1
    assert prop2_constants("tanh", **inputs)["C"] == pytest.approx(
        _C_by_hand(1.0, 1.0, **inputs), rel=1e-10)
