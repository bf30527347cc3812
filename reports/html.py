"""report.html: the report as one static page one can navigate (no server, no network).

Rendered from the data written to results.json plus the sections' texts (``Section.text``,
``figure_note`` and assumption names, which results.json does not hold): a table of contents, the
verdict summary with a link to every row, one block per section (statements, sortable tables, the
figure by relative path, conclusion, commands per row), the findings grouped by their ``kind``
(when the findings carry one) and the provenance.  CSS and the sorting script are inline; a
Content-Security-Policy forbids any request but the folder's own images.  Every text is escaped
with :func:`html.escape`; the sections' Markdown (tables, paragraphs, indented formulas, lists,
```code``` and ``**bold**``) is rendered by the small subset renderer :func:`markdown_html`.
"""

from __future__ import annotations

import dataclasses
import html
import re
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reports.findings import KINDS, Finding
from reports.io import atomic_write_text
from reports.markdown import bound_text, counts, memory, verdict
from reports.records import CheckRow, Results, SectionRecord
from reports.text import fmt
from theory.catalog import catalog

if TYPE_CHECKING:  # annotations only: reports.compute imports every numerics family
    from reports.compute import SectionResult

# verdict classes in the summary's order (the first four always shown, the others where a check
# has them; a class unknown here goes last), and the scopes of the checks
VERDICTS = {"holds": "holds", "violated": "violated", "vacuous": "vacuous",
            "n/a": "not applicable", "inconclusive": "inconclusive", "fails": "fails"}
SCOPES = {"paper": "Under the paper's assumptions (scope paper)",
          "beyond": "Beyond the assumptions (scope beyond: never a violation of the paper)"}
TITLES = {"error": "Errors in the paper", "violation": "Measured violations",
          "imprecision": "Imprecisions", "agreement": "Agreements",
          "beyond": "Beyond the paper"}  # the groups of findings, in the order of KINDS

_CSS = """
:root{--fg:#1d2125;--muted:#5b636b;--line:#d6dade;--bg:#fff;--soft:#f4f6f8;--holds:#1a7f37;
--violated:#cf222e;--vacuous:#9a6700;--na:#6e7781}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);
background:var(--bg)}
#toc{position:fixed;top:0;left:0;bottom:0;width:16rem;overflow-y:auto;padding:1rem;
border-right:1px solid var(--line);background:var(--soft);font-size:14px}
#toc ol{padding-left:1.1rem;margin:.2rem 0}
main{margin-left:17rem;padding:1rem 2rem 4rem;max-width:78rem}
@media (max-width:60rem){#toc{position:static;width:auto;border-right:0}main{margin-left:0}}
h1{font-size:1.6rem}h2{border-bottom:1px solid var(--line);padding-bottom:.2rem;margin-top:2.5rem}
section{scroll-margin-top:1rem}
a{color:#0550ae}
code,pre{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace}
pre{background:var(--soft);padding:.5rem .75rem;overflow-x:auto;white-space:pre-wrap}
table{border-collapse:collapse;margin:.75rem 0;font-size:14px;display:block;overflow-x:auto}
th,td{border:1px solid var(--line);padding:.25rem .5rem;text-align:left;vertical-align:top}
thead th{background:var(--soft)}
table.sortable thead th{cursor:pointer;user-select:none;white-space:nowrap}
table.sortable thead th::after{content:" \\2195";color:var(--muted)}
table.sortable thead th[aria-sort=ascending]::after{content:" \\2191";color:var(--fg)}
table.sortable thead th[aria-sort=descending]::after{content:" \\2193";color:var(--fg)}
tr:target{outline:2px solid #0969da;background:#ddf4ff}
.badge{display:inline-block;border-radius:.6rem;padding:0 .5rem;color:#fff;font-size:13px;
white-space:nowrap;background:var(--na)}
.v-holds{background:var(--holds)}.v-violated{background:var(--violated)}
.v-vacuous{background:var(--vacuous)}.v-na{background:var(--na)}
.v-inconclusive{background:#8250df}.v-fails{background:#bc4c00}.v-beyond{background:#0a3069}
td.verdict{min-width:16rem}
.counts{display:flex;gap:.75rem;flex-wrap:wrap;list-style:none;padding:0}
.counts a{display:block;padding:.5rem 1rem;border-radius:.4rem;color:#fff;text-decoration:none}
.counts strong{font-size:1.3rem;margin-right:.3rem}
.rule{color:var(--muted)}
figure{margin:1rem 0}figure img{max-width:100%;height:auto;border:1px solid var(--line)}
figcaption{color:var(--muted);font-style:italic}
.finding{margin:.8rem 0}
"""

