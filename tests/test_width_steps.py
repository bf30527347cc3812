"""The data READMEs' step comparisons (reports/sweep/width_steps.py): each README's block is the
rendering of the committed records, the rendering's counts are those of the raw sweep result
files, and the damping-edge and first-order counts follow the thresholds of numerics.tracking."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from reports.readme import blocks_in, replace_blocks
from reports.sections import width
from reports.sweep import width_steps


def test_every_data_readme_block_is_its_rendering() -> None:
    assert width_steps.stale() == [], "run python -m reports.sweep.width_steps"


def _row(block: str, m: int) -> list[str]:
    line = next(x for x in block.splitlines() if x.startswith(f"| {m} |"))
    return [c.strip() for c in line.strip("|").split("|")]


def test_the_rows_count_what_the_raw_result_files_say() -> None:
    """n = 64 at eta / 4: per width the interpolating and tracking seeds and the sorted
    step-halving ratios, read from `out/results/*.json` (not width-factors.json)."""
    folder = width_steps.DATA / "width-flow-64" / "out" / "results"
    raw = [json.loads(p.read_text())["record"] for p in sorted(folder.glob("*.json"))]
    block = width_steps.render("n=64, eta=0.0025")
    for m in (2, 4, 8):
        rs = [r for r in raw if r["m"] == m]
        assert len(rs) == 5
        row = _row(block, m)
        assert row[1].endswith(f"/ {sum(r['interpolated'] == 1.0 for r in rs)} of 5")
        assert row[6].endswith(f"/ {sum(r['tracks'] == 1.0 for r in rs)} of 5")
        ratios = [float(x) for x in row[8].split(", ")]
        assert ratios == pytest.approx(sorted(r["track_ratio"] for r in rs), rel=5e-3)
        walls = (max(r["wall_s"] for r in rs), max(r["track_wall_s"] for r in rs))
        assert row[9] == f"{walls[0]:.0f} / {walls[1]:.0f}"  # one unit per point


def test_the_damping_edge_and_first_order_counts(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Seeds placed either side of max_t eta lambda_max = 1 + W(1/e) and of the ratio band
    [sqrt 2, 2 sqrt 2]: the sentence counts them as placed."""
    stored = json.loads(width.FACTORS_FILE.read_text())
    group = stored["groups"]["n=64, eta=0.0025"]
    edge, lo, hi = 1.0 + 0.2784645427610738, math.sqrt(2.0), 2.0 * math.sqrt(2.0)
    placed = [(edge - 1e-3, 2.0), (edge + 1e-3, 2.0), (0.5, lo - 1e-3), (0.5, hi + 1e-3),
              (edge + 0.5, 5.0)]  # inside: 3; off the band: 3, 2 of them inside
    for i, r in enumerate(group["records"]):
        eta_lambda, ratio = placed[i % 5]
        r |= {"track_eta_lambda_max": eta_lambda, "track_ratio": ratio,
              "tracks": float(eta_lambda < edge and lo <= ratio <= hi)}
    fake = tmp_path / "width-factors.json"
    fake.write_text(json.dumps(stored))
    monkeypatch.setattr(width, "FACTORS_FILE", fake)
    text = width_steps.render("n=64, eta=0.0025")
    assert re.search(r"inside the damping edge \(max_t eta lambda_max < 1\.28\) at 9 of 15 "
                     r"seeds measured, gradient descent tracks the flow at 3 of 15", text)
    assert "not first order (ratio outside [1.41, 2.83]) at 9 of 15, 6 of them" in text


def test_a_group_not_landed_says_so_and_blocks_are_rewritten(tmp_path: Path) -> None:
    text = width_steps.render("n=4096, eta=0.0025")
    assert text.startswith("No point has landed yet")
    readme = tmp_path / "README.md"
    readme.write_text("top\n\n<!-- steps -->\n<!-- /steps -->\n\nbottom\n")
    replace_blocks(readme, {"steps": "a\nb"})
    replace_blocks(readme, {"steps": "c"})
    assert readme.read_text() == "top\n\n<!-- steps -->\nc\n<!-- /steps -->\n\nbottom\n"
    assert blocks_in(readme.read_text()) == {"steps": "c"}
