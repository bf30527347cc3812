"""Theorem 6 and Proposition 8 (theory.long_time): decay bound, condition (22), the label threshold
and K~, against formulas recomputed by hand in mpmath."""

from __future__ import annotations

import math

import mpmath
import pytest

from theory import long_time as lt
from theory import pl
from theory.config import Config
from theory.errors import ConfigError

SQ2 = math.sqrt(2)


def _c3_c4_tanh():
    _, eta = pl.hermite("tanh")
    eta = abs(float(eta))
    return eta / (32 * SQ2), eta**3 / (2**14 * math.exp(6 * SQ2))


def test_decay_bound():
    n, q, t, l0 = 20, 8, 3.0e12, 0.7
    _, c4 = _c3_c4_tanh()
    expected = math.exp(-c4 * t / (n * math.sqrt(n * q))) * l0
    assert lt.decay_bound(t, l0, n, q, "tanh") == pytest.approx(expected, rel=1e-9)
    assert lt.decay_bound(0.0, l0, n, q, "tanh") == l0
    with pytest.raises(ConfigError):
        lt.decay_bound(-1.0, l0, n, q, "tanh")
    with pytest.raises(ConfigError):
        lt.decay_bound(1.0, l0, n, q, "identity")  # no eta_r != 0


def test_condition22_boundary():
    """(22) solved by hand for l0: mu = S 8 e^K sqrt(l0) / M at l0* = (mu M / (8 e^K S))^2."""
    K, M, M_A, M_B, M_X, mu = 2.0, 0.5, 1.5, 1.25, 3.0, 0.1
    scale = max(M_B * K, M_B * M_X, M_A * M_X)
    l_star = (mu * M / (8 * math.exp(K) * scale)) ** 2
    kwargs = {"K": K, "M": M, "M_A": M_A, "M_B": M_B, "M_X": M_X}
    assert lt.condition22(mu, l0=l_star * (1 - 1e-9), **kwargs)
    assert not lt.condition22(mu, l0=l_star * (1 + 1e-6), **kwargs)
    assert lt.condition22(mu, K=1e6, M=M, M_A=M_A, M_B=M_B, M_X=M_X, l0=0.0)  # no overflow


def test_prop8_constants_and_label_threshold():
    """M_A, M_B, M_Z, K1, K2 and log10 C = log10(c3^2 c4^2 / (64 n^4 q^2 S^2 e^{2K})) by hand."""
    n, q, m = 10, 16, 50
    c = lt.prop8_constants("tanh", n=n, q=q, m=m)
    c3, c4 = _c3_c4_tanh()
    M = c3 / math.sqrt(n * q)
    assert c["M"] == pytest.approx(M, rel=1e-12)
    assert c["mu"] == pytest.approx(c4 / (n * math.sqrt(n * q)), rel=1e-12)
    assert (c["M_A"], c["M_B"]) == pytest.approx((1 + M, 1 + M), rel=1e-14)
    M_Z, M_X = math.sqrt(2 * q * m) + M, math.sqrt(q)
    assert c["M_Z"] == pytest.approx(M_Z, rel=1e-14)
    K1 = M_Z**2 / (4 * math.sqrt(m * q))
    K2 = M_Z * math.exp(K1) * (1 + M) * M_X / math.sqrt(m * q)
    assert (c["K1"], c["K2"], c["K"]) == pytest.approx((K1, K2, max(K1, K2)), rel=1e-12)
    with mpmath.workdps(30):
        K = mpmath.mpf(c["K"])
        scale = max((1 + M) * K, (1 + M) * M_X)
        log10_C = mpmath.log10(mpmath.mpf(c3) ** 2 * c4**2 / (64 * n**4 * q**2 * scale**2)) \
            - 2 * K / mpmath.ln(10)
    assert c["log10_label_threshold"] == pytest.approx(float(log10_C), rel=1e-12)
    assert lt.label_threshold_log10("tanh", n=n, q=q, m=m) == c["log10_label_threshold"]
    Kp = c["Kprime"]
    with mpmath.workdps(30):
        log10_Kt = mpmath.log10(K * (K + Kp * mpmath.exp(K) * (1 + M) * M_X) * M / (2 * M_X)) \
            + Kp * M / (2 * M_X) / mpmath.ln(10)
    assert c["log10_Ktilde"] == pytest.approx(float(log10_Kt), rel=1e-12)


@pytest.mark.parametrize(("fields", "extra"), [
    ({"clip": "coord"}, [lt.UNCLIPPED, lt.LABELS]),
    ({}, [lt.LABELS]),
    ({"y_scale": 1e-300}, [lt.LABELS]),  # C is e^{-2K}-small: even these labels are too large
])
def test_assumptions(fields, extra):
    base = {"activation": "tanh", "n": 2, "d": 1, "d_out": 1, "q": 2, "m": 10**9, "L": 10**6,
            "data": "sphere"}
    config = Config(**{**base, **fields})
    assert lt.assumptions(config) == pl.assumptions(config) + extra


def test_assumptions_without_pl_constants():
    config = Config(activation="identity")
    assert lt.assumptions(config) == pl.assumptions(config)
