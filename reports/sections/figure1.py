"""The data of the paper's Figure 1 (Section 5.1): GD on model (3) for many depths and the limit.

Setting (paper): n = 100, d = q = d' = 16, m = 32, GELU, x and y standard Gaussian, A and B frozen,
V = 0 and W tied Gaussian, eta = 0.01 for 500 iterations (T = 5), L = 2 .. 1024, the limit by the
solver of :mod:`numerics.limit` (the paper used L = 2^14).  The flow is unclipped as in the paper,
so Proposition 3's assumption "clipped flow" fails here: the figure shows the rate, the table rows
of the sections check the bounds.

Left panel: max_{k, t <= t_j} ||Z_{k+1}(t) - Z_k(t)|| (the max the theorem states, over layers and
over [0, t_j]) against L for several t_j, with log-log slopes and bootstrap intervals over seeds.
Right panel: distance to the limit over (t, L): (int_0^1 ||V^L - V||_F^2 ds)^{1/2} + (same for W)
at each recorded time (``z_l2``), and sup_{s,t} ||Z^L - Z|| (``z_sup``) against L, for the derived
backward equation and the printed (44) one.

Both panels come from one training per depth (the seeds batched), computed once per run.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch

from numerics import progress
from numerics.data import make_data
from numerics.flow import Flow, train
from numerics.init import init_params
from numerics.limit import NetworkSnapshots, depth_gaps, limit_init, solve_limit
from numerics.model import MLP
from numerics.rates import rate_fit
from reports.sections.base import Context
from theory.catalog import ONE_OVER_L

FORMS = ("derived", "printed")


@dataclasses.dataclass(frozen=True)
class Setting:
    """Figure 1's sizes at one scale (``S``: grid of the limit solver)."""

    n: int
    d: int
    m: int
    T: float
    eta: float
    depths: tuple[int, ...]
    S: int
    seeds: tuple[int, ...]
    activation: str = "gelu"

    @property
    def iterations(self) -> int:
        return round(self.T / self.eta)


def setting(ctx: Context) -> Setting:
    return ctx.pick(
        tiny=Setting(n=6, d=3, m=4, T=0.2, eta=0.05, depths=(2, 4, 8), S=8, seeds=(0, 1)),
        quick=Setting(n=25, d=16, m=32, T=2.0, eta=0.01, depths=(2, 4, 8, 16, 32, 64), S=32,
                      seeds=(0, 1, 2)),
        paper=Setting(n=100, d=16, m=32, T=5.0, eta=0.01,
                      depths=tuple(2**j for j in range(1, 11)), S=64, seeds=(0, 1, 2)))


def figure1(ctx: Context) -> dict[str, Any]:
    """Figure 1's data for this run (computed once per run, shared by S3 and S4)."""
    if "figure1" not in ctx.shared:
        ctx.shared["figure1"] = _compute(ctx, setting(ctx))
    return ctx.shared["figure1"]


def _compute(ctx: Context, st: Setting) -> dict[str, Any]:
    seeds = tuple(ctx.seed + s for s in st.seeds)
    sizes = {"d": st.d, "d_out": st.d, "q": st.d, "m": st.m}
    X, Y = make_data("gaussian", n=st.n, d=st.d, d_out=st.d, seed=ctx.seed)
    N = st.iterations
    times = tuple(st.T * j / 10 for j in range(11))
    limits = {form: solve_limit(*limit_init("tied", S=st.S, seeds=seeds[:1], **sizes), X, Y,
                                st.activation, T=st.T, eta=st.eta, train_outer=False,
                                record_times=times, backward=form) for form in FORMS}
    marks = sorted({1, *(N * j // 5 for j in range(1, 6))})
    flow = Flow(st.eta, st.T, train_outer=False)
    left: dict[str, list[list[float]]] = {str(i): [] for i in marks}
    right: dict[str, Any] = {"z_l2": [], **{f"{k}_{form}": [] for k in ("z_sup", "out_sup")
                                            for form in FORMS}}
    for L in st.depths:
        params = init_params("tied", L=L, seeds=seeds, device=ctx.device, **sizes)
        result = train(params, X.to(ctx.device), Y.to(ctx.device), flow, MLP(st.activation),
                       record_every=1, record_times=times, snapshots=True,
                       checkpoint=progress.checkpoint(f"figure1-L{L}"))
        gap = torch.cummax(result.series["gap"], dim=0).values  # max over [0, t]
        for i in marks:
            left[str(i)].append([float(v) for v in gap[i]])
        net = NetworkSnapshots.from_train(result)
        first = [NetworkSnapshots((t,), *(getattr(net, k)[j:j + 1, :1] for k in "AVWB"))
                 for j, t in enumerate(net.times)]  # network 0 at each time alone
        right["z_l2"].append([depth_gaps(limits["derived"], one, X, st.activation).z_l2
                              for one in first])
        for form in FORMS:
            g = depth_gaps(limits[form], dataclasses.replace(
                net, **{k: getattr(net, k)[:, :1] for k in "AVWB"}), X, st.activation)
            right[f"z_sup_{form}"].append(g.z_sup)
            right[f"out_sup_{form}"].append(g.out_sup)
    rates = {i: rate_fit(st.depths, rows, ONE_OVER_L, seed=ctx.seed).to_dict()
             for i, rows in left.items()}
    right_rates = {f"{k}_{form}": rate_fit(st.depths, [[v] for v in right[f"{k}_{form}"]],
                                           ONE_OVER_L).to_dict()
                   for k in ("z_sup", "out_sup") for form in FORMS}
    return {"setting": dataclasses.asdict(st), "iterations": marks, "left": left,
            "left_rates": rates, "times": list(times), "right": right,
            "right_rates": right_rates}
