"""Does gradient descent track the flow at the width-threshold points?  (issue 29)

The ``width-thresholds`` sweep (:mod:`reports.sweep.width`) trains every width with the same step
eta = 0.01; at small m the trained network's curvature can put that step at the edge of
stability, where the sweep's "not 1/L-smooth" outcome is about gradient descent, not about the
flow (4) that Theorem 6 speaks of.  This module measures, for the full preset's points at the
asked n that have committed outcomes, :func:`numerics.tracking.flow_tracking` of the point's own
configuration (as the preset builds it for :func:`numerics.thresholds.width_point`: its eta,
horizon T(n) and depth grid; one seed, ``config.seed`` = 0, at the grid's deepest depth) and
writes it beside the point's committed outcomes (:data:`reports.sections.width.DATA_FILE`) to
:data:`DATA_FILE`:

    nice -n 19 python -m reports.sweep.width_tracking [N ...] [--m M ...]   (default N = 8 16 32;
                                                                  --m: those widths only)

Points are measured in the order (n, m) and the file is rewritten (atomically) after each, so a
run stopped early keeps what it measured and a rerun goes on with the points not yet in the file.
"""

from __future__ import annotations

import dataclasses
import math
import platform
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from numerics.device import cpu_threads
from numerics.tracking import DAMPING_EDGE, ORDER_BAND, flow_tracking
from numerics.width_analysis import common_grid, restrict
from reports.io import atomic_write_json
from reports.sweep.width import preset

ROOT = Path(__file__).resolve().parents[2]
DATA_FILE = ROOT / "reports" / "data" / "width-tracking.json"
COMMITTED = ROOT / "reports" / "data" / "width-thresholds-full.json"
NS = (8, 16, 32)
COMMAND = "nice -n 19 python -m reports.sweep.width_tracking"


def _finite(v: Any) -> Any:
    """``v`` for JSON: non-finite floats as None, recursively."""
    if isinstance(v, dict):
        return {k: _finite(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_finite(x) for x in v]
    return None if isinstance(v, float) and not math.isfinite(v) else v


def committed(records: Sequence[Mapping[str, Any]], n: int, m: int, seed: int
              ) -> dict[str, Any]:
    """The committed outcomes at (n, m): the fraction of seeds 1/L-smooth and interpolating on
    the grid the thresholds are fitted on (:func:`numerics.width_analysis.common_grid`) and on the
    point's own depth grid, and seed ``seed``'s own smooth outcome and gap slope (fitted grid)."""
    grid = common_grid(records)
    rs = [r for r in records if int(r["n"]) == n and int(r["m"]) == m]
    if not rs:
        return {}
    fitted = [restrict(r, grid) for r in rs]
    own = [s for s in fitted if int(s["seed"]) == seed]
    return {"seeds": len(rs), "grid": list(grid),
            "smooth_fraction": sum(float(r["smooth"]) for r in fitted) / len(rs),
            "interp_fraction": sum(float(r["interpolated"]) for r in fitted) / len(rs),
            "smooth_fraction_own_grid": sum(float(r["smooth"]) for r in rs) / len(rs),
            "own_grid": list(rs[0]["depths"]),
            "seed_smooth": own[0]["smooth"] if own else None,
            "seed_gap_slope": own[0]["gap_slope"] if own else None}


def row(entry: Mapping[str, Any]) -> dict[str, Any]:
    """One line of the table: (n, m/n, m, T), max_t eta lambda_max, the step-halving ratio, whether
    gradient descent tracks the flow (the rule :meth:`numerics.tracking.Tracking.failure`, stored
    with the measurement) and the committed smooth fraction beside it."""
    t, c = entry["tracking"], entry.get("committed", {})
    return {"n": entry["n"], "m_over_n": entry["m"] / entry["n"], "m": entry["m"],
            "T": entry["T"], "eta_lambda_max": t["max_eta_lambda_max"], "ratio": t["ratio"],
            "tracks": t["tracks"], "smooth_fraction": c.get("smooth_fraction"),
            "smooth_fraction_own_grid": c.get("smooth_fraction_own_grid"),
            "seed_smooth": c.get("seed_smooth")}


def measure(ns: Sequence[int] = NS, out: Path = DATA_FILE,
            ms: Sequence[int] | None = None) -> dict[str, Any]:
    """Measure the points at ``ns`` (and widths ``ms``, default all) not yet in ``out`` (one at a
    time, rewriting ``out``)."""
    import json

    records = json.loads(COMMITTED.read_text(encoding="utf-8"))["records"]
    try:
        data = json.loads(out.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {"entries": []}
    # a point is done when measured at its configuration's step and horizon (T(n) can change:
    # a measurement at another T is not this point's)
    done = {(e["n"], e["m"], e["eta"], e["T"]) for e in data["entries"]}
    swept = {(int(r["n"]), int(r["m"])) for r in records}  # points without outcomes: no use
    todo = sorted((p for p in preset("full").points if p.config.n in ns
                   and (ms is None or p.config.m in ms)
                   and (p.config.n, p.config.m) in swept
                   and (p.config.n, p.config.m, p.config.eta, p.config.T) not in done),
                  key=lambda p: (p.config.n, p.config.m))
    for k, p in enumerate(todo):
        c = p.config
        began = time.perf_counter()
        with cpu_threads():  # the point's first seed (the file's design: one network a point)
            tracking = flow_tracking(dataclasses.replace(c, seeds=(c.seed,))).per_seed[0]
        entry = _finite({
            "n": c.n, "m": c.m, "seed": c.seed, "L": tracking.L, "eta": c.eta, "T": c.T,
            "tracking": tracking.to_dict(), "wall_s": time.perf_counter() - began,
            "committed": committed(records, c.n, c.m, c.seed)})
        data["entries"] = sorted([*data["entries"], entry],
                                 key=lambda e: (e["n"], e["m"], e["T"]))
        data |= {"command": COMMAND + " " + " ".join(str(n) for n in ns),
                 "what": "numerics.tracking.flow_tracking of the width-thresholds full "
                         "preset's points (one seed, the deepest depth, the point's eta and "
                         "T(n)) beside the committed outcomes of " + str(COMMITTED.relative_to(
                             ROOT)),
                 "rule": {"edge": DAMPING_EDGE, "ratio_band": list(ORDER_BAND)},
                 "machine": platform.node() + " " + platform.processor(),
                 "left": [[q.config.n, q.config.m] for q in todo[k + 1:]],
                 "table": [row(e) for e in data["entries"]]}
        atomic_write_json(out, data)
        print(json.dumps(row(entry) | {"wall_s": entry["wall_s"]}), flush=True)
    return data


def _main(argv: Sequence[str]) -> None:
    """``N ... [--m M ...]``: integers; anything else is one line and exit status 2."""
    ns, ms = list(argv), None
    if "--m" in ns:
        k = ns.index("--m")
        ns, ms = ns[:k], ns[k + 1:]
    if not all(a.isdigit() for a in ns + (ms or [])) or ms == []:
        print("usage: python -m reports.sweep.width_tracking [N ...] [--m M ...] "
              "(N, M: integers)", file=sys.stderr)
        raise SystemExit(2)
    measure(tuple(int(a) for a in ns) or NS, ms=None if ms is None else [int(a) for a in ms])


if __name__ == "__main__":
    _main(sys.argv[1:])
