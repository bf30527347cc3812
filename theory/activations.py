r"""Activation profiles: sigma, its constants K_sigma, M_sigma, sup|sigma''| and the paper's flags.

The paper (Section 3 and Proposition 5) asks sigma to be C^2, non-constant, Lipschitz (constant
:math:`K_\sigma = \sup_x |\sigma'(x)|`), bounded (:math:`M_\sigma = \sup_x |\sigma(x)|`) with
sigma(0) = 0, and uses a Hermite coefficient eta_r != 0 for some r >= 2, which fails for
polynomials of degree < 2 (hence the flag "non-polynomial").  Every constant and flag below is
*computed* by sympy from the expression, never typed in:

* sigma is split into analytic pieces on intervals (``rewrite(Piecewise)`` turns Max, Min, Abs,
  sign and Heaviside into pieces);
* ``sup |f|`` on a piece compares the one-sided limits at finite ends, the limits at +-infinity,
  the values at the critical points (``solveset(f' = 0)``) and the limits at removable
  singularities; a periodic piece (``sympy.periodicity``) is reduced to one period;
* a derivative is continuous when every piece has no singularity inside its interval (a walk over
  the expression tree: poles of negative powers, the domain of roots and logarithms) and the
  one-sided limits agree at every breakpoint.

The strategy is bounded (no timeouts, no numeric search): when sympy cannot settle a step (a
``ConditionSet`` of critical points, an oscillating non-periodic limit, a function it does not
know) the supremum is ``sympy.nan`` and the flags that depend on it are ``None`` (undetermined),
except that a continuous sigma with finite limits (finite ``AccumBounds``) at +-infinity is still
known to be bounded (and Lipschitz, from sigma') even when the value of the supremum is not.
``sup_d2`` is ``sympy.nan`` as well when sigma is not C^2 (``flags["C2"] is False``).

A user expression is parsed by ``sympy.parse_expr`` with a whitelist of functions and ``x`` the
real symbol of :mod:`theory.symbols`; one that sympy finds undefined or discontinuous somewhere
on the line (log(x), 1/x, Heaviside(x)) is rejected, one whose domain the strategy cannot read
(tan(x)) is accepted with undetermined flags.  :func:`lookup` returns (name, sigma) without the
profile and :func:`pieces` the analytic pieces (used by :mod:`theory.hermite`).

>>> get("tanh").sup_d2
4*sqrt(3)/9
>>> get("relu").failed()
['sigma C^2', 'sigma bounded']
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import signal
import threading
from collections.abc import Iterator, Mapping
from types import MappingProxyType

import sympy as sp
from sympy.core.function import AppliedUndef

from theory.errors import ConfigError
from theory.symbols import x

ANALYSIS_SECONDS = 20.0  # time allowed to sympy for a user expression (parse and profile)

NAMES: tuple[str, ...] = ("tanh", "gelu", "relu", "identity", "sigmoid", "softplus", "sin", "erf")

_DEFINITIONS: dict[str, sp.Expr] = {
    "tanh": sp.tanh(x),
    "gelu": x / 2 * (1 + sp.erf(x / sp.sqrt(2))),  # x Phi(x), the exact (erf) form
    "relu": sp.Max(0, x),
    "identity": x,
    "sigmoid": 1 / (1 + sp.exp(-x)) - sp.Rational(1, 2),  # = tanh(x/2)/2
    "softplus": sp.log(1 + sp.exp(x)) - sp.log(2),
    "sin": sp.sin(x),
    "erf": sp.erf(x),
}

# flag key -> the paper's assumption, in the order failed() lists them
ASSUMPTIONS: Mapping[str, str] = MappingProxyType({
    "C2": "sigma C^2",
    "nonconstant": "sigma non-constant",
    "lipschitz": "sigma Lipschitz",
    "bounded": "sigma bounded",
    "zero_at_zero": "sigma(0) = 0",
    "nonpolynomial": "sigma non-polynomial",
})


@dataclasses.dataclass(frozen=True)
class Activation:
    """sigma(x) with its computed constants and assumption flags (None: undetermined)."""

    name: str
    expr: sp.Expr
    K_sigma: sp.Expr  # sup |sigma'|
    M_sigma: sp.Expr  # sup |sigma|
    sup_d2: sp.Expr  # sup |sigma''|; nan when sigma is not C^2 or undetermined
    sigma0: sp.Expr
    flags: Mapping[str, bool | None]

    def failed(self) -> list[str]:
        """The paper's activation assumptions that sigma fails, then "(undetermined)" ones."""
        out = []
        for key, label in ASSUMPTIONS.items():
            if self.flags[key] is False:
                out.append(label)
            elif self.flags[key] is None:
                out.append(f"{label} (undetermined)")
        return out

    def K_float(self) -> float:
        """K_sigma as a float (inf when sigma is not Lipschitz, nan when undetermined)."""
        return _to_float(self.K_sigma)

    def M_float(self) -> float:
        """M_sigma as a float (inf when sigma is unbounded, nan when undetermined)."""
        return _to_float(self.M_sigma)

    def __str__(self) -> str:
        return f"{self.name}: sigma(x) = {self.expr}"


