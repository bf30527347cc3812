"""What every statement's measurement shares: the :class:`Measurement` record, the seeded samplers
(:func:`data`, :func:`samples`, :func:`initial`), the cached training run of S1, S3, S5 and S6
(:func:`run`) and the depth sweep of S3 and S12 (:func:`depth_sweep`).

Each statement's measurement lives in its family's module under numerics/ (bound to its catalog
``Statement``: :func:`theory.catalog.bind`).  A measurement returns named measured numbers
(``values``), the data-dependent inputs a bound needs (``inputs``: M_X, M_Y, M0, the initial
neighbour gap, ...), named series for figures (``series``, JSON-ready lists) and notes; it never
decides a verdict.  The caches hand out copies: a caller may modify what it gets.

Norms are the paper's: ||Z_k|| = ||V_k||_F + ||W_k||_F, ||A||_F, ||B||_F
(docs/statements.md, Conventions).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
from collections.abc import Callable, Sequence
from typing import Any

import torch

from numerics.data import make_batch, make_data
from numerics.flow import Flow, TrainResult, train
from numerics.init import init_params
from numerics.metrics import trained_gap
from numerics.model import MLP, Params, Residual
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


@functools.lru_cache(maxsize=4)
def _data(config: Config) -> tuple[torch.Tensor, torch.Tensor]:
    return make_data(config.data, n=config.n, d=config.d, d_out=config.d_out, q=config.q,
                     seed=config.seed, y_scale=config.y_scale, dtype=config.dtype,
                     device=config.device)


def data(config: Config) -> tuple[torch.Tensor, torch.Tensor]:
    """The synthetic sample (X, Y) of ``config`` (drawn with ``config.seed``; cached, a copy)."""
    X, Y = _data(config)
    return X.clone(), Y.clone()


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
def _run(config: Config) -> TrainResult:
    X, Y = data(config)
    flow = Flow.from_config(config)
    return train(initial(config), X, Y, flow, MLP(config.activation, config.scaling),
                 record_every=max(1, flow.iterations // 200),
                 record_times=(0.0, config.T / 2, config.T))


def run(config: Config) -> TrainResult:
    """Gradient descent on flow (4)/(5) for ``config`` (one network, seed ``config.seed``),
    recording the series at about 200 flow times and the PL ratio at 0, T/2 and T (cached:
    statements that share a run share it; a copy)."""
    return copy.deepcopy(_run(config))


def data_inputs(X: torch.Tensor, Y: torch.Tensor) -> dict[str, float]:
    """M_X, M_Y (largest norms) and the mean label energy of the sample (or the batch of samples,
    :func:`samples`) a measurement trained on."""
    return {"M_X": float(X.norm(dim=-1).max()), "M_Y": float(Y.norm(dim=-1).max()),
            "l0_labels": float((Y * Y).sum(-1).mean())}


def recorded(result: TrainResult, *names: str) -> dict[str, list[float]]:
    """The recorded flow times ``t`` and the series ``names`` of network 0 of ``result``."""
    out = {"t": [float(t) for t in result.times]}
    out.update({name: [float(v) for v in result.series[name][:, 0]] for name in names})
    return out


def largest(result: TrainResult, name: str) -> float:
    """The maximum over every iteration of ``result.maxima[name]`` for network 0."""
    return float(result.maxima[name][0])


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

