"""S11 (Appendix D: the ReLU counterexample), S12 (Section 4.3: general residuals and smooth
initialization) and S13 (Section 5.2, Table 1: real data)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from matplotlib.ticker import LogLocator

from numerics.table1 import table1_power
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
from reports.sections.finite_time import SMOOTH_SIGMA
from reports.text import fmt
from theory.activations import ASSUMPTIONS
from theory.finite_time import CLIPPED, TIED_OR_SMOOTH
from theory.long_time import UNCLIPPED
from theory.relu import LABEL_RATIO, RELU
from theory.sec43 import PL_GENERAL

# --------------------------------------------------------------------------- S11


def _s11_rows(ctx: Context) -> list[Row]:
    b = base(ctx, appd_x=0.5, appd_C=2.0, **ctx.pick(
        tiny={"T": 2.0, "eta": 0.05}, quick={"L": 16, "T": 30.0, "eta": 0.01},
        paper={"L": 64, "T": 60.0, "eta": 0.005, "depths": (8, 16, 32, 64, 128, 256)}))
    r = dataclasses.replace
    return [Row("appD.relu", "ReLU", r(b, activation="relu")),
            Row("appD.relu", "tanh (smooth contrast)", b),
            Row("appD.relu", "GELU (smooth contrast)", r(b, activation="gelu"))]


def _s11_draw(data: dict[str, Any], checks: Checks) -> Any:
    fig, (ax, bx) = figures.new(2, height=4.4)
    for j, c in enumerate(checks):
        s = c.check.extra["series"]
        ax.loglog(s["L"], figures.positive(s["gap_vs_L"]), "o-", ms=4, color=f"C{j}",
                  label=c.label)
        bx.plot(s["t"], s["w_even"], color=f"C{j}", label=f"{c.label}, L = {c.check.config['L']}")
    relu = checks[0]
    C = relu.check.config["appd_C"]
    depths = relu.check.extra["series"]["L"]
    ax.loglog(depths, [2 * L * (C ** (1 / L) - 1) + 1 / (2 * L) for L in depths], "k--", lw=0.9,
              label="ReLU limit w* + 1/(2L), w* = 2L(C^(1/L) - 1)")
    figures.depth_axis(ax, depths, "L (the network has depth 2L)")
    ax.set_ylabel("max_k |w_{k+1}(T) - w_k(T)|")
    ax.set_title("Appendix D: neighbour gap after training")
    figures.legend_below(ax)
    w_star = relu.check.extra["values"]["w_star"]
    bx.axhline(w_star, color="k", ls="--", lw=0.9, label=f"ReLU fixed point w* = {w_star:.4g}")
    bx.set_xlabel("flow time t")
    bx.set_ylabel("mean even weight w_(2k)(t)")
    bx.set_title("Even weights converge to w* (ReLU)")
    figures.legend_below(bx)
    return fig


def _s11_conclusion(data: dict[str, Any], checks: Checks) -> str:
    relu, smooth = checks[0], checks[1:]
    gaps = relu.check.extra["series"]["gap_vs_L"]
    smooth_text = ", ".join(f"{c.label.split()[0]} "
                            f"{fmt(c.check.extra['series']['gap_vs_L'][-1], 3)}" for c in smooth)
    return (f"Appendix D {verdict_phrase(checks)}: with ReLU the gap stays "
            f"{fmt(min(gaps), 3)}..{fmt(max(gaps), 3)} at every depth (no ODE limit), while the "
            f"smooth activations' gap at the deepest L is {smooth_text} (O(1/L)).")


S11 = Section(
    key="S11", title="Appendix D: ReLU breaks the ODE limit", ids=("appD.relu",),
    assumptions={"appD.relu": (RELU, LABEL_RATIO)}, rows=_s11_rows, draw=_s11_draw,
    conclusion=_s11_conclusion,
    figure_note=lambda data: (
        "Scalar network of depth 2L, h_(k+1) = h_k + sigma(w_(k+1) h_k)/(2L), one sample "
        "(x, Cx) with x = 0.5, C = 2, w_k(0) = (-1)^k/(2L), depth-scaled flow dw_k/dt = "
        "-2L dl/dw_k by gradient descent (float64). Not model (3): no width factors."))


# --------------------------------------------------------------------------- S12


def _s12_rows(ctx: Context) -> list[Row]:
    b = base(ctx, seeds=ctx.pick(tiny=(0, 1), quick=(0, 1, 2, 3, 4), paper=(0, 1, 2, 3, 4)))
    r = dataclasses.replace
    variants = [("tanh, coordinate clipping", b),
                ("GELU, coordinate clipping", r(b, activation="gelu")),
                ("ReLU (not C^2)", r(b, activation="relu"))]
    return [Row(sid, label, config) for sid in ("sec43.general", "sec43.smooth_init")
            for label, config in variants] + _s12_long_rows(ctx)


S12_LONG = ("sec43.long_decay", "sec43.long_smooth_L")
"""Theorem 6's conclusions for model (11) with measured constants (numerics.sec43)."""


