"""`resnet-ode check ID` without --config: the report's first applicable row, printed."""

from __future__ import annotations

import json

import pytest

from numerics.checks import guard_limit, memory_estimate
from reports import cli
from reports.defaults import default, rows
from theory.catalog import catalog
from theory.config import Config, load_config

# Proposition 5's m >= c1 n, L >= c2 sqrt(nq) (c1 ~ 1e7): no configuration within reach
UNREACHABLE = {"prop5.pl", "thm6.decay", "thm6.interpolation"}


@pytest.mark.parametrize("scale", ["quick", "paper"])
def test_every_id_gets_an_applicable_row_where_one_exists(scale: str) -> None:
    for sid in catalog:
        chosen = default(sid, scale)
        failed = catalog[sid].scope(chosen.row.config)[2]  # a beyond-check runs, is not n/a
        assert (chosen.why_not is None) == (not failed), sid
        assert chosen.row in rows(sid, scale)
        if failed:  # then no row of the scale is applicable
            assert sid in UNREACHABLE, (sid, failed)
            assert all(catalog[sid].assumptions(r.config) for r in rows(sid, scale))


def test_unreachable_sizes_are_stated_with_their_memory() -> None:
    """The line's sizes are Proposition 5's, and their memory exceeds the guard's limit."""
    from theory.pl import thresholds

    why = default("prop5.pl").why_not
    assert why is not None and "no configuration within reach" in why
    sizes = thresholds("tanh", n=1, q=2, r=None)
    m, L = int(sizes["m_min"]) + 1, int(sizes["L_min"]) + 1
    assert m > 10**7 and L > 10**3  # c1 ~ 1.3e7 (docs/statements.md, prop5.pl)
    assert f"m >= {m:.3g}" in why and f"L >= {L:.3g}" in why
    smallest = Config(n=1, d=1, d_out=1, q=2, m=m, L=L, depths=(L,), seeds=(0,))
    assert memory_estimate(smallest) > guard_limit()


def test_bare_check_prints_its_configuration(capsys: pytest.CaptureFixture[str],
                                             tmp_path: object) -> None:
    code = cli.main(["check", "lemma20.gaussian_norm"])
    text = capsys.readouterr().out
    assert code == 0 and ": holds" in text.splitlines()[0]
    assert "config:   the report's quick row" in text
    printed = json.loads(text.split("as a --config file:")[1].strip().splitlines()[0])
    path = tmp_path / "c.json"  # type: ignore[operator]
    path.write_text(json.dumps(printed))
    assert load_config(path) == default("lemma20.gaussian_norm").row.config


def test_check_json_names_its_source_and_why_not(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["check", "prop5.pl", "--json"])
    record = json.loads(capsys.readouterr().out)
    assert code == 0 and record["verdict"] == "n/a"
    assert record["config_source"].startswith("the report's quick row")
    assert "m >= c1*n" in record["why_not_applicable"]


def test_config_and_scale_together_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["check", "prop1.wellposed", "--scale", "paper", "--config", "x.json"])
    assert exc.value.code == 2
    assert "not allowed with" in capsys.readouterr().err
