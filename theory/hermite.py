r"""The Hermite transform of sigma (Appendix B, "Hermite transform", p. 31; docs/statements.md,
hermite.coefficients).

The normalized probabilists' Hermite polynomials
:math:`h_r(x) = \frac{(-1)^r}{\sqrt{r!}} e^{x^2/2} \frac{d^r}{dx^r} e^{-x^2/2} = He_r(x)/\sqrt{r!}`
are an orthonormal basis of :math:`L^2(N(0, 1))`, and

.. math:: \eta_r(\sigma) = \langle \sigma, h_r \rangle = E[\sigma(Z) He_r(Z)] / \sqrt{r!},
   \qquad \sum_{r \ge 0} \eta_r^2 = E[\sigma(Z)^2] \quad \text{(Parseval)}.

:func:`eta` integrates with mpmath (composite Gauss-Legendre on each analytic piece of sigma,
kinks at panel ends, see :func:`_moments`) at ``dps`` significant digits; :func:`eta_closed_form`
gives exact sympy values for the activations where a closed form is known (independent references).

Sign of eta_r (a finding).  Proposition 5 writes its constants with eta_r itself:
c2 = 128 K^2 e^{2 sqrt2 K} / eta_r, c3 = min(eta_r / (32 sqrt2 K), 1/2),
c4 = eta_r^3 / (2^14 K^2 e^{6 sqrt2 K}).  eta_r can be negative (eta_3(tanh) < 0), which would make
c2 and c4 negative and the statement meaningless; the proof only uses eta_r through
lambda_min >= m eta_r^2 / 8 (Lemma 21, eq. 55) and smin >= sqrt(m) |eta_r| / 4, i.e. as a scale.
The constants must therefore be read with |eta_r|; this module returns the signed coefficient and
callers take ``abs``.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import mpmath
import sympy as sp

from theory import activations
from theory.errors import ConfigError
from theory.symbols import x

if TYPE_CHECKING:
    from theory.activations import Activation
    from theory.config import Config

SECOND_MOMENT = "E[sigma(Z)^2] < infinity"


def _name(sigma: Activation | str) -> str:
    return sigma if isinstance(sigma, str) else sigma.name


def _block(r: int) -> int:
    """Coefficients come in blocks r <= 7, 15, 31, 63, ... from one pass over the nodes."""
    return max(8, 1 << r.bit_length()) - 1 if r >= 8 else 7


@functools.lru_cache(maxsize=8)
def _legendre(dps: int) -> tuple[tuple[mpmath.mpf, mpmath.mpf], ...]:
    """48 Gauss-Legendre nodes and weights on [-1, 1] at ``dps`` digits."""
    from mpmath.calculus.quadrature import GaussLegendre

    with mpmath.workdps(dps):
        return tuple(GaussLegendre(mpmath.mp).calc_nodes(5, mpmath.mp.prec))


def _cutoff(r_max: int, dps: int) -> int:
    """L with L^{r_max + 2} e^{-L^2/2} < 10^{-dps}: the Gaussian tail beyond +-L is negligible
    for every sigma of at most linear growth (a Lipschitz sigma)."""
    cut = 8
    while (r_max + 2) * mpmath.log(cut) - cut * cut / 2 > -dps * mpmath.log(10):
        cut += 1
    return cut


@functools.lru_cache(maxsize=256)
def _moments(sigma_name: str, r_max: int, dps: int) -> tuple[tuple[mpmath.mpf, ...], mpmath.mpf]:
    """((E[sigma(Z) He_r(Z)])_{r <= r_max}, E[sigma(Z)^2]) by composite Gauss-Legendre.

    Each analytic piece of sigma (kinks are piece ends) is truncated to [-L, L] and cut into
    panels of width <= 1 with 48 nodes each; sigma(t) e^{-t^2/2} is evaluated once per node and
    He_0..He_{r_max} follow by recurrence.  A panel of half-width 1/2 and a singularity of sigma
    at distance delta from the real axis give an error of order rho^{-96}, rho = 2 delta +
    sqrt(4 delta^2 + 1) (Bernstein ellipse): 1e-78 for tanh (delta = pi/2).
    """
    profile = activations.get(sigma_name)
    growth = 1  # |sigma(t)| = O(|t|^growth) for the tail cut-off
    if profile.expr.is_polynomial(x):
        growth = max(1, int(sp.degree(profile.expr, x)))
    elif profile.flags["lipschitz"] is not True:
        raise ConfigError("activation", sigma_name, "the Hermite quadrature needs sigma of "
                          "polynomial growth (Lipschitz or a polynomial), which sympy did not "
                          "establish")
    parts = activations.pieces(profile.expr)
    if not parts:
        raise ConfigError("activation", sigma_name, "sympy cannot split sigma into pieces")
    with mpmath.workdps(dps + 10):
        nodes = _legendre(dps + 10)
        cut = _cutoff(r_max + growth - 1, dps + 10)
        sums = [mpmath.mpf(0)] * (r_max + 1)
        square = mpmath.mpf(0)
        for e, interval in parts:
            f = sp.lambdify(x, e, modules="mpmath")
            a = max(_mpf(interval.start, dps + 10), -cut)
            b = min(_mpf(interval.end, dps + 10), cut)
            if b <= a:
                continue
            panels = max(1, int(mpmath.ceil(b - a)))
            half = (b - a) / (2 * panels)
            for k in range(panels):
                centre = a + (2 * k + 1) * half
                for node, weight in nodes:
                    t = centre + half * node
                    value = f(t)
                    v = weight * half * value * mpmath.exp(-t * t / 2)
                    square += v * value
                    previous, current = mpmath.mpf(0), mpmath.mpf(1)
                    for j in range(r_max + 1):
                        sums[j] += v * current
                        previous, current = current, t * current - j * previous
        norm = 1 / mpmath.sqrt(2 * mpmath.pi)
        return tuple(+(s_ * norm) for s_ in sums), +(square * norm)


def _mpf(value: sp.Expr, dps: int) -> mpmath.mpf:
    if value.is_infinite:
        return mpmath.inf if value > 0 else -mpmath.inf
    return mpmath.mpf(sp.N(value, dps))


def eta(sigma: Activation | str, r: int, dps: int = 40) -> mpmath.mpf:
    """eta_r(sigma) = E[sigma(Z) He_r(Z)] / sqrt(r!), Z ~ N(0, 1), to about ``dps`` digits.

    The mpf carries ``dps`` digits; arithmetic on it rounds to the caller's mpmath context
    (15 digits by default), so compute under ``mpmath.workdps(dps)`` to keep them.
    """
    if isinstance(r, bool) or not isinstance(r, int) or r < 0:
        raise ConfigError("r", r, "the Hermite index must be a non-negative integer")
    if dps < 15:
        raise ConfigError("dps", dps, "must be at least 15")
    block = _block(r)
    with mpmath.workdps(dps):
        return +(_moments(_name(sigma), block, dps)[0][r] / mpmath.sqrt(mpmath.factorial(r)))


def second_moment(sigma: Activation | str, dps: int = 40) -> mpmath.mpf:
    """E[sigma(Z)^2], Z ~ N(0, 1), for sigma of at most linear growth (truncated at +-L)."""
    with mpmath.workdps(dps):
        return +_moments(_name(sigma), _block(0), dps)[1]


def first_nonzero(sigma: Activation | str, r_min: int = 2, r_max: int = 30) -> int | None:
    """The smallest r in [r_min, r_max] with |eta_r| > 1e-20 sqrt(E[sigma^2]), else None.

    The threshold sits far above the quadrature error (about 1e-35 relative at dps = 40) and far
    below any coefficient of our activations up to r = 30.  None (e.g. the identity, a polynomial
    of degree 1, whose eta_r vanish for r >= 2): Proposition 5 and Lemma 21 need some r >= 2 with
    eta_r != 0 and do not apply.
    """
    scale = mpmath.sqrt(second_moment(sigma))
    if not mpmath.isfinite(scale) or scale == 0:
        return None
    for r in range(r_min, r_max + 1):
        if abs(eta(sigma, r)) > mpmath.mpf("1e-20") * scale:
            return r
    return None


def index(sigma: Activation | str, r: int | None = None) -> int | None:
    """The Hermite index Proposition 5 and Lemma 21 use: ``r`` if given, else the first r >= 2
    with eta_r != 0 (None when there is none up to 30)."""
    return first_nonzero(sigma) if r is None else r


def parseval_partial(sigma: Activation | str, R: int,
                     dps: int = 40) -> tuple[mpmath.mpf, mpmath.mpf]:
    """(sum_{r=0}^{R} eta_r^2, E[sigma(Z)^2]); the first increases to the second (Parseval)."""
    with mpmath.workdps(dps):
        partial = mpmath.fsum(eta(sigma, r, dps) ** 2 for r in range(R + 1))
        return +partial, second_moment(sigma, dps)


def eta_closed_form(name: str, r: int) -> sp.Expr | None:
    r"""Exact eta_r for the activations with a known closed form (None for the others).

    By Gaussian integration by parts, E[sigma(Z) He_r(Z)] = E[sigma^{(r)}(Z)] (distributional
    derivatives for ReLU):

    * identity: eta_1 = 1, all others 0.
    * ReLU: eta_0 = 1/sqrt(2 pi), eta_1 = 1/2, and for r >= 2 sigma'' = delta_0 gives
      E[sigma(Z) He_r(Z)] = phi(0) He_{r-2}(0), so eta_r = 0 for odd r and, for even r,
      eta_r = (-1)^{r/2 - 1} (r - 3)!! / sqrt(2 pi r!)  ((-1)!! = 1).
    * sin: E[sin^{(r)}(Z)] = Im(i^r E[e^{iZ}]) = Im(i^r) e^{-1/2}: eta_r = (-1)^{(r-1)/2}
      e^{-1/2} / sqrt(r!) for odd r, 0 for even r.
    * erf: erf^{(r)}(y) = (2/sqrt pi) (-1)^{r-1} H_{r-1}(y) e^{-y^2} (physicists' H), and the
      generating function sum_k H_k(z) t^k / k! = e^{2zt - t^2} gives
      E[H_k(Z) e^{-Z^2}] = 3^{-1/2} k! (-1/3)^{k/2} / (k/2)! for even k (0 for odd k); so for
      odd r, eta_r = 2 (r-1)! (-1/3)^{(r-1)/2} / (sqrt(3 pi) ((r-1)/2)! sqrt(r!)), 0 for even r.
    """
    name = name.strip().lower()
    r_ = sp.Integer(r)
    root = sp.sqrt(sp.factorial(r_))
    if name == "identity":
        return sp.Integer(1 if r == 1 else 0)
    if name == "relu":
        if r <= 1:
            return [1 / sp.sqrt(2 * sp.pi), sp.Rational(1, 2)][r]
        if r % 2:
            return sp.Integer(0)
        return (-1) ** (r // 2 - 1) * sp.factorial2(r - 3) / (sp.sqrt(2 * sp.pi) * root)
    if name == "sin":
        return sp.Integer(0) if r % 2 == 0 else (-1) ** ((r - 1) // 2) * sp.exp(-sp.Rational(
            1, 2)) / root
    if name == "erf":
        if r % 2 == 0:
            return sp.Integer(0)
        k = r - 1
        return (2 * sp.factorial(k) * sp.Rational(-1, 3) ** (k // 2)
                / (sp.sqrt(3 * sp.pi) * sp.factorial(k // 2) * root))
    return None


def assumptions(config: Config) -> list[str]:
    """Failed assumptions of "hermite.coefficients": only E[sigma(Z)^2] < infinity."""
    moment = second_moment(config.activation)
    return [] if mpmath.isfinite(moment) else [SECOND_MOMENT]
