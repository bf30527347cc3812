"""S2 (Proposition 2): a ResNet with Lipschitz weight paths is within C/L of the neural ODE (6)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from reports import figures
from reports.sections.base import Checks, Context, Row, Section, applicable, verdict_phrase
from reports.sections.configs import base
from reports.text import fmt
from theory.activations import ASSUMPTIONS
from theory.finite_time import MODEL3, TIED_OR_SMOOTH


def _rows(ctx: Context) -> list[Row]:
    b = base(ctx)
    r = dataclasses.replace
    return [Row("prop2.euler", "tanh", b),
            Row("prop2.euler", "GELU", r(b, activation="gelu")),
            Row("prop2.euler", "ReLU (Lipschitz, not C^1: enough here)", r(b, activation="relu")),
            Row("prop2.euler", "official code's scaling", r(b, scaling="official"))]


def _draw(data: dict[str, Any], checks: Checks) -> Any:
    fig, (ax,) = figures.new(width=6.0, height=4.8)
    lowest = math.inf
    for j, check in enumerate(checks):
        s = check["extra"]["series"]
        gaps = figures.positive(s["gap"])
        lowest = min([lowest, *(g for g in gaps if not math.isnan(g))])
        ax.loglog(s["L"], gaps, "o-" if check["applicable"] else "x:", ms=4, color=f"C{j}",
                  label=f"{check['label']}: {figures.slope_label(check['extra'].get('rate'))}")
    first = checks[0]["extra"]["series"]
    figures.reference_slope(ax, first["L"], first["gap"][0] * 2)
    bounds = [f"{c['label']}: C = {fmt(c['extra'].get('C'), 3)}" for c in applicable(checks)]
    ax.text(0.98, 0.98, "bound C/L off the plot:\n" + "\n".join(bounds),
            transform=ax.transAxes, fontsize=7, va="top", ha="right",
            bbox={"boxstyle": "round", "fc": "white", "ec": "0.7"})
    figures.depth_axis(ax, first["L"])
    ax.set_ylabel("sup_i ||F(x_i) - F^L(x_i)||")
    ax.set_title("Proposition 2: ResNet vs neural ODE (6) at fixed weights")
    figures.legend_below(ax)
    return fig


def _conclusion(data: dict[str, Any], checks: Checks) -> str:
    slopes = [c["rate_slope"] for c in applicable(checks) if c["rate_slope"] is not None]
    slack = [c["slack_log10"] for c in applicable(checks) if c["slack_log10"] is not None]
    return (f"Proposition 2 {verdict_phrase(checks)}; the measured gap decays with slopes "
            f"{', '.join(f'{s:.2f}' for s in slopes)} (1/L), while the explicit C leaves "
            f"{fmt(min(slack, default=None), 3)} or more orders of magnitude of slack.")


SECTION = Section(
    key="S2", title="Proposition 2: ResNets with Lipschitz weights discretize a neural ODE",
    ids=("prop2.euler",),
    assumptions={"prop2.euler": (ASSUMPTIONS["lipschitz"], ASSUMPTIONS["zero_at_zero"],
                                 TIED_OR_SMOOTH, MODEL3)},
    rows=_rows, draw=_draw, conclusion=_conclusion,
    figure_note=lambda data: (
        "Weights V_k = V(k/L), W_k = W(k/L) with V(s) = V0 + sin(2 pi s) V1 / 2 (same for W; "
        "Gaussian V0, V1, W0, W1); the neural ODE (6) solved accurately (scipy); dotted: not "
        f"applicable. Scaling: {figures.SCALING_NOTE['paper']} (the official-scaling row uses "
        f"{figures.SCALING_NOTE['official']})."))
