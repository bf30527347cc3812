"""numerics.horizon: the horizon rule T(n) = 2 t_knee(n) and the pilot file, on hand-made knees
with the answer worked out by hand."""

from __future__ import annotations

import json

import pytest

from numerics.horizon import fit_horizon, horizon, pilots
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
