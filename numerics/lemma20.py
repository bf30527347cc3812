"""Lemma 20 (family S8): the Gaussian tail P(||W||_F > M_W sqrt(qm)), exact (mpmath) and by
Monte Carlo, against the bound exp(-(M_W^2 - 1) qm / 16).  Measurement and facts, bound to the
catalog entry (:func:`theory.catalog.bind`).
"""

from __future__ import annotations

from numerics import sampling
from numerics.evidence import Evidence
from numerics.measure import Measurement
from theory.catalog import Statement, bind
from theory.config import Config
from theory.verdicts import Facts


def measure_lemma20(config: Config) -> Measurement:
    """S8: the exact chi-square tail P(||W||_F > M_W sqrt(qm)) (mpmath) and a Monte Carlo
    frequency with its Clopper-Pearson interval (``config.trials`` draws)."""
    from theory import lemmas

    q, m, M_W = config.q, config.m, config.M_W
    samples = sampling.sample_frobenius_sq(q, m, config.trials, config.seed)
    ex = sampling.exceedance(samples, M_W**2 * q * m)
    values = {"exact_tail": float(lemmas.lemma20_exact_tail(q, m, M_W)), "mc_freq": ex.freq,
              "mc_lo": ex.lo, "mc_hi": ex.hi}
    return Measurement("lemma20.gaussian_norm", config, values, {"trials": config.trials})


def _lemma20(st: Statement, c: Config, m: Measurement) -> Evidence:
    from theory.lemmas import lemma20_bound

    v = m.values
    bound = float(lemma20_bound(c.q, c.m, c.M_W))
    return Evidence(Facts(v["exact_tail"], bound, probability=True, dtype="mpmath"),
                    notes=["measured: the exact chi-square tail (mpmath)",
                           f"Monte Carlo: {v['mc_freq']:.4g} in [{v['mc_lo']:.3g}, "
                           f"{v['mc_hi']:.3g}] (95% Clopper-Pearson, {m.inputs['trials']:g} "
                           "draws)"], extra=dict(v))


bind("lemma20.gaussian_norm", measure=measure_lemma20, facts=_lemma20)
