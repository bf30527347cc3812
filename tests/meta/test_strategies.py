"""Meta-tests of the property suite's strategies (after array-api-tests' ``meta_tests``).

Each strategy draws only valid configurations within its limits (``assert_all_examples``) and
reaches the regions it is meant to reach (``find_any``): the corners L = 1, 2, m = 1, d = q,
q = d + d', tiny T, a single step, both sides of Proposition 5's thresholds, of Lemma 20's
M_W >= sqrt 2 and of Lemma 21's delta < 1; the activation classes agree with the sympy profiles.
"""

from __future__ import annotations

import importlib
import math
import pkgutil

import pytest
import torch

import properties
from properties import strategies as S
from properties.assertions import assert_all_examples, family_ids, find_any
from theory import activations, catalog, lemmas
from theory.config import Config

TRAIN = S.TRAINING


@pytest.fixture(scope="module", autouse=True)
def _profiles() -> None:
    """Compute the sympy activation profiles once, outside any timed Hypothesis draw."""
    for name in S.ALL:
        activations.get(name)


def _within(config: Config, sizes: S.Sizes = TRAIN) -> bool:
    return (config.n <= sizes.n and config.q <= sizes.q and config.m <= sizes.m
            and config.L <= sizes.L and config.T <= sizes.T and config.iterations <= sizes.steps
            and config.eta <= sizes.eta_max and config.q >= max(config.d, config.d_out))


def _round_trips(config: Config) -> bool:
    """The saved JSON of a failing case rebuilds the same configuration."""
    return Config.from_mapping(config.to_dict()) == config


def test_configs_are_valid_small_and_round_trip() -> None:
    assert_all_examples(S.configs(), lambda c: _within(c) and _round_trips(c), max_examples=200)


@pytest.mark.parametrize(("name", "condition"), [
    ("L = 1", lambda c: c.L == 1),
    ("L = 2", lambda c: c.L == 2),
    ("m = 1", lambda c: c.m == 1),
    ("n = 1", lambda c: c.n == 1),
    ("d = q", lambda c: c.d == c.q),
    ("d' = q", lambda c: c.d_out == c.q),
    ("q = d + d'", lambda c: c.q == c.d + c.d_out),
    ("q < d + d'", lambda c: c.q < c.d + c.d_out),
    ("tiny T", lambda c: c.T <= S.TINY_T[1]),
    ("T = eta", lambda c: c.iterations == 1),
    *[(f"largest {k}", lambda c, k=k: getattr(c, k) == getattr(TRAIN, k)) for k in "nqmL"],
    *[(f"init {i}", lambda c, i=i: c.init == i) for i in S.INITS],
    *[(f"clip {k}", lambda c, k=k: c.clip == k) for k in S.CLIPS],
    *[(f"activation {a}", lambda c, a=a: c.activation == a) for a in S.ALL],
])
def test_configs_reach_the_corners(name: str, condition: object) -> None:
    find_any(S.configs(), condition)  # type: ignore[arg-type]


def test_activation_classes_agree_with_the_sympy_profiles() -> None:
    """docs/statements.md (Conventions): tanh (and sin, erf, centred sigmoid) meet every
    assumption; GELU is unbounded, ReLU is not C^2, the identity is a polynomial."""
    for name in S.MEETING:
        assert activations.get(name).failed() == [], name
    for name, assumption in S.FAILING.items():
        assert assumption in activations.get(name).failed(), name
    for name in S.SMOOTH:
        flags = activations.get(name).flags
        assert flags["C2"] and flags["lipschitz"] and flags["zero_at_zero"], name


def _rate_regime(c: Config) -> bool:
    d = c.depths
    doubling = len(d) >= 4 and all(b == 2 * a for a, b in zip(d, d[1:], strict=False))
    resolved = c.init != "smooth" or (c.ell >= 0.5 and d[0] >= 4)
    return (doubling and d[-1] <= TRAIN.L and len(set(c.seeds)) >= 3 and c.L in d
            and c.iterations >= 2 and resolved and _within(c))


def test_rate_configs_stay_in_the_asymptotic_regime() -> None:
    assert_all_examples(S.rate_configs(), _rate_regime, max_examples=100)
    find_any(S.rate_configs(), lambda c: c.init == "smooth")
    find_any(S.rate_configs(), lambda c: c.init == "tied" and c.depths[0] == 2)


