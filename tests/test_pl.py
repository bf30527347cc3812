"""Definition 1 and Proposition 5 (theory.pl): constants against formulas recomputed in mpmath with
an independent quadrature for eta_r, v_x^2 = 1 against the exact law of a spherical projection,
and the intermediate estimates of B.5 on simulated networks."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from theory import pl
from theory.config import Config
from theory.errors import ConfigError

SQ2 = mpmath.sqrt(2)


def _eta_quad(f, r):
    """E[f(Z) He_r(Z)] / sqrt(r!) by mpmath.quad, He_r from numpy's coefficients."""
    he = np.polynomial.hermite_e.HermiteE.basis(r).convert(kind=np.polynomial.Polynomial).coef
    with mpmath.workdps(30):
        value = mpmath.quad(lambda z: f(z) * mpmath.polyval([mpmath.mpf(c) for c in he[::-1]], z)
                            * mpmath.exp(-z * z / 2), [-mpmath.inf, 0, mpmath.inf])
        return value / mpmath.sqrt(2 * mpmath.pi * mpmath.factorial(r))


def _paper_constants(K, eta):
    eta = abs(eta)
    e = mpmath.exp(2 * SQ2 * K)
    return {"c1": max(2**10 * K**2 * e**2 / eta**2, 1), "c2": 128 * K**2 * e / eta,
            "c3": min(eta / (32 * SQ2 * K), mpmath.mpf(1) / 2),
            "c4": eta**3 / (2**14 * K**2 * e**3)}


@pytest.mark.parametrize(("name", "f", "K", "r"), [
    ("tanh", mpmath.tanh, 1, 3),
    ("sin", mpmath.sin, 1, 3),
    ("erf", mpmath.erf, 2 / mpmath.sqrt(mpmath.pi), 3),
    ("sigmoid", lambda z: 1 / (1 + mpmath.exp(-z)) - mpmath.mpf(1) / 2, mpmath.mpf(1) / 4, 3),
])
def test_constants_against_independent_formulas(name, f, K, r):
    r_used, eta = pl.hermite(name)
    assert r_used == r
    eta_ref = _eta_quad(f, r)
    assert float(eta) == pytest.approx(float(eta_ref), rel=1e-12)
    expected = _paper_constants(mpmath.mpf(K), eta_ref)
    exprs = {"c1": pl.c1_expr, "c2": pl.c2_expr, "c3": pl.c3_expr, "c4": pl.c4_expr}
    for key, expr in exprs.items():
        value = pl.evaluate(expr, K_sigma=mpmath.mpf(K), eta_r=eta)
        assert float(value) == pytest.approx(float(expected[key]), rel=1e-12), key
    n, q = 50, 24
    M = pl.evaluate(pl.M_expr, K_sigma=mpmath.mpf(K), eta_r=eta, n=n, q=q)
    mu = pl.evaluate(pl.mu_expr, K_sigma=mpmath.mpf(K), eta_r=eta, n=n, q=q)
    assert float(M) == pytest.approx(float(expected["c3"] / mpmath.sqrt(n * q)), rel=1e-12)
    assert float(mu) == pytest.approx(float(expected["c4"] / (n * mpmath.sqrt(n * q))), rel=1e-12)


def test_delta_terms():
    K, eta, M_sigma, n, q, m, d, r = 1, -0.2, 1, 10, 8, 500, 4, 3
    terms = [float(pl.evaluate(t, K_sigma=K, eta_r=eta, M_sigma=M_sigma, n=n, q=q, m=m, d=d, r=r,
                               v_x2=2.0)) for t in pl.delta_terms_expr]
    assert terms == pytest.approx([
        math.exp(-q * m / 16), n * math.exp(-3 * m * eta**2 / (64 * M_sigma**2 * n)),
        2 * n**2 * math.exp(-(d / 4.0) * (3 / (4 * n)) ** (2 / r))], rel=1e-12)


