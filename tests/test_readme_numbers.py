"""The README's quoted numbers come from `python -m reports.readme` (reports/readme.py): its marked
blocks equal the rendering of the committed snapshot, and the defaults that answer within a few
seconds give the snapshot's verdict today (a code change that moves one fails here)."""

from __future__ import annotations

import json

import pytest

from numerics.checks import run_check
from reports import readme
from reports.defaults import default
from theory.catalog import catalog

SNAPSHOT = json.loads(readme.SNAPSHOT.read_text())
FAST_S = 3.0  # rerun here: the defaults that took at most this long (control included)


def test_readme_blocks_are_the_snapshot_rendered() -> None:
    blocks = readme.blocks_in(readme.README.read_text())
    rendered = readme.render(SNAPSHOT)
    assert set(rendered) <= set(blocks)
    for name, body in rendered.items():
        assert blocks[name] == body.strip(), f"README block {name}: run python -m reports.readme"


def test_the_snapshot_covers_the_catalog() -> None:
    assert list(SNAPSHOT["defaults"]) == list(catalog)


FAST = [sid for sid, e in SNAPSHOT["defaults"].items() if e["seconds"] <= FAST_S]


@pytest.mark.parametrize("sid", FAST)
def test_a_fast_default_gives_the_snapshot_verdict(sid: str) -> None:
    entry = SNAPSHOT["defaults"][sid]
    result = run_check(sid, default(sid, "quick").row.config)
    assert (result.scope, result.verdict) == (entry["scope"], entry["verdict"]), result.verdict_rule


def test_render_pairs_the_table_and_counts() -> None:
    """The rendering itself, on a hand-made snapshot (two ids, a report)."""
    snap = {"date": "2000-01-01",
            "defaults": {"a": {"scope": "paper", "verdict": "holds", "seconds": 1.0},
                         "b": {"scope": "beyond", "verdict": "fails", "seconds": 2.4}},
            "report": {"checks": 2, "paper": {"holds": 1}, "beyond": {"fails": 1},
                       "total_wall_s": 3.5, "sections": {"S1": 1.25, "S2": 2}}}
    blocks = readme.render(snap)
    assert blocks["defaults"].splitlines()[2] == "| `a` | holds | `b` | beyond: fails |"
    assert "within 2 s" in blocks["defaults"]
    text = blocks["quick-report"]
    assert "took 3.5 s" in text and "1 hold, 0 violated" in text and "1 fail" in text
    assert text.endswith("S1 1.25, S2 2.")
