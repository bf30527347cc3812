"""Hypothesis strategies: configurations of the paper's experiments that reach the corners.

Every strategy draws valid :class:`theory.config.Config` objects (the constructor validates them)
and deliberately reaches the corners of the model's constraints (q >= max(d, d')):

* sizes: L = 1 and 2, m = 1, n = 1, d = q (and d' = q), q = d + d' (Proposition 5's split);
* times: a tiny horizon T in [1e-3, 1e-2] and T = eta (a single gradient step);
* activations meeting every assumption of the paper (tanh, sin, erf, sigmoid) and ones that do not
  (GELU unbounded, ReLU not C^2, the identity a polynomial, softplus unbounded);
* Proposition 5's width and depth thresholds m_min = c1 n, L_min = c2 sqrt(nq), from just below
  to just above (:func:`pl_threshold_configs`; never trained: m_min ~ 1e7 n);
* Lemma 20's M_W >= sqrt(2) from both sides, Lemma 21's delta < 1 and delta >= 1.

Training-based strategies keep every run small (:data:`TRAINING`: n <= 12, q <= 8, m <= 8,
L <= 32, T <= 1, at most 64 gradient steps with eta <= 0.02).  The statements are about the flow,
which gradient descent follows only for eta below 2 / (the loss curvature): with ||x||^2 up to
about 3d and n = 1 the curvature in B reaches ~50, and eta = 0.25 made an unclipped run diverge.

Rates.  A "1/L" statement is asymptotic; :func:`rate_configs` draws four depths L0 2^j (j = 0..3)
and five distinct seeds inside the regime where 1/L is the leading term:

* a tied initialization has identical layers until the second gradient step (the first one moves
  every layer alike), so at least 2 steps are drawn;
* the smooth initialization is a Gaussian process of length scale ell; its layers resolve it only
  when 1/L0 is well below ell, so ell >= 1/2 and L0 = 4 (at ell = 0.2 and L0 = 2 the measured
  slope is about -0.7: the pre-asymptotic regime, not a failure of the statement);
* the gaps must stand above float64 rounding: T >= 0.1 and a clipping level c >= 0.1 (T = 1e-3
  with c = 0.01 leaves gaps of 1e-16, pure rounding, whose "slope" is noise), and no identity
  activation with q = 1 (a scalar linear residual keeps every layer equal: the gap is 0).

:func:`examples` scales a test's example count by the Hypothesis profile (``RESNET_ODE_PROFILE``:
``ci``, the default, or ``thorough``, ten times as many).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

import torch
from hypothesis import strategies as st

from theory.config import Config

# --------------------------------------------------------------------------- profile

PROFILE = os.environ.get("RESNET_ODE_PROFILE", "ci")
THOROUGH_FACTOR = 10


def examples(k: int) -> int:
    """``k`` examples under the ``ci`` profile, ten times as many under ``thorough``."""
    return k * THOROUGH_FACTOR if PROFILE == "thorough" else k


# --------------------------------------------------------------------------- activations

MEETING: tuple[str, ...] = ("tanh", "sin", "erf", "sigmoid")
"""Activations meeting every assumption of the paper (C^2, non-constant, Lipschitz, bounded,
sigma(0) = 0, non-polynomial; sigmoid and softplus are centred so that sigma(0) = 0)."""

FAILING: MappingProxyType[str, str] = MappingProxyType({
    "gelu": "sigma bounded",          # x Phi(x) is unbounded
    "relu": "sigma C^2",              # a kink at 0 (Appendix D)
    "identity": "sigma non-polynomial",  # eta_r = 0 for every r >= 2
    "softplus": "sigma bounded",
})
"""An activation failing the paper's assumptions -> one assumption it fails (docs/statements.md,
Conventions)."""

ALL: tuple[str, ...] = MEETING + tuple(FAILING)
SMOOTH: tuple[str, ...] = MEETING + ("gelu", "identity", "softplus")
"""C^2 and Lipschitz with sigma(0) = 0: the residual f of Proposition 7 (boundedness unused)."""

PL_DEFINED: tuple[str, ...] = MEETING + ("gelu", "softplus", "relu")
"""Lipschitz with some eta_r != 0 (r >= 2): Proposition 5's constants c1..c4 are defined."""


# --------------------------------------------------------------------------- sizes


@dataclasses.dataclass(frozen=True)
class Sizes:
    """Upper limits of the drawn sizes; ``steps`` bounds the gradient steps N = T / eta."""

    n: int = 12
    q: int = 8
    m: int = 8
    L: int = 32
    T: float = 1.0
    steps: int = 64
    eta_max: float = 0.02


TRAINING = Sizes()
"""The limits of every training-based property (n <= 12, q <= 8, m <= 8, L <= 32: small enough
for the `ci` profile's time budget)."""