def test_euler_configs_have_four_fine_depths_and_five_seeds() -> None:
    assert_all_examples(S.euler_configs(), lambda c: len(c.depths) == 4 and c.depths[0] >= 8
                        and len(set(c.seeds)) == 5, max_examples=50)
    find_any(S.euler_configs(), lambda c: c.scaling == "official")


def _pl_sides(c: Config) -> tuple[bool, bool]:
    m_min, L_min = S.pl_thresholds(c.activation, c.n, c.q)
    return c.m >= m_min, c.L >= L_min


def test_pl_thresholds_are_straddled() -> None:
    """Widths and depths within one of Proposition 5's thresholds, from both sides."""
    def near(c: Config) -> bool:
        m_min, L_min = S.pl_thresholds(c.activation, c.n, c.q)
        return abs(c.m - m_min) <= 2 and abs(c.L - L_min) <= 2

    assert_all_examples(S.pl_threshold_configs(), near, max_examples=50)
    for wide, deep in [(True, True), (True, False), (False, True), (False, False)]:
        find_any(S.pl_threshold_configs(), lambda c, s=(wide, deep): _pl_sides(c) == s)
    find_any(S.pl_threshold_configs(), lambda c: c.q == c.d + c.d_out)
    find_any(S.pl_threshold_configs(), lambda c: c.q < c.d + c.d_out)


def test_lemma20_configs_straddle_sqrt2() -> None:
    root = math.sqrt(2)
    find_any(S.lemma20_configs(), lambda c: c.M_W == math.nextafter(root, 0.0))
    find_any(S.lemma20_configs(), lambda c: c.M_W == root)
    find_any(S.lemma20_configs(), lambda c: 1.0 < c.M_W < float(lemmas.lemma20_breakdown()))
    find_any(S.lemma20_configs(), lambda c: c.M_W > 2 and c.q * c.m >= 100)


def _delta(c: Config) -> float:
    r = catalog["lemma21.smin"].assumptions(c)
    if r:
        return math.inf
    from theory import hermite

    index = hermite.index(c.activation)
    assert index is not None
    return float(lemmas.lemma21_delta(c.activation, index, c.m, c.n, c.d))


def test_lemma21_configs_reach_delta_below_and_above_one() -> None:
    find_any(S.lemma21_configs(S.MEETING), lambda c: _delta(c) < 1)
    find_any(S.lemma21_configs(S.MEETING), lambda c: 1 <= _delta(c) < math.inf)
    find_any(S.lemma21_configs(), lambda c: c.activation in S.FAILING)


def test_appd_configs_are_converged_and_stable() -> None:
    def converged(c: Config) -> bool:
        rate = c.appd_x**2
        return c.T * rate >= 30 * (1 - 1e-12) and c.eta * rate * c.appd_C**2 <= 0.1 * (1 + 1e-12)

    assert_all_examples(S.appd_configs(), converged, max_examples=50)
    find_any(S.appd_configs(), lambda c: c.L == 1)


def test_e_points_lie_in_E_and_reach_its_corners() -> None:
    """||V||_F + ||W||_F <= M and ||h|| <= radius; the boundary, h = 0 and the aligned rank-one
    point (where the bound of K1 is attained) are drawn."""
    def inside(p: S.EPoint) -> bool:
        h, V, W = p.tensors(radius=2.0)
        z = torch.linalg.matrix_norm(V) + torch.linalg.matrix_norm(W)
        return bool(z <= p.M * (1 + 1e-12) and torch.linalg.vector_norm(h) <= 2.0 * (1 + 1e-12))

    assert_all_examples(S.e_points, inside, max_examples=100)
    find_any(S.e_points, lambda p: p.aligned and p.h_frac == 0.0 and p.z_frac == 1.0)
    find_any(S.e_points, lambda p: p.h_frac == 1.0 and p.z_frac == 1.0)


def test_every_family_has_a_property_module() -> None:
    """S2-S12 each have a property module (each declares the FAMILIES it checks)."""
    covered: set[str] = set()
    for info in pkgutil.iter_modules(properties.__path__):
        if info.name.startswith("test_"):
            module = importlib.import_module(f"properties.{info.name}")
            covered.update(module.FAMILIES)
    wanted = {f"S{k}" for k in range(2, 13)}
    assert wanted <= covered, sorted(wanted - covered)
    for family in sorted(wanted):
        assert family_ids(family)
