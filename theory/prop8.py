r"""Proposition 8 (Appendix A.2, PDF p17-20) re-derived item by item, and Figure 2's
configuration against Theorem 6's assumptions (Section 5.1 p8, Appendix E p40).

Proposition 8: under the (M, mu)-local PL condition with mu given by (22) (the constants of
:mod:`theory.long_time`, whose :data:`theory.long_time.condition22_expr` is reused here),

(i)   ||A(t)||_F <= M_A = ||A_init||_2 + M,  ||Z_k(t)|| <= M_Z,
      ||B(t)||_F <= M_B = ||B_init||_2 + M;
(ii)  ||Z_k(t) - Z_{k+1}(t)|| <= K~ / L;
(iii) max(||dA/dt||, ||dZ_k/dt||, ||dB/dt||) <= b(t), b bounded and integrable;
(iv)  A(t), B(t), Z_k(t) converge as t -> infinity, uniformly over L and k;
(v)   l(t) <= exp(-mu t) l(0).

Each item is recomposed in sympy from the inequalities of the proof (the page cited) and compared
with what the PDF prints (:func:`derivations`, objects of :class:`theory.derivations.Derivation`:
the verdict is computed, never typed in).  The proof's chain (p18-19) is: on [0, t*], PL gives
dl/dt <= -mu l, hence (24) l(t) <= e^{-mu t} l(0); the adjoints obey (p17)
||p_k|| <= e^K ||p_L|| = 2 e^K ||B^T (F - y)|| <= 2 e^K M_B ||F - y||, so with Cauchy-Schwarz (25)
(1/n) sum_i ||p_k,i|| <= 2 e^K M_B sqrt(l(t)) <= 2 e^K M_B e^{-mu t/2} sqrt(l(0)); the speeds of
Z_k, A and B are then at most 2 e^K (K M_B, M_B M_X, M_A M_X) sqrt(l(0)) e^{-mu t/2}, whose
integrals over
[0, infinity) are 4 e^K (.) sqrt(l(0)) / mu, at most M/2 exactly when (22) holds.

:func:`figure2_config` is the configuration of Figure 2 (n = 50, d = q = d' = 16, m = 64, L = 64,
GELU, Gaussian data, 80,000 steps at 5L x 1e-3 in the released code's scaling, A = B = I not
trained: p7-8 and p40) and :func:`figure2_failed` names the assumptions of Theorem 6 it fails.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import sympy as sp

from theory import long_time as lt
from theory import symbols as S

if TYPE_CHECKING:
    from theory.config import Config
    from theory.derivations import Derivation

mu, M, l0, MX, t, tau = sp.symbols("mu M l_0 M_X t tau", positive=True)
KK, MA, MB = lt.K, lt.MA, lt.MB
d = S.d
P, r = sp.symbols("P r", positive=True)  # ||p_L,i||, ||F(x_i) - y_i||

MU22 = lt.condition22_expr.subs({S.M: M, S.M_X: MX, lt.loss0: l0})
"""mu at equality in (22): max(M_B K, M_B M_X, M_A M_X) 8 e^K sqrt(l0) / M."""
UNDER22 = "mu at equality in (22), the (M, mu)-local PL condition"


def _largest(c: sp.Expr) -> dict[sp.Basic, sp.Expr]:
    """Substitution making ``c`` the largest of (M_B K, M_B M_X, M_A M_X) in (22): the worst case,
    where the requirement on mu binds."""
    return {lt.scale_expr.subs({S.M_X: MX}): c}


def speed_bounds() -> dict[str, sp.Expr]:
    """The proof's bounds (p19, (14)-(16) with (25)) on ||dZ_k/dt||, ||dA/dt||_F, ||dB/dt||_F at
    time t: 2 e^K (K M_B, M_B M_X, M_A M_X) sqrt(l(0)) e^{-mu t/2}."""
    decay = sp.exp(-mu * t / 2) * sp.sqrt(l0)
    return {"Z": 2 * KK * sp.exp(KK) * MB * decay, "A": 2 * sp.exp(KK) * MB * MX * decay,
            "B": 2 * sp.exp(KK) * MA * MX * decay}


@functools.cache
def derivations() -> tuple[Derivation, ...]:
    """Every item of Proposition 8 recomposed from its proof (module docstring)."""
    from theory.derivations import _make

    out = []
    # (i), p17 vs p18-20: (23) bounds the Frobenius distances ||A(t) - A(0)||_F <= M, so the
    # triangle inequality gives ||A(t)||_F <= ||A(0)||_F + M; the printed M_A uses ||A_init||_2.
    # Section 3's A_init = [I_d; 0] (q x d): its Frobenius norm from the matrix itself.
    A_init = sp.Matrix.vstack(sp.eye(3), sp.zeros(2, 3))  # d = 3, q = 5: exact norms below
    fro = sp.sqrt((A_init.T * A_init).trace())
    op = sp.sqrt(max((A_init.T * A_init).eigenvals()))
    assert fro == sp.sqrt(3) and op == 1  # ||[I_d; 0]||_F = sqrt(d), ||[I_d; 0]||_2 = 1
    printed_i = 1 + M  # ||A_init||_2 + M for A_init = [I_d; 0]
    derived_i = sp.sqrt(d) + M  # ||A(0)||_F + M: what (23) gives for ||A(t)||_F
    out.append(_make(
        "prop8.i_norms", "Proposition 8 (i), p17; proof p18-20 (23)", printed_i, derived_i,
        "The proof bounds ||A(t) - A(0)||_F <= M (23), which gives ||A(t)||_F <= ||A_init||_F + M "
        "= sqrt(d) + M, or ||A(t)||_2 <= ||A_init||_2 + M (what the proof then uses: ||h_L|| <= "
        "e^K M_A M_X, ||B^T r|| <= M_B ||r||); the printed ||A(t)||_F <= ||A_init||_2 + M = 1 + M "
        "is false already at t = 0 for d >= 2: ||A(0)||_F = sqrt(d) > 1 + M since M = c3 / "
        "sqrt(nq) <= 1/64 (|eta_r| <= K_sigma / sqrt 2).  Same for ||B(t)||_F with d'.  Fix: "
        "operator norms in (i), or M_A = ||A_init||_F + M (then ||h_L|| <= e^K M_A M_X still "
        "holds, with a larger M_A).",
        under="A_init = [I_d; 0] of Section 3 (||A_init||_2 = 1, ||A_init||_F = sqrt(d))"))
    # (i), p19: the three displacements, integrals of the speeds, at most M/2 under (22)
    speeds = speed_bounds()
    printed_disp = {"Z": 4 * KK * sp.exp(KK) * MB / mu * sp.sqrt(l0),
                    "A": 4 * sp.exp(KK) * MB * MX / mu * sp.sqrt(l0),
                    "B": 4 * sp.exp(KK) * MA * MX / mu * sp.sqrt(l0)}
    for name, c in (("Z", KK * MB), ("A", MB * MX), ("B", MA * MX)):
        integral = sp.integrate(speeds[name], (t, 0, sp.oo))
        out.append(_make(
            f"prop8.i_displacement_{name}", "Proposition 8 (i), proof p19", printed_disp[name],
            integral, f"||{name}(t*) - {name}(0)|| <= int_0^inf of the speed bound "
            f"2 e^K ({sp.sstr(c)}) sqrt(l0) e^(-mu t/2) = 4 e^K ({sp.sstr(c)}) sqrt(l0) / mu, as "
            "p19 prints.", under="(25) and the PL decay (24) on [0, t*]"))
        at22 = sp.simplify(integral.subs(mu, MU22).subs(_largest(c)))
        out.append(_make(
            f"prop8.i_half_{name}", "Proposition 8 (i) and (22), p19", M / 2, at22,
            f"At mu = (22) the displacement bound of {name} is M/2 exactly when {sp.sstr(c)} is "
            "the largest of (M_B K, M_B M_X, M_A M_X), and smaller otherwise: the contradiction "
            "with the definition of t* goes through.", under=UNDER22 + ", worst case"))
    # p19: the adjoint chain, printed ||p_k-1|| <= 2 e^K ||p_L|| <= 2 e^K M_B ||F - y||; p17
    # gives ||p_k|| <= e^K ||p_L|| and ||p_L|| = 2 ||B^T (F - y)|| <= 2 M_B ||F - y||.
    out.append(_make(
        "prop8.adjoint_chain", "Proposition 8 proof p19 (vs Proposition 7 proof p17)",
        2 * sp.exp(KK) * P, sp.exp(KK) * P,
        "p19 prints ||p_k-1,i|| <= 2 e^K ||p_L,i|| <= 2 e^K M_B ||F(x_i) - y_i||; p17 proves "
        "||p_k,i|| <= e^K ||p_L,i||, and ||p_L,i|| = 2 ||B^T (F - y_i)|| <= 2 M_B ||F - y_i||: the "
        "end points agree (2 e^K M_B ||F - y||, used in (25)), the middle term carries a spurious "
        "factor 2 (with it the second inequality would need ||p_L,i|| <= M_B ||F - y_i||, false "
        "in general).", under="||p_L,i|| = 2 ||B^T (F(x_i) - y_i)|| (p17)"))
    # (ii), p20: the two integrals behind K~ under (22)
    C1, C2, L = sp.symbols("C_1 C_2 L", positive=True)
    base = 2 * sp.exp(KK) * MB * sp.exp(-mu * tau / 2) * sp.sqrt(l0)
    forcing = sp.integrate(base * C1 / L, (tau, 0, sp.oo)).subs(mu, MU22).subs(_largest(MB * MX))
    exponent = sp.integrate(base * C2, (tau, 0, sp.oo)).subs(mu, MU22).subs(_largest(MB * MX))
    out.append(_make(
        "prop8.ii_forcing", "Proposition 8 (ii), p20", C1 * M / (2 * MX * L), sp.simplify(forcing),
        "int_0^inf 2 e^K M_B e^(-mu tau/2) sqrt(l0) C1 / L dtau = 4 e^K M_B sqrt(l0) C1 / (mu L) "
        "<= C1 M / (2 M_X L) by (22).", under=UNDER22 + ", worst case M_B M_X"))
    out.append(_make(
        "prop8.ii_exponent", "Proposition 8 (ii), p20", C2 * M / (2 * MX), sp.simplify(exponent),
        "The Gronwall exponent int_0^inf 2 e^K M_B e^(-mu tau/2) sqrt(l0) C2 dtau <= C2 M / "
        "(2 M_X) by (22); with the initial gap inside the parenthesis (prop8.gronwall_gap), K~ "
        "= L (||Z_k+1(0) - Z_k(0)|| + C1 M / (2 M_X L)) e^(C2 M / (2 M_X)), independent of L, t, "
        "k for a Lipschitz Z_init.", under=UNDER22 + ", worst case M_B M_X"))
    # (iii), p20: b(t) = the largest speed bound, integrable with integral <= M/2 under (22)
    Smax = sp.Symbol("S_max", positive=True)  # max(K M_B, M_B M_X, M_A M_X), as in (22)
    b = 2 * sp.exp(KK) * sp.sqrt(l0) * sp.exp(-mu * t / 2) * Smax
    integral_b = sp.integrate(b, (t, 0, sp.oo)).subs(mu, MU22.subs(_largest(Smax)))
    out.append(_make(
        "prop8.iii_integrable", "Proposition 8 (iii), p20", M / 2, sp.simplify(integral_b),
        "b(t) = 2 e^K max(K M_B, M_B M_X, M_A M_X) sqrt(l0) e^(-mu t/2) bounds the three speeds "
        "(p19), is bounded by its value at 0 and independent of L and k, and int_0^inf b = M/2 "
        "at equality in (22).", under=UNDER22))
    # (iv), p20: the tail of A's speed gives the uniform convergence, at rate e^{-mu t/2}
    tail = sp.integrate(speeds["A"].subs(t, tau), (tau, t, sp.oo))
    out.append(_make(
        "prop8.iv_tail", "Proposition 8 (iv), p20",
        4 * sp.exp(KK) * MB * MX / mu * sp.exp(-mu * t / 2) * sp.sqrt(l0), tail,
        "||A_inf - A(t)||_F <= int_t^inf 2 e^K M_B M_X sqrt(l0) e^(-mu tau/2) dtau, as p20 "
        "prints; <= (M/2) e^(-mu t/2) by (22), independent of L (Z_k and B alike).",
        under="(25) for all t (after (i))"))
    mu22 = MU22.subs(_largest(MB * MX))
    out.append(_make(
        "prop8.iv_tail_M", "Proposition 8 (iv) and (22), p20", M / 2 * sp.exp(-mu22 * t / 2),
        sp.simplify(tail.subs(mu, mu22)),
        "At mu = (22) the tail bound is (M/2) e^(-mu t/2) when M_B M_X is the largest term, "
        "smaller otherwise.", under=UNDER22 + ", worst case M_B M_X"))
    # (v), (24) p19: dl/dt <= -mu l; the extremal solution of the comparison ODE
    ell = sp.Function("l")
    sol = sp.dsolve(sp.Eq(ell(t).diff(t), -mu * ell(t)), ell(t), ics={ell(0): l0}).rhs
    out.append(_make(
        "prop8.v_decay", "Proposition 8 (v), (24) p19", sp.exp(-mu * t) * l0, sol,
        "dl/dt = -G <= -mu l on [0, t*] (PL), and Gronwall's comparison with l' = -mu l.",
        under="the (M, mu)-local PL condition on [0, t*] (23)"))
    return tuple(out)


# --------------------------------------------------------------------------- Figure 2


FIGURE2 = {"n": 50, "d": 16, "m": 64, "L": 64, "T": 400.0, "eta": 5e-3}
"""Figure 2's sizes (Appendix E, p40: n = 50, d = 16, m = 64, L = 64, 80,000 iterations at learning
rate 5L x 1e-3, i.e. eta = 5e-3 in flow time, T = 400), as in reports.sections.long_time's paper
scale :func:`_setting`; GELU (p7), Gaussian inputs (p8), q = d = d' and A, B not trained (p40)."""


