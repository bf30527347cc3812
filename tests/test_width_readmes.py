"""The width data READMEs' blocks (reports/sweep/width_readmes.py): each is the rendering of the
committed records, and the rendered numbers are those computed here another way: from the raw
sweep result files, with the tracking rule's thresholds in closed form, with scipy's Student t
and a least-squares line written out."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from reports.readme import blocks_in, replace_blocks
from reports.sections import width
from reports.sweep import width_readmes
from reports.sweep.width import COST


def test_every_data_readme_block_is_its_rendering() -> None:
    assert width_readmes.stale() == [], "run python -m reports.sweep.width_readmes"
    assert set(width_readmes.BLOCKS) == {*width_readmes.STEPS, width_readmes.FULL}


def _row(block: str, m: int) -> list[str]:
    line = next(x for x in block.splitlines() if x.startswith(f"| {m} |"))
    return [c.strip() for c in line.strip("|").split("|")]


def test_the_rows_count_what_the_raw_result_files_say() -> None:
    """n = 64 at eta / 4: per width the interpolating and tracking seeds and the sorted
    step-halving ratios, read from `out/results/*.json` (not width-factors.json)."""
    folder = width_readmes.DATA / "width-flow-64" / "out" / "results"
    raw = [json.loads(p.read_text())["record"] for p in sorted(folder.glob("*.json"))]
    block = width_readmes.steps(width_readmes.committed(), "n=64, eta=0.0025")
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
    text = width_readmes.steps(width_readmes.committed(), "n=64, eta=0.0025")
    assert re.search(r"inside the damping edge \(max_t eta lambda_max < 1\.28\) at 9 of 15 "
                     r"seeds measured, gradient descent tracks the flow at 3 of 15", text)
    assert "not first order (ratio outside [1.41, 2.83]) at 9 of 15, 6 of them" in text


def test_a_group_not_landed_says_so_and_blocks_are_rewritten(tmp_path: Path) -> None:
    text = width_readmes.steps(width_readmes.committed(), "n=4096, eta=0.0025")
    assert "has no group \"n=4096, eta=0.0025\" yet" in text
    readme = tmp_path / "README.md"
    readme.write_text("top\n\n<!-- steps -->\n<!-- /steps -->\n\nbottom\n")
    replace_blocks(readme, {"steps": "a\nb"})
    replace_blocks(readme, {"steps": "c"})
    assert readme.read_text() == "top\n\n<!-- steps -->\nc\n<!-- /steps -->\n\nbottom\n"
    assert blocks_in(readme.read_text()) == {"steps": "c"}


def test_the_tracking_block_applies_the_rule_to_the_raw_measurements() -> None:
    """Tracks iff max_t eta lambda_max < 1 + W(1/e) and sqrt 2 <= ratio <= 2 sqrt 2, recomputed
    from each entry's measured numbers (not its stored verdict)."""
    stored = json.loads(width.TRACKING_FILE.read_text())
    edge = 1.0 + 0.2784645427610738
    block = width_readmes.tracking(width_readmes.committed())
    for n, T in {(e["n"], e["T"]) for e in stored["entries"]}:
        es = sorted((e for e in stored["entries"] if (e["n"], e["T"]) == (n, T)),
                    key=lambda e: e["m"])
        good = [e["m"] for e in es if e["tracking"]["max_eta_lambda_max"] < edge
                and math.sqrt(2) <= e["tracking"]["ratio"] <= 2 * math.sqrt(2)]
        bad = [e["m"] for e in es if e["m"] not in good]
        line = next(x for x in block.splitlines() if x.startswith(f"- n = {n}, eta = 0.01, "
                                                                  f"T = {T:g}:"))
        assert ("tracks at m = " + ", ".join(map(str, good)) in line) == bool(good)
        assert ("does not track at m = " + ", ".join(map(str, bad)) in line) == bool(bad)


def test_the_largest_n_block_against_scipy_and_a_line_written_out() -> None:
    from scipy import stats

    records = json.loads(width.DATA_FILE.read_text())["records"]
    n = max(r["n"] for r in records)
    block = width_readmes.largest_n(width_readmes.committed())
    means = {}
    for m in sorted({r["m"] for r in records if r["n"] == n}):
        g = np.array([r["gap_slope"] for r in records if (r["n"], r["m"]) == (n, m)])
        half = stats.t.ppf(0.975, len(g) - 1) * g.std(ddof=1) / math.sqrt(len(g))
        means[m] = g.mean()
        cells = _row(block, int(m))
        numbers = [float(x) for x in re.findall(r"-?[\d.]+(?:e[-+]\d+)?", cells[5])]
        assert numbers == pytest.approx([g.mean(), g.mean() - half, g.mean() + half], rel=5e-3)
    x = np.log2(sorted(means)[-3:])
    y = np.array([means[m] for m in sorted(means)[-3:]])
    b = ((x - x.mean()) * (y - y.mean())).sum() / ((x - x.mean()) ** 2).sum()
    crossing = 2.0 ** (x.mean() + (-0.8 - y.mean()) / b)
    assert f"changes by {b:.2g} per doubling" in block
    found = float(re.search(r"edge -0.8 near m = ([\d.e+]+)", block).group(1))
    assert found == pytest.approx(crossing, rel=0.05)
    # each unit's training wall over c0 + c1 n m k / 5 seconds per layer iteration, k seeds
    units: dict[tuple[float, float], list[dict]] = {}
    for r in records:
        if r["n"] == n:
            units.setdefault((r["m"], r["wall_s"]), []).append(r)
    ratios = [w / (sum(rs[0]["depths"]) * (COST["c0"] + COST["c1"] * n * m * len(rs) / 5)
                   * rs[0]["T"] / rs[0]["eta"]) for (m, w), rs in units.items()]
    said = re.search(r"walls at n = \d+ are ([\d.]+) times .*? \((\d+) units", block)
    assert float(said.group(1)) == pytest.approx(np.median(ratios), rel=0.01)  # 2 digits
    assert int(said.group(2)) == len(ratios)


def test_the_rounding_block_pairs_the_committed_records_with_their_reruns() -> None:
    records = {(r["n"], r["m"], r["seed"]): r
               for r in json.loads(width.DATA_FILE.read_text())["records"]}
    stored = json.loads(width.ROUNDING_FILE.read_text())
    block = width_readmes.rounding(width_readmes.committed())
    drawn = [e for e in stored["entries"] if not e["perturbed"] and e["eta"] == 0.01]
    assert drawn
    for e in drawn:
        r = records[e["n"], e["m"], e["seed"]]
        part = block.split(f"n = {e['n']}, m = {e['m']}, seed {e['seed']}: ")[1]
        numbers = [float(v) for v in re.findall(r"-?\d+\.?\d*(?:e[-+]\d+)?",
                                                part.split(";")[0])]
        assert numbers == pytest.approx([r["gap_slope"], e["gap_slope"], r["limit_slope"],
                                         e["limit_slope"]], rel=5e-3, abs=1e-4)
