r"""Does gradient descent track the gradient flow?  eta lambda_max along the run, and step halving.

Every gradient-flow statement of the paper (flow (4)/(5), Section 3, p4) is tested with gradient
descent, the flow's explicit Euler scheme in flow time (:mod:`numerics.flow`):

    theta <- theta - eta P grad l(theta),   P = 1 on A and B, P = L on each Z_k

(dZ_k/dt = -L dl/dZ_k in (4)), N = T / eta steps reaching flow time T.  Near theta the step's
linearization is I - eta P H, H the Hessian of model (3)'s loss l w.r.t. every trained parameter
(A and B only where the flow trains them); P H has the real eigenvalues of the symmetric
P^(1/2) H P^(1/2).  ``lambda_max`` here is the largest of them: the loss curvature in the flow's
own metric (the plain Hessian's top eigenvalue leaves out the factor L of the Z_k-rate).  For the
clipped flow (5) the curvature of the unclipped right-hand side is measured: pi is Lipschitz (1 for
the coordinate clamp, 2 for the radial projection) and is the identity wherever it does not clip;
the step halving covers the rest.

:func:`flow_tracking` measures, for one configuration, on every network of the row (each seed of
``config.seeds``, batched) at the row's deepest depth max(L, depths), the one that costs most and
that every depth sweep reaches:

- eta lambda_max(t) at the flow times :data:`CHECKPOINTS` x T of the step-eta run, by Lanczos
  (:func:`lanczos_top`) on Hessian-vector products, autograd's double backward through
  :func:`numerics.model.loss` (the checkpoints batched as independent networks);
- the step-halving distances of :func:`numerics.flow.step_halving`: the final weights at eta vs
  eta/2 and eta/2 vs eta/4 at the same T, and their ratio (about 2 for a first-order approach to
  the flow).

:meth:`Tracking.failure` is the rule for one network (the one place it is decided), reasons in
its docstring; a row tracks when each of its networks does (:meth:`RowTracking.failure`).
Measurements are cached per configuration, so that the statements of one report row share one;
the cached :class:`Tracking` objects hold floats only.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy.special import lambertw

from numerics.flow import Flow, step_halving
from numerics.measure import initial, samples
from numerics.model import MLP, Params, Residual, loss
from numerics.sec43 import sec43_conv
from theory.config import Config
from theory.errors import DivergenceError

Tensor = torch.Tensor

CHECKPOINTS = (0.0, 0.25, 0.5, 1.0)
"""Where eta lambda_max is measured, as fractions of the horizon T."""
DAMPING_EDGE = 1.0 + float(lambertw(math.exp(-1.0)).real)
"""1 + W(1/e) = 1.2785, the root of x - 1 = e^(-x): up to it gradient descent damps every
direction at least as much as the flow (:meth:`Tracking.failure`)."""
ORDER_BAND = (math.sqrt(2.0), 2.0 * math.sqrt(2.0))
"""The accepted step-halving ratios: an observed order log2(ratio) within 1/2 of 1."""
LANCZOS_STEPS, LANCZOS_RTOL = 40, 1e-3
"""Lanczos stops at this many Hessian-vector products per network, or earlier once the residual
bound beta_k |s_k| of the top Ritz value is at most LANCZOS_RTOL times it.  The Ritz value never
exceeds lambda_max; where eigenvalues cluster within the tolerance it may stop at a lower member of
the cluster (measured: 0.2% below on a tiny network).  The rule needs two digits."""
LANCZOS_STREAM = 0x6C616E63  # "lanc": the start vector's stream, apart from data and init
WHAT = "measured: gradient descent tracks the flow"
"""The failed assumption's name (``measured: ``: a precondition measured on the run)."""


