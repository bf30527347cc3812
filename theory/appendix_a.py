r"""Corollaries 12 and 13 and Proposition 15 (Appendix A.4 p25, A.6 p30): discrete recurrences
driven by a uniformly convergent family converge to the ODE's solution; the rates their proofs
imply; the assumptions of the statements (checks: :mod:`numerics.recurrences`).

The recurrence (32) u_0 = a^L, u_{k+1} = u_k + g(u_k, theta_{k+1}) / L with g C^1, g(0, .) = 0,
uniformly Lipschitz on compacts, against dU/ds = g(U, Theta(s)), U(0) = a.  Proposition 11's
proof (p24, (35)) gives, with C the Lipschitz constant of g and C_Theta that of Theta,

    Delta^L_k = ||U(k/L) - u^L_k|| <= (||a^L - a|| + sup_s ||Theta(s) - Theta^L(s)||
                                      + C_Theta / L + C~ / (L C)) e^C,

and (36) adds C_U / L between grid points.  Corollary 12 takes every quantity uniformly over
t in I, Corollary 13 as L, t -> infinity together: the distance is O(1/L + eps_L(t)) with
eps_L(t) = sup ||a^L(t) - a(t)|| + sup_s ||Theta^L(s, t) - Theta(s, t)||.  The families of
:mod:`numerics.recurrences` converge at known rates:

- Corollary 12: eps_L = O(L^-a) uniformly in t, a = :data:`EXPONENT` = 1/2: distance O(L^-1/2);
- Corollary 13: eps_L(t) = O(L^-a + e^-t); along t >= log L (the tail of the double limit),
  O(L^-1/2);
- Proposition 15 (the whole network (12): A^L(t), Z^L_k(t), B^L(t) converging as t -> infinity
  uniformly in L and as L -> infinity uniformly in t, at O(e^-t + 1/L)): Corollary 13 with
  theta = Z, a^L = A^L x, g = f gives the hidden states, and F^L(x; t) = B^L(t) h_L(t) converges to
  F_inf(x) = B_inf H(1) uniformly over x, at O(1/L) along t >= log L.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from theory.finite_time import activation, sigma_failures

if TYPE_CHECKING:
    from theory.config import Config

EXPONENT = 0.5
"""The perturbations of Corollaries 12 and 13 shrink like L^-EXPONENT (slower than the Euler
error 1/L, so that the rate tested is the perturbation's, as the proof's (35) says)."""

UNIFORM = "Theta^L -> Theta uniformly (a convergent family: init != iid)"
DEPTHS = "at least four depths"

def assumptions(config: Config) -> list[str]:
    """Corollaries 12, 13 and Proposition 15 with g = model (3)'s residual: g C^1 (judged by
    sigma C^2, the flag the catalog carries), g(0, .) = 0 (sigma(0) = 0), uniformly Lipschitz on
    compacts (sigma Lipschitz); the family converges uniformly (not the i.i.d. control); four
    depths for a rate."""
    out = sigma_failures(activation(config.activation), ("C2", "zero_at_zero", "lipschitz"))
    out += [UNIFORM] if config.init == "iid" else []
    return out + ([DEPTHS] if len(config.depths) < 4 else [])
