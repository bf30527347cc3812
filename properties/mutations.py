"""Mutation check of the property suite: weaken a bound or break a computation, see what fails.

::

    python -m properties.mutations [--only NAME,...] [--list] [--tests] [--json FILE]

Each mutation replaces a function, method, constant or mapping entry (``module:qualname``, or
``module:qualname[key]`` for an entry such as a catalog Statement, replaced with
``dataclasses.replace``; several targets joined by " + ") of ``theory`` or ``numerics`` by a wrong
variant, inside a pytest subprocess only: this module is also a pytest plugin
(``-p properties.mutations``) that applies the mutation named by ``RESNET_ODE_MUTATION`` at
``pytest_configure``, before any test module is imported, and rebinds every alias already imported
(``from module import name``; not for a number, ``rebind=False``, whose identity is no alias).
No source file is edited.  The subprocess runs ``properties/``
(and, with ``--tests``, the unit tests of ``tests/`` listed for the mutation) under the ``ci``
profile without shrinking (a failure is all that is asked), and the plugin records the node ids
that fail.  A baseline run without mutation must pass first.

Each mutation is classed from the exception of every failing test, read by the plugin's
``pytest_runtest_makereport`` hook: **caught** when an assertion failed (an AssertionError,
``pytest.fail`` or ``pytest.raises``' "DID NOT RAISE", a Hypothesis falsifying example of one of
these, also inside an exception group); **crashed** when tests failed but none on an assertion
(another exception: a TypeError from a None where a string was expected, an error in setup or
collection), listed apart with the exception's name, since a crash is not evidence that a test
checks the value; **missed** otherwise.  The table printed at the end gives, per mutation, its
class, the property tests and unit tests whose assertions caught it and the crashed tests, then
the counts and the run time.  Where a bound is vacuous (10^(10^k): weakening it by a constant
cannot be seen by any measurement) the unit test that evaluates its formula independently
(tests/test_vacuous_formulas.py) is what catches it; the acceptance regions and thresholds of
issue 28 are caught by tests/test_mutations_catalog.py (hand-built intervals, a hand-made
Theorem 6 run).  ``--tests-only`` runs the unit tests alone (minutes instead of hours: the
property suite takes tens of minutes per mutation on 2 shared cores).
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import importlib
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ENV = "RESNET_ODE_MUTATION"
REPORT_ENV = "RESNET_ODE_MUTATION_REPORT"
ROOT = Path(__file__).resolve().parents[1]

Factory = Callable[[Any], Any]  # the original object -> its mutant


@dataclasses.dataclass(frozen=True)
class Mutation:
    """One deliberate bug: ``target`` ("module:qualname", "module:qualname[key]" for a mapping's
    entry, or several joined by " + " with one factory each) becomes ``mutate(original)``."""

    name: str
    target: str
    description: str
    mutate: Factory | tuple[Factory, ...]  # one per target where target names several
    tests: tuple[str, ...] = ()  # unit tests of tests/ expected to notice it too
    env: tuple[tuple[str, str], ...] = ()  # environment of the pytest subprocess
    rebind: bool = True  # rebind the modules' aliases (False for a number: 3 is 3 everywhere)


def _scaled_result(key: str, factor: float) -> Factory:
    """Wrap a function returning a dict: multiply entry ``key`` by ``factor``."""
    def mutate(original: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
        def mutant(*args: Any, **kwargs: Any) -> dict[str, Any]:
            out = dict(original(*args, **kwargs))
            out[key] = out[key] * factor
            return out
        return mutant
    return mutate


def _scaled(factor: float) -> Factory:
    def mutate(original: Callable[..., Any]) -> Callable[..., Any]:
        def mutant(*args: Any, **kwargs: Any) -> Any:
            return original(*args, **kwargs) * factor
        return mutant
    return mutate


def _drop_exp_alpha_T(original: Callable[..., float]) -> Callable[..., float]:
    """(gap0 + beta T / L) e^{alpha T} -> gap0 + beta T / L."""
    def mutant(init_gap: float, L: int, constants: dict[str, float], T: float) -> float:
        return original(init_gap, L, {**constants, "alpha": 0.0}, T)
    return mutant


def _scaled_gradient(block: str, factor: float | str) -> Factory:
    """Multiply one gradient of Workspace.compute by ``factor`` ("L": the depth); a fused step
    on Z (``compute(step)``) is taken here with the mutated gradients, after the sweeps."""
    def mutate(original: Callable[..., Any]) -> Callable[..., Any]:
        def compute(self: Any, step: float = 0.0) -> Any:
            loss, grads = original(self)
            f = self.params.L if factor == "L" else factor
            target = grads.A if block == "A" else grads.Z[0 if block == "V" else 1]
            target.mul_(f)
            if step:
                for z, g in zip(self.params.Z, grads.Z, strict=True):
                    z.add_(g, alpha=step)
            return loss, grads
        return compute
    return mutate


def _forward_without_one_over_L(original: Callable[..., Any]) -> Callable[..., Any]:
    from numerics.model import batched_data

    def hidden_states(params: Any, X: Any, residual: Any) -> Any:
        import torch

        X = batched_data(params, X)
        h = X @ params.A.mT
        states = [h]
        for k in range(params.L):
            h = h + residual(h, params.layer(k))  # the bug: no 1/L
            states.append(h)
        return torch.stack(states)
    return hidden_states


def _tied_redrawn(original: Callable[..., Any]) -> Callable[..., Any]:
    """A "tied" initialization that draws every layer independently (i.i.d.)."""
    def initial_weights(s: Any, kind: str, shapes: Any, *, seed: int, ell: float = 0.2) -> Any:
        return original(s, "iid" if kind == "tied" else kind, shapes, seed=seed, ell=ell)
    return initial_weights


def _clip_coord_at_2c(original: Callable[..., None]) -> Callable[..., None]:
    def apply_pi(blocks: list[Any], clip: str, c: float, lead: int) -> None:
        original(blocks, clip, 2 * c if clip == "coord" else c, lead)
    return apply_pi


def _clip_norm_joint_frobenius(original: Callable[..., None]) -> Callable[..., None]:
    """Radial clipping by the joint Frobenius norm of the blocks, not the sum of their norms."""
    def apply_pi(blocks: list[Any], clip: str, c: float, lead: int) -> None:
        if clip != "norm":
            original(blocks, clip, c, lead)
            return
        import torch

        norm = torch.sqrt(sum((g.flatten(lead) ** 2).sum(lead) for g in blocks))
        factor = torch.clamp(c / norm, max=1.0).nan_to_num_(nan=1.0)
        for g in blocks:
            g.mul_(factor.reshape(*factor.shape, *[1] * (g.ndim - lead)))
    return apply_pi


def _lemma20_exponent_4(original: Callable[..., Any]) -> Callable[..., Any]:
    """exp(-(M_W^2 - 1) qm / 16) -> exp(-(M_W^2 - 1) qm / 4)."""
    def lemma20_bound(q: int, m: int, M_W: Any, dps: int = 40) -> Any:
        return original(q, m, M_W, dps) ** 4
    return lemma20_bound


def _misaligned_labels(original: Callable[..., Any]) -> Callable[..., Any]:
    """Labels rolled by one sample inside the batched data (a sample-order bug)."""
    def batched_data(params: Any, X: Any, name: str = "X", cols: int | None = None) -> Any:
        out = original(params, X, name, cols)
        return out.roll(1, dims=1) if name == "Y" else out
    return batched_data


def _pl_ratio_without_L(original: Callable[..., Any]) -> Callable[..., Any]:
    from numerics.gradients import loss_and_grads
    from numerics.metrics import frobenius

    def pl_ratio(params: Any, X: Any, Y: Any, residual: Any) -> Any:
        loss, g = loss_and_grads(params, X, Y, residual)
        G = (frobenius(g.A) ** 2 + frobenius(g.B) ** 2
             + sum((z.flatten(1) ** 2).sum(1) for z in g.Z))  # the bug: no factor L
        return G / loss
    return pl_ratio


def _doubling_against_S(original: Callable[..., Any]) -> Callable[..., Any]:
    """(S(T) - S(T/2)) / S(T/2): the growth over [T/2, T] relative to S, not to the previous
    increment (a bounded S growing 10% passes, a linear one fails only past S(T/2) = rise)."""
    def doubling_ratio(S_quarter: float, S_half: float, S_T: float) -> float:
        return (S_T - S_half) / S_half if S_half > 0 else 0.0
    return doubling_ratio


def _derivative_is_one(original: Callable[..., Any]) -> Callable[..., Any]:
    """sigma'(u) replaced by 1 in the explicit backward recurrences (a linearized backward)."""
    def derivative_kernel(act: Any, *, dtype: Any, device: Any) -> Any:
        return lambda u, a: u.fill_(1)
    return derivative_kernel


