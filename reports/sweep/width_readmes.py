"""The width data READMEs' numbers, rendered from the committed files (issue 29).

Each README under ``reports/data/width-*`` quotes its numbers in marked blocks
(``<!-- name -->`` ... ``<!-- /name -->``, :func:`reports.readme.replace_blocks`) rendered here
from the committed records alone:

- ``steps``, in the README of each group "n=N, eta=ETA" of
  :data:`reports.sections.width.FACTORS_FILE` (the full preset's widths at n = N rerun with a
  smaller step, ``reports/data/width-flow*/sweep.json``): per width, how many seeds interpolate,
  are 1/L-smooth and limit-smooth at the preset's eta and at the smaller one, l(T)/l(0) and the
  gap slope per seed, the flow tracking per seed (max_t eta lambda_max, the step-halving ratio;
  :mod:`numerics.tracking`) and the wall times; below, both thresholds at both steps (as S15
  fits them) and how many seeds' steps are inside the damping edge, track the flow, or halve to
  no first-order ratio;
- ``tracking``, ``rounding`` and ``largest-n`` in the full preset's README, and ``estimate``,
  the cost model's estimates of each preset (:func:`reports.sweep.width.estimate_lines`: the
  code and the committed pilots' horizons, no record).

    python -m reports.sweep.width_readmes      # rewrites every block of :data:`BLOCKS`

tests/test_width_readmes.py fails when a README's block differs from its rendering.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from numerics.thresholds import SMOOTH_EDGE
from numerics.tracking import DAMPING_EDGE, ORDER_BAND
from numerics.width_analysis import analyze, cells, with_tracking
from reports.readme import blocks_in, replace_blocks
from reports.sections import width
from reports.sections.base import Context
from reports.sweep.width import cost_model, estimate_lines, point_cost, preset
from reports.text import fmt
from theory.config import Config

DATA = width.ROOT / "reports" / "data"
STEPS = {DATA / "width-flow" / "README.md": "n=32, eta=0.0025",
         DATA / "width-flow-64" / "README.md": "n=64, eta=0.0025",
         DATA / "width-flow-128" / "README.md": "n=128, eta=0.0025"}
"""README -> its group of :data:`reports.sections.width.FACTORS_FILE` (block ``steps``)."""
FULL = DATA / "width-thresholds-full" / "README.md"
"""The full preset's README: blocks ``tracking``, ``rounding``, ``largest-n`` and
``estimate``."""


@dataclasses.dataclass(frozen=True)
class Committed:
    """The committed files every block is rendered from, read once: the full preset's data file
    (``full``), :func:`reports.sections.width.factor_groups` of its records with their measured
    flow tracking (as S15 reads them) and of :data:`reports.sections.width.FACTORS_FILE`
    (``groups``), :data:`reports.sections.width.TRACKING_FILE` and
    :data:`reports.sections.width.ROUNDING_FILE`."""

    full: dict[str, Any]
    groups: dict[str, tuple[int, str, list[dict[str, Any]]]]
    tracking: dict[str, Any]
    rounding: dict[str, Any]


def committed() -> Committed:
    def read(path: Path) -> dict[str, Any]:
        return json.loads(path.read_text(encoding="utf-8"))

    full = read(width.DATA_FILE)
    records = with_tracking(full["records"], width._measured_tracking())
    return Committed(full, width.factor_groups(records, read(width.FACTORS_FILE)),
                     read(width.TRACKING_FILE), read(width.ROUNDING_FILE))


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


def steps(data: Committed, key: str) -> str:
    """The ``steps`` block of the README of group ``key``."""
    groups = data.groups
    if key not in groups:
        return (f"`{width._rel(width.FACTORS_FILE)}` has no group \"{key}\" yet (`python -m "
                "reports.sections.width factors FOLDER` adds it once two widths have landed).")
    n, changed, rs = groups[key]
    base = groups[f"n={n}, base"][2]
    seed = Context("quick").seed
    fit = {k: analyze(v, reps=width.REPS, seed=seed, grid=width.FACTOR_GRID)
           for k, v in (("base", base), ("rerun", rs))}
    by_m = {k: {c["m"]: c for c in a["cells"]} for k, a in fit.items()}
    eta0, eta = float(base[0]["eta"]), float(rs[0]["eta"])
    lines = [f"Rendered by `python -m reports.sweep.width_readmes` from "
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
        b, c = by_m["base"].get(m), by_m["rerun"][m]
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


def tracking(data: Committed) -> str:
    """The ``tracking`` block: per (n, T) of :data:`reports.sections.width.TRACKING_FILE`, the
    widths where gradient descent at the sweep's eta tracks the flow and where it does not, with
    the range of max_t eta lambda_max and of the step-halving ratio over the widths measured."""
    stored = data.tracking
    by: dict[tuple[int, float, float], list[dict[str, Any]]] = {}
    for e in stored["entries"]:
        by.setdefault((int(e["n"]), float(e["eta"]), float(e["T"])), []).append(e)
    lines = [f"`{width._rel(width.TRACKING_FILE)}` (one seed at the deepest depth of the point's"
             " grid), per n and horizon:", ""]
    for (n, eta, T), es in sorted(by.items()):
        es = sorted(es, key=lambda e: int(e["m"]))
        said = [f"{word} at m = " + ", ".join(str(int(e["m"])) for e in part)
                for word, part in (("tracks", [e for e in es if e["tracking"]["tracks"]]),
                                   ("does not track", [e for e in es
                                                       if not e["tracking"]["tracks"]]))
                if part]
        lines.append(f"- n = {n}, eta = {eta:g}, T = {T:g}: " + "; ".join(said)
                     + " (max_t eta lambda_max "
                     + _span([e["tracking"]["max_eta_lambda_max"] for e in es], 3)
                     + ", step-halving ratio "
                     + _span([e["tracking"]["ratio"] for e in es], 3) + ")")
    return "\n".join(lines)


def rounding(data: Committed) -> str:
    """The ``rounding`` block: S15's paragraph on :data:`reports.sections.width.ROUNDING_FILE`
    (:func:`reports.sections.width._rounding_note`), and per seed compared there the slopes of
    the committed full-preset record (the sweep's machine) beside those rerun with the labels as
    drawn (this file's machine; its steps are the point's eta and eta / step_divisor)."""
    stored = data.rounding
    drawn = {(int(r["n"]), int(r["m"]), int(r["seed"])): r for r in data.full["records"]}
    eta0 = min(float(e["eta"]) for e in stored["entries"]) * stored["step_divisor"]
    pairs = []
    for e in stored["entries"]:
        r = drawn.get((int(e["n"]), int(e["m"]), int(e["seed"])))
        if (e["perturbed"] or float(e["eta"]) != eta0 or r is None
                or list(r["depths"]) != list(e["depths"])):  # slopes on one depth grid
            continue
        pairs.append(f"n = {e['n']}, m = {e['m']}, seed {e['seed']}: gap slope "
                     f"{fmt(r['gap_slope'], 3)} / {fmt(e['gap_slope'], 3)}, limit slope "
                     f"{fmt(r['limit_slope'], 3)} / {fmt(e['limit_slope'], 3)}")
    return (width._rounding_note(stored) + f"\n\nThe committed full-preset records ("
            f"{width._rel(width.DATA_FILE)}) / the same seeds rerun at eta = {eta0:g} with the "
            f"labels as drawn on {stored['machine'].strip()}: " + "; ".join(pairs) + ".")


def largest_n(data: Committed) -> str:
    """The ``largest-n`` block: at the largest n of the full preset's data, per width its
    seeds, outcomes and mean per-seed gap slope with its Student-t interval
    (:func:`numerics.width_analysis.cells`), the per-doubling change of that mean over the three
    widest widths (a reading of the trend, not the verdict rule), how the measured training
    walls compare with the cost model's training term, and the widths of the preset left to run
    with the model's estimates."""
    stored = data.full
    n = max(int(r["n"]) for r in stored["records"])
    cs = cells([r for r in stored["records"] if int(r["n"]) == n])
    lines = [f"n = {n} (T = {cs[0]['T']:g}, depths {cs[0]['depths']}; "
             f"`{width._rel(width.DATA_FILE)}`):", "",
             "| m | seeds | interpolate | 1/L-smooth | limit-smooth | mean gap slope [95%] |",
             "|---|---|---|---|---|---|"]
    for c in cs:
        k = c["seeds"]
        lines.append(f"| {c['m']} | {k} | " + " | ".join(
            f"{round(c['fraction_' + o] * k)}" for o in ("interp", "ode", "limit"))
            + f" | {fmt(c['gap_slope'], 3)} [{fmt(c['gap_slope_interval'][0], 3)}, "
            f"{fmt(c['gap_slope_interval'][1], 3)}] |")
    last = cs[-3:]
    b, a = np.polyfit([math.log2(c["m"]) for c in last], [c["gap_slope"] for c in last], 1)
    trend = (f"Over m = {', '.join(str(c['m']) for c in last)} the mean gap slope changes by "
             f"{fmt(b, 2)} per doubling of m" + (
                 f"; a line through them reaches the smoothness edge {SMOOTH_EDGE:g} near m = "
                 f"{fmt(2.0 ** ((SMOOTH_EDGE - a) / b), 2)} (a reading of the trend, not the "
                 "verdict rule)" if b < 0 else "") + ".")
    units: dict[tuple[int, float], list[dict[str, Any]]] = {}
    for r in stored["records"]:
        if int(r["n"]) == n:
            units.setdefault((int(r["m"]), float(r["wall_s"])), []).append(r)
    ratios = sorted(wall / (cost_model(n, m, rs[0]["depths"], len(rs), tracking=False)
                            * round(float(rs[0]["T"]) / float(rs[0]["eta"])))
                    for (m, wall), rs in units.items())
    trend += (f"  The measured training walls at n = {n} are {fmt(float(np.median(ratios)), 2)} "
              f"times the cost model's training term in the median ({len(ratios)} units, from "
              f"{fmt(ratios[0], 2)} to {fmt(ratios[-1], 2)}; the walls of a loaded machine).")
    seeds = {c["m"]: c["seeds"] for c in cs}
    left = [p.config for p in preset("full").points
            if p.config.n == n and seeds.get(p.config.m, 0) < len(p.config.seeds)]
    if left:
        ratio = float(np.median(ratios))

        def seed_hours(c: Config) -> float:
            return cost_model(c.n, c.m, c.depths, 1, tracking=False) * c.iterations / 3600

        trend += (f"  Left at n = {n}: m = " + ", ".join(
            f"{c.m} ({point_cost(c) / 3600:.3g} h per point with the flow tracking, "
            f"{seed_hours(c):.2g} h per seed training alone, {ratio * seed_hours(c):.2g} h at "
            "the median ratio)" for c in left)
            + f", single-core estimates of the cost model (`python -m reports.sweep.width "
            f"estimate`; {len(left[0].seeds)} seeds per point).")
    return "\n".join(lines) + "\n\n" + trend


BLOCKS: dict[Path, dict[str, Callable[[Committed], str]]] = {
    **{path: {"steps": functools.partial(steps, key=key)} for path, key in STEPS.items()},
    FULL: {"tracking": tracking, "rounding": rounding, "largest-n": largest_n,
           "estimate": lambda data: "\n".join(estimate_lines())}}
"""README -> its blocks' renderers."""


def stale() -> list[str]:
    """"README: block" for every block that differs from its rendering (or is missing)."""
    data, out = committed(), []
    for path, blocks in BLOCKS.items():
        have = blocks_in(path.read_text())
        out += [f"{path.relative_to(width.ROOT)}: {name}" for name, render in blocks.items()
                if have.get(name) != render(data)]
    return out


def main() -> None:
    data = committed()
    for path, blocks in BLOCKS.items():
        replace_blocks(path, {name: render(data) for name, render in blocks.items()})
        print(f"{path.relative_to(width.ROOT)}: {', '.join(blocks)}")


if __name__ == "__main__":
    main()
