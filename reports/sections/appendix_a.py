"""S14 (Appendix A): Proposition 8 item by item on trained networks, and Corollaries 12-13 and
Proposition 15 on discrete recurrences.

Proposition 8's items are measured along the unclipped flow of model (3) in the long-time study's
setting (tanh, sphere data, tied; :func:`reports.sections.pl.study_base`), beyond its assumptions
(m >= c1 n is out of reach; the preconditions are measured, never used to filter): (i) the
distance from the initialization bounded in t, (iii) the speeds integrable in t, (iv) the path
length over [T'/2, T'] vanishing as T' grows, (v) one PL constant for every depth.  Their
re-derivations from the proof (p17-20) are findings (theory.prop8).  Corollaries 12, 13 and
Proposition 15 are checked on recurrences driven by families converging at known rates, with the
rate of the proof of Proposition 11 (numerics.recurrences, theory.appendix_a).
"""

from __future__ import annotations

import dataclasses

from reports.sections.base import Checks, Context, Row, Section, by_id, verdict_phrase
from reports.sections.pl import FLOW_ETA, study_base
from reports.sections.pl import SECTION as PL
from theory import appendix_a, long_time, pl
from theory.activations import ASSUMPTIONS
from theory.finite_time import MODEL3

PROP8_IDS = ("prop8.i", "prop8.iii", "prop8.iv", "prop8.v")
RECURRENCE_IDS = ("cor12.recurrence", "cor13.recurrence", "prop15.double_limit")


def _rows(ctx: Context) -> list[Row]:
    seeds = tuple(range(5))
    b = dataclasses.replace(study_base(ctx), seeds=tuple(5 * ctx.seed + j for j in seeds),
                            eta=FLOW_ETA[ctx.scale],
                            **ctx.pick(tiny={"n": 4, "m": 8, "L": 2, "depths": (2, 4, 8, 16),
                                             "T": 8.0},
                                       quick={"m": 16, "L": 2, "depths": (2, 4, 8, 16),
                                              "T": 64.0},
                                       paper={"m": 32, "L": 8, "depths": (8, 16, 32, 64),
                                              "T": 160.0}))
    rows = [Row(sid, f"tanh, m/n = {b.m / b.n:g}, measured constants", b) for sid in PROP8_IDS]
    rec = ctx.config(n=8, d=2, d_out=2, q=4, m=8, L=8, activation="tanh", seeds=seeds,
                     depths=ctx.pick(tiny=(4, 8, 16, 32), quick=(8, 16, 32, 64, 128),
                                     paper=(16, 32, 64, 128, 256, 512)))
    rows += [Row(sid, "tanh, smooth paths + perturbation", rec) for sid in RECURRENCE_IDS]
    rows.append(Row("cor12.recurrence", "GELU, smooth paths + perturbation",
                    dataclasses.replace(rec, activation="gelu")))
    return rows


def _conclusion(data: dict, checks: Checks) -> str:
    parts = []
    for sid, what in (("prop8.i", "Proposition 8 (i), weights within a ball uniformly in t,"),
                      ("prop8.iii", "(iii), integrable speeds,"),
                      ("prop8.iv", "(iv), convergence as t -> infinity,"),
                      ("prop8.v", "(v), one PL constant for every depth,"),
                      ("cor12.recurrence", "Corollary 12 (rate L^-1/2 of its proof)"),
                      ("cor13.recurrence", "Corollary 13 (tail t >= log L)"),
                      ("prop15.double_limit", "Proposition 15 (outputs, O(1/L) along t >= "
                                              "log L)")):
        rows = by_id(checks, sid)
        if rows:
            parts.append(f"{what} {verdict_phrase(rows)}")
    return ("; ".join(parts) + ".  Proposition 8's re-derivations (findings): (i) as printed "
            "bounds ||A(t)||_F by ||A_init||_2 + M, false at t = 0 for d >= 2; every other "
            "item agrees with its proof.")


def _note(data: dict) -> str:
    return ("No figure: the per-depth and per-seed values are in results.json (extra.series); "
            "Proposition 8's items on model (3) with measured constants, the recurrences of "
            "numerics.recurrences (model (3)'s residual, the ODE by DOP853).")


_PATH = (*PL.assumptions["prop5.pl"], long_time.UNCLIPPED, long_time.LABELS, pl.SPHERE, pl.TIED,
         MODEL3)
_REC = (ASSUMPTIONS["C2"], ASSUMPTIONS["zero_at_zero"], ASSUMPTIONS["lipschitz"],
        appendix_a.UNIFORM, appendix_a.DEPTHS)

SECTION = Section(
    key="S14", title="Appendix A: Proposition 8 item by item, Corollaries 12-13, Proposition 15",
    ids=(*PROP8_IDS, *RECURRENCE_IDS),
    assumptions=dict.fromkeys(PROP8_IDS, _PATH) | dict.fromkeys(RECURRENCE_IDS, _REC),
    rows=_rows, draw=lambda data, checks: None, conclusion=_conclusion, figure_note=_note)
