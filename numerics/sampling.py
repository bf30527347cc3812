"""Monte Carlo samplers for Lemmas 20 and 21 (docs/statements.md, families S8, S9; paper p37-39).

Lemma 20: for W a q x m standard Gaussian matrix and M_W >= sqrt 2,
P(||W||_F > M_W sqrt(qm)) <= exp(-(M_W^2 - 1) qm / 16); ||W||_F^2 is chi-square with qm degrees
of freedom.  Lemma 21: for W an m x d standard Gaussian matrix and X a d x n matrix with i.i.d.
columns uniform on the unit sphere (independent of W), smin(sigma(W X)) >= sqrt(m) eta_r / 4 with
probability >= 1 - delta.  The samplers draw the matrices themselves (not the chi-square law) so
that the Monte Carlo check is independent of the closed form; a frequency is reported with an exact
Clopper-Pearson interval.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
from scipy import stats

from numerics.activations import get as get_activation
from theory.errors import ConfigError

_CHUNK_ENTRIES = 2**22  # Gaussian entries drawn per chunk (32 MiB in float64)


@dataclasses.dataclass(frozen=True)
class Exceedance:
    """``k`` of ``N`` samples exceed ``threshold``: frequency ``k/N`` in [``lo``, ``hi``]."""

    threshold: float
    k: int
    N: int
    freq: float
    lo: float
    hi: float
    alpha: float


def clopper_pearson(k: int, N: int, alpha: float = 0.05) -> tuple[float, float]:
    """Exact two-sided (1 - alpha) binomial interval for k successes in N trials.

    lo = Beta^{-1}(alpha/2; k, N - k + 1) (0 when k = 0), hi = Beta^{-1}(1 - alpha/2; k + 1, N - k)
    (1 when k = N).  For k = 0, hi = 1 - (alpha/2)^{1/N}.
    """
    _check_int("N", N, 1)
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 0 <= k <= N:
        raise ConfigError("k", k, f"must be an integer in [0, N={N}]")
    if not 0.0 < alpha < 1.0:
        raise ConfigError("alpha", alpha, "must lie in (0, 1)")
    lo = 0.0 if k == 0 else float(stats.beta.ppf(alpha / 2, k, N - k + 1))
    hi = 1.0 if k == N else float(stats.beta.ppf(1 - alpha / 2, k + 1, N - k))
    return lo, hi


def exceedance(samples: np.ndarray, threshold: float, alpha: float = 0.05) -> Exceedance:
    """Frequency of ``samples > threshold`` with its Clopper-Pearson interval."""
    samples = np.asarray(samples)
    if samples.ndim != 1 or samples.size == 0:
        raise ConfigError("samples", samples.shape, "must be a non-empty 1-d array")
    k = int(np.count_nonzero(samples > threshold))
    N = int(samples.size)
    lo, hi = clopper_pearson(k, N, alpha)
    return Exceedance(float(threshold), k, N, k / N, lo, hi, alpha)


def sample_frobenius_sq(q: int, m: int, trials: int, seed: int) -> np.ndarray:
    """``trials`` draws of ||W||_F^2 for W a q x m standard Gaussian matrix (Lemma 20)."""
    for name, value in (("q", q), ("m", m), ("trials", trials)):
        _check_int(name, value, 1)
    _check_int("seed", seed, 0)
    rng = np.random.default_rng(seed)
    per_chunk = max(1, _CHUNK_ENTRIES // (q * m))
    out = np.empty(trials)
    for start in range(0, trials, per_chunk):
        count = min(per_chunk, trials - start)
        w = rng.standard_normal((count, q, m))
        out[start:start + count] = np.einsum("bij,bij->b", w, w)
    return out


def sample_sphere(d: int, n: int, generator: torch.Generator, batch: int = 1) -> torch.Tensor:
    """``batch`` matrices d x n with i.i.d. columns uniform on the unit sphere S^{d-1} (float64)."""
    g = torch.randn(batch, d, n, generator=generator, dtype=torch.float64)
    return g / torch.linalg.vector_norm(g, dim=1, keepdim=True)


def sample_smin_features(sigma: str, m: int, d: int, n: int, trials: int,
                         seed: int) -> np.ndarray:
    """``trials`` draws of smin(sigma(W X)), W m x d standard Gaussian, X d x n unit columns.

    sigma(W X) is m x n (Lemma 21, p38: the rows w_i X have standard Gaussian entries per column);
    smin is its n-th singular value, sqrt(lambda_min(sigma(WX)^T sigma(WX))) as in the proof; it is
    0 when m < n (rank at most m).
    """
    for name, value in (("m", m), ("d", d), ("n", n), ("trials", trials)):
        _check_int(name, value, 1)
    _check_int("seed", seed, 0)
    act = get_activation(sigma)
    gen = torch.Generator().manual_seed(seed)
    per_chunk = max(1, _CHUNK_ENTRIES // (m * max(d, n)))
    out = np.empty(trials)
    for start in range(0, trials, per_chunk):
        count = min(per_chunk, trials - start)
        w = torch.randn(count, m, d, generator=gen, dtype=torch.float64)
        x = sample_sphere(d, n, gen, batch=count)
        features = act.f(w @ x)
        sv = torch.linalg.svdvals(features)  # descending, min(m, n) values
        out[start:start + count] = sv[:, -1].numpy() if m >= n else 0.0
    return out


def _check_int(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ConfigError(name, value, f"must be an integer >= {minimum}")


__all__ = ["Exceedance", "clopper_pearson", "exceedance", "sample_frobenius_sq", "sample_sphere",
           "sample_smin_features"]