def _s12_long_rows(ctx: Context) -> list[Row]:
    """The convolutional residual of sec43.general (2 channels, 2 hidden channels, kernel 3 on
    q = 8: 4 positions) on the unclipped flow from a tied initialization, n = 6 samples in
    d = 4 (a linear network cannot interpolate them: the decay's control), labels N(0, I_4).
    eta keeps gradient descent on the flow (|log(l(T)/l(0)) + int G/l| = 0.04 at quick scale,
    0.14 at paper scale; labels of scale 2 reach minima of sharpness ~190, mostly in A's
    direction, past 2/eta = 100 at eta = 0.02); the horizon keeps l(T) far above rounding,
    where rho would stall (T = 128 would reach it).  Costs measured on a shared core: quick
    (four depths 2..6, T = 32) 15 s of CPU per set of runs (the rows share one, each control
    that runs adds one); paper (depths 4..32, T = 64) 220 s per set with 8 seeds, where rho's
    interval missed the edge by 0.01 ("about 9 seeds"): 12 seeds.  Quick at eta = 0.01, T = 16:
    at eta = 0.02 eta lambda_max reaches 1.75 along the run (numerics.tracking), past the damping
    edge 1.28, so gradient descent would not track the flow there, and T = 32 at eta = 0.01
    doubles a cost that the tracking's step halving already multiplies by 3.5 (measured,
    2026-12-06)."""
    b = base(ctx, clip="none", n=6, d=4, d_out=4, q=8, **ctx.pick(
        tiny={"T": 0.4, "eta": 0.05, "depths": (2, 3, 4, 6)},
        quick={"T": 16.0, "eta": 0.01, "depths": (2, 3, 4, 6)},
        paper={"T": 64.0, "eta": 0.01, "depths": (4, 8, 16, 32), "seeds": tuple(range(12))}))
    label = f"tanh, convolutional residual, n = 6, T = {b.T:g}, measured constants"
    return [Row(sid, label, b) for sid in S12_LONG]


_S12_SERIES = {"sec43.general": ("conv", "o", "convolutional residual, tied"),
               "sec43.smooth_init": ("smooth", "s", "model (3), smooth GP init")}


def _s12_draw(data: dict[str, Any], checks: Checks) -> Any:
    fig, (ax, bx, cx) = figures.new(3, width=5.2, height=5.0)
    finite = [c for c in checks if c.check.id in _S12_SERIES]
    for j, c in enumerate(finite):
        s = c.check.extra["series"]
        key, marker, what = _S12_SERIES[c.check.id]
        means = [sum(v) / len(v) for v in s[key]]
        ax.loglog(s["L"], figures.positive(means), marker + ("-" if c.check.applicable else ":"),
                  ms=4, color=f"C{j % 3}", alpha=1.0 if key == "conv" else 0.6,
                  label=f"{c.label}, {what}: {figures.slope_label(c.check.extra['rate'])}")
    if finite:
        figures.depth_axis(ax, finite[0].check.extra["series"]["L"])
    ax.set_ylabel("max_{k,t} ||Z_{k+1}(t) - Z_k(t)||  (mean over seeds)")
    ax.set_title("Section 4.3: general residuals, smooth initialization")
    figures.legend_below(ax)
    _s12_long_draw(bx, cx, checks)
    return fig


