r"""``python -m benchmarks engines``: which engine should take model (3)'s training step (issue 27).

One training step is gradient descent on flow (4) (Section 3, p4) for b independent networks:
the loss l = (1/n) sum_i ||B h_L(x_i) - y_i||^2, its gradients (13)-(16), and

    A <- A - eta dl/dA,   Z_k <- Z_k - eta L dl/dZ_k,   B <- B - eta dl/dB.

Engines (each from the same parameters and data; float64, tanh):

- ``native``: :class:`numerics.gradients.Workspace` on the compiled sweeps (:mod:`numerics.native`,
  the default where a C compiler works);
- ``torch_sweeps``: the same Workspace on its torch sweeps (``RESNET_ODE_NATIVE=0``);
- ``eager``: plain torch eager, autograd through :func:`numerics.model.loss` (the reference);
- ``compile``: autograd through the layer step h + f(h, Z_k)/L compiled by ``torch.compile``
  (inductor; its error is recorded where it fails);
- ``vmap``: ``torch.func.vmap`` over the networks of ``torch.func.grad`` of one network's
  :func:`numerics.model.loss`;
- ``numba``: the recurrences (13)-(16) in numpy compiled by numba (:mod:`benchmarks.numba_step`;
  numba is optional: where it is missing the reason is recorded).  A candidate engine, so it is
  written there, not called from numerics; every engine's loss after training is compared with
  ``eager``'s (``loss_rel_diff_to_eager``).

Where a training step of :func:`numerics.flow.train` streams its metrics, the compiled sweep also
evaluates the per-layer norms (``native.LayerStats``) and takes the step on Z while each layer
is in cache; ``run(metrics=True)`` times that (``train_c_metrics``) against the same sweeps with
the metrics computed by torch (:class:`numerics.metrics.Monitor` without the sweep's layer norms)
and the step taken by torch (``train_torch_metrics``); :func:`metrics_cost` does the same on the
Figure 1 workload (``--figure1-metrics``).

Timing: the repeats of all engines of one shape are interleaved (round r runs every engine once),
so that the load of a shared machine falls on all of them alike; each repeat times ``steps``
steps, after three warm-up steps.  The statistic reported is the ratio of each engine's time to
the fastest engine's, of the best (least) times and of the medians, from this one run.  The
decision rule of issue 27: keep the simplest engine whose time is within 1.25x of the fastest.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch

from numerics.data import make_data
from numerics.flow import _stored_for, single_thread  # as numerics.optimizers does
from numerics.gradients import Workspace, loss_and_grads_autograd
from numerics.init import init_params
from numerics.metrics import Monitor
from numerics.model import MLP, Params
from numerics.model import loss as model_loss

Tensor = torch.Tensor
ENGINES = ("native", "torch_sweeps", "eager", "compile", "vmap", "numba")
# simplest first: the decision keeps the first engine within RULE of the fastest
SIMPLICITY = ("eager", "vmap", "compile", "torch_sweeps", "numba", "native")
RULE = 1.25
ACTIVATION = "tanh"
ETA = 0.01
# (n, d, m, L): the quick report's range (n = 8..50, d = q = d' = 4..16, m = 1..64, L = 16..64)
SHAPES = ((8, 4, 8, 16), (20, 8, 1, 32), (20, 8, 32, 32), (50, 16, 64, 64))
BATCHES = (1, 8)

Step = Callable[[], None]


def problem(n: int, d: int, m: int, L: int, b: int) -> tuple[Params, Tensor, Tensor]:
    """b networks (seeds 0..b-1, smooth init) and one data sample (seed 0), q = d = d'."""
    params = init_params("smooth", d=d, d_out=d, q=d, m=m, L=L, seeds=tuple(range(b)),
                         dtype="float64")
    X, Y = make_data("gaussian", n=n, d=d, d_out=d, seed=0, dtype="float64")
    return params, X, Y


@contextlib.contextmanager
def native_sweeps(enabled: bool) -> Iterator[None]:
    """RESNET_ODE_NATIVE set to "1"/"0" for the block (the Workspace reads it when built)."""
    before = os.environ.get("RESNET_ODE_NATIVE")
    os.environ["RESNET_ODE_NATIVE"] = "1" if enabled else "0"
    try:
        yield
    finally:
        if before is None:
            del os.environ["RESNET_ODE_NATIVE"]
        else:
            os.environ["RESNET_ODE_NATIVE"] = before


