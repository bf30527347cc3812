"""numerics.optimizers (Remark 1): heavy ball and Adam on model (3) against torch.optim through
autograd, closed forms of both directions under a constant field, the eta -> 0 limit of heavy ball
(numerics.flow's gradient descent), and the remark1.* checks at tiny scale."""

from __future__ import annotations

import dataclasses
import json
import math

import jsonschema
import pytest
import torch

from numerics import optimizers as O
from numerics.checks import run_check
from numerics.flow import Flow, param_distance
from numerics.flow import train as train_gd
from numerics.measure import initial, samples
from numerics.model import MLP, Params
from numerics.model import loss as model_loss
from reports.schema import CHECK
from reports.sections import Context
from reports.sections.remark1 import IDS, _rows
from theory.catalog import catalog
from theory.config import Config
from theory.remark1 import GRADIENT_FLOW

CFG = Config(n=5, d=2, d_out=2, q=4, m=3, L=4, T=0.15, eta=0.05, activation="tanh",
             data="sphere", init="smooth", seeds=(0, 1))


def _torch_optim(optimizer: str, steps: int) -> Params:
    """``steps`` steps of torch.optim on autograd gradients of model (3)'s loss, the gradients of
    Z multiplied by L (the field of flow (4)); learning rates in flow-time units."""
    X, Y = samples(CFG)
    p0 = initial(CFG, seeds=CFG.seeds)
    leaves = [t.clone().requires_grad_(True) for t in (p0.A, *p0.Z, p0.B)]
    opt = (torch.optim.SGD(leaves, lr=CFG.eta * (1 - O.BETA), momentum=O.BETA)
           if optimizer == "momentum" else
           torch.optim.Adam(leaves, lr=CFG.eta, betas=O.ADAM_BETAS, eps=O.ADAM_EPS))
    for _ in range(steps):
        opt.zero_grad()
        p = Params(leaves[0], tuple(leaves[1:-1]), leaves[-1])
        model_loss(p, X, Y, MLP("tanh")).sum().backward()  # networks independent
        for z in leaves[1:-1]:
            z.grad.mul_(CFG.L)
        opt.step()
    return Params(*(t.detach() for t in (leaves[0],)), tuple(t.detach() for t in leaves[1:-1]),
                  leaves[-1].detach())


@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
def test_steps_match_torch_optim_through_autograd(optimizer: str) -> None:
    """Three steps (explicit gradients (13)-(16), the module's own update) equal torch.optim's
    SGD(momentum) / Adam on autograd gradients, batched over two independent networks."""
    X, Y = samples(CFG)
    run = O.train(initial(CFG, seeds=CFG.seeds), X, Y, CFG, optimizer)
    reference = _torch_optim(optimizer, CFG.iterations)
    assert CFG.iterations == 3
    assert float(param_distance(run.params, reference).max()) < 1e-12
    assert float(param_distance(run.params, initial(CFG, seeds=CFG.seeds)).min()) > 1e-3


def test_heavy_ball_under_a_constant_field_closed_form() -> None:
    """v_k = G (1 - beta^k) / (1 - beta): after N steps of eta the displacement is
    -eta G (N - beta (1 - beta^N) / (1 - beta)), i.e. the flow's -t G at t = N eta up to the lag
    eta beta / (1 - beta) of the steady state."""
    G = [torch.tensor([[0.3, -2.0]], dtype=torch.float64)]
    hb, eta, N, beta = O.HeavyBall(G), 0.01, 200, O.BETA
    moved = torch.zeros_like(G[0])
    for _ in range(N):
        moved -= eta * hb.direction(G)[0]
    expected = -eta * G[0] * (N - beta * (1 - beta**N) / (1 - beta))
    torch.testing.assert_close(moved, expected, rtol=1e-12, atol=0)
    t = N * eta
    assert torch.allclose(moved, -t * G[0] + eta * beta / (1 - beta) * G[0], rtol=1e-6)


def test_adam_under_a_constant_field_is_a_sign() -> None:
    """m_k = (1 - b1^k) G, s_k = (1 - b2^k) G^2: the bias-corrected direction is G / (|G| + eps)
    at every step (a saturated coordinate clipping at c = 1)."""
    G = [torch.tensor([1e-3, -5.0, 0.0, 2.0], dtype=torch.float64)]
    adam = O.Adam(G)
    for _ in range(5):
        D = adam.direction(G)[0]
        torch.testing.assert_close(D, G[0] / (G[0].abs() + O.ADAM_EPS), rtol=1e-12, atol=0)


