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

import ast
import functools
import hashlib
import importlib.util
import json
import re
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


def module_version(module: str) -> str:
    """sha256 (16 hex digits) of :func:`module_sources` of ``module``: each file's path (its
    name, outside the three packages) and bytes."""
    digest = hashlib.sha256()
    for path in module_sources(module):
        digest.update((path.name if path.is_absolute() else str(path)).encode())
        digest.update((_ROOT / path).read_bytes())
    return digest.hexdigest()[:16]


def module_sources(module: str) -> tuple[Path, ...]:
    """The source files that module ``module`` of theory/, numerics/ or reports/ runs, relative
    to the repository: its own, and those of every such module it imports, directly or not, at
    import time or inside a function (the imports are parsed, not executed), with their
    packages' ``__init__.py``; a string constant naming such a module (``"numerics.flow:train"``,
    resolved by ``importlib``) counts as an import, and one naming a file beside the module (the
    C source ``"model3_sweep.c"`` of :mod:`numerics.native`) is one of its sources.  Sorted.  A
    module outside the three packages (a test's task) is given by its absolute path, with the
    package modules it imports."""
    root, seen = _ROOT, set[Path]()
    todo = _module_files(module, root) or [Path(str(importlib.util.find_spec(module).origin))]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        if path.suffix != ".py":
            continue
        package = () if path.is_absolute() else path.with_suffix("").parts[:-1]
        for node in ast.walk(ast.parse((root / path).read_bytes())):
            for name in _imported(node, package):
                todo.extend(_module_files(name, root))
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and _FILE_NAME.fullmatch(node.value) and not node.value.endswith(".py") \
                    and (root / path.parent / node.value).is_file():
                todo.append(path.parent / node.value)
    return tuple(sorted(seen))


_FILE_NAME = re.compile(r"[\w.-]+\.\w+")
_MODULE_NAME = re.compile(r"(?:theory|numerics|reports)(?:\.\w+)*")


def _module_files(name: str, root: Path) -> list[Path]:
    """Module ``name``'s file and its packages' ``__init__.py`` (relative to ``root``); [] for a
    name outside the three packages or with no file."""
    parts = name.split(".")
    if parts[0] not in _PACKAGES:
        return []
    files = [Path(*parts[:i], "__init__.py") for i in range(1, len(parts) + 1)]
    files.append(Path(*parts[:-1], parts[-1] + ".py"))
    return [f for f in files if (root / f).is_file()]


def _imported(node: ast.AST, package: tuple[str, ...]) -> list[str]:
    """The modules ``node`` imports (``from a import b`` gives a and a.b: b may be a module;
    relative imports resolved in ``package``) or names (a string constant ``"a.b:c"``)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        base = ".".join([*package[:len(package) + 1 - node.level], *filter(None, [node.module])]
                        if node.level else [node.module or ""])
        return [base, *(f"{base}.{alias.name}" for alias in node.names)]
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        name = node.value.partition(":")[0]
        return [name] if _MODULE_NAME.fullmatch(name) else []
    return []


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
