"""The merged table of a sweep (``DIR/table.json``, ``DIR/table.csv``) and its figures.

One row per (configuration, seed) in grid order, whatever order the units finished in: the
point's labels, ``seed``, the task's record (a record key named like a label or ``seed`` is
dropped: the label is the sweep's) and ``key`` (its file ``DIR/results/<key>.json``).  Failed
units are listed under ``failures`` with their error and traceback.  Figures
(``DIR/figures/<field>.png``): for each of the sweep's fields (default: every numeric field that
varies), its mean over the seeds (a fraction for a 0/1 field) as a heat map over the first two
axes when they identify the points, else as curves over the first axis.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reports import figures
from reports.io import atomic_write_json, atomic_write_text
from theory.config import Config

if TYPE_CHECKING:  # cycle: the engine imports this module
    from reports.sweep.engine import Outcome

SCHEMA = 1


def merge(outcome: Outcome) -> dict[str, Any]:
    """The merged table of ``outcome`` (rows and failures in grid order)."""
    sweep = outcome.sweep
    rows, failures = [], []
    for unit in outcome.units:
        head = {**sweep.points[unit.point].labels, "seed": unit.seed}
        if unit.key in outcome.records:
            record = outcome.records[unit.key]
            rows.append(head | {k: _typed(k, v) for k, v in record.items() if k not in head}
                        | {"key": unit.key})
        elif unit.key in outcome.failures:
            failure = outcome.failures[unit.key]
            failures.append(head | {"key": unit.key, "error": failure.error,
                                    "traceback": failure.traceback,
                                    "traceback_file": failure.file or None})
    return {"schema": SCHEMA, "sweep": sweep.name, "task": sweep.task,
            "code_version": outcome.version, "axes": list(sweep.axes),
            "figures": None if sweep.figures is None else list(sweep.figures), "rows": rows,
            "failures": failures}


INTEGER_FIELDS = frozenset({"seed"} | {f.name for f in dataclasses.fields(Config)
                                       if f.type in ("int", "int | None")})
"""Record keys that name an integer of the configuration (n, m, L, seed, ...): a task that
records them as floats (numerics.longtime's records are all floats) gets them back as integers
in the table (``8``, not ``8.0``)."""


def _typed(key: str, value: Any) -> Any:
    if key in INTEGER_FIELDS and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def write(table: dict[str, Any], out: str | Path, figures: bool = True) -> list[Path]:
    """Write ``table.json``, ``table.csv`` (the rows) and, if asked, the figures; returns the
    paths written."""
    folder = Path(out)
    atomic_write_json(folder / "table.json", table)
    atomic_write_text(folder / "table.csv", to_csv(table["rows"]))
    paths = [folder / "table.json", folder / "table.csv"]
    if figures:
        paths += draw(table, folder / "figures")
    return paths


def to_csv(rows: Sequence[dict[str, Any]]) -> str:
    """The rows as CSV, columns in order of first appearance (null: an empty cell)."""
    columns = list(dict.fromkeys(k for row in rows for k in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def draw(table: dict[str, Any], folder: Path) -> list[Path]:
    """One figure per field of ``table["figures"]`` (default: every numeric field that varies
    over the rows)."""
    rows, axes = table["rows"], table["axes"]
    if not rows or not axes:
        return []
    skip = {*axes, "seed", "key"}
    fields = table["figures"] or [
        k for k in dict.fromkeys(k for row in rows for k in row) if k not in skip
        and all(_number(row.get(k)) for row in rows) and len({row.get(k) for row in rows}) > 1]
    paths = []
    for field in fields:
        means = _means(rows, axes, field)
        fig, (ax,) = figures.new()
        if len(axes) >= 2 and len({p[:2] for p in means}) == len(means):
            _heat_map(fig, ax, means, axes, field)
        else:
            _curves(ax, means, axes, field)
        ax.set_title(f"{table['sweep']}: {field} (mean over seeds)")
        path = folder / f"{field}.png"
        figures.save(fig, path)
        paths.append(path)
    return paths


def _number(value: Any) -> bool:
    return value is None or isinstance(value, int | float)


def _means(rows: Sequence[dict[str, Any]], axes: Sequence[str],
           field: str) -> dict[tuple[Any, ...], float]:
    """Mean of ``field`` over the seeds of each point (labels tuple), nulls left out."""
    sums: dict[tuple[Any, ...], list[float]] = {}
    for row in rows:
        values = sums.setdefault(tuple(row[a] for a in axes), [])
        if row.get(field) is not None:
            values.append(float(row[field]))
    return {p: sum(v) / len(v) if v else math.nan for p, v in sums.items()}


def _heat_map(fig: Any, ax: Any, means: dict[tuple[Any, ...], float], axes: Sequence[str],
              field: str) -> None:
    import numpy as np

    xs = list(dict.fromkeys(p[0] for p in means))
    ys = list(dict.fromkeys(p[1] for p in means))
    grid = np.full((len(ys), len(xs)), np.nan)
    for p, v in means.items():
        grid[ys.index(p[1]), xs.index(p[0])] = v
    image = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis")
    fig.colorbar(image, ax=ax, label=field)
    ax.set_xticks(range(len(xs)), [f"{x:g}" if _number(x) else str(x) for x in xs])
    ax.set_yticks(range(len(ys)), [f"{y:g}" if _number(y) else str(y) for y in ys])
    ax.set_xlabel(axes[0])
    ax.set_ylabel(axes[1])
    ax.grid(False)
    for (j, i), v in np.ndenumerate(grid):
        if math.isfinite(v):
            ax.text(i, j, f"{v:.2g}", ha="center", va="center", fontsize=7,
                    color=label_colour(image.cmap(image.norm(v))))


def label_colour(rgba: Sequence[float]) -> str:
    """Black on a light cell, white on a dark one: the WCAG relative luminance of the cell's
    colour (sRGB, linearized) against 0.179, where black and white have the same contrast."""
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(float(c)) for c in rgba[:3])
    return "k" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.179 else "w"


def _curves(ax: Any, means: dict[tuple[Any, ...], float], axes: Sequence[str],
            field: str) -> None:
    lines: dict[tuple[Any, ...], list[tuple[Any, float]]] = {}
    for p, v in means.items():
        lines.setdefault(p[1:], []).append((p[0], v))
    for rest, points in lines.items():
        label = ", ".join(f"{a}={r}" for a, r in zip(axes[1:], rest, strict=True)) or None
        xs = [x for x, _ in points]
        categorical = not all(_number(x) for x in xs)
        ax.plot([str(x) for x in xs] if categorical else xs, [v for _, v in points], "o-",
                label=label)
    ax.set_xlabel(axes[0])
    ax.set_ylabel(field)
    if len(lines) > 1:
        ax.legend(fontsize=7)
