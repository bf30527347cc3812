"""theory.lemmas: Lemmas 18, 20, 21 against independent evaluations (scipy, quadrature, exact
laws) and the findings about their hypotheses."""

from __future__ import annotations

import math

import mpmath
import pytest
import sympy as sp
from scipy import special, stats

from theory import activations, lemmas
from theory.config import Config
from theory.errors import ConfigError


@pytest.fixture(autouse=True)
def _high_precision():
    with mpmath.workdps(50):
        yield


# --------------------------------------------------------------------------- Lemma 18


def test_lemma18_records() -> None:
    assert len(lemmas.LEMMA18) == 3
    weyl, left, right = lemmas.LEMMA18
    assert weyl.condition is sp.true
    m, r, n = sp.symbols("m r n", positive=True, integer=True)
    assert left.condition.subs({m: 5, r: 3}) is sp.true
    assert left.condition.subs({m: 2, r: 3}) is sp.false
    assert right.condition.subs({n: 3, r: 3}) is sp.true
    assert lemmas.lemma18_assumptions(Config()) == []
    assert lemmas.lemma18_assumptions(Config(m=2, q=4, n=5, d=2, d_out=2)) == ["m >= r"]
    assert lemmas.lemma18_assumptions(Config(m=5, q=4, n=2, d=2, d_out=2)) == ["n >= r"]


# --------------------------------------------------------------------------- Lemma 20


@pytest.mark.parametrize(("q", "m", "M_W"), [(1, 1, 1.5), (2, 3, 1.2), (4, 8, 2.0),
                                             (16, 32, 1.1), (30, 40, 1.05), (64, 64, 1.02)])
def test_exact_tail_against_scipy(q: int, m: int, M_W: float) -> None:
    k = q * m
    reference = special.gammaincc(k / 2, M_W**2 * k / 2)  # P(chi2_k > M_W^2 k)
    assert float(lemmas.lemma20_exact_tail(q, m, M_W)) == pytest.approx(reference, rel=1e-11)
    assert float(lemmas.lemma20_exact_tail(q, m, M_W)) == pytest.approx(
        stats.chi2.sf(M_W**2 * k, k), rel=1e-9)


@pytest.mark.parametrize(("q", "m", "M_W"), [(1, 1, 1.5), (1, 3, 2.0), (2, 2, 1.2)])
def test_exact_tail_against_density_quadrature(q: int, m: int, M_W: float) -> None:
    k = mpmath.mpf(q * m)

    def density(t: mpmath.mpf) -> mpmath.mpf:
        return t ** (k / 2 - 1) * mpmath.exp(-t / 2) / (2 ** (k / 2) * mpmath.gamma(k / 2))

    start = mpmath.mpf(M_W) ** 2 * k
    reference = mpmath.quad(density, [start, start + 10, mpmath.inf])
    assert abs(lemmas.lemma20_exact_tail(q, m, M_W) - reference) < mpmath.mpf("1e-30")


def test_bound_dominates_where_assumed() -> None:
    for q in (1, 2, 4, 16, 64):
        for m in (1, 3, 16, 128):
            for M_W in (math.sqrt(2), 1.5, 2.0, 3.0):
                assert lemmas.lemma20_exact_tail(q, m, M_W) <= lemmas.lemma20_bound(q, m, M_W)
    assert float(lemmas.lemma20_bound(3, 5, 2.0)) == pytest.approx(math.exp(-3 * 15 / 16))


def test_bound_below_sqrt2_finding() -> None:
    """Finding: the bound holds on this grid for M_W in [1.15, sqrt 2) as well, and fails for
    M_W = 1.1 < lemma20_breakdown() ~ 1.1396 once qm is large."""
    breakdown = lemmas.lemma20_breakdown()
    assert 1.13 < breakdown < 1.15
    u = breakdown**2 - 1
    assert abs((u - mpmath.log(1 + u)) / 2 - u / 16) < mpmath.mpf("1e-25")
    for k in (1, 2, 5, 10, 50, 200, 1000, 10_000, 100_000):
        for M_W in (1.15, 1.2, 1.3, 1.4):
            assert lemmas.lemma20_exact_tail(1, k, M_W) <= lemmas.lemma20_bound(1, k, M_W)
    assert lemmas.lemma20_exact_tail(1, 10_000, 1.1) > lemmas.lemma20_bound(1, 10_000, 1.1)
    assert lemmas.lemma20_exact_tail(1, 10, 1.1) <= lemmas.lemma20_bound(1, 10, 1.1)


def test_lemma20_assumptions() -> None:
    assert lemmas.lemma20_assumptions(Config(M_W=2.0)) == []
    assert lemmas.lemma20_assumptions(Config(M_W=math.sqrt(2))) == []
    assert lemmas.lemma20_assumptions(Config(M_W=1.3)) == ["M_W >= sqrt(2)"]


def test_M0_bound() -> None:
    bound, failure = lemmas.M0_bound(4, 8)
    assert float(bound) == pytest.approx(2 * math.sqrt(32))
    assert float(failure) == pytest.approx(math.exp(-3 * 32 / 16))


def test_bad_sizes() -> None:
    with pytest.raises(ConfigError):
        lemmas.lemma20_bound(0, 3, 2.0)
    with pytest.raises(ConfigError):
        lemmas.lemma20_exact_tail(2, -1, 2.0)


# --------------------------------------------------------------------------- Lemma 21


