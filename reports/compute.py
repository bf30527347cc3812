"""Computing a report's sections: their rows' checks (a diverged training reported as a result)
and figure data, as a :class:`SectionResult` with the values they read back from JSON (saved
progress, :mod:`reports.resume`); here or on a Dask worker alike."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from numerics import checks
from numerics.device import cpu_threads
from numerics.progress import checkpointing
from reports.arguments import RunSpec
from reports.provenance import Usage, measure_usage
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


@dataclasses.dataclass(frozen=True)
class SectionResult:
    """A computed section: its key, title, selected statement ids, its checks' records (the
    ``checks`` entries of results.json, written as they are), its figure data (free-form, as
    :meth:`~reports.sections.Section.data` gives it), its wall time and peak memory, and whether
    it was ``resumed`` from saved progress.  :meth:`to_dict` / :meth:`from_dict`: the JSON of a
    progress file (``resumed`` is not saved)."""

    key: str
    title: str
    ids: tuple[str, ...]
    checks: tuple[Mapping[str, Any], ...]
    data: Mapping[str, Any]
    usage: Usage
    resumed: bool = False

    @property
    def rows(self) -> list[CheckRow]:
        """The checks as typed rows, in report order."""
        return [CheckRow.from_dict(c) for c in self.checks]

    def to_dict(self) -> dict[str, Any]:
        """The section as saved in its progress file."""
        return {"key": self.key, "title": self.title, "ids": list(self.ids),
                "checks": list(self.checks), "data": self.data,
                "usage": dataclasses.asdict(self.usage)}

    @classmethod
    def from_dict(cls, record: Mapping[str, Any], resumed: bool = False) -> SectionResult:
        """A section read back from :meth:`to_dict`'s JSON (other fields ignored)."""
        return cls(record["key"], record["title"], tuple(record["ids"]), tuple(record["checks"]),
                   record["data"], Usage(**record["usage"]), resumed)


@dataclasses.dataclass(frozen=True)
class Batch:
    """What a worker hands back: its code version and the sections it computed, in order."""

    version: str
    sections: tuple[SectionResult, ...]


def context(spec: RunSpec, shared: dict[str, Any]) -> Context:
    """The sections' context of a run; ``shared``: data that several sections use (Figure 1)."""
    return Context(spec.scale, spec.seed, spec.device, spec.data_dir, shared=shared)


def compute(sec: Section, ctx: Context, ids: tuple[str, ...], checkpoints: Path
            ) -> SectionResult:
    """Run a section's rows and figure data, its trainings checkpointing under
    ``checkpoints``; the result with the values it reads back from JSON (as when resumed)."""
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
    section = SectionResult(sec.key, sec.title, ids, tuple(records), json_safe(data), usage)
    return SectionResult.from_dict(roundtrip(section.to_dict()))


def compute_sections(spec: RunSpec, works: list[Work]) -> Batch:
    """On a worker: the sections ``works`` in order, sharing one ``Context.shared``, with
    :data:`numerics.device.THREADS` torch threads (as in-process: the same numbers); returns
    the code version and each section's result."""
    by_key, shared = {s.key: s for s in SECTIONS}, {}  # type: ignore[var-annotated]
    with cpu_threads():
        sections = tuple(compute(by_key[w.key], context(spec, shared), w.ids, w.checkpoints)
                         for w in works)
    return Batch(code_version(), sections)


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
