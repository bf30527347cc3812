"""The depth study of Theorem 4 (S4): model (3) trained by gradient descent at several depths L
against the limit dynamics of Appendix A.5 (eqs. 38-44), one definition for S4's check
(``thm4.limit`` in :mod:`numerics.measure`) and the paper's Figure 1
(reports/sections/figure1.py).

Each depth's networks train with :func:`numerics.flow.train` (step eta, flow time t = eta *
iterations); the limit is :func:`numerics.limit.solve_limit` on the grid s_j = j/S with the same
step in t; :mod:`numerics.depth_gaps` measures their distances at the recorded flow times.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch

from numerics import progress
from numerics.data import make_data
from numerics.depth_gaps import (
    GAP_NAMES,
    DepthGap,
    NetworkSnapshots,
    RichardsonCheck,
    depth_gaps_by_time,
    richardson_check,
    sup_over_time,
)
from numerics.flow import Flow, train
from numerics.init import init_params
from numerics.limit import LimitTrajectory, limit_init, solve_limit
from numerics.model import MLP
from numerics.rates import loglog_slope
from theory.errors import ConfigError

if TYPE_CHECKING:
    from theory.config import Config


@dataclasses.dataclass(frozen=True)
class DepthStudy:
    """One configuration's depth study, for the first network of the batch.

    ``limits[form]``: the limit solved with the backward equation ``form``
    (:data:`numerics.limit.BACKWARD_FORMS`); ``by_time[form][j]``: flow time -> the
    :class:`DepthGap` of the network of depth ``depths[j]`` to that limit; ``series[j]``: the
    training series of that depth (:attr:`numerics.flow.TrainResult.series`, every network of
    the batch); ``richardson``: a :class:`RichardsonCheck` of the first form's limit on the
    first three depths when they are L, 2L, 4L.
    """

    depths: tuple[int, ...]
    limits: dict[str, LimitTrajectory]
    by_time: dict[str, tuple[dict[float, DepthGap], ...]]
    series: tuple[dict[str, torch.Tensor], ...]
    richardson: RichardsonCheck | None

    @property
    def limit(self) -> LimitTrajectory:
        """The limit of the first backward form."""
        return next(iter(self.limits.values()))

    def gaps(self, form: str | None = None) -> tuple[DepthGap, ...]:
        """Per depth, the gaps to the limit of ``form`` (default the first) maximized over the
        recorded times."""
        by_time = self.by_time[next(iter(self.limits)) if form is None else form]
        return tuple(sup_over_time(gaps.values()) for gaps in by_time)

    @property
    def slopes(self) -> dict[str, float]:
        """name -> the log-log slope against L of :meth:`gaps`' ``name`` (where all are > 0)."""
        gaps = self.gaps()
        return {name: loglog_slope(self.depths, [getattr(g, name) for g in gaps])[0]
                for name in GAP_NAMES if all(getattr(g, name) > 0 for g in gaps)}


def depth_study(config: Config, *, depths: Sequence[int] | None = None, S: int = 64,
                record_times: Sequence[float] | None = None,
                backward: Sequence[str] = ("derived",), seeds: Sequence[int] | None = None,
                checkpoint: str | None = None) -> DepthStudy:
    """Train model (3) at each depth and compare the first network with the limit.

    Uses the configuration's sizes, activation, scaling, init (tied or smooth), data (synthetic,
    the sample of ``config.seed``), flow (eta, T, clipping, train_outer); ``depths`` default to
    ``config.depths``; ``seeds`` (default ``(config.seed,)``) initialize the networks trained
    together at each depth on that sample, the limit starts from the first one's Z_init;
    ``record_times`` (default 0, T/4, T/2, 3T/4, T) are where the gaps are measured;
    ``backward`` the forms of (44) the limit is solved with; ``checkpoint``: the trainings
    checkpoint as ``<checkpoint>-L<depth>`` (:func:`numerics.progress.checkpoint`).  float64 on
    ``config.device``.
    """
    depths = tuple(config.depths if depths is None else depths)
    if len(depths) < 2:
        raise ConfigError("depths", depths, "needs at least two depths for a slope")
    if not backward:
        raise ConfigError("backward", backward, "needs at least one form of (44)")
    seeds = (config.seed,) if seeds is None else tuple(seeds)
    T = config.T
    record_times = tuple(record_times or (0.0, T / 4, T / 2, 3 * T / 4, T))
    sizes = {"d": config.d, "d_out": config.d_out, "q": config.q, "m": config.m}
    X, Y = make_data(config.data, n=config.n, d=config.d, d_out=config.d_out, q=config.q,
                     seed=config.seed, y_scale=config.y_scale)
    init = limit_init(config.init, S=S, seeds=seeds[:1], ell=config.ell, **sizes)
    limits = {form: solve_limit(*init, X, Y, config.activation, T=T, eta=config.eta,
                                train_outer=config.trains_outer, clip_mode=config.clip,
                                clip_c=config.clip_c, scaling=config.scaling,
                                record_times=record_times, backward=form)
              for form in backward}
    flow = Flow.from_config(config)
    residual = MLP(config.activation, config.scaling)
    by_time: dict[str, list[dict[float, DepthGap]]] = {form: [] for form in limits}
    nets: list[NetworkSnapshots] = []  # the first three depths' networks, for Richardson
    series = []
    for L in depths:  # one depth's snapshots at a time: memory O(L)
        params = init_params(config.init, L=L, seeds=seeds, ell=config.ell,
                             device=config.device, **sizes)
        name = None if checkpoint is None else progress.checkpoint(f"{checkpoint}-L{L}")
        result = train(params, X.to(config.device), Y.to(config.device), flow, residual,
                       record_times=record_times, snapshots=True, checkpoint=name)
        net = NetworkSnapshots.from_train(result).network(0)
        for form, traj in limits.items():
            by_time[form].append(depth_gaps_by_time(traj, net, X, config.activation,
                                                    scaling=config.scaling))
        if len(nets) < 3:
            nets.append(net)
        series.append(result.series)
    rich = None
    if len(depths) >= 3 and depths[1] == 2 * depths[0] and depths[2] == 4 * depths[0]:
        rich = richardson_check(limits[backward[0]], nets, X, config.activation,
                                scaling=config.scaling)
    return DepthStudy(depths, limits, {form: tuple(v) for form, v in by_time.items()},
                      tuple(series), rich)
