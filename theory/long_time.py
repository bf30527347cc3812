r"""Theorem 6 with Proposition 8: the unclipped flow in the long-time limit (p6, p17-20, B.6).

Under Proposition 5's (M, mu)-local PL condition, M = c3 / sqrt(nq), mu = c4 / (n sqrt(nq)),
Proposition 8 holds when (22) does:

    mu >= max(M_B K, M_B M_X, M_A M_X) (8 e^K / M) sup_L sqrt(l^L(0)),
    M_A = ||A_init||_2 + M,  M_Z = sup_s ||Z_init(s)|| + M,  M_B = ||B_init||_2 + M,
    K1 = sup_{||z|| <= M_Z} ||d1 f||,  E = {||h|| <= e^{K1} M_A M_X, ||z|| <= M_Z},
    K2 = sup_E ||d2 f||,  K = max(K1, K2)

(K1, K2 bounded for model (3) by :mod:`theory.finite_time` with ball radius M_Z and M_A).  Then
(v)/(10): l(t) <= exp(-mu t) l(0), the weights stay within M of the initialization (i), and (ii)
||Z_{k+1}(t) - Z_k(t)|| <= (||Z_{k+1}(0) - Z_k(0)|| + C1 M / (2 M_X L)) exp(C2 M / (2 M_X)) for all
t (p20), where, following the proof of Proposition 7 with the bounds of Proposition 8,
C1 = K (K + K' e^K M_A M_X) and C2 = K' (K' over E): K~ = L x that bound (tied: ||Z_{k+1}(0) -
Z_k(0)|| = 0).

With the initialization of Section 3, F(x) = B A x = 0 (q >= d + d'), l(0) = (1/n) sum ||y_i||^2,
and (22) becomes the label threshold (1/n) sum ||y_i||^2 <= C with, solving (22) for l(0),

    C = c3^2 c4^2 / (64 n^4 q^2 max(M_B K, M_B M_X, M_A M_X)^2 e^{2K});

the paper prints q^3 (p35), which is smaller by a factor q and so still sufficient (a finding; see
:mod:`theory.derivations`).  This module uses the q^2 form.  For model (3), sup ||Z_init|| =
||W_bar||_F <= sqrt(2qm) on the event of delta's first term (Lemma 20 with M_W = sqrt 2),
||A_init||_2 = ||B_init||_2 = 1 and M_X = sqrt(q) (data on the sphere).  K is e^{K1}-large with
K1 ~ K_sigma sqrt(qm)/2, so C is astronomically small: everything is returned with its log10.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import mpmath
import sympy as sp

from theory import pl
from theory import symbols as S
from theory.errors import ConfigError
from theory.finite_time import (
    MODEL3,
    K,
    K_prime,
    activation,
    bounds_mp,
    exp_is_safe,
    sigma_mp,
)
from theory.formula import Formula

if TYPE_CHECKING:
    from theory.activations import Activation
    from theory.config import Config

UNCLIPPED = "unclipped flow (clip = none)"
LABELS = "(1/n) sum ||y_i||^2 <= C (label threshold of Theorem 6)"

MA, MB, loss0 = sp.symbols("M_A M_B l_0", positive=True)

scale_expr = sp.Max(MB * K, MB * S.M_X, MA * S.M_X)
condition22_expr = scale_expr * 8 * sp.exp(K) / S.M * sp.sqrt(loss0)
label_threshold_expr = (pl.c3_expr**2 * pl.c4_expr**2
                        / (64 * S.n**4 * S.q**2 * scale_expr**2 * sp.exp(2 * K)))
Ktilde_expr = (K * (K + K_prime * sp.exp(K) * MA * S.M_X) * S.M / (2 * S.M_X)
               * sp.exp(K_prime * S.M / (2 * S.M_X)))
_ARGS = (K, K_prime, MA, MB, S.M_X, S.M, loss0, S.K_sigma, pl.eta, S.n, S.q)

mu, loss_T = sp.symbols("mu lbar_T", positive=True)
DECAY = Formula("l(t)", "<=", loss0 * sp.exp(-mu * S.t), ((mu, pl.mu_expr),),
                note="eq. (10) with Proposition 5's mu; measured: max_{t > 0} l(t) over the "
                     "bound, against 1")
"""Theorem 6's decay (10), as :func:`decay_bound` evaluates it (mu: :data:`theory.pl.mu_expr`)."""
INTERPOLATION = Formula("max_i ||F(x_i; T) - y_i||", "<=",
                        sp.Pow(S.n * loss_T, sp.S.Half, evaluate=False),  # as sqrt(n l_T)
                        ((loss_T, DECAY.rhs.xreplace({S.t: S.T})), (mu, pl.mu_expr)),
                        note="||F(x_i) - y_i||^2 <= n l(T) and (10) at T")
