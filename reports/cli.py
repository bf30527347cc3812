"""The ``resnet-ode`` command line (the README's "Command line").

::

    resnet-ode --version
    resnet-ode constants --activation tanh --n 100 --q 32 --d 16 --d-out 16 [--m M] [--L L] [--json]
    resnet-ode report [--quick | --paper] [--out DIR] [--device cpu|cuda] [--seed S] [--only ID,...]
                      [--data-dir DIR] [--force] [--workers N | --scheduler ADDRESS]
    resnet-ode check ID [--config FILE | --scale quick|paper] [--json]
    resnet-ode sweep (FILE | --preset NAME [--quick | --full | --cluster]) [--set KEY=VALUE ...]
                     [--out DIR] [--scheduler ADDRESS | --workers N | --in-process] [--no-figures]

Exit status: 0 when every applicable check holds, 1 when one does not (or a run diverges: one line
naming the iteration and the quantity), 2 for bad input (one line on stderr naming the field, no
traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import NoReturn

from numerics.progress import Console, listening
from reports.resume import code_version
from reports.text import format_config, format_result
from theory.catalog import catalog
from theory.config import SEED_MAX, load_config
from theory.constants import constants, format_table
from theory.errors import ConfigError, DivergenceError

# Not a cycle: the subcommands' own modules (reports.build, reports.sweep, numerics.checks,
# reports.defaults) import torch, matplotlib and every section (5 s of CPU); each is imported by
# the subcommand that runs it, so that --version, constants and argparse's errors answer in 1 s.

EXIT_OK, EXIT_VIOLATION, EXIT_BAD_INPUT = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``resnet-ode: error: ...`` and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} must be a positive integer")
    return value


REPORT_SEED_SPAN = 2**10
"""A report's rows draw with its seed plus a row's seed index (0 to 4 today): ``--seed`` stays
this far below :data:`theory.config.SEED_MAX`, so that every derived seed is a valid one."""


def _report_seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if not 0 <= value <= SEED_MAX - REPORT_SEED_SPAN:
        raise argparse.ArgumentTypeError(
            f"{value} is out of range: must be an integer in [0, 2**63 - {REPORT_SEED_SPAN + 1}] "
            f"(torch's generators take seeds up to 2**64 - 1, and the report derives its rows' "
            f"seeds from this one)")
    return value


def version() -> str:
    """``resnet-ode VERSION (code version CODE)``: the installed package's version and the code
    version (:func:`reports.resume.code_version`, the hash that results and sweeps record)."""
    try:
        package = metadata.version("resnet-ode-testbed")
    except metadata.PackageNotFoundError:  # run from a checkout that is not installed
        package = "(not installed)"
    return f"resnet-ode {package} (code version {code_version()})"


class _Version(argparse.Action):
    """``--version``: computed when asked (the code version hashes the sources)."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS,
                 **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS,
                         help="print the package and code versions and exit")

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        print(version())
        parser.exit(EXIT_OK)


