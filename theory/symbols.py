"""The paper's symbols, defined once (sympy), with the assumptions sympy may use.

Sizes are positive integers (n samples, d input, d_out = d' output, q hidden, m width, L depth, r
Hermite index); times and constants are positive reals.  ``x`` is the real variable of activations.
"""

from __future__ import annotations

import sympy as sp

x = sp.Symbol("x", real=True)

n, d, d_out, q, m, L, r = sp.symbols("n d d' q m L r", positive=True, integer=True)
T, t, s = sp.symbols("T t s", nonnegative=True, real=True)
eta = sp.Symbol("eta", positive=True)  # the Euler step in flow time (not eta_r)

# Constants of the activation and of the data.
K_sigma, M_sigma, sup_d2 = sp.symbols("K_sigma M_sigma sup|sigma''|", positive=True)
eta_r = sp.Symbol("eta_r", real=True, nonzero=True)  # r-th normalized Hermite coefficient
M_X, M_Y = sp.symbols("M_X M_Y", positive=True)  # sup ||x||, sup ||y||
M_pi, M0, M = sp.symbols("M_pi M_0 M", positive=True)  # clipping sup, initial size, bound
v_x = sp.Symbol("v_x", positive=True)  # sub-Gaussian variance proxy (v_x^2 in the paper)
C_label = sp.Symbol("C", positive=True)  # label threshold / App. D label ratio
M_W = sp.Symbol("M_W", positive=True)  # Lemma 20's multiple
