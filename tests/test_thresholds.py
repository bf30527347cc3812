"""numerics.thresholds: one tiny sweep point (width_point), the width-thresholds presets and S15
drawing a collected data file."""

from __future__ import annotations

import pytest

from numerics import thresholds as th
from numerics.horizon import horizon


def test_width_point_tiny() -> None:
    """One tiny (n, m): a record per seed with every field; seeds batched give each seed's own
    numbers (bitwise as alone)."""
    c = th.study_base(n=4, m=2, T=0.5, eta=0.05, depths=(2, 4), seeds=(0, 1))
    both = th.width_point(c)
    alone = th.width_point(c.__class__.from_mapping({**c.to_dict(), "seeds": (1,)}))
    assert len(both) == 2
    for key in ("gap_slope", "gap_L2", "gap_L4", "limit_gap_L2_4", "l_ratio_L4"):
        assert both[1][key] == alone[0][key]
    assert both[0]["local_slope_L2_4"] == pytest.approx(both[0]["gap_slope"])
    assert both[0]["smooth"] == float(both[0]["gap_slope"] <= -0.8)


def test_width_presets() -> None:
    """The three scales: one point per distinct (n, m), horizons from the pilots, extended depths
    where declared, the grid's own fields refused as overrides, the cost estimate positive."""
    from reports.sweep import spec, width
    from theory.errors import ConfigError

    quick = spec.preset("width-thresholds", "quick")
    assert {p.config.n for p in quick.points} == {8, 12, 16}
    assert all(len(p.config.seeds) >= 5 and p.config.depths == (4, 8, 16, 32)
               for p in quick.points)
    assert len({(p.config.n, p.config.m) for p in quick.points}) == len(quick.points)
    full = spec.preset("width-thresholds", "full")
    assert max(p.config.n for p in full.points) >= 128
    assert {p.config.depths[-1] for p in full.points if p.config.n == 8} == {128}
    assert min(p.config.m / p.config.n for p in full.points if p.config.n == 128) == 1 / 64
    cluster = spec.preset("width-thresholds", "cluster")
    assert max(p.config.n for p in cluster.points) >= 512
    assert all(p.config.T == horizon(p.config.n) for p in cluster.points)
    with pytest.raises(ConfigError):
        spec.preset("width-thresholds", "quick", {"T": 3.0})
    with pytest.raises(ConfigError):
        spec.preset("phase-diagram", "cluster")
    y = spec.preset("width-thresholds", "quick", {"ns": [8], "y_scale": 3.0})
    assert {p.config.y_scale for p in y.points} == {3.0}
    e = width.estimate("quick")
    assert e["total_s"] > 0 and len(e["points"]) == len(quick.points)


def test_the_wide_sweep_file_is_the_full_presets_n_128() -> None:
    """reports/data/width-thresholds-full/sweep-128-wide.json: the full preset's configurations
    at n = 128 for its widths, run by the width task's trainings alone (point_records)."""
    import dataclasses
    from pathlib import Path

    from reports.sweep import spec

    path = Path(__file__).resolve().parents[1] / "reports" / "data" / "width-thresholds-full"
    wide = spec.load_sweep(path / "sweep-128-wide.json", {"seeds": [1, 2]})
    full = {p.config.m: p.config for p in spec.preset("width-thresholds", "full").points
            if p.config.n == 128}
    assert wide.task == "numerics.thresholds:point_records"
    assert [p.config.m for p in wide.points] == [512, 1024, 2048]
    for p in wide.points:
        assert p.config == dataclasses.replace(full[p.config.m], seeds=(1, 2))


