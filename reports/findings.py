"""The report's findings: where the paper's text and the re-derivations or measurements disagree,
agree, or go beyond the paper, each with a kind and a command that reproduces it.

Sources:

- :func:`theory.derivations.findings`: printed compositions re-derived in sympy (computed
  verdicts) and remarks, each with its kind;
- :data:`ESTABLISHED`: findings established by the project's engineers in ``theory`` and
  ``numerics`` (the evidence each prints is recomputed here, or by the report's sections);
- :func:`table1_relu_finding`: Table 1's ReLU row measured on digits (from the run's checks);
- measured violations: every applicable check of the run that does not hold
  (:func:`kind_of_violation`).

Every command runs from the report's folder (``tests/test_findings_commands.py`` runs each kind
in an empty folder): ``python -c`` commands import the installed project, ``resnet-ode check ID
--config FILE`` reads a configuration file the report wrote.  The kinds are :data:`KINDS`,
documented in ``docs/results-json.md``; :func:`ordered` sorts a list by them.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from numerics.depth_study import depth_study
from numerics.table1 import table1_power
from theory.catalog import catalog
from theory.config import Config
from theory.derivations import findings as derived

if TYPE_CHECKING:  # reports.records reads findings as Finding: a cycle at run time
    from reports.records import CheckRow

KINDS: tuple[str, ...] = ("error", "violation", "imprecision", "agreement", "beyond")
"""The kinds of a finding, in the report's order:

- ``error``: an error in the paper (a printed statement or proof step that is false or does not
  follow as written, checked on the PDF page);
- ``violation``: a measured violation of a paper-scope statement (its assumptions hold);
- ``imprecision``: an imprecision or typo (the statement stays true, or the fix changes nothing
  material);
- ``agreement``: an agreement confirmed (possibly under a side condition the paper states or
  implies);
- ``beyond``: a measured result beyond the paper's assumptions or setting (never a finding
  against the paper).

What is against the paper comes first (errors, then measured violations), then imprecisions,
agreements and results beyond the paper (the order of the HTML report's groups)."""


@dataclasses.dataclass(frozen=True)
class Finding:
    """One finding: a stable id, the statement in words, a command that reproduces it, its kind
    (one of :data:`KINDS`)."""

    id: str
    text: str
    command: str
    kind: str

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
        _py("from reports.findings import chernoff_counterexample as c; print(c())"), "error"),
    Finding(
        "lemma20.breakdown",
        "Lemma 20's bound (p37) P(||W||_F > M_W sqrt(qm)) <= exp(-(M_W^2 - 1) qm / 16) "
        "holds for M_W >= sqrt 2 as stated, and even down to M_W* = 1.1396 (theory.lemmas."
        "lemma20_breakdown()), but fails below M_W* once qm is large: the chi-square rate "
        "(u - log(1 + u))/2, u = M_W^2 - 1, falls below u/16.",
        _py("from theory.lemmas import lemma20_breakdown as b, lemma20_exact_tail as e, "
            "lemma20_bound as f; print(b(), e(64, 64, 1.1), f(64, 64, 1.1))"), "agreement"),
    Finding(
        "thm4.backward_adjoint",
        "The backward ODE (44) of the limit dynamics (Appendix A.5, p28, and again p30) is printed "
        "dP/ds = d1f(H, Z) P; the discrete recurrence (13) gives dP/ds = -d1f(H, Z)^T P (sign and "
        "transpose).  numerics.limit.BACKWARD_FORMS runs the printed form: its distance to deep "
        "networks plateaus instead of decaying like 1/L (numbers below, Section S4).",
        _py("from reports.findings import backward_adjoint_evidence as e; print(e())"), "error"),
    Finding(
        "appE.stride",
        "Appendix E (p40) gives the residual 3x3 convolutions a stride of 2, which cannot be: the "
        "residual sum h + conv(h) needs equal shapes, and a stride-2 convolution halves the "
        "spatial size (the command prints both shapes).  numerics.realdata uses stride 1.",
        _py("import torch; h = torch.zeros(1, 16, 16, 16); c = torch.nn.Conv2d(16, 16, 3, "
            "stride=2, padding=1); print(tuple(h.shape), tuple(c(h).shape))"), "imprecision"),
    Finding(
        "prop7.pi_lipschitz",
        "Norm clipping (radial projection on the ball of ||V||_F + ||W||_F) makes pi "
        "2-Lipschitz, not 1-Lipschitz as the proof of Proposition 7 uses (p16, (20); p4 only "
        "asks pi Lipschitz): alpha and beta double (theory.finite_time.pi_lipschitz).",
        _py("from theory.finite_time import pi_lipschitz; print(pi_lipschitz('coord'), "
            "pi_lipschitz('norm'))"), "imprecision"),
    Finding(
        "prop5.eta_sign",
        "eta_r can be negative (eta_3(tanh) < 0): Proposition 5's constants (p35) must use "
        "|eta_r| (c2, c3 and c4 would be negative otherwise); the testbed uses |eta_r|.",
        "resnet-ode constants --activation tanh --n 100 --q 32 --d 16 --d-out 16 --m 64 --json",
        "imprecision"),
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


def backward_adjoint_evidence(depths: tuple[int, ...] = (32, 128)) -> str:
    """sup_(s,t) ||Z^L - Z|| between deep networks and the limit dynamics solved with the printed
    backward ODE (44) and with the derived one, at two depths (the setting of
    ``tests/test_limit.py``: GELU, tied, n = 10, T = 0.5, at t = T; a few seconds on a CPU)."""
    config = Config(n=10, d=3, d_out=2, q=6, m=8, T=0.5, eta=0.05, activation="gelu",
                    init="tied", depths=depths)
    study = depth_study(config, S=32, record_times=(0.5,), backward=("printed", "derived"))
    at = ", ".join(map(str, depths))
    names = {"printed": "printed (44) dP/ds = d1f P", "derived": "derived dP/ds = -d1f^T P"}
    return "; ".join(f"{names[form]}: sup_(s,t) ||Z^L - Z|| = "
                     + ", ".join(f"{g.z_sup:.3g}" for g in study.gaps(form)) + f" at L = {at}"
                     for form in names)


