"""Every command the report prints for a finding runs where the report says it does: from the
report's folder (here an empty temporary folder standing in for it, outside the repository, so
that ``tests/`` is not importable), exit status 0, with output.  And the findings' kinds and
their order (``reports.findings``)."""

from __future__ import annotations

import dataclasses
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from reports import findings as F
from reports.defaults import rows
from reports.records import CheckRow
from theory.catalog import CheckResult
from theory.config import load_config

BIN = Path(sys.executable).parent


def _violation(check_id: str, config_file: str) -> dict[str, str]:
    """A measured violation as ``reports.build`` writes it."""
    return {"id": f"violation.{check_id}.x", "text": f"{check_id} is violated",
            "command": f"resnet-ode check {check_id} --config {config_file}"}


def _relu_row(config_file: str, ratios: tuple[float, ...] = (0.39, 0.41, 0.44)) -> CheckRow:
    """A ``table1.realdata`` check for ReLU on digits (quick row; n/a: sigma is not C^2), with
    powered runs."""
    config = next(r.config for r in rows("table1.realdata", "quick")
                  if r.config.activation == "relu")
    runs = [{"seed": j, "ratio": ratio, "ref_test_acc": 0.97, "tied_test_acc": 0.97,
             "iid_test_acc": 0.97, "tied_test_acc_no_branches": 0.87,
             "iid_test_acc_no_branches": 0.87} for j, ratio in enumerate(ratios)]
    check = CheckResult("table1.realdata", "", "", config.to_dict(), False, ["sigma C^2"], None,
                        0.407, None, extra={"series": {"runs": runs}}, verdict="n/a",
                        verdict_rule="assumption fails")
    return CheckRow(check, "relu", "S13", config_file)


@pytest.fixture(scope="module")
def report_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stand-in report folder: the configuration files the findings' commands name, written
    as ``reports.build`` writes them (``configs/<section>-<id>-<j>.json``)."""
    folder = tmp_path_factory.mktemp("report")
    (folder / "configs").mkdir()
    lemma18 = rows("lemma18.linalg", "quick")[0].config
    (folder / "configs/S7-lemma18.linalg-1.json").write_text(json.dumps(lemma18.to_dict()))
    relu = _relu_row("configs/S13-table1.realdata-3.json")
    (folder / relu.config_file).write_text(json.dumps(relu.check.config))
    return folder


FOUND = F.collect({}, [_violation("lemma18.linalg", "configs/S7-lemma18.linalg-1.json")],
                  [_relu_row("configs/S13-table1.realdata-3.json")])
SLOW = {"table1.relu_digits"}  # trains 2 x 3 convolutional ResNets (~45 s): its kind runs below


def _run(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``command`` as a user types it, with this interpreter's ``python`` and ``resnet-ode``
    first on the PATH, in ``cwd``."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("PYTHONPATH", None)
    argv = shlex.split(command)
    assert argv[0] in ("python", "resnet-ode"), command
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
                          check=False)


@pytest.mark.parametrize("finding", [f for f in FOUND if f["id"] not in SLOW],
                         ids=lambda f: f["id"])
def test_finding_command_runs_from_the_report_folder(finding: dict[str, Any],
                                                     report_folder: Path) -> None:
    done = _run(finding["command"], report_folder)
    assert done.returncode == 0, (finding["command"], done.stderr[-2000:])
    assert done.stdout.strip(), finding["command"]


def test_the_slow_finding_command_is_a_check_command_whose_file_is_there(
        report_folder: Path) -> None:
    """Table 1's ReLU finding prints a ``resnet-ode check ID --config FILE`` command, the kind
    the violation run above executes; its file is the report's row configuration."""
    relu = next(f for f in FOUND if f["id"] == "table1.relu_digits")
    argv = shlex.split(relu["command"])
    assert argv[:3] == ["resnet-ode", "check", "table1.realdata"] and argv[3] == "--config"
    config = load_config(report_folder / argv[4])
    assert config.activation == "relu" and config.data != "cifar"
    assert any(f["command"].startswith("resnet-ode check ") and f["id"].startswith("violation.")
               for f in FOUND)


def test_every_finding_has_a_kind_and_the_list_is_ordered() -> None:
    kinds = [f["kind"] for f in FOUND]
    assert set(kinds) <= set(F.KINDS)
    assert kinds == sorted(kinds, key=F.KINDS.index)
    assert kinds[0] == "error"
    by_id = {f["id"]: f for f in FOUND}
    assert by_id["table1.relu_digits"]["kind"] == "beyond"
    assert "L = 256" in by_id["table1.relu_digits"]["text"]
    assert by_id["violation.lemma18.linalg.x"]["kind"] == "violation"
    assert {by_id[i]["kind"] for i in ("lemma21.chernoff", "thm4.backward_adjoint")} == {"error"}
    assert "prop8.gronwall_gap" not in by_id  # withdrawn: p20 multiplies the initial gap too
    for f in FOUND:
        assert f["command"] and not f["command"].startswith("python -m pytest"), f["id"]


def test_kind_of_violation_and_ordered() -> None:
    def row(scope: str) -> CheckRow:
        check = CheckResult("thm6.smooth_L", "", "", {}, False, ["m >= c1*n"], None, None, None,
                            verdict="n/a", verdict_rule="assumption fails", scope=scope)
        return CheckRow(check, "m = 1", "S6", "configs/x.json")

    assert F.kind_of_violation(row("paper")) == "violation"
    assert F.kind_of_violation(row("beyond")) == "beyond"
    items = [{"id": "a", "kind": "agreement"}, {"id": "b"}, {"id": "c", "kind": "beyond"},
             {"id": "d", "kind": "error"}, {"id": "e", "kind": "violation"},
             {"id": "f", "kind": "error"}]
    assert [f["id"] for f in F.ordered(items)] == ["d", "f", "e", "a", "c", "b"]


def test_relu_finding_needs_the_row_and_power() -> None:
    assert F.table1_relu_finding([]) is None
    assert F.collect({}, []) == F.collect({}, [], None)
    assert "table1.relu_digits" not in {f["id"] for f in F.collect({}, [])}
    weak = _relu_row("configs/x.json", ratios=(0.4, 0.41))  # 2 seeds: underpowered
    assert F.table1_relu_finding([weak]) is None
    relu = _relu_row("configs/x.json")
    cifar = dataclasses.replace(relu, check=dataclasses.replace(
        relu.check, config={**relu.check.config, "data": "cifar"}))
    assert F.table1_relu_finding([cifar]) is None
