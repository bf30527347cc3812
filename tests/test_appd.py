"""Appendix D (S11): the scalar ReLU counter-example, checked against independent derivations."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from numerics.appd import gap_vs_depth, init_weights, loss_and_gradient, train_appd, w_star
from theory.errors import ConfigError


def _loss(w: list[float], x: float, C: float, sigma: str) -> float:
    """The network of Appendix D written out independently (forward only)."""
    f = {"relu": lambda u: max(u, 0.0), "tanh": math.tanh,
         "gelu": lambda u: 0.5 * u * (1 + math.erf(u / math.sqrt(2)))}[sigma]
    h = x
    for wk in w:
        h = h + f(wk * h) / len(w)
    return (h - C * x) ** 2


@pytest.mark.parametrize("sigma", ["relu", "tanh", "gelu"])
def test_gradient_matches_central_differences(sigma: str) -> None:
    rng = random.Random(0)
    L, x, C = 3, 0.8, 1.7
    w = [rng.uniform(0.2, 1.5) * (-1) ** k for k in range(1, 2 * L + 1)]
    _, grad = loss_and_gradient(w, x, C, sigma)
    eps = 1e-6
    for k in range(2 * L):
        wp, wm = list(w), list(w)
        wp[k] += eps
        wm[k] -= eps
        fd = (_loss(wp, x, C, sigma) - _loss(wm, x, C, sigma)) / (2 * eps)
        assert grad[k] == pytest.approx(fd, rel=1e-7, abs=1e-10)


def test_even_weight_flow_is_2x_squared_not_2x() -> None:
    """With the depth-scaled flow, -2L dl/dw_2k (finite differences) = 2x^2 (C - P) P/(1+w/2L).

    The paper prints 2x (C - P) prod_{j != k}(1 + w_2j/(2L)); the chain rule gives 2x^2 (and the
    plain flow -dl/dw_2k carries a further 1/(2L)).  x != 1 separates the two.
    """
    L, x, C, w = 5, 0.6, 2.0, 0.9
    weights = [(-1.0 / (2 * L)) if k % 2 else w for k in range(1, 2 * L + 1)]
    eps = 1e-6
    k = 3  # 0-based index of w_4, an even weight
    wp, wm = list(weights), list(weights)
    wp[k] += eps
    wm[k] -= eps
    rhs_fd = -2 * L * (_loss(wp, x, C, "relu") - _loss(wm, x, C, "relu")) / (2 * eps)
    base = 1 + w / (2 * L)
    chain_rule = 2 * x**2 * (C - base**L) * base ** (L - 1)
    printed = 2 * x * (C - base**L) * base ** (L - 1)
    assert rhs_fd == pytest.approx(chain_rule, rel=1e-7)
    assert abs(rhs_fd - printed) > 0.3 * abs(printed)  # off by the factor x = 0.6
    assert rhs_fd / printed == pytest.approx(x, rel=1e-7)


def test_w_star_solves_fixed_point_equation() -> None:
    for L, C in [(1, 1.5), (4, 2.0), (64, 3.0), (1000, 1.01)]:
        ws = w_star(L, C)
        assert (1 + ws / (2 * L)) ** L == pytest.approx(C, rel=1e-13)
        assert ws >= 2 * math.log(C)


def test_initialization_alternates() -> None:
    w = init_weights(3)
    assert w == [-1 / 6, 1 / 6, -1 / 6, 1 / 6, -1 / 6, 1 / 6]


@pytest.mark.parametrize("L", [2, 8, 32])
def test_relu_reaches_w_star_with_odd_weights_unmoved(L: int) -> None:
    """DONE-WHEN of S11: w(T) = w* to 1e-6, odd weights exactly unmoved, gap -> w* + 1/(2L)."""
    C, x = 2.0, 1.0
    r = train_appd(L, C, x, "relu", T=20.0, eta=0.01)
    assert r.odd_max_move == 0.0
    assert r.even_spread <= 1e-12
    assert abs(r.w_even - 2 * L * (C ** (1 / L) - 1)) <= 1e-6
    assert r.gap == pytest.approx(2 * L * (C ** (1 / L) - 1) + 1 / (2 * L), abs=1e-6)
    assert r.gap_init == pytest.approx(1 / L, rel=1e-14)
    assert r.loss[-1] <= 1e-20


def test_plain_flow_has_the_same_fixed_point() -> None:
    """dw/dt = -dl/dw (Appendix D as written) is 2L times slower but ends at the same w*."""
    L, C, x = 2, 2.0, 1.0
    r = train_appd(L, C, x, "relu", T=80.0, eta=0.01, depth_scaled=False)
    assert abs(r.w_even - w_star(L, C)) <= 1e-6
    assert r.odd_max_move == 0.0


def test_smooth_activation_gap_decays_like_one_over_L() -> None:
    """tanh and GELU: the final gap shrinks at rate 1/L (slope in [-1.2, -0.8]); ReLU's does not."""
    depths = [4, 8, 16, 32]
    gaps = gap_vs_depth(depths, ("relu", "tanh", "gelu"), C=2.0, x=0.5, T=20.0, eta=0.01)
    logL = np.log(depths)
    for sigma in ("tanh", "gelu"):
        slope = np.polyfit(logL, np.log(gaps[sigma]), 1)[0]
        assert -1.2 <= slope <= -0.8, (sigma, slope, gaps[sigma])
    assert min(gaps["relu"]) >= 2 * math.log(2.0)


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"L": 0}, "L"), ({"C": 1.0}, "C"), ({"x": -1.0}, "x"), ({"eta": 0.0}, "eta"),
    ({"T": 0.001, "eta": 0.01}, "eta"), ({"sigma": "nope"}, "activation"),
])
def test_bad_input_raises(kwargs: dict, field: str) -> None:
    args = {"L": 2, "C": 2.0, "x": 1.0, "sigma": "relu", "T": 1.0, "eta": 0.01} | kwargs
    with pytest.raises(ConfigError):
        train_appd(**args)
