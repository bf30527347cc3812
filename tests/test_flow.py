"""Gradient descent in flow time: steps, clipping, bounds, divergence, checkpoints, depth rate."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import torch

import numerics.flow as flow_module
from numerics.data import make_data
from numerics.flow import Flow, apply_pi, param_distance, step_halving, train
from numerics.gradients import loss_and_grads_autograd
from numerics.init import init_params
from numerics.model import MLP, Conv, Params
from theory.errors import ConfigError, DivergenceError
from theory.tolerance import RTOL

# every test on each engine of model (3)'s sweeps: compiled and torch (conftest.py)
pytestmark = pytest.mark.usefixtures("engine")

SMALL = {"d": 3, "d_out": 2, "q": 6, "m": 5}


def _setup(L: int = 4, seeds: tuple[int, ...] = (0,), init: str = "smooth", n: int = 8,
           ) -> tuple[Params, torch.Tensor, torch.Tensor]:
    p = init_params(init, L=L, seeds=seeds, **SMALL)
    X, Y = make_data("gaussian", n=n, d=3, d_out=2, seed=1)
    return p, X, Y


@dataclasses.dataclass(frozen=True)
class AutogradMLP:
    """Model (3)'s residual seen as a generic residual: trains through the autograd path."""

    inner: MLP

    def __call__(self, h: torch.Tensor, z: Sequence[torch.Tensor]) -> torch.Tensor:
        return self.inner(h, z)

    def block_shapes(self, q: int, m: int) -> tuple[tuple[int, ...], ...]:
        return self.inner.block_shapes(q, m)

    def loss_scale(self, n: int, d_out: int) -> float:
        return self.inner.loss_scale(n, d_out)


