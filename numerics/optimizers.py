r"""Remark 1 (Appendix A.1, p17 of the PDF): heavy-ball momentum and Adam on model (3), unclipped.

Remark 1 says that clipping (the map pi of flow (5)) is "merely a technical assumption to avoid
blow-up of the weights" and is not required "in any scenario where we know that the weights do
not blow up", naming the PL condition and "gradient flow with momentum ... closer to Adam", for
which "the gradient updates ... are bounded by construction".  No theorem covers either optimizer;
this module measures, beyond scope, whether the conclusions of Proposition 7 and Theorem 6 (ii)
(neighbouring layers O(1/L) apart) survive them, and whether the weights stay bounded.

Both optimizers act on the right-hand side of flow (4), the field

    G = (dl/dA, L dl/dZ_1, ..., L dl/dZ_L, dl/dB)      (explicit gradients (13)-(16)),

and return a direction D = dtheta/dt; a step is theta <- theta - eta D, so that N steps are the
flow time t = N eta, as for gradient descent (numerics.flow), whose D is G itself.

- Heavy ball with momentum ``beta`` (:class:`HeavyBall`): v <- beta v + G, D = (1 - beta) v,
  v(0) = 0.  This is ``torch.optim.SGD(lr=eta (1 - beta), momentum=beta)`` on the gradients G:
  with torch's learning rate ``lr`` a step advances the flow time by lr / (1 - beta), the time
  scale of its steady state v = G / (1 - beta).  The velocity is an average of past fields with
  memory eta / (1 - beta) in flow time (0.1 at eta = 0.01, beta = 0.9); as eta -> 0 at fixed
  beta the iterates converge to flow (4) itself (tests/test_optimizers.py), so momentum is
  tested at the finite steps people use.
- Adam (:class:`Adam`, Kingma & Ba 2015, as ``torch.optim.Adam``): m <- b1 m + (1 - b1) G,
  s <- b2 s + (1 - b2) G^2, D = (m / (1 - b1^k)) / (sqrt(s / (1 - b2^k)) + eps) at step k, with
  torch's ``lr`` = eta.  Adam is invariant to a rescaling of the gradients up to eps, so feeding
  it G rather than dl/dZ_k changes only eps (eps / L on the raw gradients of Z).  Each
  coordinate of D is bounded, |D| <= :data:`ADAM_BOUND` = (1 - b1) / sqrt((1 - b2)(1 - b1^2 / b2))
  = 7.27 (Cauchy-Schwarz on the two averages, b1^2 < b2; the bias corrections' ratio
  sqrt(1 - b2^k) / (1 - b1^k) is <= 1): Remark 1's "updates bounded by construction", which
  heavy ball's are not; with a constant field G, D = G / (|G| + eps), a
  coordinatewise sign: Adam resembles the clipped flow (5) with a saturated coordinate clipping
  at c = 1 rather than flow (4) (a speed of order sqrt(#entries) per layer).

Hyperparameters: beta = :data:`BETA` = 0.9, the momentum of the testbed's real-data SGD
(numerics.realdata, Section 5.2); Adam's :data:`ADAM_BETAS` and :data:`ADAM_EPS` are Kingma &
Ba's (torch's) defaults.  The paper gives neither.

Networks (seeds) are batched as in numerics.flow: both optimizers are entrywise, so the b
networks stay independent.  Memory is O(L) (two buffers per parameter for Adam), metrics are
streamed by :class:`numerics.metrics.Monitor`, never a trajectory.  Each remark1.* statement's
measurement and facts are bound to its catalog entry at the end (family S16;
:func:`theory.catalog.bind`).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any

import numpy as np
import torch

from numerics.evidence import Evidence, doubling_facts, fit_rate, rate_evidence
from numerics.flow import Flow, _stored_for, single_thread
from numerics.flow import train as train_gd
from numerics.gradients import Workspace
from numerics.longtime import INTERPOLATION_LEVEL, doubling_ratio
from numerics.measure import Measurement, data_inputs, initial, samples
from numerics.metrics import ROW, SERIES, Monitor, frobenius, layer_norms, trained_gap
from numerics.model import MLP, Params, batched_data
from theory.catalog import Statement, bind
from theory.config import Config
from theory.errors import ConfigError

Tensor = torch.Tensor
BETA = 0.9
ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
ADAM_BOUND = (1 - ADAM_BETAS[0]) / math.sqrt((1 - ADAM_BETAS[1])
                                             * (1 - ADAM_BETAS[0] ** 2 / ADAM_BETAS[1]))
"""The largest |coordinate| of Adam's direction D (module docstring)."""
POINTS = 64
"""Recorded flow times per run (every N / POINTS iterations, and the last)."""