def _to_float(value: sp.Expr) -> float:
    if value is sp.oo:
        return float("inf")
    if value is sp.nan:
        return float("nan")
    return float(value)


def get(name_or_expr: str) -> Activation:
    """The profile of a named activation (case-insensitive) or of a sympy expression in ``x``.

    Raises :class:`ConfigError` ("activation", value, rule) for an unknown name, an unparsable
    expression, one with a symbol other than x, or one sympy finds undefined or discontinuous
    somewhere on the real line.
    """
    name, expr = lookup(name_or_expr)
    if name in _DEFINITIONS:
        return _profile(name, expr)
    with _user_expression(name):
        return _profile(name, expr)


@functools.lru_cache(maxsize=128)
def lookup(name_or_expr: str) -> tuple[str, sp.Expr]:
    """(name, sigma) without the profile: the registry name (lower case) or the stripped text."""
    if not isinstance(name_or_expr, str) or not name_or_expr.strip():
        raise ConfigError("activation", name_or_expr, "must be a name or a sympy expression in x")
    key = name_or_expr.strip().lower()
    if key in _DEFINITIONS:
        return key, _DEFINITIONS[key]
    text = name_or_expr.strip()
    with _user_expression(text):
        return text, _parse(text)


class _Timeout(BaseException):
    """sympy ran past :data:`ANALYSIS_SECONDS` on a user expression (a BaseException, so that
    the broad ``except Exception`` inside sympy cannot swallow it)."""


@contextlib.contextmanager
def _user_expression(text: str) -> Iterator[None]:
    """Turn what sympy does with a user's expression into one-line errors: past
    :data:`ANALYSIS_SECONDS` (e.g. ``9**9**9**9`` evaluates a gigantic integer) or on any
    internal failure (e.g. ``x**x``, complex on x < 0).  The time limit uses SIGALRM, so it
    applies in the main thread only (elsewhere sympy runs unbounded)."""
    timed = threading.current_thread() is threading.main_thread() and hasattr(signal,
                                                                                "setitimer")
    if timed:
        def alarm(signum: int, frame: object) -> None:
            raise _Timeout

        previous = signal.signal(signal.SIGALRM, alarm)
        signal.setitimer(signal.ITIMER_REAL, ANALYSIS_SECONDS)
    try:
        yield
    except _Timeout:
        raise ConfigError("activation", text, f"sympy could not analyse it within "
                          f"{ANALYSIS_SECONDS:g} s") from None
    except ConfigError:
        raise
    except Exception as exc:  # sympy/mpmath failing on the user's expression
        raise ConfigError("activation", text, f"sympy could not analyse it "
                          f"({type(exc).__name__})") from None
    finally:
        if timed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


_PARSE_NAMES = (
    "exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "sinh", "cosh", "sech", "atan", "asinh",
    "erf", "erfc", "Abs", "Max", "Min", "sign", "Heaviside", "Piecewise", "pi", "E", "oo",
    "Integer", "Float", "Rational", "Symbol", "Function", "Lt", "Le", "Gt", "Ge", "Eq", "true",
)


