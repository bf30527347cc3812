"""report.html in a real headless browser (Debian's Chromium driven by Playwright).

A tiny report of three cheap statements (two sections with figures, one without) is built once;
the page is opened through file:// and must load without console errors, every figure must
decode, every internal link must reach an element and every relative link a file, and a click on
a table header must sort that table.  Without the browser or the Python driver these tests skip
with one line (``.ci/run`` installs Chromium; the driver is in the ``tests`` extra); the
findings-by-kind test needs neither.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reports.build import RunSpec, build_report
from reports.html import render
from reports.records import parse

CHROMIUM = os.environ.get("RESNET_ODE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ONLY = ("prop1.wellposed", "lemma18.linalg", "hermite.coefficients")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("html")
    return out, build_report(RunSpec(out, scale="tiny", only=ONLY))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright is not installed (pip install -e '.[tests]')")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium, as .ci/run does)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _open(browser: Any, path: Path) -> tuple[Any, list[str]]:
    """A new page showing ``path``, and the list its console errors, page errors and failed
    requests go to."""
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
    page.goto(path.as_uri(), wait_until="load")
    return page, errors


def test_page_loads_without_console_errors(report: tuple[Path, dict[str, Any]],
                                           browser: Any) -> None:
    out, results = report
    page, errors = _open(browser, out / "report.html")
    assert errors == []
    toc = page.eval_on_selector_all("#toc a[href^='#']", "as => as.map(a => a.hash)")
    assert {"#summary", "#findings", "#provenance"} <= set(toc)
    assert {f"#sec-{s['key']}" for s in results["sections"]} <= set(toc)
    text = page.inner_text("body")
    assert "Verdict summary" in text and "Provenance" in text and "Findings" in text
    page.close()


def test_every_figure_loads(report: tuple[Path, dict[str, Any]], browser: Any) -> None:
    out, results = report
    page, errors = _open(browser, out / "report.html")
    images = page.eval_on_selector_all(
        "img", "is => is.map(i => [i.getAttribute('src'), i.complete, i.naturalWidth])")
    figures = {s["figure"] for s in results["sections"] if s["figure"]}
    assert len(figures) >= 2 and {src for src, _, _ in images} == figures
    for src, complete, width in images:
        assert complete and width > 0, src
    assert errors == []
    page.close()


def test_every_link_resolves(report: tuple[Path, dict[str, Any]], browser: Any) -> None:
    out, results = report
    page, errors = _open(browser, out / "report.html")
    refs = page.evaluate("""() => [
        ...Array.from(document.querySelectorAll('[href]'), e => e.getAttribute('href')),
        ...Array.from(document.querySelectorAll('[src]'), e => e.getAttribute('src'))]""")
    internal = [r for r in refs if r.startswith("#")]
    relative = [r for r in refs if not r.startswith("#")]
    assert len(internal) > 2 * len(results["checks"])  # the summary and the notes link each row
    missing = page.evaluate(
        "hs => hs.filter(h => !document.getElementById(decodeURIComponent(h.slice(1))))",
        internal)
    assert missing == []
    for ref in relative:
        if ref.startswith("data:"):  # the empty favicon
            continue
        parsed = urllib.parse.urlsplit(ref)
        assert not parsed.scheme and not parsed.netloc, f"{ref}: not relative to the folder"
        assert (out / urllib.parse.unquote(parsed.path)).is_file(), ref
    expected, seen = set(), {}  # type: ignore[var-annotated]
    for c in results["checks"]:  # rows are numbered from 1 in each section
        seen[c["section"]] = seen.get(c["section"], 0) + 1
        expected.add(f"#row-{c['section']}-{seen[c['section']]}")
    summary = page.eval_on_selector_all("#summary a[href^='#row-']", "as => as.map(a => a.hash)")
    assert sorted(summary) == sorted(expected)  # each row linked once, under its verdict
    assert errors == []
    page.close()


def _column(page: Any, table: Any, col: int) -> list[str]:
    return table.evaluate("(t, c) => Array.from(t.tBodies[0].rows, r => "
                          "r.cells[c].getAttribute('data-sort') ?? r.cells[c].textContent.trim())",
                          col)


def test_clicking_a_header_sorts_the_table(report: tuple[Path, dict[str, Any]],
                                           browser: Any) -> None:
    out, results = report
    page, errors = _open(browser, out / "report.html")
    table = page.locator("#sec-S1 table:has(tr#row-S1-1)")
    heads = table.locator("thead th").all_inner_texts()
    names = [h.strip(" \u2195\u2191\u2193") for h in heads]
    col = names.index("slack log10")

    def numbers(values: list[str]) -> list[float]:
        return [float(v) if v else math.inf for v in values]

    before = numbers(_column(page, table, col))
    slack = [c["slack_log10"] for c in results["checks"] if c["section"] == "S1"]
    assert before == [math.inf if s is None else s for s in slack]  # report order
    present = sorted(s for s in slack if s is not None)
    assert len(set(present)) >= 2
    table.locator("thead th").nth(col).click()
    up = numbers(_column(page, table, col))
    assert up == present + [math.inf] * (len(up) - len(present))  # n/a last
    table.locator("thead th").nth(col).click()
    down = numbers(_column(page, table, col))
    assert down == present[::-1] + [math.inf] * (len(down) - len(present))
    assert down != before
    assert table.locator("thead th").nth(col).get_attribute("aria-sort") == "descending"
    table.locator("thead th").nth(names.index("#")).click()  # back to the report's order
    assert numbers(_column(page, table, col)) == before
    assert errors == []
    page.close()


def test_findings_are_grouped_by_kind(report: tuple[Path, dict[str, Any]]) -> None:
    """One group per ``kind`` (errors, then violations, ...) where findings carry one, else
    one group; every text escaped."""
    out, results = report
    page = (out / "report.html").read_text()
    kinds = {f.get("kind") for f in results["findings"]} - {None}
    assert all(f'id="findings-{k}"' in page for k in kinds)
    assert ('id="findings-all"' in page) == (not kinds)
    bare = json.loads(json.dumps(results))
    for f in bare["findings"]:
        f.pop("kind", None)
    page = render(parse(bare), {})
    assert 'id="findings-all"' in page and 'id="findings-error"' not in page
    order = ["error", "violation", "imprecision", "agreement", "beyond"]
    tagged = json.loads(json.dumps(bare))
    tagged["findings"] = [{**f, "kind": order[-1 - j % 5]} for j, f in enumerate(bare["findings"])]
    tagged["findings"].append({"id": "x<script>", "text": "a < b & <b>c</b>", "command": "",
                               "kind": "error"})
    page = render(parse(tagged), {})
    at = [page.index(f'id="findings-{k}"') for k in order]
    assert at == sorted(at) and 'id="findings-all"' not in page
    assert "a &lt; b &amp; &lt;b&gt;c&lt;/b&gt;" in page and "x<script>" not in page


def test_scopes_classes_and_controls_render(report: tuple[Path, dict[str, Any]]) -> None:
    """A check beyond the paper's assumptions, a verdict class beyond the first four and a
    negative control's configuration file each get their summary list, badge and link."""
    _, results = report
    data = json.loads(json.dumps(results))
    c = data["checks"][0]
    c.update(scope="beyond", verdict="fails", holds=None, applicable=False,
             failed_assumptions=["sigma C^2"], verdict_rule="measured 2 > 1",
             control={"config": {}, "config_file": "configs/x-control.json", "why": "shuffled",
                      "verdict": "fails", "rule": "r", "measured": 1.0, "failed": True})
    page = render(parse(data), {})
    assert 'id="beyond-fails"' in page and 'class="badge v-fails"' in page
    assert 'href="configs/x-control.json"' in page
    assert page.count(f'href="#row-{c["section"]}-1"') == 3  # summary, notes, provenance
