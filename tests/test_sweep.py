"""``resnet-ode sweep``: a Dask LocalCluster of two workers against in-process runs.

One two-worker ``LocalCluster`` (worker processes, as on a cluster) serves the module.  The tasks
are real batched trainings of tiny configurations (:func:`tiny`), so "bitwise the same" compares
floats computed in other processes; :func:`tiny_reference` recomputes them seed by seed, without
the engine, as the independent value.
"""

from __future__ import annotations

import dataclasses
import importlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reports import cli
from reports.sweep import engine, spec
from theory.config import Config
from theory.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
TASK = "tests.test_sweep:tiny"
BASE = {"n": 6, "d": 2, "d_out": 2, "q": 2, "L": 4, "T": 0.2, "eta": 0.05,
        "activation": "tanh", "seeds": [0, 1, 2]}
FAILING_M = 5  # :func:`tiny` raises for this width: a configuration that fails
HANG_ENV = "RESNET_ODE_TEST_SWEEP_HANG"  # a file: :func:`tiny` hangs once, after writing its pid
DELAY_ENV = "RESNET_ODE_TEST_SWEEP_DELAY"  # seconds :func:`tiny` sleeps per call


def tiny(config: Config) -> list[dict[str, float]]:
    """One batched training of every seed: final loss and max_{k,t} ||Z_{k+1} - Z_k|| per seed."""
    from numerics.flow import run_config

    if config.m == FAILING_M:
        raise ValueError(f"m={config.m} fails on purpose")
    hang = os.environ.get(HANG_ENV)
    if hang and config.m == 4 and _first_to_claim(f"{hang}.claim"):
        Path(f"{hang}.tmp").write_text(str(os.getpid()))
        os.replace(f"{hang}.tmp", hang)
        time.sleep(120)  # until the test kills this worker
    time.sleep(float(os.environ.get(DELAY_ENV, "0")))
    result = run_config(config, seeds=config.seeds)
    return [{"loss": float(result.series["loss"][-1, j]), "gap": float(result.max_gap[j]),
             "m": config.m} for j in range(len(config.seeds))]


def _first_to_claim(path: str) -> bool:
    """True in exactly one of the workers that race for ``path`` (created exclusively): two
    m = 4 tasks starting at once must not both hang."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def tiny_reference(config: Config, seed: int) -> dict[str, float]:
    """:func:`tiny`'s record for one seed, trained alone, in this process."""
    (record,) = tiny(dataclasses.replace(config, seeds=(seed,)))
    return record


def _sweep_file(folder: Path, ms: list[int], task: str = TASK) -> Path:
    path = folder / "tiny.toml"
    base = "\n".join(f"{k} = {json.dumps(v)}" for k, v in BASE.items())
    path.write_text(f'task = "{task}"\n[base]\n{base}\n[axes]\nm = {ms}\nL = [2, 4]\n')
    return path


def _exit_status(argv: list[str]) -> int:
    """cli.main's status, argparse's exits included."""
    try:
        return cli.main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


def _table(out: Path) -> dict[str, Any]:
    return json.loads((out / "table.json").read_text())


