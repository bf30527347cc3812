r"""Every constant of Proposition 5 (and what it needs) for one configuration: ``resnet-ode
constants``.

:func:`constants` returns one JSON-ready dict (docs/results-json.md, "Other JSON outputs"):
numbers are floats, or None where undefined with the reason under ``notes`` (never NaN or
infinity); ``assumptions_failed`` names the assumptions of Proposition 5 that the inputs fail
("m >= c1*n", "L >= c2*sqrt(n*q)", "sigma bounded", ...).  Formulas: :mod:`theory.pl`; eta_r:
:mod:`theory.hermite` (|eta_r| enters).
"""

from __future__ import annotations

import math
from typing import Any

import mpmath

from theory import pl
from theory.errors import ConfigError
from theory.finite_time import activation as get_activation
from theory.finite_time import sigma_mp

MEANINGS = {
    "activation": "sigma",
    "K_sigma": "sup|sigma'| (Lipschitz constant K)",
    "M_sigma": "sup|sigma|",
    "sup_d2": "sup|sigma''|",
    "r": "Hermite index (smallest r >= 2 with eta_r != 0 unless given)",
    "eta_r": "r-th normalized Hermite coefficient (its absolute value enters)",
    "C1": "K e^{2 sqrt2 K} (proof of Prop. 5)",
    "C2": "128 C1 K",
    "C3": "e^{-2 sqrt2 K} / 8",
    "c1": "max(2^10 K^2 e^{4 sqrt2 K} / eta^2, 1): m >= c1 n",
    "c2": "128 K^2 e^{2 sqrt2 K} / eta: L >= c2 sqrt(nq)",
    "c3": "min(eta / (32 sqrt2 K), 1/2): M = c3 / sqrt(nq)",
    "c4": "eta^3 / (2^14 K^2 e^{6 sqrt2 K}): mu = c4 / (n sqrt(nq))",
    "M": "radius of the local PL ball, c3 / sqrt(nq)",
    "mu": "PL constant c4 / (n sqrt(nq)) (= loss decay rate of Thm 6)",
    "pl_radius_proof": "radius the proof uses, min(eta/(32 sqrt2 K sqrt(nq)), 1/2)",
    "m_min": "smallest width, c1 n",
    "L_min": "smallest depth, c2 sqrt(nq)",
    "v_x2": "sub-Gaussian variance proxy of sqrt(d/q) x (sphere data)",
    "delta": "failure probability, sum of delta_terms",
    "delta_terms": "exp(-qm/16), n exp(-3m eta^2/(64 M_sigma^2 n)), 2n^2 exp(-d (3/(4n))^{2/r}"
                   " / (2 v_x^2))",
    "log10_c1": "log10 c1",
    "log10_c4": "log10 c4",
    "log10_mu": "log10 mu",
    "assumptions_failed": "assumptions of Prop. 5 these inputs fail",
}


def _size(name: str, value: Any, *, optional: bool = False) -> None:
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(name, value, "must be a positive integer")


def _number(value: Any, key: str, notes: dict[str, str], reason: str) -> float | None:
    """A finite float, or None with ``reason`` under ``notes[key]``."""
    if value is None or not mpmath.isfinite(value):
        notes.setdefault(key, reason)
        return None
    return float(value)


def _sigma_number(value: Any, key: str, notes: dict[str, str], what: str) -> float | None:
    reason = (f"sympy could not settle {what}" if mpmath.isnan(value)
              else f"{what} is infinite")
    return _number(value, key, notes, reason)