# Click (or Enter on) a header of a table.sortable: sort its body rows by that column, ascending
# then descending.  Keys: a cell's data-sort, else its text; numbers (inf included) sort as
# numbers before text, empty, "n/a" and dash cells last in both directions.
_JS = """
(function () {
  "use strict";
  function key(cell) {
    var v = cell.getAttribute("data-sort");
    if (v === null) { v = cell.textContent.trim(); }
    if (v === "" || v === "n/a" || v === "\u2014" || v === "-") { return [2, 0, ""]; }
    var t = v.toLowerCase();
    if (t === "inf" || t === "infinity") { return [0, Infinity, ""]; }
    if (t === "-inf" || t === "-infinity") { return [0, -Infinity, ""]; }
    var m = /^[-+]?(\\d+\\.?\\d*|\\.\\d+)(e[-+]?\\d+)?(?=$|\\s|%)/i.exec(v);
    if (m) { return [0, parseFloat(m[0]), ""]; }
    return [1, 0, t];
  }
  function compare(a, b) {
    if (a[0] !== b[0]) { return a[0] - b[0]; }
    if (a[0] === 0) { return a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0; }
    return a[2].localeCompare(b[2], undefined, {numeric: true});
  }
  function sortBy(th) {
    var table = th.closest("table"), body = table.tBodies[0];
    var col = Array.prototype.indexOf.call(th.parentNode.cells, th);
    var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
    table.querySelectorAll("thead th").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
    var rows = Array.prototype.map.call(body.rows, function (row, i) {
      var cell = row.cells[col];
      return {row: row, key: cell ? key(cell) : [2, 0, ""], i: i};
    });
    rows.sort(function (a, b) {
      if (a.key[0] !== b.key[0]) { return a.key[0] - b.key[0]; }
      return dir * compare(a.key, b.key) || a.i - b.i;
    });
    rows.forEach(function (r) { body.appendChild(r.row); });
  }
  document.querySelectorAll("table.sortable thead th").forEach(function (th) {
    th.tabIndex = 0;
    th.title = "sort by this column";
    th.addEventListener("click", function () { sortBy(th); });
    th.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(th); }
    });
  });
})();
"""

_CSP = ("default-src 'none'; img-src 'self' file: data:; style-src 'unsafe-inline'; "
        "script-src 'unsafe-inline'")

Numbered = dict[str, list[tuple[int, CheckRow]]]  # section key -> its rows, numbered from 1


@dataclasses.dataclass(frozen=True)
class SectionText:
    """What results.json does not hold of a section: its Markdown ``text`` (``Section.text``),
    its ``figure_note`` and its statements' assumption names (``Section.assumptions``)."""

    text: str = ""
    figure_note: str = ""
    assumptions: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)


def esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def anchor(*parts: Any) -> str:
    """An element id from ``parts``: letters, digits, ``.``, ``_`` and ``-`` only."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", "-".join(str(p) for p in parts)).strip("-")


def inline(text: str) -> str:
    """One line of the sections' Markdown: escaped, then ```code``` and ``**bold**``."""
    out = esc(text)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def table(head: list[str], rows: list[list[str]], sortable: bool = True,
          row_ids: list[str | None] | None = None) -> str:
    """A table of already-rendered cells (``<td>`` given whole when a cell starts with it)."""
    cls = ' class="sortable"' if sortable else ""
    out = [f"<table{cls}><thead><tr>" + "".join(f"<th>{h}</th>" for h in head)
           + "</tr></thead><tbody>"]
    for j, row in enumerate(rows):
        rid = row_ids[j] if row_ids else None
        out.append((f'<tr id="{rid}">' if rid else "<tr>")
                   + "".join(c if c.startswith("<td") else f"<td>{c}</td>" for c in row)
                   + "</tr>")
    return "\n".join(out) + "</tbody></table>"


