"""Test-wide settings: Hypothesis profiles, float64 by default, a device list.

Hypothesis profiles (choose with the environment variable ``RESNET_ODE_PROFILE``):

- ``ci`` (default): derandomized, no deadline (training-based properties have no meaningful
  per-example time), few examples: the whole ``properties/`` suite in minutes on 2 cores.
- ``thorough``: ten times the examples and random seeds, for long local runs.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, max_examples=10,
                          print_blob=True)
settings.register_profile("thorough", derandomize=False, deadline=None, max_examples=100,
                          print_blob=True)
_PROFILE = os.environ.get("RESNET_ODE_PROFILE", "ci")
if _PROFILE not in ("ci", "thorough"):
    raise pytest.UsageError(f"RESNET_ODE_PROFILE={_PROFILE!r}: must be ci or thorough")
settings.load_profile(_PROFILE)


def _devices() -> list[str]:
    import torch

    return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(params=_devices())
def device(request: pytest.FixtureRequest) -> str:
    """Every available device: cpu, plus cuda when present."""
    return request.param


@pytest.fixture(params=["native", "torch"])
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each engine of model (3)'s sweeps (:func:`numerics.native.engine`): the compiled sweeps
    (skipped where none compiles) and torch's (``RESNET_ODE_NATIVE=0``).  The variable is read
    whenever a workspace picks its engine, so nothing cached needs clearing (the compiled
    libraries are cached per activation, q, m and dtype, not per setting)."""
    import torch

    from numerics import native

    monkeypatch.setenv("RESNET_ODE_NATIVE", "1" if request.param == "native" else "0")
    if request.param == "native" and \
            native.status("tanh", 4, 4, torch.float64, torch.device("cpu")) != "native":
        pytest.skip("no working C compiler for the native sweeps")
    return str(request.param)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
