"""numerics.transition: the logistic MLE, the seed-level bootstrap, the threshold's interval and the
power fit against independent values: synthetic data with known answers, an in-test
Newton-Raphson fit, scipy's log-likelihood maximized by brute force, numpy.polyfit on log-log, and
hand-computed intervals."""

from __future__ import annotations

import math

import numpy as np
import pytest

from numerics import transition as tr


def _draw(rng: np.random.Generator, mu: float, beta: float, widths: np.ndarray, seeds: int
          ) -> tuple[np.ndarray, np.ndarray]:
    m = np.repeat(widths, seeds)
    p = 1 / (1 + np.exp(-beta * (np.log(m) - mu)))
    return m, (rng.random(m.size) < p).astype(float)


def test_logistic_mle_recovers_a_known_midpoint() -> None:
    """Many seeds per width: the MLE midpoint and steepness converge to the trutr."""
    rng = np.random.default_rng(1)
    widths = 2.0 ** np.arange(0, 9)
    mu, beta = math.log(20.0), 2.0
    m, y = _draw(rng, mu, beta, widths, 400)
    fit = tr.fit_logistic(m, y)
    assert abs(fit.mu - mu) < 0.08
    assert abs(fit.beta - beta) < 0.3
    assert fit.censored == ""


def test_logistic_mle_matches_an_independent_fit() -> None:
    """Against statsmodels-free Newton-Raphson in (a, b) coordinates (p = expit(a + b x)):
    the same maximum, mu = -a / b, beta = b."""
    rng = np.random.default_rng(2)
    widths = 2.0 ** np.arange(0, 7)
    m, y = _draw(rng, math.log(6.0), 1.5, widths, 12)
    x = np.log(m)
    X = np.stack([np.ones_like(x), x], axis=1)
    w = np.zeros(2)
    for _ in range(50):
        p = 1 / (1 + np.exp(-X @ w))
        w += np.linalg.solve((X.T * (p * (1 - p))) @ X, X.T @ (y - p))
    fit = tr.fit_logistic(m, y)
    assert fit.beta == pytest.approx(w[1], rel=1e-4)
    assert fit.mu == pytest.approx(-w[0] / w[1], abs=1e-4)


def test_separated_outcomes_put_the_midpoint_between_the_last_0_and_the_first_1() -> None:
    """0 at m = 1, 2, 4 and 1 at m = 8, 16: the bounded fit's midpoint is the bracket's centre
    sqrt(32); every bootstrap replicate is the same separated table, whose likelihood is
    maximal for any midpoint in (4, 8): the replicates spread uniformly over log 4..log 8
    (Kolmogorov-Smirnov against scipy's uniform), not at the centre."""
    from scipy.stats import kstest, uniform

    m = np.repeat([1.0, 2.0, 4.0, 8.0, 16.0], 5)
    y = (m >= 8).astype(float)
    fit = tr.fit_logistic(m, y)
    assert fit.m_star == pytest.approx(math.sqrt(4 * 8), rel=0.02)
    assert fit.beta == pytest.approx(tr.BETA_MAX)
    boot = tr.bootstrap_thresholds(m, y, reps=400)
    assert np.all((boot > math.log(4)) & (boot < math.log(8)))
    assert kstest(boot, uniform(math.log(4), math.log(2)).cdf).pvalue > 0.01


def test_separation_brackets_by_hand() -> None:
    """Tables at log-widths 0, 1, 2 (5 seeds each): 0/5, 0/5, 5/5 separate between 1 and 2;
    0/5, 5/5, 5/5 between 0 and 1; a fraction strictly between (2/5), all 0s, all 1s and 1s
    before 0s do not separate."""
    x = np.array([0.0, 1.0, 2.0])
    k = np.array([[0, 0, 5], [0, 5, 5], [0, 2, 5], [0, 0, 0], [5, 5, 5], [5, 0, 0]], float)
    lo, hi = tr.separation(x, k, np.full(3, 5.0))
    assert lo[:2].tolist() == [1.0, 0.0] and hi[:2].tolist() == [2.0, 1.0]
    assert np.isnan(lo[2:]).all() and np.isnan(hi[2:]).all()


def test_all_ones_and_all_zeros_are_censored() -> None:
    m = np.repeat([2.0, 4.0, 8.0], 5)
    assert tr.fit_logistic(m, np.ones(15)).censored == "below"
    assert tr.fit_logistic(m, np.zeros(15)).censored == "above"


