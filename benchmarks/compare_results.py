"""Compare two ``results.json`` of the same report on two devices (CPU and CUDA, same seeds).

::

    python -m benchmarks.compare_results CPU_RESULTS CUDA_RESULTS [--rtol R] [--atol A] [--json]

The checks are matched by (id, label, occurrence).  For each pair:

- the verdict must be equal: ``verdict`` (results.json schema 2) where both rows have it, else
  ``holds``; ``applicable`` and the failed assumptions too;
- the numbers must agree within the declared float tolerance: ``bound`` and ``measured`` with
  |a - b| <= atol + rtol max(|a|, |b|); ``slack_log10`` (a log10 of a ratio of two such numbers)
  within 2 rtol / ln 10 + 1e-12 unless both ``measured`` are within atol of 0 (rounding level, where
  the log is noise); ``rate_slope`` (a least-squares slope of logs) within 10 rtol + 1e-12.

The tolerance is declared per the row's ``config.dtype`` (:data:`TOLERANCE`: float64 rows 1e-6
relative, 1e-12 absolute: summation orders of cuBLAS and the CPU kernels differ in the last bits,
and training amplifies them over T / eta steps; float32 rows 1e-3 and 1e-6); ``--rtol`` and
``--atol`` override it for every row.  Exit status 0 when every check agrees, 1 when one does
not (each difference printed on one line), 2 for unreadable files or runs of different seeds.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

TOLERANCE = {"float64": (1e-6, 1e-12), "float32": (1e-3, 1e-6)}  # (rtol, atol) per dtype
_DEFAULT = TOLERANCE["float64"]


class BadInput(Exception):
    """A results file that cannot be compared (exit status 2)."""


def load(path: str | Path) -> tuple[object, dict[tuple[str, str, int], dict[str, Any]]]:
    """(the run's seed, its checks keyed by (id, label, occurrence of that pair))."""
    try:
        data = json.loads(Path(path).read_text())
        checks = data["checks"]
        if not isinstance(checks, list):
            raise TypeError("checks is not a list")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BadInput(f"{path}: not a results.json ({exc.__class__.__name__}: {exc})") from None
    seed = (data.get("environment") or {}).get("seed") if isinstance(data, dict) else None
    out: dict[tuple[str, str, int], dict[str, Any]] = {}
    seen: dict[tuple[str, str], int] = {}
    for row in checks:
        if not isinstance(row, dict) or not isinstance(row.get("id"), str):
            raise BadInput(f"{path}: a check without an id")
        pair = (row["id"], str(row.get("label", "")))
        seen[pair] = seen.get(pair, -1) + 1
        out[(*pair, seen[pair])] = row
    return seed, out


def verdict(row: dict[str, Any], other: dict[str, Any]) -> tuple[str, object]:
    """The verdict field to compare: ``verdict`` where both rows have it, else ``holds``."""
    if "verdict" in row and "verdict" in other:
        return "verdict", row["verdict"]
    return "holds", row.get("holds")


def _number(x: object) -> float | None:
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) else None


def _close(a: float | None, b: float | None, tol: float, rtol: float = 0.0) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= tol + rtol * max(abs(a), abs(b))


def _tolerance(row: dict[str, Any], rtol: float | None, atol: float | None
               ) -> tuple[float, float]:
    """(rtol, atol) of a row: the given ones, else those of its config's dtype."""
    dtype = str((row.get("config") or {}).get("dtype", "float64"))
    r_default, a_default = TOLERANCE.get(dtype, _DEFAULT)
    return (r_default if rtol is None else rtol), (a_default if atol is None else atol)


