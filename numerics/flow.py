r"""Gradient descent in flow time on the (clipped) gradient flow (4)/(5), with streamed metrics.

Gradient flow (4) (Section 3, p4): dA/dt = -dl/dA, dZ_k/dt = -L dl/dZ_k, dB/dt = -dl/dB; the
clipped flow (5) applies a bounded Lipschitz map pi to each right-hand side.  Gradient descent
with step eta in flow time is the explicit Euler scheme

    A <- A + eta pi(-dl/dA),   Z_k <- Z_k + eta pi(-L dl/dZ_k),   B <- B + eta pi(-dl/dB),

so N iterations reach t = N eta (the paper's "learning rate L x 1e-2" is eta = 0.01).  pi is:

- ``"none"``: the identity (flow (4));
- ``"coord"``: projection on the l-infinity ball of radius c, entrywise clamp to [-c, c];
- ``"norm"``: radial projection on the ball of radius c of the paper's norm of each block:
  ||.||_F for A and B, and ||(V, W)|| = ||V||_F + ||W||_F for each layer's Z_k in R^p
  (Proposition 7's M_pi measures pi(Z) with this norm).

M_pi = max(sup ||pi(A)||_F, sup ||pi(Z)||, sup ||pi(B)||_F) (Proposition 7, p15) is then
c * max(sqrt(q d), sum_j sqrt(#Z^j), sqrt(d' q)) for ``"coord"`` and c for ``"norm"``.

:func:`train` streams the metrics of :mod:`numerics.metrics` at every iteration (memory O(L),
never O(L T)), records weight snapshots, PL ratios and first-layer singular values at chosen flow
times, raises :class:`DivergenceError` at once when the loss or a weight norm is non-finite or past
``max_norm``, and checkpoints atomically so that a rerun with the same path resumes bit for bit.
On CUDA the iteration is captured once in a CUDA graph and replayed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from numerics import progress
from numerics.data import make_batch
from numerics.gradients import Grads, Workspace, loss_and_grads_autograd
from numerics.gradients import engine as gradient_engine
from numerics.init import init_params
from numerics.metrics import ROW, SERIES, Monitor, frobenius, layer_norms, smin_features
from numerics.model import MLP, Params, Residual, batched_data
from theory.errors import ConfigError, DivergenceError

if TYPE_CHECKING:
    from theory.config import Config

Tensor = torch.Tensor
CLIPS = ("none", "coord", "norm")
_CHECKPOINT_FORMAT = 2


@dataclasses.dataclass(frozen=True)
class Flow:
    """Gradient descent on flow (4)/(5): step ``eta``, horizon ``T`` (flow time), map pi."""

    eta: float
    T: float
    train_outer: bool = True
    clip: str = "none"
    clip_c: float = 1.0

    def __post_init__(self) -> None:
        for name in ("eta", "T", "clip_c"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or not math.isfinite(value) or value <= 0:
                raise ConfigError(name, value, "must be a positive finite number")
        if self.eta > self.T:
            raise ConfigError("eta", self.eta, f"the step must not exceed the horizon T={self.T}")
        if self.clip not in CLIPS:
            raise ConfigError("clip", self.clip, f"must be one of {', '.join(CLIPS)}")
        if not isinstance(self.train_outer, bool):
            raise ConfigError("train_outer", self.train_outer, "must be true or false")

    @property
    def iterations(self) -> int:
        """N = round(T / eta): the flow time after the last step is N eta."""
        return max(1, round(self.T / self.eta))

    @classmethod
    def from_config(cls, config: Config) -> Flow:
        """The flow of a :class:`theory.config.Config`."""
        return cls(config.eta, config.T, config.trains_outer, config.clip, config.clip_c)

    def m_pi(self, params: Params) -> float:
        """M_pi of Proposition 7 for these parameter shapes (inf for the unclipped flow)."""
        if self.clip == "none":
            return math.inf
        if self.clip == "norm":
            return self.clip_c
        z = sum(math.sqrt(math.prod(block.shape[2:])) for block in params.Z)
        return self.clip_c * max(math.sqrt(params.A[0].numel()), z,
                                 math.sqrt(params.B[0].numel()))


@dataclasses.dataclass(frozen=True)
class TrainResult:
    """What :func:`train` measured.

    ``series[name]`` is (R, b) for the R recorded iterations at flow times ``times`` (every
    ``record_every``-th iteration and the last); ``maxima[name]`` (b,) is the maximum over every
    iteration, streamed (``maxima["gap"]`` is max_{k,t} ||Z_{k+1}(t) - Z_k(t)||,
    ``maxima["rhs_z"]`` the observed M_pi of Z, ...); ``minima[name]`` and ``sums[name]`` (b,)
    are the minimum and the sum over every iteration 0..N (:meth:`integral`).  At the flow times
    ``record_times`` (snapped to iterations): ``snapshots`` (parameters, when asked), ``pl``
    (K, b) = G/l and ``smin`` (K, b, L), the smallest singular value of sigma(s_in W_{k+1} h_k)
    for each k (model (3) only, else None).  All tensors are on the CPU in the training dtype,
    except ``params`` and ``snapshots`` (on the training device).
    """

    params: Params
    params0: Params
    flow: Flow
    iterations: int
    times: Tensor
    series: dict[str, Tensor]
    maxima: dict[str, Tensor]
    minima: dict[str, Tensor]
    sums: dict[str, Tensor]
    record_times: Tensor
    snapshots: list[Params]
    pl: Tensor
    smin: Tensor | None

    @property
    def max_gap(self) -> Tensor:
        """max over k and t of ||Z_{k+1}(t) - Z_k(t)|| for each network (b,)."""
        return self.maxima["gap"]

    def integral(self, name: str) -> Tensor:
        """Left Riemann sum eta sum_{i<N} x(i eta) of integral_0^T x(t) dt, streamed (b,)."""
        return self.flow.eta * (self.sums[name] - self.series[name][-1])


def train(params: Params, X: Tensor, Y: Tensor, flow: Flow, residual: Residual | None = None,
          *, record_times: Sequence[float] = (), record_every: int = 1, snapshots: bool = False,
          max_norm: float | None = None, checkpoint: str | Path | None = None,
          checkpoint_every: int = 100, cuda_graph: bool = True) -> TrainResult:
    """Run N = flow.iterations steps of gradient descent from ``params`` (not modified).

    X (n, d) or (b, n, d), Y (n, d') or (b, n, d').  ``residual`` defaults to model (3)'s
    :class:`MLP` (explicit gradients (13)-(16)); any other residual trains through autograd.
    ``max_norm`` bounds ||A||_F, sup_k ||Z_k|| and ||B||_F (DivergenceError past it).
    ``checkpoint``: a file path; the state is saved atomically every ``checkpoint_every``
    iterations, and a run started with an existing checkpoint of the same run resumes from it.
    """
    residual = MLP() if residual is None else residual
    _check_train_args(record_every, checkpoint_every, max_norm)
    N = flow.iterations
    record_at = _record_iterations(record_times, flow)
    p, p0 = _stored_for(params, residual), params.clone()
    X = batched_data(p, X)
    Y = batched_data(p, Y, "Y", p.d_out)
    if isinstance(residual, MLP):
        ws: Workspace | None = Workspace(p, X, Y, residual, p0)
        grad_fn: Callable[[], tuple[Tensor, Grads]] = ws.compute
    else:
        ws = None
        grad_fn = lambda: loss_and_grads_autograd(p, X, Y, residual)  # noqa: E731
    monitor = Monitor(p, p0, ws)
    state = _State(N, record_every, record_at, p)
    path = None if checkpoint is None else Path(checkpoint)
    fingerprint = _fingerprint(flow, residual, p, X, Y, record_at, record_every)
    if path is not None and path.exists():
        state.load(path, fingerprint, p, p0, monitor)

    # the step on Z taken within the compiled backward sweep, while each layer is in cache
    fused = ws is not None and ws.fuses_step and flow.clip == "none"

    def body(apply: bool) -> None:
        if fused:
            loss, grads = ws.compute(-flow.eta * p.L if apply else 0.0)  # type: ignore[union-attr]
        else:
            loss, grads = grad_fn()
        monitor.measure(loss, grads)
        _update(p, grads, flow, monitor, apply, z_stepped=fused)
        monitor.accumulate()

    stepper = _Stepper(body, cuda_graph and p.A.device.type == "cuda" and ws is not None)
    told = progress.task(f"L={p.L}, {p.b} network{'s' if p.b > 1 else ''}", N + 1, state.start)
    with single_thread(p.A.device):
        for i in range(state.start, N + 1):
            if path is not None and i % checkpoint_every == 0 and i != state.start:
                state.save(path, fingerprint, i, p, p0, monitor)
            if snapshots and i in record_at:
                state.snapshots.append(_contiguous_copy(p))
            stepper(i < N)
            _check_divergence(i, monitor.row, max_norm)
            state.record(i, monitor, ws)
            told.advance()
    if path is not None:
        state.save(path, fingerprint, N + 1, p, p0, monitor)
    return state.result(_contiguous_copy(p), p0, flow, monitor, ws is not None)


def _contiguous_copy(p: Params) -> Params:
    return Params(p.A.clone(), tuple(z.clone(memory_format=torch.contiguous_format)
                                     for z in p.Z), p.B.clone())


@contextlib.contextmanager
def single_thread(device: torch.device) -> Iterator[None]:
    """The CPU settings of training, restored afterwards: one intra-op thread, no oneDNN.

    A training step is a sweep of small products (n x q by q x m) that no thread pool can split
    usefully; with two OpenMP threads on a shared 2-core machine each of them pays a fork-join that
    was measured at milliseconds instead of ~20 us, and switching the thread count around every
    sweep costs as much.  Independent networks are batched instead (b > 1).  oneDNN (which torch
    uses for float32 GELU and its derivative) costs ~15 us per call on such small tensors: the
    native kernels take 7.8 us against 18 (GELU) and 13 against 58 (its derivative) on 100 x 32.
    """
    if device.type != "cpu":
        yield
        return
    threads, onednn = torch.get_num_threads(), torch.backends.mkldnn.enabled
    torch.set_num_threads(1)
    torch.backends.mkldnn.enabled = False
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        torch.backends.mkldnn.enabled = onednn


class _Stepper:
    """Runs ``body(apply)``; on CUDA, two warm-up steps on a side stream, then one captured
    CUDA graph replayed for every further applied step (the last, unapplied step runs eagerly).
    """

    def __init__(self, body: Callable[[bool], None], use_graph: bool) -> None:
        self.body, self.use_graph, self.calls = body, use_graph, 0
        self.graph: torch.cuda.CUDAGraph | None = None

    def __call__(self, apply: bool) -> None:
        if not (self.use_graph and apply):
            self.body(apply)
            return
        self.calls += 1
        if self.graph is not None:
            self.graph.replay()
        elif self.calls <= 2:
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                self.body(True)
            torch.cuda.current_stream().wait_stream(side)
        else:
            self.graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(self.graph):
                self.body(True)
            self.graph.replay()


def _stored_for(params: Params, residual: Residual) -> Params:
    """The copy that training updates, stored as its gradients are (:class:`Workspace`): network
    by network for the compiled sweeps, else layer by layer (:func:`_layer_major`)."""
    if gradient_engine(params, residual) == "native":
        return _contiguous_copy(params)
    return _layer_major(params)


def _layer_major(params: Params) -> Params:
    """A copy whose blocks are stored layer by layer ((L, b, ...) memory seen as (b, L, ...)), so
    that one layer of the b networks, Z[:, k], is contiguous for the batched products.
    """
    def copy(z: Tensor) -> Tensor:
        return torch.empty_like(z.transpose(0, 1), memory_format=torch.contiguous_format
                                ).transpose(0, 1).copy_(z)
    return Params(params.A.clone(), tuple(copy(z) for z in params.Z), params.B.clone())


def _update(p: Params, grads: Grads, flow: Flow, monitor: Monitor, apply: bool,
            z_stepped: bool = False) -> None:
    """One explicit Euler step of (4)/(5); writes the applied right-hand-side norms rhs_*.
    ``z_stepped``: the unclipped step on Z was already taken (:meth:`Workspace.compute`)."""
    row, L, eta, c = monitor.row, p.L, flow.eta, flow.clip_c
    with torch.no_grad():
        if flow.clip == "none":
            torch.amax(monitor.grad_layer_norms, dim=1, out=row[ROW["rhs_z"]]).mul_(L)
            if apply and not z_stepped:
                for z, g in zip(p.Z, grads.Z, strict=True):
                    z.add_(g, alpha=-eta * L)
        else:
            for g in grads.Z:
                g.mul_(-L)
            apply_pi([*grads.Z], flow.clip, c, lead=2)
            torch.amax(layer_norms(grads.Z), dim=1, out=row[ROW["rhs_z"]])
            if apply:
                for z, g in zip(p.Z, grads.Z, strict=True):
                    z.add_(g, alpha=eta)
        for name, weight, g in (("rhs_a", p.A, grads.A), ("rhs_b", p.B, grads.B)):
            if not flow.train_outer:
                row[ROW[name]].zero_()
                continue
            if flow.clip == "none":
                row[ROW[name]].copy_(frobenius(g))
                if apply:
                    weight.add_(g, alpha=-eta)
            else:
                g.neg_()
                apply_pi([g], flow.clip, c, lead=1)
                row[ROW[name]].copy_(frobenius(g))
                if apply:
                    weight.add_(g, alpha=eta)


def apply_pi(blocks: list[Tensor], clip: str, c: float, lead: int) -> None:
    """The map pi of (5), in place, on the right-hand side of one parameter.

    ``"coord"``: entrywise clamp to [-c, c]; ``"norm"``: radial projection on the ball of radius c
    of the paper's norm (the sum of the blocks' Frobenius norms).

    ``blocks`` are the blocks of one parameter (several for Z = (V, W)); the first ``lead``
    dimensions index the independent vectors ((b,) for A and B, (b, L) for the layers Z_k).
    """
    if clip == "coord":
        for g in blocks:
            g.clamp_(-c, c)
        return
    norm = sum(torch.linalg.vector_norm(g.flatten(lead), dim=lead) for g in blocks)
    factor = torch.clamp(c / norm, max=1.0).nan_to_num_(nan=1.0)  # type: ignore[operator]
    for g in blocks:
        g.mul_(factor.reshape(*factor.shape, *[1] * (g.ndim - lead)))


def _check_divergence(i: int, row: Tensor, max_norm: float | None) -> None:
    values = row.tolist()
    for name in ("loss", "z_norm", "a_norm", "b_norm"):
        for j, v in enumerate(values[ROW[name]]):
            if math.isfinite(v) and (max_norm is None or name == "loss" or v <= max_norm):
                continue
            label = name if row.shape[1] == 1 else f"{name}[network {j}]"
            if not math.isfinite(v):
                raise DivergenceError(i, label, v)
            raise DivergenceError(i, label, v, max_norm)


def _check_train_args(record_every: int, checkpoint_every: int, max_norm: float | None) -> None:
    for name, value in (("record_every", record_every), ("checkpoint_every", checkpoint_every)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ConfigError(name, value, "must be a positive integer")
    if max_norm is not None and (isinstance(max_norm, bool) or not isinstance(
            max_norm, int | float) or not max_norm > 0):
        raise ConfigError("max_norm", max_norm, "must be a positive number or None")


def _record_iterations(record_times: Sequence[float], flow: Flow) -> dict[int, int]:
    """Iteration -> position, for the flow times to record (snapped to the nearest iteration)."""
    out: dict[int, int] = {}
    for t in record_times:
        if isinstance(t, bool) or not isinstance(t, int | float) or not 0 <= t <= flow.T * (
                1 + 1e-12):
            raise ConfigError("record_times", t, f"must be flow times in [0, T={flow.T}]")
        out.setdefault(min(flow.iterations, round(t / flow.eta)), len(out))
    return dict(sorted(out.items()))


def _fingerprint(flow: Flow, residual: Residual, p: Params, X: Tensor, Y: Tensor,
                 record_at: dict[int, int], record_every: int) -> dict[str, object]:
    """What a checkpoint must match to be resumed: the run's settings and data checksums."""
    return {"format": _CHECKPOINT_FORMAT, "flow": repr(flow), "residual": repr(residual),
            "shapes": repr([tuple(t.shape) for t in (p.A, *p.Z, p.B, X, Y)]),
            "dtype": str(p.A.dtype), "record_at": repr(list(record_at)),
            "record_every": record_every,
            "data": repr([float(X.double().sum()), float((X.double() ** 2).sum()),
                          float(Y.double().sum()), float((Y.double() ** 2).sum())])}


