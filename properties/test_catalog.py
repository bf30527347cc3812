"""Every statement's assumption predicate names exactly the paper's failed assumptions.

An independent table, written from the paper (not from :mod:`theory`), says which hypotheses
each statement makes about sigma, the flow, the initialization and the model; and, from the
activation assumptions (docs/statements.md, Conventions), which of them each named activation
fails (ReLU: C^2 and bounded; GELU and softplus: bounded; the identity: bounded and
non-polynomial).  On drawn configurations (no
training), every failed hypothesis of the table must be named by the statement's predicate (a
phrase of its name), and where the table models every hypothesis of a statement, nothing else may
be named (so a statement never applies by mistake, nor fails to apply).  Dropping "C^2" from a
predicate, or flagging tanh, fails.
"""

from __future__ import annotations

from hypothesis import given, settings

from properties.assertions import fail_case
from properties.strategies import configs, examples
from theory.catalog import catalog
from theory.config import Config

FAMILIES = tuple(sorted({s.family for s in catalog.values()} - {"S13"}))

# the paper's hypothesis -> a phrase the predicate's name for it contains
PHRASES = {
    "C2": "C^2", "lipschitz": "Lipschitz", "zero_at_zero": "sigma(0) = 0", "bounded": "bounded",
    "nonpolynomial": ("non-polynomial", "eta_r"), "clipped": "clipped flow",
    "unclipped": "unclipped flow", "lipschitz_init": "tied or smooth", "model3": "model (3)",
    "tied": "tied initialization", "sphere": "sqrt(q)", "q_split": "q >= d + d'",
    "relu": "relu", "M_W": "sqrt(2)", "m_ge_r": "m >= r", "n_ge_r": "n >= r",
}
# docs/statements.md (Conventions): the activation assumptions each named activation fails
ACTIVATION_FAILS = {"relu": {"C2", "bounded"}, "gelu": {"bounded"}, "softplus": {"bounded"},
                    "identity": {"bounded", "nonpolynomial"}}
SIGMA_ALL = {"C2", "lipschitz", "zero_at_zero", "bounded", "nonpolynomial"}
PROP7 = {"C2", "lipschitz", "zero_at_zero"}
# statement -> (sigma hypotheses, other hypotheses, whether this table models all of them)
HYPOTHESES: dict[str, tuple[set[str], set[str], bool]] = {
    "prop1.wellposed": ({"C2"}, {"clipped"}, True),
    "prop2.euler": ({"lipschitz", "zero_at_zero"}, {"lipschitz_init", "model3"}, True),
    "prop2.rate_L": ({"lipschitz", "zero_at_zero"}, {"lipschitz_init", "model3"}, True),
    "prop2.width_m": ({"lipschitz", "zero_at_zero"}, {"lipschitz_init", "model3"}, True),
    "prop3.bounded": ({"C2"}, {"clipped"}, True),
    "prop3.successive": (PROP7, {"clipped", "lipschitz_init", "model3"}, True),
    "prop3.rate_L": (PROP7, {"clipped", "lipschitz_init", "model3"}, True),
    "prop3.growth_T": (PROP7, {"clipped", "lipschitz_init", "model3"}, True),
    "thm4.limit": (PROP7, {"clipped", "lipschitz_init"}, True),
    "prop5.pl": (SIGMA_ALL, {"tied", "sphere", "model3", "q_split"}, False),  # + m, L thresholds
    "thm6.decay": (SIGMA_ALL, {"tied", "sphere", "model3", "q_split", "unclipped"}, False),
    "thm6.interpolation": (SIGMA_ALL, {"tied", "sphere", "model3", "q_split", "unclipped"},
                           False),
    **dict.fromkeys(("thm6.pl_path", "thm6.smooth_L", "thm6.smooth_T", "thm6.limit_L",
                     "thm6.i_AB", "thm6.iii_hidden", "thm6.joint"),
                    (set(), {"tied", "sphere", "model3", "unclipped"}, False)),  # + measured
    "lemma18.linalg": (set(), {"m_ge_r", "n_ge_r"}, True),  # Lemma 18 (ii), (iii), r = q
    "lemma20.gaussian_norm": (set(), {"M_W"}, True),
    "lemma21.smin": ({"bounded", "nonpolynomial"}, set(), True),
    "hermite.coefficients": (set(), set(), True),
    "appD.relu": (set(), {"relu"}, True),
    "sec43.general": (PROP7, {"clipped", "lipschitz_init"}, True),
    "sec43.smooth_init": (PROP7, {"clipped", "lipschitz_init"}, True),
    **dict.fromkeys(("sec43.long_decay", "sec43.long_smooth_L"),
                    (PROP7, {"unclipped", "lipschitz_init"}, False)),  # + the PL condition
    **dict.fromkeys(("prop8.i", "prop8.iii", "prop8.iv", "prop8.v"),
                    (SIGMA_ALL, {"tied", "sphere", "model3", "q_split", "unclipped"}, False)),
    **dict.fromkeys(("cor12.recurrence", "cor13.recurrence", "prop15.double_limit"),
                    ({"C2", "zero_at_zero", "lipschitz"}, set(), False)),  # + uniform, depths
    # Remark 1: outside every theorem (the optimizer is not the gradient flow, always named)
    **dict.fromkeys(("remark1.momentum_L", "remark1.adam_L", "remark1.momentum_bounded",
                     "remark1.adam_bounded"), (set(), set(), False)),
}


def expected_failures(statement_id: str, config: Config) -> set[str]:
    sigma, other, _ = HYPOTHESES[statement_id]
    failed = sigma & ACTIVATION_FAILS.get(config.activation, set())
    checks = {"clipped": config.clip == "none", "unclipped": config.clip != "none",
              "lipschitz_init": config.init == "iid", "model3": config.scaling != "paper",
              "tied": config.init != "tied", "sphere": config.data != "sphere",
              "q_split": config.q < config.d + config.d_out, "relu": config.activation != "relu",
              "M_W": config.M_W**2 < 2, "m_ge_r": config.m < config.q,
              "n_ge_r": config.n < config.q}
    return failed | {h for h in other if checks[h]}


def _named(hypothesis: str, names: list[str]) -> bool:
    phrases = PHRASES[hypothesis]
    phrases = (phrases,) if isinstance(phrases, str) else phrases
    return any(p in name for name in names for p in phrases)


def test_table_covers_the_catalog() -> None:
    assert set(HYPOTHESES) == set(catalog) - {"table1.realdata"}


@settings(max_examples=examples(40))
@given(config=configs(scalings=("paper", "official")))
def test_predicates_name_exactly_the_failed_hypotheses(config: Config) -> None:
    for statement_id, (_, _, complete) in HYPOTHESES.items():
        names = catalog[statement_id].assumptions(config)
        expected = expected_failures(statement_id, config)
        missing = sorted(h for h in expected if not _named(h, names))
        extra = [] if not complete else [n for n in names
                                         if not any(_named(h, [n]) for h in expected)]
        if missing or extra:
            fail_case(statement_id, config, measured=None, bound=None, exact=False,
                      what="the predicate names the failed hypotheses of the paper",
                      details=f"named {names}; missing {missing}; unexpected {extra}")
