"""The project's own documentation (docs/) is complete and every reference to it resolves inside
the repository: a user of a clone has every file a docstring or comment cites."""

from __future__ import annotations

import ast
import importlib.util
import io
import os
import re
import tokenize
from pathlib import Path

import pytest

from theory.catalog import catalog

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SKIP_DIRS = {"__pycache__", "build", "dist", "node_modules", "out"}
# files the project writes (not documentation it ships): named in docstrings as outputs
OUTPUTS = {"report.md"}
# the design notes of the project's authors, outside the repository (spelled in two pieces so
# that this file does not mention them itself)
OUTSIDE = ("THEORY" + ".md", "DESIGN" + ".md")
MD_REFERENCE = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w.-]+\.md)(?:#[\w-]+)?\b")


def _python_files() -> list[Path]:
    out = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS
                   and not d.endswith(".egg-info")]
        out += [Path(folder) / f for f in files if f.endswith(".py")]
    return sorted(out)


def _docs_and_comments(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every docstring, string statement and comment of a Python file."""
    source = path.read_text()
    out = [(tok.start[0], tok.string) for tok in
           tokenize.generate_tokens(io.StringIO(source).readline)
           if tok.type == tokenize.COMMENT]
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)):
            out.append((node.lineno, node.value.value))
    return out


def _resolves(reference: str, path: Path) -> bool:
    return any((base / reference).is_file() for base in (ROOT, path.parent))


def test_every_md_reference_in_docstrings_and_comments_resolves() -> None:
    """A ``*.md`` named in a docstring or comment is a file of the repository (relative to the
    repository root or to the citing file), except the report's own output names."""
    missing = []
    for path in _python_files():
        for line, text in _docs_and_comments(path):
            for match in MD_REFERENCE.finditer(text):
                reference = match.group(1)
                if reference in OUTPUTS or _resolves(reference, path):
                    continue
                at = line + text[:match.start()].count("\n")
                missing.append(f"{path.relative_to(ROOT)}:{at}: {reference}")
    assert not missing, "unresolved .md references:\n" + "\n".join(missing)


def test_no_python_file_cites_the_design_notes_outside_the_repository() -> None:
    """The statements, the verdict rules and the JSON contract are in docs/; no .py file points a
    user to the authors' notes, which a clone does not have."""
    cited = [f"{path.relative_to(ROOT)}:{j}" for path in _python_files()
             for j, line in enumerate(path.read_text().splitlines(), 1)
             if any(name in line for name in OUTSIDE)]
    assert not cited, "cite docs/ instead:\n" + "\n".join(cited)


def test_the_scanner_finds_references() -> None:
    """The reference pattern and the docstring/comment extraction see what they should."""
    assert MD_REFERENCE.findall("see docs/verdicts.md#the-rules and README.md.") == [
        "docs/verdicts.md", "README.md"]
    assert MD_REFERENCE.findall("writes report.md; x.mdx") == ["report.md"]
    texts = " ".join(t for _, t in _docs_and_comments(Path(__file__)))
    assert "The project's own documentation" in texts and "files the project writes" in texts
    assert _resolves("docs/verdicts.md", ROOT / "theory" / "x.py")
    assert not _resolves("docs/nothing.md", ROOT / "theory" / "x.py")


@pytest.mark.parametrize("name", ["statements.md", "verdicts.md", "results-json.md",
                                  "adding-a-statement.md"])
def test_docs_exist_and_their_links_resolve(name: str) -> None:
    text = (DOCS / name).read_text()
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if target.startswith(("http://", "https://")):
            continue
        assert (DOCS / target).exists(), (name, target)


def test_statements_doc_lists_every_catalog_id() -> None:
    """docs/statements.md has a section per statement id with its paper reference (regenerate it
    with ``python docs/statements.py`` after changing the catalog)."""
    text = (DOCS / "statements.md").read_text()
    for sid, statement in catalog.items():
        assert f"\n### {sid}\n" in text, sid
        section = text.split(f"\n### {sid}\n", 1)[1].split("\n### ", 1)[0]
        assert statement.paper_ref in section, sid


def test_statements_doc_is_generated_by_its_script() -> None:
    """The generator renders every id (the catalog as it is now)."""
    spec = importlib.util.spec_from_file_location("docs_statements", DOCS / "statements.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rendered = module.render()
    assert all(f"\n### {sid}\n" in rendered for sid in catalog)


def test_verdicts_doc_keeps_the_scope_section_and_results_doc_the_kinds() -> None:
    from reports.findings import KINDS

    assert "## Scope and inconclusive" in (DOCS / "verdicts.md").read_text()
    results = (DOCS / "results-json.md").read_text()
    assert all(f"| `{kind}` |" in results for kind in KINDS)


def test_readme_links_the_docs() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "(docs/)" in readme and "(docs/statements.md)" in readme
