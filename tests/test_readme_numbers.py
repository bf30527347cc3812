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
FAST_S = 3.0  # rerun here: the defaults that took at most this long (control included) by
# themselves


def test_readme_blocks_are_the_snapshot_rendered() -> None:
    blocks = readme.blocks_in(readme.README.read_text())
    rendered = readme.render(SNAPSHOT)
    assert set(rendered) <= set(blocks)
    for name, body in rendered.items():
        assert blocks[name] == body.strip(), f"README block {name}: run python -m reports.readme"


def test_the_snapshot_covers_the_catalog() -> None:
    assert list(SNAPSHOT["defaults"]) == list(catalog)


def _rode_a_cache(sid: str) -> bool:
    """Whether an earlier, slower default of the snapshot in the same family ran the same
    configuration (its training cached: this one's seconds say nothing about its cost)."""
    ids = list(SNAPSHOT["defaults"])
    config = default(sid, "quick").row.config
    return any(SNAPSHOT["defaults"][e]["seconds"] > FAST_S
               and catalog[e].family == catalog[sid].family
               and default(e, "quick").row.config == config for e in ids[:ids.index(sid)])


FAST = [sid for sid, e in SNAPSHOT["defaults"].items()
        if e["seconds"] <= FAST_S and not _rode_a_cache(sid)]


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


def _replicated(base: int, verdict: str, slope: float, tracks: bool) -> dict:
    seeds = [8 * base + j for j in range(2)]
    per_seed = [{"seed": s, "tracks": tracks or s != seeds[-1]} for s in seeds]
    return {"base": base, "id": "thm6.smooth_L", "result": {
        "verdict": verdict, "measured": slope,
        "config": {"m": 1, "n": 8, "depths": [4, 8], "T": 160.0, "eta": 0.001, "seeds": seeds},
        "extra": {"rate": {"slope": slope, "interval": [slope - 0.1, "inf" if tracks else
                                                         slope + 0.1]},
                  "flow_tracking": {"seeds": seeds, "per_seed": per_seed,
                                    "max_eta_lambda_max": 0.5 if tracks else 2.0}}}}


def test_render_replication_names_each_base_seed_and_whether_they_agree() -> None:
    """The replication block on a hand-made file: base seed 1's last seed does not track."""
    results = [_replicated(0, "fails", -0.25, True), _replicated(1, "n/a", -0.5, False)]
    data = {"command": "python -m reports.replicate deep thm6.smooth_L", "ids": ["thm6.smooth_L"],
            "results": results, "classes": {"thm6.smooth_L": {"agree": False}}}
    text = readme.render_replication(data)
    assert "m = 1, n = 8, L = 4, 8, T = 160, eta = 0.001, 2 seeds per base seed" in text
    assert ("base seed 0 (seeds 0..1): gradient descent tracks the flow on every seed (max eta "
            "lambda_max 0.5); `thm6.smooth_L` fails (slope -0.25, interval [-0.35, inf])") in text
    assert "base seed 1 (seeds 8..9): gradient descent does not track the flow on seeds [9]" in text
    assert text.endswith("Same outcome class from base seeds 0, 1: none; not: `thm6.smooth_L`.")
    one = readme.render_replication(data | {"results": results[:1]})
    assert "Same outcome class" not in one and one.endswith("inf])")  # one base seed
