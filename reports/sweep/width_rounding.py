"""Is a width-threshold outcome decided by rounding?  (issue 29)

Where gradient descent at the sweep's eta does not track the flow (4)
(:mod:`reports.sweep.width_tracking`: at n = 64 from m = 128 on, eta lambda_max ~ 2, the edge of
stability, and a step-halving ratio of 10^2-10^3), a last-bit difference can grow over 10^4-10^5
steps into another end state.  This module reruns seeds of a full-preset point (its own
configuration, :func:`reports.sweep.width.preset`; :func:`numerics.thresholds.point_records`,
without the tracking) four ways: at the point's eta and at eta / :data:`STEP_DIVISOR`, each with
the labels as drawn and scaled by 1 + :data:`DELTA` (y_scale (1 + DELTA): 1e-12, about 4500
units in the last place, far below any modelling choice).  Per seed and step it records how far
the perturbation moves each outcome's slope against log L:

- the gap slope (the 1/L-smooth outcome, sup_t max_k ||Z_{k+1} - Z_k||), a sup over the whole
  trajectory;
- the limit slope (max_x ||F^L_T(x) - F^{2L}_T(x)||, fresh inputs), read at the end time T;

and the factor by which l(T)/l(0) at the deepest depth changes.  An outcome whose slope moves by
at least :data:`SLOPE_MOVE` (a tenth of the O(1/L) slope) under a 1e-12 change of the labels is
decided by rounding there, not by the network; the run at eta / STEP_DIVISOR is the control (a
step where gradient descent follows the flow must leave the slopes where they are).

    nice -n 19 python -m reports.sweep.width_rounding N M [N M ...]   (a full-preset point each;
                                                                      seeds SEEDS)

Each point is written (atomically, to :data:`DATA_FILE`) when its four runs are done; a rerun
measures only the points not yet in the file.
"""

from __future__ import annotations

import dataclasses
import json
import platform
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from numerics.device import cpu_threads
from numerics.thresholds import SMOOTH_EDGE, point_records
from reports.io import atomic_write_json
from reports.sweep.width import preset
from theory.config import Config

ROOT = Path(__file__).resolve().parents[2]
DATA_FILE = ROOT / "reports" / "data" / "width-rounding.json"
COMMAND = "nice -n 19 python -m reports.sweep.width_rounding"
DELTA = 1e-12
STEP_DIVISOR = 4
SEEDS = (0, 1)
"""The point's first two seeds (chosen before any outcome was seen, not by their outcomes)."""
SLOPE_MOVE = 0.1
OUTCOMES = (("gap_slope", "smooth"), ("limit_slope", "limit_smooth"))


def variants(config: Config) -> list[Config]:
    """The four reruns of ``config``: (eta, eta / STEP_DIVISOR) x (labels as drawn, scaled by
    1 + DELTA), with the seeds :data:`SEEDS`."""
    return [dataclasses.replace(config, eta=eta, y_scale=config.y_scale * scale, seeds=SEEDS)
            for eta in (config.eta, config.eta / STEP_DIVISOR) for scale in (1.0, 1.0 + DELTA)]


