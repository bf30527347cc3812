"""benchmarks.compare_results on synthetic pairs of results.json (the CPU side of gpu_check.sh)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from benchmarks.compare_results import main


def _row(id_: str, label: str, measured: float | None, bound: float | None, *,
         dtype: str = "float64", holds: bool | None = True, **more: object) -> dict[str, object]:
    applicable = holds is not None
    return {"id": id_, "label": label, "paper_ref": "p", "claim": "c",
            "config": {"dtype": dtype}, "applicable": applicable,
            "failed_assumptions": [] if applicable else ["m >= c1*n"], "bound": bound,
            "measured": measured, "holds": holds, "slack_log10": None, "rate_slope": None,
            "notes": "", **more}


RESULTS = {"schema": 1, "environment": {"device": "cpu", "seed": 0}, "findings": [], "checks": [
    _row("thm4.limit", "gap", 9.57e-4, 1.2e-3, slack_log10=0.0983, rate_slope=-1.004),
    _row("thm4.limit", "gap", 4.1e-4, 1.2e-3),  # a second row with the same id and label
    _row("prop5.pl", "PL", None, None, holds=None),
    _row("prop2.euler", "C/L", 3.0e-17, 1e-3, slack_log10=13.5),  # rounding level
    _row("appD.relu", "w*", 0.5, 1.0, dtype="float32"),
]}


def _run(tmp_path: Path, second: dict[str, object], *args: str) -> int:
    a, b = tmp_path / "cpu.json", tmp_path / "cuda.json"
    a.write_text(json.dumps(RESULTS))
    b.write_text(json.dumps(second))
    return main([str(a), str(b), *args])


def _changed(index: int, **fields: object) -> dict[str, object]:
    other = copy.deepcopy(RESULTS)
    other["checks"][index].update(fields)  # type: ignore[index]
    return other


def test_identical_and_within_tolerance_agree(tmp_path: Path, capsys) -> None:
    assert _run(tmp_path, RESULTS) == 0
    near = _changed(0, measured=9.57e-4 * (1 + 1e-8), slack_log10=0.0983 + 1e-9)
    near["checks"][3]["measured"] = 9.0e-17  # type: ignore[index]
    near["checks"][3]["slack_log10"] = 13.0  # type: ignore[index]  # log of rounding noise
    near["checks"][4]["measured"] = 0.5 * (1 + 1e-4)  # type: ignore[index]  # float32 row
    assert _run(tmp_path, near) == 0
    out = capsys.readouterr().out
    assert "5 checks compared: verdicts equal" in out
    # the float32 row's 1e-4 (the rounding-level row, below atol, is not a relative difference)
    assert "largest relative difference 1.0e-04 (measured of appD.relu [w*])" in out


@pytest.mark.parametrize("index,fields,message", [
    (0, {"holds": False}, "holds: True != False"),
    (1, {"measured": 4.1e-4 * (1 + 1e-5)}, "measured"),  # float64 row: 1e-5 > 1e-6
    (4, {"measured": 0.5 * (1 + 1e-2)}, "measured"),  # float32 row: 1e-2 > 1e-3
    (0, {"rate_slope": -0.9}, "rate_slope"),
    (0, {"slack_log10": 0.2}, "slack_log10"),
    (2, {"failed_assumptions": ["L >= c2*sqrt(n*q)"]}, "failed_assumptions"),
    (1, {"bound": None}, "bound"),
])
def test_a_difference_is_named(tmp_path: Path, capsys, index: int, fields: dict[str, object],
                               message: str) -> None:
    assert _run(tmp_path, _changed(index, **fields)) == 1
    out = capsys.readouterr().out
    name = RESULTS["checks"][index]  # type: ignore[index]
    line = next(x for x in out.splitlines() if message in x)
    assert line.startswith(f"{name['id']} [{name['label']}]")


def test_schema_2_compares_the_verdict_when_both_have_it(tmp_path: Path, capsys) -> None:
    two = copy.deepcopy(RESULTS)
    for row in two["checks"]:  # type: ignore[union-attr]
        row["verdict"] = "holds"
    (tmp_path / "a.json").write_text(json.dumps(two))
    vacuous = copy.deepcopy(two)
    vacuous["checks"][0]["verdict"] = "vacuous"  # type: ignore[index]  # holds unchanged
    (tmp_path / "b.json").write_text(json.dumps(vacuous))
    assert main([str(tmp_path / "a.json"), str(tmp_path / "b.json")]) == 1
    assert "verdict: 'holds' != 'vacuous'" in capsys.readouterr().out
    assert main([str(tmp_path / "a.json"), str(tmp_path / "a.json")]) == 0
    # one file of schema 1, one of schema 2: holds is what both have
    (tmp_path / "one.json").write_text(json.dumps(RESULTS))
    assert main([str(tmp_path / "one.json"), str(tmp_path / "b.json")]) == 0


def test_missing_checks_and_bad_files(tmp_path: Path, capsys) -> None:
    fewer = copy.deepcopy(RESULTS)
    fewer["checks"].pop(1)  # type: ignore[union-attr]
    assert _run(tmp_path, fewer) == 1
    assert "only in" in capsys.readouterr().out
    (tmp_path / "bad.json").write_text("{not json")
    assert main([str(tmp_path / "bad.json"), str(tmp_path / "bad.json")]) == 2
    assert main([str(tmp_path / "none.json"), str(tmp_path / "bad.json")]) == 2
    other_seed = copy.deepcopy(RESULTS)
    other_seed["environment"]["seed"] = 1  # type: ignore[index]
    assert _run(tmp_path, other_seed) == 2
    assert "compare_results:" in capsys.readouterr().err
