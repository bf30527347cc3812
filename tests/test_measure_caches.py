"""The measurements' caches hand out copies (or read-only arrays): a caller that modifies what it
got changes nothing for the next caller, who still gets what an uncached computation gives."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from numerics import measure, sec43
from numerics.data import make_data
from numerics.flow import Flow, train
from numerics.init import init_params
from numerics.model import MLP
from theory.config import Config

CONFIG = Config(n=4, d=2, d_out=2, q=4, m=3, L=3, T=0.1, eta=0.05, activation="tanh", seed=7)


def test_data_is_a_fresh_copy_of_the_draw() -> None:
    X, Y = measure.data(CONFIG)
    X.zero_()
    Y.zero_()
    X2, Y2 = make_data(CONFIG.data, n=CONFIG.n, d=CONFIG.d, d_out=CONFIG.d_out, q=CONFIG.q,
                       seed=CONFIG.seed, y_scale=CONFIG.y_scale, dtype=CONFIG.dtype)
    again = measure.data(CONFIG)
    torch.testing.assert_close(again[0], X2, rtol=0, atol=0)
    torch.testing.assert_close(again[1], Y2, rtol=0, atol=0)


def test_a_cached_run_is_a_copy() -> None:
    """The cached run, modified by a caller, is still the training written out here."""
    first = measure.run(CONFIG)
    first.params.A.zero_()
    first.series["loss"].zero_()
    X, Y = make_data(CONFIG.data, n=CONFIG.n, d=CONFIG.d, d_out=CONFIG.d_out, q=CONFIG.q,
                     seed=CONFIG.seed, y_scale=CONFIG.y_scale, dtype=CONFIG.dtype)
    p0 = init_params(CONFIG.init, d=CONFIG.d, d_out=CONFIG.d_out, q=CONFIG.q, m=CONFIG.m,
                     L=CONFIG.L, seeds=(CONFIG.seed,), ell=CONFIG.ell, dtype=CONFIG.dtype)
    flow = Flow.from_config(CONFIG)
    direct = train(p0, X, Y, flow, MLP(CONFIG.activation, CONFIG.scaling),
                   record_every=max(1, flow.iterations // 200),
                   record_times=(0.0, CONFIG.T / 2, CONFIG.T))
    again = measure.run(CONFIG)
    torch.testing.assert_close(again.params.A, direct.params.A, rtol=0, atol=0)
    torch.testing.assert_close(again.series["loss"], direct.series["loss"], rtol=0, atol=0)


def test_section_43_runs_are_read_only() -> None:
    config = dataclasses.replace(CONFIG, q=4, depths=(2, 3), seeds=(0, 1), clip="none")
    r = sec43.runs(config)
    with pytest.raises(ValueError, match="read-only"):
        r["per_depth"][0]["loss"][0] = 0.0
    assert isinstance(r["t"], np.ndarray) and not r["t"].flags.writeable
