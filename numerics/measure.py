"""One measurement per catalog statement: what the networks actually do, with its configuration.

``measure(statement_id, config)`` returns a :class:`Measurement`: named measured numbers
(``values``), the data-dependent inputs a bound needs (``inputs``: M_X, M_Y, M0, the initial
neighbour gap, ...), named series for figures (``series``, JSON-ready lists) and notes.  It never
decides a verdict: :mod:`numerics.checks` compares with :mod:`theory`.  Statements that share a
training run (S1 and S3) share it through a small in-process cache keyed by the (frozen) config.

Norms are the paper's: ||Z_k|| = ||V_k||_F + ||W_k||_F, ||A||_F, ||B||_F
(docs/statements.md, Conventions).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from numerics import appd, node, progress, realdata, sampling
from numerics.data import make_batch, make_data
from numerics.depth_study import depth_study
from numerics.flow import Flow, TrainResult, step_halving, train
from numerics.gradients import loss_and_grads
from numerics.init import init_params
from numerics.metrics import frobenius, layer_norms, successive_gaps, trained_gap
from numerics.model import MLP, Conv, Params, Residual, forward
from numerics.rates import loglog_slope
from theory.catalog import catalog
from theory.config import Config


@dataclasses.dataclass
class Measurement:
    """Measured numbers for one statement and one configuration (no verdict)."""

    id: str
    config: Config
    values: dict[str, float]
    inputs: dict[str, float] = dataclasses.field(default_factory=dict)
    series: dict[str, list[Any]] = dataclasses.field(default_factory=dict)
    notes: list[str] = dataclasses.field(default_factory=list)


# --------------------------------------------------------------------------- shared runs


@functools.lru_cache(maxsize=4)
def data(config: Config) -> tuple[torch.Tensor, torch.Tensor]:
    """The synthetic sample (X, Y) of ``config`` (drawn with ``config.seed``)."""
    return make_data(config.data, n=config.n, d=config.d, d_out=config.d_out, q=config.q,
                     seed=config.seed, y_scale=config.y_scale, dtype=config.dtype,
                     device=config.device)


def samples(config: Config) -> tuple[torch.Tensor, torch.Tensor]:
    """One synthetic sample per seed of ``config.seeds``, batched (b, n, .)."""
    return make_batch(config.data, seeds=config.seeds, n=config.n, d=config.d,
                      d_out=config.d_out, q=config.q, y_scale=config.y_scale,
                      dtype=config.dtype, device=config.device)


def initial(config: Config, seeds: Sequence[int] | None = None, L: int | None = None,
            residual: Residual | None = None) -> Params:
    """The parameters at initialization of model (3) (or of ``residual``'s model (11)), one
    network per seed (default ``config.seed``)."""
    return init_params(config.init, d=config.d, d_out=config.d_out, q=config.q, m=config.m,
                       L=config.L if L is None else L,
                       seeds=(config.seed,) if seeds is None else tuple(seeds), ell=config.ell,
                       residual=residual, dtype=config.dtype, device=config.device)


@functools.lru_cache(maxsize=4)
def run(config: Config) -> TrainResult:
    """Gradient descent on flow (4)/(5) for ``config`` (one network, seed ``config.seed``),
    recording the series at about 200 flow times and the PL ratio at 0, T/2 and T."""
    X, Y = data(config)
    flow = Flow.from_config(config)
    return train(initial(config), X, Y, flow, MLP(config.activation, config.scaling),
                 record_every=max(1, flow.iterations // 200),
                 record_times=(0.0, config.T / 2, config.T))


def data_inputs(X: torch.Tensor, Y: torch.Tensor) -> dict[str, float]:
    """M_X, M_Y (largest norms) and the mean label energy of the sample (or the batch of samples,
    :func:`samples`) a measurement trained on."""
    return {"M_X": float(X.norm(dim=-1).max()), "M_Y": float(Y.norm(dim=-1).max()),
            "l0_labels": float((Y * Y).sum(-1).mean())}


def _norms(p: Params) -> dict[str, float]:
    """||A||_F, sup_k ||Z_k||, ||B||_F and max_k ||Z_{k+1} - Z_k|| of network 0."""
    gaps = successive_gaps(p.Z)
    return {"A": float(frobenius(p.A)[0]), "Z": float(layer_norms(p.Z).amax(1)[0]),
            "B": float(frobenius(p.B)[0]),
            "gap": float(gaps.amax(1)[0]) if gaps.shape[1] else 0.0}


def _series(result: TrainResult, *names: str) -> dict[str, list[float]]:
    out = {"t": [float(t) for t in result.times]}
    out.update({name: [float(v) for v in result.series[name][:, 0]] for name in names})
    return out


def _max(result: TrainResult, name: str) -> float:
    return float(result.maxima[name][0])


# --------------------------------------------------------------------------- S1, S3


def measure_prop1(config: Config) -> Measurement:
    """S1: the clipped run stays finite and bounded; step halving shows GD converging to the flow
    (the final-weight distances between eta, eta/2, eta/4 shrink by a factor about 2)."""
    m = measure_prop3_bounded(config)
    X, Y = data(config)
    halving = step_halving(initial(config), X, Y, Flow.from_config(config),
                           MLP(config.activation, config.scaling), halvings=2)
    diffs = [float(d[0]) for d in halving.differences]
    m.id = "prop1.wellposed"
    m.values["halving_ratio"] = diffs[0] / diffs[1] if diffs[1] > 0 else math.inf
    m.series["halving"] = diffs
    return m


def measure_prop3_bounded(config: Config) -> Measurement:
    """S3: max over t of ||A(t)||_F, sup_k ||Z_k(t)||, ||B(t)||_F, with M0 and the observed M_pi."""
    result = run(config)
    init = _norms(result.params0)
    values = {"max_A": _max(result, "a_norm"), "max_Z": _max(result, "z_norm"),
              "max_B": _max(result, "b_norm"),
              "M_pi_observed": max(_max(result, k) for k in ("rhs_a", "rhs_z", "rhs_b")),
              "final_loss": float(result.series["loss"][-1, 0])}
    values["max_norm"] = max(values["max_A"], values["max_Z"], values["max_B"])
    inputs = {"M0": max(init["A"], init["Z"], init["B"]), **data_inputs(*data(config))}
    return Measurement("prop3.bounded", config, values, inputs,
                       _series(result, "loss", "z_norm", "a_norm", "b_norm"))


def measure_prop3_successive(config: Config) -> Measurement:
    """S3 / eq. (7): max_{k,t} ||Z_{k+1}(t) - Z_k(t)||, K_emp = L x that maximum, the initial gap,
    and the same maximum for every depth of ``config.depths`` and seed of ``config.seeds``."""
    result = run(config)
    init = _norms(result.params0)
    values = {"max_gap": _max(result, "gap"), "K_emp": config.L * _max(result, "gap"),
              "max_Z": _max(result, "z_norm"),
              "max_norm": max(_max(result, k) for k in ("a_norm", "z_norm", "b_norm"))}
    inputs = {"init_gap": init["gap"], "M0": max(init["A"], init["Z"], init["B"]),
              **data_inputs(*data(config))}
    return Measurement("prop3.successive", config, values, inputs,
                       _series(result, "gap", "loss"))


def measure_prop3_rate_L(config: Config) -> Measurement:
    """S3 in L: max_{k,t} ||Z_{k+1}(t) - Z_k(t)|| for every depth of ``config.depths`` and seed of
    ``config.seeds``, and the onset: the smallest depth from which every local slope between
    neighbouring depths (of the seed-mean) lies in the 1/L window."""
    series = depth_sweep(config, lambda r: r.maxima["gap"])
    return Measurement("prop3.rate_L", config, {"onset_L": onset(series["L"], series["values"])},
                       data_inputs(*samples(config)), series)


def onset(depths: Sequence[int], values: Sequence[Sequence[float]],
          window: tuple[float, float] = catalog["prop3.rate_L"].rate_window or (-1.2, -0.8)
          ) -> float:
    """The smallest depth from which the local log-log slopes of the seed-mean all lie in
    ``window`` (nan if even the last pair is outside it or a mean is 0)."""
    mean = np.asarray(values, dtype=float).mean(axis=1)
    if not np.all(mean > 0):
        return math.nan
    local = np.diff(np.log(mean)) / np.diff(np.log(np.asarray(depths, dtype=float)))
    inside = (window[0] <= local) & (local <= window[1])
    start = len(local)
    while start > 0 and inside[start - 1]:
        start -= 1
    return math.nan if start == len(local) else float(depths[start])


def measure_prop3_growth_T(config: Config) -> Measurement:
    """S3 in T: K_emp(t) = L max_{k, t' <= t} ||Z_{k+1}(t') - Z_k(t')|| along one run of the seeds
    of ``config.seeds`` (batched), on the small-T grid t = t0 2^j (j = 0..5), t0 the first time
    at which every seed's gap is open (from a tied initialization every layer gets the same first
    step, so t0 >= 2 eta; saturated coordinate clipping keeps the layers equal longer) and on
    every recorded t where it is positive, with least-squares fits of the growth over the whole
    horizon: polynomial (log K against log t, exponent ``p_emp``) and eq. (7)'s shape
    beta t e^{alpha t} (log(K/t) against t, rate ``alpha_emp``), with their residual sums of
    squares."""
    X, Y = samples(config)
    flow = Flow.from_config(config)
    result = train(initial(config, seeds=config.seeds), X, Y, flow,
                   MLP(config.activation, config.scaling), record_every=1)
    t = result.times.double().numpy()
    K = config.L * torch.cummax(result.series["gap"].double(), dim=0).values.numpy()
    opened = np.flatnonzero(np.all(K > 0, axis=1) & (t > 0))  # a log grid starts after 0
    t0 = t[opened[0]] if opened.size else math.inf
    small = [int(np.argmin(np.abs(t - t0 * 2**j))) for j in range(6)
             if t0 * 2**j <= t[-1] * (1 + 1e-9)]
    mean = K.mean(axis=1)
    keep = (t > 0) & (mean > 0)
    values = {"K_emp_T": float(mean[-1]), "p_emp": math.nan, "alpha_emp": math.nan,
              "rss_poly": math.nan, "rss_exp": math.nan}
    if keep.sum() >= 3:
        lt, lk = np.log(t[keep]), np.log(mean[keep])
        (p, _), rss_p = np.polyfit(lt, lk, 1, full=True)[:2]
        (alpha, _), rss_e = np.polyfit(t[keep], lk - lt, 1, full=True)[:2]
        values.update(p_emp=float(p), alpha_emp=float(alpha), rss_poly=float(rss_p[0]),
                      rss_exp=float(rss_e[0]))
    init = _norms(result.params0)
    inputs = {"M0": max(init["A"], init["Z"], init["B"]), **data_inputs(X, Y)}
    return Measurement("prop3.growth_T", config, values, inputs,
                       {"T": [float(t[j]) for j in small],
                        "K_emp": [[float(k) for k in K[j]] for j in small],
                        "T_all": [float(x) for x in t[keep]],
                        "K_emp_all": [float(k) for k in mean[keep]]})


def depth_sweep(config: Config, quantity: Callable[[TrainResult], torch.Tensor],
                residual: Any = None) -> dict[str, list[Any]]:
    """``quantity`` (b,) of a run for every depth in ``config.depths``, the seeds of
    ``config.seeds`` batched as independent networks, each on its own sample
    (:func:`numerics.data.make_batch`): {"L": [...], "values": [[per seed]...], "trained":
    [[per seed]...]}, "trained" being what training changed: max_k ||D_{k+1}(T) - D_k(T)|| with
    D_k(T) = Z_k(T) - Z_k(0) (the total gap minus the initialization's, for a smooth one)."""
    X, Y = samples(config)
    flow = Flow.from_config(config)
    rows, trained = [], []
    for L in config.depths:
        params = init_params(config.init, d=config.d, d_out=config.d_out, q=config.q,
                             m=config.m, L=L, seeds=config.seeds, ell=config.ell,
                             residual=residual, dtype=config.dtype, device=config.device)
        result = train(params, X, Y, flow, residual or MLP(config.activation, config.scaling),
                       record_every=flow.iterations)
        rows.append([float(v) for v in quantity(result)])
        trained.append([float(v) for v in trained_gap(result.params.Z, params.Z)])
    return {"L": list(config.depths), "values": rows, "trained": trained}


# --------------------------------------------------------------------------- S2, S4, S12


def _prop2_paths(config: Config, seed: int, m: int) -> dict[str, Any]:
    """Proposition 2's weights V_k = V(k/L), W_k = W(k/L) on the smooth paths
    V(s) = V0 + sin(2 pi s) V1 / 2, W(s) = W0 + sin(2 pi s) W1 / 2 (V0, V1, W0, W1 standard
    Gaussian of width ``m``, drawn with ``seed``), with the exact constants of these paths:
    sup_s ||V(s)||_F <= ||V0||_F + ||V1||_F / 2, Lipschitz constant pi ||V1||_F, ...."""
    gen = torch.Generator().manual_seed(seed)
    q = config.q
    V0, V1 = (torch.randn(q, m, generator=gen, dtype=torch.float64) for _ in range(2))
    W0, W1 = (torch.randn(m, q, generator=gen, dtype=torch.float64) for _ in range(2))
    fro = torch.linalg.matrix_norm
    p = initial(config, L=1)
    A, B = (x[0].to("cpu", torch.float64) for x in (p.A, p.B))
    return {"V": node.sin_modulated(V0, V1 / 2), "W": node.sin_modulated(W0, W1 / 2), "A": A,
            "B": B, "sup_V": float(fro(V0) + fro(V1) / 2), "sup_W": float(fro(W0) + fro(W1) / 2),
            "lip_V": float(math.pi * fro(V1)), "lip_W": float(math.pi * fro(W1)),
            "norm_A": float(torch.linalg.matrix_norm(A, 2)),
            "norm_B": float(torch.linalg.matrix_norm(B, 2)),
            # ||M0 + sin(.) M1 / 2||_2 is convex in sin(.): its sup is at sin = +-1
            **{f"sup_{name}_2": float(max(torch.linalg.matrix_norm(M0 + c * M1 / 2, 2)
                                          for c in (-1.0, 1.0)))
               for name, M0, M1 in (("V", V0, V1), ("W", W0, W1))}}


def _prop2_gaps(config: Config, paths: dict[str, Any], depths: Sequence[int]) -> node.GapResult:
    X, _ = data(config)
    return node.resnet_ode_gap(paths["A"], paths["V"], paths["W"], paths["B"],
                               X.to("cpu", torch.float64), config.activation, depths,
                               scaling=config.scaling)


def _prop2_noisy_gaps(config: Config, paths: dict[str, Any],
                      depths: Sequence[int]) -> node.GapResult:
    """Proposition 2's negative control: the ResNet's layers V(k/L) + E_k, W(k/L) + E'_k with
    i.i.d. standard Gaussian E_k, E'_k (the same size at every depth, drawn from ``config.seed``
    and L) against the ODE of the smooth paths: no Lipschitz path, the layers' noise averages
    like a random walk, a gap ~ L^-1/2 rather than 1/L."""
    def noisy(L: int) -> tuple[torch.Tensor, torch.Tensor]:
        gen = torch.Generator().manual_seed(config.seed * 100_003 + L)
        Vs, Ws = node.sample_weights(paths["V"], paths["W"], L)
        Vs = Vs + torch.randn(Vs.shape, generator=gen, dtype=torch.float64)
        return Vs, Ws + torch.randn(Ws.shape, generator=gen, dtype=torch.float64)

    X, _ = data(config)
    return node.resnet_ode_gap(paths["A"], paths["V"], paths["W"], paths["B"],
                               X.to("cpu", torch.float64), config.activation, depths,
                               scaling=config.scaling, layers=noisy)


def measure_prop2(config: Config) -> Measurement:
    """S2: sup_x ||F(x) - F^L(x)|| on the paths of :func:`_prop2_paths` (seed ``config.seed``)
    against an accurate solve of the neural ODE (6), at ``config.L`` and every depth of
    ``config.depths``; and the a-priori bound of the gap that needs no theorem,
    ||B||_2 (||h_L|| + ||H(1)||) <= 2 ||B||_2 min(h0 + s_w sqrt(m) sup_s ||V(s)||_2 M_sigma,
    h0 e^{s_w s_in K_sigma sup_s ||V(s)||_2 sup_s ||W(s)||_2}), h0 = max ||A x||: each of the L
    steps (or the ODE on [0, 1]) adds at most s_w ||V||_2 ||sigma(s_in W h)|| / L, with
    ||sigma(u)|| <= sqrt(m) M_sigma and <= K_sigma ||u|| (sigma(0) = 0); s_in, s_w the scaling's
    factors (1/sqrt q, 1/sqrt m for model (3))."""
    from theory.finite_time import activation

    paths = _prop2_paths(config, config.seed, config.m)
    depths = sorted(set(config.depths) | {config.L})
    gap = _prop2_gaps(config, paths, depths)
    at_L = gap.gaps[depths.index(config.L)]
    values = {"gap": at_L, "L_times_gap": config.L * at_L, "slope": gap.slope}
    profile = activation(config.activation)
    X, _ = data(config)
    s_in, s_w = MLP(config.activation, config.scaling).factors(config.q, config.m)
    h0 = float((X.double().cpu() @ paths["A"].T).norm(dim=-1).max())
    grown = s_w * s_in * profile.K_float() * paths["sup_V_2"] * paths["sup_W_2"]
    reach = min(h0 + s_w * math.sqrt(config.m) * paths["sup_V_2"] * profile.M_float(),
                h0 * math.exp(grown) if grown < 700 else math.inf)
    values["a_priori"] = 2 * paths["norm_B"] * reach
    inputs = {k: paths[k] for k in ("sup_V", "sup_W", "lip_V", "lip_W", "norm_A", "norm_B")}
    return Measurement("prop2.euler", config, values, {**inputs, **data_inputs(*data(config))},
                       {"L": list(gap.depths), "gap": list(gap.gaps)})


def measure_prop2_rate_L(config: Config) -> Measurement:
    """S2 in L: the gap for every depth of ``config.depths``, one pair of paths per seed of
    ``config.seeds``; for ``init="iid"`` (the negative control) :func:`_prop2_noisy_gaps`."""
    gaps = _prop2_gaps if config.init != "iid" else _prop2_noisy_gaps
    per_seed = [gaps(config, _prop2_paths(config, s, config.m), config.depths).gaps
                for s in config.seeds]
    return Measurement("prop2.rate_L", config, {}, data_inputs(*data(config)),
                       {"L": list(config.depths),
                        "gap": [[g[j] for g in per_seed] for j in range(len(config.depths))]})


def measure_prop2_width_m(config: Config) -> Measurement:
    """S2 in m: C_emp = L sup_x ||F - F^L|| at ``config.L`` for widths m/4, m/2, m, 2m (one pair
    of paths per seed and width), with the explicit C of :func:`theory.euler.prop2_constants`
    for the same draws and ``gamma_C``, the slope of log(seed-mean C) against log m."""
    from theory.euler import prop2_constants

    widths = sorted({max(1, round(config.m * f)) for f in (0.25, 0.5, 1, 2)})
    X, _ = data(config)
    M_X = float(X.norm(dim=-1).max())
    C_emp, C = [], []
    for w in widths:
        row, row_C = [], []
        for s in config.seeds:
            paths = _prop2_paths(config, s, w)
            row.append(config.L * _prop2_gaps(config, paths, [config.L, 2 * config.L]).gaps[0])
            row_C.append(prop2_constants(
                config.activation, q=config.q, m=w, M_X=M_X,
                **{k: paths[k] for k in ("sup_V", "sup_W", "lip_V", "lip_W", "norm_A",
                                         "norm_B")})["C"])
        C_emp.append(row)
        C.append(float(np.mean(row_C)))
    finite = all(math.isfinite(c) and c > 0 for c in C)
    gamma = loglog_slope(widths, C)[0] if finite else math.inf
    return Measurement("prop2.width_m", config, {"gamma_C": gamma}, {"M_X": M_X},
                       {"m": widths, "C_emp": C_emp, "C": C})


def measure_thm4(config: Config) -> Measurement:
    """S4: distances of depth-L networks to the limit dynamics solved on an s-grid (Appendix A.5),
    for every depth of ``config.depths`` and seed of ``config.seeds`` (each seed its own
    initialization and limit), with a Richardson check for the first seed."""
    studies = [depth_study(dataclasses.replace(config, seed=seed)) for seed in config.seeds]
    first = studies[0]
    values = {f"slope_{k}": v for k, v in first.slopes.items()}
    gaps = [study.gaps() for study in studies]
    series: dict[str, list[Any]] = {"L": list(first.depths)}
    for name in ("z_sup", "z_l2", "h_sup", "out_sup", "a_sup", "b_sup"):
        series[name] = [[getattr(g[j], name) for g in gaps] for j in range(len(first.depths))]
    if first.richardson is not None:
        r = first.richardson
        values.update(richardson_z=r.z_extrapolated, deepest_z=r.z_deepest,
                      richardson_out=r.out_extrapolated, deepest_out=r.out_deepest)
    limit = first.limit
    series["limit_t"] = list(limit.times)
    series["limit_loss"] = [float(v) for v in limit.loss[:, 0]]
    return Measurement("thm4.limit", config, values, {}, series)


def sec43_conv(config: Config, hidden_channels: int = 2) -> Conv:
    """Section 4.3's convolutional residual for ``config``: a 1-D signal of q / C positions and
    C = 2 channels (1 when q is odd), ``hidden_channels`` hidden channels, kernel 3, sigma =
    ``config.activation`` (C^2 with f(0, .) = 0 when sigma is)."""
    channels = 2 if config.q % 2 == 0 else 1
    return Conv(channels=channels, hidden_channels=hidden_channels,
                spatial=(config.q // channels,), activation=config.activation)


def measure_sec43(config: Config) -> Measurement:
    """S12: max_{k,t} ||Z_{k+1}(t) - Z_k(t)|| against L for the convolutional residual of
    :func:`sec43_conv` (2 hidden channels), from ``config.init`` (the report's rows: tied; the
    control: i.i.d.)."""
    series = depth_sweep(config, lambda r: r.maxima["gap"], residual=sec43_conv(config))
    return Measurement("sec43.general", config, {}, {},
                       {"L": series["L"], "conv": series["values"]})


def measure_sec43_smooth(config: Config) -> Measurement:
    """S12: the same gap against L for model (3) from a smooth Gaussian-process
    initialization."""
    series = depth_sweep(dataclasses.replace(config, init="smooth"), lambda r: r.maxima["gap"])
    return Measurement("sec43.smooth_init", config, {}, {},
                       {"L": series["L"], "smooth": series["values"],
                        "trained": series["trained"]})


# --------------------------------------------------------------------------- S5, S6


def pl_ratio(params: Params, X: torch.Tensor, Y: torch.Tensor,
             residual: Residual) -> torch.Tensor:
    """G / l of Definition 1, G = ||dl/dA||_F^2 + L sum_k ||dl/dZ_k||_F^2 + ||dl/dB||_F^2 (b,),
    for any residual of model (11) (every block of Z_k counts; autograd beyond model (3))."""
    loss, g = loss_and_grads(params, X, Y, residual)
    G = (frobenius(g.A) ** 2 + frobenius(g.B) ** 2
         + params.L * sum((z.flatten(1) ** 2).sum(1) for z in g.Z))
    return G / loss


def ball_points(p0: Params, radius: float, count: int, seed: int) -> Params:
    """``count`` parameter sets in the M-ball of Definition 1 around network 0 of ``p0``:
    ||A - A0||_F <= M, ||Z_k - Z0_k|| = ||V_k - V0_k||_F + ||W_k - W0_k||_F <= M for every k,
    ||B - B0||_F <= M.  Directions are uniform; each block's (each layer's) radius is uniform in
    [0, M] for half of the points and exactly M (the boundary, where G/l tends to be smallest) for
    the other half; a layer's radius is split between V and W by a uniform share."""
    gen = torch.Generator().manual_seed(seed)
    dtype = p0.A.dtype

    def unit(*shape: int, lead: int) -> torch.Tensor:
        u = torch.randn(count, *shape, generator=gen, dtype=dtype)
        return u / torch.linalg.vector_norm(u.flatten(lead), dim=-1).reshape(
            u.shape[:lead] + (1,) * (u.ndim - lead))

    def radii(*shape: int) -> torch.Tensor:
        rho = radius * torch.rand(count, *shape, generator=gen, dtype=dtype)
        rho[: count // 2] = radius
        return rho

    c = {name: getattr(p0, name)[:1].cpu() for name in ("A", "B")}
    V0, W0 = (z[:1].cpu() for z in p0.Z)
    rho_z = radii(p0.L)
    share = torch.rand(count, p0.L, generator=gen, dtype=dtype)
    A = c["A"] + radii()[:, None, None] * unit(*p0.A.shape[1:], lead=1)
    B = c["B"] + radii()[:, None, None] * unit(*p0.B.shape[1:], lead=1)
    V = V0 + (share * rho_z)[..., None, None] * unit(*p0.Z[0].shape[1:], lead=2)
    W = W0 + ((1 - share) * rho_z)[..., None, None] * unit(*p0.Z[1].shape[1:], lead=2)
    return Params(A, (V, W), B).to(p0.A.device)


def measure_prop5(config: Config) -> Measurement:
    """S5: the PL ratio G/l at initialization, at up to 64 points of the M-ball of Proposition 5
    (M = c3 / sqrt(nq); seeded, :func:`ball_points`) and along training (t = 0, T/2, T)."""
    from theory import pl

    X, Y = data(config)
    residual = MLP(config.activation, config.scaling)
    p0 = initial(config)
    values = {"pl_init": float(pl_ratio(p0, X, Y, residual)[0])}
    series: dict[str, list[Any]] = {}
    local = pl.local_constants(config)
    notes = []
    if local is not None:
        points = ball_points(p0, local["M"], min(config.trials, 64), config.seed + 1)
        ratios = pl_ratio(points, X, Y, residual)
        values["pl_ball_min"] = float(ratios.min())
        series["pl_ball"] = [float(v) for v in ratios]
        notes.append(f"M-ball radius M = {local['M']:.6g}")
    else:
        notes.append("Proposition 5's M is undefined for this sigma: no ball sampled")
    result = run(config)
    values["pl_train_min"] = float(result.pl[:, 0].min())
    series["pl_train_t"] = [float(t) for t in result.record_times]
    series["pl_train"] = [float(v) for v in result.pl[:, 0]]
    values["pl_min"] = min(values.values())
    if result.smin is not None:
        values["smin_first_layer"] = float(result.smin[0, 0, 0])
    return Measurement("prop5.pl", config, values, data_inputs(*data(config)), series, notes)


def measure_thm6(config: Config) -> Measurement:
    """S6: the loss curve l(t) of the unclipped flow, the distances from initialization, and the
    final residuals max_i ||F(x_i) - y_i||."""
    result = run(config)
    X, Y = data(config)
    F = forward(result.params, X, MLP(config.activation, config.scaling))
    residual = float(torch.linalg.vector_norm(F[0] - Y, dim=-1).max())
    loss = result.series["loss"][:, 0]
    t = result.times
    positive = loss > 0
    rate = -float(np.polyfit(t[positive].double().numpy(), np.log(loss[positive].double()
                                                                    .numpy()), 1)[0])
    values = {"l0": float(loss[0]), "l_T": float(loss[-1]), "max_residual": residual,
              "empirical_rate": rate,
              "max_dist": max(_max(result, k) for k in ("dist_a", "dist_z", "dist_b"))}
    return Measurement("thm6.decay", config, values, data_inputs(*data(config)),
                       _series(result, "loss", "dist_z"))


def measure_thm6_path(config: Config) -> Measurement:
    """S6 with measured constants, from :func:`numerics.longtime.path_runs` (shared by the four
    ids): whether every seed at every depth interpolates (l <= INTERPOLATION_LEVEL l(0)) by T/2;
    per depth the seed-median doubling ratio of S(t) on T/4, T/2, T; series: sup_t max_k gap per
    depth (grid "L"), mu_emp(T') at the deepest depth on the grid T' = T/8, T/4, T/2, T (grid
    "T") and the output gaps of consecutive depths on fresh inputs (grid "L_pair":
    :func:`numerics.longtime.limit_gaps`)."""
    from numerics.longtime import INTERPOLATION_LEVEL, doubling_ratio, limit_gaps, path_runs

    runs = path_runs(config)
    t = np.asarray(runs["t"])

    def at(x: float) -> int:
        return int(np.searchsorted(t, x * (1 - 1e-9)))

    T = float(t[-1])
    grid = [T / 8, T / 4, T / 2, T]
    iq, ih = at(T / 4), at(T / 2)
    per = runs["per_depth"]
    loss0 = np.asarray(per[0]["loss"])
    interpolated = all(bool(np.all(np.asarray(d["loss"])[ih] <= INTERPOLATION_LEVEL
                                   * np.asarray(d["loss"])[0])) for d in per)
    per_seed = []  # (depths, seeds) doubling ratios
    for d in per:
        S = np.asarray(d["S"])
        per_seed.append([doubling_ratio(S[iq, j], S[ih, j], S[-1, j]) for j in range(S.shape[1])])
    ratios = [float(np.median(r)) for r in per_seed]
    deepest = np.asarray(per[-1]["mu"])
    final = np.array([np.asarray(d["loss"])[-1] / np.asarray(d["loss"])[0] for d in per])
    values = {"interpolated_half": float(interpolated), "mu_emp": float(np.median(deepest[-1])),
              "doubling_ratio": max(ratios),
              "l_T_over_l0": float(np.median(loss0[-1] / loss0[0])),
              "max_l_T_over_l0": float(final.max()),
              "interpolated_T": float(np.mean(final <= INTERPOLATION_LEVEL))}
    series = {"L": runs["depths"], "sup_gap": [d["sup_gap"] for d in per], "T": grid,
              "doubling_per_seed": [float(x) for x in np.max(per_seed, axis=0)],
              "mu_T": [[float(v) for v in deepest[at(x)]] for x in grid[:-1]]
              + [[float(v) for v in deepest[-1]]], "doubling_ratios": ratios,
              "t": runs["t"], "S_mean": [np.asarray(d["S"]).mean(1).tolist() for d in per],
              "L_pair": runs["depths"][:-1], "limit_gap": limit_gaps(per)}
    return Measurement("thm6.path", config, values, data_inputs(*samples(config)), series)


# --------------------------------------------------------------------------- S7-S10


def measure_lemma18(config: Config) -> Measurement:
    """S7: the three inequalities of Lemma 18 on ``config.trials`` drawn matrices A, A' (m x r),
    B (r x n) with r = q, m = config.m, n = config.n (Gaussian, A' scaled by a random factor);
    each value is the largest relative violation (rhs - lhs) / max(|lhs|, |rhs|), for all three
    whatever the shapes (theory.lemmas.lemma18_assumptions names the conditions that fail)."""
    gen = torch.Generator().manual_seed(config.seed)
    trials = min(config.trials, 256)
    mm, r, n = config.m, config.q, config.n
    A = torch.randn(trials, mm, r, generator=gen, dtype=torch.float64)
    Ap = torch.randn(trials, mm, r, generator=gen, dtype=torch.float64) * torch.rand(
        trials, 1, 1, generator=gen, dtype=torch.float64)
    B = torch.randn(trials, r, n, generator=gen, dtype=torch.float64)

    def smin(M: torch.Tensor) -> torch.Tensor:
        return torch.linalg.svdvals(M)[:, -1]

    fro = torch.linalg.matrix_norm
    pairs = {"sum": (smin(A + Ap), smin(A) - fro(Ap)), "left": (fro(A @ B), smin(A) * fro(B)),
             "right": (fro(A @ B), fro(A) * smin(B))}
    values = {}
    for name, (lhs, rhs) in pairs.items():
        scale = torch.maximum(lhs.abs(), rhs.abs()).clamp_min(1e-300)
        values[f"violation_{name}"] = float(((rhs - lhs) / scale).max())
    return Measurement("lemma18.linalg", config, values, {"trials": trials})


def measure_lemma20(config: Config) -> Measurement:
    """S8: the exact chi-square tail P(||W||_F > M_W sqrt(qm)) (mpmath) and a Monte Carlo
    frequency with its Clopper-Pearson interval (``config.trials`` draws)."""
    from theory import lemmas

    q, m, M_W = config.q, config.m, config.M_W
    samples = sampling.sample_frobenius_sq(q, m, config.trials, config.seed)
    ex = sampling.exceedance(samples, M_W**2 * q * m)
    values = {"exact_tail": float(lemmas.lemma20_exact_tail(q, m, M_W)), "mc_freq": ex.freq,
              "mc_lo": ex.lo, "mc_hi": ex.hi}
    return Measurement("lemma20.gaussian_norm", config, values, {"trials": config.trials})


def measure_lemma21(config: Config) -> Measurement:
    """S9: Monte Carlo of smin(sigma(W X)) (W m x d Gaussian, X d x n unit columns): the frequency
    of falling below sqrt(m) |eta_r| / 4, with its Clopper-Pearson interval."""
    from theory import hermite, lemmas

    r = hermite.index(config.activation, config.r)
    trials = min(config.trials, 500)
    samples = sampling.sample_smin_features(config.activation, config.m, config.d, config.n,
                                            trials, config.seed)
    values: dict[str, float] = {"smin_median": float(np.median(samples))}
    if r is not None:
        threshold = float(lemmas.lemma21_threshold(config.activation, r, config.m))
        below = sampling.exceedance(-samples, -threshold)  # smin < threshold
        values.update(threshold=threshold, fail_freq=below.freq, fail_lo=below.lo,
                      fail_hi=below.hi, min_ratio=float(samples.min() / threshold))
    return Measurement("lemma21.smin", config, values, {"trials": trials, "r": r or 0},
                       {"smin": [float(v) for v in np.sort(samples)]})


def measure_hermite(config: Config) -> Measurement:
    """S10: eta_0..eta_11 of :func:`theory.hermite.eta` (composite Gauss-Legendre) against an
    independent reference: the closed form where one exists
    (:func:`theory.hermite.eta_closed_form`), else mpmath's tanh-sinh quadrature of
    sigma(z) He_r(z) phi(z) on (-inf, 0] and [0, inf) (another rule on another split); and the
    Bessel gaps E[sigma^2] - sum_{r<=R} eta_r^2 (R = 7, 15, 31), reported only (they hold for
    any orthonormal projection by construction)."""
    import mpmath
    import sympy as sp

    from theory import hermite
    from theory.finite_time import activation

    values: dict[str, float] = {}
    with mpmath.workdps(40):
        for R in (7, 15, 31):
            partial, second = hermite.parseval_partial(config.activation, R)
            values[f"bessel_gap_{R}"] = float((second - partial) / second) if second else 0.0
        values["second_moment"] = float(second)
    profile = activation(config.activation)
    closed = [hermite.eta_closed_form(profile.name, r) for r in range(12)]
    reference = "closed forms" if all(c is not None for c in closed) else "mpmath tanh-sinh"
    errors, etas = [], []
    with mpmath.workdps(30):
        f = sp.lambdify(sp.Symbol("x"), profile.expr, modules="mpmath")
        for r, exact in enumerate(closed):
            value = hermite.eta(config.activation, r)
            if reference == "closed forms":
                ref = mpmath.mpf(sp.N(exact, 35))
            else:
                def integrand(z: Any, r: int = r) -> Any:
                    he0, he1 = mpmath.mpf(1), z
                    for j in range(1, r):
                        he0, he1 = he1, z * he1 - j * he0
                    return f(z) * (he0 if r == 0 else he1) * mpmath.exp(-z * z / 2)

                ref = mpmath.quad(integrand, [-mpmath.inf, 0, mpmath.inf]) / mpmath.sqrt(
                    2 * mpmath.pi * mpmath.factorial(r))
            errors.append(float(abs(value - ref) / max(1, abs(ref))))
            etas.append(float(value))
    values["max_rel_error"] = max(errors)
    return Measurement("hermite.coefficients", config, values, {},
                       {"eta": etas, "errors": errors}, [reference])


# --------------------------------------------------------------------------- S11, S13


def measure_appd(config: Config) -> Measurement:
    """S11: the scalar network of Appendix D (depth 2L): the final even weight against w*, the
    movement of the odd weights, the spread of the even ones, and the neighbour gap; plus the gap
    against L for ``config.depths``."""
    res = appd.train_appd(config.L, config.appd_C, config.appd_x, config.activation, config.T,
                          config.eta)
    values = {"w_even": res.w_even, "w_star": res.w_star, "w_error": abs(res.w_even - res.w_star),
              "odd_max_move": res.odd_max_move, "even_spread": res.even_spread, "gap": res.gap,
              "gap_limit": res.gap_relu, "L_times_gap": config.L * res.gap}
    gaps = [appd.train_appd(L, config.appd_C, config.appd_x, config.activation, config.T,
                            config.eta).gap for L in config.depths]
    return Measurement("appD.relu", config, values, {},
                       {"t": list(res.times), "w_even": list(res.w_even_path),
                        "L": list(config.depths), "gap_vs_L": gaps})


RUN_KEYS = ("train_acc", "test_acc", "test_acc_no_branches", "relative_1", "relative_2",
            "roughness", "moved", "bn2_rms")
"""What :func:`measure_table1` keeps of each run of Section 5.2 (per seed, and their medians)."""


@functools.lru_cache(maxsize=16)
def _table1_run(activation: str, init: str, L: int, seed: int, config: Config) -> dict[str, Any]:
    """One run of :func:`numerics.realdata.run_table1` for ``config``'s budget, flattened to
    :data:`RUN_KEYS` (roughness and moved: the mean over the two convolutions; cached, so that
    the L = 1 reference of an activation is trained once per seed)."""
    data_name = "digits" if config.data in ("gaussian", "sphere") else config.data
    name = f"table1-{activation}-{init}-L{L}-seed{seed}"  # of other settings: ignored
    out = realdata.run_table1(activation, init, L=L, epochs=config.epochs, subset=config.subset,
                              seed=seed, device=config.device, data=data_name,
                              data_dir=config.data_dir, lr=config.lr, channels=config.channels,
                              checkpoint=progress.checkpoint(name))
    moved = out["displacement"]
    rough = [moved[f"roughness_{i}"] for i in (1, 2)]
    return {"train_acc": out["train_acc"], "test_acc": out["test_acc"],
            "test_acc_no_branches": out["test_acc_no_branches"],
            "relative_1": out["smoothness"]["relative_1"],
            "relative_2": out["smoothness"]["relative_2"],
            "roughness": None if None in rough else sum(rough) / 2,
            "moved": (moved["moved_1"] + moved["moved_2"]) / 2, "bn2_rms": moved["bn2_rms"],
            "data": data_name, "trajectories": out["trajectories"]}


def measure_table1(config: Config) -> Measurement:
    """S13: the convolutional ResNet of Section 5.2 on ``config.data`` (digits by default) with
    ``config.activation``, tied and i.i.d., for each seed of ``config.seeds`` (the two share the
    stem, head, batch order and augmentation: :func:`numerics.realdata.streams`), beside the same
    network with L = 1 (the reference accuracy).  ``values``: the medians over seeds of
    :data:`RUN_KEYS` per initialization (``tied_test_acc``, ...) and ``ref_test_acc``, and
    ``ratio`` = the median over seeds of roughness(tied) / roughness(iid) of what training added
    to the residual convolutions; ``series["runs"]``: every run.  With ``config.init == "iid"``
    (the negative control) the tied arm is an independent i.i.d. draw ("iid-redraw")."""
    runs: list[dict[str, Any]] = []
    first: dict[str, dict[str, Any]] = {}
    arms = {"tied": "iid-redraw" if config.init == "iid" else "tied", "iid": "iid"}
    for seed in config.seeds:
        ref = _table1_run(config.activation, "tied", 1, seed, config)
        pair = {arm: _table1_run(config.activation, init, config.L, seed, config)
                for arm, init in arms.items()}
        first = first or pair
        rough = (pair["tied"]["roughness"], pair["iid"]["roughness"])
        ratio = rough[0] / rough[1] if None not in rough and rough[1] > 0 else None
        runs.append({"seed": seed, "ref_test_acc": ref["test_acc"], "ratio": ratio,
                     **{f"{init}_{k}": r[k] for init, r in pair.items() for k in RUN_KEYS}})
    values: dict[str, Any] = {}
    for key in runs[0]:
        column = [r[key] for r in runs]
        if key != "seed":
            values[key] = None if None in column else float(np.median(column))
    series = {f"{init}_{name}": rows for init, r in first.items()
              for name, rows in r["trajectories"].items()}
    return Measurement("table1.realdata", config, values, {"data": 0.0}, {"runs": runs, **series},
                       [f"data: {first['tied']['data']}"])


def _prop8() -> Any:
    from numerics import prop8  # imports this module: lazily

    return prop8


def _recurrences() -> Any:
    from numerics import recurrences  # imports this module: lazily

    return recurrences


def _thm6_limits() -> Any:
    from numerics import thm6_limits  # imports this module: lazily

    return thm6_limits


def _sec43() -> Any:
    from numerics import sec43  # imports this module: lazily

    return sec43


def _optimizers() -> Any:
    from numerics import optimizers  # imports this module: lazily

    return optimizers


MEASURES: dict[str, Callable[[Config], Measurement]] = {
    "prop1.wellposed": measure_prop1,
    "prop2.euler": measure_prop2,
    "prop2.rate_L": measure_prop2_rate_L,
    "prop2.width_m": measure_prop2_width_m,
    "prop3.bounded": measure_prop3_bounded,
    "prop3.successive": measure_prop3_successive,
    "prop3.rate_L": measure_prop3_rate_L,
    "prop3.growth_T": measure_prop3_growth_T,
    "thm4.limit": measure_thm4,
    "prop5.pl": measure_prop5,
    "thm6.decay": measure_thm6,
    "thm6.interpolation": measure_thm6,
    **dict.fromkeys(("thm6.pl_path", "thm6.smooth_L", "thm6.smooth_T", "thm6.limit_L"),
                    measure_thm6_path),
    **{key: (lambda config, key=key: _thm6_limits().MEASURES[key](config))
       for key in ("thm6.i_AB", "thm6.iii_hidden", "thm6.joint")},
    **dict.fromkeys(("prop8.i", "prop8.iii", "prop8.iv", "prop8.v"),
                    lambda config: _prop8().measure_prop8(config)),
    **{key: (lambda config, key=key: _recurrences().MEASURES[key](config))
       for key in ("cor12.recurrence", "cor13.recurrence", "prop15.double_limit")},
    "lemma18.linalg": measure_lemma18,
    "lemma20.gaussian_norm": measure_lemma20,
    "lemma21.smin": measure_lemma21,
    "hermite.coefficients": measure_hermite,
    "appD.relu": measure_appd,
    "sec43.general": measure_sec43,
    "sec43.smooth_init": measure_sec43_smooth,
    **dict.fromkeys(("sec43.long_decay", "sec43.long_smooth_L"),
                    lambda config: _sec43().measure_long(config)),
    "table1.realdata": measure_table1,
    **{key: (lambda config, key=key: _optimizers().measure(config, _optimizers().optimizer_of(
        key))) for key in ("remark1.momentum_L", "remark1.momentum_bounded", "remark1.adam_L",
                           "remark1.adam_bounded")},
}
assert set(MEASURES) == set(catalog), "every catalog statement needs a measurement"


def measure(statement_id: str, config: Config) -> Measurement:
    """The measurement of ``statement_id`` (a catalog id) for ``config``."""
    statement = catalog[statement_id]
    m = MEASURES[statement.id](config)
    m.id = statement.id
    return m
