"""S11, Appendix D: with ReLU the trained weights do not discretize an ODE.

Depth 2L, scalar, one sample (x, C x), w_k(0) = (-1)^k / (2L).  Trained to convergence
(:func:`properties.strategies.appd_configs`), with ReLU:

* the odd weights never move (their gradient is exactly 0: not merely small);
* the even weights stay equal to one w(t) (to rounding);
* w(T) = w* = 2L (C^{1/L} - 1) and the neighbour gap is w* + 1/(2L) >= 2 log C, both evaluated by
  :mod:`theory.relu` (sympy/mpmath), independently of the numerics' own w*;

and ``run_check`` holds.  Contrast: with a smooth sigma (tanh, GELU) the statement does not apply
(it names the activation) and the gap stays O(1/L): its log-log slope over L in {4, 8, 16, 32}
lies in [-1.2, -0.8] (one deterministic problem per (sigma, x, C): no seeds to bootstrap).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings, target
from hypothesis import strategies as st

from numerics.appd import train_appd
from properties.assertions import assert_holds, checked, fail_case, family_ids
from properties.strategies import appd_configs, examples
from theory import relu
from theory.catalog import ONE_OVER_L
from theory.config import Config

FAMILIES = ("S11",)
CONVERGED = 1e-8  # relative: T = 30 / x^2 leaves e^{-30} of the initial distance to w*


@pytest.mark.parametrize("statement_id", family_ids(*FAMILIES))
@settings(max_examples=examples(6))
@given(config=appd_configs(("relu", "tanh", "gelu", "identity")))
def test_check_holds(statement_id: str, config: Config) -> None:
    assert_holds(checked(statement_id, config), config)


@settings(max_examples=examples(8))
@given(config=appd_configs())
def test_relu_odd_frozen_even_equal_gap_to_w_star(config: Config) -> None:
    v = checked("appD.relu", config).extra["values"]
    L, C = config.L, config.appd_C
    w_star, gap_limit = relu.w_star(L, C), relu.gap_limit(L, C)
    target(abs(v["gap"] - gap_limit) / gap_limit, label="relative gap error")
    facts = {
        "odd weights never move": (v["odd_max_move"], 0.0),
        "even weights stay equal": (v["even_spread"], 1e-13 * max(1.0, abs(v["w_even"]))),
        "w(T) = w* = 2L (C^(1/L) - 1)": (abs(v["w_even"] - w_star), CONVERGED * w_star),
        "gap -> w* + 1/(2L)": (abs(v["gap"] - gap_limit), CONVERGED * gap_limit),
        "w* >= 2 log C": (2 * math.log(C) - w_star, 1e-12),
    }
    for what, (measured, bound) in facts.items():
        if not measured <= bound:
            fail_case("appD.relu", config, what=what, measured=measured, bound=bound,
                      details=f"values {v}", exact=False)


@settings(max_examples=examples(2))
@given(activation=st.sampled_from(("tanh", "gelu")), C=st.floats(1.1, 2.0), x=st.floats(0.25, 0.5))
def test_smooth_gap_is_one_over_L(activation: str, C: float, x: float) -> None:
    config = Config(activation=activation, appd_C=C, appd_x=x, T=5.0, eta=0.01,
                    depths=(4, 8, 16, 32))
    assert "relu" in " ".join(checked("appD.relu", config).failed_assumptions)
    gaps = [train_appd(L, C, x, activation, config.T, config.eta).gap for L in config.depths]
    slope = float(np.polyfit(np.log(config.depths), np.log(gaps), 1)[0])
    target(-abs(slope + 1), label="-|slope + 1|")
    if not ONE_OVER_L[0] <= slope <= ONE_OVER_L[1]:
        fail_case("appD.relu", config, what=f"smooth contrast: gap ~ 1/L (slope in {ONE_OVER_L})",
                  measured=slope, bound=None, relation="in", exact=False,
                  details=f"gaps {gaps} at L = {config.depths}")
