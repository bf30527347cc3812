r"""Lemmas 18, 20 and 21 (Appendix C, pp. 37-38; docs/statements.md, families S7-S9).

Lemma 18 (linear algebra) is recorded as text with its shape conditions (the numeric check on drawn
matrices lives in ``numerics``/``properties``).  Lemma 20 (Frobenius norm of a Gaussian matrix)
has an exact tail: ||W||_F^2 ~ chi-square(qm).  Lemma 21 (smallest singular value of random
features) gives delta explicitly.

Findings (PDF pp. 37-38):

* Lemma 20 assumes M_W >= sqrt(2) (the PDF; the text extraction garbles it).  The proof needs it
  for sqrt(M_W^2 - 1) <= M_W^2 - 1.  The bound itself survives below sqrt(2) down to
  :func:`lemma20_breakdown` ~ 1.1396: for smaller M_W > 1 the chi-square large-deviation rate
  (u - log(1 + u)) / 2, u = M_W^2 - 1, falls below u / 16 and the exact tail exceeds the bound
  once qm is large.
* Lemma 21's proof applies Tropp (2012, Remark 5.3) as
  P(lambda_min(M) <= t lambda_min(E M) | X) <= n exp(-(1 - t^2) lambda_min(E M) / (2R)).  With
  t = 1/2 the exponent 3/8 mu/R exceeds even the sharp Chernoff exponent
  (t log t - t + 1) mu/R = (1 - log 2)/2 mu/R ~ 0.153 mu/R, which is attained by sums of scaled
  Bernoulli variables (n = 1) in the Poisson regime, so the printed inequality is false; the
  simplified Chernoff bound reads (1 - t)^2 (as we recall Tropp's remark), giving
  n exp(-m eta_r^2 / (64 M_sigma^2 n)) instead of n exp(-3 m eta_r^2 / (64 M_sigma^2 n)).
  :data:`CHERNOFF` holds the three exponents; :func:`lemma21_delta` uses the paper's by default.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import mpmath
import sympy as sp

from theory import activations, hermite
from theory import symbols as S
from theory.errors import ConfigError
from theory.formula import Formula

if TYPE_CHECKING:
    from theory.activations import Activation
    from theory.config import Config

# --------------------------------------------------------------------------- Lemma 18


@dataclasses.dataclass(frozen=True)
class Inequality:
    """One inequality of Lemma 18 with the shapes and the condition under which it holds."""

    text: str
    shapes: str
    condition: sp.Basic  # a sympy relation in the shape symbols (true: no condition)


LEMMA18: tuple[Inequality, ...] = (  # Lemma 18's own m, r, n (shapes, not the model's)
    Inequality("smin(A + A') >= smin(A) - ||A'||_F", "A, A' m x r", sp.true),
    Inequality("||A B||_F >= smin(A) ||B||_F", "A m x r, B r x n", sp.Ge(S.m, S.r)),
    Inequality("||A B||_F >= ||A||_F smin(B)", "A m x r, B r x n", sp.Ge(S.n, S.r)),
)


def lemma18_assumptions(config: Config) -> list[str]:
    """The shape conditions of Lemma 18's inequalities that fail for A m x r, B r x n with
    m = ``config.m``, r = ``config.q``, n = ``config.n`` (as "m >= r", "n >= r"): the check
    measures all three, so an inequality outside its condition is reported, not tested."""
    shapes = {S.m: config.m, S.r: config.q, S.n: config.n}
    return [str(i.condition) for i in LEMMA18 if not bool(i.condition.subs(shapes))]


# --------------------------------------------------------------------------- Lemma 20

LEMMA20_CONDITION = "M_W >= sqrt(2)"
LEMMA20_BOUND = sp.exp(-(S.M_W**2 - 1) * S.q * S.m / 16)  # >= P(||W||_F > M_W sqrt(qm))
LEMMA20 = Formula("P(||W||_F > M_W sqrt(qm))", "<=", LEMMA20_BOUND)
"""Lemma 20 as its check evaluates it (:func:`lemma20_bound`)."""


def lemma20_bound(q: int, m: int, M_W: float | mpmath.mpf, dps: int = 40) -> mpmath.mpf:
    """exp(-(M_W^2 - 1) qm / 16), Lemma 20's bound on P(||W||_F > M_W sqrt(qm))."""
    _sizes(q=q, m=m)
    return _evaluate(LEMMA20.rhs, {S.q: q, S.m: m, S.M_W: _exact(M_W)}, dps)


