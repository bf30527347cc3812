"""numerics.thm6_limits (Theorem 6 (i), (iii), the joint limit) against values computed another
way: the matrix exponential, scipy on a hand-written right-hand side with numpy's interpolation,
numerics.node's solver on a smooth path, and the known Euler and interpolation orders."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.integrate import solve_ivp
from scipy.linalg import expm

from numerics import thm6_limits as tl
from numerics.model import Params
from numerics.node import node_hidden, sample_weights, sin_modulated
from theory.config import Config

q, m, d, n = 4, 3, 2, 5


def _params(V: torch.Tensor, W: torch.Tensor) -> Params:
    """One network per leading index of V (b, L, q, m), W (b, L, m, q); A = [I; 0], B = [0, I]."""
    b = V.shape[0]
    A = torch.eye(q, d, dtype=torch.float64).expand(b, q, d).clone()
    B = torch.eye(d, q, dtype=torch.float64).flip(1).expand(b, d, q).clone()
    return Params(A, (V, W), B)


def _draw(*shape: int, seed: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_constant_path_with_identity_is_the_matrix_exponential() -> None:
    """sigma = id, V_k = V, W_k = W for every k: dH/ds = H W^T V^T / sqrt(qm) (row form), so
    H(s) = H0 expm(s W^T V^T / sqrt(qm))."""
    L, b = 6, 2
    V0, W0 = _draw(b, q, m, seed=1), _draw(b, m, q, seed=2)
    p = _params(V0[:, None].expand(b, L, q, m).clone(), W0[:, None].expand(b, L, m, q).clone())
    X = _draw(b, n, d, seed=3)
    s = [0.0, 0.25, 0.5, 1.0]
    H = tl.ode_states(p, X, s, "identity")
    for j in range(b):
        M = (W0[j].T @ V0[j].T).numpy() / math.sqrt(q * m)
        H0 = (X[j] @ p.A[j].T).numpy()
        for i, si in enumerate(s):
            np.testing.assert_allclose(H[i, j].numpy(), H0 @ expm(si * M), rtol=1e-8, atol=1e-9)


def test_piecewise_linear_path_against_scipy_on_a_hand_written_right_side() -> None:
    """Layers Z_k at s = k/L, Z_1 on [0, 1/L], linear in between: numpy's interp of every entry and
    tanh(H W^T / sqrt q) V^T / sqrt m, solved by scipy's Radau over [0, 1] in one go."""
    L = 5
    V, W = _draw(1, L, q, m, seed=4), _draw(1, L, m, q, seed=5)
    p = _params(V, W)
    X = _draw(1, n, d, seed=6)
    s = [0.0, 0.1, 0.3, 0.6, 1.0]
    H = tl.ode_states(p, X, s, "tanh")[:, 0].numpy()
    nodes = np.arange(L + 1) / L
    Vn = np.concatenate([V[0, :1].numpy(), V[0].numpy()])
    Wn = np.concatenate([W[0, :1].numpy(), W[0].numpy()])

    def at(values: np.ndarray, u: float) -> np.ndarray:
        flat = values.reshape(L + 1, -1)
        return np.array([np.interp(u, nodes, flat[:, i]) for i in range(flat.shape[1])]
                        ).reshape(values.shape[1:])

    def rhs(u: float, y: np.ndarray) -> np.ndarray:
        Hu = y.reshape(n, q)
        return (np.tanh(Hu @ at(Wn, u).T / math.sqrt(q)) @ at(Vn, u).T / math.sqrt(m)).ravel()

    H0 = (X[0] @ p.A[0].T).numpy()
    ref = solve_ivp(rhs, (0, 1), H0.ravel(), method="Radau", t_eval=s, rtol=1e-12, atol=1e-12,
                    max_step=1 / (4 * L))
    np.testing.assert_allclose(H, ref.y.T.reshape(len(s), n, q), rtol=1e-7, atol=1e-8)


def _smooth(seed: int) -> tuple:
    V0, V1 = _draw(q, m, seed=seed), _draw(q, m, seed=seed + 1)
    W0, W1 = _draw(m, q, seed=seed + 2), _draw(m, q, seed=seed + 3)
    return sin_modulated(V0, V1 / 2), sin_modulated(W0, W1 / 2)


def _discretized(V: object, W: object, L: int) -> Params:
    Vs, Ws = sample_weights(V, W, L)  # V_k = V(k/L), k = 1..L
    return _params(Vs[None], Ws[None])


def _slope(depths: list[int], values: list[float]) -> float:
    return float(np.polyfit(np.log(depths), np.log(values), 1)[0])