def _eta_by_quadrature(name: str, r: int) -> mpmath.mpf:
    f = sp.lambdify(sp.Symbol("x", real=True), activations.get(name).expr, "mpmath")
    he = sp.lambdify(sp.Symbol("t"), sp.hermite_prob(r, sp.Symbol("t")), "mpmath")
    value = mpmath.quad(lambda t: f(t) * he(t) * mpmath.npdf(t), [-mpmath.inf, 0, mpmath.inf])
    return value / mpmath.sqrt(mpmath.factorial(r))


def test_delta_by_hand() -> None:
    eta3 = _eta_by_quadrature("tanh", 3)
    m, n, d = 1000, 5, 50
    hand = (n * mpmath.exp(-3 * m * eta3**2 / (64 * 1 * n))
            + 2 * n**2 * mpmath.exp(-(mpmath.mpf(d) / 2) * (mpmath.mpf(3) / 20) ** (mpmath.mpf(2)
                                                                                   / 3)))
    assert abs(lemmas.lemma21_delta("tanh", 3, m, n, d) - hand) < mpmath.mpf("1e-30") * hand
    tropp = (n * mpmath.exp(-m * eta3**2 / (64 * n))
             + 2 * n**2 * mpmath.exp(-(mpmath.mpf(d) / 2) * (mpmath.mpf(3) / 20) ** (
                 mpmath.mpf(2) / 3)))
    assert abs(lemmas.lemma21_delta("tanh", 3, m, n, d, chernoff="tropp") - tropp) < (
        mpmath.mpf("1e-30") * tropp)


def test_delta_monotone() -> None:
    deltas_m = [lemmas.lemma21_delta("erf", 3, m, 4, 200) for m in (10, 100, 1000, 10_000)]
    assert all(a > b for a, b in zip(deltas_m, deltas_m[1:], strict=False))
    deltas_d = [lemmas.lemma21_delta("erf", 3, 1000, 4, d) for d in (10, 100, 1000)]
    assert all(a > b for a, b in zip(deltas_d, deltas_d[1:], strict=False))
    assert lemmas.lemma21_delta("erf", 3, 1000, 4, 100, C2=2) > lemmas.lemma21_delta(
        "erf", 3, 1000, 4, 100, C2=1)
    assert lemmas.lemma21_vacuous("tanh", 3, 10, 10, 10)
    assert not lemmas.lemma21_vacuous("tanh", 3, 10**7, 3, 10**4)


@pytest.mark.parametrize("name", ["tanh", "sin", "erf", "sigmoid"])
def test_vacuous_when_rank_deficient(name: str) -> None:
    """m < n forces smin(sigma(W X)) = 0; the lemma must then be vacuous (delta >= 1)."""
    for n in (2, 5, 40):
        assert lemmas.lemma21_vacuous(name, 3, n - 1, n, 10**6)


@pytest.mark.parametrize(("name", "r", "m"), [("tanh", 3, 100), ("erf", 5, 64), ("sin", 3, 7)])
def test_threshold(name: str, r: int, m: int) -> None:
    expected = mpmath.sqrt(m) * abs(_eta_by_quadrature(name, r)) / 4
    assert abs(lemmas.lemma21_threshold(name, r, m) - expected) < mpmath.mpf("1e-30")


def test_lemma21_needs_bounded_sigma() -> None:
    with pytest.raises(ConfigError):
        lemmas.lemma21_delta("gelu", 2, 100, 3, 10)
    with pytest.raises(ConfigError):
        lemmas.lemma21_delta("tanh", 1, 100, 3, 10)


def test_lemma21_assumptions() -> None:
    assert lemmas.lemma21_assumptions(Config(activation="tanh")) == []
    assert lemmas.lemma21_assumptions(Config(activation="gelu")) == ["sigma bounded"]
    assert lemmas.lemma21_assumptions(Config(activation="identity")) == [
        "sigma bounded", "eta_r(sigma) != 0 for some r >= 2"]
    assert lemmas.lemma21_assumptions(Config(activation="tanh", r=2)) == [
        "eta_r(sigma) != 0 for r = 2"]


def test_printed_chernoff_step_is_false() -> None:
    """Finding: P(lambda_min <= t mu) <= n exp(-(1 - t^2) mu / (2R)) (Lemma 21's proof, t = 1/2)
    fails for n = 1, Y_i = R Bernoulli(p): mu / R = 20 below; (1 - t)^2 holds there."""
    trials, p, t = 2000, 0.01, 0.5
    mu_over_R = trials * p
    exact = stats.binom.cdf(math.floor(t * mu_over_R), trials, p)  # P(sum <= t mu)
    printed = math.exp(-(1 - t**2) * mu_over_R / 2)
    simplified = math.exp(-((1 - t) ** 2) * mu_over_R / 2)
    sharp = (math.exp(-(1 - t)) / t**t) ** mu_over_R
    assert exact > 10 * printed
    assert exact <= sharp <= simplified
    assert float(lemmas.CHERNOFF["paper"]) == (1 - t**2) / 2 / 8
    assert float(lemmas.CHERNOFF["tropp"]) == (1 - t) ** 2 / 2 / 8
    assert float(lemmas.CHERNOFF["sharp"]) == pytest.approx(
        (t * math.log(t) - t + 1) / 8)


@pytest.mark.parametrize("dim", [2, 3, 5, 10, 50, 200, 1000])
def test_sphere_variance_proxy_is_one(dim: int) -> None:
    """C^2 = 1 for sqrt(d) X, X uniform on S^{d-1}: P(|u_1| >= s) <= 2 exp(-d s^2 / 2), with
    u_1^2 ~ Beta(1/2, (d-1)/2) exactly."""
    for s in [i / 200 for i in range(1, 200)]:
        tail = special.betaincc(0.5, (dim - 1) / 2, s * s)
        assert tail <= 2 * math.exp(-dim * s * s / 2) * (1 + 1e-12)
