"""One report row replicated from independent base seeds, at a step of one's choice.

    python -m reports.replicate ROW_LABEL ID[,ID...] [--bases 0 1 2] [--set eta=0.000625]
                                [--out reports/data/replication-NAME.json]

For each base seed s, the quick scale's row of each statement ``ID`` whose label contains
``ROW_LABEL`` (its seeds s k, ..., s k + k - 1: disjoint data and initializations across base
seeds, :meth:`reports.sections.base.Context.config`) is checked with :func:`run_check` (scope,
flow tracking on every seed, negative control where it holds), after the ``--set`` overrides
of its configuration.  Results are written atomically after every check and a rerun skips the
(base seed, statement) pairs already there with the same configuration, so a long replication
resumes; base seeds may run as separate processes on one file (each merges its results into
what is there when it writes).  The file's ``classes`` gives each statement's verdict per base
seed and whether they agree (the README's replication numbers come from it).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from numerics.checks import run_check
from reports.io import atomic_write_json
from reports.provenance import environment
from reports.sections import SECTIONS, Context
from theory.catalog import jsonable
from theory.config import Config
from theory.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def row_config(label: str, sid: str, base: int) -> Config:
    """The quick row of ``sid`` whose label contains ``label``, for base seed ``base``."""
    ctx = Context("quick", seed=base)
    rows = [r for s in SECTIONS if sid in s.ids for r in s.rows(ctx)
            if r.id == sid and label in r.label]
    if len(rows) != 1:
        raise ConfigError("row", label, f"must match exactly one quick row of {sid} "
                          f"(matched {len(rows)})")
    return rows[0].config


def classes(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per statement: the verdict per base seed and whether every base seed gives the same."""
    out: dict[str, dict[str, Any]] = {}
    for r in results:
        entry = out.setdefault(r["id"], {"by_base": {}})
        entry["by_base"][str(r["base"])] = r["result"]["verdict"]
    for entry in out.values():
        entry["agree"] = len(set(entry["by_base"].values())) == 1
    return out


def replicate(label: str, ids: list[str], bases: list[int], overrides: dict[str, Any],
              out: Path) -> dict[str, Any]:
    """Run (or resume) the replication and return the file's content."""
    configs = {(b, sid): dataclasses.replace(row_config(label, sid, b), **overrides)
               for b in bases for sid in ids}  # every row found before any long work
    data = _read(out)
    for (b, sid), config in configs.items():
        done = [r for r in data["results"] if r["base"] == b and r["id"] == sid
                and r["result"]["config"] == jsonable(config.to_dict())]
        if done:
            continue
        result = jsonable(run_check(sid, config).to_dict())
        print(f"base seed {b}: {sid}: {result['verdict']} ({result['verdict_rule']})",
              flush=True)
        data = _read(out)  # base seeds may run in separate processes: merge with theirs
        data["results"] = [r for r in data["results"] if not (r["base"] == b and r["id"] == sid)]
        data["results"].append({"base": b, "id": sid, "result": result, "environment":
                                environment(config.device, b, config.dtype)})
        done_bases = sorted({r["base"] for r in data["results"]})
        data |= {"row": label, "ids": ids, "bases": done_bases, "overrides": overrides,
                 "command": " ".join(["python -m reports.replicate", repr(label), ",".join(ids),
                                      "--bases", *map(str, done_bases),
                                      *(f"--set {k}={v}" for k, v in overrides.items()),
                                      "--out", str(out)]),
                 "classes": classes(data["results"])}
        atomic_write_json(out, data)
    return data


def _read(out: Path) -> dict[str, Any]:
    try:
        return json.loads(out.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"results": []}


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m reports.replicate")
    parser.add_argument("row", help="a substring of the row's label (quick scale)")
    parser.add_argument("ids", help="statement ids, comma-separated")
    parser.add_argument("--bases", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        overrides = dict((k, _value(v)) for k, v in (s.split("=", 1) for s in args.set))
        replicate(args.row, args.ids.split(","), args.bases, overrides, args.out)
    except (ConfigError, TypeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
