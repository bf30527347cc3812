"""docs/adding-a-statement.md, followed for a toy statement: one catalog entry, one measurement and
its facts bound to it (:func:`theory.catalog.bind`), a property and a report row; the toy is then
seen by ``resnet-ode check``, ``resnet-ode report --only`` and the property suite's catalog-wide
table, with nothing else registered anywhere.  The catalog, the report's sections and the
property table are restored afterwards (monkeypatch).

The toy is Cauchy-Schwarz, |<x, y>| <= ||x|| ||y||, on seeded Gaussian pairs: its measured ratio
is compared with the cosine computed here by numpy (another library), never with the code's own
output.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from numerics.evidence import Evidence
from numerics.measure import Measurement
from reports import cli
from reports.sections import Context, Row, Section
from theory.catalog import Statement, bind, catalog
from theory.config import Config
from theory.verdicts import Facts

TOY_ID = "toy.cauchy_schwarz"


def toy_assumptions(config: Config) -> list[str]:
    """The toy assumes nothing (the assumptions predicate of the guide's step 1)."""
    return []


TOY = Statement(
    TOY_ID, "S99", "a toy (tests/test_add_statement.py)",
    "Cauchy-Schwarz: the inner product of two vectors is at most the product of their norms.",
    "max |<x, y>| / (||x|| ||y||) <= 1", "bound", "tests.test_add_statement:toy_assumptions",
    no_control="a toy: an inequality that holds for every pair, so no configuration can fail it")


def pairs(config: Config) -> tuple[torch.Tensor, torch.Tensor]:
    """``config.trials`` pairs (x, y) in R^d, standard Gaussian, drawn with ``config.seed``."""
    gen = torch.Generator().manual_seed(config.seed)
    x, y = torch.randn(2, config.trials, config.d, generator=gen, dtype=torch.float64)
    return x, y


def measure_toy(config: Config) -> Measurement:
    """max over the pairs of |<x, y>| / (||x|| ||y||)."""
    x, y = pairs(config)
    cosine = (x * y).sum(-1).abs() / (x.norm(dim=-1) * y.norm(dim=-1))
    return Measurement(TOY_ID, config, {"max_ratio": float(cosine.max())},
                       {"trials": config.trials})


def toy_facts(st: Statement, c: Config, m: Measurement) -> Evidence:
    return Evidence(Facts(m.values["max_ratio"], 1.0, dtype=c.dtype),
                    notes=[f"measured: the largest |<x, y>| / (||x|| ||y||) over "
                           f"{m.inputs['trials']:g} pairs"])


CONFIG = Config(d=3, trials=64, seed=5)


def _rows(ctx: Context) -> list[Row]:
    return [Row(TOY_ID, "64 pairs in R^3", ctx.config(d=3, trials=64))]


TOY_SECTION = Section(
    key="S99", title="A toy: Cauchy-Schwarz", ids=(TOY_ID,), assumptions={TOY_ID: ()},
    rows=_rows, draw=lambda data, checks: None,
    conclusion=lambda data, checks: f"Cauchy-Schwarz {checks[0].check.verdict}.",
    figure_note=lambda data: "No figure.")


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch) -> Iterator[Statement]:
    """The toy in the catalog (where a ``Statement(...)`` in theory/catalog.py's list puts it),
    bound to its numerics, with its report section beside the others (in every module that
    imported the sections' tuple) and its row in the property suite's table of hypotheses."""
    import numerics.checks  # noqa: F401  every real statement bound first
    from properties import test_catalog

    monkeypatch.setitem(catalog._by_id, TOY_ID, TOY)
    bind(TOY_ID, measure=measure_toy, facts=toy_facts)
    import reports.sections

    # a local name: this module's own SECTIONS is patched in the loop too
    original = reports.sections.SECTIONS
    extended = (*original, TOY_SECTION)
    for module in list(sys.modules.values()):
        if getattr(module, "SECTIONS", None) is original:
            monkeypatch.setattr(module, "SECTIONS", extended)
    monkeypatch.setitem(test_catalog.HYPOTHESES, TOY_ID, (set(), set(), True))
    yield TOY


def _numpy_max_cosine(config: Config) -> float:
    x, y = (t.numpy() for t in pairs(config))
    dots = np.einsum("ij,ij->i", x, y)
    return float(np.max(np.abs(dots) / (np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1))))


def test_resnet_ode_check_runs_the_toy(toy: Statement, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "toy.json"
    path.write_text(json.dumps({"d": 3, "trials": 64, "seed": 5}))
    assert cli.main(["check", TOY_ID, "--config", str(path), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["id"] == TOY_ID and record["verdict"] == "holds"
    assert record["bound"] == 1.0
    assert record["measured"] == pytest.approx(_numpy_max_cosine(CONFIG), rel=1e-12)
    assert 0 < record["measured"] < 1


def test_report_only_shows_the_toy(toy: Statement, tmp_path: Path) -> None:
    out = tmp_path / "report"
    assert cli.main(["report", "--scale", "tiny", "--only", TOY_ID, "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    (row,) = [c for c in results["checks"] if c["id"] == TOY_ID]
    assert row["verdict"] == "holds" and row["label"] == "64 pairs in R^3"
    config = Config.from_mapping(row["config"])
    assert row["measured"] == pytest.approx(_numpy_max_cosine(config), rel=1e-12)
    assert TOY_ID in (out / "report.md").read_text()


def test_the_property_suite_sees_the_toy(toy: Statement) -> None:
    """The catalog-wide properties (properties/test_catalog.py) cover the toy once its row is in
    the table, and fail without it; the contract of every check holds for it."""
    from properties import test_catalog
    from properties.assertions import assert_holds, checked

    test_catalog.test_table_covers_the_catalog()
    # the property's body on one configuration (its drawn ones: the property suite's run)
    test_catalog.test_predicates_name_exactly_the_failed_hypotheses.hypothesis.inner_test(CONFIG)
    assert_holds(checked(TOY_ID, CONFIG), CONFIG)
    del test_catalog.HYPOTHESES[TOY_ID]  # restored by the fixture's monkeypatch
    with pytest.raises(AssertionError):
        test_catalog.test_table_covers_the_catalog()
