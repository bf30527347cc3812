"""numerics.width_analysis: records -> thresholds and exponents on synthetic records with a known
m*(n), and the outcomes recomputed on a depth sub-grid against hand-computed slopes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from numerics import width_analysis as wa
from numerics.transition import fit_logistic
from theory.errors import ConfigError


def _synthetic(seed: int, falls_at: int | None = None) -> list[dict]:
    """8 seeds per (n, m) of a known m* = 0.5 n^1.5 (interpolation) and 2 n (smoothness, and the
    limit gaps); at n = ``falls_at`` interpolation rises and falls instead (1 at m/n = 1/8..2, 0
    elsewhere)."""
    rng = np.random.default_rng(seed)
    records = []
    for n in (8, 16, 32, 64):
        for m in sorted({max(1, round(r * n)) for r in 2.0 ** np.arange(-6, 4)}):
            for _ in range(8):
                pi = 1 / (1 + np.exp(-4 * (math.log(m) - math.log(0.5 * n**1.5))))
                po = 1 / (1 + np.exp(-4 * (math.log(m) - math.log(2 * n))))
                yi, yo = float(rng.random() < pi), float(rng.random() < po)
                if n == falls_at:
                    yi = float(n / 8 <= m <= 2 * n)
                records.append({"n": n, "m": m, "T": 10.0, "interpolated": yi,
                                "interpolated_half": yi, "smooth": yo, "limit_smooth": yo,
                                "gap_slope": -1.0 if yo else -0.3, "limit_slope": -1.0,
                                "gap_L4": 1.0, "gap_L8": 0.5 if yo else 0.8, "interp_L4": yi,
                                "interp_L8": yi, "interp_half_L4": yi, "interp_half_L8": yi,
                                "mu_L4": 0.1, "mu_L8": 0.1, "limit_gap_L4_8": 0.1,
                                "l_ratio_L4": 0.1, "l_ratio_L8": 0.1, "t_hit_L4": 1.0,
                                "t_hit_L8": 1.0, "local_slope_L4_8": -1.0, "diverged": 0.0,
                                "wall_s": 1.0})
    return records


def test_analyze_end_to_end_on_synthetic_records() -> None:
    """Records of a known m* = 0.5 n^1.5 (interpolation) and 2 n (smoothness): the exponents
    come out near 1.5 and 1, inside their intervals."""
    records = _synthetic(5)
    out = wa.analyze(records, reps=300, q=8, d_out=4, c1=1.3e7)
    gi, go = out["exponents"]["interp"], out["exponents"]["ode"]
    assert gi["gamma"] == pytest.approx(1.5, abs=0.2)
    assert go["gamma"] == pytest.approx(1.0, abs=0.2)
    assert gi["interval"][0] <= 1.5 <= gi["interval"][1] or abs(gi["gamma"] - 1.5) < 0.1
    assert out["per_sample"]["ode"][0]["8"] == pytest.approx(
        2 * 8 * 8 * out["thresholds"]["ode"][0]["m_star"] / (8 * 4))
    assert set(out["by_depth"]) == {"4", "8"}


def test_a_fraction_that_falls_is_no_threshold_and_leaves_the_power_fit() -> None:
    """At n = 64 the fraction that interpolates rises and falls (every seed 1 at m/n = 1/8..2, 0
    elsewhere): the flat logistic's midpoint is inside the grid (not censored) but flagged
    (monotone_p < 0.05), and the exponent is the least-squares slope through the other three
    n's midpoints (numpy's polyfit in log-log), not through n = 64's.  An n's interval does not
    depend on which other n are analyzed with it."""
    records = _synthetic(6, falls_at=64)
    out = wa.analyze(records, reps=200)
    rows = {t["n"]: t for t in out["thresholds"]["interp"]}
    at64 = [r for r in records if r["n"] == 64]
    assert fit_logistic([r["m"] for r in at64], [r["interpolated"] for r in at64]).censored == ""
    assert rows[64]["falls"] and rows[64]["monotone_p"] < 0.05
    assert not any(rows[n]["falls"] or rows[n]["censored"] for n in (8, 16, 32))
    e = out["exponents"]["interp"]
    assert list(e["ns"]) == [8, 16, 32]
    slope = np.polyfit(np.log([8, 16, 32]), np.log([rows[n]["m_star"] for n in (8, 16, 32)]), 1)
    assert e["gamma"] == pytest.approx(slope[0], rel=1e-9)
    alone = wa.analyze([r for r in records if r["n"] == 16], reps=200)
    for name in ("interp", "ode"):
        assert alone["thresholds"][name][0]["interval"] == out["thresholds"][name][1]["interval"]


def test_a_threshold_above_the_grid_is_set_beside_the_power_law() -> None:
    """m*_ode = 2 n, with n = 64 measured only to m = 64 (at most 1/17 of its seeds smooth):
    censored above 64, left out of the fit, and set beside the fit's prediction there, numpy's
    polyfit through n = 8, 16, 32's midpoints evaluated at 64 (about 128: consistent)."""
    records = [r for r in _synthetic(7) if r["n"] < 64 or r["m"] <= 64]
    out = wa.analyze(records, reps=200)
    rows = {t["n"]: t for t in out["thresholds"]["ode"]}
    assert rows[64]["censored"] == "above"
    e = out["exponents"]["ode"]
    assert list(e["ns"]) == [8, 16, 32] and [b["n"] for b in e["beyond"]] == [64]
    g, b = np.polyfit(np.log([8, 16, 32]), np.log([rows[n]["m_star"] for n in (8, 16, 32)]), 1)
    at64 = e["beyond"][0]
    assert at64["predicted"] == pytest.approx(math.exp(b + g * math.log(64)), rel=1e-9)
    assert at64["bound"] == 64.0 and at64["consistent"] and 64 < at64["predicted"] < 256
    assert at64["interval"][0] <= at64["predicted"] <= at64["interval"][1]


