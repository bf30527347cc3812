"""Appendix A's recurrences (numerics.recurrences) against independent values: the linear case in
closed form (matrix powers and the matrix exponential), the rates of the families, and the
negative control."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import scipy.linalg
import torch

from numerics import recurrences as R
from numerics.node import node_hidden
from numerics.rates import loglog_slope
from theory import appendix_a
from theory.config import Config

CFG = Config(n=6, d=2, d_out=2, q=4, m=8, L=8, activation="tanh", depths=(8, 16, 32, 64),
             seeds=(0, 1, 2, 3, 4))


def test_linear_recurrence_is_a_matrix_power_and_the_ode_an_exponential() -> None:
    """sigma = identity, constant weights: u_L = (I + V W / (L sqrt(qm)))^L a and
    U(1) = exp(V W / sqrt(qm)) a."""
    gen = torch.Generator().manual_seed(3)
    q, m, n, L = 4, 8, 5, 16
    V = torch.randn(q, m, generator=gen, dtype=torch.float64)
    W = torch.randn(m, q, generator=gen, dtype=torch.float64)
    a = torch.randn(n, q, generator=gen, dtype=torch.float64)
    M = (V @ W).numpy() / math.sqrt(q * m)
    us = R.recurrence(a, [V] * L, [W] * L, "identity")
    power = np.linalg.matrix_power(np.eye(q) + M / L, L)
    assert np.allclose(us[-1].numpy(), a.numpy() @ power.T, rtol=1e-12, atol=1e-12)
    H = node_hidden(torch.eye(q), lambda s: V, lambda s: W, a, "identity", (1.0,))[0]
    assert np.allclose(H.numpy(), a.numpy() @ scipy.linalg.expm(M).T, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("fn,expected", [(R.cor12_distance, -appendix_a.EXPONENT),
                                         (R.cor13_distance, -appendix_a.EXPONENT),
                                         (R.prop15_distance, -1.0)])
def test_rates_of_the_families(fn, expected: float) -> None:
    """The proof's rate: L^-1/2 for the perturbed families, 1/L for Proposition 15's."""
    values = fn(CFG, 0)
    values = values[0] if isinstance(values, tuple) else values
    slope = loglog_slope(CFG.depths, values)[0]
    assert slope == pytest.approx(expected, abs=0.15)


def test_the_control_does_not_converge() -> None:
    control = dataclasses.replace(CFG, init="iid")
    assert appendix_a.UNIFORM in appendix_a.assumptions(control)
    for fn in (R.cor12_distance, R.cor13_distance):
        slope = loglog_slope(CFG.depths, fn(control, 1))[0]
        assert slope > -0.3


def test_assumptions() -> None:
    assert appendix_a.assumptions(CFG) == []
    assert "sigma C^2" in appendix_a.assumptions(dataclasses.replace(CFG, activation="relu"))
    assert appendix_a.DEPTHS in appendix_a.assumptions(dataclasses.replace(CFG, depths=(8, 16)))