def test_section_draws_a_collected_data_file(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A sweep's results folder -> collect -> the data file, which S15 draws (without training)
    and names, with both thresholds and exponents in its results."""
    import json

    from reports.sections import width
    from reports.sections.base import Context
    from reports.sweep.engine import _json_ready

    folder = tmp_path / "sweep"
    (folder / "results").mkdir(parents=True)
    for n in (4, 8):
        for m in (1, 4, 16):
            c = th.study_base(n=n, m=m, T=0.5, eta=0.05, depths=(2, 4), seeds=(0, 1))
            for k, rec in enumerate(th.width_point(c)):
                single = c.to_dict() | {"seeds": [c.seeds[k]]}
                (folder / "results" / f"{n}-{m}-{k}.json").write_text(json.dumps(
                    {"key": f"{n}-{m}-{k}", "code_version": "test", "seed": c.seeds[k],
                     "config": single, "record": _json_ready(rec)}))
    data_file = tmp_path / "data.json"
    collected = width.collect(folder, data_file)
    assert collected["provenance"]["records"] == 12 and collected["horizons"] == {"4": 0.5,
                                                                                  "8": 0.5}
    monkeypatch.setattr(width, "DATA_FILE", data_file)
    monkeypatch.setattr(width, "FACTORS_FILE", tmp_path / "absent.json")
    monkeypatch.setattr(width, "ROOT", tmp_path)
    monkeypatch.setattr(width, "_compute", lambda ctx: pytest.fail("must not train"))
    # n = 4's horizon from a rule pilot; n = 8's extrapolated, then checked: 2 x 0.3 = 0.6 > 0.5
    monkeypatch.setattr(width, "pilots", lambda: {4: 0.25, 16: 1.0})
    monkeypatch.setattr(width, "horizon", lambda n, measured=None: 0.5)
    monkeypatch.setattr(width, "check_pilots", lambda: {8: {"n": 8, "t_knee": 0.3,
                                                            "t_hit": [0.2, 0.3],
                                                            "T_pilot": 1.0}})
    data = width._data(Context("quick"), [])
    assert data["source"]["kind"] == "file" and data["source"]["file"] == "data.json"
    assert set(data["results"]["thresholds"]) >= {"interp", "ode"}
    assert set(data["results"]["exponents"]) >= {"interp", "ode"}
    h4, h8 = data["results"]["horizons"]
    assert h4 == {"n": 4, "T": 0.5, "pilot": "measured", "check": None}
    assert (h8["n"], h8["pilot"], h8["check"]["rule_T"], h8["check"]["meets"]) == (
        8, "extrapolated", 1.0, False)
    assert h8["check"]["ratio"] == pytest.approx(0.5 / 0.6)
    assert width._short(data["horizon_rows"]) == [8]  # left out of the exponents: none left
    assert data["analysis"]["exponents"]["interp"] is None
    assert ("at n = 8 the horizon used, T = 0.5 (extrapolated), is shorter than the rule's "
            "2 t_knee measured afterwards (1; numerics.horizon check)") in width._conclusion(
                data, [])
    text = width._text(data, [])
    assert "data.json" in text
    assert ("n = 8: t_knee = 0.3 (pilot seeds' t_hit 0.2, 0.3), so the rule's T = 1; the T = 0.5 "
            "used is 0.83 times it: shorter than the rule") in text
    # a horizon that is not the rule's (the tiny report's T) is neither measured nor extrapolated
    monkeypatch.setattr(width, "horizon", lambda n, measured=None: 84.0)
    assert {h["pilot"] for h in width._data(Context("quick"), [])["results"]["horizons"]} == {
        "set"}


def test_provenance_sums_each_task_once() -> None:
    """The summed wall time counts a batched task once (its seeds share its wall_s and
    track_wall_s) and each seed of a point run seed by seed once: 10 + 3 + 4 + (5 + 2) = 24 s
    over 3 points, one unit resumed."""
    from reports.sections import width

    walls = ((1, 10.0, "a"), (1, 10.0, "a"), (2, 3.0, "b"), (2, 4.0, "b"))
    units = [({}, {"n": 8, "m": m, "wall_s": w}, v) for m, w, v in walls]
    units += [({}, {"n": 8, "m": 4, "wall_s": 5.0, "track_wall_s": 2.0, "resumed": r}, "c")
              for r in (1.0, 0.0)]
    stamp = width._stamp(units, {})
    assert stamp["wall_s_tasks"] == 24.0 and stamp["points"] == 3
    assert stamp["code_versions"] == ["a", "b", "c"] and stamp["resumed_units"] == 1


def _sweep_folder(folder, configs) -> None:  # type: ignore[no-untyped-def]
    """A sweep's results folder (one file per seed, as reports.sweep.engine writes it)."""
    import json

    from reports.sweep.engine import _json_ready

    (folder / "results").mkdir(parents=True)
    for j, c in enumerate(configs):
        for k, rec in enumerate(th.width_point(c)):
            single = c.to_dict() | {"seeds": [c.seeds[k]]}
            (folder / "results" / f"{j}-{k}.json").write_text(json.dumps(
                {"key": f"{j}-{k}", "code_version": "test", "seed": c.seeds[k],
                 "config": single, "record": _json_ready(rec)}))


def test_factor_groups(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """collect_factors names a folder by its n and the one base field it changes (and the step
    where that differs too), refuses a folder of several groups, of no change or of one width
    (no logistic midpoint), and S15's table
    per group carries the fractions counted from the records themselves."""
    import json

    from reports.sections import width

    tiny = {"n": 8, "T": 0.5, "eta": 0.05, "depths": width.FACTOR_GRID, "L": 32,
            "seeds": (0, 1)}
    _sweep_folder(tmp_path / "d2", [th.study_base(**tiny, d=2, m=m) for m in (1, 4)])
    _sweep_folder(tmp_path / "mixed", [th.study_base(**tiny, d=2, m=1),
                                       th.study_base(**tiny, q=4, m=1)])
    _sweep_folder(tmp_path / "base", [th.study_base(**tiny | {"eta": 0.01}, m=1)])
    out = tmp_path / "factors.json"
    data = width.collect_factors([tmp_path / "d2"], out)
    assert list(data["groups"]) == ["n=8, d=2, eta=0.05"]
    records = json.loads(out.read_text())["groups"]["n=8, d=2, eta=0.05"]["records"]
    assert sorted((r["m"], r["seed"]) for r in records) == [(1, 0), (1, 1), (4, 0), (4, 1)]
    _sweep_folder(tmp_path / "step", [th.study_base(**tiny | {"n": 4}, m=m) for m in (1, 2)])
    _sweep_folder(tmp_path / "one", [th.study_base(**tiny | {"n": 4}, m=2)])
    assert list(width.collect_factors([tmp_path / "step"], tmp_path / "step.json")["groups"]) \
        == ["n=4, eta=0.05"]  # the step alone: a rerun where gradient descent tracks the flow
    for bad, why in (("mixed", "several groups"), ("base", "changed: none"),
                     ("one", "one width only")):
        with pytest.raises(SystemExit, match=why):
            width.collect_factors([tmp_path / bad], out)
    monkeypatch.setattr(width, "FACTORS_FILE", out)
    table = width._factors([], reps=50, seed=0)["groups"]["n=8, d=2, eta=0.05"]
    counted = [[m, sum(bool(r["interpolated"]) for r in records if r["m"] == m) / 2,
                sum(bool(r["smooth"]) for r in records if r["m"] == m) / 2] for m in (1, 4)]
    assert table["fractions"] == counted
    rows = [line for line in width._factor_lines(width._factors([], reps=50, seed=0))
            if line.startswith("| 8 |")]
    untracked = ", ".join(str(m) for m in (1, 4) if any(
        r["tracks"] == 0.0 for r in records if r["m"] == m)) or "none"
    assert rows == [rows[0]] and rows[0].startswith("| 8 | d=2, eta=0.05 |") \
        and rows[0].endswith(f"| {untracked} |")
    assert width._factor_lines({}) == []


def test_rerun_sentence_pairs_the_base_with_its_smaller_step() -> None:
    """Only groups that change the step alone are compared, at the widths both measured."""
    from reports.sections.width import _rerun_sentence

    groups = {"n=16, base": {"n": 16, "changed": "base",
                             "fractions": [[8, 1.0, 0.0], [16, 1.0, 0.2], [32, 1.0, 0.6]],
                             "tracked": [[8, 0, 1], [16, 0, 0], [32, 1, 1]]},
              "n=16, eta=0.005": {"n": 16, "changed": "eta=0.005",
                                  "fractions": [[16, 0.8, 0.4], [64, 1.0, 1.0]],
                                  "tracked": [[16, 2, 5], [64, 5, 5]]},
              "n=8, q=16, eta=0.0025": {"n": 8, "changed": "q=16, eta=0.0025",
                                        "fractions": [[16, 1.0, 1.0]]}}
    text = _rerun_sentence(groups)
    assert text.endswith("n = 16 at eta=0.005, m = 16: 1.0 / 0.8 interpolating, 0.2 / 0.4 "
                         "smooth, seeds tracking the flow not measured / 2 of 5")
    assert _rerun_sentence({k: v for k, v in groups.items() if "base" in k}) == ""


def test_conclusion_names_a_fraction_that_falls_with_m() -> None:
    """S15 names the outcome and n whose fraction falls with m (5/5, 5/5, 0/5, 0/5 seeds at
    m = 1, 2, 4, 8: the isotonic fit pools all four at 1/2, and a draw of 20 Bin(5, 1/2) as
    reversed as that is rare) and not those that rise."""
    from numerics.transition import MONOTONE_LEVEL, threshold
    from reports.sections import width

    m = [1] * 5 + [2] * 5 + [4] * 5 + [8] * 5
    rising = threshold(m, [0] * 10 + [1] * 10, 64, 200, 0)[0]
    falling = threshold(m, [1] * 10 + [0] * 10, 64, 200, 0)[0]
    assert rising["monotone_p"] == 1.0 and falling["monotone_p"] < MONOTONE_LEVEL
    sentence = width._falls({"thresholds": {"interp": [rising], "ode": [rising],
                                            "limit": [falling]}})
    assert "limit at n = 64" in sentence and "interp" not in sentence and "ode" not in sentence
    half = width._falls({"thresholds": {"interp": [rising], "ode": [rising], "limit": [rising],
                                        "interp_half": [falling]}})
    assert "interp_half at n = 64" in half and "limit" not in half
    assert width._falls({"thresholds": {"interp": [rising], "ode": [rising],
                                        "limit": [rising]}}) == ""


def test_conclusion_says_whether_gradient_descent_tracks_around_each_threshold() -> None:
    """The grid widths either side of m*: both tracked -> tracks; one untracked -> does not;
    one unknown (None) and none untracked -> not known; a threshold at a grid width takes it
    and the next one up; a censored threshold (outside the grid) says nothing."""
    from reports.sections import width

    def t(n: int, m_star: float, censored: str | None = None) -> dict:
        return {"n": n, "m_star": m_star, "censored": censored, "falls": False}

    def cells(n: int, tracks: dict[int, bool | None]) -> list[dict]:
        return [{"n": n, "m": float(m), "tracks": v} for m, v in tracks.items()]

    out = {"thresholds": {"ode": [t(8, 3.0), t(16, 20.0), t(32, 64.0), t(64, 500.0, "above")]},
           "cells": cells(8, {1: False, 2: True, 4: True, 8: False})
           + cells(16, {8: False, 16: True, 32: None, 64: False})
           + cells(32, {32: False, 64: True, 128: False, 256: True})
           + cells(64, {128: False, 256: False})}
    assert width._around(out, "ode") == (
        ". At the grid widths either side of each m*_ode, gradient descent at the sweep's eta "
        "tracks the flow at n = 8 (m = 2, 4); does not track the flow at n = 32 (m = 64, 128); "
        "is not known to track the flow at n = 16 (m = 16, 32)")
    out["thresholds"]["ode"] = [t(64, 500.0, "above")]
    assert width._around(out, "ode") == ""


@pytest.mark.parametrize(("kill_at", "files"), [
    # L = 2: checks at i = 0..10 (11); killed at L = 4's check i = 4, whose start was saved
    (11 + 5, ["L2-seeds-0-1.pt", "L4-seeds-0-1.pt"]),
    # both depths done (22); the tracking's step-eta run done (11), killed in its eta/2 run
    (22 + 11 + 5, ["L2-seeds-0-1.pt", "L4-seeds-0-1.pt", "eta0.pt", "eta1.pt"])])
def test_a_width_sweep_killed_inside_a_unit_resumes_inside_it(  # type: ignore[no-untyped-def]
        kill_at, files, tmp_path, monkeypatch) -> None:
    """The width task killed in the middle of a training (a depth's, or the flow tracking's
    step halving): the rerun loads the finished trainings and the interrupted one's checkpoint,
    so it runs only the steps left (counted by the divergence check each step calls), its
    records equal an uninterrupted sweep's bitwise (but for the wall times and ``resumed``),
    and the checkpoints are removed once the records are saved."""
    import io

    from numerics import flow, tracking
    from reports.sweep import engine, spec

    c = th.study_base(n=4, m=2, T=0.5, eta=0.05, depths=(2, 4), seeds=(0, 1))  # N = 10 steps
    sweep = spec.grid("w", "numerics.thresholds:width_point", c.to_dict(), {"m": [2]})
    real, calls = flow._check_divergence, [0]

    class Kill(BaseException):
        pass

    def counted(i, row, max_norm, kill_at=None):  # type: ignore[no-untyped-def]
        calls[0] += 1
        if calls[0] == kill_at:
            raise Kill
        real(i, row, max_norm)

    def run(out: str, kill_at: int | None = None) -> engine.Outcome:
        tracking._tracking.cache_clear()
        calls[0] = 0
        monkeypatch.setattr(flow, "_check_divergence",
                            lambda i, row, max_norm: counted(i, row, max_norm, kill_at))
        return engine.run_sweep(sweep, tmp_path / out, figures=False, stream=io.StringIO())

    reference = run("fresh")
    uninterrupted = calls[0]
    with pytest.raises(Kill):
        run("killed", kill_at=kill_at)
    saved = tmp_path / "killed" / engine.CHECKPOINT_DIR
    assert sorted(p.name for p in saved.rglob("*.pt")) == files
    resumed = run("killed")
    assert calls[0] == uninterrupted - (kill_at - 1)
    assert not list(saved.rglob("*.pt"))
    timing = {"wall_s", "track_wall_s", "resumed"}
    assert len(reference.records) == 2
    for key, record in reference.records.items():
        again = resumed.records[key]
        assert {k: v for k, v in again.items() if k not in timing} == \
            {k: v for k, v in record.items() if k not in timing}
        assert (record["resumed"], again["resumed"]) == (0.0, 1.0)