def _s12_long_draw(bx: Any, cx: Any, checks: Checks) -> None:
    """The long-time rows: sup_t max_k gap against L (mean over seeds); the mean decay rate
    rho(T') and the PL ratio's running infimum mu(T') (both min over L, mean over seeds; on the
    flow rho(T') is the mean of G/l over [0, T'], so rho >= mu) against T'."""
    for c in by_id(checks, "sec43.long_smooth_L"):
        s = c.check.extra["series"]
        bx.loglog(s["L"], figures.positive([sum(v) / len(v) for v in s["sup_gap"]]), "o-",
                  ms=4, label=f"{c.label}: {figures.slope_label(c.check.extra['rate'])}")
        figures.depth_axis(bx, s["L"])
    # the gaps span less than a decade: label the 2..6 multiples, there is no major tick
    bx.yaxis.set_minor_locator(LogLocator(subs=(2.0, 3.0, 4.0, 5.0, 6.0)))
    figures.plain_ticks(bx.yaxis)
    bx.set_ylabel("sup_t max_k ||Z_(k+1)(t) - Z_k(t)||, seed mean")
    bx.set_title("Long time: neighbour gap (convolutional, unclipped)")
    figures.legend_below(bx)
    for c in by_id(checks, "sec43.long_decay"):
        s = c.check.extra["series"]
        cx.loglog(s["T"], figures.positive([sum(v) / len(v) for v in s["rho"]]), "s-",
                  color="C3", ms=4, label="rho(T') = min_L log(l(0)/l(T'))/T': "
                  + figures.slope_label(c.check.extra["rate"]))
        cx.loglog(s["T"], figures.positive([sum(v) / len(v) for v in s["mu_T"]]), "v:",
                  color="C7", ms=4, label="mu(T') = min_L inf_(t<=T') G/l (precondition)")
    cx.set_xlabel("T' (flow time)")
    cx.set_ylabel("rate (1 / flow time)")
    cx.set_title("Long time: loss decay and PL along the path")
    figures.legend_below(cx)


S12 = Section(
    key="S12", title="Section 4.3: general residuals and smooth initialization",
    ids=("sec43.general", "sec43.smooth_init", *S12_LONG),
    assumptions={**{sid: (CLIPPED, *SMOOTH_SIGMA, TIED_OR_SMOOTH) for sid in _S12_SERIES},
                 **{sid: (UNCLIPPED, *SMOOTH_SIGMA, TIED_OR_SMOOTH, PL_GENERAL)
                    for sid in S12_LONG}},
    rows=_s12_rows, draw=_s12_draw,
    conclusion=lambda data, checks: (
        f"Section 4.3's O(1/L) for a convolutional residual "
        f"{verdict_phrase(by_id(checks, 'sec43.general'))}, and from a smooth initialization "
        f"{verdict_phrase(by_id(checks, 'sec43.smooth_init'))}; fitted slopes "
        + "; ".join(f"{c.label.split(',')[0]} ({_S12_SERIES[c.check.id][2]}): "
                    f"{fmt(c.check.rate_slope, 3)}" for c in applicable(checks)) + ". "
        + _s12_long_conclusion(checks)),
    figure_note=lambda data: (
        "Left: convolutional residual: a 1-D signal of q/2 positions and 2 channels, 2 hidden "
        "channels, kernel 3 (general model (11), C^2 with f(0, .) = 0), tied initialization; "
        "smooth GP initialization of model (3), whose three curves (tanh, GELU, ReLU) coincide: "
        "the gap there is the initialization's, which training barely changes. Clipped flow. "
        "Right: the same convolutional residual on the unclipped flow (4) to a long horizon "
        "(Theorem 6's conclusions, which Section 4.3 (p7) and Appendix B (p31) extend to model "
        "(11) on condition of the local PL condition, measured along the path and never "
        "established for it). Scaling: "
        f"{figures.SCALING_NOTE['paper']}."))


