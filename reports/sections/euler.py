"""S2 (Proposition 2): a ResNet with Lipschitz weight paths is within C/L of the neural ODE (6)."""

from __future__ import annotations

import dataclasses
from typing import Any

from reports import figures
from reports.sections.base import (
    Checks,
    Context,
    Row,
    Section,
    applicable,
    by_id,
    verdict_phrase,
)
from reports.sections.configs import base
from reports.text import fmt
from theory.activations import ASSUMPTIONS
from theory.finite_time import MODEL3, TIED_OR_SMOOTH


def _rows(ctx: Context) -> list[Row]:
    b = base(ctx)
    r = dataclasses.replace
    variants = [("tanh", b), ("GELU", r(b, activation="gelu")),
                ("ReLU (Lipschitz, not C^1: enough here)", r(b, activation="relu")),
                ("official code's scaling", r(b, scaling="official"))]
    rows = [Row("prop2.euler", label, config) for label, config in variants]
    rows += [Row("prop2.rate_L", label, config) for label, config in variants[:3]]
    # the sup over x needs few inputs: n = 8 keeps the 4 widths x seeds ODE solves short
    rows += [Row("prop2.width_m", "tanh, n = 8", r(b, n=8)),
             Row("prop2.width_m", "GELU, n = 8", r(b, n=8, activation="gelu"))]
    return rows


def _draw(data: dict[str, Any], checks: Checks) -> Any:
    fig, (ax, bx) = figures.new(2, height=4.8)
    rates = by_id(checks, "prop2.rate_L")
    for j, row in enumerate(rates):
        s = row.check.extra["series"]
        gaps = figures.positive([sum(g) / len(g) for g in s["gap"]])
        ax.loglog(s["L"], gaps, "o-" if row.check.applicable else "x:", ms=4, color=f"C{j}",
                  label=f"{row.label}: {figures.slope_label(row.check.extra.get('rate'))}")
    if rates:
        first = rates[0].check.extra["series"]
        figures.reference_slope(ax, first["L"], sum(first["gap"][0]) / len(first["gap"][0]) * 2)
        figures.depth_axis(ax, first["L"])
    bounds = [f"{c.label}: C = {fmt(c.check.extra.get('C'), 3)}"
              for c in applicable(by_id(checks, "prop2.euler"))]
    ax.text(0.98, 0.98, "bound C/L off the plot:\n" + "\n".join(bounds),
            transform=ax.transAxes, fontsize=7, va="top", ha="right",
            bbox={"boxstyle": "round", "fc": "white", "ec": "0.7"})
    ax.set_ylabel("sup_i ||F(x_i) - F^L(x_i)||  (mean over seeds)")
    ax.set_title("Proposition 2: ResNet vs neural ODE (6) at fixed weights")
    figures.legend_below(ax)
    for j, row in enumerate(by_id(checks, "prop2.width_m")):
        s = row.check.extra["series"]
        C_emp = [sum(v) / len(v) for v in s["C_emp"]]
        bx.loglog(s["m"], C_emp, "o-", ms=4, color=f"C{j}",
                  label=f"{row.label}: C_emp ~ m^{fmt(row.check.rate_slope, 2)}")
        bx.loglog(s["m"], figures.positive(s["C"]), "--", color=f"C{j}",
                  label=f"{row.label}: explicit C ~ "
                        f"m^{fmt(row.check.extra['values']['gamma_C'], 2)}")
    bx.set_xlabel("width m")
    bx.set_ylabel("C_emp = L x gap (solid), explicit C (dashed)")
    bx.set_title("The constant against the width m")
    figures.legend_below(bx)
    return fig


def _conclusion(data: dict[str, Any], checks: Checks) -> str:
    bound = by_id(checks, "prop2.euler")
    rates, widths = by_id(checks, "prop2.rate_L"), by_id(checks, "prop2.width_m")
    slopes = [c.check.rate_slope for c in applicable(rates) if c.check.rate_slope is not None]
    slack = [c.check.slack_log10 for c in applicable(bound) if c.check.slack_log10 is not None]
    gammas = [f"{c.label} m^{fmt(c.check.rate_slope, 2)} (explicit C: "
              f"m^{fmt(c.check.extra['values']['gamma_C'], 2)})" for c in applicable(widths)]
    return (f"Proposition 2's explicit bound C/L {verdict_phrase(bound)}, with "
            f"{fmt(min(slack, default=None), 3)} or more orders of magnitude of slack. Its shape, "
            f"tested with empirical constants: the 1/L rate {verdict_phrase(rates)} (slopes "
            f"{', '.join(f'{s:.2f}' for s in slopes)}); the growth of C_emp = L x gap in the "
            f"width {verdict_phrase(widths)}: {'; '.join(gammas)}.")


SECTION = Section(
    key="S2", title="Proposition 2: ResNets with Lipschitz weights discretize a neural ODE",
    ids=("prop2.euler", "prop2.rate_L", "prop2.width_m"),
    assumptions={sid: (ASSUMPTIONS["lipschitz"], ASSUMPTIONS["zero_at_zero"], TIED_OR_SMOOTH,
                       MODEL3) for sid in ("prop2.euler", "prop2.rate_L", "prop2.width_m")},
    rows=_rows, draw=_draw, conclusion=_conclusion,
    figure_note=lambda data: (
        "Weights V_k = V(k/L), W_k = W(k/L) with V(s) = V0 + sin(2 pi s) V1 / 2 (same for W; "
        "Gaussian V0, V1, W0, W1); the neural ODE (6) solved accurately (scipy); dotted: not "
        f"applicable. Scaling: {figures.SCALING_NOTE['paper']} (the official-scaling row uses "
        f"{figures.SCALING_NOTE['official']})."))