def markdown_html(text: str) -> str:
    """The Markdown subset of the sections' texts: pipe tables (sortable), indented code,
    ``- `` lists and paragraphs, with inline code and bold; everything else is escaped text."""
    def kind(line: str) -> str:
        if not line.strip():
            return "blank"
        if line.lstrip().startswith("|"):
            return "table"
        if line.startswith("    "):
            return "pre"
        return "item" if line.startswith("- ") else "text"

    groups: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        k = kind(line)
        if groups and groups[-1][0] == k:
            groups[-1][1].append(line)
        else:
            groups.append((k, [line]))
    out = []
    for k, lines in groups:
        if k == "table":
            rows = [_cells(x) for x in lines
                    if not re.fullmatch(r"\s*\|?[\s:|-]*-[\s:|-]*\|?\s*", x)]
            out.append(table([inline(c) for c in rows[0]],
                             [[inline(c) for c in r] for r in rows[1:]]))
        elif k == "pre":
            out.append("<pre>" + esc("\n".join(x[4:] for x in lines)) + "</pre>")
        elif k == "item":
            out.append("<ul>" + "".join(f"<li>{inline(x[2:])}</li>" for x in lines) + "</ul>")
        elif k == "text":
            out.append("<p>" + inline(" ".join(x.strip() for x in lines)) + "</p>")
    return "\n".join(out)


def vclass(cls: str) -> str:
    """The CSS class of a verdict class: ``v-holds``, ``v-na``, ..."""
    return "v-" + re.sub(r"[^a-z0-9]", "", cls.lower())


def badge(row: CheckRow) -> str:
    cls = row.check.verdict
    scope = ('<span class="badge v-beyond">beyond</span> '
             if row.check.scope == "beyond" else "")
    return f'{scope}<span class="badge {vclass(cls)}">{esc(cls)}</span>'


def verdict_html(row: CheckRow) -> str:
    """The verdict class as a badge, then the report's words for it (:func:`reports.markdown.
    verdict`: the rule that decided, the failed assumptions, the negative control) without the
    class word the badge already shows."""
    words = verdict(row)
    for prefix in (row.check.verdict, "**VIOLATED**"):
        if words.startswith(prefix):
            words = words[len(prefix):].lstrip(": ")
    rule = f' <span class="rule">{inline(words)}</span>' if words.strip() else ""
    return badge(row) + rule


def verdict_cell(row: CheckRow) -> str:
    return (f'<td class="verdict" data-sort="{esc(row.check.verdict)}">{verdict_html(row)}'
            "</td>")


def _config_links(row: CheckRow, text: str = "JSON") -> str:
    """Links to the row's configuration file and its negative control's, where it has one."""
    out = f'<a href="{esc(row.config_file)}">{esc(text)}</a>'
    if row.control_file:
        out += f', <a href="{esc(row.control_file)}">control</a>'
    return out


def _num(value: Any, text: str) -> str:
    sort = "" if not isinstance(value, int | float) or isinstance(value, bool) else value
    return f'<td data-sort="{esc(sort)}">{esc(text)}</td>'


def _bound_cell(row: CheckRow) -> str:
    sort: Any = row.check.bound
    if sort is None and (row.log10_bound is not None or row.log10_log10_bound is not None):
        sort = "1e999"  # past the float range: sorts as +inf
    return f'<td data-sort="{esc("" if sort is None else sort)}">{esc(bound_text(row))}</td>'


def _row_id(row: CheckRow, j: int) -> str:
    return anchor("row", row.section, j)


def _numbered(results: Results) -> Numbered:
    """Each section's checks, numbered from 1 as in the report."""
    out: Numbered = {}
    for c in results.checks:
        rows = out.setdefault(c.section, [])
        rows.append((len(rows) + 1, c))
    return out


def _classes(checks: Sequence[CheckRow]) -> list[str]:
    """The verdict classes to show: the first four of :data:`VERDICTS`, the others present."""
    present = {c.check.verdict for c in checks}
    known = [k for j, k in enumerate(VERDICTS) if j < 4 or k in present]
    return known + sorted(present - set(VERDICTS))


def _scopes(checks: Sequence[CheckRow]) -> list[str]:
    present = {c.check.scope for c in checks} | {"paper"}
    return [s for s in SCOPES if s in present] + sorted(present - set(SCOPES))


def _verdict_anchor(scope: str, cls: str) -> str:
    return anchor("verdict", cls) if scope == "paper" else anchor(scope, cls)


