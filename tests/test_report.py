"""``resnet-ode report`` at the tests' scale ("tiny"): contract, atomicity, locking, resume.

One report is generated once per module (in-process); the kill-and-resume test runs a second,
interrupted and resumed, in fresh processes, and checks that its numbers equal the first run's
(determinism across processes, and resume without drift).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from reports import cli
from reports.build import RunSpec, build_report
from reports.io import out_lock
from reports.resume import Progress, fingerprint
from reports.schema import RESULTS
from theory.catalog import CheckResult, catalog
from theory.config import Config, load_config

ROOT = Path(__file__).resolve().parent.parent
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("report")
    return out, build_report(RunSpec(out, scale="tiny"))


def _numbers(results: dict[str, Any]) -> list[Any]:
    """Everything a check measured or decided, and the sections' conclusions."""
    return [results["checks"], [s["conclusion"] for s in results["sections"]]]


def test_results_json_is_valid_and_complete(report: tuple[Path, dict[str, Any]]) -> None:
    out, results = report
    on_disk = json.loads((out / "results.json").read_text())
    jsonschema.validate(on_disk, RESULTS)
    assert on_disk == results
    assert {c["id"] for c in on_disk["checks"]} == set(catalog)
    for check in on_disk["checks"]:
        assert (check["holds"] is None) == (not check["applicable"]
                                            or check["verdict"] == "inconclusive")
        if not check["applicable"]:  # never a silent pass: the failed assumption is named
            assert check["failed_assumptions"]
    assert {s["key"] for s in on_disk["sections"]} >= {f"S{j}" for j in range(1, 14)}
    for section in on_disk["sections"]:
        assert section["usage"]["wall_s"] >= 0 and section["usage"]["peak_rss_mb"] > 0
    assert {"lemma21.chernoff", "lemma20.breakdown", "thm4.backward_adjoint", "appE.stride",
            "prop7.pi_lipschitz", "prop5.eta_sign",
            "thm6.label_threshold"} <= {f["id"] for f in on_disk["findings"]}
    assert all(f["command"] for f in on_disk["findings"])


def test_markdown_has_every_section_and_its_images(report: tuple[Path, dict[str, Any]]) -> None:
    out, results = report
    text = (out / "report.md").read_text()
    for j in range(1, 14):
        assert re.search(rf"^## S{j}\. ", text, re.MULTILINE), f"section S{j} missing"
    for sid in catalog:
        assert f"`{sid}`" in text
    assert "## Verdict summary" in text and "## Provenance" in text and "## Findings" in text
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(images) >= 10
    for name in images:
        data = (out / name).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 5000, name
    assert {s["figure"] for s in results["sections"] if s["figure"]} == set(images)


