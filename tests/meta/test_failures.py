"""Meta-tests of the property suite's failure reports (issue 4, "reproducible failures").

A failing property must print the statement id, the configuration, measured, bound and their
ratio, and a command that reruns exactly that case; here a real check result is turned into a
failure and the printed command is run through the CLI, which must recompute the same numbers.
"""

from __future__ import annotations

import dataclasses
import json
import shlex

import pytest

from properties import assertions
from properties.assertions import assert_holds, checked
from reports import cli
from theory.config import Config


def test_a_failing_check_prints_a_command_that_reruns_it(
        tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(assertions, "FAILURES", tmp_path)
    config = Config(q=4, m=3, n=2, d=2, d_out=2, L=3, T=0.2, eta=0.05, clip="coord",
                    clip_c=0.5, seed=7)
    result = checked("prop3.bounded", config)
    assert result.applicable and result.holds
    broken = dataclasses.replace(result, holds=False, verdict="violated")
    with pytest.raises(AssertionError) as info:
        assert_holds(broken, config)
    message = str(info.value)
    for part in ("prop3.bounded", "measured:", "bound:", "measured/bound = ", "config:"):
        assert part in message
    assert f"{result.measured / result.bound:.6g}" in message
    (rerun,) = [line.split("rerun:", 1)[1].strip() for line in message.splitlines()
                if line.strip().startswith("rerun:")]
    argv = shlex.split(rerun)
    assert argv[:3] == ["resnet-ode", "check", "prop3.bounded"]
    capsys.readouterr()
    assert cli.main([*argv[1:], "--json"]) == 0
    rerun_result = json.loads(capsys.readouterr().out)
    assert rerun_result["measured"] == result.measured
    assert rerun_result["bound"] == result.bound
    assert Config.from_mapping(rerun_result["config"]) == config
