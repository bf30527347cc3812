r"""Re-derivations of the compositions the paper prints, each with a computed verdict.

Every :class:`Derivation` holds the expression as printed and the expression recomposed in sympy
from its ingredients (the inequalities of the proof, read off the PDF pages cited), and a verdict
decided by computation: "agrees" when ``simplify(printed - derived) == 0`` or the ratio simplifies
to 1 (after settling the Min/Max whose order sympy can prove), else "disagrees".  Nothing about a
verdict is typed in.  ``under`` states a side condition substituted before comparing, if any.

>>> by_id = {d.id: d for d in derivations()}
>>> by_id["thm6.label_threshold"].verdict, by_id["thm6.label_threshold"].ratio
('disagrees', 1/q)
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Literal

import sympy as sp

from theory import finite_time as ft
from theory import long_time as lt
from theory import pl, relu
from theory import symbols as S

Verdict = Literal["agrees", "disagrees"]


@dataclasses.dataclass(frozen=True)
class Derivation:
    """A printed composition, its re-derivation, the computed verdict and the ratio
    printed / derived (simplified)."""

    id: str
    paper_ref: str
    printed: sp.Expr
    derived: sp.Expr
    verdict: Verdict
    note: str
    ratio: sp.Expr
    under: str = ""

    def text(self) -> str:
        """One line for the report: both expressions, the verdict and the note."""
        under = f" (under {self.under})" if self.under else ""
        return (f"{self.paper_ref}: printed {sp.sstr(self.printed)}; derived "
                f"{sp.sstr(self.derived)}{under}: {self.verdict} (ratio {sp.sstr(self.ratio)}). "
                f"{self.note}")


def _settle(expr: sp.Expr) -> sp.Expr:
    """Replace each Min/Max by the argument sympy can prove extremal (difference of fractions
    whose expanded numerator and denominator have known signs)."""

    def ge(a: sp.Expr, b: sp.Expr) -> bool:
        num, den = sp.fraction(sp.together(a - b))
        return bool(sp.expand(num).is_nonnegative and sp.expand(den).is_positive)

    def pick(e: sp.Expr) -> sp.Expr:
        args = list(e.args)
        better = ge if isinstance(e, sp.Max) else (lambda a, b: ge(b, a))
        for a in args:
            if all(better(a, b) for b in args if b is not a):
                return a
        return e

    return expr.replace(lambda e: isinstance(e, sp.Min | sp.Max), pick)


def _compare(printed: sp.Expr, derived: sp.Expr) -> tuple[Verdict, sp.Expr]:
    printed, derived = _settle(printed), _settle(derived)
    ratio = sp.simplify(printed / derived)
    agrees = sp.simplify(printed - derived) == 0 or ratio == 1
    return ("agrees" if agrees else "disagrees"), ratio


def _make(id: str, paper_ref: str, printed: sp.Expr, derived: sp.Expr, note: str,
          under: str = "", side: dict[sp.Basic, sp.Expr] | None = None) -> Derivation:
    side = side or {}
    verdict, ratio = _compare(printed.subs(side), derived.subs(side))
    return Derivation(id, paper_ref, printed, derived, verdict, note, ratio, under)


# --------------------------------------------------------------------------- B.5 (Prop. 5)

K, eta, n, q, m, L = S.K_sigma, pl.eta, S.n, S.q, S.m, S.L
k, ell = pl.k, pl.ell
e = sp.exp(2 * sp.sqrt(2) * K)


def _prop5() -> list[Derivation]:
    out = []
    # (47)-(48): ||V_k||_F <= 1, ||W_k - W_bar||_F <= 1/2, ||W_bar||_F <= sqrt(2qm),
    # ||W_k||_F <= 2 sqrt(2qm), ||A||_2 <= 2, ||x||_F = sqrt(nq); (49)-(50):
    growth = K / (L * sp.sqrt(m) * sp.sqrt(q)) * 1 * 2 * sp.sqrt(2 * q * m)
    h_bound = 2 * sp.sqrt(q * n) * sp.limit((1 + growth) ** L, L, sp.oo)
    out.append(_make("prop5.h_bound", "B.5 (49)-(50), p33", pl.h_bound_expr, h_bound,
                     "(1 + K ||V|| ||W|| / (L sqrt(mq)))^L ||A||_2 ||x||_F with ||V|| <= 1, "
                     "||W|| <= 2 sqrt(2qm), ||A||_2 <= 2."))
    # (51): ||p_L||_F = (2/n) ||B^T (B h_L - y)||_F, s_min(B) >= 1/2, ||B||_2 <= 3/2,
    # ||B h_L - y||_F = sqrt(n l), and e^{-+2 sqrt2 K} from the backward recurrence.
    p_L = 2 / n * sp.sqrt(n * ell)
    out.append(_make("prop5.p_lower", "B.5 (51), p33", pl.p_lower_expr,
                     (1 - 2 * sp.sqrt(2) * K / L) ** L * sp.Rational(1, 2) * p_L,
                     "s_min(B) >= 1/2 (Lemma 18) and ||p_k|| >= (1 - 2 sqrt2 K/L) ||p_{k+1}|| give "
                     "(1 - 2 sqrt2 K/L)^L sqrt(l/n), which is below the printed e^{-2 sqrt2 K} "
                     "sqrt(l/n) for every L (log(1 - u) < -u): the printed lower bound does not "
                     "follow as written; e^{-2 sqrt2 K L/(L - 2 sqrt2 K)} sqrt(l/n) does "
                     "(L > 2 sqrt2 K), a relative change of about 4 K^2 / L, negligible at "
                     "L >= c2 sqrt(nq) but it propagates to c4."))
    growth_p = sp.limit((1 + growth) ** L, L, sp.oo)  # (1 + 2 sqrt2 K / L)^L <= e^{2 sqrt2 K}
    out.append(_make("prop5.p_upper", "B.5 after (51), p33", pl.p_upper_expr,
                     growth_p * sp.Rational(3, 2) * p_L, "||B||_2 <= 3/2 and (1 + 2 sqrt2 K/L)^L "
                     "<= e^{2 sqrt2 K}."))
    # p34: ||sigma(W_{k+1} h_k/sqrt q) - sigma(W_bar A_bar x/sqrt q)||_F <= (K/sqrt q) (T1+T2+T3)
    h_k = 2 * e * sp.sqrt(q * n)  # (50)
    drift = k * (1 / (L * sp.sqrt(m))) * 1 * K * 2 * sp.sqrt(2 * q * m) * h_k / sp.sqrt(q)
    out.append(_make("prop5.h_drift", "B.5 p34", 4 * sp.sqrt(2) * K * k / L * e * sp.sqrt(q * n),
                     drift, "||h_k - A x||_F <= sum_j ||V_j|| K ||W_j|| ||h_{j-1}|| / (L sqrt(mq))"
                     " with (48) and (50)."))
    radius = eta / (32 * sp.sqrt(2) * K * sp.sqrt(n * q))  # the proof's radius (first term)
    terms = K / sp.sqrt(q) * (sp.Rational(1, 2) * h_k + sp.sqrt(2 * q * m) * drift
                              + sp.sqrt(2 * q * m) * radius * sp.sqrt(n * q))
    printed_terms = (pl.C1_expr * sp.sqrt(n) + pl.C2_expr * sp.sqrt(n * q * m) * k / (16 * L)
                     + sp.sqrt(m) * eta / 32)
    out.append(_make("prop5.C1_C2", "B.5 p34 (C1 = K e^{2 sqrt2 K}, C2 = 128 C1 K)",
                     printed_terms, sp.expand(terms),
                     "The three terms of the feature-perturbation bound from (47), (48), (50) and "
                     "||A - A_bar||_F <= eta / (32 sqrt2 K sqrt(nq))."))
    # condition C1 sqrt(n) <= sqrt(m) eta / 32 and m >= n (for (52)) -> c1
    m_solved = sp.solve(sp.Eq(pl.C1_expr * sp.sqrt(n), sp.sqrt(m) * eta / 32), m)[0]
    out.append(_make("prop5.c1", "B.5 p34-35", pl.c1_expr, sp.Max(m_solved / n, 1),
                     "m >= c1 n from C1 sqrt(n) <= sqrt(m) eta / 32 and m >= n."))
    # smin >= sqrt(m) (3/16 eta - C2 sqrt(nq) k / (16 L)) >= sqrt(m) eta / 8
    k_max = sp.solve(sp.Eq(pl.C2_expr * sp.sqrt(n * q) * k / (16 * L), eta / 16), k)[0]
    smin = sp.sqrt(m) * eta / 4 - printed_terms.subs(
        {pl.C1_expr * sp.sqrt(n): sp.sqrt(m) * eta / 32}).subs(k, k_max)
    out.append(_make("prop5.smin_perturbed", "B.5 p34", pl.smin_perturbed_expr,
                     sp.simplify(smin.subs(pl.C1_expr, sp.sqrt(m) * eta / (32 * sp.sqrt(n)))),
                     "Lemma 21's sqrt(m) eta / 4 minus the perturbation at C1 sqrt(n) = "
                     "sqrt(m) eta / 32 and k = L eta / (C2 sqrt(nq))."))
    out.append(_make("prop5.k_max", "B.5 p34", pl.k_max_expr, k_max,
                     "The layers with k <= L eta / (C2 sqrt(nq)) keep smin >= sqrt(m) eta / 8."))
    # L >= c2 sqrt(nq) makes floor(L eta / (C2 sqrt(nq))) >= 1 (floor(x) >= x/2 for x >= 1)
    L_solved = sp.solve(sp.Eq(L * eta / (pl.C2_expr * sp.sqrt(n * q)), 1), L)[0]
    out.append(_make("prop5.c2", "B.5 p34-35", pl.c2_expr, L_solved / sp.sqrt(n * q),
                     "L >= c2 sqrt(nq) from L eta / (C2 sqrt(nq)) >= 1."))
    # ||dl/dV_{k+1}||_F >= (1/(L sqrt(mn))) e^{-2 sqrt2 K} sqrt(l) sqrt(m) eta / 8 = C3 eta sqrt(l)
    # / (L sqrt n), then G >= L (L eta / (2 C2 sqrt(nq))) C3^2 eta^2 l / (L^2 n) = mu l.
    grad_V = 1 / (L * sp.sqrt(m * n)) * sp.exp(-2 * sp.sqrt(2) * K) * sp.sqrt(ell) \
        * sp.sqrt(m) * eta / 8
    C3 = sp.simplify(grad_V * L * sp.sqrt(n) / (eta * sp.sqrt(ell)))
    out.append(_make("prop5.C3", "B.5 p34", pl.C3_expr, C3,
                     "C3 from the lower bound of ||dl/dV_{k+1}||_F with (51) and smin >= sqrt(m) "
                     "eta / 8."))
    G = L * (L * eta / (2 * pl.C2_expr * sp.sqrt(n * q))) * grad_V**2
    out.append(_make("prop5.c4", "B.5 p34-35", pl.c4_expr,
                     sp.simplify(G / ell * n * sp.sqrt(n * q)),
                     "mu n sqrt(nq) from G >= L floor(L eta/(C2 sqrt(nq))) ||dl/dV||^2 and "
                     "floor(x) >= x/2."))
    # the radius of the PL ball: statement c3 / sqrt(nq) vs proof min(eta/(32 sqrt2 K sqrt(nq)),
    # 1/2) (p32)
    out.append(_make("prop5.pl_radius", "Proposition 5 vs B.5 p32", pl.M_expr,
                     pl.pl_radius_proof_expr,
                     "The statement's radius c3/sqrt(nq) = min(eta/(32 sqrt2 K), 1/2)/sqrt(nq) is "
                     "never larger than the proof's min(eta/(32 sqrt2 K sqrt(nq)), 1/2): the "
                     "statement is implied, but the expressions differ."))
    t, u = sp.symbols("t u", nonnegative=True)
    side = {eta: K / (sp.sqrt(2) * (1 + u)), n: (1 + t) ** 2 / q}
    out.append(_make("prop5.pl_radius_eta_bound", "Proposition 5 vs B.5 p32", pl.M_expr,
                     pl.pl_radius_proof_expr,
                     "By Stein's lemma and Cauchy-Schwarz |eta_r| <= K_sigma / sqrt(r) <= "
                     "K_sigma / sqrt 2 for r >= 2, so eta/(32 sqrt2 K) <= 1/64: the 1/2 in c3 "
                     "never binds and both radii equal eta / (32 sqrt2 K sqrt(nq)).",
                     under="|eta_r| <= K_sigma/sqrt(2) (r >= 2) and nq >= 1", side=side))
    # delta's first term: Lemma 20 with M_W = sqrt 2 (||W_bar||_F <= sqrt(2qm), (48))
    out.append(_make("prop5.delta_first_term", "B.5 p33, Lemma 20", pl.delta_terms_expr[0],
                     sp.exp(-(S.M_W**2 - 1) * q * m / 16).subs(S.M_W, sp.sqrt(2)),
                     "P(||W_bar||_F > sqrt(2qm)) <= exp(-qm/16)."))
    return out


# --------------------------------------------------------------------------- Prop. 3 / 7


def _prop3() -> list[Derivation]:
    d, d_out = S.d, S.d_out
    a, b, c = sp.symbols("a b c", nonnegative=True)  # q = d + a = d' + b, m = 1 + c
    out = [_make("prop3.M0_probability", "Proposition 3 (7), Lemma 20",
                 sp.exp(-3 * q * m / 16), sp.exp(-(S.M_W**2 - 1) * q * m / 16).subs(S.M_W, 2),
                 "Lemma 20 with M_W = 2: P(||W_bar||_F > 2 sqrt(qm)) <= exp(-3qm/16).")]
    # M0 = max(||A||_F = sqrt d, ||W_bar||_F <= 2 sqrt(qm), ||B||_F = sqrt d'), q >= max(d, d'),
    # m >= 1: compare squares, 4qm - d and 4qm - d' with q = d + a, resp. q = d' + b, m = 1 + c.
    M0 = sp.Max(sp.sqrt(d), 2 * sp.sqrt(q * m), sp.sqrt(d_out))
    side = {}
    if (_settle(sp.Max(4 * (d + a) * (1 + c), d)) == 4 * (d + a) * (1 + c)
            and _settle(sp.Max(4 * (d_out + b) * (1 + c), d_out)) == 4 * (d_out + b) * (1 + c)):
        side = {M0: 2 * sp.sqrt(q * m)}  # both proven: the Gaussian block is the max
    out.append(_make("prop3.M0", "B.3 p32", 2 * sp.sqrt(q * m), M0,
                     "sqrt d, sqrt d' <= 2 sqrt(qm) since 4qm - d = 3d + 4a + 4cd + 4ac >= 0 "
                     "(q = d + a, m = 1 + c), same for d'.",
                     under="q >= max(d, d'), m >= 1", side=side))
    # proof of Proposition 7 (p16-17): the derivative difference is bounded by
    # (1/n) sum [K ||p_k - p_{k-1}|| + K' ||p_{k-1}|| (||h_k - h_{k-1}|| + dZ)]
    dZ = sp.Symbol("dZ", positive=True)
    P = 2 * sp.exp(ft.K) * S.M * (S.M * sp.exp(ft.K) * S.M * S.M_X + S.M_Y)  # ||p_k|| bound
    bound = (ft.K * ft.K / L * P
             + ft.K_prime * P * (ft.K * sp.exp(ft.K) * S.M * S.M_X / L + dZ))
    alpha = sp.diff(bound, dZ)
    beta = sp.simplify(sp.expand((bound - alpha * dZ) * L))
    out.append(_make("prop7.alpha", "Proposition 7, p16-17", ft.alpha_expr, alpha,
                     "alpha = K' sup ||p_k||, sup ||p_k|| <= 2 e^K ||B|| (||B|| ||h_L|| + ||y||)."))
    out.append(_make("prop7.beta", "Proposition 7, p16-17", ft.beta_expr, beta,
                     "beta = sup ||p_k|| (K^2 + K' K e^K M M_X)."))
    return out


# --------------------------------------------------------------------------- Prop. 8 / Thm 6


def _thm6() -> list[Derivation]:
    mu, M_, l0, MX = sp.symbols("mu M l_0 M_X", positive=True)
    KK, MA, MB = ft.K, lt.MA, lt.MB
    # p19: each of ||Z - Z(0)||, ||A - A(0)||, ||B - B(0)|| <= 4 e^K (.) sqrt(l0) / mu <= M / 2
    integral = sp.integrate(sp.exp(-mu * S.t / 2), (S.t, 0, sp.oo))
    needs = [2 * c * sp.exp(KK) * sp.sqrt(l0) * integral for c in (KK * MB, MB * MX, MA * MX)]
    mus = [sp.solve(sp.Eq(need, M_ / 2), mu)[0] for need in needs]
    common = 8 * sp.exp(KK) * sp.sqrt(l0) / M_  # a positive factor of every requirement
    derived = common * sp.Max(*(sp.simplify(value / common) for value in mus))
    out = [_make("prop8.condition22", "Proposition 8 (22), p18-19",
                 lt.condition22_expr.subs({S.M: M_, S.M_X: MX, lt.loss0: l0}), derived,
                 "The three requirements 4 e^K (K M_B, M_B M_X, M_A M_X) sqrt(l0) / mu <= M/2 of "
                 "the proof.")]
    # B.6: (22) with mu = c4 / (n sqrt(nq)), M = c3 / sqrt(nq), solved for l(0)
    scale = sp.Symbol("S", positive=True)  # max(M_B K, M_B M_X, M_A M_X)
    c3, c4 = sp.symbols("c3 c4", positive=True)
    condition = sp.Eq(c4 / (n * sp.sqrt(n * q)),
                      scale * 8 * sp.exp(KK) / (c3 / sp.sqrt(n * q)) * sp.sqrt(l0))
    derived = sp.solve(condition, l0)[0]
    printed = c3**2 * c4**2 / (64 * n**4 * q**3 * scale**2 * sp.exp(2 * KK))
    out.append(_make("thm6.label_threshold", "Theorem 6, B.6 p35", printed, derived,
                     "Substituting mu and M into (22) gives n^4 q^2; the printed n^4 q^3 is "
                     "smaller by a factor q >= 1, hence still sufficient."))
    return out + [_prop8_gronwall(), _remark3()]


def _prop8_gronwall() -> Derivation:
    """Proposition 8 (ii), p20: u(t) = ||Z_{k+1}(t) - Z_k(t)|| obeys
    u(t) <= a + b + int_0^t beta u with a = u(0), b = C1 M / (2 M_X L) and
    int_0^inf beta = C2 M / (2 M_X) (both by (22)); Gronwall's inequality gives
    u <= (a + b) exp(int beta), the extremal solution of the integral equation.  The PDF's p20
    prints (||Z_{k+1}(0) - Z_k(0)|| + C1 M / (2 M_X L)) exp(C2 M / (2 M_X)), the initial gap
    inside the parenthesis: the two agree (an earlier reading of the text extraction, which drops
    the large parentheses, took the initial gap outside; it was withdrawn after checking p20)."""
    a, b, c, t = sp.symbols("a b c t", positive=True)  # c: the value of int_0^inf beta
    u = sp.Function("u")
    # beta = c on [0, 1] (0 after) attains the bound: u' = c u, u(0) = a + b
    ode = sp.dsolve(sp.Eq(u(t).diff(t), c * u(t)), u(t), ics={u(0): a + b})
    derived = ode.rhs.subs(t, 1)
    printed = (a + b) * sp.exp(c)  # p20, last display: the parenthesis holds both terms
    return _make("prop8.gronwall_gap", "Proposition 8 (ii), p20", printed, derived,
                 "Gronwall's inequality multiplies the initial gap ||Z_{k+1}(0) - Z_k(0)|| and "
                 "C1 M / (2 M_X L) by exp(C2 M / (2 M_X)), as p20 prints.")


def _remark3() -> Derivation:
    """Remark 3 (p36): "C depends only on X, sigma, n and q; it does not depend on m".

    With K >= K1 = sup_{||z|| <= M_Z} ||d1 f|| = K_sigma M_Z^2 / (4 sqrt(mq)) (attained: V, W
    rank one, sigma' = K_sigma at 0) and M_Z = ||W_bar||_F + M ~ sqrt(qm) + M, and max(M_B K,
    ...) >= M_B K1, the threshold is C <= c3^2 c4^2 / (64 n^4 q^2 M_B^2 K1^2 e^{2 K1}).  Its
    m-derivative of log is compared with the remark's 0."""
    Mb, Mball = sp.symbols("M_B M", positive=True)
    c3, c4 = sp.symbols("c3 c4", positive=True)
    K1 = ft.K1_expr.subs(S.M, sp.sqrt(q * m) + Mball)
    upper = c3**2 * c4**2 / (64 * n**4 * q**2 * Mb**2 * K1**2 * sp.exp(2 * K1))
    derived = sp.simplify(sp.diff(sp.expand_log(sp.log(upper), force=True), m))
    return _make("remark3.width_free_C", "Remark 3, p36", sp.Integer(0), derived,
                 "The label threshold C of Theorem 6 decreases with the width: K1 grows like "
                 "K_sigma sqrt(qm) / 4 because sup ||Z_init|| = ||W_bar||_F ~ sqrt(qm), and C "
                 "carries e^{-2K}; C -> 0 as m -> infinity, so m >= c1 n and small labels pull "
                 "against each other (not a width-free condition).")


