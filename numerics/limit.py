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

Layer/grid alignment.  Layer k of a network of depth L is compared with s_k = k/L (Z_k <-> Z(k/L),
h_k <-> H(k/L)).  This is where Appendix A initializes, Z_k(0) = Z_init(k/L), so the alignment is
exact at t = 0 (the left alignment s = (k-1)/L, which the released code's index matching
int(i N / L) amounts to, starts with an O(1/L) offset for a smooth initialization); it is also
what the piecewise-constant interpolation (8), Z^L(s) = Z_{floor((L-1)s)+1}, selects at the nodes
s = j/L, since (j-1)/(L-1) <= j/L < j/(L-1).  The points s = j/L are layers j, 2j, 4j of the
networks of depth L, 2L, 4L, so Z^L_k(t) = Z(k/L, t) + c_1(k/L, t)/L + c_2/L^2 + ... is a clean
expansion there and Richardson extrapolation applies.  Off the nodes, (8) adds the interpolation
error of a step function, O(1/L) with a coefficient that oscillates with the fractional part of
(L-1)s (no expansion in 1/L); :func:`depth_gaps` reports that sup over all s as ``z_sup_interp``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch

from numerics.activations import get as get_activation
from numerics.data import make_data
from numerics.flow import Flow, TrainResult, apply_pi, train
from numerics.init import init_params, initial_weights, outer_matrices
from numerics.model import MLP, Params, hidden_states
from numerics.rates import loglog_slope
from theory.errors import ConfigError, DivergenceError

if TYPE_CHECKING:
    from theory.config import Config

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


@dataclasses.dataclass(frozen=True)
class NetworkSnapshots:
    """Weights of depth-L networks at ``times``: ``A`` (nt, b, q, d), ``V`` (nt, b, L, q, m),
    ``W`` (nt, b, L, m, q), ``B`` (nt, b, d', q) (layer k = 1..L at index k - 1)."""

    times: tuple[float, ...]
    A: torch.Tensor
    V: torch.Tensor
    W: torch.Tensor
    B: torch.Tensor

    @property
    def L(self) -> int:
        return self.V.shape[-3]

    @classmethod
    def from_train(cls, result: TrainResult) -> NetworkSnapshots:
        """The snapshots of a :func:`numerics.flow.train` run made with ``snapshots=True``."""
        if not result.snapshots:
            raise ConfigError("snapshots", 0, "train the network with snapshots=True and "
                              "record_times")
        snaps = [p.to("cpu", torch.float64) for p in result.snapshots]
        return cls(tuple(float(t) for t in result.record_times),
                   *(torch.stack([getattr(p, k) for p in snaps]) for k in ("A", "V", "W", "B")))


@dataclasses.dataclass(frozen=True)
class DepthGap:
    """Distances between a depth-L network and the limit, maximized over the common times.

    ``z_sup`` = max_{t,k} ||Z^L_k(t) - Z(k/L, t)|| (||Z|| = ||V||_F + ||W||_F); ``z_sup_interp``:
    the same for the piecewise-constant interpolation (8), sup over s; ``z_l2`` = max_t of
    (int ||V^L(s) - V(s)||_F^2 ds)^{1/2} + (same for W) (Figure 1, right; the integral is the
    mean over the layers at s = k/L); ``h_sup`` = max_{t,i,k} ||h^L_k(x_i) - H_i(k/L)||;
    ``out_sup`` = max_{t,i} ||F^L(x_i) - B H_i(1)||; ``a_sup``, ``b_sup``: max_t Frobenius
    distances of A and B.  Each is a maximum over the b problems too.
    """

    L: int
    z_sup: float
    z_sup_interp: float
    z_l2: float
    h_sup: float
    out_sup: float
    a_sup: float
    b_sup: float


