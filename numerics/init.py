r"""Initializations of Section 3 and Section 4.3, every draw from an explicit seed.

Outer matrices (Section 3, p3): A = [I_d ; 0] (q x d), B = [0 , I_d'] (d' x q); B A = 0 when
q >= d + d', and A = B = identity when q = d = d' (the released code's setting).

Layer weights Z_k = (V_k, W_k) (more generally: the output-side block first, then the others):

- ``"tied"`` (Section 3): V_k = 0 and W_k = W-bar, one standard Gaussian matrix shared by every k.
- ``"smooth"`` (Section 4.3): V_k = V0(k/L), W_k = W0(k/L) where every entry of V0 and of W0 is an
  independent zero-mean Gaussian process on [0, 1] with covariance
  K(s, s') = exp(-(s - s')^2 / (2 ell^2)): unit variance, like the entries of W-bar; V0 is a GP
  too (not zero), as Section 4.3 says, so F is not 0 at initialization.
- ``"iid"`` (Section 5.2's counter-case for model (3)): V_k = 0 and W_k i.i.d. standard Gaussian.

The smooth initialization is one function of s, whatever L: each GP is represented by its values
at r anchor points S chosen by a pivoted Cholesky factorization of K on a fine grid (stopped when
every residual variance is below ``GP_TOL``), and evaluated anywhere by the Gaussian conditional
mean, V0(s) = K(s, S) K(S, S)^{-1} V0(S).  The covariance of this process is
K(s, S) K(S, S)^{-1} K(S, s'), within ``GP_TOL`` of K: an exact draw up to rounding, O(L r) work,
and networks of different depths (and the limit solver) see the same V0, W0 (two evaluations at
the same s agree to ~1e-9: K(S, S) has condition number ~1/GP_TOL).

Draws happen in float64 on the CPU from ``torch.Generator().manual_seed(seed)``, then are cast, so
one seed gives the same numbers on every device and the float32 weights are the rounded float64.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np
import scipy.linalg
import torch

from numerics.device import resolve
from numerics.model import MLP, Params, Residual
from theory.errors import ConfigError

INITS = ("tied", "smooth", "iid")
GP_TOL = 1e-12


def se_kernel(s: np.ndarray, t: np.ndarray, ell: float) -> np.ndarray:
    """K(s, t) = exp(-(s - t)^2 / (2 ell^2)) for every pair (a len(s) x len(t) matrix)."""
    return np.exp(-np.subtract.outer(s, t) ** 2 / (2.0 * ell * ell))


@functools.lru_cache(maxsize=32)
def _anchors(ell: float) -> tuple[np.ndarray, np.ndarray]:
    """Anchor points S and the lower Cholesky factor of K(S, S) (pivoted Cholesky, GP_TOL)."""
    grid = np.linspace(0.0, 1.0, max(257, math.ceil(8.0 / ell) + 1))
    residual = np.ones_like(grid)
    columns: list[np.ndarray] = []
    pivots: list[int] = []
    while len(pivots) < grid.size:
        i = int(np.argmax(residual))
        if residual[i] <= GP_TOL:
            break
        col = se_kernel(grid, grid[i:i + 1], ell)[:, 0]
        for c in columns:
            col = col - c * c[i]
        col = col / math.sqrt(residual[i])
        columns.append(col)
        pivots.append(i)
        residual = residual - col * col
    factor = np.stack(columns, axis=1)[pivots]  # lower triangular in pivot order
    return grid[pivots], factor


def gp_basis(s: Sequence[float] | np.ndarray, ell: float) -> np.ndarray:
    """Phi (len(s) x r) with GP(s) = Phi xi, xi ~ N(0, I_r), and Phi Phi^T = K(s, s) to GP_TOL."""
    _positive("ell", ell)
    anchors, factor = _anchors(float(ell))
    cross = se_kernel(anchors, np.asarray(s, dtype=np.float64), ell)
    return scipy.linalg.solve_triangular(factor, cross, lower=True).T


def initial_weights(s: Sequence[float] | np.ndarray, kind: str,
                    shapes: Sequence[tuple[int, ...]], *, seed: int,
                    ell: float = 0.2) -> tuple[torch.Tensor, ...]:
    """The layer weights at depths s (each block (len(s), *shape), float64 on the CPU).

    Network with seed ``seed``: ``init_params(..., L)`` takes s = (1/L, 2/L, ..., 1).  For
    ``"tied"`` and ``"smooth"`` the blocks are functions of s (the same for every L); ``"iid"``
    draws len(s) independent layers.
    """
    _choice("init", kind, INITS)
    _seed(seed)
    _positive("ell", ell)
    s = np.asarray(s, dtype=np.float64)
    gen = torch.Generator().manual_seed(seed)
    out = []
    for j, shape in enumerate(shapes):
        if kind == "smooth":
            anchors, factor = _anchors(float(ell))
            xi = torch.randn((len(anchors), math.prod(shape)), generator=gen,
                             dtype=torch.float64).numpy()
            # GP(s) = K(s, S) alpha with alpha = K(S, S)^{-1} GP(S) = factor^{-T} xi, computed once
            alpha = scipy.linalg.solve_triangular(factor.T, xi, lower=False)
            out.append(torch.from_numpy(se_kernel(s, anchors, ell) @ alpha).reshape(len(s), *shape))
        elif j == 0:
            out.append(torch.zeros((len(s), *shape), dtype=torch.float64))
        elif kind == "tied":
            bar = torch.randn(shape, generator=gen, dtype=torch.float64)
            out.append(bar.expand(len(s), *shape).clone())
        else:
            out.append(torch.randn((len(s), *shape), generator=gen, dtype=torch.float64))
    return tuple(out)


def outer_matrices(d: int, d_out: int, q: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A = [I_d ; 0] (q x d) and B = [0 , I_d'] (d' x q), float64 (Section 3)."""
    if q < max(d, d_out):
        raise ConfigError("q", q, f"model (3) needs q >= max(d, d') = {max(d, d_out)}")
    A = torch.zeros(q, d, dtype=torch.float64)
    A[:d] = torch.eye(d, dtype=torch.float64)
    B = torch.zeros(d_out, q, dtype=torch.float64)
    B[:, q - d_out:] = torch.eye(d_out, dtype=torch.float64)
    return A, B


