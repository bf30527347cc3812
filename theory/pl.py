r"""Definition 1 and Proposition 5: the local Polyak-Lojasiewicz condition (proof: B.5, p32-35).

With K = K_sigma (Lipschitz constant of sigma) and eta = |eta_r(sigma)|, the proof defines
(p34) C1 = K e^{2 sqrt2 K}, C2 = 128 C1 K, C3 = e^{-2 sqrt2 K} / 8 and concludes (p35)

    c1 = max(2^10 K^2 e^{4 sqrt2 K} / eta^2, 1),   c2 = 128 K^2 e^{2 sqrt2 K} / eta,
    c3 = min(eta / (32 sqrt2 K), 1/2),             c4 = eta^3 / (2^14 K^2 e^{6 sqrt2 K}),
    M = c3 / sqrt(nq),  mu = c4 / (n sqrt(nq)),  m >= m_min = c1 n,  L >= L_min = c2 sqrt(nq),
    delta = exp(-qm/16) + n exp(-3 m eta^2 / (64 M_sigma^2 n))
            + 2 n^2 exp(-(d / (2 v_x^2)) (3/(4n))^{2/r}).

(:mod:`theory.derivations` recomposes c1..c4 from C1..C3 and the two conditions of the proof.)

eta_r enters as |eta_r|: the proof uses it only as a scale, through smin(sigma(W X)) >=
sqrt(m) |eta_r| / 4 (Lemma 21, which rests on lambda_min >= m eta_r^2 / 8); with the signed
eta_3(tanh) < 0, c2 and c4 would be negative.  Flipping sigma to -sigma flips every eta_r and maps
the network to itself with V -> -V, so only |eta_r| can matter.

v_x^2 is the sub-Gaussian variance proxy of the columns of sqrt(d/q) x (B.5).  For x uniform on the
sphere of radius sqrt(q) in R^d (data = "sphere"), sqrt(d/q) x is uniform on the sphere of radius
sqrt(d); for a unit y, <sqrt(d/q) x, y> = sqrt(d) u_1 with u uniform on S^{d-1}, and the cap bound
P(u_1 >= e) <= exp(-d e^2 / 2) (K. Ball, An elementary introduction to modern convex geometry,
Lemma 2.2) gives P(|<., y>| >= t) <= 2 exp(-t^2/2): v_x^2 = 1 (:data:`V_X2_SPHERE`), independent
of d as Remark 2 says (Vershynin, Thm 3.4.6).

Intermediate estimates of the proof (verified on p32-34), for parameters within the proof's radius
of the initialization, with ||x_i|| = sqrt(q), ||W_bar||_F <= sqrt(2qm):
||h_k||_F <= 2 e^{2 sqrt2 K} sqrt(qn) (50); e^{-2 sqrt2 K} sqrt(l/n) <= ||p_k||_F <= 3 e^{2 sqrt2 K}
sqrt(l/n) (51), for the matrix backward state p_k = dl/dh_k with l = ||B h_L - y||_F^2 / n;
smin(sigma(W_bar A_bar x / sqrt q)) >= sqrt(m) eta / 4 (Lemma 21, probability 1 - the last two
terms of delta), and >= sqrt(m) eta / 8 after the perturbation, for k <= L eta / (C2 sqrt(nq)).

The proof's radius is min(eta / (32 sqrt2 K sqrt(nq)), 1/2) (p32) while the statement's is
c3 / sqrt(nq) = min(eta / (32 sqrt2 K), 1/2) / sqrt(nq): never larger, so the statement is
implied, but the two differ (a finding, see :mod:`theory.derivations`).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import mpmath
import sympy as sp

from theory import symbols as S
from theory.errors import ConfigError
from theory.finite_time import MODEL3, activation, sigma_failures, sigma_mp
from theory.formula import Formula, show

if TYPE_CHECKING:
    from theory.activations import Activation
    from theory.config import Config

K = S.K_sigma
eta = sp.Symbol("|eta_r|", positive=True)  # every formula uses |eta_r| (module docstring)
ell = sp.Symbol("l", positive=True)  # the loss
k = sp.Symbol("k", positive=True, integer=True)  # a layer index

# the proof's constants (p34)
C1_expr = K * sp.exp(2 * sp.sqrt(2) * K)
C2_expr = 128 * C1_expr * K
C3_expr = sp.exp(-2 * sp.sqrt(2) * K) / 8

# the statement's constants as printed (p35)
c1_expr = sp.Max(2**10 * K**2 * sp.exp(4 * sp.sqrt(2) * K) / eta**2, 1)
c2_expr = 128 * K**2 * sp.exp(2 * sp.sqrt(2) * K) / eta
c3_expr = sp.Min(eta / (32 * sp.sqrt(2) * K), sp.Rational(1, 2))
c4_expr = eta**3 / (2**14 * K**2 * sp.exp(6 * sp.sqrt(2) * K))

M_expr = c3_expr / sp.sqrt(S.n * S.q)
mu_expr = c4_expr / (S.n * sp.sqrt(S.n * S.q))
m_min_expr = c1_expr * S.n
L_min_expr = c2_expr * sp.sqrt(S.n * S.q)
delta_terms_expr = (
    sp.exp(-S.q * S.m / 16),
    S.n * sp.exp(-3 * S.m * eta**2 / (64 * S.M_sigma**2 * S.n)),
    2 * S.n**2 * sp.exp(-(S.d / (2 * S.v_x**2)) * (sp.Rational(3, 4) / S.n) ** (2 / S.r)),
)
pl_radius_proof_expr = sp.Min(eta / (32 * sp.sqrt(2) * K * sp.sqrt(S.n * S.q)),
                              sp.Rational(1, 2))

# intermediate estimates of B.5
h_bound_expr = 2 * sp.exp(2 * sp.sqrt(2) * K) * sp.sqrt(S.q * S.n)  # (50)
p_lower_expr = sp.exp(-2 * sp.sqrt(2) * K) * sp.sqrt(ell / S.n)  # (51)
p_upper_expr = 3 * sp.exp(2 * sp.sqrt(2) * K) * sp.sqrt(ell / S.n)
smin_init_expr = sp.sqrt(S.m) * eta / 4  # Lemma 21
smin_perturbed_expr = sp.sqrt(S.m) * eta / 8  # for k <= L eta / (C2 sqrt(nq))
k_max_expr = S.L * eta / (C2_expr * sp.sqrt(S.n * S.q))

PL = Formula(f"G/l at initialization, on the ball of radius M = {show(M_expr)} around it and "
             "along training", ">=", mu_expr,
             note="G = ||dl/dA||^2 + L sum_k ||dl/dZ_k||^2 + ||dl/dB||^2; "
                  "mu = c4 / (n sqrt(nq)), p35")
"""Proposition 5's (M, mu)-local PL condition as its check evaluates it
(:func:`local_constants`)."""

V_X2_SPHERE = 1.0
"""v_x^2 for x uniform on the sphere of radius sqrt(q) (module docstring)."""

SPHERE = "||x_i|| = sqrt(q) (data = sphere)"
Q_SPLIT = "q >= d + d'"
WIDTH = "m >= c1*n"
DEPTH = "L >= c2*sqrt(n*q)"
TIED = "tied initialization (Section 3)"
SOME_R = "some r >= 2 with eta_r != 0"
_DPS = 30
_SIGMA_KEYS = ("C2", "nonconstant", "lipschitz", "bounded", "zero_at_zero", "nonpolynomial")


def eta_failure(r: int) -> str:
    """The name of the failed assumption eta_r != 0 for a given r."""
    return f"eta_r != 0 (r = {r})"


@functools.cache
def _mp(expr: sp.Expr) -> Any:
    args = (S.K_sigma, eta, S.M_sigma, S.n, S.q, S.m, S.d, S.r, S.L, S.v_x, ell)
    return sp.lambdify(args, expr, modules="mpmath")


def evaluate(expr: sp.Expr, *, K_sigma: Any, eta_r: Any, M_sigma: Any = mpmath.inf, n: int = 1,
             q: int = 1, m: int = 1, d: int = 1, r: int = 2, L: int = 1,
             v_x2: float = V_X2_SPHERE, loss: float = 1.0) -> Any:
    """An expression of this module at the given values (|eta_r| is taken), in mpmath at 30
    digits."""
    with mpmath.workdps(_DPS):
        return _mp(expr)(K_sigma, abs(eta_r), M_sigma, n, q, m, d, r, L, mpmath.sqrt(v_x2), loss)


def hermite(sigma: Activation | str, r: int | None = None) -> tuple[int | None, Any]:
    """(r, eta_r) for Proposition 5: the given r >= 2, else the first r >= 2 with eta_r != 0;
    (r, None) when eta_r = 0 (to quadrature accuracy), (None, None) when no r <= 30 has one."""
    from theory import hermite as hermite_module

    sig = activation(sigma)
    if r is not None and (isinstance(r, bool) or not isinstance(r, int) or r < 2):
        raise ConfigError("r", r, "the Hermite index of Proposition 5 must be an integer >= 2")
    if r is None:
        r = hermite_module.first_nonzero(sig)
        if r is None:
            return None, None
    if hermite_module.first_nonzero(sig, r_min=r, r_max=r) is None:
        return r, None
    return r, hermite_module.eta(sig, r)


def failed(sigma: Activation | str, *, n: int, q: int, d: int, d_out: int, m: int | None,
           L: int | None, r: int | None) -> list[str]:
    """Proposition 5's assumptions that can be judged from sigma and the sizes (m, L: None means
    not given, not judged); the data, initialization and model are judged by :func:`assumptions`.
    """
    sig = activation(sigma)
    out = sigma_failures(sig, _SIGMA_KEYS)
    if q < d + d_out:
        out.append(Q_SPLIT)
    try:
        r, eta_r = hermite(sig, r)
    except ConfigError as exc:  # no Hermite coefficients for sigma's growth: named above
        if exc.field != "activation":
            raise
        return out
    if eta_r is None:
        out.append(SOME_R if r is None else eta_failure(r))
        return out
    sizes = thresholds(sig, n=n, q=q, r=r)
    if sizes is None:
        return out
    if m is not None and m < sizes["m_min"]:
        out.append(WIDTH)
    if L is not None and L < sizes["L_min"]:
        out.append(DEPTH)
    return out


def thresholds(sigma: Activation | str, *, n: int, q: int, r: int | None) -> dict[str, Any] | None:
    """Proposition 5's sizes {"m_min": c1 n, "L_min": c2 sqrt(nq)} (mpmath), or None where they
    are undefined (no r >= 2 with eta_r != 0, or sigma not Lipschitz)."""
    sig = activation(sigma)
    r, eta_r = hermite(sig, r)
    K_sigma = sigma_mp(sig)["K_sigma"]
    if eta_r is None or not mpmath.isfinite(K_sigma):
        return None
    return {"m_min": evaluate(m_min_expr, K_sigma=K_sigma, eta_r=eta_r, n=n),
            "L_min": evaluate(L_min_expr, K_sigma=K_sigma, eta_r=eta_r, n=n, q=q)}


def assumptions(config: Config) -> list[str]:
    """Proposition 5 (S5): (x_i, y_i) i.i.d. with ||x_i|| = sqrt(q), q >= d + d', m >= c1 n,
    L >= c2 sqrt(nq), sigma C^2, non-constant, Lipschitz, bounded, sigma(0) = 0, eta_r != 0 for
    some r >= 2 (``config.r`` if set), around the initialization of Section 3 (tied), model (3).
    The paper's experiments (GELU: unbounded; Gaussian x: ||x_i|| != sqrt(q)) fail it."""
    out = failed(config.activation, n=config.n, q=config.q, d=config.d, d_out=config.d_out,
                 m=config.m, L=config.L, r=config.r)
    out += [SPHERE] if config.data != "sphere" else []
    out += [TIED] if config.init != "tied" else []
    return out + ([MODEL3] if config.scaling != "paper" else [])


def local_constants(config: Config) -> dict[str, float] | None:
    """{"M": c3 / sqrt(nq), "mu": c4 / (n sqrt(nq))} of Proposition 5 for ``config``, whether or
    not its assumptions hold (a measurement needs the ball to sample); None when they are undefined
    (no r >= 2 with eta_r != 0, or sigma not Lipschitz)."""
    sig = activation(config.activation)
    r, eta_r = hermite(sig, config.r)
    K_sigma = sigma_mp(sig)["K_sigma"]
    if eta_r is None or not mpmath.isfinite(K_sigma):
        return None
    sizes = {"K_sigma": K_sigma, "eta_r": eta_r, "n": config.n, "q": config.q}
    return {"M": float(evaluate(M_expr, **sizes)), "mu": float(evaluate(PL.rhs, **sizes))}