"""Theorem 6 (iv) at the finite horizon T, as :func:`interpolation_bound` evaluates it."""
_DPS = 30


@functools.cache
def _log10(expr: sp.Expr) -> Callable[..., Any]:
    """log10 of a product expression, expanded so that e^K is never formed."""
    return sp.lambdify(_ARGS, sp.expand_log(sp.log(expr), force=True) / sp.log(10), "mpmath")


def log10_expected_initial_loss(config: Config) -> float:
    """log10 of l(0) = (1/n) sum ||y_i||^2 in expectation for standard Gaussian labels scaled by
    ``y_scale`` (F = B A x = 0 at initialization): log10(d' y_scale^2)."""
    return math.log10(config.d_out) + 2 * math.log10(config.y_scale)


def assumptions(config: Config) -> list[str]:
    """Theorem 6 (S6): Proposition 5's assumptions, the unclipped flow (4), and labels under the
    threshold C (judged with :func:`log10_expected_initial_loss`; C is only defined when Proposition
    5's constants are, i.e. for a Lipschitz sigma with some eta_r != 0)."""
    out = pl.assumptions(config)
    out += [UNCLIPPED] if config.clip != "none" else []
    try:
        log10_C = label_threshold_log10(config.activation, n=config.n, q=config.q, m=config.m,
                                        r=config.r)
    except ConfigError:
        return out
    if not log10_expected_initial_loss(config) <= log10_C:
        out.append(LABELS)
    return out


def path_assumptions(config: Config) -> list[str]:
    """The requirements of the beyond-scope checks of Theorem 6's conclusions (S6): its setting
    (the unclipped flow, data on the sphere, the tied initialization, model (3)) and at least two
    depths.  Proposition 5's m >= c1 n, L >= c2 sqrt(nq) and the label threshold are not
    required: PL along the path is measured beside the conclusions (numerics.thm6), never used
    to filter them, since it is part of what Theorem 6 concludes."""
    out = [UNCLIPPED] if config.clip != "none" else []
    out += [pl.SPHERE] if config.data != "sphere" else []
    out += [pl.TIED] if config.init != "tied" else []
    out += [MODEL3] if config.scaling != "paper" else []
    return out + (["at least two depths"] if len(config.depths) < 2 else [])


def decay_bound(t: float, l0: float, n: int, q: int, sigma: Activation | str,
                r: int | None = None) -> float:
    """exp(-c4 t / (n sqrt(nq))) l0, the bound (10) with C' = c4 (mu of Proposition 5)."""
    if not (isinstance(t, int | float) and t >= 0):
        raise ConfigError("t", t, "must be a non-negative time")
    if not (isinstance(l0, int | float) and l0 >= 0):
        raise ConfigError("l0", l0, "must be a non-negative loss")
    K_sigma, eta_r = _K_eta(sigma, r)
    with mpmath.workdps(_DPS):
        rate = pl.evaluate(DECAY.where[0][1], K_sigma=K_sigma, eta_r=eta_r, n=n, q=q)
        return float(DECAY.function(loss0, mu, S.t)(l0, rate, t))


def interpolation_bound(T: float, l0: float, n: int, q: int, sigma: Activation | str,
                        r: int | None = None) -> float:
    """sqrt(n e^{-mu T} l0) (:data:`INTERPOLATION`), with e^{-mu T} l0 from :func:`decay_bound`."""
    return INTERPOLATION.function(S.n, loss_T, modules="math")(
        n, decay_bound(T, l0, n, q, sigma, r))


