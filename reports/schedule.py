"""Scheduling a report's sections: each resumed from its saved progress when the fingerprint
matches (:mod:`reports.resume`), else computed (:mod:`reports.compute`) here in order or as Dask
tasks (:mod:`reports.cluster`), and saved as it finishes."""

from __future__ import annotations

import contextlib
import time
from typing import Any

from numerics.progress import Console
from reports import cluster
from reports.arguments import RunSpec
from reports.compute import Batch, SectionResult, Work, compute, compute_sections, context
from reports.resume import Progress, code_version, fingerprint
from reports.sections import Section

Done = list[tuple[Section, SectionResult]]
"""Each selected section, in report order, with its result (``resumed``: read back)."""


def work(sec: Section, spec: RunSpec, progress: Progress) -> tuple[Work, SectionResult | None]:
    """What computing ``sec`` takes, and its saved progress when the fingerprint matches (the
    progress file's JSON read back: :meth:`SectionResult.from_dict`)."""
    ids = tuple(i for i in sec.ids if spec.only is None or i in spec.only)
    fp = fingerprint(sec.settings(context(spec, {}), ids))
    todo = Work(sec.key, ids, fp, progress.checkpoints(sec.key, fp))
    saved = progress.load(sec.key, fp)
    return todo, None if saved is None else SectionResult.from_dict(saved, resumed=True)


def here(selected: list[Section], spec: RunSpec, progress: Progress, console: Console) -> Done:
    """Each section in order in this process (one ``Context.shared`` for the run), its progress
    saved as it finishes."""
    shared: dict[str, Any] = {}  # data that several sections of this run use (Figure 1)
    done = []
    console.units(len(selected), "section")
    for j, sec in enumerate(selected, 1):
        began = time.perf_counter()
        if not console.tty:
            console.line(f"section {sec.key} ({j}/{len(selected)}) ...")
        todo, result = work(sec, spec, progress)
        if result is None:
            result = compute(sec, context(spec, shared), todo.ids, todo.checkpoints)
            progress.save(sec.key, todo.fp, result.to_dict())
        done.append((sec, result))
        how = "resumed" if result.resumed else "done"
        console.finished(note=f"section {sec.key} {how} in {time.perf_counter() - began:.1f} s")
    return done


def on_dask(client: Any, selected: list[Section], spec: RunSpec, progress: Progress,
            console: Console) -> Done:
    """The sections not saved, as Dask tasks (sections sharing data, :attr:`Section.shares`, in
    one), handed out in report order (:func:`reports.cluster.completed`), each saved as its task
    finishes."""
    results: dict[str, SectionResult] = {}
    groups: dict[str, list[Work]] = {}
    for sec in selected:
        todo, saved = work(sec, spec, progress)
        if saved is not None:
            results[sec.key] = saved
        else:
            groups.setdefault(sec.shares or sec.key, []).append(todo)
    tasks = list(groups.values())
    console.line(f"{len(results)} sections resumed, {sum(map(len, tasks))} to compute "
                 f"in {len(tasks)} tasks on {len(client.nthreads())} workers")
    console.units(sum(map(len, tasks)), "section")
    version, began = code_version(), time.perf_counter()
    calls = [(spec, works) for works in tasks]
    # closing: a section's exception cancels the other tasks at once
    with contextlib.closing(cluster.completed(client, compute_sections, calls, "report")) as run:
        for i, future in run:
            out = future.result()  # a section's exception is raised here, as in-process
            if not isinstance(out, Batch) or out.version != version:
                got = out.version if isinstance(out, Batch) else "of before typed sections"
                raise RuntimeError(f"the workers run code version {got}, this "
                                   f"checkout {version}: install the same code on the workers")
            for todo, computed in zip(tasks[i], out.sections, strict=True):
                progress.save(todo.key, todo.fp, computed.to_dict())
                results[todo.key] = computed
                console.finished(note=f"section {todo.key} done at "
                                      f"{time.perf_counter() - began:.1f} s "
                                      f"({computed.usage.wall_s:.1f} s on a worker)")
    return [(sec, results[sec.key]) for sec in selected]
