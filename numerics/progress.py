"""Progress: of long trainings, told to whoever listens and saved where a caller asked for
checkpoints (silent and unsaved otherwise), and the one printer that shows it, with the progress
of a run's units of work (a report's sections, a sweep's configurations).

A training announces itself with :func:`task` (a label and its number of steps) and advances it
step by step; :func:`listening` installs a listener ``(label, done, total)`` for the code it
wraps (a context variable: a Dask worker or another thread hears nothing).  Without a listener a
task costs one attribute test per step.  :func:`checkpointing` names a folder for the code it
wraps; :func:`checkpoint` gives a training its file there (None: no checkpoints).

>>> heard = []
>>> with listening(lambda label, done, total: heard.append((label, done, total))):
...     t = task("L=8", 2)
...     t.advance(); t.advance()
>>> heard
[('L=8', 1, 2), ('L=8', 2, 2)]
>>> task("unheard", 1).advance()  # no listener: nothing happens

:class:`Console` prints on stderr: on a terminal, a tqdm bar per training (steps, rate, time left,
updated as it runs), shown only after a training has run for ``delay`` seconds; elsewhere
(``report --paper > log 2>&1``) at most one plain line per ``every`` seconds, however short the
trainings: the current training's number, label, steps done and an estimate of its time left.
:meth:`Console.units` counts a run's units of work (done / failed / remaining and the time left:
a bar on a terminal, else one line per finished unit); :meth:`Console.line` writes a plain line
in either mode.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

from tqdm import tqdm

Listener = Callable[[str, int, int], None]

_listener: contextvars.ContextVar[Listener | None] = contextvars.ContextVar("listener",
                                                                          default=None)
_folder: contextvars.ContextVar[Path | None] = contextvars.ContextVar("checkpoints", default=None)


class Task:
    """``total`` steps of one training, labelled ``label``."""

    def __init__(self, label: str, total: int, done: int = 0) -> None:
        self.label, self.total, self.done = label, total, done
        self.listener = _listener.get()

    def advance(self, steps: int = 1) -> None:
        if self.listener is not None:
            self.done += steps
            self.listener(self.label, self.done, self.total)


def task(label: str, total: int, done: int = 0) -> Task:
    """A training of ``total`` steps (``done`` of them already, e.g. resumed)."""
    return Task(label, total, done)


@contextlib.contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Tell ``listener`` of every task's steps within the block."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)


@contextlib.contextmanager
def checkpointing(folder: Path | None) -> Iterator[None]:
    """Trainings within the block checkpoint under ``folder`` (None: they do not)."""
    token = _folder.set(folder)
    try:
        yield
    finally:
        _folder.reset(token)


def checkpoint(name: str) -> Path | None:
    """The checkpoint file of the training ``name`` (a file name, unique among the block's
    trainings), or None outside :func:`checkpointing`."""
    folder = _folder.get()
    return None if folder is None else folder / f"{name}.pt"


def duration(seconds: float) -> str:
    """A time for humans: ``42s``, ``3m05s``, ``2h07m``; ``unknown`` for an infinite one."""
    if not math.isfinite(seconds):
        return "unknown"
    s = round(seconds)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else \
        f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


class Console:
    """The printer (see the module docstring): a :data:`Listener` of trainings writing to
    ``stream``, its plain lines ``PROGRAM: PREFIX: text`` (``PREFIX: text`` for an empty
    ``program``)."""

    def __init__(self, prefix: str, stream: TextIO | None = None, *, delay: float = 2.0,
                 every: float = 30.0, tty: bool | None = None,
                 program: str = "resnet-ode") -> None:
        self.prefix, self.stream = prefix, stream or sys.stderr
        self.head = f"{program}: {prefix}: " if program else f"{prefix}: "
        self.tty = self.stream.isatty() if tty is None else tty
        self.delay, self.every = delay, every
        self.bar: Any = None
        self.label, self.first, self.last_done, self.started, self.said = "", 0, -1, 0.0, 0.0
        self.trainings = 0
        self.counts: Any = None  # the units' bar (None: none, or not on a terminal)
        self.total, self.done, self.failed, self.start = 0, 0, 0, 0.0

    def __call__(self, label: str, done: int, total: int) -> None:
        now = time.monotonic()
        if label != self.label or done <= self.last_done:  # another training
            self._close()
            self.label, self.started, self.first = label, now, done - 1
            self.trainings += 1
            if self.trainings == 1:
                self.said = now
        self.last_done = done
        if self.tty:
            self._bar(label, done, total)
        elif now - self.said >= self.every:
            self.said = now
            rate = (done - self.first) / max(now - self.started, 1e-9)
            left = (total - done) / rate if rate > 0 else float("inf")
            self.line(f"training {self.trainings} ({label}): {done}/{total} steps, about "
                      f"{duration(left)} left in it")

    def _bar(self, label: str, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = tqdm(total=total, initial=done - 1, desc=f"{self.prefix} {label}",
                            unit="step", file=self.stream, leave=False, delay=self.delay,
                            mininterval=0.5)
        self.bar.update(done - self.bar.n)

    def units(self, total: int, unit: str) -> None:
        """Count ``total`` units of work (``unit``: their name) from now on."""
        self.total, self.done, self.failed = total, 0, 0
        self.start = time.perf_counter()
        if self.tty and total:
            self.counts = tqdm(total=total, desc=self.prefix, unit=unit, file=self.stream,
                               bar_format="{desc} {bar} {n_fmt}/{total_fmt} "
                                          "[{elapsed}<{remaining}]{postfix}")  # ", " postfix

    def finished(self, count: int = 1, failed: bool = False, note: str = "") -> None:
        """``count`` units finished (``failed``: without a result), ``note`` said with them:
        done / failed / remaining and the time left, elapsed / finished x remaining."""
        self.done += 0 if failed else count
        self.failed += count if failed else 0
        finished = self.done + self.failed
        remaining = self.total - finished
        eta = (time.perf_counter() - self.start) / finished * remaining
        status = f"{self.done} done, {self.failed} failed, {remaining} remaining"
        if self.counts is not None:
            if note:
                self.line(note)
            self.counts.set_postfix_str(status, refresh=False)
            self.counts.update(count)
        else:
            self.line(f"{note}; " * bool(note) + f"{status}, ETA {duration(eta)}")

    def line(self, text: str) -> None:
        """One plain line ``PROGRAM: PREFIX: text``."""
        bar = self.bar if self.bar is not None else self.counts
        if bar is not None:
            bar.write(self.head + text, file=self.stream)
        else:
            print(self.head + text, file=self.stream, flush=True)

    def _close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def close(self) -> None:
        """Remove the bar of the last training, close the units' bar."""
        self._close()
        if self.counts is not None:
            self.counts.close()
            self.counts = None
