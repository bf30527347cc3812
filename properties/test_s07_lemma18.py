"""S7, Lemma 18: singular-value inequalities, exactly (to float64 rounding) on drawn matrices.

smin(A + A') >= smin(A) - ||A'||_F;  ||AB||_F >= smin(A) ||B||_F if A is m x r with m >= r;
||AB||_F >= ||A||_F smin(B) if B is r x n with n >= r.  Each inequality is asserted exactly where
:data:`theory.lemmas.LEMMA18` says its shape condition holds, so a dropped or wrong condition fails
(for m < r, ||AB||_F < smin(A) ||B||_F for most drawn A, B); and ``run_check`` holds on drawn
configurations (a wrong singular value or a swapped side in ``numerics.lemma18`` fails).
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, target
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from properties.assertions import assert_holds, checked, fail_case, family_ids
from properties.strategies import configs, corner_ints, examples
from theory import symbols
from theory.config import Config
from theory.lemmas import LEMMA18

FAMILIES = ("S7",)
_ELEMENTS = st.floats(-10, 10, allow_nan=False, allow_infinity=False, width=64)


def _matrix(rows: int, cols: int) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float64, (rows, cols), elements=_ELEMENTS)


@st.composite
def triples(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(A, A', B) with A, A' m x r and B r x n; A' = 0 and A' = -A (A + A' = 0) on purpose."""
    m, r, n = (draw(corner_ints(1, 5, (1,))) for _ in range(3))
    A = draw(_matrix(m, r))
    Ap = draw(st.one_of(st.just(np.zeros((m, r))), st.just(-A), _matrix(m, r)))
    return A, Ap, draw(_matrix(r, n))


def _smin(M: np.ndarray) -> float:
    return float(np.linalg.svd(M, compute_uv=False)[-1])


def _fro(M: np.ndarray) -> float:
    return float(np.linalg.norm(M))


def _applies(condition: sp.Basic, m: int, r: int, n: int) -> bool:
    return bool(condition.subs({symbols.m: m, symbols.r: r, symbols.n: n}))


@settings(max_examples=examples(60))
@given(triple=triples())
def test_lemma18_on_drawn_matrices(triple: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    A, Ap, B = triple
    (m, r), n = A.shape, B.shape[1]
    AB = A @ B
    sides = [(_smin(A + Ap), _smin(A) - _fro(Ap)), (_fro(AB), _smin(A) * _fro(B)),
             (_fro(AB), _fro(A) * _smin(B))]
    # rounding of an SVD: a few ulps of the largest singular value involved
    scale = 1e-12 * (1 + _fro(A) + _fro(Ap)) * (1 + _fro(B))
    for inequality, (lhs, rhs) in zip(LEMMA18, sides, strict=True):
        if not _applies(inequality.condition, m, r, n):
            continue
        target(rhs - lhs, label=inequality.text)
        if lhs < rhs - scale:
            config = Config(m=m, q=r, d=1, d_out=1, n=n)
            fail_case("lemma18.linalg", config, what=f"{inequality.text} ({inequality.shapes})",
                      measured=lhs, bound=rhs, relation=">=", exact=False,
                      details=f"A={A.tolist()}, A'={Ap.tolist()}, B={B.tolist()}")


@pytest.mark.parametrize("statement_id", family_ids(*FAMILIES))
@settings(max_examples=examples(10))
@given(config=configs(trials=64))
def test_check_holds(statement_id: str, config: Config) -> None:
    assert_holds(checked(statement_id, config), config)