def lanczos_top(op: Callable[[Tensor], Tensor], b: int, size: int, *, seed: int,
                like: Tensor, steps: int = LANCZOS_STEPS,
                rtol: float = LANCZOS_RTOL) -> tuple[Tensor, Tensor]:
    """The largest (algebraic, not absolute) eigenvalue of b symmetric operators at once and
    whether each converged: ``op`` maps (b, size) to (b, size), row j by operator j.

    Lanczos with full reorthogonalization (Gram-Schmidt twice) from a Gaussian start drawn with
    ``seed``; the top Ritz value theta of the tridiagonal T_k is within beta_k |s_k| of an
    eigenvalue (s_k the last entry of its eigenvector) and never above lambda_max.  A network is
    frozen at its value once beta_k |s_k| <= rtol |theta|.  Returns float64 tensors on the CPU.
    """
    state = np.random.SeedSequence([seed, LANCZOS_STREAM]).generate_state(1, np.uint64)[0]
    gen = torch.Generator().manual_seed(int(state))
    q = torch.randn(b, size, generator=gen, dtype=torch.float64).to(like)
    basis = [q / torch.linalg.vector_norm(q, dim=1, keepdim=True)]
    alphas: list[Tensor] = []
    betas: list[Tensor] = []
    value = torch.full((b,), math.nan, dtype=torch.float64)
    done = torch.zeros(b, dtype=torch.bool)
    for _ in range(min(steps, size)):
        w = op(basis[-1])
        alphas.append((w * basis[-1]).sum(1).double().cpu())
        Q = torch.stack(basis)
        for _ in range(2):
            w = w - torch.einsum("kb,kbp->bp", torch.einsum("kbp,bp->kb", Q, w), Q)
        beta = torch.linalg.vector_norm(w, dim=1)
        off = torch.stack(betas, 1) if betas else torch.zeros(b, 0, dtype=torch.float64)
        T = (torch.diag_embed(torch.stack(alphas, 1)) + torch.diag_embed(off, 1)
             + torch.diag_embed(off, -1))
        theta, S = torch.linalg.eigh(T)
        beta_cpu = beta.double().cpu()
        value = torch.where(done, value, theta[:, -1])
        done |= beta_cpu * S[:, -1, -1].abs() <= rtol * theta[:, -1].abs()
        betas.append(beta_cpu)
        if bool(done.all()):
            break
        nxt = w / beta.clamp_min(torch.finfo(w.dtype).tiny)[:, None]
        basis.append(torch.where(done.to(w.device)[:, None], torch.zeros_like(nxt), nxt))
    return value, done


def hessian_top(loss_fn: Callable[[list[Tensor]], Tensor], blocks: Sequence[Tensor],
                scales: Sequence[float], *, seed: int, steps: int = LANCZOS_STEPS,
                rtol: float = LANCZOS_RTOL) -> tuple[Tensor, Tensor]:
    """lambda_max(S H S) for each of b independent problems (and whether Lanczos converged):
    H is the Hessian of ``loss_fn(blocks)`` (a (b,) tensor whose entry j depends on row j of
    every block only, so that H is block-diagonal over j) w.r.t. the blocks (each (b, ...)), and
    S multiplies block i by ``scales[i]``.  H v by autograd's double backward; ``steps``,
    ``rtol``: :func:`lanczos_top`'s."""
    leaves = [x.detach().clone().requires_grad_(True) for x in blocks]
    grads = torch.autograd.grad(loss_fn(leaves).sum(), leaves, create_graph=True)
    b = leaves[0].shape[0]
    sizes = [x[0].numel() for x in leaves]

    def op(v: Tensor) -> Tensor:
        parts = [s * u.reshape(x.shape)
                 for s, u, x in zip(scales, v.split(sizes, dim=1), leaves, strict=True)]
        hv = torch.autograd.grad(grads, leaves, grad_outputs=parts, retain_graph=True,
                                 materialize_grads=True)
        return torch.cat([s * h.reshape(b, -1) for s, h in zip(scales, hv, strict=True)], 1)

    return lanczos_top(op, b, sum(sizes), seed=seed, like=leaves[0], steps=steps, rtol=rtol)


