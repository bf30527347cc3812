"""The formula a statement shows, generated from what its check evaluates (issue 27).

A bound statement shows a :class:`Formula`: ``lhs relation rhs, where s1 = e1, s2 = e2, ...``,
whose ``rhs`` and definitions are the sympy expressions its family module under theory/ evaluates
the bound from (each definition's expression is evaluated for its symbol, the rhs last:
:meth:`Formula.function`), so that the text cannot drift from the number.  A rate statement shows
an :class:`Acceptance`: what is fitted, and the acceptance generated from the statement's
``rate_window`` (theory.verdicts.region_text), the one copy of that number.

>>> import sympy as sp
>>> a, b = sp.symbols("a b", positive=True)
>>> str(Formula("x", "<=", a / 2, ((a, b**2),)))
'x <= a/2, where a = b^2'
>>> Formula("x", "<=", a / 2, ((a, b**2),)).expr
b**2/2
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import sympy as sp

from theory.verdicts import region_text


def show(expr: sp.Basic) -> str:
    """One line of ``expr``: sympy's ``sstr`` with ``^`` for powers (the house notation)."""
    return sp.sstr(expr).replace("**", "^")


@functools.cache
def _lambdified(expr: sp.Expr, args: tuple[sp.Symbol, ...], modules: str) -> Callable[..., Any]:
    return sp.lambdify(args, expr, modules=modules)


@dataclasses.dataclass(frozen=True)
class Formula:
    """``lhs relation rhs, where s = e, ...``: ``lhs`` is the measured quantity in words (text),
    ``rhs`` the bound (sympy), ``where`` the definitions of the rhs's symbols in the order they are
    shown (a later one may define a symbol of an earlier one); ``note`` a trailing remark (text).
    """

    lhs: str
    relation: str
    rhs: sp.Expr
    where: tuple[tuple[sp.Symbol, sp.Expr], ...] = ()
    note: str = ""

    def __str__(self) -> str:
        text = f"{self.lhs} {self.relation} {show(self.rhs)}"
        if self.where:
            text += ", where " + ", ".join(f"{show(s)} = {show(e)}" for s, e in self.where)
        return text + (f" ({self.note})" if self.note else "")

    @property
    def expr(self) -> sp.Expr:
        """The rhs with every definition substituted: the bound in the base symbols."""
        out = self.rhs
        for symbol, definition in self.where:
            out = out.xreplace({symbol: definition})
        return out

    def function(self, *args: sp.Symbol, modules: str = "mpmath") -> Callable[..., Any]:
        """The rhs as a function of ``args`` (its free symbols, definitions' symbols included;
        ``modules``: "math" for floats, "mpmath" inside ``mpmath.workdps``), cached."""
        missing = self.rhs.free_symbols - set(args)
        if missing:
            raise ValueError(f"{self.lhs}: arguments {missing} of the bound not given")
        return _lambdified(self.rhs, args, modules)


@dataclasses.dataclass(frozen=True)
class Acceptance:
    """A rate statement's formula: ``what`` the statement claims of a quantity, ``slope`` the fit
    (of what against what, on which grid; empty: the quantity against log L), and the acceptance
    the check applies, generated from the statement's ``rate_window`` (:meth:`text`)."""

    what: str
    slope: str = ""

    def text(self, window: tuple[float, float]) -> str:
        """``what: the 95% interval of the slope [slope] <region>``."""
        fit = f"the slope {self.slope}" if self.slope else "the slope"
        return f"{self.what}: the 95% interval of {fit} {region_text(window)}"
