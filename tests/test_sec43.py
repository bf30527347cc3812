"""Section 4.3 in the long time (numerics.sec43, sec43.long_decay, sec43.long_smooth_L) against
values computed another way: central finite differences of the loss for the PL ratio of a
convolutional network, a gradient-descent loop written from model (11) with a hand-written
convolution (no code of numerics.flow, numerics.metrics or numerics.model's Conv), closed-form
loss curves for the mean decay rate, and the flow identity d log l / dt = -G/l."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from numerics import sec43
from numerics.checks import run_check
from numerics.data import make_data
from numerics.flow import Flow, single_thread, train
from numerics.init import init_params
from numerics.model import Params, loss
from numerics.pl import pl_ratio
from numerics.rates import rate_fit
from theory.catalog import catalog
from theory.config import Config
from theory.long_time import UNCLIPPED
from theory.sec43 import PL_GENERAL
from theory.verdicts import Facts, classify

CONFIG = Config(n=5, d=2, d_out=2, q=4, m=1, L=3, T=0.3, eta=0.05, activation="tanh",
                data="sphere", clip="none", depths=(2, 3), seeds=(0, 3))


def _conv_reference(h: torch.Tensor, K: torch.Tensor, scale: float) -> torch.Tensor:
    """sum_c sum_j K[o, c, j] h[c, s + j - r] / scale for h (n, C, P), zero padding r = k // 2,
    by explicit shifts (no conv1d)."""
    k, P = K.shape[-1], h.shape[-1]
    padded = torch.nn.functional.pad(h, (k // 2, k // 2))
    return sum(torch.einsum("oc,ncs->nos", K[:, :, j], padded[:, :, j:j + P])
               for j in range(k)) / scale


def _reference(config: Config, seed: int, L: int) -> dict[str, float]:
    """Plain GD from the formulas of model (11) with f(h, (K2, K1)) = conv(tanh(conv(h, K1) /
    sqrt(C k)), K2) / sqrt(C' k) (2 channels, sec43.HIDDEN_CHANNELS hidden, kernel 3): the loss
    series, inf G/l, the Riemann sum of G/l, sup_t max_k ||Z_{k+1} - Z_k|| and max_k ||D_{k+1}(T)
    - D_k(T)||."""
    conv = sec43.sec43_conv(config, sec43.HIDDEN_CHANNELS)
    C, Cm, k = conv.channels, conv.hidden_channels, conv.kernel
    X, Y = make_data("sphere", n=config.n, d=config.d, d_out=config.d_out, q=config.q, seed=seed)
    p = init_params("tied", d=config.d, d_out=config.d_out, q=config.q, m=1, L=L,
                    seeds=(seed,), residual=conv)
    A, B = p.A[0].clone(), p.B[0].clone()
    K2, K1 = p.Z[0][0].clone(), p.Z[1][0].clone()
    K20, K10 = K2.clone(), K1.clone()
    losses, ratios, gaps = [], [], []
    for i in range(config.iterations + 1):
        leaves = [t.requires_grad_(True) for t in (A, K2, K1, B)]
        h = X @ A.T
        for j in range(L):
            u = _conv_reference(h.reshape(-1, C, config.q // C), K1[j], math.sqrt(C * k))
            f = _conv_reference(torch.tanh(u), K2[j], math.sqrt(Cm * k))
            h = h + f.reshape(h.shape) / L
        value = ((h @ B.T - Y) ** 2).sum() / config.n
        gA, gK2, gK1, gB = torch.autograd.grad(value, leaves)
        with torch.no_grad():
            G = (gA**2).sum() + L * ((gK2**2).sum() + (gK1**2).sum()) + (gB**2).sum()
            losses.append(float(value))
            ratios.append(float(G / value))
            gaps.append(max(float((K2[j + 1] - K2[j]).norm() + (K1[j + 1] - K1[j]).norm())
                            for j in range(L - 1)))
            if i < config.iterations:
                A, B = A - config.eta * gA, B - config.eta * gB
                K2, K1 = K2 - config.eta * L * gK2, K1 - config.eta * L * gK1
    D2, D1 = K2.detach() - K20, K1.detach() - K10
    trained = max(float((D2[j + 1] - D2[j]).norm() + (D1[j + 1] - D1[j]).norm())
                  for j in range(L - 1))
    return {"loss": losses, "mu": min(ratios), "integral": config.eta * sum(ratios[:-1]),
            "sup_gap": max(gaps), "trained": trained}


def test_runs_match_a_gradient_descent_loop_written_from_model_11() -> None:
    r = sec43.runs(CONFIG)
    assert r["t"][-1] == pytest.approx(CONFIG.T)
    for L, d in zip(CONFIG.depths, r["per_depth"], strict=True):
        for j, seed in enumerate(CONFIG.seeds):
            ref = _reference(CONFIG, seed, L)
            every = max(1, CONFIG.iterations // sec43.POINTS)
            steps = list(range(0, CONFIG.iterations + 1, every))
            np.testing.assert_allclose(d["loss"][:, j], np.asarray(ref["loss"])[steps],
                                       rtol=1e-10)
            assert d["mu"][-1, j] == pytest.approx(ref["mu"], rel=1e-10)
            assert d["sup_gap"][j] == pytest.approx(ref["sup_gap"], rel=1e-10)
            assert d["trained"][j] == pytest.approx(ref["trained"], rel=1e-10)
            disc = math.log(ref["loss"][-1] / ref["loss"][0]) + ref["integral"]
            assert d["disc_gap"][j] == pytest.approx(disc, rel=1e-8, abs=1e-12)


def _random_conv_network(L: int, seed: int) -> Params:
    conv = sec43.sec43_conv(CONFIG, sec43.HIDDEN_CHANNELS)
    shapes = conv.block_shapes(CONFIG.q, 1)
    g = torch.Generator().manual_seed(seed)

    def draw(*shape: int) -> torch.Tensor:
        return 0.7 * torch.randn(1, *shape, generator=g, dtype=torch.float64)

    return Params(draw(CONFIG.q, CONFIG.d), tuple(draw(L, *s) for s in shapes),
                  draw(CONFIG.d_out, CONFIG.q))


def test_pl_ratio_of_a_convolutional_network_matches_finite_differences() -> None:
    """G/l of Definition 1 with every block of Z_k (weight L), by central differences of the
    loss over every parameter entry, against pl_ratio and the ratio the flow streams at t = 0."""
    conv = sec43.sec43_conv(CONFIG, sec43.HIDDEN_CHANNELS)
    L = 3
    p = _random_conv_network(L, seed=5)
    X, Y = make_data("sphere", n=CONFIG.n, d=CONFIG.d, d_out=CONFIG.d_out, q=CONFIG.q, seed=2)
    value = float(loss(p, X, Y, conv)[0])
    h = 1e-6
    G = 0.0
    with single_thread(p.A.device):  # tiny convolutions: oneDNN and a thread pool cost ms each
        for weight, tensor in ((1.0, p.A), *((float(L), z) for z in p.Z), (1.0, p.B)):
            flat = tensor.view(-1)
            for i in range(flat.numel()):
                saved = flat[i].item()
                flat[i] = saved + h
                up = float(loss(p, X, Y, conv)[0])
                flat[i] = saved - h
                down = float(loss(p, X, Y, conv)[0])
                flat[i] = saved
                G += weight * ((up - down) / (2 * h)) ** 2
    assert float(pl_ratio(p, X, Y, conv)[0]) == pytest.approx(G / value, rel=1e-7)
    streamed = train(p, X, Y, Flow(0.01, 0.01), conv).series["pl"][0, 0]
    assert float(streamed) == pytest.approx(G / value, rel=1e-7)


def test_mean_rates_on_closed_form_loss_curves() -> None:
    """rho(t) = log(l(0)/l(t))/t at the recorded times next to T/8, T/4, T/2, T: mu for
    l = e^(-mu t) (slope 0 in T': the decay's region accepts it), log(l0/l*)/t once
    l = l* + (l0 - l*) e^(-c t) has plateaued (slope -1) and log(1 + t)/t for l = 1/(1 + t)
    (slope -0.69 on 8..64): both rejected."""
    t = np.linspace(0.0, 64.0, 65)
    at = sec43.grid_indices(t)
    assert t[at].tolist() == [8.0, 16.0, 32.0, 64.0]
    mu, c, plateau = np.array([0.3, 0.05]), 2.0, 0.2
    exponential = np.exp(-np.outer(t, mu))
    np.testing.assert_allclose(sec43.mean_rates(t, exponential, at), np.tile(mu, (4, 1)),
                               rtol=1e-12)
    saturating = plateau + (1 - plateau) * np.exp(-c * t)[:, None]
    rho = sec43.mean_rates(t, saturating, at)[:, 0]
    expected = [math.log(1 / (plateau + (1 - plateau) * math.exp(-c * x))) / x
                for x in (8.0, 16.0, 32.0, 64.0)]
    np.testing.assert_allclose(rho, expected, rtol=1e-12)
    window = catalog["sec43.long_decay"].rate_window
    powers = np.linspace(1, 2, 5)  # five seeds: l^p

    def verdict(curves: np.ndarray) -> tuple[float, str]:
        fit = rate_fit(t[at], np.log(1 / curves[at]) / t[at, None], window)
        return fit.slope, classify(Facts(fit.slope, rate=fit)).cls

    assert verdict(np.exp(-np.outer(t, 0.1 * powers))) == (pytest.approx(0.0, abs=1e-9),
                                                            "holds")
    slope, cls = verdict(saturating ** powers)  # plateaus l*^p: rho = p log(1/l*) / t
    assert slope == pytest.approx(-1.0, abs=1e-6) and cls == "violated"
    slope, cls = verdict((1 + t[:, None]) ** -powers)  # a power law: log(1 + t) / t
    assert slope == pytest.approx(-0.69, abs=0.01) and cls == "violated"


def test_the_decay_rate_is_the_time_average_of_the_pl_ratio() -> None:
    """On the flow log(l(0)/l(T)) = int_0^T G/l dt; gradient descent in flow time misses it by
    O(eta): halving eta halves the gap (a step on Z without the factor L, or flow time counted
    in iterations, would leave an O(1) gap)."""
    config = dataclasses.replace(CONFIG, T=2.0, depths=(3,), seeds=(1,))
    gaps = [abs(sec43.runs(dataclasses.replace(config, eta=e))["per_depth"][0]["disc_gap"][0])
            for e in (0.02, 0.01)]
    assert gaps[0] < 0.05
    assert gaps[0] / gaps[1] == pytest.approx(2.0, rel=0.15)


def test_the_checks_are_beyond_scope_and_name_the_pl_condition() -> None:
    """Theorem 6 for model (11) rests on a PL condition the paper assumes (p7, p31): always
    beyond scope, with the precondition measured beside the conclusion; a clipped flow or an
    i.i.d. initialization is outside the experiment (n/a, named)."""
    for sid in ("sec43.long_decay", "sec43.long_smooth_L"):
        result = run_check(sid, CONFIG)
        assert result.scope == "beyond" and result.failed_assumptions == [PL_GENERAL]
        assert result.verdict == "vacuous" and "underpowered" in result.verdict_rule  # 2 seeds
        assert set(result.extra["precondition"]) >= {"mu_emp", "interpolated_T", "pl_rate"}
        clipped = run_check(sid, dataclasses.replace(CONFIG, clip="coord"))
        assert clipped.verdict == "n/a" and UNCLIPPED in clipped.failed_requirements
        iid = run_check(sid, dataclasses.replace(CONFIG, init="iid"))
        assert iid.verdict == "n/a" and "tied or smooth initialization" in iid.failed_requirements


CONTROL_BASE = Config(n=6, d=4, d_out=4, q=8, m=1, L=2, T=8.0, eta=0.025, activation="tanh",
                      data="sphere", clip="none", depths=(2, 3, 4, 6), seeds=(0, 1, 2, 3, 4))


@pytest.mark.parametrize(("statement_id", "fields"), [
    ("sec43.long_decay", {"depths": (2, 3)}),  # rho's grid is T': two depths suffice
    ("sec43.long_smooth_L", {"T": 0.5}),  # i.i.d. layers are O(1) apart from t = 0
])
def test_the_negative_controls_fail(statement_id: str, fields: dict[str, object]) -> None:
    """A linear convolutional network cannot interpolate n = 6 > d = 4 samples: its loss
    plateaus and rho(T') ~ 1/T' (decay's control); i.i.d. layers stay O(1) apart at every depth
    (smoothness's control).  Each is classified as run_check classifies a control: outside the
    region."""
    from numerics.checks import _control

    st = catalog[statement_id]
    control = _control(st, dataclasses.replace(CONTROL_BASE, **fields))  # type: ignore[arg-type]
    assert control.verdict == "violated", control.rule
