"""numerics.tracking against values computed another way: the top eigenvalue of known quadratics
(closed form), model (3)'s curvature in the flow's metric against a dense Hessian from central
differences of the explicit gradients (13)-(16) and against torch.autograd.functional.hessian, the
rule on hand-made measurements, and a step eta = 4 / lambda_max as the negative control."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from numerics.flow import Flow, step_halving, train
from numerics.gradients import loss_and_grads
from numerics.init import init_params
from numerics.model import MLP, Params, loss
from numerics.tracking import (
    DAMPING_EDGE,
    ORDER_BAND,
    WHAT,
    Tracking,
    flow_lambda_max,
    flow_tracking,
    hessian_top,
)
from theory.config import Config

TINY = Config(n=6, d=2, d_out=2, q=4, m=3, L=4, T=0.2, eta=0.05, activation="tanh",
              depths=(2, 4), seeds=(0,), data="sphere")


def _symmetric(eigenvalues: list[float], seed: int) -> torch.Tensor:
    """Q diag(eigenvalues) Q^T with a random orthogonal Q."""
    gen = torch.Generator().manual_seed(seed)
    n = len(eigenvalues)
    Q, _ = torch.linalg.qr(torch.randn(n, n, generator=gen, dtype=torch.float64))
    return Q @ torch.diag(torch.tensor(eigenvalues, dtype=torch.float64)) @ Q.T


def test_the_top_eigenvalue_of_quadratics_is_the_closed_form() -> None:
    """l_j(x, y) = x^T H1_j x / 2 + y^T H2_j y / 2 for two independent problems j, the blocks
    scaled by s1 = 2, s2 = 1: S H S has the eigenvalues 4 spec(H1_j) and spec(H2_j), so its top
    is max(4 max spec(H1_j), max spec(H2_j)): the algebraic top, not the largest magnitude
    (problem 0's -40 from H1)."""
    spec = {(0, 1): [-10.0, -1.0, 0.5, 2.0, 3.0], (0, 2): [1.0, 5.0, -2.0, 0.0],
            (1, 1): [1.0, 0.25, -3.0, 0.0, 0.1], (1, 2): [7.5, -7.0, 1.0, 2.0]}
    H1 = torch.stack([_symmetric(spec[j, 1], seed=j) for j in (0, 1)])
    H2 = torch.stack([_symmetric(spec[j, 2], seed=10 + j) for j in (0, 1)])

    def loss_fn(x: list[torch.Tensor]) -> torch.Tensor:
        return (torch.einsum("bi,bij,bj->b", x[0], H1, x[0])
                + torch.einsum("bi,bij,bj->b", x[1], H2, x[1])) / 2

    top, done = hessian_top(loss_fn, [torch.ones(2, 5, dtype=torch.float64),
                                      torch.ones(2, 4, dtype=torch.float64)], [2.0, 1.0], seed=3)
    assert bool(done.all())
    assert top.tolist() == pytest.approx([12.0, 7.5], rel=1e-3)


def _dense_flow_hessian(p: Params, X: torch.Tensor, Y: torch.Tensor, residual: MLP,
                        outer: bool, h: float = 1e-5) -> torch.Tensor:
    """P^(1/2) H P^(1/2) of one network by central differences of the explicit gradients
    (numerics.gradients: the recurrences (13)-(16), not autograd), symmetrized."""
    names = (["A"] if outer else []) + ["V", "W"] + (["B"] if outer else [])
    theta = {"A": p.A, "V": p.Z[0], "W": p.Z[1], "B": p.B}

    def grad(values: dict[str, torch.Tensor]) -> torch.Tensor:
        _, g = loss_and_grads(Params(values["A"], (values["V"], values["W"]), values["B"]),
                              X, Y, residual)
        parts = {"A": g.A, "V": g.Z[0], "W": g.Z[1], "B": g.B}
        return torch.cat([parts[k].flatten() for k in names])

    scale = torch.cat([torch.full((theta[k].numel(),), math.sqrt(p.L) if k in "VW" else 1.0,
                                  dtype=torch.float64) for k in names])
    columns = []
    for k in names:
        for i in range(theta[k].numel()):
            shifted = []
            for sign in (1.0, -1.0):
                values = {key: t.clone() for key, t in theta.items()}
                values[k].view(-1)[i] += sign * h
                shifted.append(grad(values))
            columns.append((shifted[0] - shifted[1]) / (2 * h))
    H = torch.stack(columns, dim=1)
    return scale[:, None] * (H + H.T) / 2 * scale[None, :]


@pytest.mark.parametrize("outer", [True, False])
def test_model3_curvature_matches_a_dense_hessian(outer: bool) -> None:
    """lambda_max of P^(1/2) H P^(1/2) (A, B trained or frozen) against the dense matrix of
    central differences of the explicit gradients, and H against
    torch.autograd.functional.hessian of the flattened loss; two networks batched, each against
    its own dense matrix.  Lanczos run to exhaustion (size 48 at most), so the match is to the
    differences' accuracy; with the default tolerance within the two top eigenvalues' cluster
    (7.5808 and 7.5975 for the first network: LANCZOS_RTOL's note)."""
    residual = MLP("tanh")
    p = init_params("iid", d=2, d_out=2, q=3, m=2, L=3, seeds=(4, 5))
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(5, 2, generator=gen, dtype=torch.float64)
    Y = torch.randn(5, 2, generator=gen, dtype=torch.float64)
    flow = Flow(eta=0.1, T=1.0, train_outer=outer)
    top, done = flow_lambda_max(p, X, Y, residual, flow, seed=0, steps=100, rtol=1e-12)
    quick, _ = flow_lambda_max(p, X, Y, residual, flow, seed=0)
    for j in range(2):
        one = p.select(j)
        dense = _dense_flow_hessian(one, X, Y, residual, outer)
        spectrum = torch.linalg.eigvalsh(dense)
        assert float(top[j]) == pytest.approx(float(spectrum[-1]), rel=1e-7)
        assert float(spectrum[-2]) * (1 - 1e-3) <= float(quick[j]) <= float(top[j]) * (1 + 1e-9)
        if outer:
            shapes = [t.shape for t in (one.A, *one.Z, one.B)]
            sizes = [math.prod(s) for s in shapes]

            def flat_loss(theta: torch.Tensor, shapes: list = shapes,
                          sizes: list = sizes) -> torch.Tensor:
                A, V, W, B = (t.reshape(s) for t, s in zip(theta.split(sizes), shapes,
                                                           strict=True))
                return loss(Params(A, (V, W), B), X, Y, residual)[0]

            theta = torch.cat([t.flatten() for t in (one.A, *one.Z, one.B)])
            H = torch.autograd.functional.hessian(flat_loss, theta)
            assert torch.allclose(H, dense / torch.outer(_scale(one), _scale(one)),
                                  rtol=1e-5, atol=1e-7)


def _scale(p: Params) -> torch.Tensor:
    """P^(1/2) on (A, V, W, B) flattened: 1 on A and B, sqrt(L) on Z."""
    return torch.cat([torch.full((t.numel(),), s, dtype=torch.float64) for t, s in (
        (p.A, 1.0), (p.Z[0], math.sqrt(p.L)), (p.Z[1], math.sqrt(p.L)), (p.B, 1.0))])


def _hand_made(eta_lambda: tuple[float, ...], distances: tuple[float, float],
               diverged: str = "") -> Tracking:
    return Tracking(8, 0, 0.01, 1.0, (0.0, 0.25, 0.5, 1.0), eta_lambda, (True,) * 4, distances,
                    diverged)


def test_the_rule_on_hand_made_measurements() -> None:
    """Tracks: curvature below the damping edge and a first-order halving ratio; each failure is
    named with its number; the edge solves x - 1 = e^-x (Lambert W, checked by the equation)."""
    assert DAMPING_EDGE - 1 == pytest.approx(math.exp(-DAMPING_EDGE), rel=1e-12)
    assert ORDER_BAND == pytest.approx((2**0.5, 2**1.5))
    assert _hand_made((0.1, 0.2, 1.2, 0.3), (2e-3, 1e-3)).failure() is None
    failure = _hand_made((0.1, 0.2, 1.3, 0.3), (2e-3, 1e-3)).failure()
    assert failure == f"{WHAT} (eta lambda_max = 1.3 >= 1.28)"
    assert _hand_made((0.1, 0.2, math.nan, 0.3), (2e-3, 1e-3)).failure() is not None
    assert "ratio 1.2 outside [1.41, 2.83]" in str(_hand_made((0.1,) * 4, (1.2e-3, 1e-3))
                                                       .failure())
    assert "ratio 4 outside" in str(_hand_made((0.1,) * 4, (4e-3, 1e-3)).failure())
    assert _hand_made((0.1,) * 4, (1.5e-3, 1e-3)).failure() is None
    assert "diverges" in str(_hand_made((0.1,), (math.nan, math.nan), "loss = inf").failure())


def test_the_default_step_tracks_and_four_over_lambda_max_does_not() -> None:
    """TINY's eta tracks the flow (curvature below the edge, halving ratio about 2); the
    negative control eta = 4 / lambda_max(0) (twice the edge of stability) must not, and
    neither must eta = 1.8 / lambda_max(0), which does not diverge."""
    tracked = flow_tracking(TINY).per_seed[0]
    assert tracked.failure() is None
    assert tracked.max_eta_lambda < 1 and ORDER_BAND[0] < tracked.ratio < ORDER_BAND[1]
    assert tracked.L == 4 and tracked.times == pytest.approx((0.0, 0.05, 0.1, 0.2))
    eta = 4 / (tracked.eta_lambda[0] / TINY.eta)
    control = flow_tracking(dataclasses.replace(TINY, eta=eta, T=8 * eta)).per_seed[0]
    assert control.failure() is not None and control.failure().startswith(WHAT)
    assert control.eta_lambda[0] == pytest.approx(4.0, rel=1e-3)
    # between the damping edge and 2: no divergence, and both criteria fail on their own
    between = flow_tracking(dataclasses.replace(TINY, eta=eta * 0.45, T=8 * eta)).per_seed[0]
    assert not between.diverged and between.max_eta_lambda >= DAMPING_EDGE
    assert not ORDER_BAND[0] <= between.ratio <= ORDER_BAND[1]


def test_rows_that_differ_in_shallower_depths_share_one_measurement() -> None:
    """The cache: the deepest depth and the seeds decide; the result holds no tensor."""
    first = flow_tracking(TINY).per_seed
    assert flow_tracking(dataclasses.replace(TINY, depths=(4,))).per_seed is first
    assert flow_tracking(dataclasses.replace(TINY, L=2)).per_seed is first
    assert flow_tracking(dataclasses.replace(TINY, seed=3)).per_seed is first
    assert not any(isinstance(v, torch.Tensor) for t in first for v in dataclasses.astuple(t))


def test_every_seed_is_measured_on_its_own_network_whatever_the_batch() -> None:
    """Seeds (2, 0, 1) batched: each seed's measurement is that seed's alone (its data, its
    initialization, its Lanczos start), equal to the seed measured by itself, and the row's
    seeds are the ones measured (not config.seed, which is not one of them here)."""
    row = flow_tracking(dataclasses.replace(TINY, seed=5, seeds=(2, 0, 1)))
    assert [t.seed for t in row.per_seed] == [2, 0, 1]
    for t in row.per_seed:
        alone = flow_tracking(dataclasses.replace(TINY, seeds=(t.seed,))).per_seed[0]
        assert t.eta_lambda == pytest.approx(alone.eta_lambda, rel=1e-10)
        assert t.distances == pytest.approx(alone.distances, rel=1e-10)
    assert len({t.eta_lambda for t in row.per_seed}) == 3  # three networks, not one


def test_a_row_tracks_only_when_every_seed_does() -> None:
    """RowTracking's rule on hand-made seeds: one seed past the damping edge fails the row,
    naming the first such seed and the count; the note shows the worst seed."""
    from numerics.tracking import RowTracking

    good = _hand_made((0.1, 0.2, 0.3, 0.3), (2e-3, 1e-3))
    steep = dataclasses.replace(_hand_made((0.1, 0.2, 1.5, 0.3), (2e-3, 1e-3)), seed=7)
    assert RowTracking((good, good)).failure() is None
    row = RowTracking((good, steep, dataclasses.replace(steep, seed=9)))
    assert row.failure() == (f"{WHAT} (eta lambda_max = 1.5 >= 1.28), seed 7 (2 of 3 seeds do "
                             "not track)")
    assert row.to_dict()["tracks"] is False and row.max_eta_lambda == 1.5
    assert "seed 7" in row.note() and "1 of 3 track" in row.note()


def test_run_check_names_the_failed_precondition_only_for_flow_statements() -> None:
    """A flow statement (prop3.bounded) carries the measurement and, at eta = 1.8 / lambda_max,
    is n/a naming it after the predicate's assumptions (none fail here); a statement without a
    gradient-descent run (prop2.euler) carries none."""
    from numerics.checks import run_check

    clipped = dataclasses.replace(TINY, clip="coord")
    held = run_check("prop3.bounded", clipped, control=False)
    assert held.applicable and held.extra["flow_tracking"]["tracks"] is True
    assert "gradient descent vs the flow (L = 4, seed 0)" in held.notes
    eta = 1.8 * clipped.eta / flow_tracking(clipped).per_seed[0].eta_lambda[0]
    fast = run_check("prop3.bounded", dataclasses.replace(clipped, eta=eta, T=8 * eta))
    assert fast.verdict == "n/a" and not fast.applicable
    assert fast.failed_assumptions == [fast.extra["flow_tracking"]["failure"]]
    assert fast.failed_assumptions[0].startswith(f"{WHAT} (eta lambda_max = ")
    assert "flow_tracking" not in run_check("prop2.euler", clipped, control=False).extra


def test_step_halving_keeps_the_step_eta_runs_weights_at_the_asked_times() -> None:
    """The snapshots numerics.tracking measures at: the initialization at t = 0, a separate
    training's weights at T/2 (snapped: 0.1 / 0.05 = 2 steps) and the step-eta final at T."""
    p = init_params("tied", d=2, d_out=2, q=4, m=3, L=4, seeds=(1,))
    gen = torch.Generator().manual_seed(2)
    X = torch.randn(6, 2, generator=gen, dtype=torch.float64)
    Y = torch.randn(6, 2, generator=gen, dtype=torch.float64)
    flow = Flow(0.05, 0.2)
    out = step_halving(p, X, Y, flow, MLP("tanh"), record_times=(0.0, 0.1, 0.2))
    assert [t for t, _ in out.snapshots] == pytest.approx([0.0, 0.1, 0.2])
    half = train(p, X, Y, Flow(0.05, 0.1), MLP("tanh")).params
    for (_, got), want in zip(out.snapshots, (p, half, out.finals[0]), strict=True):
        assert all(torch.equal(a, b) for a, b in zip((got.A, *got.Z, got.B),
                                                     (want.A, *want.Z, want.B), strict=True))


APPD = Config(L=4, depths=(2, 4), T=3.0, eta=0.01, activation="tanh", appd_C=2.0, appd_x=0.5)


def test_appd_curvature_is_the_finite_difference_hessian_of_the_explicit_gradient() -> None:
    """eta lambda_max at t = 0 equals eta 2L times the top eigenvalue of the Hessian obtained by
    central differences of Appendix D's back-propagated gradient (numerics.appd, no autograd)."""
    from numerics import appd

    w0 = appd.init_weights(APPD.L)
    h, n = 1e-5, len(w0)
    H = torch.zeros(n, n, dtype=torch.float64)
    for j in range(n):
        up, down = list(w0), list(w0)
        up[j] += h
        down[j] -= h
        g_up = appd.loss_and_gradient(up, APPD.appd_x, APPD.appd_C, "tanh")[1]
        g_down = appd.loss_and_gradient(down, APPD.appd_x, APPD.appd_C, "tanh")[1]
        H[:, j] = (torch.tensor(g_up, dtype=torch.float64)
                   - torch.tensor(g_down, dtype=torch.float64)) / (2 * h)
    expected = APPD.eta * 2 * APPD.L * float(torch.linalg.eigvalsh((H + H.T) / 2)[-1])
    got = flow_tracking(APPD, "appd").per_seed[0]
    assert got.times[0] == 0.0
    assert got.eta_lambda[0] == pytest.approx(expected, rel=1e-5)


def test_appd_step_halving_is_first_order_along_the_path_and_a_large_step_fails() -> None:
    """The runs converge to one fixed point, so the path (not the final weights) shows the O(eta)
    error: ratio about 2; eta = 2 puts eta lambda_max (about 1.6) past the damping edge."""
    tracked = flow_tracking(APPD, "appd").per_seed[0]
    assert tracked.ratio == pytest.approx(2.0, rel=0.1) and tracked.failure() is None
    large = flow_tracking(dataclasses.replace(APPD, T=30.0, eta=2.0), "appd")
    assert large.failure() is not None
