"""Model (3), the general model (11) and its residuals, against independent computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from numerics.data import make_data
from numerics.device import resolve
from numerics.gradients import loss_and_grads
from numerics.init import init_params
from numerics.model import MLP, Conv, Params, forward, hidden_states, loss
from theory.errors import ConfigError


def _gelu(x: np.ndarray) -> np.ndarray:
    return x * 0.5 * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))


def _params(b: int = 1, L: int = 3, q: int = 8, m: int = 5, d: int = 4, d_out: int = 3,
            seed: int = 0) -> Params:
    g = torch.Generator().manual_seed(seed)

    def r(*s: int) -> torch.Tensor:
        return torch.randn(*s, generator=g, dtype=torch.float64)

    return Params(r(b, q, d), (r(b, L, q, m), r(b, L, m, q)), r(b, d_out, q))


def test_depth_one_is_one_euler_step_of_the_neural_ode() -> None:
    # L = 1: F(x) = B (A x + V sigma(W A x / sqrt q) / sqrt m), the explicit Euler step with
    # step 1 of dH/ds = V sigma(W H / sqrt q) / sqrt m from H(0) = A x (paper eq. 6).
    p = _params(b=1, L=1)
    X = torch.randn(6, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    A, V, W, B = (t.numpy() for t in (p.A[0], p.V[0, 0], p.W[0, 0], p.B[0]))
    q, m = W.shape[1], W.shape[0]
    expected = []
    for x in X.numpy():
        h = A @ x
        h = h + 1.0 * (V @ _gelu(W @ h / math.sqrt(q))) / math.sqrt(m)
        expected.append(B @ h)
    got = forward(p, X, MLP("gelu"))[0].numpy()
    np.testing.assert_allclose(got, np.array(expected), rtol=1e-13, atol=1e-13)


def test_official_scaling_is_the_released_code() -> None:
    # The released scripts: x <- x + sigma(x W_k) V_k / L with row vectors, loss = mean over
    # n * d' entries; their W_k (d x M) and V_k (M x d) are our W_k^T and V_k^T.
    q = d = 6
    p = init_params("smooth", d=d, d_out=d, q=q, m=5, L=4, seeds=(3,))
    X, Y = make_data("gaussian", n=7, d=d, d_out=d, seed=2)
    x = X.numpy()
    for k in range(4):
        x = x + _gelu(x @ p.W[0, k].numpy().T) @ p.V[0, k].numpy().T / 4
    np.testing.assert_allclose(forward(p, X, MLP("gelu", "official"))[0].numpy(), x, rtol=1e-12)
    np.testing.assert_allclose(loss(p, X, Y, MLP("gelu", "official")).item(),
                               ((x - Y.numpy()) ** 2).mean(), rtol=1e-12)


def test_hidden_states_are_the_recursion_and_end_in_F() -> None:
    p, r = _params(b=2, L=5), MLP("tanh")
    X = torch.randn(2, 4, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    H = hidden_states(p, X, r)
    assert H.shape == (6, 2, 4, 8)
    for j in range(2):
        h = X[j].numpy() @ p.A[j].numpy().T
        for k in range(5):
            u = h @ p.W[j, k].numpy().T / math.sqrt(8)
            h = h + np.tanh(u) @ p.V[j, k].numpy().T / (5 * math.sqrt(5))
            np.testing.assert_allclose(H[k + 1, j].numpy(), h, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(H[-1] @ p.B.mT, forward(p, X, r), rtol=1e-14)


def test_permuting_samples_leaves_loss_and_gradients_unchanged() -> None:
    p = _params(b=2, L=4)
    X, Y = make_data("gaussian", n=9, d=4, d_out=3, seed=5)
    perm = torch.randperm(9, generator=torch.Generator().manual_seed(0))
    l1, g1 = loss_and_grads(p, X, Y)
    l2, g2 = loss_and_grads(p, X[perm], Y[perm])
    torch.testing.assert_close(l1, l2, rtol=1e-13, atol=0)
    for a, b in zip((g1.A, *g1.Z, g1.B), (g2.A, *g2.Z, g2.B), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)


def test_batched_networks_are_independent() -> None:
    p = _params(b=3, L=3)
    X, Y = make_data("gaussian", n=5, d=4, d_out=3, seed=1)
    batched = loss(p, X, Y, MLP())
    for j in range(3):
        torch.testing.assert_close(batched[j:j + 1], loss(p.select(j), X, Y, MLP()), rtol=1e-14,
                                   atol=0)


def _conv1d_reference(h: np.ndarray, K: np.ndarray) -> np.ndarray:
    """'same' zero-padded cross-correlation: out[o, s] = sum_{c,j} K[o, c, j] h[c, s + j - r]."""
    c_out, c_in, k = K.shape
    r, S = k // 2, h.shape[1]
    padded = np.zeros((c_in, S + 2 * r))
    padded[:, r:r + S] = h
    return np.array([[np.sum(K[o] * padded[:, s:s + k]) for s in range(S)] for o in range(c_out)])


def test_conv_residual_matches_an_independent_convolution() -> None:
    res = Conv(channels=2, hidden_channels=3, spatial=(5,), kernel=3, activation="tanh")
    g = torch.Generator().manual_seed(4)
    h = torch.randn(2, 4, res.q, generator=g, dtype=torch.float64)
    K2 = torch.randn(2, 2, 3, 3, generator=g, dtype=torch.float64)
    K1 = torch.randn(2, 3, 2, 3, generator=g, dtype=torch.float64)
    out = res(h, (K2, K1))
    for j in range(2):
        for i in range(4):
            x = h[j, i].numpy().reshape(2, 5)
            a = np.tanh(_conv1d_reference(x, K1[j].numpy()) / math.sqrt(2 * 3))
            y = _conv1d_reference(a, K2[j].numpy()) / math.sqrt(3 * 3)
            np.testing.assert_allclose(out[j, i].numpy(), y.reshape(-1), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("spatial", [(6,), (3, 4)])
def test_conv_residual_vanishes_at_zero_and_has_the_right_shapes(spatial: tuple[int, ...]) -> None:
    res = Conv(channels=2, hidden_channels=4, spatial=spatial, kernel=3)
    shapes = res.block_shapes(res.q, m=0)
    assert shapes == ((2, 4, *[3] * len(spatial)), (4, 2, *[3] * len(spatial)))
    p = init_params("smooth", d=2, d_out=2, q=res.q, m=1, L=3, seeds=(0, 1), residual=res)
    assert p.Z[0].shape == (2, 3, *shapes[0])
    zero = torch.zeros(2, 5, res.q, dtype=torch.float64)
    assert torch.count_nonzero(res(zero, p.layer(0))) == 0
    assert forward(p, torch.zeros(5, 2, dtype=torch.float64), res).abs().max() == 0


@pytest.mark.parametrize("bad", [
    pytest.param(lambda p: Params(p.A[0], p.Z, p.B), id="A not batched"),
    pytest.param(lambda p: Params(p.A, p.Z, p.B[:, :, :3]), id="B wrong q"),
    pytest.param(lambda p: Params(p.A, (p.V, p.W[:1]), p.B), id="Z wrong b"),
    pytest.param(lambda p: Params(p.A, (p.V, p.W[:, :2]), p.B), id="Z different L"),
    pytest.param(lambda p: Params(p.A.float(), p.Z, p.B), id="dtype mismatch"),
    pytest.param(lambda p: Params(p.A, (), p.B), id="no blocks"),
])
def test_params_reject_bad_shapes_naming_the_field(bad: object) -> None:
    with pytest.raises(ConfigError) as err:
        bad(_params(b=2))  # type: ignore[operator]
    assert err.value.field in {"A", "B", "Z", "Z[0]", "Z[1]"}


def test_data_must_match_the_parameters() -> None:
    p = _params()
    with pytest.raises(ConfigError, match="X"):
        forward(p, torch.zeros(5, 3, dtype=torch.float64), MLP())
    with pytest.raises(ConfigError, match="X"):
        forward(p, torch.zeros(5, 4, dtype=torch.float32), MLP())
    with pytest.raises(ConfigError, match="scaling"):
        MLP(scaling="released")


def test_synthetic_data() -> None:
    X, Y = make_data("sphere", n=50, d=4, d_out=3, q=9, seed=7, y_scale=2.0)
    np.testing.assert_allclose(X.norm(dim=1).numpy(), 3.0, rtol=1e-14)
    X2, Y2 = make_data("sphere", n=50, d=4, d_out=3, q=9, seed=7, y_scale=2.0)
    assert torch.equal(X, X2) and torch.equal(Y, Y2)
    Xg, Yg = make_data("gaussian", n=4000, d=2, d_out=2, seed=1, y_scale=3.0)
    assert abs(Xg.var().item() - 1) < 0.05 and abs(Yg.std().item() - 3) < 0.1
    with pytest.raises(ConfigError, match="data"):
        make_data("digits", n=5, d=2, d_out=2)


def test_device_resolution() -> None:
    assert resolve("cpu", "float32") == (torch.device("cpu"), torch.float32)
    with pytest.raises(ConfigError, match="dtype"):
        resolve("cpu", "float16")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError) as err:
            resolve("cuda")
        assert (err.value.field, err.value.value, err.value.rule) == (
            "device", "cuda", "CUDA is not available")


def _released_model_training(V: torch.Tensor, W: torch.Tensor, X: torch.Tensor,
                             Y: torch.Tensor, lr: float, steps: int) -> tuple[torch.Tensor, ...]:
    """An independent implementation of the released code's training: row vectors,
    x <- x + gelu(x W_k) V_k / L, loss ((F - Y)**2).mean(), plain SGD on V and W only."""
    V, W = V.clone().requires_grad_(), W.clone().requires_grad_()
    opt = torch.optim.SGD([V, W], lr=lr)
    L = V.shape[0]
    for _ in range(steps):
        x = X
        for k in range(L):
            x = x + torch.nn.functional.gelu(x @ W[k]) @ V[k] / L
        opt.zero_grad()
        ((x - Y) ** 2).mean().backward()
        opt.step()
    return V.detach(), W.detach()


def test_official_setting_trains_as_the_released_code() -> None:
    """Config(scaling="official") freezes A = B = I by default (the released code trains V, W
    only); from the released layout (Params.from_official), 20 steps at its learning rate
    L x eta give its weights to 1e-12.  Training A and B too (the former default) does not."""
    from numerics.flow import Flow, train
    from theory.config import Config

    d, M, L, n, eta, steps = 4, 6, 8, 10, 0.05, 20
    gen = torch.Generator().manual_seed(5)
    V = torch.randn(L, M, d, generator=gen, dtype=torch.float64) / M
    W = torch.randn(L, d, M, generator=gen, dtype=torch.float64) / d
    X, Y = make_data("gaussian", n=n, d=d, d_out=d, seed=1)
    V_ref, W_ref = _released_model_training(V, W, X, Y, lr=L * eta, steps=steps)
    config = Config(n=n, d=d, d_out=d, q=d, m=M, L=L, T=steps * eta, eta=eta, scaling="official")
    assert not config.trains_outer and Config().trains_outer
    p = Params.from_official(V, W)
    assert torch.equal(p.A[0], torch.eye(d, dtype=torch.float64)) and p.V.shape == (1, L, d, M)
    got = train(p, X, Y, Flow.from_config(config), MLP("gelu", "official")).params
    np.testing.assert_allclose(got.V[0].mT.numpy(), V_ref.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(got.W[0].mT.numpy(), W_ref.numpy(), rtol=0, atol=1e-12)
    assert torch.equal(got.A, p.A) and torch.equal(got.B, p.B)
    both = train(p, X, Y, Flow.from_config(Config(**{**config.to_dict(), "train_outer": True})),
                 MLP("gelu", "official")).params
    assert float((both.V[0].mT - V_ref).abs().max()) > 1e-6


def test_from_official_rejects_mismatched_layouts() -> None:
    V = torch.zeros(3, 5, 4, dtype=torch.float64)
    with pytest.raises(ConfigError, match="W"):
        Params.from_official(V, torch.zeros(3, 5, 4, dtype=torch.float64))


@pytest.mark.parametrize("scaling", ["paper", "official"])
def test_explicit_form_of_model3_matches_autograd(scaling: str) -> None:
    """MLP.scaled/rows is f divided by L; d1f and d2f_T are the autograd Jacobians of f."""
    f = MLP("gelu", scaling)
    g = torch.Generator().manual_seed(3)
    n, q, m, L, c = 5, 4, 3, 7, 0.3
    h, p = (torch.randn(n, q, generator=g, dtype=torch.float64) for _ in range(2))
    V = torch.randn(q, m, generator=g, dtype=torch.float64)
    W = torch.randn(m, q, generator=g, dtype=torch.float64)
    torch.testing.assert_close(f.rows(h, *f.scaled(V, W, L)), f(h, (V, W)) / L, rtol=1e-14,
                               atol=0)
    J = f.d1f(h, V, W)
    for i in range(n):  # d1f(h_i) = d f(h_i) / d h_i
        torch.testing.assert_close(J[i], torch.autograd.functional.jacobian(
            lambda x: f(x, (V, W)), h[i]), rtol=1e-13, atol=1e-14)
    Vg, Wg = V.clone().requires_grad_(), W.clone().requires_grad_()
    gV, gW = torch.autograd.grad(c * (f(h, (Vg, Wg)) * p).sum(), [Vg, Wg])
    for got, want in zip(f.d2f_T(h, p, V, W, c), (gV, gW), strict=True):
        torch.testing.assert_close(got, want, rtol=1e-13, atol=1e-14)