# --------------------------------------------------------------------------- Appendix D


def _appD() -> list[Derivation]:
    w, x, C = relu.w, relu.x_in, relu.C
    w_k, R = sp.symbols("w_k R", positive=True)  # R = prod_{j != k} (1 + w_{2j}/(2L))
    loss = (x * (1 + w_k / (2 * L)) * R - C * x) ** 2
    flow = -2 * L * sp.diff(loss, w_k)  # the depth-scaled flow (4) of the depth-2L network
    derived = sp.powsimp(flow.subs({w_k: w, R: (1 + w / (2 * L)) ** (L - 1)}), force=True)
    out = [_make("appD.gradient", "Appendix D, p39", relu.dw_dt_printed_expr, derived,
                 "Chain rule with dw_k/dt = -2L dl/dw_k gives 2 x^2 (the plain flow -dl/dw_{2k}, "
                 "which the paper writes, gives x^2 / L); the paper prints 2x.  The fixed point "
                 "does not depend on the factor.")]
    wstar = sp.Symbol("w_star", positive=True)
    roots = sp.solve(sp.Eq((1 + wstar / (2 * L)) ** L, C), wstar)
    out.append(_make("appD.w_star", "Appendix D (56), p39", relu.w_star_expr, roots[0],
                     "The positive root of (1 + w/(2L))^L = C."))
    return out


