"""The compiled sweeps of model (3) against the torch path and autograd (independent code)."""

from __future__ import annotations

import pytest
import torch

from numerics import native
from numerics.data import make_data
from numerics.flow import _layer_major
from numerics.gradients import Workspace, loss_and_grads_autograd
from numerics.init import init_params
from numerics.metrics import Monitor
from numerics.model import MLP, Params
from theory.errors import ConfigError

pytestmark = pytest.mark.skipif(
    native.status("tanh", 4, 4, torch.float64, torch.device("cpu")) != "native",
    reason="no working C compiler for the native sweeps")


def _grads(act: str, b: int, dtype: str, monkeypatch: pytest.MonkeyPatch, enabled: bool):
    monkeypatch.setenv("RESNET_ODE_NATIVE", "1" if enabled else "0")
    p = init_params("smooth", d=3, d_out=2, q=6, m=5, L=7, seeds=tuple(range(b)), dtype=dtype)
    X, Y = make_data("gaussian", n=9, d=3, d_out=2, dtype=dtype)
    ws = Workspace(p, X, Y, MLP(act))
    assert (ws.engine == "native") == enabled
    loss, g = ws.compute()
    return loss.clone(), [t.clone() for t in (g.A, *g.Z, g.B)], (p, X, Y)


@pytest.mark.parametrize("act", sorted(native.ACTIVATIONS))
@pytest.mark.parametrize("b", [1, 3])
def test_native_equals_autograd_float64(act: str, b: int, monkeypatch: pytest.MonkeyPatch):
    loss, grads, (p, X, Y) = _grads(act, b, "float64", monkeypatch, True)
    ref_loss, ref = loss_and_grads_autograd(p, X, Y, MLP(act))
    torch.testing.assert_close(loss, ref_loss, rtol=1e-12, atol=0)
    for g, r in zip(grads, (ref.A, *ref.Z, ref.B), strict=True):
        torch.testing.assert_close(g, r, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("act", ["gelu", "tanh", "softplus"])
def test_native_float32_equals_torch_path(act: str, monkeypatch: pytest.MonkeyPatch) -> None:
    loss_n, grads_n, _ = _grads(act, 2, "float32", monkeypatch, True)
    loss_t, grads_t, _ = _grads(act, 2, "float32", monkeypatch, False)
    torch.testing.assert_close(loss_n, loss_t, rtol=1e-5, atol=1e-6)
    for a, b in zip(grads_n, grads_t, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_fallback_reasons(monkeypatch: pytest.MonkeyPatch) -> None:
    cpu = torch.device("cpu")
    assert native.status("tanh(x)**3", 4, 4, torch.float64, cpu).startswith("activation")
    assert native.status("tanh", 256, 256, torch.float64, cpu).startswith("q m")
    assert native.status("tanh", 4, 4, torch.float64, torch.device("meta")).startswith("device")
    monkeypatch.setenv("RESNET_ODE_NATIVE", "0")
    assert native.status("tanh", 4, 4, torch.float64, cpu).startswith("disabled")


def test_no_compiler_falls_back(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("CC", str(tmp_path / "no-such-compiler"))
    monkeypatch.setenv("RESNET_ODE_CACHE", str(tmp_path))
    native._library.cache_clear()
    try:
        reason = native.status("tanh", 3, 3, torch.float64, torch.device("cpu"))
        assert reason.startswith(("compilation failed", "no C compiler", "no working C compiler"))
    finally:
        native._library.cache_clear()


@pytest.mark.parametrize("L", [1, 5])
@pytest.mark.parametrize("layer_major", [False, True])
def test_layer_stats_equal_their_definitions(L: int, layer_major: bool) -> None:
    p = init_params("smooth", d=3, d_out=2, q=6, m=5, L=L, seeds=(0, 1, 2), dtype="float64")
    p0 = init_params("tied", d=3, d_out=2, q=6, m=5, L=L, seeds=(3, 4, 5), dtype="float64")
    if layer_major:  # the storage of training (numerics.flow)
        p = _layer_major(p)
    X, Y = make_data("gaussian", n=9, d=3, d_out=2, dtype="float64")
    ws = Workspace(p, X, Y, MLP("tanh"), p0)
    _, grads = ws.compute()
    stats = ws.layer_stats
    assert stats is not None

    def fro(t: torch.Tensor) -> torch.Tensor:  # (b, L, r, c) -> (b, L)
        return torch.linalg.matrix_norm(t)

    (V, W), (gV, gW) = p.Z, grads.Z
    torch.testing.assert_close(stats.gap, fro(V[:, 1:] - V[:, :-1]) + fro(W[:, 1:] - W[:, :-1]))
    torch.testing.assert_close(stats.dist, fro(V - p0.Z[0]) + fro(W - p0.Z[1]))
    torch.testing.assert_close(stats.norm, fro(V) + fro(W))
    torch.testing.assert_close(stats.gnorm, fro(gV) + fro(gW))
    torch.testing.assert_close(stats.gsq, fro(gV) ** 2 + fro(gW) ** 2)
    assert Workspace(p, X, Y, MLP("tanh")).layer_stats is None  # without params0
    other = init_params("tied", d=3, d_out=2, q=6, m=4, L=L, seeds=(3, 4, 5), dtype="float64")
    with pytest.raises(ConfigError, match="params0"):
        Workspace(p, X, Y, MLP("tanh"), other)


def test_networks_shared_between_threads_match_single_runs(monkeypatch: pytest.MonkeyPatch):
    """The two threads share b networks through a counter (model3_sweep.c): every network is
    computed exactly once and bit for bit as when it is trained alone."""
    b = 5
    loss, grads, (p, X, Y) = _grads("gelu", b, "float32", monkeypatch, True)
    for j in range(b):
        one = Params(p.A[j:j + 1], tuple(z[j:j + 1] for z in p.Z), p.B[j:j + 1])
        loss_j, g = Workspace(one, X, Y, MLP("gelu")).compute()
        assert torch.equal(loss_j[0], loss[j])
        for t, r in zip((g.A, *g.Z, g.B), grads, strict=True):
            assert torch.equal(t[0], r[j])


@pytest.mark.parametrize("L", [1, 6])
def test_metrics_and_step_of_the_sweep_equal_the_torch_definitions(L: int) -> None:
    """The streamed metrics that the compiled backward sweep evaluates (numerics.metrics.Monitor
    fed by Workspace.layer_stats) equal those of the torch definition (Monitor alone, on
    gradients by autograd), and the step taken within the sweep is Z_k - eta L dl/dZ_k."""
    p = _layer_major(init_params("smooth", d=3, d_out=2, q=6, m=5, L=L, seeds=(0, 1),
                                 dtype="float64"))
    p0 = init_params("tied", d=3, d_out=2, q=6, m=5, L=L, seeds=(2, 3), dtype="float64")
    X, Y = make_data("gaussian", n=9, d=3, d_out=2, dtype="float64")
    ws = Workspace(p, X, Y, MLP("tanh"), p0)
    before = p.clone()
    eta = 0.05
    loss, grads = ws.compute(-eta * L)
    swept = Monitor(before, p0, ws)
    swept.measure(loss, grads)
    ref_loss, ref_grads = loss_and_grads_autograd(before, X, Y, MLP("tanh"))
    torch_def = Monitor(before, p0)
    torch_def.measure(ref_loss, ref_grads)
    torch.testing.assert_close(swept.row, torch_def.row, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(swept.grad_layer_norms, torch_def.grad_layer_norms, rtol=1e-12,
                               atol=1e-14)
    for z, z_before, g in zip(p.Z, before.Z, ref_grads.Z, strict=True):
        torch.testing.assert_close(z, z_before - eta * L * g, rtol=1e-12, atol=1e-14)
