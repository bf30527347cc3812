"""S1 and S3, Propositions 1, 3 and 7: the clipped flow on [0, T].

* ``run_check`` holds wherever the statements apply (the clipped flow stays finite and within
  M = M0 + T M_pi; neighbours stay within the bound of eq. (7)), and the applied right-hand sides
  never exceed M_pi (the flow really clips).  The bound of eq. (7) is astronomically loose
  (10^(10^k)), so that check is vacuous; the bounded-weights check and the shapes carry the
  power to fail.
* Shape in L (``prop3.rate_L``): the neighbour gap max_{k,t} ||Z_{k+1} - Z_k|| decays as 1/L:
  over five seeds and four depths the slope lies in [-1.2, -0.8], its BCa interval in
  [-1.5, -0.5].  Shape in T (``prop3.growth_T``): from a tied initialization K_emp(T) = O(T).
* The symbolic K1, K2, K' of model (3) (:mod:`theory.finite_time`) dominate autograd Jacobian
  and Hessian norms at points drawn in the set E of (19): ||d1 f||_2 and ||d2 f||_2 exactly (an
  SVD of the autograd Jacobian), ||d22 f|| and ||d21 f|| (Appendix A.1's tensor norms) by a lower
  estimate (:func:`properties.references.bilinear_norm_lower`).  The K1 bound is attained
  (identity-like sigma'(0) = K_sigma at h = 0 with aligned rank-one V, W), so K1/10 fails at once.
* Metamorphic: permuting the samples leaves the loss and every gradient unchanged (b = 1 and b = 2
  networks, the explicit recurrences (13)-(16)); the clipping map pi never increases a coordinate,
  never flips a sign and maps into its ball.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch
from hypothesis import given, note, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from numerics.data import make_data
from numerics.flow import apply_pi
from numerics.gradients import loss_and_grads
from numerics.model import MLP, Params
from properties.assertions import (
    assert_holds,
    assert_leq,
    assert_rate,
    checked,
    fail_case,
    family_ids,
)
from properties.references import bilinear_norm_lower
from properties.strategies import EPoint, configs, corner_ints, e_points, examples, rate_configs
from theory import finite_time as ft
from theory.config import Config

FAMILIES = ("S1", "S3")
Tensor = torch.Tensor


@pytest.mark.parametrize("statement_id", family_ids(*FAMILIES, rates=False))
@settings(max_examples=examples(10))
@given(config=configs())
def test_check_holds(statement_id: str, config: Config) -> None:
    result = checked(statement_id, config)
    assert_holds(result, config)
    extra = result.extra
    if result.applicable and "M_pi" in extra:  # the flow applied pi: ||pi(.)|| <= M_pi
        assert_leq(statement_id, config, extra["M_pi_observed"], extra["M_pi"],
                   what="sup_t of the applied right-hand sides' norms <= M_pi",
                   label="M_pi_observed / M_pi")


@settings(max_examples=examples(6))
@given(config=rate_configs(inits=("tied", "smooth")))
def test_successive_gap_is_one_over_L(config: Config) -> None:
    assert_holds(checked("prop3.successive", config), config)
    result = checked("prop3.rate_L", config)
    if result.applicable:
        assert_rate(result, config, exact=True)


@settings(max_examples=examples(4))
@given(config=rate_configs(inits=("tied",)))
def test_neighbour_gap_grows_at_most_linearly_at_small_T(config: Config) -> None:
    """eq. (7) with a zero initial gap: K_emp(T) = O(T) as T -> 0 (on t = t0 2^j, j = 0..5)."""
    case = dataclasses.replace(config, T=128 * config.eta)
    result = checked("prop3.growth_T", case)
    if result.applicable:
        assert_rate(result, case, exact=True)


# --------------------------------------------------------------------------- K1, K2, K' on E


def _f(activation: str, h: Tensor, V: Tensor, W: Tensor) -> Tensor:
    """f(h, (V, W)) of model (3) through numerics' residual (one network, one sample)."""
    q, m = V.shape
    return MLP(activation)(h.view(1, 1, q), (V.view(1, q, m), W.view(1, m, q))).view(q)