def _statement_ids() -> str:
    return ", ".join(catalog)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="resnet-ode", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    c = sub.add_parser("constants", help="every constant of the paper for one configuration")
    c.add_argument("--activation", required=True, help="a name (tanh, gelu, ...) or a sympy "
                   "expression in x")
    c.add_argument("--n", type=_positive_int, required=True, help="sample size n")
    c.add_argument("--q", type=_positive_int, required=True, help="hidden dimension q")
    c.add_argument("--d", type=_positive_int, required=True, help="input dimension d")
    c.add_argument("--d-out", type=_positive_int, required=True, help="output dimension d'")
    c.add_argument("--m", type=_positive_int, help="width m (needed for delta)")
    c.add_argument("--L", type=_positive_int, help="depth L")
    c.add_argument("--r", type=_positive_int, help="Hermite index r >= 2 (default: the smallest "
                   "with eta_r != 0)")
    c.add_argument("--json", action="store_true", help="print one JSON object")

    r = sub.add_parser("report", help="bound-vs-measured report (Markdown, JSON, figures)")
    scale = r.add_mutually_exclusive_group()
    scale.add_argument("--quick", action="store_true", help="reduced scale (default)")
    scale.add_argument("--paper", action="store_true", help="the paper's settings (resumable)")
    scale.add_argument("--scale", choices=("tiny", "quick", "paper"),
                       help=argparse.SUPPRESS)  # hidden: "tiny" is the tests' scale
    r.add_argument("--out", default="reports/out", help="output folder (default reports/out)")
    r.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    r.add_argument("--seed", type=_report_seed, default=0, help="base seed of every row "
                   "(default 0)")
    r.add_argument("--only", help="comma-separated statement ids")
    r.add_argument("--data-dir", help="local CIFAR-10 folder (python-pickle format) for Table 1")
    r.add_argument("--force", action="store_true", help="replace a report of another scale, or "
                   "a whole report by an --only subset, in --out")
    where = r.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_positive_int, help="compute the sections on an "
                       "embedded Dask LocalCluster of this many single-threaded workers "
                       "(default: here, one after the other)")
    where.add_argument("--scheduler", metavar="ADDRESS", help="compute the sections on the "
                       "workers of a running Dask scheduler")

    k = sub.add_parser("check", help="run one statement's check for one configuration",
                       epilog=f"statement ids: {_statement_ids()}")
    k.add_argument("id", help="statement id, e.g. prop3.successive (listed below)")
    given = k.add_mutually_exclusive_group()
    given.add_argument("--config", help="a JSON or TOML file of Config fields")
    given.add_argument("--scale", choices=("quick", "paper"), help="the report's configuration "
                       "for ID at that scale (default: quick, sized for interaction)")
    k.add_argument("--json", action="store_true", help="print the result as JSON")
    _add_sweep(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "constants":
            return _constants(args)
        if args.command == "check":
            return _check(args)
        if args.command == "sweep":
            return _sweep(args)
        from reports.build import run_report  # lazy: torch, sections; --version in 1 s

        return run_report(args)
    except ConfigError as exc:
        print(f"resnet-ode: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except DivergenceError as exc:  # a numerical failure of the run, not of the input
        print(f"resnet-ode: {exc}", file=sys.stderr)
        return EXIT_VIOLATION
    except KeyboardInterrupt:
        print("resnet-ode: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `resnet-ode constants ... | head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def _constants(args: argparse.Namespace) -> int:
    values = constants(activation=args.activation, n=args.n, q=args.q, d=args.d,
                       d_out=args.d_out, m=args.m, L=args.L, r=args.r)
    print(json.dumps(values, allow_nan=False) if args.json else format_table(values))
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    from numerics.checks import run_check  # lazy: torch, sections; --version in 1 s

    statement = catalog[args.id]
    if args.config:
        config, source, why_not = load_config(args.config), args.config, None
    else:
        from reports.defaults import default  # lazy: torch, sections; --version in 1 s

        chosen = default(statement.id, args.scale or "quick")
        config, why_not = chosen.row.config, chosen.why_not
        source = f"the report's {chosen.scale} row \"{chosen.row.label}\""
    console = Console(f"check {statement.id}")
    try:
        with listening(console):
            result = run_check(statement.id, config)
    finally:
        console.close()
    if args.json:
        record = {**result.to_dict(), "config_source": source, "why_not_applicable": why_not}
        print(json.dumps(record, default=str))
    else:
        print(format_result(result))
        print(format_config(config, source, statement.id))
        if why_not:
            print(f"  why n/a:  {why_not}")
    return EXIT_VIOLATION if result.verdict == "violated" else EXIT_OK


def _add_sweep(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    s = sub.add_parser("sweep", help="a grid of configurations on Dask: one results file each "
                       "(resumable), a merged table (JSON, CSV) and figures")
    what = s.add_mutually_exclusive_group(required=True)
    what.add_argument("file", nargs="?", help="a TOML or JSON sweep file (task, base, axes)")
    what.add_argument("--preset", help="a named grid: phase-diagram, width-thresholds")
    scale = s.add_mutually_exclusive_group()
    scale.add_argument("--quick", action="store_true", help="the preset's coarse grid (default)")
    scale.add_argument("--full", action="store_true", help="the preset's full grid")
    scale.add_argument("--cluster", action="store_true", help="the preset's cluster grid "
                       "(width-thresholds)")
    s.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a base Config field (repeatable)")
    s.add_argument("--out", help="output folder (default reports/out/sweep-NAME)")
    where = s.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS", help="a running Dask scheduler "
                       "(default: an embedded LocalCluster)")
    where.add_argument("--workers", type=_positive_int, help="workers of the embedded cluster "
                       "(default: one per core)")
    where.add_argument("--in-process", action="store_true", help="run the tasks here, one "
                       "after the other (no Dask)")
    s.add_argument("--no-figures", action="store_true", help="write the table only")


def _sweep(args: argparse.Namespace) -> int:
    from reports.sweep import engine, spec  # lazy: torch, sections; --version in 1 s

    overrides = dict(spec.parse_override(text) for text in args.set)
    if args.preset is not None:
        sweep = spec.preset(args.preset, "cluster" if args.cluster else "full" if args.full
                            else "quick", overrides)
    elif args.quick or args.full or args.cluster:
        raise ConfigError("--quick/--full", args.file, "choose the scale of a --preset only")
    else:
        sweep = spec.load_sweep(args.file, overrides)
    out = Path(args.out or f"reports/out/sweep-{sweep.name}")
    here = args.in_process or not engine.missing(sweep, out)  # bad input fails here, first
    with engine.executor(args.scheduler, args.workers, here) as on:
        outcome = engine.run_sweep(sweep, out, on, figures=not args.no_figures)
    return EXIT_VIOLATION if outcome.failures else EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