def _parse(text: str) -> sp.Expr:
    rule = (f"not a known name ({', '.join(NAMES)}) nor a sympy expression in x")
    if "__" in text or "lambda" in text:
        raise ConfigError("activation", text, rule)
    global_dict = {name: getattr(sp, name) for name in _PARSE_NAMES}
    global_dict.update(__builtins__={}, abs=sp.Abs, max=sp.Max, min=sp.Min)
    try:
        expr = sp.parse_expr(text, local_dict={"x": x}, global_dict=global_dict)
    except Exception as exc:  # any parser failure is the user's input: one line
        raise ConfigError("activation", text, f"{rule} ({type(exc).__name__})") from None
    if not isinstance(expr, sp.Expr):
        raise ConfigError("activation", text, rule)
    others = sorted(str(s) for s in expr.free_symbols - {x})
    if others:
        raise ConfigError("activation", text, f"a sympy expression in x only; also has "
                          f"{', '.join(others)}")
    unknown = sorted(str(f.func) for f in expr.atoms(AppliedUndef))
    if unknown:
        raise ConfigError("activation", text, f"unknown function {', '.join(unknown)}")
    if expr.has(sp.oo, -sp.oo, sp.zoo, sp.nan):
        raise ConfigError("activation", text, "must be real and finite")
    return expr


# --------------------------------------------------------------------------- the profile


_PROBES = tuple(sp.Rational(k, 7) for k in (-23, -9, -2, 3, 10, 24))


class _Undetermined(Exception):
    """sympy could not settle a step of the bounded strategy."""


Piece = tuple[sp.Expr, sp.Interval]


@functools.lru_cache(maxsize=128)
def _profile(name: str, expr: sp.Expr) -> Activation:
    for probe in _PROBES:  # e.g. x**x or sqrt(x) are complex for x < 0
        value = sp.N(expr.subs(x, probe), 15)
        if not value.is_real:
            raise ConfigError("activation", name, f"must be real on the whole real line "
                              f"(sigma({probe}) = {value})")
    parts = pieces(expr)
    rule = "must be defined and continuous on the whole real line"
    if parts == [] or _continuous(expr, parts, 0) is False:
        raise ConfigError("activation", name, rule)
    c1 = _continuous(expr, parts, 1)
    c2 = _continuous(expr, parts, 2) if c1 else c1
    M, bounded = _sup_abs(parts, 0)
    # sigma is continuous, so sup |sigma'| over its parts is its Lipschitz constant
    K, lipschitz = _sup_abs(parts, 1)
    sup_d2 = _sup_abs(parts, 2)[0] if c2 is not False else sp.nan
    sigma0 = sp.simplify(expr.subs(x, 0))
    flags = {
        "C2": c2,
        "nonconstant": _nonconstant(parts, K),
        "lipschitz": lipschitz,
        "bounded": bounded,
        "zero_at_zero": _is_zero(sigma0),
        "nonpolynomial": _nonpolynomial(parts),
    }
    return Activation(name, expr, K, M, sup_d2, sigma0, MappingProxyType(flags))


def pieces(expr: sp.Expr) -> list[Piece] | None:
    """sigma as analytic expressions on intervals of positive length covering the real line,
    sorted left to right (one piece for an expression without Max, Min, Abs, sign, Piecewise);
    ``[]`` when they leave part of the line undefined, None when sympy cannot tell."""
    pw = sp.piecewise_fold(expr.rewrite(sp.Piecewise))
    if not isinstance(pw, sp.Piecewise):
        return [(pw, sp.Interval(-sp.oo, sp.oo))]
    out: list[Piece] = []
    covered: sp.Set = sp.S.EmptySet
    for e, cond in pw.args:
        try:
            where = (sp.S.Reals if cond is sp.true else cond.as_set()) - covered
        except Exception:  # a condition sympy cannot turn into a set of reals
            return None
        covered = covered | where
        for part in where.args if isinstance(where, sp.Union) else (where,):
            if isinstance(part, sp.Interval) and part.measure > 0:
                out.append((e, part))
            elif not (part.is_empty or isinstance(part, sp.FiniteSet)):
                return None
    if covered != sp.S.Reals:
        return []
    return sorted(out, key=lambda piece: piece[1].start)