def label_threshold_log10(sigma: Activation | str, *, n: int, q: int, m: int,
                          r: int | None = None) -> float:
    """log10 C of the label threshold (1/n) sum ||y_i||^2 <= C of Theorem 6 (q^2 form, module
    docstring), for the initialization of Section 3 and data on the sphere."""
    return prop8_constants(sigma, n=n, q=q, m=m, r=r)["log10_label_threshold"]


def condition22(mu: float, *, K: float, M: float, M_A: float, M_B: float, M_X: float,
                l0: float) -> bool:
    """Condition (22) of Proposition 8: mu >= max(M_B K, M_B M_X, M_A M_X) 8 e^K sqrt(l0) / M
    (compared in log10, so that e^K never overflows)."""
    if not (mu > 0 and l0 >= 0):
        raise ConfigError("mu", mu, "mu must be positive and l0 non-negative")
    if l0 == 0:
        return True
    with mpmath.workdps(_DPS):
        rhs = _log10(condition22_expr)(K, 0, M_A, M_B, M_X, M, l0, 1, 1, 1, 1)
        return bool(mpmath.log10(mu) >= rhs)


def _K_eta(sigma: Activation | str, r: int | None) -> tuple[Any, Any]:
    """(K_sigma, eta_r) for Propositions 5 and 8; ConfigError when they are not defined."""
    sig = activation(sigma)
    r, eta_r = pl.hermite(sig, r)
    if eta_r is None:
        raise ConfigError("activation", sig.name, "Proposition 5 needs some r >= 2 with "
                          "eta_r(sigma) != 0")
    if sig.flags["zero_at_zero"] is not True or sig.flags["lipschitz"] is not True:
        raise ConfigError("activation", sig.name, "Propositions 5 and 8 need sigma Lipschitz "
                          "with sigma(0) = 0")
    return sigma_mp(sig)["K_sigma"], eta_r


def prop8_constants(sigma: Activation | str, *, n: int, q: int, m: int, r: int | None = None,
                    M_X: float | None = None, sup_Z_init: float | None = None,
                    norm_A_init: float = 1.0, norm_B_init: float = 1.0) -> dict[str, float]:
    """The constants of Proposition 8 / Theorem 6 for model (3) (module docstring).

    Defaults: M_X = sqrt(q), sup ||Z_init|| = sqrt(2qm), ||A_init||_2 = ||B_init||_2 = 1.  Keys:
    M, mu, M_A, M_B, M_Z, K1, K2, K, Kprime (floats, inf past the float range), and
    log10_K, log10_label_threshold (the threshold C of (1/n) sum ||y_i||^2),
    log10_Ktilde (Proposition 8 (ii) for a tied initialization).
    """
    K_sigma, eta_r = _K_eta(sigma, r)
    S2 = sigma_mp(sigma)["sup_d2"]
    M_X = math.sqrt(q) if M_X is None else M_X
    sup_Z_init = math.sqrt(2 * q * m) if sup_Z_init is None else sup_Z_init
    with mpmath.workdps(_DPS):
        M = pl.evaluate(pl.M_expr, K_sigma=K_sigma, eta_r=eta_r, n=n, q=q)
        out: dict[str, Any] = {
            "M": M, "mu": pl.evaluate(pl.mu_expr, K_sigma=K_sigma, eta_r=eta_r, n=n, q=q),
            "M_A": norm_A_init + M, "M_B": norm_B_init + M, "M_Z": sup_Z_init + M}
        bounds = bounds_mp(out["M_Z"], M_X, m, q, K_sigma, S2, out["M_A"])
        out.update(K1=bounds["K1"], K2=bounds["K2"], Kprime=bounds["Kprime"],
                   K=max(bounds["K1"], bounds["K2"]))
        values = (out["K"], out["Kprime"], out["M_A"], out["M_B"], M_X, M, 1, K_sigma,
                  abs(eta_r), n, q)
        result = {key: float(value) for key, value in out.items()}
        result["log10_K"] = float(mpmath.log10(out["K"]))
        result["log10_label_threshold"] = float(_log10(label_threshold_expr)(*values))
        result["log10_Ktilde"] = (float(_log10(Ktilde_expr)(*values))
                                  if exp_is_safe(out["K"]) else math.inf)
    return result