def flow_lambda_max(params: Params, X: Tensor, Y: Tensor, residual: Residual, flow: Flow, *,
                    seed: int, **lanczos: Any) -> tuple[Tensor, Tensor]:
    """lambda_max of P^(1/2) H P^(1/2) (module docstring) for each of the b networks of
    ``params``: the trained blocks are Z (scale sqrt(L)) and, where ``flow.train_outer``, A and
    B (scale 1).  ``lanczos``: ``steps``, ``rtol`` of :func:`hessian_top`."""
    k, outer = len(params.Z), flow.train_outer
    blocks = [*params.Z, *((params.A, params.B) if outer else ())]
    scales = [math.sqrt(params.L)] * k + [1.0] * (2 if outer else 0)

    def loss_fn(x: list[Tensor]) -> Tensor:
        A, B = (x[k], x[k + 1]) if outer else (params.A, params.B)
        return loss(Params(A, tuple(x[:k]), B), X, Y, residual)

    return hessian_top(loss_fn, blocks, scales, seed=seed, **lanczos)


@dataclasses.dataclass(frozen=True)
class Tracking:
    """What :func:`flow_tracking` measured: ``eta_lambda`` (eta lambda_max) at the flow times
    ``times`` of the step-eta run (``converged``: Lanczos met its tolerance), the step-halving
    distances d(eta, eta/2), d(eta/2, eta/4) (max(||dA||_F, sup_k ||dZ_k||, ||dB||_F), nan after
    a divergence) and ``diverged`` (the divergence's message, empty if none), for depth ``L``
    and seed ``seed``."""

    L: int
    seed: int
    eta: float
    T: float
    times: tuple[float, ...]
    eta_lambda: tuple[float, ...]
    converged: tuple[bool, ...]
    distances: tuple[float, float]
    diverged: str = ""

    @property
    def max_eta_lambda(self) -> float:
        """max over the checkpoints of eta lambda_max (nan if one is not finite)."""
        values = np.asarray(self.eta_lambda, dtype=float)
        return float(values.max()) if np.all(np.isfinite(values)) else math.nan

    @property
    def ratio(self) -> float:
        """d(eta, eta/2) / d(eta/2, eta/4): about 2 for a first-order approach to the flow."""
        d0, d1 = self.distances
        return d0 / d1 if d1 > 0 else math.nan

    def failure(self) -> str | None:
        """The failed assumption's name where gradient descent does not track the flow, else
        None.  It tracks when it does not diverge and

        - max_t eta lambda_max(t) < :data:`DAMPING_EDGE` = 1 + W(1/e) = 1.28.  On the
          quadratic model of the loss, along an eigenvector of P^(1/2) H P^(1/2) with
          eigenvalue lambda, the flow multiplies the component by e^(-x) per flow time eta
          (x = eta lambda) and gradient descent by 1 - x.  For x < 1 both decay monotonically
          and differ by at most x^2 / 2 per step (Euler's first order); for 1 < x < 2 gradient
          descent flips the component's sign at every step, which the flow never does, and at
          x >= 2 it diverges (the edge of stability, Cohen et al., ICLR 2021).  A flipping
          component still does not outlive the flow's as long as |1 - x| <= e^(-x), i.e.
          x <= 1 + W(1/e): up to there gradient descent damps every direction at least as much
          as the flow does in the same flow time, so what it gets wrong in a stiff direction
          decays at least as fast as the flow's own transient there and only the slow
          directions' O(eta) error remains (which the step halving measures); beyond it the
          oscillation outlives the flow's decay, and at 2 it no longer decays.  (The monotone
          edge x < 1 is stricter than needed: it would also reject runs whose step halving
          shows the first order.)
        - the step-halving ratio in :data:`ORDER_BAND` = [sqrt 2, 2 sqrt 2].  With e(h) = C h +
          D h^2 the error at step h, the ratio is 2 (1 + 1.5 r) / (1 + 0.75 r), r = D eta / C:
          2 in the first-order regime, 1 when halving does not shrink the error (not converging:
          eta is too large) and 4 for a second-order one; the band accepts an observed order
          log2(ratio) within 1/2 of 1, the midpoints (in log) between 1 and the orders 0 and 2.

        Both are measured on the optimizer (curvature and step-size dependence), never on the
        outcome of the statement under test: a precondition, not a filter on outcomes.
        """
        if self.diverged:
            return f"{WHAT} (it diverges: {self.diverged})"
        top = self.max_eta_lambda
        if not top < DAMPING_EDGE:
            return f"{WHAT} (eta lambda_max = {top:.3g} >= {DAMPING_EDGE:.3g})"
        lo, hi = ORDER_BAND
        if not lo <= self.ratio <= hi:
            return (f"{WHAT} (step-halving ratio {self.ratio:.3g} outside [{lo:.3g}, "
                    f"{hi:.3g}])")
        return None

    def note(self) -> str:
        """One line for the report's row notes."""
        at = ", ".join(f"{v:.3g}" for v in self.eta_lambda)
        when = ", ".join(f"{t:.3g}" for t in self.times)
        failure = self.failure()
        return (f"gradient descent vs the flow (L = {self.L}, seed {self.seed}): eta lambda_max "
                f"= {at} at t = {when} (edge {DAMPING_EDGE:.3g}); step halving eta -> eta/2 -> "
                f"eta/4: final-weight distances {self.distances[0]:.3g}, "
                f"{self.distances[1]:.3g}, ratio {self.ratio:.3g} (accepted "
                f"[{ORDER_BAND[0]:.3g}, {ORDER_BAND[1]:.3g}]): "
                + ("tracks" if failure is None else "does NOT track"))

    def to_dict(self) -> dict[str, Any]:
        """``CheckResult.extra["flow_tracking"]`` (docs/results-json.md)."""
        return {"L": self.L, "seed": self.seed, "eta": self.eta, "T": self.T,
                "t": list(self.times), "eta_lambda_max": list(self.eta_lambda),
                "lanczos_converged": list(self.converged),
                "max_eta_lambda_max": self.max_eta_lambda, "distances": list(self.distances),
                "ratio": self.ratio, "diverged": self.diverged, "edge": DAMPING_EDGE,
                "ratio_band": list(ORDER_BAND), "tracks": self.failure() is None,
                "failure": self.failure()}


