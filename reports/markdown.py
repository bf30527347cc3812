"""Markdown of the report: verdict summary, provenance, one block per section, findings."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from reports.findings import Finding
from reports.records import CheckRow, Engine, Environment, Results, SectionRecord
from reports.sections.base import Section
from reports.text import fmt
from theory.catalog import catalog

if TYPE_CHECKING:  # annotations only: reports.compute imports every numerics family
    from reports.compute import SectionResult


def verdict(row: CheckRow) -> str:
    """The row's verdict in words, with the rule that decided it where it is not a plain pass and
    the negative control's outcome where one ran; a beyond-check's answer is its outcome
    ("conclusion holds beyond the assumptions", ...: it tests the conclusion, never the
    statement)."""
    check, control = row.check, row.control
    cls, beyond = check.verdict, check.scope == "beyond"
    if cls == "n/a":
        failed = check.failed_requirements if beyond else check.failed_assumptions
        return "n/a: " + "; ".join(failed or check.failed_assumptions)
    ctrl = "" if control is None else f" (control, {control.why}: {control.verdict})"
    if beyond:  # the outcome's words (theory.verdicts.Verdict.outcome) say "beyond"
        return f"{check.outcome}{ctrl}: {check.verdict_rule}"
    if cls == "holds":
        return "holds" + ctrl
    word = {"violated": "**VIOLATED**"}.get(cls, cls)
    return f"{word}: {check.verdict_rule}"


def bound_text(row: CheckRow) -> str:
    """The bound, or 10^x / 10^(10^y) where it is beyond the float range."""
    bound, log10, log10_log10 = row.check.bound, row.log10_bound, row.log10_log10_bound
    if bound is None and log10_log10 is not None:
        return f"10^(10^{log10_log10:.4g})"
    if bound is None and log10 is not None:
        return f"10^{log10:.4g}"
    return fmt(bound)


def counts(rows: Iterable[CheckRow], scope: str | None = "paper") -> Counter[str]:
    """Counter of the verdict classes of the checks of ``scope`` (None: every check)."""
    return Counter(r.check.verdict for r in rows if scope is None or r.check.scope == scope)


def summary(checks: Sequence[CheckRow], statements: list[str]) -> str:
    c, b = counts(checks), counts(checks, "beyond")
    paper = sum(c.values())
    lines = ["## Verdict summary", "",
             f"{len(checks)} checks over {len(statements)} statements. {paper} test a statement "
             f"of the paper under its assumptions (scope paper): **{c['holds']} hold** "
             "(informative: each could have failed in its configuration, and its negative "
             f"control, where it has one, fails), **{c['violated']} violated**, "
             f"{c['inconclusive']} inconclusive (the interval straddles the edge), "
             f"{c['vacuous']} vacuous (not violated, but could not have been: the rule is named; "
             f"never counted as a pass), {c['n/a']} not applicable (a failed assumption is "
             f"named).  {sum(b.values())} test a statement's conclusion beyond its assumptions "
             f"(scope beyond: never a violation of the paper): the conclusion holds in "
             f"{b['holds']}, fails in {b['fails']}, {b['inconclusive']} inconclusive, "
             f"{b['vacuous']} vacuous, {b['n/a']} not applicable.", ""]
    bad = [x for x in checks if x.check.verdict == "violated"]
    lines += (["Violated checks:", ""] + [f"- `{x.check.id}` ({x.section}, {x.label}): "
                                          f"{x.check.verdict_rule}" for x in bad]
              if bad else ["No paper-scope check is violated."])
    lines += ["", "| statement | paper | holds | violated | inconclusive | vacuous | "
              "not applicable |", "|---|---|---|---|---|---|---|"]
    for sid in statements:
        k = counts([x for x in checks if x.check.id == sid])
        if sum(k.values()):
            lines.append(f"| `{sid}` | {catalog[sid].paper_ref} | {k['holds']} | "
                         f"{k['violated']} | {k['inconclusive']} | {k['vacuous']} | "
                         f"{k['n/a']} |")
    beyond = [x for x in checks if x.check.scope == "beyond"]
    if beyond:
        lines += ["", "Beyond the assumptions (each row names the assumptions it goes beyond; "
                  "its answer is a measured result, not a verdict on the paper):", "",
                  "| statement | section | configuration | assumptions it goes beyond | answer |",
                  "|---|---|---|---|---|"]
        lines += [f"| `{x.check.id}` | {x.section} | {x.label} | "
                  f"{'; '.join(x.check.failed_assumptions)} | {verdict(x)} |" for x in beyond]
    return "\n".join(lines)


def engine_text(engine: Engine) -> str:
    """results.json's ``environment.engine`` in words (docs/results-json.md)."""
    if engine.name == "native":
        text = (f"compiled C sweeps ({engine.compiler}, {engine.compiler_version}; "
                f"`{' '.join(engine.flags)}`); torch {engine.torch} sweeps where q m > "
                f"{engine.max_qm} or the activation has no C form")
    else:
        text = f"torch {engine.torch} sweeps ({engine.reason})"
    return text + (f"; CUDA {engine.cuda}, each step one CUDA graph" if engine.cuda_graph
                   else "")