@functools.cache
def derivations() -> tuple[Derivation, ...]:
    """Every re-derivation (computed once, then cached)."""
    from theory import prop8  # Proposition 8 item by item (imports this module: lazily)

    return tuple(_prop5() + _prop3() + _thm6() + list(prop8.derivations()) + _appD())


_REMARKS = (
    ("prop5.eta_sign", "Proposition 5's constants (p35) are odd in eta_r(sigma): c2 = C2 / eta_r "
     "and c4 = C3^2 eta_r^3 / (2 C2), and c3 = min(eta_r / (32 sqrt2 K), 1/2), while B.5 (p32) "
     "only asks eta_r != 0; only |eta_r| makes sense (c2, c3 and c4 would be negative for tanh, "
     "eta_3 < 0); the testbed uses |eta_r|."),
    ("prop2.lipschitz_enough", "Proposition 11 (p23) asks g to be C^1 only to make it locally "
     "Lipschitz: the proof (p23-24, 'since g is C^1, it is therefore bounded and Lipschitz "
     "continuous'), and the explicit C of theory.euler, need sigma Lipschitz with sigma(0) = 0, "
     "so Proposition 2 holds for ReLU too."),
    ("prop7.norms", "Proposition 7 takes z in R^p (p16, (19): E in R^d x R^p, a Euclidean norm) "
     "while B.3 (p32) says 'Z = (V, W) are considered in Proposition 7 as a vector. In particular, "
     "||Z|| = ||V||_F + ||W||_F', which is not the Euclidean norm of the vector; the bounds of "
     "theory.finite_time dominate both versions of K2 and K', and M_pi is taken in the sum norm "
     "(2 c sqrt(qm) for coordinate clipping)."),
    ("prop7.pi_lipschitz", "The clipping pi of (5) is 'a generic notation for a bounded Lipschitz "
     "continuous operator' (p4), but the first line of (20) in the proof of Proposition 7 (p16) "
     "drops pi, i.e. takes it 1-Lipschitz: true for coordinate clipping, but a radial projection "
     "on a ball of ||V||_F + ||W||_F is only 2-Lipschitz (sharp), which doubles alpha and beta (a "
     "Lipschitz constant L_pi multiplies both)."),
    ("remark1.momentum_bounded", "Remark 1 (p17) says that with momentum 'the gradient updates "
     "are bounded by construction', a setup 'closer to Adam'.  True of Adam: each coordinate of "
     "its update is at most (1 - b1) / sqrt((1 - b2)(1 - b1^2 / b2)) = 7.27 (numerics.optimizers, "
     "tested).  Not of heavy-ball momentum, whose velocity is a geometric average of past "
     "gradients, bounded only where they are.  Measured (S16, beyond scope): heavy ball behaves "
     "like gradient descent (1/L gap, bounded weights); Adam's bounded updates do not give "
     "Theorem 4's 1/L at finite depth (slope -0.655 [-0.751, -0.558], L = 32..512) and its "
     "weights keep moving."),
    ("sec43.pl_conditional", "Section 4.3 (p7) states Theorem 6's conclusions for the general "
     "model (11) 'if the network satisfies a (M, mu)-local PL condition with mu sufficiently "
     "large', and Appendix B (p31) 'with mu given by (22)'; (22) (p18) is printed as an equality "
     "but the proof of Proposition 8 needs mu >= that value (as 'sufficiently large' says).  No "
     "PL condition is shown for any model (11) other than (3) (Proposition 5): the testbed's "
     "sec43.long_* rows are beyond scope, with PL measured along the path."),
    ("thm6.index_convention", "Theorem 6 (p7) indexes the weights as Z_(floor((L-1)s)+1) and the "
     "hidden states as h_(floor(Ls)): the two conventions differ by one layer, O(1/L); the "
     "testbed aligns layer k with s = k/L (numerics.thm6_limits)."),
    ("appE.optimizer", "Appendix E (p40) trains the real-data networks with 'stochastic gradient "
     "descent' (lr 4e-2, cosine schedule) and names no momentum; the testbed's Section 5.2 runs "
     "(numerics.realdata) use momentum 0.9 and weight decay 5e-4, the released code's, not the "
     "text's."),
)