@pytest.fixture(scope="module")
def hang(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The file that makes :func:`tiny` hang once (set before the workers start: they inherit
    the environment)."""
    path = tmp_path_factory.mktemp("hang") / "pid"
    os.environ[HANG_ENV] = str(path)
    yield path
    del os.environ[HANG_ENV]


@pytest.fixture(scope="module")
def dask(hang: Path) -> Iterator[engine.Executor]:
    """The CLI's embedded cluster, with two worker processes."""
    with engine.executor(workers=2) as on:
        on.client.run(importlib.import_module, "numerics.flow")  # the workers import torch
        yield on


def test_two_workers_equal_in_process_bitwise_and_report_failures(dask: engine.Executor,
                                                                 tmp_path: Path) -> None:
    sweep = spec.load_sweep(_sweep_file(tmp_path, [2, 3, FAILING_M]))
    dask_out = engine.run_sweep(sweep, tmp_path / "dask", dask, figures=False)
    log = io.StringIO()  # not a terminal: one plain progress line per finished task
    here_out = engine.run_sweep(sweep, tmp_path / "here", stream=log)
    progress = [line for line in log.getvalue().splitlines() if "remaining" in line]
    assert len(progress) == 6 and progress[-1].endswith("12 done, 6 failed, 0 remaining, ETA 0s")
    assert all(re.fullmatch(r"sweep: \d+ done, \d+ failed, \d+ remaining, ETA \d+s", line)
               for line in progress)
    pngs = sorted(p.name for p in (tmp_path / "here" / "figures").iterdir())
    assert pngs == ["gap.png", "loss.png"]
    assert all((tmp_path / "here" / "figures" / p).read_bytes().startswith(b"\x89PNG")
               for p in pngs)
    dask_table, here_table = _table(tmp_path / "dask"), _table(tmp_path / "here")
    strip = [{k: v for k, v in f.items() if k != "traceback"} for f in here_table["failures"]]
    assert dask_table["rows"] == here_table["rows"]  # the frames of a traceback differ
    assert [{k: v for k, v in f.items() if k != "traceback"} for f in dask_table["failures"]] \
        == strip
    assert len(dask_table["rows"]) == 2 * 2 * 3 and dask_out.computed == 12
    assert {f["m"] for f in dask_table["failures"]} == {FAILING_M}
    assert len(dask_table["failures"]) == 2 * 3
    assert all(f["error"] == "ValueError: m=5 fails on purpose" and "in tiny" in f["traceback"]
               for f in dask_table["failures"])
    for row in dask_table["rows"]:  # the independent value: each seed trained alone, here
        point = next(p for p in sweep.points if p.labels == {"m": row["m"], "L": row["L"]})
        assert {k: row[k] for k in ("loss", "gap")} == \
            {k: v for k, v in tiny_reference(point.config, row["seed"]).items() if k != "m"}
    # one training per configuration: the seeds of a point are one task
    assert len({r["key"] for r in dask_table["rows"]}) == 12
    assert here_out.records == dask_out.records
    # a repeated sweep recomputes nothing (only the failed configuration runs again)
    again = engine.run_sweep(sweep, tmp_path / "dask", dask, figures=False)
    assert again.computed == 0 and len(again.failures) == 6


def test_a_worker_killed_mid_sweep_loses_and_duplicates_nothing(
        dask: engine.Executor, hang: Path, tmp_path: Path) -> None:
    assert not hang.exists()
    sweep = spec.load_sweep(_sweep_file(tmp_path, [2, 4]))
    pids = set(dask.client.run(os.getpid).values())
    killed: list[int] = []

    def kill_the_hanging_worker() -> None:
        deadline = time.monotonic() + 60
        while not hang.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        killed.append(int(hang.read_text()))
        os.kill(killed[0], signal.SIGKILL)

    killer = threading.Thread(target=kill_the_hanging_worker)
    killer.start()
    outcome = engine.run_sweep(sweep, tmp_path / "out", dask, figures=False)
    killer.join()
    assert killed[0] in pids and killed[0] not in set(dask.client.run(os.getpid).values())
    table = _table(tmp_path / "out")
    assert table["failures"] == [] and outcome.computed == 12
    assert sorted((r["m"], r["L"], r["seed"]) for r in table["rows"]) == \
        sorted((m, L, s) for m in (2, 4) for L in (2, 4) for s in (0, 1, 2))
    assert len(list((tmp_path / "out" / "results").glob("*.json"))) == 12
    engine.run_sweep(sweep, tmp_path / "here", figures=False)
    assert _table(tmp_path / "here") == table


def test_a_killed_sweep_resumes_where_it_stopped(dask: engine.Executor, tmp_path: Path) -> None:
    """The CLI killed (SIGKILL) mid-sweep, then resumed on the cluster: the saved units are kept
    as they are, the others computed, and the table is that of an uninterrupted sweep."""
    path, out = _sweep_file(tmp_path, [2, 3, 6]), tmp_path / "out"
    env = {**os.environ, DELAY_ENV: "0.3"}
    proc = subprocess.Popen([sys.executable, "-m", "reports", "sweep", str(path), "--out",
                             str(out), "--in-process", "--no-figures"], cwd=ROOT, env=env,
                            start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    results = out / "results"
    deadline = time.monotonic() + 90
    while len(list(results.glob("*.json"))) < 3 and proc.poll() is None \
            and time.monotonic() < deadline:
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {p.name: p.read_bytes() for p in results.glob("*.json")}
    assert 3 <= len(before) < 18 and not (out / "table.json").exists()
    sweep = spec.load_sweep(path)
    resumed = engine.run_sweep(sweep, out, dask, figures=False)
    assert resumed.computed == 18 - len(before)
    assert all((results / name).read_bytes() == data for name, data in before.items())
    engine.run_sweep(sweep, tmp_path / "fresh", figures=False)
    assert _table(out) == _table(tmp_path / "fresh")


def test_a_sweep_file_is_the_product_of_its_axes_in_the_order_written(tmp_path: Path) -> None:
    sweep_json = {"task": TASK, "base": BASE,
                  "axes": {"m": [2, 3], "shape": [{"d": 1, "q": 2}, {"d": 2, "q": 3}]}}
    (tmp_path / "s.json").write_text(json.dumps(sweep_json))
    (tmp_path / "s.toml").write_text(f'task = "{TASK}"\n[base]\n' + "".join(
        f"{k} = {json.dumps(v)}\n" for k, v in BASE.items()) +
        '[axes]\nm = [2, 3]\nshape = [{d = 1, q = 2}, {d = 2, q = 3}]\n')
    expected = [{"m": 2, "d": 1, "q": 2}, {"m": 2, "d": 2, "q": 3},
                {"m": 3, "d": 1, "q": 2}, {"m": 3, "d": 2, "q": 3}]
    for name in ("s.json", "s.toml"):
        sweep = spec.load_sweep(tmp_path / name, {"T": 0.1})
        assert sweep.task == TASK and sweep.axes == ("m", "d", "q")
        assert [dict(p.labels) for p in sweep.points] == expected
        for point, labels in zip(sweep.points, expected, strict=True):
            assert point.config == Config(**{**BASE, "seeds": (0, 1, 2), "T": 0.1, **labels})


def test_the_phase_diagram_preset_is_the_reports_long_time_grid() -> None:
    from reports.sections.base import Context
    from reports.sections.pl import STUDY, study_base

    for scale, report_scale in (("quick", "quick"), ("full", "paper")):
        sweep, study = spec.preset("phase-diagram", scale), STUDY[report_scale]
        base = study_base(Context(report_scale))
        assert sweep.task == "numerics.longtime:phase_point"
        assert sweep.axes == ("n", "m_over_n", "m")
        assert [(p.labels["n"], p.labels["m_over_n"]) for p in sweep.points] == \
            [(n, r) for n in study.ns for r in study.ratios]
        for p in sweep.points:  # m = max(1, round(n m/n)), T = T_per_n n, the rest the base's
            m = max(1, round(p.labels["n"] * p.labels["m_over_n"]))
            assert p.labels["m"] == p.config.m == m
            assert p.config == dataclasses.replace(base, n=p.labels["n"], m=m,
                                                   T=study.T_per_n * p.labels["n"])
            assert (p.config.init, p.config.clip, p.config.data) == ("tied", "none", "sphere")
    full = spec.preset("phase-diagram", "full", {"T_per_n": 0.5, "eta": 0.1, "ratios": [1, 2]})
    assert len(full.points) == 2 * len(STUDY["paper"].ns)
    assert all(p.config.T == 0.5 * p.config.n and p.config.eta == 0.1 for p in full.points)
    with pytest.raises(ConfigError, match="set T=2: is set by the grid"):
        spec.preset("phase-diagram", "quick", {"T": 2})


def test_two_points_of_one_configuration_are_computed_once(tmp_path: Path) -> None:
    sweep = spec.load_sweep(_sweep_file(tmp_path, [2, 2]))  # m = 2 twice: two rows, one run
    outcome = engine.run_sweep(sweep, tmp_path / "out", figures=False, stream=io.StringIO())
    rows = _table(tmp_path / "out")["rows"]
    assert outcome.computed == 6 and len(rows) == 12
    assert len(list((tmp_path / "out" / "results").glob("*.json"))) == 6
    assert rows[:6] == rows[6:]  # (m, L) = (2, 2), (2, 4), then again


@pytest.mark.parametrize("extra, axes, named", [
    ([], "width = [2]", "axes.width"),
    ([], "m = [0]", "m=0: must be a positive integer (at the point {'m': 0"),
    ([], "shape = [{d = 1, z = 2}]", "axes.shape.z"),
    (["--set", "m=3"], "m = [2]", "set m=3: is an axis"),
    (["--set", "M=3"], "m = [2]", "set M=3: not a Config field"),
    (["--quick"], "m = [2]", "--quick/--full"),
    (["--task"], "m = [2]", "unrecognized arguments: --task"),
    (["--workers", "0"], "m = [2]", "--workers: 0 must be a positive integer"),
], ids=["unknown-axis", "bad-value", "unknown-zipped", "set-an-axis",
        "set-unknown", "quick-file", "unknown-option", "workers-0"])
def test_bad_input_is_one_line_and_exit_2_before_any_work(
        extra: list[str], axes: str, named: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(f'task = "{TASK}"\n[base]\nn = 6\nd = 2\nd_out = 2\nq = 2\n[axes]\n{axes}\n')
    out = tmp_path / "out"
    assert _exit_status(["sweep", str(path), "--out", str(out), *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and named in err and not out.exists()


@pytest.mark.parametrize("task, named", [
    ("nosuch.module:f", "task='nosuch.module:f': cannot import nosuch.module"),
    ("tests.test_sweep:nosuch", "has no function 'nosuch'"),
    ("tests.test_sweep", "must be 'module:function'"),
])
def test_a_bad_task_is_one_line_and_exit_2(task: str, named: str, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = _sweep_file(tmp_path, [2], task)
    assert _exit_status(["sweep", str(path), "--in-process", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and named in err and not (tmp_path / "o").exists()


def test_the_phase_diagram_through_the_cli_equals_phase_point_in_process(
        dask: engine.Executor, tmp_path: Path) -> None:
    """``sweep --preset phase-diagram --quick`` (shortened by --set) on the cluster, against
    numerics.longtime.phase_point called here on the same grid, without the engine."""
    from numerics.longtime import grid_configs, phase_point
    from reports.sections.base import Context
    from reports.sections.pl import STUDY, study_base

    tiny_set = {"T_per_n": 0.5, "eta": 0.1, "L": 4, "seeds": [0, 1]}
    argv = ["sweep", "--preset", "phase-diagram", "--quick", "--out", str(tmp_path),
            "--scheduler", dask.client.scheduler.address, "--no-figures"]
    for key, value in tiny_set.items():
        argv += ["--set", f"{key}={json.dumps(value)}"]
    assert cli.main(argv) == 0
    rows = _table(tmp_path)["rows"]
    study = STUDY["quick"]
    base = dataclasses.replace(study_base(Context("quick")), L=4, eta=0.1, seeds=(0, 1))
    expected = [engine._json_ready(record) for config in
                grid_configs(base, study.ns, study.ratios, 0.5)
                for record in phase_point(config)]
    assert len(rows) == len(expected) == len(study.ns) * len(study.ratios) * 2
    for row, record in zip(rows, expected, strict=True):
        assert {k: row[k] for k in record if k not in ("n", "m", "seed")} == \
            {k: v for k, v in record.items() if k not in ("n", "m", "seed")}
        assert (row["n"], row["m"], row["seed"]) == (record["n"], record["m"], record["seed"])


def test_results_from_another_code_version_are_refused(tmp_path: Path) -> None:
    """A worker running other code: its results fail their configurations, nothing is saved."""
    def other_code(calls: Any) -> Iterator[Any]:
        for i, result, failure in engine.here(calls):
            yield i, {**result, "version": "0123456789abcdef"}, failure

    sweep = spec.load_sweep(_sweep_file(tmp_path, [2]))
    outcome = engine.run_sweep(sweep, tmp_path / "out", engine.Executor(other_code, "elsewhere"),
                               figures=False, stream=io.StringIO())
    assert outcome.records == {} and len(outcome.failures) == 6
    assert all("code version 0123456789abcdef" in f.error for f in outcome.failures.values())
    assert not list((tmp_path / "out" / "results").glob("*.json"))


def test_a_report_on_two_workers_equals_the_report_in_process(
        dask: engine.Executor, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``report --workers``: the sections as Dask tasks (S3 and S4, which share Figure 1's data,
    in one) give the in-process numbers bitwise; a section saved before is resumed, not sent."""
    from reports.build import RunSpec, build_report

    only = ("prop1.wellposed", "prop3.bounded", "thm4.limit", "lemma18.linalg")
    here = build_report(RunSpec(tmp_path / "here", scale="tiny", only=only))
    out = tmp_path / "dask"
    build_report(RunSpec(out, scale="tiny", only=("lemma18.linalg",)))
    capsys.readouterr()
    there = build_report(RunSpec(out, scale="tiny", only=only, force=True), dask.client)
    assert "1 sections resumed, 3 to compute in 2 tasks on 2 workers" in capsys.readouterr().err
    assert there["checks"] == here["checks"]
    assert [s["conclusion"] for s in there["sections"]] == [
        s["conclusion"] for s in here["sections"]]
    assert {s["key"]: s["resumed"] for s in there["sections"]} == {
        "S1": False, "S3": False, "S4": False, "S7": True}


def test_tasks_get_a_checkpoint_folder_only_where_the_workers_share_this_disk(
        dask: engine.Executor, tmp_path: Path) -> None:
    """In-process and on the embedded cluster each task gets its group's folder under
    ``DIR/.checkpoints`` (one per group; a task that takes no ``checkpoint_dir`` is called
    without it); on a running scheduler's workers, whose disk need not be this one, none."""
    with engine.executor(scheduler=dask.client.scheduler.address) as remote:
        assert dask.local and not remote.local
    seen: list[str | None] = []

    def spy(calls: Any) -> Iterator[Any]:
        seen.extend(call[2] for call in calls)
        yield from engine.here(calls)

    sweep = spec.load_sweep(_sweep_file(tmp_path, [2]))
    for out, local in (("far", False), ("near", True)):
        engine.run_sweep(sweep, tmp_path / out, engine.Executor(spy, out, local=local),
                         figures=False, stream=io.StringIO())
    assert seen[:2] == [None, None]
    near = tmp_path / "near" / engine.CHECKPOINT_DIR
    assert len(set(seen[2:])) == 2 and {Path(s).parent for s in seen[2:]} == {near}  # type: ignore[arg-type]
    assert not near.exists()  # :func:`tiny` takes no checkpoint_dir: nothing is written
