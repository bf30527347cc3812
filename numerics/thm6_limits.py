r"""Theorem 6 (i), (iii) and the joint limit in (L, t) (p6-7; Proposition 15, Appendix A.6, p30)
measured on trained networks, beyond the theorem's assumptions (m >= c1 n is out of reach).

The trainings are :func:`numerics.longtime.path_runs`' (shared with thm6.smooth_L, ...): model (3),
the unclipped flow (4), one batched run of the seeds per depth of ``config.depths`` (doubling
depths L_0 < ... < L_J), keeping A(t), B(t) at t = T j / :data:`SNAPSHOTS` and every weight at
the times of :func:`kept_times` (:func:`kept_snapshots`).

Notation: h[L, t]_k(x), the hidden states of the depth-L network at flow time t; H[L', t'](s; x),
the neural ODE of Theorem 6 (iii) (p7),

    H(0) = A x,   dH/ds = V(s) sigma(W(s) H / sqrt q) / sqrt m,

model (3)'s residual (:class:`numerics.model.MLP`), driven by the depth-L' network at time t':
A = A^{L'}(t') and (V, W)(s) the piecewise-linear interpolation of its layers Z_k placed at
s = k / L' (Z_1 on [0, 1/L']): the alignment of :mod:`numerics.depth_gaps`, under which the
depth-L' network is the explicit Euler scheme of this ODE (weights at each step's right end).
Solved by DOP853 segment by segment (:func:`ode_states`).  The distance

    dist(L, t; L', t') = max over k = 0..L and x of ||h[L, t]_k(x) - H[L', t'](k/L; x)||,

x over the seed's training sample and :data:`numerics.longtime.FRESH_INPUTS` fresh inputs, is
evaluated at the nodes s = k/L, as :mod:`numerics.recurrences` does (between them the piecewise
constant h^L_{floor(Ls)} adds at most sup ||f(H, Z)|| / L, an O(1/L) term without information).

- Theorem 6 (i), ``thm6.i_AB``: per consecutive pair (L, 2L), the max over the snapshot times t of
  max(||A^L(t) - A^{2L}(t)||_F, ||B^L(t) - B^{2L}(t)||_F).
- Theorem 6 (iii), ``thm6.iii_hidden``: per pair, dist(L, T; 2L, T).  The ODE driven by the next
  depth is the proxy of the ODE driven by Z_inf; a fixed proxy (the deepest network) biases the
  slope toward passing: for errors e(L) = c L^-a that point the same way it measures
  c (L^-a - L_max^-a), whose least-squares slope on L = 2..16 against L_max = 32 is -0.94 for
  a = 1/2 (an L^-1/2 law would pass the 1/L window), while the increment c L^-a (1 - 2^-a) keeps
  the exponent.  dist(L, T; L_max, T) is reported beside it.
- the joint limit, ``thm6.joint``: by Lemma 19 (p37) the double limit exists, whatever the order
  (p7), where the limit in L is uniform in t and the limit in t uniform in L (Proposition 15 (i),
  (ii)).  Measured: the constant of the limit in L along t, C(t) = sup_{t' <= t} max_L L
  dist(L, t'; 2L, t') over :func:`joint_times`, bounded in t (its doubling ratio on T/4, T/2, T,
  as thm6.smooth_T); beside it the limit in t, uniform in L: the tail tau(T') = max_L max_{k, x}
  ||h[L, T']_k(x) - h[L, T'/2]_k(x)|| for T' in {T/4, T/2, T}; the Cauchy increments along the
  diagonal (L_i, T_i), T_i = T / 2^(J - i) (t proportional to L), dist(L_i, T_i; L_(i+1),
  T_(i+1)) and those of A, B; and the grid dist(L, T'; L_max, T), ||A^L(T') - A^(L_max)(T)||_F, ...
  for T' in {T/4, T/2, T} (distances to the deepest network at the horizon, the proxy of the
  double limit).

The three statements' measurements and facts are bound to their catalog entries at the end
(family S6, with :mod:`numerics.thm6`; :func:`theory.catalog.bind`).
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from scipy.integrate import solve_ivp

from numerics.evidence import Evidence, doubling_facts, fit_rate, rate_evidence
from numerics.flow import TrainResult
from numerics.longtime import doubling_ratio
from numerics.measure import Measurement, samples
from numerics.model import MLP, Params, hidden_states
from numerics.thm6 import measure_thm6_path, path_precondition
from theory.catalog import ONE_OVER_L, Statement, bind
from theory.config import Config

Tensor = torch.Tensor
SNAPSHOTS = 16
"""A(t), B(t) are kept at t = T j / SNAPSHOTS, j = 0..SNAPSHOTS (the sup over t of (i))."""
GRID_TIMES = (0.25, 0.5, 1.0)
"""The times T' / T of the (L, T') grid, of the tail tau(T') and of C(t)'s doubling ratio."""
RTOL = 1e-10
"""DOP853's tolerances (relative and absolute) for the ODE H (:func:`ode_states`): at least four
orders below every distance measured (>= 1e-6), and 1e-12 costs twice the right-hand sides."""


def diagonal_times(config: Config) -> list[float]:
    """T_i = T / 2^(J - i), i = 0..J, for the J + 1 depths of ``config.depths``."""
    J = len(config.depths) - 1
    return [config.T / 2 ** (J - i) for i in range(J + 1)]


def joint_times(config: Config) -> list[float]:
    """The times at which C(t) is measured: the diagonal times and T' in ``T GRID_TIMES``."""
    return sorted(set(diagonal_times(config)) | {config.T * g for g in GRID_TIMES})


def kept_times(config: Config) -> list[float]:
    """The times at which a path run keeps every weight: :func:`joint_times` and T'/2 for the
    tail tau(T')."""
    return sorted(set(joint_times(config)) | {config.T * g / 2 for g in GRID_TIMES})


def snapshot_times(config: Config) -> list[float]:
    """The flow times at which :func:`numerics.longtime.path_runs` records parameters: T j /
    :data:`SNAPSHOTS` and :func:`kept_times` (snapped to iterations by the training)."""
    grid = {config.T * j / SNAPSHOTS for j in range(SNAPSHOTS + 1)}
    return sorted(grid | set(kept_times(config)))


def kept_snapshots(config: Config, result: TrainResult) -> dict[str, Any]:
    """What a path run keeps of its snapshots (float64, CPU): the recorded times ``t``, ``A``
    (R, b, q, d) and ``B`` (R, b, d', q) at every one, and ``params`` {index: Params} at the
    recorded times nearest :func:`kept_times` (O(L) memory each)."""
    t = result.record_times.double()
    snaps = [p.to("cpu", torch.float64) for p in result.snapshots]
    kept = {int(torch.argmin((t - w).abs())) for w in kept_times(config)}
    return {"t": t.tolist(), "A": torch.stack([p.A for p in snaps]),
            "B": torch.stack([p.B for p in snaps]), "params": {i: snaps[i] for i in kept}}


def ode_states(params: Params, X: Tensor, s: Sequence[float], activation: str) -> Tensor:
    """H(s) for the points ``s`` (increasing, in [0, 1]) of the ODE driven by each of the b
    networks of ``params`` (module docstring), each on its own inputs X (b, N, d): a
    (len(s), b, N, q) float64 tensor.

    DOP853 (scipy's, as :func:`numerics.node.node_hidden`, at rtol = atol = :data:`RTOL`) on each
    segment [j/L', (j+1)/L'], where the interpolated weights are linear, so that no step straddles
    a kink of the interpolation; the b networks form one system (the same segments)."""
    p = params.to("cpu", torch.float64)
    V, W = (torch.cat([z[:, :1], z], dim=1) for z in (p.V, p.W))  # Z_1 at s = 0
    Lp = p.L
    f = MLP(activation, "paper")
    H = X.to(torch.float64) @ p.A.mT
    shape = H.shape
    out = {0.0: H}
    for j in range(Lp):
        s0, s1 = j / Lp, (j + 1) / Lp

        def rhs(u: float, y: np.ndarray, j: int = j, s0: float = s0) -> np.ndarray:
            a = (u - s0) * Lp
            z = ((1 - a) * V[:, j] + a * V[:, j + 1], (1 - a) * W[:, j] + a * W[:, j + 1])
            return f(torch.from_numpy(y).view(shape), z).reshape(-1).numpy()

        points = sorted({x for x in s if s0 < x < s1} | {s1})
        sol = solve_ivp(rhs, (s0, s1), H.reshape(-1).numpy(), method="DOP853", t_eval=points,
                        rtol=RTOL, atol=RTOL)
        if not sol.success:  # pragma: no cover - DOP853 fails only on non-finite right sides
            raise ArithmeticError(f"neural ODE solve failed: {sol.message}")
        states = torch.from_numpy(sol.y.T.copy()).view(-1, *shape)
        out.update(zip(points, states, strict=True))
        H = states[-1]
    return torch.stack([out[x] for x in s])


def network_states(params: Params, X: Tensor, activation: str) -> Tensor:
    """h_0, ..., h_L of model (3) for each network on its inputs X (b, N, d): (L+1, b, N, q)."""
    with torch.no_grad():
        return hidden_states(params, X, MLP(activation, "paper")).double()


def state_distance(h: Tensor, H: Tensor) -> list[float]:
    """Per network, max over k and x of ||h_k(x) - H_k(x)|| (h, H: (L+1, b, N, q))."""
    return [float(v) for v in torch.linalg.vector_norm(h - H, dim=-1).amax(dim=(0, 2))]


def outer_distance(A: Tensor, B: Tensor, A2: Tensor, B2: Tensor) -> list[float]:
    """Per network, max(||A - A2||_F, ||B - B2||_F) (A, A2: (b, q, d); B, B2: (b, d', q))."""
    fro = torch.linalg.matrix_norm
    return [float(v) for v in torch.maximum(fro(A - A2), fro(B - B2))]


def inputs(config: Config) -> Tensor:
    """Per seed, its training sample and the fresh inputs of :func:`numerics.longtime.path_runs`:
    (b, n + FRESH_INPUTS, d), float64."""
    from numerics.longtime import fresh_inputs

    X, _ = samples(config)
    fresh = fresh_inputs(config).to(X).expand(X.shape[0], -1, -1)
    return torch.cat([X, fresh], dim=1).to("cpu", torch.float64)


class _Distances:
    """dist(L, t; L', t') of the module docstring; network states and ODE solves cached."""

    def __init__(self, config: Config, per_depth: list[dict[str, Any]]) -> None:
        self.config, self.X = config, inputs(config)
        self.snaps = {d["L"]: d["snapshots"] for d in per_depth}
        self.nodes = sorted({k / D for D in config.depths for k in range(D + 1)})
        self.ode: dict[tuple[int, float], Tensor] = {}
        self.net: dict[tuple[int, float], Tensor] = {}

    def params(self, L: int, t: float) -> Params:
        """The kept parameters of depth L recorded nearest the flow time t."""
        snaps = self.snaps[L]
        times = np.asarray(snaps["t"])
        return snaps["params"][int(np.argmin(np.abs(times - t)))]

    def states(self, L: int, t: float) -> Tensor:
        if (L, t) not in self.net:
            self.net[(L, t)] = network_states(self.params(L, t), self.X, self.config.activation)
        return self.net[(L, t)]

    def outer(self, L: int, t: float, Lp: int, tp: float) -> list[float]:
        """max(||A^L(t) - A^L'(t')||_F, ||B^L(t) - B^L'(t')||_F) per seed."""
        p, r = self.params(L, t), self.params(Lp, tp)
        return outer_distance(p.A, p.B, r.A, r.B)

    def tail(self, L: int, t: float) -> list[float]:
        """Per seed, max over k and x of ||h[L, t]_k(x) - h[L, t/2]_k(x)||."""
        return state_distance(self.states(L, t), self.states(L, t / 2))

    def __call__(self, L: int, t: float, Lp: int, tp: float) -> list[float]:
        if (Lp, tp) not in self.ode:
            self.ode[(Lp, tp)] = ode_states(self.params(Lp, tp), self.X, self.nodes,
                                            self.config.activation)
        index = [self.nodes.index(k / L) for k in range(L + 1)]
        return state_distance(self.states(L, t), self.ode[(Lp, tp)][index])


@functools.lru_cache(maxsize=2)
def distances(config: Config) -> _Distances:
    """dist(., .; ., .) over the cached path runs of ``config`` (its ODE solves cached too)."""
    from numerics.longtime import path_runs

    return _Distances(config, path_runs(config)["per_depth"])


def _pairs(config: Config) -> list[tuple[int, int]]:
    return list(itertools.pairwise(config.depths))


def outer_pairs(config: Config) -> list[list[float]]:
    """Per pair (L, 2L), per seed, the max over the snapshot times of max(||A^L - A^2L||_F,
    ||B^L - B^2L||_F): Theorem 6 (i)."""
    snaps = [distances(config).snaps[L] for L in config.depths]
    return [np.max([outer_distance(a["A"][j], a["B"][j], b["A"][j], b["B"][j])
                    for j in range(len(a["t"]))], axis=0).tolist()
            for a, b in itertools.pairwise(snaps)]


def joint(config: Config) -> dict[str, Any]:
    """The joint limit's series (module docstring; lists over grid points, then seeds)."""
    dist, depths, T = distances(config), list(config.depths), config.T
    times = joint_times(config)
    # C(t) per seed: max over pairs of L dist(L, t; 2L, t), then its running sup over t
    scaled = [np.max([np.multiply(L, dist(L, t, Lp, t)) for L, Lp in _pairs(config)], axis=0)
              for t in times]
    C = np.maximum.accumulate(np.asarray(scaled), axis=0)
    at = [times.index(T * g) for g in GRID_TIMES]
    diag = diagonal_times(config)
    steps = list(zip(depths, diag, depths[1:], diag[1:], strict=False))
    return {"L": depths, "L_pair": depths[:-1], "T_joint": times, "C_t": C.tolist(),
            "doubling_per_seed": [doubling_ratio(*(C[i, j] for i in at))
                                  for j in range(C.shape[1])],
            "T_grid": [T * g for g in GRID_TIMES],
            "tail": [np.max([dist.tail(L, T * g) for L in depths], axis=0).tolist()
                     for g in GRID_TIMES],
            "T_diag": diag, "diag_hidden": [dist(*step) for step in steps],
            "diag_ab": [dist.outer(*step) for step in steps],
            "grid_hidden": [[dist(L, T * g, depths[-1], T) for L in depths] for g in GRID_TIMES],
            "grid_ab": [[dist.outer(L, T * g, depths[-1], T) for L in depths]
                        for g in GRID_TIMES]}


def tail_rate(T_grid: Sequence[float], tail: Sequence[Sequence[float]]) -> float:
    """r of tau(T') ~ c e^{-r T'/2} (the increment over [T'/2, T'] of a path converging like
    e^{-r t} is dominated by its start): -2 x the least-squares slope of log of the seed-median
    of tau against T' (nan if a median is not positive)."""
    med = np.median(np.asarray(tail, dtype=float), axis=1)
    if not np.all(med > 0):
        return math.nan
    return float(-2 * np.polyfit(np.asarray(T_grid, dtype=float), np.log(med), 1)[0])


def _measurement(sid: str, config: Config, distance: list[list[float]] | None = None,
                 **series: Any) -> Measurement:
    """The statement's series (``distance`` on grid "L_pair") with the measured precondition
    of the S6 measured-constant checks (:func:`numerics.thm6.measure_thm6_path`'s values)."""
    path = measure_thm6_path(config)
    if distance is not None:
        series = {"L_pair": list(config.depths[:-1]), "distance": distance, **series}
    return Measurement(sid, config, dict(path.values), path.inputs, series)


def measure_i_AB(config: Config) -> Measurement:
    """Theorem 6 (i): sup_t max(||A^L - A^{2L}||_F, ||B^L - B^{2L}||_F) per pair (t over the
    :data:`SNAPSHOTS` + 1 snapshot times)."""
    return _measurement("thm6.i_AB", config, outer_pairs(config))


def measure_iii_hidden(config: Config) -> Measurement:
    """Theorem 6 (iii): dist(L, T; 2L, T) per pair; dist(L, T; L_max, T) per depth beside it."""
    dist, T, depths = distances(config), config.T, list(config.depths)
    return _measurement("thm6.iii_hidden", config, [dist(L, T, Lp, T) for L, Lp in
                                                    _pairs(config)], L=depths,
                        hidden_deepest=[dist(L, T, depths[-1], T) for L in depths])


def measure_joint(config: Config) -> Measurement:
    """The joint limit: per seed the doubling ratio of C(t) on T/4, T/2, T; beside it C(t), the
    tail tau(T') with its rate, the diagonal increments and the (L, T') grid."""
    series = joint(config)
    m = _measurement("thm6.joint", config, **series)
    m.values["tail_rate"] = tail_rate(series["T_grid"], series["tail"])
    return m


MEASURED = {
    "thm6.i_AB": "sup_t max(||A^L(t) - A^(2L)(t)||_F, ||B^L(t) - B^(2L)(t)||_F)",
    "thm6.iii_hidden": "max_(k,x) ||h^L_k(x; T) - H^(2L)_T(k/L; x)|| (H^(2L): the ODE driven by "
                       "the depth-2L network's interpolated weights)",
}
"""What the rate checks fit against log L, in words."""


def _row(values: Sequence[Sequence[float]]) -> str:
    return ", ".join(f"{np.mean(v):.3g}" for v in values)


def report(statement: Statement, m: Measurement) -> tuple[list[str], dict[str, Any]]:
    """Notes and auxiliary numbers of a check of the three statements: the constants L x
    distance, the fixed-proxy fit (iii), and for the joint limit C(t), the tail in t with its
    rate beside the proof's mu_emp / 2 (p20: ||A^L(t) - A^L_inf||_F <= (M/2) e^(-mu t/2)), the
    diagonal increments and the (L, T') grid (seed means)."""
    from numerics.rates import rate_fit

    s, window = m.series, statement.rate_window
    pairs = s["L_pair"]
    if statement.id != "thm6.joint":
        const = [[L * v for v in row] for L, row in zip(pairs, s["distance"], strict=True)]
        notes = [f"measured constant L x distance for L = {pairs}: {_row(const)}"]
        extra: dict[str, Any] = {}
        if statement.id == "thm6.iii_hidden":
            fit = rate_fit(s["L"][:-1], s["hidden_deepest"][:-1], window)
            extra["rate_deepest"] = fit.to_dict()
            notes.append(f"to the ODE driven by the deepest network instead (a fixed proxy, "
                         f"biased toward steeper slopes): {_row(s['hidden_deepest'])} for L = "
                         f"{s['L']}, slope {fit.slope:.3g} [{fit.interval[0]:.3g}, "
                         f"{fit.interval[1]:.3g}]")
        return notes, extra
    diag = rate_fit(pairs, s["diag_hidden"], ONE_OVER_L)
    rate, mu = m.values["tail_rate"], m.values["mu_emp"]
    notes = [f"C(t) at t = {s['T_joint']}: {_row(s['C_t'])}",
             f"the limit in t, uniform in L: tau(T') = max_L max_(k,x) ||h^L(T') - h^L(T'/2)|| "
             f"= {_row(s['tail'])} at T' = {s['T_grid']}, decaying like e^(-r T'/2) with r = "
             f"{rate:.3g}, against the rate mu / 2 of Proposition 8's proof (p20) with the "
             f"measured PL constant mu_emp = inf_t G/l: {mu / 2:.3g}",
             f"diagonal t = T L / L_max: increments dist(L_i, T_i; L_(i+1), T_(i+1)) = "
             f"{_row(s['diag_hidden'])} (A, B: {_row(s['diag_ab'])}) for L_i = {pairs}, slope "
             f"{diag.slope:.3g} [{diag.interval[0]:.3g}, {diag.interval[1]:.3g}]",
             "grid dist(L, T'; L_max, T) for L = " + str(s["L"]) + ": " + "; ".join(
                 f"T' = {t:g}: {_row(row)}" for t, row in zip(s["T_grid"], s["grid_hidden"],
                                                               strict=True))]
    return notes, {"rate_diagonal": diag.to_dict(), "tail_rate": rate}


def _facts(st: Statement, c: Config, m: Measurement) -> Evidence:
    """Theorem 6 (i), (iii) and the joint limit (:data:`MEASURED`, :func:`report`: what is
    measured, the grid and the tail in words)."""
    if st.id == "thm6.joint":
        facts, interval = doubling_facts(c, m.series["doubling_per_seed"])
        evidence = Evidence(facts, notes=[f"measured: the median over seeds of (C(T) - C(T/2)) / "
                                          f"(C(T/2) - C(T/4)); its {interval}"])
    else:
        evidence = rate_evidence(fit_rate(m, "distance", st, grid="L_pair"),
                                 f"slope of log {MEASURED[st.id]} against log L")
    notes, extra = report(st, m)
    evidence.notes += notes
    evidence.extra.update(extra)
    return path_precondition(evidence, m)


bind("thm6.i_AB", measure=measure_i_AB, facts=_facts)
bind("thm6.iii_hidden", measure=measure_iii_hidden, facts=_facts)
bind("thm6.joint", measure=measure_joint, facts=_facts)