def test_an_n_left_out_of_the_fit_is_set_beside_its_prediction() -> None:
    """fit_ns = {8, 16, 32}: n = 64's located thresholds stay in the table but out of the power
    fit (numpy's polyfit through the other three), and are set beside the fit's prediction."""
    records = _synthetic(5)
    out = wa.analyze(records, reps=200, fit_ns={8, 16, 32})
    rows = {t["n"]: t for t in out["thresholds"]["interp"]}
    assert not rows[64]["censored"] and not rows[64]["falls"]
    e = out["exponents"]["interp"]
    assert list(e["ns"]) == [8, 16, 32] and [b["n"] for b in e["beyond"]] == [64]
    g, b = np.polyfit(np.log([8, 16, 32]), np.log([rows[n]["m_star"] for n in (8, 16, 32)]), 1)
    assert e["gamma"] == pytest.approx(g, rel=1e-9)
    at64 = e["beyond"][0]
    assert at64["censored"] == "" and at64["bound"] is None
    assert at64["predicted"] == pytest.approx(math.exp(b + g * math.log(64)), rel=1e-9)
    assert at64["consistent"] == (rows[64]["interval"][0] <= at64["interval"][1]
                                  and at64["interval"][0] <= rows[64]["interval"][1])


def test_records_of_one_n_at_two_horizons_are_refused() -> None:
    """A threshold 'within T(n)' is of one horizon: n = 16's records at T = 10 and 20 (e.g. a
    rerun at a corrected horizon beside the old one) are refused, not pooled."""
    records = _synthetic(5)
    moved = [r | {"T": 20.0} if r["n"] == 16 and r["m"] == 16 else r for r in records]
    with pytest.raises(ConfigError, match="different horizons"):
        wa.analyze(moved, reps=10)


def _three_depths() -> dict:
    """A record on L = 4, 8, 16: gaps 1, 0.5, 0.4; limit gaps 0.2 (4-8), 0.1 (8-16); it
    interpolates at L = 8 only, at T/2 at L = 8 and 16; its own summary fields are placeholders
    that restrict must overwrite."""
    rec = {"n": 8.0, "m": 2.0, "T": 10.0, "seed": 0, "gap_slope": 99.0, "limit_slope": 99.0,
           "smooth": 99.0, "limit_smooth": 99.0, "interpolated": 99.0,
           "interpolated_half": 99.0, "L_max": 99.0}
    for L, gap, interp, half in ((4, 1.0, 0.0, 0.0), (8, 0.5, 1.0, 1.0), (16, 0.4, 0.0, 1.0)):
        rec |= {f"gap_L{L}": gap, f"interp_L{L}": interp, f"interp_half_L{L}": half,
                f"l_ratio_L{L}": 0.5, f"t_hit_L{L}": 1.0, f"mu_L{L}": 0.1}
    return rec | {"limit_gap_L4_8": 0.2, "limit_gap_L8_16": 0.1, "local_slope_L4_8": -1.0,
                  "local_slope_L8_16": math.log(0.8, 2)}


def test_restrict_recomputes_the_outcomes_on_a_sub_grid() -> None:
    """On (4, 8): gap slope log 0.5 / log 2 = -1 (smooth), one limit pair (no slope, not
    smooth), interpolation at 8; the fields of L = 16 dropped.  On (4, 8, 16): the
    least-squares slope over three equally spaced log depths is (log 0.4 - log 1) / log 4 =
    -0.661 (not smooth), the limit slope log(0.1 / 0.2) / log 2 = -1 (smooth), interpolation at
    16 (no) and at T/2 (yes).  A gap stored as None (a diverged depth in JSON) leaves no slope."""
    rec = _three_depths()
    short = wa.restrict(rec, (8, 4))
    assert short["gap_slope"] == pytest.approx(-1.0) and short["smooth"] == 1.0
    assert math.isnan(short["limit_slope"]) and short["limit_smooth"] == 0.0
    assert short["interpolated"] == 1.0 and short["interpolated_half"] == 1.0
    assert short["L_max"] == 8.0
    assert not [k for k in short if k.endswith(("L16", "L8_16"))]
    full = wa.restrict(rec, (4, 8, 16))
    assert full["gap_slope"] == pytest.approx(math.log(0.4) / math.log(4)) and full["smooth"] == 0
    assert full["limit_slope"] == pytest.approx(-1.0) and full["limit_smooth"] == 1.0
    assert full["interpolated"] == 0.0 and full["interpolated_half"] == 1.0
    assert full["L_max"] == 16.0
    diverged = wa.restrict(rec | {"gap_L16": None}, (4, 8, 16))
    assert math.isnan(diverged["gap_slope"]) and diverged["smooth"] == 0.0
    assert wa.common_grid([rec, short]) == (4, 8)
    for grid in ((8, 32), (8,)):
        with pytest.raises(ConfigError):
            wa.restrict(rec, grid)
