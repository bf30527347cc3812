"""S15: how wide must the network be?  Both width thresholds of Theorem 6, per n, with intervals.

Theorem 6 assumes m >= c1 n (c1 = 1.3e7 for tanh).  This section measures, beyond that assumption,
two thresholds per sample size n (measured by :mod:`numerics.thresholds`, fitted by
:mod:`numerics.width_analysis`): m*_interp(n), from which on a seed interpolates (l(T) <= 1e-2
l(0)) within the horizon T(n) (twice a measured pilot knee, :mod:`numerics.horizon`), and
m*_ode(n), from which on its trained weights are 1/L-smooth (the seed's slope of sup_t max_k
||Z_{k+1} - Z_k|| against L over the depth grid <= -0.8, the edge of the one-sided O(1/L) region
:data:`theory.catalog.ONE_OVER_L`).  Each is the midpoint of a logistic in log m fitted by
maximum likelihood to the seed-level 0/1 outcomes, with a bootstrap interval over seeds; the
exponents of m*(n) ~ a n^gamma come with intervals from the same bootstrap replicates.

Data: the committed full-preset file :data:`DATA_FILE` when present (``resnet-ode sweep --preset
width-thresholds --full --out reports/data/width-thresholds-full``, then ``python -m
reports.sections.width collect``; its provenance is printed with the section), else the quick
preset's grid computed here (:mod:`reports.sweep.width`, with the flow tracking of each
point; its cost: ``python -m reports.sweep.width estimate``).
``results.json`` carries both thresholds per n and both exponents with intervals under the
section's ``results`` (docs/results-json.md).
"""

from __future__ import annotations

import json
import math
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from numerics.horizon import check_pilots, horizon, horizon_check, pilots
from numerics.thresholds import SMOOTH_EDGE, study_base, width_point
from numerics.tracking import DAMPING_EDGE, ORDER_BAND
from numerics.transition import MONOTONE_LEVEL, Logistic, located
from numerics.width_analysis import OUTCOMES, analyze, common_grid, with_tracking
from reports import figures
from reports.io import atomic_write_json
from reports.sections.base import Checks, Context, Row, Section
from reports.text import fmt
from theory.constants import constants

ROOT = Path(__file__).resolve().parents[2]
DATA_FILE = ROOT / "reports" / "data" / "width-thresholds-full.json"
RESULTS_DIR = ROOT / "reports" / "data" / "width-thresholds-full"
FACTORS_FILE = ROOT / "reports" / "data" / "width-factors.json"
"""The thresholds with one base field changed at a time (:data:`FACTOR_FIELDS`, and the step;
quick-grid widths and depths; committed by :func:`collect_factors`, drawn when present)."""
FACTOR_FIELDS = ("y_scale", "d", "q")
"""The fields whose effect on the thresholds is measured (issue 29: the label scale, the input
dimension d, the embedding dimension q); the step eta may change with one of them or alone (a
group rerun where gradient descent tracks the flow)."""
FACTOR_GRID = (4, 8, 16, 32)
"""The depth grid the groups are compared on (the quick grid's)."""
TRACKING_FILE = ROOT / "reports" / "data" / "width-tracking.json"
"""Flow tracking of the committed points, measured after they were swept
(:mod:`reports.sweep.width_tracking`): attached to records that carry none of their own."""
ROUNDING_FILE = ROOT / "reports" / "data" / "width-rounding.json"
"""Seeds of committed points rerun with the labels scaled by 1 + 1e-12, at the sweep's eta and a
quarter of it (:mod:`reports.sweep.width_rounding`): is an outcome decided by rounding?"""
REPS = 1000
Q, D_OUT = 8, 4
FITTED = ("interp", "ode", "limit")
"""The outcomes whose power laws S15 fits and whose thresholds its factors table shows (every
outcome of :data:`numerics.width_analysis.OUTCOMES` is fitted and tested for monotonicity)."""


def _c1() -> float:
    return float(constants(activation="tanh", n=8, q=Q, d=4, d_out=D_OUT, m=8, L=8)["c1"])


def _rel(path: Path) -> str:
    """``path`` relative to the repository (as it is when outside)."""
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def _rows(ctx: Context) -> list[Row]:
    return []


# --------------------------------------------------------------------------- data


def _units(folder: Path) -> list[tuple[dict[str, Any], dict[str, Any], str]]:
    """Every unit a sweep saved under ``folder``/results (reports.sweep.engine), in file order:
    its configuration, its record (with its seed and depth grid) and its code version."""
    out = []
    for path in sorted((folder / "results").glob("*.json")):
        saved = json.loads(path.read_text(encoding="utf-8"))
        cfg = saved["config"]
        out.append((cfg, dict(saved["record"]) | {"seed": saved["seed"], "depths": cfg["depths"]},
                    saved["code_version"]))
    return out


def _stamp(units: list[tuple[dict[str, Any], dict[str, Any], str]],
           extra: dict[str, Any]) -> dict[str, Any]:
    """Provenance of collected ``units``: their code versions, ``extra``, where and when they
    were collected, the summed wall time of their tasks, training and flow tracking (the records
    of one task, a point's seeds batched or one seed, share its ``wall_s`` and
    ``track_wall_s``), and how many units resumed after a kill (``resumed``: their wall time
    counts their last sitting only)."""
    tasks = {(rec["n"], rec["m"], (rec.get("wall_s") or 0.0) + (rec.get("track_wall_s") or 0.0))
             for _, rec, _ in units}
    return {"code_versions": sorted({v for _, _, v in units}), **extra,
            "collected_on": platform.node() + " " + platform.platform(),
            "collected_at": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
            "wall_s_tasks": float(sum(w for _, _, w in tasks)),
            "resumed_units": sum(rec.get("resumed") == 1.0 for _, rec, _ in units),
            "points": len({(n, m) for n, m, _ in tasks})}


def collect(folder: Path = RESULTS_DIR, out: Path = DATA_FILE) -> dict[str, Any]:
    """The data file of a sweep's results folder: every record (with its seed and n, m, T,
    depths), and provenance: code versions and git commits of the runs, the base configuration,
    the seeds per (n, m), the machine, the summed wall time of the tasks."""
    units = _units(folder)
    records = [rec for _, rec, _ in units]
    configs: dict[tuple[int, int], dict[str, Any]] = {}
    for cfg, _, _ in units:
        configs.setdefault((cfg["n"], cfg["m"]), cfg)
    seeds: dict[str, list[int]] = {}
    for r in records:
        seeds.setdefault(f"{int(r['n'])},{int(r['m'])}", []).append(int(r["seed"]))
    base = dict(next(iter(configs.values()))) if configs else {}
    for key in ("n", "m", "T", "L", "depths", "seeds", "seed"):
        base.pop(key, None)
    provenance_file = folder / "PROVENANCE.json"
    extra = (json.loads(provenance_file.read_text(encoding="utf-8"))
             if provenance_file.exists() else {})
    data = {"schema": 1, "preset": "width-thresholds full",
            "provenance": _stamp(units, extra) | {"records": len(records)},
            "config": base,
            "horizons": {str(int(n)): float(c["T"]) for (n, _), c in sorted(configs.items())},
            "depths": {str(int(n)): list(c["depths"]) for (n, _), c in sorted(configs.items())},
            "seeds": seeds, "records": records}
    atomic_write_json(out, data)
    return data


