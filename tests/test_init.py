"""Initializations of Section 3 and Section 4.3 against their definitions."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from numerics.data import make_data
from numerics.init import gp_basis, init_params, initial_weights
from numerics.model import MLP, forward
from theory.errors import ConfigError

SIZES = {"d": 3, "d_out": 2, "q": 6, "m": 4}


def test_tied_initialization_of_section_3() -> None:
    p = init_params("tied", L=7, seeds=(11,), **SIZES)
    assert torch.count_nonzero(p.V) == 0
    assert all(torch.equal(p.W[0, k], p.W[0, 0]) for k in range(7))
    A = np.zeros((6, 3))
    A[:3, :3] = np.eye(3)
    B = np.zeros((2, 6))
    B[:, 4:] = np.eye(2)
    np.testing.assert_array_equal(p.A[0].numpy(), A)
    np.testing.assert_array_equal(p.B[0].numpy(), B)
    X, _ = make_data("gaussian", n=5, d=3, d_out=2)
    # q >= d + d': B A = 0, so F(x) = B A x = 0 at initialization
    assert forward(p, X, MLP()).abs().max().item() == 0.0


def test_iid_initialization() -> None:
    p = init_params("iid", L=400, seeds=(0,), d=2, d_out=2, q=4, m=5)
    assert torch.count_nonzero(p.V) == 0
    W = p.W[0]
    assert not torch.equal(W[0], W[1])
    assert abs(W.mean().item()) < 0.05 and abs(W.var().item() - 1) < 0.05  # 8000 N(0,1) draws


@pytest.mark.parametrize("kind", ["tied", "smooth", "iid"])
def test_same_seed_same_numbers_and_batched_equals_single(kind: str) -> None:
    a = init_params(kind, L=5, seeds=(3, 8), **SIZES)
    b = init_params(kind, L=5, seeds=(3, 8), **SIZES)
    assert all(torch.equal(x, y) for x, y in zip((a.A, *a.Z, a.B), (b.A, *b.Z, b.B), strict=True))
    single = init_params(kind, L=5, seeds=(8,), **SIZES)
    assert all(torch.equal(x[1], y[0]) for x, y in zip(a.Z, single.Z, strict=True))
    assert not torch.equal(a.W[0], a.W[1])
    f32 = init_params(kind, L=5, seeds=(3, 8), dtype="float32", **SIZES)
    assert torch.equal(f32.W, a.W.float())


def test_gp_basis_reproduces_the_squared_exponential_covariance() -> None:
    # Phi Phi^T = exp(-(s - s')^2 / (2 ell^2)) on grids the anchors never saw.
    for ell in (0.05, 0.2, 1.0):
        s = np.concatenate([np.arange(1, 301) / 300, np.random.default_rng(0).uniform(0, 1, 50)])
        phi = gp_basis(s, ell)
        K = np.exp(-np.subtract.outer(s, s) ** 2 / (2 * ell**2))
        np.testing.assert_allclose(phi @ phi.T, K, rtol=0, atol=1e-10)


def test_smooth_initialization_covariance_monte_carlo() -> None:
    # Entries of V0, W0 across seeds and entries: empirical covariance between depths s, s'
    # against exp(-(s - s')^2 / (2 ell^2)).  Each estimate averages N = 40 * 2 * 24 products of
    # unit Gaussians (variance <= 2/N): margin 5 sqrt(2/N).
    ell, L = 0.25, 8
    p = init_params("smooth", L=L, seeds=tuple(range(40)), ell=ell, d=2, d_out=2, q=4, m=6)
    samples = torch.cat([p.V.flatten(2), p.W.flatten(2)], dim=2)  # (40, L, 48)
    samples = samples.transpose(1, 2).reshape(-1, L).numpy()
    emp = samples.T @ samples / samples.shape[0]
    s = np.arange(1, L + 1) / L
    K = np.exp(-np.subtract.outer(s, s) ** 2 / (2 * ell**2))
    assert np.abs(emp - K).max() < 5 * np.sqrt(2 / samples.shape[0])


def test_smooth_initialization_is_one_function_of_depth() -> None:
    # V_k(0) = V0(k/L): the layer k of a depth-8 network is the layer 2k of a depth-16 one.
    # Tolerance: evaluating the anchored GP rounds at about cond(K(S, S)) * eps ~ 1e-12 / GP_TOL
    # relative, so two evaluations at the same s agree to ~1e-9, not to the last bit.
    a = init_params("smooth", L=8, seeds=(5,), **SIZES)
    b = init_params("smooth", L=16, seeds=(5,), **SIZES)
    torch.testing.assert_close(a.V[0], b.V[0, 1::2], rtol=1e-8, atol=1e-8)
    torch.testing.assert_close(a.W[0], b.W[0, 1::2], rtol=1e-8, atol=1e-8)
    V, W = initial_weights([0.5], "smooth", MLP().block_shapes(6, 4), seed=5)
    torch.testing.assert_close(V[0], a.V[0, 3], rtol=1e-8, atol=1e-8)
    torch.testing.assert_close(W[0], a.W[0, 3], rtol=1e-8, atol=1e-8)


def test_smooth_initialization_successive_differences_scale_as_one_over_L() -> None:
    depths = np.array([16, 32, 64, 128, 256])
    gaps = []
    for L in depths:
        p = init_params("smooth", L=int(L), seeds=(0, 1, 2), ell=0.2, **SIZES)
        dz = sum((z[:, 1:] - z[:, :-1]).flatten(2).norm(dim=2) for z in p.Z)
        gaps.append(dz.amax(1).mean().item())
    slope = np.polyfit(np.log(depths), np.log(gaps), 1)[0]
    assert -1.1 < slope < -0.9


@pytest.mark.parametrize("kwargs,field", [
    ({"L": 0}, "L"), ({"seeds": ()}, "seeds"), ({"seeds": (-1,)}, "seed"), ({"ell": 0.0}, "ell"),
    ({"q": 2}, "q"), ({"dtype": "float16"}, "dtype"),
])
def test_bad_arguments_raise_config_error(kwargs: dict[str, object], field: str) -> None:
    args = {"L": 3, "seeds": (0,), **SIZES, **kwargs}
    kind = "smooth" if field == "ell" else "tied"
    with pytest.raises(ConfigError) as err:
        init_params(kind, **args)  # type: ignore[arg-type]
    assert err.value.field == field
    with pytest.raises(ConfigError, match="init"):
        init_params("orthogonal", L=3, **SIZES)
