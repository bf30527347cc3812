r"""Model (3) and the general residual network (11)/(12), batched over b independent networks.

General model (11)/(12) (paper, Section 4.3 and Appendix A, p14):

    h_0 = A x,   h_{k+1} = h_k + f(h_k, Z_{k+1}) / L  (k = 0..L-1),   F(x) = B h_L,
    loss l = c_loss * sum_i ||F(x_i) - y_i||^2,  c_loss = 1/n (the paper).

Model (3) is the residual :class:`MLP`, f(h, (V, W)) = V sigma(W h / sqrt q) / sqrt m.  A residual
is a torch function of the hidden states and one layer's parameter blocks; :class:`Conv` is the
convolutional instance of Section 4.3.  Everything is batched over b networks of one shape and
written in row form: the n samples are the rows, so a hidden state is a (b, n, q) tensor and
x -> W x reads ``h @ W.mT``.

Parameters (:class:`Params`): A (b, q, d), Z = (Z^1, ..., Z^r) parameter blocks each (b, L, ...),
B (b, d', q).  For model (3), Z = (V, W) with V (b, L, q, m) and W (b, L, m, q).  The paper's norm
of one layer's parameters is the sum of the Frobenius norms of its blocks,
||Z_k|| = ||V_k||_F + ||W_k||_F (docs/statements.md, Conventions).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Protocol

import torch
import torch.nn.functional as F_nn

from numerics import activations
from theory.errors import ConfigError

Tensor = torch.Tensor
SCALINGS = ("paper", "official")


class Residual(Protocol):
    """A residual map f(h, z) of model (11), C^2 with f(0, .) = 0, batched and in row form."""

    def __call__(self, h: Tensor, z: Sequence[Tensor]) -> Tensor:
        """f(h, z) for hidden states h (b, n, q) and one layer's blocks z (each (b, ...))."""
        ...

    def block_shapes(self, q: int, m: int) -> tuple[tuple[int, ...], ...]:
        """Shapes of one layer's parameter blocks, the output-side ("V") block first."""
        ...

    def loss_scale(self, n: int, d_out: int) -> float:
        """The constant c_loss of l = c_loss * sum_i ||F(x_i) - y_i||^2."""
        ...


