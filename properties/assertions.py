"""Assertion helpers of the property suite: the check contract, verdicts, reproducible failures.

A failing property reports the statement id, the configuration (the fields that differ from
:class:`theory.config.Config`'s defaults), measured, bound and their ratio, and a command that
reruns the case: the configuration is written as JSON (``Config.to_dict()``) under
``.hypothesis/failures/`` (git-ignored) and the message carries
``resnet-ode check ID --config FILE``, which reruns exactly that case wherever the property called
:func:`numerics.checks.run_check`; a property that measures something else (an autograd norm, a
permuted loss) prints the pytest node id instead (the ``ci`` profile is derandomized, so the node
id reruns it exactly; under ``thorough`` Hypothesis prints a ``@reproduce_failure`` blob).

:func:`find_any` and :func:`assert_all_examples` test the strategies themselves (after
Hypothesis' own ``tests/common/debug.py``).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from hypothesis import (
    Phase,
    currently_in_test_context,
    event,
    find,
    given,
    note,
    settings,
    target,
)
from hypothesis import strategies as st

from numerics.checks import run_check
from numerics.rates import RateFit
from theory import tolerance
from theory.catalog import CheckResult, Statement, catalog
from theory.config import Config
from theory.verdicts import Facts, classify

FAILURES = Path(os.environ.get("RESNET_ODE_FAILURES_DIR")
                or Path(__file__).resolve().parents[1] / ".hypothesis" / "failures")
"""Where failing configurations are saved (git-ignored; ``RESNET_ODE_FAILURES_DIR`` moves it)."""
_DEFAULTS = Config().to_dict()
T = TypeVar("T")


def family_ids(*families: str, rates: bool | None = None) -> list[str]:
    """The catalog ids of the given families (the S-numbers of docs/statements.md), in the
    paper's order (``rates``: only the rate checks, or none of them)."""
    ids = [s.id for s in catalog.values() if s.family in families
           and (rates is None or (s.kind == "rate") == rates)]
    if not ids:
        raise AssertionError(f"no catalog statement in families {families}")
    return ids


def changed_fields(config: Config) -> dict[str, Any]:
    """The fields of ``config`` that differ from the defaults (the minimal description)."""
    return {k: v for k, v in config.to_dict().items() if v != _DEFAULTS[k]}


def save_case(statement_id: str, config: Config) -> Path:
    """Write ``config`` as JSON under :data:`FAILURES` (named by content) and return the path."""
    text = json.dumps(config.to_dict(), indent=1, sort_keys=True)
    digest = hashlib.sha1(f"{statement_id}\n{text}".encode()).hexdigest()[:12]
    FAILURES.mkdir(parents=True, exist_ok=True)
    path = FAILURES / f"{statement_id}-{digest}.json"
    path.write_text(text + "\n", encoding="utf-8")
    return path


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _ratio(measured: float | None, bound: float | None, log10_bound: float | None) -> str:
    if measured is None:
        return "n/a"
    if bound not in (None, 0):
        return f"{measured / bound:.6g}"
    if log10_bound is not None and measured > 0:
        return f"10^{math.log10(measured) - log10_bound:.6g}"
    return "n/a"


def fail_case(statement_id: str, config: Config, *, what: str, measured: float | None,
              bound: float | None, relation: str = "<=", log10_bound: float | None = None,
              exact: bool = True, details: str = "") -> NoReturn:
    """Raise an AssertionError reporting one failing case, its saved configuration and the command
    that reruns it (``exact``: the CLI check reruns exactly what the property measured)."""
    __tracebackhide__ = True
    path = _relative(save_case(statement_id, config))
    check = f"resnet-ode check {statement_id} --config {path}"
    if exact:
        rerun = check
    else:
        node = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0]
        rerun = (f"python -m pytest '{node}'  (this property measured it; `{check}` runs the "
                 "statement's own check on the same configuration)")
    shown_bound = bound if bound is not None or log10_bound is None else f"10^{log10_bound:.6g}"
    lines = [f"{statement_id} [{catalog[statement_id].paper_ref}] fails: {what}",
             f"  measured: {measured!r}",
             f"  bound:    {shown_bound!r} (measured {relation} bound required; "
             f"measured/bound = {_ratio(measured, bound, log10_bound)})",
             f"  config:   {json.dumps(changed_fields(config), sort_keys=True)}",
             f"  saved:    {path}", f"  rerun:    {rerun}"]
    if details:
        lines.append(f"  details:  {details}")
    raise AssertionError("\n".join(lines))


