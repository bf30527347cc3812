"""``resnet-ode report``: run every section, then write report.md, results.json and the figures.

Order of work: validate the arguments (ConfigError -> exit 2), lock ``--out``
(:func:`reports.io.out_lock`; a second run is refused), then for each section either load its
saved progress (same fingerprint: :mod:`reports.progress`) or compute it (checks through
:func:`numerics.checks.run_check`, figure data through the numerics APIs) and save it atomically.
Only then are the outputs written, each atomically: the row configurations
(``DIR/configs/*.json``), the PNG figures, ``results.json`` (validated against
:data:`reports.schema.RESULTS`) and last ``report.md``.  An exception before that point leaves the
previous outputs untouched.  Exit status: 0 when every applicable check holds, 1 otherwise.

Every scale runs with :data:`numerics.device.THREADS` torch threads, as ``check`` does: a row's
command reproduces its numbers bit for bit.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import sys
import time
from pathlib import Path
from typing import Any

from reports.html import write_html
from theory.catalog import CheckResult, catalog, jsonable
from theory.errors import ConfigError, DivergenceError

EXIT_OK, EXIT_VIOLATION = 0, 1


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """The validated arguments of one report run."""

    out: Path
    scale: str = "quick"
    seed: int = 0
    device: str = "cpu"
    only: tuple[str, ...] | None = None
    data_dir: str | None = None
    force: bool = False

    def __post_init__(self) -> None:
        from reports.sections import SCALES

        if self.scale not in SCALES:
            raise ConfigError("scale", self.scale, f"must be one of {', '.join(SCALES)}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError("seed", self.seed, "must be a non-negative integer")
        if self.only is not None:
            if not self.only:
                raise ConfigError("only", "", "needs at least one statement id")
            for sid in self.only:
                catalog[sid]  # ConfigError naming the unknown id
        if self.device == "cuda":
            from numerics.device import resolve

            resolve("cuda")  # ConfigError when CUDA is not available
        elif self.device != "cpu":
            raise ConfigError("device", self.device, "must be cpu or cuda")
        if self.data_dir is not None:  # an empty or malformed folder fails here, first
            from numerics.realdata import load_cifar_folder

            load_cifar_folder(self.data_dir)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> RunSpec:
        scale = getattr(args, "scale", None) or ("paper" if args.paper else "quick")
        only = None if args.only is None else tuple(
            s.strip() for s in args.only.split(",") if s.strip())
        return cls(Path(args.out), scale, args.seed, args.device, only, args.data_dir,
                   args.force)


def run_report(args: argparse.Namespace) -> int:
    """The ``report`` subcommand: build the report, return the exit status."""
    from reports.markdown import counts

    spec = RunSpec.from_args(args)
    if args.workers is None and args.scheduler is None:
        results = build_report(spec)
    else:
        from reports.sweep import engine

        with engine.executor(args.scheduler, args.workers) as on:
            results = build_report(spec, on.client)
    k, b = counts(results["checks"]), counts(results["checks"], "beyond")
    print(f"resnet-ode: report written to {args.out}/report.md ({len(results['checks'])} checks; "
          f"paper scope: {k['holds']} hold, {k['violated']} violated, {k['inconclusive']} "
          f"inconclusive, {k['vacuous']} vacuous, {k['n/a']} not applicable; beyond the "
          f"assumptions: {b['holds']} hold, {b['fails']} fail, {b['inconclusive']} inconclusive, "
          f"{b['vacuous']} vacuous, {b['n/a']} not applicable)", file=sys.stderr)
    return EXIT_VIOLATION if k["violated"] else EXIT_OK  # only a paper-scope violation


def build_report(spec: RunSpec, client: Any = None) -> dict[str, Any]:
    """Compute (or resume) every selected section and write the outputs; returns results.json.

    ``client``: a ``distributed.Client`` whose workers compute the sections (those that share
    data, :attr:`Section.shares`, in one task: :func:`_on_dask`); None: here, in order."""
    from numerics.device import cpu_threads
    from numerics.progress import listening
    from reports.console import Console
    from reports.io import out_lock
    from reports.progress import Progress
    from reports.sections import SECTIONS

    start = time.perf_counter()
    console = Console("report")
    with out_lock(spec.out), cpu_threads(), listening(console):
        previous = _previous_outputs(spec)
        progress = Progress(spec.out)
        selected = [s for s in SECTIONS if spec.only is None or set(s.ids) & set(spec.only)]
        run = _here if client is None else functools.partial(_on_dask, client)
        done = run(selected, spec, progress, console)
        console.close()
        results = _write(spec, done, time.perf_counter() - start)
        _remove_stale(spec.out, previous, results)
        return results


@dataclasses.dataclass(frozen=True)
class _Work:
    """A section to compute: its selected ids, progress fingerprint and checkpoint folder."""

    key: str
    ids: tuple[str, ...]
    fp: str
    checkpoints: Path


def _context(spec: RunSpec, shared: dict[str, Any]) -> Any:
    from reports.sections import Context

    return Context(spec.scale, spec.seed, spec.device, spec.data_dir, shared=shared)


def _work(sec: Any, spec: RunSpec, progress: Any) -> tuple[_Work, dict[str, Any] | None]:
    """What computing ``sec`` takes, and its saved progress when the fingerprint matches."""
    from reports.progress import fingerprint

    ids = tuple(i for i in sec.ids if spec.only is None or i in spec.only)
    fp = fingerprint(sec.settings(_context(spec, {}), ids))
    work = _Work(sec.key, ids, fp, progress.checkpoints(sec.key, fp))
    saved = progress.load(sec.key, fp)
    return work, None if saved is None else {**saved, "resumed": True}


def _here(selected: list[Any], spec: RunSpec, progress: Any, console: Any
          ) -> list[tuple[Any, dict[str, Any]]]:
    """Each section in order in this process (one ``Context.shared`` for the run), its progress
    saved as it finishes."""
    from tqdm import tqdm

    shared: dict[str, Any] = {}  # data that several sections of this run use (Figure 1)
    done = []
    for j, sec in enumerate(tqdm(selected, desc="report", disable=not console.tty), 1):
        began = time.perf_counter()
        if not console.tty:
            console.line(f"section {sec.key} ({j}/{len(selected)}) ...")
        work, result = _work(sec, spec, progress)
        if result is None:
            computed = _compute(sec, _context(spec, shared), work.ids, work.checkpoints)
            progress.save(sec.key, work.fp, computed)
            result = {**computed, "resumed": False}
        done.append((sec, result))
        if not console.tty:
            how = "resumed" if result["resumed"] else "done"
            console.line(f"section {sec.key} {how} in {time.perf_counter() - began:.1f} s")
    return done


def _on_dask(client: Any, selected: list[Any], spec: RunSpec, progress: Any, console: Any
             ) -> list[tuple[Any, dict[str, Any]]]:
    """The sections not saved, as Dask tasks (sections sharing data in one), each saved as its
    task finishes.  Tasks are handed out in report order, one per worker thread at a time (Dask
    would otherwise queue them on workers at once, and a long one could wait behind another
    while a worker idles)."""
    from distributed import as_completed

    from reports.progress import code_version

    results: dict[str, dict[str, Any]] = {}
    groups: dict[str, list[_Work]] = {}
    for sec in selected:
        work, saved = _work(sec, spec, progress)
        if saved is not None:
            results[sec.key] = saved
        else:
            groups.setdefault(sec.shares or sec.key, []).append(work)
    console.line(f"{len(results)} sections resumed, {sum(map(len, groups.values()))} to compute "
                 f"in {len(groups)} tasks on {len(client.nthreads())} workers")
    queue, futures = list(groups.values()), {}
    running = as_completed(loop=client.loop)

    def top_up() -> None:  # running.count(): the tasks submitted and not yet taken out
        while queue and running.count() < max(1, sum(client.nthreads().values())):
            works = queue.pop(0)
            future = client.submit(compute_sections, spec, works, pure=False)
            futures[future] = works
            running.add(future)

    version, began = code_version(), time.perf_counter()
    top_up()
    try:
        for future in running:
            out = future.result()  # a section's exception is raised here, as in-process
            if out["version"] != version:
                raise RuntimeError(f"the workers run code version {out['version']}, this "
                                   f"checkout {version}: install the same code on the workers")
            for work, computed in zip(futures[future], out["sections"], strict=True):
                progress.save(work.key, work.fp, computed)
                results[work.key] = {**computed, "resumed": False}
                console.line(f"section {work.key} done at {time.perf_counter() - began:.1f} s "
                             f"({computed['usage']['wall_s']:.1f} s on a worker)")
            top_up()
    finally:
        client.cancel(list(futures))
    return [(sec, results[sec.key]) for sec in selected]


def compute_sections(spec: RunSpec, works: list[_Work]) -> dict[str, Any]:
    """On a worker: the sections ``works`` in order, sharing one ``Context.shared``, with
    :data:`numerics.device.THREADS` torch threads (as in-process: the same numbers); returns
    the code version and each section's result."""
    from numerics.device import cpu_threads
    from reports.progress import code_version
    from reports.sections import SECTIONS

    by_key, shared = {s.key: s for s in SECTIONS}, {}  # type: ignore[var-annotated]
    with cpu_threads():
        sections = [_compute(by_key[w.key], _context(spec, shared), w.ids, w.checkpoints)
                    for w in works]
    return {"version": code_version(), "sections": sections}


