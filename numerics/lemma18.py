"""Lemma 18 (family S7): three singular-value inequalities, on drawn matrices: the largest
relative violation of each.  Measurement and facts, bound to the catalog entry
(:func:`theory.catalog.bind`).
"""

from __future__ import annotations

import torch

from numerics.evidence import Evidence
from numerics.measure import Measurement
from theory.catalog import Statement, bind
from theory.config import Config
from theory.verdicts import Facts


def measure_lemma18(config: Config) -> Measurement:
    """S7: the three inequalities of Lemma 18 on ``config.trials`` drawn matrices A, A' (m x r),
    B (r x n) with r = q, m = config.m, n = config.n (Gaussian, A' scaled by a random factor);
    each value is the largest relative violation (rhs - lhs) / max(|lhs|, |rhs|), for all three
    whatever the shapes (theory.lemmas.lemma18_assumptions names the conditions that fail)."""
    gen = torch.Generator().manual_seed(config.seed)
    trials = min(config.trials, 256)
    mm, r, n = config.m, config.q, config.n
    A = torch.randn(trials, mm, r, generator=gen, dtype=torch.float64)
    Ap = torch.randn(trials, mm, r, generator=gen, dtype=torch.float64) * torch.rand(
        trials, 1, 1, generator=gen, dtype=torch.float64)
    B = torch.randn(trials, r, n, generator=gen, dtype=torch.float64)

    def smin(M: torch.Tensor) -> torch.Tensor:
        return torch.linalg.svdvals(M)[:, -1]

    fro = torch.linalg.matrix_norm
    pairs = {"sum": (smin(A + Ap), smin(A) - fro(Ap)), "left": (fro(A @ B), smin(A) * fro(B)),
             "right": (fro(A @ B), fro(A) * smin(B))}
    values = {}
    for name, (lhs, rhs) in pairs.items():
        scale = torch.maximum(lhs.abs(), rhs.abs()).clamp_min(1e-300)
        values[f"violation_{name}"] = float(((rhs - lhs) / scale).max())
    return Measurement("lemma18.linalg", config, values, {"trials": trials})


def _lemma18(st: Statement, c: Config, m: Measurement) -> Evidence:
    worst = max(m.values.values())
    return Evidence(Facts(worst, 0.0), extra=dict(m.values),
                    notes=["measured: the largest relative violation (rhs - lhs) / max(|lhs|, "
                           f"|rhs|) over {m.inputs['trials']:g} drawn triples (<= 0 holds)"])


bind("lemma18.linalg", measure=measure_lemma18, facts=_lemma18)