class Residual:
    """Model (3), f(h, (V, W)) = c_V V sigma(c_W W h) (:class:`numerics.model.MLP`): its sigma,
    width factors and derivatives, on rows.

    For rows H (.., n, q), P (.., n, q), U = c_W H W^T: ``jacobian`` = d1f(h_i, Z) =
    c_V c_W V diag(sigma'(u_i)) W per row (.., n, q, q); ``d2f_T`` = c sum_i d2f(h_i, Z)^T p_i as
    the pair (c c_V P^T sigma(U), c c_V c_W ((P V) * sigma'(U))^T H).
    """

    def __init__(self, sigma: str, q: int, m: int, scaling: str = "paper"):
        self.act = get_activation(sigma)
        self.c_w, self.c_v = MLP(sigma, scaling).factors(q, m)

    def jacobian(self, H: torch.Tensor, V: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
        D = self.act.df(self.c_w * H @ W.mT)  # (.., n, m)
        return (self.c_v * self.c_w) * (V.unsqueeze(-3) * D.unsqueeze(-2)) @ W.unsqueeze(-3)

    def d2f_T(self, H: torch.Tensor, P: torch.Tensor, V: torch.Tensor, W: torch.Tensor,
              c: float) -> tuple[torch.Tensor, torch.Tensor]:
        U = self.c_w * H @ W.mT
        gV = (c * self.c_v) * P.mT @ self.act.f(U)
        gW = (c * self.c_v * self.c_w) * ((P @ V) * self.act.df(U)).mT @ H
        return gV, gW


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


def forward_states(res: Residual, A: torch.Tensor, V: torch.Tensor, W: torch.Tensor,
                   X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """RK4 solve of (43): H (b, S+1, n, q) on the grid and f_j = f(H_j, Z_j) (same shape)."""
    S = V.shape[-3] - 1
    h = 1.0 / S
    act = res.act.f
    Vc, Wc = (res.c_v * V).mT, (res.c_w * W).mT  # scaled once: f = sigma(H Wc) Vc
    Vm, Wm = half_points(Vc), half_points(Wc)
    H = X @ A.mT
    Hs, fs = [], []
    for j in range(S):
        Vj, Wj, Vh, Wh = Vc[..., j, :, :], Wc[..., j, :, :], Vm[..., j, :, :], Wm[..., j, :, :]
        k1 = act(H @ Wj) @ Vj
        k2 = act((H + (0.5 * h) * k1) @ Wh) @ Vh
        k3 = act((H + (0.5 * h) * k2) @ Wh) @ Vh
        k4 = act((H + h * k3) @ Wc[..., j + 1, :, :]) @ Vc[..., j + 1, :, :]
        Hs.append(H)
        fs.append(k1)
        H = H + (h / 6) * (k1 + 2 * (k2 + k3) + k4)
    Hs.append(H)
    fs.append(act(H @ Wc[..., S, :, :]) @ Vc[..., S, :, :])
    return torch.stack(Hs, dim=-3), torch.stack(fs, dim=-3)


def backward_states(res: Residual, H: torch.Tensor, fH: torch.Tensor, V: torch.Tensor,
                    W: torch.Tensor, P1: torch.Tensor, backward: str = "derived") -> torch.Tensor:
    """RK4 solve of (44) from P(1) = P1 down to s = 0: P (b, S+1, n, q) on the grid.

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
    J = res.jacobian(H, V, W)                             # (b, S+1, n, q, q)
    Jm = res.jacobian(Hm, half_points(V), half_points(W))  # (b, S, n, q, q)
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
    res = Residual(sigma, A.shape[-2], V.shape[-1], scaling)
    c = MLP(sigma, scaling).loss_scale(X.shape[-2], B.shape[-2])
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


def restrict_layers(Z: torch.Tensor, L_coarse: int, dim: int = -3) -> torch.Tensor:
    """Layers k = r j (j = 1..L_coarse, r = L / L_coarse) of a depth-L stack: the layers at
    s = j / L_coarse under the alignment s_k = k/L."""
    L = Z.shape[dim]
    if L_coarse < 1 or L % L_coarse:
        raise ConfigError("L_coarse", L_coarse, f"must divide the depth L={L}")
    r = L // L_coarse
    index = torch.arange(r - 1, L, r)
    return Z.index_select(dim if dim >= 0 else Z.ndim + dim, index)


def richardson(values: Sequence[torch.Tensor], ratio: float = 2.0) -> torch.Tensor:
    """Extrapolate v(L), v(rL), v(r^2 L), ... (aligned at common points) to L = infinity.

    Assumes v(L) = v + c_1/L + c_2/L^2 + ...; with J values the first J - 1 terms are removed
    (Neville tableau R_{j,p} = (r^p R_{j,p-1} - R_{j-1,p-1}) / (r^p - 1)); three values at
    ratio 2 give (v(L) - 6 v(2L) + 8 v(4L)) / 3.
    """
    if len(values) < 2:
        raise ConfigError("values", len(values), "Richardson needs at least two depths")
    column = list(values)
    for p in range(1, len(values)):
        factor = ratio**p
        column = [(factor * column[j] - column[j - 1]) / (factor - 1)
                  for j in range(1, len(column))]
    return column[0]


def depth_gaps(traj: LimitTrajectory, net: NetworkSnapshots, X: torch.Tensor, sigma: str, *,
               scaling: str = "paper") -> DepthGap:
    """Distances of one depth-L run from the limit at their common recorded times (S4).

    Layer k is compared with Z(k/L) and h_k with H(k/L).  When L divides S or S divides L the
    comparison uses the common points k/L = j/S only (no interpolation error: for L > S this
    samples every (L/S)-th layer); otherwise the limit is interpolated (:func:`interpolate`,
    fourth order in 1/S).
    """
    common = [(i, j) for j, t in enumerate(traj.times)
              if (i := _time_index(net.times, t)) is not None]
    if not common:
        raise ConfigError("times", net.times, "no recorded time in common with the limit")
    L = net.L
    s_interp, k_interp = _interp8_points(L)
    X = torch.as_tensor(X, dtype=torch.float64)
    out = dict.fromkeys(("z_sup", "z_sup_interp", "z_l2", "h_sup", "out_sup", "a_sup",
                         "b_sup"), 0.0)
    for i, j in common:
        dV = _aligned_difference(net.V[i], traj.V[j], first=1)
        dW = _aligned_difference(net.W[i], traj.W[j], first=1)
        fro_v, fro_w = torch.linalg.matrix_norm(dV), torch.linalg.matrix_norm(dW)
        dV8 = net.V[i][..., k_interp, :, :] - interpolate(traj.V[j], s_interp)
        dW8 = net.W[i][..., k_interp, :, :] - interpolate(traj.W[j], s_interp)
        params = Params(net.A[i], (net.V[i], net.W[i]), net.B[i])
        h = hidden_states(params, X, MLP(sigma, scaling)).movedim(0, -3)  # (b, L+1, n, q)
        dh = _aligned_difference(h, traj.H[j], first=0)
        dF = h[..., -1, :, :] @ net.B[i].mT - traj.F[j]
        values = {
            "z_sup": (fro_v + fro_w).max(),
            "z_sup_interp": (torch.linalg.matrix_norm(dV8) + torch.linalg.matrix_norm(dW8)).max(),
            "z_l2": (fro_v.square().mean(-1).sqrt() + fro_w.square().mean(-1).sqrt()).max(),
            "h_sup": torch.linalg.vector_norm(dh, dim=-1).max(),
            "out_sup": torch.linalg.vector_norm(dF, dim=-1).max(),
            "a_sup": torch.linalg.matrix_norm(net.A[i] - traj.A[j]).max(),
            "b_sup": torch.linalg.matrix_norm(net.B[i] - traj.B[j]).max(),
        }
        for key, value in values.items():
            out[key] = max(out[key], float(value))
    return DepthGap(L=L, **out)


def _aligned_difference(layers: torch.Tensor, grid: torch.Tensor, first: int) -> torch.Tensor:
    """layers[..., k - first] - limit(k/L) over the common points (dim -3 indexes k and j).

    ``layers`` holds k = first..L (``first`` 1 for weights, 0 for hidden states), ``grid`` holds
    the limit at j/S, j = 0..S.
    """
    L = layers.shape[-3] - 1 + first
    S = grid.shape[-3] - 1
    if S % L == 0:
        k = torch.arange(first, L + 1)
        return layers - grid[..., k * (S // L), :, :]
    if L % S == 0:
        j = torch.arange(first, S + 1)
        return layers[..., j * (L // S) - first, :, :] - grid[..., j, :, :]
    s_k = torch.arange(first, L + 1, dtype=torch.float64) / L
    return layers - interpolate(grid, s_k)


@dataclasses.dataclass(frozen=True)
class RichardsonCheck:
    """Richardson extrapolation of networks of depths L, 2L, 4L against the limit solver.

    ``z_extrapolated`` = max over the common times and j = 1..L of ||R_j - Z(j/L)|| with R the
    extrapolation (v(L) - 6 v(2L) + 8 v(4L))/3 of the layers at s = j/L; ``z_deepest`` the same
    for the depth-4L network alone; ``out_*``: the same for the outputs F(x_i) (max over i of
    the Euclidean norm).
    """

    depths: tuple[int, int, int]
    z_extrapolated: float
    z_deepest: float
    out_extrapolated: float
    out_deepest: float


def richardson_check(traj: LimitTrajectory, nets: Sequence[NetworkSnapshots], X: torch.Tensor,
                     sigma: str, *, scaling: str = "paper") -> RichardsonCheck:
    """Compare the limit with the extrapolation of three networks of depths L, 2L, 4L."""
    depths = tuple(net.L for net in nets)
    if len(nets) != 3 or depths[1] != 2 * depths[0] or depths[2] != 4 * depths[0]:
        raise ConfigError("depths", depths, "Richardson needs networks of depths L, 2L, 4L")
    L = depths[0]
    X = torch.as_tensor(X, dtype=torch.float64)
    out = dict.fromkeys(("z_extrapolated", "z_deepest", "out_extrapolated", "out_deepest"), 0.0)
    for j, t in enumerate(traj.times):
        idx = [_time_index(net.times, t) for net in nets]
        if None in idx:
            continue
        snaps = [(net, i) for net, i in zip(nets, idx, strict=True)]
        V = [restrict_layers(net.V[i], L) for net, i in snaps]
        W = [restrict_layers(net.W[i], L) for net, i in snaps]
        F = [hidden_states(Params(net.A[i], (net.V[i], net.W[i]), net.B[i]), X,
                           MLP(sigma, scaling))[-1] @ net.B[i].mT for net, i in snaps]
        for key, v, w, f in (("extrapolated", richardson(V), richardson(W), richardson(F)),
                             ("deepest", V[2], W[2], F[2])):
            z = (torch.linalg.matrix_norm(_aligned_difference(v, traj.V[j], first=1))
                 + torch.linalg.matrix_norm(_aligned_difference(w, traj.W[j], first=1)))
            o = torch.linalg.vector_norm(f - traj.F[j], dim=-1)
            out["z_" + key] = max(out["z_" + key], float(z.max()))
            out["out_" + key] = max(out["out_" + key], float(o.max()))
    return RichardsonCheck(depths, **out)  # type: ignore[arg-type]


@dataclasses.dataclass(frozen=True)
class DepthStudy:
    """S4 for one configuration: the limit, each depth's :class:`DepthGap`, the log-log slopes of
    every gap against L (``slopes[name]``), and a :class:`RichardsonCheck` on the first three
    depths when they are L, 2L, 4L."""

    limit: LimitTrajectory
    gaps: tuple[DepthGap, ...]
    slopes: dict[str, float]
    richardson: RichardsonCheck | None


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


def depth_study(config: Config, *, depths: Sequence[int] | None = None, S: int = 64,
                record_times: Sequence[float] | None = None) -> DepthStudy:
    """Train model (3) at each depth with :func:`numerics.flow.train` and compare with the limit.

    Uses the configuration's sizes, activation, scaling, init (tied or smooth), data (synthetic),
    flow (eta, T, clipping, train_outer) and seed; ``depths`` default to ``config.depths``;
    ``record_times`` (default 0, T/4, T/2, 3T/4, T) are where the gaps are measured (sup over
    them).  float64 on ``config.device``.
    """
    depths = tuple(config.depths if depths is None else depths)
    if len(depths) < 2:
        raise ConfigError("depths", depths, "needs at least two depths for a slope")
    T = config.T
    record_times = tuple(record_times or (0.0, T / 4, T / 2, 3 * T / 4, T))
    sizes = {"d": config.d, "d_out": config.d_out, "q": config.q, "m": config.m}
    X, Y = make_data(config.data, n=config.n, d=config.d, d_out=config.d_out, q=config.q,
                     seed=config.seed, y_scale=config.y_scale)
    traj = solve_limit(*limit_init(config.init, S=S, seeds=(config.seed,), ell=config.ell,
                                   **sizes), X, Y, config.activation, T=T, eta=config.eta,
                       train_outer=config.trains_outer, clip_mode=config.clip,
                       clip_c=config.clip_c, scaling=config.scaling, record_times=record_times)
    flow = Flow.from_config(config)
    residual = MLP(config.activation, config.scaling)
    nets = []
    for L in depths:
        params = init_params(config.init, L=L, seeds=(config.seed,), ell=config.ell,
                             device=config.device, **sizes)
        result = train(params, X.to(config.device), Y.to(config.device), flow, residual,
                       record_times=record_times, snapshots=True)
        nets.append(NetworkSnapshots.from_train(result))
    gaps = tuple(depth_gaps(traj, net, X, config.activation, scaling=config.scaling)
                 for net in nets)
    slopes = {name: loglog_slope(depths, [getattr(g, name) for g in gaps])[0]
              for name in ("z_sup", "z_sup_interp", "z_l2", "h_sup", "out_sup", "a_sup", "b_sup")
              if all(getattr(g, name) > 0 for g in gaps)}
    rich = None
    if len(depths) >= 3 and depths[1] == 2 * depths[0] and depths[2] == 4 * depths[0]:
        rich = richardson_check(traj, nets[:3], X, config.activation, scaling=config.scaling)
    return DepthStudy(traj, gaps, slopes, rich)


def _time_index(times: Sequence[float], t: float) -> int | None:
    for i, u in enumerate(times):
        if abs(u - t) <= 1e-9 * max(1.0, abs(t)):
            return i
    return None


def _record_steps(record_times: Sequence[float], T: float, eta: float) -> set[int]:
    steps = max(1, round(T / eta))
    out = set()
    for t in record_times:
        if isinstance(t, bool) or not isinstance(t, int | float) or not 0 <= t <= T * (1 + 1e-12):
            raise ConfigError("record_times", t, f"must be flow times in [0, T={T}]")
        out.add(min(steps, round(t / eta)))
    return out


def _interp8_points(L: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Points s (both ends of every interval of (8)) and the 0-based layer floor((L-1)s)."""
    if L == 1:
        return torch.tensor([0.0, 1.0], dtype=torch.float64), torch.tensor([0, 0])
    k = torch.arange(1, L, dtype=torch.float64)
    left = (k - 1) / (L - 1)
    right = torch.nextafter(k / (L - 1), torch.zeros(()).double())
    s = torch.cat([left, right, torch.ones(1, dtype=torch.float64)])
    layer = torch.clamp(torch.floor((L - 1) * s).long(), max=L - 1)
    return s, layer


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
