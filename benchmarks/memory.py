"""One training run in this process, then its peak memory as one JSON line (run as a subprocess).

``python -m benchmarks.memory --L 1024 --iterations 8 [--which engine|baseline|idle]
[--dtype ...] [--device cpu|cuda]`` prints ``{"peak_mb": ...}``: on the CPU the resident-set
high-water mark of this process image (``VmHWM`` of /proc/self/status, which counts torch's own
allocations and includes the interpreter and torch's libraries; ``getrusage``'s ru_maxrss would
also carry the RSS of the parent that forked it), on CUDA ``torch.cuda.max_memory_allocated``.
"""

from __future__ import annotations

import argparse
import json
import resource

import torch

from benchmarks.baseline import train_baseline
from benchmarks.workload import ETA, problem
from numerics.flow import Flow, train


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory")
    parser.add_argument("--L", type=int, required=True)
    parser.add_argument("--iterations", type=int, required=True)
    parser.add_argument("--which", choices=("engine", "baseline", "idle"), default="engine")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    if args.which != "idle":
        params, X, Y = problem(args.L, 1, args.dtype, args.device)
        if args.which == "engine":
            train(params, X, Y, Flow(ETA, ETA * args.iterations, train_outer=False))
        else:
            train_baseline(params, X, Y, eta=ETA, iterations=args.iterations)
    if args.device == "cuda":
        peak = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak = _high_water_mark_mb()
    print(json.dumps({"peak_mb": peak}))


def _high_water_mark_mb() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


if __name__ == "__main__":
    main()
