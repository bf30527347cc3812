"""S16 (Remark 1, Appendix A.1, p17): heavy-ball momentum and Adam without clipping, beyond scope.

Remark 1 says that clipping is not required where the weights do not blow up, e.g. with momentum
("closer to Adam").  The rows train model (3) with each optimizer (numerics.optimizers: step eta
in flow time, the gradient-descent rows' samples and initializations, gradient descent on the
same draws as the reference) without clipping:

- finite time (Proposition 7's shape): the base of S3 without clipping, tied (and smooth, but
  not at quick scale, to keep its rows under a minute), 8 seeds; depths L = 32..512, whose deep
  end passes q m = 128 at quick (the entries of one block): there a coordinatewise
  normalization (Adam) that flips sign between neighbouring layers on a fraction ~1/L of the
  coordinates leaves isolated O(1) jumps instead of O(1/L) steps, which a grid stopping at
  L = 64 (slope -0.94 at quick) cannot see (local slopes of the seed-mean under Adam: -0.94,
  -0.78, -0.54, -0.16 from L = 32 to 512, measured);
- long time (Theorem 6 (ii)'s shape, Proposition 8 (i)): the long-time study's model (tanh,
  sphere data, d = d' = 4, q = 8) at m/n = 2, with n = 4 at quick so that T = 24 suffices (every
  seed's R(t) has stopped growing by then under gradient descent and heavy ball; at n = 8 the
  horizon would need T = 64, measured), and the boundedness of the weights in t.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from reports import figures
from reports.sections.base import Checks, Context, Row, Section, by_id, verdict_phrase
from reports.sections.configs import base
from reports.sections.pl import study_base
from reports.text import fmt
from theory.remark1 import GRADIENT_FLOW

IDS = ("remark1.momentum_L", "remark1.momentum_bounded", "remark1.adam_L",
       "remark1.adam_bounded")
WHO = {"momentum": "heavy ball", "adam": "Adam"}


def _rows(ctx: Context) -> list[Row]:
    finite = base(ctx, clip="none", depths=ctx.pick(tiny=(4, 8, 16, 32),
                                                    quick=(32, 64, 128, 256, 512),
                                                    paper=(32, 64, 128, 256, 512)),
                  seeds=ctx.pick(tiny=(0, 1), quick=tuple(range(8)), paper=tuple(range(8))))
    long = dataclasses.replace(study_base(ctx), seeds=tuple(5 * ctx.seed + j for j in range(5)),
                               **ctx.pick(tiny={"n": 4, "m": 8, "L": 2, "depths": (2, 4, 8, 16),
                                                "T": 2.0},
                                          quick={"n": 4, "m": 8, "L": 2, "depths": (2, 4, 8, 16),
                                                 "T": 24.0},
                                          paper={"n": 8, "m": 16, "L": 8,
                                                 "depths": (8, 16, 32, 64, 128, 256),
                                                 "T": 64.0}))
    rows = []
    for opt in ("momentum", "adam"):
        what = f"{WHO[opt]}, tanh"
        rows.append(Row(f"remark1.{opt}_L", f"{what}, tied, T = {finite.T:g} (finite time)",
                        finite))
        if ctx.scale != "quick":  # quick: under a minute (the smooth rows take 11 s)
            rows.append(Row(f"remark1.{opt}_L", f"{what}, smooth GP initialization, "
                            f"T = {finite.T:g}", dataclasses.replace(finite, init="smooth")))
        label = f"{what}, tied, n = {long.n}, m/n = {long.m / long.n:g}, T = {long.T:g} (long)"
        rows += [Row(f"remark1.{opt}_L", label, long), Row(f"remark1.{opt}_bounded", label, long)]
    return rows


def _draw(data: dict[str, Any], checks: Checks) -> Any:
    rows = [c for c in checks if c.check.id.endswith("_L")]
    finite = [c for c in rows if "finite" in c.label]
    long = [c for c in rows if c not in finite and "smooth" not in c.label]
    fig, axes = figures.new(2, height=4.6)
    for ax, group, title in ((axes[0], finite, "finite time, tied"),
                             (axes[1], long, "long time (interpolating), tied")):
        for j, c in enumerate(group):
            s = c.check.extra["series"]
            mean = [sum(v) / len(v) for v in s["values"]]
            ax.loglog(s["L"], figures.positive(mean), "o-", ms=4, color=f"C{j}",
                      label=f"{c.label.split(',')[0]}: "
                            f"{figures.slope_label(c.check.extra.get('rate'))}")
        if group:  # the rows of a panel share their configuration: one reference
            s, rate = group[0].check.extra["series"], group[0].check.extra.get("rate_gd")
            ax.loglog(s["L"], figures.positive([sum(v) / len(v) for v in s["gd"]]), "x:k",
                      ms=4, label=f"gradient descent, same draws: {figures.slope_label(rate)}")
            figures.depth_axis(ax, s["L"])
        ax.set_ylabel("sup_t max_k ||Z_{k+1}(t) - Z_k(t)||, seed mean")
        ax.set_title(f"Remark 1, no clipping: {title}")
        figures.legend_below(ax)
    return fig


def _text(data: dict[str, Any], checks: Checks) -> str:
    lines = ["Each optimizer beside gradient descent on the same samples and initializations "
             "(numerics.optimizers; eta in flow time):", "",
             "| # | configuration | slope (optimizer) | slope (GD) | slope of what training "
             "changed | median l(T)/l(0) (GD) | max norm / norm at 0 | largest speed (GD) | "
             "doubling ratio of R, median | late growth of R |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for j, c in enumerate(checks, start=1):
        e, shape = c.check.extra, c.check.id.endswith("_L")
        v, ratios = e["values"], sorted(e["series"]["R_doubling"])
        slopes = [figures.slope_label(e.get(k)) if shape else "-"
                  for k in ("rate", "rate_gd", "rate_moved")]
        lines.append(
            f"| {j} | {c.check.id.split('.')[1]}: {c.label} | {' | '.join(slopes)} | "
            f"{fmt(v['l_T_over_l0'], 3)} ({fmt(v['gd_l_T_over_l0'], 3)}) | "
            f"{fmt(v['norm_growth'], 3)} | {fmt(v['max_speed'], 3)} "
            f"({fmt(v['gd_max_speed'], 3)}) | "
            f"{'-' if shape else fmt(ratios[len(ratios) // 2], 3)} | {fmt(v['R_late'], 3)} |")
    return "\n".join(lines)


def _conclusion(data: dict[str, Any], checks: Checks) -> str:
    parts = [f"{WHO[sid.split('.')[1].split('_')[0]]}: "
             f"{'1/L neighbours' if sid.endswith('_L') else 'weights bounded in t'} "
             f"{verdict_phrase(by_id(checks, sid))}" for sid in IDS if by_id(checks, sid)]
    deep = [f"L <= {max(c.check.config['depths'])} against q m = "
            f"{c.check.config['q'] * c.check.config['m']}" for c in checks
            if c.check.id == "remark1.adam_L" and "long" in c.label]
    caveat = ("" if not deep else f" The long rows' depths ({deep[0]} entries per block) stay "
              "below the depth where Adam's sign flips between neighbouring layers dominate; "
              "the finite-time rows reach it.")
    return ("Remark 1 beyond the gradient flow (no theorem covers these optimizers): "
            + "; ".join(parts) + "." + caveat)


def _note(data: dict[str, Any]) -> str:
    return ("Gap between neighbouring layers against depth for each optimizer (solid) and for "
            "gradient descent on the same samples and initializations (dotted black), with the "
            "log-log slopes and their 95% intervals over seeds; model (3), unclipped, "
            f"{figures.SCALING_NOTE['paper']}.")


SECTION = Section(
    key="S16", title="Remark 1: momentum and Adam without clipping (beyond scope)",
    ids=IDS, assumptions=dict.fromkeys(IDS, (GRADIENT_FLOW,)), rows=_rows, draw=_draw,
    text=_text, conclusion=_conclusion, figure_note=_note)
