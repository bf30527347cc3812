"""S4, Theorem 4: the trained network converges to the limit training dynamics at rate 1/L.

* ``run_check("thm4.limit")``: sup_{s,t} ||Z^L(s, t) - Z(s, t)|| against the limit dynamics of
  Appendix A.5 solved on an s-grid, for four depths and three seeds; the bootstrap interval of the
  slope meets [-1.2, -0.8] (the check's verdict), and so do those of the hidden-state and output
  gaps.
* Metamorphic (no limit solver): refining the depth of a tied or smooth initialization changes
  the outputs by O(1/L), at initialization and after training.  With
  delta(L) = max_i ||F^L(x_i) - F^{2L}(x_i)|| for L in {4, 8, 16} (four depths, three seeds
  batched), the slope of log delta against log L has a bootstrap interval meeting [-1.2, -0.8]; a
  tied initialization is untouched by refinement (V = 0: F^L(x) = B A x for every L, exactly).
  An initialization that is not a function of k/L, or a forward pass without the 1/L, fails.
"""

from __future__ import annotations

import dataclasses

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from numerics.data import make_data
from numerics.flow import Flow, train
from numerics.init import init_params
from numerics.model import MLP, forward
from numerics.rates import rate_fit
from properties.assertions import assert_holds, assert_rate, checked, fail_case, family_ids
from properties.strategies import examples, rate_configs
from theory.catalog import ONE_OVER_L, CheckResult
from theory.config import Config

FAMILIES = ("S4",)
(LIMIT,) = family_ids(*FAMILIES)


@settings(max_examples=examples(4))
@given(config=rate_configs())
def test_limit_gaps_are_one_over_L(config: Config) -> None:
    result = checked(LIMIT, config)
    assert_holds(result, config)
    if result.applicable:
        assert_rate(result, config, "rate", exact=True)  # the check's verdict
        for name in ("rate_h_sup", "rate_out_sup"):
            assert_rate(result, config, name)


@settings(max_examples=examples(8))
@given(config=rate_configs(), trained=st.booleans())
def test_refining_the_depth_changes_outputs_by_one_over_L(config: Config, trained: bool) -> None:
    depths = (4, 8, 16, 32)
    X, Y = make_data(config.data, n=config.n, d=config.d, d_out=config.d_out, q=config.q,
                     seed=config.seed, y_scale=config.y_scale)
    residual = MLP(config.activation, config.scaling)
    outputs = []
    for L in depths:
        params = init_params(config.init, d=config.d, d_out=config.d_out, q=config.q,
                             m=config.m, L=L, seeds=config.seeds, ell=config.ell)
        if trained:
            params = train(params, X, Y, Flow.from_config(config), residual).params
        outputs.append(forward(params, X, residual))
    deltas = [torch.linalg.vector_norm(a - b, dim=-1).amax(-1).tolist()
              for a, b in zip(outputs, outputs[1:], strict=False)]  # (3 depths, seeds)
    case = dataclasses.replace(config, depths=depths, T=config.T if trained else config.eta)
    if config.init == "tied" and not trained:
        if max(map(max, deltas)) != 0.0:
            fail_case(LIMIT, case, what="a tied initialization (V = 0) gives F^L(x) = B A x "
                      "for every L", measured=max(map(max, deltas)), bound=0.0, exact=False)
        return
    rate = rate_fit(depths[:-1], deltas, ONE_OVER_L, seed=config.seed)
    result = CheckResult(LIMIT, "", "", case.to_dict(), True, [], None, None, True,
                         extra={"refinement": rate.to_dict()})
    assert_rate(result, case, "refinement", min_depths=3)  # 3 differences of 4 depths
