"""The scalar counter-example of Appendix D (docs/statements.md, appD.relu; paper p39).

Depth 2L, one dimension, one sample (x, C x) with x > 0, C > 1:

    h_0 = x,   h_k = h_{k-1} + sigma(w_k h_{k-1}) / (2L),  k = 1..2L,   l = (h_{2L} - C x)^2,

initialized at w_k(0) = (-1)^k / (2L) (odd weights negative, even weights positive).  Training is
gradient descent with step ``eta`` in flow time on the depth-scaled flow (4) for depth 2L,
dw_k/dt = -2L dl/dw_k (``depth_scaled=False`` gives the plain flow dw_k/dt = -dl/dw_k that
Appendix D writes).  The gradient is back-propagated exactly (recurrence (13) in one dimension):

    p_{2L} = 2 (h_{2L} - C x),   dl/dw_k = p_k sigma'(w_k h_{k-1}) h_{k-1} / (2L),
    p_{k-1} = p_k (1 + sigma'(w_k h_{k-1}) w_k / (2L)).

For ReLU the odd layers see a negative argument, so their gradient is exactly 0 and they never
move; the even weights stay equal to w(t), with

    dw/dt = 2 x^2 (C - (1 + w/(2L))^L) (1 + w/(2L))^{L-1}        (depth-scaled flow)

(the paper prints 2x in front, and writes the plain flow, for which the right side carries an
extra 1/(2L)); w(t) -> w* = 2L (C^{1/L} - 1) >= 2 log C and the neighbour gap tends to
w* + 1/(2L) = Omega(1).  A smooth sigma moves the odd weights too and keeps the gap O(1/L).

The recursion is sequential in k and scalar: it runs on Python floats (float64), which is far
faster than tensor operations of size one.  The check of appD.relu (family S11), its measurement
and facts, is bound to the catalog entry at the end (:func:`theory.catalog.bind`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence

import torch

from numerics.activations import get as get_activation
from numerics.evidence import Evidence
from numerics.measure import Measurement
from theory import tolerance
from theory.catalog import Statement, bind
from theory.config import Config
from theory.errors import ConfigError, DivergenceError
from theory.verdicts import Facts

Scalar = Callable[[float], float]
_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT2PI = 1.0 / math.sqrt(2.0 * math.pi)

# sigma and sigma' on Python floats for the activations this appendix contrasts; any other
# registered activation goes through its torch form (slower, same values).
_SCALAR: dict[str, tuple[Scalar, Scalar]] = {
    "relu": (lambda u: u if u > 0.0 else 0.0, lambda u: 1.0 if u > 0.0 else 0.0),
    "tanh": (math.tanh, lambda u: 1.0 - math.tanh(u) ** 2),
    "gelu": (lambda u: 0.5 * u * (1.0 + math.erf(u * _INV_SQRT2)),
             lambda u: 0.5 * (1.0 + math.erf(u * _INV_SQRT2))
             + u * math.exp(-0.5 * u * u) * _INV_SQRT2PI),
    "identity": (lambda u: u, lambda u: 1.0),
}


@dataclasses.dataclass(frozen=True)
class AppDResult:
    """Summary of one run (all floats are float64).

    ``w``: the 2L final weights (w_1..w_2L); ``odd_max_move`` = max over odd k of |w_k(T) - w_k(0)|;
    ``even_spread`` = max - min of the final even weights; ``w_even`` their mean; ``w_star`` =
    2L (C^{1/L} - 1) (the ReLU fixed point); ``gap`` = max_k |w_{k+1}(T) - w_k(T)| (``gap_init`` =
    1/L at t = 0); ``gap_relu`` = w* + 1/(2L); ``times``, ``loss``, ``gaps``, ``w_even_path``:
    the recorded trajectory (every ``record_every`` steps and at T).
    """

    L: int
    C: float
    x: float
    sigma: str
    T: float
    eta: float
    depth_scaled: bool
    w: tuple[float, ...]
    odd_max_move: float
    even_spread: float
    w_even: float
    w_star: float
    gap: float
    gap_init: float
    gap_relu: float
    loss: tuple[float, ...]
    times: tuple[float, ...]
    gaps: tuple[float, ...]
    w_even_path: tuple[float, ...]
    snapshots: tuple[tuple[float, ...], ...] = ()

    @property
    def w_error(self) -> float:
        """|w_even - w*| (meaningful for ReLU, where w* is the limit)."""
        return abs(self.w_even - self.w_star)


def w_star(L: int, C: float) -> float:
    """The ReLU fixed point of (56): (1 + w*/(2L))^L = C, w* = 2L (C^{1/L} - 1)."""
    return 2 * L * math.expm1(math.log(C) / L)


def init_weights(L: int) -> list[float]:
    """w_k(0) = (-1)^k / (2L), k = 1..2L."""
    return [(-1.0) ** k / (2 * L) for k in range(1, 2 * L + 1)]


def loss_and_gradient(w: Sequence[float], x: float, C: float,
                      sigma: str) -> tuple[float, list[float]]:
    """l = (h_{2L} - C x)^2 and dl/dw_k by the backward recurrence (13) (depth 2L = len(w))."""
    f, df = _scalar_activation(sigma)
    n_layers = len(w)
    h = [x]
    for wk in w:
        h.append(h[-1] + f(wk * h[-1]) / n_layers)
    p = 2.0 * (h[-1] - C * x)
    grad = [0.0] * n_layers
    for k in range(n_layers - 1, -1, -1):
        hk = h[k]
        s1 = df(w[k] * hk)
        grad[k] = p * s1 * hk / n_layers
        p *= 1.0 + s1 * w[k] / n_layers
    return (h[-1] - C * x) ** 2, grad


def train_appd(L: int, C: float, x: float, sigma: str = "relu", T: float = 30.0,
               eta: float = 0.01, *, depth_scaled: bool = True,
               record_every: int = 100, snapshot_times: Sequence[float] = ()) -> AppDResult:
    """Gradient descent in flow time: w_k <- w_k - eta * rate * dl/dw_k, rate = 2L or 1.

    ``T / eta`` steps (rounded).  With the depth-scaled flow the ReLU run converges at rate about
    x^2 C^2, so T = 30 with x C >= 1 puts w(T) within 1e-10 of w*.  ``snapshot_times``: flow
    times at which all 2L weights are kept (``snapshots``, at the nearest step).
    """
    _check(L, C, x, T, eta)
    if isinstance(record_every, bool) or not isinstance(record_every, int) or record_every < 1:
        raise ConfigError("record_every", record_every, "must be a positive integer")
    _scalar_activation(sigma)  # validate the name before training
    rate = 2.0 * L if depth_scaled else 1.0
    w0 = init_weights(L)
    w = list(w0)
    steps = max(1, round(T / eta))
    times: list[float] = []
    losses: list[float] = []
    gaps: list[float] = []
    w_even_path: list[float] = []
    at = [min(steps, round(t / eta)) for t in snapshot_times]
    snapshots: dict[int, tuple[float, ...]] = {}
    for step in range(steps + 1):
        loss, grad = loss_and_gradient(w, x, C, sigma)
        if not math.isfinite(loss):
            raise DivergenceError(step, "loss", loss)
        if step in at:
            snapshots[step] = tuple(w)
        if step % record_every == 0 or step == steps:
            times.append(step * eta)
            losses.append(loss)
            gaps.append(_gap(w))
            w_even_path.append(sum(w[1::2]) / L)
        if step == steps:
            break
        w = [wk - eta * rate * gk for wk, gk in zip(w, grad, strict=True)]
    even = w[1::2]
    return AppDResult(
        L=L, C=C, x=x, sigma=sigma, T=steps * eta, eta=eta, depth_scaled=depth_scaled,
        w=tuple(w), odd_max_move=max(abs(a - b) for a, b in zip(w[0::2], w0[0::2], strict=True)),
        even_spread=max(even) - min(even), w_even=sum(even) / L, w_star=w_star(L, C),
        gap=_gap(w), gap_init=_gap(w0), gap_relu=w_star(L, C) + 1.0 / (2 * L),
        loss=tuple(losses), times=tuple(times), gaps=tuple(gaps), w_even_path=tuple(w_even_path),
        snapshots=tuple(snapshots[j] for j in at))


def loss_torch(w: torch.Tensor, x: float, C: float, sigma: str) -> torch.Tensor:
    """l(w) = (h_{2L} - C x)^2 as a differentiable torch function of the 2L weights (the forward
    recursion of the module docstring with sigma's torch form), for Hessians by autograd."""
    f = get_activation(sigma).f
    h = torch.tensor(x, dtype=w.dtype)
    for wk in w:
        h = h + f(wk * h) / len(w)
    return (h - C * x) ** 2


def gap_vs_depth(depths: Sequence[int], sigmas: Sequence[str] = ("relu", "tanh", "gelu"), *,
                 C: float = 2.0, x: float = 0.5, T: float = 30.0,
                 eta: float = 0.01) -> dict[str, list[float]]:
    """Final neighbour gap max_k |w_{k+1} - w_k| against L for each sigma (the figure's data).

    Defaults x = 0.5, C = 2 keep the target reachable by a bounded sigma (tanh needs
    x (C - 1) < sup|sigma| = 1: h_{2L} - x = (1/(2L)) sum_k sigma(.) < 1).
    """
    return {s: [train_appd(L, C, x, s, T, eta).gap for L in depths] for s in sigmas}


def _gap(w: Sequence[float]) -> float:
    return max(abs(b - a) for a, b in zip(w[:-1], w[1:], strict=True))


def _scalar_activation(sigma: str) -> tuple[Scalar, Scalar]:
    key = sigma.strip().lower() if isinstance(sigma, str) else sigma
    if key in _SCALAR:
        return _SCALAR[key]
    act = get_activation(sigma)  # raises ConfigError for an unknown name

    def f(u: float) -> float:
        return float(act.f(torch.tensor(u, dtype=torch.float64)))

    def df(u: float) -> float:
        return float(act.df(torch.tensor(u, dtype=torch.float64)))

    return f, df


def _check(L: int, C: float, x: float, T: float, eta: float) -> None:
    if isinstance(L, bool) or not isinstance(L, int) or L < 1:
        raise ConfigError("L", L, "must be a positive integer (the depth is 2L)")
    if not (isinstance(C, int | float) and math.isfinite(C) and C > 1):
        raise ConfigError("C", C, "Appendix D needs a label ratio C > 1")
    if not (isinstance(x, int | float) and math.isfinite(x) and x > 0):
        raise ConfigError("x", x, "Appendix D needs an input x > 0")
    for name, value in (("T", T), ("eta", eta)):
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise ConfigError(name, value, "must be a positive finite number")
    if eta > T:
        raise ConfigError("eta", eta, f"the step must not exceed the horizon T={T}")


def measure_appd(config: Config) -> Measurement:
    """S11: the scalar network of Appendix D (depth 2L): the final even weight against w*, the
    movement of the odd weights, the spread of the even ones, and the neighbour gap; plus the gap
    against L for ``config.depths``."""
    res = train_appd(config.L, config.appd_C, config.appd_x, config.activation, config.T,
                     config.eta)
    values = {"w_even": res.w_even, "w_star": res.w_star, "w_error": abs(res.w_even - res.w_star),
              "odd_max_move": res.odd_max_move, "even_spread": res.even_spread, "gap": res.gap,
              "gap_limit": res.gap_relu, "L_times_gap": config.L * res.gap}
    gaps = [train_appd(L, config.appd_C, config.appd_x, config.activation, config.T,
                       config.eta).gap for L in config.depths]
    return Measurement("appD.relu", config, values, {},
                       {"t": list(res.times), "w_even": list(res.w_even_path),
                        "L": list(config.depths), "gap_vs_L": gaps})


def _appd(st: Statement, c: Config, m: Measurement) -> Evidence:
    v = m.values
    path = m.series["w_even"]
    # w(t) moves monotonically toward w*, from below unless w(0) = 1/(2L) > w* (small C^{1/L});
    # each defect is scaled by its tolerance, so the bound is 1
    sign = 1.0 if path[0] <= v["w_star"] else -1.0
    tol = tolerance.RTOL["float64"] * abs(v["w_star"])
    back = max([sign * (a - b) for a, b in zip(path, path[1:], strict=False)] + [0.0])
    defect = max(v["odd_max_move"] / 1e-300 if v["odd_max_move"] else 0.0,
                 v["even_spread"] / (1e-12 * max(1.0, abs(v["w_even"]))),
                 back / max(tol, 1e-300) if back else 0.0,
                 max(0.0, sign * (path[-1] - v["w_star"])) / max(tol, 1e-300))
    return Evidence(Facts(defect, 1.0), extra=dict(v),
                    notes=["measured: the largest defect over (odd weights moved: must be 0, "
                           "even spread / 1e-12, monotone approach to w* / rounding) (<= 1)",
                           f"|w(T) - w*| = {v['w_error']:.3g} at T = {c.T}; odd weights moved "
                           f"{v['odd_max_move']:.3g}; even spread {v['even_spread']:.3g}; gap "
                           f"{v['gap']:.4g} -> w* + 1/(2L) = {v['gap_limit']:.4g}"])


bind("appD.relu", measure=measure_appd, facts=_appd)
