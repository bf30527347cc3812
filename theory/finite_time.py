r"""The clipped flow on [0, T]: Propositions 1, 3 and 7, Theorem 4, Section 4.3, Section 5.2.

Assumption predicates (``Config -> list[str]``, the failed assumptions by name) for S1, S3, S4,
S12 and S13, and the constants of Proposition 7 (p15-17) for model (3),
f(h, (V, W)) = V sigma(W h / sqrt q) / sqrt m, in the paper's norm ||Z|| = ||V||_F + ||W||_F:

    M = M0 + T M_pi,   alpha = 2 e^K K' M (e^K M^2 M_X + M_Y),
    beta = 2 K e^K M (K + e^K K' M M_X)(e^K M^2 M_X + M_Y),
    ||Z_{k+1}(t) - Z_k(t)|| <= (||Z_{k+1}(0) - Z_k(0)|| + beta T / L) e^{alpha T}     (Prop. 7)

and K = beta T e^{alpha T} for a tied initialization (eq. 7).  K1, K2, K' are the suprema (18)-(19);
:func:`K1_bound`, :func:`K2_bound`, :func:`Kprime_bound` are explicit upper bounds for model (3),
derived below.  Notation: u = W h / sqrt q, D1 = diag(sigma'(u)), D2 = diag(sigma''(u)),
K_sigma = sup|sigma'|, S2 = sup|sigma''|; v = ||V||_2 <= ||V||_F, w = ||W||_2 <= ||W||_F.

**K1** (sup over ||z|| <= M of ||d1 f||_2).  d1 f = V D1 W / sqrt(mq), so
||d1 f||_2 <= K_sigma v w / sqrt(mq), and v + w <= ||V||_F + ||W||_F <= M gives v w <= M^2/4:

    K1 <= K_sigma M^2 / (4 sqrt(mq)).                        (needs sigma Lipschitz)

Equality for sigma = identity with V, W rank one, aligned, ||V||_F = ||W||_F = M/2.

**E** = {||h|| <= e^{K1} M_A M_X, ||z|| <= M} (19), with M_A = M in Proposition 7 (the bound on
||A||) and M_A = ||A_init||_2 + M in Proposition 8.  Using the bound of K1 in place of K1
enlarges E, so every sup below stays an upper bound.  Write H = e^{K1} M_A M_X.

**K2** (sup over E of ||d2 f||).  d2 f [dV, dW] = dV sigma(u) / sqrt m + V D1 dW h / sqrt(mq).
With sigma(0) = 0, ||sigma(u)|| <= K_sigma ||u|| <= K_sigma w ||h|| / sqrt q, hence
||d2 f [dV, dW]|| <= a ||dV||_F + b ||dW||_F with a = K_sigma w H / sqrt(mq), b = K_sigma v H /
sqrt(mq).  The Euclidean operator norm (A.1) is <= sqrt(a^2 + b^2) and the norm the proof of
Proposition 7 uses in (20), ||d2 f^T p||_{||V||_F + ||W||_F} <= (a + b) ||p||, is <= a + b; both are
<= K_sigma (v + w) H / sqrt(mq):

    K2 <= K_sigma M H / sqrt(mq).              (needs sigma Lipschitz and sigma(0) = 0)

The bounded route ||sigma(u)|| <= sqrt(m) M_sigma never does better: the sup over v + w <= M of
min(M_sigma, c w) + c v is c M at w = 0 (c = K_sigma H / sqrt(mq)), so M_sigma is not needed.

**K'** (sup over E of max(||d22 f||_2, ||d21 f||_2), Appendix A.1 tensor norms).
d22 f [dz, dz'] = (dV D1 dW' h + dV' D1 dW h) / sqrt(mq) + V D2 ((dW h) o (dW' h)) / (q sqrt m);
with x = ||dV||_F, y = ||dW||_F, c1 = K_sigma H / sqrt(mq), c3 = M S2 H^2 / (q sqrt m) (||a o b|| <=
||a|| ||b||), its norm is <= c1 (x y' + x' y) + c3 y y', whose sup over unit (x, y), (x', y') is the
top eigenvalue (c3 + sqrt(c3^2 + 4 c1^2))/2 of [[0, c1], [c1, c3]]; the sum-norm version the proof
needs, sup ||(d22 f [dz, .])^T p||_{sum} / (||dz||_{sum} ||p||), is <= c1 + c3, which dominates
both:

    K'_22 <= K_sigma H / sqrt(mq) + M S2 H^2 / (q sqrt m).
    d21 f [dh][dz] = dV D1 W dh / sqrt(mq) + V D2 ((W dh) o (dW h)) / (q sqrt m) + V D1 dW dh /
    sqrt(mq), so K'_21 <= K_sigma (v + w) / sqrt(mq) + S2 v w H / (q sqrt m)
                      <= K_sigma M / sqrt(mq) + S2 M^2 H / (4 q sqrt m),
    K' <= max(K'_21, K'_22).                  (needs sigma C^2: S2 = sup|sigma''| finite)

The proof also takes pi 1-Lipschitz in ||V||_F + ||W||_F (it drops pi in (20)): true for the
coordinate clipping; the radial projection on a ball of that norm is only 2-Lipschitz, and a
Lipschitz constant lip_pi multiplies alpha and beta (:func:`pi_lipschitz`).

Overflow: K is already e^{K1}-large, alpha is e^K-large and K = beta T e^{alpha T} is beyond any
float; everything is evaluated in mpmath and reported with its log10 (and log10 log10 for K).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import mpmath
import sympy as sp

from theory import symbols as S
from theory.errors import ConfigError
from theory.formula import Formula

if TYPE_CHECKING:
    from theory.activations import Activation
    from theory.config import Config

# --------------------------------------------------------------------------- assumption names

CLIPPED = "clipped flow (clip != none)"
TIED_OR_SMOOTH = "tied or smooth initialization"
MODEL3 = "model (3) scaling (scaling = paper)"


def activation(config_or_name: Config | str | Activation) -> Activation:
    """The :class:`theory.activations.Activation` of a config, a name or an expression."""
    from theory.activations import Activation, get

    if isinstance(config_or_name, Activation):
        return config_or_name
    if isinstance(config_or_name, str):
        return get(config_or_name)
    return get(config_or_name.activation)


def sigma_failures(sigma: Activation, keys: Iterable[str]) -> list[str]:
    """The names of sigma's assumptions among ``keys`` (flags of :mod:`theory.activations`) that
    fail, or that sympy could not settle (suffix "(undetermined)")."""
    from theory.activations import ASSUMPTIONS

    out = []
    for key in keys:
        if sigma.flags[key] is False:
            out.append(ASSUMPTIONS[key])
        elif sigma.flags[key] is None:
            out.append(f"{ASSUMPTIONS[key]} (undetermined)")
    return out


def _clipped(config: Config) -> list[str]:
    return [CLIPPED] if config.clip == "none" else []


def _lipschitz_init(config: Config) -> list[str]:
    return [TIED_OR_SMOOTH] if config.init == "iid" else []


def wellposed_assumptions(config: Config) -> list[str]:
    """Proposition 1 (S1): the clipped flow (5), whose right-hand side is bounded by pi and locally
    Lipschitz (Picard-Lindelof) when sigma is C^2.  sigma(0) = 0, Lipschitz or bounded are not used
    by the first part of the proof of Proposition 7."""
    return _clipped(config) + sigma_failures(activation(config), ["C2"])


def bounded_assumptions(config: Config) -> list[str]:
    """Proposition 3 / (17) (S3): ||A||_F, ||Z_k||, ||B||_F <= M0 + T M_pi along the clipped flow,
    whose solution is unique for sigma C^2 (Proposition 1)."""
    return wellposed_assumptions(config)


def successive_assumptions(config: Config) -> list[str]:
    """Proposition 7's neighbour bound with this module's explicit K (S3): clipped flow, f C^2 with
    f(0, .) = 0 and f(., z) uniformly Lipschitz (sigma C^2, sigma(0) = 0, sigma Lipschitz), an
    initialization discretizing a Lipschitz Z_init (tied or smooth; i.i.d. layers are O(1) apart
    at t = 0), and model (3) for the constants."""
    failed = _clipped(config) + sigma_failures(activation(config),
                                               ["C2", "lipschitz", "zero_at_zero"])
    failed += _lipschitz_init(config)
    return failed + ([MODEL3] if config.scaling != "paper" else [])


def limit_assumptions(config: Config) -> list[str]:
    """Theorem 4 (S4), through Theorem 14 and Proposition 7: the clipped flow (5), f C^2 with
    f(0, .) = 0 and uniformly Lipschitz in h, Z_init Lipschitz (tied or smooth)."""
    failed = _clipped(config) + sigma_failures(activation(config),
                                               ["C2", "lipschitz", "zero_at_zero"])
    return failed + _lipschitz_init(config)


def general_assumptions(config: Config) -> list[str]:
    """Section 4.3 (S12): Proposition 7 for the general model (11) (any C^2 residual with
    f(0, .) = 0, uniformly Lipschitz in h; here sigma carries these), trained by the clipped flow,
    from a tied or smooth (Gaussian-process) initialization."""
    return limit_assumptions(config)


def realdata_assumptions(config: Config) -> list[str]:
    """Section 5.2 (S13, an experiment): what the theory needs for smooth trained weights, sigma C^2
    (ReLU fails: Appendix D) and a tied or smooth initialization (i.i.d. fails).  The identity
    and GELU meet both."""
    return sigma_failures(activation(config), ["C2"]) + _lipschitz_init(config)


# --------------------------------------------------------------------------- M, M0, M_pi


def M_pi(clip: str, c: float, *, q: int, m: int, d: int, d_out: int) -> float:
    """sup ||pi(.)|| of Proposition 7, max over the A, Z and B blocks, Z in ||V||_F + ||W||_F.

    ``coord`` (projection on the l-infinity ball of radius c): c sqrt(#entries) per matrix, i.e.
    max(c sqrt(qd), 2 c sqrt(qm), c sqrt(q d')).  ``norm`` (radial projection on the ball of
    radius c of the paper's norm: ||A||_F, ||V||_F + ||W||_F, ||B||_F, as numerics.flow does): c.
    """
    if clip == "coord":
        return max(c * math.sqrt(q * d), 2 * c * math.sqrt(q * m), c * math.sqrt(q * d_out))
    if clip == "norm":
        return float(c)
    raise ConfigError("clip", clip, "Proposition 3 needs a clipped flow (coord or norm)")


def pi_lipschitz(clip: str) -> float:
    """Lipschitz constant of pi in ||V||_F + ||W||_F, which multiplies alpha and beta (the proof
    of Proposition 7 drops pi from (20), i.e. takes it 1-Lipschitz).

    ``coord``: 1 (entrywise clamping contracts each Frobenius norm).  ``norm``: 2: a radial
    projection onto a ball is 2-Lipschitz in any norm, and 2 is attained for this l1-type norm
    (x = (V, 0) on the sphere, y = (V, t W'): ||r(x) - r(y)|| / ||x - y|| -> 2 as t -> 0).
    """
    if clip == "coord":
        return 1.0
    if clip == "norm":
        return 2.0
    raise ConfigError("clip", clip, "Proposition 3 needs a clipped flow (coord or norm)")


M_expr = S.M0 + S.T * S.M_pi
"""M = M0 + T M_pi of Proposition 3 ((17), p16): the clipping bounds the speed by M_pi."""
WELLPOSED = Formula("sup_{t<=T} max(||A(t)||_F, sup_k ||Z_k(t)||, ||B(t)||_F)", "<=", M_expr,
                    note="finite: M_0 the initial max, M_pi = sup ||pi(.)||")
BOUNDED = Formula("max_t max(||A(t)||_F, sup_k ||Z_k(t)||, ||B(t)||_F)", "<=", M_expr,
                  note="M_0 the measured initial max, M_pi = sup ||pi(.)||")
"""The shown formulas of Propositions 1 and 3, whose bound :func:`M_bound` evaluates."""


def M_bound(M0: float, T: float, M_pi: float) -> float:
    """M = M0 + T M_pi (:data:`M_expr`), in floats."""
    return BOUNDED.function(S.M0, S.T, S.M_pi, modules="math")(M0, T, M_pi)


def M0_bound(q: int, m: int) -> float:
    """M0 <= 2 sqrt(qm) for the initialization of Section 3 (B.3): ||A||_F = sqrt d <= 2 sqrt(qm),
    ||B||_F = sqrt d' <= 2 sqrt(qm) (q >= max(d, d')), ||V||_F = 0 and ||W_bar||_F <= 2 sqrt(qm)
    with probability >= 1 - :func:`M0_failure_probability` (Lemma 20, M_W = 2)."""
    return 2.0 * math.sqrt(q * m)


def M0_failure_probability(q: int, m: int) -> float:
    """exp(-3 qm / 16) = exp(-(M_W^2 - 1) qm / 16) at M_W = 2 (Lemma 20)."""
    return math.exp(-3.0 * q * m / 16.0)


# --------------------------------------------------------------------------- K1, K2, K' (sympy)

M_A = sp.Symbol("M_A", positive=True)  # the bound on ||A|| entering E (M in Prop. 7)
H = sp.Symbol("H", positive=True)  # the radius of the h-ball of E
K, K_prime = sp.symbols("K K'", positive=True)

K1_expr = S.K_sigma * S.M**2 / (4 * sp.sqrt(S.m * S.q))
E_radius_expr = sp.exp(K1_expr) * M_A * S.M_X
K2_expr = S.K_sigma * S.M * H / sp.sqrt(S.m * S.q)
Kprime22_expr = S.K_sigma * H / sp.sqrt(S.m * S.q) + S.M * S.sup_d2 * H**2 / (S.q * sp.sqrt(S.m))
Kprime21_expr = (S.K_sigma * S.M / sp.sqrt(S.m * S.q)
                 + S.sup_d2 * S.M**2 * H / (4 * S.q * sp.sqrt(S.m)))

# Proposition 7 as printed (p16); theory.derivations recomposes both from the proof (p16-17).
alpha_expr = 2 * sp.exp(K) * K_prime * S.M * (sp.exp(K) * S.M**2 * S.M_X + S.M_Y)
beta_expr = (2 * K * sp.exp(K) * S.M * (K + sp.exp(K) * K_prime * S.M * S.M_X)
             * (sp.exp(K) * S.M**2 * S.M_X + S.M_Y))
LIP_PI = sp.Symbol("Lip_pi", positive=True)  # :func:`pi_lipschitz`, multiplies alpha and beta
alpha, beta = sp.symbols("alpha beta", positive=True)
K1, K2, K21, K22 = sp.symbols("K_1 K_2 K'_21 K'_22", positive=True)
gap0 = sp.Symbol("||Z_{k+1}(0) - Z_k(0)||", nonnegative=True)
SUCCESSIVE = Formula(
    "max_{k,t} ||Z_{k+1}(t) - Z_k(t)||", "<=", (gap0 + beta * S.T / S.L) * sp.exp(alpha * S.T),
    ((alpha, LIP_PI * alpha_expr), (beta, LIP_PI * beta_expr), (K, sp.Max(K1, K2)),
     (K_prime, sp.Max(K21, K22)), (K1, K1_expr), (K2, K2_expr), (K21, Kprime21_expr),
     (K22, Kprime22_expr), (H, E_radius_expr), (M_A, S.M), (S.M, M_expr)),
    note="Proposition 7 with the bounds (18)-(19) of K_1, K_2, K' for model (3); "
         "Lip_pi = 1 (coordinate clipping) or 2 (norm clipping)")
"""Proposition 7's neighbour bound (p16) as :func:`prop3_constants` and
:func:`successive_bound_log10` evaluate it."""
_SUCCESSIVE_LOG10 = sp.expand(sp.expand_log(sp.log(SUCCESSIVE.rhs), force=True) / sp.log(10))

_DPS = 30
_EXP_MAX = mpmath.mpf("1e4000")  # exp of larger arguments is not evaluated (beyond any use)
_SIZES = (S.K_sigma, S.sup_d2, S.M, S.M_X, S.m, S.q, H)


def exp_is_safe(value: Any) -> bool:
    """Whether mpmath may evaluate exp(value) (|value| < 1e4000: the result's exponent stays a
    manageable integer)."""
    return bool(mpmath.isfinite(value) and abs(value) < _EXP_MAX)


@functools.cache
def _mp(expr: sp.Expr, args: tuple[sp.Symbol, ...]) -> Callable[..., Any]:
    return sp.lambdify(args, expr, modules="mpmath")


def sigma_mp(sigma: Activation | str) -> dict[str, Any]:
    """K_sigma, M_sigma, sup_d2 (= sup|sigma''|) of sigma as mpf (inf where infinite, nan where
    undefined or undetermined)."""
    sig = activation(sigma)
    with mpmath.workdps(_DPS):
        return {"K_sigma": _mpf(sig.K_sigma), "M_sigma": _mpf(sig.M_sigma),
                "sup_d2": _mpf(sig.sup_d2)}


def _sigma_constants(sigma: Activation | str, *, need_zero: bool) -> tuple[Any, Any]:
    """(K_sigma, sup|sigma''|) as mpf; sigma(0) = 0 checked when ``need_zero``."""
    sig = activation(sigma)
    if need_zero and sig.flags["zero_at_zero"] is not True:
        raise ConfigError("activation", sig.name, "the bound needs sigma(0) = 0 (f(0, .) = 0)")
    values = sigma_mp(sig)
    return values["K_sigma"], values["sup_d2"]


def _mpf(value: sp.Expr) -> Any:
    if value is sp.nan:
        return mpmath.nan
    if value is sp.oo:
        return mpmath.inf
    return mpmath.mpf(sp.N(value, _DPS + 5))


def _positive(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ConfigError(name, value, "must be a positive number")


def bounds_mp(M: float, M_X: float, m: int, q: int, K_sigma: Any, S2: Any,
               M_A_: float) -> dict[str, Any]:
    """The bounds of K1, E_radius, K2, K' as mpf (call inside ``mpmath.workdps``), for a z-ball of
    radius M and an h-ball of radius e^{K1} M_A M_X; K_sigma, S2 = sup|sigma''| as mpf."""
    K1 = _mp(K1_expr, (S.K_sigma, S.M, S.m, S.q))(K_sigma, M, m, q)
    radius = (_mp(E_radius_expr, (S.K_sigma, S.M, S.m, S.q, M_A, S.M_X))(
        K_sigma, M, m, q, M_A_, M_X) if exp_is_safe(K1) else mpmath.inf * K1)
    sizes = (K_sigma, S2, M, M_X, m, q, radius)
    k21, k22 = (_mp(e, _SIZES)(*sizes) for e in (Kprime21_expr, Kprime22_expr))
    return {"K1": K1, "E_radius": radius, "K2": _mp(K2_expr, _SIZES)(*sizes),
            "Kprime": mpmath.nan if mpmath.isnan(k21 + k22) else max(k21, k22)}


def _checked_sizes(**sizes: float) -> None:
    for name, value in sizes.items():
        _positive(name, value)


def K1_bound(M: float, m: int, q: int, sigma: Activation | str) -> float:
    """Upper bound K_sigma M^2 / (4 sqrt(mq)) of K1 = sup_{||z|| <= M} ||d1 f(h, z)||_2 (18)."""
    return _bound("K1", M, 1.0, m, q, sigma, None, need_zero=False)


def E_radius(M: float, M_X: float, m: int, q: int, sigma: Activation | str, *,
             M_A: float | None = None) -> float:
    """Radius e^{K1} M_A M_X of the h-ball of E (19), with K1 replaced by :func:`K1_bound`
    (M_A = M by default, as in Proposition 7; Proposition 8 uses ||A_init||_2 + M)."""
    return _bound("E_radius", M, M_X, m, q, sigma, M_A, need_zero=False)


def K2_bound(M: float, M_X: float, m: int, q: int, sigma: Activation | str, *,
             M_A: float | None = None) -> float:
    """Upper bound K_sigma M e^{K1} M_A M_X / sqrt(mq) of K2 = sup_E ||d2 f||_2 (19); it also
    bounds the operator norm into ||V||_F + ||W||_F used in (20).  Needs sigma(0) = 0."""
    return _bound("K2", M, M_X, m, q, sigma, M_A, need_zero=True)


def Kprime_bound(M: float, M_X: float, m: int, q: int, sigma: Activation | str, *,
                 M_A: float | None = None) -> float:
    """Upper bound max(K'_21, K'_22) of K' = sup_E max(||d22 f||_2, ||d21 f||_2) (module
    docstring).  nan when sigma is not C^2 (sup|sigma''| undefined).  Needs sigma(0) = 0."""
    return _bound("Kprime", M, M_X, m, q, sigma, M_A, need_zero=True)


def _bound(key: str, M: float, M_X: float, m: int, q: int, sigma: Activation | str,
           M_A_: float | None, *, need_zero: bool) -> float:
    _checked_sizes(M=M, M_X=M_X, m=m, q=q)
    K_sigma, S2 = _sigma_constants(sigma, need_zero=need_zero)
    with mpmath.workdps(_DPS):
        return float(bounds_mp(M, M_X, m, q, K_sigma, S2, M if M_A_ is None else M_A_)[key])


# --------------------------------------------------------------------------- Proposition 7


def _log10(value: Any) -> float:
    if mpmath.isnan(value):
        return math.nan
    return float(mpmath.log10(value)) if value > 0 else -math.inf


def prop3_constants(sigma: Activation | str, *, q: int, m: int, T: float, M_pi: float,
                    M_X: float, M_Y: float, M0: float | None = None,
                    lip_pi: float = 1.0) -> dict[str, float]:
    """Every constant of Propositions 3 and 7 for model (3), as floats (inf past the float range)
    with their log10.

    M0 defaults to :func:`M0_bound` (the w.h.p. bound 2 sqrt(qm) of Prop. 3); M = M0 + T M_pi;
    alpha and beta are multiplied by ``lip_pi`` (:func:`pi_lipschitz`; 1 as in the paper).
    Keys: M0, M_pi, M, K1, E_radius, K2, Kprime, K, alpha, beta, K_tied (= beta T e^{alpha T},
    eq. 7), and log10_* of each of K1, E_radius, K2, Kprime, K, alpha, beta, K_tied, plus
    log10_log10_K_tied.  K1, K2, K' are this module's upper bounds, so every value is an upper
    bound of the paper's constant.  Needs sigma(0) = 0.
    """
    _checked_sizes(q=q, m=m, T=T, M_pi=M_pi, M_X=M_X, lip_pi=lip_pi)
    if isinstance(M_Y, bool) or not isinstance(M_Y, int | float) or not M_Y >= 0:
        raise ConfigError("M_Y", M_Y, "must be a non-negative number")
    M0 = M0_bound(q, m) if M0 is None else M0
    _checked_sizes(M0=M0)
    M = M0 + T * M_pi
    K_sigma, S2 = _sigma_constants(sigma, need_zero=True)
    with mpmath.workdps(_DPS):
        values = bounds_mp(M, M_X, m, q, K_sigma, S2, M)
        values["K"] = Kmax = max(values["K1"], values["K2"])
        args = (K, K_prime, S.M, S.M_X, S.M_Y, LIP_PI)
        for symbol, expr in SUCCESSIVE.where[:2]:
            values[str(symbol)] = (_mp(expr, args)(Kmax, values["Kprime"], M, M_X, M_Y, lip_pi)
                                   if exp_is_safe(Kmax) else mpmath.inf)
        alpha, beta = values["alpha"], values["beta"]
        # log10 K_tied = log10(beta T) + alpha T log10(e)
        log10_K = (mpmath.log10(beta * T) + alpha * T / mpmath.ln(10)
                   if mpmath.isfinite(alpha) else alpha)
        out: dict[str, float] = {"M0": float(M0), "M_pi": float(M_pi), "M": float(M)}
        out.update({key: float(value) for key, value in values.items()})
        out["K_tied"] = (math.nan if mpmath.isnan(log10_K) else math.inf if log10_K >= 400
                         else float(mpmath.power(10, log10_K)))
        out.update({f"log10_{key}": _log10(value) for key, value in values.items()})
        out["log10_K_tied"] = float(log10_K)
        out["log10_log10_K_tied"] = _log10(log10_K)
    return out


def successive_bound(init_gap: float, L: int, constants: dict[str, float], T: float) -> float:
    """(||Z_{k+1}(0) - Z_k(0)|| + beta T / L) e^{alpha T} (Proposition 7) from
    :func:`prop3_constants`; inf when beyond the float range (see :func:`successive_bound_log10`).
    """
    value = successive_bound_log10(init_gap, L, constants, T)
    return math.inf if value >= 308 else 10.0**value  # nan stays nan


def successive_bound_log10(init_gap: float, L: int, constants: dict[str, float],
                           T: float) -> float:
    """log10 of :func:`successive_bound` (inf when even that overflows a float)."""
    if not (isinstance(init_gap, int | float) and init_gap >= 0):
        raise ConfigError("init_gap", init_gap, "must be a non-negative number")
    _positive("L", L)
    _positive("T", T)
    alpha_, log10_beta = constants["alpha"], constants["log10_beta"]
    if math.isnan(alpha_) or math.isnan(log10_beta):
        return math.nan  # K' undefined: sigma is not C^2
    if math.isinf(alpha_) or math.isinf(log10_beta):
        return math.inf
    with mpmath.workdps(_DPS):  # log10 of SUCCESSIVE's rhs, so that e^{alpha T} is never formed
        return float(_mp(_SUCCESSIVE_LOG10, (gap0, beta, alpha, S.T, S.L))(
            init_gap, mpmath.power(10, log10_beta), alpha_, T, L))
