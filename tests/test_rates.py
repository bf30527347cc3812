"""Rates (numerics.rates) against closed forms: exact power laws, per-seed slopes and their t
interval computed by hand, the seeds that would decide an interval, seeds whose gap is
identically 0 or 0 at one depth.  Coverage under the noise model: tests/test_rate_coverage.py."""

from __future__ import annotations

import math

import numpy as np
import pytest

from numerics.rates import (
    RateFit,
    loglog_slope,
    per_seed_slopes,
    rate_fit,
    t_interval,
)
from theory.catalog import ONE_OVER_L
from theory.errors import ConfigError
from theory.verdicts import Facts, classify

DEPTHS = (4, 8, 16, 32)
WINDOW = ONE_OVER_L
T_975_4 = 2.7764451051977987  # t_{0.975} on 4 degrees of freedom (tables: 2.776)


def _verdict(fit: RateFit) -> tuple[str, str]:
    """The class and rule the classifier gives a rate fit."""
    v = classify(Facts(fit.slope, rate=fit))
    return v.cls, v.rule


def test_loglog_slope_of_a_power_law() -> None:
    slope, intercept = loglog_slope(DEPTHS, [3.0 * L**-1.5 for L in DEPTHS])
    assert slope == pytest.approx(-1.5, abs=1e-12)
    assert intercept == pytest.approx(math.log(3.0), abs=1e-12)


def test_loglog_slope_without_a_logarithm_is_nan() -> None:
    """A gap of exactly 0 (found by the thorough property run: q = m = n = 1, ReLU never
    active, the ResNet equal to its ODE at every depth) has no slope, and no warning."""
    assert all(math.isnan(x) for x in loglog_slope(DEPTHS, [0.0, 0.0, 0.0, 0.0]))
    assert all(math.isnan(x) for x in loglog_slope(DEPTHS, [1.0, 0.5, 0.0, 0.1]))


def test_prop2_gap_identically_zero_measures_without_a_slope() -> None:
    """q = m = n = 1, ReLU: for some seeds (which ones depends on how a seed draws its data) the
    ReLU is never active and the ResNet equals its ODE at every depth; such a gap has no slope."""
    from numerics.checks import measure
    from theory.config import Config

    zero = 0
    for seed in range(12):
        config = Config.from_mapping({"n": 1, "d": 1, "d_out": 1, "q": 1, "m": 1, "L": 8,
                                      "T": 0.0078125, "eta": 0.0078125, "activation": "relu",
                                      "train_outer": False, "depths": [8, 16, 32, 64],
                                      "seed": seed})
        m = measure("prop2.euler", config)
        if m.series["gap"] == [0.0, 0.0, 0.0, 0.0]:
            zero += 1
            assert math.isnan(m.values["slope"])
    assert zero >= 2  # 4 or 5 of these 12 seeds never activate the ReLU


def test_per_seed_slopes_of_exact_power_laws() -> None:
    """Seed i is c_i L^-a_i exactly: its slope is -a_i whatever c_i; a seed with a 0 has none."""
    exponents, constants = (0.5, 1.0, 2.0, 1.2, 0.8), (1.0, 30.0, 0.01, 2.0, 5.0)
    values = [[c * L**-a for a, c in zip(exponents, constants, strict=True)] for L in DEPTHS]
    assert per_seed_slopes(DEPTHS, values) == pytest.approx([-a for a in exponents], abs=1e-12)
    values[2][1] = 0.0
    got = per_seed_slopes(DEPTHS, values)
    assert math.isnan(got[1]) and np.isfinite(np.delete(got, 1)).all()


def test_t_interval_of_per_seed_slopes_by_hand() -> None:
    """Slopes -0.5, -1, -2, -1.2, -0.8: mean -1.1, sd sqrt(1.28 / 4) (deviations 0.6, 0.1, -0.9,
    -0.1, 0.3), half-width t_{0.975,4} sd / sqrt(5); the fit's slope is that mean, not the slope
    of the seed-mean, and its interval is wider than the seeds' range would suggest at 5 seeds."""
    exponents = (0.5, 1.0, 2.0, 1.2, 0.8)
    values = [[L**-a for a in exponents] for L in DEPTHS]
    fit = rate_fit(DEPTHS, values, WINDOW)
    half = T_975_4 * math.sqrt(1.28 / 4) / math.sqrt(5)
    assert fit.slope == pytest.approx(-1.1, abs=1e-12)
    assert fit.interval == pytest.approx((-1.1 - half, -1.1 + half), abs=1e-12)
    assert fit.per_seed == pytest.approx([-a for a in exponents], abs=1e-12)
    assert (fit.method, fit.confidence, fit.seeds, fit.null_seeds) == ("t", 0.95, 5, 0)
    assert t_interval(fit.per_seed) == pytest.approx((fit.slope, *fit.interval), abs=1e-15)
    mean_slope, _ = loglog_slope(DEPTHS, np.mean(values, axis=1))
    assert abs(mean_slope - fit.slope) > 0.1  # the seed-mean is led by the flattest seed
    z99 = rate_fit(DEPTHS, values, confidence=0.99)
    assert z99.interval[0] < fit.interval[0] < fit.slope < fit.interval[1] < z99.interval[1]


