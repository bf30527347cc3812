"""``resnet-ode constants``: the JSON keys, values against an independent high-precision
computation (eta_r by its own quadrature), the table, and one-line errors with exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys

import mpmath
import pytest

from reports.cli import main
from theory.constants import constants
from theory.errors import ConfigError

ARGS = ["constants", "--activation", "tanh", "--n", "100", "--q", "32", "--d", "16",
        "--d-out", "16", "--m", "1000", "--L", "64"]
KEYS = {"activation", "K_sigma", "M_sigma", "r", "eta_r", "c1", "c2", "c3", "c4", "M", "mu",
        "delta", "m_min", "L_min", "assumptions_failed", "notes"}


def _strict_json(text):
    def reject(token):
        raise ValueError(f"non-finite JSON number {token}")

    return json.loads(text, parse_constant=reject)


def _reference(n=100, q=32, d=16, m=1000):
    """Proposition 5 for tanh (K = sup sech^2 = 1, M_sigma = 1, first r >= 2 with eta_r != 0 is
    3 since tanh is odd), from the formulas of p35 in mpmath, eta_3 = E[tanh(Z) He_3(Z)] / sqrt 6
    by mpmath.quad with He_3(z) = z^3 - 3z."""
    with mpmath.workdps(40):
        K, M_sigma, r = mpmath.mpf(1), mpmath.mpf(1), 3
        eta = abs(mpmath.quad(lambda z: mpmath.tanh(z) * (z**3 - 3 * z) * mpmath.exp(-z * z / 2),
                              [-mpmath.inf, 0, mpmath.inf])
                  / mpmath.sqrt(2 * mpmath.pi) / mpmath.sqrt(6))
        s2 = mpmath.sqrt(2)
        c1 = max(2**10 * K**2 * mpmath.exp(4 * s2 * K) / eta**2, 1)
        c2 = 128 * K**2 * mpmath.exp(2 * s2 * K) / eta
        c3 = min(eta / (32 * s2 * K), mpmath.mpf(1) / 2)
        c4 = eta**3 / (2**14 * K**2 * mpmath.exp(6 * s2 * K))
        v2 = 1
        delta = (mpmath.exp(-q * m / mpmath.mpf(16))
                 + n * mpmath.exp(-3 * m * eta**2 / (64 * M_sigma**2 * n))
                 + 2 * n**2 * mpmath.exp(-(d / (2 * mpmath.mpf(v2)))
                                          * (mpmath.mpf(3) / (4 * n)) ** (mpmath.mpf(2) / r)))
        return {"eta_abs": eta, "c1": c1, "c2": c2, "c3": c3, "c4": c4,
                "M": c3 / mpmath.sqrt(n * q), "mu": c4 / (n * mpmath.sqrt(n * q)),
                "delta": delta, "m_min": c1 * n, "L_min": c2 * mpmath.sqrt(n * q)}


def test_json_against_independent_computation(capsys):
    assert main([*ARGS, "--json"]) == 0
    out = _strict_json(capsys.readouterr().out)
    assert KEYS <= set(out)
    assert (out["activation"], out["K_sigma"], out["M_sigma"], out["r"]) == ("tanh", 1.0, 1.0, 3)
    ref = _reference()
    assert abs(out["eta_r"]) == pytest.approx(float(ref["eta_abs"]), rel=1e-9)
    for key in ("c1", "c2", "c3", "c4", "M", "mu", "delta", "m_min", "L_min"):
        assert out[key] == pytest.approx(float(ref[key]), rel=1e-9), key
    assert "m >= c1*n" in out["assumptions_failed"]
    assert "L >= c2*sqrt(n*q)" in out["assumptions_failed"]


def test_nulls_carry_a_reason(capsys):
    """GELU is unbounded: M_sigma and delta are null with a note, the JSON stays strict."""
    assert main(["constants", "--activation", "gelu", "--n", "10", "--q", "8", "--d", "4",
                 "--d-out", "4", "--m", "50", "--json"]) == 0
    out = _strict_json(capsys.readouterr().out)
    assert out["M_sigma"] is None and "M_sigma" in out["notes"]
    assert out["delta"] is None and "delta" in out["notes"]
    assert "sigma bounded" in out["assumptions_failed"]
    assert out["c1"] > 1


def test_without_m_delta_is_null_and_width_not_judged():
    out = constants(activation="tanh", n=10, q=8, d=4, d_out=4)
    assert out["delta"] is None and "--m" in out["notes"]["delta"]
    assert "m >= c1*n" not in out["assumptions_failed"]


def test_polynomial_activation():
    out = constants(activation="identity", n=10, q=8, d=4, d_out=4, m=20)
    assert out["r"] is None and out["c1"] is None
    assert "some r >= 2 with eta_r != 0" in out["assumptions_failed"]
    json.dumps(out, allow_nan=False)


def test_table(capsys):
    assert main(ARGS) == 0
    text = capsys.readouterr().out
    rows = {line.split()[0]: line for line in text.splitlines()[1:] if line.strip()}
    assert "c1" in rows and "m_min" in rows and "assumptions" in rows
    assert "m >= c1*n" in rows["assumptions"]
    value_ends = {line.index(line.split()[1]) + len(line.split()[1])
                  for key, line in rows.items() if key in ("c1", "c2", "c4", "M", "mu")}
    assert len(value_ends) == 1  # right-aligned values


@pytest.mark.parametrize("kwargs", [
    {"activation": "nope", "n": 10, "q": 8, "d": 4, "d_out": 4},
    {"activation": "tanh", "n": 10, "q": 7, "d": 4, "d_out": 4},
    {"activation": "tanh", "n": 0, "q": 8, "d": 4, "d_out": 4},
    {"activation": "tanh", "n": 10, "q": 8, "d": 4, "d_out": 4, "r": 1},
])
def test_bad_input_raises_config_error(kwargs):
    with pytest.raises(ConfigError):
        constants(**kwargs)


@pytest.mark.parametrize("argv", [
    ["--activation", "nope", "--n", "10", "--q", "8", "--d", "4", "--d-out", "4"],
    ["--activation", "tanh", "--n", "10", "--q", "7", "--d", "4", "--d-out", "4"],
    ["--activation", "tanh", "--n", "0", "--q", "8", "--d", "4", "--d-out", "4"],
    ["--activation", "tanh", "--n", "abc", "--q", "8", "--d", "4", "--d-out", "4"],
], ids=["unknown-activation", "q<d+d'", "n=0", "n=abc"])
def test_bad_input_exit_status_2_one_line(argv):
    proc = subprocess.run([sys.executable, "-m", "reports", "constants", *argv],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert proc.stdout == ""
