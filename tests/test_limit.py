"""The large-depth limit solver (S4) against closed forms, an independent ODE solver with finite
differences, Richardson extrapolation and deep networks trained by numerics.flow."""

from __future__ import annotations

import dataclasses
import math

import pytest
import sympy as sp
import torch

from numerics.data import make_data
from numerics.depth_gaps import NetworkSnapshots, depth_gaps, restrict_layers, richardson
from numerics.depth_study import depth_study
from numerics.flow import Flow, train
from numerics.init import init_params
from numerics.limit import (
    LimitTrajectory,
    clip,
    forward_states,
    half_points,
    interpolate,
    limit_gradients,
    limit_init,
    solve_limit,
)
from numerics.model import MLP
from numerics.node import node_forward
from theory.config import Config
from theory.errors import ConfigError

F64 = torch.float64
SMALL = Config(n=10, d=3, d_out=2, q=6, m=8, T=0.5, eta=0.05, activation="gelu", init="tied",
               depths=(16, 32, 64, 128))


def test_half_points_and_interpolation_are_exact_for_cubics() -> None:
    S = 6
    s = torch.arange(S + 1, dtype=F64) / S

    def p(u: torch.Tensor) -> torch.Tensor:
        return (1 - 2 * u + 3 * u**2 - 4 * u**3).reshape(-1, 1, 1)

    torch.testing.assert_close(half_points(p(s)), p((torch.arange(S, dtype=F64) + 0.5) / S),
                               rtol=0, atol=1e-13)
    u = torch.tensor([0.0, 0.01, 0.33, 0.5, 0.97, 1.0], dtype=F64)
    torch.testing.assert_close(interpolate(p(s), u), p(u), rtol=0, atol=1e-13)


def test_forward_solver_is_fourth_order_on_the_linear_case() -> None:
    """sigma = id and constant Z: H(1) = expm(V W / sqrt(qm)) A x; RK4 error ratio ~16."""
    g = torch.Generator().manual_seed(0)
    q, m, d, n = 4, 5, 3, 6
    A, V, W = (torch.randn(*sh, generator=g, dtype=F64) for sh in ((1, q, d), (1, q, m),
                                                                     (1, m, q)))
    X = torch.randn(n, d, generator=g, dtype=F64)
    exact = X @ (torch.linalg.matrix_exp(V[0] @ W[0] / math.sqrt(q * m)) @ A[0]).T
    errors = []
    for S in (8, 16, 32):
        H, _ = forward_states(MLP("identity"), A, V[:, None].expand(1, S + 1, q, m),
                              W[:, None].expand(1, S + 1, m, q), X)
        errors.append(float((H[0, -1] - exact).abs().max()))
    assert 12 < errors[0] / errors[1] < 20 and 12 < errors[1] / errors[2] < 20, errors
    assert errors[-1] < 1e-7 * float(exact.abs().max())


def _smooth_problem(S: int) -> dict:
    g = torch.Generator().manual_seed(1)
    q, m, d, dp, n = 4, 5, 3, 2, 6
    r = {k: torch.randn(*sh, generator=g, dtype=F64) for k, sh in {
        "A": (q, d), "B": (dp, q), "V0": (q, m), "V1": (q, m), "W0": (m, q), "W1": (m, q),
        "X": (n, d), "Y": (n, dp), "dV": (q, m), "dW": (m, q), "dA": (q, d), "dB": (dp, q)}.items()}

    def V(s: float) -> torch.Tensor:
        return r["V0"] + math.sin(2 * math.pi * s) * r["V1"]

    def W(s: float) -> torch.Tensor:
        return r["W0"] + math.cos(3 * s) * r["W1"]

    def dV(s: float) -> torch.Tensor:
        return math.cos(2 * s) * r["dV"]

    def dW(s: float) -> torch.Tensor:
        return s * r["dW"]

    grid = [j / S for j in range(S + 1)]
    return r | {"V": V, "W": W, "dVf": dV, "dWf": dW, "grid": grid,
                "Vg": torch.stack([V(s) for s in grid])[None],
                "Wg": torch.stack([W(s) for s in grid])[None]}


def _ode_loss(p: dict, eps: float, part: str) -> float:
    """l = (1/n) sum ||B H(1) - y||^2 with DOP853 (numerics.node), weights moved by eps."""
    A = p["A"] + eps * p["dA"] if part == "A" else p["A"]
    B = p["B"] + eps * p["dB"] if part == "B" else p["B"]

    def V(s: float) -> torch.Tensor:
        return p["V"](s) + (eps * p["dVf"](s) if part == "Z" else 0)

    def W(s: float) -> torch.Tensor:
        return p["W"](s) + (eps * p["dWf"](s) if part == "Z" else 0)

    F = node_forward(A, V, W, B, p["X"], "tanh")
    return float(((F - p["Y"]) ** 2).sum() / p["X"].shape[0])