@dataclasses.dataclass(frozen=True)
class RowTracking:
    """:class:`Tracking` of every seed of a row (``per_seed``, in the row's seed order): gradient
    descent tracks the flow on the row when it does on each of its networks; the precondition
    fails naming the first seed (in the row's order) on which it does not."""

    per_seed: tuple[Tracking, ...]

    @property
    def max_eta_lambda(self) -> float:
        """max over seeds and checkpoints of eta lambda_max (nan if one is not finite)."""
        values = np.asarray([t.max_eta_lambda for t in self.per_seed], dtype=float)
        return float(values.max()) if np.all(np.isfinite(values)) else math.nan

    def failure(self) -> str | None:
        """:meth:`Tracking.failure` of the first seed on which it fails, naming that seed and
        how many of the row's seeds fail, else None."""
        failures = [(t.seed, t.failure()) for t in self.per_seed]
        bad = [(s, f) for s, f in failures if f is not None]
        if not bad:
            return None
        seed, first = bad[0]
        return f"{first}, seed {seed} ({len(bad)} of {len(failures)} seeds do not track)"

    def note(self) -> str:
        """One line for the report's row notes: the worst seed's line and the count."""
        worst = max(self.per_seed, key=lambda t: (t.failure() is not None,
                                                  np.nan_to_num(t.max_eta_lambda, nan=np.inf)))
        good = sum(t.failure() is None for t in self.per_seed)
        return (f"{worst.note()} [worst of {len(self.per_seed)} seeds; {good} of "
                f"{len(self.per_seed)} track]")

    def to_dict(self) -> dict[str, Any]:
        """``CheckResult.extra["flow_tracking"]`` (docs/results-json.md): the row's rule
        (``tracks``, ``failure``, ``max_eta_lambda_max``) and every seed's :meth:`Tracking.to_dict`
        under ``per_seed``."""
        failure = self.failure()
        return {"L": self.per_seed[0].L, "eta": self.per_seed[0].eta, "T": self.per_seed[0].T,
                "seeds": [t.seed for t in self.per_seed],
                "max_eta_lambda_max": self.max_eta_lambda, "edge": DAMPING_EDGE,
                "ratio_band": list(ORDER_BAND), "tracks": failure is None, "failure": failure,
                "per_seed": [t.to_dict() for t in self.per_seed]}