def test_former_bca_fit_is_kept_for_comparison() -> None:
    """``method="bca"``: the slope of the seed-mean and a bootstrap interval, which for a
    seed-mean of power laws L^-a_i lies between the seeds' own slopes."""
    exponents = (0.5, 1.0, 2.0, 1.2, 0.8)
    values = [[L**-a for a in exponents] for L in DEPTHS]
    fit = rate_fit(DEPTHS, values, WINDOW, method="bca", seed=0)
    expected, _ = loglog_slope(DEPTHS, np.mean(values, axis=1))
    assert fit.slope == pytest.approx(expected, abs=1e-12) and fit.method == "bca"
    lo, hi = fit.interval
    assert -2.0 - 1e-12 <= lo < fit.slope < hi <= -0.5 + 1e-12
    with pytest.raises(ConfigError, match="method"):
        rate_fit(DEPTHS, values, method="percentile")
    with pytest.raises(ConfigError, match="confidence"):
        rate_fit(DEPTHS, values, confidence=95)


def test_seeds_on_one_power_law_give_a_point_interval() -> None:
    values = [[c / L for c in (1.0, 2.0, 5.0, 0.5, 3.0)] for L in DEPTHS]  # every seed ~ 1/L
    fit = rate_fit(DEPTHS, values, WINDOW, seed=3)
    assert fit.slope == pytest.approx(-1.0, abs=1e-12)
    assert fit.interval == (fit.slope, fit.slope)
    assert (fit.seeds, fit.null_seeds) == (5, 0) and _verdict(fit)[0] == "holds"
    one = rate_fit(DEPTHS, [[2.0 / L**0.7] for L in DEPTHS], WINDOW)
    assert one.slope == pytest.approx(-0.7, abs=1e-12) and one.interval == (one.slope, one.slope)


def test_seeds_to_decide_by_hand() -> None:
    """Slopes -0.9 -+ (0, 0.1, 0.2): sd sqrt(0.1 / 4) = 0.158114, 0.1 from the edge -0.8.  Half-
    widths t_{0.975,n-1} sd / sqrt(n): n = 12: 2.200985 * 0.158114 / 3.464102 = 0.10046, not
    below 0.1; n = 13: 2.178813 * 0.158114 / 3.605551 = 0.09555: 13 seeds decide it."""
    exponents = (0.9, 1.0, 1.1, 0.8, 0.7)
    fit = rate_fit(DEPTHS, [[L**-a for a in exponents] for L in DEPTHS], WINDOW)
    assert fit.slope == pytest.approx(-0.9, abs=1e-12)
    assert fit.interval[0] < -0.8 < fit.interval[1]  # across the edge at 5 seeds
    assert fit.seeds_to_decide(-0.8) == 13
    assert fit.seeds_to_decide(-1.0) == 13  # symmetric
    # rebuilt from a results file (no per-seed slopes): the spread is recovered from the interval
    bare = RateFit(fit.depths, fit.slope, fit.interval, WINDOW, 5, 0)
    assert bare.seeds_to_decide(-0.8) == 13
    # already decided at 5 seeds: the least n is reported (here 3, below the 5 used)
    assert fit.seeds_to_decide(-1.5) == 3  # 4.302653 * 0.158114 / 1.732051 = 0.39 < 0.6
    assert fit.seeds_to_decide(math.inf) == 2
    assert fit.seeds_to_decide(fit.slope) is None  # on the edge: no number of seeds decides


