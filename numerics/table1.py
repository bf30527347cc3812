"""Section 5.2's Table 1 (family S13): on real data, a tied initialization with a smooth
activation keeps what training adds to the residual convolutions smooth across layers; an
i.i.d. one does not.  The runs (:func:`numerics.realdata.run_table1`), the measurement, Table 1's
power rule (:func:`table1_power`) and the facts, bound to the catalog entry
(:func:`theory.catalog.bind`).
"""

from __future__ import annotations

import copy
import functools
from typing import Any

import numpy as np

from numerics import progress, realdata
from numerics.evidence import Evidence
from numerics.measure import Measurement
from numerics.rates import median_interval
from theory.catalog import Statement, bind
from theory.config import Config
from theory.verdicts import Facts

RUN_KEYS = ("train_acc", "test_acc", "test_acc_no_branches", "relative_1", "relative_2",
            "roughness", "moved", "bn2_rms")
"""What :func:`measure_table1` keeps of each run of Section 5.2 (per seed, and their medians)."""


def _table1_run(activation: str, init: str, L: int, seed: int, config: Config) -> dict[str, Any]:
    """One run of :func:`numerics.realdata.run_table1` for ``config``'s budget, flattened to
    :data:`RUN_KEYS` (roughness and moved: the mean over the two convolutions; cached, so that
    the L = 1 reference of an activation is trained once per seed; a copy)."""
    return copy.deepcopy(_cached_run(activation, init, L, seed, config))


@functools.lru_cache(maxsize=16)
def _cached_run(activation: str, init: str, L: int, seed: int, config: Config) -> dict[str, Any]:
    data_name = "digits" if config.data in ("gaussian", "sphere") else config.data
    name = f"table1-{activation}-{init}-L{L}-seed{seed}"  # of other settings: ignored
    out = realdata.run_table1(activation, init, L=L, epochs=config.epochs, subset=config.subset,
                              seed=seed, device=config.device, data=data_name,
                              data_dir=config.data_dir, lr=config.lr, channels=config.channels,
                              checkpoint=progress.checkpoint(name))
    moved = out["displacement"]
    rough = [moved[f"roughness_{i}"] for i in (1, 2)]
    return {"train_acc": out["train_acc"], "test_acc": out["test_acc"],
            "test_acc_no_branches": out["test_acc_no_branches"],
            "relative_1": out["smoothness"]["relative_1"],
            "relative_2": out["smoothness"]["relative_2"],
            "roughness": None if None in rough else sum(rough) / 2,
            "moved": (moved["moved_1"] + moved["moved_2"]) / 2, "bn2_rms": moved["bn2_rms"],
            "data": data_name, "trajectories": out["trajectories"]}


def measure_table1(config: Config) -> Measurement:
    """S13: the convolutional ResNet of Section 5.2 on ``config.data`` (digits by default) with
    ``config.activation``, tied and i.i.d., for each seed of ``config.seeds`` (the two share the
    stem, head, batch order and augmentation: :func:`numerics.realdata.streams`), beside the same
    network with L = 1 (the reference accuracy).  ``values``: the medians over seeds of
    :data:`RUN_KEYS` per initialization (``tied_test_acc``, ...) and ``ref_test_acc``, and
    ``ratio`` = the median over seeds of roughness(tied) / roughness(iid) of what training added
    to the residual convolutions; ``series["runs"]``: every run.  With ``config.init == "iid"``
    (the negative control) the tied arm is an independent i.i.d. draw ("iid-redraw")."""
    runs: list[dict[str, Any]] = []
    first: dict[str, dict[str, Any]] = {}
    arms = {"tied": "iid-redraw" if config.init == "iid" else "tied", "iid": "iid"}
    for seed in config.seeds:
        ref = _table1_run(config.activation, "tied", 1, seed, config)
        pair = {arm: _table1_run(config.activation, init, config.L, seed, config)
                for arm, init in arms.items()}
        first = first or pair
        rough = (pair["tied"]["roughness"], pair["iid"]["roughness"])
        ratio = rough[0] / rough[1] if None not in rough and rough[1] > 0 else None
        runs.append({"seed": seed, "ref_test_acc": ref["test_acc"], "ratio": ratio,
                     **{f"{init}_{k}": r[k] for init, r in pair.items() for k in RUN_KEYS}})
    values: dict[str, Any] = {}
    for key in runs[0]:
        column = [r[key] for r in runs]
        if key != "seed":
            values[key] = None if None in column else float(np.median(column))
    series = {f"{init}_{name}": rows for init, r in first.items()
              for name, rows in r["trajectories"].items()}
    return Measurement("table1.realdata", config, values, {"data": 0.0}, {"runs": runs, **series},
                       [f"data: {first['tied']['data']}"])


