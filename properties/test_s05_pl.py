"""S5, Definition 1 and Proposition 5: the local Polyak-Lojasiewicz condition.

Proposition 5 needs m >= c1 n and L >= c2 sqrt(nq) with c1 ~ 1e7 and c2 ~ 1e4 for tanh (and
4e5, 6e2 for the centred sigmoid, the smallest): no trainable configuration satisfies it, so
the applicable branch of these properties (G >= mu l where Proposition 5 applies) is never reached
by the drawn sizes -- it stays, so that a configuration that did reach it would be checked.  What
is checked at trainable sizes:

* ``run_check`` on drawn configurations: the contract (not applicable, naming m >= c1*n,
  L >= c2*sqrt(n*q) and whatever else fails), and holds if ever applicable;
* the assumption predicate at configurations just below, at and just above m_min = c1 n and
  L_min = c2 sqrt(nq) (no training): "m >= c1*n" fails exactly when m < c1 n, "L >= c2*sqrt(n*q)"
  exactly when L < c2 sqrt(nq), "q >= d + d'" exactly when q < d + d', with c1, c2 recomputed
  here from the printed formulas and an independent computation of eta_r;
* at points drawn by Hypothesis in the M-ball of Definition 1 around the initialization
  (M = c3 / sqrt(nq), boundary included), G/l as the measurement computes it
  (:func:`numerics.pl.pl_ratio`, explicit gradients) equals G/l from torch autograd, with
  G = ||dl/dA||^2 + L sum_k ||dl/dZ_k||^2 + ||dl/dB||^2 (a missing factor L or a wrong gradient
  fails); ``target`` searches for the smallest G / (mu l);
* the measurement's own sampler of the M-ball (:func:`numerics.pl.ball_points`) stays in it.
"""

from __future__ import annotations

import math

import mpmath
import pytest
import torch
from hypothesis import given, settings, target
from hypothesis import strategies as st

from numerics.measure import data, initial
from numerics.metrics import frobenius, layer_norms
from numerics.model import MLP, Params, loss
from numerics.pl import ball_points, pl_ratio
from properties.assertions import assert_holds, checked, fail_case, family_ids
from properties.references import eta_reference
from properties.strategies import (
    PL_DEFINED,
    BallPoint,
    configs,
    examples,
    pl_threshold_configs,
)
from properties.strategies import (
    ball_points as ball_point_draws,
)
from theory import pl
from theory.config import Config
from theory.finite_time import sigma_mp

FAMILIES = ("S5",)
(PL,) = family_ids(*FAMILIES)
Tensor = torch.Tensor
PL_CONFIGS = configs(activations=PL_DEFINED, inits=("tied",), data=("sphere",), clips=("none",))


@pytest.mark.parametrize("statement_id", family_ids(*FAMILIES))
@settings(max_examples=examples(4))
@given(config=configs(trials=16))
def test_check_contract_and_holds_where_applicable(statement_id: str, config: Config) -> None:
    assert_holds(checked(statement_id, config), config)


def _first_eta(activation: str) -> float:
    """|eta_r| for the first r >= 2 with eta_r != 0 (independent computation)."""
    for r in range(2, 12):
        value = eta_reference(activation, r)
        if abs(value) > 1e-10:
            return abs(value)
    raise AssertionError(f"no eta_r != 0 for {activation}")


@settings(max_examples=examples(25))
@given(config=pl_threshold_configs())
def test_width_and_depth_thresholds(config: Config) -> None:
    K = sigma_mp(config.activation)["K_sigma"]
    with mpmath.workdps(30):
        eta = mpmath.mpf(_first_eta(config.activation))
        e = mpmath.exp(2 * mpmath.sqrt(2) * K)
        c1 = max(2**10 * K**2 * e**2 / eta**2, 1)  # p35
        c2 = 128 * K**2 * e / eta
        expected = {pl.WIDTH: config.m < c1 * config.n,
                    pl.DEPTH: config.L < c2 * mpmath.sqrt(config.n * config.q),
                    pl.Q_SPLIT: config.q < config.d + config.d_out}
    failed = pl.assumptions(config)
    for name, fails in expected.items():
        if (name in failed) != fails:
            fail_case(PL, config, what=f"the predicate names {name!r} iff it fails",
                      measured=float(config.m if name == pl.WIDTH else config.L),
                      bound=float(c1 * config.n if name == pl.WIDTH
                                  else c2 * mpmath.sqrt(config.n * config.q)),
                      relation=">=", details=f"predicate: {failed}", exact=False)


