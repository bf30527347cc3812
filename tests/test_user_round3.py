"""What a new user tripped over, round 3 (issue 31, items 2, 3, 6, 8 and 10): each test reproduces
one problem through the command line (``reports.cli.main`` or a subprocess where the exit status
and stderr matter) and checks the fix.  Every test takes seconds: no long training."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from reports import cli
from reports.sweep import engine, spec, table
from reports.text import MISSING, fmt, format_config
from theory.catalog import catalog
from theory.config import SEED_MAX, Config, load_config
from theory.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
HERE = "tests.test_user_round3"
BASE = {"n": 4, "d": 2, "d_out": 1, "q": 2, "T": 0.2, "eta": 0.05, "seeds": [0, 1]}


# --------------------------------------------------------------------------- sweep tasks


def fast(config: Config) -> list[dict[str, Any]]:
    """No training: n as a float (as numerics.longtime records it) and a value per seed."""
    return [{"n": float(config.n), "value": float(config.m * (seed + 1))}
            for seed in config.seeds]


def failing(config: Config) -> list[dict[str, Any]]:
    raise ValueError(f"m={config.m} fails on purpose")


def picky(config: Config) -> list[dict[str, Any]]:
    return fast(config)


picky.requires = lambda config: [] if config.m > 2 else ["m > 2"]  # type: ignore[attr-defined]


def _sweep_file(folder: Path, task: str, base: dict[str, Any] | None = None,
                axes: str = "m = [2, 3]\nL = [2, 4]\n") -> Path:
    fields = "\n".join(f"{k} = {json.dumps(v)}" for k, v in (base or BASE).items())
    path = folder / "s.toml"
    path.write_text(f'task = "{task}"\n[base]\n{fields}\n[axes]\n{axes}')
    return path


def _status(argv: list[str]) -> int:
    """cli.main's status, argparse's exits included."""
    try:
        return cli.main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


def _no_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a cluster was started")

    monkeypatch.setattr(engine, "executor", refuse)


# --------------------------------------------------------------------------- item 2


def _installs(lines: list[str]) -> set[str]:
    """What the ``pip install`` commands among ``lines`` install (requirements, ``-e`` targets)."""
    out: set[str] = set()
    for line in lines:
        for command in line.split("&&"):
            words = shlex.split(command, comments=True)
            if "pip" in words and "install" in words:
                rest = words[words.index("install") + 1:]
                out |= {w for w in rest if not w.startswith("-") or w == "-e"} - {"-e"}
                out -= {"--upgrade", "pip"}
    return out


def test_readme_quickstart_and_ci_install_the_same_things() -> None:
    readme = (ROOT / "README.md").read_text()
    quickstart = readme.split("## Quickstart", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    ci = (ROOT / ".ci" / "run").read_text()
    readme_installs = _installs(quickstart.splitlines())
    assert readme_installs == _installs(ci.splitlines())
    assert any(target.startswith(".[") for target in readme_installs)
    assert "python -m pytest" in quickstart.splitlines() and "python -m pytest" in ci


def test_every_documented_feature_is_installed_by_the_readme_command() -> None:
    """Sweeps and ``report --workers`` run on Dask's distributed: a core dependency, so that no
    test file skips for a missing extra and no command says what to install."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert any(d.replace(" ", "").startswith("dask[distributed]")
               for d in project["dependencies"])
    import distributed  # noqa: F401 - installed with the project

    for folder in ("tests", "properties"):
        for path in (ROOT / folder).rglob("*.py"):
            assert not re.search(r"importorskip\(\s*['\"](dask|distributed)", path.read_text()), \
                path
    for path in (ROOT / "reports").rglob("*.py"):
        assert "[sweep]" not in path.read_text(), path


# --------------------------------------------------------------------------- item 3

BIG = 2**70


