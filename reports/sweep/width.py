"""The sweep preset ``width-thresholds`` (issue 29): both width thresholds of Theorem 6 per n.

One point per (n, m) runs :func:`numerics.thresholds.width_point`: every seed (independent data
and initialization) and every depth of the grid, one batched training per depth, to the horizon
T(n) of :func:`numerics.horizon.horizon` (twice the fitted pilot knee), model (3) of the
long-time study (tanh, sphere data, d = d' = 4, q = 8, unclipped, tied, eta = 0.01).  Widths are
m = max(1, round(ratio n)) for the ratios of the scale (repeated widths run once).  Depths:
(4, 8, 16, 32) at every n (the grid the thresholds are compared on across n), extended to 128 at
the n of ``extended_ns`` (the local slopes out to L = 128 show whether the rate on 4..32 is
asymptotic, and the thresholds on 4..128 are fitted there beside those on 4..32).

Cost (measured on this machine: a 2-core shared VM, load 3-6 from other jobs, float64, the native
C engine; ``python -m reports.sweep.width cost`` re-measures it).  One training iteration of a
point (5 batched seeds, every depth) costs about sum_L L (c0 + c1 n m) seconds, c0 = 1.5e-5 and
c1 = 8e-8 (:data:`COST`; timings of 60 iterations at (n, m) = (8, 1) .. (128, 512) under load:
0.0024 s at (8, 1), 0.024 s at (32, 128), 0.136 s at (64, 256), 0.247 s at (128, 512), depths
4..32), times T(n) / eta iterations, T(n) from the pilots (84, 115, 250, 509, 1760 at n = 8,
16, 32, 64, 128, measured; 2850, 6088 at n = 256, 512, extrapolated by t_knee ~ 3.3 n^1.10).
The extrapolation can be short: the fit over n <= 64 (t_knee ~ 5.7 n^0.90) put T(128) at 881,
where the pilot measured afterwards (``python -m numerics.horizon check 128 --T 1408``, then
``promote 128``) gives t_knee(128) = 880, hence T(128) = 1760 (the points run to 881 before are
kept apart, ``reports/data/width-thresholds-full/results-T881``).  The knee grew 3.5-fold from
n = 64 to 128, faster than n^1.10: measure rule pilots (``python -m numerics.horizon pilot N``)
at n = 256, 512 before sweeping there, and expect longer horizons than these.

The estimates per scale (:func:`estimate`, single core), with the flow tracking that each point
records (:func:`numerics.thresholds.tracking_fields`: every seed at the deepest depth trained
with eta, eta/2 and eta/4, batched, i.e. 7 L_max layer iterations of the batch per iteration;
the committed points' measured ratios of tracking to training time agree with the model's
within a factor 1.6, tests/test_width_cost.py) and for the trainings alone (the task
``numerics.thresholds:point_records``, as the e7feaaf records of the committed full preset):
``python -m reports.sweep.width estimate`` prints them (``estimate SCALE``: per point), and the
block ``estimate`` of ``reports/data/width-thresholds-full/README.md`` quotes them (``python -m
reports.sweep.width_readmes``).

Grids: quick, n = 8, 12, 16; m/n = 1/16 .. 4; 5 seeds; depths 4..32.  full, n = 8 .. 128
(doubling); m/n = 1/64 .. 4, and 8, 16 at n >= 32 (no seed is 1/L-smooth at n = 32, m/n = 1);
5 seeds; depths 4..32, to 128 at n = 8, 16.  cluster, n = 8 .. 512; m/n = 1/64 .. 4, and 8, 16,
32 at n >= 32; 8 seeds; depths 4..32 (to 128 at n <= 32); on a cluster its wall time is that of
its longest point, which needs the CUDA engine (``--set device=cuda``) or a cheaper criterion to
be practical.  Against the measured walls the model is within 0.7-1.5x of the committed
full-preset points' up to n m = 2^11 and overestimates them 1.4-2.2x beyond (the trainings
alone; at n = 128 the largest-n block of ``reports/data/width-thresholds-full/README.md``
renders the ratio).

Measured (nice 19, the machine shared with other jobs): the quick preset in 296 s in one process
(nice 5, beside the full sweep), the points 6-43 s each; the full preset's n = 8, 16, 32 at m/n
<= 4 (21 points, 105 seed runs) in 15 min of wall time on 2 Dask workers (summed task time
0.38 h); n = 64, 128 at m/n = 1/64 .. 1/8 (8 points) in about 20 min more; n = 64 at m = 32,
128, 256 in 310, 1221 and 2695 s per point (5 seeds batched on one worker, load 4), linear in m
(about 10.5 s per unit of m), and m = 512 seed by seed in about 975 s per seed; n = 128 (to
T = 881) at m = 64, 128, 256 seed by seed in 435-482, 791-1007 and 1458-1542 s per seed; to
T = 1760, m = 256 seed by seed in 2807-3004 s per seed (two in-process lanes on the two CPUs of
another machine, an AMD EPYC).  The flow tracking (``reports/data/width-tracking.json``, nice 19
under load 4-6) took 23-191 s per point at n = 8, 16 (L = 128), 0.5 to 1.9 times the point's
own committed sweep time.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any

from numerics.device import cpu_threads
from numerics.flow import run_config
from numerics.horizon import horizon
from numerics.thresholds import study_base
from reports.sweep.spec import Point, Sweep, _checked_overrides
from theory.config import Config
from theory.errors import ConfigError

TASK = "numerics.thresholds:width_point"
NAME = "width-thresholds"
FIGURES = ("interpolated", "smooth", "limit_smooth", "gap_slope", "limit_slope",
           "interpolated_half")
BASE_DEPTHS = (4, 8, 16, 32)
EXTENDED_DEPTHS = (4, 8, 16, 32, 64, 128)


@dataclasses.dataclass(frozen=True)
class Grid:
    """One scale of the preset."""

    ns: tuple[int, ...]
    ratios: tuple[float, ...]
    seeds: tuple[int, ...]
    depths: tuple[int, ...] = BASE_DEPTHS
    extended_ns: tuple[int, ...] = ()
    extended_depths: tuple[int, ...] = EXTENDED_DEPTHS
    wide_ratios: tuple[float, ...] = ()
    wide_from_n: int = 32
    """Ratios added at n >= wide_from_n, where m*_ode / n passes the last ratio (measured: no
    seed is 1/L-smooth at n = 32, m/n = 1 on depths 4..32)."""

    def ratios_at(self, n: int) -> tuple[float, ...]:
        return self.ratios + (self.wide_ratios if n >= self.wide_from_n else ())


_RATIOS = tuple(2.0 ** k for k in range(-6, 3))  # 1/64 .. 4
GRIDS = {
    "quick": Grid(ns=(8, 12, 16), ratios=tuple(2.0 ** k for k in range(-4, 3)),
                  seeds=(0, 1, 2, 3, 4)),
    "full": Grid(ns=(8, 16, 32, 64, 128), ratios=_RATIOS, seeds=(0, 1, 2, 3, 4),
                 extended_ns=(8, 16), wide_ratios=(8.0, 16.0)),
    "cluster": Grid(ns=(8, 16, 32, 64, 128, 256, 512), ratios=_RATIOS,
                    seeds=tuple(range(8)), extended_ns=(8, 16, 32), wide_ratios=(8.0, 16.0, 32.0)),
}
GRID_KEYS = ("ns", "ratios", "depths", "extended_ns")


def widths(n: int, ratios: Sequence[float]) -> list[int]:
    """The distinct widths max(1, round(ratio n)), increasing."""
    return sorted({max(1, round(r * n)) for r in ratios})


def depths_at(grid: Grid, n: int) -> tuple[int, ...]:
    return grid.extended_depths if n in grid.extended_ns else grid.depths


def base_config(**fields: Any) -> Config:
    return study_base(**fields)


def preset(scale: str, overrides: Mapping[str, Any] | None = None) -> Sweep:
    """The ``width-thresholds`` sweep at ``scale`` (quick, full, cluster).  ``overrides`` may
    set ``ns``, ``ratios``, ``depths``, ``extended_ns`` and any base field but n, m, T (e.g.
    ``y_scale``, ``d``, ``q``, ``seeds``, ``eta``, ``device``)."""
    if scale not in GRIDS:
        raise ConfigError("scale", scale, f"width-thresholds has the scales {', '.join(GRIDS)}")
    overrides = dict(overrides or {})
    grid = GRIDS[scale]
    changes = {k: overrides.pop(k) for k in GRID_KEYS if k in overrides}
    for key, value in changes.items():
        if isinstance(value, str) or not isinstance(value, Sequence) \
                or not all(isinstance(v, int | float) and v > 0 for v in value) \
                or (key != "extended_ns" and not value):
            raise ConfigError(key, value, "must be a list of positive numbers")
        changes[key] = tuple(int(v) if key != "ratios" else float(v) for v in value)
    grid = dataclasses.replace(grid, **changes)
    for key in ("n", "m", "T", "depths", "L"):
        if key in overrides:
            raise ConfigError(f"set {key}", overrides[key], "is set by the grid (ns, ratios, "
                              "depths, the horizon rule)")
    seeds = overrides.pop("seeds", grid.seeds)
    fields = {**_checked_overrides(overrides, {}), "seeds": tuple(seeds)}
    return Sweep(NAME, TASK, ("n", "m_over_n", "m"), tuple(points(grid, fields)), FIGURES)


def points(grid: Grid, fields: Mapping[str, Any]) -> list[Point]:
    out = []
    for n in grid.ns:
        T = horizon(n)
        depths = depths_at(grid, n)
        for m in widths(n, grid.ratios_at(n)):
            try:
                c = base_config(**fields, n=n, m=m, T=T, L=depths[-1], depths=depths)
            except ConfigError as exc:
                raise ConfigError(exc.field, exc.value, f"{exc.rule} (width-thresholds at n = "
                                  f"{n}, m = {m})") from None
            out.append(Point({"n": n, "m_over_n": m / n, "m": m}, c))
    return out


# --------------------------------------------------------------------------- cost

COST = {"c0": 1.5e-5, "c1": 8.0e-8}
"""Seconds per iteration per layer of 5 batched seeds: c0 + c1 n m (fitted by :func:`measure`
on this machine; see the module docstring)."""


def cost_model(n: int, m: int, depths: Sequence[int], seeds: int = 5,
               cost: Mapping[str, float] | None = None, tracking: bool = True) -> float:
    """Estimated seconds per training iteration of one point: every depth with ``seeds`` seeds,
    and (``tracking``) its flow tracking (the same seeds at the deepest depth trained with eta,
    eta/2 and eta/4: 7 iterations per iteration at eta, :mod:`numerics.tracking`), i.e.
    (sum_L L + 7 max_L L) (c0 + c1 n m seeds / 5)."""
    c = COST if cost is None else cost
    return ((sum(depths) + tracking * 7 * max(depths))
            * (c["c0"] + c["c1"] * n * m * seeds / 5))


def point_cost(c: Config, cost: Mapping[str, float] | None = None,
               tracking: bool = True) -> float:
    return cost_model(c.n, c.m, c.depths, len(c.seeds), cost, tracking) * c.iterations


def estimate(scale: str, cost: Mapping[str, float] | None = None,
             tracking: bool = True) -> dict[str, Any]:
    """Per point and in total (single core), the estimated seconds of the preset at ``scale``,
    with (``tracking``) or without the flow tracking."""
    sweep = preset(scale)
    rows = [{"n": p.config.n, "m": p.config.m, "T": p.config.T,
             "iterations": p.config.iterations, "seconds": point_cost(p.config, cost, tracking)}
            for p in sweep.points]
    by_n: dict[int, float] = {}
    for r in rows:
        by_n[r["n"]] = by_n.get(r["n"], 0.0) + r["seconds"]
    return {"scale": scale, "points": rows, "by_n": by_n,
            "total_s": sum(r["seconds"] for r in rows),
            "longest_s": max(r["seconds"] for r in rows)}


def estimate_lines() -> list[str]:
    """One line per scale and tracking (with, then without): points, total, longest, per n."""
    lines = []
    for scale in GRIDS:
        for tracking, what in ((True, "with the flow tracking"), (False, "training alone")):
            e = estimate(scale, tracking=tracking)
            lines.append(f"- {scale}, {what}: {len(e['points'])} points, total "
                         f"{_hours(e['total_s'])} single-core, longest point "
                         f"{_hours(e['longest_s'])}; per n: "
                         + ", ".join(f"{n}: {_hours(s)}" for n, s in e["by_n"].items()))
    return lines


def point_lines(scale: str) -> list[str]:
    """One line per point of the preset at ``scale``: n, m, T, iterations and its estimated
    single-core hours with the flow tracking and for the trainings alone."""
    return [f"n = {p.config.n}, m = {p.config.m}, T = {p.config.T:g}, {p.config.iterations} "
            f"iterations: {point_cost(p.config) / 3600:.3g} h with the flow tracking, "
            f"{point_cost(p.config, tracking=False) / 3600:.3g} h training alone"
            for p in preset(scale).points]


def measure(cases: Sequence[tuple[int, int]], depths: Sequence[int] = BASE_DEPTHS,
            iterations: int = 100) -> list[dict[str, float]]:
    """Seconds per iteration of a point at each (n, m) of ``cases`` (5 seeds, ``depths``), from
    ``iterations`` iterations each, and the least-squares (c0, c1) of the cost model."""
    out = []
    with cpu_threads():
        for n, m in cases:
            c = base_config(n=n, m=m, T=iterations * 0.01)
            began = time.perf_counter()
            for L in depths:
                run_config(dataclasses.replace(c, L=L), seeds=c.seeds,
                           record_every=max(1, c.iterations // 200))
            out.append({"n": n, "m": m, "s_per_it": (time.perf_counter() - began) / iterations})
    return out


def fit_cost(rows: Sequence[Mapping[str, float]],
             depths: Sequence[int] = BASE_DEPTHS) -> dict[str, float]:
    import numpy as np

    A = np.array([[sum(depths), sum(depths) * r["n"] * r["m"]] for r in rows])
    y = np.array([r["s_per_it"] for r in rows])
    c0, c1 = np.linalg.lstsq(A, y, rcond=None)[0]
    return {"c0": float(c0), "c1": float(c1)}


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.3g} h" if seconds >= 3600 else f"{seconds / 60:.3g} min"


def _main(argv: Sequence[str]) -> None:
    import json

    if argv and argv[0] == "cost":
        rows = measure([(8, 1), (8, 32), (16, 64), (32, 128), (64, 64), (64, 256), (128, 128),
                        (128, 512)], iterations=int(argv[1]) if len(argv) > 1 else 100)
        for r in rows:
            print(json.dumps(r), flush=True)
        print(json.dumps(fit_cost(rows)))
    elif argv[:1] == ["estimate"] and (len(argv) == 1 or len(argv) == 2 and argv[1] in GRIDS):
        print("\n".join(estimate_lines() if len(argv) == 1 else point_lines(argv[1])))
    else:
        raise SystemExit("usage: python -m reports.sweep.width (cost [ITERATIONS] | estimate "
                         "[quick|full|cluster])")


if __name__ == "__main__":
    _main(sys.argv[1:])
