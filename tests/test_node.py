"""Neural ODE (6) solve and Proposition 2 gap (S2), against closed forms and extrapolation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from numerics.node import (
    grid_interpolant,
    node_forward,
    node_hidden,
    resnet_forward,
    resnet_ode_gap,
    sample_weights,
    sin_modulated,
)
from theory.errors import ConfigError

Q, M, D, D_OUT, N = 6, 8, 3, 2, 5


def _mats(seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)

    def r(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=g, dtype=torch.float64)

    return {"A": r(Q, D), "B": r(D_OUT, Q), "V0": r(Q, M), "V1": r(Q, M), "W0": r(M, Q),
            "W1": r(M, Q), "X": r(N, D)}


def test_linear_constant_weights_is_matrix_exponential() -> None:
    """sigma = id, constant V, W: H(1) = expm(V W / sqrt(mq)) A x."""
    p = _mats()
    F = node_forward(p["A"], lambda s: p["V0"], lambda s: p["W0"], p["B"], p["X"], "identity")
    want = (p["B"] @ torch.linalg.matrix_exp(p["V0"] @ p["W0"] / math.sqrt(Q * M)) @ p["A"]
            @ p["X"].T).T
    torch.testing.assert_close(F, want, rtol=1e-10, atol=1e-10)


def test_linear_time_varying_scalar_modulation() -> None:
    """V(s) = cos(s) V0: the generators commute, H(s) = expm(sin(s) V0 W0 / sqrt(mq)) H(0)."""
    p = _mats(1)
    s_eval = [0.0, 0.3, 1.0]
    H = node_hidden(p["A"], lambda s: math.cos(s) * p["V0"], lambda s: p["W0"], p["X"],
                    "identity", s_eval)
    G = p["V0"] @ p["W0"] / math.sqrt(Q * M)
    for j, s in enumerate(s_eval):
        want = (torch.linalg.matrix_exp(math.sin(s) * G) @ p["A"] @ p["X"].T).T
        torch.testing.assert_close(H[j], want, rtol=1e-10, atol=1e-10)


def test_official_scaling_drops_width_factors() -> None:
    p = _mats(2)
    F = node_forward(p["A"], lambda s: p["V0"] / 10, lambda s: p["W0"], p["B"], p["X"],
                     "identity", scaling="official")
    want = (p["B"] @ torch.linalg.matrix_exp(p["V0"] @ p["W0"] / 10) @ p["A"] @ p["X"].T).T
    torch.testing.assert_close(F, want, rtol=1e-10, atol=1e-10)


def test_nonlinear_solve_matches_extrapolated_euler() -> None:
    """tanh, sin-modulated weights: F = lim F^L; two Richardson steps from L = 256, 512, 1024."""
    p = _mats(3)
    V = sin_modulated(p["V0"], p["V1"])
    W = sin_modulated(p["W0"], p["W1"], 3.0, 1.0)
    F = node_forward(p["A"], V, W, p["B"], p["X"], "tanh")
    F1, F2, F4 = (resnet_forward(p["A"], *sample_weights(V, W, L), p["B"], p["X"], "tanh")
                  for L in (256, 512, 1024))
    extrapolated = (F1 - 6 * F2 + 8 * F4) / 3  # removes the 1/L and 1/L^2 terms
    assert float((F - F4).abs().max()) > 1e-3  # the Euler error itself is large
    torch.testing.assert_close(extrapolated, F, rtol=0, atol=1e-6)


@pytest.mark.parametrize("sigma", ["tanh", "gelu"])
def test_resnet_ode_gap_rate_is_one_over_L(sigma: str) -> None:
    p = _mats(4)
    r = resnet_ode_gap(p["A"], sin_modulated(p["V0"], p["V1"]),
                       sin_modulated(p["W0"], p["W1"], 3.0, 1.0), p["B"], p["X"], sigma,
                       [32, 64, 128, 256])
    assert -1.2 <= r.slope <= -0.8, r
    assert all(b < a for a, b in zip(r.gaps, r.gaps[1:], strict=False))


def test_gap_rate_with_lipschitz_only_weights() -> None:
    """Piecewise-linear interpolation of random grid values (Lipschitz, not C^1): still ~1/L."""
    g = torch.Generator().manual_seed(5)
    p = _mats(5)
    Vg = torch.randn(9, Q, M, generator=g, dtype=torch.float64)
    Wg = torch.randn(9, M, Q, generator=g, dtype=torch.float64)
    r = resnet_ode_gap(p["A"], grid_interpolant(Vg), grid_interpolant(Wg), p["B"], p["X"],
                       "tanh", [64, 128, 256, 512])
    assert -1.2 <= r.slope <= -0.8, r


def test_grid_interpolants_reproduce_polynomials() -> None:
    s = np.linspace(0, 1, 7)
    lin = torch.tensor(2 + 3 * s).reshape(7, 1, 1)
    cub = torch.tensor(1 - s + 2 * s**2 - 5 * s**3).reshape(7, 1, 1)
    fl, fc = grid_interpolant(lin), grid_interpolant(cub, "cubic")
    for u in (0.0, 0.05, 0.37, 0.5, 0.99, 1.0):
        assert float(fl(u)) == pytest.approx(2 + 3 * u, abs=1e-13)
        assert float(fc(u)) == pytest.approx(1 - u + 2 * u**2 - 5 * u**3, abs=1e-12)


def test_sample_weights_uses_right_endpoints() -> None:
    Vs, Ws = sample_weights(lambda s: torch.full((1, 1), s), lambda s: torch.full((1, 1), -s), 4)
    assert Vs.flatten().tolist() == [0.25, 0.5, 0.75, 1.0]
    assert Ws.flatten().tolist() == [-0.25, -0.5, -0.75, -1.0]


@pytest.mark.parametrize("bad", [
    {"s_eval": [0.5, 0.2]}, {"s_eval": [1.5]}, {"s_eval": []}, {"sigma": "nope"},
    {"X": torch.zeros(3, D + 1)},
])
def test_bad_input_raises(bad: dict) -> None:
    p = _mats()
    args = {"A": p["A"], "V": lambda s: p["V0"], "W": lambda s: p["W0"], "X": p["X"],
            "sigma": "tanh", "s_eval": [1.0]} | bad
    with pytest.raises(ConfigError):
        node_hidden(**args)


def test_gap_needs_two_depths() -> None:
    p = _mats()
    with pytest.raises(ConfigError):
        resnet_ode_gap(p["A"], lambda s: p["V0"], lambda s: p["W0"], p["B"], p["X"], "tanh", [8])
