"""Proposition 1 (family S1): the clipped gradient flow (5) is well posed, its weights stay
finite and within M = M0 + T M_pi, and gradient descent converges to it as eta -> 0.  The
measurement is S3's bounded run (:func:`numerics.finite_time.measure_prop3_bounded`) plus step
halving; bound to its catalog entry (:func:`theory.catalog.bind`).
"""

from __future__ import annotations

import math

from numerics.evidence import Evidence
from numerics.finite_time import CLIPPED_SPEED, measure_prop3_bounded
from numerics.flow import Flow, step_halving
from numerics.measure import Measurement, data, initial
from numerics.model import MLP
from theory.catalog import Statement, bind
from theory.config import Config
from theory.finite_time import M_bound, M_pi
from theory.verdicts import Facts


def measure_prop1(config: Config) -> Measurement:
    """S1: the clipped run stays finite and bounded; step halving shows GD converging to the flow
    (the final-weight distances between eta, eta/2, eta/4 shrink by a factor about 2)."""
    m = measure_prop3_bounded(config)
    X, Y = data(config)
    halving = step_halving(initial(config), X, Y, Flow.from_config(config),
                           MLP(config.activation, config.scaling), halvings=2)
    diffs = [float(d[0]) for d in halving.differences]
    m.id = "prop1.wellposed"
    m.values["halving_ratio"] = diffs[0] / diffs[1] if diffs[1] > 0 else math.inf
    m.series["halving"] = diffs
    return m


def _prop1(st: Statement, c: Config, m: Measurement) -> Evidence:
    v = m.values
    bound = M_bound(m.inputs["M0"], c.T, M_pi(c.clip, c.clip_c, q=c.q, m=c.m, d=c.d,
                                              d_out=c.d_out))
    finite = math.isfinite(v["max_norm"]) and math.isfinite(v["final_loss"])
    return Evidence(Facts(v["max_norm"] if finite else math.nan, bound, a_priori=bound,
                          a_priori_reason=CLIPPED_SPEED, dtype=c.dtype),
                    notes=[f"step halving eta -> eta/2 -> eta/4: final-weight distances shrink "
                           f"by {v['halving_ratio']:.3g} (about 2 for a first-order approach to "
                           "the flow)"],
                    extra={"halving": m.series["halving"], "M_pi_observed": v["M_pi_observed"]})


bind("prop1.wellposed", measure=measure_prop1, facts=_prop1)