def derivation_command(finding_id: str) -> str:
    """A command printing one re-derivation (or remark) of :mod:`theory.derivations`."""
    return _py("from theory.derivations import findings; print(*(f['text'] for f in "
               f"findings() if f['id'] == '{finding_id}'))")


def kind_of_violation(row: CheckRow) -> str:
    """The kind of the finding a check's non-holding outcome gives: "violation" for a
    paper-scope check, "beyond" for a beyond-scope check (its conclusion tested where an
    assumption fails: never a finding against the paper)."""
    return "beyond" if row.check.scope == "beyond" else "violation"


def ordered(findings: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The findings sorted by kind in the order of :data:`KINDS` (errors first), stable within
    a kind; a finding without a known kind goes last."""
    rank = {kind: j for j, kind in enumerate(KINDS)}
    return sorted(findings, key=lambda f: rank.get(f.get("kind", ""), len(KINDS)))


def table1_relu_finding(rows: Iterable[CheckRow]) -> dict[str, str] | None:
    """Table 1's ReLU row (p9: weight-tied ReLU gives non-smooth trained weights) against this
    run's ``table1.realdata`` row for ReLU on digits, when the run has it and the contrast has
    power: kind "beyond" (another data set, depth and budget; sigma not C^2).  None otherwise."""
    row = next((r for r in rows if r.check.id == "table1.realdata"
                and r.check.config.get("activation") == "relu"
                and r.check.config.get("data") != "cifar" and r.check.measured is not None), None)
    if row is None:
        return None
    runs = row.check.extra["series"]["runs"]  # numerics.table1's measurement: one per seed
    ratios = [r["ratio"] for r in runs if r["ratio"] is not None]
    if not ratios or table1_power(runs) is not None:
        return None
    cfg = row.check.config
    return {
        "id": "table1.relu_digits", "kind": "beyond",
        "text": (f"Table 1 (p9) reports weight-tied ReLU networks as not smooth after training "
                 f"(CIFAR-10, L = 256, 180 epochs). Here tied + ReLU gives a roughness ratio "
                 f"tied / i.i.d. of what training added of {row.check.measured:.3g} "
                 f"[{min(ratios):.3g}, {max(ratios):.3g}] over {len(ratios)} seeds (1: "
                 "exchangeable layers, as i.i.d.; smaller: smoother): much smoother than i.i.d. "
                 f"Scope: beyond the paper's setting, L = {cfg.get('L')}, {cfg.get('epochs')} "
                 f"epochs on scikit-learn's digits against L = 256 on CIFAR-10, and sigma = ReLU "
                 "is not C^2 (no theorem of the paper covers the row, which is n/a); Table 1 "
                 "judges smoothness by visual inspection."),
        "command": f"resnet-ode check table1.realdata --config {row.config_file}"}


def of_run(rows: list[CheckRow], data: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The findings of a report run (:func:`collect`): its sections' ``evidence`` (in their
    ``data``), its measured violations (paper scope only: a beyond-check that fails is a
    measured answer, listed in the summary's beyond table; it joins the findings only as a
    replicated study, :mod:`theory.derivations`) and its checks' ``rows``."""
    evidence: dict[str, list[str]] = {}
    for d in data:
        for key, lines in d.get("evidence", {}).items():
            evidence.setdefault(key, []).extend(lines)
    violations = [{"id": f"violation.{r.check.id}.{r.config_file.split('/')[-1][:-5]}",
                   "text": f"{r.check.id} ({catalog[r.check.id].paper_ref}) is violated for "
                           f"{r.label}: {r.check.verdict_rule}"
                           + (f" ({r.check.notes})" if r.check.notes else ""),
                   "command": f"resnet-ode check {r.check.id} --config {r.config_file}",
                   "kind": "violation"}
                  for r in rows if r.check.verdict == "violated"]
    return collect(evidence, violations, rows)


def collect(evidence: dict[str, list[str]], violations: list[dict[str, str]],
            rows: Iterable[CheckRow] | None = None) -> list[dict[str, Any]]:
    """Every finding as ``{"id", "text", "command", "kind"}``, ordered by kind
    (:func:`ordered`): the re-derivations, the established findings (with the run's
    ``evidence`` appended to the text), Table 1's ReLU row when ``rows`` (the run's checks)
    hold it, then the measured ``violations`` (a violation without a ``kind`` is
    "violation"; give it :func:`kind_of_violation` of its check).  Commands run from the
    report's folder."""
    by_id: dict[str, dict[str, Any]] = {}
    for f in derived():
        by_id[f["id"]] = {"id": f["id"], "text": f["text"], "command": derivation_command(f["id"]),
                          "kind": f["kind"]}
    for f in ESTABLISHED:
        entry = by_id.setdefault(f.id, {"id": f.id, "text": f.text, "kind": f.kind})
        entry["command"] = f.command
    for key, lines in evidence.items():
        if key in by_id and lines:
            by_id[key]["text"] += " This run: " + "; ".join(lines) + "."
    relu = table1_relu_finding(rows or ())
    extra = [relu] if relu is not None else []
    measured = [{**v, "kind": v.get("kind", "violation")} for v in violations]
    return ordered([*by_id.values(), *extra, *measured])
