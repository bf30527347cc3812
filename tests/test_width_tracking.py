"""Flow tracking at the width-threshold points (issue 29): the per-n summary, the record fields,
their attachment to data swept before they were recorded, the table of
reports.sweep.width_tracking and S15's note, each on hand-made values with the answer worked out
by hand; one tiny width point whose tracking verdict is recomputed from its own numbers by the
rule's definition (edge 1 + W(1/e), band [sqrt 2, 2 sqrt 2]) and whose outcomes are not
filtered when it fails."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

from numerics import thresholds as th
from numerics import width_analysis as wa
from numerics.tracking import flow_tracking
from reports.sweep import width_tracking as wt


def _cell(n: int, m: int, tracks: bool | None, lam: float = 0.5, ratio: float = 2.0) -> dict:
    return {"n": n, "m": m, "tracks": tracks, "track_eta_lambda_max": lam, "track_ratio": ratio}


def test_summary_names_untracked_unknown_and_where_the_flow_begins() -> None:
    """n = 8: untracked at 1 and 4 (2 tracks between them), so the flow part begins at 8;
    n = 16: unknown at 1, every measured width tracks: from 2; n = 32: the widest does not
    track: no flow part; n = 64: the widest unknown: none either."""
    cells = ([_cell(8, m, t, lam, r) for m, t, lam, r in ((1, False, 2.0, 115.0),
                                                          (2, True, 1.1, 2.0),
                                                          (4, False, 1.3, 2.1),
                                                          (8, True, 1.0, 1.9),
                                                          (16, True, 0.9, 2.0))]
             + [_cell(16, 2, True), _cell(16, 1, None)]
             + [_cell(32, 1, True), _cell(32, 2, False)]
             + [_cell(64, 1, True), _cell(64, 2, None)])
    by_n = {t["n"]: t for t in wa.tracking_summary(cells)}
    assert [t["n"] for t in wa.tracking_summary(cells)] == [8, 16, 32, 64]
    assert by_n[8]["untracked"] == [1, 4] and by_n[8]["unknown"] == []
    assert by_n[8]["flow_from"] == 8
    assert by_n[8]["max_eta_lambda_max"] == {"1": 2.0, "2": 1.1, "4": 1.3, "8": 1.0, "16": 0.9}
    assert by_n[8]["ratio"] == {"1": 115.0, "2": 2.0, "4": 2.1, "8": 1.9, "16": 2.0}
    assert by_n[16] == {"n": 16, "untracked": [], "unknown": [1], "flow_from": 2,
                        "max_eta_lambda_max": {"2": 0.5}, "ratio": {"2": 2.0}}
    assert by_n[32]["untracked"] == [2] and by_n[32]["flow_from"] is None
    assert by_n[64]["unknown"] == [2] and by_n[64]["flow_from"] is None


def _to_dict(lam: float | None, ratio: float | None, tracks: bool) -> dict:
    """A hand-made numerics.tracking.Tracking.to_dict() as JSON stores it (None: not finite)."""
    return {"max_eta_lambda_max": lam, "ratio": ratio, "tracks": tracks, "seed": 0, "L": 8}


def _record(n: int, m: int, seed: int, gaps: dict[int, float], T: float = 10.0) -> dict:
    """A flat width_point record with the per-depth gaps ``gaps`` (the rest constant)."""
    rec = {"n": n, "m": m, "seed": seed, "T": T, "eta": 0.01, "diverged": 0.0,
           "depths": sorted(gaps), "wall_s": 1.0}
    for L, g in gaps.items():
        rec |= {f"gap_L{L}": g, f"l_ratio_L{L}": 1e-3, f"interp_L{L}": 1.0,
                f"interp_half_L{L}": 1.0, f"t_hit_L{L}": 1.0, f"mu_L{L}": 0.1}
    depths = sorted(gaps)
    for a, b in zip(depths, depths[1:], strict=False):
        rec |= {f"local_slope_L{a}_{b}": 0.0, f"limit_gap_L{a}_{b}": 0.1}
    slope = (math.log(gaps[depths[-1]] / gaps[depths[0]])
             / math.log(depths[-1] / depths[0]) if len(depths) == 2 else math.nan)
    return rec | {"gap_slope": slope, "smooth": float(slope <= -0.8), "interpolated": 1.0,
                  "interpolated_half": 1.0, "limit_slope": math.nan, "limit_smooth": 0.0}


def test_records_without_tracking_are_unknown_and_get_the_measured_one() -> None:
    """Old records (no tracking fields) load as unknown; with_tracking attaches the measured
    tracking of the same (n, m, eta, T) only, keeps a record's own, and the cell reads it."""
    old = [_record(8, 1, 0, {4: 1.0, 8: 0.5}), _record(8, 1, 1, {4: 1.0, 8: 0.9})]
    assert wa.cells(old)[0]["tracks"] is None
    assert math.isnan(wa.cells(old)[0]["track_eta_lambda_max"])
    own = _record(8, 2, 0, {4: 1.0, 8: 0.5}) | th.tracking_fields(_to_dict(0.5, 2.0, True))
    other_T = _record(8, 4, 0, {4: 1.0, 8: 0.5}, T=20.0)
    measured = {(8, 1, 0.01, 10.0): _to_dict(2.02, None, False),
                (8, 2, 0.01, 10.0): _to_dict(1.9, 1.0, False),
                (8, 4, 0.01, 10.0): _to_dict(0.1, 2.0, True)}
    out = wa.with_tracking([*old, own, other_T], measured)
    assert [r.get("tracks") for r in out] == [0.0, 0.0, 1.0, None]
    assert out[0]["track_eta_lambda_max"] == 2.02 and math.isnan(out[0]["track_ratio"])
    assert out[2]["track_eta_lambda_max"] == 0.5 and out[2]["track_ratio"] == 2.0
    assert "tracks" not in old[0]  # the input is not changed
    cells = {c["m"]: c for c in wa.cells(out[:3])}  # cells of one horizon at a time
    assert cells[1]["tracks"] is False and cells[2]["tracks"] is True
    # both seeds of m = 1 borrow the one measurement of the point's seed 0: one network
    assert [(c["seeds_tracked"], c["seeds_tracking_known"]) for c in cells.values()] == \
        [(0, 1), (1, 1)]
    each = [own | {"seed": s, "track_seed": float(s), "tracks": float(s != 1)} for s in range(3)]
    cell = wa.cells(each)[0]  # each seed its own network: 2 of 3 track
    assert (cell["seeds_tracked"], cell["seeds_tracking_known"]) == (2, 3)
    mixed = wa.cells([out[2], _record(8, 2, 1, {4: 1.0, 8: 0.5})])[0]  # one known, tracks
    assert mixed["tracks"] is None and (mixed["seeds_tracked"], mixed["seeds_tracking_known"]) \
        == (1, 1)
    assert wa.cells(out[3:])[0]["tracks"] is None
    # the fractions keep every seed (slopes -1 and log2 0.9): beside the outcomes, no filter
    assert cells[1]["seeds"] == 2 and cells[1]["fraction_ode"] == 0.5


