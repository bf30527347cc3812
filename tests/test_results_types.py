"""results.json read into typed records (``reports.records.parse``): a tiny report of two cheap
statements (Lemma 18's n/a rows; Lemma 20's rows, one holding with its negative control and a
bound given as log10) is built by the code (its findings without the sympy re-derivations), and
every typed field must equal the value that :func:`json.load` reads from the file (an independent
reading); another schema version and a missing field are refused with one line."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from reports import findings
from reports.build import RunSpec, build_report
from reports.records import Results, parse
from theory.catalog import CheckResult
from theory.errors import ConfigError

ONLY = ("lemma18.linalg", "lemma20.gaussian_norm")
VERSIONS = ("python", "torch", "numpy", "scipy", "sympy", "mpmath", "matplotlib", "scikit-learn")


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("records")
    with pytest.MonkeyPatch.context() as mp:  # the sympy re-derivations (~10 s): not read here
        mp.setattr(findings, "derived", list)
        build_report(RunSpec(out, scale="tiny", only=ONLY))
    with open(out / "results.json", encoding="utf-8") as fh:
        return json.load(fh)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def parsed(raw: dict[str, Any]) -> Results:
    return parse(raw)


def _plain(value: Any) -> Any:
    """A typed value as JSON holds it: tuples as lists."""
    return list(value) if isinstance(value, tuple) else value


def test_the_run_has_what_the_records_type(raw: dict[str, Any]) -> None:
    """The file exercises the typed fields: a control with its file, a log10 bound, n/a rows."""
    checks = raw["checks"]
    assert {c["id"] for c in checks} == set(ONLY)
    assert any(c["control"] and c["control"].get("config_file") for c in checks)
    assert any(isinstance(c["extra"].get("log10_bound"), float) for c in checks)
    assert {"n/a", "holds"} <= {c["verdict"] for c in checks}


def test_every_check_field_equals_the_json(raw: dict[str, Any], parsed: Results) -> None:
    assert len(parsed.checks) == len(raw["checks"])
    for row, c in zip(parsed.checks, raw["checks"], strict=True):
        for field in dataclasses.fields(CheckResult):  # outcome included: derived again
            assert getattr(row.check, field.name) == c[field.name], (c["id"], field.name)
        assert (row.label, row.section, row.config_file) == (c["label"], c["section"],
                                                             c["config_file"])
        extra = c["extra"]
        assert row.log10_bound == extra.get("log10_bound")
        assert row.log10_log10_bound == extra.get("log10_log10_bound")
        if c["control"] is None:
            assert row.control is None and row.control_file is None
            continue
        control = c["control"]
        assert row.control is not None and row.control_file == control["config_file"]
        for name in ("config", "why", "verdict", "rule", "measured", "failed"):
            assert getattr(row.control, name) == control[name], name


def test_environment_sections_and_findings_equal_the_json(raw: dict[str, Any],
                                                          parsed: Results) -> None:
    env, typed = raw["environment"], parsed.environment
    assert dict(typed.versions) == {k: env[k] for k in VERSIONS}
    assert list(typed.versions) == list(VERSIONS)
    for name in ("device", "seed", "git_commit", "device_name", "dtype", "torch_threads",
                 "platform", "argv", "scale", "code_version", "total_wall_s"):
        assert _plain(getattr(typed, name)) == env[name], name
    for name, value in env["engine"].items():
        assert _plain(getattr(typed.engine, name)) == value, name
    assert dict(typed.fields) == env and list(typed.fields) == list(env)
    assert len(parsed.sections) == len(raw["sections"])
    for s, r in zip(parsed.sections, raw["sections"], strict=True):
        for name in ("key", "title", "ids", "resumed", "figure", "conclusion"):
            assert _plain(getattr(s, name)) == r[name], name
        assert dataclasses.asdict(s.usage) == r["usage"]
        assert s.results == r.get("results")
    assert [dataclasses.asdict(f) for f in parsed.findings] == raw["findings"]


def test_another_schema_version_is_refused_in_one_line(raw: dict[str, Any]) -> None:
    for version in (6, None):
        with pytest.raises(ConfigError) as info:
            parse({**raw, "schema": version})
        text = str(info.value)
        assert "\n" not in text and text.startswith(f"schema={version!r}:") and "version 7" in text


def test_a_missing_field_is_refused_in_one_line(raw: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(raw))
    del broken["checks"][0]["verdict"]
    with pytest.raises(ConfigError) as info:
        parse(broken)
    assert str(info.value) == ("results.json='verdict': a required field is missing "
                               "(docs/results-json.md)")


def test_an_inconsistent_check_is_refused(raw: dict[str, Any]) -> None:
    """CheckResult's own rules apply to what is read: holds must agree with the verdict."""
    broken = json.loads(json.dumps(raw))
    check = next(c for c in broken["checks"] if c["verdict"] == "holds")
    check["holds"] = False
    with pytest.raises(ValueError, match="contradicts verdict holds"):
        parse(broken)
