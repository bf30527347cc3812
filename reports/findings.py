"""The report's findings: where the paper's text and the re-derivations or measurements disagree.

Three sources, each finding with a command that reproduces it:

- :func:`theory.derivations.findings`: printed compositions re-derived in sympy (computed
  verdicts) and remarks;
- :data:`ESTABLISHED`: findings established by the project's engineers in ``theory`` and
  ``numerics`` (the evidence each prints is recomputed here, or by the report's sections);
- measured violations: every applicable check of the run that does not hold.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any


@dataclasses.dataclass(frozen=True)
class Finding:
    """One finding: a stable id, the statement in words, a command that reproduces it."""

    id: str
    text: str
    command: str

    def to_dict(self) -> dict[str, str]:
        return dataclasses.asdict(self)


def _py(code: str) -> str:
    return f'python -c "{code}"'


ESTABLISHED: tuple[Finding, ...] = (
    Finding(
        "lemma21.chernoff",
        "Lemma 21's proof (p38) uses the Chernoff bound P(lambda_min <= t mu) <= n exp(-(1 - t^2) "
        "mu / (2R)), which is false as printed: for n = 1 and a sum of 2000 summands R "
        "Bernoulli(0.01), t = 1/2, mu/R = 20, the exact P(sum <= 10) exceeds the printed bound "
        "(numbers below); Tropp's (1 - t)^2 form holds.  The first term of delta then has 1/64, "
        "not 3/64 (theory.lemmas.CHERNOFF, lemma21_delta(chernoff='tropp')).",
        "python -m pytest tests/test_lemmas_theory.py::test_printed_chernoff_step_is_false -q"),
    Finding(
        "lemma20.breakdown",
        "Lemma 20's bound P(||W||_F > M_W sqrt(qm)) <= exp(-(M_W^2 - 1) qm / 16) holds for "
        "M_W >= sqrt 2 as stated, and even down to M_W* = 1.1396 (theory.lemmas."
        "lemma20_breakdown()), but fails below M_W* once qm is large: the chi-square rate "
        "(u - log(1 + u))/2, u = M_W^2 - 1, falls below u/16.",
        _py("from theory.lemmas import lemma20_breakdown as b, lemma20_exact_tail as e, "
            "lemma20_bound as f; print(b(), e(64, 64, 1.1), f(64, 64, 1.1))")),
    Finding(
        "thm4.backward_adjoint",
        "The backward ODE (44) of the limit dynamics (Appendix A.5, p28 and p30) is printed "
        "dP/ds = d1f(H, Z) P; the discrete recurrence (13) gives dP/ds = -d1f(H, Z)^T P (sign and "
        "transpose).  numerics.limit.BACKWARD_FORMS runs the printed form: its distance to deep "
        "networks plateaus instead of decaying like 1/L (numbers below, Section S4).",
        "python -m pytest tests/test_limit.py::test_printed_adjoint_does_not_match_deep_networks "
        "-q"),
    Finding(
        "appE.stride",
        "Appendix E (p40) gives the residual 3x3 convolutions a stride of 2, which cannot be: the "
        "residual sum h + conv(h) needs equal shapes, and a stride-2 convolution halves the "
        "spatial size (the command prints both shapes).  numerics.realdata uses stride 1.",
        _py("import torch; h = torch.zeros(1, 16, 16, 16); c = torch.nn.Conv2d(16, 16, 3, "
            "stride=2, padding=1); print(tuple(h.shape), tuple(c(h).shape))")),
    Finding(
        "prop7.pi_lipschitz",
        "Norm clipping (radial projection on the ball of ||V||_F + ||W||_F) makes pi "
        "2-Lipschitz, not 1-Lipschitz as the proof of Proposition 7 uses: alpha and beta double "
        "(theory.finite_time.pi_lipschitz).",
        _py("from theory.finite_time import pi_lipschitz; print(pi_lipschitz('coord'), "
            "pi_lipschitz('norm'))")),
    Finding(
        "prop5.eta_sign",
        "eta_r can be negative (eta_3(tanh) < 0): Proposition 5's constants c1..c4 must use "
        "|eta_r| (c2 and c4 would be negative otherwise); the testbed uses |eta_r|.",
        "resnet-ode constants --activation tanh --n 100 --q 32 --d 16 --d-out 16 --m 64 --json"),
)


def chernoff_counterexample(trials: int = 2000, p: float = 0.01, t: float = 0.5) -> str:
    """The exact binomial probability against the printed and the corrected Chernoff bounds."""
    from scipy import stats

    mu_over_R = trials * p
    exact = float(stats.binom.cdf(math.floor(t * mu_over_R), trials, p))
    printed = math.exp(-(1 - t**2) * mu_over_R / 2)
    tropp = math.exp(-((1 - t) ** 2) * mu_over_R / 2)
    return (f"exact P = {exact:.4g}; printed bound exp(-(1 - t^2) mu/(2R)) = {printed:.3g} "
            f"(violated); (1 - t)^2 form = {tropp:.3g} (holds)")


def derivation_command(finding_id: str) -> str:
    """A command printing one re-derivation (or remark) of :mod:`theory.derivations`."""
    return _py("from theory.derivations import findings; print(*(f['text'] for f in "
               f"findings() if f['id'] == '{finding_id}'))")


def collect(evidence: dict[str, list[str]], violations: list[dict[str, str]]
            ) -> list[dict[str, Any]]:
    """Every finding as ``{"id", "text", "command"}``: the re-derivations, the established
    findings (with the run's ``evidence`` appended to the text), then the measured
    ``violations``.  Commands run from the report's folder."""
    from theory.derivations import findings as derived

    by_id: dict[str, dict[str, Any]] = {}
    for f in derived():
        by_id[f["id"]] = {"id": f["id"], "text": f["text"], "command": derivation_command(f["id"])}
    for f in ESTABLISHED:
        entry = by_id.setdefault(f.id, {"id": f.id, "text": f.text})
        entry["command"] = f.command
    for key, lines in evidence.items():
        if key in by_id and lines:
            by_id[key]["text"] += " This run: " + "; ".join(lines) + "."
    return [*by_id.values(), *violations]
