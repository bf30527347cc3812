"""Progress on stderr for ``check`` and ``report``: a listener of :mod:`numerics.progress`.

On a terminal, a tqdm bar per training (steps, rate, time left, updated as it runs), shown only
after a training has run for ``delay`` seconds; elsewhere (``report --paper > log 2>&1``) at
most one plain line per ``every`` seconds, however short the trainings: the current training's
number, label, steps done and an estimate of its time left.
:meth:`Console.line` writes a plain line (a section starting or done) in either mode.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from reports.text import duration


class Console:
    """A :data:`numerics.progress.Listener` writing to ``stream`` (see the module docstring)."""

    def __init__(self, prefix: str, stream: TextIO | None = None, *, delay: float = 2.0,
                 every: float = 30.0, tty: bool | None = None) -> None:
        self.prefix, self.stream = prefix, stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.delay, self.every = delay, every
        self.bar: Any = None
        self.label, self.first, self.last_done, self.started, self.said = "", 0, -1, 0.0, 0.0
        self.trainings = 0

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
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=done - 1, desc=f"{self.prefix} {label}",
                            unit="step", file=self.stream, leave=False, delay=self.delay,
                            mininterval=0.5)
        self.bar.update(done - self.bar.n)

    def line(self, text: str) -> None:
        """One plain line ``resnet-ode: PREFIX: text``."""
        message = f"resnet-ode: {self.prefix}: {text}"
        if self.bar is not None:
            self.bar.write(message, file=self.stream)
        else:
            print(message, file=self.stream, flush=True)

    def _close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def close(self) -> None:
        """Remove the bar of the last training."""
        self._close()
