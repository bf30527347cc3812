"""Provenance: package versions, git commit, device, the engine of model (3)'s sweeps
(:func:`numerics.native.engine`), and per-section wall time and peak memory.

Peak memory per section is the resident-set high-water mark (``VmHWM``) of this process, reset at
the start of each section through ``/proc/self/clear_refs`` (Linux); elsewhere it falls back to the
process-wide ``ru_maxrss``.  On CUDA the device's peak allocation is recorded as well.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.metadata
import platform
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from numerics import native

PACKAGES = ("torch", "numpy", "scipy", "sympy", "mpmath", "matplotlib", "scikit-learn")


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def git_commit(root: Path | None = None) -> str:
    """The checkout's commit (with ``+dirty`` when it has local changes), or ``"unknown"``."""
    cwd = root or Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True,
                              text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=cwd, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def device_name(device: str) -> str:
    if device == "cuda":
        import torch

        return torch.cuda.get_device_name(0)
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    import os

    return f"{cpu} ({os.cpu_count()} logical CPUs)"


def environment(device: str, seed: int, dtype: str) -> dict[str, Any]:
    import torch

    return {**versions(), "git_commit": git_commit(), "device": device,
            "device_name": device_name(device), "dtype": dtype, "seed": seed,
            "torch_threads": torch.get_num_threads(), "platform": platform.platform(),
            "argv": sys.argv, "engine": native.engine(device)}


def _reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_rss_mb() -> float:
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


@dataclasses.dataclass
class Usage:
    wall_s: float = 0.0
    peak_rss_mb: float = 0.0
    peak_cuda_mb: float | None = None
    per_section_peak: bool = True


@contextlib.contextmanager
def measure_usage(device: str = "cpu") -> Iterator[Usage]:
    """Measure the wall time and peak memory of the enclosed block."""
    usage = Usage(per_section_peak=_reset_peak_rss())
    if device == "cuda":
        import torch

        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    try:
        yield usage
    finally:
        usage.wall_s = time.perf_counter() - start
        usage.peak_rss_mb = _peak_rss_mb()
        if device == "cuda":
            import torch

            usage.peak_cuda_mb = torch.cuda.max_memory_allocated() / 2**20
