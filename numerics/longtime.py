r"""The long-time regime of Theorem 6, measured along the path: one point of the phase diagram.

:func:`phase_point` trains model (3) on the unclipped flow (4) (tied initialization of Section 3,
data on the sphere ||x_i|| = sqrt(q) as Proposition 5 assumes) for every seed of
``config.seeds`` in one batched :func:`numerics.flow.train` call, streaming in O(L) memory
(:class:`numerics.metrics.Monitor`):

- the loss l(t) and the PL ratio G(t)/l(t), G = ||dl/dA||_F^2 + L sum_k ||dl/dZ_k||_F^2 +
  ||dl/dB||_F^2 (Definition 1), with its running infimum mu_emp = inf_{t <= T} G/l;
- the distance from the initialization max(||A - A(0)||_F, sup_k ||Z_k - Z_k(0)||, ||B -
  B(0)||_F), maximized over t (Proposition 8 (i): the weights stay within M of it);
- sup_t L max_k ||Z_{k+1}(t) - Z_k(t)|| (Theorem 6 (ii): bounded by K~ for all t);
- the discretization check of dl/dt = -G: on the flow, log l(T) - log l(0) = -integral_0^T G/l dt
  exactly, so ``disc_gap`` = log(l(T)/l(0)) + eta sum_{i<N} G_i/l_i is the error of gradient
  descent with step eta against the flow (O(eta)), NOT a check of a theorem.

A seed "interpolates" when l(T) <= :data:`INTERPOLATION_LEVEL` l(0) (declared here, one place).
"""

from __future__ import annotations

import math

import torch

from numerics.flow import TrainResult, run_config
from theory.config import Config
from theory.errors import ConfigError, DivergenceError

INTERPOLATION_LEVEL = 1e-3
"""A seed interpolates within the horizon T when l(T) <= INTERPOLATION_LEVEL * l(0)."""

KEYS = ("n", "m", "L", "seed", "T", "eta", "y_scale", "l0", "l_T", "interpolated", "mu_emp",
        "pl_init", "pl_T", "rate_emp", "max_dist", "max_dist_z", "sup_L_gap", "integral_pl",
        "disc_gap", "diverged")
"""The keys of every record of :func:`phase_point` (all floats)."""


def require_long_time(config: Config) -> None:
    """ConfigError (one line) unless ``config`` is Theorem 6's setting: model (3) with the paper's
    scaling, the unclipped flow, the tied initialization and data on the sphere."""
    for name, wanted in (("data", "sphere"), ("clip", "none"), ("init", "tied"),
                         ("scaling", "paper")):
        if getattr(config, name) != wanted:
            raise ConfigError(name, getattr(config, name), f"the long-time phase diagram "
                              f"(Theorem 6) needs {name} = {wanted}")


def phase_point(config: Config) -> list[dict[str, float]]:
    """One record per seed of ``config.seeds`` (keys :data:`KEYS`) for ``config``'s (n, m, L, T,
    eta, y_scale): the seeds are batched in one training; when the batch diverges, the seeds are
    rerun one by one and a diverged seed's record is ``diverged = 1`` with nan measurements."""
    require_long_time(config)
    try:
        return records(config, train_long(config, config.seeds), config.seeds)
    except DivergenceError:
        pass
    out = []
    for seed in config.seeds:
        try:
            out += records(config, train_long(config, (seed,)), (seed,))
        except DivergenceError:
            out.append(_diverged(config, seed))
    return out


def train_long(config: Config, seeds: tuple[int, ...], **train_kwargs: object) -> TrainResult:
    """The batched run of :func:`phase_point` (series kept at t = 0 and T only, unless
    ``train_kwargs`` say otherwise)."""
    require_long_time(config)
    kwargs: dict[str, object] = {"record_every": config.iterations} | train_kwargs
    return run_config(config, seeds=seeds, **kwargs)


def records(config: Config, result: TrainResult, seeds: tuple[int, ...]) -> list[dict[str, float]]:
    """The per-seed records (:data:`KEYS`) of a finished :func:`train_long` run."""
    l0, lT = result.series["loss"][0], result.series["loss"][-1]
    integral = result.integral("pl")
    dist = torch.stack([result.maxima[k] for k in ("dist_a", "dist_z", "dist_b")]).amax(0)
    T = float(result.times[-1])
    out = []
    for j, seed in enumerate(seeds):
        log_decay = math.log(float(lT[j]) / float(l0[j])) if lT[j] > 0 else -math.inf
        out.append({
            **_sizes(config, seed),
            "l0": float(l0[j]), "l_T": float(lT[j]),
            "interpolated": float(lT[j] <= INTERPOLATION_LEVEL * l0[j]),
            "mu_emp": float(result.minima["pl"][j]), "pl_init": float(result.series["pl"][0, j]),
            "pl_T": float(result.series["pl"][-1, j]), "rate_emp": -log_decay / T,
            "max_dist": float(dist[j]), "max_dist_z": float(result.maxima["dist_z"][j]),
            "sup_L_gap": config.L * float(result.maxima["gap"][j]),
            "integral_pl": float(integral[j]), "disc_gap": log_decay + float(integral[j]),
            "diverged": 0.0})
    return out


def _sizes(config: Config, seed: int) -> dict[str, float]:
    return {"n": float(config.n), "m": float(config.m), "L": float(config.L),
            "seed": float(seed), "T": float(config.iterations * config.eta),
            "eta": float(config.eta), "y_scale": float(config.y_scale)}


def _diverged(config: Config, seed: int) -> dict[str, float]:
    out = dict.fromkeys(KEYS, math.nan) | _sizes(config, seed)
    return out | {"interpolated": 0.0, "diverged": 1.0}

