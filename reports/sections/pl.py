"""S5 (Definition 1, Proposition 5): the local Polyak-Lojasiewicz condition, swept over the width.

Every row fails m >= c1 n (c1 is of order 10^7 for tanh): the guaranteed regime cannot be
instantiated, so the section measures the PL ratio G/l where it can (at initialization, on the
M-ball of Proposition 5, along training) and compares an empirical width threshold with c1 n.
The empirical threshold is the smallest swept m/n from which on the first-layer features
sigma(W_1 A x / sqrt q) keep smin >= sqrt(m) |eta_r| / 4, the property (Lemma 21) that
m >= c1 n is there to guarantee in the proof (B.5).
"""

from __future__ import annotations

import dataclasses
from typing import Any

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
    sweep = [x for x in checks if x["config"]["activation"] == "tanh"]
    ratios, smin_ratio = [], []
    for x in sweep:
        m = x["config"]["m"]
        threshold = float(lemmas.lemma21_threshold("tanh", c["r"], m))
        ratios.append(m / b.n)
        smin_ratio.append(x["extra"]["values"]["smin_first_layer"] / threshold)
    empirical = None
    for j in range(len(ratios)):
        if all(v >= 1 for v in smin_ratio[j:]):
            empirical = ratios[j]
            break
    return {"n": b.n, "q": b.q, "c1": c["c1"], "m_min": c["m_min"], "L_min": c["L_min"],
            "mu": c["mu"], "M": c["M"], "eta_r": c["eta_r"], "r": c["r"], "ratios": ratios,
            "smin_ratio": smin_ratio, "empirical_threshold": empirical}


def _draw(data: dict[str, Any], checks: Checks) -> Any:
    fig, (ax, bx) = figures.new(2, height=4.6)
    sweep = [x for x in checks if x["config"]["activation"] == "tanh"]
    for key, marker, size, label in (("pl_init", "o--", 8, "G/l at initialization"),
                                     ("pl_ball_min", "s-", 4, "min G/l on the M-ball (64 points)"),
                                     ("pl_train_min", "^-", 4, "min G/l along training")):
        ax.loglog(data["ratios"], figures.positive([x["extra"]["values"].get(key)
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
    bx.set_title(f"First-layer features at initialization (r = {data['r']}, "
                 f"|eta_r| = {abs(data['eta_r']):.3g})")
    figures.legend_below(bx)
    return fig


def _conclusion(data: dict[str, Any], checks: Checks) -> str:
    sweep = [x for x in checks if x["config"]["activation"] == "tanh"]
    least = min((x["measured"] for x in sweep if x["measured"] is not None), default=None)
    text = (f"Proposition 5 {verdict_phrase(checks)}: m >= c1 n with c1 = {data['c1']:.3g} is out "
            f"of reach; the measured PL ratio stays >= {fmt(least, 3)}")
    if least is not None:
        text += f", {least / data['mu']:.3g} times the guaranteed mu"
    emp = data["empirical_threshold"]
    if emp is None:
        return text + "; the features never clear Lemma 21's bound in the sweep."
    return (text + f"; the first-layer features clear Lemma 21's bound from m/n = {emp:g} on, "
            f"{data['c1'] / emp:.2g} times below the width c1 n the proposition asks for.")


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
        f"the M-ball has radius M = c3/sqrt(nq) = {data['M']:.3g}. Right: the smallest singular "
        f"value of the first-layer features sigma(W_1 A x_i / sqrt q) (m x n; 0 for m < n) at "
        f"initialization. Scaling: "
        f"{figures.SCALING_NOTE['paper']}."))