def test_batched_refit_agrees_with_the_single_fit() -> None:
    rng = np.random.default_rng(3)
    widths = 2.0 ** np.arange(0, 7)
    m, y = _draw(rng, math.log(5.0), 1.2, widths, 6)
    x = np.log(widths)
    k = np.array([[y[m == w].sum() for w in widths]])
    mu = tr.fit_logistic_counts(x, k, np.full(widths.size, 6.0))[0]
    step = (x.max() - x.min() + 2 * tr.MU_MARGIN) / 240
    assert abs(mu - tr.fit_logistic(m, y).mu) <= step


@pytest.mark.parametrize("gamma,a", [(1.0, 0.5), (2.0, 0.045), (0.5, 3.0), (1.37, 1.0)])
def test_power_fit_on_exact_power_laws(gamma: float, a: float) -> None:
    ns = [8, 16, 32, 64, 128]
    m = [a * n**gamma for n in ns]
    reps = np.array([[a * 1.1 * n**gamma, a * 0.9 * n**gamma] for n in ns])
    fit = tr.fit_power(ns, m, reps)
    assert fit is not None
    assert fit.gamma == pytest.approx(gamma, rel=1e-12)
    assert fit.prefactor == pytest.approx(a, rel=1e-12)
    assert fit.interval == pytest.approx((gamma, gamma), rel=1e-9)  # a constant factor: no slope
    assert tr.fit_power([8], [1.0]) is None


def test_bootstrap_interval_covers_the_true_midpoint() -> None:
    """Coverage of the 95 % percentile interval of m* over synthetic experiments with a known
    logistic (8 widths, 5 seeds each: the sweeps' shape); 200 experiments of 200 replicates.
    The percentile interval over 5 seeds per width under-covers (as a bootstrap over few seeds
    does: it sees a spread shrunk by sqrt((s - 1) / s)): measured 0.88 over 300 x 300 and 0.89
    here (sd of the estimate 0.025); asserted within [0.78, 0.99], and reported as such."""
    rng = np.random.default_rng(4)
    widths = 2.0 ** np.arange(0, 8)
    mu, beta = math.log(11.0), 1.5
    covered = 0
    reps = 200
    for j in range(reps):
        m, y = _draw(rng, mu, beta, widths, 5)
        lo, hi = tr.percentile_interval(tr.bootstrap_thresholds(m, y, reps=200, seed=j))
        covered += lo <= mu <= hi
    assert 0.78 <= covered / reps <= 0.99


def test_grid_refit_reaches_the_brute_force_binomial_maximum() -> None:
    """fit_logistic_counts on 20 random count tables against a brute-force maximum of the
    binomial log-likelihood k log p + (s - k) log(1 - p) (scipy.special.log_expit) over the grid
    its docstring declares: mu on 241 points of [log m_min - log 2, log m_max + log 2], beta on
    36 geometric points of [0.05, BETA_MAX].  Each returned midpoint is a grid point whose
    profile likelihood (maximum over beta) is the brute-force maximum."""
    from scipy.special import expit, log_expit

    rng = np.random.default_rng(7)
    x = np.log(2.0 ** np.arange(0, 7))
    s = np.full(x.size, 5.0)
    k = rng.binomial(5, expit(1.3 * (x - math.log(6.0))), size=(20, x.size)).astype(float)
    mus = np.linspace(x.min() - math.log(2), x.max() + math.log(2), 241)
    betas = np.geomspace(0.05, tr.BETA_MAX, 36)
    z = betas[None, :, None] * (x[None, None, :] - mus[:, None, None])  # (mu, beta, width)
    ll = (np.einsum("rw,mbw->rmb", k, log_expit(z))
          + np.einsum("rw,mbw->rmb", s - k, log_expit(-z)))
    profile = ll.max(axis=2)  # (table, mu)
    got = tr.fit_logistic_counts(x, k, s)
    idx = np.abs(mus[None, :] - got[:, None]).argmin(axis=1)
    assert np.allclose(mus[idx], got, rtol=0, atol=1e-12)
    best = profile.max(axis=1)
    assert np.all(profile[np.arange(k.shape[0]), idx] >= best - 1e-9 * np.abs(best))