def _compute(ctx: Context) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The quick (or tiny) grid computed here: records and where they came from."""
    # cycle: reports.sweep.width -> reports.sweep.spec -> reports.sections (this package)
    from reports.sweep.width import GRIDS, base_config, depths_at, widths

    began = time.perf_counter()
    if ctx.scale == "tiny":
        configs = [base_config(n=n, m=m, T=2.0, eta=0.05, L=4, depths=(2, 4), seeds=(0, 1, 2))
                   for n in (4, 8) for m in widths(n, (0.25, 1.0, 4.0))]
    else:
        grid = GRIDS["quick"]
        configs = [base_config(n=n, m=m, T=horizon(n), L=depths_at(grid, n)[-1],
                               depths=depths_at(grid, n), seeds=grid.seeds)
                   for n in grid.ns for m in widths(n, grid.ratios_at(n))]
    records = []
    for c in configs:
        for rec in width_point(c):
            records.append(rec | {"seed": int(rec["seed_value"]), "depths": list(c.depths)})
    return records, {"kind": "computed", "scale": ctx.scale, "wall_s": time.perf_counter()
                     - began, "machine": platform.node() + " " + platform.processor(),
                     "points": len(configs)}


def _data(ctx: Context, checks: Checks) -> dict[str, Any]:
    if ctx.scale != "tiny" and DATA_FILE.exists():
        stored = json.loads(DATA_FILE.read_text(encoding="utf-8"))
        records = stored["records"]
        source = {"kind": "file", "file": _rel(DATA_FILE),
                  **stored["provenance"], "config": stored["config"],
                  "horizons": stored["horizons"]}
    else:
        records, source = _compute(ctx)
    records = with_tracking(records, _measured_tracking())
    c1 = _c1()
    reps = 200 if ctx.scale == "tiny" else REPS
    horizon_rows = _horizon_rows(records)
    out = analyze(records, reps=reps, seed=ctx.seed, q=Q, d_out=D_OUT, c1=c1,
                  fit_ns={h["n"] for h in horizon_rows} - set(_short(horizon_rows)))
    extended = {}
    grid = common_grid(records)
    deep = sorted({tuple(r["depths"]) for r in records if len(r["depths"]) > len(grid)})
    for depths in deep:
        rs = [r for r in records if tuple(r["depths"]) == depths]
        extended = {"depths": list(depths), **analyze(rs, reps=reps, seed=ctx.seed, q=Q,
                                                      d_out=D_OUT, c1=c1, grid=depths)}
        deep = analyze(rs, reps=reps, seed=ctx.seed, grid=depths[-3:])
        extended["deep"] = {"grid": list(depths[-3:]), "ode": deep["thresholds"]["ode"],
                            "limit": deep["thresholds"]["limit"]}
    factors = _factors(records, reps, ctx.seed) if ctx.scale != "tiny" else {}
    rounding = (json.loads(ROUNDING_FILE.read_text(encoding="utf-8"))
                if ctx.scale != "tiny" and ROUNDING_FILE.exists() else None)
    return {"source": source, "analysis": out, "extended": extended, "c1": c1, "factors": factors,
            "rounding": rounding,
            "pilots": {str(k): v for k, v in pilots().items()}, "horizon_rows": horizon_rows,
            "results": _results(out, source, c1) | {"horizons": horizon_rows}}


def _horizon_rows(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per n (increasing) the horizon its records ran to, where it came from
    (:func:`_pilot_kind`) and the check pilot measured afterwards, if any
    (:func:`numerics.horizon.horizon_check`).  An n whose horizon is shorter than the rule's is
    left out of the exponents' fits: its thresholds are of another definition ("within T(n)")."""
    measured, later = pilots(), check_pilots()
    horizons = {int(r["n"]): float(r["T"]) for r in sorted(records, key=lambda r: r["n"])}
    return [{"n": n, "T": T, "pilot": _pilot_kind(n, T, measured),
             "check": horizon_check(T, later[n]) if n in later else None}
            for n, T in horizons.items()]


def _short(horizon_rows: list[dict[str, Any]]) -> list[int]:
    """The n whose horizon is shorter than the rule's, by the check pilot measured there."""
    return [h["n"] for h in horizon_rows if h["check"] and h["check"]["meets"] is False]


def _pilot_kind(n: int, T: float, measured: dict[int, float]) -> str:
    """Where the horizon T at n came from: "measured" (the rule on a pilot at n),
    "extrapolated" (the rule's power fit) or "set" (not the rule's: a configuration's own T)."""
    if len(measured) >= 2 and T == horizon(n, measured):
        return "measured" if n in measured else "extrapolated"
    return "set"


def _measured_tracking() -> dict[tuple[int, int, float, float], dict[str, Any]]:
    """The flow tracking per (n, m, eta, T) of :data:`TRACKING_FILE` (empty when absent)."""
    if not TRACKING_FILE.exists():
        return {}
    stored = json.loads(TRACKING_FILE.read_text(encoding="utf-8"))
    return {(int(e["n"]), int(e["m"]), float(e["eta"]), float(e["T"])): e["tracking"]
            for e in stored["entries"]}


def factor_groups(records: list[dict[str, Any]],
                  stored: dict[str, Any]) -> dict[str, tuple[int, str, list[dict[str, Any]]]]:
    """Per group of ``stored`` (:data:`FACTORS_FILE`'s content: one base field, or the step,
    changed at one n) its n, change and records, and per such n the base "n=N, base": the full
    preset's ``records`` at that n with y_scale = 1 on :data:`FACTOR_GRID`."""
    groups: dict[str, tuple[int, str, list[dict[str, Any]]]] = {}
    for n in sorted({int(g["n"]) for g in stored["groups"].values()}):
        groups[f"n={n}, base"] = (n, "base", [
            r for r in records if int(r["n"]) == n and float(r.get("y_scale", 1.0)) == 1.0
            and set(FACTOR_GRID) <= set(r["depths"])])
    return groups | {key: (int(g["n"]), g["changed"], g["records"])
                     for key, g in sorted(stored["groups"].items(),
                                          key=lambda kv: (kv[1]["n"], kv[0]))}


