"""Base configurations of the model-(3) rows at each scale.

``quick`` keeps every training to a few hundred small steps; ``paper`` uses the sizes of the
paper's Figure 1 (n = 100, d = q = d' = 16, m = 32, eta = 0.01, T = 5, L = 64) and longer depth
sweeps; ``tiny`` is for tests.  Sections override fields with :func:`dataclasses.replace`.
"""

from __future__ import annotations

from typing import Any

from reports.sections.base import Context
from theory.config import Config

_BASE: dict[str, dict[str, Any]] = {
    "tiny": {"n": 6, "d": 2, "d_out": 2, "q": 4, "m": 3, "L": 4, "T": 0.2, "eta": 0.05,
             "depths": (4, 8, 16, 32), "seeds": (0, 1), "trials": 50, "epochs": 1,
             "subset": 32},
    "quick": {"n": 20, "d": 4, "d_out": 4, "q": 8, "m": 16, "L": 16, "T": 1.0, "eta": 0.02,
              "depths": (8, 16, 32, 64), "seeds": (0, 1, 2, 3, 4), "trials": 500, "epochs": 2,
              "subset": 512},
    "paper": {"n": 100, "d": 16, "d_out": 16, "q": 16, "m": 32, "L": 64, "T": 5.0, "eta": 0.01,
              "depths": (16, 32, 64, 128, 256), "seeds": (0, 1, 2, 3, 4), "trials": 2000,
              "epochs": 180, "subset": None},
}


def base(ctx: Context, **fields: Any) -> Config:
    """The scale's base configuration (tanh, sphere data, coordinate clipping c = 1, tied),
    with ``fields`` overriding."""
    values = {"activation": "tanh", "data": "sphere", "clip": "coord", "clip_c": 1.0,
              **_BASE[ctx.scale], **fields}
    return ctx.config(**values)