def _simpson(values: torch.Tensor) -> float:
    """Composite Simpson rule on [0, 1] over the first axis (an even number of intervals)."""
    S = values.shape[0] - 1
    w = torch.ones(S + 1, dtype=F64)
    w[1:-1:2], w[2:-1:2] = 4, 2
    return float((w * values).sum() / (3 * S))


@pytest.mark.parametrize("part", ["A", "B", "Z"])
def test_gradients_are_directional_derivatives_of_the_ode_loss(part: str) -> None:
    """<gradient, direction> (grid solver, derived adjoint) = d/de l (DOP853, central FD).

    S = 128: the grid solver and Simpson's rule are fourth order, 1e-6 relative at this S."""
    p = _smooth_problem(128)
    g = limit_gradients(p["A"][None], p["Vg"], p["Wg"], p["B"][None], p["X"], p["Y"], "tanh")
    eps = 1e-4
    fd = (_ode_loss(p, eps, part) - _ode_loss(p, -eps, part)) / (2 * eps)
    if part == "A":
        ours = float((g.gA[0] * p["dA"]).sum())
    elif part == "B":
        ours = float((g.gB[0] * p["dB"]).sum())
    else:
        dV = torch.stack([p["dVf"](s) for s in p["grid"]])
        dW = torch.stack([p["dWf"](s) for s in p["grid"]])
        ours = _simpson((g.gV[0] * dV).sum((-2, -1)) + (g.gW[0] * dW).sum((-2, -1)))
    assert ours == pytest.approx(fd, rel=1e-6)


def test_grid_loss_converges_to_the_dop853_loss_at_fourth_order() -> None:
    exact = _ode_loss(_smooth_problem(8), 0.0, "A")
    errors = []
    for S in (32, 64):
        p = _smooth_problem(S)
        g = limit_gradients(p["A"][None], p["Vg"], p["Wg"], p["B"][None], p["X"], p["Y"], "tanh")
        errors.append(abs(float(g.loss[0]) - exact))
    assert errors[1] < 1e-6 * exact and 12 < errors[0] / errors[1] < 20, errors


@pytest.mark.parametrize("backward", ["printed", "printed_sign", "printed_transpose"])
def test_printed_adjoint_gives_wrong_gradients(backward: str) -> None:
    """(44) as printed (dP/ds = d1f P), or with only its sign or only its transpose fixed, is not
    the gradient: the Z-directional derivative misses the finite difference by > 1%."""
    p = _smooth_problem(64)
    g = limit_gradients(p["A"][None], p["Vg"], p["Wg"], p["B"][None], p["X"], p["Y"], "tanh",
                        backward=backward)
    eps = 1e-4
    fd = (_ode_loss(p, eps, "Z") - _ode_loss(p, -eps, "Z")) / (2 * eps)
    dV = torch.stack([p["dVf"](s) for s in p["grid"]])
    dW = torch.stack([p["dWf"](s) for s in p["grid"]])
    ours = _simpson((g.gV[0] * dV).sum((-2, -1)) + (g.gW[0] * dW).sum((-2, -1)))
    assert abs(ours - fd) > 1e-2 * abs(fd)


def test_adjoint_equation_derived_symbolically() -> None:
    """(13): p_{k-1} = (I + J/L)^T p_k.  With p_k = P(k/L): (P(s - h) - P(s)) / h = J^T P, so to
    first order in h = 1/L, dP/ds = -J^T P; equivalently P^T dH is conserved along dH' = J dH
    only for P' = -J^T P."""
    h = sp.symbols("h", positive=True)
    J = sp.Matrix(2, 2, sp.symbols("j0:4"))
    P, dP = sp.Matrix(sp.symbols("p0:2")), sp.Matrix(sp.symbols("q0:2"))  # P(s), P'(s)
    recurrence = (P - h * dP) - (sp.eye(2) + h * J).T * P  # P(s - h) - (I + hJ)^T P(s)
    solution = sp.solve(list(recurrence / h), list(dP), dict=True)[0]
    assert sp.simplify(sp.Matrix([solution[v] for v in dP]) + J.T * P) == sp.zeros(2, 1)
    M = sp.Matrix(2, 2, sp.symbols("m0:4"))
    pairing = (M * P).T * dP + P.T * (J * dP)  # d/ds (P^T dH) with P' = M P, dH' = J dH (dP: dH)
    coeffs = sp.Poly(sp.expand(pairing[0]), *P, *dP).coeffs()
    assert sp.solve(coeffs, list(M), dict=True) == [dict(zip(M, -J.T, strict=True))]