def _summary(results: Results, numbered: Numbered) -> str:
    checks = results.checks
    statements = [sid for s in results.sections for sid in s.ids]
    classes = _classes(checks)
    out = ['<section id="summary"><h2>Verdict summary</h2>',
           f"<p>{len(checks)} checks over {len(statements)} statements. <em>holds</em>: "
           "informative, each could have failed in its configuration; <em>vacuous</em>: not "
           "violated, but could not have been (the rule is named; never counted as a pass); "
           "<em>n/a</em>: a failed assumption is named.</p>"]
    for scope in _scopes(checks):
        k = counts(checks, scope)
        out.append(f"<h3>{esc(SCOPES.get(scope, scope))}: {sum(k.values())} checks</h3>"
                   '<ul class="counts">')
        for cls in classes:
            out.append(f'<li><a class="{vclass(cls)}" href="#{_verdict_anchor(scope, cls)}">'
                       f"<strong>{k[cls]}</strong>{esc(VERDICTS.get(cls, cls))}</a></li>")
        out.append("</ul>")
    rows = []
    for sid in statements:
        st = catalog[sid]
        for scope in _scopes(checks):
            n = counts([c for c in checks if c.check.id == sid], scope)
            if sum(n.values()) or scope == "paper":
                rows.append([f'<a href="#{anchor("stmt", sid)}"><code>{esc(sid)}</code></a>',
                             esc(st.paper_ref), esc(scope)] + [str(n[cls]) for cls in classes])
    out.append(table(["statement", "paper", "scope"]
                     + [esc(VERDICTS.get(cls, cls)) for cls in classes], rows))
    for scope in _scopes(checks):
        for cls in classes:
            items = [(sec, j, c) for sec, rows_ in numbered.items() for j, c in rows_
                     if c.check.verdict == cls and c.check.scope == scope]
            where = "" if scope == "paper" else f", scope {scope}"
            out.append(f'<section id="{_verdict_anchor(scope, cls)}"><h3>'
                       f"{esc(VERDICTS.get(cls, cls))}{esc(where)} ({len(items)})</h3>")
            if items:
                out.append("<ul>")
                for sec, j, c in items:
                    out.append(f'<li><a href="#{_row_id(c, j)}">{esc(sec)} #{j}</a> '
                               f"<code>{esc(c.check.id)}</code>, {esc(c.label)}"
                               f": {verdict_html(c)}</li>")
                out.append("</ul>")
            else:
                out.append("<p>None.</p>")
            out.append("</section>")
    out.append("</section>")
    return "\n".join(out)


def _assumptions(names: Sequence[str], sid: str, rows: list[tuple[int, CheckRow]]) -> str:
    names = list(names)
    for _, c in rows:
        names += [n for n in c.check.failed_assumptions if n not in names]
    if not names:
        return "<p>Assumptions: none (deterministic or exact statement).</p>"
    body = [[esc(n)] + ["<strong>fails</strong>" if n in c.check.failed_assumptions else "holds"
                        for _, c in rows] for n in names]
    return (f"<p>Assumptions of <code>{esc(sid)}</code> per configuration:</p>"
            + table(["assumption"] + [f"#{j}" for j, _ in rows], body))


