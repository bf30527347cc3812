"""The data of the paper's Figure 1 (Section 5.1): GD on model (3) for many depths and the limit.

Setting (paper): n = 100, d = q = d' = 16, m = 32, GELU, x and y standard Gaussian, A and B frozen,
V = 0 and W tied Gaussian, eta = 0.01 for 500 iterations (T = 5), L = 2 .. 1024, the limit by the
solver of :mod:`numerics.limit` (the paper used L = 2^14), all from S4's depth study
(:func:`numerics.depth_study.depth_study`).  The flow is unclipped as in the paper,
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

from numerics.depth_study import depth_study
from numerics.rates import rate_fit
from reports.sections.base import Context
from theory.catalog import ONE_OVER_L
from theory.config import Config

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
    """Figure 1 from one :func:`numerics.depth_study.depth_study`: the networks of all seeds
    trained together on the sample of ``ctx.seed``, the limit and the right panel for the
    first seed."""
    config = Config(n=st.n, d=st.d, d_out=st.d, q=st.d, m=st.m, T=st.T, eta=st.eta,
                    activation=st.activation, init="tied", clip="none", train_outer=False,
                    data="gaussian", depths=st.depths, seed=ctx.seed, device=ctx.device)
    times = tuple(st.T * j / 10 for j in range(11))
    study = depth_study(config, S=st.S, record_times=times, backward=FORMS,
                        seeds=tuple(ctx.seed + s for s in st.seeds), checkpoint="figure1")
    N = st.iterations
    marks = sorted({1, *(N * j // 5 for j in range(1, 6))})
    gaps = [torch.cummax(series["gap"], dim=0).values for series in study.series]  # max on [0, t]
    left = {str(i): [[float(v) for v in gap[i]] for gap in gaps] for i in marks}
    sup = {form: study.gaps(form) for form in FORMS}
    right: dict[str, Any] = {
        "z_l2": [[g.z_l2 for g in by_time.values()] for by_time in study.by_time["derived"]],
        **{f"{k}_{form}": [getattr(g, k) for g in sup[form]] for k in ("z_sup", "out_sup")
           for form in FORMS}}
    rates = {i: rate_fit(st.depths, rows, ONE_OVER_L, seed=ctx.seed).to_dict()
             for i, rows in left.items()}
    right_rates = {f"{k}_{form}": rate_fit(st.depths, [[v] for v in right[f"{k}_{form}"]],
                                           ONE_OVER_L).to_dict()
                   for k in ("z_sup", "out_sup") for form in FORMS}
    return {"setting": dataclasses.asdict(st), "iterations": marks, "left": left,
            "left_rates": rates, "times": list(times), "right": right,
            "right_rates": right_rates}
