"""numerics.longtime against an independent gradient-descent loop written from model (3) and
Definition 1 with torch autograd (no code of numerics.flow, numerics.gradients or numerics.metrics).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import pytest
import torch

from numerics import longtime as lt
from numerics.data import make_data
from numerics.init import init_params
from theory.config import Config
from theory.errors import ConfigError

CONFIG = Config(n=6, d=2, d_out=2, q=4, m=3, L=3, T=0.4, eta=0.02, activation="tanh",
                data="sphere", seeds=(0, 3))


def _reference(config: Config, seed: int) -> dict[str, float]:
    """Plain GD from the formulas: h_{k+1} = h_k + V_{k+1} tanh(W_{k+1} h_k / sqrt q) / (L sqrt m),
    l = (1/n) sum ||B h_L - y||^2, Z_k <- Z_k - eta L dl/dZ_k, A, B <- . - eta dl/d.; G/l,
    its minimum, the Riemann sum of G/l, sup_t L max_k ||Z_{k+1} - Z_k||, the distance.  Each
    seed draws its own sample as well as its initialization."""
    X, Y = make_data("sphere", n=config.n, d=config.d, d_out=config.d_out, q=config.q,
                     seed=seed)
    p = init_params("tied", d=config.d, d_out=config.d_out, q=config.q, m=config.m, L=config.L,
                    seeds=(seed,))
    A, B = p.A[0].clone(), p.B[0].clone()
    V, W = [v.clone() for v in p.Z[0][0]], [w.clone() for w in p.Z[1][0]]
    A0, B0, V0, W0 = A.clone(), B.clone(), [v.clone() for v in V], [w.clone() for w in W]
    L, q, m, n, eta = config.L, config.q, config.m, config.n, config.eta
    ratios, gaps, dists, losses = [], [], [], []
    for i in range(config.iterations + 1):
        leaves = [t.requires_grad_(True) for t in (A, B, *V, *W)]
        h = X @ A.T
        for k in range(L):
            h = h + torch.tanh(h @ W[k].T / math.sqrt(q)) @ V[k].T / (L * math.sqrt(m))
        loss = ((h @ B.T - Y) ** 2).sum() / n
        grads = torch.autograd.grad(loss, leaves)
        gA, gB, gZ = grads[0], grads[1], grads[2:]
        G = (gA ** 2).sum() + (gB ** 2).sum() + L * sum(
            ((gZ[k] ** 2).sum() + (gZ[L + k] ** 2).sum()) for k in range(L))
        losses.append(float(loss.detach()))
        ratios.append(float((G / loss).detach()))
        with torch.no_grad():
            gaps.append(max(float((V[k + 1] - V[k]).norm() + (W[k + 1] - W[k]).norm())
                            for k in range(L - 1)))
            dists.append(max(float((A - A0).norm()), float((B - B0).norm()),
                             max(float((V[k] - V0[k]).norm() + (W[k] - W0[k]).norm())
                                 for k in range(L))))
            if i < config.iterations:
                A, B = A - eta * gA, B - eta * gB
                V = [V[k] - eta * L * gZ[k] for k in range(L)]
                W = [W[k] - eta * L * gZ[L + k] for k in range(L)]
        A, B, V, W = A.detach(), B.detach(), [v.detach() for v in V], [w.detach() for w in W]
    integral = eta * sum(ratios[:-1])
    running = [L * max(gaps[: i + 1]) for i in range(len(gaps))]
    return {"curve": running, "ratios": ratios, "losses": losses, "l0": losses[0],
            "l_T": losses[-1], "mu_emp": min(ratios),
            "pl_init": ratios[0],
            "pl_T": ratios[-1], "integral_pl": integral, "sup_L_gap": L * max(gaps),
            "max_dist": max(dists),
            "disc_gap": math.log(losses[-1] / losses[0]) + integral,
            "F": lambda x: _forward(x, A, B, V, W, q, m)}


def _forward(x: torch.Tensor, A: torch.Tensor, B: torch.Tensor, V: list[torch.Tensor],
             W: list[torch.Tensor], q: int, m: int) -> torch.Tensor:
    h, L = x @ A.T, len(V)
    for k in range(L):
        h = h + torch.tanh(h @ W[k].T / math.sqrt(q)) @ V[k].T / (L * math.sqrt(m))
    return h @ B.T


def test_phase_point_matches_an_autograd_loop() -> None:
    records = lt.phase_point(CONFIG)
    assert [r["seed"] for r in records] == [0.0, 3.0]
    for record in records:
        assert set(record) == set(lt.KEYS)
        ref = _reference(CONFIG, int(record["seed"]))
        for key in ("curve", "ratios", "losses", "F"):
            ref.pop(key)
        for key, value in ref.items():
            assert record[key] == pytest.approx(value, rel=1e-9, abs=1e-12), key
        assert record["interpolated"] == float(ref["l_T"] <= lt.INTERPOLATION_LEVEL * ref["l0"])
        assert record["diverged"] == 0.0 and record["T"] == pytest.approx(CONFIG.T)


def test_recorded_pl_ratios_match_autograd_at_snapshots() -> None:
    """G/l recorded at chosen flow times equals G/l recomputed by autograd on the snapshot."""
    result = lt.train_long(CONFIG, (1,), record_times=(0.0, 0.2, 0.4), snapshots=True)
    X, Y = make_data("sphere", n=CONFIG.n, d=2, d_out=2, q=4, seed=1)  # the run's seed
    for r, snap in enumerate(result.snapshots):
        leaves = [t.clone().requires_grad_(True) for t in (snap.A, *snap.Z, snap.B)]
        A, (V, W), B = leaves[0][0], (leaves[1][0], leaves[2][0]), leaves[3][0]
        h = X @ A.T
        for k in range(CONFIG.L):
            h = h + torch.tanh(h @ W[k].T / 2.0) @ V[k].T / (CONFIG.L * math.sqrt(CONFIG.m))
        loss = ((h @ B.T - Y) ** 2).sum() / CONFIG.n
        gA, gV, gW, gB = torch.autograd.grad(loss, leaves)
        G = (gA ** 2).sum() + (gB ** 2).sum() + CONFIG.L * ((gV ** 2).sum() + (gW ** 2).sum())
        assert float(result.pl[r, 0]) == pytest.approx(float((G / loss).detach()), rel=1e-10)
    assert float(result.minima["pl"][0]) <= float(result.pl.min())


def test_diverging_seeds_are_marked() -> None:
    records = lt.phase_point(Config(n=4, d=2, d_out=2, q=4, m=3, L=3, T=100.0, eta=2.0,
                                 activation="tanh", data="sphere", seeds=(0, 1)))
    assert [r["diverged"] for r in records] == [1.0, 1.0]
    assert all(math.isnan(r["mu_emp"]) and r["interpolated"] == 0.0 for r in records)


@pytest.mark.parametrize("field,value", [("data", "gaussian"), ("clip", "coord"),
                                         ("init", "iid")])
def test_outside_theorem6_setting_is_refused(field: str, value: str) -> None:
    import dataclasses

    with pytest.raises(ConfigError, match=field):
        lt.phase_point(dataclasses.replace(CONFIG, **{field: value}))


def test_curve_is_the_running_supremum_of_the_reference_gaps() -> None:
    records, series = lt.run_point(CONFIG, points=CONFIG.iterations)
    assert series["seeds"] == [0, 3] and len(series["t"]) == CONFIG.iterations + 1
    for j, seed in enumerate((0, 3)):
        ref = _reference(CONFIG, seed)["curve"]
        assert series["sup_L_gap"][j] == pytest.approx(ref, rel=1e-9, abs=1e-14)
        assert series["sup_L_gap"][j][-1] == pytest.approx(records[j]["sup_L_gap"], rel=1e-12)


def _cell(n: float, m: float, fraction: float) -> dict[str, float]:
    return {"n": n, "m": m, "fraction": fraction}


def test_thresholds_bracket_the_last_crossing() -> None:
    cells = [_cell(8, 1, 0.0), _cell(8, 2, 2 / 3), _cell(8, 4, 1 / 3), _cell(8, 8, 1.0),
             _cell(16, 2, 1.0), _cell(16, 4, 1.0), _cell(32, 4, 0.0), _cell(32, 8, 0.0)]
    th = lt.thresholds(cells)
    assert th == [lt.Threshold(8, 4.0, 8.0), lt.Threshold(16, 0.0, 2.0),
                  lt.Threshold(32, 8.0, math.inf)]
    assert th[0].m_star == pytest.approx(math.sqrt(32)) and th[1].m_star == 2.0
    assert math.isnan(th[2].m_star)


def test_power_fit_of_exact_power_law_brackets() -> None:
    # m_hi = 2 n^0.5 and m_lo = m_hi / 2 at n = 4, 16, 64: midpoints 2^-0.5 * 2 n^0.5
    ths = [lt.Threshold(n, math.sqrt(n), 2 * math.sqrt(n)) for n in (4, 16, 64)]
    fit = lt.fit_power(ths)
    assert fit is not None and fit.points == 3
    assert fit.gamma == pytest.approx(0.5) and fit.prefactor == pytest.approx(math.sqrt(2))
    # extreme slopes: m_lo at n = 4 and m_hi at n = 64 (and the reverse), a factor 2 over 16x
    assert fit.interval == pytest.approx((0.5 - 0.25, 0.5 + 0.25))
    assert lt.fit_power(ths[:1]) is None


def test_path_measurement_matches_the_autograd_loop() -> None:
    """Theorem 6's measured-constant series (numerics.thm6.measure_thm6_path) from the
    reference loop: sup_t max_k gap per depth, mu_emp(T') = min of G/l over t <= T' on the grid
    T/8..T at the deepest depth, and the precondition "every seed at l <= 1e-2 l(0) by T/2"."""
    from numerics.thm6 import measure_thm6_path

    config = dataclasses.replace(CONFIG, depths=(3, 6))
    m = measure_thm6_path(config)
    t = [i * config.eta for i in range(config.iterations + 1)]
    interpolated = True
    fresh, _ = make_data("sphere", n=lt.FRESH_INPUTS, d=config.d, d_out=config.d_out,
                         q=config.q, seed=config.seed + lt.FRESH_SEED)
    outputs: dict[tuple[int, int], torch.Tensor] = {}
    for j, L in enumerate(config.depths):
        for s, seed in enumerate(config.seeds):
            ref = _reference(dataclasses.replace(config, L=L), seed)
            outputs[L, s] = ref["F"](fresh)
            assert m.series["sup_gap"][j][s] == pytest.approx(ref["sup_L_gap"] / L, rel=1e-9)
            half = next(i for i, x in enumerate(t) if x >= config.T / 2 * (1 - 1e-9))
            interpolated &= ref["losses"][half] <= lt.INTERPOLATION_LEVEL * ref["l0"]
            if L == config.depths[-1]:
                for g, x in enumerate(m.series["T"]):
                    upto = next(i for i, y in enumerate(t) if y >= x * (1 - 1e-9))
                    assert m.series["mu_T"][g][s] == pytest.approx(min(ref["ratios"][:upto + 1]),
                                                                   rel=1e-9)
    assert m.values["interpolated_half"] == float(interpolated)
    assert m.series["L_pair"] == [3]
    for s in range(len(config.seeds)):  # Theorem 6 (iv): max_x ||F^3_T(x) - F^6_T(x)||
        gap = float((outputs[3, s] - outputs[6, s]).norm(dim=1).max())
        assert m.series["limit_gap"][0][s] == pytest.approx(gap, rel=1e-9)


@pytest.mark.parametrize(("S", "expected"), [
    (lambda t: 3 * t, 2.0),  # linear growth: the increment doubles with the interval
    (math.sqrt, math.sqrt(2)),
    (lambda t: math.log(t), 1.0),
    (lambda t: 1 - math.exp(-t), math.exp(-2.0) * (1 + math.exp(-2.0))),  # T = 8
    (lambda t: 5.0, 0.0)])
def test_doubling_ratio_closed_forms(S: Callable[[float], float], expected: float) -> None:
    T = 8.0
    assert lt.doubling_ratio(S(T / 4), S(T / 2), S(T)) == pytest.approx(expected, rel=1e-12)