def test_one_step_is_the_euler_step_of_flow_4() -> None:
    p, X, Y = _setup(L=5, seeds=(0, 1))
    eta = 0.01
    res = train(p, X, Y, Flow(eta, eta), MLP("tanh"))
    _, g = loss_and_grads_autograd(p, X, Y, MLP("tanh"))
    torch.testing.assert_close(res.params.A, p.A - eta * g.A, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(res.params.V, p.V - eta * 5 * g.Z[0], rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(res.params.W, p.W - eta * 5 * g.Z[1], rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(res.params.B, p.B - eta * g.B, rtol=1e-12, atol=1e-14)
    assert res.times.tolist() == [0.0, eta] and res.iterations == 1


def test_frozen_outer_matrices_do_not_move() -> None:
    p, X, Y = _setup()
    res = train(p, X, Y, Flow(0.05, 0.5, train_outer=False))
    assert torch.equal(res.params.A, p.A) and torch.equal(res.params.B, p.B)
    assert res.maxima["rhs_a"].item() == 0 and res.maxima["rhs_b"].item() == 0
    assert not torch.equal(res.params.V, p.V)


def test_explicit_and_autograd_training_agree() -> None:
    p, X, Y = _setup(L=3, seeds=(0, 2))
    flow = Flow(0.05, 0.5, clip="norm", clip_c=0.5)
    a = train(p, X, Y, flow, MLP("gelu"), record_times=(0.25,))
    b = train(p, X, Y, flow, AutogradMLP(MLP("gelu")), record_times=(0.25,))
    assert param_distance(a.params, b.params).max() < 1e-12
    for name in a.series:
        torch.testing.assert_close(a.series[name], b.series[name], rtol=1e-10, atol=1e-12)
    assert a.smin is not None and b.smin is None


def test_general_residual_trains_through_the_same_flow() -> None:
    res = Conv(channels=2, hidden_channels=3, spatial=(3,), kernel=3, activation="tanh")
    p = init_params("smooth", d=3, d_out=2, q=res.q, m=1, L=6, seeds=(0,), residual=res)
    X, Y = make_data("gaussian", n=8, d=3, d_out=2, seed=1)
    out = train(p, X, Y, Flow(0.05, 1.0), res)
    assert out.series["loss"][-1].item() < out.series["loss"][0].item()
    assert out.maxima["gap"].item() > 0


@pytest.mark.parametrize("clip", ["coord", "norm"])
def test_pi_never_increases_a_coordinate_and_bounds_the_norm(clip: str) -> None:
    g = torch.Generator().manual_seed(0)
    V, W = (10 * torch.randn(2, 5, *s, generator=g, dtype=torch.float64) for s in ((6, 4), (4, 6)))
    V[0, 1] *= 1e-3  # one layer already inside the ball
    W[0, 1] *= 1e-3
    before = (V.clone(), W.clone())
    apply_pi([V, W], clip, 0.7, lead=2)
    for new, old in zip((V, W), before, strict=True):
        assert bool((new.abs() <= old.abs()).all())
        assert bool((torch.sign(new) == torch.sign(old)).all())
    if clip == "coord":
        assert V.abs().max() <= 0.7 and W.abs().max() <= 0.7
    else:
        norms = V.flatten(2).norm(dim=2) + W.flatten(2).norm(dim=2)
        assert float(norms.max()) <= 0.7 * (1 + 1e-12)
        assert torch.equal(V[0, 1], before[0][0, 1])  # inside the ball: unchanged
        assert torch.equal(W[0, 1], before[1][0, 1])


@pytest.mark.parametrize("clip,c", [("coord", 0.02), ("norm", 0.3)])
def test_clipped_flow_stays_below_M_of_proposition_7(clip: str, c: float) -> None:
    p, X, Y = _setup(L=4, seeds=(0, 1), init="smooth")
    T = 2.0
    res = train(p, X, Y, Flow(0.05, T, clip=clip, clip_c=c), MLP("tanh"))
    # M0 and M_pi from their definitions (Proposition 7, p15), with the paper's norms
    z0 = (p.V.flatten(2).norm(dim=2) + p.W.flatten(2).norm(dim=2)).amax(1)
    M0 = torch.stack([p.A.flatten(1).norm(dim=1), z0, p.B.flatten(1).norm(dim=1)]).amax(0)
    q, m, d, d_out = 6, 5, 3, 2
    M_pi = c * max(math.sqrt(q * d), 2 * math.sqrt(q * m), math.sqrt(d_out * q)) \
        if clip == "coord" else c
    assert res.flow.m_pi(p) == pytest.approx(M_pi, rel=1e-15)
    for name in ("a_norm", "z_norm", "b_norm"):
        assert bool((res.maxima[name] <= M0 + T * M_pi).all()), name
    for name in ("rhs_a", "rhs_z", "rhs_b"):  # the applied right-hand sides: at most M_pi
        assert bool((res.maxima[name] <= M_pi * (1 + 1e-12)).all()), name
    for name in ("dist_a", "dist_z", "dist_b"):  # ||theta(t) - theta(0)|| <= t M_pi
        assert bool((res.series[name] <= res.times[:, None] * M_pi * (1 + 1e-12)).all()), name


def test_divergence_raises_at_the_first_bad_iteration() -> None:
    p, X, Y = _setup(L=2, init="smooth")
    flow = Flow(30.0, 3000.0)
    with pytest.raises(DivergenceError) as err:
        train(p, X, Y, flow, MLP("identity"))
    i = err.value.iteration
    assert i > 0 and err.value.quantity in {"loss", "z_norm", "a_norm", "b_norm"}
    assert not math.isfinite(err.value.value)
    train(p, X, Y, dataclasses.replace(flow, T=30.0 * (i - 1)), MLP("identity"))  # one step less
    with pytest.raises(DivergenceError) as err:
        train(p, X, Y, Flow(1.0, 50.0), MLP("identity"), max_norm=20.0)
    assert err.value.limit == 20.0 and err.value.value > 20.0
    assert err.value.quantity in {"z_norm", "a_norm", "b_norm"}
    assert f"iteration {err.value.iteration}" in str(err.value)


def _same_result(a: flow_module.TrainResult, b: flow_module.TrainResult) -> bool:
    tensors = [(x, y) for x, y in zip((a.params.A, *a.params.Z, a.params.B),
                                      (b.params.A, *b.params.Z, b.params.B), strict=True)]
    tensors += [(a.series[k], b.series[k]) for k in a.series]
    tensors += [(a.maxima[k], b.maxima[k]) for k in a.maxima]
    tensors += [(a.pl, b.pl), (a.smin, b.smin), (a.times, b.times)]
    for sa, sb in zip(a.snapshots, b.snapshots, strict=True):
        tensors += [(x, y) for x, y in zip((sa.A, *sa.Z, sa.B), (sb.A, *sb.Z, sb.B), strict=True)]
    return len(a.snapshots) == len(b.snapshots) and all(
        torch.equal(x, y) for x, y in tensors)  # type: ignore[arg-type]


def test_checkpoint_resume_is_bitwise_identical(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    p, X, Y = _setup(L=5, seeds=(0, 1))
    flow = Flow(0.05, 0.5)  # 10 iterations
    kwargs = {"record_times": (0.1, 0.35, 0.5), "snapshots": True, "record_every": 2}
    reference = train(p, X, Y, flow, MLP("gelu"), **kwargs)
    path = tmp_path / "run.pt"

    class Interrupt(Exception):
        pass

    real = flow_module._check_divergence

    def interrupt_at_8(i: int, row: torch.Tensor, max_norm: float | None) -> None:
        if i == 8:
            raise Interrupt
        real(i, row, max_norm)

    monkeypatch.setattr(flow_module, "_check_divergence", interrupt_at_8)
    with pytest.raises(Interrupt):
        train(p, X, Y, flow, MLP("gelu"), checkpoint=path, checkpoint_every=3, **kwargs)
    monkeypatch.setattr(flow_module, "_check_divergence", real)
    assert torch.load(path, weights_only=True)["iteration"] == 6
    resumed = train(p, X, Y, flow, MLP("gelu"), checkpoint=path, checkpoint_every=3, **kwargs)
    assert _same_result(resumed, reference)
    again = train(p, X, Y, flow, MLP("gelu"), checkpoint=path, **kwargs)  # finished: no work
    assert _same_result(again, reference)
    with pytest.raises(ConfigError, match="checkpoint"):
        train(p, X, Y, Flow(0.1, 0.5), MLP("gelu"), checkpoint=path, **kwargs)
    with pytest.raises(ConfigError, match="initial parameters"):
        other = init_params("smooth", L=5, seeds=(0, 7), **SMALL)
        train(other, X, Y, flow, MLP("gelu"), checkpoint=path, **kwargs)


def test_failed_checkpoint_write_never_replaces_a_good_one(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    p, X, Y = _setup(L=3)
    flow = Flow(0.05, 0.3)
    path = tmp_path / "run.pt"
    reference = train(p, X, Y, flow, checkpoint=path, checkpoint_every=2)
    good = path.read_bytes()

    def broken_save(obj: object, f: object) -> None:
        f.write(b"partial garbage")  # type: ignore[attr-defined]
        raise OSError("disk full")

    monkeypatch.setattr(flow_module.torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        flow_module.atomic_save({"x": 1}, path)
    monkeypatch.undo()
    assert path.read_bytes() == good
    assert sorted(x.name for x in tmp_path.iterdir()) == ["run.pt"]  # no temp file left
    (tmp_path / ".run.pt.stray.tmp").write_bytes(b"truncated")  # a crash's leftover
    resumed = train(p, X, Y, flow, checkpoint=path, checkpoint_every=2)
    assert _same_result(resumed, reference)


def test_streamed_running_max_equals_the_max_over_snapshots() -> None:
    p, X, Y = _setup(L=6, seeds=(0, 1))
    flow = Flow(0.05, 0.6)
    times = [i * 0.05 for i in range(flow.iterations + 1)]
    res = train(p, X, Y, flow, MLP("gelu"), record_times=times, snapshots=True)
    gaps, dist = [], []
    for s in res.snapshots:
        V, W = s.V.numpy(), s.W.numpy()
        gaps.append([max(np.linalg.norm(V[j, k + 1] - V[j, k]) + np.linalg.norm(W[j, k + 1]
                                                                               - W[j, k])
                         for k in range(5)) for j in range(2)])
        dist.append([max(np.linalg.norm(V[j, k] - p.V[j, k].numpy()) + np.linalg.norm(
            W[j, k] - p.W[j, k].numpy()) for k in range(6)) for j in range(2)])
    np.testing.assert_allclose(res.maxima["gap"].numpy(), np.max(gaps, axis=0), rtol=1e-12)
    np.testing.assert_allclose(res.series["gap"].numpy(), np.array(gaps), rtol=1e-12)
    np.testing.assert_allclose(res.series["dist_z"].numpy(), np.array(dist), rtol=1e-12,
                               atol=1e-15)


def test_records_pl_ratio_and_first_layer_singular_values() -> None:
    p, X, Y = _setup(L=4, seeds=(3,), init="tied", n=5)
    res = train(p, X, Y, Flow(0.1, 1.0), MLP("tanh"), record_times=(0.0,))
    loss, g = loss_and_grads_autograd(p, X, Y, MLP("tanh"))
    G = (g.A**2).sum() + 4 * sum((z**2).sum() for z in g.Z) + (g.B**2).sum()
    assert res.pl[0, 0].item() == pytest.approx((G / loss[0]).item(), rel=1e-12)
    # Lemma 21's matrix sigma(W_1 A x / sqrt q) (m x n) at initialization
    feats = np.tanh(p.W[0, 0].numpy() @ p.A[0].numpy() @ X.numpy().T / math.sqrt(6))
    assert res.smin is not None
    expected = np.linalg.svd(feats, compute_uv=False).min()
    assert res.smin[0, 0, 0].item() == pytest.approx(expected, rel=1e-12)


def test_step_halving_converges_at_first_order() -> None:
    p, X, Y = _setup(L=4, seeds=(0, 1))
    out = step_halving(p, X, Y, Flow(0.025, 1.0), MLP("tanh"), halvings=2)
    assert out.etas == (0.025, 0.0125, 0.00625)
    for ratio in out.ratios:  # differences ~ C eta: each halving halves them (measured 2.04-2.15)
        assert bool(((ratio > 1.8) & (ratio < 2.2)).all()), ratio


def test_figure_1_successive_gap_scales_as_one_over_L() -> None:
    # Figure 1 setting (n = 100, d = q = d' = 16, m = 32, GELU, eta = 0.01, A and B fixed, x, y
    # standard Gaussian, tied init) with T reduced to 1 and depths 8..64.
    X, Y = make_data("gaussian", n=100, d=16, d_out=16, seed=0)
    depths, gaps = [8, 16, 32, 64], []
    for L in depths:
        p = init_params("tied", d=16, d_out=16, q=16, m=32, L=L, seeds=(0,))
        gaps.append(train(p, X, Y, Flow(0.01, 1.0, train_outer=False)).max_gap.item())
    slope = np.polyfit(np.log(depths), np.log(gaps), 1)[0]
    assert -1.2 <= slope <= -0.8


def test_float32_training_matches_float64() -> None:
    X, Y = make_data("gaussian", n=100, d=16, d_out=16, seed=0)
    p = init_params("tied", d=16, d_out=16, q=16, m=32, L=32, seeds=(0,))
    flow = Flow(0.01, 1.0, train_outer=False)
    r64 = train(p, X, Y, flow)
    r32 = train(p.to(dtype=torch.float32), X.float(), Y.float(), flow)
    loss64, loss32 = r64.series["loss"], r32.series["loss"].double()
    assert float(((loss32 - loss64).abs() / loss64).max()) < RTOL["float32"]
    # Tolerance: the gap (1.7e-3 here) is a difference of neighbouring weights of size ~3 that
    # float32 holds to ~3e-7 each, after 100 steps ~2e-6 apart from float64 (measured): 1e-3
    # relative on the gap, not float32's 1e-4 (measured 9e-5; 3e-3 at T = 0.3, gap 1.6e-4).
    gap64, gap32 = r64.max_gap, r32.max_gap.double()
    assert float(((gap32 - gap64).abs() / gap64).max()) < 1e-3


@pytest.mark.parametrize("kwargs,field", [
    ({"record_every": 0}, "record_every"), ({"checkpoint_every": -1}, "checkpoint_every"),
    ({"max_norm": -1.0}, "max_norm"), ({"record_times": (2.0,)}, "record_times"),
])
def test_bad_train_arguments(kwargs: dict[str, object], field: str) -> None:
    p, X, Y = _setup(L=2)
    with pytest.raises(ConfigError) as err:
        train(p, X, Y, Flow(0.1, 1.0), **kwargs)  # type: ignore[arg-type]
    assert err.value.field == field
    for bad, name in (({"eta": 0.0}, "eta"), ({"clip": "l2"}, "clip"), ({"eta": 2.0}, "eta")):
        with pytest.raises(ConfigError) as err:
            Flow(**{"eta": 0.1, "T": 1.0, **bad})  # type: ignore[arg-type]
        assert err.value.field == name


@pytest.mark.gpu
def test_cuda_graph_training_matches_cpu() -> None:
    p, X, Y = _setup(L=8, seeds=(0, 1))
    flow = Flow(0.05, 1.0, clip="coord", clip_c=0.5)
    cpu = train(p, X, Y, flow, MLP("gelu"), record_times=(0.5,))
    gpu = train(p.to("cuda"), X.cuda(), Y.cuda(), flow, MLP("gelu"), record_times=(0.5,))
    assert param_distance(cpu.params, gpu.params.to("cpu")).max() < 1e-10
    for name in cpu.series:
        torch.testing.assert_close(cpu.series[name], gpu.series[name], rtol=1e-9, atol=1e-12)


def test_a_longer_horizon_repeats_the_shorter_runs_iterates() -> None:
    """Training to 2T retraces the run to T bit for bit (the horizon and the recording grid
    change no iterate), so its running sup_t gap can only be larger: what comparing one seed's
    outcomes at two horizons on one machine rests on (the width study's n = 128 at T = 881 and
    1760).  On another CPU the compiled engine may round differently, and over 10^5 steps near
    the edge of stability the trajectories part: those outcomes then differ seed by seed."""
    p, X, Y = _setup(L=4, seeds=(0, 1), init="tied")
    short = train(p, X, Y, Flow(0.05, 0.5), MLP("tanh"), record_every=3)
    long = train(p, X, Y, Flow(0.05, 1.0), MLP("tanh"), record_every=7, record_times=(0.5,),
                 snapshots=True)
    at = long.snapshots[0]
    assert torch.equal(at.A, short.params.A) and torch.equal(at.B, short.params.B)
    assert all(torch.equal(a, b) for a, b in zip(at.Z, short.params.Z, strict=True))
    assert bool((long.maxima["gap"] >= short.maxima["gap"]).all())
    assert bool((long.maxima["gap"] > short.maxima["gap"]).any())  # it kept moving after T
