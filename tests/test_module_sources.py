"""reports.resume.module_sources: the sources a sweep task runs, its code version's files.

Checked on a small tree whose closure is known by construction, and on the real tasks against
an independent method: the modules that importing the task actually loads (a fresh interpreter's
sys.modules) must all be among the parsed closure.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from reports import resume
from reports.sweep import engine
from reports.sweep.spec import PHASE_TASK
from reports.sweep.width import TASK as WIDTH_TASK

TREE = {
    "numerics/__init__.py": "",
    "numerics/a.py": "import math\n\n\ndef f():\n    from numerics import b\n    return b\n",
    "numerics/b.py": "from theory.c import x\n\nTASK = 'numerics.d:g'\n",
    "numerics/d.py": "SOURCE = 'kernel.c'\nDOC = 'not a file.c'\n\n\ndef g():\n    pass\n",
    "numerics/kernel.c": "int f(void) { return 0; }\n",
    "numerics/unused.py": "import numerics.a\n",
    "theory/__init__.py": "",
    "theory/c.py": "from .e import y as x\n",
    "theory/e.py": "y = 1\n",
    "reports/__init__.py": "",
}
"""numerics.a imports b inside a function; b imports theory.c and names numerics.d in a string;
d names the C file beside it; c imports e relatively; nothing imports unused."""
CLOSURE = ["numerics/__init__.py", "numerics/a.py", "numerics/b.py", "numerics/d.py",
           "numerics/kernel.c", "theory/__init__.py", "theory/c.py", "theory/e.py"]


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: Any) -> Path:
    for name, text in TREE.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.setattr(resume, "_ROOT", tmp_path)
    return tmp_path


def test_the_closure_of_a_known_tree(tree: Path) -> None:
    """Lazy, relative, string-named and C-file references are all followed; nothing else."""
    assert [str(p) for p in resume.module_sources("numerics.a")] == CLOSURE


def test_the_version_moves_with_the_closure_only(tree: Path) -> None:
    """An edit outside the closure keeps the version; one inside (the C file too) moves it."""
    before = resume.module_version("numerics.a")
    (tree / "numerics/unused.py").write_text("import numerics.a\nX = 2\n")
    assert resume.module_version("numerics.a") == before
    for name in ("theory/e.py", "numerics/kernel.c"):
        (tree / name).write_text((tree / name).read_text() + "\n")
        after = resume.module_version("numerics.a")
        assert after != before
        before = after


def _loaded(module: str) -> set[str]:
    """The package files that importing ``module`` loads, from a fresh interpreter."""
    code = (f"import sys, json, {module}\n"
            "print(json.dumps(sorted(m.__file__ for m in list(sys.modules.values())\n"
            "    if getattr(m, '__file__', None))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=resume._ROOT).stdout
    root = resume._ROOT
    return {str(Path(f).resolve().relative_to(root)) for f in json.loads(out)
            if Path(f).resolve().is_relative_to(root)
            and Path(f).resolve().relative_to(root).parts[0] in ("theory", "numerics", "reports")}


@pytest.mark.parametrize("task", [WIDTH_TASK, PHASE_TASK])
def test_a_tasks_closure_holds_every_module_it_loads(task: str) -> None:
    """Every package module that importing the task loads is in its closure (and the C engine
    with numerics.native); the report's sections, which no task imports, are not."""
    module = task.partition(":")[0]
    closure = {str(p) for p in resume.module_sources(module)}
    assert _loaded(module) <= closure
    assert "numerics/model3_sweep.c" in closure
    assert not any(p.startswith("reports/sections/") for p in closure)


def test_a_report_edit_keeps_the_width_tasks_keys(tmp_path: Path, monkeypatch: Any) -> None:
    """On a copy of the packages: editing S15's section or the README renderer keeps the width
    task's version (so its results and checkpoints), editing the training code moves it."""
    root = tmp_path / "root"
    for package in ("theory", "numerics", "reports"):
        shutil.copytree(resume._ROOT / package, root / package)
    monkeypatch.setattr(resume, "_ROOT", root)
    before = engine.task_version(WIDTH_TASK)
    for name in ("reports/sections/width.py", "reports/sweep/width_readmes.py"):
        (root / name).write_text((root / name).read_text() + "\n# edited\n")
    assert engine.task_version(WIDTH_TASK) == before
    (root / "numerics/flow.py").write_text((root / "numerics/flow.py").read_text() + "\n")
    assert engine.task_version(WIDTH_TASK) != before
