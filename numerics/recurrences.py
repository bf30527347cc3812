r"""Corollaries 12 and 13 and Proposition 15 (Appendix A, p25 and p30) measured on discrete
recurrences driven by families that converge at known rates (theory: :mod:`theory.appendix_a`).

The recurrence is model (3)'s: u_0 = a^L, u_{k+1} = u_k + g(u_k, theta_{k+1}) / L with
g(h, (V, W)) = V sigma(W h / sqrt q) / sqrt m, the residual :class:`numerics.model.MLP`; the ODE
dU/ds = g(U, Theta(s)) is solved by :func:`numerics.node.node_hidden` (DOP853).  Per seed, the
smooth paths and the perturbation directions are standard Gaussian matrices drawn from the seed:

    Theta(s, t) = (V0 + sin(2 pi s + t) V1 / 2, W0 + sin(2 pi s + t) W1 / 2),   a = A x,

with A = [I_d; 0], x the rows of the sample ``config.data``.  The families:

- Corollary 12 (t in I = [0, 2], :data:`TIMES_12`): theta^L_k(t) = Theta(k/L, t)
  + L^-a cos(pi k/L + t) (P_V, P_W), a^L(t) = a + L^-a cos(t) E, a = 1/2
  (:data:`theory.appendix_a.EXPONENT`); measured: sup_{t, k} ||U(k/L, t) - u^L_k(t)||.
- Corollary 13 (L, t -> infinity): theta^L_k(t) = Theta(k/L, 0) + e^-t (P'_V, P'_W)
  + L^-a cos(pi k/L) (P_V, P_W), a^L(t) = a + e^-t E' + L^-a E; measured: the tail of the double
  limit, sup over t in {log L, 2 log L, log L + 4} (:func:`tail_times`) and k.
- Proposition 15 (the whole network (12)): A^L(t) = A + e^-t A' + A''/L, Z^L_k(t) = Theta(k/L, 0)
  + e^-t P' + P''(k/L)/L, B^L(t) = B + e^-t B' + B''/L (B = [0, I_d']); measured: the same tail
  of sup_x ||F^L(x; t) - F_inf(x)|| over the sample and fresh inputs, F_inf(x) = B H(1), and of
  the hidden states sup_{s, x} ||h^L_k(t) - H(k/L)|| (reported beside it).

The negative control (``config.init == "iid"``) replaces the vanishing perturbation of the layers
by an i.i.d. sequence of size O(1) (mean (P_V, P_W), standard Gaussian fluctuations, redrawn at
every layer and time): Theta^L does not converge, and the recurrence averages the sequence to the
ODE driven by Theta + (P_V, P_W) (and g's non-linearity in W), not Theta: an O(1) distance.

Each statement's measurement and facts are bound to its catalog entry at the end (family S14;
:func:`theory.catalog.bind`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch

from numerics.data import make_data
from numerics.evidence import Evidence, fit_rate, rate_evidence
from numerics.measure import Measurement
from numerics.model import MLP
from numerics.node import node_hidden
from theory.appendix_a import EXPONENT
from theory.catalog import Statement, bind
from theory.config import Config

Tensor = torch.Tensor
TIMES_12 = (0.0, 1.0, 2.0)
"""The times of I = [0, 2] at which Corollary 12's sup over t is taken."""
FRESH = 32
"""Fresh inputs (beside the sample) for Proposition 15's sup over x."""
RTOL = 1e-11


def tail_times(L: int) -> tuple[float, ...]:
    """Times in the tail t >= log L of the double limit at which the sup over t is taken."""
    return (math.log(L), 2 * math.log(L), math.log(L) + 4)


class _Draw:
    """The per-seed matrices of the families (module docstring), float64."""

    def __init__(self, config: Config, seed: int) -> None:
        gen = torch.Generator().manual_seed(seed)
        q, m, n = config.q, config.m, config.n

        def g(*shape: int) -> Tensor:
            return torch.randn(*shape, generator=gen, dtype=torch.float64)

        self.V0, self.V1, self.PV, self.QV = g(q, m), g(q, m), g(q, m), g(q, m)
        self.W0, self.W1, self.PW, self.QW = g(m, q), g(m, q), g(m, q), g(m, q)
        self.E, self.E1 = g(n, q), g(n, q)
        self.A1, self.A2 = g(q, config.d), g(q, config.d)
        self.B1, self.B2 = g(config.d_out, q), g(config.d_out, q)
        self.gen = gen
        self.A = torch.eye(q, config.d, dtype=torch.float64)
        self.B = torch.cat([torch.zeros(config.d_out, q - config.d_out, dtype=torch.float64),
                            torch.eye(config.d_out, dtype=torch.float64)], dim=1)

    def theta(self, s: float, t: float) -> tuple[Tensor, Tensor]:
        w = math.sin(2 * math.pi * s + t) / 2
        return self.V0 + w * self.V1, self.W0 + w * self.W1

    def noise(self) -> tuple[Tensor, Tensor]:
        """One i.i.d. O(1) perturbation of a layer (the control): mean (P_V, P_W), standard
        Gaussian fluctuations."""
        return (self.PV + torch.randn(self.V0.shape, generator=self.gen, dtype=torch.float64),
                self.PW + torch.randn(self.W0.shape, generator=self.gen, dtype=torch.float64))


