"""Propositions 1, 3, 7 (theory.finite_time): predicates, M_pi, M0, and the K1, K2, K' bounds of
model (3) against finite-difference Jacobians and Hessians at sampled points of E."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from theory import finite_time as ft
from theory.config import Config
from theory.errors import ConfigError

TANH_S2 = 4 * math.sqrt(3) / 9  # sup|tanh''| = |tanh''(atanh(1/sqrt 3))|


# ----------------------------------------------------------------------------- predicates


@pytest.mark.parametrize(("fields", "predicate", "expected"), [
    ({}, ft.wellposed_assumptions, [ft.CLIPPED]),
    ({"clip": "coord"}, ft.wellposed_assumptions, []),
    ({"clip": "coord", "activation": "relu"}, ft.bounded_assumptions, ["sigma C^2"]),
    ({"clip": "norm", "activation": "tanh"}, ft.successive_assumptions, []),
    ({"clip": "norm", "init": "iid"}, ft.successive_assumptions, [ft.TIED_OR_SMOOTH]),
    ({"clip": "norm", "scaling": "official"}, ft.successive_assumptions, [ft.MODEL3]),
    ({"clip": "coord", "activation": "tanh(x) + 1"}, ft.successive_assumptions,
     ["sigma(0) = 0"]),
    ({"clip": "coord", "activation": "x**2"}, ft.limit_assumptions, ["sigma Lipschitz"]),
    ({"init": "smooth"}, ft.limit_assumptions, [ft.CLIPPED]),
    ({"clip": "coord", "init": "smooth"}, ft.general_assumptions, []),
    ({"activation": "identity"}, ft.realdata_assumptions, []),
    ({"activation": "gelu"}, ft.realdata_assumptions, []),
    ({"activation": "relu"}, ft.realdata_assumptions, ["sigma C^2"]),
    ({"activation": "gelu", "init": "iid"}, ft.realdata_assumptions, [ft.TIED_OR_SMOOTH]),
], ids=lambda v: getattr(v, "__name__", None) or str(v))
def test_predicates(fields, predicate, expected):
    assert predicate(Config(**fields)) == expected


# ----------------------------------------------------------------------------- M_pi, M0


@pytest.mark.parametrize(("q", "m", "d", "d_out"), [(16, 32, 16, 16), (20, 1, 16, 4)])
def test_M_pi_coordinate_clipping_is_attained(q, m, d, d_out):
    """A huge gradient clipped coordinatewise at c has Frobenius norm c sqrt(#entries); Z in
    ||V||_F + ||W||_F."""
    c, rng = 0.3, np.random.default_rng(0)

    def clipped_norm(*shape):
        return np.linalg.norm(np.clip(1e6 * rng.standard_normal(shape), -c, c))

    expected = max(clipped_norm(q, d), clipped_norm(q, m) + clipped_norm(m, q),
                   clipped_norm(d_out, q))
    assert ft.M_pi("coord", c, q=q, m=m, d=d, d_out=d_out) == pytest.approx(expected, rel=1e-12)


def test_M_pi_norm_clipping_and_no_clipping():
    assert ft.M_pi("norm", 0.7, q=4, m=3, d=2, d_out=2) == 0.7
    with pytest.raises(ConfigError):
        ft.M_pi("none", 1.0, q=4, m=3, d=2, d_out=2)


def _radial(blocks, c):
    norm = sum(np.linalg.norm(b) for b in blocks)
    return [b * min(1.0, c / norm) for b in blocks]


def _sum_norm(blocks):
    return sum(np.linalg.norm(b) for b in blocks)


def test_pi_lipschitz():
    """Coordinate clamping never expands ||V||_F + ||W||_F; the radial projection in that norm
    reaches ratio 2 (x = (V, 0) on the sphere, y = (V, t W)) and never exceeds it."""
    rng = np.random.default_rng(5)
    c = 1.0
    V, Wd = rng.standard_normal((3, 2)), rng.standard_normal((2, 3))
    V /= np.linalg.norm(V)
    t = 1e-6
    x, y = [V, 0 * Wd], [V, t * Wd / np.linalg.norm(Wd)]
    ratio = _sum_norm([a - b for a, b in zip(_radial(x, c), _radial(y, c), strict=True)]) / t
    assert ratio == pytest.approx(ft.pi_lipschitz("norm"), rel=1e-5)
    for _ in range(200):
        x = [3 * rng.standard_normal((3, 2)), 3 * rng.standard_normal((2, 3))]
        y = [b + rng.standard_normal(b.shape) for b in x]
        gap = _sum_norm([a - b for a, b in zip(x, y, strict=True)])
        for clip, fn in (("norm", lambda z: _radial(z, c)),
                         ("coord", lambda z: [np.clip(b, -c, c) for b in z])):
            moved = _sum_norm([a - b for a, b in zip(fn(x), fn(y), strict=True)])
            assert moved <= ft.pi_lipschitz(clip) * gap * (1 + 1e-12)


@pytest.mark.parametrize(("q", "m"), [(1, 1), (2, 3), (16, 32), (64, 64)])
def test_M0_failure_probability_dominates_the_chi_square_tail(q, m):
    """Lemma 20, M_W = 2: P(chi2_{qm} > 4 qm) <= exp(-3qm/16)."""
    exact = stats.chi2.sf(4 * q * m, q * m)
    assert exact <= ft.M0_failure_probability(q, m)
    assert ft.M0_bound(q, m) ** 2 == pytest.approx(4 * q * m)


def test_M0_of_the_initialization():
    """max(||A||_F, ||W_bar||_F, ||B||_F) <= 2 sqrt(qm) on seeded draws (A = [I; 0], B = [0, I])."""
    rng = np.random.default_rng(1)
    q, m, d, d_out = 16, 32, 16, 16
    for _ in range(20):
        M0 = max(math.sqrt(d), np.linalg.norm(rng.standard_normal((m, q))), math.sqrt(d_out))
        assert M0 <= ft.M0_bound(q, m)


# ----------------------------------------------------------------------------- model (3)


def _f(h, V, W, sigma):
    q, m = V.shape
    return V @ sigma(W @ h / math.sqrt(q)) / math.sqrt(m)


def _jacobian(fun, z, eps=1e-6):
    cols = []
    for i in range(z.size):
        e = np.zeros_like(z)
        e[i] = eps
        cols.append((fun(z + e) - fun(z - e)) / (2 * eps))
    return np.stack(cols, axis=-1)


def _second(fun, a, b, eps=1e-4):
    """T[:, i, j] = d^2 fun / (da_i db_j) at (a, b) by central differences."""
    out = np.zeros((fun(a, b).size, a.size, b.size))
    for i in range(a.size):
        ei = np.zeros_like(a)
        ei[i] = eps
        for j in range(b.size):
            ej = np.zeros_like(b)
            ej[j] = eps
            out[:, i, j] = (fun(a + ei, b + ej) - fun(a + ei, b - ej) - fun(a - ei, b + ej)
                            + fun(a - ei, b - ej)) / (4 * eps * eps)
    return out


def _tensor_norm(T, rng, starts=6, steps=60):
    """sup over unit u, v of ||T[:, u, v]|| by alternating maximization (a lower estimate)."""
    best = 0.0
    for _ in range(starts):
        v = rng.standard_normal(T.shape[2])
        v /= np.linalg.norm(v)
        for _ in range(steps):
            Mu = np.einsum("kij,j->ki", T, v)
            u = np.linalg.svd(Mu)[2][0]
            Mv = np.einsum("kij,i->kj", T, u)
            s, v = np.linalg.svd(Mv)[1][0], np.linalg.svd(Mv)[2][0]
        best = max(best, s)
    return best


def _point(rng, q, m, M, radius, aligned):
    """(h, V, W) with ||V||_F + ||W||_F = M and ||h|| = radius (rank one and aligned if asked)."""
    split = rng.uniform(0.2, 0.8)
    if aligned:
        a, b, c = (v / np.linalg.norm(v) for v in (rng.standard_normal(q),
                                                   rng.standard_normal(m),
                                                   rng.standard_normal(q)))
        V, W, h = np.outer(a, b), np.outer(b, c), c
    else:
        V, W, h = rng.standard_normal((q, m)), rng.standard_normal((m, q)), rng.standard_normal(q)
    V *= split * M / np.linalg.norm(V)
    W *= (1 - split) * M / np.linalg.norm(W)
    return h * radius / np.linalg.norm(h), V, W


def _norms(h, V, W, sigma, rng):
    """||d1 f||_2, ||d2 f||_2, ||d2 f_V||_2 + ||d2 f_W||_2, ||d22 f||, ||d21 f|| at (h, V, W)."""
    q, m = V.shape
    nv = q * m
    z = np.concatenate([V.ravel(), W.ravel()])

    def f(zz, hh):
        return _f(hh, zz[:nv].reshape(q, m), zz[nv:].reshape(m, q), sigma)

    J1 = _jacobian(lambda hh: f(z, hh), h)
    J2 = _jacobian(lambda zz: f(zz, h), z)
    T22 = _second(lambda a, b: f(a + b - z, h), z, z)
    T21 = _second(f, z, h)  # d/dz d/dh
    return {"d1": np.linalg.norm(J1, 2), "d2": np.linalg.norm(J2, 2),
            "d2_sum": np.linalg.norm(J2[:, :nv], 2) + np.linalg.norm(J2[:, nv:], 2),
            "d22": _tensor_norm(T22, rng), "d21": _tensor_norm(T21, rng)}


@pytest.mark.parametrize("aligned", [False, True])
@pytest.mark.parametrize(("name", "sigma", "S2"), [
    ("tanh", np.tanh, TANH_S2),
    ("sin", np.sin, 1.0),
])
def test_K_bounds_dominate_finite_difference_norms(name, sigma, S2, aligned):
    """||d1 f||_2 <= K1, ||d2 f||_2 and ||d2 f^T||_{2 -> sum} <= K2, ||d22 f||, ||d21 f|| <= K'
    at points of E = {||h|| <= e^{K1} M M_X, ||z|| <= M} (Appendix A.1 norms)."""
    q, m, M, M_X = 2, 3, 2.5, 1.5
    rng = np.random.default_rng(7)
    K1, K2 = ft.K1_bound(M, m, q, name), ft.K2_bound(M, M_X, m, q, name)
    Kp = ft.Kprime_bound(M, M_X, m, q, name)
    radius = ft.E_radius(M, M_X, m, q, name)
    assert radius == pytest.approx(math.exp(K1) * M * M_X, rel=1e-12)
    for _ in range(3):
        h, V, W = _point(rng, q, m, M, radius * rng.uniform(0.3, 1.0), aligned)
        norms = _norms(h, V, W, sigma, rng)
        assert norms["d1"] <= K1 * (1 + 1e-6)
        assert max(norms["d2"], norms["d2_sum"]) <= K2 * (1 + 1e-6)
        assert max(norms["d22"], norms["d21"]) <= Kp * (1 + 1e-5)
    assert Kp == pytest.approx(max(
        radius / math.sqrt(m * q) + M * S2 * radius**2 / (q * math.sqrt(m)),
        M / math.sqrt(m * q) + S2 * M**2 * radius / (4 * q * math.sqrt(m))), rel=1e-12)


def test_K1_bound_is_attained_by_the_identity():
    """sigma = identity, V = (M/2) a b^T, W = (M/2) b c^T: ||d1 f||_2 = M^2 / (4 sqrt(mq))."""
    q, m, M = 3, 4, 2.0
    rng = np.random.default_rng(3)
    h, V, W = _point(rng, q, m, M, 1.0, aligned=True)
    V *= (M / 2) / np.linalg.norm(V)
    W *= (M / 2) / np.linalg.norm(W)
    J1 = _jacobian(lambda hh: _f(hh, V, W, lambda u: u), h)
    assert np.linalg.norm(J1, 2) == pytest.approx(ft.K1_bound(M, m, q, "identity"), rel=1e-8)


def test_K2_needs_sigma_zero_at_zero_and_Kprime_needs_C2():
    with pytest.raises(ConfigError):
        ft.K2_bound(1.0, 1.0, 2, 2, "tanh(x) + 1")
    assert math.isnan(ft.Kprime_bound(1.0, 1.0, 2, 2, "relu"))
    with pytest.raises(ConfigError):
        ft.K1_bound(-1.0, 2, 2, "tanh")


# ----------------------------------------------------------------------------- Proposition 7


def test_prop3_constants_against_the_printed_formulas():
    """alpha = 2 e^K K' M (e^K M^2 M_X + M_Y), beta = 2 K e^K M (K + e^K K' M M_X)(e^K M^2 M_X +
    M_Y), K = beta T e^{alpha T}, recomputed by hand from K1, K2, K' (small sizes: no overflow)."""
    q, m, T, M_pi, M0, M_X, M_Y = 2, 2, 0.01, 0.1, 0.3, 0.5, 0.2
    c = ft.prop3_constants("tanh", q=q, m=m, T=T, M_pi=M_pi, M_X=M_X, M_Y=M_Y, M0=M0)
    M = M0 + T * M_pi
    assert c["M"] == pytest.approx(M, rel=1e-15)
    assert c["K1"] == pytest.approx(M**2 / (4 * math.sqrt(m * q)), rel=1e-12)
    assert c["E_radius"] == pytest.approx(math.exp(c["K1"]) * M * M_X, rel=1e-12)
    assert c["K2"] == pytest.approx(M * c["E_radius"] / math.sqrt(m * q), rel=1e-12)
    K, Kp = max(c["K1"], c["K2"]), c["Kprime"]
    eK = math.exp(K)
    alpha = 2 * eK * Kp * M * (eK * M**2 * M_X + M_Y)
    beta = 2 * K * eK * M * (K + eK * Kp * M * M_X) * (eK * M**2 * M_X + M_Y)
    assert c["alpha"] == pytest.approx(alpha, rel=1e-12)
    assert c["beta"] == pytest.approx(beta, rel=1e-12)
    assert c["K_tied"] == pytest.approx(beta * T * math.exp(alpha * T), rel=1e-10)
    assert c["log10_K_tied"] == pytest.approx(math.log10(beta * T * math.exp(alpha * T)))
    gap, L = 0.01, 16
    assert ft.successive_bound(gap, L, c, T) == pytest.approx(
        (gap + beta * T / L) * math.exp(alpha * T), rel=1e-10)
    doubled = ft.prop3_constants("tanh", q=q, m=m, T=T, M_pi=M_pi, M_X=M_X, M_Y=M_Y, M0=M0,
                                 lip_pi=2.0)
    assert (doubled["alpha"], doubled["beta"]) == pytest.approx((2 * alpha, 2 * beta), rel=1e-12)


def test_prop3_constants_overflow_to_logs():
    """The paper's sizes: K_tied is far beyond floats; the logs stay usable."""
    c = ft.prop3_constants("tanh", q=16, m=32, T=5.0, M_pi=ft.M_pi(
        "coord", 1e-3, q=16, m=32, d=16, d_out=16), M_X=6.0, M_Y=6.0)
    assert c["M0"] == pytest.approx(2 * math.sqrt(16 * 32))
    assert math.isinf(c["K_tied"]) and math.isinf(c["alpha"])
    assert math.isfinite(c["log10_alpha"]) and c["log10_alpha"] > 1e12
    assert c["log10_log10_K_tied"] == pytest.approx(c["log10_alpha"] + math.log10(
        5.0 / math.log(10)), rel=1e-9)
    assert math.isinf(ft.successive_bound(0.0, 64, c, 5.0))