def _offset(p0: Params, point: BallPoint, radius: float) -> Params:
    """Network 0 of ``p0`` moved inside the M-ball as ``point`` says."""
    gen = torch.Generator().manual_seed(point.seed)

    def unit(t: Tensor) -> Tensor:
        u = torch.randn(t.shape, generator=gen, dtype=t.dtype)
        return u / torch.linalg.vector_norm(u.flatten(1), dim=1).view(-1, *[1] * (t.ndim - 1))

    A0, (V0, W0), B0 = p0.A[:1], (z[:1] for z in p0.Z), p0.B[:1]
    L = V0.shape[1]
    frac = (torch.rand(1, L, generator=gen, dtype=V0.dtype) * point.frac_Z if point.per_layer
            else torch.full((1, L), point.frac_Z, dtype=V0.dtype))
    rho = (frac * radius)[..., None, None]
    uV = torch.randn(V0.shape, generator=gen, dtype=V0.dtype)
    uW = torch.randn(W0.shape, generator=gen, dtype=W0.dtype)
    uV = uV / torch.linalg.vector_norm(uV.flatten(2), dim=2)[..., None, None]
    uW = uW / torch.linalg.vector_norm(uW.flatten(2), dim=2)[..., None, None]
    return Params(A0 + point.frac_A * radius * unit(A0),
                  (V0 + point.share * rho * uV, W0 + (1 - point.share) * rho * uW),
                  B0 + point.frac_B * radius * unit(B0))


def _pl_ratio_autograd(params: Params, X: Tensor, Y: Tensor, residual: MLP) -> float:
    leaves = [t.detach().clone().requires_grad_(True) for t in (params.A, *params.Z, params.B)]
    value = loss(Params(leaves[0], tuple(leaves[1:-1]), leaves[-1]), X, Y, residual)[0]
    gA, gV, gW, gB = torch.autograd.grad(value, leaves)
    G = (gA**2).sum() + params.L * ((gV**2).sum() + (gW**2).sum()) + (gB**2).sum()
    return float((G / value).detach())


@settings(max_examples=examples(20))
@given(config=PL_CONFIGS, point=ball_point_draws)
def test_pl_ratio_in_the_M_ball(config: Config, point: BallPoint) -> None:
    local = pl.local_constants(config)
    assert local is not None, config.activation
    X, Y = data(config)
    residual = MLP(config.activation, config.scaling)
    params = _offset(initial(config), point, local["M"])
    measured = float(pl_ratio(params, X, Y, residual)[0])
    reference = _pl_ratio_autograd(params, X, Y, residual)
    target(math.log10(local["mu"]) - math.log10(measured), label="log10 mu / (G/l)")
    if not math.isclose(measured, reference, rel_tol=1e-9):
        fail_case(PL, config, what="G/l of the measurement = G/l by autograd, G = ||dl/dA||^2 "
                  "+ L sum_k ||dl/dZ_k||^2 + ||dl/dB||^2", measured=measured, bound=reference,
                  relation="==", exact=False, details=f"point {point}")
    if not pl.assumptions(config) and measured < local["mu"]:
        fail_case(PL, config, what="G >= mu l in the M-ball (Definition 1)", measured=measured,
                  bound=local["mu"], relation=">=", exact=False, details=f"point {point}")


@settings(max_examples=examples(6))
@given(config=PL_CONFIGS, count=st.integers(1, 9), seed=st.integers(0, 2**16))
def test_measurement_samples_inside_the_M_ball(config: Config, count: int, seed: int) -> None:
    local = pl.local_constants(config)
    assert local is not None
    p0 = initial(config)
    points = ball_points(p0, local["M"], count, seed)
    dist = torch.stack([
        frobenius(points.A - p0.A[:1]), frobenius(points.B - p0.B[:1]),
        layer_norms(tuple(z - z0[:1] for z, z0 in zip(points.Z, p0.Z, strict=True))).amax(1)])
    worst = float(dist.max())
    target(worst / local["M"], label="distance / M")
    if worst > local["M"] * (1 + 1e-12):
        fail_case(PL, config, what="numerics.pl.ball_points stays in the M-ball",
                  measured=worst, bound=local["M"], exact=False)
