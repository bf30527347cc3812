"""Safe file output: atomic writes and an exclusive lock on an output folder.

A report is never left half written: every file goes to a temporary sibling first, is flushed and
fsync'ed, then renamed over the target (``os.replace`` is atomic on POSIX).  Two runs into the same
``--out`` cannot interleave: :func:`out_lock` takes an exclusive, non-blocking ``flock`` on
``DIR/.lock`` and refuses clearly when another run holds it.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from theory.errors import ConfigError


@functools.cache
def _umask() -> int:
    """The process's umask (read once by setting it and setting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary sibling, fsync, rename), readable with the
    user's umask (mkstemp creates the file 0600)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | Path, obj: Any) -> None:
    """JSON with no NaN/Infinity (they are not JSON): callers map them to null first."""
    atomic_write_text(path, json.dumps(obj, indent=2, allow_nan=False, sort_keys=False) + "\n")


@contextlib.contextmanager
def out_lock(out: str | Path) -> Iterator[Path]:
    """Hold an exclusive lock on the output folder ``out`` for the duration of a run."""
    folder = Path(out)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError("out", str(folder),
                          f"cannot create the folder ({exc.strerror})") from None
    if not os.access(folder, os.W_OK):
        raise ConfigError("out", str(folder), "the folder is not writable")
    fh = open(folder / ".lock", "a+")  # noqa: SIM115 - held open for the lock's lifetime
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError("out", str(folder), "another resnet-ode run is writing to this "
                              "folder; wait for it or choose another --out") from None
        yield folder
    finally:
        fh.close()