def flow_tracking(config: Config, residual: str = "model3",
                  checkpoint_dir: Path | None = None) -> RowTracking:
    """:class:`Tracking` of every seed of ``config.seeds`` at the deepest depth max(L, depths)
    (cached per configuration: rows that differ only in the statement or the depth grid below
    the deepest share one measurement); ``residual``: "model3", "conv" (Section 4.3's,
    :func:`numerics.sec43.sec43_conv`) or "appd" (Appendix D's scalar network, which has no
    seed: :func:`_appd_tracking`, once).  Each seed's measurement depends on that seed only
    (its data and initialization, its Lanczos start), never on the batch it trains in.  With
    ``checkpoint_dir`` the step-halving trainings of model (3) and Section 4.3 checkpoint there
    (:func:`numerics.flow.step_halving`) and a rerun resumes them."""
    deep = max(config.L, *config.depths)
    config = dataclasses.replace(config, L=deep, depths=(deep,))
    if residual == "appd":
        return RowTracking((_appd_tracking(dataclasses.replace(config, seeds=(config.seed,))),))
    return RowTracking(_tracking(dataclasses.replace(config, seed=config.seeds[0]), residual,
                                 checkpoint_dir))


@functools.lru_cache(maxsize=32)
def _tracking(config: Config, kind: str, checkpoint_dir: Path | None = None
              ) -> tuple[Tracking, ...]:
    """The step-halving runs of every seed batched (one network per seed; after a divergence
    seed by seed, so that only the seeds that diverge are marked), eta lambda_max by Lanczos per
    seed at the checkpoints of its step-eta run; the runs of the batch checkpoint under
    ``checkpoint_dir``/seeds-S0-S1-..."""
    seeds = tuple(config.seeds)
    X, Y = samples(config)
    residual = MLP(config.activation, config.scaling) if kind == "model3" else sec43_conv(config)
    own = None if kind == "model3" else residual  # initial's default is model (3)'s
    flow = Flow.from_config(config)
    marks = [f * config.T for f in CHECKPOINTS]
    try:
        runs = [_halving(initial(config, seeds=seeds, residual=own), X, Y, flow, residual,
                         marks, checkpoint_dir=_seeds_dir(checkpoint_dir, seeds))]
        split = [(runs[0], j) for j in range(len(seeds))]
    except DivergenceError:  # which seeds diverge: seed by seed
        runs = [_halving(initial(config, seeds=(s,), residual=own),
                         X[j:j + 1], Y[j:j + 1], flow, residual, marks, catch=True,
                         checkpoint_dir=_seeds_dir(checkpoint_dir, (s,)))
                for j, s in enumerate(seeds)]
        split = [(run, 0) for run in runs]
    out = []
    for j, (seed, (run, i)) in enumerate(zip(seeds, split, strict=True)):
        times, snaps, distances, diverged = run
        stacked = Params(torch.cat([p.A[i:i + 1] for p in snaps]),
                         tuple(torch.cat([z[i:i + 1] for z in zs])
                               for zs in zip(*(p.Z for p in snaps), strict=True)),
                         torch.cat([p.B[i:i + 1] for p in snaps]))
        c = len(snaps)
        lam, done = flow_lambda_max(stacked, X[j:j + 1].expand(c, -1, -1),
                                    Y[j:j + 1].expand(c, -1, -1), residual, flow, seed=seed)
        out.append(Tracking(config.L, seed, config.eta, config.T, tuple(times),
                            tuple(config.eta * float(v) for v in lam),
                            tuple(bool(v) for v in done),
                            (float(distances[0][i]), float(distances[1][i])), diverged))
    return tuple(out)


