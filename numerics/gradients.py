r"""Loss and gradients: the explicit backpropagation recurrences (13)-(16), and an autograd path.

For model (11)/(12) (Appendix A, p14-15), with p_k = dl_i/dh_k for one sample,

    p_L = 2 B^T (F(x) - y),                                                             (13)
    p_k = p_{k+1} + (1/L) d1f(h_k, Z_{k+1})^T p_{k+1},  k = L-1, ..., 0,
    dl/dA = c sum_i p_{0,i} x_i^T,                                                      (14)
    dl/dZ_k = (c/L) sum_i d2f(h_{k-1,i}, Z_k)^T p_{k,i},                                (15)
    dl/dB = 2 c sum_i (F(x_i) - y_i) h_{L,i}^T,                                         (16)

with c = c_loss = 1/n.  (13) is printed without the transpose on d1f; the chain rule needs it
(h_{k+1} = h_k + f(h_k)/L gives dl/dh_k = (I + d1f/L)^T dl/dh_{k+1}), and the tests check the
transposed form against autograd.

For model (3), with u_k = s_in W_{k+1} h_k, a_k = sigma(u_k), s_out = s_width / L, and in row form
(samples are rows; P_k stacks c p_{k,i}):

    H_{k+1} = H_k + a_k (s_out V_{k+1})^T,    G_k = sigma'(u_k) * (P_{k+1} (s_out V_{k+1})),
    P_k = P_{k+1} + G_k (s_in W_{k+1}),        dl/dV_{k+1} = s_out P_{k+1}^T a_k,
    dl/dW_{k+1} = s_in G_k^T H_k.

:class:`Workspace` runs the two sequential sweeps (forward for H, backward for P) with
preallocated buffers and plain ``out=`` products on pre-scaled weights (s_in W, s_out V, one
batched product per step), and then every weight gradient as one batched product
over the b * L layers.  sigma'(u_k) for all layers is one chunked elementwise pass between the
sweeps.  Memory is O(L b n (q + m)), independent of the number of training steps.

One model (issue 27): this module is the one torch definition of the discrete recurrences
(13)-(16) of model (3) (its factors s_in, s_width and c_loss from :class:`numerics.model.MLP`,
sigma and sigma' from :mod:`numerics.activations`); the compiled sweeps of :mod:`numerics.native`
are an accelerator of its two sweeps behind :meth:`Workspace.compute` (tests/test_native.py checks
them against this torch path and autograd; tests/test_gradients.py runs on both engines).  It is
the training engine, not a test oracle: autograd (:func:`loss_and_grads_autograd`, through
:func:`numerics.model.loss`) is the independent reference.  The streamed metrics are
:mod:`numerics.metrics`; the A.5 limit integrates the same f with :meth:`MLP.d1f` and
:meth:`MLP.d2f_T` (:mod:`numerics.limit`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import torch

from numerics import activations, native
from numerics.model import MLP, Params, Residual, batched_data
from numerics.model import loss as model_loss
from theory.errors import ConfigError

Tensor = torch.Tensor
_CHUNK_ELEMENTS = 1 << 18  # elements per chunk of the sigma' pass


@dataclasses.dataclass(frozen=True)
class Grads:
    """dl/dA (b, q, d), dl/dZ (blocks like Params.Z), dl/dB (b, d', q): l of each network."""

    A: Tensor
    Z: tuple[Tensor, ...]
    B: Tensor


def loss_and_grads(params: Params, X: Tensor, Y: Tensor,
                   residual: Residual | None = None) -> tuple[Tensor, Grads]:
    """(l (b,), gradients): explicit recurrences for model (3) (:class:`MLP`), autograd otherwise.

    A one-off call; training reuses one :class:`Workspace` instead.
    """
    residual = MLP() if residual is None else residual
    if isinstance(residual, MLP):
        ws = Workspace(params, X, Y, residual)
        loss, grads = ws.compute()
        return loss.clone(), Grads(grads.A.clone(), tuple(g.clone() for g in grads.Z),
                                   grads.B.clone())
    return loss_and_grads_autograd(params, X, Y, residual)


def loss_and_grads_autograd(params: Params, X: Tensor, Y: Tensor,
                            residual: Residual | None = None) -> tuple[Tensor, Grads]:
    """(l (b,), gradients) of model (11)/(12) by torch autograd (the reference path)."""
    residual = MLP() if residual is None else residual
    leaves = [t.detach().requires_grad_(True) for t in (params.A, *params.Z, params.B)]
    with torch.enable_grad():
        p = Params(leaves[0], tuple(leaves[1:-1]), leaves[-1])
        loss = model_loss(p, X, Y, residual)
        # the b networks are independent: d(sum_j l_j)/d(theta_j) = dl_j/d(theta_j)
        grads = torch.autograd.grad(loss.sum(), leaves)
    return loss.detach(), Grads(grads[0], tuple(grads[1:-1]), grads[-1])


def engine(params: Params, residual: Residual) -> str:
    """What computes the gradients of :class:`Workspace` for these parameters: "native" (the
    compiled sweeps, :mod:`numerics.native`), else the reason the torch sweeps do; "autograd"
    for a residual other than model (3)'s :class:`MLP`."""
    if not isinstance(residual, MLP) or len(params.Z) != 2:
        return "autograd"
    V, W = params.Z
    reason = native.status(activations.get(residual.activation).name, params.q, V.shape[-1],
                           params.A.dtype, params.A.device)
    if reason == "native" and not native.blocks_contiguous(V, W):
        return "weights not stored block-contiguously"
    return reason


class Workspace:
    """Buffers and the explicit recurrences (13)-(16) of model (3) for fixed ``params`` tensors.

    Bound to the tensors of ``params`` (training updates them in place); :meth:`compute` returns
    views into buffers that the next call overwrites.  After :meth:`compute`,
    :attr:`activations` holds a_k = sigma(s_in W_{k+1} h_k) for every layer, (L, b, n, m), and,
    when the compiled sweeps run and the initial ``params0`` are given, :attr:`layer_stats` the
    per-layer norms of the streamed metrics at the current parameters and gradients (computed
    within the backward sweep; None otherwise).
    """

    def __init__(self, params: Params, X: Tensor, Y: Tensor, residual: MLP,
                 params0: Params | None = None) -> None:
        if not isinstance(residual, MLP):
            raise ConfigError("residual", type(residual).__name__,
                              "the explicit recurrences are for model (3) (MLP)")
        if len(params.Z) != 2:
            raise ConfigError("Z", len(params.Z), "model (3) has two blocks (V, W)")
        b, L, q = params.b, params.L, params.q
        V, W = params.Z
        m = V.shape[-1]
        if V.shape[2:] != (q, m) or W.shape[2:] != (m, q):
            raise ConfigError("Z", (tuple(V.shape), tuple(W.shape)),
                              f"must be V (b, L, q={q}, m) and W (b, L, m, q={q})")
        if params0 is not None and [z.shape for z in params0.Z] != [z.shape for z in params.Z]:
            raise ConfigError("params0", [tuple(z.shape) for z in params0.Z],
                              "the initial weights must have the shapes of params")
        self.params, self.residual, self.params0 = params, residual, params0
        self.layer_stats: native.LayerStats | None = None
        self.X = batched_data(params, X).contiguous()
        self.Y = batched_data(params, Y, "Y", params.d_out).contiguous()
        n = self.X.shape[1]
        if self.Y.shape[1] != n:
            raise ConfigError("Y", tuple(Y.shape), f"must have n = {n} rows like X")
        self.n, self.m = n, m
        s_in, s_width = residual.factors(q, m)
        self.s_in, self.s_out = s_in, s_width / L
        self.c_loss = residual.loss_scale(n, params.d_out)
        like = {"dtype": params.A.dtype, "device": params.A.device}
        self.engine = engine(params, residual)

        def layers(*shape: int) -> Tensor:
            """An empty (layers, b, ...) buffer: stored network by network for the compiled
            sweeps (one network's layers are one stream; measured 5-10% faster than layer by
            layer at L >= 256), layer by layer for torch's batched per-layer products."""
            if self.engine == "native":
                return torch.empty(b, shape[0], *shape[1:], **like).transpose(0, 1)
            return torch.empty(shape[0], b, *shape[1:], **like)

        self.H = layers(L + 1, n, q)      # hidden states h_0..h_L
        self.P = layers(L + 1, n, q)      # backward states c p_0..c p_L
        self.U = layers(L, n, m)          # sigma'(u_k) (torch sweeps: u_k, sigma'(u_k), G_k)
        self.activations = layers(L, n, m)
        self.R = torch.empty(b, n, params.d_out, **like)  # residuals F - Y
        self._gV = layers(L, q, m)
        self._gW = layers(L, m, q)
        self._gA = torch.empty_like(params.A)
        self._gB = torch.empty_like(params.B)
        self._loss = torch.empty(b, **like)
        self.grads = Grads(self._gA, (self._gV.transpose(0, 1), self._gW.transpose(0, 1)),
                           self._gB)
        act = activations.get(residual.activation)
        sweeps = native.sweeps(act.name, q, m, params.A.dtype, params.A.device) \
            if self.engine == "native" else None
        self.native = None if sweeps is None else sweeps.bind(
            self.s_out, self.s_in, V, W, *(t.transpose(0, 1) for t in (
                self.H, self.activations, self.U, self.P, self._gV, self._gW)),
            None if params0 is None else params0.Z)  # type: ignore[arg-type]
        if self.native is None:
            self._prepare_torch_sweeps(act)

    def _prepare_torch_sweeps(self, act: activations.TorchActivation) -> None:
        """The buffers and per-layer views of the torch sweeps (not needed by the compiled
        ones): pre-scaled weights, sigma and sigma' kernels, 2-D views when b = 1 (plain mm is
        cheaper than bmm)."""
        (V, W), b, L = self.params.Z, self.params.b, self.params.L
        like = {"dtype": V.dtype, "device": V.device}
        self._W_scaled = torch.empty_like(W)  # s_in W, stored like W
        self._V_scaled = torch.empty_like(V)  # s_out V
        self._sigma = _forward_kernel(act)
        self._dsigma = _derivative_kernel(act, **like)
        self._chunk = max(1, _CHUNK_ELEMENTS // (b * self.n * self.m))
        sq = (lambda t: t[0]) if b == 1 else (lambda t: t)
        self._mm = torch.mm if b == 1 else torch.bmm
        Ws, Vs = self._W_scaled, self._V_scaled
        self._fwd = [(sq(self.H[k]), sq(self.U[k]), sq(self.activations[k]), sq(Ws[:, k]).mT,
                      sq(Vs[:, k]).mT, sq(self.H[k + 1])) for k in range(L)]
        self._bwd = [(sq(self.P[k + 1]), sq(Vs[:, k]), sq(self.U[k]), sq(Ws[:, k]),
                      sq(self.P[k])) for k in reversed(range(L))]
        self._tmp = sq(torch.empty(b, self.n, self.m, **like))

    @property
    def fuses_step(self) -> bool:
        """Whether :meth:`compute` can take the gradient step on Z itself: the compiled sweeps
        with ``params0`` (the metrics of the step are then measured before it)."""
        return self.native is not None and self.params0 is not None

    def compute(self, step: float = 0.0) -> tuple[Tensor, Grads]:
        """(l (b,), gradients) at the current values of the bound parameters.

        A nonzero ``step`` (only where :attr:`fuses_step`) also applies Z_k <- Z_k + step dl/dZ_k
        to every layer within the backward sweep, after its gradient and :attr:`layer_stats`
        are taken (gradient descent on flow (4) is step = -eta L, :mod:`numerics.flow`).
        """
        if step and not self.fuses_step:
            raise ValueError("the gradient step within the sweeps needs the compiled sweeps and "
                             "params0")
        p = self.params
        L, c = p.L, self.c_loss
        with torch.no_grad():
            torch.bmm(self.X, p.A.mT, out=self.H[0])
            if self.native is not None:
                self.native.forward()
            else:
                self._torch_forward()
            torch.baddbmm(self.Y, self.H[L], p.B.mT, beta=-1, out=self.R)
            torch.sum(self.R * self.R, dim=(1, 2), out=self._loss).mul_(c)
            torch.baddbmm(self.P[L], self.R, p.B, beta=0, alpha=2 * c, out=self.P[L])
            if self.native is not None:
                self.layer_stats = self.native.backward(step)
            else:
                self._torch_backward()
            torch.bmm(self.P[0].mT, self.X, out=self._gA)
            torch.baddbmm(self._gB, self.R.mT, self.H[L], beta=0, alpha=2 * c, out=self._gB)
        return self._loss, self.grads

    def _torch_forward(self) -> None:
        p = self.params
        torch.mul(p.Z[1], self.s_in, out=self._W_scaled)
        torch.mul(p.Z[0], self.s_out, out=self._V_scaled)
        mm, sigma = self._mm, self._sigma
        for h, u, a, w_t, v_t, h_next in self._fwd:
            mm(h, w_t, out=u)
            sigma(u, a)
            mm(a, v_t, out=h_next)  # product then add: baddbmm(beta=1) is 2x slower on CPU
            h_next.add_(h)

    def _torch_backward(self) -> None:
        L, b, n, q, m = self.params.L, self.params.b, self.n, self.params.q, self.m
        for k0 in range(0, L, self._chunk):
            self._dsigma(self.U[k0:k0 + self._chunk], self.activations[k0:k0 + self._chunk])
        tmp, mm = self._tmp, self._mm
        for p_next, v, g, w, p_k in self._bwd:
            mm(p_next, v, out=tmp)
            g.mul_(tmp)
            mm(g, w, out=p_k)
            p_k.add_(p_next)
        torch.baddbmm(self._gV.view(L * b, q, m), self.P[1:].view(L * b, n, q).mT,
                      self.activations.view(L * b, n, m), beta=0, alpha=self.s_out,
                      out=self._gV.view(L * b, q, m))
        torch.baddbmm(self._gW.view(L * b, m, q), self.U.view(L * b, n, m).mT,
                      self.H[:L].view(L * b, n, q), beta=0, alpha=self.s_in,
                      out=self._gW.view(L * b, m, q))


Kernel = Callable[[Tensor, Tensor], object]


def _forward_kernel(act: activations.TorchActivation) -> Kernel:
    """a <- sigma(u), fused where torch has the activation as one kernel."""
    fused: dict[str, Kernel] = {
        "gelu": lambda u, a: torch._C._nn.gelu(u, out=a),  # F.gelu's binding, with out=
        "tanh": lambda u, a: torch.tanh(u, out=a),
        "erf": lambda u, a: torch.erf(u, out=a),
        "sin": lambda u, a: torch.sin(u, out=a),
        "identity": lambda u, a: a.copy_(u),
        "relu": lambda u, a: torch.clamp(u, min=0, out=a),
    }
    return fused.get(act.name, lambda u, a: a.copy_(act.f(u)))


def _derivative_kernel(act: activations.TorchActivation, *, dtype: torch.dtype,
                       device: torch.device) -> Kernel:
    """u <- sigma'(u) in place, given a = sigma(u) (reused where sigma' is a function of a)."""
    one = torch.ones((), dtype=dtype, device=device)
    quarter = torch.full((), 0.25, dtype=dtype, device=device)
    fused: dict[str, Kernel] = {
        "gelu": lambda u, a: torch.ops.aten.gelu_backward.grad_input(
            one.expand_as(u), u, grad_input=u),
        "tanh": lambda u, a: torch.addcmul(one.expand_as(u), a, a, value=-1, out=u),
        "sigmoid": lambda u, a: torch.addcmul(quarter.expand_as(u), a, a, value=-1, out=u),
        "sin": lambda u, a: torch.cos(u, out=u),
        "identity": lambda u, a: u.fill_(1),
    }
    return fused.get(act.name, lambda u, a: u.copy_(act.df(u)))
