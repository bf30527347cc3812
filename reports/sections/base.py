"""What a report section is: statements, table rows per scale, figure data, figure, conclusion.

A :class:`Section` covers one family of docs/statements.md (S1..S13).  ``rows(ctx)`` lists the
configurations of its table (one :func:`numerics.checks.run_check` each; rows whose assumptions
fail are part of the point: they name the failed assumption); ``data(ctx, checks)`` computes what
the figure needs beyond the checks (numerics APIs directly) as JSON-ready values; ``draw`` makes
the figure from the saved checks and data only, so that a resumed section draws the same figure;
``text`` adds Markdown (extra tables) and ``conclusion`` the one-line conclusion.

Scales: ``"quick"`` (default, minutes), ``"paper"`` (the paper's settings) and ``"tiny"`` (tests).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from matplotlib.figure import Figure

from numerics import native
from reports.records import CheckRow
from theory.config import Config

SCALES = ("tiny", "quick", "paper")
Checks = list[CheckRow]  # the section's rows: checks with label and configuration file


@dataclasses.dataclass(frozen=True)
class Context:
    """Settings of one run: scale, base seed, device, real-data folder; ``shared`` holds data
    that several sections of the same run use (Figure 1).  Long trainings checkpoint through
    :func:`numerics.progress.checkpoint` (the report names the section's folder)."""

    scale: str
    seed: int = 0
    device: str = "cpu"
    data_dir: str | None = None
    shared: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False)

    def pick(self, **by_scale: Any) -> Any:
        """The value for this scale: ``ctx.pick(tiny=..., quick=..., paper=...)``."""
        return by_scale[self.scale]

    def config(self, **fields: Any) -> Config:
        """A :class:`Config` seeded with this run's seed: ``seeds`` (k of them) become
        s k + seeds, so that the rows of base seeds 0, 1, 2, ... draw disjoint sets of seeds
        (independent replications of data and initialization)."""
        seeds = fields.pop("seeds", (0, 1, 2))
        return Config(seed=self.seed, seeds=tuple(self.seed * len(seeds) + s for s in seeds),
                      device=self.device, **fields)


@dataclasses.dataclass(frozen=True)
class Row:
    """One table row: a statement checked for one configuration, with what it shows."""

    id: str
    label: str
    config: Config


def _no_data(ctx: Context, checks: Checks) -> dict[str, Any]:
    return {}


def _no_text(data: dict[str, Any], checks: Checks) -> str:
    return ""


@dataclasses.dataclass(frozen=True)
class Section:
    """One section of the report (see the module docstring).

    ``assumptions[id]`` lists the statement's assumptions by the names its predicate returns
    (theory's constants), so that each row gets a verdict per assumption; ``figure_note`` says
    what the figure shows, its settings and scaling.
    """

    key: str
    title: str
    ids: tuple[str, ...]
    assumptions: dict[str, tuple[str, ...]]
    rows: Callable[[Context], list[Row]]
    draw: Callable[[dict[str, Any], Checks], Figure | None]
    conclusion: Callable[[dict[str, Any], Checks], str]
    figure_note: Callable[[dict[str, Any]], str]
    data: Callable[[Context, Checks], dict[str, Any]] = _no_data
    text: Callable[[dict[str, Any], Checks], str] = _no_text
    shares: str | None = None  # the ctx.shared entry it uses with other sections (one task)

    def settings(self, ctx: Context, ids: tuple[str, ...]) -> dict[str, Any]:
        """What the section's numbers depend on besides the code (the progress fingerprint), the
        engine of model (3)'s sweeps included (:func:`numerics.native.engine`)."""
        return {"key": self.key, "scale": ctx.scale, "seed": ctx.seed, "device": ctx.device,
                "engine": native.engine(ctx.device), "data_dir": ctx.data_dir, "ids": list(ids),
                "rows": [[r.id, r.label, r.config.to_dict()] for r in self.rows(ctx)]}


def applicable(checks: Checks) -> Checks:
    return [c for c in checks if c.check.applicable]


def verdict_phrase(checks: Checks) -> str:
    """The predicate of a sentence about the statement, separating what was tested and holds
    from what is vacuous or undecided here, and never calling a statement violated outside its
    assumptions: "holds in all 3 applicable configurations", "is VIOLATED in 1 of 3 ...", "is
    vacuous in every applicable configuration (...)", "is not applicable ...", followed by what
    the beyond-scope rows answered."""
    app = applicable(checks)
    beyond = [c for c in checks if c.check.scope == "beyond"]
    tail = "" if not beyond else "; " + _beyond_phrase(beyond)
    if not app:
        return "is not applicable in any row (each names its failed assumptions)" + tail
    by = {cls: [c for c in app if c.check.verdict == cls]
          for cls in ("holds", "vacuous", "violated", "inconclusive")}
    if by["violated"]:
        return (f"is VIOLATED in {len(by['violated'])} of {len(app)} applicable configurations"
                + tail)
    rules = sorted({c.check.verdict_rule for c in by["vacuous"]})
    undecided = ("" if not by["inconclusive"] else
                 f", inconclusive in {len(by['inconclusive'])} (the interval straddles the edge)")
    if not by["holds"]:
        if not by["vacuous"]:
            return f"is inconclusive in every applicable configuration{tail}"
        return ("is vacuous in " + ("every applicable configuration" if not undecided else
                                    f"{len(by['vacuous'])} applicable configurations")
                + " (" + "; ".join(rules) + "): tested only through its shape, where a shape "
                "check exists" + undecided + tail)
    held = ("holds in the one applicable configuration" if len(app) == 1 else
            f"holds (informatively) in {len(by['holds'])} of {len(app)} applicable "
            "configurations")
    if by["vacuous"]:
        held += f", is vacuous in {len(by['vacuous'])} (" + "; ".join(rules) + ")"
    return held + undecided + tail


def _beyond_phrase(beyond: Checks) -> str:
    """"conclusion holds beyond the assumptions in 2 (label; label), ...": the rows grouped by
    their outcome (theory.verdicts.Verdict.outcome)."""
    by: dict[str, list[str]] = {}
    for c in beyond:
        by.setdefault(c.check.outcome, []).append(c.label)
    return ", ".join(f"{outcome} in {len(rows)} ({'; '.join(rows)})"
                     for outcome, rows in by.items())


def by_id(checks: Checks, statement_id: str) -> Checks:
    return [c for c in checks if c.check.id == statement_id]