def test_threshold_of_separated_outcomes_by_hand() -> None:
    """0 at m = 1, 2, 4 and 1 at m = 8, 16 (5 seeds each): every replicate is that table, its
    log m* uniform over (log 4, log 8); the 2.5 and 97.5 percentiles of 4000 such draws are
    log 4 + 0.025 log 2 and log 8 - 0.025 log 2 (to about 0.003 log 2), and the interval widens
    them by half the grid step, (log 16 + 2 log 2) / 240 / 2 = log 2 / 80, at each end: about
    [4.02, 7.96], the bracket the data leave open, not a point."""
    m = np.repeat([1.0, 2.0, 4.0, 8.0, 16.0], 5)
    y = (m >= 8).astype(float)
    th, boot = tr.threshold(m, y, n=8, reps=4000, seed=3)
    assert boot.shape == (4000,)
    lo, hi = (2.0 ** (2 + 0.025 - 1 / 80), 2.0 ** (3 - 0.025 + 1 / 80))
    assert th["interval"] == pytest.approx([lo, hi], rel=0.005)
    assert th["m_star"] == pytest.approx(2 ** 2.5, rel=0.02)
    assert th["log_m_star"] == pytest.approx(math.log(th["m_star"]))
    assert th["m_star_over_n"] == pytest.approx(th["m_star"] / 8)
    assert th["censored"] == "" and th["n"] == 8 and th["widths"] == [1.0, 2.0, 4.0, 8.0, 16.0]


def test_bootstrap_interval_covers_a_steep_transition() -> None:
    """A transition steeper than the grid (beta = 8 per unit of log m: the fraction goes from
    0.06 to 0.94 within a factor 1.4 of m*, as at n = 64, m = 4 -> 8, in the full sweep), 8
    widths of 5 seeds, 200 experiments of 200 replicates: most replicates separate between two
    widths, and the interval covers m* = 5 in 0.985 of them (0.485 when every separated
    replicate sat at its bracket's centre); asserted >= 0.85."""
    rng = np.random.default_rng(4)
    widths = 2.0 ** np.arange(0, 8)
    mu = math.log(5.0)
    covered = 0
    for j in range(200):
        m, y = _draw(rng, mu, 8.0, widths, 5)
        lo, hi = tr.percentile_interval(tr.bootstrap_thresholds(m, y, reps=200, seed=j))
        covered += lo <= mu <= hi
    assert covered / 200 >= 0.85


def test_power_fit_matches_numpy_polyfit_on_noisy_thresholds() -> None:
    """Noisy thresholds and bootstrap replicates: gamma and a are numpy.polyfit's degree-1 fit of
    log m* on log n, the interval the 2.5 and 97.5 percentiles of polyfit's slope (and of
    exp(intercept)) over the replicates."""
    rng = np.random.default_rng(6)
    ns = np.array([8, 16, 32, 64, 128])
    m = 0.3 * ns**1.4 * np.exp(rng.normal(0, 0.3, ns.size))
    reps = m[:, None] * np.exp(rng.normal(0, 0.2, (ns.size, 400)))
    fit = tr.fit_power(list(ns), list(m), reps)
    assert fit is not None
    slope, intercept = np.polyfit(np.log(ns), np.log(m), 1)
    assert fit.gamma == pytest.approx(slope, rel=1e-10)
    assert fit.prefactor == pytest.approx(math.exp(intercept), rel=1e-10)
    per_rep = np.polyfit(np.log(ns), np.log(reps), 1)  # (2, replicates)
    assert fit.interval == pytest.approx(tuple(np.percentile(per_rep[0], [2.5, 97.5])),
                                         rel=1e-10)
    assert fit.prefactor_interval == pytest.approx(
        tuple(np.exp(np.percentile(per_rep[1], [2.5, 97.5]))), rel=1e-10)
    assert fit.ns == (8, 16, 32, 64, 128)


def test_isotonic_matches_scikit_learn() -> None:
    """Pool adjacent violators against scikit-learn's weighted IsotonicRegression."""
    from sklearn.isotonic import IsotonicRegression

    rng = np.random.default_rng(3)
    for _ in range(50):
        p, w = rng.random(9), rng.integers(1, 8, 9).astype(float)
        expected = IsotonicRegression().fit(np.arange(9), p, sample_weight=w).predict(np.arange(9))
        assert np.allclose(tr.isotonic(p, w), expected, atol=1e-12)


def test_monotone_fractions_give_p_one() -> None:
    m = [1, 1, 2, 2, 4, 4, 8, 8]
    assert tr.monotone_p(m, [0, 0, 0, 1, 1, 1, 1, 1]) == 1.0