def test_the_table_row_and_the_committed_fractions() -> None:
    """committed(): on the common grid (4, 8) seed 0 (gap 1 -> 0.5: slope -1) is smooth and
    seed 1 (gap 1 -> 0.9: slope log2 0.9 = -0.15) is not; on the own grid (4, 8, 16) seed 1's
    gaps 1, 0.9, 0.1 give the least-squares slope (log 0.1 - log 1) / (2 log 2) = -1.66
    (symmetric grid), smooth: fractions 1/2 and 2/2.  row() carries the stored rule's verdict."""
    recs = [_record(8, 1, 0, {4: 1.0, 8: 0.5, 16: 0.25}), _record(8, 1, 1, {4: 1.0, 8: 0.9,
                                                                           16: 0.1}),
            _record(16, 1, 0, {4: 1.0, 8: 0.5})]
    for r in recs[:2]:  # own-grid slope by hand (least squares on 3 equally spaced log depths)
        r["gap_slope"] = (math.log(r["gap_L16"]) - math.log(r["gap_L4"])) / (2 * math.log(2))
        r["smooth"] = float(r["gap_slope"] <= -0.8)
    c = wt.committed(recs, 8, 1, 1)
    assert c["grid"] == [4, 8] and c["own_grid"] == [4, 8, 16]
    assert c["smooth_fraction"] == 0.5 and c["smooth_fraction_own_grid"] == 1.0
    assert c["seed_smooth"] == 0.0
    assert c["seed_gap_slope"] == pytest.approx(math.log2(0.9))
    assert wt.committed(recs, 8, 2, 0) == {}
    entry = {"n": 8, "m": 1, "T": 84.0, "tracking": _to_dict(2.02, 114.6, False),
             "committed": c}
    assert wt.row(entry) == {"n": 8, "m_over_n": 0.125, "m": 1, "T": 84.0, "eta_lambda_max": 2.02,
                             "ratio": 114.6, "tracks": False, "smooth_fraction": 0.5,
                             "smooth_fraction_own_grid": 1.0, "seed_smooth": 0.0}