@dataclasses.dataclass(frozen=True)
class MLP:
    """The residual of model (3): f(h, (V, W)) = V sigma(W h / sqrt q) / sqrt m  (paper eq. 3).

    ``scaling="official"`` is the released code's x <- x + sigma(x W_k) V_k / L: no 1/sqrt(q),
    1/sqrt(m) factors, and its loss ``((F - Y)**2).mean()`` = sum / (n d'), so c_loss = 1/(n d')
    (the paper's is 1/n).  Use it with A = B = identity (q = d = d'), as the released code has
    no A, B.
    """

    activation: str = "gelu"
    scaling: str = "paper"

    def __post_init__(self) -> None:
        if self.scaling not in SCALINGS:
            raise ConfigError("scaling", self.scaling, f"must be one of {', '.join(SCALINGS)}")
        activations.get(self.activation)  # ConfigError naming an unknown activation

    def factors(self, q: int, m: int) -> tuple[float, float]:
        """(s_in, s_width): f(h, (V, W)) = s_width V sigma(s_in W h)."""
        if self.scaling == "official":
            return 1.0, 1.0
        return 1.0 / math.sqrt(q), 1.0 / math.sqrt(m)

    def __call__(self, h: Tensor, z: Sequence[Tensor]) -> Tensor:
        V, W = z
        s_in, s_width = self.factors(W.shape[-1], W.shape[-2])
        sigma = activations.get(self.activation).f
        return s_width * (sigma(s_in * (h @ W.mT)) @ V.mT)

    # Model (3) in explicit form: the same f on weights scaled once, and its derivatives.  The
    # discrete recurrences (13)-(16) built from them are numerics.gradients.Workspace (torch,
    # with numerics.native as the accelerator of its two sweeps); the A.5 limit
    # (numerics.limit) integrates the same f and derivatives in s.

    def scaled(self, V: Tensor, W: Tensor, L: int = 1) -> tuple[Tensor, Tensor]:
        """Row-form weights scaled once, (s_in W^T, (s_width / L) V^T) for V (.., q, m) and
        W (.., m, q): f(h, (V, W)) / L = :meth:`rows`\\ (h, *scaled(V, W, L))."""
        s_in, s_width = self.factors(W.shape[-1], W.shape[-2])
        return (s_in * W).mT, (s_width / L * V).mT

    def rows(self, h: Tensor, w_t: Tensor, v_t: Tensor) -> Tensor:
        """f for rows h (.., n, q) on :meth:`scaled` weights: sigma(h w_t) v_t (paper eq. 3)."""
        return activations.get(self.activation).f(h @ w_t) @ v_t

    def d1f(self, h: Tensor, V: Tensor, W: Tensor) -> Tensor:
        """The Jacobian d1f(h_i, (V, W)) = s_width s_in V diag(sigma'(u_i)) W for every row h_i
        of h (.., n, q), u = s_in h W^T: a (.., n, q, q) tensor."""
        s_in, s_width = self.factors(W.shape[-1], W.shape[-2])
        D = activations.get(self.activation).df(s_in * h @ W.mT)  # (.., n, m)
        return (s_width * s_in) * (V.unsqueeze(-3) * D.unsqueeze(-2)) @ W.unsqueeze(-3)

    def d2f_T(self, h: Tensor, p: Tensor, V: Tensor, W: Tensor,
              c: float) -> tuple[Tensor, Tensor]:
        """c sum_i d2f(h_i, (V, W))^T p_i over the rows of h and p (.., n, q), as the blocks
        (c s_width p^T sigma(u), c s_width s_in ((p V) * sigma'(u))^T h), u = s_in h W^T
        (the sum in (15), and the right side of (38))."""
        s_in, s_width = self.factors(W.shape[-1], W.shape[-2])
        act = activations.get(self.activation)
        U = s_in * h @ W.mT
        gV = (c * s_width) * p.mT @ act.f(U)
        gW = (c * s_width * s_in) * ((p @ V) * act.df(U)).mT @ h
        return gV, gW

    def block_shapes(self, q: int, m: int) -> tuple[tuple[int, ...], ...]:
        return (q, m), (m, q)

    def loss_scale(self, n: int, d_out: int) -> float:
        return 1.0 / (n * d_out) if self.scaling == "official" else 1.0 / n