def figure2_config() -> Config:
    """Figure 2's configuration (:data:`FIGURE2`) in the released code's scaling."""
    from theory.config import Config

    f = FIGURE2
    return Config(n=f["n"], d=f["d"], d_out=f["d"], q=f["d"], m=f["m"], L=f["L"], T=f["T"],
                  eta=f["eta"], activation="gelu", clip="none", data="gaussian",
                  scaling="official")


def figure2_failed() -> list[str]:
    """Theorem 6's assumptions (:func:`theory.long_time.assumptions`) that Figure 2 fails."""
    return lt.assumptions(figure2_config())


def figure2_finding() -> str:
    """The finding's text: each failed assumption with the numbers that fail it."""
    from theory import pl

    c = figure2_config()
    failed = figure2_failed()
    q32 = pl.thresholds("gelu", n=c.n, q=2 * c.d, r=None)  # the smallest q Proposition 5 allows
    return (
        f"Section 5.1 (p8) trains Figure 2's network 'with L = 64 and m large enough to satisfy "
        f"the assumptions of Theorem 6', but its configuration (p7-8, Appendix E p40: n = {c.n}, "
        f"d = q = d' = {c.d}, m = {c.m}, L = {c.L}, GELU, standard Gaussian x_i and y_i, A = B = "
        f"I not trained, the released code's scaling) fails {len(failed)} of them: "
        + "; ".join(failed) + ".  Numbers: GELU is unbounded (sigma(x) ~ x as x -> inf); "
        f"||x_i|| is chi-distributed around sqrt(d) = 4, not on the sphere; q = {c.q} < d + d' = "
        f"{2 * c.d} (Proposition 5, B.5 p32); even at q = d + d' = {2 * c.d}, m >= c1 n needs m >= "
        f"{float(q32['m_min']):.3g} (m = {c.m}) and L >= c2 sqrt(nq) needs L >= "
        f"{float(q32['L_min']):.3g} (L = {c.L}) (theory.pl.thresholds).  Figure 2 illustrates the "
        "conclusions beyond the assumptions (the testbed's thm6.* beyond-scope rows), not the "
        "theorem.")
