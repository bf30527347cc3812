"""S4's depth study (numerics.depth_study), which S4's check and Figure 1 share, against its parts
computed alone: the limit solved per backward form, each depth and seed trained on its own, and
the distances of numerics.depth_gaps at each recorded time."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from numerics.data import make_data
from numerics.depth_gaps import NetworkSnapshots, depth_gaps
from numerics.depth_study import depth_study
from numerics.flow import Flow, train
from numerics.init import init_params
from numerics.limit import limit_init, solve_limit
from numerics.model import MLP
from theory.config import Config
from theory.errors import ConfigError

SIZES = {"d": 2, "d_out": 2, "q": 3, "m": 4}
CONFIG = Config(n=6, **SIZES, T=0.2, eta=0.05, activation="gelu", init="tied", clip="none",
                train_outer=False, depths=(4, 8), seed=0)
TIMES = (0.0, 0.1, 0.2)


def test_batched_study_equals_its_parts_computed_alone() -> None:
    study = depth_study(CONFIG, S=8, record_times=TIMES, backward=("derived", "printed"),
                        seeds=(0, 5))
    X, Y = make_data("gaussian", n=6, d=2, d_out=2, seed=0)
    flow = Flow(0.05, 0.2, train_outer=False)
    for form in ("derived", "printed"):
        traj = solve_limit(*limit_init("tied", S=8, **SIZES), X, Y, "gelu", T=0.2, eta=0.05,
                           train_outer=False, record_times=TIMES, backward=form)
        for j, L in enumerate(CONFIG.depths):
            runs = [train(init_params("tied", L=L, seeds=(seed,), **SIZES), X, Y, flow,
                          MLP("gelu"), record_times=TIMES, snapshots=True) for seed in (0, 5)]
            net = NetworkSnapshots.from_train(runs[0])
            for name in ("z_sup", "z_l2", "h_sup", "out_sup"):
                assert getattr(study.gaps(form)[j], name) == pytest.approx(
                    getattr(depth_gaps(traj, net, X, "gelu"), name), rel=1e-9)
            assert list(study.by_time[form][j]) == list(traj.times)
            for i, (t, gap) in enumerate(study.by_time[form][j].items()):
                at_t = dataclasses.replace(net, times=(t,), **{k: getattr(net, k)[i:i + 1]
                                                               for k in "AVWB"})
                assert gap.z_l2 == pytest.approx(depth_gaps(traj, at_t, X, "gelu").z_l2,
                                                 rel=1e-9)
            for k, run in enumerate(runs):  # the batch's training series, seed by seed
                torch.testing.assert_close(study.series[j]["gap"][:, k],
                                           run.series["gap"][:, 0], rtol=1e-12, atol=0)


def test_study_needs_two_depths_and_a_backward_form() -> None:
    with pytest.raises(ConfigError, match="depths"):
        depth_study(CONFIG, depths=(4,), S=8)
    with pytest.raises(ConfigError, match="backward"):
        depth_study(CONFIG, S=8, backward=())