def _descend(p: Params, gA: Tensor, gZ: Sequence[Tensor] | None, gB: Tensor) -> None:
    """The explicit Euler step of flow (4) with step ETA, in place (on A and B only where
    ``gZ`` is None: the step on Z was taken within the sweep)."""
    with torch.no_grad():
        p.A.sub_(gA, alpha=ETA)
        for z, g in zip(p.Z, gZ or (), strict=gZ is not None):
            z.sub_(g, alpha=ETA * p.L)
        p.B.sub_(gB, alpha=ETA)


def _workspace_step(p: Params, X: Tensor, Y: Tensor, native: bool) -> Step:
    with native_sweeps(native):
        ws = Workspace(p, X, Y, MLP(ACTIVATION))
    if (ws.native is not None) != native:
        raise RuntimeError(f"the compiled sweeps are {ws.engine!r}")

    def step() -> None:
        _, g = ws.compute()
        _descend(p, g.A, g.Z, g.B)
    return step


def _eager_step(p: Params, X: Tensor, Y: Tensor) -> Step:
    def step() -> None:
        _, g = loss_and_grads_autograd(p, X, Y, MLP(ACTIVATION))
        _descend(p, g.A, g.Z, g.B)
    return step


def _compile_step(p: Params, X: Tensor, Y: Tensor, backend: str) -> Step:
    f = MLP(ACTIVATION)
    L = p.L

    def layer(h: Tensor, V: Tensor, W: Tensor) -> Tensor:
        return h + f(h, (V, W)) / L

    torch._dynamo.reset()  # one compilation per shape: no recompile limit across shapes
    compiled = torch.compile(layer, backend=backend, dynamic=False)
    c = f.loss_scale(X.shape[-2], p.d_out)

    def step() -> None:
        leaves = [t.detach().requires_grad_() for t in (p.A, *p.Z, p.B)]
        A, V, W, B = leaves
        h = X @ A.mT
        for k in range(L):
            h = compiled(h, V[:, k], W[:, k])
        loss = c * ((h @ B.mT - Y) ** 2).sum((-2, -1))
        gA, gV, gW, gB = torch.autograd.grad(loss.sum(), leaves)
        _descend(p, gA, (gV, gW), gB)
    return step


def _vmap_step(p: Params, X: Tensor, Y: Tensor) -> Step:
    f = MLP(ACTIVATION)

    def one(A: Tensor, V: Tensor, W: Tensor, B: Tensor) -> Tensor:
        return model_loss(Params(A[None], (V[None], W[None]), B[None]), X, Y, f)[0]

    grads = torch.func.vmap(torch.func.grad(one, argnums=(0, 1, 2, 3)))

    def step() -> None:
        gA, gV, gW, gB = grads(p.A, *p.Z, p.B)
        _descend(p, gA, (gV, gW), gB)
    return step


def _numba_step(p: Params, X: Tensor, Y: Tensor) -> Step:
    from benchmarks.numba_step import step as kernel  # numba compiles it on first use
    f = MLP(ACTIVATION)
    s_in, s_width = f.factors(p.q, p.V.shape[-1])
    s_out, c = s_width / p.L, f.loss_scale(X.shape[-2], p.d_out)
    nets = [tuple(t[j].numpy() for t in (p.A, p.V, p.W, p.B)) for j in range(p.b)]  # views
    x, y = X.numpy(), Y.numpy()

    def step() -> None:
        for A, V, W, B in nets:
            kernel(A, V, W, B, x, y, s_in, s_out, c, ETA)
    return step


def stepper(engine: str, params: Params, X: Tensor, Y: Tensor, *,
            compile_backend: str = "inductor") -> tuple[Step, Params]:
    """One training step of ``engine`` and the copy of ``params`` that it updates in place
    (stored as numerics.flow.train stores it for the Workspace's engines);
    ``compile_backend``: torch.compile's backend for ``compile``."""
    if engine in ("native", "torch_sweeps"):
        with native_sweeps(engine == "native"):
            p = _stored_for(params, MLP(ACTIVATION))
        return _workspace_step(p, X, Y, engine == "native"), p
    p = params.clone()
    if engine == "compile":
        return _compile_step(p, X, Y, compile_backend), p
    return {"eager": _eager_step, "vmap": _vmap_step, "numba": _numba_step}[engine](p, X, Y), p