INITS = ("tied", "smooth", "iid")
CLIPS = ("none", "coord", "norm")
DATA = ("gaussian", "sphere")
TINY_T = (1e-3, 1e-2)
RESOLVABLE = 0.1


def corner_ints(lo: int, hi: int, corners: Sequence[int] = ()) -> st.SearchStrategy[int]:
    """Integers in [lo, hi], the ``corners`` (those inside the range) drawn on purpose."""
    inside = sorted({c for c in corners if lo <= c <= hi})
    plain = st.integers(lo, hi)
    return st.one_of(st.sampled_from(inside), plain) if inside else plain


def _floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


seeds = st.integers(0, 2**16 - 1)
seed_sets = st.builds(lambda s, gaps: tuple(s + j + sum(gaps[:j]) for j in range(5)), seeds,
                      st.lists(st.integers(0, 2**10), min_size=4, max_size=4))
"""Five distinct seeds (a rate's BCa bootstrap over seeds: 3 give only 10 distinct
resamples)."""


@st.composite
def _dims(draw: st.DrawFn, sizes: Sizes, split: bool | None) -> dict[str, int]:
    """q, d, d' with q >= max(d, d'); d = q, d' = q and q = d + d' reached on purpose.

    ``split``: True forces q >= d + d' (Proposition 5), False forces q < d + d', None draws."""
    q_min = 2 if split else 1
    q = draw(corner_ints(q_min, sizes.q, (q_min, sizes.q)))
    if split:
        d = draw(corner_ints(1, q - 1, (1, q - 1)))
        d_out = draw(corner_ints(1, q - d, (q - d,)))
    elif split is False:
        d = draw(st.one_of(st.just(q), st.integers(1, q)))
        d_out = draw(corner_ints(q - d + 1, q, (q,)))
    else:
        d = draw(st.one_of(st.just(q), st.integers(1, q)))
        d_out = draw(corner_ints(1, q, (q, q - d)))
    return {"q": q, "d": d, "d_out": d_out}


@st.composite
def _times(draw: st.DrawFn, sizes: Sizes, min_steps: int, resolvable: bool) -> dict[str, float]:
    """T (a tiny one in [1e-3, 1e-2] on purpose, unless ``resolvable``: T >= 0.1) and eta = T / N
    with N steps, eta <= eta_max; N = 1 (T = eta) is a corner."""
    T = draw(_floats(RESOLVABLE, sizes.T) if resolvable else
             st.one_of(_floats(*TINY_T), _floats(TINY_T[1], sizes.T)))
    lowest = max(min_steps, math.ceil(T / sizes.eta_max))
    steps = draw(corner_ints(lowest, max(lowest, sizes.steps), (lowest,)))
    return {"T": T, "eta": T / steps}


@st.composite
def configs(draw: st.DrawFn, sizes: Sizes = TRAINING, *, activations: Sequence[str] = ALL,
            inits: Sequence[str] = INITS, clips: Sequence[str] = CLIPS,
            data: Sequence[str] = DATA, scalings: Sequence[str] = ("paper",),
            split: bool | None = None, min_steps: int = 1, resolvable: bool = False,
            **fixed: Any) -> Config:
    """A configuration of model (3) trained by gradient descent on flow (4)/(5).

    Rate studies are not part of it (``depths = (1, 2)`` keeps a measurement's depth sweep
    cheap; see :func:`rate_configs`).  ``resolvable`` keeps T and the clipping level c at least
    0.1, so that training moves the weights well above float64 rounding.  ``fixed`` fields
    override the drawn ones."""
    fields: dict[str, Any] = dict(draw(_dims(sizes, split)))
    fields.update(draw(_times(sizes, min_steps, resolvable)))
    init = draw(st.sampled_from(list(inits)))
    clip = draw(st.sampled_from(list(clips)))
    fields.update(
        n=draw(corner_ints(1, sizes.n, (1, 2, sizes.n))),
        m=draw(corner_ints(1, sizes.m, (1, sizes.m))),
        L=draw(corner_ints(1, sizes.L, (1, 2, sizes.L))),
        activation=draw(st.sampled_from(list(activations))),
        init=init,
        ell=draw(_floats(0.1, 1.0)) if init == "smooth" else 0.2,
        clip=clip,
        clip_c=draw(_floats(RESOLVABLE if resolvable else 1e-2, 2.0)) if clip != "none" else 1.0,
        data=draw(st.sampled_from(list(data))),
        scaling=draw(st.sampled_from(list(scalings))),
        train_outer=draw(st.booleans()),
        y_scale=draw(st.one_of(st.just(1.0), _floats(0.1, 2.0))),
        seed=draw(seeds),
        depths=(1, 2),
        trials=200,
    )
    fields.update(fixed)
    fields["seeds"] = fields.get("seeds", (fields["seed"],))
    return Config(**fields)


