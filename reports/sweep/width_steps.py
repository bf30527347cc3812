"""The step comparisons of the width thresholds, as the data READMEs quote them (issue 29).

A group "n=N, eta=ETA" of :data:`reports.sections.width.FACTORS_FILE` reruns the full preset's
widths at n = N with a smaller step (``reports/data/width-flow*/sweep.json``).  Its README's
``<!-- steps -->`` block is rendered here from the committed records alone: per width, how many
seeds interpolate, are 1/L-smooth and limit-smooth at the preset's eta and at the smaller one,
l(T)/l(0) and the gap slope per seed, the flow tracking per seed (max_t eta lambda_max, the
step-halving ratio; :mod:`numerics.tracking`) and the wall times; below, both thresholds at
both steps (as S15 fits them) and how many seeds' steps are inside the damping edge, track the
flow, or halve to no first-order ratio.

    python -m reports.sweep.width_steps      # rewrites every README of :data:`READMES`

tests/test_width_steps.py fails when a README's block differs from this rendering.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from numerics.tracking import DAMPING_EDGE, ORDER_BAND
from numerics.width_analysis import analyze, with_tracking
from reports.readme import blocks_in, replace_blocks
from reports.sections import width
from reports.sections.base import Context
from reports.text import fmt

DATA = width.ROOT / "reports" / "data"
READMES = {DATA / "width-flow" / "README.md": "n=32, eta=0.0025",
           DATA / "width-flow-64" / "README.md": "n=64, eta=0.0025",
           DATA / "width-flow-128" / "README.md": "n=128, eta=0.0025"}
"""README -> its group of :data:`reports.sections.width.FACTORS_FILE`."""
BLOCK = "steps"


def _groups() -> dict[str, tuple[int, str, list[dict[str, Any]]]]:
    """:func:`reports.sections.width.factor_groups` of the committed files, the full preset's
    records with their measured flow tracking (as S15 reads them)."""
    stored = json.loads(width.DATA_FILE.read_text(encoding="utf-8"))
    records = with_tracking(stored["records"], width._measured_tracking())
    factors = json.loads(width.FACTORS_FILE.read_text(encoding="utf-8"))
    return width.factor_groups(records, factors)


def _count(rs: list[dict[str, Any]], key: str) -> str:
    return f"{sum(int(r[key]) for r in rs)} of {len(rs)}"


def _values(rs: list[dict[str, Any]], key: str) -> list[float]:
    """The measured (finite) ``key`` of ``rs``."""
    return [float(r[key]) for r in rs if r.get(key) is not None and math.isfinite(float(r[key]))]


def _span(values: list[float], digits: int = 2) -> str:
    if not values:
        return "-"
    lo, hi = min(values), max(values)
    return fmt(lo, digits) if lo == hi else f"{fmt(lo, digits)} .. {fmt(hi, digits)}"


def _walls(rs: list[dict[str, Any]], key: str) -> str:
    """The summed wall time of the units behind ``rs`` (a unit's records share its wall)."""
    walls = {float(r[key]) for r in rs if r.get(key) is not None}
    return f"{sum(walls):.0f}" if walls else "-"


def render(key: str) -> str:
    """The ``steps`` block of the README of group ``key``."""
    groups = _groups()
    if key not in groups:
        return (f"No point has landed yet: `{width._rel(width.FACTORS_FILE)}` has no group "
                f"\"{key}\" (`python -m reports.sections.width factors FOLDER` adds it).")
    n, changed, rs = groups[key]
    base = groups[f"n={n}, base"][2]
    seed = Context("quick").seed
    fit = {k: analyze(v, reps=width.REPS, seed=seed, grid=width.FACTOR_GRID)
           for k, v in (("base", base), ("rerun", rs))}
    cells = {k: {c["m"]: c for c in a["cells"]} for k, a in fit.items()}
    eta0, eta = float(base[0]["eta"]), float(rs[0]["eta"])
    lines = [f"Rendered by `python -m reports.sweep.width_steps` from "
             f"`{width._rel(width.FACTORS_FILE)}` (group \"{key}\") and the full preset at "
             f"n = {n} (`{width._rel(width.DATA_FILE)}`), on depths "
             f"{width.FACTOR_GRID[0]}..{width.FACTOR_GRID[-1]}, T = {fmt(rs[0]['T'], 4)}; "
             f"per seed at eta = {eta:g}"
             + (" (a unit resumed after a kill counts its last sitting's wall)"
                if any(_values(rs, "resumed")) else "") + ":", "",
             f"| m | interpolate, eta = {eta0:g} / {eta:g} | 1/L-smooth, eta = {eta0:g} / {eta:g}"
             f" | limit-smooth, eta = {eta0:g} / {eta:g} | l(T)/l(0) | gap slope | seeds that "
             f"track, eta = {eta0:g} / {eta:g} | eta lambda_max | step-halving ratios | wall s, "
             "training / tracking |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for m in sorted({int(r["m"]) for r in rs}):
        at = sorted((r for r in rs if int(r["m"]) == m), key=lambda r: float(r["seed_value"]))
        b, c = cells["base"].get(m), cells["rerun"][m]
        L = int(max(float(r["L_max"]) for r in at))

        def both(name: str, b: dict[str, Any] | None = b, c: dict[str, Any] = c) -> str:
            first = "-" if b is None else f"{round(b['fraction_' + name] * b['seeds'])}"
            return f"{first} / {round(c['fraction_' + name] * c['seeds'])} of {c['seeds']}"

        def tracked(cell: dict[str, Any] | None) -> str:
            return ("not measured" if cell is None or not cell["seeds_tracking_known"]
                    else f"{cell['seeds_tracked']} of {cell['seeds_tracking_known']}")

        lines.append(
            f"| {m} | {both('interp')} | {both('ode')} | {both('limit')} | "
            f"{_span(_values(at, f'l_ratio_L{L}'))} | {_span(_values(at, 'gap_slope'))} | "
            f"{tracked(b)} / {tracked(c)} | {_span(_values(at, 'track_eta_lambda_max'), 3)} | "
            + (", ".join(fmt(v, 3) for v in sorted(_values(at, "track_ratio"))) or "-")
            + f" | {_walls(at, 'wall_s')} / {_walls(at, 'track_wall_s')} |")
    known = [r for r in rs if _values([r], "tracks")]
    inside = [r for r in known if float(r["track_eta_lambda_max"]) < DAMPING_EDGE]
    off = [r for r in known if not ORDER_BAND[0] <= float(r["track_ratio"]) <= ORDER_BAND[1]]
    lines += ["", "; ".join(
        f"m*_{name}({n}): {width._interval(fit['rerun']['thresholds'][name][0])} at "
        f"eta = {eta:g}, {width._interval(fit['base']['thresholds'][name][0])} at eta = {eta0:g}"
        for name in ("interp", "ode"))
        + f".  At eta = {eta:g} the step is inside the damping edge (max_t eta lambda_max < "
        f"{DAMPING_EDGE:.3g}) at {len(inside)} of {len(known)} seeds measured, gradient descent "
        f"tracks the flow at {sum(int(r['tracks']) for r in known)} of {len(known)}, and the "
        f"step halving is not first order (ratio outside [{ORDER_BAND[0]:.3g}, "
        f"{ORDER_BAND[1]:.3g}]) at {len(off)} of {len(known)}, {sum(r in inside for r in off)} "
        "of them with the step inside the damping edge."]
    return "\n".join(lines)


def stale() -> list[Path]:
    """The READMEs whose block differs from :func:`render` (or that have none)."""
    return [p for p, key in READMES.items() if blocks_in(p.read_text()).get(BLOCK) != render(key)]


def main() -> None:
    for path, key in READMES.items():
        replace_blocks(path, {BLOCK: render(key)})
        print(f"{path.relative_to(width.ROOT)}: {key}")


if __name__ == "__main__":
    main()
