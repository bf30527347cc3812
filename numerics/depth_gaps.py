"""Distances between depth-L networks and the large-depth limit (docs/statements.md, thm4.limit;
Theorem 4), and Richardson extrapolation in 1/L.

The limit is :mod:`numerics.limit`'s solution on the grid s_j = j/S; the networks are snapshots of
:func:`numerics.flow.train` runs.

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
from collections.abc import Iterable, Sequence

import torch

from numerics.flow import TrainResult
from numerics.limit import LimitTrajectory, interpolate
from numerics.model import MLP, Params, hidden_states
from theory.errors import ConfigError

GAP_NAMES = ("z_sup", "z_sup_interp", "z_l2", "h_sup", "out_sup", "a_sup", "b_sup")


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

    def network(self, j: int) -> NetworkSnapshots:
        """The snapshots of network j alone (b = 1)."""
        return dataclasses.replace(self, **{k: getattr(self, k)[:, j:j + 1] for k in "AVWB"})


@dataclasses.dataclass(frozen=True)
class DepthGap:
    """Distances between a depth-L network and the limit (at one time, or their max over times).

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


def depth_gaps_by_time(traj: LimitTrajectory, net: NetworkSnapshots, X: torch.Tensor,
                       sigma: str, *, scaling: str = "paper") -> dict[float, DepthGap]:
    """The :class:`DepthGap` of one depth-L run at each recorded time it shares with the limit
    (keys: those flow times, in the limit's order).

    Layer k is compared with Z(k/L) and h_k with H(k/L).  When L divides S or S divides L the
    comparison uses the common points k/L = j/S only (no interpolation error: for L > S this
    samples every (L/S)-th layer); otherwise the limit is interpolated
    (:func:`numerics.limit.interpolate`, fourth order in 1/S).
    """
    common = [(i, j) for j, t in enumerate(traj.times)
              if (i := _time_index(net.times, t)) is not None]
    if not common:
        raise ConfigError("times", net.times, "no recorded time in common with the limit")
    L = net.L
    s_interp, k_interp = _interp8_points(L)
    X = torch.as_tensor(X, dtype=torch.float64)
    out: dict[float, DepthGap] = {}
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
        out[traj.times[j]] = DepthGap(L=L, **{k: float(v) for k, v in values.items()})
    return out


def sup_over_time(gaps: Iterable[DepthGap]) -> DepthGap:
    """Each distance's maximum over ``gaps`` (one network at several times; at least one)."""
    gaps = list(gaps)
    out = dict.fromkeys(GAP_NAMES, 0.0)
    for gap in gaps:
        for key in GAP_NAMES:
            out[key] = max(out[key], getattr(gap, key))
    return DepthGap(L=gaps[0].L, **out)


def depth_gaps(traj: LimitTrajectory, net: NetworkSnapshots, X: torch.Tensor, sigma: str, *,
               scaling: str = "paper") -> DepthGap:
    """Distances of one depth-L run from the limit, maximized over their common recorded times
    (:func:`depth_gaps_by_time`)."""
    return sup_over_time(depth_gaps_by_time(traj, net, X, sigma, scaling=scaling).values())


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


def _time_index(times: Sequence[float], t: float) -> int | None:
    for i, u in enumerate(times):
        if abs(u - t) <= 1e-9 * max(1.0, abs(t)):
            return i
    return None


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
