"""S4, Theorem 4: the trained network converges to the limit training dynamics at rate 1/L.

* ``run_check("thm4.limit")``: sup_{s,t} ||Z^L(s, t) - Z(s, t)|| against the limit dynamics of
  Appendix A.5 solved on an s-grid, for four depths and five seeds; the slope lies in
  [-1.2, -0.8] and its BCa interval within [-1.5, -0.5] (the check's verdict), and so do those
  of the hidden-state and output gaps.  Norm clipping only: coordinate clipping that saturates
  (small c) moves a coordinate by -eta c sign(g), a kink in the weights that delays the 1/L
  regime of the grid gap past L = 32 (a finding of the ``thorough`` profile: q = d = d' = 5,
  m = n = 1, tanh, smooth init ell = 0.5, c = 0.1, T = 0.1, eta = 0.02, seeds 0, 2, 4 give
  slopes -0.43 over L = 4..32, -0.85 over 16..128, -0.95 over 64..512; with q = m = 1 the grid gap
  is exactly 0 at some depths).
* Metamorphic (no limit solver): refining the depth of a tied or smooth initialization changes
  the outputs by O(1/L), at initialization and after training.  With
  delta(L) = max_i ||F^L(x_i) - F^{2L}(x_i)|| for L in {4, 8, 16, 32} (five seeds batched),
  the slope of log delta against log L passes the same rule; a tied initialization is
  untouched by refinement (V = 0: F^L(x) = B A x for every L, exactly).
  A seed whose differences are all at rounding level (its trained networks interpolate the labels
  at every depth) holds trivially and is left out of the fit.
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
@given(config=rate_configs(clips=("norm",)))
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
    depths = (4, 8, 16, 32, 64)
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
    raw = [torch.linalg.vector_norm(a - b, dim=-1).amax(-1).tolist()
           for a, b in zip(outputs, outputs[1:], strict=False)]  # (4 depths, seeds)
    case = dataclasses.replace(config, depths=depths, T=config.T if trained else config.eta)
    if config.init == "tied" and not trained:
        if max(map(max, raw)) != 0.0:
            fail_case(LIMIT, case, what="a tied initialization (V = 0) gives F^L(x) = B A x "
                      "for every L", measured=max(map(max, raw)), bound=0.0, exact=False)
        return
    # a difference at rounding level is 0: the outputs do not depend on L (a trained network
    # that interpolates its labels, n = 1 with B trained, gives y at every depth)
    floor = 64 * torch.finfo(torch.float64).eps * (1 + max(float(o.abs().max()) for o in outputs))
    deltas = [[v if v > floor else 0.0 for v in row] for row in raw]
    rate = rate_fit(depths[:-1], deltas, ONE_OVER_L, seed=config.seed)
    result = CheckResult(LIMIT, "", "", case.to_dict(), True, [], None, None, True,
                         extra={"refinement": rate.to_dict()}, verdict="holds",
                         verdict_rule="a property's own fit")
    assert_rate(result, case, "refinement")