def _s12_long_conclusion(checks: Checks) -> str:
    """One sentence on the long-time rows: each outcome with its slope and interval, and the
    precondition measured beside it."""
    parts = []
    for c in (c for c in checks if c.check.id in S12_LONG):
        rate, pre = c.check.extra.get("rate") or {}, c.check.extra.get("precondition") or {}
        lo, hi = rate.get("interval") or (None, None)
        what = "loss decay (rho(T'))" if c.check.id == "sec43.long_decay" else "1/L smoothness"
        parts.append(f"{what}: {c.check.outcome}, slope {fmt(c.check.rate_slope, 3)} "
                     f"[{fmt(lo, 3)}, {fmt(hi, 3)}] (T = {fmt(c.check.config['T'], 3)}; "
                     f"median mu_emp {fmt(pre.get('mu_emp'), 3)}, largest l(T)/l(0) "
                     f"{fmt(pre.get('max_l_T_over_l0'), 3)})")
    if not parts:
        return ""
    return ("In the long time (Theorem 6 for model (11), beyond its assumptions: the PL "
            "condition is assumed, not shown, for it): " + "; ".join(parts) + ".")


# --------------------------------------------------------------------------- S13

PAPER_TABLE1 = {  # CIFAR-10, median of 5 runs: train / test accuracy (%), smooth trained weights
    ("identity", "tied"): (56.5, 59.8, "yes"), ("identity", "iid"): (56.1, 59.6, "no"),
    ("gelu", "tied"): (80.5, 79.9, "yes"), ("gelu", "iid"): (89.8, 85.7, "no"),
    ("relu", "tied"): (97.4, 88.1, "no"), ("relu", "iid"): (98.4, 88.4, "no")}


def _s13_rows(ctx: Context) -> list[Row]:
    data = "cifar" if ctx.data_dir else "gaussian"  # gaussian: the check's default, digits
    # quick: a budget at which the residual branch acts (the L = 8 runs reach the L = 1
    # reference within 5 points, and removing the branches costs accuracy); at L = 16 with 4
    # epochs on 512 images it stays inert. paper: Appendix E (L = 256, 180 epochs, lr 4e-2)
    b = base(ctx, data=data, data_dir=ctx.data_dir, **ctx.pick(
        tiny={"L": 4},
        quick={"L": 8, "epochs": 8, "subset": None, "lr": 0.2, "channels": 8,
               "seeds": (0, 1, 2)},
        paper={"L": 256, "epochs": 180, "subset": None, "lr": 0.04, "channels": 16}))
    return [Row("table1.realdata", name, dataclasses.replace(b, activation=name))
            for name in ("identity", "gelu", "relu")]


def _median_and_range(checks: Checks, key: str) -> tuple[list[float], list[float], list[float]]:
    """Per row: the median over seeds of ``key`` and its distance to the smallest and largest."""
    mid, lo, hi = [], [], []
    for c in checks:
        column = [r[key] for r in c.check.extra["series"]["runs"]]
        median = c.check.extra["values"][key]
        if median is None or None in column:  # undefined (e.g. a displacement that is 0)
            mid.append(math.nan)
            lo.append(0.0)
            hi.append(0.0)
            continue
        mid.append(median)
        lo.append(median - min(column))
        hi.append(max(column) - median)
    return mid, lo, hi


