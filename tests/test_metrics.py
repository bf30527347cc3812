"""Streamed metrics against direct numpy computations with the paper's norms."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from numerics.gradients import Grads
from numerics.metrics import ROW, SERIES, Monitor, layer_norms, smin_features, successive_gaps
from numerics.model import Params


def _random(seed: int, b: int = 2, L: int = 5, q: int = 4, m: int = 3, d: int = 2) -> Params:
    g = torch.Generator().manual_seed(seed)

    def r(*s: int) -> torch.Tensor:
        return torch.randn(*s, generator=g, dtype=torch.float64)

    return Params(r(b, q, d), (r(b, L, q, m), r(b, L, m, q)), r(b, d, q))


def _fro(a: np.ndarray) -> float:
    return float(np.sqrt((a**2).sum()))


def test_layer_norms_and_gaps_are_sums_of_frobenius_norms() -> None:
    p = _random(0)
    V, W = p.V.numpy(), p.W.numpy()
    expected = [[_fro(V[j, k]) + _fro(W[j, k]) for k in range(5)] for j in range(2)]
    np.testing.assert_allclose(layer_norms(p.Z).numpy(), expected, rtol=1e-14)
    gaps = [[_fro(V[j, k + 1] - V[j, k]) + _fro(W[j, k + 1] - W[j, k]) for k in range(4)]
            for j in range(2)]
    np.testing.assert_allclose(successive_gaps(p.Z).numpy(), gaps, rtol=1e-14)


def test_monitor_row_matches_its_definitions() -> None:
    p, p0, gr = _random(1), _random(2), _random(3)
    grads = Grads(gr.A, gr.Z, gr.B)
    loss = torch.tensor([0.7, 2.5], dtype=torch.float64)
    mon = Monitor(p, p0)
    mon.measure(loss, grads)
    row = mon.row.numpy()
    V, W, A, B = (t.numpy() for t in (p.V, p.W, p.A, p.B))
    V0, W0, A0, B0 = (t.numpy() for t in (p0.V, p0.W, p0.A, p0.B))
    gV, gW, gA, gB = (t.numpy() for t in (gr.V, gr.W, gr.A, gr.B))
    for j in range(2):
        expected = {
            "loss": loss[j].item(),
            "gap": max(_fro(V[j, k + 1] - V[j, k]) + _fro(W[j, k + 1] - W[j, k])
                       for k in range(4)),
            "z_norm": max(_fro(V[j, k]) + _fro(W[j, k]) for k in range(5)),
            "a_norm": _fro(A[j]), "b_norm": _fro(B[j]),
            "dist_a": _fro(A[j] - A0[j]), "dist_b": _fro(B[j] - B0[j]),
            "dist_z": max(_fro(V[j, k] - V0[j, k]) + _fro(W[j, k] - W0[j, k]) for k in range(5)),
            "pl": (_fro(gA[j]) ** 2 + 5 * sum(_fro(gV[j, k]) ** 2 + _fro(gW[j, k]) ** 2
                                              for k in range(5)) + _fro(gB[j]) ** 2)
            / loss[j].item(),
        }
        for name, value in expected.items():
            assert math.isclose(row[ROW[name], j], value, rel_tol=1e-13), name
    mon.accumulate()
    first = mon.maxima.clone()
    mon.row.mul_(0.5)
    mon.accumulate()
    assert torch.equal(mon.maxima, first)  # a smaller row leaves the running maxima
    assert len(SERIES) == mon.row.shape[0]


def test_depth_one_has_zero_gap() -> None:
    p = _random(4, L=1)
    mon = Monitor(p, p)
    gr = _random(5, L=1)
    mon.measure(torch.ones(2, dtype=torch.float64), Grads(gr.A, gr.Z, gr.B))
    assert mon.row[ROW["gap"]].abs().max().item() == 0.0
    assert mon.row[ROW["dist_z"]].abs().max().item() == 0.0


@pytest.mark.parametrize(("n", "m"), [(4, 7), (7, 4)])
def test_smin_features_is_the_smallest_singular_value_per_layer(n: int, m: int) -> None:
    acts = torch.randn(3, 2, n, m, generator=torch.Generator().manual_seed(0),
                       dtype=torch.float64)  # (L, b, n, m)
    out = smin_features(acts)
    assert out.shape == (2, 3)
    for k in range(3):
        for j in range(2):
            # the n-th singular value of the m x n matrix: sqrt(lambda_min) of its n x n Gram
            # (0 when m < n: the Gram has rank m; its rounding-level eigenvalue is not a value)
            gram = acts[k, j].numpy() @ acts[k, j].numpy().T
            expected = 0.0 if m < n else math.sqrt(max(np.linalg.eigvalsh(gram).min(), 0.0))
            assert math.isclose(out[j, k].item(), expected, rel_tol=1e-9, abs_tol=1e-9)


def test_trained_gap_is_the_largest_neighbour_difference_of_what_training_added() -> None:
    """By hand: one block, b = 2, L = 3; D = Z - Z0 = [[0, 3, 7], [1, 1, 1]] (1-vectors): the
    neighbour differences are (3, 4) and (0, 0); a single layer gives 0."""
    from numerics.metrics import trained_gap

    Z0 = (torch.tensor([[1.0, 1.0, 1.0], [2.0, 5.0, -1.0]])[..., None],)
    Z = (Z0[0] + torch.tensor([[0.0, 3.0, 7.0], [1.0, 1.0, 1.0]])[..., None],)
    assert trained_gap(Z, Z0).tolist() == [4.0, 0.0]
    assert trained_gap((Z[0][:, :1],), (Z0[0][:, :1],)).tolist() == [0.0, 0.0]
