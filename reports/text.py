"""Plain-text rendering of check results for the terminal."""

from __future__ import annotations

import json
import math

from theory.catalog import CheckResult
from theory.config import Config

MISSING = "\u2014"
"""The mark of a missing value (an em dash) in tables and on the console: "n/a" is a verdict class
(not applicable), never "no value"."""


def fmt(value: float | str | None, digits: int = 4) -> str:
    """A number for humans: :data:`MISSING` for None, ``inf`` for infinities, 4 significant
    digits; strings (JSON's stand-ins "inf", "nan" for non-finite floats) pass through."""
    if value is None:
        return MISSING
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.{digits}g}"


def verdict(result: CheckResult) -> str:
    """The verdict class and, unless it plainly holds, the rule that decided it."""
    if result.verdict == "n/a":
        return "not applicable (" + "; ".join(result.failed_assumptions) + ")"
    if result.verdict == "holds":
        return "holds"
    return f"{'VIOLATED' if result.verdict == 'violated' else 'vacuous'} ({result.verdict_rule})"


def format_config(config: Config, source: str, name: str = "config") -> str:
    """Two lines: where the configuration comes from with the format of what follows, and its
    fields that differ from :class:`Config`'s defaults as JSON, to be saved as ``NAME.json`` (a
    ``--config`` file is read as JSON for a .json suffix, as TOML otherwise; TOML has no null,
    so JSON is the one format every configuration can be written in)."""
    defaults = Config().to_dict()
    fields = {k: v for k, v in config.to_dict().items() if v != defaults[k]}
    return (f"  config:   {source}; JSON: save it as {name}.json to use it as a --config "
            f"file:\n            {json.dumps(fields)}")


def format_result(result: CheckResult) -> str:
    """Several lines: statement, verdict, bound, measured, slack, slope and notes."""
    lines = [f"{result.id} [{result.paper_ref}]: {verdict(result)}",
             f"  claim:    {result.claim}",
             f"  bound:    {fmt(result.bound)}",
             f"  measured: {fmt(result.measured)}"]
    if result.slack_log10 is not None:
        lines.append(f"  slack:    log10(bound/measured) = {fmt(result.slack_log10, 3)}")
    if result.rate_slope is not None:
        lines.append(f"  slope:    {fmt(result.rate_slope, 3)}")
    if result.notes:
        lines.append(f"  notes:    {result.notes}")
    return "\n".join(lines)