@st.composite
def rate_configs(draw: st.DrawFn, sizes: Sizes = TRAINING, *,
                 activations: Sequence[str] = SMOOTH, inits: Sequence[str] = ("tied", "smooth"),
                 clips: Sequence[str] = ("coord", "norm"), smooth_sweep: bool = False,
                 **fixed: Any) -> Config:
    """A configuration for a 1/L rate: depths (L0, 2 L0, 4 L0, 8 L0) within ``sizes.L`` and five
    distinct seeds, in the asymptotic regime of the module docstring (``smooth_sweep``: the
    measurement also runs a smooth initialization, whatever ``init``, as Section 4.3's does)."""
    config = draw(configs(sizes, activations=activations, inits=inits, clips=clips,
                          min_steps=2, resolvable=True, **fixed))
    top = sizes.L // 8
    if config.init == "smooth" or smooth_sweep:
        L0 = min(4, top)
    else:
        L0 = draw(st.sampled_from([v for v in (2, 4) if v <= top]))
    depths = tuple(L0 * 2**j for j in range(4))
    seed_set = draw(seed_sets)
    if config.activation == "identity" and config.q == 1:
        # a scalar linear residual: every layer's gradient is the same product of commuting
        # factors, the layers stay equal, the gap is identically 0 (rounding) and has no slope
        config = dataclasses.replace(config, activation="tanh")
    return dataclasses.replace(config, depths=depths, seeds=seed_set, seed=seed_set[0],
                               ell=draw(_floats(0.5, 1.0)), L=draw(st.sampled_from(depths)))


@st.composite
def euler_configs(draw: st.DrawFn) -> Config:
    """Proposition 2 (no training): depths L0 2^j with L0 in {8, 16} (the sin-modulated paths of
    :func:`numerics.euler.measure_prop2` have period 1: coarser grids are pre-asymptotic) and
    five seeds (one measurement each: the seed draws the paths and the inputs)."""
    config = draw(configs(TRAINING, scalings=("paper", "official")))
    L0 = draw(st.sampled_from((8, 16)))
    depths = tuple(L0 * 2**j for j in range(4))
    seed_set = draw(seed_sets)
    return dataclasses.replace(config, depths=depths, L=L0, seeds=seed_set, seed=seed_set[0])


# --------------------------------------------------------------------------- Proposition 5


@functools.cache
def pl_thresholds(activation: str, n: int, q: int) -> tuple[float, float]:
    """(m_min, L_min) = (c1 n, c2 sqrt(nq)) of Proposition 5 (theory.pl), to place draws."""
    from theory import pl
    from theory.finite_time import sigma_mp

    _, eta_r = pl.hermite(activation)
    K = sigma_mp(activation)["K_sigma"]
    return (float(pl.evaluate(pl.m_min_expr, K_sigma=K, eta_r=eta_r, n=n)),
            float(pl.evaluate(pl.L_min_expr, K_sigma=K, eta_r=eta_r, n=n, q=q)))


@st.composite
def pl_threshold_configs(draw: st.DrawFn) -> Config:
    """Proposition 5's width and depth from just below to just above m_min = c1 n and
    L_min = c2 sqrt(nq) (offsets -1, 0, +1 around the ceilings), data on the sphere, tied
    initialization; q >= d + d' or not.  Not for training (m ~ 1e7)."""
    activation = draw(st.sampled_from(PL_DEFINED))
    dims = draw(_dims(Sizes(q=16), draw(st.booleans())))
    n = draw(corner_ints(1, 12, (1,)))
    m_min, L_min = pl_thresholds(activation, n, dims["q"])
    m = max(1, math.ceil(m_min) + draw(st.sampled_from((-1, 0, 1))))
    L = max(1, math.ceil(L_min) + draw(st.sampled_from((-1, 0, 1))))
    return Config(n=n, m=m, L=L, activation=activation, data="sphere", init="tied", **dims)


@dataclasses.dataclass(frozen=True)
class BallPoint:
    """A point of Definition 1's M-ball around network 0: each block moves by ``frac`` x M in a
    direction drawn from ``seed`` (``frac`` = 1 is the boundary); layer k's move is split between
    V_k and W_k by ``share``."""

    seed: int
    frac_A: float
    frac_B: float
    frac_Z: float
    share: float
    per_layer: bool  # independent radii per layer (fractions uniform in [0, frac_Z])


ball_points = st.builds(
    BallPoint, seed=seeds,
    frac_A=st.one_of(st.just(1.0), st.just(0.0), _floats(0.0, 1.0)),
    frac_B=st.one_of(st.just(1.0), st.just(0.0), _floats(0.0, 1.0)),
    frac_Z=st.one_of(st.just(1.0), _floats(0.0, 1.0)),
    share=st.one_of(st.just(0.5), _floats(0.0, 1.0)),
    per_layer=st.booleans())


