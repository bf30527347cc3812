"""Progress of long trainings: told to whoever listens (the command line's bar), and saved where a
caller asked for checkpoints; silent and unsaved otherwise.

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
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from pathlib import Path

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
