"""The statement catalog: the spine every layer iterates.

Each quantitative statement of the paper (THEORY.md S1-S13) is one :class:`Statement`, keyed by a
stable id (DESIGN.md, "Contract").  ``theory`` adds the assumptions predicate (a function
``Config -> list[str]`` returning the names of the failed assumptions; resolved lazily from a
``"module:function"`` path so that importing the catalog stays cheap); ``numerics.measure`` adds one
measurement per id; ``properties`` and ``reports`` iterate :data:`catalog`.

A check's outcome is a :class:`CheckResult`, the record written to ``results.json``.

>>> from theory import catalog
>>> catalog["prop5.pl"].paper_ref
'Definition 1 and Proposition 5'
"""

from __future__ import annotations

import dataclasses
import importlib
import math
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from theory.config import Config

Kind = Literal["bound", "rate", "probability", "identity", "experiment"]


@dataclasses.dataclass(frozen=True)
class Statement:
    """One statement of the paper.

    ``kind``: ``"bound"`` (measured <= bound), ``"rate"`` (log-log slope against L, T or m in
    ``rate_window``, its interval within ``rate_wide_window``), ``"probability"`` (a tail or
    failure probability, exact or Monte Carlo with a binomial margin), ``"identity"`` (an
    equality up to numerical tolerance) or ``"experiment"`` (a measured contrast with no bound,
    e.g. Table 1).
    """

    id: str
    family: str  # THEORY.md's S-number
    paper_ref: str
    claim: str
    formula: str
    kind: Kind
    assumptions_path: str  # "module:function", Config -> list of failed assumption names
    rate_window: tuple[float, float] | None = None
    rate_wide_window: tuple[float, float] | None = None  # the rate's interval must lie within
    relation: Literal["<=", ">="] = "<="  # measured <= bound, or measured >= bound (a PL ratio)

    def assumptions(self, config: Config) -> list[str]:
        """Names of the assumptions of this statement that ``config`` fails (empty: applies)."""
        module, _, name = self.assumptions_path.partition(":")
        predicate: Callable[[Config], list[str]] = getattr(importlib.import_module(module), name)
        return list(predicate(config))

    def __str__(self) -> str:
        return f"{self.id} [{self.paper_ref}]: {self.formula}"


ONE_OVER_L = (-1.2, -0.8)
ONE_OVER_L_WIDE = (-1.5, -0.5)  # where the BCa interval of a 1/L slope must lie
RATE_1L = {"rate_window": ONE_OVER_L, "rate_wide_window": ONE_OVER_L_WIDE}