@pytest.mark.parametrize("d", [2, 3, 5, 16, 100])
def test_sphere_variance_proxy_is_one(d):
    """For u uniform on S^{d-1}, u_1^2 ~ Beta(1/2, (d-1)/2): the exact tail P(|sqrt(d) u_1| >= t)
    never exceeds 2 exp(-t^2 / (2 v_x^2)) with v_x^2 = 1."""
    v2 = pl.V_X2_SPHERE
    for t in np.linspace(0.05, math.sqrt(d) * 0.999, 60):
        tail = mpmath.betainc(0.5, (d - 1) / 2, t * t / d, 1, regularized=True)
        assert tail <= 2 * math.exp(-t * t / (2 * v2)) * (1 + 1e-12)


def _network(rng, n, d, d_out, q, m, L, radius, sigma, dsigma):
    """Matrix network (46) at a random point within ``radius`` of the initialization of Section 3,
    with unit-norm-scaled inputs (||x_i|| = sqrt q); returns the h_k, the p_k and the loss."""
    x = rng.standard_normal((d, n))
    x *= math.sqrt(q) / np.linalg.norm(x, axis=0)
    y = rng.standard_normal((d_out, n))
    W_bar = rng.standard_normal((m, q))
    assert np.linalg.norm(W_bar) <= math.sqrt(2 * q * m)  # the event of delta's first term

    def near(shape, centre):
        step = rng.standard_normal(shape)
        return centre + radius * rng.uniform() * step / np.linalg.norm(step)

    A = near((q, d), np.vstack([np.eye(d), np.zeros((q - d, d))]))
    B = near((d_out, q), np.hstack([np.zeros((d_out, q - d_out)), np.eye(d_out)]))
    V = [near((q, m), np.zeros((q, m))) / 2 for _ in range(L)]  # ||V|| + ||W - W_bar|| <= M
    W = [near((m, q), W_bar) / 2 + W_bar / 2 for _ in range(L)]
    hs = [A @ x]
    for k in range(L):
        hs.append(hs[-1] + V[k] @ sigma(W[k] @ hs[-1] / math.sqrt(q)) / (L * math.sqrt(m)))
    loss = np.linalg.norm(B @ hs[-1] - y) ** 2 / n
    ps = [2 / n * B.T @ (B @ hs[-1] - y)]
    for k in reversed(range(L)):
        pre = W[k] @ hs[k] / math.sqrt(q)
        ps.append(ps[-1] + W[k].T @ ((V[k].T @ ps[-1]) * dsigma(pre)) / (L * math.sqrt(q * m)))
    return hs, ps[::-1], loss


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_intermediate_estimates_of_the_proof(seed):
    """(50) ||h_k||_F <= 2 e^{2 sqrt2 K} sqrt(qn) and (51) e^{-2 sqrt2 K} sqrt(l/n) <= ||p_k||_F <=
    3 e^{2 sqrt2 K} sqrt(l/n), within the proof's radius (tanh, K = 1)."""
    rng = np.random.default_rng(seed)
    n, d, d_out, q, m, L = 6, 3, 2, 5, 40, 12
    r, eta = pl.hermite("tanh")
    radius = float(pl.evaluate(pl.pl_radius_proof_expr, K_sigma=1, eta_r=eta, n=n, q=q))
    hs, ps, loss = _network(rng, n, d, d_out, q, m, L, radius, np.tanh,
                            lambda u: 1 - np.tanh(u) ** 2)
    h_bound = float(pl.evaluate(pl.h_bound_expr, K_sigma=1, eta_r=eta, n=n, q=q))
    lo, hi = (float(pl.evaluate(e, K_sigma=1, eta_r=eta, n=n, loss=loss))
              for e in (pl.p_lower_expr, pl.p_upper_expr))
    assert max(np.linalg.norm(h) for h in hs) <= h_bound
    assert lo <= min(np.linalg.norm(p) for p in ps)
    assert max(np.linalg.norm(p) for p in ps) <= hi


