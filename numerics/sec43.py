r"""Section 4.3 (family S12): model (11)'s residuals.  At a finite horizon: the neighbour gap
against L for the convolutional residual of :func:`sec43_conv` and for model (3) from a smooth
initialization.  In the long time: Theorem 6's conclusions for the convolutional residual, with
measured constants.  Each statement's measurement and facts are bound to its catalog entry at the
end (:func:`theory.catalog.bind`).

The paper states them for model (11) on condition that the (M, mu)-local PL condition holds with
mu of (22) (p7, p31; :mod:`theory.sec43`), and gives no constant.  :func:`runs` trains the
convolutional residual of :func:`sec43_conv` (:data:`HIDDEN_CHANNELS` hidden
channels, kernel 3) from ``config.init`` by gradient descent on ``config``'s flow (the unclipped
flow (4) where the checks apply) to T, for every depth of ``config.depths``, the seeds of
``config.seeds`` batched as independent networks (each on its own sample and initialization),
recorded at about :data:`POINTS` flow times.  Per depth L and seed:

- the loss l^L(t) and the mean decay rate rho_L(T') = log(l^L(0) / l^L(T')) / T' at T' = T/8,
  T/4, T/2, T.  On the flow d log l / dt = -G/l, so rho_L(T') = (1/T') int_0^T' G/l dt, and
  Proposition 8 (v) (p18), l^L(t) <= e^{-mu t} l^L(0) for every t and L, reads
  inf_{t, L} rho_L(t) >= mu > 0: measured as rho(T') = min_L rho_L(T') not falling as T' grows
  (a loss that plateaus at l* > 0 gives rho ~ log(l(0) / l*) / T');
- the PL ratio G/l of Definition 1 (every block of Z_k; :class:`numerics.metrics.Monitor`) and
  its running infimum mu(T') = inf_{t <= T'} G/l, min over L: the precondition, measured and
  reported beside the conclusions, never used to filter them;
- sup_{t <= T} max_k ||Z_{k+1}(t) - Z_k(t)|| (streamed over every iteration): Proposition 8 (ii)
  (p18), K~/L uniformly in t.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import numpy as np
import torch

from numerics.evidence import Evidence, fit_rate, rate_evidence, trained_rate
from numerics.flow import Flow, train
from numerics.init import init_params
from numerics.longtime import INTERPOLATION_LEVEL
from numerics.measure import Measurement, data_inputs, depth_sweep, samples
from numerics.metrics import trained_gap
from numerics.model import Conv
from numerics.thm6 import path_precondition
from theory.catalog import Statement, bind, catalog
from theory.config import Config
from theory.verdicts import region_text

HIDDEN_CHANNELS = 2
"""Hidden channels C' of the convolutional residual (those of sec43.general's)."""
POINTS = 64
"""Recorded flow times per run (every N / POINTS iterations, and the last)."""


@functools.lru_cache(maxsize=4)
def runs(config: Config) -> dict[str, Any]:
    """Per depth of ``config.depths`` (module docstring): the loss l(t) and the running infimum
    mu(t) of G/l (arrays (recorded t, seeds); mu's last entry is the streamed infimum over every
    iteration), sup_t max_k ||Z_{k+1} - Z_k||, what training changed, max_k ||D_{k+1}(T) -
    D_k(T)|| with D_k = Z_k(T) - Z_k(0), and the discretization gap log(l(T)/l(0)) +
    eta sum_i G_i/l_i, the error of gradient descent against the flow (seeds,); ``t``, the
    recorded flow times.  Cached: both checks of one configuration share it (read-only arrays)."""
    conv = sec43_conv(config, HIDDEN_CHANNELS)
    X, Y = samples(config)
    flow = Flow.from_config(config)
    every = max(1, flow.iterations // POINTS)
    out: dict[str, Any] = {"depths": list(config.depths), "per_depth": []}
    for L in config.depths:
        params = init_params(config.init, d=config.d, d_out=config.d_out, q=config.q,
                             m=config.m, L=L, seeds=config.seeds, ell=config.ell, residual=conv,
                             dtype=config.dtype, device=config.device)
        result = train(params, X, Y, flow, conv, record_every=every)
        mu = torch.cummin(result.series["pl"].double(), dim=0).values
        mu[-1] = torch.minimum(mu[-1], result.minima["pl"].double())
        out["t"] = result.times.double().numpy()
        loss = result.series["loss"].double().numpy()
        out["per_depth"].append({"loss": loss, "mu": mu.numpy(),
                                 "sup_gap": result.maxima["gap"].double().numpy(),
                                 "trained": trained_gap(result.params.Z, params.Z)
                                 .double().cpu().numpy(),
                                 "disc_gap": np.log(loss[-1] / loss[0])
                                 + result.integral("pl").double().numpy()})
    for array in (out["t"], *(a for d in out["per_depth"] for a in d.values())):
        array.flags.writeable = False  # cached: every caller gets the same arrays
    return out


def grid_indices(t: np.ndarray) -> list[int]:
    """The first recorded times at or after T/8, T/4, T/2 and T (T = t[-1])."""
    return [int(np.searchsorted(t, t[-1] / f * (1 - 1e-9))) for f in (8, 4, 2, 1)]


def mean_rates(t: np.ndarray, loss: np.ndarray, at: list[int]) -> np.ndarray:
    """rho(t_j) = log(l(0) / l(t_j)) / t_j for the recorded times t_j = t[at] (rows) and every
    column of ``loss`` (recorded t, seeds)."""
    return np.log(loss[:1] / loss[at]) / t[at, None]


def measure_long(config: Config) -> Measurement:
    """Both long-time checks of Section 4.3 from :func:`runs`: grid "T" (the recorded times
    next to T/8, T/4, T/2, T) with ``rho`` = min_L rho_L(T') and ``mu_T`` = min_L inf_(t<=T')
    G/l per seed; grid "L" with ``sup_gap`` per seed; the precondition's values (keys of
    :func:`numerics.thm6.path_precondition`: l(T)/l(0) over the (seed, depth) runs, the fraction
    reaching INTERPOLATION_LEVEL by T, whether all do by T/2, the median mu_emp), the smallest
    l(T)/l(0) (rho would stall where l reaches rounding, ~1e-30 l(0): the horizon must stay
    above it) and the largest discretization gap."""
    r = runs(config)
    t, per = r["t"], r["per_depth"]
    at = grid_indices(t)
    loss = np.stack([d["loss"] for d in per])  # (depths, recorded t, seeds)
    rho = np.min([mean_rates(t, d["loss"], at) for d in per], axis=0)
    mu = np.min([d["mu"] for d in per], axis=0)
    final, half = loss[:, -1] / loss[:, 0], loss[:, at[2]] / loss[:, 0]
    values = {"l_T_over_l0": float(np.median(final)), "max_l_T_over_l0": float(final.max()),
              "min_l_T_over_l0": float(final.min()),
              "interpolated_T": float(np.mean(final <= INTERPOLATION_LEVEL)),
              "interpolated_half": float(np.all(half <= INTERPOLATION_LEVEL)),
              "mu_emp": float(np.median(mu[-1])), "rho_T": float(np.median(rho[-1])),
              "max_disc_gap": float(np.max(np.abs([d["disc_gap"] for d in per])))}
    series = {"T": [float(t[j]) for j in at], "rho": rho.tolist(), "mu_T": mu[at].tolist(),
              "L": r["depths"], "sup_gap": [d["sup_gap"].tolist() for d in per],
              "trained": [d["trained"].tolist() for d in per],
              "t": t.tolist(), "loss_median": np.median(loss, axis=2).tolist()}
    return Measurement("sec43.long", config, values, data_inputs(*samples(config)), series)


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


def _sec43(st: Statement, c: Config, m: Measurement) -> Evidence:
    return rate_evidence(fit_rate(m, "conv", st), "slope of log max_{k,t} ||Z_{k+1}(t) - Z_k(t)|| "
                         "against log L for a convolutional residual (tied initialization)")


def _sec43_smooth(st: Statement, c: Config, m: Measurement) -> Evidence:
    return rate_evidence(fit_rate(m, "smooth", st), "slope of log max_{k,t} ||Z_{k+1}(t) - "
                         "Z_k(t)|| against log L for model (3) from a smooth Gaussian-process "
                         "initialization", **trained_rate(m, st))


def _sec43_long(st: Statement, c: Config, m: Measurement) -> Evidence:
    """Theorem 6's conclusions for model (11)'s convolutional residual (numerics.sec43): the
    statement's rate, with the PL ratio along the path beside it as a measured precondition
    (never a gate): :func:`path_precondition`'s numbers and the fit of mu_emp(T') = inf_(t<=T') G/l
    (min over L) under thm6.pl_path's region, as numbers."""
    key, grid, what = {
        "sec43.long_decay": ("rho", "T", "slope of log rho(T') = log min_L log(l^L(0)/l^L(T'))"
                             "/T' against log T'"),
        "sec43.long_smooth_L": ("sup_gap", "L", "slope of log sup_(t<=T) max_k ||Z_(k+1)(t) - "
                                "Z_k(t)|| against log L")}[st.id]
    trained = trained_rate(m, st) if grid == "L" else {}  # tied: equal to the total gap at T
    evidence = path_precondition(rate_evidence(
        fit_rate(m, key, st, grid=grid), f"{what} (convolutional residual of model (11), "
        "unclipped flow)", **trained), m)
    pl = fit_rate(m, "mu_T", catalog["thm6.pl_path"], grid="T")
    evidence.notes.append(
        f"PL along the path (measured, not a gate): slope of log inf_(t<=T') G/l against log T' "
        f"{pl.slope:.3g} [{pl.interval[0]:.3g}, {pl.interval[1]:.3g}] (thm6.pl_path's region: "
        f"{region_text(catalog['thm6.pl_path'].rate_window)}); gradient descent against the "
        f"flow: max |log(l(T)/l(0)) + int G/l| = {m.values['max_disc_gap']:.3g}; smallest "
        f"l(T)/l(0) {m.values['min_l_T_over_l0']:.3g}")
    evidence.extra["precondition"]["pl_rate"] = pl.to_dict()
    evidence.extra["max_disc_gap"] = m.values["max_disc_gap"]
    return evidence


bind("sec43.general", measure=measure_sec43, facts=_sec43)
bind("sec43.smooth_init", measure=measure_sec43_smooth, facts=_sec43_smooth)
bind("sec43.long_decay", "sec43.long_smooth_L", measure=measure_long, facts=_sec43_long)
