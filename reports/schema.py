"""The JSON schema of ``results.json`` (schema version 7, docs/results-json.md).

Schema 2 added to every check ``verdict`` and ``verdict_rule`` (:func:`theory.verdicts.classify`).
Schema 3 adds ``scope`` ("paper": the statement under its assumptions; "beyond": its conclusion
where they fail, ``failed_assumptions`` naming them and ``failed_requirements`` the experiment's
own), ``outcome`` (the verdict in words), the classes "inconclusive" (an interval across the edge
of the acceptable region) and "fails" (a beyond-check's conclusion fails: never "violated"),
``control`` (the negative control's configuration, configuration file and class, present where
the check held before its control was looked at and its statement names a control; a "holds"
without one says "no negative control" in its rule) and a ``kind`` per finding.  ``holds`` is a
statement of the paper's: False exactly for "violated", True for "holds" and "vacuous" in scope
paper, null otherwise.  Summaries count by ``verdict`` within a scope.
Schema 4 adds ``environment.engine``: the engine of model (3)'s sweeps
(:func:`numerics.native.engine`: the compiled C sweeps with compiler, flags and CPU, or torch).
Schema 5 measures the flow tracking on every seed of a row: ``extra.flow_tracking`` holds the
row's rule (``seeds``, ``tracks``, ``failure``, ``max_eta_lambda_max``) and ``per_seed``, one
network's measurement each (the fields that schema 4 gave for one network).
Schema 6 gives S15's thresholds ``monotone_p`` and ``falls``; schema 7 gives S15's ``results``
``horizons``: per n the horizon used, whether a rule pilot measured it or the fit extrapolated it,
and the check pilot measured afterwards (:func:`numerics.horizon.horizon_check`); each exponent
``beyond``, its prediction at the n whose threshold is censored
(:func:`numerics.transition.beyond`).
"""

from __future__ import annotations

from typing import Any

VERSION = 7

_NUMBER_OR_NULL = {"type": ["number", "null"]}

CONTROL: dict[str, Any] = {
    "type": "object",
    "required": ["config", "why", "verdict", "rule", "measured", "failed"],
    "properties": {
        "config": {"type": "object"},
        "config_file": {"type": "string"},
        "why": {"type": "string", "minLength": 1},
        "verdict": {"enum": ["holds", "vacuous", "violated", "inconclusive", "fails", "n/a"]},
        "rule": {"type": "string"},
        "measured": _NUMBER_OR_NULL,
        "failed": {"type": "boolean"},
    },
}

CHECK: dict[str, Any] = {
    "type": "object",
    "required": ["id", "paper_ref", "claim", "config", "applicable", "failed_assumptions",
                 "bound", "measured", "holds", "slack_log10", "rate_slope", "notes", "verdict",
                 "verdict_rule", "scope", "outcome", "failed_requirements", "control"],
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
        "verdict": {"enum": ["holds", "vacuous", "violated", "inconclusive", "fails", "n/a"]},
        "verdict_rule": {"type": "string", "minLength": 1},
        "scope": {"enum": ["paper", "beyond"]},
        "outcome": {"type": "string", "minLength": 1},
        "failed_requirements": {"type": "array", "items": {"type": "string"}},
        "control": {"oneOf": [{"type": "null"}, CONTROL]},
        "extra": {"type": "object"},
        # added by the report: the row's label, its section and its configuration file
        "label": {"type": "string"},
        "section": {"type": "string"},
        "config_file": {"type": "string"},
    },
    # scope paper: holds is a boolean exactly where applicable and decided; n/a exactly where not
    # applicable; never "fails".  Scope beyond: not applicable, names the assumptions it goes
    # beyond, never "violated", holds null.
    "allOf": [
        {"if": {"properties": {"scope": {"const": "paper"}}},
         "then": {"allOf": [
             {"properties": {"verdict": {"not": {"const": "fails"}}}},
             {"if": {"properties": {"applicable": {"const": True}}},
              "then": {"properties": {"verdict": {"enum": ["holds", "vacuous", "violated",
                                                           "inconclusive"]},
                                      "failed_assumptions": {"maxItems": 0}}},
              "else": {"properties": {"holds": {"type": "null"}, "verdict": {"const": "n/a"},
                                      "failed_assumptions": {"minItems": 1}}}},
             {"if": {"properties": {"verdict": {"enum": ["holds", "vacuous"]}}},
              "then": {"properties": {"holds": {"const": True}}}},
             {"if": {"properties": {"verdict": {"const": "violated"}}},
              "then": {"properties": {"holds": {"const": False}}}},
             {"if": {"properties": {"verdict": {"enum": ["inconclusive", "n/a"]}}},
              "then": {"properties": {"holds": {"type": "null"}}}}]}},
        {"if": {"properties": {"scope": {"const": "beyond"}}},
         "then": {"properties": {"applicable": {"const": False}, "holds": {"type": "null"},
                                 "verdict": {"enum": ["holds", "fails", "inconclusive",
                                                      "vacuous", "n/a"]},
                                 "failed_assumptions": {"minItems": 1}}}},
    ],
}

# numerics.native.engine: the compiled sweeps (with their build) or torch (with the reason)
ENGINE: dict[str, Any] = {
    "type": "object",
    "required": ["name", "torch"],
    "properties": {
        "name": {"enum": ["native", "torch"]},
        "torch": {"type": "string"},
        "reason": {"type": "string"},
        "compiler": {"type": "string"},
        "compiler_version": {"type": "string"},
        "flags": {"type": "array", "items": {"type": "string"}},
        "cpu_flags": {"type": "string"},
        "max_qm": {"type": "integer"},
        "cuda": {"type": ["string", "null"]},
        "cuda_graph": {"type": "boolean"},
    },
    "if": {"properties": {"name": {"const": "native"}}},
    "then": {"required": ["compiler", "compiler_version", "flags", "cpu_flags", "max_qm"]},
    "else": {"required": ["reason"]},
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
        # optional: a section's measured summary (S15: the width thresholds and exponents)
        "results": {"type": "object"},
    },
}

RESULTS: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["schema", "environment", "checks", "findings"],
    "properties": {
        "schema": {"const": VERSION},
        "environment": {
            "type": "object",
            "required": ["python", "torch", "device", "seed", "engine"],
            "properties": {"engine": ENGINE},
        },
        "checks": {"type": "array", "items": CHECK},
        "findings": {
            "type": "array",
            "items": {"type": "object", "required": ["id", "text"],
                      "properties": {"id": {"type": "string"}, "text": {"type": "string"},
                                     "command": {"type": "string"},
                                     "kind": {"enum": ["error", "imprecision", "violation",
                                                       "agreement", "beyond"]}}},
        },
        "sections": {"type": "array", "items": SECTION},
    },
}
