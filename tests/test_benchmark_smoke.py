"""The benchmark machinery at toy size (no timing assertions)."""

from __future__ import annotations

import importlib.util
import json
import sys

import pytest

from benchmarks import engines
from benchmarks.__main__ import format_table, main, run
from benchmarks.baseline import train_baseline
from benchmarks.workload import problem
from numerics.flow import Flow, param_distance, train


def test_benchmark_runs_at_toy_size_and_reports_every_field() -> None:
    out = run([4], dtype="float64", baseline_work=8, engine_work=8, batched_work=4,
              memory_iterations=(1, 2), fig1=True, fig1_depths=(2, 4, 8, 16),
              fig1_iterations=3, limit_L=8, limit_iterations=1, matmul_size=128,
              batches=(1, 3), batch_L=4, batch_scaling_work=8)
    json.dumps(out)  # JSON-ready
    assert out["matmul_gflops"] > 0 and out["baseline_agreement"] < 1e-12  # float64
    row = out["depths"]["4"]
    for key in ("baseline_us_per_layer_step", "engine_us_per_layer_step", "ratio",
                "ratio_median", "batched16_gflops", "batched16_gflops_median",
                "batched16_fraction_of_matmul", "batched16_fraction_of_matmul_median"):
        assert row[key] > 0, key
    assert out["matmul_gflops"] >= out["matmul_gflops_median"] > 0  # best is the highest rate
    assert len(row["peak_mb"]) == 2 and min(row["peak_mb"].values()) > 0
    sweep = out["fig1_sweep"]
    assert sweep["depths"] == [2, 4, 8, 16] and sweep["limit_L"] == 8
    assert sweep["limit_iterations"] == 1
    # the limit extrapolated from L = 4, 8, 16; the distance of L = 2 at t = 0 (tied) and T
    assert list(sweep["distance_to_limit"]) == ["2"]
    assert sweep["distance_to_limit"]["2"][0] < 1e-12 < sweep["distance_to_limit"]["2"][1]
    scaling = out["batch_scaling"]
    assert scaling["L"] == 4 and list(scaling["b"]) == ["1", "3"]
    assert scaling["b"]["1"]["ratio_to_one"] == 1.0  # one network against itself
    for key in ("gflops", "gflops_median", "ratio_to_one_median", "fraction_of_matmul",
                "fraction_of_matmul_median"):
        assert scaling["b"]["3"][key] > 0, key
    table = format_table(out)
    assert "speedup" in table and "Figure 1 sweep" in table and "b=  3" in table


def test_baseline_trains_the_same_network_as_the_engine() -> None:
    params, X, Y = problem(6, dtype="float64")
    base, trajectory = train_baseline(params, X, Y, eta=0.01, iterations=4)
    engine = train(params, X, Y, Flow(0.01, 0.04, train_outer=False)).params
    assert len(trajectory) == 4 and len(trajectory[0]) == 12  # every iterate, V_k and W_k
    assert param_distance(base, engine).item() < 1e-12


@pytest.mark.parametrize("argv", [["--depths", "0,x"], ["--batches", "4,0"],
                                  ["--batch-L", "0"], ["engines", "--repeats", "0"]])
def test_bad_sizes_exit_with_status_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as err:
        main(argv)
    assert err.value.code == 2


# dynamo reads .grad of the layer's non-leaf weight views while capturing (a UserWarning)
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_engine_benchmark_reports_every_engine_and_their_losses_agree() -> None:
    """Structure of benchmarks.engines at toy size, and each engine's loss after training
    against plain torch eager's (autograd through numerics.model.loss): an independent check of
    every engine's gradients and step, not a timing.  torch.compile runs its capture here with
    the "eager" backend (the inductor code generation takes longer than this test may)."""
    out = engines.run(shapes=((6, 3, 4, 8),), batches=(1, 2), repeats=2, steps=1,
                      compile_backend="eager")
    json.dumps(out)
    # numba is optional (not a dependency): where it is missing, the run says so
    missing = set() if importlib.util.find_spec("numba") else {"numba"}
    assert set(out["errors"]) == missing
    measured = set(engines.ENGINES) - missing
    assert [(r["n"], r["m"], r["L"], r["b"]) for r in out["rows"]] == [(6, 4, 8, 1), (6, 4, 8, 2)]
    for row in out["rows"]:
        assert set(row["ratio_best"]) == measured
        assert min(row["ratio_best"].values()) == 1.0 == row["ratio_best"][row["fastest"]]
        assert row["torch_metrics_over_c_metrics"]["best"] > 0
        # 3 warm-up steps + 2 repeats of 1 step from the same weights, for every engine
        assert set(row["loss_rel_diff_to_eager"]) == measured
        assert max(row["loss_rel_diff_to_eager"].values()) < 1e-10, row["loss_rel_diff_to_eager"]
    assert out["decision"]["keep"] in engines.ENGINES
    assert "decision" in engines.format_table(out)


def test_engine_benchmark_records_a_missing_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba raises ImportError
    monkeypatch.delitem(sys.modules, "benchmarks.numba_step", raising=False)
    out = engines.run(shapes=((4, 2, 3, 4),), batches=(1,), engines=("eager", "numba"),
                      repeats=1, steps=1, metrics=False)
    assert list(out["errors"]) == ["numba"] and "numba" in out["errors"]["numba"]
    assert set(out["rows"][0]["ratio_best"]) == {"eager"}
    assert out["decision"]["keep"] == "eager"