class HeavyBall:
    """Heavy ball in flow-time units: v <- beta v + G, D = (1 - beta) v (module docstring)."""

    def __init__(self, like: list[Tensor], beta: float = BETA) -> None:
        self.beta, self.v = beta, [torch.zeros_like(t) for t in like]

    def direction(self, G: list[Tensor]) -> list[Tensor]:
        torch._foreach_mul_(self.v, self.beta)
        torch._foreach_add_(self.v, G)
        return torch._foreach_mul(self.v, 1 - self.beta)


class Adam:
    """Adam: D = (m / (1 - b1^k)) / (sqrt(s / (1 - b2^k)) + eps) (module docstring)."""

    def __init__(self, like: list[Tensor], betas: tuple[float, float] = ADAM_BETAS,
                 eps: float = ADAM_EPS) -> None:
        self.betas, self.eps, self.k = betas, eps, 0
        self.m = [torch.zeros_like(t) for t in like]
        self.s = [torch.zeros_like(t) for t in like]

    def direction(self, G: list[Tensor]) -> list[Tensor]:
        (b1, b2), self.k = self.betas, self.k + 1
        torch._foreach_mul_(self.m, b1)
        torch._foreach_add_(self.m, G, alpha=1 - b1)
        torch._foreach_mul_(self.s, b2)
        torch._foreach_addcmul_(self.s, G, G, value=1 - b2)
        denom = torch._foreach_sqrt(self.s)
        torch._foreach_div_(denom, math.sqrt(1 - b2**self.k))
        torch._foreach_add_(denom, self.eps)
        D = torch._foreach_div(self.m, denom)
        torch._foreach_div_(D, 1 - b1**self.k)
        return D


OPTIMIZERS = {"momentum": HeavyBall, "adam": Adam}
NAMES = {"momentum": f"heavy ball (beta = {BETA})",
         "adam": f"Adam (betas = {ADAM_BETAS}, eps = {ADAM_EPS:g})"}


@dataclasses.dataclass(frozen=True)
class Run:
    """What :func:`train` measured: ``series[name]`` (R, b) of :data:`numerics.metrics.SERIES` at
    the flow times ``times`` (every ``record_every``-th iteration and the last), ``maxima[name]``
    (b,) over every iteration (rhs_*: the largest applied speeds ||D||, the paper's norms), the
    final ``params``."""

    params: Params
    times: Tensor
    series: dict[str, Tensor]
    maxima: dict[str, Tensor]


def train(params: Params, X: Tensor, Y: Tensor, config: Config, optimizer: str, *,
          record_every: int = 1) -> Run:
    """N = ``config.iterations`` steps theta <- theta - eta D of ``optimizer`` ("momentum" or
    "adam") from ``params`` (not modified) on model (3) with ``config``'s activation, scaling,
    step eta and ``trains_outer``; X (b, n, d), Y (b, n, d') or unbatched."""
    if optimizer not in OPTIMIZERS:
        raise ConfigError("optimizer", optimizer, f"must be one of {', '.join(OPTIMIZERS)}")
    residual = MLP(config.activation, config.scaling)
    p = _stored_for(params, residual)
    p0 = Params(params.A.clone(), tuple(z.clone() for z in params.Z), params.B.clone())
    ws = Workspace(p, batched_data(p, X), batched_data(p, Y, "Y", p.d_out), residual, p0)
    monitor = Monitor(p, p0, ws)
    outer = config.trains_outer
    weights = [p.A, *p.Z, p.B] if outer else list(p.Z)
    scales = [1.0, *[float(p.L)] * len(p.Z), 1.0] if outer else [float(p.L)] * len(p.Z)
    opt = OPTIMIZERS[optimizer](weights)
    N, row, rows, times = config.iterations, monitor.row, [], []
    with single_thread(p.A.device), torch.no_grad():
        for i in range(N + 1):
            loss, g = ws.compute()
            monitor.measure(loss, g)
            if i == N:  # no step: no speed
                for name in ("rhs_a", "rhs_z", "rhs_b"):
                    row[ROW[name]].zero_()
            else:
                grads = [g.A, *g.Z, g.B] if outer else list(g.Z)
                D = opt.direction(torch._foreach_mul(grads, scales))
                Dz = tuple(D[1:-1]) if outer else tuple(D)
                row[ROW["rhs_z"]] = layer_norms(Dz).amax(1)
                row[ROW["rhs_a"]], row[ROW["rhs_b"]] = ((frobenius(D[0]), frobenius(D[-1]))
                                                        if outer else (0.0, 0.0))
                torch._foreach_add_(weights, D, alpha=-config.eta)
            monitor.accumulate()
            if i % record_every == 0 or i == N:
                rows.append(row.clone())
                times.append(i * config.eta)
    stacked = torch.stack(rows).cpu()
    return Run(p, torch.tensor(times, dtype=torch.float64),
               {name: stacked[:, j] for j, name in enumerate(SERIES)},
               {name: monitor.maxima[j].cpu() for j, name in enumerate(SERIES)})