def _section(s: SectionRecord, texts: SectionText, rows: list[tuple[int, CheckRow]]) -> str:
    key = s.key
    out = [f'<section id="{anchor("sec", key)}"><h2>{esc(key)}. {esc(s.title)}</h2>']
    for sid in s.ids:
        st = catalog[sid]
        out.append(f'<p id="{anchor("stmt", sid)}"><strong><code>{esc(sid)}</code></strong> '
                   f"({esc(st.paper_ref)}). {esc(st.claim)}</p><pre>{esc(st.formula)}</pre>")
    for sid in s.ids:
        mine = [(j, c) for j, c in rows if c.check.id == sid]
        if mine:
            out.append(_assumptions(texts.assumptions.get(sid, ()), sid, mine))
    if rows:
        body = [[str(j), f"<code>{esc(r.check.id)}</code>", esc(r.label), _bound_cell(r),
                 _num(r.check.measured, fmt(r.check.measured)),
                 _num(r.check.slack_log10, fmt(r.check.slack_log10, 3)),
                 _num(r.check.rate_slope, fmt(r.check.rate_slope, 3)), _config_links(r),
                 verdict_cell(r)]
                for j, r in rows]
        out.append(table(["#", "statement", "configuration", "bound", "measured", "slack log10",
                          "slope", "config", "verdict"], body,
                         row_ids=[_row_id(c, j) for j, c in rows]))
        out.append("<p>Slack: log10(bound/measured), positive when the check holds with room "
                   "(negated for the lower bound of a PL ratio). Slope: log-log fit against "
                   "L.</p>")
    if texts.text:
        out.append(markdown_html(texts.text))
    if s.figure:
        note = texts.figure_note
        out.append(f'<figure><img src="{esc(s.figure)}" alt="Figure of section {esc(key)}">'
                   + (f"<figcaption>{inline(note)}</figcaption>" if note else "") + "</figure>")
    out.append(f"<p><strong>Conclusion.</strong> {inline(s.conclusion)}</p>")
    if rows:
        out.append("<details><summary>Notes and commands per row</summary><ol>")
        for j, r in rows:
            notes = f" {esc(r.check.notes)}." if r.check.notes else ""
            out.append(f'<li value="{j}"><a href="#{_row_id(r, j)}">{esc(r.label)}</a>.'
                       f"{notes} Reproduce: <code>resnet-ode check {esc(r.check.id)} --config "
                       f"{esc(r.config_file)}</code>{_control_command(r)}</li>")
        out.append("</ol></details>")
    out.append("</section>")
    return "\n".join(out)


def _control_command(row: CheckRow) -> str:
    if not row.control_file:
        return ""
    return (f" Control: <code>resnet-ode check {esc(row.check.id)} --config "
            f"{esc(row.control_file)}</code>")


def _finding_groups(findings: Sequence[Finding]) -> list[tuple[str, str, list[Finding]]]:
    """(anchor, title, findings) per kind, in the order of :data:`reports.findings.KINDS` then
    any other kind; one group when no finding has a kind."""
    if not any(f.kind for f in findings):
        return [(anchor("findings", "all"), "All findings", list(findings))] if findings else []
    by: dict[str, list[Finding]] = {}
    for f in findings:
        by.setdefault(f.kind or "unclassified", []).append(f)
    order = [k for k in KINDS if k in by] + [k for k in by if k not in KINDS]
    return [(anchor("findings", k), TITLES.get(k, k.capitalize()), by[k]) for k in order]


def _findings(findings: Sequence[Finding]) -> str:
    out = ['<section id="findings"><h2>Findings</h2>',
           "<p>Discrepancies between the paper and its re-derivations or the measurements, each "
           "with a command that reproduces it.</p>"]
    seen: set[str] = set()
    for aid, title, items in _finding_groups(findings):
        out.append(f'<section id="{aid}"><h3>{esc(title)} ({len(items)})</h3>')
        for f in items:
            fid = anchor("finding", f.id)
            while fid in seen:
                fid += "-"
            seen.add(fid)
            kind = f' <span class="rule">[{esc(f.kind)}]</span>' if f.kind else ""
            command = f"<pre><code>{esc(f.command)}</code></pre>" if f.command else ""
            out.append(f'<div class="finding" id="{fid}"><strong><code>{esc(f.id)}</code>'
                       f"</strong>{kind}: {esc(f.text)}{command}</div>")
        out.append("</section>")
    out.append("</section>")
    return "\n".join(out)


