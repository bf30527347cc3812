"""Proposition 5 (family S5; Definition 1): the local PL condition G / l >= mu around the
initialization, G = ||dl/dA||_F^2 + L sum_k ||dl/dZ_k||_F^2 + ||dl/dB||_F^2.  The PL ratio
(:func:`pl_ratio`, any residual of model (11)), the M-ball's sampler, the measurement and its
facts, bound to the catalog entry (:func:`theory.catalog.bind`).
"""

from __future__ import annotations

from typing import Any

import torch

from numerics.evidence import Evidence
from numerics.gradients import loss_and_grads
from numerics.measure import Measurement, data, data_inputs, initial, run
from numerics.metrics import pl_quantity
from numerics.model import MLP, Params, Residual
from theory.catalog import Statement, bind
from theory.config import Config
from theory.verdicts import Facts


def pl_ratio(params: Params, X: torch.Tensor, Y: torch.Tensor,
             residual: Residual) -> torch.Tensor:
    """G / l of Definition 1, G = ||dl/dA||_F^2 + L sum_k ||dl/dZ_k||_F^2 + ||dl/dB||_F^2 (b,),
    for any residual of model (11) (every block of Z_k counts; autograd beyond model (3))."""
    loss, g = loss_and_grads(params, X, Y, residual)
    return pl_quantity(g, params.L, sum((z.flatten(1) ** 2).sum(1) for z in g.Z)) / loss


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


def _prop5(st: Statement, c: Config, m: Measurement) -> Evidence:
    from theory import pl

    local = pl.local_constants(c)
    mu = None if local is None else local["mu"]
    measured = m.values["pl_min"]
    notes = [] if mu is None else [f"mu_emp / mu = {measured / mu:.4g}"]
    return Evidence(Facts(measured, mu, relation=">=", a_priori=0.0,
                          a_priori_reason="G / l >= 0", dtype=c.dtype), notes=notes + m.notes,
                    extra={k: v for k, v in m.values.items() if k != "pl_min"})


bind("prop5.pl", measure=measure_prop5, facts=_prop5)
