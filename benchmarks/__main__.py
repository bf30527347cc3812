"""``python -m benchmarks``: the training engine against the naive baseline, in one process.

::

    python -m benchmarks engines [--json] [--repeats R] [--steps K] [--figure1-metrics]
    python -m benchmarks [--json] [--device cpu|cuda] [--dtype float32|float64]
                         [--depths 64,256,1024,4096] [--batches 1,4,16,64] [--batch-L 1024]
                         [--fig1-sweep] [--deep-limit] [--limit-iterations K]

For each depth L: time per layer-step of the baseline (:mod:`benchmarks.baseline`, the
released scripts' way: per-layer autograd, SGD, every iterate stored; timed with one intra-op
thread, its fastest setting: with torch's default two threads on a shared 2-core machine every
tiny product pays an OpenMP fork-join, measured 100x slower) and of the engine
(:func:`numerics.flow.train` with its streamed metrics), their ratio, the engine's GFLOP/s
(12 n q m flops per layer-step) for one network and for 16 batched networks, and the peak memory
of one engine run for two horizons T (a fresh process each); on CUDA also the engine launched
eagerly, without its captured CUDA graph.  The b-scaling curve: the GFLOP/s of b = 1, 4, 16, 64
networks of depth ``--batch-L`` trained at once, as ratios to one network and fractions of the
matmul (targets, issue 15: b = 16 at L = 1024 >= 4x one network and >= 50% of the matmul).
The same-run GFLOP/s of a 2048^3
product (8192^3 on CUDA) in the same dtype is the reference.  Every timing is repeated (5
products, 3 baseline runs, 3 pairs of engine runs) and reported as its best, the figure a
shared machine's interference cannot improve, with the medians of the same runs alongside.
``--fig1-sweep`` adds the paper-scale Figure 1 sweep, both panels (L = 2..1024, 500 iterations,
the limit extrapolated from the three deepest networks); ``--deep-limit`` also times the paper's
limit network L = 2^14 (``--limit-iterations`` steps, extrapolated to 500).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from collections.abc import Sequence

import torch

from benchmarks import engines, workload
from numerics import native
from numerics.device import resolve
from theory.errors import ConfigError


def run(depths: Sequence[int], *, dtype: str = "float32", device: str = "cpu",
        baseline_work: int = 2048, engine_work: int = 16384, batched_work: int = 4096,
        memory_iterations: tuple[int, int] = (4, 16), fig1: bool = False,
        limit_iterations: int | None = 3, fig1_depths: Sequence[int] | None = None,
        fig1_iterations: int = 500, limit_L: int | None = None,
        matmul_size: int | None = None, batches: Sequence[int] = (1, 4, 16, 64),
        batch_L: int | None = 1024, batch_scaling_work: int = 32768) -> dict[str, object]:
    """Every measurement as one JSON-ready dict (``*_work``: layer-steps per timed run)."""
    resolve(device, dtype)
    out: dict[str, object] = {
        "workload": {"n": workload.N, "d": workload.D, "q": workload.D, "d_out": workload.D,
                     "m": workload.M, "activation": "gelu", "eta": workload.ETA,
                     "init": "tied", "train_outer": False},
        "device": device, "dtype": dtype, "torch": torch.__version__,
        "machine": platform.processor() or platform.machine(),
        "threads": torch.get_num_threads(),
        "engine": native.status("gelu", workload.D, workload.M, resolve(device, dtype)[1],
                                resolve(device, dtype)[0]),
        "flops_per_layer_step": workload.FLOPS_PER_LAYER_STEP,
        "flop_count": "12 n q m: forward W h and V a, backward P V and G W, weight gradients "
                      "P^T a and G^T h (2 n q m each)",
        "statistic": "best of repeated runs (least time, highest rate: interference from other "
                     "processes only adds time) for the matmul, the baseline and the engine "
                     "alike; the *_median entries are the medians of the same runs",
        "baseline_agreement": workload.agreement(dtype=dtype, device=device),
        "depths": {},
    }
    matmul = workload.matmul_gflops(dtype, device, matmul_size)
    out["matmul_gflops"], out["matmul_gflops_median"] = matmul
    out["matmul_gflops_one_thread"] = workload.matmul_gflops(dtype, device, matmul_size,
                                                             one_thread=True).best
    T = [k * workload.ETA for k in memory_iterations]
    least = 2 if device == "cpu" else 8  # on CUDA, steps 3.. replay the captured graph
    for L in depths:
        base = workload.baseline_seconds(L, max(1, baseline_work // L), dtype=dtype,
                                         device=device, threads=1)
        engine = workload.engine_seconds(L, max(least, engine_work // L), dtype=dtype,
                                         device=device)
        with engines.native_sweeps(False):  # the torch sweeps instead of the compiled ones
            engine_torch = workload.engine_seconds(L, max(least, engine_work // L), dtype=dtype,
                                                   device=device)
        eager = None if device != "cuda" else workload.engine_seconds(
            L, max(least, engine_work // L), dtype=dtype, device=device, cuda_graph=False)
        batched = workload.engine_seconds(L, max(least, batched_work // L), b=16, dtype=dtype,
                                          device=device)
        flops = workload.FLOPS_PER_LAYER_STEP * L
        row = {
            "baseline_us_per_layer_step": base.best / L * 1e6,
            "engine_us_per_layer_step": engine.best / L * 1e6,
            "engine_torch_sweeps_us_per_layer_step": engine_torch.best / L * 1e6,
            "ratio": base.best / engine.best,
            "ratio_median": base.median / engine.median,
            "engine_gflops": flops / engine.best / 1e9,
            "batched16_gflops": flops * 16 / batched.best / 1e9,
            "batched16_gflops_median": flops * 16 / batched.median / 1e9,
            "peak_mb": {f"{t:g}": workload.peak_memory_mb(L, k, dtype=dtype, device=device)
                        for t, k in zip(T, memory_iterations, strict=True)},
        }
        if eager is not None:
            row["engine_eager_us_per_layer_step"] = eager.best / L * 1e6
        row["batched16_fraction_of_matmul"] = row["batched16_gflops"] / matmul.best
        row["batched16_fraction_of_matmul_median"] = (row["batched16_gflops_median"]
                                                      / matmul.median)
        out["depths"][str(L)] = row  # type: ignore[index]
    if batch_L is not None and batches:
        out["batch_scaling"] = workload.batch_scaling(batch_L, batches, work=batch_scaling_work,
                                                      dtype=dtype, device=device, matmul=matmul)
    out["peak_mb_idle_process"] = workload.peak_memory_mb(1, 1, which="idle", dtype=dtype,
                                                          device=device)
    if fig1:
        depths_fig1 = tuple(fig1_depths or (2**k for k in range(1, 11)))
        out["fig1_sweep"] = workload.fig1_sweep(depths_fig1, iterations=fig1_iterations,
                                                dtype=dtype, device=device, limit_L=limit_L,
                                                limit_iterations=limit_iterations)
    return out


def format_table(result: dict[str, object]) -> str:
    """The human-readable report of :func:`run`."""
    w = result["workload"]
    lines = [
        f"Figure 1 workload: n={w['n']} d=q=d'={w['d']} m={w['m']} GELU, A and B fixed, "  # type: ignore[index]
        f"tied init; {result['dtype']} on {result['device']} (torch {result['torch']}, "
        f"{result['threads']} threads); sweeps: {result['engine']}",
        f"flops per layer-step: {result['flops_per_layer_step']} = {result['flop_count']}",
        f"large matmul ({result['dtype']}): {result['matmul_gflops']:.1f} GFLOP/s (median "
        f"{result['matmul_gflops_median']:.1f}), {result['matmul_gflops_one_thread']:.1f} on one "
        f"thread",
        f"timings: {result['statistic']}",
        f"engine vs baseline weights after 5 steps (L=16): relative difference "
        f"{result['baseline_agreement']:.1e}",
        "",
    ]
    T = list(next(iter(result["depths"].values()))["peak_mb"]) if result["depths"] else []  # type: ignore[attr-defined]
    header = (f"{'L':>6} {'baseline us':>12} {'engine us':>10} {'(torch sweeps)':>14} "
              f"{'speedup':>8} {'GFLOP/s':>8} "
              f"{'batched16':>10} {'% matmul':>9} {'(median)':>9} "
              + " ".join(f"{'MB T=' + t:>11}" for t in T))
    lines += [header, "-" * len(header)]
    for L, row in result["depths"].items():  # type: ignore[attr-defined]
        lines.append(
            f"{L:>6} {row['baseline_us_per_layer_step']:>12.1f} "
            f"{row['engine_us_per_layer_step']:>10.1f} "
            f"{row['engine_torch_sweeps_us_per_layer_step']:>14.1f} {row['ratio']:>8.1f} "
            f"{row['engine_gflops']:>8.2f} {row['batched16_gflops']:>10.2f} "
            f"{100 * row['batched16_fraction_of_matmul']:>8.1f}% "
            f"{100 * row['batched16_fraction_of_matmul_median']:>8.1f}% "
            + " ".join(f"{row['peak_mb'][t]:>11.0f}" for t in T))
    lines.append(f"(us = microseconds per layer-step; baseline on one thread, its fastest "
                 f"setting; peak MB: process RSS high-water mark, an idle process with torch "
                 f"loaded: {result['peak_mb_idle_process']:.0f} MB)")
    eager = {L: row["engine_eager_us_per_layer_step"] for L, row in result["depths"].items()  # type: ignore[attr-defined]
             if "engine_eager_us_per_layer_step" in row}
    if eager:
        lines.append("engine without its CUDA graph (eager), us per layer-step: " + ", ".join(
            f"L={L}: {us:.1f}" for L, us in eager.items()))
    scaling = result.get("batch_scaling")
    if isinstance(scaling, dict):
        lines += ["", f"b networks at once, L = {scaling['L']}: GFLOP/s, x one network, % of "
                      f"the matmul (best | median)"]
        for b, row in scaling["b"].items():
            lines.append(
                f"  b={b:>3} {row['gflops']:>8.2f} | {row['gflops_median']:>8.2f} GFLOP/s  "
                f"{row.get('ratio_to_one', float('nan')):>5.2f}x | "
                f"{row.get('ratio_to_one_median', float('nan')):>5.2f}x  "
                f"{100 * row['fraction_of_matmul']:>5.1f}% | "
                f"{100 * row['fraction_of_matmul_median']:>5.1f}%")
    sweep = result.get("fig1_sweep")
    if isinstance(sweep, dict):
        lines += ["", f"Figure 1 sweep, L = {sweep['depths'][0]}..{sweep['depths'][-1]}, "
                      f"{sweep['iterations']} iterations: {sweep['sweep_seconds']:.1f} s wall; "
                      f"the limit ({sweep.get('limit', 'none')}): "
                      f"{sweep.get('limit_seconds', 0.0):.1f} s; both panels "
                      f"{sweep['total_seconds']:.1f} s"]
        if "limit_L" in sweep:
            lines.append(
                f"deep network L = {sweep['limit_L']} (the paper's limit): "
                f"{sweep['deep_limit_seconds']:.1f} s for {sweep['limit_iterations']} "
                f"iterations, {sweep['deep_limit_seconds_for_all_iterations']:.0f} s for all "
                f"{sweep['iterations']}"
                + (" (extrapolated)" if sweep['limit_iterations'] < sweep['iterations'] else ""))
        gaps = sweep["max_gap"]
        lines.append("max_{k,t} ||Z_{k+1} - Z_k||: " + ", ".join(
            f"L={L}: {g:.3g}" for L, g in gaps.items()))
        for L, dist in sweep.get("distance_to_limit", {}).items():
            lines.append(f"distance to the limit, L={L}, t = {sweep['times'][0]:g}.."
                         f"{sweep['times'][-1]:g}: " + ", ".join(f"{v:.3g}" for v in dist))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["engines"]:
        return engines_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split(
        "\n")[0], epilog="python -m benchmarks engines --help: the engine comparison "
        "(benchmarks.engines)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    parser.add_argument("--depths", default="64,256,1024,4096")
    parser.add_argument("--batches", default="1,4,16,64",
                        help="network counts b of the b-scaling curve (empty: none)")
    parser.add_argument("--batch-L", type=int, default=1024,
                        help="depth of the b-scaling curve")
    parser.add_argument("--fig1-sweep", action="store_true")
    parser.add_argument("--deep-limit", action="store_true",
                        help="also time the paper's L = 2^14 limit network")
    parser.add_argument("--limit-iterations", type=int, default=None,
                        help="steps of the L = 2^14 network (default: all 500)")
    args = parser.parse_args(argv)
    try:
        depths = [int(x) for x in args.depths.split(",") if x]
        if not depths or min(depths) < 1:
            raise ValueError
    except ValueError:
        parser.error(f"--depths {args.depths!r}: must be positive integers separated by commas")
    try:
        batches = [int(x) for x in args.batches.split(",") if x]
        if min(batches, default=1) < 1 or args.batch_L < 1:
            raise ValueError
    except ValueError:
        parser.error(f"--batches {args.batches!r} and --batch-L {args.batch_L}: must be positive "
                     f"integers (separated by commas)")
    try:
        result = run(depths, dtype=args.dtype, device=args.device, fig1=args.fig1_sweep,
                     limit_iterations=args.limit_iterations,
                     limit_L=2**14 if args.deep_limit else None, batches=batches,
                     batch_L=args.batch_L)
    except ConfigError as exc:
        parser.exit(2, f"python -m benchmarks: {exc}\n")
    print(json.dumps(result, indent=1) if args.json else format_table(result))
    return 0


def engines_main(argv: Sequence[str]) -> int:
    """``python -m benchmarks engines``: :mod:`benchmarks.engines`, one run, ratios."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks engines",
                                     description=engines.__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--repeats", type=int, default=7, help="interleaved repeats per engine")
    parser.add_argument("--steps", type=int, default=5, help="training steps per repeat")
    parser.add_argument("--figure1-metrics", action="store_true",
                        help="also time the streamed metrics by torch against those of the "
                             "compiled sweep on the Figure 1 workload")
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.steps < 1:
        parser.error("--repeats and --steps must be positive")
    result = engines.run(repeats=args.repeats, steps=args.steps)
    if args.figure1_metrics:
        result["figure1_metrics"] = engines.metrics_cost()
    print(json.dumps(result, indent=1) if args.json else engines.format_table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
