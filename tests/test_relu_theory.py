"""Appendix D (theory.relu): w*, the gap limit and the derived dw/dt against a root finder, a
finite-difference gradient of the scalar network and an ODE solve."""

from __future__ import annotations

import math

import pytest
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

from theory import relu
from theory.config import Config
from theory.errors import ConfigError


@pytest.mark.parametrize(("L", "C"), [(1, 1.5), (4, 2.0), (64, 2.0), (1000, 10.0)])
def test_w_star_is_the_root_and_exceeds_2_log_C(L, C):
    root = brentq(lambda w: L * math.log1p(w / (2 * L)) - math.log(C), 0.0, 2 * L * C,
                  xtol=1e-15, rtol=1e-15)
    assert relu.w_star(L, C) == pytest.approx(root, rel=1e-12)
    assert relu.w_star(L, C) >= 2 * math.log(C)
    assert relu.gap_limit(L, C) == pytest.approx(root + 1 / (2 * L), rel=1e-12)


def _loss(weights, x, C):
    """The depth-2L scalar ReLU network of Appendix D and its loss (h_{2L} - C x)^2."""
    depth, h = len(weights), x
    for w in weights:
        h = h + max(w * h, 0.0) / depth
    return (h - C * x) ** 2


@pytest.mark.parametrize(("L", "C", "x", "w"), [(3, 2.0, 1.7, 0.2), (8, 3.0, 0.6, 0.05)])
def test_dw_dt_is_the_depth_scaled_gradient(L, C, x, w):
    """-2L dl/dw_{2k} by central differences, even weights = w, odd weights = -1/(2L)."""
    weights = [w if k % 2 == 0 else -1 / (2 * L) for k in range(1, 2 * L + 1)]
    eps = 1e-6
    for k in range(1, 2 * L, 2):  # 0-based positions of w_2, w_4, ...
        up, down = list(weights), list(weights)
        up[k] += eps
        down[k] -= eps
        grad = (_loss(up, x, C) - _loss(down, x, C)) / (2 * eps)
        assert -2 * L * grad == pytest.approx(relu.dw_dt(w, L, C, x), rel=1e-7)
    for k in range(0, 2 * L, 2):  # odd layers: no gradient
        up = list(weights)
        up[k] += eps
        assert _loss(up, x, C) == _loss(weights, x, C)


def test_flow_converges_to_w_star():
    L, C, x = 6, 2.5, 1.3
    sol = solve_ivp(lambda t, w: [relu.dw_dt(w[0], L, C, x)], (0.0, 200.0), [1 / (2 * L)],
                    rtol=1e-11, atol=1e-13)
    assert sol.y[0, -1] == pytest.approx(relu.w_star(L, C), rel=1e-8)


def test_assumptions_and_bad_input():
    assert relu.assumptions(Config(activation="relu")) == []
    assert relu.assumptions(Config(activation="tanh", appd_C=0.5)) == [relu.RELU,
                                                                       relu.LABEL_RATIO]
    with pytest.raises(ConfigError):
        relu.w_star(4, 1.0)
    with pytest.raises(ConfigError):
        relu.dw_dt(0.1, 4, 2.0, -1.0)