def _exact(value: float | mpmath.mpf) -> sp.Expr:
    return sp.Float(mpmath.mpf(value), 50) if not isinstance(value, int) else sp.Integer(value)


def _evaluate(expr: sp.Expr, values: dict[sp.Symbol, sp.Expr], dps: int) -> mpmath.mpf:
    with mpmath.workdps(dps):
        return mpmath.mpf(sp.N(expr.subs(values), dps + 5))


def lemma20_exact_tail(q: int, m: int, M_W: float | mpmath.mpf, dps: int = 40) -> mpmath.mpf:
    """P(||W||_F > M_W sqrt(qm)) = P(chi2_{qm} > M_W^2 qm) = Q(qm/2, M_W^2 qm/2), the
    regularized upper incomplete gamma function."""
    _sizes(q=q, m=m)
    with mpmath.workdps(dps):
        k = mpmath.mpf(q * m)
        return +mpmath.gammainc(k / 2, mpmath.mpf(M_W) ** 2 * k / 2, mpmath.inf,
                                regularized=True)


def lemma20_assumptions(config: Config) -> list[str]:
    """["M_W >= sqrt(2)"] when config.M_W is below sqrt 2 (Lemma 20's hypothesis, PDF p. 37)."""
    return [] if config.M_W**2 >= 2 else [LEMMA20_CONDITION]


def lemma20_breakdown(dps: int = 30) -> mpmath.mpf:
    """M_W* > 1 below which Lemma 20's bound fails for large qm: u = M_W*^2 - 1 solves
    (u - log(1 + u)) / 2 = u / 16 (Cramer rate of chi-square(k)/k against the bound's rate)."""
    with mpmath.workdps(dps):
        u = mpmath.findroot(lambda u: u - mpmath.log(1 + u) - u / 8, 0.27)
        return +mpmath.sqrt(1 + u)


def M0_bound(q: int, m: int) -> tuple[mpmath.mpf, mpmath.mpf]:
    """(2 sqrt(qm), exp(-3qm/16)): Lemma 20 with M_W = 2, as Proposition 3 uses it:
    M0 <= 2 sqrt(qm) with probability >= 1 - exp(-3qm/16)."""
    with mpmath.workdps(40):
        return 2 * mpmath.sqrt(q * m), lemma20_bound(q, m, 2)


# --------------------------------------------------------------------------- Lemma 21

# The coefficient c of the first term n exp(-c m eta_r^2 / (M_sigma^2 n)) of delta:
CHERNOFF = {
    "paper": sp.Rational(3, 64),  # (1 - t^2)/2 * 1/8 at t = 1/2, as printed (p. 38)
    "tropp": sp.Rational(1, 64),  # (1 - t)^2/2 * 1/8, Tropp (2012) Remark 5.3
    "sharp": (1 - sp.log(2)) / 16,  # (t log t - t + 1) * 1/8, Tropp (2012) Theorem 5.1
}
_c = sp.Symbol("c", positive=True)
# Lemma 21's C is Proposition 5's v_x: the sub-Gaussian variance proxy of the columns of sqrt(d) X
LEMMA21_DELTA = (S.n * sp.exp(-_c * S.m * S.eta_r**2 / (S.M_sigma**2 * S.n))
                 + 2 * S.n**2 * sp.exp(-(S.d / (2 * S.v_x**2))
                                       * (sp.Rational(3, 4) / S.n) ** (2 / S.r)))
LEMMA21 = Formula("P(smin(sigma(W X)) < sqrt(m) |eta_r| / 4)", "<=",
                  LEMMA21_DELTA.xreplace({_c: CHERNOFF["paper"]}),
                  note="delta of p38 as printed; v_x^2 = C^2 = 1 for unit-sphere columns")
"""Lemma 21 as its check evaluates it (:func:`lemma21_delta` with the paper's Chernoff
coefficient)."""
BOUNDED = "sigma bounded"


def _sizes(**sizes: int) -> None:
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ConfigError(name, value, "must be a positive integer")