def _seeds_dir(folder: Path | None, seeds: Sequence[int]) -> Path | None:
    return None if folder is None else folder / ("seeds-" + "-".join(map(str, seeds)))


def _halving(params: Params, X: Tensor, Y: Tensor, flow: Flow, residual: Residual,
             marks: list[float], *, catch: bool = False, checkpoint_dir: Path | None = None
             ) -> tuple[tuple[float, ...], tuple[Params, ...], tuple[Tensor, Tensor], str]:
    """(checkpoint times, the step-eta run's weights there, the step-halving distances (b,)
    each, the divergence's message or "") of :func:`numerics.flow.step_halving`; with
    ``catch``, a divergence gives t = 0's weights and nan distances instead of raising."""
    try:
        halving = step_halving(params, X, Y, flow, residual, record_times=marks,
                               checkpoint_dir=checkpoint_dir)
    except DivergenceError as exc:
        if not catch:
            raise
        nan = torch.full((params.A.shape[0],), math.nan, dtype=torch.float64)
        return (0.0,), (params,), (nan, nan), str(exc)
    times, snaps = zip(*halving.snapshots, strict=True)
    return tuple(times), tuple(snaps), (halving.differences[0], halving.differences[1]), ""


PATH_POINTS = 16
"""Appendix D's step halving compares the runs at this many equal intervals of [0, T]."""


def _appd_tracking(config: Config) -> Tracking:
    """:class:`Tracking` of Appendix D's scalar network (depth 2L, weights w_1..w_2L; flow
    dw/dt = -2L dl/dw, so P = 2L): eta lambda_max of the dense 2L x 2L Hessian of
    :func:`numerics.appd.loss_torch` (autograd) times 2L at the :data:`CHECKPOINTS`, and the step
    halving as the largest distance max_k |w_k(eta) - w_k(eta/2)| over :data:`PATH_POINTS` + 1
    equally spaced flow times: the runs converge to the same fixed point w*, so their final
    weights agree to rounding and only the path shows gradient descent's O(eta) error."""
    from numerics import appd

    # on the step-eta grid, which the halved runs hit exactly (no O(eta) offset in time)
    grid = [config.eta * round(config.T * j / PATH_POINTS / config.eta)
            for j in range(PATH_POINTS + 1)]
    marks = [f * config.T for f in CHECKPOINTS]
    args = (config.L, config.appd_C, config.appd_x, config.activation, config.T)
    runs, diverged = [], ""
    try:
        runs = [appd.train_appd(*args, config.eta / 2**j, snapshot_times=grid + marks)
                for j in range(3)]
    except DivergenceError as exc:
        diverged = str(exc)
    n = len(grid)
    distances = tuple(max(max(abs(a - b) for a, b in zip(u, v, strict=True)) for u, v in
                          zip(runs[j].snapshots[:n], runs[j + 1].snapshots[:n], strict=True))
                      for j in range(2)) if runs else (math.nan, math.nan)
    points = runs[0].snapshots[n:] if runs else (tuple(appd.init_weights(config.L)),)
    eta_lambda = []
    for w in points:
        H = torch.autograd.functional.hessian(
            lambda v: appd.loss_torch(v, config.appd_x, config.appd_C, config.activation),
            torch.tensor(w, dtype=torch.float64))
        eta_lambda.append(config.eta * 2 * config.L * float(torch.linalg.eigvalsh(H)[-1]))
    times = tuple(marks if runs else (0.0,))
    return Tracking(config.L, config.seed, config.eta, config.T, times, tuple(eta_lambda),
                    (True,) * len(eta_lambda), (distances[0], distances[1]), diverged)