def _spectral(M: Tensor) -> float:
    return float(torch.linalg.matrix_norm(M, ord=2)) if M.numel() else 0.0


def measured_norms(point: EPoint, h: Tensor, V: Tensor, W: Tensor) -> dict[str, float]:
    """||d1 f||_2, ||d2 f||_2, a lower estimate of ||d2 f^T||_{2 -> (||V||_F + ||W||_F)} and
    lower estimates of ||d22 f||, ||d21 f|| (Appendix A.1) at (h, V, W), by autograd."""
    q, m = V.shape
    nv = q * m
    z = torch.cat([V.reshape(-1), W.reshape(-1)])

    def g(hh: Tensor, zz: Tensor) -> Tensor:
        return _f(point.activation, hh, zz[:nv].view(q, m), zz[nv:].view(m, q))

    jacobian = torch.autograd.functional.jacobian
    J1, J2 = jacobian(g, (h, z))

    def J2_at(hh: Tensor, zz: Tensor) -> Tensor:
        return jacobian(lambda z_: g(hh, z_), zz, create_graph=True)

    T21, T22 = jacobian(J2_at, (h, z))  # (q, p, q) and (q, p, p)
    gen = torch.Generator().manual_seed(point.seed)
    # ||d2 f^T p||_sum = ||J_V^T p|| + ||J_W^T p||: evaluated at the top singular directions
    candidates = [torch.linalg.svd(J)[0][:, 0] for J in (J2, J2[:, :nv], J2[:, nv:])]
    d2_sum = max(float(torch.linalg.vector_norm(J2[:, :nv].T @ p_)
                       + torch.linalg.vector_norm(J2[:, nv:].T @ p_)) for p_ in candidates)
    return {
        "d1": _spectral(J1), "d2": _spectral(J2), "d2_sum": d2_sum,
        "d22": bilinear_norm_lower(lambda a, b: torch.einsum("kij,i,j->k", T22, a, b),
                                   z.numel(), z.numel(), generator=gen),
        "d21": bilinear_norm_lower(lambda a, c: torch.einsum("kij,i,j->k", T21, a, c),
                                   z.numel(), q, generator=gen),
    }


@settings(max_examples=examples(40))
@given(point=e_points)
def test_symbolic_K_bounds_dominate_autograd_norms(point: EPoint) -> None:
    q, m, M, M_X, act = point.q, point.m, point.M, point.M_X, point.activation
    radius = ft.E_radius(M, M_X, m, q, act)
    h, V, W = point.tensors(radius)
    note(f"point {dataclasses.asdict(point)}; E radius {radius}")
    norms = measured_norms(point, h, V, W)
    bounds = {"K1": ft.K1_bound(M, m, q, act), "K2": ft.K2_bound(M, M_X, m, q, act),
              "Kprime": ft.Kprime_bound(M, M_X, m, q, act)}
    config = Config(q=q, m=m, d=1, d_out=1, activation=act)
    pairs = [("K1", "d1", "||d1 f(h, z)||_2 <= K1 (18)"),
             ("K2", "d2", "||d2 f||_2 <= K2 on E (19)"),
             ("K2", "d2_sum", "||d2 f^T||_{2 -> sum norm} <= K2 on E (20)"),
             ("Kprime", "d22", "||d22 f||_2 <= K' on E (Appendix A.1)"),
             ("Kprime", "d21", "||d21 f||_2 <= K' on E (Appendix A.1)")]
    for bound_key, norm_key, what in pairs:
        assert_leq("prop3.successive", config, norms[norm_key], bounds[bound_key], what=what,
                   label=f"{norm_key} / {bound_key}")


# --------------------------------------------------------------------------- metamorphic


@st.composite
def permuted_problems(draw: st.DrawFn) -> tuple[Config, int, list[int]]:
    config = draw(configs(scalings=("paper", "official")))
    return config, draw(st.sampled_from((1, 2))), draw(st.permutations(range(config.n)))


