"""The large-depth limit of training (docs/statements.md, thm4.limit; Theorem 4, paper
Appendix A.5 eqs. 38-44).

The limit weights Z(s, t) = (V(s, t), W(s, t)), A(t), B(t) follow, for samples (x_i, y_i),

    H_i(0, t) = A x_i,             dH_i/ds = f(H_i, Z(s)),                                  (43)
    P_i(1, t) = 2 B^T (B H_i(1) - y_i),   dP_i/ds = -d1f(H_i, Z(s))^T P_i,                  (44)
    dZ/dt(s) = pi(-(1/n) sum_i d2f(H_i(s), Z(s))^T P_i(s)),                                 (38)
    dA/dt = pi(-(1/n) sum_i P_i(0) x_i^T),   dB/dt = pi(-(2/n) sum_i (B H_i(1) - y_i) H_i(1)^T).

Backward equation (44): the paper prints dP_i/ds = d1f(H_i, Z) P_i (p28 and p30).  The discrete
recurrence (13), p_{k-1} = (I + d1f(h_{k-1}, Z_k)/L)^T p_k, gives (P(s - 1/L) - P(s)) L =
d1f^T P, i.e. dP/ds = -d1f^T P; equivalently P(s)^T delta H(s) is constant along the variational
equation d(delta H)/ds = d1f delta H, which forces the same adjoint equation.  Both the sign and the
transpose of the printed form are wrong; ``backward`` selects the derived form (default) or a
printed variant, to show numerically that only the derived one matches deep networks.

Discretization.  Z(., t) lives on the grid s_j = j/S, j = 0..S.  The forward and backward ODEs in
s are integrated by classical RK4 with step 1/S; the stage values of Z at the half points come from
the four-point cubic Lagrange interpolant of the grid values, the hidden state at the half points
from the cubic Hermite interpolant of the forward solution (H_j, f_j, H_{j+1}, f_{j+1}): the
solver is fourth order in 1/S for smooth Z (a clipped flow whose clipping is active on part of
[0, 1] leaves Z only Lipschitz in s, and the order drops).  Time is stepped by explicit Euler with
the networks' own step ``eta`` (N = round(T/eta) steps), so that the comparison with gradient
descent on a network of depth L isolates the depth error: as L -> infinity at fixed eta, gradient
descent on the network converges to exactly this Euler-in-t scheme of the limit.

The comparison with depth-L networks (layer k <-> s = k/L, Richardson extrapolation) is
:mod:`numerics.depth_gaps`; the depth study of S4 and Figure 1 is :mod:`numerics.depth_study`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np
import torch

from numerics.flow import apply_pi
from numerics.init import initial_weights, outer_matrices
from numerics.model import MLP
from theory.errors import ConfigError, DivergenceError

# (sign, transpose) of the adjoint right side sign * d1f^T P (transpose) or sign * d1f P.
BACKWARD_FORMS = {
    "derived": (-1.0, True),            # dP/ds = -d1f^T P, from (13)
    "printed": (1.0, False),            # dP/ds = d1f P, as printed in (44) and p30
    "printed_sign": (1.0, True),        # the printed sign only
    "printed_transpose": (-1.0, False),  # the printed (missing) transpose only
}


@dataclasses.dataclass(frozen=True)
class LimitTrajectory:
    """The limit dynamics sampled at ``times`` (flow time) on the grid ``s`` (S + 1 points).

    Shapes (b independent problems): ``A`` (nt, b, q, d), ``V`` (nt, b, S+1, q, m), ``W`` (nt, b,
    S+1, m, q), ``B`` (nt, b, d', q), ``H`` (nt, b, S+1, n, q) hidden states on the grid,
    ``F`` (nt, b, n, d') outputs B H(1), ``loss`` (nt, b).
    """

    s: torch.Tensor
    times: tuple[float, ...]
    A: torch.Tensor
    V: torch.Tensor
    W: torch.Tensor
    B: torch.Tensor
    H: torch.Tensor
    F: torch.Tensor
    loss: torch.Tensor


def clip(blocks: Sequence[torch.Tensor], mode: str, c: float) -> tuple[torch.Tensor, ...]:
    """pi of the clipped flow (5) on one parameter given as its blocks (matrices in the last two
    dimensions), as :mod:`numerics.flow` applies it: ``"none"``; ``"coord"``: clamp every entry
    to [-c, c]; ``"norm"``: radial projection on the ball of radius c of the paper's norm, the
    sum of the blocks' Frobenius norms (||(V, W)|| = ||V||_F + ||W||_F; ||A||_F, ||B||_F)."""
    if mode not in ("none", "coord", "norm"):
        raise ConfigError("clip", mode, "must be one of none, coord, norm")
    if mode == "none":
        return tuple(blocks)
    out = [g.clone() for g in blocks]
    apply_pi(out, mode, c, lead=out[0].ndim - 2)
    return tuple(out)


def half_points(Z: torch.Tensor, dim: int = -3) -> torch.Tensor:
    """Four-point cubic Lagrange values at (j + 1/2)/S, j = 0..S-1, from values at j/S (S >= 3).

    Interior: (-Z_{j-1} + 9 Z_j + 9 Z_{j+1} - Z_{j+2}) / 16; one-sided stencils at both ends.
    """
    Z = Z.movedim(dim, 0)
    if Z.shape[0] < 4:
        raise ConfigError("S", Z.shape[0] - 1, "the grid needs S >= 3 intervals")
    mid = (-Z[:-3] + 9 * Z[1:-2] + 9 * Z[2:-1] - Z[3:]) / 16
    first = (5 * Z[0] + 15 * Z[1] - 5 * Z[2] + Z[3]) / 16
    last = (Z[-4] - 5 * Z[-3] + 15 * Z[-2] + 5 * Z[-1]) / 16
    return torch.cat([first[None], mid, last[None]]).movedim(0, dim)


def interpolate(values: torch.Tensor, s: torch.Tensor, dim: int = -3) -> torch.Tensor:
    """Four-point cubic Lagrange interpolation of grid values at j/S (along ``dim``) at points s."""
    vals = values.movedim(dim, 0)
    S = vals.shape[0] - 1
    u = s.to(torch.float64) * S
    j0 = torch.clamp(torch.floor(u).long() - 1, 0, S - 3)
    out = 0
    for a in range(4):
        weight = torch.ones_like(u)
        for b in range(4):
            if b != a:
                weight = weight * (u - (j0 + b)) / (a - b)
        w = weight.reshape(-1, *([1] * (vals.ndim - 1))).to(vals)
        out = out + w * vals[j0 + a]
    return out.movedim(0, dim)


def forward_states(res: MLP, A: torch.Tensor, V: torch.Tensor, W: torch.Tensor,
                   X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """RK4 solve of (43): H (b, S+1, n, q) on the grid and f_j = f(H_j, Z_j) (same shape),
    f model (3)'s residual ``res`` on its scaled weights (:meth:`MLP.scaled`, :meth:`MLP.rows`)."""
    S = V.shape[-3] - 1
    h = 1.0 / S
    f = res.rows
    Wc, Vc = res.scaled(V, W)  # scaled once: f(H, Z_j) = f(H, Wc_j, Vc_j)
    Vm, Wm = half_points(Vc), half_points(Wc)
    H = X @ A.mT
    Hs, fs = [], []
    for j in range(S):
        Vj, Wj, Vh, Wh = Vc[..., j, :, :], Wc[..., j, :, :], Vm[..., j, :, :], Wm[..., j, :, :]
        k1 = f(H, Wj, Vj)
        k2 = f(H + (0.5 * h) * k1, Wh, Vh)
        k3 = f(H + (0.5 * h) * k2, Wh, Vh)
        k4 = f(H + h * k3, Wc[..., j + 1, :, :], Vc[..., j + 1, :, :])
        Hs.append(H)
        fs.append(k1)
        H = H + (h / 6) * (k1 + 2 * (k2 + k3) + k4)
    Hs.append(H)
    fs.append(f(H, Wc[..., S, :, :], Vc[..., S, :, :]))
    return torch.stack(Hs, dim=-3), torch.stack(fs, dim=-3)


def backward_states(res: MLP, H: torch.Tensor, fH: torch.Tensor, V: torch.Tensor,
                    W: torch.Tensor, P1: torch.Tensor, backward: str = "derived") -> torch.Tensor:
    """RK4 solve of (44) from P(1) = P1 down to s = 0: P (b, S+1, n, q) on the grid, with
    d1f of model (3)'s residual ``res`` (:meth:`MLP.d1f`).

    ``backward`` picks the right side a(s) P with a = sign * d1f^T or sign * d1f
    (:data:`BACKWARD_FORMS`).  The equation is linear in P, so each RK4 step is the matrix
    M_j = I - (h/6)(K1 + 2 K2 + 2 K3 + K4), K1 = a(s_{j+1}), K2 = a(s_{j+1/2})(I - h K1/2),
    K3 = a(s_{j+1/2})(I - h K2/2), K4 = a(s_j)(I - h K3), built for all j at once; the half-point
    hidden state is the Hermite interpolant (H_j + H_{j+1})/2 + (f_j - f_{j+1})/(8S).
    """
    if backward not in BACKWARD_FORMS:
        raise ConfigError("backward", backward, f"must be one of {', '.join(BACKWARD_FORMS)}")
    sign, transpose = BACKWARD_FORMS[backward]
    S = V.shape[-3] - 1
    h = 1.0 / S
    Hm = 0.5 * (H[..., :-1, :, :] + H[..., 1:, :, :]) + (h / 8) * (fH[..., :-1, :, :]
                                                                   - fH[..., 1:, :, :])
    J = res.d1f(H, V, W)                              # (b, S+1, n, q, q)
    Jm = res.d1f(Hm, half_points(V), half_points(W))  # (b, S, n, q, q)
    if transpose:
        J, Jm = J.mT, Jm.mT
    a_top, a_mid, a_bot = sign * J[..., 1:, :, :, :], sign * Jm, sign * J[..., :-1, :, :, :]
    K1 = a_top
    K2 = a_mid - (0.5 * h) * a_mid @ K1
    K3 = a_mid - (0.5 * h) * a_mid @ K2
    K4 = a_bot - h * a_bot @ K3
    M = torch.eye(H.shape[-1], dtype=H.dtype, device=H.device) - (h / 6) * (K1 + 2 * (K2 + K3) + K4)
    P = P1.unsqueeze(-1)
    Ps = [P]
    for j in range(S - 1, -1, -1):
        P = M[..., j, :, :, :] @ P
        Ps.append(P)
    return torch.stack(Ps[::-1], dim=-4).squeeze(-1)


@dataclasses.dataclass(frozen=True)
class LimitGradients:
    """The loss l = c sum_i ||B H_i(1) - y_i||^2 of the neural ODE with grid weights (c = 1/n;
    1/(n d') for the official scaling, as :class:`numerics.model.MLP`), its hidden states ``H``
    (b, S+1, n, q) and outputs ``F`` (b, n, d'), and the right sides of (38)-(41) before pi:
    ``gV``, ``gW`` (on the grid) = c sum_i d2f(H_i, Z)^T P_i, the functional derivative
    dl/dZ(s); ``gA`` = c sum_i P_i(0) x_i^T; ``gB`` = 2c sum_i (B H_i(1) - y_i) H_i(1)^T."""

    loss: torch.Tensor
    H: torch.Tensor
    F: torch.Tensor
    gA: torch.Tensor
    gV: torch.Tensor
    gW: torch.Tensor
    gB: torch.Tensor


def limit_gradients(A: torch.Tensor, V: torch.Tensor, W: torch.Tensor, B: torch.Tensor,
                    X: torch.Tensor, Y: torch.Tensor, sigma: str, *, scaling: str = "paper",
                    backward: str = "derived") -> LimitGradients:
    """Solve (43) forward and (44) backward on the grid of ``V``, ``W`` and form the gradients.

    Shapes as in :func:`solve_limit`.
    """
    res = MLP(sigma, scaling)
    c = res.loss_scale(X.shape[-2], B.shape[-2])
    H, fH = forward_states(res, A, V, W, X)
    H1 = H[..., -1, :, :]
    F = H1 @ B.mT
    R = F - Y
    P = backward_states(res, H, fH, V, W, 2 * R @ B, backward)
    gV, gW = res.d2f_T(H, P, V, W, c)
    return LimitGradients(loss=c * (R * R).sum((-2, -1)), H=H, F=F, gA=c * P[..., 0, :, :].mT @ X,
                          gV=gV, gW=gW, gB=(2 * c) * R.mT @ H1)


def solve_limit(A: torch.Tensor, V: torch.Tensor, W: torch.Tensor, B: torch.Tensor,
                X: torch.Tensor, Y: torch.Tensor, sigma: str, *, T: float, eta: float,
                train_outer: bool = True, clip_mode: str = "none", clip_c: float = 1.0,
                scaling: str = "paper", record_times: Sequence[float] | None = None,
                backward: str = "derived") -> LimitTrajectory:
    """Euler steps of size ``eta`` in t of (38), (40), (41), with (43)-(44) solved on the s-grid.

    ``A`` (b, q, d), ``V`` (b, S+1, q, m), ``W`` (b, S+1, m, q): Z_init on the grid s_j = j/S,
    ``B`` (b, d', q); ``X`` (n, d) or (b, n, d), ``Y`` (n, d') or (b, n, d').  N = round(T/eta)
    steps; the state is recorded at the flow times ``record_times`` snapped to steps (default
    0 and T), as :func:`numerics.flow.train` does.  float64 throughout.
    """
    A, V, W, B, X, Y = (torch.as_tensor(t, dtype=torch.float64) for t in (A, V, W, B, X, Y))
    _check_shapes(A, V, W, B, X, Y)
    for name, value in (("T", T), ("eta", eta), ("clip_c", clip_c)):
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise ConfigError(name, value, "must be a positive finite number")
    if eta > T:
        raise ConfigError("eta", eta, f"the step must not exceed the horizon T={T}")
    if backward not in BACKWARD_FORMS:
        raise ConfigError("backward", backward, f"must be one of {', '.join(BACKWARD_FORMS)}")
    clip((A,), clip_mode, clip_c)  # validate the clipping mode before any work
    steps = max(1, round(T / eta))
    record_at = _record_steps((0.0, T) if record_times is None else record_times, T, eta)
    rec: dict[str, list[torch.Tensor]] = {k: [] for k in ("A", "V", "W", "B", "H", "F", "loss")}
    times: list[float] = []
    for step in range(steps + 1):
        g = limit_gradients(A, V, W, B, X, Y, sigma, scaling=scaling, backward=backward)
        if not bool(torch.isfinite(g.loss).all()):
            raise DivergenceError(step, "limit loss", float(g.loss.max()))
        if step in record_at:
            times.append(step * eta)
            for key, value in (("A", A), ("V", V), ("W", W), ("B", B), ("H", g.H), ("F", g.F),
                               ("loss", g.loss)):
                rec[key].append(value.clone())
        if step == steps:
            break
        dV, dW = clip((-g.gV, -g.gW), clip_mode, clip_c)
        V, W = V + eta * dV, W + eta * dW
        if train_outer:
            A = A + eta * clip((-g.gA,), clip_mode, clip_c)[0]
            B = B + eta * clip((-g.gB,), clip_mode, clip_c)[0]
    S = V.shape[-3] - 1
    return LimitTrajectory(torch.arange(S + 1, dtype=torch.float64) / S, tuple(times),
                           **{k: torch.stack(v) for k, v in rec.items()})


def limit_init(kind: str, *, d: int, d_out: int, q: int, m: int, S: int,
               seeds: Sequence[int] = (0,), ell: float = 0.2) -> tuple[torch.Tensor, ...]:
    """(A, V, W, B) of :func:`numerics.init.init_params` with the layers replaced by the grid
    s_j = j/S, j = 0..S: the same functions Z_init(s) (tied or smooth) as every depth L sees.
    For ``"iid"`` (Theorem 4's negative control) S + 1 independent layers: no depth-L network
    discretizes them, there is no large-depth limit (Section 5.2)."""
    if isinstance(S, bool) or not isinstance(S, int) or S < 3:
        raise ConfigError("S", S, "the grid needs S >= 3 intervals")
    grid = np.arange(S + 1) / S
    A, B = outer_matrices(d, d_out, q)
    nets = [initial_weights(grid, kind, MLP().block_shapes(q, m), seed=seed, ell=ell)
            for seed in seeds]
    b = len(seeds)
    V, W = (torch.stack([net[j] for net in nets]) for j in range(2))
    return A.expand(b, q, d).clone(), V, W, B.expand(b, d_out, q).clone()


def _record_steps(record_times: Sequence[float], T: float, eta: float) -> set[int]:
    steps = max(1, round(T / eta))
    out = set()
    for t in record_times:
        if isinstance(t, bool) or not isinstance(t, int | float) or not 0 <= t <= T * (1 + 1e-12):
            raise ConfigError("record_times", t, f"must be flow times in [0, T={T}]")
        out.add(min(steps, round(t / eta)))
    return out


def _check_shapes(A: torch.Tensor, V: torch.Tensor, W: torch.Tensor, B: torch.Tensor,
                  X: torch.Tensor, Y: torch.Tensor) -> None:
    if A.ndim != 3 or V.ndim != 4 or W.ndim != 4 or B.ndim != 3:
        raise ConfigError("shapes", (tuple(A.shape), tuple(V.shape), tuple(W.shape),
                                     tuple(B.shape)),
                          "need A (b,q,d), V (b,S+1,q,m), W (b,S+1,m,q), B (b,d',q)")
    b, q, d = A.shape
    S1, m = V.shape[1], V.shape[3]
    if V.shape != (b, S1, q, m) or W.shape != (b, S1, m, q) or B.shape[::2] != (b, q):
        raise ConfigError("shapes", (tuple(V.shape), tuple(W.shape), tuple(B.shape)),
                          f"inconsistent with A (b={b}, q={q}, d={d})")
    if S1 < 4:
        raise ConfigError("S", S1 - 1, "the grid needs S >= 3 intervals")
    if X.shape[-1] != d or Y.shape[-1] != B.shape[1] or X.shape[-2] != Y.shape[-2]:
        raise ConfigError("X", (tuple(X.shape), tuple(Y.shape)),
                          f"need X (n, d={d}) and Y (n, d'={B.shape[1]}) with the same n")
