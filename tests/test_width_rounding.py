"""Is a width-threshold outcome decided by rounding? (reports.sweep.width_rounding, issue 29):
the comparison and S15's sentences on hand-made values with the answers worked out by hand; the
perturbation is the labels scaled by 1 + DELTA (the data drawn another way: y_scale 1 against
1 + DELTA, elementwise); a well-conditioned tiny point, trained for real, whose slopes the
perturbation moves by no more than a few hundred times DELTA (the control: no outcome decided by
rounding); the command's one-line refusals."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
import torch

from numerics.data import make_batch
from numerics.thresholds import point_records, study_base
from reports.sweep import width_rounding as wr


def _entry(seed: int, eta: float, perturbed: bool, gap: float, limit: float, smooth: float,
           limit_smooth: float, l_ratio: float) -> dict:
    return {"n": 64, "m": 128, "seed": seed, "eta": eta, "perturbed": perturbed,
            "gap_slope": gap, "limit_slope": limit, "smooth": smooth,
            "limit_smooth": limit_smooth, "l_ratio": l_ratio}


def _entries() -> list[dict]:
    """Seed 0 at eta = 0.01: the limit slope -0.93 -> -0.33 (moved 0.6, flips 1 -> 0), the gap
    slope -0.4825 -> -0.4811 (moved 0.0014), l(T)/l(0) 8e-3 -> 5e-3 (factor 0.625); seed 1 at
    eta = 0.01 without a limit slope (nan); seed 0 at eta = 0.0025 moved by 1e-11 only; seed 2
    has no perturbed run (no row)."""
    nan = math.nan
    return [_entry(0, 0.01, False, -0.4825, -0.93, 0.0, 1.0, 8e-3),
            _entry(0, 0.01, True, -0.4811, -0.33, 0.0, 0.0, 5e-3),
            _entry(1, 0.01, False, -0.9, nan, 1.0, 0.0, 1e-4),
            _entry(1, 0.01, True, -0.75, nan, 0.0, 0.0, 1e-4),
            _entry(0, 0.0025, False, -0.5, -1.1, 0.0, 1.0, 2e-5),
            _entry(0, 0.0025, True, -0.5 + 1e-11, -1.1 - 1e-11, 0.0, 1.0, 2e-5),
            _entry(2, 0.01, False, -0.5, -1.0, 0.0, 1.0, 1e-4)]


def test_compare_by_hand() -> None:
    rows = {(r["eta"], r["seed"]): r for r in wr.compare(_entries())}
    assert sorted(rows) == [(0.0025, 0), (0.01, 0), (0.01, 1)]
    r = rows[(0.01, 0)]
    assert r["d_gap_slope"] == pytest.approx(0.0014)
    assert r["d_limit_slope"] == pytest.approx(0.6)
    assert r["flips_limit_smooth"] is True and r["flips_smooth"] is False
    assert r["l_ratio_factor"] == pytest.approx(0.625)
    assert r["rounding"] == ["limit_smooth"]
    # the gap slope moved 0.15 >= 0.1 and flipped; no limit slope: not decided by rounding
    r = rows[(0.01, 1)]
    assert r["d_gap_slope"] == pytest.approx(0.15) and r["flips_smooth"] is True
    assert math.isnan(r["d_limit_slope"]) and r["rounding"] == ["smooth"]
    r = rows[(0.0025, 0)]
    assert r["d_gap_slope"] == pytest.approx(1e-11, abs=1e-15) and r["rounding"] == []


def test_variants_change_the_step_and_the_labels_only() -> None:
    c = study_base(n=8, m=2, T=5.0, L=4, depths=(2, 4), eta=0.01, seeds=(0, 1, 2, 3, 4))
    vs = wr.variants(c)
    assert [(v.eta, v.y_scale) for v in vs] == [(0.01, 1.0), (0.01, 1.0 + 1e-12),
                                                (0.0025, 1.0), (0.0025, 1.0 + 1e-12)]
    assert all(v.seeds == (0, 1) for v in vs)
    base = c.to_dict()
    for v in vs:
        changed = {k for k, x in v.to_dict().items() if x != base[k]}
        assert changed <= {"eta", "y_scale", "seeds"}


def test_the_perturbation_scales_the_labels() -> None:
    """make_batch with y_scale = 1 + DELTA draws the same inputs and labels times 1 + DELTA
    (to a few units in the last place), for every seed."""
    kw = {"seeds": (0, 1), "n": 16, "d": 4, "d_out": 4, "q": 8, "dtype": "float64",
          "device": "cpu"}
    X, Y = make_batch("sphere", y_scale=1.0, **kw)
    Xp, Yp = make_batch("sphere", y_scale=1.0 + wr.DELTA, **kw)
    assert torch.equal(X, Xp)
    assert not torch.equal(Y, Yp)
    torch.testing.assert_close(Yp, Y * (1.0 + wr.DELTA), rtol=4e-16, atol=0.0)


def test_a_well_conditioned_point_is_not_decided_by_rounding() -> None:
    """A tiny point (n = 4, m = 8, eta = 0.01, T = 2: a few hundred steps far from the edge of
    stability): at both steps the 1 + 1e-12 labels move both slopes by < 1e-9 and l(T)/l(0) by
    < 1e-9 relative, so no outcome is decided by rounding (the control of the command)."""
    c = study_base(n=4, m=8, T=2.0, L=8, depths=(2, 4, 8), eta=0.01, seeds=(0, 1))
    entries = []
    for k, v in enumerate(wr.variants(c)):
        entries += [wr._entry(v, r, perturbed=k % 2 == 1) for r in point_records(v)]
    rows = wr.compare(entries)
    assert len(rows) == 4
    for r in rows:
        assert r["d_gap_slope"] < 1e-9 and r["d_limit_slope"] < 1e-9
        assert abs(r["l_ratio_factor"] - 1.0) < 1e-9
        assert r["rounding"] == [] and not r["flips_smooth"] and not r["flips_limit_smooth"]


def test_s15_sentences_by_hand() -> None:
    from reports.sections import width

    stored = {"command": wr.COMMAND, "seeds": [0, 1], "delta": 1e-12, "step_divisor": 4,
              "slope_move": 0.1, "table": wr.compare(_entries()), "entries": _entries()}
    points = width._rounding_points(stored)
    assert [(p["n"], p["m"]) for p in points] == [(64, 128)]
    fast, slow = points[0]["steps"]
    assert fast["eta"] == 0.01 and fast["seeds"] == 2
    assert fast["d_limit_slope"] == pytest.approx(0.6)  # nan of seed 1 not the maximum
    assert fast["d_gap_slope"] == pytest.approx(0.15)
    assert fast["flips_smooth"] == 1 and fast["flips_limit_smooth"] == 1
    assert fast["rounding"] == {"smooth", "limit_smooth"}
    assert slow["eta"] == 0.0025 and slow["rounding"] == set()
    # as drawn, the compared seeds only (seed 2 has no perturbed run): seed 1 smooth, seed 0
    # limit-smooth, largest l(T)/l(0) 8e-3 at eta = 0.01; seed 0 alone at eta = 0.0025
    assert (fast["drawn_smooth"], fast["drawn_limit_smooth"]) == (1, 1)
    assert fast["drawn_l_ratio"] == 8e-3
    assert (slow["drawn_smooth"], slow["drawn_limit_smooth"], slow["drawn_l_ratio"]) == (0, 1,
                                                                                         2e-5)
    note = width._rounding_note(stored)
    assert "At n = 64, m = 128: at eta = 0.01 the gap slope moves by 0.15 (1 of 2 flip), the " \
           "limit slope by 0.6 (1 of 2 flip), and as drawn 1 of 2 1/L-smooth, 1 of 2 " \
           "limit-smooth, l(T)/l(0) <= 0.008; at eta = 0.0025" in note
    sentence = width._rounding_sentence(stored, [])
    assert ("at n = 64, m = 128: the 1/L-smooth outcome (1 of 2 flip), the limit outcome "
            "(1 of 2 flip) at eta = 0.01, no outcome at eta = 0.0025 (as drawn: 1 of 2 "
            "1/L-smooth, 1 of 2 limit-smooth, l(T)/l(0) <= 0.008 at eta = 0.01; 0 of 1 "
            "1/L-smooth, 1 of 1 limit-smooth, l(T)/l(0) <= 2e-05 at eta = 0.0025)") in sentence
    cell = {"n": 64, "m": 128, "tracks": False, "track_eta_lambda_max": 2.01,
            "track_ratio": 104.0}
    assert ("at n = 64, m = 128 (where gradient descent at the sweep's eta does not track the "
            "flow: NO (2.01, 104)): the 1/L-smooth") in width._rounding_sentence(stored, [cell])
    # seed 0's limit slope moved by 0.6 at eta = 0.01 without a flip: still named, 0 flips
    for r in stored["table"]:
        if (r["eta"], r["seed"]) == (0.01, 0):
            r["flips_limit_smooth"] = False
    assert "the limit outcome (0 of 2 flip) at eta = 0.01" in width._rounding_sentence(stored, [])


@pytest.mark.parametrize("args", [[], ["64"], ["64", "x"], ["64", "100"]])
def test_the_command_refuses_in_one_line(args: list[str]) -> None:
    p = subprocess.run([sys.executable, "-m", "reports.sweep.width_rounding", *args],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2
    assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr


def test_the_committed_file_is_its_runs_compared() -> None:
    """reports/data/width-rounding.json: its table is :func:`compare` of its own runs (nothing
    edited by hand), each point has its four runs per seed, and at every step the eta / 4 control
    moves no slope by more than 1e-9."""
    import json

    stored = json.loads(wr.DATA_FILE.read_text(encoding="utf-8"))
    assert stored["table"] == json.loads(json.dumps(wr.compare(stored["entries"])))
    for n, m in {(e["n"], e["m"]) for e in stored["entries"]}:
        runs = [e for e in stored["entries"] if (e["n"], e["m"]) == (n, m)]
        assert len(runs) == 4 * len(stored["seeds"])
    for r in stored["table"]:
        if r["eta"] < 0.01:
            assert r["d_gap_slope"] < 1e-9 and r["d_limit_slope"] < 1e-9