def _previous_outputs(spec: RunSpec) -> set[str]:
    """The files of the report already in ``--out`` (relative paths), after refusing to replace
    it by a report of another scale or by an ``--only`` subset unless ``--force``: a folder never
    mixes two reports."""
    path = spec.out / "results.json"
    if not path.exists():
        return set()
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
        scale = old["environment"]["scale"]
        files = {f for c in old["checks"] for f in _files(c)}
        files |= {s["figure"] for s in old["sections"] if s.get("figure")}
    except (OSError, ValueError, KeyError, TypeError):
        scale, files = None, set()
    if not spec.force:
        if scale != spec.scale:
            held = "an unreadable report" if scale is None else f"a {scale} report"
            raise ConfigError("out", str(spec.out), f"holds {held}; a {spec.scale} report would "
                              "replace it: choose another --out, or pass --force")
        if spec.only is not None:
            raise ConfigError("only", ",".join(spec.only), f"would replace the whole report in "
                              f"{spec.out} by a subset: choose another --out, or pass --force")
    return files


def _files(check: dict[str, Any]) -> list[str]:
    """The configuration files a check's row writes: its own and its control's."""
    control = check.get("control") or {}
    return [check["config_file"]] + ([control["config_file"]] if "config_file" in control else [])


def _remove_stale(out: Path, previous: set[str], results: dict[str, Any]) -> None:
    """Delete the previous report's files that the new one did not write."""
    written = {f for c in results["checks"] for f in _files(c)}
    written |= {s["figure"] for s in results["sections"] if s["figure"]}
    for name in previous - written:
        (out / name).unlink(missing_ok=True)