def test_adam_direction_is_bounded_by_construction() -> None:
    """|D| <= (1 - b1) / sqrt((1 - b2)(1 - b1^2 / b2)) for any field sequence (sparse fields with
    heavy-tailed scales here), and the bound is sharp: Cauchy-Schwarz's equality case, a field
    growing like (b2 / b1)^k, approaches it once the bias corrections have faded (after a long
    zero field, which moves nothing)."""
    gen = torch.Generator().manual_seed(0)
    adam = O.Adam([torch.zeros(1000, dtype=torch.float64)])
    largest = 0.0
    for k in range(300):
        scale = torch.exp(4 * torch.randn(1000, generator=gen, dtype=torch.float64))
        G = [torch.randn(1000, generator=gen, dtype=torch.float64) * scale * (k % 7 == 0)]
        largest = max(largest, float(adam.direction(G)[0].abs().max()))
    assert largest <= O.ADAM_BOUND
    b1, b2 = O.ADAM_BETAS
    sharp = O.Adam([torch.zeros(1, dtype=torch.float64)])
    for k in range(6000):
        D = sharp.direction([torch.full((1,), (b2 / b1) ** (k - 5700) * (k >= 5700),
                                        dtype=torch.float64)])
    assert 0.95 * O.ADAM_BOUND < float(D[0]) <= O.ADAM_BOUND
    assert O.ADAM_BOUND == pytest.approx(7.2703, abs=1e-4)


def test_heavy_ball_tends_to_gradient_descent_as_eta_vanishes() -> None:
    """At fixed beta the velocity's memory eta / (1 - beta) vanishes with eta: the distance to
    gradient descent (numerics.flow, a different code path) at T halves with eta (T = 1 is
    long against that memory, so the transient beta^N has died out)."""
    c = dataclasses.replace(CFG, init="tied", T=1.0)
    X, Y = samples(c)
    p0 = initial(c, seeds=c.seeds)
    gaps = []
    for eta in (0.01, 0.005, 0.0025):
        e = dataclasses.replace(c, eta=eta)
        mom = O.train(p0, X, Y, e, "momentum", record_every=e.iterations).params
        gd = train_gd(p0, X, Y, Flow.from_config(e), MLP("tanh"), record_every=e.iterations)
        gaps.append(float(param_distance(mom, gd.params).max()))
    for a, b in zip(gaps, gaps[1:], strict=False):
        assert 1.7 < a / b < 2.3, gaps


def test_unknown_optimizer_is_refused() -> None:
    from theory.errors import ConfigError

    X, Y = samples(CFG)
    with pytest.raises(ConfigError, match="optimizer"):
        O.train(initial(CFG), X, Y, CFG, "rmsprop")


def test_optimizer_of_each_statement() -> None:
    assert [O.optimizer_of(s) for s in IDS] == ["momentum", "momentum", "adam", "adam"]


def test_remark1_checks_at_tiny_scale_are_beyond_scope() -> None:
    """Every tiny row of the section: a beyond-scope record naming the gradient flow, valid
    against the schema; a clipped configuration is not applicable (the optimizers clip nothing)."""
    rows = _rows(Context("tiny"))
    assert {r.id for r in rows} == set(IDS)
    for row in rows:
        result = run_check(row.id, row.config)
        record = json.loads(json.dumps(result.to_dict(), allow_nan=False, default=str))
        jsonschema.validate(record, CHECK)
        assert result.scope == "beyond" and result.failed_assumptions == [GRADIENT_FLOW]
        assert result.failed_requirements == [] and result.verdict != "n/a"
        v = result.extra["values"]
        assert math.isfinite(v["max_norm"]) and v["max_norm"] >= v["max_norm0"] > 0
    clipped = dataclasses.replace(rows[0].config, clip="coord")
    result = run_check(rows[0].id, clipped)
    assert result.verdict == "n/a" and "unclipped flow (clip = none)" in result.failed_requirements


def test_controls_break_what_they_control() -> None:
    """The 1/L control is an i.i.d. start (a smooth start's: the initialization itself); the
    boundedness control starves the network (m = 1 on 4n samples)."""
    c = _rows(Context("tiny"))[0].config
    assert catalog["remark1.adam_L"].control(c)[0].init == "iid"  # type: ignore[misc]
    starved = catalog["remark1.momentum_bounded"].control(c)[0]  # type: ignore[misc]
    assert (starved.m, starved.n) == (1, 4 * c.n)
