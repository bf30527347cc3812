"""A section's result in process (:class:`reports.compute.SectionResult`) against its progress
file's on-disk format, written out here by hand as the report has saved it since resuming began:
``{key, title, ids, checks, data, usage, fingerprint}`` in that order (``resumed`` not saved)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reports.compute import SectionResult
from reports.provenance import Usage
from reports.resume import Progress

FP = "0123456789abcdef"
SAVED: dict[str, Any] = {
    "key": "S9", "title": "A title", "ids": ["lemma20.a", "lemma20.b"],
    "checks": [{"id": "lemma20.a", "measured": 0.5, "config": {"n": 4}}],
    "data": {"series": [1.0, None, 3.0], "results": {"n": [8, 16]}},
    "usage": {"wall_s": 1.25, "peak_rss_mb": 400.5, "peak_cuda_mb": None,
              "per_section_peak": True},
    "fingerprint": FP}
TEXT = """{
  "key": "S9",
  "title": "A title",
  "ids": [
    "lemma20.a",
    "lemma20.b"
  ],
  "checks": [
    {
      "id": "lemma20.a",
      "measured": 0.5,
      "config": {
        "n": 4
      }
    }
  ],
  "data": {
    "series": [
      1.0,
      null,
      3.0
    ],
    "results": {
      "n": [
        8,
        16
      ]
    }
  },
  "usage": {
    "wall_s": 1.25,
    "peak_rss_mb": 400.5,
    "peak_cuda_mb": null,
    "per_section_peak": true
  },
  "fingerprint": "0123456789abcdef"
}
"""


def test_a_saved_section_reads_back_as_attributes() -> None:
    s = SectionResult.from_dict(SAVED, resumed=True)
    assert (s.key, s.title, s.ids, s.resumed) == ("S9", "A title", ("lemma20.a", "lemma20.b"),
                                                  True)
    assert s.usage == Usage(wall_s=1.25, peak_rss_mb=400.5, peak_cuda_mb=None)
    assert s.checks[0]["measured"] == 0.5 and s.data["results"] == {"n": [8, 16]}
    assert not SectionResult.from_dict(SAVED).resumed


def test_the_progress_file_keeps_its_format(tmp_path: Path) -> None:
    """Saved through :class:`reports.resume.Progress`, the section's file is byte for byte the
    hand-written one, and loads back to an equal result."""
    progress = Progress(tmp_path)
    result = SectionResult.from_dict(SAVED)
    progress.save("S9", FP, result.to_dict())
    assert (tmp_path / ".progress" / f"S9-{FP}.json").read_text(encoding="utf-8") == TEXT
    loaded = progress.load("S9", FP)
    assert loaded is not None and json.dumps(loaded) == json.dumps(SAVED)
    assert SectionResult.from_dict(loaded) == result