def _w_star_half_depth(original: Callable[[int, float], float]) -> Callable[[int, float], float]:
    """w* = 2L (C^{1/L} - 1) -> L (C^{1/L} - 1)."""
    def w_star(L: int, C: float) -> float:
        return L * math.expm1(math.log(C) / L)
    return w_star


def _m_min_over_10(original: Any) -> Any:
    return original / 10


def _interval_ignored(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """The rate rule on the point estimate alone (the interval collapsed onto the slope)."""
    def _classify_rate(rate: Any) -> Any:
        return original(dataclasses.replace(rate, interval=(rate.slope, rate.slope)))
    return _classify_rate


def _a_priori_ignored(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """The comparison rule without the a-priori-bound test (a bound above what the measured
    quantity reaches anyway counted as informative)."""
    def _classify_comparison(facts: Any) -> Any:
        return original(dataclasses.replace(facts, a_priori=None))
    return _classify_comparison


def _point_interval(original: Callable[..., Any]) -> Callable[..., Any]:
    """A rate fit whose interval is its point estimate (no bootstrap over seeds)."""
    def rate_fit(*args: Any, **kwargs: Any) -> Any:
        fit = original(*args, **kwargs)
        return dataclasses.replace(fit, interval=(fit.slope, fit.slope))
    return rate_fit


def _predicate_without_C2(original: Callable[[Any], list[str]]) -> Callable[[Any], list[str]]:
    """Proposition 1's predicate forgetting that sigma must be C^2 (ReLU then "applies")."""
    def wellposed_assumptions(config: Any) -> list[str]:
        return [name for name in original(config) if "C^2" not in name]
    return wellposed_assumptions


# --------------------------------------------------------------------------- issue 28, item 8:
# every acceptance region and threshold, the output-limit gaps, Table 1's power rule and
# roughness, prop2.width_m's C_emp, Proposition 5's c2, c3, c4 and delta, Lemma 21's delta and
# the convolutional residual of Section 4.3


def _constant(value: Any) -> Factory:
    """A module constant, a mapping entry or a sympy expression replaced by ``value``."""
    def mutate(original: Any) -> Any:
        return value
    return mutate


def _returns(value: Any) -> Factory:
    """A function replaced by one that returns ``value`` whatever its arguments."""
    def mutate(original: Callable[..., Any]) -> Callable[..., Any]:
        def mutant(*args: Any, **kwargs: Any) -> Any:
            return value
        return mutant
    return mutate


def _located_ignoring_falls(original: Callable[..., bool]) -> Callable[..., bool]:
    def located(t: dict[str, Any]) -> bool:
        return not t["censored"]
    return located


def _always_consistent(original: Callable[..., dict[str, Any]]
                       ) -> Callable[..., dict[str, Any]]:
    def beyond(*args: Any, **kwargs: Any) -> dict[str, Any]:
        return original(*args, **kwargs) | {"consistent": True}
    return beyond


def _no_separation(original: Callable[..., Any]) -> Callable[..., Any]:
    def separation(x: Any, k: Any, s: Any) -> Any:
        lo, hi = original(x, k, s)
        return lo * float("nan"), hi * float("nan")
    return separation


def _promote_any_check(original: Callable[..., dict[str, Any]]
                       ) -> Callable[..., dict[str, Any]]:
    def promotable(n: int, path: Any = None) -> dict[str, Any]:
        from numerics.horizon import PILOT_FILE, check_pilots

        entry = check_pilots(PILOT_FILE if path is None else path).get(n)
        return original(n, path) if entry is None else dict(entry)
    return promotable


def _plain_imports_only(original: Callable[..., list[str]]) -> Callable[..., list[str]]:
    def imported(node: Any, package: tuple[str, ...]) -> list[str]:
        return original(node, package) if isinstance(node, ast.Import) else []
    return imported


def _one_tracked(original: Callable[..., float]) -> Callable[..., float]:
    def cost_model(n: int, m: int, depths: Any, seeds: int = 5, cost: Any = None,
                   tracking: bool = True) -> float:
        return (original(n, m, depths, seeds, cost, tracking=False)
                + tracking * (original(n, m, depths, 1, cost)
                              - original(n, m, depths, 1, cost, tracking=False)))
    return cost_model


def _times(factor: Any) -> Factory:
    """A number or sympy expression (or a tuple of them) multiplied by ``factor``."""
    def mutate(original: Any) -> Any:
        if isinstance(original, tuple):
            return tuple(term * factor for term in original)
        return original * factor
    return mutate


def _window(region: tuple[float, float]) -> Factory:
    """A catalog Statement (a frozen dataclass) with another acceptable region."""
    def mutate(statement: Any) -> Any:
        return dataclasses.replace(statement, rate_window=region)
    return mutate


def _entry(statement_id: str) -> str:
    return f"theory.catalog:catalog._by_id[{statement_id}]"


ONE_OVER_L_IDS = ("prop2.rate_L", "prop3.rate_L", "thm4.limit", "thm6.smooth_L", "thm6.limit_L",
                  "thm6.i_AB", "thm6.iii_hidden",
                  "sec43.general", "sec43.smooth_init", "sec43.long_smooth_L",
                  "prop15.double_limit",
                  "remark1.momentum_L", "remark1.adam_L")
"""The statements whose region is theory.catalog.ONE_OVER_L (tests/test_mutations_catalog.py
checks that this list is complete)."""
LOOSE_ONE_OVER_L = (-math.inf, -0.3)


def _onset_window(original: Callable[..., Any]) -> Callable[..., Any]:
    """numerics.finite_time.onset's default window, bound from the catalog at import time."""
    def onset(depths: Any, values: Any, window: tuple[float, float] = LOOSE_ONE_OVER_L) -> Any:
        return original(depths, values, window)
    return onset


def _bound(field: str, mutate: Factory) -> Factory:
    """A catalog Statement whose bound ``measure`` or ``facts`` (theory.catalog.bind) is replaced
    by its mutant (numerics.checks imported first: it binds every statement's numerics)."""
    def statement(st: Any) -> Any:
        import numerics.checks  # noqa: F401

        return dataclasses.replace(st, **{field: mutate(getattr(st, field))})
    return statement


def _evidence_bound(bound: float) -> Factory:
    """A statement's facts (numerics: theory.catalog.bind) declaring another bound."""
    def mutate(original: Callable[..., Any]) -> Callable[..., Any]:
        def check(st: Any, c: Any, m: Any) -> Any:
            evidence = original(st, c, m)
            evidence.facts = dataclasses.replace(evidence.facts, bound=bound)
            return evidence
        return check
    return mutate


def _across_holds(original: Callable[..., str]) -> Callable[..., str]:
    """An interval across the region's edge counted inside (holds on half the evidence)."""
    def side(interval: tuple[float, float], region: tuple[float, float]) -> str:
        where = original(interval, region)
        return "inside" if where == "across" else where
    return side


def _violated_on_point(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """The former asymmetric rule: violated as soon as the point estimate is outside the region
    (an interval across the edge with its centre outside)."""
    from theory.verdicts import Verdict

    def _classify_rate(rate: Any) -> Any:
        verdict = original(rate)
        lo, hi = rate.window or (-math.inf, math.inf)
        if verdict.cls == "inconclusive" and not lo <= rate.slope <= hi:
            return Verdict("violated", verdict.rule)
        return verdict
    return _classify_rate


def _comparison_favourable_end(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A comparison with an interval decided on the interval's favourable end (an interval
    across the bound holds)."""
    def _classify_comparison(facts: Any) -> Any:
        if facts.interval is not None:
            lo, hi = facts.interval
            end = lo if facts.relation == "<=" else hi
            facts = dataclasses.replace(facts, interval=(end, end))
        return original(facts)
    return _classify_comparison


def _limit_gap_same_depth(original: Callable[..., Any]) -> Callable[..., Any]:
    """Each depth compared with itself instead of with the next depth (every gap 0)."""
    import itertools

    def limit_gaps(per_depth: list[dict[str, Any]]) -> list[list[float]]:
        return [[float(v) for v in (a["F_fresh"] - a["F_fresh"]).norm(dim=-1).amax(dim=-1)]
                for a, _ in itertools.pairwise(per_depth)]
    return limit_gaps


def _limit_gap_mean(original: Callable[..., Any]) -> Callable[..., Any]:
    """The mean over the fresh inputs instead of the max (no longer uniform in x)."""
    import itertools

    def limit_gaps(per_depth: list[dict[str, Any]]) -> list[list[float]]:
        return [[float(v) for v in (a["F_fresh"] - b["F_fresh"]).norm(dim=-1).mean(dim=-1)]
                for a, b in itertools.pairwise(per_depth)]
    return limit_gaps


def _c_emp_per_sqrt_m(original: Callable[..., Any]) -> Callable[..., Any]:
    """C_emp(m) divided by sqrt(m / m_min): a width normalization that flattens the slope by
    0.5 (a C_emp growing like sqrt(m) would pass)."""
    def measure_prop2_width_m(config: Any) -> Any:
        m = original(config)
        widths = m.series["m"]
        m.series["C_emp"] = [[v / math.sqrt(w / widths[0]) for v in row]
                             for w, row in zip(widths, m.series["C_emp"], strict=True)]
        return m
    return measure_prop2_width_m


def _unnormalized_roughness(original: Callable[..., Any]) -> Callable[..., Any]:
    """mean_k ||w_(k+1) - w_k|| without the random-order normalization."""
    def roughness(w: Any) -> Any:
        flat = w.detach().flatten(1).double()
        if original(w) is None:
            return None
        return float((flat[1:] - flat[:-1]).norm(dim=1).mean())
    return roughness


def _conv_without_sigma(original: Callable[..., Any]) -> Callable[..., Any]:
    """The convolutional residual with sigma dropped (a linear residual): the same forward with
    the identity activation."""
    def __call__(self: Any, h: Any, z: Any) -> Any:
        return original(dataclasses.replace(self, activation="identity"), h, z)
    return __call__


def _conv_without_one_over_L(original: Callable[..., Any]) -> Callable[..., Any]:
    """forward / hidden_states of a convolutional residual network without the 1/L (model (3)'s
    MLP residual unchanged)."""
    from numerics.model import Conv

    class _Unscaled:
        def __init__(self, residual: Any, L: int) -> None:
            self.residual, self.L = residual, L

        def __call__(self, h: Any, z: Any) -> Any:
            return self.L * self.residual(h, z)

        def __getattr__(self, name: str) -> Any:
            return getattr(self.residual, name)

    def mutant(params: Any, X: Any, residual: Any) -> Any:
        if isinstance(residual, Conv):
            residual = _Unscaled(residual, params.L)
        return original(params, X, residual)
    return mutant


MUTATIONS: tuple[Mutation, ...] = (
    Mutation("K1/10", "theory.finite_time:bounds_mp", "the bound of K1 divided by 10",
             _scaled_result("K1", 0.1), ("tests/test_finite_time.py",)),
    Mutation("K2/10", "theory.finite_time:bounds_mp", "the bound of K2 divided by 10",
             _scaled_result("K2", 0.1), ("tests/test_finite_time.py",)),
    Mutation("K'/10", "theory.finite_time:bounds_mp", "the bound of K' divided by 10",
             _scaled_result("Kprime", 0.1), ("tests/test_finite_time.py",)),
    Mutation("no e^(alpha T)", "theory.finite_time:successive_bound_log10",
             "Proposition 7's bound without its factor e^{alpha T}", _drop_exp_alpha_T,
             ("tests/test_finite_time.py", "tests/test_vacuous_formulas.py")),
    Mutation("M_pi/2", "theory.finite_time:M_pi", "sup ||pi(.)|| halved (M = M0 + T M_pi)",
             _scaled(0.5), ("tests/test_finite_time.py", "tests/test_flow.py")),
    Mutation("C/10", "theory.euler:prop2_constants", "Proposition 2's constant C divided by 10",
             _scaled_result("C", 0.1),
             ("tests/test_euler_theory.py", "tests/test_vacuous_formulas.py")),
    Mutation("dl/dW x 1.01", "numerics.gradients:Workspace.compute",
             "the W gradient of the explicit recurrences 1% too large",
             _scaled_gradient("W", 1.01), ("tests/test_gradients.py",)),
    Mutation("dl/dV x L", "numerics.gradients:Workspace.compute",
             "the V gradient without its 1/L", _scaled_gradient("V", "L"),
             ("tests/test_gradients.py",)),
    Mutation("sigma' = 1", "numerics.gradients:_derivative_kernel",
             "the torch backward recurrence with sigma' replaced by 1 (the compiled sweeps of "
             "numerics.native switched off, RESNET_ODE_NATIVE=0, so that torch's runs)",
             _derivative_is_one, ("tests/test_gradients.py",), (("RESNET_ODE_NATIVE", "0"),)),
    Mutation("labels rolled", "numerics.model:batched_data",
             "labels misaligned with inputs by one sample", _misaligned_labels,
             ("tests/test_model.py", "tests/test_gradients.py")),
    Mutation("forward without 1/L", "numerics.model:hidden_states",
             "h_{k+1} = h_k + f(h_k, Z_{k+1}) (no 1/L) in the hidden states",
             _forward_without_one_over_L, ("tests/test_model.py",)),
    Mutation("tied = iid", "numerics.init:initial_weights",
             "the tied initialization drawn i.i.d. over layers", _tied_redrawn,
             ("tests/test_init.py", "tests/test_flow.py")),
    Mutation("coord clip at 2c", "numerics.flow:apply_pi",
             "coordinate clipping at 2c instead of c", _clip_coord_at_2c, ("tests/test_flow.py",)),
    Mutation("norm clip, joint norm", "numerics.flow:apply_pi",
             "norm clipping by the joint Frobenius norm, not ||V||_F + ||W||_F",
             _clip_norm_joint_frobenius, ("tests/test_flow.py",)),
    Mutation("pl_ratio without L", "numerics.pl:pl_ratio",
             "G of Definition 1 without the factor L on the layer gradients",
             _pl_ratio_without_L, ("tests/test_pl.py",)),
    Mutation("doubling ratio against S", "numerics.longtime:doubling_ratio",
             "Theorem 6 (ii)'s plateau test: the increment over [T/2, T] against S(T/2), not "
             "against the increment over [T/4, T/2]", _doubling_against_S,
             ("tests/test_longtime.py",)),
    Mutation("c1/10", "theory.pl:m_min_expr", "Proposition 5's width threshold c1 n / 10",
             _m_min_over_10, ("tests/test_pl.py",)),
    Mutation("Lemma 20 exponent /4", "theory.lemmas:lemma20_bound",
             "exp(-(M_W^2 - 1) qm / 16) -> exp(-(M_W^2 - 1) qm / 4)", _lemma20_exponent_4,
             ("tests/test_lemmas_theory.py",)),
    Mutation("Lemma 21 threshold x2", "theory.lemmas:lemma21_threshold",
             "sqrt(m) |eta_r| / 4 -> sqrt(m) |eta_r| / 2", _scaled(2.0),
             ("tests/test_lemmas_theory.py",)),
    Mutation("eta_r x 1.01", "theory.hermite:eta", "every Hermite coefficient 1% too large",
             _scaled(1.01), ("tests/test_hermite.py",)),
    Mutation("w* halved", "numerics.appd:w_star", "Appendix D's w* = L (C^{1/L} - 1)",
             _w_star_half_depth, ("tests/test_appd.py",)),
    Mutation("rate interval ignored", "theory.verdicts:_classify_rate",
             "a rate decided on its point estimate alone (the t interval not checked)",
             _interval_ignored, ("tests/test_verdicts.py",)),
    Mutation("a-priori rule dropped", "theory.verdicts:_classify_comparison",
             "a bound above the measured quantity's a-priori bound counted as informative",
             _a_priori_ignored, ("tests/test_verdicts.py",)),
    Mutation("point interval", "numerics.rates:rate_fit",
             "rate fits without a bootstrap interval (the interval is the point estimate)",
             _point_interval, ("tests/test_rates.py",)),
    Mutation("prop1 predicate without C^2", "theory.finite_time:wellposed_assumptions",
             "Propositions 1 and 3 applied to a sigma that is not C^2", _predicate_without_C2,
             ("tests/test_finite_time.py",)),
    Mutation("ONE_OVER_L edge -0.3", " + ".join(
        ["theory.catalog:ONE_OVER_L", "numerics.finite_time:onset",
         *(_entry(i) for i in ONE_OVER_L_IDS)]),
             "the 1/L region (-inf, -0.8] loosened to (-inf, -0.3] (an L^-1/2 rate passes)",
             (_constant(LOOSE_ONE_OVER_L), _onset_window,
              *(_window(LOOSE_ONE_OVER_L) for _ in ONE_OVER_L_IDS)),
             ("tests/test_mutations_catalog.py", "tests/test_verdicts.py")),
    Mutation("width_m edge 1.0", _entry("prop2.width_m"),
             "prop2.width_m's region (-inf, 0.2] loosened to (-inf, 1.0] (C ~ sqrt(m) passes)",
             _window((-math.inf, 1.0)), ("tests/test_mutations_catalog.py",)),
    Mutation("growth_T edge 0.0", _entry("prop3.growth_T"),
             "prop3.growth_T's region [0.8, inf) loosened to [0, inf) (an O(1) gap passes)",
             _window((0.0, math.inf)), ("tests/test_mutations_catalog.py",)),
    Mutation("pl_path edge -2", _entry("thm6.pl_path"),
             "thm6.pl_path's region [-0.2, inf) loosened to [-2, inf) (a plateau's 1/t passes)",
             _window((-2.0, math.inf)), ("tests/test_mutations_catalog.py",)),
    Mutation("smooth_T bound 2", _entry("thm6.smooth_T"),
             "thm6.smooth_T's doubling ratio compared with 2 instead of 1 (linear growth passes)",
             _bound("facts", _evidence_bound(2.0)), ("tests/test_mutations_catalog.py",)),
    Mutation("INTERPOLATION_LEVEL 0.1", "numerics.longtime:INTERPOLATION_LEVEL",
             "a seed interpolates when l(T) <= 0.1 l(0) instead of 1e-2 l(0)", _constant(0.1),
             ("tests/test_mutations_catalog.py", "tests/test_longtime.py")),
    Mutation("limit gap: same depth", "numerics.longtime:limit_gaps",
             "Theorem 6 (iv)'s output gap of a depth against itself (every gap 0)",
             _limit_gap_same_depth, ("tests/test_mutations_catalog.py", "tests/test_longtime.py")),
    Mutation("limit gap: mean over x", "numerics.longtime:limit_gaps",
             "Theorem 6 (iv)'s output gap averaged over the fresh inputs (no max: not uniform)",
             _limit_gap_mean, ("tests/test_mutations_catalog.py", "tests/test_longtime.py")),
    Mutation("Table 1 TRAINED_WITHIN 0.5", "numerics.table1:TRAINED_WITHIN",
             "a Table 1 run has trained within 50 points of the reference (not 5)",
             _constant(0.5), ("tests/test_realdata.py", "tests/test_mutations_catalog.py"),
             rebind=False),
    Mutation("Table 1 BRANCH_ACTS 0", "numerics.table1:BRANCH_ACTS",
             "a Table 1 residual branch acts whatever removing it costs (threshold 0, not 1 "
             "point)", _constant(0.0),
             ("tests/test_realdata.py", "tests/test_mutations_catalog.py"), rebind=False),
    Mutation("Table 1 MIN_SEEDS 1", "numerics.table1:MIN_SEEDS",
             "Table 1's contrast decided on one seed (not 3)", _constant(1),
             ("tests/test_realdata.py", "tests/test_mutations_catalog.py"), rebind=False),
    Mutation("roughness unnormalized", "numerics.realdata:roughness",
             "Table 1's roughness without its random-order normalization",
             _unnormalized_roughness, ("tests/test_realdata.py",)),
    Mutation("rate across -> holds", "theory.verdicts:side",
             "an interval across the region's edge counted inside", _across_holds,
             ("tests/test_verdicts.py",)),
    Mutation("rate violated on the point", "theory.verdicts:_classify_rate",
             "violated on the point estimate alone (an interval across the edge, centre outside)",
             _violated_on_point, ("tests/test_verdicts.py",)),
    Mutation("comparison across -> holds", "theory.verdicts:_classify_comparison",
             "a measurement's interval across the bound decided on its favourable end",
             _comparison_favourable_end, ("tests/test_verdicts.py",)),
    Mutation("verdicts MIN_SEEDS 3", "theory.verdicts:MIN_SEEDS",
             "a rate fitted on 3 seeds counted as powered (not 5)", _constant(3),
             ("tests/test_verdicts.py",), rebind=False),
    Mutation("verdicts MIN_POINTS 2", "theory.verdicts:MIN_POINTS",
             "a rate fitted on 2 grid points counted as powered (not 4)", _constant(2),
             ("tests/test_verdicts.py",), rebind=False),
    Mutation("C_emp / sqrt(m)", _entry("prop2.width_m"),
             "prop2.width_m's C_emp(m) divided by sqrt(m / m_min)",
             _bound("measure", _c_emp_per_sqrt_m),
             ("tests/test_mutations_catalog.py",)),
    Mutation("c2/10", "theory.pl:c2_expr + theory.pl:L_min_expr",
             "Proposition 5's depth threshold c2 sqrt(nq) / 10", (_times(0.1), _times(0.1)),
             ("tests/test_pl.py", "tests/test_derivations.py")),
    Mutation("c3/10", "theory.pl:c3_expr + theory.pl:M_expr + "
             "theory.long_time:label_threshold_expr",
             "Proposition 5's radius c3 / 10 (M = c3 / sqrt(nq))",
             (_times(0.1), _times(0.1), _times(0.01)),
             ("tests/test_pl.py", "tests/test_derivations.py")),
    Mutation("c4/10", "theory.pl:c4_expr + theory.pl:mu_expr + "
             "theory.long_time:label_threshold_expr",
             "Proposition 5's PL constant c4 / 10 (mu = c4 / (n sqrt(nq)))",
             (_times(0.1), _times(0.1), _times(0.01)),
             ("tests/test_pl.py", "tests/test_derivations.py")),
    Mutation("Prop 5 delta x 10", "theory.pl:delta_terms_expr",
             "each term of Proposition 5's failure probability delta multiplied by 10",
             _times(10), ("tests/test_pl.py", "tests/test_derivations.py")),
    Mutation("Lemma 21 delta x 10", "theory.lemmas:lemma21_delta",
             "Lemma 21's failure probability delta multiplied by 10", _scaled(10.0),
             ("tests/test_lemmas_theory.py",)),
    Mutation("conv residual without sigma", "numerics.model:Conv.__call__",
             "Section 4.3's convolutional residual with sigma dropped (linear)",
             _conv_without_sigma, ("tests/test_model.py", "tests/test_gradients.py")),
    Mutation("conv forward without 1/L", "numerics.model:forward + numerics.model:hidden_states",
             "a convolutional residual network's forward without its 1/L (model (3) unchanged)",
             (_conv_without_one_over_L, _conv_without_one_over_L),
             ("tests/test_model.py", "tests/test_mutations_catalog.py")),
    Mutation("width: monotone test off", "numerics.transition:monotone_p",
             "the width thresholds' premise test always passes (p = 1: a fraction that falls "
             "with m is fitted as a transition)", _returns(1.0),
             ("tests/test_transition.py", "tests/test_width_analysis.py",
              "tests/test_thresholds.py")),
    Mutation("width: falling located", "numerics.transition:located",
             "a threshold whose fraction falls with m counted as located (kept in the power fit)",
             _located_ignoring_falls, ("tests/test_width_analysis.py",)),
    Mutation("width: beyond consistent", "numerics.transition:beyond",
             "a censored threshold always consistent with the power law's prediction",
             _always_consistent, ("tests/test_transition.py",)),
    Mutation("width: HORIZON_FACTOR 1", "numerics.horizon:HORIZON_FACTOR",
             "the width study's horizon T(n) = t_knee(n), not 2 t_knee(n)", _constant(1.0),
             ("tests/test_horizon.py",), rebind=False),
    Mutation("width: separated at the centre", "numerics.transition:separation",
             "a bootstrap replicate whose outcomes separate completely between two widths put at "
             "the bracket's centre (an interval of a few grid steps where the data leave the "
             "bracket open)", _no_separation, ("tests/test_transition.py",)),
    Mutation("width: promote any check", "numerics.horizon:promotable",
             "a check pilot of another network (not m = 4 n, L = 8, the pilot seeds) promoted "
             "to the rule's pilot", _promote_any_check, ("tests/test_horizon.py",)),
    Mutation("width: rounding unperturbed", "reports.sweep.width_rounding:DELTA",
             "the rounding check's reruns with the labels as drawn (1 + 0), so that nothing can "
             "move", _constant(0.0), ("tests/test_width_rounding.py",), rebind=False),
    Mutation("sweep: checkpoints off", "numerics.flow:checkpointing",
             "the sweep task's trainings never checkpoint, so that a task killed midway starts "
             "over", _returns({}), ("tests/test_thresholds.py",)),
    Mutation("resume: from-imports not followed", "reports.resume:_imported",
             "a sweep task's code version leaves out the modules it imports with 'from a import "
             "b', so that an edit of them keeps stale results and checkpoints",
             _plain_imports_only, ("tests/test_module_sources.py",)),
    Mutation("width cost: one network tracked", "reports.sweep.width:cost_model",
             "the cost model charges the flow tracking for one network, not every seed of the "
             "point (the tracking term off up to 5x at large n m)", _one_tracked,
             ("tests/test_width_cost.py",)),
    Mutation("width readmes: edge of stability", "reports.sweep.width_readmes:DAMPING_EDGE",
             "the data READMEs count a step as damped up to eta lambda_max = 2 (the edge of "
             "stability), not 1 + W(1/e)", _constant(2.0), ("tests/test_width_readmes.py",),
             rebind=False),
)
BY_NAME = {m.name: m for m in MUTATIONS}


# --------------------------------------------------------------------------- the plugin


def _resolve(target: str) -> tuple[Any, str, Any]:
    """(owner, attribute or key, original) of "module:qualname" or "module:qualname[key]" (an
    entry of a mapping: the owner is the mapping)."""
    module_name, _, qualname = target.partition(":")
    key = None
    if qualname.endswith("]"):
        qualname, _, key = qualname[:-1].partition("[")
    owner: Any = importlib.import_module(module_name)
    *path, attribute = qualname.split(".")
    for part in path:
        owner = getattr(owner, part)
    if key is not None:
        owner = getattr(owner, attribute)
        return owner, key, owner[key]
    return owner, attribute, getattr(owner, attribute)


def targets(mutation: Mutation) -> list[tuple[str, Factory]]:
    """(target, factory) pairs of ``mutation``."""
    names = [t.strip() for t in mutation.target.split(" + ")]
    factories = mutation.mutate if isinstance(mutation.mutate, tuple) else (mutation.mutate,)
    if len(factories) == 1:
        factories = factories * len(names)
    if len(factories) != len(names):
        raise ValueError(f"{mutation.name}: {len(names)} targets, {len(factories)} factories")
    return list(zip(names, factories, strict=True))


def apply(mutation: Mutation) -> None:
    """Install ``mutation`` in this process: each target, and every module alias of it (an
    attribute that is the original object) unless ``rebind`` is False or the target is a
    mapping's entry."""
    for target, factory in targets(mutation):
        owner, attribute, original = _resolve(target)
        mutant = factory(original)
        if target.endswith("]"):
            owner[attribute] = mutant
            continue
        setattr(owner, attribute, mutant)
        if not mutation.rebind:
            continue
        for module in list(sys.modules.values()):
            if module is not owner and getattr(module, attribute, None) is original:
                setattr(module, attribute, mutant)


def pytest_configure(config: pytest.Config) -> None:
    """Apply the mutation named by ``RESNET_ODE_MUTATION`` and a no-shrink ci profile."""
    from hypothesis import Phase, settings

    settings.register_profile("mutation", parent=settings.get_profile("ci"), database=None,
                              phases=(Phase.explicit, Phase.generate, Phase.target))
    settings.load_profile("mutation")
    name = os.environ.get(ENV)
    if name:
        apply(BY_NAME[name])


_session: dict[str, Any] = {"caught": [], "crashed": []}


def _leaves(exc: BaseException) -> list[BaseException]:
    """The exceptions inside (nested) exception groups, or ``exc`` itself."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for e in exc.exceptions for leaf in _leaves(e)]
    return [exc]


def failure_kind(exc: BaseException | None, when: str = "call") -> str:
    """"caught" when an assertion failed (an AssertionError, pytest.fail / pytest.raises'
    "DID NOT RAISE", or a Hypothesis falsifying example of either, also inside an exception
    group), else the name of the exception that made the test crash (setup and teardown errors
    always crash)."""
    if exc is None:
        return "no exception"
    leaves = _leaves(exc)
    if when == "call" and any(isinstance(e, AssertionError | pytest.fail.Exception)
                              for e in leaves):
        return "caught"
    return "+".join(sorted({type(e).__name__ for e in leaves}))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    outcome = yield
    report = outcome.get_result()
    if not report.failed or hasattr(report, "wasxfail"):
        return
    kind = failure_kind(None if call.excinfo is None else call.excinfo.value, call.when)
    if kind == "caught":
        _session["caught"].append(report.nodeid)
    else:
        _session["crashed"].append([report.nodeid, f"{kind} ({call.when})"])


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        _session["crashed"].append([report.nodeid, "collection error"])


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    path = os.environ.get(REPORT_ENV)
    if path:
        Path(path).write_text(json.dumps({**_session, "exitstatus": int(exitstatus)}))


# --------------------------------------------------------------------------- the driver


def run(mutation: Mutation | None, paths: list[str]) -> dict[str, Any]:
    """Run pytest on ``paths`` with ``mutation`` applied: {"caught": node ids whose assertion
    failed, "crashed": [node id, exception] of the others, "exitstatus"}."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        env = {**os.environ, REPORT_ENV: str(report), "RESNET_ODE_PROFILE": "ci",
               "RESNET_ODE_FAILURES_DIR": str(Path(tmp) / "failures")}
        env.pop(ENV, None)
        if mutation is not None:
            env.update({ENV: mutation.name, **dict(mutation.env)})
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "properties.mutations",
               "-p", "no:cacheprovider", "--no-header", "-rN", *paths]
        subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
        if not report.exists():
            return {"caught": [], "crashed": [["(pytest did not finish)", "no report"]],
                    "exitstatus": -1}
        return json.loads(report.read_text())


def _short(nodeids: list[str], prefix: str) -> list[str]:
    """Node ids under ``prefix`` as module::test, parameters dropped, duplicates removed."""
    out: list[str] = []
    for nodeid in nodeids:
        if nodeid.startswith(prefix):
            name = nodeid[len(prefix):].replace(".py::", "::").split("[")[0]
            out += [] if name in out else [name]
    return out


def _crashes(crashed: list[list[str]]) -> list[str]:
    """"module::test: Exception" per crashed test (parameters dropped, duplicates removed)."""
    out: list[str] = []
    for nodeid, kind in crashed:
        name = nodeid.replace(".py::", "::").split("[")[0] + f": {kind}"
        out += [] if name in out else [name]
    return out


def outcome(row: dict[str, Any]) -> str:
    """"caught" (an assertion failed), "crashed" (tests failed, none on an assertion) or
    "missed"."""
    if row["properties"] or row["tests"]:
        return "caught"
    return "crashed" if row["crashed"] else "missed"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m properties.mutations",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated mutation names")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    parser.add_argument("--tests", action="store_true",
                        help="also run each mutation's unit tests from tests/")
    parser.add_argument("--tests-only", action="store_true",
                        help="run only each mutation's unit tests (fast; implies --tests)")
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args(argv)
    args.tests = args.tests or args.tests_only
    suite = [] if args.tests_only else ["properties"]
    if args.list:
        for m in MUTATIONS:
            print(f"{m.name:28s} {m.target:42s} {m.description}")
        return 0
    chosen = list(MUTATIONS) if not args.only else [BY_NAME[n] for n in args.only.split(",")]
    unit = sorted({t for m in chosen for t in m.tests}) if args.tests else []
    start = time.monotonic()
    base = run(None, [*suite, *unit])
    if base["caught"] or base["crashed"] or base["exitstatus"] != 0:
        print(f"baseline fails (exit {base['exitstatus']}): {base}", file=sys.stderr)
        return 2
    rows = []
    for m in chosen:
        result = run(m, [*suite, *(m.tests if args.tests else ())])
        row = {"mutation": m.name, "target": m.target, "description": m.description,
               "properties": _short(result["caught"], "properties/"),
               "tests": _short(result["caught"], "tests/"),
               "crashed": _crashes(result["crashed"]), "exitstatus": result["exitstatus"]}
        row["outcome"] = outcome(row)
        rows.append(row)
        print(f"{m.name}: {row['outcome']}; properties {row['properties']}; tests "
              f"{row['tests']}; crashed {row['crashed']}", flush=True)
    elapsed = time.monotonic() - start
    counts = {k: sum(r["outcome"] == k for r in rows) for k in ("caught", "crashed", "missed")}
    print("\n| mutation | outcome | caught by properties | caught by tests/ | crashed |\n"
          "|---|---|---|---|---|")
    for r in rows:
        props = ", ".join(r["properties"]) or ("(not run)" if args.tests_only else "-")
        units = ", ".join(r["tests"]) or ("-" if args.tests else "(not run)")
        crashed = ", ".join(r["crashed"]) or "-"
        mark = r["outcome"] if r["outcome"] == "caught" else f"**{r['outcome'].upper()}**"
        print(f"| {r['mutation']} | {mark} | {props} | {units} | {crashed} |")
    print(f"\n{len(rows)} mutations: {counts['caught']} caught, {counts['crashed']} crashed, "
          f"{counts['missed']} missed; {elapsed:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "counts": counts,
                                               "seconds": elapsed}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