def test_richardson_removes_the_first_terms() -> None:
    v, c1, c2, c3 = 2.5, -1.0, 3.0, 7.0

    def at(L: int) -> torch.Tensor:
        return torch.tensor(v + c1 / L + c2 / L**2 + c3 / L**3, dtype=F64)

    assert float(richardson([at(8), at(16), at(32), at(64)])) == pytest.approx(v, abs=1e-12)
    three = float(richardson([at(8), at(16), at(32)]))
    assert three == pytest.approx(v + c3 / 8**3 * (1 - 6 / 8 + 8 / 64) / 3, abs=1e-12)


def test_restrict_layers_picks_s_equal_j_over_L() -> None:
    Z = torch.arange(1, 9, dtype=F64).reshape(1, 8, 1, 1)  # layer k holds k
    assert restrict_layers(Z, 2).flatten().tolist() == [4.0, 8.0]
    with pytest.raises(ConfigError):
        restrict_layers(Z, 3)


def test_clip_projects_as_defined() -> None:
    g = torch.Generator().manual_seed(2)
    V, W = torch.randn(3, 4, 5, generator=g, dtype=F64), torch.randn(3, 5, 4, generator=g,
                                                                        dtype=F64)
    cV, cW = clip((V, W), "coord", 0.5)
    assert float(cV.abs().max()) <= 0.5 and torch.equal(cV, V.clamp(-0.5, 0.5))
    nV, nW = clip((V, W), "norm", 1.0)
    norms = torch.linalg.matrix_norm(nV) + torch.linalg.matrix_norm(nW)
    torch.testing.assert_close(norms, torch.ones(3, dtype=F64))
    ratio = nV / V
    torch.testing.assert_close(ratio, ratio[:, :1, :1].expand_as(ratio))  # same direction
    small = (V * 1e-3, W * 1e-3)
    assert all(torch.equal(a, b) for a, b in zip(clip(small, "norm", 1.0), small, strict=True))


def test_limit_matches_networks_at_rate_one_over_L_and_richardson() -> None:
    """Tied GELU: every gap falls like 1/L; extrapolating L = 16, 32, 64 lands within 1e-3 of
    the deepest network's own error."""
    study = depth_study(SMALL, S=64)
    for name in ("z_sup", "z_l2", "h_sup", "out_sup", "a_sup", "b_sup"):
        assert -1.2 <= study.slopes[name] <= -0.8, (name, study.slopes)
    r = study.richardson
    assert r is not None and r.depths == (16, 32, 64)
    assert r.z_extrapolated < 1e-3 * r.z_deepest
    assert r.out_extrapolated < 1e-3 * r.out_deepest


def test_clipped_flow_limit_matches_networks() -> None:
    """Norm clipping (numerics.flow's pi) on a smooth initialization: still the 1/L rate."""
    config = dataclasses.replace(SMALL, init="smooth", activation="tanh", clip="norm", clip_c=0.5)
    study = depth_study(config, depths=(16, 32, 64), S=64)
    for name in ("z_sup", "h_sup", "out_sup"):
        assert -1.2 <= study.slopes[name] <= -0.8, (name, study.slopes)


@pytest.mark.parametrize("backward", ["printed", "printed_sign", "printed_transpose"])
def test_printed_adjoint_does_not_match_deep_networks(backward: str) -> None:
    X, Y = make_data("gaussian", n=10, d=3, d_out=2, seed=0)
    init = limit_init("tied", d=3, d_out=2, q=6, m=8, S=32)
    wrong = solve_limit(*init, X, Y, "gelu", T=0.5, eta=0.05, backward=backward)
    right = solve_limit(*init, X, Y, "gelu", T=0.5, eta=0.05)
    bad, good = {}, {}
    for L in (32, 128):
        res = train(init_params("tied", d=3, d_out=2, q=6, m=8, L=L), X, Y, Flow(0.05, 0.5),
                    MLP("gelu"), record_times=(0.5,), snapshots=True)
        net = NetworkSnapshots.from_train(res)
        bad[L], good[L] = depth_gaps(wrong, net, X, "gelu"), depth_gaps(right, net, X, "gelu")
    for name in ("z_sup", "out_sup"):
        assert getattr(good[128], name) < 0.3 * getattr(good[32], name)  # converges (1/4)
        assert getattr(bad[128], name) > 0.8 * getattr(bad[32], name)  # does not
        assert getattr(bad[128], name) > 100 * getattr(good[128], name)