def _factors(records: list[dict[str, Any]], reps: int, seed: int) -> dict[str, Any]:
    """Per group of :func:`factor_groups`: the thresholds m*_interp, m*_ode, m*_limit, the
    fractions per width and the widths where gradient descent does not track the flow."""
    if not FACTORS_FILE.exists():
        return {}
    stored = json.loads(FACTORS_FILE.read_text(encoding="utf-8"))
    out = {}
    for key, (n, changed, rs) in factor_groups(records, stored).items():
        if not rs:
            continue
        a = analyze(rs, reps=reps, seed=seed, grid=FACTOR_GRID)
        out[key] = {"n": n, "changed": changed} | {
            k: a["thresholds"][k][0] for k in FITTED} | {
            "fractions": [[c["m"], c["fraction_interp"], c["fraction_ode"]] for c in a["cells"]],
            "tracked": [[c["m"], c["seeds_tracked"], c["seeds_tracking_known"]]
                        for c in a["cells"]],
            "untracked": [c["m"] for c in a["cells"] if c["tracks"] is False],
            "tracking_measured": all(c["tracks"] is not None for c in a["cells"])}
    return {"file": _rel(FACTORS_FILE), "groups": out,
            "provenance": {k: g["provenance"] for k, g in stored["groups"].items()}}


def _changed(cfg: dict[str, Any], base: dict[str, Any], path: Path) -> str:
    """"FIELD=VALUE" for the one field of :data:`FACTOR_FIELDS` that ``cfg`` changes from
    ``base``, with "eta=ETA" where the step differs (alone, or beside it)."""
    changed = [f"{f}={cfg[f]}" for f in FACTOR_FIELDS if cfg[f] != base[f]]
    step = [f"eta={cfg['eta']}"] if cfg["eta"] != base["eta"] else []
    if len(changed) > 1 or not changed + step:
        raise SystemExit(f"{path}: not one of {', '.join(FACTOR_FIELDS)} or the step changed "
                         f"(changed: {', '.join(changed) or 'none'})")
    return ", ".join(changed + step)


def collect_factors(folders: list[Path], out: Path = FACTORS_FILE) -> dict[str, Any]:
    """Add each sweep results folder of ``folders`` (``resnet-ode sweep --preset
    width-thresholds --quick --set 'ns=[N]' --set FIELD=VALUE --out FOLDER``, or a sweep file
    with the preset's base at other widths) to ``out`` as the group "n=N, FIELD=VALUE"
    (:func:`_changed` against numerics.thresholds.study_base); the groups already in ``out``
    stay.  A folder with results at one width only is refused: one width cannot locate the
    logistic's midpoint (its fraction fixes one point of the curve, not where it crosses 1/2)."""
    base = study_base().to_dict()
    data = (json.loads(out.read_text(encoding="utf-8")) if out.exists()
            else {"schema": 2, "groups": {}})
    for folder in folders:
        units = _units(folder)
        if not units:
            raise SystemExit(f"{folder}: no sweep results")
        names = {(int(cfg["n"]), _changed(cfg, base, folder)) for cfg, _, _ in units}
        if len(names) != 1:
            raise SystemExit(f"{folder}: results of several groups "
                             f"({'; '.join(f'n={n}, {c}' for n, c in sorted(names))})")
        n, changed = names.pop()
        widths = sorted({int(cfg["m"]) for cfg, _, _ in units})
        if len(widths) < 2:
            raise SystemExit(f"{folder}: results at one width only (m = {widths[0]}): a logistic "
                             "threshold needs at least two widths; add the folder when a second "
                             "lands")
        data["groups"][f"n={n}, {changed}"] = {
            "n": n, "changed": changed,
            "provenance": _stamp(units, {"folder": _rel(folder)}),
            "records": [rec for _, rec, _ in units]}
    data["command"] = ("resnet-ode sweep --preset width-thresholds --quick --set 'ns=[N]' --set "
                       "FIELD=VALUE --out FOLDER; python -m reports.sections.width factors "
                       "FOLDER ...")
    atomic_write_json(out, data)
    return data


def _results(out: dict[str, Any], source: dict[str, Any], c1: float) -> dict[str, Any]:
    """What results.json carries (docs/results-json.md, section ``results``)."""
    def rows(name: str) -> list[dict[str, Any]]:
        return [{"n": t["n"], "m_star": t["m_star"] if located(t) else None,
                 "interval": t["interval"] if located(t) else None,
                 "censored": t["censored"] or None,
                 "bound": {"below": t["widths"][0], "above": t["widths"][-1]}.get(t["censored"]),
                 "m_star_over_n": t["m_star_over_n"] if located(t) else None,
                 "monotone_p": t["monotone_p"], "falls": t["falls"]}
                for t in out["thresholds"][name]]

    def exp(name: str) -> dict[str, Any] | None:
        e = out["exponents"][name]
        return None if e is None else {"gamma": e["gamma"], "interval": e["interval"],
                                       "prefactor": e["prefactor"], "ns": e["ns"],
                                       "beyond": e["beyond"]}

    return {"thresholds": {"interp": rows("interp"), "ode": rows("ode"),
                           "limit": rows("limit"), "interp_half": rows("interp_half")},
            "exponents": {"interp": exp("interp"), "ode": exp("ode"), "limit": exp("limit")},
            "tracking": out["tracking"],
            "grid": out["grid"], "level": out["level"], "smooth_edge": out["smooth_edge"],
            "c1": c1, "source": source.get("file") or f"computed ({source.get('scale')})"}


# --------------------------------------------------------------------------- figure

_NAMES = {"interp": "interpolate", "ode": "are 1/L-smooth"}


