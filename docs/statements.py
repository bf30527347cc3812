"""Writes docs/statements.md from the statement catalog (theory.catalog) and the report's
assumption tables (reports.sections): ``python docs/statements.py`` from the repository root.

tests/test_docs.py checks that every catalog id appears in docs/statements.md; rerun this script
after changing a statement's claim, formula, window or assumptions.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

FAMILIES = {
    "S1": "Proposition 1 (well-posedness of the clipped flow)",
    "S2": "Proposition 2 (ResNet vs neural ODE at fixed weights; proof: Proposition 11)",
    "S3": "Propositions 3 and 7 (clipped flow on [0, T]: bounded weights, 1/L-close neighbours)",
    "S4": "Theorem 4 (large-depth limit of the training dynamics, Appendix A.5)",
    "S5": "Definition 1 and Proposition 5 (local Polyak-Lojasiewicz condition)",
    "S6": "Theorem 6 with Proposition 8 (long-time limit of the unclipped flow)",
    "S7": "Lemma 18 (linear algebra)",
    "S8": "Lemma 20 (Gaussian Frobenius norm)",
    "S9": "Lemma 21 (smallest singular value of random features)",
    "S10": "Appendix B (Hermite coefficients eta_r)",
    "S11": "Appendix D (the ReLU counterexample)",
    "S12": "Section 4.3 (general residuals, smooth initialization)",
    "S13": "Section 5.2, Table 1, Figures 3-4 (real data)",
    "S14": "Appendix A: Proposition 8 item by item, Corollaries 12-13, Proposition 15",
    "S16": "Remark 1 (Appendix A.1, p17): heavy-ball momentum and Adam without clipping",
}

KIND_WORDS = {
    "bound": "a bound: measured <= bound (or >= for a lower bound), informative only where the "
             "measurement could have violated it ([verdicts.md](verdicts.md))",
    "rate": "a shape: the log-log slope (against L, T or m) fitted over seeds, its 95 % interval "
            "compared with the acceptable region",
    "probability": "a probability: a tail or failure probability, exactly where the distribution "
                   "is known, else by Monte Carlo with a binomial confidence bound",
    "identity": "an identity: an equality up to numerical tolerance",
    "experiment": "an experiment: a measured contrast with no bound (tied vs i.i.d.)",
}


CONVENTIONS = """## Conventions

Model (3), depth L, width m, hidden dimension q, input d, output d':

    h_0 = A x,   h_{k+1} = h_k + (1/(L sqrt(m))) V_{k+1} sigma(W_{k+1} h_k / sqrt(q)),  k = 0..L-1,
    F^L(x) = B h_L,   loss l^L = (1/n) sum_i ||F^L(x_i) - y_i||^2

Shapes: A is q x d, V_k q x m, W_k m x q, B d' x q, q >= max(d, d').  Z_k = (V_k, W_k) and
||Z_k|| := ||V_k||_F + ||W_k||_F (a sum of Frobenius norms, as in Appendix B.3, p32).  The general
model (11) is h_{k+1} = h_k + f(h_k, Z_{k+1}) / L with f C^2, f(0, .) = 0; model (3) is
f(h, (V, W)) = V sigma(W h / sqrt q) / sqrt m; convolutional residuals are other instances
(Section 4.3).

