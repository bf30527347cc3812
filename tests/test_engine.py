"""The engine of model (3)'s sweeps in results.json's provenance (``environment.engine``) and in a
sweep's resume keys, against what the machine says on its own: the workspace that trains, the
compiler's ``--version``, /proc/cpuinfo, torch's version."""

from __future__ import annotations

import inspect
import io
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import torch

from numerics import native
from numerics.data import make_data
from numerics.flow import train
from numerics.gradients import Workspace
from numerics.init import init_params
from numerics.model import MLP
from reports.provenance import environment
from reports.resume import fingerprint
from reports.schema import ENGINE
from reports.sections import SECTIONS, Context
from reports.sweep import engine as sweep_engine
from reports.sweep import spec
from tests.test_sweep import TASK, _sweep_file
from theory.config import Config


def _compiles() -> bool:
    """Whether the compiled sweeps work here (whatever RESNET_ODE_NATIVE says)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RESNET_ODE_NATIVE", "1")
        return native.status("tanh", 4, 4, torch.float64, torch.device("cpu")) == "native"


COMPILED = _compiles()


def _trains_with() -> str:
    """The engine a model-(3) workspace picks for a small configuration."""
    p = init_params("tied", d=2, d_out=2, q=3, m=4, L=3)
    X, Y = make_data("gaussian", n=4, d=2, d_out=2)
    return Workspace(p, X, Y, MLP("gelu")).engine


@pytest.mark.skipif(not COMPILED, reason="no working C compiler for the native sweeps")
def test_provenance_names_the_compiled_sweeps_and_their_build(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RESNET_ODE_NATIVE", "1")
    recorded = environment("cpu", 0, "float64")["engine"]
    jsonschema.validate(recorded, ENGINE)
    assert _trains_with() == "native" and recorded["name"] == "native"
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    assert cc is not None and recorded["compiler"] == shutil.which(cc)
    version = subprocess.run([cc, "--version"], capture_output=True, text=True, check=True)
    assert recorded["compiler_version"] == version.stdout.splitlines()[0]
    assert "-march=native" in recorded["flags"] and "-O3" in recorded["flags"]
    flags = [line for line in Path("/proc/cpuinfo").read_text().splitlines()
             if line.startswith(("flags", "Features"))]
    if flags:  # Linux: what -march=native compiled for
        assert recorded["cpu_flags"].split() == flags[0].split(":", 1)[1].split()
    assert recorded["torch"] == torch.__version__ and "reason" not in recorded


def test_native_disabled_records_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESNET_ODE_NATIVE", "0")
    recorded = environment("cpu", 0, "float64")["engine"]
    jsonschema.validate(recorded, ENGINE)
    assert _trains_with() != "native"
    assert recorded["name"] == "torch" and "RESNET_ODE_NATIVE=0" in recorded["reason"]
    assert "compiler" not in recorded and recorded["torch"] == torch.__version__


def test_cuda_records_torch_and_its_cuda_graph(monkeypatch: pytest.MonkeyPatch) -> None:
    """On CUDA model (3) trains with torch's sweeps, each step one CUDA graph by default."""
    monkeypatch.setenv("RESNET_ODE_NATIVE", "1")
    recorded = native.engine("cuda")
    jsonschema.validate(recorded, ENGINE)
    assert recorded["name"] == "torch" and recorded["reason"] == "device cuda"
    assert recorded["cuda"] == torch.version.cuda
    assert recorded["cuda_graph"] is inspect.signature(train).parameters["cuda_graph"].default


@pytest.mark.skipif(not COMPILED, reason="no working C compiler for the native sweeps")
def test_resume_keys_name_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sweep's unit key and a report section's progress fingerprint change with the engine."""
    config = Config(n=4, d=2, d_out=2, q=2, m=3, L=2, T=0.1, eta=0.05, seeds=(0,))
    section = SECTIONS[0]
    keys = []
    for flag in ("1", "0", "1"):
        monkeypatch.setenv("RESNET_ODE_NATIVE", flag)
        keys.append((sweep_engine.unit_key(TASK, config, 0, "version"),
                     fingerprint(section.settings(Context("tiny"), section.ids))))
    assert keys[0] == keys[2] and keys[0][0] != keys[1][0] and keys[0][1] != keys[1][1]


def test_results_from_another_engine_are_refused(tmp_path: Path) -> None:
    """A worker whose engine differs: its results fail their configurations, nothing is saved."""
    def other_engine(calls: Any) -> Iterator[Any]:
        for i, result, failure in sweep_engine.here(calls):
            yield i, {**result, "engine": {**result["engine"], "torch": "0.0"}}, failure

    sweep = spec.load_sweep(_sweep_file(tmp_path, [2]))
    outcome = sweep_engine.run_sweep(sweep, tmp_path / "out",
                                     sweep_engine.Executor(other_engine, "elsewhere"),
                                     figures=False, stream=io.StringIO())
    assert outcome.records == {} and len(outcome.failures) == 6
    assert all("engine differs" in f.error and "torch" in f.error
               for f in outcome.failures.values())
    assert not list((tmp_path / "out" / "results").glob("*.json"))


def test_saved_units_record_their_engine(tmp_path: Path) -> None:
    sweep = spec.load_sweep(_sweep_file(tmp_path, [2]))
    sweep_engine.run_sweep(sweep, tmp_path / "out", figures=False, stream=io.StringIO())
    saved = [json.loads(p.read_text()) for p in (tmp_path / "out" / "results").glob("*.json")]
    assert len(saved) == 6
    assert all(s["engine"] == environment("cpu", 0, "float64")["engine"] for s in saved)