def _s13_draw(data: dict[str, Any], checks: Checks) -> Any:
    fig, axes = figures.new(3, width=4.6, height=3.6, nrows=2)
    ax, bx, cx = axes[:3]
    names = [c.check.config["activation"] for c in checks]
    xs = range(len(names))
    for shift, init, color in ((-0.2, "tied", "C0"), (0.2, "iid", "C1")):
        mid, lo, hi = _median_and_range(checks, f"{init}_roughness")
        ax.bar([x + shift for x in xs], mid, 0.4, yerr=[lo, hi], capsize=3, color=color,
               label=f"{init} (this run)")
        mid, lo, hi = _median_and_range(checks, f"{init}_test_acc")
        bx.bar([x + shift for x in xs], [100 * v for v in mid], 0.4,
               yerr=[[100 * v for v in lo], [100 * v for v in hi]], capsize=3, color=color)
        nob = [100 * c.check.extra["values"][f"{init}_test_acc_no_branches"] for c in checks]
        bx.plot([x + shift for x in xs], nob, "v", color="k", ms=5)
        bx.plot([x + shift for x in xs], [PAPER_TABLE1[(n, init)][1] for n in names], "k_",
                ms=14, mew=2)
        cx.bar([x + shift for x in xs], figures.positive(
            [(c.check.extra["values"][f"{init}_relative_1"] + c.check.extra["values"][
                f"{init}_relative_2"]) / 2 for c in checks]), 0.4, color=color)
    L = checks[0].check.config["L"] if checks else 2
    ax.axhline(1.0, color="0.4", lw=0.8, ls=":", label="exchangeable layers (1)")
    ax.axhline(3 / (L + 1), color="0.4", lw=0.8, ls="--", label=f"linear trend (3/(L+1), L={L})")
    bx.plot(list(xs), [100 * c.check.extra["values"]["ref_test_acc"] for c in checks], "*",
            color="C2", ms=9, label="L = 1 reference")
    bx.plot([], [], "v", color="k", ms=5, label="residual branches removed")
    bx.plot([], [], "k_", ms=14, mew=2, label="paper, CIFAR-10 (median of 5)")
    for axis in (ax, bx, cx):
        axis.set_xticks(list(xs), names)
        axis.set_xlabel("activation sigma")
    ax.set_ylim(0, 1.25)
    ax.set_ylabel("roughness of the displacement")
    ax.set_title("What training added, across layers")
    bx.set_ylim(0, 105)
    bx.set_ylabel("test accuracy (%)")
    bx.set_title("Table 1 analogue: test accuracy")
    cx.set_yscale("log")
    cx.set_ylabel("relative smoothness (see note)")
    cx.set_title("Figure 4 analogue: trained weights")
    for panel, c in zip(axes[3:], checks, strict=False):
        series = c.check.extra["series"]
        for init, style in (("tied", {"color": "C0", "ls": "-"}),
                            ("iid", {"color": "C1", "ls": "--", "alpha": 0.7})):
            for j, row in enumerate(series.get(f"{init}_conv1", [])):
                panel.plot(range(1, len(row) + 1), row, lw=1.1, **style,
                           label=init if j == 0 else None)
        panel.set_xlabel("layer k")
        panel.set_ylabel("entry of conv_(1,k) after training")
        panel.set_title(f"Figure 3 analogue: {c.check.config['activation']}, seed "
                        f"{c.check.config['seeds'][0]}")
        panel.legend(fontsize=7)
    handles = [*ax.get_legend_handles_labels()[0], *bx.get_legend_handles_labels()[0]]
    labels = [*ax.get_legend_handles_labels()[1], *bx.get_legend_handles_labels()[1]]
    fig.legend(handles, labels, loc="outside lower center", ncol=4, fontsize=7, frameon=False)
    return fig


