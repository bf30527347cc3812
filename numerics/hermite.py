"""The Hermite coefficients eta_r of sigma (family S10): theory.hermite's quadrature against an
independent reference, with the Bessel gaps.  Measurement and facts, bound to the catalog entry
(:func:`theory.catalog.bind`).
"""

from __future__ import annotations

from typing import Any

from numerics.evidence import Evidence
from numerics.measure import Measurement
from theory import tolerance
from theory.catalog import Statement, bind
from theory.config import Config
from theory.verdicts import Facts


def measure_hermite(config: Config) -> Measurement:
    """S10: eta_0..eta_11 of :func:`theory.hermite.eta` (composite Gauss-Legendre) against an
    independent reference: the closed form where one exists
    (:func:`theory.hermite.eta_closed_form`), else mpmath's tanh-sinh quadrature of
    sigma(z) He_r(z) phi(z) on (-inf, 0] and [0, inf) (another rule on another split); and the
    Bessel gaps E[sigma^2] - sum_{r<=R} eta_r^2 (R = 7, 15, 31), reported only (they hold for
    any orthonormal projection by construction)."""
    import mpmath
    import sympy as sp

    from theory import hermite
    from theory.finite_time import activation

    values: dict[str, float] = {}
    with mpmath.workdps(40):
        for R in (7, 15, 31):
            partial, second = hermite.parseval_partial(config.activation, R)
            values[f"bessel_gap_{R}"] = float((second - partial) / second) if second else 0.0
        values["second_moment"] = float(second)
    profile = activation(config.activation)
    closed = [hermite.eta_closed_form(profile.name, r) for r in range(12)]
    reference = "closed forms" if all(c is not None for c in closed) else "mpmath tanh-sinh"
    errors, etas = [], []
    with mpmath.workdps(30):
        f = sp.lambdify(sp.Symbol("x"), profile.expr, modules="mpmath")
        for r, exact in enumerate(closed):
            value = hermite.eta(config.activation, r)
            if reference == "closed forms":
                ref = mpmath.mpf(sp.N(exact, 35))
            else:
                def integrand(z: Any, r: int = r) -> Any:
                    he0, he1 = mpmath.mpf(1), z
                    for j in range(1, r):
                        he0, he1 = he1, z * he1 - j * he0
                    return f(z) * (he0 if r == 0 else he1) * mpmath.exp(-z * z / 2)

                ref = mpmath.quad(integrand, [-mpmath.inf, 0, mpmath.inf]) / mpmath.sqrt(
                    2 * mpmath.pi * mpmath.factorial(r))
            errors.append(float(abs(value - ref) / max(1, abs(ref))))
            etas.append(float(value))
    values["max_rel_error"] = max(errors)
    return Measurement("hermite.coefficients", config, values, {},
                       {"eta": etas, "errors": errors}, [reference])


def _hermite(st: Statement, c: Config, m: Measurement) -> Evidence:
    v = m.values
    return Evidence(Facts(v["max_rel_error"], tolerance.RTOL["mpmath"] * 1e5),
                    extra={"bessel_gaps": [v[f"bessel_gap_{R}"] for R in (7, 15, 31)]},
                    notes=["measured: max_{r <= 11} |eta_r - eta_r(ref)| / max(1, |eta_r(ref)|)"
                           f" against an independent reference ({m.notes[0]})",
                           f"Parseval: 1 - sum_(r<=31) eta_r^2 / E[sigma^2] = "
                           f"{v['bessel_gap_31']:.3g}"])


bind("hermite.coefficients", measure=measure_hermite, facts=_hermite)