KINDS: dict[str, str] = {
    # an error in the paper: a printed step or statement that does not follow / is false
    "prop5.p_lower": "error",          # p33: (1 - 2 sqrt2 K/L)^L < e^{-2 sqrt2 K}
    "remark3.width_free_C": "error",   # p36 vs p17-18: C depends on m through M_Z and K1
    # an imprecision or a typo: the statement stays true, or the fix changes nothing material
    "prop5.pl_radius": "imprecision",  # p6, p35 vs p32: statement's radius implied by the proof's
    "thm6.label_threshold": "imprecision",  # p35: q^3 printed, q^2 derived; still sufficient
    "appD.gradient": "imprecision",    # p39: 2x printed, 2x^2 (or x^2 / L); fixed point unchanged
    "prop5.eta_sign": "imprecision",   # p32, p35: constants odd in eta_r
    "prop7.norms": "imprecision",      # p16 vs p32: which norm of Z
    "prop7.pi_lipschitz": "imprecision",  # p4 vs p16: pi taken 1-Lipschitz
    "prop8.i_norms": "error",          # p17 vs p18-20: ||A(t)||_F <= ||A_init||_2 + M false at t=0
    "prop8.adjoint_chain": "imprecision",  # p19 vs p17: spurious 2 in the middle term
    "remark1.momentum_bounded": "imprecision",  # p17: heavy ball's updates are not bounded
    "sec43.pl_conditional": "imprecision",  # p7, p31 vs p18: (22) an inequality, PL assumed
    "thm6.index_convention": "imprecision",  # p7: floor((L-1)s)+1 vs floor(Ls)
    "appE.optimizer": "imprecision",   # p40: plain SGD in the text, momentum in the code
    # an agreement confirmed (under a side condition the paper states or implies)
    "prop5.pl_radius_eta_bound": "agreement",  # p32, p35: both radii equal under Stein's bound
    "prop3.M0": "agreement",           # p32: M0 <= 2 sqrt(qm) given q >= max(d, d')
    "prop2.lipschitz_enough": "agreement",  # p23-24: the proof needs only Lipschitz g
}
"""The kind of each finding of :func:`findings` (vocabulary: ``reports.findings.KINDS``)."""


def kind(finding_id: str, derivation: Derivation | None = None) -> str:
    """The kind of a finding: :data:`KINDS`, else "agreement" for a derivation that agrees (under
    a side condition), else "error" (a disagreement nobody has classified yet is shown first)."""
    if finding_id in KINDS:
        return KINDS[finding_id]
    return "agreement" if derivation is not None and derivation.verdict == "agrees" else "error"


def findings() -> list[dict[str, str]]:
    """The report's findings ``{"id", "text", "kind"}``: every disagreement, every agreement that
    needs a side condition, and the remarks that are not compositions."""
    out = [{"id": d.id, "text": d.text(), "kind": kind(d.id, d)} for d in derivations()
           if d.verdict == "disagrees" or d.under]
    from theory import prop8

    figure2 = [{"id": "figure2.assumptions", "text": prop8.figure2_finding(), "kind": "error"}]
    return (out + [{"id": key, "text": text, "kind": kind(key)} for key, text in _REMARKS]
            + figure2)


def __getattr__(name: str) -> tuple[Derivation, ...]:
    if name == "DERIVATIONS":
        return derivations()
    raise AttributeError(name)
