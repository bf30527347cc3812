"""The report's sections in the paper's order: S1..S14, S15 (the width thresholds), S16 (Remark 1:
momentum and Adam), then the constants table.

Each statement id of :data:`theory.catalog.catalog` belongs to exactly one section.
"""

from __future__ import annotations

from reports.sections import (
                              appendix_a,
                              constants,
                              euler,
                              experiments,
                              finite_time,
                              lemmas,
                              long_time,
                              pl,
                              remark1,
                              width,
)
from reports.sections.base import SCALES, Context, Row, Section
from theory.catalog import catalog

SECTIONS: tuple[Section, ...] = (
    finite_time.S1, euler.SECTION, finite_time.S3, finite_time.S4, pl.SECTION, long_time.SECTION,
    lemmas.S7, lemmas.S8, lemmas.S9, lemmas.S10, experiments.S11, experiments.S12,
    experiments.S13, appendix_a.SECTION, width.SECTION, remark1.SECTION, constants.SECTION)

_COVERED = [sid for section in SECTIONS for sid in section.ids]
assert sorted(_COVERED) == sorted(catalog), "every statement belongs to exactly one section"

__all__ = ["SCALES", "SECTIONS", "Context", "Row", "Section"]
