"""Meta-tests of the property suite's reference computations (properties/references.py)."""

from __future__ import annotations

import math
import warnings

import numpy as np

from properties.references import sigma_numpy


def test_sigma_reference_survives_overflowing_intermediates() -> None:
    """softplus(x) - log 2 = log(e^x + 1) - log 2: e^x overflows float64 past x = 709 (the thorough
    profile reached x = 756 with the official scaling); the reference must stay exact there."""
    u = np.array([-800.0, 0.0, 1.0, 756.5, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = sigma_numpy("softplus")(u)
    expected = [math.log1p(math.exp(v)) - math.log(2) if v < 700 else v - math.log(2) for v in u]
    np.testing.assert_allclose(got, expected, rtol=1e-15, atol=1e-15)
    assert np.isnan(sigma_numpy("softplus")(np.array([np.nan])))[0]
