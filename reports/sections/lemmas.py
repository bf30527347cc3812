"""S7-S10: Lemma 18 (linear algebra), Lemma 20 (Gaussian norm tail), Lemma 21 (random features)
and the Hermite coefficients eta_r (Appendix B)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import mpmath

from reports import figures
from reports.findings import chernoff_counterexample
from reports.sections.base import Checks, Context, Row, Section, applicable, verdict_phrase
from reports.sections.configs import base
from reports.text import fmt
from theory import hermite, lemmas

# --------------------------------------------------------------------------- S7


def _s7_rows(ctx: Context) -> list[Row]:
    b = base(ctx)
    r = dataclasses.replace
    return [Row("lemma18.linalg", f"A {b.m} x {b.q}, B {b.q} x {b.n}: all three", b),
            Row("lemma18.linalg", f"A {b.q // 2} x {b.q}: (ii) without m >= r",
                r(b, m=b.q // 2)),
            Row("lemma18.linalg", f"B {b.q} x {b.q // 2}: (iii) without n >= r",
                r(b, n=b.q // 2))]


def _s7_conclusion(checks: Checks) -> str:
    inside = [c for c in checks if not c.check.failed_assumptions]
    outside = [c for c in checks if c.check.failed_assumptions]
    text = (f"Lemma 18 {verdict_phrase(inside)}: the largest relative violation (rhs - lhs)/max "
            f"over the drawn matrices is {fmt(max(c.check.measured for c in inside), 3)} (<= 0 "
            "holds)" if inside else "Lemma 18: no row within its shape conditions")
    return text + "".join(f"; without {', '.join(c.check.failed_assumptions)} it is "
                          f"{fmt(c.check.measured, 3)}" for c in outside) + "."


S7 = Section(
    key="S7", title="Lemma 18: singular-value inequalities", ids=("lemma18.linalg",),
    assumptions={"lemma18.linalg": ("m >= r", "n >= r")}, rows=_s7_rows,
    draw=lambda data, checks: None,
    conclusion=lambda data, checks: _s7_conclusion(checks),
    figure_note=lambda data: "No figure: exact inequalities on drawn Gaussian matrices.")


# --------------------------------------------------------------------------- S8

_QM = {"tiny": ((4, 4), (16, 16)), "quick": ((4, 4), (16, 16), (64, 64)),
       "paper": ((4, 4), (16, 16), (64, 64), (128, 512))}


def _s8_rows(ctx: Context) -> list[Row]:
    b = base(ctx)
    r = dataclasses.replace
    big = {"q": 64, "m": 64} if ctx.scale != "tiny" else {"q": 16, "m": 16}
    return [Row("lemma20.gaussian_norm", "M_W = 2 (Proposition 3's use)", r(b, M_W=2.0)),
            Row("lemma20.gaussian_norm", "M_W = sqrt 2 (the boundary)", r(b, M_W=math.sqrt(2))),
            Row("lemma20.gaussian_norm", "M_W = 1.2 (above M_W* = 1.1396)", r(b, M_W=1.2, **big)),
            Row("lemma20.gaussian_norm", "M_W = 1.1 (below M_W*)", r(b, M_W=1.1, **big))]


def _log10(value: mpmath.mpf) -> float:
    return float(mpmath.log10(value)) if value > 0 else -math.inf


def _s8_data(ctx: Context, checks: Checks) -> dict[str, Any]:
    grid = [1.02 + 0.03 * j for j in range(50)]
    curves = []
    for q, m in _QM[ctx.scale]:
        curves.append({"q": q, "m": m,
                       "exact": [_log10(lemmas.lemma20_exact_tail(q, m, w, dps=30)) for w in grid],
                       "bound": [_log10(lemmas.lemma20_bound(q, m, w, dps=30)) for w in grid]})
    low = checks[-1]
    breakdown = float(lemmas.lemma20_breakdown())
    exact, bound = low.check.extra["values"]["exact_tail"], low.check.bound
    cfg = low.check.config
    evidence = [f"M_W = {cfg['M_W']}, qm = {cfg['q'] * cfg['m']}: "
                f"exact tail {fmt(exact, 3)} vs bound {fmt(bound, 3)}"]
    return {"M_W": grid, "curves": curves, "breakdown": breakdown,
            "evidence": {"lemma20.breakdown": evidence}}


def _s8_draw(data: dict[str, Any], checks: Checks) -> Any:
    fig, (ax, bx) = figures.new(2, height=5.0)
    for j, curve in enumerate(data["curves"]):
        qm = curve["q"] * curve["m"]
        ax.plot(data["M_W"], curve["exact"], "-", color=f"C{j}", label=f"exact tail, qm = {qm}")
        ax.plot(data["M_W"], curve["bound"], "--", color=f"C{j}", label=f"bound, qm = {qm}")
        bx.plot(data["M_W"], [e - b if e is not None and b is not None else None
                              for e, b in zip(curve["exact"], curve["bound"], strict=True)],
                color=f"C{j}", label=f"qm = {qm}")
    for axis in (ax, bx):
        axis.axvline(math.sqrt(2), color="k", lw=0.9, label="M_W = sqrt 2 (Lemma 20's hypothesis)")
        axis.axvline(data["breakdown"], color="C3", ls=":", lw=1.2,
                     label=f"M_W* = {data['breakdown']:.4f} (the bound fails below, large qm)")
    bx.axhline(0, color="k", ls="--", lw=0.8)
    bx.set_xlim(1.0, 1.6)
    bx.set_ylim(-8, 8)
    bx.set_xlabel("M_W")
    bx.set_ylabel("log10(exact tail / bound)   (> 0: bound violated)")
    bx.set_title("Zoom: where the bound fails")
    figures.legend_below(bx, ncol=2)
    ax.set_ylim(max(-60, ax.get_ylim()[0]), 0.5)
    ax.set_xlabel("M_W")
    ax.set_ylabel("log10 P(||W||_F > M_W sqrt(qm))")
    ax.set_title("Lemma 20: exact tail vs the bound")
    figures.legend_below(ax, ncol=2)
    return fig


S8 = Section(
    key="S8", title="Lemma 20: the Frobenius norm of a Gaussian matrix",
    ids=("lemma20.gaussian_norm",), assumptions={"lemma20.gaussian_norm": (
        lemmas.LEMMA20_CONDITION,)},
    rows=_s8_rows, data=_s8_data, draw=_s8_draw,
    conclusion=lambda data, checks: (
        f"Lemma 20 {verdict_phrase(checks)}, exactly (chi-square tail by mpmath) and by Monte "
        f"Carlo; below its hypothesis the bound survives down to M_W* = {data['breakdown']:.4f} "
        f"and fails below it: {data['evidence']['lemma20.breakdown'][0]}."),
    figure_note=lambda data: ("||W||_F^2 ~ chi-square(qm): the exact tail is a regularized "
                              "incomplete gamma function (log10, mpmath, no underflow)."))


# --------------------------------------------------------------------------- S9

_S9_M = {"tiny": (16, 64), "quick": (64, 256, 1024), "paper": (256, 1024, 4096)}


def _s9_rows(ctx: Context) -> list[Row]:
    b = base(ctx, **ctx.pick(tiny={"d": 4, "q": 4}, quick={"d": 8}, paper={}))
    r = dataclasses.replace
    rows = [Row("lemma21.smin", f"tanh, m = {m}", r(b, m=m)) for m in _S9_M[ctx.scale]]
    mid = _S9_M[ctx.scale][-1]
    return rows + [Row("lemma21.smin", f"sin, m = {mid}", r(b, activation="sin", m=mid)),
                   Row("lemma21.smin", f"GELU (unbounded), m = {mid}",
                       r(b, activation="gelu", m=mid))]


def _s9_data(ctx: Context, checks: Checks) -> dict[str, Any]:
    deltas = []
    for c in checks:
        cfg = c.check.config
        r = hermite.index(cfg["activation"], cfg["r"])
        if not c.check.applicable or r is None:
            continue
        args = (cfg["activation"], r, cfg["m"], cfg["n"], cfg["d"])
        deltas.append({"label": c.label, "paper": float(lemmas.lemma21_delta(*args)),
                       "tropp": float(lemmas.lemma21_delta(*args, chernoff="tropp"))})
    return {"deltas": deltas, "evidence": {"lemma21.chernoff": [chernoff_counterexample()]}}


def _s9_draw(data: dict[str, Any], checks: Checks) -> Any:
    fig, (ax,) = figures.new(width=6.0, height=4.6)
    for j, c in enumerate(checks):
        samples = c.check.extra["series"]["smin"]
        threshold = c.check.extra["values"].get("threshold")
        if not threshold:
            continue
        xs = [s / threshold for s in samples]
        ys = [(k + 1) / len(xs) for k in range(len(xs))]
        ax.semilogx(figures.positive(xs), ys, "-" if c.check.applicable else ":", color=f"C{j}",
                    label=c.label)
    ax.axvline(1.0, color="k", ls="--", lw=0.9, label="bound sqrt(m)|eta_r|/4")
    ax.set_xlabel("smin(sigma(W X)) / (sqrt(m) |eta_r| / 4)")
    figures.plain_ticks(ax.xaxis)
    ax.set_ylabel("empirical CDF over draws")
    ax.set_title("Lemma 21: smallest singular value of the random features")
    figures.legend_below(ax, ncol=2)
    return fig


def _s9_text(data: dict[str, Any], checks: Checks) -> str:
    lines = ["delta of Lemma 21 as printed (3/64 in the first term) and with the corrected "
             "Chernoff step (1/64):", "", "| configuration | delta (printed) | delta (1/64) |",
             "|---|---|---|"]
    lines += [f"| {d['label']} | {fmt(d['paper'])} | {fmt(d['tropp'])} |" for d in data["deltas"]]
    return "\n".join(lines)


def _s9_conclusion(data: dict[str, Any], checks: Checks) -> str:
    app = applicable(checks)
    worst = min((c.check.extra["values"].get("min_ratio", math.inf) for c in app), default=None)
    vacuous = sum(1 for d in data["deltas"] if d["paper"] >= 1)
    return (f"Lemma 21 {verdict_phrase(checks)}: the smallest draw of smin is "
            f"{fmt(worst, 3)} times the bound; delta >= 1 (vacuous) in {vacuous} of "
            f"{len(data['deltas'])} configurations at these sizes.")


S9 = Section(
    key="S9", title="Lemma 21: smallest singular value of random features", ids=("lemma21.smin",),
    assumptions={"lemma21.smin": (lemmas.BOUNDED, "eta_r(sigma) != 0 for some r >= 2")},
    rows=_s9_rows, data=_s9_data, draw=_s9_draw, text=_s9_text, conclusion=_s9_conclusion,
    figure_note=lambda data: ("W m x d standard Gaussian, X d x n with columns uniform on the "
                              "unit sphere; each curve is the empirical CDF of smin over the "
                              "draws, relative to the bound (dotted: not applicable)."))


# --------------------------------------------------------------------------- S10

_S10 = {"tiny": ("tanh",), "quick": ("tanh", "gelu", "relu", "identity"),
        "paper": ("tanh", "gelu", "relu", "identity", "sin", "erf")}


def _s10_rows(ctx: Context) -> list[Row]:
    return [Row("hermite.coefficients", name, base(ctx, activation=name))
            for name in _S10[ctx.scale]]


def _s10_draw(data: dict[str, Any], checks: Checks) -> Any:
    fig, (ax,) = figures.new(width=6.5)
    width = 0.8 / len(checks)
    for j, c in enumerate(checks):
        eta = c.check.extra["series"]["eta"]
        ax.bar([r + (j - (len(checks) - 1) / 2) * width for r in range(len(eta))], eta, width,
               color=f"C{j}", label=c.label)
    ax.axhline(0, color="k", lw=0.6)
    ax.set_xlabel("Hermite index r")
    ax.set_ylabel("eta_r(sigma) = E[sigma(Z) He_r(Z)] / sqrt(r!)")
    ax.set_title("Normalized Hermite coefficients (mpmath quadrature)")
    ax.legend(fontsize=8)
    return fig


S10 = Section(
    key="S10", title="Appendix B: Hermite coefficients", ids=("hermite.coefficients",),
    assumptions={"hermite.coefficients": (hermite.SECOND_MOMENT,)},
    rows=_s10_rows, draw=_s10_draw,
    conclusion=lambda data, checks: (
        f"Parseval {verdict_phrase(checks)}: the relative tail E[sigma^2] - sum_(r<=31) eta_r^2 "
        f"is at most {fmt(max(c.check.measured for c in checks), 3)}; eta_r decides r in "
        "Proposition 5 (tanh: r = 3 with eta_3 < 0, GELU and ReLU: r = 2, identity: none)."),
    figure_note=lambda data: "eta_0..eta_11 per activation; Proposition 5 uses the first "
                             "nonzero eta_r with r >= 2 (in absolute value).")
