"""The JSON schema of ``results.json`` (schema version 2, DESIGN.md "Contract").

Schema 2 adds to every check ``verdict`` (one of "holds", "vacuous", "violated", "n/a":
:func:`theory.verdicts.classify`) and ``verdict_rule`` (the rule that decided, in words); ``holds``
stays (False exactly for "violated", True for "holds" and "vacuous", null for "n/a").  Summaries
count by ``verdict``.
"""

from __future__ import annotations

from typing import Any

_NUMBER_OR_NULL = {"type": ["number", "null"]}

CHECK: dict[str, Any] = {
    "type": "object",
    "required": ["id", "paper_ref", "claim", "config", "applicable", "failed_assumptions",
                 "bound", "measured", "holds", "slack_log10", "rate_slope", "notes", "verdict",
                 "verdict_rule"],
    "properties": {
        "id": {"type": "string"},
        "paper_ref": {"type": "string"},
        "claim": {"type": "string"},
        "config": {"type": "object"},
        "applicable": {"type": "boolean"},
        "failed_assumptions": {"type": "array", "items": {"type": "string"}},
        "bound": _NUMBER_OR_NULL,
        "measured": _NUMBER_OR_NULL,
        "holds": {"type": ["boolean", "null"]},
        "slack_log10": _NUMBER_OR_NULL,
        "rate_slope": _NUMBER_OR_NULL,
        "notes": {"type": "string"},
        "verdict": {"enum": ["holds", "vacuous", "violated", "n/a"]},
        "verdict_rule": {"type": "string", "minLength": 1},
        "extra": {"type": "object"},
        # added by the report: the row's label, its section and its configuration file
        "label": {"type": "string"},
        "section": {"type": "string"},
        "config_file": {"type": "string"},
    },
    # holds is a boolean exactly where applicable is true; a non-applicable check names a reason.
    "allOf": [
        {"if": {"properties": {"applicable": {"const": True}}},
         "then": {"properties": {"holds": {"type": "boolean"},
                                 "verdict": {"enum": ["holds", "vacuous", "violated"]},
                                 "failed_assumptions": {"maxItems": 0}}}},
        {"if": {"properties": {"applicable": {"const": False}}},
         "then": {"properties": {"holds": {"type": "null"}, "verdict": {"const": "n/a"},
                                 "failed_assumptions": {"minItems": 1}}}},
        {"if": {"properties": {"verdict": {"const": "violated"}}},
         "then": {"properties": {"holds": {"const": False}}},
         "else": {"properties": {"holds": {"enum": [True, None]}}}},
    ],
}

# one entry per report section: wall time and peak memory (reports.provenance.Usage)
SECTION: dict[str, Any] = {
    "type": "object",
    "required": ["key", "title", "ids", "usage", "resumed", "figure", "conclusion"],
    "properties": {
        "key": {"type": "string"},
        "title": {"type": "string"},
        "ids": {"type": "array", "items": {"type": "string"}},
        "usage": {"type": "object", "required": ["wall_s", "peak_rss_mb"],
                  "properties": {"wall_s": {"type": "number", "minimum": 0},
                                 "peak_rss_mb": {"type": "number", "minimum": 0},
                                 "peak_cuda_mb": _NUMBER_OR_NULL,
                                 "per_section_peak": {"type": "boolean"}}},
        "resumed": {"type": "boolean"},
        "figure": {"type": ["string", "null"]},
        "conclusion": {"type": "string"},
    },
}

RESULTS: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["schema", "environment", "checks", "findings"],
    "properties": {
        "schema": {"const": 2},
        "environment": {
            "type": "object",
            "required": ["python", "torch", "device", "seed"],
        },
        "checks": {"type": "array", "items": CHECK},
        "findings": {
            "type": "array",
            "items": {"type": "object", "required": ["id", "text"],
                      "properties": {"id": {"type": "string"}, "text": {"type": "string"},
                                     "command": {"type": "string"}}},
        },
        "sections": {"type": "array", "items": SECTION},
    },
}