def provenance(env: Environment, sections: Sequence[SectionRecord], total_s: float) -> str:
    versions = ", ".join(f"{k} {v}" for k, v in env.versions.items())
    lines = ["## Provenance", "",
             f"- command: `resnet-ode {' '.join(env.argv[1:])}` (scale `{env.scale}`)",
             f"- git commit: `{env.git_commit}`; code version (hash of theory/, numerics/, "
             f"reports/): `{env.code_version}`",
             f"- device: {env.device} ({env.device_name}); torch threads "
             f"{env.torch_threads}; platform {env.platform}",
             f"- model (3)'s sweeps: {engine_text(env.engine)}",
             f"- dtype: {env.dtype} for model (3) and the limit solver; float32 for the "
             "convolutional networks of S13",
             f"- seeds: base seed {env.seed}; each row's seeds are in its configuration file",
             f"- packages: {versions}",
             f"- total wall time {total_s:.1f} s (sections resumed from saved progress keep "
             "their original time)", "",
             "| section | wall time (s) | peak memory (MB) | resumed |", "|---|---|---|---|"]
    for s in sections:
        lines.append(f"| {s.key} | {s.usage.wall_s:.1f} | {memory(s)} | "
                     f"{'yes' if s.resumed else 'no'} |")
    if not all(s.usage.per_section_peak for s in sections):
        lines.append("\nPeak memory is the process-wide high-water mark (no per-section reset "
                     "on this system).")
    return "\n".join(lines)


def memory(s: SectionRecord) -> str:
    """A section's peak memory in MB, with the CUDA peak where one was measured."""
    u = s.usage
    return f"{u.peak_rss_mb:.0f}" + ("" if u.peak_cuda_mb is None
                                     else f" (+{u.peak_cuda_mb:.0f} CUDA)")


def _assumption_table(section: Section, sid: str, rows: list[tuple[int, CheckRow]]) -> str:
    names = list(section.assumptions.get(sid, ()))
    for _, row in rows:
        names += [n for n in row.check.failed_assumptions if n not in names]
    if not names:
        return "Assumptions: none (deterministic or exact statement)."
    head = "| assumption | " + " | ".join(f"#{j}" for j, _ in rows) + " |"
    lines = [f"Assumptions of `{sid}` per configuration:", "", head,
             "|---" * (len(rows) + 1) + "|"]
    for name in names:
        cells = ["**fails**" if name in r.check.failed_assumptions else "holds"
                 for _, r in rows]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def section(sec: Section, checks: list[CheckRow], data: dict[str, Any], figure: str | None
            ) -> str:
    """The section's block: its ``checks`` (results.json's rows of the section) and ``data``
    (the computed section's figure data, which results.json does not hold)."""
    numbered = list(enumerate(checks, 1))
    lines = [f"## {sec.key}. {sec.title}", ""]
    for sid in sec.ids:
        st = catalog[sid]
        lines += [f"**`{sid}`** ({st.paper_ref}). {st.claim}", "", f"    {st.formula}", ""]
    for sid in sec.ids:
        rows = [(j, c) for j, c in numbered if c.check.id == sid]
        if rows:
            lines += [_assumption_table(sec, sid, rows), ""]
    if checks:
        lines += ["| # | statement | scope | configuration | bound | measured | slack log10 | "
                  "slope | verdict |", "|---|---|---|---|---|---|---|---|---|"]
        for j, r in numbered:
            c = r.check
            lines.append(f"| {j} | `{c.id}` | {c.scope} | {r.label} | "
                         f"{bound_text(r)} | {fmt(c.measured)} | {fmt(c.slack_log10, 3)}"
                         f" | {fmt(c.rate_slope, 3)} | {verdict(r)} |")
        lines += ["", "Slack: log10(bound/measured), positive when the check holds with room "
                  "(negated for the lower bound of a PL ratio). Slope: log-log fit against L.", ""]
    text = sec.text(data, checks)
    if text:
        lines += [text, ""]
    if figure:
        lines += [f"![{sec.key}]({figure})", "", f"*{sec.figure_note(data)}*", ""]
    lines += [f"**Conclusion.** {sec.conclusion(data, checks)}", ""]
    if checks:
        lines += ["<details><summary>Notes and commands per row</summary>", ""]
        for j, r in numbered:
            notes = f" {r.check.notes}." if r.check.notes else ""
            also = (f" Control: `resnet-ode check {r.check.id} --config {r.control_file}`"
                    if r.control_file else "")
            lines.append(f"{j}. {r.label}.{notes} Reproduce: `resnet-ode check {r.check.id} "
                         f"--config {r.config_file}`{also}")
        lines += ["", "</details>", ""]
    return "\n".join(lines)


def findings(items: Sequence[Finding]) -> str:
    lines = ["## Findings", "", "Discrepancies between the paper and its re-derivations or the "
             "measurements, each with a command that reproduces it.", ""]
    for j, f in enumerate(items, 1):
        lines.append(f"{j}. **{f.id}**: {f.text}  \n   Reproduce: `{f.command}`")
    return "\n".join(lines)


def report(results: Results, done: list[tuple[Section, SectionResult]]) -> str:
    """The whole report.md of ``results`` (results.json) and the computed sections ``done``
    ((Section, its result) pairs, whose texts results.json does not hold)."""
    env, sections = results.environment, results.sections
    figure = {s.key: s.figure for s in sections}
    statements = [sid for s in sections for sid in s.ids]
    parts = ["# Bound-vs-measured report: Marion, Wu, Sander, Biau (ICLR 2024)", "",
             f"Scale `{env.scale}`; every statement of the paper's catalog checked against "
             "measurements of real networks (model (3) unless a section says otherwise). "
             "Every command runs from this report's folder.", "",
             summary(results.checks, statements), "",
             provenance(env, sections, env.total_wall_s), ""]
    parts += [section(sec, results.rows(sec.key), s.data, figure[sec.key])
              for sec, s in done]
    parts.append(findings(results.findings))
    return "\n".join(parts) + "\n"
