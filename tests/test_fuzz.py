"""Fuzzing the command line and the config loader (issue 7): every outcome is exit status 0, 1 or
2 with at most one line on stderr and never a traceback; the loader yields a Config or a one-line
ConfigError, nothing else."""

from __future__ import annotations

import dataclasses
import json
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reports import cli
from theory.catalog import CheckResult, catalog
from theory.config import Config, load_config
from theory.errors import ConfigError

FIELDS = [f.name for f in dataclasses.fields(Config)]
ACTIVATIONS = ["tanh", "gelu", "GELU", "relu", "identity", "sin", "erf", "sigmoid", "softplus",
               "x/(1+x**2)", "tanh(x)**3", "foo", "", "y*x", "sqrt(x)", "1/x", "x**", "__import__"]
VALUES = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**6),
                   st.floats(allow_nan=True, allow_infinity=True),
                   st.text(string.printable, max_size=10),
                   st.lists(st.integers(-3, 70), max_size=5), st.sampled_from(ACTIVATIONS))
MAPPINGS = st.dictionaries(
    st.one_of(st.sampled_from([f for f in FIELDS if f not in ("activation", "data_dir")]),
              st.text(string.ascii_letters + "_", max_size=8)),
    VALUES, max_size=6)


def _one_line(exc: Exception) -> None:
    text = str(exc)
    assert text and "\n" not in text and "Traceback" not in text


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])  # sympy's first parse
@given(MAPPINGS, st.one_of(st.none(), st.sampled_from(ACTIVATIONS)))
def test_config_mappings(mapping: dict, activation: str | None) -> None:
    if activation is not None:
        mapping = {**mapping, "activation": activation}
    try:
        config = Config.from_mapping(mapping)
    except ConfigError as exc:
        _one_line(exc)
        return
    assert Config.from_mapping(config.to_dict()) == config  # a valid config round-trips


@settings(max_examples=100)
@given(st.one_of(st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
                 MAPPINGS.map(json.dumps), st.just("[1, 2]"), st.just('{"config": {"n": 3}}'),
                 st.just("n = 4\nm = 'x'"), st.just("n = 4\nq = 2\nd = 3")),
       st.sampled_from([".json", ".toml", ".cfg"]))
def test_config_files(tmp_path_factory: pytest.TempPathFactory, text: str, suffix: str) -> None:
    path = tmp_path_factory.mktemp("cfg") / f"config{suffix}"
    path.write_text(text, encoding="utf-8", errors="surrogateescape")
    try:
        assert isinstance(load_config(path), Config)
    except ConfigError as exc:
        _one_line(exc)


TOKENS = st.sampled_from(
    ["constants", "check", "report", "--activation", "--n", "--q", "--d", "--d-out", "--m", "--L",
     "--r", "--json", "--config", "--bogus", "-h", "prop3.bounded", "nope.id", "tanh", "gelu",
     "foo", "0", "-3", "2", "16", "32", "1e3", "abc", "", "missing.json"])
ARGV = st.lists(st.one_of(TOKENS, st.integers(-10, 10**4).map(str)), max_size=14)


def _fake_check(statement_id: str, config: Config) -> CheckResult:
    st_ = catalog[statement_id]
    return CheckResult(st_.id, st_.paper_ref, st_.claim, config.to_dict(), True, [], 1.0, 0.5,
                       True)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
# the fixtures are only used to capture output and to stub the training run: safe to share
@given(ARGV)
def test_cli_argv(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                  argv: list[str]) -> None:
    monkeypatch.setattr("numerics.checks.run_check", _fake_check)
    if argv[:1] == ["report"]:
        argv = ["report", "--bogus-option-keeps-this-fast"]
    try:
        status = cli.main(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        status = exc.code
    out, err = capsys.readouterr()
    assert status in (0, 1, 2)
    assert "Traceback" not in err
    if status == 2:
        assert len(err.strip().splitlines()) == 1, err
