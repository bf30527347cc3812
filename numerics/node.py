"""The neural ODE (6) and its distance to the residual network (docs/statements.md,
prop2.euler; Proposition 2).

    H(0) = A x,   dH/ds = V(s) sigma(W(s) H / sqrt q) / sqrt m,   F(x) = B H(1),   s in [0, 1],

for Lipschitz V: [0, 1] -> R^{q x m}, W: [0, 1] -> R^{m x q} given as callables (or a grid with an
interpolant, :func:`grid_interpolant`).  Samples are rows: X is n x d, H is n x q, so the right side
is sigma(H W^T / sqrt q) V^T / sqrt m (``scaling="official"`` drops both width factors); the
residual is :class:`numerics.model.MLP`.

Solver: scipy's DOP853 (Hairer's explicit Runge-Kutta 8(5,3) with step control) in float64 at
rtol = atol = 1e-12 by default.  It is reference grade, already a dependency, and its error is
orders of magnitude below the 1/L gaps being measured; torchdiffeq is not a project dependency.

Proposition 2: with V_k = V(k/L), W_k = W(k/L), sup_x ||F(x) - F^L(x)|| <= C/L; the residual
network F^L is the explicit Euler scheme of (6) with the weights sampled at the step's right end.
:func:`resnet_ode_gap` measures the gap over a set of inputs for several depths and fits the
log-log slope (expected about -1).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence

import numpy as np
import torch
from scipy.integrate import solve_ivp

from numerics.model import MLP, Params, forward
from numerics.rates import loglog_slope
from theory.errors import ConfigError

MatrixPath = Callable[[float], torch.Tensor]  # s -> matrix, s in [0, 1]


@dataclasses.dataclass(frozen=True)
class GapResult:
    """Proposition 2 measurement: ``gaps[j]`` = max_i ||F(x_i) - F^{L_j}(x_i)|| at ``depths[j]``;
    ``slope``, ``intercept``: least-squares fit log gap = intercept + slope log L."""

    depths: tuple[int, ...]
    gaps: tuple[float, ...]
    slope: float
    intercept: float


def node_hidden(A: torch.Tensor, V: MatrixPath, W: MatrixPath, X: torch.Tensor, sigma: str,
                s_eval: Sequence[float] = (1.0,), *, scaling: str = "paper", rtol: float = 1e-12,
                atol: float = 1e-12) -> torch.Tensor:
    """H(s) for s in ``s_eval`` (increasing, in [0, 1]): a (len(s_eval), n, q) float64 tensor."""
    A, X = _as64(A), _as64(X)
    s_eval = [float(s) for s in s_eval]
    if not s_eval or any(not 0.0 <= s <= 1.0 for s in s_eval) or sorted(s_eval) != s_eval:
        raise ConfigError("s_eval", s_eval, "must be increasing points of [0, 1]")
    if X.ndim != 2 or A.ndim != 2 or X.shape[1] != A.shape[1]:
        raise ConfigError("X", tuple(X.shape), f"must be n x d with d = {A.shape[-1]}")
    n, q = X.shape[0], A.shape[0]
    H0 = X @ A.T

    f = MLP(sigma, scaling)

    def rhs(s: float, y: np.ndarray) -> np.ndarray:
        H = torch.from_numpy(y).view(1, n, q)
        return f(H, (_as64(V(s))[None], _as64(W(s))[None])).reshape(-1).numpy()

    sol = solve_ivp(rhs, (0.0, s_eval[-1]), H0.reshape(-1).numpy(), method="DOP853",
                    t_eval=s_eval, rtol=rtol, atol=atol)
    if not sol.success:  # pragma: no cover - DOP853 fails only on non-finite right sides
        raise ArithmeticError(f"neural ODE solve failed: {sol.message}")
    return torch.from_numpy(sol.y.T.copy()).view(len(s_eval), n, q)


def node_forward(A: torch.Tensor, V: MatrixPath, W: MatrixPath, B: torch.Tensor, X: torch.Tensor,
                 sigma: str, *, scaling: str = "paper", rtol: float = 1e-12,
                 atol: float = 1e-12) -> torch.Tensor:
    """F(x_i) = B H_i(1) for the rows x_i of X: an n x d' float64 tensor."""
    H1 = node_hidden(A, V, W, X, sigma, (1.0,), scaling=scaling, rtol=rtol, atol=atol)[0]
    return H1 @ _as64(B).T


