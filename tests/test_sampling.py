"""Samplers of Lemmas 20 and 21 against exact distributions and exact binomial computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from numerics.sampling import (
    clopper_pearson,
    exceedance,
    sample_frobenius_sq,
    sample_smin_features,
    sample_sphere,
)
from theory.errors import ConfigError


@pytest.mark.parametrize("N", [1, 10, 1000])
def test_clopper_pearson_zero_successes_closed_form(N: int) -> None:
    lo, hi = clopper_pearson(0, N, 0.05)
    assert lo == 0.0
    assert hi == pytest.approx(1 - 0.025 ** (1 / N), rel=1e-10)


@pytest.mark.parametrize("N", [1, 7, 500])
def test_clopper_pearson_all_successes_closed_form(N: int) -> None:
    lo, hi = clopper_pearson(N, N, 0.05)
    assert hi == 1.0
    assert lo == pytest.approx(0.025 ** (1 / N), rel=1e-10)


@pytest.mark.parametrize(("k", "N"), [(1, 10), (3, 20), (37, 400)])
def test_clopper_pearson_endpoints_solve_binomial_tails(k: int, N: int) -> None:
    """The endpoints are the p with P(Bin(N, p) >= k) = alpha/2 and P(Bin(N, p) <= k) = alpha/2."""
    alpha = 0.1
    lo, hi = clopper_pearson(k, N, alpha)
    assert stats.binom.sf(k - 1, N, lo) == pytest.approx(alpha / 2, rel=1e-8)
    assert stats.binom.cdf(k, N, hi) == pytest.approx(alpha / 2, rel=1e-8)
    # exact binomial sums, no scipy distribution code
    tail_lo = sum(math.comb(N, j) * lo**j * (1 - lo) ** (N - j) for j in range(k, N + 1))
    tail_hi = sum(math.comb(N, j) * hi**j * (1 - hi) ** (N - j) for j in range(k + 1))
    assert tail_lo == pytest.approx(alpha / 2, rel=1e-8)
    assert tail_hi == pytest.approx(alpha / 2, rel=1e-8)


@pytest.mark.parametrize(("k", "N", "alpha"), [(-1, 10, 0.05), (11, 10, 0.05), (1, 0, 0.05),
                                               (1, 10, 0.0), (1, 10, 1.0)])
def test_clopper_pearson_rejects_bad_input(k: int, N: int, alpha: float) -> None:
    with pytest.raises(ConfigError):
        clopper_pearson(k, N, alpha)


def test_frobenius_sq_is_chi_square_qm() -> None:
    """Mean qm and variance 2qm within 5 standard errors; KS against chi2(qm)."""
    q, m, trials = 4, 6, 20000
    s = sample_frobenius_sq(q, m, trials, seed=1)
    k = q * m
    assert abs(s.mean() - k) <= 5 * math.sqrt(2 * k / trials)
    # sd of the sample variance of chi2(k): sqrt((mu4 - sigma^4)/N), mu4 = 12k(k+4)... use 4th
    # central moment of chi2(k): 12k + 3(2k)^2
    mu4 = 12 * k + 3 * (2 * k) ** 2
    assert abs(s.var(ddof=1) - 2 * k) <= 5 * math.sqrt((mu4 - (2 * k) ** 2) / trials)
    assert stats.kstest(s, stats.chi2(k).cdf).pvalue > 1e-4


def test_frobenius_sq_is_reproducible_and_seed_dependent() -> None:
    a = sample_frobenius_sq(3, 5, 10, seed=7)
    assert np.array_equal(a, sample_frobenius_sq(3, 5, 10, seed=7))
    assert not np.array_equal(a, sample_frobenius_sq(3, 5, 10, seed=8))


def test_exceedance_interval_contains_exact_tail() -> None:
    """Lemma 20 with M_W = 1.1: the exact chi-square tail lies in the 99.9% interval."""
    q, m, trials = 3, 4, 4000
    M_W = 1.1
    s = sample_frobenius_sq(q, m, trials, seed=3)
    thr = M_W**2 * q * m
    e = exceedance(s, thr, alpha=1e-3)
    exact = float(stats.chi2(q * m).sf(thr))
    assert e.lo <= exact <= e.hi
    assert e.k == int(np.sum(s > thr)) and e.N == trials


def test_sphere_columns_have_unit_norm() -> None:
    x = sample_sphere(5, 7, torch.Generator().manual_seed(0), batch=3)
    assert x.shape == (3, 5, 7)
    torch.testing.assert_close(torch.linalg.vector_norm(x, dim=1),
                               torch.ones(3, 7, dtype=torch.float64), rtol=0, atol=1e-15)


def test_sphere_is_isotropic() -> None:
    """E[x x^T] = I/d for x uniform on S^{d-1}."""
    d, n = 3, 20000
    x = sample_sphere(d, n, torch.Generator().manual_seed(2))[0]
    cov = (x @ x.T / n).numpy()
    assert np.max(np.abs(cov - np.eye(d) / d)) < 5 * math.sqrt(1 / n)


def test_smin_identity_matches_direct_svd() -> None:
    """sigma = identity: smin(W X) recomputed from the same seeded draws with numpy."""
    m, d, n, trials, seed = 6, 4, 3, 5, 11
    got = sample_smin_features("identity", m, d, n, trials, seed)
    gen = torch.Generator().manual_seed(seed)
    w = torch.randn(trials, m, d, generator=gen, dtype=torch.float64).numpy()
    g = torch.randn(trials, d, n, generator=gen, dtype=torch.float64).numpy()
    x = g / np.linalg.norm(g, axis=1, keepdims=True)
    want = [np.sqrt(np.linalg.eigvalsh((w[i] @ x[i]).T @ (w[i] @ x[i]))[0]) for i in range(trials)]
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_smin_rank_deficient_is_zero() -> None:
    assert np.all(sample_smin_features("tanh", 2, 4, 3, 4, seed=0) == 0.0)


def test_smin_single_column_is_feature_norm() -> None:
    """n = 1: smin(tanh(W x))^2 = sum of m i.i.d. tanh(Z)^2, Z ~ N(0, 1) (w_i x ~ N(0, 1))."""
    m, trials = 50, 4000
    s2 = sample_smin_features("tanh", m, 5, 1, trials, seed=4) ** 2
    e2 = stats.norm.expect(lambda z: math.tanh(z) ** 2)
    e4 = stats.norm.expect(lambda z: math.tanh(z) ** 4)
    assert abs(s2.mean() - m * e2) <= 5 * math.sqrt(m * (e4 - e2**2) / trials)
