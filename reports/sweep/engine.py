"""Running a sweep: content keys, one results file per unit, batched tasks, Dask executors.

The unit of results is one configuration and one seed of its ``seeds``.  Its key is the sha256 of
(task, the configuration with ``seeds = (seed,)``, seed, code version, engine), the code version
being that of the sources the task's module runs (:func:`reports.resume.module_version`), the engine
:func:`numerics.native.engine` on the configuration's device (compiled sweeps with compiler, flags
and CPU, or torch); its record is written
atomically to ``DIR/results/<key>.json`` as soon as it arrives, so a killed sweep resumes where it
stopped and a repeated sweep recomputes nothing.  The units still missing are grouped by
configuration (every field but ``seeds``) and each group is one call of the task with all its
seeds, i.e. one batched training (:func:`numerics.flow.train` trains several seeds at once).
The key leaves out the other seeds of the batch: a seed's record must not depend on them
(:func:`numerics.init.init_params` draws network j as ``seeds=(seeds[j],)`` would, and training
treats the networks independently; tests/test_sweep.py checks it bitwise against seeds trained
alone).
A task sees every draw seeded by its configuration, never by the worker, and runs with one
intra-op thread in-process and on workers alike, so the numbers are bitwise the same wherever
it runs.  A task whose function takes ``checkpoint_dir`` gets a folder for its trainings'
checkpoints, ``DIR/.checkpoints/<group>`` (:data:`CHECKPOINT_DIR`; named by the keys of the
group's units, so a rerun of the same units finds it), so that a long task killed midway resumes
inside its units (bitwise: :func:`numerics.flow.train`); the folder is removed once the group's
records are saved.  Only where the workers share this machine's disk (in-process and the embedded
cluster); on a running scheduler's workers a task starts over.

Executors: in-process (sequential), or Dask (:mod:`reports.cluster`, as the report): an embedded
``LocalCluster`` (default, one single-threaded worker per core) or a running scheduler
(``--scheduler ADDRESS``).  A task that
raises, or whose workers keep dying (Dask retries a task whose worker died, up to its
``allowed-failures``), fails its units with the error, one line per configuration (its
traceback in ``DIR/failures/<key>.txt``, named on the line); the rest of the sweep completes.  A
task's precondition (its function's ``requires``) is checked on every
point of the grid before any cluster starts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib
import inspect
import json
import math
import shutil
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from numerics import native
from numerics.device import cpu_threads
from numerics.progress import Console
from reports import cluster
from reports.io import atomic_write_json, atomic_write_text, out_lock
from reports.resume import module_version
from reports.sweep import table
from reports.sweep.spec import Sweep
from theory.config import Config
from theory.errors import ConfigError

Record = dict[str, Any]
CHECKPOINT_DIR = ".checkpoints"
"""``DIR/.checkpoints/<group>/``: the training checkpoints of a task in progress."""
FAILURES = "failures"
"""``DIR/failures/<key>.txt``: the full traceback of a failed configuration (``key``: its first
unit's), named on the failure's one line."""


@dataclasses.dataclass(frozen=True)
class Unit:
    """One configuration (``sweep.points[point]``) and one of its seeds."""

    point: int
    seed: int
    key: str


@dataclasses.dataclass(frozen=True)
class Group:
    """Units of one configuration run by one task call (their seeds batched)."""

    config: Config
    units: tuple[Unit, ...]

    @property
    def key(self) -> str:
        """sha256 (20 hex digits) of its units' keys: its checkpoint folder's name."""
        return hashlib.sha256(" ".join(u.key for u in self.units).encode()).hexdigest()[:20]


@dataclasses.dataclass(frozen=True)
class Failure:
    """Why a unit has no result: the error in one line, the traceback, and the file that holds
    it (relative to the sweep's folder; "" when there is no traceback)."""

    error: str
    traceback: str = ""
    file: str = ""


@dataclasses.dataclass(frozen=True)
class Outcome:
    """A finished sweep: every unit, its record or failure, and what this run computed."""

    sweep: Sweep
    version: str
    units: tuple[Unit, ...]
    records: dict[str, Record]
    failures: dict[str, Failure]
    computed: int


# --------------------------------------------------------------------------- task and keys


def task_function(task: str) -> Callable[[Config], list[Record]]:
    """The function named ``"module:function"`` (ConfigError when it cannot be imported)."""
    module_name, _, name = task.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError("task", task, f"cannot import {module_name} ({exc})") from None
    function = getattr(module, name, None)
    if not callable(function):
        raise ConfigError("task", task, f"{module_name} has no function {name!r}")
    return function  # type: ignore[no-any-return]


def task_version(task: str) -> str:
    """The code version of ``task``: :func:`reports.resume.module_version` of its module (the
    sources it runs), so that an edit elsewhere (a report's text, a README renderer) keeps a
    long sweep's results and checkpoints."""
    name = task.partition(":")[0]
    importlib.import_module(name)
    return module_version(name)


def unit_key(task: str, config: Config, seed: int, version: str) -> str:
    """sha256 (20 hex digits) of the task, the configuration with seeds = (seed,), the code and
    the engine of model (3)'s sweeps on the configuration's device."""
    single = dataclasses.replace(config, seeds=(seed,)).to_dict()
    text = json.dumps({"task": task, "config": single, "seed": seed, "code": version,
                       "engine": native.engine(config.device)}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def units_of(sweep: Sweep, version: str) -> tuple[Unit, ...]:
    """Every (point, seed) of ``sweep`` in grid order (two points of one configuration, e.g.
    m = max(1, round(r n)) equal for two ratios r, share their units' keys: computed once)."""
    return tuple(Unit(i, seed, unit_key(sweep.task, point.config, seed, version))
                 for i, point in enumerate(sweep.points) for seed in point.config.seeds)


def task_requirements(task: str) -> Callable[[Config], Any] | None:
    """The precondition a task declares as an attribute ``requires`` of its function: a callable
    taking the :class:`Config` that raises ConfigError (one line: the field and what the task
    needs) or returns the requirements it does not meet (an empty list: it can run); None when
    the task declares none."""
    return getattr(task_function(task), "requires", None)


def check_points(sweep: Sweep) -> None:
    """ConfigError (one line: the first point that fails, its requirement, how many fail) unless
    ``sweep``'s task can run on every point of its grid."""
    requires = task_requirements(sweep.task)
    if requires is None:
        return
    failing: list[tuple[dict[str, Any], ConfigError]] = []
    for point in sweep.points:
        try:
            unmet = requires(point.config)
            if unmet:
                raise ConfigError("task", sweep.task, f"needs {'; '.join(map(str, unmet))}")
        except ConfigError as exc:
            failing.append((dict(point.labels), exc))
    if failing:
        labels, exc = failing[0]
        more = f", and {len(failing) - 1} more of the {len(sweep.points)} points" \
            if len(failing) > 1 else ""
        raise ConfigError(exc.field, exc.value, f"{exc.rule} (task {sweep.task} at the point "
                          f"{labels}{more}; nothing was run)")


def prepare(sweep: Sweep) -> tuple[str, tuple[Unit, ...]]:
    """The code version and the units of ``sweep``; ConfigError for a task that cannot be
    imported or cannot run on a point of the grid (:func:`check_points`; run it before starting
    a cluster)."""
    task_function(sweep.task)
    check_points(sweep)
    version = task_version(sweep.task)
    return version, units_of(sweep, version)


def missing(sweep: Sweep, out: str | Path) -> int:
    """How many units of ``sweep`` have no saved result in ``out`` (0: nothing to run, no
    cluster to start)."""
    store = Store(Path(out))
    return sum(store.load(unit.key) is None for unit in prepare(sweep)[1])


def groups_of(sweep: Sweep, units: Sequence[Unit]) -> list[Group]:
    """``units`` grouped by configuration (every field but seeds), in grid order."""
    groups: dict[str, list[Unit]] = {}
    configs: dict[str, Config] = {}
    for unit in units:
        config = sweep.points[unit.point].config
        shape = json.dumps(dataclasses.replace(config, seeds=(0,)).to_dict(), sort_keys=True)
        groups.setdefault(shape, []).append(unit)
        configs.setdefault(shape, config)
    return [Group(dataclasses.replace(configs[s], seeds=tuple(u.seed for u in us)), tuple(us))
            for s, us in groups.items()]


def run_group(task: str, config: dict[str, Any], checkpoint_dir: str | None = None
              ) -> dict[str, Any]:
    """Run ``task`` on ``config`` (where the executor puts it): its code version, the engine it
    ran on and one JSON-ready record per seed, computed with :data:`numerics.device.THREADS`
    intra-op threads; ``checkpoint_dir`` is passed on to a task that takes it;
    where the task raises, its error in one line (``error``) and its traceback instead of the
    records (so that a worker logs nothing: the sweep reports it, one line per configuration)."""
    version = task_version(task)
    ran = {"version": version, "engine": native.engine(config.get("device", "cpu"))}
    try:
        with cpu_threads():
            parsed = Config.from_mapping(config)
            function = task_function(task)
            takes = "checkpoint_dir" in inspect.signature(function).parameters
            records = (function(parsed, checkpoint_dir=Path(checkpoint_dir))
                       if takes and checkpoint_dir is not None else function(parsed))
        if not isinstance(records, list) or len(records) != len(parsed.seeds) \
                or not all(isinstance(r, dict) for r in records):
            raise TypeError(f"{task} must return one dict per seed of config.seeds "
                            f"({len(parsed.seeds)}), got {type(records).__name__}")
        return {**ran, "records": [_json_ready(r) for r in records]}
    except Exception as exc:  # a failing configuration, reported; the sweep goes on
        return {**ran, "error": _one_line(exc), "traceback": traceback.format_exc()}


def _json_ready(record: dict[Any, Any]) -> Record:
    """Keys as strings, numbers as numbers (NaN and infinities as null: they are not JSON)."""
    out: Record = {}
    for key, value in record.items():
        if hasattr(value, "item"):  # numpy and torch scalars
            value = value.item()
        if isinstance(value, float) and not math.isfinite(value):
            value = None
        if not isinstance(value, bool | int | float | str | type(None)):
            raise TypeError(f"record key {key!r}: {type(value).__name__} is not a JSON scalar")
        out[str(key)] = value
    return out


# --------------------------------------------------------------------------- executors

Call = tuple[str, dict[str, Any], str | None]
Execute = Callable[[Sequence[Call]], Iterator[tuple[int, dict[str, Any] | None, Failure | None]]]


def here(calls: Sequence[Call]) -> Iterator[tuple[int, dict[str, Any] | None, Failure | None]]:
    """Run the calls one after the other in this process."""
    for i, call in enumerate(calls):
        try:
            result = run_group(*call)
        except Exception as exc:  # a failing configuration, reported; the sweep goes on
            yield i, None, Failure(_one_line(exc), traceback.format_exc())
        else:
            yield i, result, None


def on_dask(client: Any) -> Execute:
    """Run the calls on a ``distributed.Client``'s workers (:func:`reports.cluster.completed`),
    yielding them as they complete."""

    def execute(calls: Sequence[Call]) -> Iterator[tuple[int, dict[str, Any] | None,
                                                         Failure | None]]:
        for i, future in cluster.completed(client, run_group, calls, "sweep"):
            if future.status == "finished":
                yield i, future.result(), None
            else:
                exc = future.exception()
                tb = "".join(traceback.format_tb(future.traceback())) if exc else ""
                yield i, None, Failure(_one_line(exc) if exc else future.status, tb)
    return execute


@dataclasses.dataclass(frozen=True)
class Executor:
    """Where the tasks run: ``execute`` the calls, ``where`` in words, the Dask ``client``
    (None in-process), whether its tasks see this machine's disk (``local``: they checkpoint
    under the sweep's folder)."""

    execute: Execute
    where: str
    client: Any = None
    local: bool = True


@contextlib.contextmanager
def executor(scheduler: str | None = None, workers: int | None = None,
             in_process: bool = False) -> Iterator[Executor]:
    """In-process, or on Dask (:func:`reports.cluster.connect`): a running scheduler, or an
    embedded LocalCluster of ``workers`` single-threaded worker processes (default: one per
    core)."""
    if in_process:
        yield Executor(here, "in-process")
        return
    with cluster.connect(scheduler, workers) as (client, where):
        yield Executor(on_dask(client), where, client, local=scheduler is None)


# --------------------------------------------------------------------------- the sweep


class Store:
    """``DIR/results``: one JSON file per unit, named by its key."""

    def __init__(self, out: Path) -> None:
        self.folder = out / "results"

    def load(self, key: str) -> Record | None:
        try:
            saved = json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return None
        ok = isinstance(saved, dict) and saved.get("key") == key
        return saved["record"] if ok and isinstance(saved.get("record"), dict) else None

    def save(self, key: str, task: str, version: str, config: Config, seed: int,
             record: Record) -> None:
        single = dataclasses.replace(config, seeds=(seed,)).to_dict()
        atomic_write_json(self.folder / f"{key}.json", {
            "key": key, "task": task, "code_version": version,
            "engine": native.engine(config.device), "seed": seed, "config": single,
            "record": record})


def run_sweep(sweep: Sweep, out: str | Path, on: Executor | None = None, figures: bool = True,
              stream: TextIO | None = None) -> Outcome:
    """Run every unit of ``sweep`` that ``DIR/results`` lacks ``on`` an executor (default
    in-process), saving each record as it arrives; once all have run, write the merged table
    (and its figures)."""
    stream = sys.stderr if stream is None else stream
    on = Executor(here, "in-process") if on is None else on
    version, units = prepare(sweep)
    with out_lock(out) as folder:
        store = Store(folder)
        records = {u.key: r for u in units if (r := store.load(u.key)) is not None}
        missing: dict[str, Unit] = {}
        for unit in units:  # each key once: a configuration shared by two points runs once
            if unit.key not in records:
                missing.setdefault(unit.key, unit)
        todo = list(missing.values())
        groups = groups_of(sweep, todo)
        print(f"sweep {sweep.name}: {size(sweep)}, {len(records)} saved, {len(todo)} to run "
              f"in {len(groups)} tasks on {on.where}", file=stream)
        failures: dict[str, Failure] = {}
        bar = Console("sweep", stream, program="")
        bar.units(len(todo), "config")
        checkpoints = [folder / CHECKPOINT_DIR / g.key for g in groups]
        calls = [(sweep.task, g.config.to_dict(), str(c) if on.local else None)
                 for g, c in zip(groups, checkpoints, strict=True)]
        try:
            for i, result, failure in on.execute(calls):
                group = groups[i]
                if result is not None and result["version"] != version:
                    failure = Failure(f"the worker runs code version {result['version']}, this "
                                      f"checkout {version}: install the same code on the workers")
                elif result is not None and \
                        result["engine"] != (mine := native.engine(group.config.device)):
                    differ = sorted(k for k in {*mine, *result["engine"]}
                                    if mine.get(k) != result["engine"].get(k))
                    failure = Failure(f"the worker's engine differs from this process's in "
                                      f"{', '.join(differ)} (numerics.native.engine): the units' "
                                      f"keys name this process's engine")
                elif result is not None and "error" in result:
                    failure = Failure(result["error"], result["traceback"])
                file = folder / FAILURES / f"{group.units[0].key}.txt"
                if failure is not None:
                    where = ""
                    if failure.traceback:
                        atomic_write_text(file, failure.traceback)
                        failure = dataclasses.replace(failure, file=f"{FAILURES}/{file.name}")
                        where = f" (traceback: {file})"
                    failures.update({u.key: failure for u in group.units})
                    labels = dict(sweep.points[group.units[0].point].labels)
                    bar.line(f"failed {labels} seeds {list(group.config.seeds)}: "
                             f"{failure.error}{where}")
                else:
                    assert result is not None
                    file.unlink(missing_ok=True)  # an earlier run's failure, now computed
                    for unit, record in zip(group.units, result["records"], strict=True):
                        store.save(unit.key, sweep.task, version, group.config, unit.seed,
                                   record)
                        records[unit.key] = record
                    shutil.rmtree(checkpoints[i], ignore_errors=True)
                bar.finished(len(group.units), failed=failure is not None)
        finally:
            bar.close()
        outcome = Outcome(sweep, version, units, records, failures, len(todo) - len(failures))
        table.write(table.merge(outcome), folder, figures)
    print(f"sweep {sweep.name}: {len(records)} of {len(units)} done ({outcome.computed} computed "
          f"now), {len(failures)} failed; table {folder / 'table.json'}", file=stream)
    return outcome


def size(sweep: Sweep) -> str:
    """"4 configurations x 2 seeds = 8 runs" (the seeds per configuration where they vary)."""
    configs, runs = len(sweep.points), sum(len(p.config.seeds) for p in sweep.points)
    counts = sorted({len(p.config.seeds) for p in sweep.points})
    seeds = f"{counts[0]} seed{'s' * (counts[0] != 1)}" if len(counts) == 1 else \
        f"{counts[0]} to {counts[-1]} seeds"
    return f"{configs} configuration{'s' * (configs != 1)} x {seeds} = {runs} runs"


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]
