r"""Proposition 2 (ResNet vs neural ODE at fixed weights), proof via Proposition 11 (p23-25, B.2).

With V_k = V(k/L), W_k = W(k/L) for Lipschitz V, W and F the solution map of the neural ODE (6),
sup_x ||F(x) - F^L(x)|| <= C / L.  The paper leaves C implicit; for model (3),
g(h, theta) = V sigma(W h / sqrt q) / sqrt m with theta = (V, W) and ||theta|| = ||V||_F + ||W||_F,
the proof gives it explicitly.  Inputs (upper bounds are enough): sup_V >= sup_s ||V(s)||_2,
sup_W >= sup_s ||W(s)||_2 (Frobenius norms will do), lip_V, lip_W the Lipschitz constants of
s -> V(s), W(s) in Frobenius norm, norm_A >= ||A||_2, norm_B >= ||B||_2, M_X >= sup ||x||.

1. g is C_h-Lipschitz in h: ||d1 g|| <= K_sigma ||V||_2 ||W||_2 / sqrt(mq), so
   C_h = K_sigma sup_V sup_W / sqrt(mq).
2. g(0, .) = 0 (sigma(0) = 0), so ||dU/ds|| <= C_h ||U|| and, by Gronwall (p23), every U(s) and
   every Euler iterate u_k satisfy ||.|| <= H = norm_A M_X e^{C_h}.
3. On ||h|| <= H, ||g(h, V, W) - g(h, V', W')|| <= a ||V - V'||_F + b ||W - W'||_F with
   a = sup ||sigma(W h / sqrt q)|| / sqrt m <= min(M_sigma, K_sigma sup_W H / sqrt(mq)) and
   b = K_sigma sup_V H / sqrt(mq); so g is C_theta = max(a, b) Lipschitz in theta, and
   C_g = max(C_h, C_theta) is the constant C of the proof (Lipschitz in both arguments).
4. Theta is C_Theta = lip_V + lip_W Lipschitz; U is C_U = C_h H Lipschitz (36);
   dU/ds = g(U(s), Theta(s)) is C~ = C_h C_U + a lip_V + b lip_W Lipschitz (34).
5. The proof's recursion (p24), with theta_{k+1} = Theta((k+1)/L) used directly and the Taylor
   remainder ||U(b) - U(a) - (b - a) U'(a)|| <= C~ (b - a)^2 / 2 (U' is C~-Lipschitz):
   Delta_{k+1} <= (1 + C_h/L) Delta_k + (a lip_V + b lip_W + C~/2) / L^2, Delta_0 = 0, so
   Delta_L <= ((1 + C_h/L)^L - 1) / C_h (...) / L <= (e^{C_h} - 1)/C_h (...) / L and, as
   F - F^L = B (U(1) - u_L),

       C = norm_B (e^{C_h} - 1)/C_h (a lip_V + b lip_W + C~/2)      (every L >= 1).

   The paper's (35) merges both Lipschitz constants into one C in the exponent; with
   sup_s ||Theta(s) - Theta^L(s)|| <= C_Theta / L (Theta^L(s) = Theta((floor((L-1)s) + 1)/L) is
   within 1/L of s) and a^L = a = A x it gives

       C_paper = norm_B (2 C_Theta + C~ / C_g) e^{C_g} >= C,

   double-exponential in the weights (C_g >= b, which carries H ~ e^{C_h}): both are returned,
   C is the one to check.

The proof needs sigma Lipschitz with sigma(0) = 0, not C^1: Proposition 11 asks g to be C^1 only to
make it locally Lipschitz, so Proposition 2 with this C holds for ReLU as well.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import mpmath
import sympy as sp

from theory import symbols as S
from theory.errors import ConfigError
from theory.finite_time import MODEL3, TIED_OR_SMOOTH, activation, sigma_failures
from theory.formula import Formula

if TYPE_CHECKING:
    from theory.activations import Activation
    from theory.config import Config

sup_V, sup_W, lip_V, lip_W, norm_A, norm_B = sp.symbols(
    "sup_V sup_W lip_V lip_W norm_A norm_B", positive=True)

C, C_h, H, a, b, C_U, C_tilde = sp.symbols("C C_h H a b C_U C~", positive=True)
PROP2 = Formula(
    "sup_x ||F(x) - F^L(x)||", "<=", C / S.L,
    ((C, norm_B * (sp.exp(C_h) - 1) / C_h * (a * lip_V + b * lip_W + C_tilde / 2)),
     (C_tilde, C_h * C_U + a * lip_V + b * lip_W), (C_U, C_h * H),
     (a, sp.Min(S.M_sigma, S.K_sigma * sup_W * H / sp.sqrt(S.m * S.q))),
     (b, S.K_sigma * sup_V * H / sp.sqrt(S.m * S.q)), (H, norm_A * S.M_X * sp.exp(C_h)),
     (C_h, S.K_sigma * sup_V * sup_W / sp.sqrt(S.m * S.q))),
    note="sup_V, sup_W >= sup_s ||V(s)||, ||W(s)||; lip_V, lip_W their Lipschitz constants; "
         "norm_A, norm_B >= ||A||_2, ||B||_2")
"""Proposition 2 with the explicit C of the module docstring: :func:`prop2_constants` evaluates
its definitions, :func:`prop2_bound` its rhs."""


def _resolved(symbol: sp.Symbol) -> sp.Expr:
    """``symbol``'s definition in :data:`PROP2` in the base symbols (every later definition
    substituted)."""
    where = dict(PROP2.where)
    out = where[symbol]
    for later, definition in PROP2.where[list(where).index(symbol) + 1:]:
        out = out.xreplace({later: definition})
    return out


C_h_expr, H_expr, a_expr, b_expr, C_U_expr, C_tilde_expr, C_expr = (
    _resolved(x) for x in (C_h, H, a, b, C_U, C_tilde, C))
C_theta_expr = sp.Max(a_expr, b_expr)
C_g_expr = sp.Max(C_h_expr, C_theta_expr)
C_Theta_expr = lip_V + lip_W
C_paper_expr = norm_B * (2 * C_Theta_expr + C_tilde_expr / C_g_expr) * sp.exp(C_g_expr)

_ARGS = (S.K_sigma, S.M_sigma, S.m, S.q, sup_V, sup_W, lip_V, lip_W, norm_A, norm_B, S.M_X)
_EXPRS = {"C_h": C_h_expr, "H": H_expr, "a": a_expr, "b": b_expr, "C_theta": C_theta_expr,
          "C_g": C_g_expr, "C_Theta": C_Theta_expr, "C_U": C_U_expr, "C_tilde": C_tilde_expr,
          "C": C_expr, "C_paper": C_paper_expr}


def assumptions(config: Config) -> list[str]:
    """Proposition 2 (S2) with the explicit C: sigma Lipschitz with sigma(0) = 0 (g(0, .) = 0),
    weights discretizing Lipschitz functions (tied or smooth initialization; i.i.d. layers do
    not), model (3)."""
    failed = sigma_failures(activation(config), ["lipschitz", "zero_at_zero"])
    failed += [TIED_OR_SMOOTH] if config.init == "iid" else []
    return failed + ([MODEL3] if config.scaling != "paper" else [])


@functools.cache
def _numeric() -> dict[str, Callable[..., Any]]:
    return {key: sp.lambdify(_ARGS, expr, modules="mpmath") for key, expr in _EXPRS.items()}


def prop2_constants(sigma: Activation | str, *, q: int, m: int, sup_V: float, sup_W: float,
                    lip_V: float, lip_W: float, norm_A: float, norm_B: float,
                    M_X: float) -> dict[str, float]:
    """C_h, H, a, b, C_theta, C_g, C_Theta, C_U, C_tilde, C and C_paper of the module docstring
    (floats; inf past the float range)."""
    sig = activation(sigma)
    if sig.flags["zero_at_zero"] is not True or sig.flags["lipschitz"] is not True:
        raise ConfigError("activation", sig.name, "Proposition 2's constant needs sigma "
                          "Lipschitz with sigma(0) = 0")
    sizes = {"q": q, "m": m, "norm_A": norm_A, "norm_B": norm_B, "M_X": M_X}
    rates = {"sup_V": sup_V, "sup_W": sup_W, "lip_V": lip_V, "lip_W": lip_W}
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise ConfigError(name, value, "must be a positive number")
    for name, value in rates.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
            raise ConfigError(name, value, "must be a non-negative number")
    with mpmath.workdps(60):  # (e^{C_h} - 1) / C_h cancels for small C_h
        M_sigma = mpmath.inf if sig.M_sigma is sp.oo else mpmath.mpf(sp.N(sig.M_sigma, 65))
        K_sigma = mpmath.mpf(sp.N(sig.K_sigma, 65))
        # C increases with each of these: a zero is replaced by 1e-20 (an upper bound, 20 digits)
        tiny = mpmath.mpf("1e-20")
        args = (K_sigma, M_sigma, m, q, *(max(v, tiny) for v in rates.values()), norm_A, norm_B,
                M_X)
        return {key: float(f(*args)) for key, f in _numeric().items()}


def prop2_bound(C_value: float, L: int) -> float:
    """C / L (:data:`PROP2`'s rhs) for C = ``C_value``, in floats."""
    return PROP2.function(C, S.L, modules="math")(C_value, L)


def prop2_constant(sigma: Activation | str, *, q: int, m: int, sup_V: float, sup_W: float,
                   lip_V: float, lip_W: float, norm_A: float, norm_B: float,
                   M_X: float) -> float:
    """C of sup_x ||F(x) - F^L(x)|| <= C / L for every L >= 1 (module docstring)."""
    return prop2_constants(sigma, q=q, m=m, sup_V=sup_V, sup_W=sup_W, lip_V=lip_V, lip_W=lip_W,
                           norm_A=norm_A, norm_B=norm_B, M_X=M_X)["C"]