def _draw(data: dict[str, Any], checks: Checks) -> Any:
    out = data["analysis"]
    fig, axes = figures.new(3, width=5.0, height=3.9, nrows=2)
    ns = out["ns"]
    cmap = figures.plt.get_cmap("viridis")
    for ax, name in zip(axes[:2], ("interp", "ode"), strict=True):
        for j, n in enumerate(ns):
            cells = [c for c in out["cells"] if c["n"] == n]
            y = [n] * len(cells)
            sc = ax.scatter([c["m_over_n"] for c in cells], y,
                            c=[c[f"fraction_{name}"] for c in cells], cmap="RdYlGn", vmin=0,
                            vmax=1, s=150, marker="s", edgecolors="0.5")
            off = [c["m_over_n"] for c in cells if c["tracks"] is False]
            ax.scatter(off, [n] * len(off), marker="x", color="k", s=50, zorder=3)
            t = out["thresholds"][name][j]
            if located(t):
                lo, hi = t["interval"]
                ax.errorbar([t["m_star"] / n], [n], xerr=[[t["m_star"] / n - lo / n],
                                                         [hi / n - t["m_star"] / n]],
                            fmt="k|", ms=14, capsize=3)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log", base=2)
        figures.plain_ticks(ax.yaxis)
        ax.set_xlabel("m / n")
        ax.set_ylabel("n")
        ax.set_title(f"Phase diagram: fraction of seeds that {_NAMES[name]}\n(black: m*/n with "
                     "its 95% bootstrap interval)")
        fig.colorbar(sc, ax=ax, fraction=0.05)
    for ax, name in zip(axes[2:4], ("interp", "ode"), strict=True):
        for j, n in enumerate(ns):
            color = cmap(j / max(1, len(ns) - 1))
            cells = [c for c in out["cells"] if c["n"] == n]
            ax.plot([c["m_over_n"] for c in cells], [c[f"fraction_{name}"] for c in cells], "o",
                    color=color, label=f"n = {n}")
            t = out["thresholds"][name][j]
            fit = Logistic(t["log_m_star"], t["beta"])
            grid = np.geomspace(min(c["m"] for c in cells), max(c["m"] for c in cells), 200)
            ax.plot(grid / n, fit.p(grid), "-", color=color, lw=1)
        ax.set_xscale("log", base=2)
        ax.set_ylim(-0.05, 1.05)
        ax.set_xlabel("m / n")
        ax.set_ylabel(f"fraction of seeds that {_NAMES[name]}")
        ax.set_title(f"Transition curves and\nlogistic MLE fits (m*_{name})")
        figures.legend_below(ax, ncol=3)
    ax = axes[4]
    nn = np.array(ns, dtype=float)
    for name, marker, color in (("interp", "o", "C0"), ("ode", "s", "C3")):
        ts = [t for t in out["thresholds"][name] if located(t)]
        if ts:
            x = np.array([t["n"] for t in ts], dtype=float)
            m = np.array([t["m_star"] for t in ts])
            lo = np.array([t["interval"][0] for t in ts])
            hi = np.array([t["interval"][1] for t in ts])
            e = out["exponents"][name]
            label = f"m*_{name}" + ("" if e is None else f": gamma = {e['gamma']:.2f}"
                                    + (f" [{e['interval'][0]:.2f}, {e['interval'][1]:.2f}]"
                                       if e["interval"] else ""))
            ax.errorbar(x, m, yerr=[m - lo, hi - m], fmt=marker, color=color, capsize=3,
                        label=label)
            if e is not None:
                ax.plot(nn, e["prefactor"] * nn ** e["gamma"], "-", color=color, lw=0.8)
                for b in e["beyond"]:  # left out of the fit: the fit's prediction (open)
                    if b["censored"]:  # and the censoring bound (triangle)
                        ax.plot([b["n"]], [b["bound"]], "^" if b["censored"] == "above"
                                else "v", color=color, ms=8)
                    ax.errorbar([b["n"]], [b["predicted"]],
                                yerr=[[b["predicted"] - b["interval"][0]],
                                      [b["interval"][1] - b["predicted"]]],
                                fmt=marker, mfc="none", color=color, capsize=3,
                                label=f"m*_{name} at n = {b['n']}, " + (
                                    f"{b['censored']} the widths measured (triangle)"
                                    if b["censored"] else "horizon short of the rule's")
                                + ": the fit's prediction (open)")
    ax.plot(nn, data["c1"] * nn, "k-", lw=1.2, label=f"c1 n (c1 = {data['c1']:.2g})")
    ax.plot(nn, nn, "k--", lw=0.8, label="n (linear)")
    ax.plot(nn, np.sqrt(nn), "k:", lw=0.8, label="sqrt(n)")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    figures.plain_ticks(ax.xaxis)
    ax.set_xlabel("sample size n")
    ax.set_ylabel("threshold width m*")
    ax.set_title("Thresholds against n (log-log), with c1 n")
    figures.legend_below(ax)
    ax = axes[5]
    source = data["extended"] if data["extended"] else out
    n_show = max(c["n"] for c in source["cells"])
    cells = [c for c in source["cells"] if c["n"] == n_show]
    for j, c in enumerate(cells):
        pairs = list(c["local_slopes"])
        mids = [math.sqrt(int(p.split("-")[0]) * int(p.split("-")[1])) for p in pairs]
        ax.plot(mids, [c["local_slopes"][p] for p in pairs], "o-",
                color=cmap(j / max(1, len(cells) - 1)), label=f"m/n = {c['m_over_n']:.3g}")
    ax.axhline(SMOOTH_EDGE, color="k", ls="--", lw=0.8, label="edge -0.8 (ONE_OVER_L)")
    ax.axhline(-1.0, color="k", ls=":", lw=0.8, label="1/L")
    ax.set_xscale("log", base=2)
    figures.plain_ticks(ax.xaxis)
    ax.set_xlabel("depth (geometric middle of L, 2L)")
    ax.set_ylabel("median local slope of sup_t max_k gap")
    ax.set_title(f"Local slopes over the depth grid (n = {n_show})")
    figures.legend_below(ax, ncol=2)
    return fig


# --------------------------------------------------------------------------- text


def _interval(t: dict[str, Any]) -> str:
    if t["falls"]:
        return f"none: the fraction falls with m (monotone_p = {fmt(t['monotone_p'], 2)})"
    if t["censored"] == "below":
        return f"below the grid (< {t['widths'][0]:g})"
    if t["censored"] == "above":
        return f"above the grid (> {t['widths'][-1]:g})"
    lo, hi = t["interval"]
    return f"{t['m_star']:.3g} [{lo:.3g}, {hi:.3g}]"


def _exp(e: dict[str, Any] | None) -> str:
    if e is None:
        return "not fitted (fewer than two n with a located threshold)"
    iv = "" if e["interval"] is None else f" [{e['interval'][0]:.2f}, {e['interval'][1]:.2f}]"
    return (f"gamma = {e['gamma']:.2f}{iv}, a = {e['prefactor']:.3g} (n = {list(e['ns'])})"
            + "".join(f", {_beyond(b)}" for b in e.get("beyond", [])))


def _beyond(b: dict[str, Any]) -> str:
    """A threshold left out of the power fit (censored, or at a horizon shorter than the rule's)
    beside the fit's prediction there."""
    where = ("left out of the fit (its horizon is shorter than the rule's)" if not b["censored"]
             else f"{b['censored']} the widths measured "
                  f"({'>' if b['censored'] == 'above' else '<'} {b['bound']:g})")
    return (f"at n = {b['n']}, {where}, the fit predicts {fmt(b['predicted'], 3)} "
            f"[{fmt(b['interval'][0], 3)}, {fmt(b['interval'][1], 3)}]"
            + ("" if b["consistent"] else ": the data there contradict the power law"))