def _provenance(results: Results, numbered: Numbered) -> str:
    env = results.environment
    rows = [["command", f"<code>{esc(shlex.join(['resnet-ode', *env.argv[1:]]))}</code>"]]
    rows += [[esc(k), esc(v)] for k, v in env.fields.items()  # every field, as written
             if k != "argv" and k not in env.versions]
    out = ['<section id="provenance"><h2>Provenance</h2>', '<h3 id="environment">Environment</h3>',
           table(["field", "value"], rows, sortable=False),
           '<h3 id="versions">Package versions</h3>',
           table(["package", "version"], [[esc(k), esc(v)] for k, v in env.versions.items()]),
           '<h3 id="seeds">Seeds and configurations</h3>',
           f"<p>Base seed {esc(env.seed)}; each row's seeds and full configuration are in "
           "its configuration file (JSON, a <code>--config</code> file of <code>resnet-ode "
           "check</code>).</p>"]
    body = []
    for sec, rows_ in numbered.items():
        for j, c in rows_:
            cfg = c.check.config  # a Config's fields: the columns are the sizes it has
            fields = ", ".join(f"{k}={cfg[k]}" for k in ("n", "d", "m", "L", "T", "activation")
                               if k in cfg)
            body.append([f'<a href="#{_row_id(c, j)}">{esc(sec)} #{j}</a>',
                         f"<code>{esc(c.check.id)}</code>", esc(cfg.get("seed", "")),
                         esc(", ".join(map(str, cfg.get("seeds", [])))), esc(fields),
                         _config_links(c, c.config_file)])
    out.append(table(["row", "statement", "seed", "seeds", "sizes", "configuration file"], body))
    out.append('<h3 id="usage">Wall time and memory per section</h3>')
    usage = [[f'<a href="#{anchor("sec", s.key)}">{esc(s.key)}</a>',
              _num(s.usage.wall_s, f"{s.usage.wall_s:.1f}"), _num(s.usage.peak_rss_mb, memory(s)),
              "yes" if s.resumed else "no"] for s in results.sections]
    out.append(table(["section", "wall time (s)", "peak memory (MB)", "resumed"], usage))
    total = env.total_wall_s
    if isinstance(total, int | float):
        out.append(f"<p>Total wall time {esc(fmt(total, 4))} s (sections resumed from saved "
                   "progress keep their original time).</p>")
    out.append("</section>")
    return "\n".join(out)


def _toc(results: Results) -> str:
    secs = "".join(f'<li><a href="#{anchor("sec", s.key)}">{esc(s.key)}. '
                   f"{esc(s.title)}</a></li>" for s in results.sections)
    groups = "".join(f'<li><a href="#{aid}">{esc(title)} ({len(items)})</a></li>'
                     for aid, title, items in _finding_groups(results.findings))
    verdicts = "".join(f'<li><a href="#{_verdict_anchor("paper", cls)}">'
                       f"{esc(VERDICTS.get(cls, cls))}</a></li>"
                       for cls in _classes(results.checks))
    return ('<nav id="toc" aria-label="Contents"><strong>Contents</strong><ol>'
            f'<li><a href="#summary">Verdict summary</a><ol>{verdicts}</ol></li>'
            f'<li><a href="#sections">Sections</a><ol>{secs}</ol></li>'
            f'<li><a href="#findings">Findings</a><ol>{groups}</ol></li>'
            '<li><a href="#provenance">Provenance</a></li></ol>'
            '<p><a href="report.md">report.md</a> · <a href="results.json">results.json</a></p>'
            "</nav>")


def render(results: Results, texts: Mapping[str, SectionText]) -> str:
    """The page for ``results`` (results.json read by :func:`reports.records.parse`) and
    ``texts[section key]`` (what results.json does not hold of a section)."""
    numbered = _numbered(results)
    scale = results.environment.scale or ""
    title = "Bound-vs-measured report: Marion, Wu, Sander, Biau (ICLR 2024)"
    sections = "\n".join(_section(s, texts.get(s.key, SectionText()), numbered.get(s.key, []))
                         for s in results.sections)
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta http-equiv="Content-Security-Policy" content="{esc(_CSP)}">',
        f"<title>{esc(title)}</title>", '<link rel="icon" href="data:,">',
        f"<style>{_CSS}</style></head><body>", _toc(results), "<main>",
        f"<h1>{esc(title)}</h1>",
        f"<p>Scale <code>{esc(scale)}</code>; every statement of the paper's catalog checked "
        "against measurements of real networks (model (3) unless a section says otherwise). "
        "Every command runs from this report's folder. Click a table header to sort.</p>",
        _summary(results, numbered), '<div id="sections">', sections, "</div>",
        _findings(results.findings), _provenance(results, numbered), "</main>",
        f"<script>{_JS}</script>", "</body></html>", ""])


def write_html(out: Path, results: Results, done: list[tuple[Any, SectionResult]]) -> None:
    """Write ``out/report.html`` atomically for ``results`` and the computed sections ``done``
    ((Section, its result) pairs, whose texts results.json does not hold)."""
    figures = {s.key: s.figure for s in results.sections}
    texts = {sec.key: SectionText(sec.text(s.data, results.rows(sec.key)),
                                  sec.figure_note(s.data) if figures.get(sec.key) else "",
                                  sec.assumptions)
             for sec, s in done}
    atomic_write_text(Path(out) / "report.html", render(results, texts))
