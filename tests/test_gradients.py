"""The explicit recurrences (13)-(16) against autograd and finite differences."""

from __future__ import annotations

import pytest
import torch

from numerics.data import make_data
from numerics.gradients import Workspace, loss_and_grads, loss_and_grads_autograd
from numerics.model import MLP, Conv, Params, hidden_states, loss
from theory.tolerance import RTOL

# every test on each engine of model (3)'s sweeps: compiled and torch (conftest.py)
pytestmark = pytest.mark.usefixtures("engine")


def _params(b: int, L: int, q: int = 7, m: int = 5, d: int = 4, d_out: int = 3,
            dtype: torch.dtype = torch.float64, seed: int = 0) -> Params:
    g = torch.Generator().manual_seed(seed)

    def r(*s: int) -> torch.Tensor:
        return torch.randn(*s, generator=g, dtype=torch.float64).to(dtype)

    return Params(r(b, q, d), (r(b, L, q, m), r(b, L, m, q)), r(b, d_out, q))


def _data(b: int, n: int = 6, d: int = 4, d_out: int = 3,
          dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    X, Y = make_data("gaussian", n=n, d=d, d_out=d_out, seed=3)
    if b > 1:  # per-network data for b > 1
        X = X + 0.1 * torch.arange(b, dtype=torch.float64).view(b, 1, 1)
    return X.to(dtype), Y.to(dtype)


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a - b).norm() / b.norm().clamp_min(1e-300)).item()


CASES = [(a, L, b, s) for a in ("gelu",) for L in (1, 2, 7) for b in (1, 3)
         for s in ("paper", "official")]
CASES += [(a, 7, 3, "paper") for a in ("tanh", "sigmoid", "sin", "identity", "erf", "softplus")]
CASES += [(a, 2, 1, "official") for a in ("tanh", "identity")]


@pytest.mark.parametrize("activation,L,b,scaling", CASES)
def test_explicit_gradients_equal_autograd(activation: str, L: int, b: int, scaling: str) -> None:
    q = 4 if scaling == "official" else 7  # the released code has q = d = d'
    p = _params(b, L, q=q, d=4, d_out=4 if scaling == "official" else 3)
    X, Y = _data(b, d_out=p.d_out)
    residual = MLP(activation, scaling)
    l1, g1 = loss_and_grads(p, X, Y, residual)
    l2, g2 = loss_and_grads_autograd(p, X, Y, residual)
    assert _rel(l1, l2) < 1e-12
    for name, a, ref in zip(("A", "V", "W", "B"), (g1.A, *g1.Z, g1.B), (g2.A, *g2.Z, g2.B),
                            strict=True):
        assert _rel(a, ref) < 1e-10, name


