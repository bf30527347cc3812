"""Torch implementations of sigma, sigma' and sigma'' for the activation profiles of theory.

Named activations have closed forms; any other sympy expression in ``x`` (a user's) is
differentiated by sympy and compiled to torch with ``sympy.lambdify``.  The names and their
definitions match :mod:`theory.activations` (``sigmoid`` is sigmoid(x) - 1/2 and ``softplus`` is
softplus(x) - log 2, centred so that sigma(0) = 0).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable

import torch

Fn = Callable[[torch.Tensor], torch.Tensor]
_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT2PI = 1.0 / math.sqrt(2.0 * math.pi)
_TWO_OVER_SQRTPI = 2.0 / math.sqrt(math.pi)


@dataclasses.dataclass(frozen=True)
class TorchActivation:
    """sigma with its first two derivatives, elementwise on tensors."""

    name: str
    f: Fn
    df: Fn
    d2f: Fn


def _phi(x: torch.Tensor) -> torch.Tensor:  # standard normal density
    return torch.exp(-0.5 * x * x) * _INV_SQRT2PI


def _Phi(x: torch.Tensor) -> torch.Tensor:  # standard normal distribution function
    return 0.5 * (1.0 + torch.erf(x * _INV_SQRT2))


def _sigmoid_d1(x: torch.Tensor) -> torch.Tensor:
    s = torch.sigmoid(x)
    return s * (1 - s)


def _sigmoid_d2(x: torch.Tensor) -> torch.Tensor:
    s = torch.sigmoid(x)
    return s * (1 - s) * (1 - 2 * s)


_CLOSED_FORMS: dict[str, tuple[Fn, Fn, Fn]] = {
    "tanh": (torch.tanh, lambda x: 1 - torch.tanh(x) ** 2,
             lambda x: -2 * torch.tanh(x) * (1 - torch.tanh(x) ** 2)),
    # GELU, exact erf form: x Phi(x); sigma' = Phi + x phi; sigma'' = (2 - x^2) phi.
    "gelu": (lambda x: x * _Phi(x), lambda x: _Phi(x) + x * _phi(x),
             lambda x: (2 - x * x) * _phi(x)),
    # ReLU: the a.e. derivative (sigma'(0) := 0, as torch does); not C^2.
    "relu": (torch.relu, lambda x: (x > 0).to(x.dtype), torch.zeros_like),
    "identity": (lambda x: x, torch.ones_like, torch.zeros_like),
    "sigmoid": (lambda x: torch.sigmoid(x) - 0.5, _sigmoid_d1, _sigmoid_d2),
    # log(1 + e^x) - log 2 exactly (torch's softplus switches to x past x = 20)
    "softplus": (lambda x: torch.logaddexp(x, torch.zeros_like(x)) - math.log(2.0),
                 torch.sigmoid, _sigmoid_d1),
    "sin": (torch.sin, torch.cos, lambda x: -torch.sin(x)),
    "erf": (torch.erf, lambda x: _TWO_OVER_SQRTPI * torch.exp(-x * x),
            lambda x: -2 * x * _TWO_OVER_SQRTPI * torch.exp(-x * x)),
}


@functools.lru_cache(maxsize=64)
def get(name: str) -> TorchActivation:
    """The torch activation for a registered name or a sympy expression in ``x``.

    Unknown names raise :class:`theory.errors.ConfigError` (through :func:`theory.activations.get`).
    """
    key = name.strip().lower()
    if key in _CLOSED_FORMS:
        return TorchActivation(key, *_CLOSED_FORMS[key])
    return _from_sympy(name)


def _from_sympy(name: str) -> TorchActivation:
    import sympy as sp

    from theory import activations
    from theory.symbols import x

    expr = activations.get(name).expr
    modules = [{
        "erf": torch.erf, "erfc": torch.erfc, "exp": torch.exp, "log": torch.log,
        "tanh": torch.tanh, "sin": torch.sin, "cos": torch.cos, "sqrt": torch.sqrt,
        "Abs": torch.abs, "sign": torch.sign, "atan": torch.atan, "sinh": torch.sinh,
        "cosh": torch.cosh, "Heaviside": lambda t, h0=0.5: torch.heaviside(
            t, torch.full_like(t, float(h0))),
        "Max": torch.maximum, "Min": torch.minimum,
    }, "math"]
    kinks = (sp.Abs, sp.Max, sp.Min, sp.sign, sp.Heaviside, sp.Piecewise)
    if expr.has(*kinks):  # as a Piecewise: derivatives almost everywhere, printed as torch.where
        expr, modules = sp.piecewise_fold(expr.rewrite(sp.Piecewise)), ["torch"]
    fns = []
    for k in range(3):
        f = sp.lambdify(x, sp.piecewise_fold(sp.diff(expr, x, k)), modules=modules)
        fns.append(_broadcasting(f))
    return TorchActivation(name, *fns)


def _broadcasting(f: Callable[[torch.Tensor], object]) -> Fn:
    """Make a lambdified function return a tensor of the input's shape (constants broadcast)."""

    def g(x: torch.Tensor) -> torch.Tensor:
        y = f(x)
        if isinstance(y, torch.Tensor):
            y = y.to(x.dtype)
            return y.expand_as(x) if y.shape != x.shape else y
        return torch.full_like(x, float(y))  # type: ignore[arg-type]

    return g