class _State:
    """The accumulators of :func:`train` (series, records, iteration) and their checkpoints."""

    def __init__(self, N: int, record_every: int, record_at: dict[int, int], p: Params) -> None:
        self.N, self.record_every, self.record_at, self.start = N, record_every, record_at, 0
        rows = len(range(0, N + 1, record_every)) + (N % record_every != 0)
        like = {"dtype": p.A.dtype, "device": p.A.device}
        self.series = torch.zeros(rows, len(SERIES), p.b, **like)
        self.iteration = torch.zeros(rows, dtype=torch.long)
        self.rows = 0
        self.snapshots: list[Params] = []
        self.pl = torch.full((len(record_at), p.b), math.nan, **like)
        self.smin = torch.full((len(record_at), p.b, p.L), math.nan, **like)

    def record(self, i: int, monitor: Monitor, ws: Workspace | None) -> None:
        """Store the row of iteration i (and the records of a recorded time)."""
        if i % self.record_every == 0 or i == self.N:
            self.series[self.rows].copy_(monitor.row)
            self.iteration[self.rows] = i
            self.rows += 1
        r = self.record_at.get(i)
        if r is not None:
            self.pl[r].copy_(monitor.row[ROW["pl"]])
            if ws is not None:
                self.smin[r].copy_(smin_features(ws.activations))

    def result(self, p: Params, p0: Params, flow: Flow, monitor: Monitor,
               has_smin: bool) -> TrainResult:
        cpu = self.series[:self.rows].cpu()
        return TrainResult(
            params=p, params0=p0, flow=flow, iterations=self.N,
            times=self.iteration[:self.rows].double() * flow.eta,
            series={name: cpu[:, j] for j, name in enumerate(SERIES)},
            maxima={name: monitor.maxima[j].cpu() for j, name in enumerate(SERIES)},
            minima={name: monitor.minima[j].cpu() for j, name in enumerate(SERIES)},
            sums={name: monitor.sums[j].cpu() for j, name in enumerate(SERIES)},
            record_times=torch.tensor(list(self.record_at), dtype=torch.float64) * flow.eta,
            snapshots=self.snapshots, pl=self.pl.cpu(), smin=self.smin.cpu() if has_smin else None)

    def save(self, path: Path, fingerprint: dict[str, object], i: int, p: Params, p0: Params,
             monitor: Monitor) -> None:
        """Write the state at the start of iteration i atomically (temp file + os.replace)."""
        state = {"fingerprint": fingerprint, "iteration": i, "rows": self.rows,
                 "series": self.series[:self.rows].cpu(), "rows_iteration":
                     self.iteration[:self.rows].clone(),
                 "pl": self.pl.cpu(), "smin": self.smin.cpu(), "maxima": monitor.maxima.cpu(),
                 "minima": monitor.minima.cpu(), "sums": monitor.sums.cpu(),
                 "params": _tensors(p), "params0": _tensors(p0),
                 "snapshots": [_tensors(s) for s in self.snapshots]}
        atomic_save(state, path)

    def load(self, path: Path, fingerprint: dict[str, object], p: Params, p0: Params,
             monitor: Monitor) -> None:
        """Resume from a checkpoint of the same run (ConfigError otherwise)."""
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - any unreadable file is reported the same way
            raise ConfigError("checkpoint", str(path), f"cannot be read ({exc})") from None
        saved = state.get("fingerprint") if isinstance(state, dict) else None
        if not isinstance(saved, dict):
            raise ConfigError("checkpoint", str(path), "is not a checkpoint of numerics.flow")
        for key, value in fingerprint.items():
            if saved.get(key) != value:
                raise ConfigError("checkpoint", str(path), f"was written by another run "
                                  f"({key}: {saved.get(key)!r} != {value!r})")
        if not all(torch.equal(a.cpu(), b) for a, b in zip(
                _tensors(p0), state["params0"], strict=True)):
            raise ConfigError("checkpoint", str(path), "was written from other initial parameters")
        for t, saved_t in zip(_tensors(p), state["params"], strict=True):
            t.copy_(saved_t)
        self.start, self.rows = state["iteration"], state["rows"]
        self.series[:self.rows].copy_(state["series"])
        self.iteration[:self.rows].copy_(state["rows_iteration"])
        self.pl.copy_(state["pl"])
        self.smin.copy_(state["smin"])
        monitor.maxima.copy_(state["maxima"])
        monitor.minima.copy_(state["minima"])
        monitor.sums.copy_(state["sums"])
        device = p.A.device
        self.snapshots = [Params(s[0].to(device), tuple(x.to(device) for x in s[1:-1]),
                                 s[-1].to(device)) for s in state["snapshots"]]


