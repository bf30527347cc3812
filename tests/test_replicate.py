"""reports.replicate: the rows of independent base seeds (disjoint seeds), a one-line error for a
row that does not exist, the file written after every check and resumed without rerunning."""

from __future__ import annotations

import json

import pytest

from reports import replicate


def test_base_seeds_draw_disjoint_seeds_and_the_file_resumes(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "r.json"
    data = replicate.replicate("A 16 x 8", ["lemma18.linalg"], [0, 1], {"trials": 50}, out)
    seeds = [set(r["result"]["config"]["seeds"]) for r in data["results"]]
    assert len(seeds) == 2 and not seeds[0] & seeds[1]
    assert all(r["result"]["config"]["trials"] == 50 for r in data["results"])
    assert data["classes"]["lemma18.linalg"]["by_base"] == {
        "0": data["results"][0]["result"]["verdict"], "1": data["results"][1]["result"]["verdict"]}
    assert json.loads(out.read_text()) == data

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("a finished check was rerun")

    monkeypatch.setattr(replicate, "run_check", fail)
    assert replicate.replicate("A 16 x 8", ["lemma18.linalg"], [0, 1], {"trials": 50}, out) == data
    with pytest.raises(AssertionError, match="rerun"):  # another configuration is not resumed
        replicate.replicate("A 16 x 8", ["lemma18.linalg"], [0], {"trials": 60}, out)


def test_a_row_that_matches_nothing_is_a_one_line_error(capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as exc:
        replicate.main(["no such row", "lemma18.linalg", "--out", "unused.json"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "must match exactly one quick row" in err