def test_seeds_to_decide_without_a_spread_or_a_slope() -> None:
    flat = rate_fit(DEPTHS, [[c / L for c in (1.0, 2.0, 5.0, 0.5, 3.0)] for L in DEPTHS])
    assert flat.seeds_to_decide(-0.8) == 2  # no spread: any two seeds decide
    undefined = rate_fit(DEPTHS, [[1.0 / L if L < 32 else 0.0] * 5 for L in DEPTHS])
    assert undefined.seeds_to_decide(-0.8) is None
    assert RateFit(DEPTHS, -0.9, (-0.9, -0.9), WINDOW, 1).seeds_to_decide(-0.8) is None
    tiny = RateFit(DEPTHS, -0.9, (-1.0, -0.8), WINDOW, 5, per_seed=(-0.9, -0.8, -1.0, -0.9, -0.9))
    assert tiny.seeds_to_decide(-0.9 + 1e-9) > 10**15  # far past any budget, still finite


def test_fewer_than_five_seeds_or_four_depths_are_underpowered() -> None:
    three = rate_fit(DEPTHS, [[c / L for c in (1.0, 2.0, 3.1)] for L in DEPTHS], WINDOW)
    assert _verdict(three)[1].startswith("underpowered")
    short = rate_fit(DEPTHS[:3], [[c / L for c in (1.0, 2.0, 3.0, 4.0, 5.5)]
                                  for L in DEPTHS[:3]], WINDOW)
    assert _verdict(short)[0] == "vacuous"


def test_identically_zero_seeds_are_left_out_of_the_fit() -> None:
    values = [[0.0, 2.0 / L, 4.0 / L] for L in DEPTHS]
    fit = rate_fit(DEPTHS, values, WINDOW)
    assert fit.slope == pytest.approx(-1.0, abs=1e-12) and len(fit.per_seed) == 2
    assert (fit.seeds, fit.null_seeds) == (3, 1)


def test_all_null_seeds_are_vacuous_and_a_zero_mean_is_undefined() -> None:
    null = rate_fit(DEPTHS, np.zeros((4, 5)), WINDOW)
    assert math.isnan(null.slope) and null.null_seeds == 5 and _verdict(null)[0] == "vacuous"
    partial = rate_fit(DEPTHS, [[1.0 / L if L < 32 else 0.0] * 5 for L in DEPTHS], WINDOW)
    assert math.isnan(partial.slope) and "undefined" in _verdict(partial)[1]


def test_a_seed_zero_at_one_depth_has_no_slope_and_neither_has_the_fit() -> None:
    """Seed 0 vanishes at L = 4 only: it has no logarithm there, so no per-seed slope; the fit
    is undefined rather than dropping the seed.  The former BCa fit averaged it into the
    seed-mean, (0 + 2 + 4) / (3 L) at L = 4 and 6 / (3 L) after."""
    values = [[0.0 if L == 4 else 6.0 / L, 3.0 / L, 3.0 / L] for L in DEPTHS]
    fit = rate_fit(DEPTHS, values, WINDOW, seed=1)
    assert math.isnan(fit.slope) and all(math.isnan(x) for x in fit.interval)
    assert math.isnan(fit.per_seed[0]) and fit.per_seed[1:] == pytest.approx([-1.0, -1.0])
    assert fit.null_seeds == 0
    bca = rate_fit(DEPTHS, values, WINDOW, seed=1, method="bca")
    expected, _ = loglog_slope(DEPTHS, [2.0 / 4, 4.0 / 8, 4.0 / 16, 4.0 / 32])
    assert bca.slope == pytest.approx(expected, abs=1e-12)


def test_negative_or_infinite_values_give_no_fit() -> None:
    for bad in (-1.0, math.inf, math.nan):
        values = [[1.0 / L, 2.0 / L, bad if L == 8 else 1.0 / L] for L in DEPTHS]
        assert math.isnan(rate_fit(DEPTHS, values).slope)


def test_shape_mismatch_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="values"):
        rate_fit(DEPTHS, [[1.0], [0.5]])
    with pytest.raises(ConfigError, match="values"):
        per_seed_slopes(DEPTHS, [[1.0], [0.5]])


def test_median_interval_from_order_statistics_by_hand() -> None:
    """Coverage 1 - 2 P(Bin(s, 1/2) <= k - 1): five values give the range (1 - 2/32 = 0.9375);
    ten give (x_(2), x_(9)) at 1 - 2 * 11/1024 = 0.978516 (k = 3 would give 1 - 2 * 56/1024 =
    0.890625 < 0.95)."""
    from numerics.rates import median_interval

    assert median_interval([3.0, 1.0, 5.0, 2.0, 4.0]) == ((1.0, 5.0), pytest.approx(0.9375))
    (lo, hi), coverage = median_interval([float(v) for v in range(10, 0, -1)])
    assert (lo, hi) == (2.0, 9.0) and coverage == pytest.approx(1 - 22 / 1024)
