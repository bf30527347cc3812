"""The outputs of a report in ``--out``, each written atomically: the rows' configurations
(``configs/*.json``), the PNG figures, ``results.json`` (validated against
:data:`reports.schema.RESULTS`), then, from it read back into typed records
(:func:`reports.records.parse`), ``report.html`` and last ``report.md``; a previous report's
files that the new one does not write are removed, and a report of another scale or a whole
report by an ``--only`` subset is replaced only with ``--force``."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import jsonschema

from reports import figures, findings, markdown
from reports.arguments import RunSpec
from reports.compute import roundtrip
from reports.html import write_html
from reports.io import atomic_write_json, atomic_write_text
from reports.provenance import environment
from reports.records import Results, parse
from reports.resume import code_version
from reports.schedule import Done
from reports.schema import RESULTS
from reports.schema import VERSION as SCHEMA_VERSION
from theory.errors import ConfigError


def previous(spec: RunSpec) -> set[str]:
    """The files of the report already in ``--out`` (relative paths), after refusing to replace
    it by a report of another scale or by an ``--only`` subset unless ``--force``: a folder never
    mixes two reports.  Read leniently (not :func:`reports.records.parse`): a report of an
    older schema version is replaced too, its files removed."""
    path = spec.out / "results.json"
    if not path.exists():
        return set()
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
        scale = old["environment"]["scale"]
        files = {f for c in old["checks"] for f in _files(c)}
        files |= {s["figure"] for s in old["sections"] if s.get("figure")}
    except (OSError, ValueError, KeyError, TypeError):
        scale, files = None, set()
    if not spec.force:
        if scale != spec.scale:
            held = "an unreadable report" if scale is None else f"a {scale} report"
            raise ConfigError("out", str(spec.out), f"holds {held}; a {spec.scale} report would "
                              "replace it: choose another --out, or pass --force")
        if spec.only is not None:
            raise ConfigError("only", ",".join(spec.only), f"would replace the whole report in "
                              f"{spec.out} by a subset: choose another --out, or pass --force")
    return files


def _files(check: dict[str, Any]) -> list[str]:
    """The configuration files of a check's record in a previous report: its own and its
    control's."""
    control = check.get("control") or {}
    return [check["config_file"]] + ([control["config_file"]] if "config_file" in control else [])


def remove_stale(spec: RunSpec, before: set[str], results: Results) -> None:
    """Delete the files of the previous report (``before``) that the new one did not write."""
    written = {f for r in results.checks for f in (r.config_file, r.control_file) if f}
    written |= {s.figure for s in results.sections if s.figure}
    for name in before - written:
        (spec.out / name).unlink(missing_ok=True)


def write(spec: RunSpec, done: Done, total_s: float, before: set[str]) -> dict[str, Any]:
    """Write every output of the computed sections ``done`` and remove the previous report's
    files (``before``, :func:`previous`) that it did not write; returns results.json."""
    mine = {sec.key: s.rows for sec, s in done}
    rows = [r for sec, _ in done for r in mine[sec.key]]
    for row in rows:
        atomic_write_json(spec.out / row.config_file, row.check.config)
        if row.control is not None and row.control_file is not None:
            atomic_write_json(spec.out / row.control_file, row.control.config)
    figure_files: dict[str, str | None] = {}
    for sec, s in done:
        fig = sec.draw(s.data, mine[sec.key])
        figure_files[sec.key] = None if fig is None else f"{sec.key.lower()}.png"
        if fig is not None:
            figures.save(fig, spec.out / f"{sec.key.lower()}.png")
    found = findings.of_run(rows, (s.data for _, s in done))
    env = {**environment(spec.device, spec.seed, "float64"), "scale": spec.scale,
           "code_version": code_version(), "total_wall_s": total_s}
    sections = [{"key": sec.key, "title": sec.title, "ids": list(s.ids),
                 "usage": dataclasses.asdict(s.usage), "resumed": s.resumed,
                 "figure": figure_files[sec.key],
                 "conclusion": sec.conclusion(s.data, mine[sec.key]),
                 **({"results": s.data["results"]} if "results" in s.data else {})}
                for sec, s in done]  # "results": a section's measured summary (S15)
    results = {"schema": SCHEMA_VERSION, "environment": env,
               "checks": [c for _, s in done for c in s.checks], "findings": found,
               "sections": sections}
    results = roundtrip(results)
    jsonschema.validate(results, RESULTS)
    atomic_write_json(spec.out / "results.json", results)
    typed = parse(results)
    write_html(spec.out, typed, done)
    atomic_write_text(spec.out / "report.md", markdown.report(typed, done))
    remove_stale(spec, before, typed)
    return results
