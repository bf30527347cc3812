"""S8, Lemma 20: P(||W||_F > M_W sqrt(qm)) <= exp(-(M_W^2 - 1) qm / 16) for M_W >= sqrt 2.

||W||_F^2 is chi-square with qm degrees of freedom, so the tail is exact: the mpmath tail of
:mod:`theory.lemmas` must equal scipy's chi-square survival function (an independent
implementation) and stay below the bound.  The Chernoff bound exp(-k (u - log(1 + u)) / 2),
u = M_W^2 - 1, proves the bound for every M_W above :func:`theory.lemmas.lemma20_breakdown`
(~1.1396), so the property asserts it there too (stronger than the lemma's sqrt 2); below, the
bound fails for large qm (a finding, checked at one point).  Monte Carlo draws of the matrix must
bracket the exact tail within a Clopper-Pearson interval (alpha = 1e-6: a false alarm once in a
million examples), and ``run_check`` (its own Monte Carlo, 95% interval) holds where M_W >= sqrt 2.
"""

from __future__ import annotations

import math

import mpmath
import pytest
from hypothesis import given, settings, target
from scipy import stats

from numerics.sampling import exceedance, sample_frobenius_sq
from properties.assertions import assert_holds, checked, fail_case, family_ids
from properties.strategies import examples, lemma20_configs
from theory import lemmas
from theory.config import Config

FAMILIES = ("S8",)
ALPHA = 1e-6


@settings(max_examples=examples(40))
@given(config=lemma20_configs())
def test_exact_tail_is_the_chi_square_tail_and_below_the_bound(config: Config) -> None:
    q, m, M_W = config.q, config.m, config.M_W
    exact = lemmas.lemma20_exact_tail(q, m, M_W)
    reference = stats.chi2.sf(M_W**2 * q * m, q * m)
    if reference > 1e-280 and not math.isclose(float(exact), reference, rel_tol=1e-9):
        fail_case("lemma20.gaussian_norm", config, what="mpmath tail = scipy chi2.sf",
                  measured=float(exact), bound=reference, relation="==", exact=False)
    bound = lemmas.lemma20_bound(q, m, M_W)
    target(float(mpmath.log10(exact / bound)) if exact > 0 else -400.0, label="log10 tail/bound")
    if M_W >= lemmas.lemma20_breakdown() and not exact <= bound * (1 + mpmath.mpf("1e-25")):
        fail_case("lemma20.gaussian_norm", config, what="P(||W||_F > M_W sqrt(qm)) <= "
                  "exp(-(M_W^2 - 1) qm / 16) (M_W above the Chernoff breakdown)",
                  measured=float(exact), bound=float(bound), exact=False)


def test_bound_fails_below_the_breakdown() -> None:
    """M_W = 1.1 < 1.1396: the exact tail exceeds the bound once qm is large (finding)."""
    assert lemmas.lemma20_exact_tail(100, 100, 1.1) > lemmas.lemma20_bound(100, 100, 1.1)


@settings(max_examples=examples(8))
@given(config=lemma20_configs())
def test_monte_carlo_brackets_the_exact_tail(config: Config) -> None:
    q, m, M_W = config.q, config.m, config.M_W
    samples = sample_frobenius_sq(q, m, config.trials, config.seed)
    ex = exceedance(samples, M_W**2 * q * m, alpha=ALPHA)
    exact = float(lemmas.lemma20_exact_tail(q, m, M_W))
    if not ex.lo <= exact <= ex.hi:
        fail_case("lemma20.gaussian_norm", config, measured=ex.freq, bound=exact, relation="~",
                  what=f"Monte Carlo frequency {ex.k}/{ex.N}: its {1 - ALPHA} Clopper-Pearson "
                  f"interval [{ex.lo:.4g}, {ex.hi:.4g}] must contain the exact tail",
                  exact=False)


@pytest.mark.parametrize("statement_id", family_ids(*FAMILIES))
@settings(max_examples=examples(8))
@given(config=lemma20_configs())
def test_check_holds(statement_id: str, config: Config) -> None:
    assert_holds(checked(statement_id, config), config)
