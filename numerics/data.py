"""Synthetic data of Section 5.1 and Proposition 5 (real data lives in :mod:`numerics.realdata`).

- ``"gaussian"``: x_i ~ N(0, I_d), y_i ~ N(0, I_d') independent (Figure 1).
- ``"sphere"``: x_i uniform on the sphere of radius sqrt(q) in R^d (Proposition 5 assumes
  ||x_i|| = sqrt(q)), y_i ~ N(0, I_d').

Labels are multiplied by ``y_scale``.  One generator draws X, then Y, seeded with
:func:`data_seed` of ``seed``: a stream of its own, so that the data and the initialization of
the same seed (``torch.Generator().manual_seed(seed)`` in :mod:`numerics.init`) are independent
draws (with one seed for both, X's first entries were A's).  :func:`make_batch` draws one sample
per seed: the seeds of a row are independent draws of data *and* initialization.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from numerics.device import resolve
from theory.errors import ConfigError

SYNTHETIC = ("gaussian", "sphere")
DATA_STREAM = 0x64617461  # "data"


def data_seed(seed: int) -> int:
    """The seed of the data drawn for ``seed``: numpy's SeedSequence of (seed, DATA_STREAM), a
    stream independent of the initialization's ``torch.Generator().manual_seed(seed)``."""
    return int(np.random.SeedSequence([seed, DATA_STREAM]).generate_state(1, np.uint64)[0])


def make_data(kind: str, *, n: int, d: int, d_out: int, q: int | None = None, seed: int = 0,
              y_scale: float = 1.0, dtype: str = "float64",
              device: str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """(X, Y) with X (n, d) and Y (n, d'); ``q`` (default d) is the sphere's squared radius."""
    if kind not in SYNTHETIC:
        raise ConfigError("data", kind, f"synthetic data must be one of {', '.join(SYNTHETIC)}"
                          " (real data: numerics.realdata)")
    for name, value in (("n", n), ("d", d), ("d_out", d_out), ("q", d if q is None else q)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ConfigError(name, value, "must be a positive integer")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError("seed", seed, "must be a non-negative integer")
    if isinstance(y_scale, bool) or not isinstance(y_scale, int | float) \
            or not math.isfinite(y_scale) or y_scale <= 0:
        raise ConfigError("y_scale", y_scale, "must be a positive finite number")
    dev, dt = resolve(device, dtype)
    gen = torch.Generator().manual_seed(data_seed(seed))
    X = torch.randn(n, d, generator=gen, dtype=torch.float64)
    if kind == "sphere":
        X = X * (math.sqrt(d if q is None else q) / X.norm(dim=1, keepdim=True))
    Y = y_scale * torch.randn(n, d_out, generator=gen, dtype=torch.float64)
    return X.to(dev, dt), Y.to(dev, dt)


def make_batch(kind: str, *, seeds: Sequence[int], **kwargs: object
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """One sample of :func:`make_data` per seed, stacked: (X, Y) of shapes (b, n, d), (b, n, d')
    (network j of a batch trains on the sample of ``seeds[j]``)."""
    pairs = [make_data(kind, seed=s, **kwargs) for s in seeds]  # type: ignore[arg-type]
    return torch.stack([x for x, _ in pairs]), torch.stack([y for _, y in pairs])