def test_a_report_seed_out_of_range_is_refused_before_any_folder(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report"
    assert _status(["report", "--seed", str(BIG), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(BIG) in err and "2**63" in err
    assert not out.exists()  # no folder holding only .lock
    largest = SEED_MAX - cli.REPORT_SEED_SPAN
    assert cli.build_parser().parse_args(["report", "--seed", str(largest)]).seed == largest
    assert _status(["report", "--seed", str(largest + 1), "--out", str(out)]) == 2


def test_a_config_file_seed_out_of_range_is_refused(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    for fields in ({"seed": BIG}, {"seeds": [0, BIG]}, {"seed": SEED_MAX + 1}, {"seed": -1}):
        path = tmp_path / "c.json"
        path.write_text(json.dumps({**BASE, **fields}))
        assert _status(["check", "prop3.bounded", "--config", str(path)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "[0, 2**63 - 1]" in err, err
    assert Config(seed=SEED_MAX, seeds=(SEED_MAX,)).seed == SEED_MAX


def test_a_sweep_seed_out_of_range_is_refused_before_any_work(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    _no_cluster(monkeypatch)
    path = _sweep_file(tmp_path, f"{HERE}:fast", {**BASE, "seeds": [0, BIG]})
    out = tmp_path / "out"
    assert _status(["sweep", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"seeds={BIG}" in err
    assert _status(["sweep", str(_sweep_file(tmp_path, f"{HERE}:fast")), "--out", str(out),
                    "--set", f"seeds=[{BIG}]"]) == 2
    assert not out.exists()


def test_the_largest_seed_and_its_derived_seeds_are_accepted_by_the_generators() -> None:
    import numpy as np
    import torch

    from numerics.longtime import FRESH_SEED

    for seed in (SEED_MAX, SEED_MAX + FRESH_SEED, SEED_MAX - cli.REPORT_SEED_SPAN + 4):
        torch.Generator().manual_seed(seed)
        np.random.default_rng(seed)
    with pytest.raises(ConfigError, match="seed"):
        Config(seed=SEED_MAX + 1)


# --------------------------------------------------------------------------- item 6


def test_a_sweep_whose_task_cannot_run_on_a_point_is_refused_before_any_cluster(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    _no_cluster(monkeypatch)
    out = tmp_path / "out"
    path = _sweep_file(tmp_path, "numerics.longtime:phase_point")  # data: the default gaussian
    assert _status(["sweep", str(path), "--out", str(out), "--workers", "2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "needs data = sphere" in err and "{'m': 2, 'L': 2}" in err and "3 more" in err
    assert not out.exists()
    # a precondition declared on the task function: only the points that fail it are named
    path = _sweep_file(tmp_path, f"{HERE}:picky")
    assert _status(["sweep", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "needs m > 2" in err and "{'m': 2, 'L': 2}" in err
    assert "1 more of the 4 points" in err
    engine.check_points(spec.load_sweep(_sweep_file(tmp_path, f"{HERE}:picky", axes="m = [3]\n")))


def test_a_task_error_is_one_line_per_point_with_its_traceback_in_a_file(
        tmp_path: Path) -> None:
    """On a LocalCluster of one worker (a subprocess: the workers' stderr is the user's)."""
    path = _sweep_file(tmp_path, f"{HERE}:failing", axes="m = [2, 3]\n")
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "reports", "sweep", str(path), "--out", str(out),
                           "--workers", "1", "--no-figures"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.splitlines()
    assert "Traceback" not in proc.stderr and "Compute Failed" not in proc.stderr, proc.stderr
    failed = [line for line in lines if line.startswith("sweep: failed")]
    assert len(failed) == 2
    for line, m in zip(failed, (2, 3), strict=True):
        assert f"ValueError: m={m} fails on purpose (traceback: " in line
        file = Path(line.rsplit("(traceback: ", 1)[1].rstrip(")"))
        assert file.parent == out / engine.FAILURES
        text = file.read_text()
        assert text.startswith("Traceback") and "in failing" in text
    failures = json.loads((out / "table.json").read_text())["failures"]
    assert {f["traceback_file"] for f in failures} == \
        {f"{engine.FAILURES}/{Path(line.rsplit('(traceback: ', 1)[1].rstrip(')')).name}"
         for line in failed}


# --------------------------------------------------------------------------- item 8


def test_a_printed_configuration_says_its_format_and_loads_under_that_name(
        tmp_path: Path) -> None:
    config = Config(n=8, d=2, d_out=2, q=4, m=4, L=8, activation="tanh", subset=None)
    text = format_config(config, "somewhere", "prop3.bounded")
    head, printed = text.splitlines()
    assert "JSON: save it as prop3.bounded.json" in head and "as a --config file:" in head
    (tmp_path / "prop3.bounded.json").write_text(printed.strip())
    assert load_config(tmp_path / "prop3.bounded.json") == config
    (tmp_path / "c.toml").write_text(printed.strip())
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "c.toml")
    message = str(info.value)
    assert "not valid TOML (a .toml file is read as TOML)" in message
    assert "Invalid statement" in message and "this is JSON: save it as c.json" in message
    assert "\n" not in message


def test_a_config_file_that_does_not_parse_names_the_expected_format(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "c.json").write_text("n = 8\n")
    assert _status(["check", "prop3.bounded", "--config", str(tmp_path / "c.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not valid JSON (a .json file is read as JSON): " in err
    (tmp_path / "c.cfg").write_text("n = = 8\n")
    assert _status(["check", "prop3.bounded", "--config", str(tmp_path / "c.cfg")]) == 2
    err = capsys.readouterr().err
    assert "not valid TOML (a .cfg file is read as TOML): " in err
    assert "JSON is read from a .json file only" in err


# --------------------------------------------------------------------------- item 10


def test_a_missing_value_is_not_the_verdict_class_na() -> None:
    from reports.markdown import verdict
    from reports.records import CheckRow
    from reports.sections.finite_time import _log10_K
    from theory.catalog import CheckResult

    assert fmt(None) == MISSING != "n/a" and _log10_K({}, 1.0) == MISSING
    check = CheckResult("thm6.smooth_L", "", "", {}, False, ["m >= c1*n"], None, None, None,
                        verdict="n/a", verdict_rule="assumption fails")
    assert verdict(CheckRow(check, "m = 1", "S6", "configs/x.json")) == "n/a: m >= c1*n"


def test_a_sweep_header_counts_configurations_and_seeds_and_the_csv_keeps_integers(
        tmp_path: Path) -> None:
    sweep = spec.load_sweep(_sweep_file(tmp_path, f"{HERE}:fast"))
    log = io.StringIO()
    engine.run_sweep(sweep, tmp_path / "out", figures=False, stream=log)
    assert "4 configurations x 2 seeds = 8 runs, 0 saved, 8 to run in 4 tasks" in log.getvalue()
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out" / "table.csv").read_text())))
    assert {row["n"] for row in rows} == {"4"} and {row["m"] for row in rows} == {"2", "3"}
    assert {row["value"] for row in rows} >= {"2.0", "6.0"}  # measured floats stay floats
    mixed = spec.grid("mixed", f"{HERE}:fast", BASE, {"seeds": [[0], [0, 1, 2]]})
    assert engine.size(mixed) == "2 configurations x 1 to 3 seeds = 4 runs"


def test_heat_map_labels_are_readable_on_light_and_dark_cells(tmp_path: Path) -> None:
    from reports import figures

    fig, (ax,) = figures.new()
    means = {(m, L): float(m * L) for m in (1, 2) for L in (1, 2)}
    table._heat_map(fig, ax, means, ["m", "L"], "value")
    colours = {t.get_text(): t.get_color() for t in ax.texts}
    assert colours["1"] == "w" and colours["4"] == "k"  # viridis: dark purple, bright yellow
    assert table.label_colour((1.0, 1.0, 0.0, 1.0)) == "k"
    assert table.label_colour((0.0, 0.0, 0.5, 1.0)) == "w"


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib import metadata

    from reports.resume import code_version

    assert _status(["--version"]) == 0
    out = capsys.readouterr().out.strip()
    assert out == f"resnet-ode {metadata.version('resnet-ode-testbed')} (code version " \
                  f"{code_version()})"
    assert re.fullmatch(r"resnet-ode \S+ \(code version [0-9a-f]{16}\)", out)


def test_check_help_lists_the_statement_ids(capsys: pytest.CaptureFixture[str]) -> None:
    assert _status(["check", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "statement ids:" in text
    assert all(sid in text for sid in catalog)


def test_exp_is_accepted_with_its_failed_assumptions_like_x_squared(
        capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--n", "10", "--q", "4", "--d", "2", "--d-out", "2", "--m", "8", "--L", "8", "--json"]
    for sigma in ("x**2", "exp(x)"):
        assert _status(["constants", "--activation", sigma, *args]) == 0
        record = json.loads(capsys.readouterr().out)
        assert {"sigma Lipschitz", "sigma bounded"} <= set(record["assumptions_failed"])


# --------------------------------------------------------------------------- items 1 and 9


def test_a_beyond_row_states_the_assumptions_it_fails_and_never_exits_1(tmp_path: Path) -> None:
    """Item 1: the default report's cause of exit 1 was a Theorem 6 row outside the theorem's
    assumptions called violated.  Such a row is now a beyond-check: its failure reads "fails",
    the S6 assumption table lists Theorem 6's failed assumptions for it, and the exit status
    counts only paper-scope violations."""
    from reports.markdown import counts, summary
    from reports.records import CheckRow
    from reports.sections.long_time import SECTION
    from theory import long_time
    from theory.catalog import CheckResult

    config = Config(n=8, d=4, d_out=4, q=8, m=1, L=2, depths=(2, 4, 8, 16), T=8.0, eta=0.05,
                    activation="tanh", data="sphere", seeds=(0, 1, 2, 3, 4))
    scope, failed, requirements = catalog["thm6.smooth_L"].scope(config)
    assert (scope, requirements) == ("beyond", [])
    assert set(long_time.assumptions(config)) == set(failed) and "m >= c1*n" in failed
    assert set(failed) <= set(SECTION.assumptions["thm6.smooth_L"])  # the S6 table's rows
    check = CheckResult("thm6.smooth_L", "", "", config.to_dict(), False, failed, None, None,
                        None, verdict="fails", verdict_rule="slope -0.3", scope="beyond")
    record = CheckRow(check, "m = 1", "S6", "configs/x.json")
    assert counts([record])["violated"] == 0 and counts([record], "beyond")["fails"] == 1
    text = summary([record], ["thm6.smooth_L"])
    assert "No paper-scope check is violated." in text and "m >= c1*n" in text
    assert "VIOLATED" not in text


@pytest.mark.parametrize("sid", ["hermite.coefficients", "lemma18.linalg"])
def test_a_check_that_trains_nothing_is_not_refused_for_training_memory(
        sid: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Item 9: the resource guard applies to what a check allocates: a pure-theory check with
    a huge L (whose training would need ~1e5 GiB) runs."""
    from numerics.checks import guard_limit, memory_estimate

    huge = Config(n=8, d=2, d_out=2, q=4, m=4096, L=10**7, depths=(10**7,), activation="tanh",
                  trials=20)
    assert memory_estimate(huge) > guard_limit()  # the guard refuses it for a training check
    path = tmp_path / "huge.json"
    path.write_text(json.dumps(huge.to_dict()))
    assert _status(["check", sid, "--config", str(path)]) == 0
    assert "holds" in capsys.readouterr().out
    assert _status(["check", "prop3.rate_L", "--config", str(path)]) == 2