def _largest(source: dict[str, Tensor], *names: str) -> np.ndarray:
    return np.max([source[k].double().numpy() for k in names], axis=0)


@functools.lru_cache(maxsize=8)
def gradient_descent(config: Config, L: int) -> dict[str, list[float]]:
    """The reference of :func:`runs` at depth L: gradient descent on ``config``'s flow from the
    same samples and initializations, per seed sup_t max_k gap, the largest speed of Z and l(T)
    (cached: both optimizers' rows of one configuration share it)."""
    X, Y = samples(config)
    gd = train_gd(initial(config, seeds=config.seeds, L=L), X, Y, Flow.from_config(config),
                  MLP(config.activation, config.scaling), record_every=config.iterations)
    return {"gd_gap": gd.maxima["gap"].tolist(), "gd_speed": gd.maxima["rhs_z"].tolist(),
            "gd_lT": gd.series["loss"][-1].double().tolist()}


@functools.lru_cache(maxsize=8)
def runs(config: Config, optimizer: str) -> dict[str, Any]:
    """For every depth of ``config.depths``, the seeds of ``config.seeds`` batched on their own
    samples and initializations (:func:`numerics.measure.samples`, :func:`numerics.measure.
    initial`, as the gradient-descent rows), trained by ``optimizer`` and, as the reference, by
    gradient descent on ``config``'s flow (:func:`gradient_descent`).  Per depth, per seed:
    sup_t max_k ||Z_(k+1) - Z_k|| (both), max_k ||D_(k+1) - D_k|| at T for D_k = Z_k(T) - Z_k(0)
    (what training changed), sup_t max(||A||_F, sup_k ||Z_k||, ||B||_F) and its value at t = 0,
    the largest speeds of Z (both), l(0), l(T) (both) and the doubling ratio of R(t) =
    sup_(s<=t) max(||A - A(0)||_F, sup_k ||Z_k - Z_k(0)||, ||B - B(0)||_F) on T/4, T/2, T (over
    the recorded times, R(T) streamed) with the late growth (R(T) - R(T/2)) / R(T)."""
    X, Y = samples(config)
    every = max(1, config.iterations // POINTS)
    out: dict[str, Any] = {"depths": list(config.depths), "per_depth": []}
    for L in config.depths:
        p0 = initial(config, seeds=config.seeds, L=L)
        run = train(p0, X, Y, config, optimizer, record_every=every)
        t = run.times.numpy()
        R = np.maximum.accumulate(_largest(run.series, "dist_a", "dist_z", "dist_b"), axis=0)
        R[-1] = np.maximum(R[-1], _largest(run.maxima, "dist_a", "dist_z", "dist_b"))
        R = np.where(np.isfinite(R), R, np.inf)
        iq, ih = (int(np.searchsorted(t, t[-1] * f * (1 - 1e-9))) for f in (0.25, 0.5))
        loss = run.series["loss"].double().numpy()
        out["per_depth"].append({
            "L": L, "gap": run.maxima["gap"].tolist(), **gradient_descent(config, L),
            "moved": trained_gap(run.params.Z, p0.Z).tolist(),
            "norm": _largest(run.maxima, "a_norm", "z_norm", "b_norm").tolist(),
            "norm0": _largest(run.series, "a_norm", "z_norm", "b_norm")[0].tolist(),
            "speed": run.maxima["rhs_z"].tolist(), "l0": loss[0].tolist(),
            "lT": loss[-1].tolist(),
            "R_doubling": [doubling_ratio(R[iq, j], R[ih, j], R[-1, j])
                           for j in range(R.shape[1])], "sup_dist": R[-1].tolist(),
            "R_late": ((R[-1] - R[ih]) / np.maximum(R[-1], 1e-300)).tolist()})
    return out


def measure(config: Config, optimizer: str) -> Measurement:
    """The measurement of ``remark1.<optimizer>_L`` and ``remark1.<optimizer>_bounded``
    (:func:`runs`): series on the depth grid "L" (``values``: sup_t max_k gap; ``gd``: gradient
    descent's; ``moved``: the gap of what training changed), ``R_doubling`` (per seed, max over
    L); values: the largest norm over t, L and seeds against the largest at t = 0, the largest
    speeds, the median over seeds of the largest late growth of R over L, the loss ratios
    l(T)/l(0) and the fractions of (seed, depth) runs with l(T) <= INTERPOLATION_LEVEL l(0) (the
    optimizer's and gradient descent's)."""
    per = runs(config, optimizer)["per_depth"]

    def column(key: str) -> np.ndarray:
        return np.asarray([d[key] for d in per], dtype=float)

    ratio, gd_ratio = column("lT") / column("l0"), column("gd_lT") / column("l0")
    values = {"max_norm": float(column("norm").max()), "max_norm0": float(column("norm0").max()),
              "norm_growth": float((column("norm") / column("norm0")).max()),
              "sup_dist": float(column("sup_dist").max()),
              "R_late": float(np.median(column("R_late").max(axis=0))),
              "max_speed": float(column("speed").max()),
              "gd_max_speed": float(column("gd_speed").max()),
              "l_T_over_l0": float(np.median(ratio, axis=1).max()),
              "gd_l_T_over_l0": float(np.median(gd_ratio, axis=1).max()),
              "interpolated_T": float(np.mean(ratio <= INTERPOLATION_LEVEL)),
              "gd_interpolated_T": float(np.mean(gd_ratio <= INTERPOLATION_LEVEL))}
    series = {"L": [d["L"] for d in per], "values": column("gap").tolist(),
              "gd": column("gd_gap").tolist(), "moved": column("moved").tolist(),
              "R_doubling": column("R_doubling").max(axis=0).tolist(),
              "l_T_over_l0": ratio.tolist()}
    return Measurement(f"remark1.{optimizer}", config, values, data_inputs(*samples(config)),
                       series, [NAMES[optimizer]])


def describe(m: Measurement) -> str:
    """The measured context of a remark1.* check, beside gradient descent's on the same data and
    initializations: loss decay and interpolation, weight norms, speeds, late growth of R."""
    v = m.values
    return (f"{m.notes[0]} vs gradient descent (same samples, initializations, eta, T): median "
            f"l(T)/l(0), largest over depths, {v['l_T_over_l0']:.3g} (GD "
            f"{v['gd_l_T_over_l0']:.3g}); runs with l(T) <= {INTERPOLATION_LEVEL:g} l(0): "
            f"{100 * v['interpolated_T']:.0f}% "
            f"(GD {100 * v['gd_interpolated_T']:.0f}%); max_t max(||A||_F, sup_k ||Z_k||, "
            f"||B||_F) = {v['max_norm']:.4g} against {v['max_norm0']:.4g} at t = 0 (largest "
            f"growth factor {v['norm_growth']:.3g}); largest speed sup_k ||dZ_k/dt|| "
            f"{v['max_speed']:.3g} (GD {v['gd_max_speed']:.3g}); sup_t dist from initialization "
            f"{v['sup_dist']:.3g}, of which (R(T) - R(T/2)) / R(T) = {v['R_late']:.3g} (median)")


def optimizer_of(statement_id: str) -> str:
    """"momentum" or "adam": the optimizer a remark1.* statement is about."""
    return statement_id.split(".")[1].split("_")[0]


def _remark1_L(st: Statement, c: Config, m: Measurement) -> Evidence:
    """Remark 1: the 1/L shape of the neighbour gap under momentum or Adam (the fit decides),
    with gradient descent's on the same draws and the fit of what training changed beside it."""
    evidence = rate_evidence(fit_rate(m, "values", st), f"slope of log sup_(t<=T) max_k "
                             f"||Z_(k+1)(t) - Z_k(t)|| against log L under {m.notes[0]}, "
                             "unclipped (numerics.optimizers)",
                             **{f"rate_{k}": fit_rate(m, k, st).to_dict()
                                for k in ("gd", "moved")})
    evidence.notes.append(describe(m))
    return evidence


def _remark1_bounded(st: Statement, c: Config, m: Measurement) -> Evidence:
    """Remark 1: the weights bounded in t, as Proposition 8 (i) (the doubling ratio of R)."""
    facts, interval = doubling_facts(c, m.series["R_doubling"])
    return Evidence(facts, notes=[f"measured: the median over seeds of max_L of the doubling "
                                  f"ratio of R(t) = sup_(s<=t) dist from initialization on T/4, "
                                  f"T/2, T under {m.notes[0]} (per seed: "
                                  + ", ".join(f"{x:.3g}" for x in m.series["R_doubling"])
                                  + f"); its {interval}", describe(m)])


for _id in ("remark1.momentum_L", "remark1.adam_L", "remark1.momentum_bounded",
            "remark1.adam_bounded"):
    bind(_id, measure=functools.partial(measure, optimizer=optimizer_of(_id)),
         facts=_remark1_L if _id.endswith("_L") else _remark1_bounded)