Initialization (Section 3): A = [I_d ; 0], B = [0, I_d'], V_k = 0, W_k = the same standard
Gaussian W-bar for every k ("tied").  Smooth initialization (Section 4.3): V_k(0) = V0(k/L),
W_k(0) = W0(k/L), entries independent Gaussian processes with covariance
exp(-(s - s')^2 / (2 ell^2)).  The i.i.d. initialization (every layer drawn independently) is the
counter-case that does not discretize an ODE (Section 5.2).

Gradient flow (4): dA/dt = -dl/dA, dZ_k/dt = -L dl/dZ_k, dB/dt = -dl/dB.  Clipped flow (5): the
same with a bounded Lipschitz map pi applied to each right-hand side (coordinate clipping at c:
the projection on the l-infinity ball; norm clipping: the radial projection on a ball);
M_pi = sup ||pi(.)||.  Gradient descent with step eta in flow time is Z_k <- Z_k - eta L dl/dZ_k
(A and B without the L): after N steps the flow time is t = N eta, and every bound with T uses
flow time.  Continuous-depth interpolation: Z^L(s, t) = Z^L_{floor((L-1)s)+1}(t), s in [0, 1].

Activation assumptions: sigma C^2, non-constant, Lipschitz, bounded, sigma(0) = 0; K_sigma is its
Lipschitz constant, M_sigma = sup |sigma|.  tanh meets every assumption; GELU is unbounded, ReLU is
not C^2 (Appendix D), the identity is a polynomial (every eta_r = 0 for r >= 2).  A statement whose
assumptions a configuration fails is reported "n/a" with the failed assumption named
([verdicts.md](verdicts.md)).  The official code (michaelsdr/implicit-regularization-resnets-nodes)
scales differently (no 1/sqrt(m), 1/sqrt(q), A = B = identity, q = d = d'); `Config.scaling`
selects it, and each report says which.

Formulas: the formula of a statement whose check compares with a computed bound (Propositions 1,
2, 3, 5, Theorem 6's decay and residual, Lemmas 20 and 21) is printed by sympy from the expression
the check evaluates (`theory/formula.py`): `^` is a power, `Min`/`Max` a minimum/maximum, and its
`where` clause lists the definitions in the order they are substituted (each may use the symbols
of the ones after it).  A rate statement's acceptance ("the 95% interval of the slope <= -0.8")
is printed from its window.  Identities, experiments and criteria with a fixed right-hand side
(Lemma 18's 0, the doubling ratios' 1) keep their text.
"""


def _window(window: tuple[float, float] | None) -> str:
    if window is None:
        return ""
    lo, hi = window
    if math.isinf(lo):
        return f"slope <= {hi:g}"
    if math.isinf(hi):
        return f"slope >= {lo:g}"
    return f"{lo:g} <= slope <= {hi:g}"


def _esc(text: str) -> str:
    return text.replace("|", "\\|")


def render() -> str:
    """The Markdown of docs/statements.md."""
    from reports.sections import SECTIONS
    from theory.catalog import catalog

    assumptions: dict[str, list[str]] = {}
    for section in SECTIONS:
        for sid, names in section.assumptions.items():
            seen = assumptions.setdefault(sid, [])
            for name in names:
                if name not in seen:
                    seen.append(name)
    lines = [
        "# The statements", "",
        "<!-- generated by `python docs/statements.py` from theory/catalog.py and the report's "
        "assumption tables; edit those, then rerun -->", "",
        "Every quantitative statement of Marion, Wu, Sander, Biau, *Implicit regularization of "
        "deep residual networks towards neural ODEs* (ICLR 2024, arXiv:2309.01213v3) is one "
        "entry of the catalog `theory.catalog.catalog`, keyed by a stable id that the command "
        "line (`resnet-ode check ID`), the report and `results.json` use.  Page numbers are the "
        "PDF's.  How a check becomes a verdict: [verdicts.md](verdicts.md); what `results.json` "
        "holds: [results-json.md](results-json.md).", "",
        "Statements are grouped in families S1-S14 and S16 (the `family` field of a "
        "statement; S15, the width thresholds, is a report section without statements):", "",
        "| family | paper |", "|---|---|",
        *[f"| {key} | {text} |" for key, text in FAMILIES.items()], "",
        CONVENTIONS, "## The catalog", "",
        "| id | family | paper | kind |", "|---|---|---|---|",
        *[f"| [`{sid}`](#{sid.replace('.', '').lower()}) | {st.family} | {_esc(st.paper_ref)} | "
          f"{st.kind} |" for sid, st in catalog.items()], "",
    ]
    for sid, st in catalog.items():
        names = assumptions.get(sid, [])
        lines += [f"### {sid}", "",
                  f"- **Paper**: {st.paper_ref} (family {st.family}).",
                  f"- **Claim**: {st.claim}",
                  f"- **Formula**: `{st.formula}`",
                  "- **Assumptions** (where one fails the check is n/a and names it): "
                  + ("; ".join(f"`{n}`" for n in names) if names else "none") + "."]
        check = f"- **What the check measures**: {KIND_WORDS[st.kind]}"
        if st.kind == "rate" or st.rate_window is not None:
            window = _window(st.rate_window)
            check += f"; acceptable region {window}" if window else ""
        check += f"; the relation is measured {st.relation} bound." if st.kind == "bound" else "."
        lines.append(check)
        if st.rate_why:
            lines.append(f"- **Why this region**: {st.rate_why}")
        if getattr(st, "beyond_path", None):
            lines.append("- **Beyond scope**: where the paper's assumptions fail, the conclusion "
                         f"is tested with the requirements of `{st.beyond_path}` instead "
                         "(scope `beyond`, never `violated`).")
        if st.control is not None:
            why = (st.control.__doc__ or "").split("\n\n")[0]
            lines.append("- **Negative control**: the same measurement where the claim should "
                         "fail (the report shows its outcome beside the check): "
                         + " ".join(why.split()))
        else:
            lines.append(f"- **No negative control**: {st.no_control}.")
        if getattr(st, "flow", None) is not None:
            lines.append("- **Gradient descent vs the flow**: measured on the check's run "
                         "(`numerics/tracking.py`: eta lambda_max at t = 0, T/4, T/2, T and the "
                         "step-halving ratio); where gradient descent does not track the flow "
                         "the check is n/a and names it.")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    (HERE / "statements.md").write_text(render())
    print(f"wrote {HERE / 'statements.md'}")