def resnet_forward(A: torch.Tensor, Vs: torch.Tensor, Ws: torch.Tensor, B: torch.Tensor,
                   X: torch.Tensor, sigma: str, *, scaling: str = "paper") -> torch.Tensor:
    """F^L(x_i) of model (3) (:func:`numerics.model.forward`); Vs (L, q, m), Ws (L, m, q)."""
    params = Params(_as64(A)[None], (_as64(Vs)[None], _as64(Ws)[None]), _as64(B)[None])
    return forward(params, _as64(X), MLP(sigma, scaling))[0]


def sample_weights(V: MatrixPath, W: MatrixPath, L: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(V_k, W_k) = (V(k/L), W(k/L)), k = 1..L, as (L, q, m) and (L, m, q) tensors."""
    Vs = torch.stack([_as64(V(k / L)) for k in range(1, L + 1)])
    Ws = torch.stack([_as64(W(k / L)) for k in range(1, L + 1)])
    return Vs, Ws


def resnet_ode_gap(A: torch.Tensor, V: MatrixPath, W: MatrixPath, B: torch.Tensor,
                   X: torch.Tensor, sigma: str, depths: Sequence[int], *,
                   scaling: str = "paper",
                   layers: Callable[[int], tuple[torch.Tensor, torch.Tensor]] | None = None
                   ) -> GapResult:
    """max_i ||F(x_i) - F^L(x_i)||_2 for each L in ``depths`` (>= 2), and the log-log fit.
    ``layers(L)``: the ResNet's (V_k, W_k) at depth L (default :func:`sample_weights` of the
    paths; another choice makes a ResNet that discretizes no path, a negative control)."""
    depths = tuple(int(L) for L in depths)
    if len(depths) < 2 or any(L < 1 for L in depths):
        raise ConfigError("depths", depths, "needs at least two positive depths for a slope")
    layers = layers or (lambda L: sample_weights(V, W, L))
    F = node_forward(A, V, W, B, X, sigma, scaling=scaling)
    gaps = []
    for L in depths:
        FL = resnet_forward(A, *layers(L), B, X, sigma, scaling=scaling)
        gaps.append(float(torch.linalg.vector_norm(F - FL, dim=-1).max()))
    return GapResult(depths, tuple(gaps), *loglog_slope(depths, gaps))


def sin_modulated(M0: torch.Tensor, M1: torch.Tensor, omega: float = 2 * math.pi,
                  phase: float = 0.0) -> MatrixPath:
    """s -> M0 + sin(omega s + phase) M1 (smooth, Lipschitz constant omega ||M1||_F)."""
    M0, M1 = _as64(M0), _as64(M1)
    return lambda s: M0 + math.sin(omega * s + phase) * M1


def grid_interpolant(values: torch.Tensor, kind: str = "linear") -> MatrixPath:
    """Interpolant through ``values[j]`` at s_j = j / (S - 1), j = 0..S-1 (S >= 2).

    ``"linear"``: piecewise linear (Lipschitz, what Proposition 2 assumes); ``"cubic"``: piecewise
    cubic Lagrange through the four nearest nodes (C^0, fourth-order accurate for smooth data).
    """
    values = _as64(values)
    S = values.shape[0]
    if S < (2 if kind == "linear" else 4):
        raise ConfigError("values", tuple(values.shape), f"too few grid points for {kind!r}")
    if kind not in ("linear", "cubic"):
        raise ConfigError("kind", kind, "must be one of linear, cubic")
    step = 1.0 / (S - 1)

    def at(s: float) -> torch.Tensor:
        if not 0.0 <= s <= 1.0:
            raise ConfigError("s", s, "must lie in [0, 1]")
        u = s / step
        if kind == "linear":
            j = min(int(u), S - 2)
            a = u - j
            return (1 - a) * values[j] + a * values[j + 1]
        j0 = min(max(int(u) - 1, 0), S - 4)
        nodes = range(j0, j0 + 4)
        out = torch.zeros_like(values[0])
        for j in nodes:
            weight = math.prod((u - i) / (j - i) for i in nodes if i != j)
            out = out + weight * values[j]
        return out

    return at


def _as64(t: torch.Tensor | np.ndarray) -> torch.Tensor:
    return torch.as_tensor(t, dtype=torch.float64)
