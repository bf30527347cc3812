"""S6 (Theorem 6, Proposition 8): the long-time limit of the unclipped flow, and Figure 2.

Figure 2 (Section 5.1): n = 50, d = q = d' = 16, m = 64, L = 64, GELU, Gaussian data, 80,000
iterations at learning rate 5L x 1e-3 (eta = 5e-3, T = 400); one seeded entry of V_k and of W_k
across the layers at several flow times, the loss against t, and L x max_k ||Z_{k+1} - Z_k||
(Theorem 6 (ii) claims it bounded uniformly in t).  The figure uses the official code's scaling,
x + sigma(x W_k) V_k / L with A = B = I frozen (the released code trains V and W only), as the
paper's figure does: under model (3)'s width factors the same budget barely moves the weights.
The training checkpoints (resumable).

The long-time study (:func:`numerics.longtime.depth_and_labels`, settings
:data:`reports.sections.pl.STUDY`) adds, on model (3) with tanh and sphere data: the running
supremum S(t) = sup_{s <= t} L max_k ||Z_{k+1}(s) - Z_k(s)|| as t grows (does it plateau?) and as
L grows (do the curves collapse, i.e. max gap ~ 1/L?), in an interpolating and a
non-interpolating width; whether depth matters for interpolation (beside L >= c2 sqrt(nq)); and
how large the labels may be (beside Theorem 6's threshold C).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch

from numerics import longtime, progress
from numerics.data import make_data
from numerics.flow import Flow, train
from numerics.init import init_params
from numerics.model import MLP
from reports import figures
from reports.sections.base import Checks, Context, Row, Section, by_id, verdict_phrase
from reports.sections.configs import base
from reports.sections.pl import FLOW_ETA, STUDY, study_base
from reports.sections.pl import SECTION as PL
from reports.text import fmt
from theory import long_time, pl
from theory.config import Config
from theory.constants import constants
from theory.finite_time import MODEL3


@dataclasses.dataclass(frozen=True)
class Setting:
    n: int
    d: int
    m: int
    L: int
    T: float
    eta: float
    activation: str = "gelu"
    scaling: str = "official"


def _setting(ctx: Context) -> Setting:
    return ctx.pick(tiny=Setting(n=6, d=2, m=4, L=4, T=0.5, eta=0.05),
                    quick=Setting(n=50, d=16, m=64, L=64, T=20.0, eta=0.01),
                    paper=Setting(n=50, d=16, m=64, L=64, T=400.0, eta=5e-3))


def _rows(ctx: Context) -> list[Row]:
    b = base(ctx, clip="none", **ctx.pick(tiny={}, quick={"m": 64, "T": 5.0, "eta": 0.01},
                                          paper={"q": 32, "m": 256, "T": 50.0}))
    r = dataclasses.replace
    gelu = r(b, activation="gelu")
    return [Row("thm6.decay", "tanh, unclipped", b),
            Row("thm6.decay", "GELU (unbounded), unclipped", gelu),
            Row("thm6.decay", "tanh, coordinate clipping", r(b, clip="coord")),
            Row("thm6.interpolation", "tanh, unclipped", b),
            Row("thm6.interpolation", "GELU (unbounded), unclipped", gelu)] + _path_rows(ctx)


PATH_IDS = ("thm6.pl_path", "thm6.smooth_L", "thm6.smooth_T", "thm6.limit_L", "thm6.i_AB",
            "thm6.iii_hidden", "thm6.joint")
"""Theorem 6's conclusions with measured constants (one cached run per configuration:
numerics.longtime.path_runs; (i), (iii) and the joint limit add ODE solves,
numerics.thm6_limits)."""


def _path_rows(ctx: Context) -> list[Row]:
    """The measured-constant checks in a wide (interpolating) and a narrow width at n = 8 (model
    (3) of the long-time study, 8 seeds (5 left most slopes inconclusive), five doubling depths:
    four pairs for the limit in L)."""
    b = dataclasses.replace(study_base(ctx), seeds=tuple(8 * ctx.seed + j for j in range(8)),
                            eta=FLOW_ETA[ctx.scale], **ctx.pick(
        tiny={"n": 4, "m": 8, "L": 2, "depths": (2, 4, 8, 16), "T": 8.0},
        quick={"m": 16, "L": 2, "depths": (2, 4, 8, 16, 32), "T": 64.0},
        paper={"m": 32, "L": 8, "depths": (8, 16, 32, 64, 128), "T": 160.0}))
    narrow = dataclasses.replace(b, m=1)
    configs = [(b, ""), (narrow, "")]
    if ctx.scale == "quick":  # m = 1 interpolates when deep and long enough: the paper scale's
        configs.append((dataclasses.replace(narrow, T=160.0, depths=(4, 8, 16, 32, 64)),
                        ", deep (L = 4..64), T = 160"))  # narrow row, at quick cost (five
        # depths: four pairs for the limit in L, the least a rate accepts)
    return [Row(sid, f"tanh, m/n = {c.m / c.n:g}{what}, measured constants", c)
            for c, what in configs for sid in PATH_IDS]


def _data(ctx: Context, checks: Checks) -> dict[str, Any]:
    st = _setting(ctx)
    N = round(st.T / st.eta)
    X, Y = make_data("gaussian", n=st.n, d=st.d, d_out=st.d, seed=ctx.seed, device=ctx.device)
    times = tuple(st.T * j / 8 for j in range(9))
    config = Config(n=st.n, d=st.d, d_out=st.d, q=st.d, m=st.m, L=st.L, T=st.T, eta=st.eta,
                    activation=st.activation, clip="none", seed=ctx.seed, scaling=st.scaling)
    result = train(init_params("tied", d=st.d, d_out=st.d, q=st.d, m=st.m, L=st.L,
                               seeds=(ctx.seed,), device=ctx.device), X, Y,
                   Flow.from_config(config), MLP(st.activation, st.scaling),
                   record_every=max(1, N // 400),
                   record_times=times, snapshots=True, checkpoint=progress.checkpoint("figure2"),
                   checkpoint_every=max(100, N // 50))
    gen = torch.Generator().manual_seed(ctx.seed)
    i, j = (int(v) for v in torch.randint(0, st.d, (1,), generator=gen).tolist()
            + torch.randint(0, st.m, (1,), generator=gen).tolist())
    entries = {"V": [[float(v) for v in s.V[0, :, i, j]] for s in result.snapshots],
               "W": [[float(v) for v in s.W[0, :, j, i]] for s in result.snapshots]}
    loss = [float(v) for v in result.series["loss"][:, 0]]
    return {"setting": dataclasses.asdict(st), "iterations": N, "entry": [i, j],
            "snapshot_times": [float(t) for t in result.record_times], "entries": entries,
            "t": [float(t) for t in result.times], "loss": loss,
            "L_gap": [st.L * float(v) for v in result.series["gap"][:, 0]],
            "row_mu": [(pl.local_constants(Config.from_mapping(c.check.config)) or {}).get("mu")
                       for c in checks],
            "assumptions_failed": long_time.assumptions(config),
            "study": _study(ctx)}


def _study(ctx: Context) -> dict[str, Any]:
    """The depth, smoothness and label runs, with the theory's thresholds beside them."""
    b = study_base(ctx)
    out = longtime.depth_and_labels(b, STUDY[ctx.scale])
    n = out["n"]
    c = pl.local_constants(dataclasses.replace(b, n=n))
    k = constants(activation=b.activation, n=n, q=b.q, d=b.d, d_out=b.d_out, m=out["label_m"],
                  L=b.L)
    out["L_min"] = k["L_min"]
    out["log10_label_threshold"] = long_time.label_threshold_log10(
        b.activation, n=n, q=b.q, m=out["label_m"])
    out["M"] = None if c is None else c["M"]
    return out


