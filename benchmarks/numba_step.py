"""The ``numba`` candidate engine of :mod:`benchmarks.engines`: one training step of model (3)
with tanh for one network, compiled by numba (imported only where numba is installed; compiled
on first use and cached beside this file).

Row form, float64, with the paper's scaling s_in = 1/sqrt(q), s_out = 1/(L sqrt(m)) and
c = 1/n (numerics.model.MLP.factors, loss_scale), gradients (13)-(16)
(numerics.gradients):

    forward   a_k = tanh(s_in h_k W_k^T),  h_{k+1} = h_k + a_k (s_out V_k)^T,
    backward  P_L = 2 c (F - Y) B,  G_k = (1 - a_k^2) * (P_{k+1} s_out V_k),
              P_k = P_{k+1} + G_k s_in W_k,
              dl/dV_k = s_out P_{k+1}^T a_k,  dl/dW_k = s_in G_k^T h_k,
              dl/dA = P_0^T X,  dl/dB = 2 c (F - Y)^T h_L,

then the explicit Euler step of flow (4), in place on A, V, W, B.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def step(A, V, W, B, X, Y, s_in, s_out, c, eta):  # noqa: ANN001, ANN201
    """One step on the arrays A (q, d), V (L, q, m), W (L, m, q), B (d', q), in place."""
    L = V.shape[0]
    n, q, m = X.shape[0], V.shape[1], V.shape[2]
    H = np.empty((L + 1, n, q))
    Act = np.empty((L, n, m))
    H[0] = X @ A.T
    for k in range(L):
        Act[k] = np.tanh((s_in * H[k]) @ W[k].T)
        H[k + 1] = H[k] + Act[k] @ (s_out * V[k]).T
    R = H[L] @ B.T - Y
    P = (2 * c) * (R @ B)
    gV = np.empty_like(V)
    gW = np.empty_like(W)
    for k in range(L - 1, -1, -1):
        G = (1 - Act[k] * Act[k]) * (P @ (s_out * V[k]))
        gV[k] = s_out * (P.T @ Act[k])
        gW[k] = s_in * (G.T @ H[k])
        P = P + G @ (s_in * W[k])
    gA = P.T @ X
    gB = (2 * c) * (R.T @ H[L])
    A -= eta * gA
    V -= (eta * L) * gV
    W -= (eta * L) * gW
    B -= eta * gB