@dataclasses.dataclass(frozen=True)
class Conv:
    """A convolutional residual (Section 4.3 / S12) on a 1-D or 2-D signal with C channels.

    h in R^q is read as a (C, *spatial) signal (q = C * prod(spatial)), and

        f(h, (K2, K1)) = conv(sigma(conv(h, K1) / sqrt(C k^D)), K2) / sqrt(C' k^D),

    with K1 (C', C, k[, k]), K2 (C, C', k[, k]), zero ('same') padding, stride 1, no bias, D the
    signal dimension.  The normalizations are the fan-ins, as 1/sqrt(q), 1/sqrt(m) in model (3).
    f is C^2 when sigma is, f(0, .) = 0, and f(., z) is Lipschitz for bounded z.
    """

    channels: int
    hidden_channels: int
    spatial: tuple[int, ...]
    kernel: int = 3
    activation: str = "gelu"

    def __post_init__(self) -> None:
        for name in ("channels", "hidden_channels", "kernel"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ConfigError(name, value, "must be a positive integer")
        if self.kernel % 2 == 0:
            raise ConfigError("kernel", self.kernel, "must be odd ('same' padding)")
        if len(self.spatial) not in (1, 2) or any(
                not isinstance(s, int) or s <= 0 for s in self.spatial):
            raise ConfigError("spatial", self.spatial, "must be 1 or 2 positive sizes")
        activations.get(self.activation)

    @property
    def q(self) -> int:
        """The hidden dimension C * prod(spatial)."""
        return self.channels * math.prod(self.spatial)

    def __call__(self, h: Tensor, z: Sequence[Tensor]) -> Tensor:
        K2, K1 = z
        b, n, _ = h.shape
        dim = len(self.spatial)
        conv = F_nn.conv1d if dim == 1 else F_nn.conv2d
        c, c_mid, k = self.channels, self.hidden_channels, self.kernel
        x = h.transpose(0, 1).reshape(n, b * c, *self.spatial)
        u = conv(x, K1.reshape(b * c_mid, c, *K1.shape[3:]), padding=k // 2, groups=b)
        a = activations.get(self.activation).f(u / math.sqrt(c * k**dim))
        y = conv(a, K2.reshape(b * c, c_mid, *K2.shape[3:]), padding=k // 2, groups=b)
        return (y / math.sqrt(c_mid * k**dim)).reshape(n, b, -1).transpose(0, 1)

    def block_shapes(self, q: int, m: int) -> tuple[tuple[int, ...], ...]:
        if q != self.q:
            raise ConfigError("q", q, f"the convolutional residual needs q = C * prod(spatial) "
                              f"= {self.q}")
        ks = (self.kernel,) * len(self.spatial)
        return (self.channels, self.hidden_channels, *ks), (self.hidden_channels, self.channels,
                                                             *ks)

    def loss_scale(self, n: int, d_out: int) -> float:
        return 1.0 / n


@dataclasses.dataclass(frozen=True)
class Params:
    """Parameters of b networks of depth L: A (b, q, d), Z blocks (each (b, L, ...)), B (b, d', q).

    Shapes, dtype and device are checked at construction (:class:`ConfigError` naming the field).
    The tensors are mutable: training works on a :meth:`clone`.
    """

    A: Tensor
    Z: tuple[Tensor, ...]
    B: Tensor

    def __post_init__(self) -> None:
        if not isinstance(self.Z, tuple):
            object.__setattr__(self, "Z", tuple(self.Z))
        tensors = {"A": self.A, "B": self.B, **{f"Z[{i}]": z for i, z in enumerate(self.Z)}}
        for name, t in tensors.items():
            if not isinstance(t, torch.Tensor) or not t.is_floating_point():
                raise ConfigError(name, type(t).__name__, "must be a floating-point tensor")
            if t.dtype != self.A.dtype or t.device != self.A.device:
                raise ConfigError(name, f"{t.dtype} on {t.device}",
                                  f"must match A ({self.A.dtype} on {self.A.device})")
        if self.A.ndim != 3 or self.B.ndim != 3:
            raise ConfigError("A" if self.A.ndim != 3 else "B", tuple(
                (self.A if self.A.ndim != 3 else self.B).shape), "must be (b, rows, cols)")
        b, q, _ = self.A.shape
        if self.B.shape[0] != b or self.B.shape[2] != q:
            raise ConfigError("B", tuple(self.B.shape), f"must be (b={b}, d', q={q})")
        if not self.Z:
            raise ConfigError("Z", (), "needs at least one parameter block")
        L = self.Z[0].shape[1] if self.Z[0].ndim >= 2 else 0
        for i, z in enumerate(self.Z):
            if z.ndim < 3 or z.shape[0] != b or z.shape[1] != L or L < 1:
                raise ConfigError(f"Z[{i}]", tuple(z.shape), f"must be (b={b}, L, ...) with the "
                                  "same L >= 1 for every block")

    @property
    def b(self) -> int:
        """Number of independent networks."""
        return self.A.shape[0]

    @property
    def L(self) -> int:
        """Depth."""
        return self.Z[0].shape[1]

    @property
    def q(self) -> int:
        """Hidden dimension."""
        return self.A.shape[1]

    @property
    def d(self) -> int:
        """Input dimension."""
        return self.A.shape[2]

    @property
    def d_out(self) -> int:
        """Output dimension d'."""
        return self.B.shape[1]

    @property
    def V(self) -> Tensor:
        """Model (3)'s V (b, L, q, m): the first block."""
        return self.Z[0]

    @property
    def W(self) -> Tensor:
        """Model (3)'s W (b, L, m, q): the second block."""
        return self.Z[1]

    def layer(self, k: int) -> tuple[Tensor, ...]:
        """The blocks of layer k+1 (0-based k), each (b, ...)."""
        return tuple(z[:, k] for z in self.Z)

    @classmethod
    def from_official(cls, V: Tensor, W: Tensor) -> Params:
        """The released code's weights as model parameters: its V_k (M x d) and W_k (d x M),
        stacked as V (L, M, d) and W (L, d, M), or (b, L, ...) for b networks, act on row vectors
        (x <- x + sigma(x W_k) V_k / L); here they are V_k^T (q x m) and W_k^T (m x q) with
        q = d = d' and A = B = I (the released code has no A, B).  Use with
        ``MLP(activation, "official")``."""
        for name, t in (("V", V), ("W", W)):
            if not isinstance(t, Tensor) or t.ndim not in (3, 4):
                raise ConfigError(name, getattr(t, "shape", type(t).__name__),
                                  "must be a tensor (L, rows, cols) or (b, L, rows, cols)")
        V, W = (t if t.ndim == 4 else t.unsqueeze(0) for t in (V, W))
        b, L, M, d = V.shape
        if tuple(W.shape) != (b, L, d, M):
            raise ConfigError("W", tuple(W.shape), f"must be (b={b}, L={L}, d={d}, M={M}) for V "
                              f"of shape {tuple(V.shape)}")
        eye = torch.eye(d, dtype=V.dtype, device=V.device).expand(b, d, d)
        return cls(eye.clone(), (V.mT.contiguous(), W.mT.contiguous()), eye.clone())

    def clone(self) -> Params:
        """A deep copy (contiguous)."""
        return Params(self.A.clone(), tuple(z.clone() for z in self.Z), self.B.clone())

    def to(self, device: torch.device | str | None = None,
           dtype: torch.dtype | None = None) -> Params:
        """A copy on ``device`` in ``dtype``."""
        return Params(self.A.to(device, dtype), tuple(z.to(device, dtype) for z in self.Z),
                      self.B.to(device, dtype))

    def select(self, j: int) -> Params:
        """Network j alone (b = 1), as views."""
        return Params(self.A[j:j + 1], tuple(z[j:j + 1] for z in self.Z), self.B[j:j + 1])


def batched_data(params: Params, X: Tensor, name: str = "X", cols: int | None = None) -> Tensor:
    """X as a (b, n, cols) tensor: a shared (n, cols) X is broadcast to the b networks."""
    cols = params.d if cols is None else cols
    if not isinstance(X, torch.Tensor) or X.dtype != params.A.dtype or X.device != params.A.device:
        raise ConfigError(name, getattr(X, "dtype", type(X).__name__),
                          f"must be a tensor of the parameters' dtype {params.A.dtype} on "
                          f"{params.A.device}")
    if X.ndim == 2:
        X = X.unsqueeze(0).expand(params.b, *X.shape)
    if X.ndim != 3 or X.shape[0] != params.b or X.shape[2] != cols or X.shape[1] < 1:
        raise ConfigError(name, tuple(X.shape), f"must be (n, {cols}) or (b={params.b}, n, {cols})")
    return X


def hidden_states(params: Params, X: Tensor, residual: Residual) -> Tensor:
    """h_0, ..., h_L of model (11)/(12): a (L+1, b, n, q) tensor (autograd-friendly loop)."""
    X = batched_data(params, X)
    h = X @ params.A.mT
    states = [h]
    for k in range(params.L):
        h = h + residual(h, params.layer(k)) / params.L
        states.append(h)
    return torch.stack(states)


def forward(params: Params, X: Tensor, residual: Residual) -> Tensor:
    """F(x) = B h_L for every sample: a (b, n, d') tensor (model (11)/(12))."""
    X = batched_data(params, X)
    h = X @ params.A.mT
    for k in range(params.L):
        h = h + residual(h, params.layer(k)) / params.L
    return h @ params.B.mT


def loss(params: Params, X: Tensor, Y: Tensor, residual: Residual) -> Tensor:
    """l = c_loss * sum_i ||F(x_i) - y_i||^2 for each network: a (b,) tensor."""
    out = forward(params, X, residual)
    Y = batched_data(params, Y, "Y", params.d_out)
    if Y.shape[1] != out.shape[1]:
        raise ConfigError("Y", tuple(Y.shape), f"must have n = {out.shape[1]} rows like X")
    return residual.loss_scale(out.shape[1], params.d_out) * ((out - Y) ** 2).sum((-2, -1))
