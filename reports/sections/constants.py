"""The constants of Proposition 5 per activation (``resnet-ode constants`` for each sigma)."""

from __future__ import annotations

from typing import Any

from reports.sections.base import Checks, Context, Section
from reports.text import fmt
from theory.activations import NAMES
from theory.constants import constants

SIZES = {"n": 100, "q": 32, "d": 16, "d_out": 16, "m": 64, "L": 64}
_COLUMNS = ("K_sigma", "M_sigma", "r", "eta_r", "c1", "c2", "c3", "c4", "m_min", "L_min", "mu",
            "delta")


def _data(ctx: Context, checks: Checks) -> dict[str, Any]:
    names = ("tanh", "gelu") if ctx.scale == "tiny" else NAMES
    rows = []
    for name in names:
        values = constants(activation=name, **SIZES)
        rows.append({"activation": name, **{k: values[k] for k in _COLUMNS},
                     "assumptions_failed": values["assumptions_failed"]})
    return {"sizes": SIZES, "rows": rows}


def _text(data: dict[str, Any], checks: Checks) -> str:
    sizes = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in data["sizes"].items())
    lines = [f"Sizes {', '.join(f'{k} = {v}' for k, v in data['sizes'].items())} "
             f"(`resnet-ode constants --activation NAME {sizes}`); empty: undefined (see the "
             "command's notes).", "",
             "| sigma | " + " | ".join(_COLUMNS) + " | failed assumptions |",
             "|---" * (len(_COLUMNS) + 2) + "|"]
    for row in data["rows"]:
        cells = [fmt(row[k], 3) if row[k] is not None else "" for k in _COLUMNS]
        lines.append(f"| {row['activation']} | " + " | ".join(cells) + " | "
                     + ("; ".join(row["assumptions_failed"]) or "none") + " |")
    return "\n".join(lines)


def _conclusion(data: dict[str, Any], checks: Checks) -> str:
    c1 = [row["c1"] for row in data["rows"] if row["c1"] is not None]
    return (f"c1 ranges over {fmt(min(c1), 3)}..{fmt(max(c1), 3)}: Proposition 5 needs widths "
            f"m >= c1 n of order 10^8-10^9 for n = {data['sizes']['n']}, and depths "
            "L >= c2 sqrt(nq) near 10^5-10^6.") if c1 else "No activation defines c1."


SECTION = Section(
    key="C", title="Constants of Proposition 5 per activation", ids=(), assumptions={},
    rows=lambda ctx: [], data=_data, draw=lambda data, checks: None, text=_text,
    conclusion=_conclusion, figure_note=lambda data: "")
