"""The Figure 1 workload, timed for the baseline and the engine, and its memory and sweep.

Workload (paper Section 5.1, Figure 1): n = 100, d = q = d' = 16, m = 32, GELU, x and y standard
Gaussian, tied initialization, A and B fixed, gradient descent with eta = 0.01 in flow time.

Flop count of one layer-step (one layer, one iteration, one network), matrix products only:
forward u = W h and V sigma(u) (2 n q m each), backward P V and G W (2 n q m each), weight
gradients P^T a and G^T h (2 n q m each): 12 n q m.  Elementwise work and the O(n q d) products of
A and B are not counted.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import NamedTuple

import torch

from benchmarks.baseline import train_baseline
from numerics.data import make_data
from numerics.device import resolve
from numerics.flow import Flow, param_distance, single_thread, train
from numerics.init import init_params
from numerics.model import MLP, Params

N, D, M = 100, 16, 32
ETA = 0.01
FLOPS_PER_LAYER_STEP = 12 * N * D * M


def problem(L: int, b: int = 1, dtype: str = "float32",
            device: str = "cpu") -> tuple[Params, torch.Tensor, torch.Tensor]:
    """The Figure 1 problem: b tied-initialized networks (seeds 0..b-1) and data of seed 0."""
    params = init_params("tied", d=D, d_out=D, q=D, m=M, L=L, seeds=tuple(range(b)), dtype=dtype,
                         device=device)
    X, Y = make_data("gaussian", n=N, d=D, d_out=D, seed=0, dtype=dtype, device=device)
    return params, X, Y


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


class Timing(NamedTuple):
    """A measurement repeated on a shared machine: ``best`` (the least time, the highest rate:
    interference from other processes only adds time) and ``median``."""

    best: float
    median: float


def engine_seconds(L: int, iterations: int, *, b: int = 1, dtype: str = "float32",
                   device: str = "cpu", repeats: int = 3, cuda_graph: bool = True) -> Timing:
    """Steady-state wall seconds per iteration of :func:`numerics.flow.train` (metrics
    included), from runs of N and 2N iterations (N = ``iterations``) so that the set-up of a run
    (buffers, copies, first touches of memory) does not count: best = (least 2N-run time - least
    N-run time) / N, median = the median over ``repeats`` pairs of (2N-run - N-run) / N.
    ``cuda_graph=False``: on CUDA, every step launched eagerly (no captured graph)."""
    params, X, Y = problem(L, b, dtype, device)
    train(params, X, Y, Flow(ETA, ETA, train_outer=False), MLP("gelu"),
          cuda_graph=cuda_graph)  # warm-up

    def seconds(steps: int) -> float:
        _sync(device)
        start = time.perf_counter()
        train(params, X, Y, Flow(ETA, ETA * steps, train_outer=False), MLP("gelu"),
              cuda_graph=cuda_graph)
        _sync(device)
        return time.perf_counter() - start

    pairs = [(seconds(iterations), seconds(2 * iterations)) for _ in range(repeats)]
    best = (min(t2 for _, t2 in pairs) - min(t1 for t1, _ in pairs)) / iterations
    median = statistics.median((t2 - t1) / iterations for t1, t2 in pairs)
    return Timing(max(best, 1e-12), max(median, 1e-12))


def batch_scaling(L: int, batches: Sequence[int], *, work: int = 32768, dtype: str = "float32",
                  device: str = "cpu", matmul: Timing | None = None) -> dict[str, object]:
    """GFLOP/s of b networks of depth L trained at once (:func:`engine_seconds`, about ``work``
    network-layer-steps per timed run) for each b, as ratios to one network (best to best,
    median to median) and, given the same run's ``matmul`` GFLOP/s, as fractions of it."""
    rates = {}
    for b in batches:
        t = engine_seconds(L, max(2, work // (b * L)), b=b, dtype=dtype, device=device)
        flops = FLOPS_PER_LAYER_STEP * L * b
        rates[b] = Timing(flops / t.best / 1e9, flops / t.median / 1e9)
    one = rates.get(1)
    rows: dict[str, dict[str, float]] = {}
    for b, r in rates.items():
        row = {"gflops": r.best, "gflops_median": r.median}
        if one is not None:
            row |= {"ratio_to_one": r.best / one.best, "ratio_to_one_median": r.median / one.median}
        if matmul is not None:
            row |= {"fraction_of_matmul": r.best / matmul.best,
                    "fraction_of_matmul_median": r.median / matmul.median}
        rows[str(b)] = row
    return {"L": L, "work": work, "b": rows}


def baseline_seconds(L: int, iterations: int, *, dtype: str = "float32", device: str = "cpu",
                     threads: int | None = None, repeats: int = 3) -> Timing:
    """Wall seconds per iteration of the naive baseline (``threads``: torch's intra-op threads),
    over ``repeats`` runs."""
    params, X, Y = problem(L, 1, dtype, device)
    before = torch.get_num_threads()
    torch.set_num_threads(threads or before)
    try:
        train_baseline(params, X, Y, eta=ETA, iterations=1)  # warm-up
        runs = []
        for _ in range(repeats):
            _sync(device)
            start = time.perf_counter()
            train_baseline(params, X, Y, eta=ETA, iterations=iterations)
            _sync(device)
            runs.append((time.perf_counter() - start) / iterations)
        return Timing(min(runs), statistics.median(runs))
    finally:
        torch.set_num_threads(before)


def agreement(L: int = 16, iterations: int = 5, dtype: str = "float32",
              device: str = "cpu") -> float:
    """Relative distance of the engine's and the baseline's weights after the same steps."""
    params, X, Y = problem(L, 1, dtype, device)
    engine = train(params, X, Y, Flow(ETA, ETA * iterations, train_outer=False)).params
    base, _ = train_baseline(params, X, Y, eta=ETA, iterations=iterations)
    scale = param_distance(base, Params(0 * base.A, tuple(0 * z for z in base.Z), 0 * base.B))
    return float((param_distance(engine.to("cpu"), base.to("cpu")) / scale).max())


def matmul_gflops(dtype: str = "float32", device: str = "cpu", size: int | None = None,
                  one_thread: bool = False, repeats: int = 5) -> Timing:
    """GFLOP/s of a size^3 matrix product (size 2048 on the CPU, 8192 on CUDA), all threads or
    one, over ``repeats`` products after a warm-up (best: the highest rate)."""
    dev, dt = resolve(device, dtype)
    size = size or (8192 if device == "cuda" else 2048)
    g = torch.Generator().manual_seed(0)
    a, b = (torch.randn(size, size, generator=g, dtype=dt).to(dev) for _ in range(2))
    runs = []
    context = single_thread(dev) if one_thread else _nothing()
    with context:
        a @ b
        for _ in range(repeats):
            _sync(device)
            start = time.perf_counter()
            a @ b
            _sync(device)
            runs.append(2 * size**3 / (time.perf_counter() - start) / 1e9)
    return Timing(max(runs), statistics.median(runs))


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None


def peak_memory_mb(L: int, iterations: int, *, which: str = "engine", dtype: str = "float32",
                   device: str = "cpu") -> float:
    """Peak memory of one training run in a fresh process (:mod:`benchmarks.memory`): RSS
    high-water mark on the CPU (interpreter and torch included), allocated bytes on CUDA."""
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory", "--L", str(L), "--iterations",
         str(iterations), "--which", which, "--dtype", dtype, "--device", device],
        capture_output=True, text=True, check=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    return float(json.loads(out.stdout.strip().splitlines()[-1])["peak_mb"])


def fig1_sweep(depths: Sequence[int] = tuple(2**k for k in range(1, 11)), *,
               iterations: int = 500, dtype: str = "float32", device: str = "cpu",
               limit_L: int | None = None,
               limit_iterations: int | None = None) -> dict[str, object]:
    """The paper-scale Figure 1 sweep, both panels: one network per depth, ``iterations`` steps
    of eta = 0.01, weights recorded at t = 0, 1, ..., T.

    Left panel: max_{k,t} ||Z_{k+1} - Z_k|| per depth.  Right panel: the distance to the limit
    over (t, L), with the limit extrapolated from the three deepest networks (Richardson,
    (v(L) - 6 v(2L) + 8 v(4L)) / 3 at s = j/L, error O(1/L^3);
    :func:`numerics.depth_gaps.richardson`):
    (int_0^1 ||V^L(s) - V(s)||_F^2 ds)^{1/2} + (the same for W) at each recorded time, for the
    depths below the three.  ``limit_L`` additionally times a deep network as the paper did
    (L = 2^14) for ``limit_iterations`` steps, extrapolated to all of them.
    """
    from numerics.depth_gaps import NetworkSnapshots, restrict_layers, richardson

    gaps: dict[str, float] = {}
    T = ETA * iterations
    times = tuple(float(t) for t in range(int(T) + 1)) if T >= 1 else (0.0, T)
    snaps = {}
    start = time.perf_counter()
    for L in depths:
        params, X, Y = problem(L, 1, dtype, device)
        result = train(params, X, Y, Flow(ETA, T, train_outer=False), record_times=times,
                       snapshots=True)
        gaps[str(L)] = float(result.max_gap[0])
        snaps[L] = NetworkSnapshots.from_train(result)
    _sync(device)
    out: dict[str, object] = {"depths": list(depths), "iterations": iterations,
                              "sweep_seconds": time.perf_counter() - start, "max_gap": gaps}
    start = time.perf_counter()
    top = sorted(depths)[-3:]
    if len(top) == 3 and top[1] == 2 * top[0] and top[2] == 4 * top[0]:
        base = top[0]
        limit = [richardson([restrict_layers(getattr(snaps[L], key), base) for L in top])
                 for key in ("V", "W")]
        distance: dict[str, list[float]] = {}
        for L in (L for L in depths if L < base and base % L == 0):
            net = [getattr(snaps[L], key) for key in ("V", "W")]
            at_L = [restrict_layers(z, L) for z in limit]  # the limit at s = k/L
            l2 = sum(torch.linalg.matrix_norm(a - b).pow(2).mean(-1).sqrt()
                     for a, b in zip(net, at_L, strict=True))  # (times, b)
            distance[str(L)] = [float(v) for v in l2[:, 0]]
        out.update({"limit": f"Richardson from L = {top}", "times": list(times),
                    "distance_to_limit": distance,
                    "limit_seconds": time.perf_counter() - start})
    if limit_L is not None:
        steps = iterations if limit_iterations is None else min(limit_iterations, iterations)
        params, X, Y = problem(limit_L, 1, dtype, device)
        start = time.perf_counter()
        result = train(params, X, Y, Flow(ETA, ETA * steps, train_outer=False))
        _sync(device)
        seconds = time.perf_counter() - start
        out.update({"limit_L": limit_L, "limit_iterations": steps,
                    "deep_limit_seconds": seconds,
                    "deep_limit_seconds_for_all_iterations": seconds * (iterations + 1)
                    / (steps + 1)})
    out["total_seconds"] = out["sweep_seconds"] + out.get("limit_seconds", 0.0)  # type: ignore
    return out
