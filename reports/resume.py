"""Resuming a report run: one JSON file per finished section, keyed by a fingerprint.

A section's fingerprint hashes everything its numbers depend on: the section key, the scale, the
seed, the device, the engine of model (3)'s sweeps (:func:`numerics.native.engine`), the data
folder, the statement ids kept by ``--only``, and the code version (a hash of every Python source
of ``theory``, ``numerics`` and ``reports``).  A rerun into the same
``--out`` finds ``DIR/.progress/<key>-<fingerprint>.json`` and skips the section; any change of
code or settings gives another fingerprint, so stale results are never reused.  Files are written
atomically (:mod:`reports.io`), so an interrupted run leaves either nothing or a whole section.
Long trainings inside a section checkpoint under ``DIR/.progress/checkpoints/`` (see
:meth:`Progress.checkpoints`) and resume bit for bit (:func:`numerics.flow.train`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from reports.io import atomic_write_json

_PACKAGES = ("theory", "numerics", "reports")
_ROOT = Path(__file__).resolve().parent.parent


@functools.cache
def code_version() -> str:
    """sha256 (16 hex digits) of every source the numbers depend on: the Python and C sources
    of theory/, numerics/ and reports/ (the native engine's numerics/model3_sweep.c included)."""
    digest = hashlib.sha256()
    for package in _PACKAGES:
        sources = (p for suffix in ("*.py", "*.c") for p in (_ROOT / package).rglob(suffix))
        for path in sorted(sources):
            digest.update(str(path.relative_to(_ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def fingerprint(settings: dict[str, Any]) -> str:
    """sha256 (16 hex digits) of ``settings`` (JSON, sorted keys) and the code version."""
    text = json.dumps({"settings": settings, "code": code_version()}, sort_keys=True,
                      default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class Progress:
    """The ``DIR/.progress`` folder of one output folder."""

    def __init__(self, out: Path) -> None:
        self.folder = out / ".progress"

    def _path(self, key: str, fp: str) -> Path:
        return self.folder / f"{key}-{fp}.json"

    def load(self, key: str, fp: str) -> dict[str, Any] | None:
        """The saved section ``key`` with fingerprint ``fp`` as JSON (read back by
        :meth:`reports.compute.SectionResult.from_dict`), or None (absent or unreadable)."""
        path = self._path(key, fp)
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return None
        return saved if isinstance(saved, dict) and saved.get("fingerprint") == fp else None

    def save(self, key: str, fp: str, section: dict[str, Any]) -> None:
        """Save a finished section (the JSON of :meth:`reports.compute.SectionResult.to_dict`)
        atomically, then drop its training checkpoints."""
        atomic_write_json(self._path(key, fp), {**section, "fingerprint": fp})
        shutil.rmtree(self.checkpoints(key, fp), ignore_errors=True)

    def checkpoints(self, key: str, fp: str) -> Path:
        """The folder of the training checkpoints of section ``key`` (fingerprint ``fp``)."""
        return self.folder / "checkpoints" / f"{key}-{fp}"
