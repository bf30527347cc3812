"""results.json read into typed records (docs/results-json.md, :data:`reports.schema.VERSION`).

:func:`parse` is the one place where results.json's dict is read by key: it refuses another
schema version with one line and gives a :class:`Results` of frozen records, on whose attributes
the renderers work (:mod:`reports.markdown`, :mod:`reports.html`, :mod:`reports.readme`).  A
check is :class:`theory.catalog.CheckResult` (:meth:`~theory.catalog.CheckResult.from_dict`) in a
:class:`CheckRow` with what the report adds (label, section, configuration files, the negative
control as :class:`theory.verdicts.Control`); its per-statement measurement data ``extra`` stays
a mapping (free-form: series, intervals, per-seed runs), the few of its fields the report itself
renders have accessors.  The JSON on disk is unchanged: :func:`reports.outputs.write` writes it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from reports.findings import Finding
from reports.provenance import PACKAGES, Usage
from reports.schema import VERSION
from theory.catalog import CheckResult
from theory.errors import ConfigError
from theory.verdicts import Control


@dataclasses.dataclass(frozen=True)
class CheckRow:
    """A row of the report: the check, its label, section and configuration file (a
    ``--config`` of ``resnet-ode check``), and its negative control with that one's file."""

    check: CheckResult
    label: str
    section: str
    config_file: str
    control: Control | None = None
    control_file: str | None = None

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> CheckRow:
        """The row of a ``checks`` entry of results.json (or of a section's saved record)."""
        control = record["control"]
        return cls(CheckResult.from_dict(record), record["label"], record["section"],
                   record["config_file"],
                   None if control is None else Control(control["config"], control["why"],
                                                        control["verdict"], control["rule"],
                                                        control["measured"]),
                   None if control is None else control.get("config_file"))

    @property
    def log10_bound(self) -> float | None:
        """``extra.log10_bound``: log10 of a bound past the float range (``bound`` is null)."""
        return _number(self.check.extra.get("log10_bound"))

    @property
    def log10_log10_bound(self) -> float | None:
        """``extra.log10_log10_bound``: log10 log10 of a bound past even 10^(float range)."""
        return _number(self.check.extra.get("log10_log10_bound"))


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


@dataclasses.dataclass(frozen=True)
class Engine:
    """``environment.engine`` (:func:`numerics.native.engine`): the compiled C sweeps of model
    (3) with their build, or torch's with the reason; on CUDA the version and CUDA graphs."""

    name: str
    torch: str
    reason: str | None = None
    compiler: str | None = None
    compiler_version: str | None = None
    flags: tuple[str, ...] = ()
    cpu_flags: str | None = None
    max_qm: int | None = None
    cuda: str | None = None
    cuda_graph: bool = False

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> Engine:
        return cls(record["name"], record["torch"], record.get("reason"), record.get("compiler"),
                   record.get("compiler_version"), tuple(record.get("flags", ())),
                   record.get("cpu_flags"), record.get("max_qm"), record.get("cuda"),
                   bool(record.get("cuda_graph", False)))


@dataclasses.dataclass(frozen=True)
class Environment:
    """The run's provenance (:func:`reports.provenance.environment` plus the report's ``scale``,
    ``code_version`` and ``total_wall_s``); ``versions``: python's and :data:`PACKAGES`' present,
    in that order; ``fields``: every field as written, in its order (the HTML lists them all)."""

    versions: Mapping[str, str]
    device: str
    seed: int
    engine: Engine
    fields: Mapping[str, Any]
    git_commit: str | None = None
    device_name: str | None = None
    dtype: str | None = None
    torch_threads: int | None = None
    platform: str | None = None
    argv: tuple[str, ...] = ()
    scale: str | None = None
    code_version: str | None = None
    total_wall_s: float | None = None

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> Environment:
        return cls({k: record[k] for k in ("python", *PACKAGES) if k in record},
                   record["device"], record["seed"], Engine.from_dict(record["engine"]),
                   dict(record), record.get("git_commit"), record.get("device_name"),
                   record.get("dtype"), record.get("torch_threads"), record.get("platform"),
                   tuple(record.get("argv", ())), record.get("scale"), record.get("code_version"),
                   record.get("total_wall_s"))


@dataclasses.dataclass(frozen=True)
class SectionRecord:
    """A ``sections`` entry: key, title, statement ids, wall time and peak memory, whether it was
    resumed, its figure file, its conclusion and (S15) its measured summary ``results``."""

    key: str
    title: str
    ids: tuple[str, ...]
    usage: Usage
    resumed: bool
    figure: str | None
    conclusion: str
    results: Mapping[str, Any] | None = None

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> SectionRecord:
        return cls(record["key"], record["title"], tuple(record["ids"]), Usage(**record["usage"]),
                   record["resumed"], record["figure"], record["conclusion"],
                   record.get("results"))


@dataclasses.dataclass(frozen=True)
class Results:
    """results.json: provenance, the checks in report order, the findings, the sections."""

    environment: Environment
    checks: tuple[CheckRow, ...]
    findings: tuple[Finding, ...]
    sections: tuple[SectionRecord, ...]

    def rows(self, section: str) -> list[CheckRow]:
        """The checks of section ``section``, in report order (its table's rows)."""
        return [r for r in self.checks if r.section == section]


def parse(raw: Mapping[str, Any]) -> Results:
    """``raw`` (results.json as read by :func:`json.load`) as typed records; a schema version
    other than :data:`reports.schema.VERSION`, or a missing required field, is refused with one
    line (:class:`theory.errors.ConfigError`)."""
    if raw.get("schema") != VERSION:
        raise ConfigError("schema", raw.get("schema"), f"results.json of another schema version; "
                          f"this code reads version {VERSION} (docs/results-json.md)")
    try:
        return Results(Environment.from_dict(raw["environment"]),
                       tuple(CheckRow.from_dict(c) for c in raw["checks"]),
                       tuple(Finding(f["id"], f["text"], f.get("command", ""), f.get("kind", ""))
                             for f in raw["findings"]),
                       tuple(SectionRecord.from_dict(s) for s in raw.get("sections", ())))
    except KeyError as exc:
        raise ConfigError("results.json", exc.args[0], "a required field is missing "
                          "(docs/results-json.md)") from None
