"""Every catalog statement runs end to end on a tiny configuration and yields a valid record."""

from __future__ import annotations

import dataclasses
import json

import jsonschema
import pytest

from numerics.checks import run_check
from reports.schema import CHECK
from theory.catalog import catalog
from theory.config import Config
from theory.errors import ConfigError

TINY = Config(n=6, d=2, d_out=2, q=4, m=3, L=4, T=0.2, eta=0.05, activation="tanh",
              clip="coord", depths=(4, 8, 16, 32), seeds=(0, 1), trials=50, epochs=1, subset=32,
              data="sphere")


@pytest.mark.parametrize("statement_id", list(catalog))
def test_every_statement_checks(statement_id: str) -> None:
    result = run_check(statement_id, TINY)
    record = json.loads(json.dumps(result.to_dict(), allow_nan=False, default=str))
    jsonschema.validate(record, CHECK)
    assert result.applicable == (not result.failed_assumptions)
    assert (result.holds is None) == (not result.applicable)
    stated = catalog[statement_id].assumptions(TINY)
    assert result.failed_assumptions[:len(stated)] == stated
    # beyond the configuration's assumptions, only measured preconditions (named as such)
    assert all(a.startswith("measured: ") for a in result.failed_assumptions[len(stated):])


def test_non_applicable_statement_names_its_assumption() -> None:
    result = run_check("prop3.bounded", Config(n=6, d=2, d_out=2, q=4, m=3, L=4, T=0.2,
                                               eta=0.05, clip="none"))
    assert not result.applicable
    assert "clipped flow (clip != none)" in result.failed_assumptions
    assert result.holds is None


def test_checks_that_cannot_fail_are_vacuous_not_holds() -> None:
    """The verdict classes (issue "Verdicts that tell"): Proposition 7's bound past the float
    range, Lemma 21's delta >= 1 and Proposition 2's C above the a-priori bound of the gap are
    vacuous, with the rule named; never "holds"."""
    small = Config(n=8, d=2, d_out=2, q=4, m=4, L=8, T=0.2, eta=0.05, activation="tanh",
                   clip="coord", data="sphere")
    successive = run_check("prop3.successive", small)
    assert (successive.verdict, successive.holds) == ("vacuous", True)
    assert "float range" in successive.verdict_rule
    smin = run_check("lemma21.smin", dataclasses.replace(small, trials=50))
    assert smin.bound >= 1 and smin.verdict == "vacuous" and "probability" in smin.verdict_rule
    euler = run_check("prop2.euler", dataclasses.replace(small, depths=(8, 16)))
    assert euler.verdict == "vacuous" and "a-priori" in euler.verdict_rule
    assert euler.bound > euler.extra["a_priori"] > euler.measured


def test_a_configuration_that_cannot_fit_is_refused_before_any_allocation() -> None:
    """Issue 17: {"L": 10^9} grew to 16 GB before failing; the estimate refuses it at once, and
    the estimate is the weights' bytes counted by hand (A, B, 2 q m per layer, float64)."""
    from numerics.checks import MEMORY_FACTOR, memory_estimate

    c = Config(n=4, d=2, d_out=3, q=5, m=7, L=10, depths=(10,), seeds=(0, 1))
    weights = (5 * 2 + 5 * 3 + 2 * 10 * 5 * 7) * 8
    hidden = 4 * 5 * 11 * 8
    assert memory_estimate(c) == 2 * (MEMORY_FACTOR * weights + 2 * hidden)
    with pytest.raises(ConfigError, match="GiB, more than half"):
        run_check("prop3.bounded", dataclasses.replace(TINY, L=10**9))


def test_every_check_measures_with_the_declared_thread_count(monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    """`report` and `check` give the same numbers because run_check measures with THREADS
    intra-op threads whatever the caller set (restored afterwards)."""
    import torch

    import numerics.checks as checks
    from numerics.device import THREADS

    seen = []
    real = checks.measure

    def spy(sid: str, config: Config) -> object:
        seen.append(torch.get_num_threads())
        return real(sid, config)

    monkeypatch.setattr(checks, "measure", spy)
    before = torch.get_num_threads()
    torch.set_num_threads(THREADS + 1)
    try:
        run_check("lemma20.gaussian_norm", TINY)  # the check and its negative control
        assert torch.get_num_threads() == THREADS + 1
    finally:
        torch.set_num_threads(before)
    assert seen == [THREADS, THREADS]


def test_each_numerics_module_measures_one_statement_family() -> None:
    """Issue 27's rule: a module under numerics/ holds the measurements of one family only
    (read from where each statement's bound measurement is defined, through partials)."""
    families: dict[str, set[str]] = {}
    for st in catalog.values():
        fn = st.measure
        while hasattr(fn, "func"):  # functools.partial
            fn = fn.func
        assert fn is not None and fn.__module__.startswith("numerics."), st.id
        families.setdefault(fn.__module__, set()).add(st.family)
    assert {m: f for m, f in families.items() if len(f) > 1} == {}