def compare(entries: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per (n, m, eta, seed): how far the labels' 1 + DELTA moves each outcome's slope
    (``d_gap_slope``, ``d_limit_slope``, absolute), whether it flips the outcome
    (``flips_smooth``, ``flips_limit_smooth``), ``l_ratio_factor`` (perturbed over as drawn,
    l(T)/l(0) at the deepest depth) and ``rounding`` (the outcomes whose slope moved by >=
    SLOPE_MOVE)."""
    runs: dict[tuple[int, int, float, int], dict[bool, Mapping[str, Any]]] = {}
    for e in entries:
        key = (int(e["n"]), int(e["m"]), float(e["eta"]), int(e["seed"]))
        runs.setdefault(key, {})[bool(e["perturbed"])] = e
    rows = []
    for (n, m, eta, seed), pair in sorted(runs.items()):
        if set(pair) != {False, True}:
            continue
        a, b = pair[False], pair[True]
        row: dict[str, Any] = {"n": n, "m": m, "eta": eta, "seed": seed}
        for slope, outcome in OUTCOMES:
            row[f"d_{slope}"] = abs(float(b[slope]) - float(a[slope]))
            row[f"flips_{outcome}"] = bool(a[outcome] != b[outcome])
        row["l_ratio_factor"] = float(b["l_ratio"]) / float(a["l_ratio"])
        row["rounding"] = [outcome for slope, outcome in OUTCOMES
                           if row[f"d_{slope}"] >= SLOPE_MOVE]  # nan (no slope): no
        rows.append(row)
    return rows


def _entry(config: Config, rec: Mapping[str, Any], perturbed: bool) -> dict[str, Any]:
    deep = max(config.depths)
    return {"n": config.n, "m": config.m, "seed": int(rec["seed_value"]), "eta": config.eta,
            "T": config.T, "y_scale": config.y_scale, "perturbed": perturbed,
            "depths": list(config.depths), "gap_slope": rec["gap_slope"],
            "limit_slope": rec["limit_slope"], "smooth": rec["smooth"],
            "limit_smooth": rec["limit_smooth"], "l_ratio": rec[f"l_ratio_L{deep}"],
            "limit_gaps": [v for k, v in rec.items() if k.startswith("limit_gap_")],
            "wall_s": rec["wall_s"]}


def point(n: int, m: int) -> Config | None:
    """The full preset's configuration at (n, m) (None where it has no such point)."""
    found = [p.config for p in preset("full").points if (p.config.n, p.config.m) == (n, m)]
    return found[0] if found else None


def measure(cases: Sequence[tuple[int, int]], out: Path = DATA_FILE) -> dict[str, Any]:
    """The four reruns of each point of ``cases`` not yet in ``out``, one point at a time,
    ``out`` rewritten after each."""
    configs = [c for c in (point(n, m) for n, m in cases) if c is not None]
    try:
        data = json.loads(out.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {"entries": []}
    done = {(e["n"], e["m"]) for e in data["entries"]}
    for c in configs:
        if (c.n, c.m) in done:
            continue
        entries = []
        for k, v in enumerate(variants(c)):
            began = time.perf_counter()
            with cpu_threads():
                records = point_records(v)
            entries += [_entry(v, r, perturbed=k % 2 == 1) for r in records]
            print(f"width_rounding: n = {c.n}, m = {c.m}, eta = {v.eta:g}, y_scale = "
                  f"{v.y_scale!r}: {time.perf_counter() - began:.0f} s", flush=True)
        data["entries"] = sorted([*data["entries"], *entries],
                                 key=lambda e: (e["n"], e["m"], -e["eta"], e["seed"],
                                                e["perturbed"]))
        data |= {"command": COMMAND, "delta": DELTA, "step_divisor": STEP_DIVISOR,
                 "seeds": list(SEEDS), "slope_move": SLOPE_MOVE, "smooth_edge": SMOOTH_EDGE,
                 "what": "the full preset's points rerun with the labels scaled by 1 + delta, "
                         "at the point's eta and at eta / step_divisor "
                         "(numerics.thresholds.point_records)",
                 "machine": f"{platform.node()} {platform.machine()} {platform.processor()}",
                 "table": compare(data["entries"])}
        atomic_write_json(out, data)
    return data


def _main(argv: Sequence[str]) -> None:
    """``N M [N M ...]``: pairs of integers; anything else is one line and exit status 2."""
    if not argv or len(argv) % 2 or not all(a.isdigit() for a in argv):
        print("usage: python -m reports.sweep.width_rounding N M [N M ...] (integers, a full "
              "preset point each)", file=sys.stderr)
        raise SystemExit(2)
    values = [int(a) for a in argv]
    cases = list(zip(values[::2], values[1::2], strict=True))
    absent = [f"n = {n}, m = {m}" for n, m in cases if point(n, m) is None]
    if absent:  # before any long work
        print(f"width_rounding: the full preset has no point {'; '.join(absent)}",
              file=sys.stderr)
        raise SystemExit(2)
    for row in measure(cases)["table"]:
        print(json.dumps(row))


if __name__ == "__main__":
    _main(sys.argv[1:])
