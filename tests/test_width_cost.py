"""reports.sweep.width's cost model: a point's seconds per iteration worked out by hand, and the
full preset's total that the README quotes regenerated from it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from numerics.horizon import horizon
from reports.sweep.width import COST, cost_model, estimate, estimate_lines, point_lines

ROOT = Path(__file__).resolve().parent.parent


def test_cost_model_by_hand() -> None:
    """(n, m) = (8, 2), depths (4, 8), 5 seeds, c0 = 1, c1 = 0.5: the depths cost
    (4 + 8)(1 + 0.5 x 16) = 108, the tracking of the 5 seeds at L = 8 with eta, eta/2, eta/4
    costs 7 x 8 (1 + 0.5 x 16) = 504; one seed instead of five: 12 (1 + 1.6) = 31.2 and
    56 (1 + 1.6) = 145.6."""
    cost = {"c0": 1.0, "c1": 0.5}
    assert cost_model(8, 2, (4, 8), 5, cost) == pytest.approx(108 + 504)
    assert cost_model(8, 2, (4, 8), 1, cost) == pytest.approx(31.2 + 145.6)
    assert cost_model(8, 2, (4, 8), 1, cost, tracking=False) == pytest.approx(31.2)


def test_the_tracking_term_against_the_committed_walls() -> None:
    """The committed width-flow points that ran in one sitting (``resumed`` = 0: a resumed
    call's walls count only its last sitting) measured both walls in one call: their tracking
    took track_wall_s / wall_s times their trainings.  The model's ratio (every seed tracked,
    batched) is within a factor 1.6 of each; a tracking of one network would put it at
    1.0-1.6, off by up to 2.5x."""
    ratios = []
    for path in sorted((ROOT / "reports" / "data").glob("width-flow*/out/results/*.json")):
        unit = json.loads(path.read_text())
        r, c = unit["record"], unit["config"]
        if r.get("resumed", 0):  # absent: code before in-unit checkpoints, one call
            continue
        model = (cost_model(c["n"], c["m"], c["depths"], 5)
                 / cost_model(c["n"], c["m"], c["depths"], 5, tracking=False) - 1)
        ratios.append(r["track_wall_s"] / r["wall_s"] / model)
    assert len(ratios) >= 10
    assert all(1 / 1.6 < q < 1.6 for q in ratios)


def test_readme_quotes_the_full_presets_estimate() -> None:
    """The README's "about N single-core hours ... M without" of the full preset are
    estimate("full") with and without the flow tracking, to 5%."""
    text = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    quoted = re.search(r"`--full` \(n = 8\.\.128.*?about (\d+) single-core hours.*?, (\d+) without",
                       text)
    assert quoted is not None
    for tracking, group in ((True, 1), (False, 2)):
        hours = estimate("full", tracking=tracking)["total_s"] / 3600
        assert hours == pytest.approx(float(quoted.group(group)), rel=0.05)


def test_the_estimate_lines_longest_full_point_by_hand() -> None:
    """The full preset's longest point, n = 128, m = 2048 (n m = 2^18), depths 4..32 (sum 60),
    5 seeds, T(128) / 0.01 iterations: per iteration 60 (c0 + c1 2^18) for the trainings and
    7 x 32 (c0 + c1 2^18) for the tracking of the 5 seeds, quoted in hours to three digits."""
    c0, c1 = COST["c0"], COST["c1"]
    iterations = round(horizon(128) / 0.01)
    alone = 60 * (c0 + c1 * 2**18) * iterations / 3600
    tracked = alone + 224 * (c0 + c1 * 2**18) * iterations / 3600
    lines = {line.split(":")[0]: line for line in estimate_lines()}
    assert f"longest point {tracked:.3g} h;" in lines["- full, with the flow tracking"]
    assert f"longest point {alone:.3g} h;" in lines["- full, training alone"]
    assert "45 points" in lines["- full, training alone"]
    assert (f"n = 128, m = 2048, T = {horizon(128):g}, {iterations} iterations: {tracked:.3g} h "
            f"with the flow tracking, {alone:.3g} h training alone") in point_lines("full")
