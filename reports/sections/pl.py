"""S5 (Definition 1, Proposition 5): the local Polyak-Lojasiewicz condition, swept over the width.

Every row fails m >= c1 n (c1 is of order 10^7 for tanh): the guaranteed regime cannot be
instantiated, so the section measures the PL ratio G/l where it can (at initialization, on the
M-ball of Proposition 5, along training) and compares two empirical width thresholds with c1 n:

- the smallest swept m/n from which on the first-layer features sigma(W_1 A x / sqrt q) keep
  smin >= sqrt(m) |eta_r| / 4, the property (Lemma 21) that m >= c1 n is there to guarantee in
  the proof (B.5);
- the width m*(n) from which on most seeds interpolate (l(T) <= 1e-2 l(0)) within the horizon
  T = 5 n on long unclipped runs (:func:`numerics.longtime.phase_diagram`, the (n, m) phase
  diagram of :data:`STUDY`), with the PL ratio's infimum along the path, and its fit
  m* ~ a n^gamma.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from numerics import longtime
from reports import figures
from reports.sections.base import Checks, Context, Row, Section, verdict_phrase
from reports.sections.configs import base
from reports.text import fmt
from theory import lemmas, pl
from theory.activations import ASSUMPTIONS
from theory.constants import constants
from theory.finite_time import MODEL3

RATIOS = {"tiny": (0.5, 1, 2), "quick": (0.25, 0.5, 1, 2, 4, 8, 16),
          "paper": (0.25, 0.5, 1, 2, 4, 8)}  # paper: 64 ball points x L x n x m in memory


STUDY = {
    "tiny": longtime.Study(ns=(6, 8), ratios=(0.25, 0.5), T_per_n=0.5, depth_n=6,
                           depth_ratios=(0.5, 0.25), depths=(2, 4), y_scales=(1.0,),
                           smooth_T_factor=2.0),
    "quick": longtime.Study(ns=(8, 12, 16), ratios=(0.25, 0.5, 1.0), T_per_n=5.0, depth_n=8,
                            depth_ratios=(0.5, 0.125), depths=(2, 4, 8), y_scales=(1.0, 3.0),
                            smooth_T_factor=3.0),
    "paper": longtime.Study(ns=(8, 16, 32, 64, 128), ratios=(0.0625, 0.125, 0.25, 0.5, 1, 2),
                            T_per_n=5.0, depth_n=16, depth_ratios=(1.0, 0.125),
                            depths=(4, 8, 16, 32, 64), y_scales=(0.1, 0.3, 1.0, 3.0, 10.0),
                            smooth_T_factor=4.0)}
"""The long-time study per scale (:class:`numerics.longtime.Study`); S5 draws its phase diagram,
S6 its depth, smoothness and label runs."""


FLOW_ETA = {"tiny": 0.05, "quick": 0.005, "paper": 0.005}
"""The step of the long-time rows whose checks are about the flow (Theorem 6 with measured
constants, Proposition 8): the paper's 5e-3 (Section 5.1).  At 0.01 gradient descent does not
track the flow on every seed of the quick rows (eta lambda_max up to 1.51 on 2 of 8 seeds,
numerics.tracking, measured), and every check of such a row is n/a."""


def study_base(ctx: Context) -> Any:
    """Model (3) for the long-time study: tanh, sphere data, unclipped flow, tied, d = d' = 4,
    q = 8 (so that q >= d + d'), L = 8, eta = 0.01 (stable: the runs' discretization gaps
    |log l(T)/l(0) + int G/l| stay ~1e-2); n, m, T are set per point."""
    return ctx.config(n=8, d=4, d_out=4, q=8, m=4, L=8, T=40.0, eta=ctx.pick(
        tiny=0.05, quick=0.01, paper=0.01), activation="tanh", data="sphere", clip="none",
                      seeds=ctx.pick(tiny=(0, 1), quick=(0, 1, 2), paper=(0, 1, 2, 3, 4)))


def _base(ctx: Context) -> Any:
    return base(ctx, clip="none", **ctx.pick(tiny={}, quick={"d": 8, "d_out": 8, "q": 16},
                                             paper={"q": 32, "L": 16, "T": 5.0}))


def _rows(ctx: Context) -> list[Row]:
    b = _base(ctx)
    rows = [Row("prop5.pl", f"tanh, m/n = {ratio:g}", dataclasses.replace(
        b, m=max(1, round(ratio * b.n)))) for ratio in RATIOS[ctx.scale]]
    return rows + [Row("prop5.pl", "GELU (unbounded), m/n = 4", dataclasses.replace(
        b, activation="gelu", m=4 * b.n))]


def _data(ctx: Context, checks: Checks) -> dict[str, Any]:
    b = _base(ctx)
    c = constants(activation="tanh", n=b.n, q=b.q, d=b.d, d_out=b.d_out, m=b.m, L=b.L)
    sweep = [x for x in checks if x.check.config["activation"] == "tanh"]
    ratios, smin_ratio = [], []
    for x in sweep:
        m = x.check.config["m"]
        threshold = float(lemmas.lemma21_threshold("tanh", c["r"], m))
        ratios.append(m / b.n)
        smin_ratio.append(x.check.extra["values"]["smin_first_layer"] / threshold)
    empirical = None
    for j in range(len(ratios)):
        if all(v >= 1 for v in smin_ratio[j:]):
            empirical = ratios[j]
            break
    phase = longtime.phase_diagram(study_base(ctx), STUDY[ctx.scale])
    return {"n": b.n, "q": b.q, "c1": c["c1"], "m_min": c["m_min"], "L_min": c["L_min"],
            "mu": c["mu"], "M": c["M"], "eta_r": c["eta_r"], "r": c["r"], "ratios": ratios,
            "smin_ratio": smin_ratio, "empirical_threshold": empirical, "phase": phase}


def _draw(data: dict[str, Any], checks: Checks) -> Any:
    fig, (ax, bx, cx, dx) = figures.new(2, height=4.6, nrows=2)
    sweep = [x for x in checks if x.check.config["activation"] == "tanh"]
    for key, marker, size, label in (("pl_init", "o--", 8, "G/l at initialization"),
                                     ("pl_ball_min", "s-", 4, "min G/l on the M-ball (64 points)"),
                                     ("pl_train_min", "^-", 4, "min G/l along training")):
        ax.loglog(data["ratios"], figures.positive([x.check.extra["values"].get(key)
                                                    for x in sweep]), marker, ms=size,
                  mfc="none" if key == "pl_init" else None, label=label)
    ax.axhline(data["mu"], color="k", ls="--", lw=0.9,
               label=f"guaranteed mu = c4/(n sqrt(nq)) = {data['mu']:.2g}")
    if data["empirical_threshold"] is not None:
        ax.axvline(data["empirical_threshold"], color="C3", ls=":", lw=1.2,
                   label=f"empirical width threshold m/n = {data['empirical_threshold']:g}")
    figures.caption_box(ax, f"Proposition 5 needs m/n >= c1 = {data['c1']:.3g}\n"
                            f"and L >= c2 sqrt(nq) = {data['L_min']:.3g} (off the plot)")
    ax.set_xlabel("width ratio m / n")
    ax.set_ylabel("PL ratio G / l")
    ax.set_title(f"Definition 1: PL ratio against width (tanh, n = {data['n']})")
    figures.legend_below(ax)
    bx.semilogx(data["ratios"], data["smin_ratio"], "o-", color="C3")
    bx.axhline(1.0, color="k", ls="--", lw=0.9, label="Lemma 21's bound sqrt(m)|eta_r|/4")
    bx.set_xlabel("width ratio m / n")
    bx.set_ylabel("smin(features) / (sqrt(m) |eta_r| / 4)")
    bx.set_title(f"Lemma 21: features at init (r = {data['r']}, "
                 f"|eta_r| = {abs(data['eta_r']):.3g})")
    figures.legend_below(bx)
    _draw_phase(cx, dx, data["phase"], data["c1"])
    return fig


def _draw_phase(cx: Any, dx: Any, phase: dict[str, Any], c1: float) -> None:
    """Left: the fraction of seeds interpolating per (n, m/n), with m*(n)/n and its bracket and
    the fit; right: m*(n) against n beside c1 n (log-log, both on one scale)."""
    import numpy as np

    ns = sorted({c["n"] for c in phase["cells"]})
    ratios = sorted(phase["study"]["ratios"])  # nominal: m = round(ratio n) (the table: exact)
    grid = np.full((len(ratios), len(ns)), np.nan)
    for c in phase["cells"]:
        row = int(np.argmin([abs(np.log(c["m"] / c["n"] / r)) for r in ratios]))
        grid[row, ns.index(c["n"])] = c["fraction"]
    mesh = cx.pcolormesh(_edges(ns), _edges(ratios), grid, cmap="viridis", vmin=0, vmax=1,
                         shading="flat")
    cx.figure.colorbar(mesh, ax=cx, label="fraction of seeds with l(T) <= 1e-2 l(0)")
    cx.set_xscale("log")
    cx.set_yscale("log")
    cx.set_xticks(ns, [f"{n:g}" for n in ns])
    cx.set_yticks(ratios, [f"{r:g}" for r in ratios])
    cx.minorticks_off()
    ths = [t for t in phase["thresholds"] if _finite(t["m_hi"])]
    for t in ths:
        lo = t["m_lo"] if t["m_lo"] > 0 else t["m_hi"]
        cx.plot([t["n"]] * 2, [lo / t["n"], t["m_hi"] / t["n"]], color="C3", lw=3, alpha=0.8)
    cx.plot([t["n"] for t in ths], [t["m_star"] / t["n"] for t in ths], "o", color="C3",
            label="m*(n) / n (bar: the grid bracket)")
    fit = phase["fit"]
    if fit is not None:
        xs = np.geomspace(ns[0], ns[-1], 50)
        cx.plot(xs, fit["prefactor"] * xs ** (fit["gamma"] - 1), "--", color="C3",
                label=f"fit m* = {fit['prefactor']:.2g} n^{fit['gamma']:.2f}")
    study = phase["study"]
    cx.set_xlabel("sample size n")
    cx.set_ylabel("width ratio m / n")
    cx.set_title(f"Interpolation within T = {study['T_per_n']:g} n (L = {phase['base']['L']})")
    figures.legend_below(cx)
    dx.loglog(ns, [c1 * n for n in ns], "k-", label=f"Proposition 5: c1 n, c1 = {c1:.3g}")
    if ths:
        lo = [t["m_star"] - (t["m_lo"] if t["m_lo"] > 0 else t["m_star"]) for t in ths]
        hi = [t["m_hi"] - t["m_star"] for t in ths]
        dx.errorbar([t["n"] for t in ths], [t["m_star"] for t in ths], yerr=[lo, hi],
                    fmt="o", color="C3", capsize=3, label="measured m*(n) (grid bracket)")
    if fit is not None:
        xs = np.geomspace(ns[0], ns[-1], 50)
        dx.loglog(xs, fit["prefactor"] * xs ** fit["gamma"], "--", color="C3",
                  label=f"fit gamma = {fit['gamma']:.2f} [{fit['interval'][0]:.2f}, "
                        f"{fit['interval'][1]:.2f}]")
    dx.set_xticks(ns, [f"{n:g}" for n in ns])
    dx.minorticks_off()
    dx.set_xlabel("sample size n")
    dx.set_ylabel("width m")
    dx.set_title("Measured width threshold m*(n) against c1 n")
    figures.legend_below(dx)


def _finite(value: float | None) -> bool:
    """A number that survived JSON (non-finite values are saved as None)."""
    import math

    return value is not None and math.isfinite(value)


def _edges(values: list[float]) -> list[float]:
    """Cell edges of a log-spaced axis: geometric midpoints, extended by half a step."""
    import math

    if len(values) == 1:
        return [values[0] / 1.5, values[0] * 1.5]
    mids = [math.sqrt(a * b) for a, b in zip(values, values[1:], strict=False)]
    return [values[0] ** 2 / mids[0], *mids, values[-1] ** 2 / mids[-1]]


def threshold_sentence(phase: dict[str, Any], c1: float) -> str:
    """m*(n) with its brackets and the fit, beside c1 n, in words."""
    parts = []
    for t in phase["thresholds"]:
        if not _finite(t["m_hi"]):
            parts.append(f"m*({t['n']}) > {t['m_lo']:g}")
        elif t["m_lo"] == 0:
            parts.append(f"m*({t['n']}) <= {t['m_hi']:g}")
        else:
            parts.append(f"m*({t['n']}) in ({t['m_lo']:g}, {t['m_hi']:g}]")
    text = (f"interpolation (l(T) <= {phase['level']:g} l(0) within T = "
            f"{phase['study']['T_per_n']:g} n for most seeds) sets in at " + ", ".join(parts))
    fit = phase["fit"]
    if fit is not None:
        lo, hi = fit["interval"]
        text += (f", i.e. m* ~ {fit['prefactor']:.2g} n^{fit['gamma']:.2f} (gamma in "
                 f"[{lo:.2f}, {hi:.2f}] over the brackets)")
    return text + f", where the paper asks for m >= c1 n = {c1:.3g} n"


def _conclusion(data: dict[str, Any], checks: Checks) -> str:
    sweep = [x for x in checks if x.check.config["activation"] == "tanh"]
    least = min((x.check.measured for x in sweep if x.check.measured is not None), default=None)
    text = (f"Proposition 5 {verdict_phrase(checks)}: m >= c1 n with c1 = {data['c1']:.3g} is out "
            f"of reach; the measured PL ratio stays >= {fmt(least, 3)}")
    if least is not None:
        text += f", {least / data['mu']:.3g} times the guaranteed mu"
    emp = data["empirical_threshold"]
    if emp is None:
        text += "; the features never clear Lemma 21's bound in the sweep"
    else:
        text += (f"; the first-layer features clear Lemma 21's bound from m/n = {emp:g} on, "
                 f"{data['c1'] / emp:.2g} times below the width c1 n the proposition asks for")
    return text + "; on long unclipped runs " + threshold_sentence(data["phase"], data["c1"]) + "."


SECTION = Section(
    key="S5", title="Definition 1 and Proposition 5: the local PL condition",
    ids=("prop5.pl",),
    assumptions={"prop5.pl": (ASSUMPTIONS["C2"], ASSUMPTIONS["nonconstant"],
                              ASSUMPTIONS["lipschitz"], ASSUMPTIONS["bounded"],
                              ASSUMPTIONS["zero_at_zero"], ASSUMPTIONS["nonpolynomial"],
                              pl.Q_SPLIT, pl.WIDTH, pl.DEPTH, pl.SPHERE, pl.TIED, MODEL3)},
    rows=_rows, data=_data, draw=_draw, conclusion=_conclusion,
    figure_note=lambda data: (
        f"Unclipped gradient descent on model (3), tanh, sphere data (||x_i|| = sqrt q), n = "
        f"{data['n']}, q = {data['q']}; G = ||dl/dA||^2 + L sum_k ||dl/dZ_k||^2 + ||dl/dB||^2; "
        f"the M-ball has radius M = c3/sqrt(nq) = {data['M']:.3g}. Top right: the smallest "
        f"singular value of the first-layer features sigma(W_1 A x_i / sqrt q) (m x n; 0 for "
        f"m < n) at initialization. Bottom: the long-time phase diagram (d = d' = 4, q = 8, L = "
        f"{data['phase']['base']['L']}, eta = {data['phase']['base']['eta']:g}, seeds "
        f"{len(data['phase']['base']['seeds'])} per cell, horizon T = "
        f"{data['phase']['study']['T_per_n']:g} n): fraction of seeds with l(T) <= "
        f"{data['phase']['level']:g} l(0), the width threshold m*(n) and c1 n. Scaling: "
        f"{figures.SCALING_NOTE['paper']}."),
    text=lambda data, checks: _phase_table(data["phase"]))


def _phase_table(phase: dict[str, Any]) -> str:
    """The phase diagram's cells as a Markdown table."""
    lines = ["| n | m | m/n | fraction interpolating | median inf_t G/l | median max distance "
             "| median sup_t L max gap |", "|---|---|---|---|---|---|---|"]
    for c in phase["cells"]:
        lines.append(f"| {c['n']:g} | {c['m']:g} | {c['m'] / c['n']:g} | {c['fraction']:.2f} | "
                     f"{fmt(c['mu_emp'], 3)} | {fmt(c['max_dist'], 3)} | "
                     f"{fmt(c['sup_L_gap'], 3)} |")
    return ("Long-time phase diagram (per cell: the seeds of one batched run; inf_t G/l is "
            "the PL ratio's infimum along the whole path):\n\n" + "\n".join(lines) + "\n")

