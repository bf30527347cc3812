"""Proposition 2 (theory.euler): the explicit C against an accurate solve of the neural ODE (6)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from theory import euler
from theory.config import Config
from theory.errors import ConfigError

q, m, d, d_out = 3, 4, 2, 2
A = np.vstack([np.eye(d), np.zeros((q - d, d))])
B = np.hstack([np.zeros((d_out, q - d_out)), np.eye(d_out)])


def _paths(seed, scale):
    """V(s) = V0 + s V1, W(s) = W0 + s W1 with their exact constants (||.||_2 is convex in s, so
    its sup over [0, 1] is at an end)."""
    rng = np.random.default_rng(seed)
    V0, V1 = scale * rng.standard_normal((q, m)), 2 * scale * rng.standard_normal((q, m))
    W0, W1 = scale * rng.standard_normal((m, q)), scale * rng.standard_normal((m, q))
    consts = {
        "sup_V": max(np.linalg.norm(V0, 2), np.linalg.norm(V0 + V1, 2)),
        "sup_W": max(np.linalg.norm(W0, 2), np.linalg.norm(W0 + W1, 2)),
        "lip_V": np.linalg.norm(V1), "lip_W": np.linalg.norm(W1),
    }
    return (lambda s: V0 + s * V1), (lambda s: W0 + s * W1), consts


def _g(h, V, W):
    return V @ np.tanh(W @ h / math.sqrt(q)) / math.sqrt(m)


def _ode(x, V, W):
    sol = solve_ivp(lambda s, h: _g(h, V(s), W(s)), (0.0, 1.0), A @ x, method="DOP853",
                    rtol=1e-12, atol=1e-13)
    return B @ sol.y[:, -1]


def _resnet(x, V, W, L):
    h = A @ x
    for k in range(L):
        h = h + _g(h, V((k + 1) / L), W((k + 1) / L)) / L  # V_{k+1} = V((k+1)/L)
    return B @ h


@pytest.mark.parametrize(("seed", "scale"), [(0, 0.5), (1, 1.0), (2, 2.0)])
def test_gap_is_below_C_over_L_with_rate_one(seed, scale):
    V, W, consts = _paths(seed, scale)
    rng = np.random.default_rng(100 + seed)
    xs = rng.standard_normal((5, d))
    xs /= np.linalg.norm(xs, axis=1, keepdims=True)  # ||x|| = 1 = M_X
    c = euler.prop2_constants("tanh", q=q, m=m, norm_A=1.0, norm_B=1.0, M_X=1.0, **consts)
    C = c["C"]
    assert math.isfinite(C) and C <= c["C_paper"]
    F = [_ode(x, V, W) for x in xs]
    depths = (4, 8, 16, 32, 64)
    gaps = [max(np.linalg.norm(f - _resnet(x, V, W, L)) for x, f in zip(xs, F, strict=True))
            for L in depths]
    for L, gap in zip(depths, gaps, strict=True):
        assert gap <= C / L
    slope = np.polyfit(np.log(depths), np.log(gaps), 1)[0]
    assert -1.2 <= slope <= -0.8


def test_constants_by_hand():
    """The chain of the module docstring, recomputed for tanh (K = M_sigma = 1)."""
    c = euler.prop2_constants("tanh", q=q, m=m, sup_V=2.0, sup_W=1.5, lip_V=0.5, lip_W=0.25,
                              norm_A=1.0, norm_B=2.0, M_X=3.0)
    r = math.sqrt(m * q)
    C_h = 2.0 * 1.5 / r
    H = 3.0 * math.exp(C_h)
    a, b = min(1.0, 1.5 * H / r), 2.0 * H / r
    C_g = max(C_h, a, b)
    C_tilde = C_h * C_h * H + a * 0.5 + b * 0.25
    assert c["C"] == pytest.approx(
        2.0 * math.expm1(C_h) / C_h * (a * 0.5 + b * 0.25 + C_tilde / 2), rel=1e-12)
    assert c["C_paper"] == pytest.approx(
        2.0 * (2 * 0.75 + C_tilde / C_g) * math.exp(C_g), rel=1e-12)


def test_assumptions():
    assert euler.assumptions(Config(activation="relu")) == []  # Lipschitz is enough
    assert euler.assumptions(Config(init="iid")) == ["tied or smooth initialization"]
    assert euler.assumptions(Config(activation="x**2", scaling="official")) == [
        "sigma Lipschitz", "model (3) scaling (scaling = paper)"]


def test_bad_input():
    kwargs = {"q": q, "m": m, "sup_V": 1.0, "sup_W": 1.0, "lip_V": 1.0, "lip_W": 1.0,
              "norm_A": 1.0, "norm_B": 1.0, "M_X": 1.0}
    with pytest.raises(ConfigError):
        euler.prop2_constant("x**2", **kwargs)
    with pytest.raises(ConfigError):
        euler.prop2_constant("tanh", **{**kwargs, "M_X": 0.0})