def _draw(data: dict[str, Any], checks: Checks) -> Any:
    fig, axes = figures.new(3, width=5.0, height=3.7, nrows=2)
    st = data["setting"]
    cmap = figures.plt.get_cmap("viridis")
    count = len(data["snapshot_times"])
    i, j = data["entry"]
    for ax, name, index in ((axes[0], "V", f"({i}, {j})"), (axes[1], "W", f"({j}, {i})")):
        for k, (t, values) in enumerate(zip(data["snapshot_times"], data["entries"][name],
                                            strict=True)):
            ax.plot(range(1, st["L"] + 1), values, color=cmap(k / max(1, count - 1)), lw=1.2,
                    label=f"t = {t:.3g}" if k in (0, count // 2, count - 1) else None)
        ax.set_xlabel("layer k")
        ax.set_ylabel(f"entry {index} of {name}_k(t)")
        ax.set_title(f"Figure 2: {name}_k across layers (lighter: later)")
        ax.legend(loc="best", fontsize=7)
    axes[2].semilogy(data["t"], figures.positive(data["loss"]), color="C0")
    axes[2].set_xlabel("flow time t (= iterations x eta)")
    axes[2].set_ylabel("training loss l(t)")
    axes[2].set_title("Figure 2 (right): loss against time")
    gap = data["L_gap"]
    axes[3].plot(data["t"], gap, color="C2")
    axes[3].set_xlabel("flow time t")
    axes[3].set_ylabel("L x max_k ||Z_{k+1}(t) - Z_k(t)||")
    half = gap[len(gap) // 2]
    trend = ("still growing" if gap[-1] > (1 + longtime.PLATEAU_GROWTH) * max(half, 1e-300)
             else "levelling off")
    axes[3].set_title(f"Figure 2 setting: L x max gap {gap[0]:.2g} -> {gap[-1]:.3g} ({trend})")
    study = data["study"]
    for ax, name in ((axes[4], "interpolating"), (axes[5], "not interpolating")):
        regime = study["regimes"][name]
        cmap = figures.plt.get_cmap("plasma")
        depths = regime["depths"]
        for j, d in enumerate(regime["per_depth"]):
            ax.plot(d["t"], d["S_mean"], color=cmap(j / max(1, len(depths))), lw=1.3,
                    label=f"L = {d['L']}: S(T) = {sum(d['S_T']) / len(d['S_T']):.3g}, growth "
                          f"over [T/2, T] {sorted(d['growth'])[len(d['growth']) // 2]:.2%}")
        fit = regime["collapse"]
        ax.set_xlabel("flow time t")
        ax.set_ylabel("S(t) = sup_{s<=t} L max_k gap (seed mean)")
        ax.set_title(f"{name.capitalize()} (m = {regime['m']}, n = {study['n']}): "
                     f"gap ~ L^{fit['slope']:.2f}" if fit["slope"] is not None else name)
        figures.legend_below(ax)
    return fig


def _text(data: dict[str, Any], checks: Checks) -> str:
    failed = "; ".join(data["assumptions_failed"]) or "none"
    return (f"Figure 2's own configuration fails Theorem 6's assumptions: {failed}. "
            f"Loss {fmt(data['loss'][0])} at t = 0, {fmt(data['loss'][-1])} at t = "
            f"{data['setting']['T']:g} ({data['iterations']} iterations).\n\n"
            + _study_tables(data["study"]))


def _study_tables(study: dict[str, Any]) -> str:
    """Depth and label tables of the long-time study."""
    lines = [f"Uniform-in-time smoothness and depth (n = {study['n']}; S(T) = sup over t <= T "
             f"of L max_k ||Z_(k+1) - Z_k||; interpolating: l <= {study['level']:g} l(0) by the "
             f"horizon {study['horizon']:g}; Proposition 5 asks for L >= c2 sqrt(nq) = "
             f"{study['L_min']:.3g}):", "",
             "| regime | m | T | L | S(T) per seed | growth S(T)/S(T/2) - 1 | plateaus | "
             "fraction interpolating by the horizon | median inf_t G/l |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, regime in study["regimes"].items():
        for d in regime["per_depth"]:
            lines.append(f"| {name} | {regime['m']} | {regime['T']:g} | {d['L']} | "
                         + ", ".join(f"{v:.3g}" for v in d["S_T"]) + " | "
                         + ", ".join(f"{v:.1%}" for v in d["growth"])
                         + f" | {'yes' if d['plateaus'] else 'no'} | "
                         f"{d['fraction_horizon']:.2f} | {fmt(d['mu_emp'], 3)} |")
        fit = regime["collapse"]
        lines.append(f"| {name}: fit of sup_t max_k gap against L | | | | slope "
                     f"{fmt(fit['slope'], 3)} [{fmt(fit['interval'][0], 3)}, "
                     f"{fmt(fit['interval'][1], 3)}] | | | | |")
    lines += ["", f"Label size (n = {study['n']}, m = {study['label_m']}, horizon "
              f"{study['horizon']:g}; Theorem 6 asks for (1/n) sum ||y_i||^2 <= C = "
              f"10^{study['log10_label_threshold']:.4g}):", "",
              "| y_scale | fraction interpolating | median inf_t G/l | median max distance | "
              "median sup_t L max gap |", "|---|---|---|---|---|"]
    for c in study["label_cells"]:
        lines.append(f"| {c['y_scale']:g} | {c['fraction']:.2f} | {fmt(c['mu_emp'], 3)} | "
                     f"{fmt(c['max_dist'], 3)} | {fmt(c['sup_L_gap'], 3)} |")
    return "\n".join(lines) + "\n"


def smoothness_sentence(study: dict[str, Any]) -> str:
    """The uniform-in-time verdict in words, with the numbers."""
    parts = []
    for name, regime in study["regimes"].items():
        plateaus = [d["L"] for d in regime["per_depth"] if d["plateaus"]]
        S = [sum(d["S_T"]) / len(d["S_T"]) for d in regime["per_depth"]]
        fit = regime["collapse"]
        parts.append(f"{name} (m = {regime['m']}): S(T) = "
                     + ", ".join(f"{v:.3g}" for v in S)
                     + f" for L = {', '.join(str(L) for L in regime['depths'])}, plateauing "
                     f"in T at {len(plateaus)} of {len(S)} depths, sup_t max gap ~ L^"
                     f"{fmt(fit['slope'], 3)} [{fmt(fit['interval'][0], 3)}, "
                     f"{fmt(fit['interval'][1], 3)}] (1/L: slope -1)")
    return "; ".join(parts)


def _conclusion(data: dict[str, Any], checks: Checks) -> str:
    path = "; ".join(f"{c.check.id} ({c.label}): {c.check.outcome}"
                     + (f" (slope {c.check.rate_slope:.3g})" if c.check.rate_slope is not None else
                        f" ({fmt(c.check.measured, 3)} against {fmt(c.check.bound, 3)})")
                     for sid in PATH_IDS for c in by_id(checks, sid))
    rates = [c.check.extra["values"]["empirical_rate"] for c in by_id(checks, "thm6.decay")
             if c.check.config["clip"] == "none"]
    mus = [mu for mu in data["row_mu"] if mu is not None]
    text = f"Theorem 6 {verdict_phrase(checks)}: its width m >= c1 n is out of reach"
    if rates and mus:
        text += (f"; the measured loss decays at rates {', '.join(f'{r:.3g}' for r in rates)} "
                 f"per unit time where the guaranteed rate mu = c4/(n sqrt(nq)) is at most "
                 f"{max(mus):.2g}")
    drop = data["loss"][0] / max(data["loss"][-1], 1e-300)
    return text + (f"; in Figure 2 the loss falls by a factor {drop:.3g} and L x max gap reaches "
                   f"{max(data['L_gap']):.3g}. Uniform-in-time smoothness, measured: "
                   + smoothness_sentence(data["study"]) + ". Theorem 6's conclusions beyond "
                   "its assumptions (m >= c1 n fails in every row; PL along the path is "
                   "measured beside each row, never used as a gate; these rows answer "
                   "questions and cannot violate the theorem): " + path + ".")


def _note(data: dict[str, Any]) -> str:
    st = data["setting"]
    return (f"Figure 2: unclipped gradient descent, GELU, n = {st['n']}, d = q = d' = {st['d']}, "
            f"m = {st['m']}, L = {st['L']}, eta = {st['eta']}, T = {st['T']:g} "
            f"({data['iterations']} iterations; the paper: 80,000 at eta = 5e-3), tied "
            f"initialization, Gaussian data. Scaling: {figures.SCALING_NOTE[st['scaling']]}, as in "
            f"the paper's code (the table rows use {figures.SCALING_NOTE['paper']}). Bottom "
            f"middle and right: the long-time study on model (3) (tanh, sphere data, d = d' = "
            f"4, q = 8, eta = {data['study']['base']['eta']:g}, unclipped, tied), the running "
            f"supremum S(t) of L x max gap per depth, averaged over seeds.")


SECTION = Section(
    key="S6", title="Theorem 6 and Proposition 8: the long-time limit",
    ids=("thm6.decay", "thm6.interpolation", *PATH_IDS),
    assumptions={sid: (*PL.assumptions["prop5.pl"], long_time.UNCLIPPED, long_time.LABELS)
                 for sid in ("thm6.decay", "thm6.interpolation")}
    | dict.fromkeys(PATH_IDS, (*PL.assumptions["prop5.pl"], long_time.UNCLIPPED,
                               long_time.LABELS, pl.SPHERE, pl.TIED, MODEL3)),
    rows=_rows, data=_data, draw=_draw, text=_text, conclusion=_conclusion, figure_note=_note)