def _metrics_steps(p: Params, X: Tensor, Y: Tensor, residual: MLP) -> dict[str, Step]:
    """A step of numerics.flow.train's inner loop on the compiled sweeps: the metrics and the
    step on Z within the sweep (C), or both by torch from the sweep's gradients."""
    p0 = p.clone()
    fused_ws = Workspace(p, X, Y, residual, p0)
    fused = Monitor(p, p0, fused_ws)
    plain_ws = Workspace(p, X, Y, residual)
    plain = Monitor(p, p0, plain_ws)

    def c_metrics() -> None:
        loss, g = fused_ws.compute(-ETA * p.L)
        fused.measure(loss, g)
        _descend(p, g.A, None, g.B)
        fused.accumulate()

    def torch_metrics() -> None:
        loss, g = plain_ws.compute()
        plain.measure(loss, g)
        _descend(p, g.A, g.Z, g.B)
        plain.accumulate()
    return {"train_c_metrics": c_metrics, "train_torch_metrics": torch_metrics}


def metrics_cost(shapes: Sequence[tuple[int, int]] = ((256, 1), (1024, 1), (1024, 4)), *,
                 repeats: int = 9, steps: int = 3) -> list[dict[str, Any]]:
    """On the Figure 1 workload (:mod:`benchmarks.workload`: n = 100, q = 16, m = 32, GELU,
    float32) at each (L, b): the time of a training step with the metrics computed by torch
    over the time with the metrics and the step on Z within the compiled sweep (best, median;
    interleaved repeats, one run)."""
    from benchmarks import workload

    out = []
    with single_thread(torch.device("cpu")):
        for L, b in shapes:
            params, X, Y = workload.problem(L, b, "float32")
            residual = MLP("gelu")
            times = _interleaved(_metrics_steps(_stored_for(params, residual), X, Y, residual),
                                 repeats, steps)
            best = {k: min(v) for k, v in times.items()}
            median = {k: statistics.median(v) for k, v in times.items()}
            out.append({"L": L, "b": b, "torch_metrics_over_c_metrics": {
                "best": best["train_torch_metrics"] / best["train_c_metrics"],
                "median": median["train_torch_metrics"] / median["train_c_metrics"]}})
    return out


def _interleaved(steps_of: dict[str, Step], repeats: int, steps: int) -> dict[str, list[float]]:
    """Seconds per step of each, after two (more) warm-up steps, in ``repeats`` rounds that run
    every one of them once (``steps`` steps each)."""
    for step in steps_of.values():
        step()
        step()
    times: dict[str, list[float]] = {e: [] for e in steps_of}
    for _ in range(repeats):
        for engine, step in steps_of.items():
            times[engine].append(_time(step, steps))
    return times


def _agreement(trained: dict[str, Params], X: Tensor, Y: Tensor) -> dict[str, float]:
    """max_j |l_j(engine) - l_j(eager)| / l_j(eager) of the trained weights, per engine."""
    if "eager" not in trained:
        return {}
    losses = {e: model_loss(p, X, Y, MLP(ACTIVATION)) for e, p in trained.items()}
    ref = losses["eager"]
    return {e: float(((lo - ref) / ref).abs().max()) for e, lo in losses.items()}