def _singular_set(e: sp.Expr) -> sp.Set:
    """Real points where ``e`` is undefined or discontinuous (poles, roots and logs of
    negatives); raises :class:`_Undetermined` for a function it does not know."""
    if not e.has(x) or e.is_Atom:
        return sp.S.EmptySet
    if isinstance(e, sp.Add | sp.Mul) or isinstance(e, _ENTIRE):
        return sp.Union(*(_singular_set(a) for a in e.args))
    if isinstance(e, sp.Pow):
        base, p = e.args
        if p.has(x):
            if base.has(x) or not base.is_positive:
                raise _Undetermined(str(e))
            return _singular_set(p)
        out = _singular_set(base)
        if p.is_integer:
            bad = sp.Eq(base, 0) if p.is_negative else None
        else:
            bad = base <= 0 if p.is_negative else base < 0
        return out if bad is None else out | _solve(bad)
    if isinstance(e, sp.log):
        return _singular_set(e.args[0]) | _solve(e.args[0] <= 0)
    raise _Undetermined(str(e.func))


_ENTIRE = (sp.exp, sp.sin, sp.cos, sp.tanh, sp.sinh, sp.cosh, sp.sech, sp.atan, sp.asinh,
           sp.erf, sp.erfc)


def _solve(relation: sp.Basic, domain: sp.Set = sp.S.Reals) -> sp.Set:
    try:
        out = sp.solveset(relation, x, domain)
    except Exception as exc:
        raise _Undetermined(str(relation)) from exc
    if isinstance(out, sp.ConditionSet):
        raise _Undetermined(str(relation))
    return out


def _limit(f: sp.Expr, at: sp.Expr, direction: str) -> sp.Expr:
    """The one-sided limit of f at ``at``, by substitution where that is sound, else by
    ``sympy.limit``.  At +-oo sympy's arithmetic returns nan for every indeterminate form
    (oo - oo, 0 oo, oo/oo, 1**oo), so a determinate substituted value is the limit; at a finite
    point substitution is used only away from the singular set (f is continuous there)."""
    try:
        regular = at.is_infinite or at not in _singular_set(f)
    except _Undetermined:
        regular = False
    if regular:
        value = f.subs(x, at)
        if value.is_extended_real and not value.has(sp.nan, sp.zoo, sp.AccumBounds):
            return value
    try:
        value = sp.limit(f, x, at, direction)
    except Exception as exc:
        raise _Undetermined(f"limit of {f} at {at}") from exc
    if isinstance(value, sp.Limit) or value.has(sp.nan) or value.free_symbols:
        raise _Undetermined(f"limit of {f} at {at}")
    return value


def _num(value: sp.Expr) -> float:
    """|value| evaluated to 30 digits (a Python float is enough to rank candidates)."""
    if value.is_infinite or value in (sp.oo, -sp.oo, sp.zoo):
        return float("inf")
    v = sp.N(value, 30)
    if not v.is_real:
        raise _Undetermined(str(value))
    return abs(float(v))


def _sup_abs(parts: list[Piece] | None, k: int) -> tuple[sp.Expr, bool | None]:
    """(sup_x |sigma^(k)(x)|, finite?) over the parts; (nan, None/True) when undetermined."""
    if parts is None:
        return sp.nan, None
    values, finite = [], True
    for e, interval in parts:
        value, piece_finite = _sup_abs_on(sp.diff(e, x, k), interval)
        if value is sp.oo:
            return sp.oo, False
        values.append(value)
        finite = finite if piece_finite else piece_finite
    if any(v is sp.nan for v in values):
        return sp.nan, finite
    return max(values, key=_num), True