def _tensors(p: Params) -> list[Tensor]:
    return [p.A, *p.Z, p.B]


def atomic_save(obj: object, path: Path) -> None:
    """torch.save to a temp file in the same folder, fsync, then os.replace onto ``path``.

    A failure at any point leaves the previous file at ``path`` untouched.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


CHECKPOINTS_PER_RUN = 200
"""A long run of a sweep task saves its state about this many times (every N / 200 steps)."""


def checkpointing(folder: Path | None, name: str, iterations: int) -> dict[str, Any]:
    """:func:`train`'s checkpoint options for a run of ``iterations`` steps: the file
    ``folder/name.pt``, saved every max(1, iterations // :data:`CHECKPOINTS_PER_RUN`) steps (none
    without a folder)."""
    if folder is None:
        return {}
    return {"checkpoint": folder / f"{name}.pt",
            "checkpoint_every": max(1, iterations // CHECKPOINTS_PER_RUN)}


def run_config(config: Config, *, seeds: Sequence[int] | None = None,
               **train_kwargs: object) -> TrainResult:
    """Model (3) from a Config: for each seed (default ``(config.seed,)``) ``config.init`` and a
    synthetic sample of ``config.data`` drawn with that seed (independent draws of data and
    initialization per network: :func:`numerics.data.make_batch`), then :func:`train` (keyword
    options passed through).
    """
    seeds = (config.seed,) if seeds is None else tuple(seeds)
    params = init_params(config.init, d=config.d, d_out=config.d_out, q=config.q, m=config.m,
                         L=config.L, seeds=seeds, ell=config.ell, dtype=config.dtype,
                         device=config.device)
    X, Y = make_batch(config.data, seeds=seeds, n=config.n, d=config.d, d_out=config.d_out,
                      q=config.q, y_scale=config.y_scale, dtype=config.dtype,
                      device=config.device)
    residual = MLP(config.activation, config.scaling)
    return train(params, X, Y, Flow.from_config(config), residual,
                 **train_kwargs)  # type: ignore[arg-type]


@dataclasses.dataclass(frozen=True)
class StepHalving:
    """Final weights for eta, eta/2, eta/4, ... at the same T, and their successive distances.

    ``differences[j]`` (b,) = max(||dA||_F, sup_k ||dZ_k||, ||dB||_F) between the runs with
    eta / 2^j and eta / 2^(j+1); for a first-order scheme converging to the flow,
    ``ratios[j] = differences[j] / differences[j+1]`` is about 2.  ``snapshots``: (flow time,
    weights) of the step-eta run at the ``record_times`` asked for (snapped to its iterations).
    """

    etas: tuple[float, ...]
    finals: tuple[Params, ...]
    differences: tuple[Tensor, ...]
    snapshots: tuple[tuple[float, Params], ...] = ()

    @property
    def ratios(self) -> tuple[Tensor, ...]:
        d = self.differences
        return tuple(d[j] / d[j + 1] for j in range(len(d) - 1))


def step_halving(params: Params, X: Tensor, Y: Tensor, flow: Flow,
                 residual: Residual | None = None, *, halvings: int = 2,
                 record_times: Sequence[float] = (),
                 checkpoint_dir: Path | None = None) -> StepHalving:
    """Train with eta, eta/2, ..., eta/2^halvings to the same T (convergence to the flow),
    keeping the step-eta run's weights at the flow times ``record_times``; with
    ``checkpoint_dir``, run j checkpoints to ``eta{j}.pt`` there (:data:`CHECKPOINTS_PER_RUN`
    times), so that a rerun resumes."""
    if isinstance(halvings, bool) or not isinstance(halvings, int) or halvings < 1:
        raise ConfigError("halvings", halvings, "must be a positive integer")
    flows = [dataclasses.replace(flow, eta=flow.eta / 2**j) for j in range(halvings + 1)]
    runs = [train(params, X, Y, f, residual, record_every=f.iterations,
                  record_times=record_times if j == 0 else (), snapshots=j == 0,
                  **checkpointing(checkpoint_dir, f"eta{j}", f.iterations))
            for j, f in enumerate(flows)]
    finals = tuple(r.params for r in runs)
    diffs = tuple(param_distance(finals[j], finals[j + 1]) for j in range(halvings))
    return StepHalving(tuple(f.eta for f in flows), finals, diffs, tuple(zip(
        runs[0].record_times.tolist(), runs[0].snapshots, strict=True)))


def param_distance(p: Params, r: Params) -> Tensor:
    """max(||A - A'||_F, sup_k ||Z_k - Z'_k||, ||B - B'||_F) per network (b,), on the CPU."""
    dz = layer_norms(tuple(a - b for a, b in zip(p.Z, r.Z, strict=True))).amax(1)
    return torch.stack([frobenius(p.A - r.A), dz, frobenius(p.B - r.B)]).amax(0).cpu()