# --------------------------------------------------------------------------- the set E


@dataclasses.dataclass(frozen=True)
class EPoint:
    """A point (h, z = (V, W)) of the set E of (19) for model (3) and its parameters.

    ||V||_F + ||W||_F = ``z_frac`` M (split by ``share``), ||h|| = ``h_frac`` x the radius of E
    (``radius``, given by the caller); ``aligned`` makes V = a b^T, W = b c^T rank one with h
    along c (where ||d1 f||_2 attains its bound K_sigma M^2 / (4 sqrt(mq)) at h = 0)."""

    activation: str
    q: int
    m: int
    M: float
    M_X: float
    seed: int
    z_frac: float
    share: float
    h_frac: float
    aligned: bool

    def tensors(self, radius: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(h (q,), V (q, m), W (m, q)) in float64, drawn from ``seed``."""
        gen = torch.Generator().manual_seed(self.seed)

        def unit(*shape: int) -> torch.Tensor:
            v = torch.randn(*shape, generator=gen, dtype=torch.float64)
            return v / torch.linalg.vector_norm(v)

        if self.aligned:
            a, b, c = unit(self.q), unit(self.m), unit(self.q)
            V, W, h = torch.outer(a, b), torch.outer(b, c), c
        else:
            V, W, h = unit(self.q, self.m), unit(self.m, self.q), unit(self.q)
        z = self.z_frac * self.M
        return (h * self.h_frac * radius, V * self.share * z, W * (1 - self.share) * z)


e_points = st.builds(
    EPoint, activation=st.sampled_from(SMOOTH), q=corner_ints(1, 4, (1,)),
    m=corner_ints(1, 4, (1,)),
    M=st.one_of(_floats(1e-2, 0.3), _floats(0.3, 4.0)), M_X=_floats(0.1, 4.0), seed=seeds,
    z_frac=st.one_of(st.just(1.0), _floats(0.0, 1.0)),
    share=st.one_of(st.just(0.5), _floats(0.0, 1.0)),
    h_frac=st.one_of(st.just(0.0), st.just(1.0), _floats(0.0, 1.0)), aligned=st.booleans())


# --------------------------------------------------------------------------- Lemmas 20, 21

SQRT2 = math.sqrt(2.0)


@st.composite
def lemma20_configs(draw: st.DrawFn) -> Config:
    """q x m Gaussian matrices (qm <= 576) and M_W from 0.5 to 3, with sqrt(2) and its two
    float neighbours (Lemma 20's hypothesis M_W >= sqrt 2, PDF p. 37) drawn on purpose."""
    M_W = draw(st.one_of(
        st.sampled_from((SQRT2, math.nextafter(SQRT2, 0.0), math.nextafter(SQRT2, 3.0))),
        _floats(0.5, SQRT2), _floats(SQRT2, 3.0)))
    q = draw(corner_ints(1, 24, (1,)))
    return Config(q=q, d=1, d_out=1, m=draw(corner_ints(1, 24, (1,))), M_W=M_W, trials=2000,
                  seed=draw(seeds))


@st.composite
def lemma21_configs(draw: st.DrawFn, activations: Sequence[str] = ALL) -> Config:
    """sigma(W X) with W m x d Gaussian, X d x n unit columns: narrow widths (m <= 64, delta >= 1)
    and wide ones (m in [256, 3000], where delta < 1 is reachable for n <= 2 and d >= 9)."""
    d = draw(corner_ints(1, 16, (1, 16)))
    return Config(activation=draw(st.sampled_from(list(activations))),
                  n=draw(corner_ints(1, 4, (1, 2))), d=d, q=d, d_out=1,
                  m=draw(st.one_of(corner_ints(1, 64, (1,)), st.integers(256, 3000))),
                  trials=200, seed=draw(seeds))


# --------------------------------------------------------------------------- Appendix D


@st.composite
def appd_configs(draw: st.DrawFn, activations: Sequence[str] = ("relu",)) -> Config:
    """The scalar network of Appendix D (depth 2L, L <= 16), label ratio C in [1.1, 4], input x in
    [0.25, 2], trained long enough to converge: the even weights relax at rate about x^2 C^2
    (linearization at w*), so T = 30 / x^2 and eta = 0.1 / (x^2 C^2) (stable Euler steps)."""
    C = draw(_floats(1.1, 4.0))
    x = draw(_floats(0.25, 2.0))
    L = draw(corner_ints(1, 16, (1, 2)))
    return Config(activation=draw(st.sampled_from(list(activations))), L=L, appd_C=C, appd_x=x,
                  T=30.0 / x**2, eta=0.1 / (x * C) ** 2, depths=(L,))