def test_row_configurations_reproduce_the_check(report: tuple[Path, dict[str, Any]],
                                                tmp_path: Path, monkeypatch: Any,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """Each row's configuration file loads back to its Config, and the command report.md prints
    for a row, run from a moved copy of the report folder, recomputes the row's numbers bit for
    bit (the same thread policy in ``report`` and ``check``), for a training of model (3) and for
    the real-data experiment."""
    import shlex
    import shutil

    out, results = report
    for check in results["checks"]:
        assert load_config(out / check["config_file"]) == Config.from_mapping(check["config"])
    moved = tmp_path / "moved"
    shutil.copytree(out, moved)
    monkeypatch.chdir(moved)
    text = (moved / "report.md").read_text()
    for sid in ("prop1.wellposed", "table1.realdata"):
        row = next(c for c in results["checks"] if c["id"] == sid)
        command = f"resnet-ode check {row['id']} --config {row['config_file']}"
        assert f"`{command}`" in text
        code = cli.main([*shlex.split(command)[1:], "--json"])
        again = json.loads(capsys.readouterr().out)
        assert code == 0
        assert (again["bound"], again["measured"], again["verdict"]) == (
            row["bound"], row["measured"], row["verdict"]), sid
        assert again["extra"]["values"] == row["extra"]["values"], sid


def test_locked_output_folder_is_refused(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    with out_lock(tmp_path):
        code = cli.main(["report", "--scale", "tiny", "--out", str(tmp_path)])
    assert code == 2
    assert "another resnet-ode run" in capsys.readouterr().err
    assert not (tmp_path / "report.md").exists()


@pytest.mark.parametrize(("argv", "field"), [
    (["--only", "prop3.nope"], "statement"),
    (["--only", ","], "only"),
    (["--data-dir", "/nonexistent/cifar"], "data_dir"),
])
def test_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
                           field: str) -> None:
    code = cli.main(["report", "--scale", "tiny", "--out", str(tmp_path), *argv])
    assert code == 2
    assert field in capsys.readouterr().err


def test_bad_input_exits_2_before_a_cluster_starts(tmp_path: Path, monkeypatch: Any,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from reports import cluster

    def no_cluster(*args: Any) -> None:
        raise AssertionError("a cluster was started for bad input")

    monkeypatch.setattr(cluster, "connect", no_cluster)
    code = cli.main(["report", "--scale", "tiny", "--out", str(tmp_path), "--workers", "2",
                     "--only", "prop3.nope"])
    assert code == 2
    assert "statement='prop3.nope'" in capsys.readouterr().err


def _copy_progress(src: Path, dst: Path) -> None:
    shutil.copytree(src / ".progress", dst / ".progress")


def test_failure_midway_leaves_no_partial_report(report: tuple[Path, dict[str, Any]],
                                                 tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure while the outputs are written (here: the 3rd figure) leaves the previous
    report.md and results.json byte for byte, and no temporary file behind."""
    out, _ = report
    _copy_progress(out, tmp_path)  # every section resumes: the run goes straight to writing
    for name in ("report.md", "results.json"):
        shutil.copy(out / name, tmp_path / name)
    before = {name: (tmp_path / name).read_bytes() for name in ("report.md", "results.json")}
    from reports import figures

    calls = {"n": 0}
    original = figures.save

    def failing_save(fig: Any, path: Path) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("simulated failure")
        original(fig, path)

    monkeypatch.setattr(figures, "save", failing_save)
    with pytest.raises(RuntimeError, match="simulated"):
        build_report(RunSpec(tmp_path, scale="tiny"))
    assert {name: (tmp_path / name).read_bytes() for name in before} == before
    assert not list(tmp_path.rglob("*.tmp"))


def test_failure_inside_the_final_rename_leaves_no_file(report: tuple[Path, dict[str, Any]],
                                                        tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    out, _ = report
    _copy_progress(out, tmp_path)
    from reports import io

    replace = os.replace

    def failing_replace(src: str, dst: Any) -> None:
        if Path(dst).name == "report.md":
            raise OSError("simulated disk failure")
        replace(src, dst)

    monkeypatch.setattr(io.os, "replace", failing_replace)
    with pytest.raises(OSError, match="simulated"):
        build_report(RunSpec(tmp_path, scale="tiny"))
    assert not (tmp_path / "report.md").exists()
    assert not list(tmp_path.rglob("*.tmp"))


def test_violated_check_gives_exit_1_and_a_finding(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import numerics.checks

    def violated(statement_id: str, config: Config) -> CheckResult:
        st = catalog[statement_id]
        return CheckResult(st.id, st.paper_ref, st.claim, config.to_dict(), True, [], 1.0, 2.0,
                           False, slack_log10=-0.301, verdict="violated",
                           verdict_rule="measured 2 > bound")

    monkeypatch.setattr(numerics.checks, "run_check", violated)
    code = cli.main(["report", "--scale", "tiny", "--only", "lemma18.linalg", "--out",
                     str(tmp_path)])
    assert code == 1
    results = json.loads((tmp_path / "results.json").read_text())
    assert {c["id"] for c in results["checks"]} == {"lemma18.linalg"}
    violation = [f for f in results["findings"] if f["id"].startswith("violation.")]
    assert len(violation) == len(results["checks"])
    assert violation[0]["command"] == ("resnet-ode check lemma18.linalg --config "
                                       "configs/S7-lemma18.linalg-1.json")
    assert "**VIOLATED**" in (tmp_path / "report.md").read_text()


def test_progress_is_keyed_by_settings(tmp_path: Path) -> None:
    a = fingerprint({"key": "S1", "seed": 0})
    assert a == fingerprint({"seed": 0, "key": "S1"})
    assert a != fingerprint({"key": "S1", "seed": 1})
    progress = Progress(tmp_path)
    progress.save("S1", a, {"key": "S1", "checks": []})
    assert progress.load("S1", a) == {"key": "S1", "checks": [], "fingerprint": a}
    assert progress.load("S1", fingerprint({"key": "S1", "seed": 1})) is None
    (tmp_path / ".progress" / f"S1-{a}.json").write_text("{not json")
    assert progress.load("S1", a) is None


_INTERRUPTED = """
import sys, time
import reports.resume as progress

save = progress.Progress.save

def save_then_hang(self, key, fp, section):
    save(self, key, fp, section)
    print("SAVED", key, flush=True)
    time.sleep(600)

progress.Progress.save = save_then_hang
from reports.cli import main
sys.exit(main(["report", "--scale", "tiny", "--out", sys.argv[1]]))
"""


def test_killed_run_resumes_to_the_same_numbers(report: tuple[Path, dict[str, Any]],
                                                tmp_path: Path) -> None:
    """SIGKILL after the first section is saved; the rerun (another process) skips it and ends
    with the numbers of the uninterrupted in-process run."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen([sys.executable, "-c", _INTERRUPTED, str(tmp_path)],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
                          cwd=ROOT) as proc:
        try:
            assert proc.stdout is not None
            first = proc.stdout.readline().split()
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    assert first == ["SAVED", "S1"]
    assert not (tmp_path / "report.md").exists()
    assert [p.name.split("-")[0] for p in (tmp_path / ".progress").glob("*.json")] == ["S1"]
    rerun = subprocess.run([sys.executable, "-m", "reports", "report", "--scale", "tiny",
                            "--out", str(tmp_path)], env=env, cwd=ROOT, capture_output=True,
                           text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    resumed = {s["key"]: s["resumed"] for s in results["sections"]}
    assert resumed.pop("S1") is True and not any(resumed.values())
    _, uninterrupted = report
    assert _numbers(results) == _numbers(uninterrupted)


def test_report_files_follow_the_umask(tmp_path: Path) -> None:
    """Files written atomically are readable with the user's umask (mkstemp alone gives 0600)."""
    import stat

    from reports.io import atomic_write_text

    atomic_write_text(tmp_path / "a.md", "x")
    mask = os.umask(0o022)
    os.umask(mask)
    assert stat.S_IMODE((tmp_path / "a.md").stat().st_mode) == 0o666 & ~mask


def test_code_version_covers_the_native_source(tmp_path: Path, monkeypatch: Any) -> None:
    """Editing numerics/model3_sweep.c changes the progress fingerprint's code version."""
    from reports import resume as progress

    root = tmp_path / "root"
    for package in ("theory", "numerics", "reports"):
        shutil.copytree(progress._ROOT / package, root / package)
    monkeypatch.setattr(progress, "_ROOT", root)
    progress.code_version.cache_clear()
    before = progress.code_version()
    c_file = root / "numerics" / "model3_sweep.c"
    c_file.write_text(c_file.read_text() + "\n/* edited */\n")
    progress.code_version.cache_clear()
    assert progress.code_version() != before
    progress.code_version.cache_clear()


def test_a_folder_never_mixes_two_reports(report: tuple[Path, dict[str, Any]], tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """--only into a folder holding a report, or another scale, is refused before any work
    (exit 2, one line); with --force the subset replaces it and the old figures and row
    configurations are gone."""
    import shutil

    out, _ = report
    folder = tmp_path / "r"
    shutil.copytree(out, folder)
    before = (folder / "results.json").read_bytes()
    for argv in (["--only", "lemma18.linalg"], ["--scale", "quick"]):
        scale = [] if "--scale" in argv else ["--scale", "tiny"]
        code = cli.main(["report", *scale, *argv, "--out", str(folder)])
        err = capsys.readouterr().err
        assert code == 2 and len(err.strip().splitlines()) == 1 and "--force" in err, argv
        assert (folder / "results.json").read_bytes() == before
    code = cli.main(["report", "--scale", "tiny", "--only", "lemma18.linalg", "--force",
                     "--out", str(folder)])
    assert code in (0, 1)
    results = json.loads((folder / "results.json").read_text())
    configs = {p.relative_to(folder).as_posix() for p in (folder / "configs").iterdir()}
    assert configs == {c["config_file"] for c in results["checks"]}
    assert {p.name for p in folder.glob("*.png")} == {
        s["figure"] for s in results["sections"] if s["figure"]}
