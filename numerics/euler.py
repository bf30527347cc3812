"""Proposition 2 (family S2; proof: Proposition 11, eqs. 35-36): a residual network whose weights
discretize Lipschitz paths V, W is within C/L of the neural ODE (6), with C not growing with the
width (Remark 3).  Each statement's measurement and facts, bound to its catalog entry
(:func:`theory.catalog.bind`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from numerics import node
from numerics.evidence import Evidence, finite_or_none, fit_rate, rate_evidence
from numerics.measure import Measurement, data, data_inputs, initial
from numerics.model import MLP
from numerics.rates import loglog_slope
from theory.catalog import Statement, bind
from theory.config import Config
from theory.verdicts import Facts


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


def _prop2(st: Statement, c: Config, m: Measurement) -> Evidence:
    from theory.euler import prop2_bound, prop2_constants

    i = m.inputs
    consts = prop2_constants(c.activation, q=c.q, m=c.m, sup_V=i["sup_V"], sup_W=i["sup_W"],
                             lip_V=i["lip_V"], lip_W=i["lip_W"], norm_A=i["norm_A"],
                             norm_B=i["norm_B"], M_X=i["M_X"])
    bound = prop2_bound(consts["C"], c.L)
    facts = Facts(m.values["gap"], finite_or_none(bound),
                  None if math.isfinite(bound) else math.inf,
                  a_priori=finite_or_none(m.values["a_priori"]),
                  a_priori_reason="2 ||B||_2 max(||h_L||, ||H(1)||), from sigma's bound or "
                                  "its Lipschitz constant alone", dtype=c.dtype)
    return Evidence(facts, notes=[f"C = {consts['C']:.4g} (the paper's chain (35): "
                                  f"{consts['C_paper']:.4g}); L x gap = "
                                  f"{m.values['L_times_gap']:.4g}"],
                    extra={"C": consts["C"], "C_paper": consts["C_paper"]})


def _prop2_rate_L(st: Statement, c: Config, m: Measurement) -> Evidence:
    return rate_evidence(fit_rate(m, "gap", st), "slope of log sup_x ||F(x) - F^L(x)|| against "
                         "log L (one pair of paths V, W per seed)")


def _prop2_width_m(st: Statement, c: Config, m: Measurement) -> Evidence:
    """C_emp(m) = L sup_x ||F - F^L|| does not depend on the width m (Remark 3's claim for the
    constants of model (3), measured here for Proposition 2's)."""
    rate = fit_rate(m, "C_emp", st, grid="m")
    return Evidence(Facts(rate.slope, rate=rate), rate=rate, extra=dict(m.values),
                    notes=[f"measured: slope of log C_emp(m) = log(L sup_x ||F(x) - F^L(x)||) "
                           f"against log m at L = {c.L}; the explicit C of Proposition 11 grows "
                           f"as m^{m.values['gamma_C']:.3g} on the same grid and draws"])


bind("prop2.euler", measure=measure_prop2, facts=_prop2)
bind("prop2.rate_L", measure=measure_prop2_rate_L, facts=_prop2_rate_L)
bind("prop2.width_m", measure=measure_prop2_width_m, facts=_prop2_width_m)