def test_deep_network_gap_matches_the_one_over_L_prediction() -> None:
    """L = 4096 (smooth GELU, T = 0.5): the measured gap equals the L = 256 gap times 256/4096
    up to the O(1/L^2) remainder (5%)."""
    X, Y = make_data("gaussian", n=10, d=3, d_out=2, seed=0)
    times = (0.0, 0.25, 0.5)
    traj = solve_limit(*limit_init("smooth", d=3, d_out=2, q=6, m=8, S=64), X, Y, "gelu",
                       T=0.5, eta=0.05, record_times=times)
    gaps = {}
    for L in (256, 4096):
        res = train(init_params("smooth", d=3, d_out=2, q=6, m=8, L=L), X, Y, Flow(0.05, 0.5),
                    MLP("gelu"), record_times=times, snapshots=True)
        gaps[L] = depth_gaps(traj, NetworkSnapshots.from_train(res), X, "gelu")
    for name in ("z_sup", "h_sup", "out_sup", "a_sup", "b_sup"):
        predicted = getattr(gaps[256], name) * 256 / 4096
        assert getattr(gaps[4096], name) == pytest.approx(predicted, rel=0.05), name


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"S": 2}, "S"), ({"backward": "nope"}, "backward"), ({"T": 0.01, "eta": 0.05}, "eta"),
    ({"record_times": (2.0,)}, "record_times"), ({"clip_mode": "max"}, "clip"),
])
def test_solve_limit_rejects_bad_input(kwargs: dict, field: str) -> None:
    S = kwargs.pop("S", 8)
    X, Y = make_data("gaussian", n=4, d=3, d_out=2, seed=0)
    args = {"T": 0.5, "eta": 0.05} | kwargs
    A, _, _, B = limit_init("tied", d=3, d_out=2, q=6, m=8, S=3)
    V, W = torch.zeros(1, S + 1, 6, 8, dtype=F64), torch.ones(1, S + 1, 8, 6, dtype=F64)
    with pytest.raises(ConfigError) as err:
        solve_limit(A, V, W, B, X, Y, "gelu", **args)
    assert err.value.field == field


def test_limit_init_iid_is_no_discretization() -> None:
    """The i.i.d. control's grid: neighbouring layers are independent standard Gaussians, so
    E||W_{j+1} - W_j||_F^2 = 2 m q (no Lipschitz path, however fine the grid), unlike tied."""
    for kind, expected in (("iid", 2 * 8 * 6), ("tied", 0.0)):
        _, V, W, _ = limit_init(kind, d=3, d_out=2, q=6, m=8, S=64)
        mean_sq = float((W[0, 1:] - W[0, :-1]).pow(2).sum(dim=(-2, -1)).mean())
        assert mean_sq == pytest.approx(expected, rel=0.15, abs=1e-12)


def test_depth_gaps_on_a_network_that_samples_the_limit() -> None:
    """V = 0, W(s) = s E: the network W_k = (k/L) E sits on the limit at its nodes (z_sup = 0),
    while the step function (8) is off by sup |k/L - s| ||E||_F = ||E||_F / L."""
    g = torch.Generator().manual_seed(5)
    q, m, d, dp, n, S, L = 3, 4, 2, 2, 5, 16, 8
    E = torch.randn(m, q, generator=g, dtype=F64)
    A, B = torch.randn(1, q, d, generator=g, dtype=F64), torch.randn(1, dp, q, generator=g,
                                                                      dtype=F64)
    X = torch.randn(n, d, generator=g, dtype=F64)
    s = torch.arange(S + 1, dtype=F64) / S
    H0 = X @ A.mT  # f = 0 when V = 0: H(s) = A x for every s
    traj = LimitTrajectory(s, (0.0,), A[None], torch.zeros(1, 1, S + 1, q, m, dtype=F64),
                           (s[:, None, None] * E)[None, None], B[None],
                           H0[:, None].expand(1, S + 1, n, q)[None], (H0 @ B.mT)[None],
                           torch.zeros(1, 1, dtype=F64))
    k = torch.arange(1, L + 1, dtype=F64) / L
    net = NetworkSnapshots((0.0,), A[None], torch.zeros(1, 1, L, q, m, dtype=F64),
                           (k[:, None, None] * E)[None, None], B[None])
    gap = depth_gaps(traj, net, X, "tanh")
    assert gap.z_sup < 1e-14 and gap.h_sup < 1e-14 and gap.out_sup < 1e-14
    assert gap.z_sup_interp == pytest.approx(float(E.norm()) / L, rel=1e-12)