def init_params(kind: str, *, d: int, d_out: int, q: int, m: int, L: int,
                seeds: Sequence[int] = (0,), ell: float = 0.2, residual: Residual | None = None,
                dtype: str = "float64", device: str = "cpu") -> Params:
    """Parameters of b = len(seeds) networks; network j is what ``seeds=(seeds[j],)`` gives.

    ``residual`` (default model (3)'s :class:`MLP`) gives the block shapes; ``m`` is model (3)'s
    width (ignored by residuals that do not use it).
    """
    for name, value in (("d", d), ("d_out", d_out), ("q", q), ("m", m), ("L", L)):
        _positive_int(name, value)
    if isinstance(seeds, int) or not seeds:
        raise ConfigError("seeds", seeds, "must be a non-empty list of seeds")
    dev, dt = resolve(device, dtype)
    shapes = (residual or MLP()).block_shapes(q, m)
    s = np.arange(1, L + 1) / L
    A, B = outer_matrices(d, d_out, q)
    nets = [initial_weights(s, kind, shapes, seed=seed, ell=ell) for seed in seeds]
    Z = tuple(torch.stack([net[j] for net in nets]).to(dev, dt) for j in range(len(shapes)))
    b = len(seeds)
    return Params(A.expand(b, q, d).to(dev, dt).contiguous(), Z,
                  B.expand(b, d_out, q).to(dev, dt).contiguous())


def _positive(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0 \
            or not math.isfinite(value):
        raise ConfigError(name, value, "must be a positive finite number")


def _positive_int(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(name, value, "must be a positive integer")


def _seed(value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError("seed", value, "must be a non-negative integer")


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(name, value, f"must be one of {', '.join(allowed)}")
