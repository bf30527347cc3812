"""Remark 1 (Appendix A.1, p17 of the PDF): clipping is "merely a technical assumption"; where
the weights do not blow up (under PL, or with "gradient flow with momentum ... closer to Adam")
it is "not required", and "one might then show a similar result to Theorem 4".

The remark states no theorem: every statement of the paper (Propositions 3 and 7, Theorems 4
and 6) is about the gradient flow (4)/(5), i.e. plain gradient descent in the limit eta -> 0.
The remark1.* statements of the catalog test its conclusions with heavy-ball momentum and Adam
(numerics.optimizers), always beyond scope: :func:`assumptions` names the gradient flow as failed,
and :func:`requirements` / :func:`bounded_requirements` are what the experiments need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from theory.finite_time import MODEL3, TIED_OR_SMOOTH, activation, sigma_failures
from theory.long_time import UNCLIPPED

if TYPE_CHECKING:
    from theory.config import Config

GRADIENT_FLOW = "gradient flow (plain gradient descent)"
DEPTHS = "at least four depths"


def assumptions(config: Config) -> list[str]:
    """The optimizers of Remark 1 are outside every theorem: the gradient flow always fails."""
    return [GRADIENT_FLOW]


def bounded_requirements(config: Config) -> list[str]:
    """What the boundedness experiment needs: no clipping (the remark's point; the optimizers
    apply none, so a clipped configuration would be mislabelled), model (3), and depths to take
    the largest doubling ratio over."""
    out = [UNCLIPPED] if config.clip != "none" else []
    out += [MODEL3] if config.scaling != "paper" else []
    return out + ([DEPTHS] if len(config.depths) < 4 else [])


def requirements(config: Config) -> list[str]:
    """What the 1/L experiment needs besides :func:`bounded_requirements`: what Proposition 7
    asks of f (sigma C^2, Lipschitz, sigma(0) = 0: ReLU's gap is O(1) already under gradient
    descent, Appendix D) and an initialization discretizing a Lipschitz Z_init (tied or
    smooth: i.i.d. layers are O(1) apart at t = 0)."""
    out = bounded_requirements(config)
    out += sigma_failures(activation(config), ["C2", "lipschitz", "zero_at_zero"])
    return out + ([TIED_OR_SMOOTH] if config.init == "iid" else [])