def test_explicit_gradients_equal_central_finite_differences() -> None:
    p = _params(2, 5, seed=4)
    X, Y = _data(2)
    residual = MLP("gelu")
    _, g = loss_and_grads(p, X, Y, residual)
    h = 1e-6  # truncation O(h^2 l''') ~ 1e-12; rounding ~ eps l / h ~ 1e-9
    for block, grad in zip((p.A, *p.Z, p.B), (g.A, *g.Z, g.B), strict=True):
        for index in [(0,) + (0,) * (block.ndim - 1), (1,) + tuple(s - 1 for s in block.shape[1:]),
                      (1,) + tuple(s // 2 for s in block.shape[1:])]:
            saved = block[index].item()
            block[index] = saved + h
            up = loss(p, X, Y, residual)[index[0]].item()
            block[index] = saved - h
            down = loss(p, X, Y, residual)[index[0]].item()
            block[index] = saved
            assert abs((up - down) / (2 * h) - grad[index].item()) < 1e-7


def test_backward_recurrence_13_needs_the_transpose() -> None:
    # dl/dh_k by autograd equals the workspace's P_k = c p_k, which uses d1f^T.  The recurrence as
    # printed, p_k = p_{k+1} + (1/L) d1f p_{k+1} (no transpose), gives something else.
    p, residual = _params(1, 3, seed=2), MLP("tanh")
    X, Y = _data(1)
    ws = Workspace(p, X, Y, residual)
    ws.compute()
    H = hidden_states(p, X, residual).detach().requires_grad_(True)
    with torch.enable_grad():
        states = [H[0]]
        for k in range(p.L):
            states.append(states[-1] + residual(states[-1], p.layer(k)) / p.L)
        out = states[-1] @ p.B.mT
        lval = ((out - Y) ** 2).sum() / X.shape[0]
        dh = torch.autograd.grad(lval, states)
    for k in range(p.L + 1):
        assert _rel(ws.P[k], dh[k]) < 1e-12
    # printed form, sample by sample, with the Jacobian d1f of one layer
    untransposed = ws.P[p.L][0].clone()
    for k in reversed(range(p.L)):
        rows = []
        for i in range(X.shape[0]):
            jac = torch.autograd.functional.jacobian(
                lambda h, k=k: residual(h.view(1, 1, -1), p.layer(k)).view(-1), ws.H[k, 0, i])
            rows.append(untransposed[i] + jac @ untransposed[i] / p.L)
        untransposed = torch.stack(rows)
    assert _rel(untransposed, dh[0][0]) > 1e-3


def test_float32_matches_float64_to_float32_tolerance() -> None:
    p64 = _params(2, 16, q=16, m=32, d=16, d_out=16, seed=6)
    X, Y = _data(2, n=20, d=16, d_out=16)
    p32 = p64.to(dtype=torch.float32)
    l64, g64 = loss_and_grads(p64, X, Y)
    l32, g32 = loss_and_grads(p32, X.float(), Y.float())
    assert _rel(l32.double(), l64) < RTOL["float32"]
    for a, ref in zip((g32.A, *g32.Z, g32.B), (g64.A, *g64.Z, g64.B), strict=True):
        assert _rel(a.double(), ref) < 10 * RTOL["float32"]  # sums of 20 x 16 x 32 products


def test_workspace_buffers_are_reused_and_follow_the_parameters() -> None:
    p = _params(1, 4)
    X, Y = _data(1)
    ws = Workspace(p, X, Y, MLP())
    l_first = ws.compute()[0].clone()
    with torch.no_grad():
        p.W.mul_(1.5)
    l_second, g = ws.compute()
    assert l_second.data_ptr() == ws.compute()[0].data_ptr()
    l_ref, g_ref = loss_and_grads_autograd(p, X, Y)
    assert _rel(l_second, l_ref) < 1e-12 and not torch.equal(l_first, l_second)
    assert _rel(g.Z[1], g_ref.Z[1]) < 1e-10


def test_autograd_path_for_a_convolutional_residual_matches_finite_differences() -> None:
    res = Conv(channels=2, hidden_channels=3, spatial=(4,), kernel=3, activation="tanh")
    g = torch.Generator().manual_seed(0)
    p = Params(torch.randn(1, 8, 3, generator=g, dtype=torch.float64),
               (torch.randn(1, 3, 2, 3, 3, generator=g, dtype=torch.float64),
                torch.randn(1, 3, 3, 2, 3, generator=g, dtype=torch.float64)),
               torch.randn(1, 2, 8, generator=g, dtype=torch.float64))
    X, Y = make_data("gaussian", n=5, d=3, d_out=2, seed=1)
    _, grads = loss_and_grads(p, X, Y, res)  # dispatches to autograd
    h = 1e-6
    for block, grad in zip(p.Z, grads.Z, strict=True):
        index = (0, 1) + tuple(s // 2 for s in block.shape[2:])
        saved = block[index].item()
        block[index] = saved + h
        up = loss(p, X, Y, res).item()
        block[index] = saved - h
        down = loss(p, X, Y, res).item()
        block[index] = saved
        assert abs((up - down) / (2 * h) - grad[index].item()) < 1e-7
