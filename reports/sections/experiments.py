"""S11 (Appendix D: the ReLU counterexample), S12 (Section 4.3: general residuals and smooth
initialization) and S13 (Section 5.2, Table 1: real data)."""

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
from reports.sections.finite_time import SMOOTH_SIGMA
from reports.text import fmt
from theory.activations import ASSUMPTIONS
from theory.finite_time import CLIPPED, TIED_OR_SMOOTH
from theory.relu import LABEL_RATIO, RELU

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
        s = c["extra"]["series"]
        ax.loglog(s["L"], figures.positive(s["gap_vs_L"]), "o-", ms=4, color=f"C{j}",
                  label=c["label"])
        bx.plot(s["t"], s["w_even"], color=f"C{j}", label=f"{c['label']}, L = {c['config']['L']}")
    relu = checks[0]
    C = relu["config"]["appd_C"]
    depths = relu["extra"]["series"]["L"]
    ax.loglog(depths, [2 * L * (C ** (1 / L) - 1) + 1 / (2 * L) for L in depths], "k--", lw=0.9,
              label="ReLU limit w* + 1/(2L), w* = 2L(C^(1/L) - 1)")
    figures.depth_axis(ax, depths, "L (the network has depth 2L)")
    ax.set_ylabel("max_k |w_{k+1}(T) - w_k(T)|")
    ax.set_title("Appendix D: neighbour gap after training")
    figures.legend_below(ax)
    w_star = relu["extra"]["values"]["w_star"]
    bx.axhline(w_star, color="k", ls="--", lw=0.9, label=f"ReLU fixed point w* = {w_star:.4g}")
    bx.set_xlabel("flow time t")
    bx.set_ylabel("mean even weight w_(2k)(t)")
    bx.set_title("Even weights converge to w* (ReLU)")
    figures.legend_below(bx)
    return fig


def _s11_conclusion(data: dict[str, Any], checks: Checks) -> str:
    relu, smooth = checks[0], checks[1:]
    gaps = relu["extra"]["series"]["gap_vs_L"]
    smooth_text = ", ".join(f"{c['label'].split()[0]} "
                            f"{fmt(c['extra']['series']['gap_vs_L'][-1], 3)}" for c in smooth)
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
            for label, config in variants]


_S12_SERIES = {"sec43.general": ("conv", "o", "convolutional residual, tied"),
               "sec43.smooth_init": ("smooth", "s", "model (3), smooth GP init")}


def _s12_draw(data: dict[str, Any], checks: Checks) -> Any:
    fig, (ax,) = figures.new(width=6.5, height=5.0)
    for j, c in enumerate(checks):
        s = c["extra"]["series"]
        key, marker, what = _S12_SERIES[c["id"]]
        means = [sum(v) / len(v) for v in s[key]]
        ax.loglog(s["L"], figures.positive(means), marker + ("-" if c["applicable"] else ":"),
                  ms=4, color=f"C{j % 3}", alpha=1.0 if key == "conv" else 0.6,
                  label=f"{c['label']}, {what}: {figures.slope_label(c['extra']['rate'])}")
    figures.depth_axis(ax, checks[0]["extra"]["series"]["L"])
    ax.set_ylabel("max_{k,t} ||Z_{k+1}(t) - Z_k(t)||  (mean over seeds)")
    ax.set_title("Section 4.3: general residuals, smooth initialization")
    figures.legend_below(ax)
    return fig


S12 = Section(
    key="S12", title="Section 4.3: general residuals and smooth initialization",
    ids=("sec43.general", "sec43.smooth_init"),
    assumptions={sid: (CLIPPED, *SMOOTH_SIGMA, TIED_OR_SMOOTH) for sid in _S12_SERIES},
    rows=_s12_rows, draw=_s12_draw,
    conclusion=lambda data, checks: (
        f"Section 4.3's O(1/L) for a convolutional residual "
        f"{verdict_phrase(by_id(checks, 'sec43.general'))}, and from a smooth initialization "
        f"{verdict_phrase(by_id(checks, 'sec43.smooth_init'))}; fitted slopes "
        + "; ".join(f"{c['label'].split(',')[0]} ({_S12_SERIES[c['id']][2]}): "
                    f"{fmt(c['rate_slope'], 3)}" for c in applicable(checks)) + "."),
    figure_note=lambda data: (
        "Convolutional residual: a 1-D signal of q/2 positions and 2 channels, 2 hidden channels, "
        "kernel 3 (general model (11), C^2 with f(0, .) = 0), tied initialization; smooth GP "
        f"initialization of model (3). Clipped flow. Scaling: {figures.SCALING_NOTE['paper']}."))


# --------------------------------------------------------------------------- S13

PAPER_TABLE1 = {  # CIFAR-10, median of 5 runs: train / test accuracy (%), smooth trained weights
    ("identity", "tied"): (56.5, 59.8, "yes"), ("identity", "iid"): (56.1, 59.6, "no"),
    ("gelu", "tied"): (80.5, 79.9, "yes"), ("gelu", "iid"): (89.8, 85.7, "no"),
    ("relu", "tied"): (97.4, 88.1, "no"), ("relu", "iid"): (98.4, 88.4, "no")}