def _note(text: str) -> None:
    if currently_in_test_context():
        note(text)


def _event(text: str) -> None:
    if currently_in_test_context():
        event(text)


def _target(value: float, label: str) -> None:
    if currently_in_test_context():
        target(value, label=label)


# --------------------------------------------------------------------------- run_check contract


def verdict_basis(statement: Statement, result: CheckResult) -> str | None:
    """What an applicable verdict rests on, by statement kind (None: nothing, a contract breach):
    a bound (possibly only as its log10, or log10 log10, beyond the float range) for "bound" and
    "probability" statements, a fitted rate with its interval for "rate" ones, a measured value
    for "identity" and "experiment" ones."""
    extra = result.extra
    if statement.kind in ("bound", "probability"):
        for key in ("log10_bound", "log10_log10_bound"):
            if result.bound is None and extra.get(key) is not None:
                return key
        return "bound" if result.bound is not None else None
    if statement.kind == "rate":
        rate = extra.get("rate")
        return "rate" if rate is not None and len(rate.get("interval", ())) == 2 else None
    return "measured" if result.measured is not None else None


def assert_contract(statement: Statement, config: Config, result: CheckResult) -> None:
    """The result's scope is the statement's for ``config``; a paper-scope result is applicable
    exactly where the predicate names no failed assumption and no measured precondition fails
    (named "measured: ...", after the predicate's), and then has a verdict (``holds`` a boolean
    unless inconclusive) and what it rests on (:func:`verdict_basis`); a non-applicable one has no
    verdict and names exactly the assumptions that fail.  A beyond-scope result names
    the assumptions it goes beyond, is never violated, and ``holds`` is None (it tests no
    statement of the paper)."""
    __tracebackhide__ = True
    scope, failed, _ = statement.scope(config)
    if scope == "paper":  # measured preconditions ("measured: ...", numerics.tracking) follow
        failed = failed + [a for a in result.failed_assumptions[len(failed):]
                           if a.startswith("measured: ")]
    problems = []
    if result.scope != scope:
        problems.append(f"scope {result.scope} but the statement's is {scope}")
    if scope == "beyond":
        if result.applicable or result.holds is not None or result.verdict == "violated":
            problems.append(f"beyond-scope with applicable={result.applicable}, "
                            f"holds={result.holds!r}, verdict {result.verdict}")
        if result.failed_assumptions != failed:
            problems.append(f"names {result.failed_assumptions} but the predicate fails {failed}")
    elif result.applicable != (not failed):
        problems.append(f"applicable={result.applicable} but the predicate fails {failed}")
    elif result.applicable:
        if not isinstance(result.holds, bool) and result.verdict != "inconclusive":
            problems.append(f"applicable without a verdict (holds={result.holds!r})")
        if verdict_basis(statement, result) is None:
            problems.append(f"applicable {statement.kind} check without a bound, rate or "
                            f"measurement (bound={result.bound}, measured={result.measured})")
    else:
        if result.holds is not None:
            problems.append(f"not applicable but holds={result.holds!r}")
        names = result.failed_assumptions
        if not names or not all(isinstance(s, str) and s.strip() for s in names):
            problems.append(f"not applicable without a named assumption: {names!r}")
        if names != failed:
            problems.append(f"names {names} but the predicate fails {failed}")
    if problems:
        fail_case(statement.id, config, what="check contract: " + "; ".join(problems),
                  measured=result.measured, bound=result.bound, relation=statement.relation)


def checked(statement_id: str, config: Config) -> CheckResult:
    """:func:`numerics.checks.run_check` with the contract asserted and the case noted."""
    __tracebackhide__ = True
    statement = catalog[statement_id]
    _note(f"{statement_id}: config {json.dumps(changed_fields(config), sort_keys=True)}")
    result = run_check(statement_id, config, control=False)  # the property: never violated
    _note(f"{statement_id}: applicable={result.applicable} holds={result.holds} "
          f"measured={result.measured} bound={result.bound} "
          f"failed={result.failed_assumptions}")
    _event(f"{statement_id}: " + ("applicable" if result.applicable else "not applicable"))
    assert_contract(statement, config, result)
    return result