def _compute(sec: Any, ctx: Any, ids: tuple[str, ...], checkpoints: Path) -> dict[str, Any]:
    """Run a section's rows and figure data, its trainings checkpointing under
    ``checkpoints``; the result as it round-trips through JSON."""
    from numerics.progress import checkpointing
    from reports.provenance import measure_usage

    with measure_usage(ctx.device) as usage, checkpointing(checkpoints):
        checks = []
        rows = [r for r in sec.rows(ctx) if r.id in ids]
        for j, row in enumerate(rows, 1):
            record = _check(row.id, row.config).to_dict()
            record.update(label=row.label, section=sec.key,
                          config_file=f"configs/{sec.key}-{row.id}-{j}.json")
            if record["control"] is not None:
                record["control"]["config_file"] = f"configs/{sec.key}-{row.id}-{j}-control.json"
            checks.append(_roundtrip(record))
        data = sec.data(ctx, checks)
    section = {"key": sec.key, "title": sec.title, "ids": list(ids), "checks": checks,
               "data": _json_safe(data), "usage": dataclasses.asdict(usage)}
    return _roundtrip(section)


def _check(statement_id: str, config: Any) -> CheckResult:
    """:func:`numerics.checks.run_check`, with a divergence reported as a result (a violation
    where the statement applies)."""
    from numerics.checks import run_check

    try:
        return run_check(statement_id, config)
    except DivergenceError as exc:
        from theory.verdicts import Facts, classify

        st = catalog[statement_id]
        scope, failed_paper, failed = st.scope(config)
        # no finite measurement: violated where applicable (fails beyond the assumptions)
        v = classify(Facts(None), failed, scope=scope)  # type: ignore[arg-type]
        return CheckResult(st.id, st.paper_ref, st.claim, config.to_dict(),
                           scope == "paper" and not failed, failed_paper, None, None, v.holds,
                           notes=f"training diverged: {exc}", verdict=v.cls, verdict_rule=v.rule,
                           scope=scope,
                           failed_requirements=failed if scope == "beyond" else [])


