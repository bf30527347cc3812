"""Every statement names its negative control or why it has none (theory.catalog.Statement), and
the controls added for the statements that can hold fail where they should: the same measurement
with one ingredient of the claim removed (tests against what the mathematics says must happen:
a violated inequality, a flat or random-walk slope, a slope growing with m)."""

from __future__ import annotations

import dataclasses

import pytest

from numerics.checks import _control, run_check
from reports.defaults import default
from theory.catalog import EXPLICIT_BOUND, Statement, catalog
from theory.config import Config


def test_every_statement_has_a_control_or_a_reason() -> None:
    for st in catalog.values():
        assert (st.control is None) != (not st.no_control), st.id
    with pytest.raises(ValueError, match="negative control"):
        Statement("x.y", "S1", "", "", "", "bound", "theory.lemmas:lemma18_assumptions")


def test_the_statements_without_control_are_explicit_bounds_or_named() -> None:
    """An explicit-constant bound's power is its a-priori comparison; the others say why."""
    named = {sid for sid, st in catalog.items() if st.no_control and st.no_control !=
             EXPLICIT_BOUND}
    assert named == {"lemma21.smin"}
    for sid, st in catalog.items():
        if st.no_control == EXPLICIT_BOUND:
            assert st.kind == "bound", sid


def _holds_with_failing_control(sid: str, config: Config) -> dict:
    result = run_check(sid, config)
    assert result.verdict == "holds", result.verdict_rule
    assert result.control is not None and result.control["failed"], result.control
    return result.control


def test_lemma18_control_violates_ii_without_m_at_least_r() -> None:
    """m = 1: A = a^T, smin(A) = ||a||, and ||a^T B|| < ||a|| ||B||_F for a generic B."""
    control = _holds_with_failing_control("lemma18.linalg", default("lemma18.linalg").row.config)
    assert control["verdict"] == "violated" and control["measured"] > 0.1


def test_hermite_control_is_the_reference_failing_at_a_kink_off_its_split() -> None:
    """sigma = |x - a|, a = 1/3: sigma'' = 2 delta_a, so by Gaussian integration by parts
    E[sigma(Z) He_r(Z)] = 2 phi(a) He_(r-2)(a) for r >= 2 (closed form).  The testbed's
    quadrature matches it to 1e-15 (measured 3e-18: the piece split places the kink in double
    precision), far below the check's tolerance; the control fails because the reference
    (tanh-sinh split at 0 only) is off by about 2e-6, which the comparison sees."""
    import mpmath

    from theory import hermite

    control = _holds_with_failing_control("hermite.coefficients",
                                          default("hermite.coefficients").row.config)
    assert control["verdict"] == "violated" and control["measured"] > 1e-7
    a = mpmath.mpf(1) / 3
    with mpmath.workdps(40):
        phi = mpmath.exp(-a * a / 2) / mpmath.sqrt(2 * mpmath.pi)
        he = [mpmath.mpf(1), a]
        for j in range(1, 10):
            he.append(a * he[j] - j * he[j - 1])
        for r in range(2, 12):
            exact = 2 * phi * he[r - 2] / mpmath.sqrt(mpmath.factorial(r))
            assert abs(hermite.eta("Abs(x - 1/3)", r) - exact) < 1e-15


def test_appd_control_moves_the_odd_weights_with_tanh() -> None:
    control = _holds_with_failing_control("appD.relu", default("appD.relu").row.config)
    assert control["verdict"] == "violated"


def test_prop2_rate_control_is_no_faster_than_a_random_walk() -> None:
    """i.i.d. O(1) layer noise: the gap decays no faster than L^-1/2 (a bias of O(1) included)."""
    control = _holds_with_failing_control("prop2.rate_L", default("prop2.rate_L").row.config)
    assert control["verdict"] == "violated" and control["measured"] > -0.6


def test_prop2_width_control_grows_with_m_without_the_width_factors() -> None:
    config = default("prop2.width_m").row.config
    control = _control(catalog["prop2.width_m"], config)
    assert control.verdict == "violated" and control.measured > 0.5


def test_thm4_control_has_no_limit_with_iid_layers() -> None:
    config = dataclasses.replace(default("thm4.limit").row.config, depths=(4, 8, 16, 32), T=0.5)
    control = _control(catalog["thm4.limit"], config)
    assert control.failed and abs(control.measured) < 0.3  # O(1) distance at every depth


def test_a_control_whose_descent_leaves_the_flow_shows_no_power(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A gradient-flow statement's control run at the edge of stability fails for the optimizer's
    reason, not the claim's: it is n/a, so the check's power is not shown (inconclusive)."""
    import numerics.checks as checks

    real = checks._flow_tracking
    stub = (None, "gradient descent tracks the flow (stub: eta lambda_max = 2)")
    monkeypatch.setattr(checks, "_flow_tracking",
                        lambda st, cfg: stub if cfg.init == "iid" else real(st, cfg))
    config = default("prop3.rate_L").row.config
    result = run_check("prop3.rate_L", config)
    assert result.control is not None and result.control["verdict"] == "n/a"
    assert result.verdict == "inconclusive" and "power is not shown" in result.verdict_rule
