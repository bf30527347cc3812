"""Reference computations of the property suite, independent of the code under test.

* :func:`sigma_numpy`: sigma as a numpy function, lambdified from theory's sympy expression (not
  numerics' hand-written torch closed forms).
* :func:`eta_reference`: Hermite coefficients by Gauss-Hermite quadrature in numpy, and exact
  Gaussian half-line moments for ReLU (not theory.hermite's mpmath Gauss-Legendre).
* :func:`bilinear_norm_lower`: a lower estimate of the operator norm of a bilinear map R^p x R^s
  -> R^q given only by its action (Appendix A.1's norms of d22 f and d21 f), by alternating
  maximization (the higher-order power method) from several random starts.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import mpmath
import numpy as np
import sympy as sp
import torch
from numpy.polynomial import hermite_e

from theory import activations
from theory.symbols import x

Tensor = torch.Tensor


@functools.cache
def sigma_numpy(name: str) -> Callable[[np.ndarray], np.ndarray]:
    """sigma(x) of a named activation as a vectorized numpy function (via sympy).

    Entries where the float64 evaluation is not finite (an intermediate overflow: softplus's
    log(e^x + 1) past x = 709, found by the thorough profile with the official scaling's
    preactivations of ~900) are evaluated again in mpmath from the same expression."""
    expr = activations.get(name).expr
    fast = sp.lambdify(x, expr, modules=["numpy", "scipy"])
    exact = sp.lambdify(x, expr, modules="mpmath")

    def sigma(u: np.ndarray) -> np.ndarray:
        u = np.asarray(u, dtype=np.float64)
        with np.errstate(over="ignore", invalid="ignore"):
            out = np.asarray(fast(u), dtype=np.float64) * np.ones_like(u)
        bad = ~np.isfinite(out) & np.isfinite(u)
        if bad.any():
            out[bad] = [float(exact(mpmath.mpf(float(v)))) for v in u[bad]]
        return out

    return sigma


_NODES = 160  # Gauss-Hermite nodes: exact for polynomials of degree < 320


@functools.cache
def eta_reference(name: str, r: int) -> float:
    """eta_r(sigma) = E[sigma(Z) He_r(Z)] / sqrt(r!) in float64, independently of theory.hermite.

    A smooth sigma: Gauss-Hermite quadrature (numpy's probabilists' nodes).  ReLU (a kink, where
    Gauss-Hermite converges slowly): E[Z He_r(Z) 1{Z > 0}] = sum_j c_j int_0^oo z^{j+1} phi(z) dz
    with He_r = sum_j c_j z^j and int_0^oo z^k phi(z) dz = 2^{(k-1)/2} Gamma((k+1)/2) / sqrt(2 pi).
    """
    basis = np.eye(r + 1)[r]
    if name == "relu":
        value = sum(c * 2 ** (j / 2) * math.gamma((j + 2) / 2) / math.sqrt(2 * math.pi)
                    for j, c in enumerate(hermite_e.herme2poly(basis)))
    else:
        z, w = hermite_e.hermegauss(_NODES)
        value = float((w * sigma_numpy(name)(z) * hermite_e.hermeval(z, basis)).sum())
        value /= math.sqrt(2 * math.pi)
    return value / math.sqrt(math.factorial(r))


def bilinear_norm_lower(apply: Callable[[Tensor, Tensor], Tensor], p: int, s: int, *,
                        generator: torch.Generator, starts: int = 4, steps: int = 30) -> float:
    """A lower estimate of sup_{|a| = |b| = 1} ||T(a, b)|| for a bilinear T: R^p x R^s -> R^q.

    Alternating maximization: u = T(a, b)/|T(a, b)|, then a = grad_a <u, T(a, b)> normalized,
    b = grad_b <u, T(a, b)> normalized (each step can only increase <u, T(a, b)>); every value
    reached is ||T(a, b)|| at unit a, b, so the result never exceeds the true norm."""
    best = 0.0
    for _ in range(starts):
        a = torch.randn(p, generator=generator, dtype=torch.float64)
        b = torch.randn(s, generator=generator, dtype=torch.float64)
        a, b = a / a.norm(), b / b.norm()
        for _ in range(steps):
            value = apply(a, b)
            best = max(best, float(value.norm()))
            if float(value.norm()) == 0.0:
                break
            u = value.detach() / value.norm()
            a_, b_ = a.clone().requires_grad_(True), b.clone().requires_grad_(True)
            ga, gb = torch.autograd.grad(torch.dot(u, apply(a_, b_)), (a_, b_))
            if float(ga.norm()) == 0.0 or float(gb.norm()) == 0.0:
                break
            a, b = ga / ga.norm(), gb / gb.norm()
        best = max(best, float(apply(a, b).norm()))
    return best