def _json_safe(obj: Any) -> Any:
    """``obj`` for JSON: tuples as lists, numpy/torch scalars as numbers, non-finite as None."""
    obj = jsonable(obj)
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_json_safe(v) for v in obj]
    if obj in ("inf", "-inf", "nan"):
        return None
    return obj


def _roundtrip(obj: Any) -> Any:
    return json.loads(json.dumps(obj, allow_nan=False))


def _write(spec: RunSpec, done: list[tuple[Any, dict[str, Any]]], total_s: float
           ) -> dict[str, Any]:
    import jsonschema

    from reports import figures, markdown
    from reports.findings import collect
    from reports.io import atomic_write_json, atomic_write_text
    from reports.progress import code_version
    from reports.provenance import environment
    from reports.schema import RESULTS
    from reports.schema import VERSION as SCHEMA_VERSION

    checks = [c for _, s in done for c in s["checks"]]
    for c in checks:
        atomic_write_json(spec.out / c["config_file"], c["config"])
        if c["control"] is not None:
            atomic_write_json(spec.out / c["control"]["config_file"], c["control"]["config"])
    figure_files: dict[str, str | None] = {}
    for sec, s in done:
        fig = sec.draw(s["data"], s["checks"])
        figure_files[sec.key] = None if fig is None else f"{sec.key.lower()}.png"
        if fig is not None:
            figures.save(fig, spec.out / f"{sec.key.lower()}.png")
    evidence: dict[str, list[str]] = {}
    for _, s in done:
        for key, lines in s["data"].get("evidence", {}).items():
            evidence.setdefault(key, []).extend(lines)
    violations = [{"id": f"violation.{c['id']}.{c['config_file'].split('/')[-1][:-5]}",
                   "text": f"{c['id']} ({catalog[c['id']].paper_ref}) is violated for "
                           f"{c['label']}: {c['verdict_rule']}"
                           + (f" ({c['notes']})" if c["notes"] else ""),
                   "command": f"resnet-ode check {c['id']} --config {c['config_file']}",
                   "kind": "violation"}
                  for c in checks if c["verdict"] == "violated"]  # paper scope only
    # a beyond-check that fails is a measured answer, listed in the summary's beyond table; it
    # joins the findings only as a replicated study (theory.derivations / reports.findings)
    found = collect(evidence, violations, checks)
    env = {**environment(spec.device, spec.seed, "float64"), "scale": spec.scale,
           "code_version": code_version(), "total_wall_s": total_s}
    sections = [{"key": sec.key, "title": sec.title, "ids": s["ids"], "usage": s["usage"],
                 "resumed": s["resumed"], "figure": figure_files[sec.key],
                 "conclusion": sec.conclusion(s["data"], s["checks"]),
                 **({"results": s["data"]["results"]} if "results" in s["data"] else {})}
                for sec, s in done]  # "results": a section's measured summary (S15)
    results = {"schema": SCHEMA_VERSION, "environment": env, "checks": checks, "findings": found,
               "sections": sections}
    results = _roundtrip(results)
    jsonschema.validate(results, RESULTS)
    statements = [sid for sec, s in done for sid in s["ids"]]
    parts = ["# Bound-vs-measured report: Marion, Wu, Sander, Biau (ICLR 2024)", "",
             f"Scale `{spec.scale}`; every statement of the paper's catalog checked against "
             "measurements of real networks (model (3) unless a section says otherwise). "
             "Every command runs from this report's folder.", "",
             markdown.summary(checks, statements), "",
             markdown.provenance(env, sections, total_s), ""]
    parts += [markdown.section(sec, s, figure_files[sec.key]) for sec, s in done]
    parts.append(markdown.findings(found))
    atomic_write_json(spec.out / "results.json", results)
    write_html(spec.out, results, done)
    atomic_write_text(spec.out / "report.md", "\n".join(parts) + "\n")
    return results

