"""The naive baseline: model (3) trained the way the paper's released scripts train it.

One ``nn.Parameter`` per layer and block, a Python loop over the layers with autograd recording,
``loss.backward()``, ``torch.optim.SGD`` with the learning rate L * eta on the layers (flow-time
step eta), and a copy of every weight appended to a list at every iteration (the released scripts
keep the whole trajectory ``V_list``, ``W_list``).  A and B are fixed, as in Figure 1.
"""

from __future__ import annotations

import torch
from torch import nn

from numerics.model import MLP, Params


def train_baseline(params: Params, X: torch.Tensor, Y: torch.Tensor, *, eta: float,
                   iterations: int) -> tuple[Params, list[list[torch.Tensor]]]:
    """Run ``iterations`` SGD steps on network 0 of ``params``; returns it and the trajectory."""
    A, B = params.A[0].detach(), params.B[0].detach()
    L = params.L
    Vs = nn.ParameterList([nn.Parameter(params.V[0, k].detach().clone()) for k in range(L)])
    Ws = nn.ParameterList([nn.Parameter(params.W[0, k].detach().clone()) for k in range(L)])
    optimizer = torch.optim.SGD([*Vs, *Ws], lr=eta * L)
    f = MLP("gelu")  # model (3)'s residual, its one definition
    trajectory: list[list[torch.Tensor]] = []
    for _ in range(iterations):
        trajectory.append([w.detach().clone() for w in (*Vs, *Ws)])
        optimizer.zero_grad()
        h = X @ A.T
        for V, W in zip(Vs, Ws, strict=True):
            h = h + f(h, (V, W)) / L
        loss = ((h @ B.T - Y) ** 2).sum() / X.shape[0]
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        V = torch.stack([v.detach() for v in Vs]).unsqueeze(0)
        W = torch.stack([w.detach() for w in Ws]).unsqueeze(0)
    return Params(params.A[:1].clone(), (V, W), params.B[:1].clone()), trajectory
