"""reports.sweep.width's cost model: a point's seconds per iteration worked out by hand, and the
full preset's total that the README quotes regenerated from it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from numerics.horizon import horizon
from reports.sweep.width import COST, cost_model, estimate, estimate_lines

ROOT = Path(__file__).resolve().parent.parent


def test_cost_model_by_hand() -> None:
    """(n, m) = (8, 2), depths (4, 8), 5 seeds, c0 = 1, c1 = 0.5: the depths cost
    (4 + 8)(1 + 0.5 x 16) = 108, the tracking of one network at L = 8 with eta, eta/2, eta/4
    costs 7 x 8 (1 + 0.5 x 16 / 5) = 145.6; one seed instead of five: 12 (1 + 1.6) = 31.2."""
    cost = {"c0": 1.0, "c1": 0.5}
    assert cost_model(8, 2, (4, 8), 5, cost) == pytest.approx(108 + 145.6)
    assert cost_model(8, 2, (4, 8), 1, cost) == pytest.approx(31.2 + 145.6)
    assert cost_model(8, 2, (4, 8), 1, cost, tracking=False) == pytest.approx(31.2)


def test_readme_quotes_the_full_presets_estimate() -> None:
    """The README's "about N single-core hours" of the full preset is estimate("full") to 5%."""
    text = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    quoted = re.search(r"`--full` \(n = 8\.\.128.*?about (\d+) single-core hours", text)
    assert quoted is not None
    hours = estimate("full")["total_s"] / 3600
    assert hours == pytest.approx(float(quoted.group(1)), rel=0.05)


def test_the_estimate_lines_longest_full_point_by_hand() -> None:
    """The full preset's longest point, n = 128, m = 2048 (n m = 2^18), depths 4..32 (sum 60),
    5 seeds, T(128) / 0.01 iterations: per iteration 60 (c0 + c1 2^18) for the trainings and
    7 x 32 (c0 + c1 2^18 / 5) for the tracking, quoted in hours to three digits."""
    c0, c1 = COST["c0"], COST["c1"]
    iterations = round(horizon(128) / 0.01)
    alone = 60 * (c0 + c1 * 2**18) * iterations / 3600
    tracked = alone + 224 * (c0 + c1 * 2**18 / 5) * iterations / 3600
    lines = {line.split(":")[0]: line for line in estimate_lines()}
    assert f"longest point {tracked:.3g} h;" in lines["- full, with the flow tracking"]
    assert f"longest point {alone:.3g} h;" in lines["- full, training alone"]
    assert "45 points" in lines["- full, training alone"]