def constants(*, activation: str, n: int, q: int, d: int, d_out: int, m: int | None = None,
              L: int | None = None, r: int | None = None) -> dict[str, Any]:
    """Proposition 5's constants for sigma = ``activation`` and the sizes (module docstring).

    ``m`` is needed for delta and the width assumption, ``L`` for the depth assumption; ``r``
    defaults to the smallest r >= 2 with eta_r != 0.  Raises :class:`ConfigError` for an unknown
    activation, a non-positive size, r < 2, or q < d + d' (Proposition 5 needs q >= d + d').
    """
    for name, value in (("n", n), ("q", q), ("d", d), ("d_out", d_out)):
        _size(name, value)
    for name, value in (("m", m), ("L", L), ("r", r)):
        _size(name, value, optional=True)
    if q < d + d_out:
        raise ConfigError("q", q, f"Proposition 5 needs q >= d + d' = {d + d_out}")
    sig = get_activation(activation)
    notes: dict[str, str] = {}
    sigma = sigma_mp(sig)
    try:
        r_used, eta_r = pl.hermite(sig, r)
        hermite_note = None
    except ConfigError as exc:  # one rule for every expression: accepted, the failure named
        if exc.field != "activation":  # a bad r is bad input
            raise
        r_used, eta_r, hermite_note = r, None, exc.rule
    out: dict[str, Any] = {
        "activation": sig.name, "sigma": str(sig.expr), "n": n, "q": q, "d": d, "d_out": d_out,
        "m": m, "L": L,
        "K_sigma": _sigma_number(sigma["K_sigma"], "K_sigma", notes, "sup|sigma'|"),
        "M_sigma": _sigma_number(sigma["M_sigma"], "M_sigma", notes, "sup|sigma|"),
        "sup_d2": _number(sigma["sup_d2"], "sup_d2", notes, "sigma is not C^2, or sympy could "
                          "not settle sup|sigma''|"),
        "r": r_used,
        "eta_r": _number(eta_r, "eta_r", notes, hermite_note or (
            "no r >= 2 with eta_r != 0 up to r = 30 (sigma is a polynomial)" if r_used is None
            else f"eta_{r_used} = 0")),
        "v_x2": pl.V_X2_SPHERE,
    }
    if r_used is None:
        notes["r"] = notes["eta_r"]
    undefined = ("needs a Lipschitz sigma and some r >= 2 with eta_r != 0"
                 if out["eta_r"] is None or out["K_sigma"] is None else None)
    values = {"K_sigma": sigma["K_sigma"], "eta_r": eta_r, "M_sigma": sigma["M_sigma"], "n": n,
              "q": q, "m": m or 1, "d": d, "r": r_used or 2, "v_x2": pl.V_X2_SPHERE}
    exprs = {"C1": pl.C1_expr, "C2": pl.C2_expr, "C3": pl.C3_expr, "c1": pl.c1_expr,
             "c2": pl.c2_expr, "c3": pl.c3_expr, "c4": pl.c4_expr, "M": pl.M_expr,
             "mu": pl.mu_expr, "pl_radius_proof": pl.pl_radius_proof_expr,
             "m_min": pl.m_min_expr, "L_min": pl.L_min_expr}
    if undefined:
        notes[", ".join([*exprs, "log10_c1", "log10_c4", "log10_mu"])] = undefined
    for key, expr in exprs.items():
        value = None if undefined else pl.evaluate(expr, **values)
        out[key] = None if value is None else _number(value, key, notes, "not finite")
    for key in ("c1", "c4", "mu"):
        out[f"log10_{key}"] = None if out[key] is None else math.log10(out[key])
    out["delta"] = out["delta_terms"] = None
    if m is None:
        notes["delta"] = "needs the width m (--m)"
    elif undefined:
        notes["delta"] = undefined
    elif not mpmath.isfinite(sigma["M_sigma"]):
        notes["delta"] = "Lemma 21 needs a bounded sigma (M_sigma is infinite)"
    else:
        terms = [pl.evaluate(t, **values) for t in pl.delta_terms_expr]
        out["delta_terms"] = [float(t) for t in terms]
        out["delta"] = float(mpmath.fsum(terms))
        if out["delta"] >= 1:
            notes["delta"] = "delta >= 1: the probability statement is void for these sizes"
    out["assumptions_failed"] = pl.failed(sig, n=n, q=q, d=d, d_out=d_out, m=m, L=L, r=r)
    for key, flag in (("m", pl.WIDTH), ("L", pl.DEPTH)):
        if out[key] is None and not undefined:
            notes[f"assumption {flag}"] = f"not judged (no --{key})"
    notes["assumptions not judged"] = (f"{pl.SPHERE}, i.i.d. samples and the tied initialization "
                                       "of Section 3 are assumed")
    notes["v_x2"] = ("1 for x uniform on the sphere of radius sqrt(q): sqrt(d/q) x is uniform on "
                     "the sphere of radius sqrt(d), whose projections satisfy P(|<., y>| >= t) <= "
                     "2 exp(-t^2/2) (spherical cap bound)")
    out["notes"] = notes
    return out


def format_table(values: dict[str, Any]) -> str:
    """An aligned table: name, value, meaning; then the failed assumptions and the notes."""
    rows = []
    for key, value in values.items():
        if key in ("notes", "assumptions_failed", "n", "q", "d", "d_out", "m", "L"):
            continue
        rows.append((key, _format(value), MEANINGS.get(key, "")))
    sizes = ", ".join(f"{k}={values[k]}" for k in ("n", "q", "d", "d_out", "m", "L")
                      if values.get(k) is not None)
    width = [max(len(row[i]) for row in rows) for i in range(2)]
    lines = [f"Proposition 5 constants ({sizes})"]
    lines += [f"{a:<{width[0]}}  {b:>{width[1]}}  {c}".rstrip() for a, b, c in rows]
    failed = values.get("assumptions_failed") or []
    lines.append("assumptions failed: " + ("; ".join(failed) if failed else "none"))
    lines += [f"note: {key}: {text}" for key, text in values.get("notes", {}).items()]
    return "\n".join(lines)


def _format(value: Any) -> str:
    if value is None:
        return "null (see notes)"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):
        return "[" + ", ".join(_format(v) for v in value) + "]"
    return str(value)