def test_monotone_p_agrees_with_the_exact_null_distribution() -> None:
    """Two widths of 5 seeds, fractions 1 then 0.2: the isotonic fit pools them (q = 0.6 both);
    the exact p-value enumerates every (k1, k2) ~ Bin(5, 0.6)^2 with its deviance (computed here
    from the formula with scipy's binomial pmf), the bootstrap's must agree to Monte Carlo
    error."""
    from scipy.stats import binom

    def deviance(k1: int, k2: int) -> float:
        if k1 <= k2:
            return 0.0
        q = (k1 + k2) / 10
        out = 0.0
        for k in (k1, k2):
            p = k / 5
            out += (k * math.log(p / q) if k else 0.0) + ((5 - k) * math.log((1 - p) / (1 - q))
                                                          if k < 5 else 0.0)
        return 2 * out

    observed = deviance(5, 1)
    exact = sum(binom.pmf(a, 5, 0.6) * binom.pmf(b, 5, 0.6) for a in range(6) for b in range(6)
                if deviance(a, b) >= observed - 1e-9)
    got = tr.monotone_p([1] * 5 + [2] * 5, [1] * 5 + [1, 0, 0, 0, 0], reps=20000, seed=1)
    assert exact < 0.05
    assert got == pytest.approx(exact, abs=4 * math.sqrt(exact * (1 - exact) / 20000) + 1e-4)


def test_a_fraction_that_falls_has_no_threshold_to_censor() -> None:
    """0, 1, 1, 0, 0 of 5 seeds at m = 1..16: the logistic fit puts its midpoint above the grid,
    but the fraction falls (monotone_p < 0.05), so the threshold is neither located nor
    censored; a rising fraction keeps its fit's censoring."""
    m = [2**j for j in range(5) for _ in range(5)]
    y = [0] * 5 + [1] * 10 + [0] * 10
    assert tr.fit_logistic(m, y).censored == "above"
    t = tr.threshold(m, y, 8, 200, 0)[0]
    assert t["falls"] and t["censored"] == "" and not tr.located(t)
    ones = tr.threshold(m, [1] * 25, 8, 200, 0)[0]
    assert not ones["falls"] and ones["censored"] == "below" and not tr.located(ones)


def test_beyond_extrapolates_the_power_law_to_a_censored_n() -> None:
    """m* = n^2 / 32 at n = 8, 16, 32 (2, 8, 32): the fit predicts 64^2 / 32 = 128 at n = 64;
    the interval is the 2.5 / 97.5 % quantiles of numpy.polyfit's prediction over the
    replicates; censored above a largest width of 64 the data agree (the whole interval is above
    64), above 256 they contradict it (the whole interval is below), and censored below the
    smallest width 256 they agree."""
    rng = np.random.default_rng(3)
    ns, m = [8, 16, 32], [2.0, 8.0, 32.0]
    reps = np.array(m)[:, None] * np.exp(rng.normal(0, 0.1, (3, 400)))
    fits = [np.polyfit(np.log(ns), np.log(reps[:, r]), 1) for r in range(400)]
    pred = np.exp([g * math.log(64) + b for g, b in fits])
    lo, hi = np.quantile(pred, [0.025, 0.975])
    assert 64 < lo < 128 < hi < 256
    b = tr.beyond(ns, m, reps, {"n": 64, "censored": "above", "widths": [1.0, 64.0]})
    assert b["predicted"] == pytest.approx(128.0)
    assert b["interval"] == pytest.approx([lo, hi])
    assert (b["bound"], b["censored"], b["consistent"]) == (64.0, "above", True)
    assert not tr.beyond(ns, m, reps, {"n": 64, "censored": "above",
                                        "widths": [1.0, 256.0]})["consistent"]
    assert tr.beyond(ns, m, reps, {"n": 64, "censored": "below",
                                   "widths": [256.0, 512.0]})["consistent"]
    assert not tr.beyond(ns, m, reps, {"n": 64, "censored": "below",
                                       "widths": [32.0, 512.0]})["consistent"]

    # a located threshold left out of the fit: consistent while its interval meets the predicted
    inside = tr.beyond(ns, m, reps, {"n": 64, "censored": "", "interval": [100.0, 110.0]})
    assert (inside["bound"], inside["consistent"]) == (None, True)
    assert inside["predicted"] == pytest.approx(128.0)
    assert not tr.beyond(ns, m, reps, {"n": 64, "censored": "",
                                       "interval": [hi * 1.01, hi * 2]})["consistent"]
    assert not tr.beyond(ns, m, reps, {"n": 64, "censored": "",
                                       "interval": [lo / 2, lo * 0.99]})["consistent"]