def _time(step: Step, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps


def run(shapes: Sequence[tuple[int, int, int, int]] = SHAPES, batches: Sequence[int] = BATCHES,
        *, engines: Sequence[str] = ENGINES, repeats: int = 7, steps: int = 5,
        metrics: bool = True, compile_backend: str = "inductor") -> dict[str, Any]:
    """Seconds per step of every engine, interleaved, as ratios to the fastest (one run).

    Returns {"rows": [{"n", "d", "m", "L", "b", "seconds": {engine: {"best", "median"}},
    "ratio_best", "ratio_median", "fastest", "loss_rel_diff_to_eager"} ...],
    "errors": {engine: reason}, "decision": ...}.
    """
    errors: dict[str, str] = {}
    rows = []
    with single_thread(torch.device("cpu")):
        for shape in shapes:
            for b in batches:
                params, X, Y = problem(*shape, b)
                steps_of: dict[str, Step] = {}
                trained: dict[str, Params] = {}
                for engine in engines:
                    if engine in errors:
                        continue
                    try:
                        steps_of[engine], trained[engine] = stepper(
                            engine, params, X, Y, compile_backend=compile_backend)
                        steps_of[engine]()  # compiles, where the engine compiles
                    except Exception as exc:  # noqa: BLE001 - recorded, the engine is skipped
                        errors[engine] = f"{type(exc).__name__}: {str(exc)[:300]}"
                        steps_of.pop(engine, None)
                        trained.pop(engine, None)
                if metrics and "native" in steps_of:
                    residual = MLP(ACTIVATION)
                    steps_of.update(_metrics_steps(_stored_for(params, residual), X, Y,
                                                   residual))
                row = _row(shape, b, _interleaved(steps_of, repeats, steps))
                # every engine took the same 3 + repeats * steps steps from the same weights
                row["loss_rel_diff_to_eager"] = _agreement(trained, X, Y)
                rows.append(row)
    return {"activation": ACTIVATION, "dtype": "float64", "eta": ETA, "repeats": repeats,
            "steps_per_repeat": steps, "rows": rows, "errors": errors,
            "decision": decide(rows)}


def _row(shape: tuple[int, int, int, int], b: int, times: dict[str, list[float]]
         ) -> dict[str, Any]:
    seconds = {e: {"best": min(t), "median": statistics.median(t)} for e, t in times.items()}
    engines = [e for e in seconds if e in ENGINES]
    fastest = min(engines, key=lambda e: seconds[e]["best"])
    fastest_median = min(seconds[e]["median"] for e in engines)
    row: dict[str, Any] = {
        "n": shape[0], "d": shape[1], "m": shape[2], "L": shape[3], "b": b, "seconds": seconds,
        "fastest": fastest,
        "ratio_best": {e: seconds[e]["best"] / seconds[fastest]["best"] for e in engines},
        "ratio_median": {e: seconds[e]["median"] / fastest_median for e in engines}}
    if "train_c_metrics" in seconds:
        row["torch_metrics_over_c_metrics"] = {
            k: seconds["train_torch_metrics"][k] / seconds["train_c_metrics"][k]
            for k in ("best", "median")}
    return row


def decide(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The simplest engine (:data:`SIMPLICITY`) whose best-time ratio to the fastest is at most
    :data:`RULE` on every row, and each engine's worst ratio (best and median times)."""
    worst = {stat: {e: max(r[f"ratio_{stat}"][e] for r in rows)
                    for e in SIMPLICITY if all(e in r[f"ratio_{stat}"] for r in rows)}
             for stat in ("best", "median")}
    keep = next((e for e in SIMPLICITY if worst["best"].get(e, float("inf")) <= RULE), None)
    return {"rule": f"simplest engine within {RULE}x of the fastest on every shape",
            "worst_ratio_best": worst["best"], "worst_ratio_median": worst["median"],
            "keep": keep}


def format_table(result: dict[str, Any]) -> str:
    """Ratios to the fastest engine, best / median, one line per shape."""
    engines = [e for e in ENGINES if e not in result["errors"]]
    lines = [f"model (3) training step, {result['activation']}, {result['dtype']}: time / "
             f"fastest engine's, best/median of {result['repeats']} interleaved repeats "
             f"of {result['steps_per_repeat']} steps (one run)",
             "  n  d  m  L  b  " + "".join(f"{e:>15}" for e in engines) + "  torch/C metrics"]
    for r in result["rows"]:
        cells = "".join(f"{r['ratio_best'][e]:>7.2f}/{r['ratio_median'][e]:<7.2f}"
                        for e in engines)
        extra = r.get("torch_metrics_over_c_metrics")
        tail = "" if extra is None else f"  {extra['best']:.2f}/{extra['median']:.2f}"
        lines.append(f"{r['n']:>3}{r['d']:>3}{r['m']:>3}{r['L']:>3}{r['b']:>3}  {cells}{tail}")
    for e, why in result["errors"].items():
        lines.append(f"{e}: not measured ({why})")
    worst = max((v for r in result["rows"] for v in r["loss_rel_diff_to_eager"].values()),
                default=float("nan"))
    lines.append(f"losses after training agree with eager's: max relative difference {worst:.1e}")
    for r in result.get("figure1_metrics", ()):
        ratio = r["torch_metrics_over_c_metrics"]
        lines.append(f"Figure 1 workload L={r['L']} b={r['b']}: torch/C metrics "
                     f"{ratio['best']:.2f}/{ratio['median']:.2f}")
    dec = result["decision"]
    lines.append(f"decision ({dec['rule']}): keep {dec['keep']}; worst ratios (best) " + ", ".join(
        f"{e} {v:.2f}" for e, v in dec["worst_ratio_best"].items()))
    return "\n".join(lines)
