"""The statement catalog: the spine every layer iterates.

Each quantitative statement of the paper (docs/statements.md, families S1-S13) is one
:class:`Statement`, keyed by a stable id (docs/statements.md; JSON: docs/results-json.md).
``theory`` adds the assumptions predicate (a function ``Config -> list[str]`` returning the names
of the failed assumptions; resolved lazily from a ``"module:function"`` path), the formula shown
(theory.formula: generated from the sympy expression the check evaluates), the acceptable region
of a rate, the beyond-scope experiment and the negative control; the statement's family module
under ``numerics/`` binds its measurement and facts to it (:func:`bind`); ``properties`` and
``reports`` iterate :data:`catalog`.

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

from theory import euler, finite_time, lemmas, long_time, pl
from theory.formula import Acceptance, Formula

if TYPE_CHECKING:
    from theory.config import Config

Kind = Literal["bound", "rate", "probability", "identity", "experiment"]


@dataclasses.dataclass(frozen=True)
class Statement:
    """One statement of the paper.

    ``kind``: ``"bound"`` (measured <= bound), ``"rate"`` (log-log slope against L, T or m whose
    95% interval must lie in the acceptable region ``rate_window``: one-sided for an O(.) bound,
    two-sided for a claimed exponent; ``rate_why`` derives it), ``"probability"`` (a tail or
    failure probability, exact or Monte Carlo with a binomial margin), ``"identity"`` (an
    equality up to numerical tolerance) or ``"experiment"`` (a measured contrast with no bound,
    e.g. Table 1).

    ``beyond_path`` ("module:function", Config -> failed requirement names): the statement's
    conclusion can be tested beyond its assumptions; where ``assumptions`` fail and these
    requirements hold, the check runs with scope "beyond" (theory.verdicts).  ``control``: the
    negative control, a function Config -> (Config, why) giving the same measurement where the
    claim should fail; ``no_control``: why a statement has none (exactly one of the two is given).

    ``flow``: for a gradient-flow statement whose check trains by gradient descent, the
    configuration of that run as a function of the row's, and ``flow_residual`` its network
    ("model3", "conv": Section 4.3's convolutional residual, "appd": Appendix D's scalar one);
    whether gradient descent tracks the flow there is a measured precondition
    (numerics.tracking).  None: the check trains nothing (S2, S7-S10, Appendix A's recurrences),
    trains with another optimizer (S13's SGD, Remark 1's), or the statement is about the loss
    landscape, not the flow (Proposition 5).

    ``trains``: whether the check trains (or builds) model-(3) networks of the configuration's
    sizes, so that numerics.checks.guard_resources's memory estimate applies; False for checks
    on random matrices, quadrature, Appendix D's scalar network or fixed-weight recurrences.

    ``measure`` (Config -> numerics.measure.Measurement) and ``facts`` ((Statement, Config,
    Measurement) -> numerics.evidence.Evidence): the statement's numerics, bound by its family
    module under numerics/ when that module is imported (:func:`bind`; numerics.checks imports
    them all).  theory never imports numerics: the catalog holds them by reference only.

    ``shown`` is what :attr:`formula` renders (theory.formula): a :class:`Formula` for every
    statement whose check compares with a bound computed from an expression (kind "bound":
    Propositions 1, 2, 3, 5, Theorem 6's decay and residual; kind "probability": Lemmas 20 and
    21), whose rhs is the sympy expression its family module in theory/ evaluates the bound from;
    an :class:`Acceptance` for every "rate" statement (the acceptance generated from
    ``rate_window``); text where no bound is computed: identities and experiments (the check
    compares two computations or arms), Lemma 18 (a relative violation against 0) and the
    doubling-ratio checks of boundedness in t (a median ratio against the fixed criterion 1,
    numerics.evidence.doubling_facts), whose right-hand sides are constants, not bounds.
    """

    id: str
    family: str  # the S-number of docs/statements.md
    paper_ref: str
    claim: str
    shown: str | Formula | Acceptance  # rendered by the property ``formula``
    kind: Kind
    assumptions_path: str  # "module:function", Config -> list of failed assumption names
    rate_window: tuple[float, float] | None = None  # the acceptable region of the exponent
    rate_why: str = ""
    relation: Literal["<=", ">="] = "<="  # measured <= bound, or measured >= bound (a PL ratio)
    beyond_path: str | None = None
    control: Callable[[Config], tuple[Config, str]] | None = None
    no_control: str = ""
    flow: Callable[[Config], Config] | None = None
    flow_residual: Literal["model3", "conv", "appd"] = "model3"
    trains: bool = True
    measure: Callable[[Config], Any] | None = dataclasses.field(default=None, compare=False,
                                                                repr=False)
    facts: Callable[[Statement, Config, Any], Any] | None = dataclasses.field(
        default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if (self.control is None) == (not self.no_control):
            raise ValueError(f"{self.id}: give a negative control or the reason it has none")
        if isinstance(self.shown, Acceptance) != (self.kind == "rate" and bool(self.rate_window)):
            raise ValueError(f"{self.id}: a rate statement shows an Acceptance of its window")

    @property
    def formula(self) -> str:
        """The formula shown for the statement (docs, reports, ``resnet-ode check``), generated
        from ``shown``: a Formula's expression, an Acceptance with ``rate_window``, or text."""
        if isinstance(self.shown, Acceptance):
            assert self.rate_window is not None
            return self.shown.text(self.rate_window)
        return str(self.shown)

    def assumptions(self, config: Config) -> list[str]:
        """Names of the assumptions of this statement that ``config`` fails (empty: applies)."""
        return _resolve(self.assumptions_path)(config)

    def requirements(self, config: Config) -> list[str]:
        """Names of the requirements of this statement's beyond-scope experiment that
        ``config`` fails (only for a statement with ``beyond_path``)."""
        if self.beyond_path is None:
            raise ValueError(f"{self.id} has no beyond-scope experiment")
        return _resolve(self.beyond_path)(config)

    def scope(self, config: Config) -> tuple[str, list[str], list[str]]:
        """(scope, failed assumptions of the statement, failed requirements of the check):
        "paper" where the assumptions hold or the statement has no beyond-scope experiment (its
        failed assumptions then make the check n/a), else "beyond"."""
        failed = self.assumptions(config)
        if failed and self.beyond_path is not None:
            return "beyond", failed, self.requirements(config)
        return "paper", failed, failed

    def __str__(self) -> str:
        return f"{self.id} [{self.paper_ref}]: {self.formula}"


def bind(*ids: str, measure: Callable[[Config], Any],
         facts: Callable[[Statement, Config, Any], Any]) -> None:
    """Attach ``measure`` and ``facts`` to the statements ``ids`` (each family module of
    numerics/ does so for its statements when it is imported).  The only write to a Statement
    after its creation: a frozen dataclass field, set once by its numerics home."""
    for sid in ids:
        statement = catalog[sid]
        object.__setattr__(statement, "measure", measure)
        object.__setattr__(statement, "facts", facts)


def _resolve(path: str) -> Callable[[Config], list[str]]:
    module, _, name = path.partition(":")
    predicate = getattr(importlib.import_module(module), name)
    return lambda config: list(predicate(config))


ONE_OVER_L = (-math.inf, -0.8)
ONE_OVER_L_WHY = (
    "O(1/L) is an upper bound, so the region is one-sided: any decay at least as fast as 1/L "
    "passes (a faster one is no violation).  The edge -0.8 allows the pre-asymptotic curvature "
    "of a finite depth grid: C/L - D/L^2 with D <= C L_min / 6 has local slopes >= -1.2 and a "
    "least-squares slope no flatter than -0.8; the alternatives it must reject are flatter "
    "than -0.5 (an i.i.d. initialization's O(1) gap: 0; a random walk's or a law of large "
    "numbers' L^-1/2: -0.5).")
RATE_1L: dict[str, Any] = {"rate_window": ONE_OVER_L, "rate_why": ONE_OVER_L_WHY}
_RECURRENCE_WHY = (
    "The proof of Proposition 11 ((35), p24, with (36)) bounds the distance by "
    "(||a^L - a|| + sup_s ||Theta^L - Theta|| + C_Theta/L + C~/(LC)) e^C + C_U/L, uniformly over "
    "t (Corollary 12) or along t >= log L (Corollary 13: the e^-t part is then O(1/L)); with "
    "perturbations of size L^-1/2 (numerics.recurrences) that is O(L^-1/2), an upper bound: "
    "one-sided, any faster decay passes.  The edge -0.3 leaves the 0.2 of ONE_OVER_L's edge for "
    "the curvature of c L^-1/2 + D/L on a finite grid; the control, i.i.d. O(1) perturbations "
    "with a non-zero mean, does not converge uniformly and keeps an O(1) distance (slope near "
    "0).")


THM6_BEYOND: dict[str, Any] = {"assumptions_path": "theory.long_time:assumptions",
                               "beyond_path": "theory.long_time:path_assumptions"}
"""Theorem 6's assumptions, and the requirements of its conclusions tested beyond them."""
THM6_LIMIT_WHY = (
    "Theorem 6 (i)-(iii) give no rate: the limit in L comes from compactness (Proposition 9, "
    "Corollary 10, Theorem 14 with pi = identity: p26-29, p35-36), the double limit from Lemma 19 "
    "(p30, p37).  The window is the measured shape of a first-order discretization: where (ii) "
    "holds with K~/L, the depth-L network is the explicit Euler scheme in depth of the limit "
    "dynamics (38)-(44), whose error Proposition 11's (35) bounds by C/L, so X^L = X + x/L + "
    "o(1/L) and depths L and 2L differ by ||x||/(2L) + o(1/L).  One-sided (an O(.) bound: a "
    "faster decay is no violation), with ONE_OVER_L's edge -0.8 for a finite grid's curvature; "
    "the alternative, an i.i.d. initialization whose layers average like a law of large "
    "numbers, decays like L^-1/2 (slope -0.5).")
"""Why Theorem 6 (i) and (iii) are checked at O(1/L) (numerics.thm6_limits)."""
SEC43_LONG: dict[str, Any] = {"assumptions_path": "theory.sec43:long_assumptions",
                              "beyond_path": "theory.sec43:long_requirements"}
"""Theorem 6 for model (11) (Section 4.3), and the requirements of its measured-constant checks."""


def _iid(config: Config) -> tuple[Config, str]:
    """The i.i.d. control: for the smoothness rates i.i.d. layers are O(1) apart at every depth
    (no 1/L), and a smooth initialization's control is the initialization itself (one gradient
    step), which must not pass on its own; for Table 1 an independent i.i.d. draw replaces the
    tied arm (no contrast); for Proposition 8 (v) the same PL constant without the tied
    initialization (where it holds too, the check had no power)."""
    if config.init == "smooth":
        return _untrained(config)
    return dataclasses.replace(config, init="iid"), "i.i.d. initialization"


def _untrained(config: Config) -> tuple[Config, str]:
    """What training must preserve, without training: the initialization after one step."""
    return dataclasses.replace(config, T=config.eta), "the initialization itself (one step)"


def _as_given(config: Config) -> Config:
    """The gradient-descent run of a flow statement: model (3) trained as the row configures it."""
    return config


def _smooth_run(config: Config) -> Config:
    """sec43.smooth_init's run: model (3) from the smooth initialization (numerics.sec43)."""
    return dataclasses.replace(config, init="smooth")


def _linear(config: Config) -> tuple[Config, str]:
    """PL along the path fails for a linear network on more samples than input dimensions: it
    cannot interpolate, the loss plateaus and G/l -> 0."""
    return (dataclasses.replace(config, activation="identity"),
            "identity activation (a linear network: cannot interpolate n > d generic samples)")


def _narrow(config: Config) -> tuple[Config, str]:
    """S(t) keeps growing at width m = 1 (the long-time study's m = 1 rows)."""
    return dataclasses.replace(config, m=1), "width m = 1"


def _nonconvergent(config: Config) -> tuple[Config, str]:
    """Appendix A's recurrences (numerics.recurrences): an i.i.d. O(1) perturbation of the layers
    (non-zero mean) in place of the vanishing one: the family does not converge uniformly."""
    return (dataclasses.replace(config, init="iid"),
            "i.i.d. O(1) layer perturbations (non-zero mean): no uniform convergence")


def _below_breakdown(config: Config) -> tuple[Config, str]:
    """Lemma 20's bound fails below M_W* = 1.1396 once qm is large (theory.lemmas)."""
    return (dataclasses.replace(config, M_W=1.1, q=64, m=64),
            "M_W = 1.1 < M_W* at q = m = 64 (below the bound's breakdown)")


def _rough_path(config: Config) -> tuple[Config, str]:
    """Proposition 2 without a Lipschitz path: the ResNet's layers V(k/L) + E_k, W(k/L) + E'_k
    with i.i.d. standard Gaussian E_k, E'_k of the same size at every depth (numerics.euler);
    the noise averages like a random walk plus the bias of sigma's curvature, no 1/L."""
    return (dataclasses.replace(config, init="iid"),
            "layers V(k/L) + E_k, W(k/L) + E'_k with i.i.d. O(1) noise (no Lipschitz path)")


def _unscaled(config: Config) -> tuple[Config, str]:
    """Remark 3's width independence rests on model (3)'s 1/sqrt(q), 1/sqrt(m) factors; the
    released code's scaling x + sigma(x W) V / L has none, so C_emp grows with m."""
    return (dataclasses.replace(config, scaling="official"),
            "the released code's scaling without model (3)'s width factors")


def _no_limit(config: Config) -> tuple[Config, str]:
    """Theorem 4 needs Z_init to be a Lipschitz function of s: with i.i.d. layers (each depth and
    the limit's s-grid their own independent draws, numerics.limit.limit_init) no depth-L
    network discretizes a common limit, and the distance stays O(1)."""
    return dataclasses.replace(config, init="iid"), "i.i.d. initialization (no common limit)"


def _hypothesis_fails(config: Config) -> tuple[Config, str]:
    """Lemma 18 (ii), ||AB||_F >= smin(A) ||B||_F, needs m >= r: with m = 1 < r, A = a^T has
    one singular value ||a|| and ||a^T B|| < ||a|| ||B||_F for a generic B."""
    return dataclasses.replace(config, m=1), "m = 1 < r (the hypothesis of (ii) fails)"


def _smooth_sigma(config: Config) -> tuple[Config, str]:
    """Appendix D's construction needs ReLU's positive homogeneity: with tanh the odd weights move
    (Proposition 7 then keeps the gap O(1/L))."""
    return dataclasses.replace(config, activation="tanh"), "tanh in place of ReLU"


def _off_split_kink(config: Config) -> tuple[Config, str]:
    """sigma(x) = |x - 1/3|: the reference of the comparison (mpmath's tanh-sinh on (-inf, 0] and
    [0, inf)) loses its exponential convergence at a kink off its split point, while the
    composite Gauss-Legendre splits at every kink: the two computations must disagree (measured
    2.1e-6 relative, 1e4 times the tolerance).  A comparison of one computation with itself
    would agree here too; this one sees an error of that size."""
    return (dataclasses.replace(config, activation="Abs(x - 1/3)"),
            "sigma = |x - 1/3|: a kink off the reference quadrature's split point")


def _starved(config: Config) -> tuple[Config, str]:
    """A width-1 network on four times the samples cannot interpolate: the loss plateaus and the
    weights keep moving (R(t) grows at T; measured under both optimizers of Remark 1)."""
    return (dataclasses.replace(config, m=1, n=4 * config.n),
            "width m = 1 on 4n samples (no interpolation)")


REMARK1_WHY = (
    "As Proposition 7 and Theorem 6 (ii) under gradient descent, an O(1/L) upper bound: "
    "one-sided, with ONE_OVER_L's edge and reasons (ONE_OVER_L_WHY).  The alternative proper to "
    "these optimizers is Adam's coordinatewise normalization, close to a sign of the field: a "
    "coordinate whose field changes sign between layers k and k+1 (a fraction ~1/L of them) "
    "moves the two apart at O(1) speed, a gap ~ (q m / L)^(1/2) (slope -0.5) while such "
    "coordinates are many per pair and O(1) (slope 0) once L exceeds the q m entries of a "
    "block: both rejected.  Heavy ball averages the fields linearly, so its gap is gradient "
    "descent's up to O(eta / (1 - beta)).")


EXPLICIT_BOUND = (
    "an explicit-constant bound: where its assumptions hold it is a theorem, and its power is its "
    "comparison with the a-priori bound of the same quantity (vacuous where that is at least as "
    "tight); the constant's tightness is tested by the statement's shape check, with its control")

_STATEMENTS = (
    Statement(
        "prop1.wellposed", "S1", "Proposition 1",
        "The clipped gradient flow (5) has a unique solution for all t >= 0: clipped training "
        "never blows up and the weights stay within the bound M of Proposition 3.",
        finite_time.WELLPOSED,
        "bound", "theory.finite_time:wellposed_assumptions", no_control=EXPLICIT_BOUND,
        flow=_as_given),
    Statement(
        "prop2.euler", "S2", "Proposition 2 (proof: Proposition 11, eqs. 35-36)",
        "A residual network whose weights discretize Lipschitz functions V, W is within C/L of the "
        "neural ODE (6).",
        euler.PROP2,
        "bound", "theory.euler:assumptions", no_control=EXPLICIT_BOUND),
    Statement(
        "prop2.rate_L", "S2", "Proposition 2 (shape in L)",
        "The explicit C of Proposition 2 is vacuous; its shape is not: the ResNet-ODE gap at fixed "
        "Lipschitz weights decreases as 1/L.",
        Acceptance("sup_x ||F(x) - F^L(x)|| = O(L^-1)"),
        "rate", "theory.euler:assumptions", **RATE_1L, control=_rough_path),
    Statement(
        "prop2.width_m", "S2", "Proposition 2 (shape in m) and Remark 3",
        "The constants of model (3) do not depend on the width m (Remark 3, for Theorem 6's C): "
        "measured for Proposition 2's empirical constant C_emp = L sup_x ||F - F^L||, beside "
        "the m-dependence of the explicit C of Proposition 11 on the same draws.",
        Acceptance("C_emp(m) bounded in m", "of log C_emp against log m"),
        "rate", "theory.euler:assumptions", rate_window=(-math.inf, 0.2),
        rate_why="A constant independent of m bounds C_emp(m) from above, so the region is "
        "one-sided (a C_emp decreasing in m satisfies it); the edge 0.2 allows a drift of 15% "
        "per doubling of m on a grid of four widths, while the explicit C of Proposition 11 "
        "grows like m^0.5 or faster.", control=_unscaled),
    Statement(
        "prop3.bounded", "S3", "Propositions 3 and 7",
        "Along the clipped flow on [0, T] every weight stays bounded by M = M0 + T M_pi.",
        finite_time.BOUNDED,
        "bound", "theory.finite_time:bounded_assumptions", no_control=EXPLICIT_BOUND,
        flow=_as_given),
    Statement(
        "prop3.successive", "S3", "Propositions 3 and 7, eq. (7)",
        "Along the clipped flow, neighbouring layers stay O(1/L) apart: ||Z_{k+1} - Z_k|| <= K/L "
        "with K = beta T e^{alpha T} for a tied initialization.",
        finite_time.SUCCESSIVE,
        "bound", "theory.finite_time:successive_assumptions", no_control=EXPLICIT_BOUND,
        flow=_as_given),
    Statement(
        "prop3.rate_L", "S3", "Propositions 3 and 7 (shape in L)",
        "The explicit K of eq. (7) is vacuous; its shape is not: along the clipped flow from a "
        "tied initialization the neighbour gap decreases as 1/L (K_emp = L x gap settles).",
        Acceptance("max_{k,t} ||Z_{k+1}(t) - Z_k(t)|| = O(L^-1)"),
        "rate", "theory.finite_time:successive_assumptions", control=_iid, **RATE_1L,
        flow=_as_given),
    Statement(
        "prop3.growth_T", "S3", "Proposition 7, eq. (7) (shape in T)",
        "With a tied initialization (zero initial gap) eq. (7) bounds the gap by beta T e^{alpha T}"
        " / L: K_emp(T) = L max_{t' <= T} gap is O(T) as T -> 0. The fitted growth over the whole "
        "horizon (exponential or polynomial) is reported beside it.",
        Acceptance("K_emp(T) = O(T) as T -> 0", "of log K_emp(T) against log T on small T"),
        "rate", "theory.finite_time:successive_assumptions", rate_window=(0.8, math.inf),
        rate_why="K_emp(T) <= C T as T -> 0 is an upper bound on a quantity that vanishes at "
        "T = 0, i.e. a slope of at least 1 at small T: one-sided (a tied start whose gap opens "
        "at second order, slope 2, satisfies it); the edge 0.8 allows the curvature of "
        "beta T e^(alpha T) over the six doublings of the small-T grid.  Its control, an "
        "i.i.d. start, has K_emp(T) ~ L x O(1) at T -> 0: slope 0.",
        control=_iid, flow=_as_given),
    Statement(
        "thm4.limit", "S4", "Theorem 4 (Appendix A.5, Theorem 14)",
        "As L grows, the trained weights, hidden states and outputs converge uniformly on [0, T] "
        "to those of the limit training dynamics, at rate 1/L.",
        Acceptance("sup_{s,t} ||Z^L(s, t) - Z(s, t)|| = O(1/L)"),
        "rate", "theory.finite_time:limit_assumptions", **RATE_1L, control=_no_limit,
        flow=_as_given),
    Statement(
        "prop5.pl", "S5", "Definition 1 and Proposition 5",
        "With m >= c1 n and L >= c2 sqrt(nq), the network satisfies the (M, mu)-local PL condition "
        "around its initialization with probability >= 1 - delta.",
        pl.PL,
        "bound", "theory.pl:assumptions", relation=">=", no_control=EXPLICIT_BOUND),
    Statement(
        "thm6.decay", "S6", "Theorem 6 (eq. 10) and Proposition 8",
        "Under Proposition 5's assumptions and small labels, the unclipped flow's loss decays "
        "exponentially and the weights stay within M of their initialization.",
        long_time.DECAY,
        "bound", "theory.long_time:assumptions", no_control=EXPLICIT_BOUND, flow=_as_given),
    Statement(
        "thm6.interpolation", "S6", "Theorem 6 (iv)",
        "As t and L grow, the trained network converges to a neural ODE that interpolates the "
        "data.",
        long_time.INTERPOLATION,
        "bound", "theory.long_time:assumptions", no_control=EXPLICIT_BOUND, flow=_as_given),
    Statement(
        "thm6.pl_path", "S6", "Theorem 6 via Propositions 5 and 8 (PL along the path, measured)",
        "Where the flow interpolates, the PL ratio stays bounded below uniformly in time: "
        "mu_emp(T) = inf_{t <= T} G/l does not decay as T grows (it does where the loss "
        "plateaus).",
        Acceptance("inf_t G/l bounded below uniformly in t",
                   "of log mu_emp(T) against log T over T/8..T"),
        "rate", **THM6_BEYOND, rate_window=(-0.2, math.inf),
        rate_why="A PL constant uniform in time is a lower bound on mu_emp(T), a running "
        "infimum that can only decrease: one-sided (its slope is <= 0 by construction, so only "
        "the lower edge can bind).  The edge -0.2 accepts a settling by a factor 1.5 over the "
        "three doublings T/8..T; a plateauing loss makes G/l -> 0 like 1/t or faster "
        "(slope <= -1).", control=_linear, flow=_as_given),
    Statement(
        "thm6.smooth_L", "S6", "Theorem 6 (ii) (shape in L)",
        "Where the flow interpolates, neighbouring layers stay O(1/L) apart for all t: the "
        "supremum over t of the neighbour gap decreases as 1/L.",
        Acceptance("sup_t max_k ||Z_{k+1}(t) - Z_k(t)|| = O(L^-1)"),
        "rate", **THM6_BEYOND,
        control=_iid, **RATE_1L, flow=_as_given),
    Statement(
        "thm6.smooth_T", "S6", "Theorem 6 (ii) (uniform in t)",
        "Where the flow interpolates, S(t) = sup_{s <= t} L max_k ||Z_{k+1}(s) - Z_k(s)|| is "
        "bounded in t: its growth over [T/2, T] is smaller than over [T/4, T/2] (a power or "
        "logarithmic growth is not).",
        "max_L (S(T) - S(T/2)) / (S(T/2) - S(T/4)) < 1: the 95% interval over seeds below 1",
        "bound", **THM6_BEYOND,
        control=_narrow, flow=_as_given),
    Statement(
        "thm6.limit_L", "S6", "Theorem 6 (iv) (shape in L, measured)",
        "Where the flow interpolates, the trained outputs F^L(x; t) converge as L grows, "
        "uniformly over the inputs (Theorem 6 (iv) gives no rate; with (ii)'s K~/L the Euler "
        "error is O(1/L)): off the training sample, networks of depths L and 2L trained to T "
        "differ by O(1/L).",
        Acceptance("max_x ||F^L_T(x) - F^{2L}_T(x)|| on fresh inputs = O(L^-1)"),
        "rate", **THM6_BEYOND,
        control=_iid, **RATE_1L, flow=_as_given),
    Statement(
        "thm6.i_AB", "S6", "Theorem 6 (i) (shape in L, measured)",
        "Where the flow interpolates, the trained outer matrices A^L(t), B^L(t) converge as L "
        "grows, uniformly in t (Theorem 6 (i) gives no rate): networks of depths L and 2L have "
        "A(t) and B(t) within O(1/L) of each other at every t <= T.",
        Acceptance("sup_{t<=T} max(||A^L(t) - A^{2L}(t)||_F, ||B^L(t) - B^{2L}(t)||_F) = "
                   "O(L^-1)"),
        "rate", **THM6_BEYOND, rate_window=ONE_OVER_L, rate_why=THM6_LIMIT_WHY, control=_iid,
        flow=_as_given),
    Statement(
        "thm6.iii_hidden", "S6", "Theorem 6 (iii) (shape in L, measured)",
        "Where the flow interpolates, the hidden states h^L_{floor(Ls)}(x; T) converge, uniformly "
        "in s and x, to the neural ODE driven by the limit weights: they are within O(1/L) of "
        "the ODE H^{2L} driven by the piecewise-linear interpolation of the trained weights of "
        "the network of depth 2L (the next depth's proxy of Z_inf, A_inf).",
        Acceptance("max_{k, x} ||h^L_k(x; T) - H^{2L}_T(k/L; x)|| (x: the sample and fresh "
                   "inputs) = O(L^-1)"),
        "rate", **THM6_BEYOND, rate_window=ONE_OVER_L, rate_why=THM6_LIMIT_WHY, control=_iid,
        flow=_as_given),
    Statement(
        "thm6.joint", "S6", "Theorem 6 (iii) as L and t tend to infinity together (Proposition "
        "15, p30; Lemma 19, p37)",
        "The double limit exists, whatever the order (p7), because the limit in L is uniform in "
        "t (Proposition 15 (ii)) and the limit in t uniform in L ((i); prop8.iv): the constant of "
        "the hidden states' limit in L, C(t) = sup_{t' <= t} max_L L max_{k, x} ||h^L_k(x; t') - "
        "H^{2L}_{t'}(k/L; x)||, is bounded in t: it grows less over [T/2, T] than over "
        "[T/4, T/2].",
        "median over seeds of (C(T) - C(T/2)) / (C(T/2) - C(T/4)) < 1: the 95% interval below 1",
        "bound", **THM6_BEYOND, control=_narrow, flow=_as_given),
    Statement(
        "prop8.i", "S14", "Proposition 8 (i) (measured: weights within a ball, uniformly in t)",
        "Under the local PL condition the weights stay within M of their initialization for all "
        "t: R(t) = sup_{s <= t} max(||A - A(0)||_F, sup_k ||Z_k - Z_k(0)||, ||B - B(0)||_F) is "
        "bounded in t (its growth over [T/2, T] smaller than over [T/4, T/2]).",
        "median over seeds of max_L (R(T) - R(T/2)) / (R(T/2) - R(T/4)) < 1",
        "bound", **THM6_BEYOND,
        control=_narrow, flow=_as_given),
    Statement(
        "prop8.iii", "S14", "Proposition 8 (iii) (measured: integrable speed)",
        "The speeds of A, Z_k and B are bounded by an integrable b(t) independent of L and k: "
        "I(t) = int_0^t max(||dA/dt||_F, sup_k ||dZ_k/dt||, ||dB/dt||_F) is bounded in t.",
        "median over seeds of max_L (I(T) - I(T/2)) / (I(T/2) - I(T/4)) < 1",
        "bound", **THM6_BEYOND,
        control=_narrow, flow=_as_given),
    Statement(
        "prop8.iv", "S14", "Proposition 8 (iv) (measured: convergence as t -> infinity)",
        "A(t), Z_k(t), B(t) converge as t -> infinity (p20: at rate e^{-mu t/2}): the path "
        "length over [T'/2, T'], which bounds ||theta(T') - theta(T'/2)||, goes to 0 as T' grows.",
        Acceptance("int_{T'/2}^{T'} b dt -> 0", "of its log against log T' on T' = T/8..T"),
        "rate", **THM6_BEYOND, rate_window=(-math.inf, -0.2),
        rate_why="The proof (p20) bounds the increments by (M/2) e^{-mu T'/4}: an upper bound on "
        "a quantity that must vanish (a Cauchy criterion), so the region is one-sided; any decay "
        "passes, and the edge -0.2 (a factor 1.15 per doubling of T') separates it from a path "
        "that keeps moving at constant speed per doubling (b ~ 1/t: slope 0) or faster (slope > "
        "0).", control=_narrow, flow=_as_given),
    Statement(
        "prop8.v", "S14", "Proposition 8 (v) (measured: one mu for every L)",
        "l^L(t) <= e^{-mu t} l^L(0) with one mu for every depth: the PL constant along the "
        "path, mu_emp(L) = inf_{t <= T} G/l, does not decay as L grows.",
        Acceptance("mu_emp(L) bounded below uniformly in L", "of log mu_emp(L) against log L"),
        "rate", **THM6_BEYOND, rate_window=(-0.2, math.inf), control=_iid,
        rate_why="A mu uniform in L is a lower bound on mu_emp(L): one-sided, any growth in L "
        "passes; the edge -0.2 accepts a loss of 15% per doubling of L on a four-depth grid, "
        "while a PL constant that vanishes like 1/L (slope -1) or 1/sqrt(L) (-0.5) is rejected.",
        flow=_as_given),
    Statement(
        "cor12.recurrence", "S14", "Corollary 12 (Appendix A.4, p25; proof: Proposition 11, (35))",
        "A discrete recurrence driven by a family theta^L_k(t) converging uniformly in s and t "
        "converges to the ODE's solution uniformly in s and t, at the rate of its proof: "
        "O(1/L + sup ||a^L - a|| + sup ||Theta^L - Theta||), here O(L^-1/2).",
        Acceptance("sup_{s,t} ||u^L_{floor(Ls)}(t) - U(s, t)|| = O(L^-1/2)"),
        "rate", "theory.appendix_a:assumptions", rate_window=(-math.inf, -0.3),
        rate_why=_RECURRENCE_WHY, control=_nonconvergent, trains=False),
    Statement(
        "cor13.recurrence", "S14", "Corollary 13 (Appendix A.4, p25)",
        "A recurrence driven by a family converging as L and t tend to infinity together "
        "converges to the ODE driven by the limit: the tail of the double limit, sup over "
        "t >= log L, is O(1/L + L^-1/2 + e^-t) = O(L^-1/2).",
        Acceptance("sup_{t >= log L, s} ||u^L_{floor(Ls)}(t) - U(s)|| = O(L^-1/2)"),
        "rate", "theory.appendix_a:assumptions", rate_window=(-math.inf, -0.3),
        rate_why=_RECURRENCE_WHY, control=_nonconvergent, trains=False),
    Statement(
        "prop15.double_limit", "S14", "Proposition 15 (Appendix A.6, p30)",
        "Where A^L(t), Z^L_k(t), B^L(t) converge in t uniformly in L and in L uniformly in t, "
        "the outputs F^L(x; t) converge to F_inf(x) = B_inf H(1) uniformly over x as L and t "
        "tend to infinity: at O(1/L + e^-t), i.e. O(1/L) along t >= log L.",
        Acceptance("sup_{t >= log L} sup_x ||F^L(x; t) - F_inf(x)|| = O(L^-1)"),
        "rate", "theory.appendix_a:assumptions", control=_nonconvergent, **RATE_1L,
        trains=False),
    Statement(
        "lemma18.linalg", "S7", "Lemma 18",
        "Singular-value inequalities: smin(A + A') >= smin(A) - ||A'||_F, "
        "||AB||_F >= smin(A) ||B||_F and ||AB||_F >= ||A||_F smin(B) for the right shapes.",
        "; ".join(i.text for i in lemmas.LEMMA18) + " (measured: the largest relative violation "
        "(rhs - lhs) / max(|lhs|, |rhs|) <= 0)",
        "bound", "theory.lemmas:lemma18_assumptions", control=_hypothesis_fails, trains=False),
    Statement(
        "lemma20.gaussian_norm", "S8", "Lemma 20",
        "The Frobenius norm of a q x m standard Gaussian matrix exceeds M_W sqrt(qm) with "
        "probability at most exp(-(M_W^2 - 1) qm / 16).",
        lemmas.LEMMA20,
        "probability", "theory.lemmas:lemma20_assumptions", control=_below_breakdown,
        trains=False),
    Statement(
        "lemma21.smin", "S9", "Lemma 21",
        "The smallest singular value of the random features sigma(W X) is at least "
        "sqrt(m) eta_r / 4 with probability >= 1 - delta.",
        lemmas.LEMMA21,
        "probability", "theory.lemmas:lemma21_assumptions", no_control=(
            "not built: delta >= 1 wherever smin can vanish (m < n, p38), so a failing control "
            "needs data outside the sub-Gaussian hypothesis measured against the default C^2 = 1 "
            "(the sampler draws unit-sphere columns only); delta < 1 needs n = 2, d >= 64, "
            "m >= 1e5, and the quick rows are vacuous (delta >= 1)"), trains=False),
    Statement(
        "hermite.coefficients", "S10", "Appendix B (Hermite transform)",
        "The normalized Hermite coefficients eta_r(sigma) are orthonormal-basis coefficients: "
        "Parseval gives sum_r eta_r^2 = E[sigma(Z)^2].",
        "sum_r eta_r(sigma)^2 = E[sigma(Z)^2], Z ~ N(0, 1)",
        "identity", "theory.hermite:assumptions", control=_off_split_kink, trains=False),
    Statement(
        "appD.relu", "S11", "Appendix D",
        "With ReLU, the odd weights never move, the even weights converge to w* = 2L(C^{1/L} - 1) "
        "and the neighbour gap tends to w* + 1/(2L) = Omega(1): no ODE limit.",
        "|w_{2k} - w_{2k-1}| -> w* + 1/(2L) >= 2 log C",
        "identity", "theory.relu:assumptions", control=_smooth_sigma, flow=_as_given,
        flow_residual="appd", trains=False),
    Statement(
        "sec43.general", "S12", "Section 4.3 (general model (11), smooth initialization)",
        "Proposition 7's O(1/L) neighbour gap holds for any C^2 residual f with f(0, .) = 0 "
        "(here a convolutional residual).",
        Acceptance("max_{k,t} ||Z_{k+1}(t) - Z_k(t)|| = O(1/L)"),
        "rate", "theory.finite_time:general_assumptions", control=_iid, **RATE_1L,
        flow=_as_given, flow_residual="conv"),
    Statement(
        "sec43.smooth_init", "S12", "Section 4.3 (smooth initialization)",
        "Proposition 7's O(1/L) neighbour gap holds for model (3) from a smooth Gaussian-process "
        "initialization V_k(0) = V0(k/L), W_k(0) = W0(k/L).",
        Acceptance("max_{k,t} ||Z_{k+1}(t) - Z_k(t)|| = O(1/L)"),
        "rate", "theory.finite_time:general_assumptions", control=_untrained, **RATE_1L,
        flow=_smooth_run),
    Statement(
        "sec43.long_decay", "S12",
        "Section 4.3 (p7) with Appendix B (p31) and Proposition 8 (v): Theorem 6's loss decay "
        "for model (11), measured",
        "Where the local PL condition holds (assumed, not shown, for model (11)), Theorem 6's "
        "loss decay holds for a convolutional residual: on the unclipped flow from a tied "
        "initialization the loss decays exponentially with one rate for every depth, so the "
        "mean decay rate rho(T') = min_L log(l^L(0)/l^L(T'))/T' does not fall as T' grows.",
        Acceptance("rho(T') bounded below uniformly in T'",
                   "of log rho(T') against log T' over T/8..T"),
        "rate", **SEC43_LONG, rate_window=(-0.2, math.inf),
        rate_why="Proposition 8 (v) (p18), l^L(t) <= e^(-mu t) l^L(0) for every t and L, is "
        "rho(T') >= mu > 0 for every T': a lower bound uniform in T', so the region is "
        "one-sided (a rate that grows with T', as after an early plateau, passes).  The edge "
        "-0.2 accepts a settling by a factor 1.5 over the three doublings T/8..T (as "
        "thm6.pl_path's); a loss that plateaus at l* > 0 has rho = log(l(0)/l*)/T' (slope -1) "
        "and a power law l ~ t^-a has rho ~ a log(t)/t (slope -1 + 1/log t, about -0.7 at "
        "t = 30).", control=_linear, flow=_as_given, flow_residual="conv"),
    Statement(
        "sec43.long_smooth_L", "S12",
        "Section 4.3 (p7) with Appendix B (p31) and Proposition 8 (ii): Theorem 6 (ii) for "
        "model (11) (shape in L, measured)",
        "Where the local PL condition holds (assumed, not shown, for model (11)), neighbouring "
        "layers of a convolutional residual stay K~/L apart for all t: on the unclipped flow "
        "from a tied initialization, the supremum over t <= T (a long horizon, the loss "
        "reached beside it) of the neighbour gap decreases as 1/L.",
        Acceptance("sup_{t<=T} max_k ||Z_{k+1}(t) - Z_k(t)|| = O(L^-1)"),
        "rate", **SEC43_LONG, control=_iid, **RATE_1L, flow=_as_given, flow_residual="conv"),
    Statement(
        "table1.realdata", "S13", "Section 5.2, Table 1, Figures 3-4",
        "On real data, a tied initialization with a smooth activation keeps the trained weights "
        "smooth across layers (a neural ODE); an i.i.d. initialization or ReLU does not.",
        "roughness of D_k = conv_k(T) - conv_k(0) across k, tied / i.i.d. <= 1 (median over "
        ">= 3 seeds of runs that trained and whose residual branch acts)",
        "experiment", "theory.finite_time:realdata_assumptions", control=_iid),
    *(Statement(
        f"remark1.{opt}_L", "S16", f"Remark 1 (Appendix A.1, p17) with Proposition 7 and "
        f"Theorem 6 (ii): {who}",
        f"Remark 1: clipping is not required where the weights do not blow up, e.g. with "
        f"momentum, 'closer to Adam'.  Trained by {who} without clipping (numerics.optimizers: "
        f"step eta in flow time), from a tied or smooth initialization, neighbouring layers stay "
        f"O(1/L) apart up to T: at a finite horizon (Proposition 7's shape) and along a run "
        f"that interpolates (Theorem 6 (ii)'s).",
        Acceptance(f"sup_(t<=T) max_k ||Z_(k+1)(t) - Z_k(t)|| = O(L^-1) under {who}"),
        "rate", "theory.remark1:assumptions", rate_window=ONE_OVER_L,
        rate_why=REMARK1_WHY, beyond_path="theory.remark1:requirements", control=_iid)
      for opt, who in (("momentum", "heavy-ball momentum"), ("adam", "Adam"))),
    *(Statement(
        f"remark1.{opt}_bounded", "S16", f"Remark 1 (Appendix A.1, p17) with Proposition 8 (i): "
        f"{who}",
        f"Remark 1 needs the weights not to blow up; under {who} without clipping the distance "
        f"from initialization R(t) = sup_(s<=t) max(||A - A(0)||_F, sup_k ||Z_k - Z_k(0)||, "
        f"||B - B(0)||_F) is bounded in t (its growth over [T/2, T] smaller than over "
        f"[T/4, T/2]), as Proposition 8 (i) gives for the flow under PL.",
        "median over seeds of max_L (R(T) - R(T/2)) / (R(T/2) - R(T/4)) < 1",
        "bound", "theory.remark1:assumptions",
        beyond_path="theory.remark1:bounded_requirements", control=_starved)
      for opt, who in (("momentum", "heavy-ball momentum"), ("adam", "Adam"))),
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
    """The outcome of one check: the ``checks`` entries of ``results.json`` (schema 3).

    ``scope`` is "paper" (the statement under its assumptions) or "beyond" (its conclusion where
    the assumptions ``failed_assumptions`` fail; ``failed_requirements`` are those of the
    experiment itself).  ``verdict`` is the class of :func:`theory.verdicts.classify` ("holds",
    "vacuous", "violated", "inconclusive", "n/a"; a beyond-check's "violated" reads "fails"),
    ``verdict_rule`` the rule that decided it and ``outcome`` the verdict in words.  ``applicable``
    is True exactly for a paper-scope check whose assumptions hold; ``holds`` is a statement of the
    paper's: False exactly when violated, True for holds and vacuous, None otherwise (n/a,
    inconclusive, beyond).  ``control`` is the negative control's outcome
    (:class:`theory.verdicts.Control`), present where the check held before its control was
    looked at.  ``extra`` carries auxiliary numbers (intervals, K_emp, per-depth values).
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
    scope: str = "paper"
    outcome: str = dataclasses.field(init=False, default="")  # the verdict in words, derived
    failed_requirements: list[str] = dataclasses.field(default_factory=list)
    control: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        from theory.verdicts import CLASSES, Verdict

        if self.scope not in ("paper", "beyond"):
            raise ValueError(f"{self.id}: scope {self.scope!r} is not paper or beyond")
        if self.verdict not in CLASSES:
            raise ValueError(f"{self.id}: verdict {self.verdict!r} is not a verdict class")
        if self.scope == "paper":
            if self.applicable == bool(self.failed_assumptions):
                raise ValueError(f"{self.id}: applicable={self.applicable} contradicts the "
                                 f"failed assumptions {self.failed_assumptions}")
            if (self.verdict == "n/a") == self.applicable or self.verdict == "fails":
                raise ValueError(f"{self.id}: verdict {self.verdict} contradicts applicable="
                                 f"{self.applicable}")
        else:
            if self.applicable or not self.failed_assumptions or self.verdict == "violated":
                raise ValueError(f"{self.id}: a beyond-check is not applicable, names the "
                                 f"assumptions it goes beyond and is never violated")
        self.outcome = Verdict(self.verdict, self.verdict_rule,  # type: ignore[arg-type]
                               self.scope).outcome  # type: ignore[arg-type]
        expected = (None if self.scope == "beyond" or self.verdict in ("n/a", "inconclusive")
                    else self.verdict != "violated")
        if self.holds is not expected:
            raise ValueError(f"{self.id}: holds={self.holds} contradicts verdict {self.verdict} "
                             f"in scope {self.scope}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: tuples become lists and, inside ``extra``, non-finite floats become
        the strings "inf", "-inf", "nan" (JSON has no such numbers)."""
        out = dataclasses.asdict(self)
        out["extra"] = jsonable(out["extra"])
        return out

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> CheckResult:
        """The check of a ``checks`` entry of results.json (:meth:`to_dict` read back; the
        report's own fields are ignored): ``__post_init__``'s checks apply and ``outcome`` is
        derived again.  A missing field raises KeyError (``extra`` is optional, as in
        ``reports.schema.CHECK``)."""
        return cls(**{f.name: record[f.name] for f in dataclasses.fields(cls)
                      if f.init and (f.name in record or f.name != "extra")})


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
