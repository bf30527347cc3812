r"""Appendix D: the ReLU counter-example (p39).

Depth 2L, scalar: h_0 = x, h_{k+1} = h_k + sigma(w_{k+1} h_k) / (2L), one sample (x, C x) with
x > 0, C > 1, loss l = (h_{2L} - C x)^2, w_k(0) = (-1)^k / (2L).  With ReLU every h_k >= 0, the odd
layers see w h <= 0 and get no gradient (w_{2k+1}(t) = -1/(2L) for all t), the even layers are
linear and h_{2L} = prod_j (1 + w_{2j}/(2L)) x; by symmetry every w_{2k}(t) = w(t).

Trained by the depth-scaled flow (4) of a network of depth 2L, dw_k/dt = -2L dl/dw_k, the chain
rule gives (derived in sympy by :mod:`theory.derivations`)

    dw/dt = 2 x^2 (C - (1 + w/(2L))^L) (1 + w/(2L))^{L-1},

where the paper prints 2x (and writes the plain flow -dl/dw_{2k}, whose right side is this one
divided by 2L); the fixed point does not depend on either factor:

    (1 + w*/(2L))^L = C,   w* = 2L (C^{1/L} - 1) >= 2 log C   (e^u - 1 >= u, u = log(C)/L),

and the neighbour gap |w_{2k}(t) - w_{2k-1}(t)| -> w* + 1/(2L) = Omega(1), against 1/L at t = 0.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import mpmath
import sympy as sp

from theory import symbols as S
from theory.errors import ConfigError
from theory.finite_time import activation

if TYPE_CHECKING:
    from theory.config import Config

RELU = "activation relu (a smooth sigma is the contrast case: gap O(1/L), Proposition 7)"
LABEL_RATIO = "C > 1 (appd_C)"

w = sp.Symbol("w", real=True)
x_in = sp.Symbol("x", positive=True)  # the scalar input (not the activation's variable)
C = S.C_label

w_star_expr = 2 * S.L * (C ** (1 / S.L) - 1)
gap_limit_expr = w_star_expr + 1 / (2 * S.L)
dw_dt_expr = (2 * x_in**2 * (C - (1 + w / (2 * S.L)) ** S.L)
              * (1 + w / (2 * S.L)) ** (S.L - 1))
dw_dt_printed_expr = 2 * x_in * (C - (1 + w / (2 * S.L)) ** S.L) * (1 + w / (2 * S.L)) ** (S.L - 1)


def assumptions(config: Config) -> list[str]:
    """Appendix D (S11): ReLU and C = ``appd_C`` > 1 (x = ``appd_x`` > 0 is enforced by
    :class:`Config`).  For a smooth sigma the statement does not apply ("not applicable" naming
    the activation): that run is the contrast case, where Proposition 7 keeps the gap O(1/L)."""
    out = [] if activation(config).name == "relu" else [RELU]
    return out + ([] if config.appd_C > 1 else [LABEL_RATIO])


def _check(L: int, C_value: float) -> None:
    if isinstance(L, bool) or not isinstance(L, int) or L <= 0:
        raise ConfigError("L", L, "must be a positive integer (the depth is 2L)")
    if isinstance(C_value, bool) or not isinstance(C_value, int | float) or not C_value > 1:
        raise ConfigError("C", C_value, "Appendix D needs a label ratio C > 1")


@functools.cache
def _numeric(expr: sp.Expr) -> Callable[..., Any]:
    return sp.lambdify((w, S.L, C, x_in), expr, modules="mpmath")


def _evaluate(expr: sp.Expr, w_value: float, L: int, C_value: float, x_value: float) -> float:
    with mpmath.workdps(30):  # C^{1/L} - 1 cancels in floats for large L
        return float(_numeric(expr)(w_value, L, C_value, x_value))


def w_star(L: int, C_value: float) -> float:
    """w* = 2L (C^{1/L} - 1), the root of (1 + w/(2L))^L = C (56)."""
    _check(L, C_value)
    return _evaluate(w_star_expr, 0.0, L, C_value, 1.0)


def gap_limit(L: int, C_value: float) -> float:
    """lim_t |w_{2k}(t) - w_{2k-1}(t)| = w* + 1/(2L) (the odd weights stay at -1/(2L))."""
    _check(L, C_value)
    return _evaluate(gap_limit_expr, 0.0, L, C_value, 1.0)


def dw_dt(w_value: float, L: int, C_value: float, x_value: float) -> float:
    """The derived right-hand side 2 x^2 (C - (1 + w/(2L))^L) (1 + w/(2L))^{L-1} of the even
    weights' ODE under the depth-scaled flow dw_k/dt = -2L dl/dw_k (valid while w > 0)."""
    _check(L, C_value)
    if not x_value > 0:
        raise ConfigError("x", x_value, "Appendix D needs an input x > 0")
    return _evaluate(dw_dt_expr, w_value, L, C_value, x_value)
