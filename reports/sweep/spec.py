"""What a sweep runs: a task function, a base :class:`Config` and the axes to vary.

A sweep file (TOML, or JSON for a ``.json`` suffix) reads::

    task = "numerics.longtime:phase_point"   # "module:function", Config -> list of records
    [base]                                   # Config fields shared by every point
    n = 16
    seeds = [0, 1, 2]
    [axes]                                   # one list per axis; the grid is their product
    m = [8, 16, 32]
    L = [8, 32]
    shape = [{d = 2, q = 4}, {d = 4, q = 8}] # a list of tables varies several fields together

Each point of the grid is one :class:`Config` (validated when the sweep is read, before any
work) with the axis values as its labels (the columns of the merged table, the axes of its
figures, in the order written).  Presets (:data:`PRESETS`) build their grids in code;
``overrides`` (``--set KEY=VALUE``) change base fields of either.
"""

from __future__ import annotations

import dataclasses
import itertools
import tomllib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from numerics.longtime import grid_configs, horizon
from reports.sections.base import Context
from reports.sections.pl import STUDY, study_base
from theory.config import Config, read_file
from theory.errors import ConfigError

SCALES = ("quick", "full", "cluster")
"""Preset scales; ``cluster`` exists for the presets that define it (``width-thresholds``)."""
_FIELDS = frozenset(f.name for f in dataclasses.fields(Config))
_FILE_KEYS = ("task", "base", "axes")


@dataclasses.dataclass(frozen=True)
class Point:
    """One configuration of a sweep and the axis values that label it."""

    labels: Mapping[str, Any]
    config: Config


@dataclasses.dataclass(frozen=True)
class Sweep:
    """A named grid of points, each run by ``task`` (``"module:function"``); ``figures``: the
    record fields to draw (None: every numeric field that varies)."""

    name: str
    task: str
    axes: tuple[str, ...]
    points: tuple[Point, ...]
    figures: tuple[str, ...] | None = None


def grid(name: str, task: str, base: Mapping[str, Any], axes: Mapping[str, Sequence[Any]],
         overrides: Mapping[str, Any] | None = None) -> Sweep:
    """The product of ``axes`` over ``base`` (a mapping of Config fields), ``overrides`` applied
    to the base first."""
    if not isinstance(task, str) or ":" not in task:
        raise ConfigError("task", task, "must be 'module:function'")
    if not isinstance(base, Mapping):
        raise ConfigError("base", base, "must be a table of Config fields")
    if not isinstance(axes, Mapping) or not axes:
        raise ConfigError("axes", axes, "must be a non-empty table of lists")
    base = {**base, **_checked_overrides(overrides or {}, axes)}
    columns: list[str] = []
    levels = []
    for axis, values in axes.items():
        if isinstance(values, str | bytes) or not isinstance(values, Sequence) or not values:
            raise ConfigError(f"axes.{axis}", values, "must be a non-empty list")
        levels.append([_level(axis, value) for value in values])
        columns += [c for c in levels[-1][0] if c not in columns and c != "seeds"]
    points = []
    for combination in itertools.product(*levels):
        fields: dict[str, Any] = dict(base)
        for level in combination:
            fields.update(level)
        labels = {c: fields[c] for c in columns}
        try:
            config = Config.from_mapping(fields)
        except ConfigError as exc:
            raise ConfigError(exc.field, exc.value, f"{exc.rule} (at the point {labels})") \
                from None
        points.append(Point(labels, config))
    return Sweep(name, task, tuple(columns), tuple(points))


