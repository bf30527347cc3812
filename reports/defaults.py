"""The configuration ``resnet-ode check ID`` runs without ``--config``: one of the report's rows.

:func:`default` picks, among the rows of the id's section at the given scale (``quick``: sized for
interaction, ``paper``: the report's paper scale), the first whose assumptions hold, so that a bare
``check`` checks something.  Where no row is applicable it says why in one line: for Proposition 5
and Theorem 6 no configuration within reach satisfies m >= c1 n and L >= c2 sqrt(nq), and the line
gives the sizes and the memory they would need.
"""

from __future__ import annotations

import dataclasses
import math

import mpmath

from numerics.checks import guard_limit, memory_estimate
from reports.sections import SECTIONS, Context, Row
from theory import pl
from theory.catalog import catalog
from theory.config import Config


@dataclasses.dataclass(frozen=True)
class Default:
    """The row ``check`` runs; ``why_not`` is one line when none of the rows is applicable."""

    row: Row
    scale: str
    why_not: str | None = None


def rows(statement_id: str, scale: str) -> list[Row]:
    """The report's rows of ``statement_id`` at ``scale`` (seed 0, CPU), in the report's order."""
    ctx = Context(scale=scale)
    return [row for section in SECTIONS if statement_id in section.ids
            for row in section.rows(ctx) if row.id == statement_id]


def default(statement_id: str, scale: str = "quick") -> Default:
    """The first applicable row of ``statement_id`` at ``scale``, else its first row with the
    reason (see the module docstring)."""
    statement = catalog[statement_id]
    candidates = rows(statement_id, scale)
    for row in candidates:  # applicable, or runnable beyond the statement's assumptions
        if not statement.scope(row.config)[2]:
            return Default(row, scale)
    first = candidates[0]
    failed = statement.assumptions(first.config)
    return Default(first, scale, _unreachable(statement_id, first.config, failed)
                   or f"none of the report's {len(candidates)} {scale} rows satisfies "
                      f"{statement_id}'s assumptions (the first fails: {'; '.join(failed)})")


def _unreachable(statement_id: str, config: Config, failed: list[str]) -> str | None:
    """One line with the sizes m >= c1 n, L >= c2 sqrt(nq) at the smallest problem (n = 1,
    d = d' = 1, q = 2) and their memory, when those are among the failed assumptions."""
    if pl.WIDTH not in failed and pl.DEPTH not in failed:
        return None
    sizes = pl.thresholds(config.activation, n=1, q=2, r=config.r)
    if sizes is None:
        return None
    m, L = (int(mpmath.ceil(sizes[k])) for k in ("m_min", "L_min"))
    smallest = dataclasses.replace(config, n=1, d=1, d_out=1, q=2, m=m, L=L, depths=(L,),
                                   seeds=(0,))
    need, limit = memory_estimate(smallest), guard_limit()
    return (f"no configuration within reach satisfies {statement_id}'s assumptions: "
            f"{pl.WIDTH} and {pl.DEPTH} ask for m >= {_sci(m)} and L >= {_sci(L)} already at "
            f"n = 1, q = 2 ({config.activation}), about {_sci(need / 2**30)} GiB against "
            f"{limit / 2**30:.3g} GiB; shown: the report's first {statement_id} row, not "
            f"applicable")


def _sci(value: float | int) -> str:
    return f"{value:.3g}" if value < 1e300 else f"10^{math.log10(value):.4g}"
