"""numerics.horizon: the horizon rule T(n) = 2 t_knee(n) and the pilot file, on hand-made knees
with the answer worked out by hand."""

from __future__ import annotations

import json

import pytest

from numerics.horizon import (
    _main,
    _store,
    check_pilots,
    fit_horizon,
    horizon,
    horizon_check,
    pilots,
)
from theory.errors import ConfigError


def test_horizon_rule_is_twice_the_fitted_knee() -> None:
    b, alpha = fit_horizon({8: 10.0, 32: 40.0})
    assert alpha == pytest.approx(1.0) and b == pytest.approx(1.25)
    assert horizon(16, {8: 10.0, 32: 40.0}) == 40.0


def test_horizon_at_a_measured_pilot_and_the_pilot_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """At a measured n, T = ceil(2 t_knee): 2 x 41.6 = 83.2 -> 84, 2 x 57.4 = 114.8 -> 115, and
    an integer 2 x 42 = 84 stays 84; the file's pilots without a t_knee (a seed that never
    reached the level) are left out, and one pilot cannot fit the power law."""
    knees = {8: 41.6, 16: 57.4}
    assert horizon(8, knees) == 84.0 and horizon(16, knees) == 115.0
    assert horizon(8, {8: 42.0}) == 84.0
    path = tmp_path / "pilots.json"
    path.write_text(json.dumps({"pilots": [{"n": 8, "t_knee": 41.6}, {"n": 16, "t_knee": None}]}))
    assert pilots(path) == {8: 41.6}
    assert pilots(tmp_path / "absent.json") == {}
    with pytest.raises(ConfigError):
        fit_horizon({8: 41.6})


def test_a_check_pilot_against_the_horizon_used() -> None:
    """T = 881 used against a knee measured afterwards: 2 x 440 = 880 <= 881 meets the rule
    (ratio 881 / 880); 2 x 440.6 = 881.2 -> 882 > 881 does not (ratio 881 / 881.2); a pilot seed
    that never reached the level leaves no horizon that meets it."""
    ok = horizon_check(881.0, {"n": 128, "t_knee": 440.0, "t_hit": [400.0, 440.0],
                               "T_pilot": 704.0})
    assert (ok["rule_T"], ok["meets"]) == (880.0, True)
    assert ok["ratio"] == pytest.approx(881 / 880)
    short = horizon_check(881.0, {"n": 128, "t_knee": 440.6, "t_hit": [440.6], "T_pilot": 704.0})
    assert (short["rule_T"], short["meets"]) == (882.0, False)
    assert short["ratio"] == pytest.approx(881 / 881.2)
    # a seed not at the level by T_pilot = 704: t_knee > 704, the rule's T > 1408 > 881
    late = horizon_check(881.0, {"n": 128, "t_knee": None, "t_hit": [300.0, None],
                                 "T_pilot": 704.0})
    assert (late["rule_T"], late["rule_T_above"], late["meets"], late["ratio"]) == (
        None, 1408.0, False, None)
    # ... by T_pilot = 400: the rule's T > 800, which 881 may or may not meet
    assert horizon_check(881.0, {"n": 128, "t_knee": None, "t_hit": [None],
                                 "T_pilot": 400.0})["meets"] is None


def test_the_pilot_records_the_horizon_it_ran_to() -> None:
    """A tiny pilot (n = 4, eta = 0.05) to T = 0.5 and once doubled to 1.0: not every seed
    reaches 1e-2 l(0) that soon, so t_knee is None and T_pilot is the last run's 1.0 (not
    2.0), and the seeds that reached it did so within it."""
    from numerics.horizon import pilot
    from numerics.thresholds import study_base

    entry = pilot(study_base(eta=0.05), 4, T_pilot=0.5, doublings=1)
    assert entry["T_pilot"] == 1.0 and entry["t_knee"] is None
    assert None in entry["t_hit"] and (entry["m"], entry["L"]) == (16, 8)
    assert all(0 < t <= 1.0 for t in entry["t_hit"] if t is not None)


def test_check_pilots_are_stored_apart_from_the_rule(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A check pilot goes to the file's ``checks`` and never moves the rule: the pilots (and so
    T(n) from them) are those stored before; a second check at the same n replaces the first;
    no temporary file is left beside the pilot file."""
    path = tmp_path / "pilots.json"
    _store({"n": 8, "t_knee": 41.6}, "pilots", path)
    _store({"n": 16, "t_knee": 57.4}, "pilots", path)
    _store({"n": 128, "t_knee": 500.0}, "checks", path)
    _store({"n": 128, "t_knee": 450.0}, "checks", path)
    assert pilots(path) == {8: 41.6, 16: 57.4}
    assert check_pilots(path) == {128: {"n": 128, "t_knee": 450.0}}
    assert horizon(128, pilots(path)) == horizon(128, {8: 41.6, 16: 57.4})
    assert [f.name for f in tmp_path.iterdir()] == ["pilots.json"]


@pytest.mark.parametrize("argv", [[], ["check"], ["check", "x"], ["check", "1"], ["run", "8"],
                                  ["check", "128", "--T"], ["check", "128", "--T", "-1"],
                                  ["check", "--T", "704"], ["pilot", "8", "--T", "nan"]])
def test_bad_pilot_arguments_exit_2_in_one_line(argv, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as info:
        _main(argv, path=tmp_path / "pilots.json")
    err = capsys.readouterr().err
    assert info.value.code == 2 and err.count("\n") == 1 and err.startswith("usage:")
    assert not (tmp_path / "pilots.json").exists()


def test_promote_makes_a_check_pilot_the_rules(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """``promote 128``: the check pilot (the rule's network: m = 4 x 128, L = 8, eta = 0.01, the
    pilot seeds) becomes the rule's pilot at 128, so T(128) = ceil(2 x 880) = 1760 (not the
    power fit's); the check stays.  A check of another network, or no check, is refused in one
    line (exit 2) before anything is stored."""
    path = tmp_path / "pilots.json"
    _store({"n": 8, "t_knee": 41.6}, "pilots", path)
    _store({"n": 16, "t_knee": 57.4}, "pilots", path)
    check = {"n": 128, "m": 512, "L": 8, "eta": 0.01, "seeds": [1000, 1001, 1002, 1003, 1004],
             "t_knee": 880.0, "T_pilot": 1408.0}
    _store(check, "checks", path)
    _store({**check, "n": 64, "m": 128, "t_knee": 200.0}, "checks", path)  # m != 4 x 64
    for argv in (["promote", "128", "64"], ["promote", "128", "32"],
                 ["promote", "128", "--T", "9"]):
        with pytest.raises(SystemExit) as info:
            _main(argv, path=path)
        assert info.value.code == 2 and capsys.readouterr().err.count("\n") == 1
        assert pilots(path) == {8: 41.6, 16: 57.4}
    _main(["promote", "128"], path=path)
    assert pilots(path) == {8: 41.6, 16: 57.4, 128: 880.0}
    assert horizon(128, pilots(path)) == 1760.0
    assert set(check_pilots(path)) == {64, 128}