def _text(data: dict[str, Any], checks: Checks) -> str:
    out, src = data["analysis"], data["source"]
    lines = [_source_line(src), "",
             f"Horizon T(n) = 2 t_knee(n) (numerics.horizon.horizon: t_knee = the slowest "
             f"of 5 wide pilot seeds' time to l <= {out['level']:g} l(0); measured pilots "
             + ", ".join(f"n = {n}: {fmt(v, 3)}" for n, v in data["pilots"].items())
             + "); the horizons used: " + ", ".join(f"n = {h['n']}: T = {h['T']:g}"
                                                   for h in data["horizon_rows"])
             + f". Depth grid of the thresholds: L = {out['grid']}." + _horizon_checks(data),
             "",
             "| n | m*_interp [95%] | m*_ode [95%] | m*_limit [95%] | m*_interp at T/2 | "
             "m*_ode / n | c1 n |", "|---|---|---|---|---|---|---|"]
    for j, n in enumerate(out["ns"]):
        t = {k: out["thresholds"][k][j] for k in OUTCOMES}
        lines.append(f"| {n} | {_interval(t['interp'])} | {_interval(t['ode'])} | "
                     f"{_interval(t['limit'])} | {_interval(t['interp_half'])} | "
                     f"{format(t['ode']['m_star_over_n'], '.3g') if located(t['ode']) else '—'}"
                     f" | {data['c1'] * n:.3g} |")
    lines += ["", "Exponents of m*(n) ~ a n^gamma (95% intervals from the seed-level bootstrap, "
              f"{out['reps']} replicates, refitted per replicate): interpolation "
              + _exp(out["exponents"]["interp"]) + "; 1/L-smoothness "
              + _exp(out["exponents"]["ode"])
              + "; limit gaps " + _exp(out["exponents"]["limit"]) + ".", ""]
    lines += ["Does each fraction rise with m, as the logistic fit assumes? p-value of the "
              "likelihood ratio of a free fraction per width against the isotonic fit "
              "(numerics.transition.monotone_p; small: the fraction falls somewhere and its "
              "midpoint is no transition): " + "; ".join(
                  f"{name}: " + ", ".join(f"n = {t['n']}: {fmt(t['monotone_p'], 2)}"
                                          for t in out["thresholds"][name])
                  for name in OUTCOMES) + ".", ""]
    lines += [_tracking_note(out), ""]
    if data.get("rounding"):
        lines += [_rounding_note(data["rounding"]), ""]
    lines += ["m*_interp per depth (does the threshold move with L?) and the parameters per "
              "sample 2 L q m* / (n d') at m*_ode:", "",
              "| n | " + " | ".join(f"m*_interp at L = {L}" for L in out["grid"])
              + " | " + " | ".join(f"2Lqm*_ode/(nd') at L = {L}" for L in out["grid"]) + " |",
              "|---|" + "---|" * (2 * len(out["grid"]))]
    for j, n in enumerate(out["ns"]):
        per = out.get("per_sample", {}).get("ode", [{}] * len(out["ns"]))[j]
        if not located(out["thresholds"]["ode"][j]):
            per = {}
        lines.append(f"| {n} | " + " | ".join(_interval(out["by_depth"][str(L)]["thresholds"][j])
                                             for L in out["grid"]) + " | "
                     + " | ".join(fmt(per.get(str(L)), 3) for L in out["grid"]) + " |")
    per_i = out.get("per_sample", {}).get("interp", [])
    if per_i:
        lo_L, hi_L = str(out["grid"][0]), str(out["grid"][-1])
        lines += ["", f"Parameters per sample 2 L q m* / (n d') at m*_interp (L = {lo_L} and "
                  f"{hi_L}; 1 is the count of order n): " + ", ".join(
                      f"n = {t['n']}: {fmt(p[lo_L], 3)} and {fmt(p[hi_L], 3)}"
                      for t, p in zip(out["thresholds"]["interp"], per_i, strict=True)
                      if located(t)) + "."]
    lines += ["", "Per (n, m): fractions of seeds, the gap's per-seed slopes (mean and Student-t "
              "95% interval; its side of the O(1/L) region <= -0.8), the median local slopes "
              "between consecutive depths, and the median t_hit / T of the interpolating seeds "
              "(T past the knee when well below 1):", "",
              "| n | m | m/n | seeds | interpolates | smooth | limit smooth | gap slope [95%] | "
              "side | local slopes | t_hit/T (median, max) | GD tracks the flow (eta "
              "lambda_max, ratio) |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for c in out["cells"]:
        lo, hi = c["gap_slope_interval"]
        local = ", ".join(f"{k}: {fmt(v, 2)}" for k, v in c["local_slopes"].items())
        lines.append(f"| {c['n']} | {c['m']} | {c['m_over_n']:.3g} | {c['seeds']} | "
                     f"{c['fraction_interp']:.2f} | {c['fraction_ode']:.2f} | "
                     f"{c['fraction_limit']:.2f} | {fmt(c['gap_slope'], 3)} [{fmt(lo, 3)}, "
                     f"{fmt(hi, 3)}] | {c['rate_side']} | {local} | "
                     f"{fmt(c['median_hit_over_T'], 2)}, {fmt(c['max_hit_over_T'], 2)} | "
                     f"{_tracks(c)} |")
    lines += _factor_lines(data.get("factors") or {})
    ext = data["extended"]
    if ext:
        lines += ["", f"Extended depth grid L = {ext['depths']} at n = {ext['ns']}: m*_ode "
                  + ", ".join(f"n = {t['n']}: {_interval(t)}" for t in ext["thresholds"]["ode"])
                  + "; m*_interp " + ", ".join(f"n = {t['n']}: {_interval(t)}"
                                               for t in ext["thresholds"]["interp"])
                  + f"; m*_ode on the deepest three depths only, L = {ext['deep']['grid']} "
                  "(the threshold of the asymptotic rate: does it move with L?): "
                  + ", ".join(f"n = {t['n']}: {_interval(t)}" for t in ext["deep"]["ode"])
                  + "."]
    return "\n".join(lines) + "\n"


def _factor_lines(factors: dict[str, Any]) -> list[str]:
    """S15's table of :func:`_factors` (no lines where there is no factors file)."""
    if not factors:
        return []
    lines = ["", f"One base field (or the step) changed at a time (`{factors['file']}`; "
             "the quick grid's widths, 5 seeds, depths 4..32, the horizon T(n); base: "
             "y_scale = 1, d = d' = 4, q = 8, eta = 0.01):", "",
             "| n | changed | m*_interp [95%] | m*_ode [95%] | m*_limit [95%] | "
             "(m, fraction interpolating, fraction smooth) | GD does not track the flow at "
             "m |", "|---|---|---|---|---|---|---|"]
    for v in factors["groups"].values():
        fr = ", ".join(f"({m}, {a:.1f}, {b:.1f})" for m, a, b in v["fractions"])
        off = (", ".join(map(str, v["untracked"])) or "none" if v["tracking_measured"]
               else "not measured")
        lines.append(f"| {v['n']} | {v['changed']} | {_interval(v['interp'])} | "
                     f"{_interval(v['ode'])} | {_interval(v['limit'])} | {fr} | {off} |")
    return lines


def _tracks(cell: dict[str, Any]) -> str:
    if cell["tracks"] is None:
        return "unknown"
    return (f"{'yes' if cell['tracks'] else 'NO'} ({fmt(cell['track_eta_lambda_max'], 3)}, "
            f"{fmt(cell['track_ratio'], 3)})")


def _tracking_note(out: dict[str, Any]) -> str:
    """Which part of each transition curve is about the flow (4) (numerics.tracking at the
    grid's deepest depth, on every seed where width_point recorded it, else on the point's
    first seed; the fractions and fits keep every seed)."""
    parts = []
    for j, t in enumerate(out["tracking"]):
        ode = out["thresholds"]["ode"][j]
        where = ("does not track at " + ", ".join(
            f"m = {m} ({fmt(t['max_eta_lambda_max'][str(m)], 3)}, {fmt(t['ratio'][str(m)], 3)})"
            for m in t["untracked"]) if t["untracked"] else "tracks at every measured width"
                 if t["max_eta_lambda_max"] else "not measured")
        if t["unknown"] and t["max_eta_lambda_max"]:
            where += f", unknown at m = {t['unknown']}"
        if t["flow_from"] is not None:
            where += f"; every width from m = {t['flow_from']} on tracks"
            if located(ode):
                where += (f" (m*_ode = {ode['m_star']:.3g} is "
                          + ("above" if ode["m_star"] >= t["flow_from"] else "below") + " it)")
        parts.append(f"n = {t['n']}: {where}")
    return ("Gradient descent vs the flow (4) (numerics.tracking at each point's deepest "
            "depth, on every seed, or on its first seed for data swept before the tracking was "
            "recorded (reports/data/width-tracking.json): it tracks when max_t eta "
            f"lambda_max < {DAMPING_EDGE:.3g} in the flow's metric and the step-halving ratio is "
            f"in [{ORDER_BAND[0]:.3g}, {ORDER_BAND[1]:.3g}]; in brackets: eta lambda_max, ratio;"
            " eta lambda_max = 2 is the edge of stability): " + "; ".join(parts)
            + ". At a width where it does not track, the outcomes are about gradient descent at "
            "the sweep's eta, not the flow: the fractions and fits keep every seed, and only "
            "the part of each transition curve at tracked widths speaks about Theorem 6's "
            "flow.")


def _source_line(src: dict[str, Any]) -> str:
    if src["kind"] == "file":
        return (f"Data: `{src['file']}` (the full preset, committed; {src['records']} seed "
                f"records at {src['points']} points; code versions {src['code_versions']}, "
                f"git {src.get('git_commit', '?')}; machine {src.get('machine', '?')}; "
                f"summed task wall time {src['wall_s_tasks'] / 3600:.2f} h"
                + (f" ({src['resumed_units']} units resumed after a kill: their last sitting "
                   f"only)" if src.get("resumed_units") else "") + "; regenerate: "
                f"`{src.get('command', 'see reports/sections/width.py')}`).")
    return (f"Data: computed in this report ({src['scale']} grid, {src['points']} points, "
            f"{src['wall_s']:.0f} s on {src['machine']}); no committed full-preset data file "
            f"was found at reports/data/width-thresholds-full.json.")


def _rerun_sentence(groups: dict[str, dict[str, Any]]) -> str:
    """The base's fractions that interpolate and that are smooth beside those of its reruns at a
    smaller step (groups whose only change is eta), at their common widths, and how many seeds'
    gradient descent tracks the flow at each step: does the edge of stability change them?"""
    def tracked(group: dict[str, Any]) -> dict[int, str]:
        return {m: f"{k} of {known}" if known else "not measured"
                for m, k, known in group.get("tracked", [])}

    parts = []
    for v in groups.values():
        base = groups.get(f"n={v['n']}, base")
        if not v["changed"].startswith("eta=") or base is None:
            continue
        at = {m: (i, o) for m, i, o in base["fractions"]}
        b, r = tracked(base), tracked(v)
        pairs = [f"m = {m}: {at[m][0]:.1f} / {i:.1f} interpolating, {at[m][1]:.1f} / {o:.1f} "
                 f"smooth, seeds tracking the flow {b.get(m, 'not measured')} / "
                 f"{r.get(m, 'not measured')}" for m, i, o in v["fractions"] if m in at]
        if pairs:
            parts.append(f"n = {v['n']} at {v['changed']}, " + ", ".join(pairs))
    if not parts:
        return ""
    return (". Fractions at eta = 0.01 / rerun at a smaller step where gradient descent tracks "
            "the flow on more seeds: " + "; ".join(parts))


def _horizon_checks(data: dict[str, Any]) -> str:
    """The extrapolated horizons, and what the pilots measured afterwards say of them."""
    rows = [h for h in data["horizon_rows"] if h["pilot"] == "extrapolated"]
    if not rows:
        return ""
    said = []
    for h in rows:
        c = h["check"]
        if c is None:
            said.append(f"n = {h['n']}: T = {h['T']:g} extrapolated, not checked by a pilot")
        elif c["rule_T"] is None:
            said.append(f"n = {h['n']}: a pilot seed did not reach the level within T_pilot = "
                        f"{c['T_pilot']:g} (t_hit " + ", ".join(
                            "-" if t is None else fmt(t, 3) for t in c["t_hit"])
                        + f"), so the rule's T > {c['rule_T_above']:g}: the T = {h['T']:g} used "
                        + ("is shorter than the rule" if c["meets"] is False
                           else "may or may not meet it"))
        else:
            said.append(f"n = {h['n']}: t_knee = {fmt(c['t_knee'], 3)} (pilot seeds' t_hit "
                        + ", ".join(fmt(t, 3) for t in c["t_hit"]) + f"), so the rule's T = "
                        f"{c['rule_T']:g}; the T = {h['T']:g} used is "
                        + (f"{c['ratio']:.2f} times it: it meets the rule" if c["meets"] else
                           f"{c['ratio']:.2f} times it: shorter than the rule, so the "
                           "outcomes there are at a shorter horizon than the rule asks"))
    return (" Horizons extrapolated when their sweep ran, checked by a pilot measured afterwards "
            "(numerics.horizon check, stored apart from the rule's pilots so that the sweep's "
            "configuration stays): " + "; ".join(said) + ".")


def _rounding_points(stored: dict[str, Any]) -> list[dict[str, Any]]:
    """Per point of :data:`ROUNDING_FILE` (n, m) and per step (largest eta first): the largest
    move of each slope under the labels' 1 + delta, the seeds whose outcome flips, the outcomes
    moved by >= slope_move (decided by rounding there), and the compared seeds' outcomes with
    the labels as drawn (``drawn_smooth``, ``drawn_limit_smooth``: how many; ``drawn_l_ratio``:
    the largest l(T)/l(0) at the deepest depth)."""
    out: dict[tuple[int, int], dict[str, Any]] = {}
    drawn = {(e["n"], e["m"], e["eta"], e["seed"]): e for e in stored.get("entries", [])
             if not e["perturbed"]}
    for r in stored["table"]:
        p = out.setdefault((r["n"], r["m"]), {"n": r["n"], "m": r["m"], "steps": {}})
        s = p["steps"].setdefault(r["eta"], {"eta": r["eta"], "seeds": 0, "d_gap_slope": 0.0,
                                             "d_limit_slope": 0.0, "flips_smooth": 0,
                                             "flips_limit_smooth": 0, "rounding": set(),
                                             "drawn_smooth": 0, "drawn_limit_smooth": 0,
                                             "drawn_l_ratio": None})
        s["seeds"] += 1
        for k in ("d_gap_slope", "d_limit_slope"):
            s[k] = max(s[k], r[k]) if r[k] is not None else s[k]
        for k in ("flips_smooth", "flips_limit_smooth"):
            s[k] += int(r[k])
        s["rounding"] |= set(r["rounding"])
        e = drawn.get((r["n"], r["m"], r["eta"], r["seed"]))
        if e is not None:
            s["drawn_smooth"] += int(e["smooth"])
            s["drawn_limit_smooth"] += int(e["limit_smooth"])
            s["drawn_l_ratio"] = max(e["l_ratio"], s["drawn_l_ratio"] or 0.0)
    return [p | {"steps": sorted(p["steps"].values(), key=lambda s: -s["eta"])}
            for _, p in sorted(out.items())]


def _rounding_note(stored: dict[str, Any]) -> str:
    """S15's paragraph on :data:`ROUNDING_FILE`."""
    def step(s: dict[str, Any]) -> str:
        return (f"at eta = {s['eta']:g} the gap slope moves by {fmt(s['d_gap_slope'], 2)} "
                f"({s['flips_smooth']} of {s['seeds']} flip), the limit slope by "
                f"{fmt(s['d_limit_slope'], 2)} ({s['flips_limit_smooth']} of {s['seeds']} "
                f"flip), and as drawn {_drawn(s)}")
    return (f"Is an outcome decided by rounding? (`{_rel(ROUNDING_FILE)}`, `{stored['command']} "
            f"N M`: seeds {stored['seeds']} of a full-preset point rerun with the labels scaled "
            f"by 1 + {stored['delta']:g}, at the point's eta and at eta / "
            f"{stored['step_divisor']}; the largest move of each slope against log L, and the "
            f"seeds whose outcome flips; rounding can decide an outcome whose slope moves by >= "
            f"{stored['slope_move']:g}). " + " ".join(
                f"At n = {p['n']}, m = {p['m']}: " + "; ".join(step(s) for s in p["steps"]) + "."
                for p in _rounding_points(stored)))


def _drawn(s: dict[str, Any]) -> str:
    """One step's outcomes with the labels as drawn (:func:`_rounding_points`)."""
    return (f"{s['drawn_smooth']} of {s['seeds']} 1/L-smooth, {s['drawn_limit_smooth']} of "
            f"{s['seeds']} limit-smooth, l(T)/l(0) <= {fmt(s['drawn_l_ratio'], 3)}")


def _rounding_sentence(stored: dict[str, Any], cells: list[dict[str, Any]]) -> str:
    """The conclusion's sentence on :data:`ROUNDING_FILE`: which outcome rounding decides at
    which point and step, beside whether gradient descent tracks the flow there (``cells``)."""
    names = {"smooth": "the 1/L-smooth outcome", "limit_smooth": "the limit outcome"}
    tracking = {(c["n"], c["m"]): c for c in cells}
    parts = []
    for p in _rounding_points(stored):
        at = [(", ".join(f"{v} ({s['flips_' + o]} of {s['seeds']} flip)"
                         for o, v in names.items() if o in s["rounding"]) or "no outcome")
              + f" at eta = {s['eta']:g}" for s in p["steps"]]
        c = tracking.get((p["n"], p["m"]))
        verb = "" if c is None or c["tracks"] is None else (
            "tracks" if c["tracks"] else "does not track")
        where = (f" (where gradient descent at the sweep's eta {verb} the flow: {_tracks(c)})"
                 if verb else "")
        parts.append(f"at n = {p['n']}, m = {p['m']}{where}: " + ", ".join(at) + " (as drawn: "
                     + "; ".join(f"{_drawn(s)} at eta = {s['eta']:g}" for s in p["steps"])
                     + ")")
    return (f"Rounding can decide an outcome where the labels scaled by 1 + {stored['delta']:g} "
            f"move its slope by >= {stored['slope_move']:g} (seeds {stored['seeds']}; how many "
            f"flip in brackets; {_rel(ROUNDING_FILE)}): " + "; ".join(parts))


def _around(out: dict[str, Any], name: str) -> str:
    """The conclusion's sentence on whether gradient descent tracks the flow at the grid widths
    either side of each located threshold of outcome ``name`` (``out["cells"]``' ``tracks``): it
    tracks where both do, does not where either does not, else not known; empty when no
    threshold is located."""
    said: dict[str, list[str]] = {"tracks the flow": [], "does not track the flow": [],
                                  "is not known to track the flow": []}
    for t in out["thresholds"][name]:
        if not located(t):
            continue
        cs = sorted((c for c in out["cells"] if c["n"] == t["n"]), key=lambda c: c["m"])
        side = ([c for c in cs if c["m"] <= t["m_star"]][-1:]
                + [c for c in cs if c["m"] > t["m_star"]][:1])
        marks = [c["tracks"] for c in side]
        key = ("does not track the flow" if False in marks else "tracks the flow" if all(marks)
               else "is not known to track the flow")
        said[key].append(f"n = {t['n']} (m = " + ", ".join(str(int(c["m"])) for c in side)
                         + ")")
    if not any(said.values()):
        return ""
    return (f". At the grid widths either side of each m*_{name}, gradient descent at the "
            "sweep's eta " + "; ".join(f"{k} at " + ", ".join(v) for k, v in said.items() if v))


def _falls(out: dict[str, Any]) -> str:
    """The conclusion's sentence naming each outcome and n whose fraction falls with m
    (``falls``: monotone_p < :data:`numerics.transition.MONOTONE_LEVEL`); empty when none
    does."""
    falls = [f"{name} at n = {t['n']} (p = {fmt(t['monotone_p'], 2)})"
             for name in OUTCOMES for t in out["thresholds"].get(name, []) if t["falls"]]
    return ("" if not falls else f". The fraction falls with m (monotone_p < {MONOTONE_LEVEL:g}),"
            " so the logistic midpoint is no transition there: " + ", ".join(falls))


def _conclusion(data: dict[str, Any], checks: Checks) -> str:
    out = data["analysis"]
    ei, eo = out["exponents"]["interp"], out["exponents"]["ode"]

    short = _short(data["horizon_rows"])

    def last(name: str) -> dict[str, Any] | None:
        done = [t for t in out["thresholds"][name] if located(t) and t["n"] not in short]
        return done[-1] if done else None

    ti, to = last("interp"), last("ode")
    parts = []
    for t, what in ((ti, "m*_interp (half the seeds interpolate within T(n))"),
                    (to, "m*_ode (half the seeds' trained weights are 1/L-smooth on L = "
                         f"{out['grid']})")):
        if t is None:
            parts.append(f"{what}: located at no n")
        else:
            parts.append(f"{what} = {_interval(t)} at n = {t['n']}, the largest n where it is "
                         "inside the grid" + (" at the rule's horizon" if short else "")
                         + f" ({t['m_star'] / (data['c1'] * t['n']):.1g} c1 n)")
    parts += [_short_sentence(data, n) for n in short]
    both = [n for j, n in enumerate(out["ns"]) if n not in short
            and located(out["thresholds"]["interp"][j])
            and located(out["thresholds"]["ode"][j])]
    order = ""
    if both:
        j = out["ns"].index(both[-1])
        mi, mo = (out["thresholds"][k][j]["m_star"] for k in ("interp", "ode"))
        order = (f"; at n = {both[-1]} the smoothness threshold is {mo / mi:.3g} times the "
                 "interpolation threshold" + (": interpolating is not yet the implicit "
                                              "regularization" if mo > mi else ""))
    predicted = {b["n"] for b in (eo or {}).get("beyond", [])}
    partial = [t["n"] for t in out["thresholds"]["ode"]
               if t["censored"] == "above" and t["n"] not in predicted]
    tail = ("" if not partial else f" (at n = {partial}, the smoothness threshold lies above "
            "the widths measured so far)")
    ext = data.get("extended") or {}
    if ext.get("deep"):
        order += (f"; the smoothness threshold moves with depth: on L = {ext['deep']['grid']} "
                  "alone it is " + ", ".join(f"{_interval(t)} at n = {t['n']}"
                                            for t in ext["deep"]["ode"])
                  + f" (on L = {ext['depths']}: " + ", ".join(
                      f"{_interval(t)}" for t in ext["thresholds"]["ode"]) + ")")
    off = [f"m = {t['untracked']} at n = {t['n']}" for t in out["tracking"] if t["untracked"]]
    if off:
        tail += (". Gradient descent at the sweep's eta does not track the flow at "
                 + ", ".join(off) + " (numerics.tracking): those parts of the transition curves "
                 "are about gradient descent, not Theorem 6's flow")
    tail += _around(out, "interp") + _around(out, "ode") + _falls(out)
    if data.get("rounding"):
        tail += ". " + _rounding_sentence(data["rounding"], out["cells"])
    factors = data.get("factors") or {}
    if factors:
        tail += (". One base field (or the step) changed at a time moves them (m*_interp, "
                 "m*_ode): " + "; ".join(
                     f"{name}: {_interval(v['interp'])}, {_interval(v['ode'])}"
                     + (f" (gradient descent does not track the flow at m = {v['untracked']})"
                        if v["untracked"] else "" if v["tracking_measured"]
                        else " (flow tracking not measured)")
                     for name, v in factors["groups"].items()))
        tail += _rerun_sentence(factors["groups"])
    return ("Two width thresholds, measured beyond Theorem 6's m >= c1 n: " + "; ".join(parts)
            + f"{order}. m*_interp ~ n^gamma with {_exp(ei)}; m*_ode ~ n^gamma with {_exp(eo)}"
            f"{tail}. Both lie orders of magnitude below c1 n ("
            + ("committed full-preset data" if data["source"]["kind"] == "file" else
               "computed here") + "; the intervals are seed-level bootstrap percentiles, which "
            "under-cover slightly with 5 seeds per width at a gradual transition: 0.89 measured "
            "for a nominal 0.95; 0.985 at one steeper than the grid, whose separated replicates "
            "spread over their bracket).")


def _short_sentence(data: dict[str, Any], n: int) -> str:
    """At an n whose horizon is shorter than the rule's: by how much, and its thresholds there,
    which the exponents leave out."""
    h = next(h for h in data["horizon_rows"] if h["n"] == n)
    c, j = h["check"], data["analysis"]["ns"].index(n)
    rule = (f"{c['rule_T']:g}" if c["rule_T"] is not None else f"> {c['rule_T_above']:g}")
    return (f"at n = {n} the horizon used, T = {h['T']:g} ({h['pilot']}), is shorter than the "
            f"rule's 2 t_knee measured afterwards ({rule}; numerics.horizon check): its "
            "thresholds there, m*_interp " + _interval(data["analysis"]["thresholds"]["interp"][j])
            + " and m*_ode " + _interval(data["analysis"]["thresholds"]["ode"][j])
            + ", are at that shorter horizon and left out of the exponents")


def _note(data: dict[str, Any]) -> str:
    return ("Model (3), tanh, sphere data, d = d' = 4, q = 8, tied initialization, unclipped "
            "gradient descent at eta = 0.01 to T(n); each seed an independent draw of data and "
            "initialization. Top: phase diagrams (fraction of seeds per (n, m/n)) with m*/n and "
            "its interval; bottom left: transition curves with the logistic MLE per n; bottom "
            "middle: thresholds against n with c1 n, n and sqrt(n); bottom right: local slopes "
            "of sup_t max_k ||Z_{k+1} - Z_k|| between consecutive depths. x in the phase "
            "diagrams: gradient descent at eta does not track the flow at that point "
            "(numerics.tracking), so its outcomes there are about gradient descent.")


SECTION = Section(key="S15", title="Width thresholds: interpolation and the neural-ODE limit "
                  "(Theorem 6's m >= c1 n, measured)", ids=(), assumptions={}, rows=_rows,
                  data=_data, draw=_draw, text=_text, conclusion=_conclusion, figure_note=_note)


def _main(argv: list[str]) -> None:
    if argv and argv[0] == "collect":
        folder = Path(argv[1]) if len(argv) > 1 else RESULTS_DIR
        out = Path(argv[2]) if len(argv) > 2 else DATA_FILE
        data = collect(folder, out)
        print(f"{out}: {data['provenance']['records']} records at "
              f"{data['provenance']['points']} points")
    elif argv and argv[0] == "factors" and len(argv) > 1:
        data = collect_factors([Path(a) for a in argv[1:]])
        print(f"{FACTORS_FILE}: groups {', '.join(data['groups'])}")
    else:
        raise SystemExit("usage: python -m reports.sections.width (collect [RESULTS_DIR [OUT]] "
                         "| factors FOLDER ...)")


if __name__ == "__main__":
    _main(sys.argv[1:])