def _bounded(sigma: Activation | str) -> Activation:
    act = activations.get(sigma if isinstance(sigma, str) else sigma.name)
    if not act.M_sigma.is_finite:
        raise ConfigError("activation", act.name, "Lemma 21 needs a bounded sigma (M_sigma "
                          f"finite; it is {act.M_sigma})")
    return act


def lemma21_threshold(sigma: Activation | str, r: int, m: int) -> mpmath.mpf:
    """sqrt(m) |eta_r(sigma)| / 4, the lower bound of smin(sigma(W X)) in Lemma 21."""
    _sizes(r=r, m=m)
    with mpmath.workdps(40):
        return mpmath.sqrt(m) * abs(hermite.eta(sigma, r)) / 4


def lemma21_delta(sigma: Activation | str, r: int, m: int, n: int, d: int,
                  C2: float | mpmath.mpf = 1, chernoff: str = "paper") -> mpmath.mpf:
    r"""delta = n exp(-3 m eta_r^2 / (64 M_sigma^2 n)) + 2 n^2 exp(-(d / (2 C^2)) (3/(4n))^{2/r})
    (Lemma 21, PDF p. 38).

    ``C2`` is C^2, the sub-Gaussian variance proxy of the columns of sqrt(d) X in the sense of
    p. 31 (P(|<x, y>| >= t) <= 2 exp(-t^2 / (2 C^2)) for unit y).  The default C^2 = 1 is our
    choice for columns uniform on the unit sphere, from the cap bound
    P(u_1 >= s) <= exp(-d s^2 / 2) (K. Ball, An elementary introduction to modern convex
    geometry, 1997, Lemma 2.2; checked against the exact Beta law in the tests).  Whether it
    matches the convention of Nguyen & Mondelli (2020, Lemma 3.4), whose constants are not
    explicit, is not verified: a stated choice, not a proven constant of the lemma.
    For m < n, smin(sigma(W X)) = 0, and indeed delta >= 1 then: eta_r^2 <= E[sigma^2] <=
    M_sigma^2 makes the first term at least n e^{-3/64} >= 1 (n >= 2).
    ``chernoff`` picks the first term's coefficient c (3/64 as printed) from :data:`CHERNOFF`;
    :data:`LEMMA21_DELTA` is the formula with c symbolic.
    """
    _sizes(r=r, m=m, n=n, d=d)
    if r < 2:
        raise ConfigError("r", r, "Lemma 21 needs r >= 2")
    if chernoff not in CHERNOFF:
        raise ConfigError("chernoff", chernoff, f"must be one of {', '.join(CHERNOFF)}")
    if not C2 > 0:
        raise ConfigError("C2", C2, "the variance proxy must be positive")
    act = _bounded(sigma)
    values = {S.m: m, S.n: n, S.d: d, S.r: r, S.M_sigma: act.M_sigma,
              S.eta_r: sp.Float(hermite.eta(act, r), 45), S.v_x: sp.sqrt(_exact(C2))}
    delta = (LEMMA21.rhs if chernoff == "paper"
             else LEMMA21_DELTA.xreplace({_c: CHERNOFF[chernoff]}))
    return _evaluate(delta, values, 40)


def lemma21_vacuous(sigma: Activation | str, r: int, m: int, n: int, d: int,
                    C2: float | mpmath.mpf = 1, chernoff: str = "paper") -> bool:
    """True when delta >= 1: the lemma then guarantees nothing ("vacuous (delta >= 1)")."""
    return bool(lemma21_delta(sigma, r, m, n, d, C2, chernoff) >= 1)


def lemma21_assumptions(config: Config) -> list[str]:
    """Failed hypotheses of Lemma 21: "sigma bounded" (or "... (undetermined)") and
    "eta_r(sigma) != 0 for some r >= 2" (for config.r when given)."""
    failed = [f for f in activations.get(config.activation).failed() if f.startswith(BOUNDED)]
    r_used = hermite.index(config.activation, config.r)
    if r_used is None:
        failed.append("eta_r(sigma) != 0 for some r >= 2")
    elif config.r is not None and hermite.first_nonzero(config.activation, config.r,
                                                         config.r) is None:
        failed.append(f"eta_r(sigma) != 0 for r = {config.r}")
    return failed