_STATEMENTS = (
    Statement(
        "prop1.wellposed", "S1", "Proposition 1",
        "The clipped gradient flow (5) has a unique solution for all t >= 0: clipped training "
        "never blows up and the weights stay within the bound M of Proposition 3.",
        "sup_{t<=T} max(||A||_F, ||Z_k||, ||B||_F) < infinity",
        "bound", "theory.finite_time:wellposed_assumptions"),
    Statement(
        "prop2.euler", "S2", "Proposition 2 (proof: Proposition 11, eqs. 35-36)",
        "A residual network whose weights discretize Lipschitz functions V, W is within C/L of the "
        "neural ODE (6).",
        "sup_x ||F(x) - F^L(x)|| <= C / L",
        "bound", "theory.euler:assumptions"),
    Statement(
        "prop2.rate_L", "S2", "Proposition 2 (shape in L)",
        "The explicit C of Proposition 2 is vacuous; its shape is not: the ResNet-ODE gap at fixed "
        "Lipschitz weights decreases as 1/L.",
        "sup_x ||F(x) - F^L(x)|| ~ C_emp L^-1 (slope in [-1.2, -0.8], BCa interval over seeds "
        "in [-1.5, -0.5])",
        "rate", "theory.euler:assumptions", **RATE_1L),
    Statement(
        "prop2.width_m", "S2", "Proposition 2 (shape in m) and Remark 3",
        "The constants of model (3) do not depend on the width m (Remark 3, for Theorem 6's C): "
        "measured for Proposition 2's empirical constant C_emp = L sup_x ||F - F^L||, beside "
        "the m-dependence of the explicit C of Proposition 11 on the same draws.",
        "slope of log C_emp against log m in [-0.2, 0.2] (BCa interval in [-0.5, 0.5])",
        "rate", "theory.euler:assumptions", rate_window=(-0.2, 0.2),
        rate_wide_window=(-0.5, 0.5)),
    Statement(
        "prop3.bounded", "S3", "Propositions 3 and 7",
        "Along the clipped flow on [0, T] every weight stays bounded by M = M0 + T M_pi.",
        "max(||A(t)||_F, ||Z_k(t)||, ||B(t)||_F) <= M = M0 + T M_pi",
        "bound", "theory.finite_time:bounded_assumptions"),
    Statement(
        "prop3.successive", "S3", "Propositions 3 and 7, eq. (7)",
        "Along the clipped flow, neighbouring layers stay O(1/L) apart: ||Z_{k+1} - Z_k|| <= K/L "
        "with K = beta T e^{alpha T} for a tied initialization.",
        "max_{k,t} ||Z_{k+1}(t) - Z_k(t)|| <= (||Z_{k+1}(0) - Z_k(0)|| + beta T / L) e^{alpha T}",
        "bound", "theory.finite_time:successive_assumptions"),
    Statement(
        "prop3.rate_L", "S3", "Propositions 3 and 7 (shape in L)",
        "The explicit K of eq. (7) is vacuous; its shape is not: along the clipped flow from a "
        "tied initialization the neighbour gap decreases as 1/L (K_emp = L x gap settles).",
        "max_{k,t} ||Z_{k+1}(t) - Z_k(t)|| ~ K_emp L^-1 (slope in [-1.2, -0.8], interval in "
        "[-1.5, -0.5])",
        "rate", "theory.finite_time:successive_assumptions", **RATE_1L),
    Statement(
        "prop3.growth_T", "S3", "Proposition 7, eq. (7) (shape in T)",
        "With a tied initialization (zero initial gap) eq. (7) bounds the gap by beta T e^{alpha T}"
        " / L: K_emp(T) = L max_{t' <= T} gap is O(T) as T -> 0. The fitted growth over the whole "
        "horizon (exponential or polynomial) is reported beside it.",
        "slope of log K_emp(T) against log T on small T >= 0.8 (interval >= 0.5)",
        "rate", "theory.finite_time:successive_assumptions", rate_window=(0.8, math.inf),
        rate_wide_window=(0.5, math.inf)),
    Statement(
        "thm4.limit", "S4", "Theorem 4 (Appendix A.5, Theorem 14)",
        "As L grows, the trained weights, hidden states and outputs converge uniformly on [0, T] "
        "to those of the limit training dynamics, at rate 1/L.",
        "sup_{s,t} ||Z^L(s, t) - Z(s, t)|| -> 0 (empirically O(1/L))",
        "rate", "theory.finite_time:limit_assumptions", **RATE_1L),
    Statement(
        "prop5.pl", "S5", "Definition 1 and Proposition 5",
        "With m >= c1 n and L >= c2 sqrt(nq), the network satisfies the (M, mu)-local PL condition "
        "around its initialization with probability >= 1 - delta.",
        "G = ||dl/dA||^2 + L sum_k ||dl/dZ_k||^2 + ||dl/dB||^2 >= mu l on the M-ball, "
        "M = c3/sqrt(nq), mu = c4/(n sqrt(nq))",
        "bound", "theory.pl:assumptions", relation=">="),
    Statement(
        "thm6.decay", "S6", "Theorem 6 (eq. 10) and Proposition 8",
        "Under Proposition 5's assumptions and small labels, the unclipped flow's loss decays "
        "exponentially and the weights stay within M of their initialization.",
        "l(t) <= exp(-c4 t / (n sqrt(nq))) l(0)",
        "bound", "theory.long_time:assumptions"),
    Statement(
        "thm6.interpolation", "S6", "Theorem 6 (iv)",
        "As t and L grow, the trained network converges to a neural ODE that interpolates the "
        "data.",
        "F_inf(x_i) = y_i",
        "bound", "theory.long_time:assumptions"),
    Statement(
        "thm6.pl_path", "S6", "Theorem 6 via Propositions 5 and 8 (PL along the path, measured)",
        "Where the flow interpolates, the PL ratio stays bounded below uniformly in time: "
        "mu_emp(T) = inf_{t <= T} G/l does not decay as T grows (it does where the loss "
        "plateaus).",
        "slope of log mu_emp(T) against log T over T/8..T in [-0.2, 0.2] (interval in "
        "[-0.5, 0.5])",
        "rate", "theory.long_time:path_assumptions", rate_window=(-0.2, 0.2),
        rate_wide_window=(-0.5, 0.5)),
    Statement(
        "thm6.smooth_L", "S6", "Theorem 6 (ii) (shape in L)",
        "Where the flow interpolates, neighbouring layers stay O(1/L) apart for all t: the "
        "supremum over t of the neighbour gap decreases as 1/L.",
        "sup_t max_k ||Z_{k+1}(t) - Z_k(t)|| ~ K~_emp L^-1 (slope in [-1.2, -0.8], interval in "
        "[-1.5, -0.5])",
        "rate", "theory.long_time:path_assumptions", **RATE_1L),
    Statement(
        "thm6.smooth_T", "S6", "Theorem 6 (ii) (uniform in t)",
        "Where the flow interpolates, S(t) = sup_{s <= t} L max_k ||Z_{k+1}(s) - Z_k(s)|| is "
        "bounded in t: its growth over [T/2, T] is smaller than over [T/4, T/2] (a power or "
        "logarithmic growth is not).",
        "max_L median_seeds (S(T) - S(T/2)) / (S(T/2) - S(T/4)) <= 1",
        "bound", "theory.long_time:path_assumptions"),
    Statement(
        "thm6.limit_L", "S6", "Theorem 6 (iv) (shape in L, measured)",
        "Where the flow interpolates, the trained outputs F^L(x; t) converge as L grows, "
        "uniformly over the inputs (Theorem 6 (iv) gives no rate; with (ii)'s K~/L the Euler "
        "error is O(1/L)): off the training sample, networks of depths L and 2L trained to T "
        "differ by O(1/L).",
        "max_x ||F^L_T(x) - F^{2L}_T(x)|| on fresh inputs ~ L^-1 (slope in [-1.2, -0.8], "
        "interval in [-1.5, -0.5])",
        "rate", "theory.long_time:path_assumptions", **RATE_1L),
    Statement(
        "lemma18.linalg", "S7", "Lemma 18",
        "Singular-value inequalities: smin(A + A') >= smin(A) - ||A'||_F, "
        "||AB||_F >= smin(A) ||B||_F and ||AB||_F >= ||A||_F smin(B) for the right shapes.",
        "smin(A + A') >= smin(A) - ||A'||_F",
        "bound", "theory.lemmas:lemma18_assumptions"),
    Statement(
        "lemma20.gaussian_norm", "S8", "Lemma 20",
        "The Frobenius norm of a q x m standard Gaussian matrix exceeds M_W sqrt(qm) with "
        "probability at most exp(-(M_W^2 - 1) qm / 16).",
        "P(||W||_F > M_W sqrt(qm)) <= exp(-(M_W^2 - 1) qm / 16)",
        "probability", "theory.lemmas:lemma20_assumptions"),
    Statement(
        "lemma21.smin", "S9", "Lemma 21",
        "The smallest singular value of the random features sigma(W X) is at least "
        "sqrt(m) eta_r / 4 with probability >= 1 - delta.",
        "P(smin(sigma(W X)) < sqrt(m) |eta_r| / 4) <= delta",
        "probability", "theory.lemmas:lemma21_assumptions"),
    Statement(
        "hermite.coefficients", "S10", "Appendix B (Hermite transform)",
        "The normalized Hermite coefficients eta_r(sigma) are orthonormal-basis coefficients: "
        "Parseval gives sum_r eta_r^2 = E[sigma(Z)^2].",
        "sum_r eta_r(sigma)^2 = E[sigma(Z)^2], Z ~ N(0, 1)",
        "identity", "theory.hermite:assumptions"),
    Statement(
        "appD.relu", "S11", "Appendix D",
        "With ReLU, the odd weights never move, the even weights converge to w* = 2L(C^{1/L} - 1) "
        "and the neighbour gap tends to w* + 1/(2L) = Omega(1): no ODE limit.",
        "|w_{2k} - w_{2k-1}| -> w* + 1/(2L) >= 2 log C",
        "identity", "theory.relu:assumptions"),
    Statement(
        "sec43.general", "S12", "Section 4.3 (general model (11), smooth initialization)",
        "Proposition 7's O(1/L) neighbour gap holds for any C^2 residual f with f(0, .) = 0 "
        "(here a convolutional residual).",
        "max_{k,t} ||Z_{k+1}(t) - Z_k(t)|| = O(1/L)",
        "rate", "theory.finite_time:general_assumptions", **RATE_1L),
    Statement(
        "sec43.smooth_init", "S12", "Section 4.3 (smooth initialization)",
        "Proposition 7's O(1/L) neighbour gap holds for model (3) from a smooth Gaussian-process "
        "initialization V_k(0) = V0(k/L), W_k(0) = W0(k/L).",
        "max_{k,t} ||Z_{k+1}(t) - Z_k(t)|| = O(1/L)",
        "rate", "theory.finite_time:general_assumptions", **RATE_1L),
    Statement(
        "table1.realdata", "S13", "Section 5.2, Table 1, Figures 3-4",
        "On real data, a tied initialization with a smooth activation keeps the trained weights "
        "smooth across layers (a neural ODE); an i.i.d. initialization or ReLU does not.",
        "roughness of D_k = conv_k(T) - conv_k(0) across k, tied / i.i.d. <= 1 (median over "
        ">= 3 seeds of runs that trained and whose residual branch acts)",
        "experiment", "theory.finite_time:realdata_assumptions"),
)