def test_s15_note_says_which_widths_are_about_the_flow() -> None:
    from reports.sections import width

    out = {"tracking": wa.tracking_summary([_cell(8, 1, False, 2.02), _cell(8, 2, True),
                                            _cell(16, 1, True), _cell(16, 2, None),
                                            _cell(32, 1, None)]),
           "thresholds": {"ode": [{"censored": "", "falls": False, "m_star": 1.5},
                                  {"censored": "above", "falls": False},
                                  {"censored": "above", "falls": False}]}}
    note = width._tracking_note(out)
    assert "n = 8: does not track at m = 1 (2.02, 2); every width from m = 2 on tracks " \
           "(m*_ode = 1.5 is below it)" in note
    assert "n = 16: tracks at every measured width, unknown at m = [2]; n = 32: not " \
           "measured." in note
    assert width._tracks({"tracks": None}) == "unknown"
    assert width._tracks({"tracks": False, "track_eta_lambda_max": 2.0,
                          "track_ratio": 100.0}) == "NO (2, 100)"


def _rule(lam: float, ratio: float) -> bool:
    """The tracking rule from its definition: lam < x* with x* - 1 = exp(-x*) (bisection) and
    the ratio within a factor sqrt 2 of 2."""
    lo, hi = 1.0, 2.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if mid - 1 < math.exp(-mid) else (lo, mid)
    return lam < lo and 2 / math.sqrt(2) <= ratio <= 2 * math.sqrt(2)


def test_width_point_records_the_tracking_beside_every_seed() -> None:
    """A tiny point: every seed's record carries its own network's tracking (at the deepest
    depth; the batch does not change it: seed 1 alone gives seed 1's), its verdict the rule
    recomputed from the recorded numbers; at eta = 1.8 / lambda_max (gradient descent
    oscillating, not diverging) it does not track and every seed's outcomes are still recorded.
    A cell tracks only when each of its seeds does."""
    c = th.study_base(n=4, m=2, T=0.5, eta=0.01, depths=(2, 4), seeds=(0, 1))
    both = th.width_point(c)
    alone = th.width_point(dataclasses.replace(c, seeds=(1,)))
    for key in th.TRACKING_FIELDS:
        assert both[1][key] == alone[0][key]
    assert both[0]["track_eta_lambda_max"] != both[1]["track_eta_lambda_max"]
    assert [r["track_seed"] for r in both] == [0.0, 1.0] and both[0]["track_L"] == 4.0
    for rec in both:
        assert rec["tracks"] == float(_rule(rec["track_eta_lambda_max"],
                                            rec["track_ratio"])) == 1.0
    mixed = [both[0], both[1] | {"tracks": 0.0, "track_eta_lambda_max": 1.5}]
    cell = wa.cells(mixed)[0]
    assert cell["tracks"] is False and cell["track_eta_lambda_max"] == 1.5
    assert wa.cells([both[0], {k: v for k, v in both[1].items()
                               if k not in th.TRACKING_FIELDS}])[0]["tracks"] is None
    eta = 1.8 * c.eta / flow_tracking(c).per_seed[0].eta_lambda[0]  # eta lambda_max(0) = 1.8
    fast = th.width_point(dataclasses.replace(c, eta=eta, T=8 * eta))
    assert len(fast) == 2 and not any(r["diverged"] for r in fast)
    assert all(math.isfinite(r["gap_slope"]) and r["smooth"] in (0.0, 1.0) for r in fast)
    assert fast[0]["track_eta_lambda_max"] >= 1.8 * (1 - 1e-3)
    assert fast[0]["tracks"] == float(_rule(fast[0]["track_eta_lambda_max"],
                                            fast[0]["track_ratio"])) == 0.0


