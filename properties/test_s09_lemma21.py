"""S9, Lemma 21: P(smin(sigma(W X)) < sqrt(m) |eta_r| / 4) <= delta, by Monte Carlo.

``run_check`` draws W (m x d Gaussian) and X (d x n, unit columns) ``trials`` times and compares
the failure frequency with delta through a 95% Clopper-Pearson interval (its lower end must not
exceed delta); the strategy reaches delta < 1 (wide layers, n <= 2, d >= 9), where the lemma says
something.  The threshold the check used must be sqrt(m) |eta_r| / 4 with eta_r computed here by
an independent computation (:func:`properties.references.eta_reference`: numpy Gauss-Hermite,
against theory.hermite's mpmath Gauss-Legendre), so a wrong Hermite coefficient or index fails.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings, target

from properties.assertions import assert_holds, checked, fail_case, family_ids
from properties.references import eta_reference
from properties.strategies import MEETING, examples, lemma21_configs
from theory.config import Config

FAMILIES = ("S9",)


@pytest.mark.parametrize("statement_id", family_ids(*FAMILIES))
@settings(max_examples=examples(12))
@given(config=lemma21_configs())
def test_check_holds(statement_id: str, config: Config) -> None:
    result = checked(statement_id, config)
    assert_holds(result, config)


@settings(max_examples=examples(6))
@given(config=lemma21_configs(MEETING))
def test_threshold_uses_the_hermite_coefficient(config: Config) -> None:
    result = checked("lemma21.smin", config)
    r = int(result.extra["inputs"]["r"])
    expected = math.sqrt(config.m) * abs(eta_reference(config.activation, r)) / 4
    measured = result.extra["values"]["threshold"]
    target(result.extra["values"]["fail_freq"], label="failure frequency")
    if not math.isclose(measured, expected, rel_tol=1e-8):
        fail_case("lemma21.smin", config, what=f"threshold sqrt(m) |eta_{r}| / 4 (eta_{r} by "
                  "independent computation)", measured=measured, bound=expected, relation="==")