def compare_rows(a: dict[str, Any], b: dict[str, Any], rtol: float | None = None,
                 atol: float | None = None) -> list[str]:
    """The differences between two rows of the same check (empty when they agree)."""
    rtol, atol = _tolerance(a, rtol, atol)
    out = []
    field, va = verdict(a, b)
    vb = verdict(b, a)[1]
    if va != vb:
        out.append(f"{field}: {va!r} != {vb!r}")
    for key in ("applicable", "failed_assumptions"):
        if a.get(key) != b.get(key):
            out.append(f"{key}: {a.get(key)!r} != {b.get(key)!r}")
    values = {key: (_number(a.get(key)), _number(b.get(key)))
              for key in ("bound", "measured", "slack_log10", "rate_slope")}
    for key in ("bound", "measured"):
        x, y = values[key]
        if not _close(x, y, atol, rtol):
            out.append(f"{key}: {x!r} != {y!r} (rtol {rtol:g}, atol {atol:g})")
    x, y = values["slack_log10"]
    mx, my = values["measured"]
    rounding = mx is not None and my is not None and abs(mx) <= atol and abs(my) <= atol
    if not rounding and not _close(x, y, 2 * rtol / math.log(10) + 1e-12):
        out.append(f"slack_log10: {x!r} != {y!r}")
    x, y = values["rate_slope"]
    if not _close(x, y, 10 * rtol + 1e-12):
        out.append(f"rate_slope: {x!r} != {y!r}")
    return out


def compare(first: str | Path, second: str | Path, rtol: float | None = None,
            atol: float | None = None) -> dict[str, Any]:
    """Every difference between two results files, and counts."""
    (seed_a, a), (seed_b, b) = load(first), load(second)
    if seed_a != seed_b:
        raise BadInput(f"the runs used different seeds ({seed_a!r}, {seed_b!r})")
    differences = {f"{k[0]} [{k[1]}]" + (f" #{k[2]}" if k[2] else ""): compare_rows(
        a[k], b[k], rtol, atol) for k in a if k in b}
    largest = max(((abs(x - y) / max(abs(x), abs(y)), f"{key} of {k[0]} [{k[1]}]")
                   for k in a if k in b for key in ("bound", "measured")
                   for x, y in [(_number(a[k].get(key)), _number(b[k].get(key)))]
                   if x is not None and y is not None and math.isfinite(x) and math.isfinite(y)
                   and max(abs(x), abs(y)) > _tolerance(a[k], rtol, atol)[1]),
                  default=(0.0, "none"))  # values above the absolute tolerance
    return {"compared": len(differences), "largest_relative_difference": list(largest),
            "only_in_first": [f"{k[0]} [{k[1]}]" for k in a if k not in b],
            "only_in_second": [f"{k[0]} [{k[1]}]" for k in b if k not in a],
            "differences": {k: v for k, v in differences.items() if v}}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.compare_results",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("first")
    parser.add_argument("second")
    parser.add_argument("--rtol", type=float, default=None,
                        help="relative tolerance for every row (default: per dtype)")
    parser.add_argument("--atol", type=float, default=None,
                        help="absolute tolerance for every row (default: per dtype)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    try:
        result = compare(args.first, args.second, args.rtol, args.atol)
    except BadInput as exc:
        print(f"compare_results: {exc}", file=sys.stderr)
        return 2
    if not result["compared"]:
        print("compare_results: no check in common", file=sys.stderr)
        return 2
    agree = not (result["differences"] or result["only_in_first"] or result["only_in_second"])
    if args.json:
        print(json.dumps(result | {"agree": agree}, indent=1))
    else:
        for name in result["only_in_first"]:
            print(f"only in {args.first}: {name}")
        for name in result["only_in_second"]:
            print(f"only in {args.second}: {name}")
        for name, diffs in result["differences"].items():
            print(f"{name}: " + "; ".join(diffs))
        size, where = result["largest_relative_difference"]
        print(f"{result['compared']} checks compared: "
              + ("verdicts equal, numbers within tolerance" if agree else
                 f"{len(result['differences'])} differ")
              + f"; largest relative difference {size:.1e} ({where})")
    return 0 if agree else 1


if __name__ == "__main__":
    raise SystemExit(main())