def load_sweep(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Sweep:
    """A sweep file (TOML, or JSON for ``.json``): ``task``, ``[base]``, ``[axes]``."""
    p = Path(path)
    data = read_file("sweep", p)
    if not isinstance(data, dict):
        raise ConfigError("sweep", str(p), "must be a table with task, base and axes")
    for key in data:
        if key not in _FILE_KEYS:
            raise ConfigError(str(key), data[key], f"unknown key; known keys: "
                              f"{', '.join(_FILE_KEYS)}")
    if "task" not in data or "axes" not in data:
        raise ConfigError("sweep", str(p), "needs a task and axes")
    return grid(p.stem, data["task"], data.get("base", {}), data["axes"], overrides)


def parse_override(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` with VALUE a TOML value (``T=2.5``, ``seeds=[0, 1]``) or else a string
    (``activation=tanh``)."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError("set", text, "must be KEY=VALUE")
    try:
        return key, tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        return key, value.strip()


# --------------------------------------------------------------------------- presets


PHASE_TASK = "numerics.longtime:phase_point"
PHASE_SCALES = {"quick": "quick", "full": "paper"}
"""The report scale whose long-time study (:data:`reports.sections.pl.STUDY`) each preset scale
runs: the sweep's phase diagram is the report's S5 grid, on a cluster."""
PHASE_GRID_KEYS = ("ns", "ratios", "T_per_n")
PHASE_FIGURES = ("interpolated", "mu_emp", "max_dist", "sup_L_gap", "l_T")
"""The phase diagram's figures: the fraction of seeds interpolating, inf_t G/l, the distance from
the initialization, sup_t L max_k gap, the final loss (each over n and m/n)."""


def phase_diagram(scale: str, overrides: Mapping[str, Any] | None = None) -> Sweep:
    """The width-threshold phase diagram (issue 13, item 2) of the report's long-time study:
    every (n, m/n) of its ``ns`` x ``ratios`` at the horizon T = T_per_n n, from its base
    configuration (:func:`reports.sections.pl.study_base`: Theorem 6's setting), built by
    :func:`numerics.longtime.grid_configs`, labelled by n, m/n and m.  ``overrides`` may set
    ``ns``, ``ratios``, ``T_per_n`` and any base field but n, m and T."""
    if scale not in PHASE_SCALES:
        raise ConfigError("scale", scale, f"phase-diagram has the scales {', '.join(PHASE_SCALES)}")
    study, base = STUDY[PHASE_SCALES[scale]], study_base(Context(PHASE_SCALES[scale]))
    overrides = dict(overrides or {})
    g = {k: overrides.pop(k, getattr(study, k)) for k in PHASE_GRID_KEYS}
    for key in ("n", "m", "T"):
        if key in overrides:
            raise ConfigError(f"set {key}", overrides[key], "is set by the grid (ns, ratios, "
                              "T_per_n)")
    for key in ("ns", "ratios"):
        if isinstance(g[key], str) or not isinstance(g[key], Sequence) or not g[key] \
                or not all(isinstance(v, int | float) and v > 0 for v in g[key]):
            raise ConfigError(key, g[key], "must be a non-empty list of positive numbers")
    if isinstance(g["T_per_n"], bool) or not isinstance(g["T_per_n"], int | float) \
            or not g["T_per_n"] > 0:
        raise ConfigError("T_per_n", g["T_per_n"], "must be a positive number")
    fields = {**base.to_dict(), "T": horizon(min(g["ns"]), g["T_per_n"]),
              **_checked_overrides(overrides, {})}
    try:
        configs = grid_configs(Config.from_mapping(fields), g["ns"], g["ratios"], g["T_per_n"])
    except ConfigError as exc:
        raise ConfigError(exc.field, exc.value, f"{exc.rule} (phase-diagram {scale})") from None
    ratios = [r for _ in g["ns"] for r in g["ratios"]]
    points = tuple(Point({"n": c.n, "m_over_n": r, "m": c.m}, c)
                   for c, r in zip(configs, ratios, strict=True))
    return Sweep("phase-diagram", PHASE_TASK, ("n", "m_over_n", "m"), points, PHASE_FIGURES)


def width_thresholds(scale: str, overrides: Mapping[str, Any] | None = None) -> Sweep:
    """Both width thresholds of Theorem 6 per n (issue 29): one point per (n, m), every seed and
    depth batched in it (:mod:`reports.sweep.width`, whose docstring states the cost per point
    and per scale: quick, full, cluster)."""
    from reports.sweep.width import preset as width_preset  # cycle: width imports this module

    return width_preset(scale, overrides)


PRESETS: dict[str, Callable[[str, Mapping[str, Any] | None], Sweep]] = {
    "phase-diagram": phase_diagram,
    "width-thresholds": width_thresholds,
}


def preset(name: str, scale: str = "quick", overrides: Mapping[str, Any] | None = None) -> Sweep:
    """The named preset at ``scale`` (quick, full, or cluster where the preset has it)."""
    if name not in PRESETS:
        raise ConfigError("preset", name, f"must be one of {', '.join(PRESETS)}")
    if scale not in SCALES:
        raise ConfigError("scale", scale, f"must be one of {', '.join(SCALES)}")
    return PRESETS[name](scale, overrides)


def _level(axis: str, value: Any) -> dict[str, Any]:
    """The Config fields that one value of an axis sets."""
    if isinstance(value, Mapping):
        for key in value:
            if key not in _FIELDS:
                raise ConfigError(f"axes.{axis}.{key}", value[key], "not a Config field")
        return dict(value)
    if axis not in _FIELDS:
        raise ConfigError(f"axes.{axis}", value, "not a Config field (a list of tables varies "
                          "several fields together)")
    return {axis: value}


def _checked_overrides(overrides: Mapping[str, Any],
                       axes: Mapping[str, Sequence[Any]]) -> dict[str, Any]:
    varied = {k for axis, values in axes.items() for v in values if isinstance(values, Sequence)
              for k in (v if isinstance(v, Mapping) else {axis: v})}
    for key in overrides:
        if key not in _FIELDS:
            raise ConfigError(f"set {key}", overrides[key], "not a Config field")
        if key in varied:
            raise ConfigError(f"set {key}", overrides[key], "is an axis of this sweep")
    return dict(overrides)