def test_hermite_index_and_sign():
    r, eta = pl.hermite("tanh")
    assert r == 3 and eta < 0  # the constants use |eta_r|
    assert pl.hermite("tanh", 2) == (2, None)
    assert pl.hermite("identity") == (None, None)
    with pytest.raises(ConfigError):
        pl.hermite("tanh", 1)


@pytest.mark.parametrize(("fields", "expected"), [
    ({}, ["sigma bounded", pl.Q_SPLIT, "m >= c1*n", "L >= c2*sqrt(n*q)", pl.SPHERE]),
    ({"activation": "tanh", "n": 2, "d": 1, "d_out": 1, "q": 2, "m": 10**9, "L": 10**6,
      "data": "sphere"}, []),
    ({"activation": "tanh", "n": 2, "d": 1, "d_out": 1, "q": 2, "m": 10**9, "L": 10**6,
      "data": "sphere", "r": 2, "init": "smooth"}, [pl.eta_failure(2), pl.TIED]),
    ({"activation": "identity", "data": "sphere", "d": 8, "d_out": 8},
     ["sigma bounded", "sigma non-polynomial", pl.SOME_R]),
    ({"activation": "relu", "data": "sphere", "d": 8, "d_out": 8, "m": 10**12, "L": 10**9},
     ["sigma C^2", "sigma bounded"]),
], ids=str)
def test_assumptions(fields, expected):
    """The paper's Figure 1 setting (GELU, Gaussian x, q = d = d') fails Proposition 5."""
    assert pl.assumptions(Config(**fields)) == expected


def test_q_split_is_named():
    assert pl.Q_SPLIT in pl.failed("tanh", n=10, q=16, d=16, d_out=16, m=None, L=None, r=None)


def test_pl_ratio_is_definition_1_by_autograd() -> None:
    """G / l of Definition 1 (G = ||dl/dA||^2 + L sum_k ||dl/dZ_k||^2 + ||dl/dB||^2) against
    torch autograd of the loss written out here."""
    import torch

    from numerics.init import init_params
    from numerics.model import MLP
    from numerics.pl import pl_ratio

    torch.manual_seed(3)
    L, q, m, n = 5, 4, 3, 6
    p = init_params("smooth", d=2, d_out=2, q=q, m=m, L=L, seeds=(1,), ell=0.5)
    X, Y = torch.randn(n, 2, dtype=torch.float64), torch.randn(n, 2, dtype=torch.float64)
    A, B = (t[0].clone().requires_grad_() for t in (p.A, p.B))
    V, W = (t[0].clone().requires_grad_() for t in p.Z)
    h = X @ A.T
    for k in range(L):
        h = h + torch.tanh(h @ W[k].T / q**0.5) @ V[k].T / (L * m**0.5)
    loss = ((h @ B.T - Y) ** 2).sum(-1).mean()
    gA, gV, gW, gB = torch.autograd.grad(loss, (A, V, W, B))
    G = (gA**2).sum() + (gB**2).sum() + L * ((gV**2).sum() + (gW**2).sum())
    expected = float((G / loss).detach())
    assert float(pl_ratio(p, X, Y, MLP("tanh"))[0]) == pytest.approx(expected, rel=1e-10)


def test_width_threshold_m_min_is_c1_n_by_hand() -> None:
    """m_min = c1 n with c1 = max(2^10 K^2 e^{4 sqrt2 K} / eta_r^2, 1) (Proposition 5), for erf:
    K_sigma = 2 / sqrt(pi), r = 3 (erf is odd) and the closed form
    eta_3 = 2 * 2! * (-1/3) / (sqrt(3 pi) sqrt(3!))."""
    import math

    from theory.constants import constants

    K = 2 / math.sqrt(math.pi)
    eta3 = 2 * 2 * (-1 / 3) / (math.sqrt(3 * math.pi) * math.sqrt(6))
    c1 = max(2**10 * K**2 * math.exp(4 * math.sqrt(2) * K) / eta3**2, 1.0)
    c = constants(activation="erf", n=10, q=4, d=2, d_out=2, m=5, L=4)
    assert c["r"] == 3 and c["m_min"] == pytest.approx(10 * c1, rel=1e-12)
