r"""Streamed metrics of training, in O(L) memory, with the paper's norms.

Norms (docs/statements.md, Conventions; Proposition 7 p15): ||A||_F, ||B||_F, and for one layer
||Z_k|| = sum over its blocks of their Frobenius norms (||V_k||_F + ||W_k||_F for model (3)).

At every iteration the :class:`Monitor` writes one row of :data:`SERIES` per network:

========  ==================================================================================
loss      l(t)
gap       max_k ||Z_{k+1}(t) - Z_k(t)||                                (Proposition 3/7, eq. 7)
z_norm    sup_k ||Z_k(t)||,  a_norm ||A(t)||_F,  b_norm ||B(t)||_F      (eq. 17)
dist_z    sup_k ||Z_k(t) - Z_k(0)||,  dist_a ||A(t) - A(0)||_F,  dist_b ||B(t) - B(0)||_F
pl        G / l with G = ||dl/dA||_F^2 + L sum_k ||dl/dZ_k||_F^2 + ||dl/dB||_F^2  (Definition 1)
rhs_a     ||pi(-dl/dA)||_F, rhs_z sup_k ||pi(-L dl/dZ_k)||, rhs_b ||pi(-dl/dB)||_F: the norms of
          the applied right-hand sides of (4)/(5) (0 for a frozen block); their maxima over t are
          the observed M_pi
========  ==================================================================================

The running maxima over t of every row are streamed too (``Monitor.maxima``): they are the
paper's max_{k,t} quantities; so are the running minima (``Monitor.minima``: inf_t G/l is the
empirical PL constant along the path) and the sums over the iterations (``Monitor.sums``: eta
times the sum of G/l over the applied steps is the left Riemann sum of integral_0^T G/l dt).
"""

from __future__ import annotations

import torch

from numerics.gradients import Grads, Workspace
from numerics.model import Params

Tensor = torch.Tensor
SERIES = ("loss", "gap", "z_norm", "a_norm", "b_norm", "dist_a", "dist_z", "dist_b", "pl",
          "rhs_a", "rhs_z", "rhs_b")
ROW = {name: i for i, name in enumerate(SERIES)}


def frobenius(t: Tensor) -> Tensor:
    """Frobenius norm over every dimension but the first: (b, ...) -> (b,)."""
    return torch.linalg.vector_norm(t, dim=tuple(range(1, t.ndim)))  # one call, no flatten


def layer_norms(blocks: tuple[Tensor, ...]) -> Tensor:
    """||Z_k|| = sum_j ||Z^j_k||_F for blocks each (b, L, ...): a (b, L) tensor."""
    return sum(torch.linalg.vector_norm(z, dim=tuple(range(2, z.ndim)))  # type: ignore[misc]
               for z in blocks)


def pl_quantity(grads: Grads, L: int, z_sq: Tensor) -> Tensor:
    """G = ||dl/dA||_F^2 + L sum_k ||dl/dZ_k||_F^2 + ||dl/dB||_F^2 of Definition 1 per
    network (b,), given z_sq = sum_k ||dl/dZ_k||_F^2 (b,) (every block of each layer counts)."""
    return frobenius(grads.A) ** 2 + frobenius(grads.B) ** 2 + L * z_sq


def successive_gaps(Z: tuple[Tensor, ...]) -> Tensor:
    """||Z_{k+1} - Z_k|| for k = 1..L-1: a (b, L-1) tensor (empty when L = 1)."""
    return layer_norms(tuple(z[:, 1:] - z[:, :-1] for z in Z))


def trained_gap(Z: tuple[Tensor, ...], Z0: tuple[Tensor, ...]) -> Tensor:
    """What training changed between neighbours: max_k ||D_{k+1} - D_k|| with D_k = Z_k - Z0_k,
    per network (b,); 0 for a single layer.  ``Z0`` is moved to ``Z``'s device and dtype."""
    moved = successive_gaps(tuple(z - z0.to(z) for z, z0 in zip(Z, Z0, strict=True)))
    return moved.amax(1) if moved.shape[1] else moved.new_zeros(moved.shape[0])


def smin_features(activations: Tensor) -> Tensor:
    """Smallest singular value of sigma(s_in W_{k+1} h_k) (m x n) for every k: (b, L).

    ``activations`` is (L, b, n, m) (:attr:`numerics.gradients.Workspace.activations`); for
    k = 0 at initialization this is the matrix of Lemma 21 / the proof of Proposition 5 (B.5).
    smin is the n-th singular value of the m x n matrix, so it is 0 when m < n (rank <= m).
    """
    _, _, n, m = activations.shape
    if m < n:
        return activations.new_zeros(activations.shape[1], activations.shape[0])
    return torch.linalg.svdvals(activations).amin(-1).transpose(0, 1)


