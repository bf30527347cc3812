"""Mutation check of the property suite: weaken a bound or break a computation, see what fails.

::

    python -m properties.mutations [--only NAME,...] [--list] [--tests] [--json FILE]

Each mutation replaces one function or method (``module:qualname``) of ``theory`` or ``numerics``
by a wrong variant, inside a pytest subprocess only: this module is also a pytest plugin
(``-p properties.mutations``) that applies the mutation named by ``RESNET_ODE_MUTATION`` at
``pytest_configure``, before any test module is imported, and rebinds every alias already imported
(``from module import name``).  No source file is edited.  The subprocess runs ``properties/``
(and, with ``--tests``, the unit tests of ``tests/`` listed for the mutation) under the ``ci``
profile without shrinking (a failure is all that is asked), and the plugin records the node ids
that fail.  A baseline run without mutation must pass first.

The table printed at the end says, for each mutation, which property tests caught it and which
unit tests did; a mutation is caught when either does.  Where a bound is vacuous (10^(10^k):
weakening it by a constant cannot be seen by any measurement) the unit test that evaluates its
formula independently (tests/test_vacuous_formulas.py) is what catches it; "NOT CAUGHT" rows
are gaps.  ``--tests-only`` runs the unit tests alone (minutes instead of an hour).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import math
import os
import subprocess
import sys
import tempfile
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
    """One deliberate bug: ``target`` ("module:qualname") becomes ``mutate(original)``."""

    name: str
    target: str
    description: str
    mutate: Factory
    tests: tuple[str, ...] = ()  # unit tests of tests/ expected to notice it too
    env: tuple[tuple[str, str], ...] = ()  # environment of the pytest subprocess


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
    """The rate rule without its interval condition (the wide window made infinite)."""
    def _classify_rate(rate: Any) -> Any:
        return original(dataclasses.replace(rate, wide_window=(-math.inf, math.inf)))
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
    Mutation("pl_ratio without L", "numerics.measure:pl_ratio",
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
             "a rate holds on its point estimate alone (the BCa interval not checked)",
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
)
BY_NAME = {m.name: m for m in MUTATIONS}


# --------------------------------------------------------------------------- the plugin


def _resolve(target: str) -> tuple[Any, str, Any]:
    """(owner, attribute, original) of "module:qualname"."""
    module_name, _, qualname = target.partition(":")
    owner: Any = importlib.import_module(module_name)
    *path, attribute = qualname.split(".")
    for part in path:
        owner = getattr(owner, part)
    return owner, attribute, getattr(owner, attribute)


def apply(mutation: Mutation) -> None:
    """Install ``mutation`` in this process: the owner's attribute and every module alias."""
    owner, attribute, original = _resolve(mutation.target)
    mutant = mutation.mutate(original)
    setattr(owner, attribute, mutant)
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


_session_failures: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.failed:
        _session_failures.append(report.nodeid)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        _session_failures.append(f"{report.nodeid} (collection error)")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    path = os.environ.get(REPORT_ENV)
    if path:
        Path(path).write_text(json.dumps({"failed": _session_failures,
                                          "exitstatus": int(exitstatus)}))


# --------------------------------------------------------------------------- the driver


def run(mutation: Mutation | None, paths: list[str]) -> tuple[list[str], int]:
    """Run pytest on ``paths`` with ``mutation`` applied: (failed node ids, exit status)."""
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
            return ["(pytest did not finish)"], -1
        data = json.loads(report.read_text())
        return data["failed"], data["exitstatus"]


def _short(nodeids: list[str], prefix: str) -> list[str]:
    """Node ids under ``prefix`` as module::test, parameters dropped, duplicates removed."""
    out: list[str] = []
    for nodeid in nodeids:
        if nodeid.startswith(prefix):
            name = nodeid[len(prefix):].replace(".py::", "::").split("[")[0]
            out += [] if name in out else [name]
    return out


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
            print(f"{m.name:24s} {m.target:42s} {m.description}")
        return 0
    chosen = list(MUTATIONS) if not args.only else [BY_NAME[n] for n in args.only.split(",")]
    unit = sorted({t for m in chosen for t in m.tests}) if args.tests else []
    failed, status = run(None, [*suite, *unit])
    if failed or status != 0:
        print(f"baseline fails (exit {status}): {failed}", file=sys.stderr)
        return 2
    rows = []
    for m in chosen:
        failed, status = run(m, [*suite, *(m.tests if args.tests else ())])
        props, units = _short(failed, "properties/"), _short(failed, "tests/")
        rows.append({"mutation": m.name, "target": m.target, "description": m.description,
                     "properties": props, "tests": units, "exitstatus": status})
        caught = "caught" if props or units else "NOT CAUGHT"
        print(f"{m.name}: {caught}; properties {props}; tests {units}", flush=True)
    print("\n| mutation | target | caught by properties | caught by tests/ |\n|---|---|---|---|")
    for r in rows:
        props = ", ".join(r["properties"]) or ("(not run)" if args.tests_only else "-")
        units = ", ".join(r["tests"]) or ("-" if args.tests else "(not run)")
        mark = "" if r["properties"] or r["tests"] else " **NOT CAUGHT**"
        print(f"| {r['mutation']}{mark} | `{r['target']}` | {props} | {units} |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