def test_the_section_attaches_the_measured_tracking_file(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from reports.sections import width

    path = tmp_path / "tracking.json"
    path.write_text(json.dumps({"entries": [
        {"n": 8, "m": 1, "eta": 0.01, "T": 84.0, "tracking": _to_dict(2.0, None, False)}]}))
    monkeypatch.setattr(width, "TRACKING_FILE", path)
    assert width._measured_tracking() == {(8, 1, 0.01, 84.0): _to_dict(2.0, None, False)}
    monkeypatch.setattr(width, "TRACKING_FILE", tmp_path / "absent.json")
    assert width._measured_tracking() == {}


def test_measure_takes_the_asked_widths_in_order_once(tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    """``--m``: only the asked widths of the asked n with committed outcomes, in increasing m,
    each once (a rerun measures nothing); a point without outcomes is skipped; bad arguments
    exit 2 in one line before any measurement."""
    records = [{"n": 8, "m": m, "seed": 0, "depths": [4, 8], "gap_slope": -1.0, "smooth": 1.0,
                "interpolated": 1.0, "gap_slope_grid": {}} for m in (1, 2, 4, 8)]
    committed_file = tmp_path / "committed.json"
    committed_file.write_text(json.dumps({"records": records}))
    monkeypatch.setattr(wt, "COMMITTED", committed_file)
    monkeypatch.setattr(wt, "ROOT", tmp_path)
    monkeypatch.setattr(wt, "committed", lambda rs, n, m, seed: {"smooth_fraction": 1.0})
    asked = []

    def fake(config):  # type: ignore[no-untyped-def]
        asked.append((config.n, config.m, config.seeds))
        seed = dataclasses.make_dataclass("S", ["L"])(config.depths[-1])
        seed.to_dict = lambda: _to_dict(1.0, 2.0, True)  # type: ignore[attr-defined]
        return dataclasses.make_dataclass("R", ["per_seed"])([seed])

    monkeypatch.setattr(wt, "flow_tracking", fake)
    out = tmp_path / "tracking.json"
    T = wt.preset("full").points[0].config.T  # the full preset's T(8)
    # (8, 2) measured before at another horizon (T(n) changed since): not this point's
    out.write_text(json.dumps({"entries": [{"n": 8, "m": 2, "eta": 0.01, "T": T / 2,
                                            "tracking": _to_dict(1.0, 2.0, True)}]}))
    wt.measure((8,), out, ms=[8, 2, 16])  # 16: no committed outcomes at (8, 16)
    assert asked == [(8, 2, (0,)), (8, 8, (0,))]
    assert [(e["n"], e["m"], e["T"]) for e in json.loads(out.read_text())["entries"]] == [
        (8, 2, T / 2), (8, 2, T), (8, 8, T)]
    wt.measure((8,), out, ms=[2, 8])
    assert len(asked) == 2
    for argv in (["8", "--m"], ["8", "--m", "x"], ["eight"]):
        with pytest.raises(SystemExit) as info:
            wt._main(argv)
        assert info.value.code == 2 and capsys.readouterr().err.count("\n") == 1
    assert len(asked) == 2