TRAINED_WITHIN = 0.05
"""A Section 5.2 run has trained when its test accuracy is at least the L = 1 reference's (same
seed, same budget) minus this (5 points)."""


BRANCH_ACTS = 0.01
"""Its residual branch acts when removing the branches costs at least this test accuracy."""


MIN_SEEDS = 3
"""The fewest seeds that can decide the contrast: the median's interval is then the range of the
ratios (coverage 1 - 2^(1-3) = 0.75), and holds / violated need all of them on one side of 1
(probability 1/4 when tied and i.i.d. are exchangeable, the control's case)."""


def table1_power(runs: list[dict[str, Any]]) -> str | None:
    """Why the runs of one row cannot decide Table 1's contrast (None: they can): too few
    seeds, a run that did not train (:data:`TRAINED_WITHIN`), or one whose residual branch does
    not act (:data:`BRANCH_ACTS`)."""
    if len(runs) < MIN_SEEDS:
        return f"{len(runs)} seeds (the contrast needs >= {MIN_SEEDS})"
    for r in runs:
        for init in ("tied", "iid"):
            acc, ref = r[f"{init}_test_acc"], r["ref_test_acc"]
            if acc < ref - TRAINED_WITHIN:
                return (f"seed {r['seed']}, {init}: test accuracy {acc:.3f} below the L = 1 "
                        f"reference {ref:.3f} minus {TRAINED_WITHIN} (not trained)")
            if acc - r[f"{init}_test_acc_no_branches"] < BRANCH_ACTS:
                return (f"seed {r['seed']}, {init}: removing the residual branches costs "
                        f"{acc - r[f'{init}_test_acc_no_branches']:.3f} < {BRANCH_ACTS} of "
                        "test accuracy (the branch does not act)")
    return None


def _table1(st: Statement, c: Config, m: Measurement) -> Evidence:
    v, runs = m.values, m.series["runs"]
    weak = table1_power(runs)
    ratios = [r["ratio"] for r in runs if r["ratio"] is not None]
    interval = f"[{min(ratios):.3g}, {max(ratios):.3g}]" if ratios else "n/a"

    def pct(key: str) -> str:
        return "n/a" if v[key] is None else f"{100 * v[key]:.1f}%"

    # the median's distribution-free interval (numerics.rates.median_interval): for 3 seeds the
    # range, coverage 0.75, so that the symmetric rule decides only with every seed on one side
    ci, coverage = median_interval(ratios) if ratios and len(ratios) == len(runs) \
        else (None, 0.95)
    return Evidence(Facts(v["ratio"], 1.0, powered=weak is None, power_reason=weak or "",
                          interval=ci, confidence=coverage),
                    extra=dict(v),
                    notes=["measured: median over seeds of roughness(tied) / roughness(iid), the "
                           "roughness of what training added to the residual convolutions "
                           "(mean_k ||D_(k+1) - D_k|| against a random order of the layers: 1 "
                           "for exchangeable layers, 3/(L+1) for a linear trend); bound 1: tied "
                           f"smoother than iid; over {len(runs)} seeds {interval}",
                           f"median test accuracy tied {pct('tied_test_acc')} (without the "
                           f"branches {pct('tied_test_acc_no_branches')}), iid "
                           f"{pct('iid_test_acc')} ({pct('iid_test_acc_no_branches')}), L = 1 "
                           f"reference {pct('ref_test_acc')}"] + m.notes)


bind("table1.realdata", measure=measure_table1, facts=_table1)
