"""Lemma 21 (family S9): smin(sigma(W X)) >= sqrt(m) |eta_r| / 4 with probability >= 1 - delta:
the Monte Carlo failure frequency against delta.  Measurement and facts, bound to the catalog
entry (:func:`theory.catalog.bind`).
"""

from __future__ import annotations

import numpy as np

from numerics import sampling
from numerics.evidence import Evidence
from numerics.measure import Measurement
from theory.catalog import Statement, bind
from theory.config import Config
from theory.verdicts import Facts


def measure_lemma21(config: Config) -> Measurement:
    """S9: Monte Carlo of smin(sigma(W X)) (W m x d Gaussian, X d x n unit columns): the frequency
    of falling below sqrt(m) |eta_r| / 4, with its Clopper-Pearson interval."""
    from theory import hermite, lemmas

    r = hermite.index(config.activation, config.r)
    trials = min(config.trials, 500)
    samples = sampling.sample_smin_features(config.activation, config.m, config.d, config.n,
                                            trials, config.seed)
    values: dict[str, float] = {"smin_median": float(np.median(samples))}
    if r is not None:
        threshold = float(lemmas.lemma21_threshold(config.activation, r, config.m))
        below = sampling.exceedance(-samples, -threshold)  # smin < threshold
        values.update(threshold=threshold, fail_freq=below.freq, fail_lo=below.lo,
                      fail_hi=below.hi, min_ratio=float(samples.min() / threshold))
    return Measurement("lemma21.smin", config, values, {"trials": trials, "r": r or 0},
                       {"smin": [float(v) for v in np.sort(samples)]})


def _lemma21(st: Statement, c: Config, m: Measurement) -> Evidence:
    from theory.lemmas import lemma21_delta

    v = m.values
    r = int(m.inputs["r"])
    delta = float(lemma21_delta(c.activation, r, c.m, c.n, c.d))
    # the Clopper-Pearson lower end: the failure frequency is significantly above delta only
    # if even its lower confidence bound is
    return Evidence(Facts(v["fail_lo"], delta, probability=True),
                    notes=[f"measured: the lower 95% Clopper-Pearson bound of the failure "
                           f"frequency {v['fail_freq']:.4g} (in [{v['fail_lo']:.3g}, "
                           f"{v['fail_hi']:.3g}], {m.inputs['trials']:g} draws); min smin / "
                           f"threshold = {v['min_ratio']:.4g}"], extra=dict(v))


bind("lemma21.smin", measure=measure_lemma21, facts=_lemma21)