def _random_params(config: Config, b: int) -> Params:
    """Gaussian A, V, W, B (all non-zero, unlike the initialization) from ``config.seed``."""
    gen = torch.Generator().manual_seed(config.seed)
    q, d, m, L = config.q, config.d, config.m, config.L

    def draw(*shape: int) -> Tensor:
        return torch.randn(b, *shape, generator=gen, dtype=torch.float64)

    return Params(draw(q, d), (draw(L, q, m), draw(L, m, q)), draw(config.d_out, q))


@settings(max_examples=examples(15))
@given(problem=permuted_problems())
def test_permuting_samples_leaves_loss_and_gradients_unchanged(
        problem: tuple[Config, int, list[int]]) -> None:
    config, b, perm = problem
    params = _random_params(config, b)
    X, Y = make_data(config.data, n=config.n, d=config.d, d_out=config.d_out, q=config.q,
                     seed=config.seed)
    residual = MLP(config.activation, config.scaling)
    loss, grads = loss_and_grads(params, X, Y, residual)
    loss_p, grads_p = loss_and_grads(params, X[perm], Y[perm], residual)
    pairs = [("loss", loss, loss_p), ("dl/dA", grads.A, grads_p.A), ("dl/dB", grads.B, grads_p.B),
             *[(f"dl/dZ[{j}]", g, gp) for j, (g, gp) in enumerate(zip(grads.Z, grads_p.Z,
                                                                       strict=True))]]
    for name, a, c in pairs:
        scale = float(a.abs().max())
        error = float((a - c).abs().max())
        if error > 1e-12 * (1 + scale):
            fail_case("prop3.successive", config, what=f"{name} is invariant under a permutation "
                      f"of the samples ({perm}, b = {b})", measured=error,
                      bound=1e-12 * (1 + scale), exact=False)


@st.composite
def gradient_blocks(draw: st.DrawFn) -> tuple[list[Tensor], int]:
    """The blocks of one parameter's right-hand side: (b, L, ...) per layer (lead 2, one or two
    blocks like Z = (V, W)) or (b, ...) (lead 1, A or B)."""
    lead = draw(st.sampled_from((1, 2)))
    lead_shape = tuple(draw(corner_ints(1, 3, (1,))) for _ in range(lead))
    count = draw(st.sampled_from((1, 2))) if lead == 2 else 1
    elements = st.floats(-100, 100, allow_nan=False, allow_infinity=False, width=64)
    blocks = []
    for _ in range(count):
        shape = lead_shape + (draw(corner_ints(1, 4, (1,))), draw(corner_ints(1, 4, (1,))))
        blocks.append(torch.from_numpy(draw(hnp.arrays("float64", shape, elements=elements))))
    return blocks, lead


@settings(max_examples=examples(30))
@given(blocks=gradient_blocks(), clip=st.sampled_from(("coord", "norm")),
       c=st.floats(1e-3, 10.0))
def test_clipping_never_increases_a_coordinate(blocks: tuple[list[Tensor], int], clip: str,
                                               c: float) -> None:
    original, lead = blocks
    clipped = [g.clone() for g in original]
    apply_pi(clipped, clip, c, lead)
    config = Config(clip=clip, clip_c=c)
    for g, p in zip(original, clipped, strict=True):
        grew = float((p.abs() - g.abs()).max())
        if grew > 0 or bool((p * g < 0).any()):
            fail_case("prop1.wellposed", config, what=f"|pi(g)_i| <= |g_i| with the sign kept "
                      f"({clip} clipping at c = {c})", measured=grew, bound=0.0, exact=False)
    if clip == "coord":
        size = max(float(p.abs().max()) for p in clipped)
    else:  # the paper's norm of one vector: the sum of its blocks' Frobenius norms
        size = float(sum(torch.linalg.vector_norm(p.flatten(lead), dim=lead)
                         for p in clipped).max())
    assert_leq("prop1.wellposed", config, size, c * (1 + 1e-12),
               what=f"pi maps into the {clip} ball of radius c", label="||pi(g)|| / c")
