"""S6, Theorem 6 with Proposition 8: exponential decay of the loss and interpolation.

Theorem 6 assumes Proposition 5 (m >= c1 n ~ 1e7 n, L >= c2 sqrt(nq)) and labels below a threshold
C that is astronomically small (10^(-10^k)): at trainable sizes it never applies, and the
applicable branch (l(t) <= exp(-mu t) l(0); max_i ||F(x_i) - y_i|| <= sqrt(n l(T))) is kept for a
configuration that would reach it.  Checked at trainable sizes:

* ``run_check``'s contract: the failed assumptions are Proposition 5's plus "unclipped flow" for a
  clipped run plus the label threshold, and each is named exactly when it fails;
* the measured initial loss is the paper's: with A = [I_d ; 0], B = [0 , I_d'] and V = 0,
  F(x) = B A x (0 when q >= d + d'), so l(0) = (1/n) sum ||B A x_i - y_i||^2, computed here in
  numpy from the data.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

from numerics.data import make_data
from properties.assertions import assert_holds, checked, fail_case, family_ids
from properties.strategies import configs, examples
from theory import long_time, pl
from theory.config import Config

FAMILIES = ("S6",)


@pytest.mark.parametrize("statement_id", family_ids(*FAMILIES))
@settings(max_examples=examples(4))
@given(config=configs(inits=("tied",)))
def test_check_contract_and_holds_where_applicable(statement_id: str, config: Config) -> None:
    result = checked(statement_id, config)
    assert_holds(result, config)
    failed = result.failed_assumptions
    wanted = set(pl.assumptions(config)) | ({long_time.UNCLIPPED} if config.clip != "none"
                                            else set())
    if not wanted <= set(failed):
        fail_case(statement_id, config, what="Theorem 6 names every failed assumption of "
                  "Proposition 5 and the unclipped flow", measured=None, bound=None,
                  details=f"named {failed}, expected at least {sorted(wanted)}")
    l0 = result.extra["values"]["l0"]
    X, Y = (t.numpy() for t in make_data(config.data, n=config.n, d=config.d,
                                         d_out=config.d_out, q=config.q, seed=config.seed,
                                         y_scale=config.y_scale))
    A = np.eye(config.q, config.d)  # [I_d ; 0] (Section 3)
    B = np.eye(config.d_out, config.q, k=config.q - config.d_out)  # [0 , I_d']
    expected = float(((X @ A.T @ B.T - Y) ** 2).sum() / config.n)
    if not np.isclose(l0, expected, rtol=1e-12, atol=1e-300):
        fail_case(statement_id, config, what="l(0) = (1/n) sum ||B A x_i - y_i||^2 (F = B A x "
                  "at the initialization of Section 3)", measured=l0, bound=expected,
                  relation="==")