class Monitor:
    """Computes the :data:`SERIES` row of the current parameters into :attr:`row` (len, b).

    Bound to the (in-place updated) ``params`` and the initial ``params0``; differences use
    preallocated buffers, so a step allocates only O(b L) memory.  :attr:`maxima` holds the running
    maxima over the iterations measured so far.  With the ``workspace`` that computed the
    gradients, the per-layer norms come from its backward sweep when it has them
    (:attr:`Workspace.layer_stats`).  :attr:`minima` and :attr:`sums` hold the running minima
    and sums of the rows.
    """

    def __init__(self, params: Params, params0: Params,
                 workspace: Workspace | None = None) -> None:
        self.params, self.params0, self.workspace = params, params0, workspace
        like = {"dtype": params.A.dtype, "device": params.A.device}
        self.row = torch.zeros(len(SERIES), params.b, **like)
        self.maxima = torch.full((len(SERIES), params.b), -torch.inf, **like)
        self.minima = torch.full((len(SERIES), params.b), torch.inf, **like)
        self.sums = torch.zeros(len(SERIES), params.b, **like)
        L = params.L
        self._diff = tuple(_like_layers(z[:, 1:]) for z in params.Z) if L > 1 else ()
        self._dist = tuple(_like_layers(z) for z in params.Z)
        self.grad_layer_norms = torch.zeros(params.b, L, **like)

    def measure(self, loss: Tensor, grads: Grads) -> None:
        """Fill the rows loss .. pl (not rhs_*) at the current parameters and gradients."""
        p, p0, row = self.params, self.params0, self.row
        with torch.no_grad():
            row[ROW["loss"]].copy_(loss)
            row[ROW["a_norm"]].copy_(frobenius(p.A))
            row[ROW["b_norm"]].copy_(frobenius(p.B))
            row[ROW["dist_a"]].copy_(frobenius(p.A - p0.A))
            row[ROW["dist_b"]].copy_(frobenius(p.B - p0.B))
            stats = None if self.workspace is None else self.workspace.layer_stats
            if stats is not None:  # computed within the compiled backward sweep
                gap = stats.gap
                row[ROW["gap"]].copy_(gap.amax(1) if gap.shape[1] else gap.new_zeros(p.b))
                row[ROW["z_norm"]].copy_(stats.norm.amax(1))
                row[ROW["dist_z"]].copy_(stats.dist.amax(1))
                self.grad_layer_norms.copy_(stats.gnorm)
                G = pl_quantity(grads, p.L, stats.gsq.sum(1).to(loss.dtype))
                torch.div(G, loss, out=row[ROW["pl"]])
                return
            if self._diff:
                for z, buf in zip(p.Z, self._diff, strict=True):
                    torch.sub(z[:, 1:], z[:, :-1], out=buf)
                torch.amax(layer_norms(self._diff), dim=1, out=row[ROW["gap"]])
            else:
                row[ROW["gap"]].zero_()
            torch.amax(layer_norms(p.Z), dim=1, out=row[ROW["z_norm"]])
            for z, z0, buf in zip(p.Z, p0.Z, self._dist, strict=True):
                torch.sub(z, z0, out=buf)
            torch.amax(layer_norms(self._dist), dim=1, out=row[ROW["dist_z"]])
            g_layers = [torch.linalg.vector_norm(g.flatten(2), dim=2) for g in grads.Z]
            self.grad_layer_norms.copy_(sum(g_layers))  # type: ignore[arg-type]
            G = pl_quantity(grads, p.L, sum((g * g).sum(1) for g in g_layers))
            torch.div(G, loss, out=row[ROW["pl"]])

    def accumulate(self) -> None:
        """Fold the current row into the running maxima, minima and sums."""
        torch.maximum(self.maxima, self.row, out=self.maxima)
        torch.minimum(self.minima, self.row, out=self.minima)
        self.sums.add_(self.row)


def _like_layers(z: Tensor) -> Tensor:
    """An empty (b, L, ...) tensor stored layer by layer, like the training parameters."""
    layers = torch.empty_like(z.transpose(0, 1), memory_format=torch.contiguous_format)
    return layers.transpose(0, 1)
