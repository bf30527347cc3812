"""``resnet-ode report``: run every section, then write report.md, results.json and the figures.

Order of work: validate the arguments (:mod:`reports.arguments`; ConfigError -> exit 2), lock
``--out`` (:func:`reports.io.out_lock`; a second run is refused), then for each section either
load its saved progress (same fingerprint: :mod:`reports.resume`) or compute it
(:mod:`reports.compute`), here or on Dask (:mod:`reports.schedule`), and save it atomically.
Only then are the outputs written (:mod:`reports.outputs`: findings from :mod:`reports.findings`,
Markdown from :mod:`reports.markdown`).  An exception before that point leaves the previous
outputs untouched.  Exit status: 0 when no paper-scope check is violated, 1 when one is.

Every scale runs with :data:`numerics.device.THREADS` torch threads, as ``check`` does: a row's
command reproduces its numbers bit for bit.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from typing import Any

from numerics.device import cpu_threads
from numerics.progress import Console, listening
from reports import cluster, outputs, schedule
from reports.arguments import RunSpec
from reports.io import out_lock
from reports.markdown import counts
from reports.records import parse
from reports.resume import Progress
from reports.sections import SECTIONS

EXIT_OK, EXIT_VIOLATION = 0, 1


def run_report(args: argparse.Namespace) -> int:
    """The ``report`` subcommand: build the report, return the exit status."""
    spec = RunSpec.from_args(args)
    if args.workers is None and args.scheduler is None:
        results = build_report(spec)
    else:
        with cluster.connect(args.scheduler, args.workers) as (client, _):
            results = build_report(spec, client)
    checks = parse(results).checks
    k, b = counts(checks), counts(checks, "beyond")
    print(f"resnet-ode: report written to {args.out}/report.md ({len(checks)} checks; "
          f"paper scope: {k['holds']} hold, {k['violated']} violated, {k['inconclusive']} "
          f"inconclusive, {k['vacuous']} vacuous, {k['n/a']} not applicable; beyond the "
          f"assumptions: {b['holds']} hold, {b['fails']} fail, {b['inconclusive']} inconclusive, "
          f"{b['vacuous']} vacuous, {b['n/a']} not applicable)", file=sys.stderr)
    return EXIT_VIOLATION if k["violated"] else EXIT_OK  # only a paper-scope violation


def build_report(spec: RunSpec, client: Any = None) -> dict[str, Any]:
    """Compute (or resume) every selected section and write the outputs; returns results.json.

    ``client``: a ``distributed.Client`` whose workers compute the sections (those that share
    data, :attr:`Section.shares`, in one task: :func:`reports.schedule.on_dask`); None: here,
    in order."""
    start = time.perf_counter()
    console = Console("report")
    with out_lock(spec.out), cpu_threads(), listening(console):
        before = outputs.previous(spec)
        selected = [s for s in SECTIONS if spec.only is None or set(s.ids) & set(spec.only)]
        run = schedule.here if client is None else functools.partial(schedule.on_dask, client)
        done = run(selected, spec, Progress(spec.out), console)
        console.close()
        return outputs.write(spec, done, time.perf_counter() - start, before)