def assert_holds(result: CheckResult, config: Config, tag: str = "") -> None:
    """Where the statement applies, its check holds; ``target`` pushes toward small slack
    (``tag`` tells apart several checks of one test case)."""
    __tracebackhide__ = True
    if not result.applicable:
        return
    if result.slack_log10 is not None:
        _target(-result.slack_log10, label=f"{result.id} -slack_log10{tag}")
    if result.verdict == "vacuous":
        _event(f"{result.id}: vacuous ({result.verdict_rule.split(' (')[0]})")
    if result.verdict == "violated":
        statement = catalog[result.id]
        fail_case(result.id, config, what=statement.formula, measured=result.measured,
                  bound=result.bound, relation=statement.relation,
                  log10_bound=result.extra.get("log10_bound"), details=result.notes)


def assert_rate(result: CheckResult, config: Config, key: str = "rate", *,
                exact: bool = False) -> None:
    """The rate fit ``result.extra[key]`` is not violated under the statement's acceptable
    region, as :func:`theory.verdicts.classify` decides (the t interval over per-seed slopes
    disjoint from the region); an inconclusive fit is an event, not a failure; a vacuous fit
    (every seed identically 0, or fewer than 5 non-null seeds or
    4 grid points) has no power: it is recorded as a Hypothesis event, never as a pass.
    ``exact``: the rate is the verdict of the statement's own check (so ``resnet-ode check``
    reruns it)."""
    __tracebackhide__ = True
    statement = catalog[result.id]
    r = result.extra[key]
    fit = RateFit(tuple(r["depths"]), r["slope"], tuple(r["interval"]), statement.rate_window,
                  r["seeds"], r.get("null_seeds", 0),
                  per_seed=tuple(float(v) for v in r.get("per_seed", ())))
    verdict = classify(Facts(fit.slope, rate=fit))
    _note(f"{result.id} {key}: slope {fit.slope} interval {fit.interval} depths {fit.depths} "
          f"seeds {fit.seeds}: {verdict.cls} ({verdict.rule})")
    if verdict.cls in ("vacuous", "inconclusive"):  # no power, or undecided: not a pass
        _event(f"{result.id} {key}: {verdict.cls} ({verdict.rule.split(':')[0]})")
        return
    if math.isfinite(fit.interval[0]) and all(map(math.isfinite, statement.rate_window or ())):
        _target(-abs(fit.slope - sum(statement.rate_window or (0, 0)) / 2),
                label=f"{result.id} {key} -|slope - centre|")
    if verdict.cls == "violated":
        fail_case(result.id, config, measured=fit.slope, bound=None,
                  what=f"log-log slope ({key}): {verdict.rule}", relation="in", exact=exact,
                  details=f"depths {fit.depths}, {fit.seeds} seeds")


def assert_leq(statement_id: str, config: Config, measured: float, bound: float, *,
               what: str, label: str) -> None:
    """``measured <= bound`` up to float64 rounding (:mod:`theory.tolerance`), for a property
    that measured ``measured`` itself; records measured/bound with ``target``."""
    __tracebackhide__ = True
    _note(f"{label}: measured {measured!r} bound {bound!r}")
    if bound > 0 and math.isfinite(bound) and measured >= 0:
        _target(measured / bound, label=label)
    if not tolerance.leq(measured, bound, "float64"):
        fail_case(statement_id, config, what=what, measured=measured, bound=bound, exact=False)


# --------------------------------------------------------------------------- meta-testing


def find_any(strategy: st.SearchStrategy[T], condition: Callable[[T], bool], *,
             max_examples: int = 500) -> T:
    """An example of ``strategy`` satisfying ``condition`` (the strategy reaches that region);
    raises ``hypothesis.errors.NoSuchExample`` otherwise.  No shrinking: any example will do."""
    return find(strategy, condition, settings=settings(
        max_examples=max_examples, database=None, phases=(Phase.explicit, Phase.generate)))


def assert_all_examples(strategy: st.SearchStrategy[T], predicate: Callable[[T], bool], *,
                        max_examples: int = 100) -> None:
    """Every example drawn from ``strategy`` satisfies ``predicate``."""

    @settings(max_examples=max_examples, database=None)
    @given(strategy)
    def run(value: T) -> None:
        assert predicate(value), f"{predicate.__name__} fails for {value!r}"

    run()

