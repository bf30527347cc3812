"""The committed full-preset width data: n = 128 was swept twice over the same seeds, to T = 881
(``results-T881/``) and to the rule's T = 1760 (``results/``).  The longer run repeats the shorter
one's iterates up to t = 881, so its sup_t max_k ||Z_{k+1} - Z_k|| can only be larger, seed by
seed and depth by depth; and its loss is recorded every 880 iterations against 440, a subset of
the shorter run's records, so where it first records l <= 1e-2 l(0) at t_hit <= 881 the shorter
run recorded it there too: its t_hit exists and is at most that."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

FOLDER = Path(__file__).resolve().parent.parent / "reports" / "data" / "width-thresholds-full"


def _records(folder: Path, n: int, T: float) -> dict[tuple[int, int], dict[str, float]]:
    out = {}
    for path in folder.glob("*.json"):
        unit = json.loads(path.read_text(encoding="utf-8"))
        if unit["config"]["n"] == n and unit["config"]["T"] == T:
            out[(unit["config"]["m"], unit["seed"])] = unit["record"]
    return out


def test_the_longer_horizon_repeats_the_shorter_runs() -> None:
    short = _records(FOLDER / "results-T881", 128, 881.0)
    long = _records(FOLDER / "results", 128, 1760.0)
    both = sorted(set(short) & set(long))
    if not both:
        pytest.skip("no n = 128 point at both horizons committed")
    for key in both:
        for L in (4, 8, 16, 32):
            assert long[key][f"gap_L{L}"] >= short[key][f"gap_L{L}"] * (1 - 1e-12), (key, L)
            a, b = short[key][f"t_hit_L{L}"], long[key][f"t_hit_L{L}"]
            if b is not None and b <= 881.0:
                assert a is not None and a <= b + 1e-9, (key, L, a, b)