def _sup_abs_on(f: sp.Expr, interval: sp.Interval) -> tuple[sp.Expr, bool | None]:
    """(sup of |f| on the interval, finite?); f analytic inside the interval but at the points
    of :func:`_singular_set`, where only its one-sided limits enter."""
    if not f.has(x):
        return _abs(f), True
    a, b = interval.start, interval.end
    try:
        singular = _finite_set(_singular_set(f) & sp.Interval.open(a, b))
        candidates = []
        for point in singular:
            candidates += [_limit(f, point, "-"), _limit(f, point, "+")]
        oscillating = False
        for end, direction in ((a, "+"), (b, "-")):
            value = _limit(f, end, direction)
            if isinstance(value, sp.AccumBounds):
                if not (value.min.is_finite and value.max.is_finite):
                    return sp.oo, False
                oscillating = True
            elif value.is_infinite:
                return sp.oo, False
            else:
                candidates.append(value)
        window = sp.Interval.open(a, b)
        if oscillating:  # only a periodic f is settled: one period is then enough
            period = sp.periodicity(f, x)
            if not period:
                raise _Undetermined(f"{f} oscillates at infinity")
            lo = a if a.is_finite else (b - period if b.is_finite else sp.S.Zero)
            window = sp.Interval(lo, lo + period)
            candidates += [f.subs(x, lo), f.subs(x, lo + period)]
        # zeros of f' are zeros of the numerator of together(f') away from the singular points
        numerator = sp.numer(sp.together(sp.diff(f, x)))
        critical = _finite_set(_solve(sp.Eq(numerator, 0), window) - singular)
        candidates += [f.subs(x, c) for c in critical]
        ranked = [(_num(c), c) for c in candidates]
    except _Undetermined:
        return sp.nan, _bounded_near_infinity(f, interval)
    best = max(ranked, key=lambda item: item[0])
    return (sp.oo, False) if best[0] == float("inf") else (_abs(best[1]), True)


def _finite_set(points: sp.Set) -> sp.Set:
    if not (points.is_empty or isinstance(points, sp.FiniteSet)):
        raise _Undetermined(str(points))
    return points


def _bounded_near_infinity(f: sp.Expr, interval: sp.Interval) -> bool | None:
    """True when f has no singularity in the interval and finite (possibly oscillating)
    limits at its ends: a continuous function with such limits is bounded."""
    try:
        if _singular_set(f) & interval != sp.S.EmptySet:
            return None
        for end, direction in ((interval.start, "+"), (interval.end, "-")):
            value = _limit(f, end, direction)
            bounds = (value.min, value.max) if isinstance(value, sp.AccumBounds) else (value,)
            if not all(v.is_finite for v in bounds):
                return None
    except _Undetermined:
        return None
    return True


def _abs(value: sp.Expr) -> sp.Expr:
    value = -value if sp.N(value, 30) < 0 else value
    return value if value.atoms(sp.Function) else sp.simplify(value)  # tidy radicals only


def _continuous(expr: sp.Expr, parts: list[Piece] | None, k: int) -> bool | None:
    """Is sigma^(k) continuous on the real line (given sigma^(k-1) is)?"""
    if parts is None:
        return None
    try:
        derivatives = [sp.diff(e, x, k) for e, _ in parts]
        for f, (_, interval) in zip(derivatives, parts, strict=True):
            if _singular_set(f) & sp.Interval.open(interval.start, interval.end):
                return False
        for f, g, (_, interval) in zip(derivatives, derivatives[1:], parts[1:], strict=False):
            point = interval.start
            left, right = _limit(f, point, "-"), _limit(g, point, "+")
            values = [left, right] + ([expr.subs(x, point)] if k == 0 else [])
            if any(isinstance(v, sp.AccumBounds) or not v.is_finite for v in values):
                return False
            for v in values[1:]:
                zero = _is_zero(v - left)
                if zero is not True:
                    return zero
    except _Undetermined:
        return None
    return True


def _is_zero(value: sp.Expr) -> bool | None:
    value = sp.simplify(value)
    if value.is_zero is not None:
        return value.is_zero
    return value.equals(0)


def _nonconstant(parts: list[Piece] | None, K: sp.Expr) -> bool | None:
    """sigma is continuous: it is constant iff sup |sigma'| = 0 (every piece has sigma' = 0)."""
    if K is not sp.nan:
        return bool(K != 0)
    if parts is None:
        return None
    zeros = [_is_zero(sp.diff(e, x)) for e, _ in parts]
    return _any_false(zeros)


def _nonpolynomial(parts: list[Piece] | None) -> bool | None:
    if parts is None:
        return None
    forms = {sp.simplify(e) for e, _ in parts}
    if len(forms) > 1:  # distinct analytic parts of a continuous function: not one polynomial
        first, *others = forms
        differences = [_is_zero(first - g) for g in others]
        return _any_false(differences)
    return not forms.pop().is_polynomial(x)


def _any_false(values: list[bool | None]) -> bool | None:
    if any(v is False for v in values):
        return True
    return None if any(v is None for v in values) else False