def recurrence(u0: Tensor, Vs: Sequence[Tensor], Ws: Sequence[Tensor], activation: str
               ) -> list[Tensor]:
    """u_0, ..., u_L of u_{k+1} = u_k + g(u_k, (V_{k+1}, W_{k+1})) / L, g = model (3)'s residual
    (:class:`numerics.model.MLP`, the paper's scaling); u0 (n, q)."""
    f = MLP(activation, "paper")
    L = len(Vs)
    out = [u0]
    for V, W in zip(Vs, Ws, strict=True):
        out.append(out[-1] + f(out[-1][None], (V[None], W[None]))[0] / L)
    return out


def _ode(A: Tensor, theta: Callable[[float], tuple[Tensor, Tensor]], X: Tensor, activation: str,
         grid: Sequence[float]) -> dict[float, Tensor]:
    H = node_hidden(A, lambda s: theta(s)[0], lambda s: theta(s)[1], X, activation, grid,
                    rtol=RTOL, atol=RTOL)
    return {s: H[j] for j, s in enumerate(grid)}


def _grid(depths: Sequence[int]) -> list[float]:
    return sorted({k / L for L in depths for k in range(L + 1)})


def _sup_gap(U: dict[float, Tensor], us: list[Tensor]) -> float:
    L = len(us) - 1
    return max(float(torch.linalg.vector_norm(U[k / L] - u, dim=-1).max())
               for k, u in enumerate(us))


def _layers(draw: _Draw, L: int, t: float, config: Config, base_t: float | None,
            smooth: Callable[[float], tuple[Tensor, Tensor]]) -> tuple[list[Tensor], list[Tensor]]:
    """theta^L_k(t), k = 1..L: Theta(k/L, base_t or t) plus the perturbation ``smooth(k/L)``, or
    the i.i.d. O(1) control."""
    Vs, Ws = [], []
    for k in range(1, L + 1):
        V, W = draw.theta(k / L, t if base_t is None else base_t)
        dV, dW = draw.noise() if config.init == "iid" else smooth(k / L)
        Vs.append(V + dV)
        Ws.append(W + dW)
    return Vs, Ws


def _sample(config: Config, seed: int) -> Tensor:
    X, _ = make_data(config.data, n=config.n, d=config.d, d_out=config.d_out, q=config.q,
                     seed=seed)
    return X.double()


def cor12_distance(config: Config, seed: int) -> list[float]:
    """Corollary 12: sup_{t in TIMES_12, k} ||U(k/L, t) - u^L_k(t)|| for every depth."""
    draw, X = _Draw(config, seed), _sample(config, seed)
    grid = _grid(config.depths)
    out = dict.fromkeys(config.depths, 0.0)
    for t in TIMES_12:
        U = _ode(draw.A, lambda s, t=t: draw.theta(s, t), X, config.activation, grid)
        for L in config.depths:
            c = L ** -EXPONENT

            def pert(s: float, c: float = c, t: float = t) -> tuple[Tensor, Tensor]:
                w = c * math.cos(math.pi * s + t)
                return w * draw.PV, w * draw.PW

            Vs, Ws = _layers(draw, L, t, config, None, pert)
            u0 = X @ draw.A.T + c * math.cos(t) * draw.E
            out[L] = max(out[L], _sup_gap(U, recurrence(u0, Vs, Ws, config.activation)))
    return [out[L] for L in config.depths]


def cor13_distance(config: Config, seed: int) -> list[float]:
    """Corollary 13: sup over t in :func:`tail_times` (L) and k of ||U(k/L) - u^L_k(t)||, U driven
    by Theta_inf = Theta(., 0) from a = A x."""
    draw, X = _Draw(config, seed), _sample(config, seed)
    U = _ode(draw.A, lambda s: draw.theta(s, 0.0), X, config.activation, _grid(config.depths))
    out = []
    for L in config.depths:
        c, best = L ** -EXPONENT, 0.0
        for t in tail_times(L):
            e = math.exp(-t)

            def pert(s: float, c: float = c, e: float = e) -> tuple[Tensor, Tensor]:
                w = c * math.cos(math.pi * s)
                return e * draw.QV + w * draw.PV, e * draw.QW + w * draw.PW

            Vs, Ws = _layers(draw, L, t, config, 0.0, pert)
            u0 = X @ draw.A.T + e * draw.E1 + c * draw.E
            best = max(best, _sup_gap(U, recurrence(u0, Vs, Ws, config.activation)))
        out.append(best)
    return out