def test_hidden_distance_of_a_discretized_smooth_path_decays_like_one_over_L() -> None:
    """Weights V_k = V(k/L), W_k = W(k/L) of a smooth path: the ResNet is the Euler scheme of the
    ODE on that path (node_hidden, DOP853 on the smooth path itself), so max_{k,x} ||h_k - H(k/L)||
    ~ C/L (slope -1)."""
    V, W = _smooth(10)
    X = _draw(1, n, d, seed=14)
    depths = [8, 16, 32, 64]
    dist = []
    for L in depths:
        p = _discretized(V, W, L)
        H = node_hidden(p.A[0], V, W, X[0], "tanh", [k / L for k in range(L + 1)])
        dist.append(tl.state_distance(tl.network_states(p, X, "tanh"), H[:, None])[0])
    assert -1.1 < _slope(depths, dist) < -0.9


def test_interpolated_discretization_converges_at_second_order() -> None:
    """The ODE driven by the piecewise-linear interpolation of V(k/L'), W(k/L') is within
    O(1/L'^2) of the ODE on the smooth path (linear interpolation error): slope -2.  Placing Z_k
    at (k-1)/L' instead would leave an O(1/L') offset (slope -1)."""
    V, W = _smooth(20)
    X = _draw(1, n, d, seed=24)
    s = [0.0, 0.5, 1.0]
    ref = node_hidden(torch.eye(q, d, dtype=torch.float64), V, W, X[0], "tanh", s)
    depths = [8, 16, 32, 64]
    err = [float((tl.ode_states(_discretized(V, W, L), X, s, "tanh")[:, 0] - ref).abs().max())
           for L in depths]
    assert -2.2 < _slope(depths, err) < -1.8


def test_tail_rate_of_an_exponential_tail() -> None:
    """tau(T') = c e^(-r T'/2) per seed gives r back."""
    T = [16.0, 32.0, 64.0]
    tail = [[3 * math.exp(-0.07 * t / 2), 5 * math.exp(-0.07 * t / 2)] for t in T]
    assert tl.tail_rate(T, tail) == pytest.approx(0.07, rel=1e-12)


def test_times() -> None:
    """The diagonal T / 2^(J - i) and the grid T/4, T/2, T are among the snapshot times."""
    c = Config(T=64.0, depths=(2, 4, 8, 16, 32))
    assert tl.diagonal_times(c) == [4.0, 8.0, 16.0, 32.0, 64.0]
    assert set(tl.joint_times(c)) == {4.0, 8.0, 16.0, 32.0, 64.0}
    assert set(tl.kept_times(c)) == {4.0, 8.0, 16.0, 32.0, 64.0}
    assert set(tl.snapshot_times(c)) == {4.0 * j for j in range(17)}
    short = Config(T=64.0, depths=(2, 4, 8))  # T'/2 = 8 of the tail joins the kept times
    assert set(tl.kept_times(short)) == {8.0, 16.0, 32.0, 64.0}


TINY = Config(n=4, d=2, d_out=2, q=4, m=6, L=2, depths=(2, 4, 8, 16, 32), T=1.0, eta=0.02,
              activation="tanh", data="sphere", clip="none", seeds=(0, 1, 2, 3, 4))


def test_snapshots_of_the_path_runs() -> None:
    """At t = 0 the kept A is the initialization [I; 0]; at T the kept weights give the outputs
    the path run evaluated on its fresh inputs."""
    from numerics.longtime import fresh_inputs, path_runs
    from numerics.model import MLP, forward

    per = path_runs(TINY)["per_depth"]
    for depth in per:
        snaps = depth["snapshots"]
        assert torch.equal(snaps["A"][0], torch.eye(4, 2, dtype=torch.float64).expand(5, 4, 2))
        last = snaps["params"][len(snaps["t"]) - 1]
        F = forward(last, fresh_inputs(TINY).double(), MLP("tanh"))
        torch.testing.assert_close(F, depth["F_fresh"], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("sid", ["thm6.i_AB", "thm6.iii_hidden", "thm6.joint"])
def test_checks_run_beyond_scope(sid: str) -> None:
    """At a tiny scale the three checks run beyond Theorem 6's assumptions (m >= c1 n fails),
    with their measured precondition beside them."""
    from numerics.checks import run_check

    r = run_check(sid, TINY, control=False)
    assert r.scope == "beyond" and r.verdict in ("holds", "fails", "inconclusive")
    assert "precondition, measured (not a gate)" in r.notes
    if sid == "thm6.joint":
        assert r.bound == 1.0 and len(r.extra["series"]["doubling_per_seed"]) == 5
    else:
        assert r.rate_slope is not None and len(r.extra["series"]["distance"]) == 4