class Catalog(Mapping[str, Statement]):
    """Read-only mapping ``id -> Statement`` in the order of the paper."""

    def __init__(self, statements: tuple[Statement, ...]) -> None:
        self._by_id = {s.id: s for s in statements}
        if len(self._by_id) != len(statements):
            raise ValueError("duplicate statement id in the catalog")

    def __getitem__(self, key: str) -> Statement:
        try:
            return self._by_id[key]
        except KeyError:
            from theory.errors import ConfigError

            raise ConfigError("statement", key, f"unknown id; known: {', '.join(self)}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_id)

    def __len__(self) -> int:
        return len(self._by_id)


catalog = Catalog(_STATEMENTS)


@dataclasses.dataclass
class CheckResult:
    """The outcome of one check: the ``checks`` entries of ``results.json`` (schema 2).

    ``verdict`` is the class of :func:`theory.verdicts.classify` ("holds", "vacuous", "violated",
    "n/a") and ``verdict_rule`` the rule that decided it; ``holds`` is False exactly when violated,
    True for holds and vacuous, ``None`` where not applicable; a non-applicable result always
    names at least one failed assumption.  ``extra`` carries auxiliary numbers (intervals, K_emp,
    per-depth values) that the report may show.
    """

    id: str
    paper_ref: str
    claim: str
    config: dict[str, Any]
    applicable: bool
    failed_assumptions: list[str]
    bound: float | None
    measured: float | None
    holds: bool | None
    slack_log10: float | None = None
    rate_slope: float | None = None
    notes: str = ""
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)
    verdict: str = ""
    verdict_rule: str = ""

    def __post_init__(self) -> None:
        if self.applicable and self.failed_assumptions:
            raise ValueError(f"{self.id}: applicable but failed {self.failed_assumptions}")
        if not self.applicable:
            if not self.failed_assumptions:
                raise ValueError(f"{self.id}: not applicable without a failed assumption")
            self.holds = None
        elif self.holds is None:
            raise ValueError(f"{self.id}: applicable result without a verdict")
        if self.verdict not in ("holds", "vacuous", "violated", "n/a"):
            raise ValueError(f"{self.id}: verdict {self.verdict!r} is not a verdict class")
        if (self.verdict == "n/a") == self.applicable or \
                (self.verdict == "violated") != (self.holds is False):
            raise ValueError(f"{self.id}: verdict {self.verdict} contradicts applicable="
                             f"{self.applicable}, holds={self.holds}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: tuples become lists and, inside ``extra``, non-finite floats become
        the strings "inf", "-inf", "nan" (JSON has no such numbers)."""
        out = dataclasses.asdict(self)
        out["extra"] = jsonable(out["extra"])
        return out


def jsonable(obj: Any) -> Any:
    """``obj`` with tuples as lists, numpy/torch scalars as Python numbers, and non-finite floats
    as strings, recursively."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, bool | int | str) or obj is None:
        return obj
    if hasattr(obj, "item"):  # numpy / torch scalars
        obj = obj.item()
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else str(obj)
    return obj if isinstance(obj, int | bool) else str(obj)
