"""theory.activations: computed constants and flags against dense sampling and known values."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import sympy as sp
import torch
from scipy import optimize

from theory import activations
from theory.errors import ConfigError
from theory.symbols import x

GRID = np.concatenate([np.linspace(-60.0, 60.0, 240_001), [-200.0, 200.0]])


def _numeric_derivative(expr: sp.Expr, k: int):
    """sigma^(k) as a numpy function, piece by piece (kinks rewritten as Piecewise first)."""
    return sp.lambdify(x, sp.diff(sp.piecewise_fold(expr.rewrite(sp.Piecewise)), x, k),
                       ["scipy", "numpy"])


def _sampled_sup(expr: sp.Expr, k: int) -> tuple[float, float]:
    """(max |sigma^(k)| on the grid refined locally by a bounded scalar search, value at +-200)."""
    f = _numeric_derivative(expr, k)
    values = np.abs(np.broadcast_to(f(GRID), GRID.shape).astype(float))
    i = int(np.argmax(values[:-2]))
    lo, hi = GRID[max(i - 1, 0)], GRID[min(i + 1, len(GRID) - 3)]
    best = float(values[i])
    if hi > lo:
        res = optimize.minimize_scalar(lambda t: -abs(float(f(t))), bounds=(lo, hi),
                                       method="bounded", options={"xatol": 1e-12})
        best = max(best, -float(res.fun))
    return best, float(values[-2:].max())


EXPECTED = {  # name: (K_sigma, M_sigma, sup|sigma''|) from the literature / hand derivation
    "tanh": (1, 1, 4 / (3 * sp.sqrt(3))),
    # GELU: sigma'' = (2 - x^2) phi(x) vanishes at +-sqrt 2; sigma'(sqrt 2) = Phi(sqrt 2) +
    # sqrt 2 phi(sqrt 2) = 1/2 + erf(1)/2 + 1/(e sqrt pi), larger than |sigma'(-sqrt 2)| and 1.
    "gelu": (sp.Rational(1, 2) * (1 + sp.erf(1)) + sp.sqrt(2) * sp.exp(-1) / sp.sqrt(2 * sp.pi),
             sp.oo, 2 / sp.sqrt(2 * sp.pi)),
    "relu": (1, sp.oo, sp.nan),
    "identity": (1, sp.oo, 0),
    "sigmoid": (sp.Rational(1, 4), sp.Rational(1, 2), sp.sqrt(3) / 18),
    "softplus": (1, sp.oo, sp.Rational(1, 4)),
    "sin": (1, 1, 1),
    "erf": (2 / sp.sqrt(sp.pi), 1, 2 * sp.sqrt(2) * sp.exp(-sp.Rational(1, 2)) / sp.sqrt(sp.pi)),
}

FLAGS = {  # C2, nonconstant, lipschitz, bounded, zero_at_zero, nonpolynomial
    "tanh": (True, True, True, True, True, True),
    "gelu": (True, True, True, False, True, True),
    "relu": (False, True, True, False, True, True),
    "identity": (True, True, True, False, True, False),
    "sigmoid": (True, True, True, True, True, True),
    "softplus": (True, True, True, False, True, True),
    "sin": (True, True, True, True, True, True),
    "erf": (True, True, True, True, True, True),
}


def test_registry_is_complete() -> None:
    assert set(activations.NAMES) == set(EXPECTED) == set(FLAGS)


@pytest.mark.parametrize("name", activations.NAMES)
def test_exact_constants(name: str) -> None:
    act = activations.get(name)
    for computed, expected in zip((act.K_sigma, act.M_sigma, act.sup_d2), EXPECTED[name],
                                  strict=True):
        if expected is sp.nan:
            assert computed is sp.nan
        elif expected is sp.oo:
            assert computed is sp.oo
        else:
            assert sp.simplify(computed - expected) == 0, (computed, expected)
    assert act.sigma0 == 0


@pytest.mark.parametrize("name", activations.NAMES)
@pytest.mark.parametrize("k", [0, 1, 2])
def test_suprema_against_sampling(name: str, k: int) -> None:
    act = activations.get(name)
    symbolic = (act.M_sigma, act.K_sigma, act.sup_d2)[k]
    if symbolic is sp.nan:  # ReLU'' : not C^2, nothing to sample
        assert act.flags["C2"] is False
        return
    sampled, far = _sampled_sup(act.expr, k)
    if symbolic is sp.oo:
        assert far > 100.0  # grows without bound (these grow linearly)
        return
    value = float(symbolic)
    assert sampled <= value * (1 + 1e-12) + 1e-15
    assert sampled >= value * (1 - 1e-6)


@pytest.mark.parametrize("name", activations.NAMES)
def test_flags(name: str) -> None:
    act = activations.get(name)
    assert tuple(act.flags) == tuple(activations.ASSUMPTIONS)
    assert tuple(act.flags.values()) == FLAGS[name]


def test_failed_names() -> None:
    assert activations.get("tanh").failed() == []
    assert activations.get("gelu").failed() == ["sigma bounded"]
    assert activations.get("relu").failed() == ["sigma C^2", "sigma bounded"]
    assert activations.get("identity").failed() == ["sigma bounded", "sigma non-polynomial"]


def test_float_views_and_lookup() -> None:
    gelu = activations.get("GeLU ")
    assert gelu is activations.get("gelu")
    assert gelu.K_float() == pytest.approx(1.128904145, rel=1e-9)
    assert math.isinf(gelu.M_float())
    assert activations.get("sigmoid").M_float() == 0.5


@pytest.mark.parametrize(("text", "K", "M"), [
    ("x/(1+x**2)", 1, sp.Rational(1, 2)),
    ("tanh(x)**3", sp.Rational(3, 4), 1),  # sigma' = 3 t^2 (1 - t^2) <= 3/4 at t^2 = 1/2
    ("Min(x, 1) + Max(x, -1) - x", 1, 1),  # hard tanh: piecewise, Lipschitz, not C^1
])
def test_user_expressions(text: str, K: sp.Expr, M: sp.Expr) -> None:
    act = activations.get(text)
    assert act.name == text
    assert sp.simplify(act.K_sigma - K) == 0 and sp.simplify(act.M_sigma - M) == 0
    for k, symbolic in enumerate((act.M_sigma, act.K_sigma, act.sup_d2)):
        if symbolic is not sp.nan:
            sampled, _ = _sampled_sup(act.expr, k)
            assert sampled <= float(symbolic) * (1 + 1e-12)
            assert sampled >= float(symbolic) * (1 - 1e-6)


def test_user_expression_flags() -> None:
    cube = activations.get("x**3")
    assert (cube.K_sigma, cube.M_sigma) == (sp.oo, sp.oo)
    assert cube.failed() == ["sigma Lipschitz", "sigma bounded", "sigma non-polynomial"]
    hard_tanh = activations.get("Min(x, 1) + Max(x, -1) - x")
    assert hard_tanh.failed() == ["sigma C^2"] and hard_tanh.sup_d2 is sp.nan
    smooth_kink = activations.get("Abs(x)**3")  # C^2 across its kink at 0, unbounded
    assert smooth_kink.flags["C2"] is True
    assert smooth_kink.failed() == ["sigma Lipschitz", "sigma bounded"]
    shifted = activations.get("tanh(x) + 1")
    assert shifted.failed() == ["sigma(0) = 0"]


def test_undetermined_supremum_is_honest() -> None:
    # sigma' = 1/(1+x^2) + cos(x)/10: critical points are a ConditionSet, the limits oscillate
    # and sigma is not periodic: sympy cannot give the sup, yet boundedness is settled.
    act = activations.get("atan(x) + sin(x)/10")
    assert act.M_sigma is sp.nan and act.K_sigma is sp.nan
    assert act.flags["bounded"] is True and act.flags["lipschitz"] is True
    assert math.isnan(act.K_float())


def test_undetermined_flags_are_named() -> None:
    act = activations.get("tan(x)")  # a function whose domain the strategy does not know
    assert act.flags["C2"] is None
    assert "sigma C^2 (undetermined)" in act.failed()


@pytest.mark.parametrize("bad", ["foo(", "y*x", "", "   ", "foo(x)", "log(x)", "1/x", "sqrt(x)",
                                 "Heaviside(x)", "__import__('os')", "x < 1"])
def test_bad_input(bad: str) -> None:
    with pytest.raises(ConfigError) as info:
        activations.get(bad)
    assert info.value.field == "activation"
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("name", activations.NAMES)
def test_torch_profiles_match_sympy(name: str) -> None:
    torch = pytest.importorskip("torch")
    from numerics import activations as torch_activations

    expr = activations.get(name).expr
    grid = np.linspace(-8.0, 8.0, 1601)
    grid = grid[np.abs(grid) > 1e-9]  # ReLU's derivatives are not defined at its kink
    t = torch.tensor(grid, dtype=torch.float64)
    profile = torch_activations.get(name)
    for k, fn in enumerate((profile.f, profile.df, profile.d2f)):
        expected = np.broadcast_to(_numeric_derivative(expr, k)(grid), grid.shape)
        np.testing.assert_allclose(fn(t).numpy(), expected, rtol=1e-12, atol=1e-14)


def test_import_is_light() -> None:
    import subprocess
    import sys

    code = ("import sys, theory, theory.activations, theory.hermite, theory.lemmas; "
            "assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(("expr", "f", "df"), [
    ("Abs(x)", torch.abs, torch.sign),
    ("Max(0, x)", torch.relu, lambda t: (t > 0).double()),
    ("sign(x)*x", torch.abs, torch.sign),
    ("Min(1, Max(-1, x))", lambda t: t.clamp(-1, 1), lambda t: (t.abs() < 1).double()),
    ("Piecewise((x, x > 0), (0, True))", torch.relu, lambda t: (t > 0).double())])
def test_non_smooth_sympy_activations_train_with_their_derivatives_almost_everywhere(
        expr: str, f: Any, df: Any) -> None:
    """Issue 17's reproductions: every expression ``constants`` accepts compiles to torch, with
    sigma' the derivative away from the kinks and sigma'' = 0 there (closed forms in torch)."""
    from numerics.activations import get

    act = get(expr)
    t = torch.tensor([-2.5, -0.7, -0.2, 0.3, 0.9, 1.7], dtype=torch.float64)
    assert torch.equal(act.f(t), f(t).double())
    assert torch.equal(act.df(t), df(t).double())
    assert torch.equal(act.d2f(t), torch.zeros_like(t))
    assert act.f(t).dtype == torch.float64


def test_check_with_a_non_smooth_user_activation_runs(tmp_path: Any) -> None:
    """Issue 17's reproduction: ``check prop3.bounded`` with Abs(x) gave a traceback (exit 1);
    it now runs (Proposition 3 needs a C^2 sigma, so the check is n/a naming it)."""
    import json

    from reports.cli import main

    config = tmp_path / "c.json"
    config.write_text(json.dumps({"activation": "Abs(x)", "clip": "coord", "n": 8, "d": 2,
                                  "d_out": 2, "q": 4, "m": 4, "L": 8, "T": 0.2}))
    assert main(["check", "prop3.bounded", "--config", str(config)]) == 0
