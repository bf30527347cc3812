"""Rates (numerics.rates) against closed forms: exact power laws, the bootstrap's extremes, the
BCa interval's coverage of a known slope, seeds whose gap is identically 0."""

from __future__ import annotations

import math

import numpy as np
import pytest

from numerics.rates import loglog_slope, rate_fit
from theory.catalog import ONE_OVER_L, ONE_OVER_L_WIDE
from theory.errors import ConfigError
from theory.verdicts import Facts, classify

DEPTHS = (4, 8, 16, 32)


def _verdict(fit):  # noqa: ANN001, ANN202 - the class the classifier gives a rate fit
    return classify(Facts(fit.slope, rate=fit)).cls


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
    from numerics.measure import measure
    from theory.config import Config

    config = Config.from_mapping({"n": 1, "d": 1, "d_out": 1, "q": 1, "m": 1, "L": 8,
                                  "T": 0.0078125, "eta": 0.0078125, "activation": "relu",
                                  "train_outer": False, "depths": [8, 16, 32, 64]})
    m = measure("prop2.euler", config)
    assert m.series["gap"] == [0.0, 0.0, 0.0, 0.0] and math.isnan(m.values["slope"])


def test_seeds_on_one_power_law_give_a_point_interval() -> None:
    values = [[c / L for c in (1.0, 2.0, 5.0, 0.5, 3.0)] for L in DEPTHS]  # every mean ~ 1/L
    fit = rate_fit(DEPTHS, values, ONE_OVER_L, ONE_OVER_L_WIDE, seed=3)
    assert fit.slope == pytest.approx(-1.0, abs=1e-12)
    assert fit.interval == pytest.approx((-1.0, -1.0), abs=1e-12)
    assert (fit.seeds, fit.null_seeds) == (5, 0) and _verdict(fit) == "holds"


def test_bootstrap_interval_lies_between_the_seeds_own_slopes() -> None:
    """A resampled seed-mean of power laws L^-a_i has a slope between min a_i and max a_i."""
    exponents = (0.5, 1.0, 2.0, 1.2, 0.8)
    values = [[L**-a for a in exponents] for L in DEPTHS]
    fit = rate_fit(DEPTHS, values, ONE_OVER_L, ONE_OVER_L_WIDE, seed=0)
    lo, hi = fit.interval
    assert -2.0 - 1e-12 <= lo < fit.slope < hi <= -0.5 + 1e-12


def test_bca_interval_covers_a_known_slope_at_about_95_percent() -> None:
    """Seeds c_i L^-1 (1 + noise): the true slope of the population mean is -1 (up to the noise's
    curvature, negligible at 5%); BCa 95% intervals over 8 seeds cover it in most draws."""
    rng = np.random.default_rng(11)
    covered = 0
    trials = 120
    for _ in range(trials):
        c = rng.lognormal(0.0, 0.5, size=8)
        noise = 1 + 0.05 * rng.standard_normal((len(DEPTHS), 8))
        values = [[ci * n / L for ci, n in zip(c, row, strict=True)]
                  for L, row in zip(DEPTHS, noise, strict=True)]
        lo, hi = rate_fit(DEPTHS, values, ONE_OVER_L, n_boot=400,
                          seed=int(rng.integers(1 << 30))).interval
        covered += lo <= -1.0 <= hi
    assert 0.80 * trials <= covered <= trials  # binomial(120, ~0.93): 0.80 is 4 sd below


def test_fewer_than_five_seeds_or_four_depths_are_underpowered() -> None:
    three = rate_fit(DEPTHS, [[c / L for c in (1.0, 2.0, 3.1)] for L in DEPTHS], ONE_OVER_L,
                     ONE_OVER_L_WIDE)
    assert classify(Facts(three.slope, rate=three)).rule.startswith("underpowered")
    short = rate_fit(DEPTHS[:3], [[c / L for c in (1.0, 2.0, 3.0, 4.0, 5.5)]
                                  for L in DEPTHS[:3]], ONE_OVER_L, ONE_OVER_L_WIDE)
    assert _verdict(short) == "vacuous"


def test_identically_zero_seeds_are_left_out_of_the_fit() -> None:
    values = [[0.0, 2.0 / L, 4.0 / L] for L in DEPTHS]
    fit = rate_fit(DEPTHS, values, ONE_OVER_L)
    assert fit.slope == pytest.approx(-1.0, abs=1e-12)
    assert (fit.seeds, fit.null_seeds) == (3, 1)


def test_all_null_seeds_are_vacuous_and_a_zero_mean_is_undefined() -> None:
    null = rate_fit(DEPTHS, np.zeros((4, 5)), ONE_OVER_L, ONE_OVER_L_WIDE)
    assert math.isnan(null.slope) and null.null_seeds == 5 and _verdict(null) == "vacuous"
    partial = rate_fit(DEPTHS, [[1.0 / L if L < 32 else 0.0] * 5 for L in DEPTHS], ONE_OVER_L,
                       ONE_OVER_L_WIDE)
    assert math.isnan(partial.slope) and _verdict(partial) == "violated"


def test_a_seed_zero_at_one_depth_enters_the_mean() -> None:
    """Seed 0 vanishes at L = 4: the seed-mean (0 + 2 + 4) / (3 L) at L = 4, 6 / (3 L) after."""
    values = [[0.0 if L == 4 else 6.0 / L, 3.0 / L, 3.0 / L] for L in DEPTHS]
    fit = rate_fit(DEPTHS, values, ONE_OVER_L, seed=1)
    expected, _ = loglog_slope(DEPTHS, [2.0 / 4, 4.0 / 8, 4.0 / 16, 4.0 / 32])
    assert fit.slope == pytest.approx(expected, abs=1e-12) and fit.null_seeds == 0


def test_shape_mismatch_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="values"):
        rate_fit(DEPTHS, [[1.0], [0.5]])
