"""Computing a report's sections: their rows' checks (a diverged training reported as a result)
and figure data, as they round-trip through JSON; here or on a Dask worker alike."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from numerics import checks
from numerics.device import cpu_threads
from numerics.progress import checkpointing
from reports.arguments import RunSpec
from reports.provenance import measure_usage
from reports.records import CheckRow
from reports.resume import code_version
from reports.sections import SECTIONS, Context, Section
from theory.catalog import CheckResult, catalog, jsonable
from theory.config import Config
from theory.errors import DivergenceError
from theory.verdicts import Facts, classify


@dataclasses.dataclass(frozen=True)
class Work:
    """A section to compute: its selected ids, progress fingerprint and checkpoint folder."""

    key: str
    ids: tuple[str, ...]
    fp: str
    checkpoints: Path


def context(spec: RunSpec, shared: dict[str, Any]) -> Context:
    """The sections' context of a run; ``shared``: data that several sections use (Figure 1)."""
    return Context(spec.scale, spec.seed, spec.device, spec.data_dir, shared=shared)


def compute(sec: Section, ctx: Context, ids: tuple[str, ...], checkpoints: Path
            ) -> dict[str, Any]:
    """Run a section's rows and figure data, its trainings checkpointing under
    ``checkpoints``; the result as it round-trips through JSON."""
    with measure_usage(ctx.device) as usage, checkpointing(checkpoints):
        records = []
        rows = [r for r in sec.rows(ctx) if r.id in ids]
        for j, row in enumerate(rows, 1):
            record = check(row.id, row.config).to_dict()
            record.update(label=row.label, section=sec.key,
                          config_file=f"configs/{sec.key}-{row.id}-{j}.json")
            if record["control"] is not None:
                record["control"]["config_file"] = f"configs/{sec.key}-{row.id}-{j}-control.json"
            records.append(roundtrip(record))
        data = sec.data(ctx, [CheckRow.from_dict(r) for r in records])
    section = {"key": sec.key, "title": sec.title, "ids": list(ids), "checks": records,
               "data": json_safe(data), "usage": dataclasses.asdict(usage)}
    return roundtrip(section)


def compute_sections(spec: RunSpec, works: list[Work]) -> dict[str, Any]:
    """On a worker: the sections ``works`` in order, sharing one ``Context.shared``, with
    :data:`numerics.device.THREADS` torch threads (as in-process: the same numbers); returns
    the code version and each section's result."""
    by_key, shared = {s.key: s for s in SECTIONS}, {}  # type: ignore[var-annotated]
    with cpu_threads():
        sections = [compute(by_key[w.key], context(spec, shared), w.ids, w.checkpoints)
                    for w in works]
    return {"version": code_version(), "sections": sections}


def check(statement_id: str, config: Config) -> CheckResult:
    """:func:`numerics.checks.run_check`, with a divergence reported as a result (a violation
    where the statement applies)."""
    try:
        return checks.run_check(statement_id, config)
    except DivergenceError as exc:
        st = catalog[statement_id]
        scope, failed_paper, failed = st.scope(config)
        # no finite measurement: violated where applicable (fails beyond the assumptions)
        v = classify(Facts(None), failed, scope=scope)  # type: ignore[arg-type]
        return CheckResult(st.id, st.paper_ref, st.claim, config.to_dict(),
                           scope == "paper" and not failed, failed_paper, None, None, v.holds,
                           notes=f"training diverged: {exc}", verdict=v.cls, verdict_rule=v.rule,
                           scope=scope,
                           failed_requirements=failed if scope == "beyond" else [])


def json_safe(obj: Any) -> Any:
    """``obj`` for JSON: tuples as lists, numpy/torch scalars as numbers, non-finite as None."""
    obj = jsonable(obj)
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [json_safe(v) for v in obj]
    if obj in ("inf", "-inf", "nan"):
        return None
    return obj


def roundtrip(obj: Any) -> Any:
    """``obj`` as it reads back from JSON (NaN and infinities refused)."""
    return json.loads(json.dumps(obj, allow_nan=False))