def _s13_text(data: dict[str, Any], checks: Checks) -> str:
    lines = ["Medians over the seeds of each row, [smallest, largest] in brackets.", "",
             "| activation | init | train acc (%) | test acc (%) | without branches (%) | "
             "L = 1 reference (%) | moved | roughness of the displacement | relative "
             "smoothness | paper train / test (%) | paper: smooth |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]

    def cell(c: dict[str, Any], key: str, scale: float = 1.0) -> str:
        column = [r[key] for r in c.check.extra["series"]["runs"]]
        if None in column:
            return fmt(None)
        return (f"{fmt(scale * c.check.extra['values'][key], 3)} "
                f"[{fmt(scale * min(column), 3)}, {fmt(scale * max(column), 3)}]")

    for c in checks:
        v, name = c.check.extra["values"], c.check.config["activation"]
        for init in ("tied", "iid"):
            p = PAPER_TABLE1[(name, init)]
            smooth = (v[f"{init}_relative_1"] + v[f"{init}_relative_2"]) / 2
            lines.append(f"| {name} | {init} | {100 * v[f'{init}_train_acc']:.1f} | "
                         f"{cell(c, f'{init}_test_acc', 100)} | "
                         f"{100 * v[f'{init}_test_acc_no_branches']:.1f} | "
                         f"{100 * v['ref_test_acc']:.1f} | {fmt(v[f'{init}_moved'], 3)} | "
                         f"{cell(c, f'{init}_roughness')} | {fmt(smooth, 3)} | "
                         f"{p[0]} / {p[1]} | {p[2]} |")
    return "\n".join(lines)


def _s13_conclusion(data: dict[str, Any], checks: Checks) -> str:
    ratio = {c.check.config["activation"]: c for c in checks}
    parts = [f"Tied smoother than i.i.d. in what training added {verdict_phrase(checks)}"]
    relu = ratio.get("relu")
    if relu is not None and relu.check.measured is not None:
        runs = [r["ratio"] for r in relu.check.extra["series"]["runs"] if r["ratio"] is not None]
        smooth = [c.check.measured for c in applicable(checks) if c.check.measured is not None]
        powered = table1_power(relu.check.extra["series"]["runs"]) is None
        parts.append(
            f"tied + ReLU (Table 1: not smooth; sigma is not C^2, so the row is n/a) gives a "
            f"ratio {fmt(relu.check.measured, 3)} [{fmt(min(runs, default=None), 3)}, "
            f"{fmt(max(runs, default=None), 3)}] against {', '.join(fmt(v, 3) for v in smooth)} "
            "for the smooth activations and 1 for exchangeable layers"
            + (": at this depth and budget ReLU does not break the smoothness Table 1 says it "
               "breaks (Table 1 is at L = 256, 180 epochs on CIFAR-10)" if powered else
               " (underpowered here)"))
    acc = {n: c.check.extra["values"]["tied_test_acc"] for n, c in ratio.items()}
    parts.append("median tied test accuracies " + ", ".join(
        f"{n} {100 * a:.1f}%" for n, a in acc.items() if a is not None)
        + " (Table 1's order identity < GELU < ReLU on CIFAR-10 is about accuracy, not about "
          "the ODE limit: on digits every activation is near the L = 1 reference)")
    return "; ".join(parts) + "."


def _s13_note(data: dict[str, Any]) -> str:
    return ("Relative smoothness (Figure 4): mean_k ||conv_(k+1) - conv_k||_F / mean_k "
            "||conv_k||_F, mean over the 2 convolutions. Roughness of the displacement "
            "D_k = conv_k(T) - conv_k(0): mean_k ||D_(k+1) - D_k|| divided by its mean under a "
            "random order of the layers (1: exchangeable layers; 3/(L+1): a linear trend in "
            "k), mean over the 2 convolutions; error bars: smallest and largest seed. "
            "Convolutional ResNet of Section 5.2 (h + bn2(conv2(sigma(bn1(conv1(h)))))/L), SGD "
            "with cosine decay; tied and i.i.d. runs of one seed share the stem, head, batch "
            "order and augmentation; on scikit-learn's digits unless --data-dir gives CIFAR-10 "
            "(see the configuration of each row). Not model (3).")


S13 = Section(
    key="S13", title="Section 5.2: real data (Table 1, Figures 3-4)", ids=("table1.realdata",),
    assumptions={"table1.realdata": (ASSUMPTIONS["C2"], TIED_OR_SMOOTH)},
    rows=_s13_rows, draw=_s13_draw, text=_s13_text, conclusion=_s13_conclusion,
    figure_note=_s13_note)