def _s13_rows(ctx: Context) -> list[Row]:
    data = "cifar" if ctx.data_dir else "gaussian"  # gaussian: the check's default, digits
    b = base(ctx, data=data, data_dir=ctx.data_dir, **ctx.pick(
        tiny={"L": 4}, quick={"L": 16, "epochs": 4, "subset": 512},
        paper={"L": 256, "epochs": 180, "subset": None}))
    return [Row("table1.realdata", name, dataclasses.replace(b, activation=name))
            for name in ("identity", "gelu", "relu")]


def _s13_data(ctx: Context, checks: Checks) -> dict[str, Any]:
    acc = {c["config"]["activation"]: c["extra"]["values"]["tied_test_acc"] for c in checks}
    paper_order = acc.get("identity", 0) < acc.get("gelu", 0) < acc.get("relu", 0)
    contrast = [c["measured"] for c in checks if c["measured"] is not None]
    lines = [f"tied test accuracy {', '.join(f'{k} {v:.3f}' for k, v in acc.items())} "
             f"(the paper's strict order identity < gelu < relu "
             f"{'reproduced' if paper_order else 'not reproduced'})",
             f"smoothness tied/iid ratio {', '.join(fmt(v, 2) for v in contrast)}"]
    return {"evidence": {"table1.digits": lines} if len(acc) == 3 else {}}


def _s13_draw(data: dict[str, Any], checks: Checks) -> Any:
    fig, (ax, bx) = figures.new(2)
    names = [c["config"]["activation"] for c in checks]
    xs = range(len(names))
    for shift, init, color in ((-0.2, "tied", "C0"), (0.2, "iid", "C1")):
        values = [c["extra"]["values"] for c in checks]
        ax.bar([x + shift for x in xs], figures.positive(
            [(v[f"{init}_relative_1"] + v[f"{init}_relative_2"]) / 2 for v in values]), 0.4,
            color=color, label=init)
        bx.bar([x + shift for x in xs], [100 * v[f"{init}_test_acc"] for v in values], 0.4,
               color=color, label=f"{init} (this run)")
        bx.plot([x + shift for x in xs], [PAPER_TABLE1[(n, init)][1] for n in names], "k_",
                ms=14, mew=2)
    bx.plot([], [], "k_", ms=14, mew=2, label="paper, CIFAR-10 (median of 5)")
    for axis in (ax, bx):
        axis.set_xticks(list(xs), names)
        axis.set_xlabel("activation sigma")
    ax.set_yscale("log")
    ax.set_ylabel("relative smoothness (mean over the 2 convolutions)")
    ax.set_title("Figure 4 analogue: smoothness of the trained weights")
    ax.legend(loc="center left")
    bx.set_ylabel("test accuracy (%)")
    bx.set_title("Table 1 analogue: test accuracy")
    bx.legend(fontsize=7, loc="lower right")
    return fig


def _s13_text(data: dict[str, Any], checks: Checks) -> str:
    lines = ["| activation | init | train acc (%) | test acc (%) | relative smoothness | "
             "paper train / test (%) | paper: smooth |", "|---|---|---|---|---|---|---|"]
    for c in checks:
        v, name = c["extra"]["values"], c["config"]["activation"]
        for init in ("tied", "iid"):
            p = PAPER_TABLE1[(name, init)]
            smooth = (v[f"{init}_relative_1"] + v[f"{init}_relative_2"]) / 2
            lines.append(f"| {name} | {init} | {100 * v[f'{init}_train_acc']:.1f} | "
                         f"{100 * v[f'{init}_test_acc']:.1f} | {fmt(smooth, 3)} | "
                         f"{p[0]} / {p[1]} | {p[2]} |")
    return "\n".join(lines)


def _s13_note(data: dict[str, Any]) -> str:
    return ("Relative smoothness: mean_k ||conv_(k+1) - conv_k||_F / mean_k ||conv_k||_F. "
            "Convolutional ResNet of Section 5.2 (h + bn2(conv2(sigma(bn1(conv1(h)))))/L), SGD "
            "with cosine decay; on scikit-learn's digits unless --data-dir gives CIFAR-10 (see "
            "the configuration of each row); tied vs i.i.d. initialization of the convolutions. "
            "Not model (3).")


S13 = Section(
    key="S13", title="Section 5.2: real data (Table 1, Figures 3-4)", ids=("table1.realdata",),
    assumptions={"table1.realdata": (ASSUMPTIONS["C2"], TIED_OR_SMOOTH)},
    rows=_s13_rows, data=_s13_data, draw=_s13_draw, text=_s13_text,
    conclusion=lambda data, checks: (
        f"The smoothness contrast {verdict_phrase(checks)} (tied weights smoother than i.i.d.: "
        f"ratios {', '.join(fmt(c['measured'], 2) for c in checks)}); "
        + ("; ".join(data["evidence"].get("table1.digits", [])[:1]) or "accuracies in the table")
        + "."),
    figure_note=_s13_note)
