r"""Section 4.3 in the long time: Theorem 6's conclusions for the general model (11).

What the paper says (read on the PDF pages):

- p7, Section 4.3: "most of our results hold for a more general residual network" (11),
  h_{k+1} = h_k + f(h_k, Z_{k+1}) / L with f C^2, f(0, .) = 0 and f(., z) uniformly Lipschitz
  for z in any compact; "the conclusions of Theorem 4 hold for the general model (11), as well as
  those of Theorem 6 if the network satisfies a (M, mu)-local PL condition with mu sufficiently
  large (see Appendix B for details)"; convolutional layers are named as an instance.
- p31, Appendix B's preamble: Proposition 5 (the PL condition) is proven for model (3) only, and
  "if one assumes that the general residual network of Section A satisfies the (M, mu)-local PL
  condition with mu given by (22), then the rest of the proof of Theorem 6 unfolds, and the
  conclusions of the theorem hold for the general model".
- p14 and p17-18: the general model (12) is initialized at Z_k(0) = Z_init(k/L) with Z_init
  Lipschitz (tied and smooth initializations are instances); Proposition 8 (i)-(v) then gives,
  for every L and t, ||Z_{k+1}(t) - Z_k(t)|| <= K~/L (ii) and l^L(t) <= e^{-mu t} l^L(0) (v).

So for model (11) the paper states a conditional: *if* the (M, mu)-local PL condition holds with
mu of (22) for every L, the loss decays exponentially with one mu for every L and the neighbour
gap is K~/L uniformly in t.  It states no constant for (11), and whether a convolutional
residual satisfies the PL condition at all (let alone with mu of (22)) is nowhere shown: that
precondition is always named as failed here, so the checks are "beyond" scope, and the PL ratio
along the path is measured and reported beside the conclusions, never used to filter them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from theory.finite_time import TIED_OR_SMOOTH, activation, sigma_failures
from theory.long_time import UNCLIPPED

if TYPE_CHECKING:
    from theory.config import Config

PL_GENERAL = ("(M, mu)-local PL condition with mu of (22) for every L (assumed for model (11) in "
              "Section 4.3, p7, and Appendix B, p31; proven for model (3) only)")
MODEL11_SIGMA = ("C2", "lipschitz", "zero_at_zero")
"""sigma's flags that make the convolutional residual a model (11): f C^2, f(0, .) = 0 and
f(., z) uniformly Lipschitz for z in compacts."""


def _model11(config: Config) -> list[str]:
    """The unclipped flow (4), a residual of model (11) and an initialization Z_init(k/L) with
    Z_init Lipschitz (tied or smooth)."""
    out = [UNCLIPPED] if config.clip != "none" else []
    out += sigma_failures(activation(config), MODEL11_SIGMA)
    return out + ([TIED_OR_SMOOTH] if config.init == "iid" else [])


def long_assumptions(config: Config) -> list[str]:
    """Theorem 6 for model (11) (Section 4.3, p7; Appendix B, p31; Proposition 8, p17-18):
    :func:`_model11` and the local PL condition with mu of (22), never established for a
    convolutional residual (always named)."""
    return _model11(config) + [PL_GENERAL]


def long_requirements(config: Config) -> list[str]:
    """The requirements of the measured-constant checks beyond :func:`long_assumptions`: the
    setting of model (11) on the unclipped flow (:func:`_model11`) and at least two depths; the
    PL condition is measured along the path (numerics.sec43), not required."""
    return _model11(config) + (["at least two depths"] if len(config.depths) < 2 else [])