def prop15_distance(config: Config, seed: int) -> tuple[list[float], list[float]]:
    """Proposition 15: per depth, the tail sup over t in :func:`tail_times` (L) of sup_x
    ||F^L(x; t) - F_inf(x)|| (the sample and :data:`FRESH` fresh inputs), and of the hidden
    states sup_{k, x} ||h^L_k(t) - H(k/L)||."""
    draw = _Draw(config, seed)
    fresh, _ = make_data(config.data, n=FRESH, d=config.d, d_out=config.d_out, q=config.q,
                         seed=seed + 1_000_003)
    X = torch.cat([_sample(config, seed), fresh.double()])
    grid = _grid(config.depths)
    H = _ode(draw.A, lambda s: draw.theta(s, 0.0), X, config.activation, grid)
    F_inf = H[1.0] @ draw.B.T
    outputs, hidden = [], []
    for L in config.depths:
        best_F, best_h = 0.0, 0.0
        for t in tail_times(L):
            e = math.exp(-t)

            def pert(s: float, e: float = e, L: int = L) -> tuple[Tensor, Tensor]:
                w = math.cos(math.pi * s) / L
                return e * draw.QV + w * draw.PV, e * draw.QW + w * draw.PW

            Vs, Ws = _layers(draw, L, t, config, 0.0, pert)
            A = draw.A + e * draw.A1 + draw.A2 / L
            B = draw.B + e * draw.B1 + draw.B2 / L
            hs = recurrence(X @ A.T, Vs, Ws, config.activation)
            F = hs[-1] @ B.T
            best_F = max(best_F, float(torch.linalg.vector_norm(F - F_inf, dim=-1).max()))
            best_h = max(best_h, _sup_gap(H, hs))
        outputs.append(best_F)
        hidden.append(best_h)
    return outputs, hidden


def _per_depth(rows: list[list[float]]) -> list[list[float]]:
    """Per-seed lists of per-depth values -> per-depth lists of per-seed values."""
    return [list(col) for col in zip(*rows, strict=True)]


def measure_cor12(config: Config) -> Measurement:
    """S-A: Corollary 12's distance against L, one family per seed of ``config.seeds``."""
    rows = [cor12_distance(config, s) for s in config.seeds]
    return Measurement("cor12.recurrence", config, {"exponent": EXPONENT}, {},
                       {"L": list(config.depths), "distance": _per_depth(rows)})


def measure_cor13(config: Config) -> Measurement:
    """S-A: Corollary 13's tail distance against L, one family per seed."""
    rows = [cor13_distance(config, s) for s in config.seeds]
    return Measurement("cor13.recurrence", config, {"exponent": EXPONENT}, {},
                       {"L": list(config.depths), "distance": _per_depth(rows)})


def measure_prop15(config: Config) -> Measurement:
    """S-A: Proposition 15's tail output distance (and hidden-state distance) against L."""
    pairs = [prop15_distance(config, s) for s in config.seeds]
    return Measurement("prop15.double_limit", config, {}, {},
                       {"L": list(config.depths), "distance": _per_depth([p[0] for p in pairs]),
                        "hidden": _per_depth([p[1] for p in pairs])})


def _recurrence(st: Statement, c: Config, m: Measurement) -> Evidence:
    what = {"cor12.recurrence": "sup_(s,t) ||u^L_(floor(Ls))(t) - U(s,t)||",
            "cor13.recurrence": "sup_(t >= log L, s) ||u^L_(floor(Ls))(t) - U(s)||",
            "prop15.double_limit": "sup_(t >= log L, x) ||F^L(x;t) - F_inf(x)||"}[st.id]
    extra = {}
    if "hidden" in m.series:
        extra["rate_hidden"] = fit_rate(m, "hidden", st).to_dict()
    return rate_evidence(fit_rate(m, "distance", st), f"slope of log {what} against log L "
                         "(numerics.recurrences)", **extra)


bind("cor12.recurrence", measure=measure_cor12, facts=_recurrence)
bind("cor13.recurrence", measure=measure_cor13, facts=_recurrence)
bind("prop15.double_limit", measure=measure_prop15, facts=_recurrence)
