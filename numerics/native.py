"""Compiled sweeps of model (3) on the CPU (``model3_sweep.c``), with a plain torch fallback.

A training step of model (3) is two sequential sweeps over the L layers of small products
(n x q by q x m).  In torch each product or elementwise call costs several microseconds of
dispatch, about as much as its arithmetic; the C sweeps do one layer in one pass over the rows.
The source is specialised at compile time to (q, m, dtype, activation) and compiled with the
system C compiler on first use (about a second), then cached under
``$RESNET_ODE_CACHE`` (default ``~/.cache/resnet-ode``) keyed by a hash of source, flags and
compiler.  Vector maths comes from glibc's libmvec where available (a second build without it is
tried otherwise).  :meth:`Sweeps.bind` builds the foreign-call arguments once per workspace, so
a training step costs two foreign calls.  Independent networks (b > 1) are shared by two threads,
the caller and one pool thread, through a counter (a thread woken late takes fewer networks),
where the sweep has at least 2^17 multiply-adds (below that the pool thread's wake-up costs more
than it saves, measured); ctypes releases the GIL during the foreign call.

One model (issue 27): these sweeps accelerate the two sweeps of
:class:`numerics.gradients.Workspace` (the torch definition of recurrences (13)-(16)) behind its
interface; besides the products they evaluate only sigma and sigma' (:data:`ACTIVATIONS`, each
checked against autograd) and, in the backward sweep, the per-layer norms of the streamed
metrics (:class:`LayerStats`) and the step on Z.  Why the metrics are evaluated here: the norms
need each layer's weights and gradients, which the sweep holds in cache, and the step on Z must
come after them; computed by torch from what the sweep returns (:class:`numerics.metrics.Monitor`
without layer stats, then the step by torch), a training step of the Figure 1 workload
(n = 100, q = 16, m = 32, GELU, float32) took 1.14x, 1.49x and 1.15x (best; medians 1.39x,
1.18x, 1.17x) the time of the fused sweep at L = 256 b = 1, L = 1024 b = 1 and L = 1024 b = 4,
and 0.99x-1.52x (best) at the quick report's shapes (interleaved repeats in one run on the
shared 2-core VM, 2026-12-06: ``python -m benchmarks engines --figure1-metrics``).  What the
norms are is defined once, in torch (:mod:`numerics.metrics`, with G by
:func:`numerics.metrics.pl_quantity` from these norms), and tests/test_native.py checks the
sweep's metrics row and step against it.

:func:`sweeps` returns None (and the caller uses torch) when the device is not the CPU, the
activation has no C form (a user's sympy expression), q m is large (torch's BLAS is then the
faster engine), no compiler works, or ``RESNET_ODE_NATIVE=0``; :func:`status` says which.
:func:`engine` describes the engine (compiler, flags, CPU) for provenance.
"""

from __future__ import annotations

import concurrent.futures
import ctypes
import dataclasses
import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import torch

ACTIVATIONS = {"identity": 0, "tanh": 1, "gelu": 2, "relu": 3, "sigmoid": 4, "softplus": 5,
               "sin": 6, "erf": 7}
MAX_QM = 16384  # beyond this the per-call overhead is negligible and BLAS wins
_SPLIT_MACS = 1 << 17  # b L n q m below which one thread does a sweep (set by measurement)
_SOURCE = Path(__file__).with_name("model3_sweep.c")
# -mprefer-vector-width=256: the AVX2 variants of libmvec's erff and expf where the CPU's tuning
# prefers 128-bit vectors (Zen 1: 1.2x and 1.6x faster than the SSE ones, measured)
_FLAGS = ("-O3", "-funroll-loops", "-march=native", "-mprefer-vector-width=256", "-fno-math-errno",
          "-fopenmp-simd", "-shared", "-fPIC")
_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="sweep")


def _cache_dir() -> Path:
    return Path(os.environ.get("RESNET_ODE_CACHE", Path.home() / ".cache" / "resnet-ode"))


def _compiler() -> str | None:
    return os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")


@functools.cache
def _machine() -> str:
    """What -march=native compiles for: the CPU's feature flags (a cache shared between machines
    must not hand one CPU's build to another)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                return line
    except OSError:
        pass
    import platform

    return platform.machine() + platform.processor()


@dataclasses.dataclass(frozen=True)
class _Build:
    """A compiled library and the flags it was built with (its specialisation -D... left out)."""

    lib: ctypes.CDLL
    flags: tuple[str, ...]


@functools.lru_cache(maxsize=64)
def _library(activation: str, q: int, m: int, double: bool) -> _Build | str:
    """The compiled library, or the reason there is none."""
    cc = _compiler()
    if cc is None:
        return "no C compiler found (set CC)"
    source = _SOURCE.read_bytes()
    defines = [f"-DQ={q}", f"-DM={m}", f"-DDOUBLE={int(double)}",
               f"-DACT={ACTIVATIONS[activation]}"]
    errors = []
    for vector in (True, False):
        flags = [*_FLAGS, *defines, *(["-DVECTOR_MATH"] if vector else [])]
        libs = ["-lmvec", "-lm"] if vector else ["-lm"]
        key = hashlib.sha256(source + " ".join([cc, *flags, *libs, _machine()]).encode()
                             ).hexdigest()[:24]
        target = _cache_dir() / f"model3_{key}.so"
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".so")
            os.close(fd)
            try:
                done = subprocess.run([cc, *flags, str(_SOURCE), "-o", tmp, *libs],
                                      capture_output=True, text=True, timeout=120)
            except (OSError, subprocess.SubprocessError) as exc:
                os.unlink(tmp)
                return f"no working C compiler ({cc}: {exc.__class__.__name__})"
            if done.returncode != 0:
                os.unlink(tmp)
                errors.append(done.stderr.strip().splitlines()[-1:] or ["failed"])
                continue
            os.replace(tmp, target)  # atomic: concurrent processes may race to build it
        try:
            return _Build(ctypes.CDLL(str(target)),
                          (*_FLAGS, *(["-DVECTOR_MATH"] if vector else []), *libs))
        except OSError as exc:
            errors.append([str(exc)])
    return f"compilation failed: {errors}"


def status(activation: str, q: int, m: int, dtype: torch.dtype, device: torch.device) -> str:
    """"native" when the C sweeps serve this configuration, else the reason they do not."""
    if os.environ.get("RESNET_ODE_NATIVE", "1") == "0":
        return "disabled (RESNET_ODE_NATIVE=0)"
    if device.type != "cpu":
        return f"device {device.type}"
    if activation not in ACTIVATIONS:
        return f"activation {activation!r} has no C form"
    if dtype not in (torch.float32, torch.float64):
        return f"dtype {dtype}"
    if q * m > MAX_QM:
        return f"q m = {q * m} > {MAX_QM}: BLAS is faster"
    build = _library(activation, q, m, dtype == torch.float64)
    return "native" if isinstance(build, _Build) else build


def _ptr(t: torch.Tensor) -> ctypes.c_void_p:
    return ctypes.c_void_p(t.data_ptr())


def blocks_contiguous(*tensors: torch.Tensor) -> bool:
    """Whether every (rows, cols) block of these (b, L, rows, cols) views is contiguous, the
    layout the C sweeps address (network-major and layer-major storage both qualify)."""
    return all(t.stride(-1) == 1 and t.stride(-2) == t.shape[-1] for t in tensors)


def _strides(t: torch.Tensor) -> list[ctypes.c_longlong]:
    """(network, layer) strides of a (b, L, rows, cols) view whose blocks are contiguous."""
    if not blocks_contiguous(t):
        raise ValueError("each (rows, cols) block must be contiguous")
    return [ctypes.c_longlong(t.stride(0)), ctypes.c_longlong(t.stride(1))]


@dataclasses.dataclass(frozen=True)
class LayerStats:
    """Per-layer norms of the streamed metrics (numerics.metrics), float64 (b, L) tensors, with
    the paper's layer norm ||Z_k|| = ||V_k||_F + ||W_k||_F: gap (b, L-1) = ||Z_{k+1} - Z_k||,
    dist = ||Z_k - Z0_k||, norm = ||Z_k||, gnorm = ||gV_k||_F + ||gW_k||_F and
    gsq = ||gV_k||_F^2 + ||gW_k||_F^2 (g the gradient dl/dZ_k)."""

    gap: torch.Tensor
    dist: torch.Tensor
    norm: torch.Tensor
    gnorm: torch.Tensor
    gsq: torch.Tensor


class Sweeps:
    """The compiled forward and backward sweeps for one (activation, q, m, dtype)."""

    def __init__(self, lib: ctypes.CDLL, double: bool) -> None:
        self.lib, self.scalar = lib, ctypes.c_double if double else ctypes.c_float

    def bind(self, s_out: float, s_in: float, V: torch.Tensor, W: torch.Tensor,
             H: torch.Tensor, A: torch.Tensor, D: torch.Tensor, P: torch.Tensor,
             gV: torch.Tensor, gW: torch.Tensor,
             Z0: tuple[torch.Tensor, torch.Tensor] | None = None) -> Bound:
        """The sweeps bound to these buffers (updated in place between calls): V (b, L, q, m),
        W (b, L, m, q) as stored (scaled by s_out, s_in inside); H (b, L+1, n, q), A = sigma(u)
        and D = sigma'(u) (b, L, n, m); P (b, L+1, n, q); the gradients gV (b, L, q, m) and
        gW (b, L, m, q); the initial weights Z0 = (V0, W0) for the per-layer metrics."""
        return Bound(self, s_out, s_in, (V, W, H, A, D, P, gV, gW), Z0)


class Bound:
    """:class:`Sweeps` bound to one workspace's buffers: the foreign-call arguments are built
    once, so that a training step costs two foreign calls and no Python per tensor."""

    def __init__(self, sweeps: Sweeps, s_out: float, s_in: float,
                 buffers: tuple[torch.Tensor, ...], Z0: tuple[torch.Tensor, torch.Tensor] | None
                 ) -> None:
        V, H = buffers[0], buffers[2]
        b, L, n, q, m = V.shape[0], V.shape[1], H.shape[2], V.shape[2], V.shape[3]
        self.buffers, self._lib, self._scalar = buffers, sweeps.lib, sweeps.scalar
        self._claimed = ctypes.c_int(0)
        # two threads only where a sweep's products outweigh a pool thread's wake-up
        self._threads = 2 if b > 1 and b * L * n * q * m >= _SPLIT_MACS else 1
        head = [ctypes.byref(self._claimed), ctypes.c_int(0), ctypes.c_int(b), ctypes.c_int(L),
                ctypes.c_int(n), self._scalar(s_out), self._scalar(s_in)]
        self._forward = [*head, *_pointers(buffers[:5])]
        self._backward = [*head, self._scalar(0.0), *_pointers(buffers)]
        self.stats: LayerStats | None = None
        if Z0 is None:
            zero = ctypes.c_longlong(0)
            self._backward += [None, zero, zero, None, zero, zero, *[None] * 5]
        else:
            self.stats = LayerStats(torch.empty(b, L - 1, dtype=torch.float64),
                                    *(torch.empty(b, L, dtype=torch.float64) for _ in range(4)))
            self._backward += [*_pointers(Z0), *(_ptr(getattr(self.stats, f.name))
                                                 for f in dataclasses.fields(self.stats))]

    def _run(self, call: object, args: list[object]) -> None:
        """call(claimed, from_back, ...) on this thread (networks from the front) and, with two
        threads, on a pool thread (from the back), sharing the counter of networks taken: a
        thread woken late (0.1-0.5 ms on a shared 2-core VM) or slowed takes fewer."""
        self._claimed.value = 0
        if self._threads == 1:
            call(*args)  # type: ignore[operator]
            return
        other = _POOL.submit(call, args[0], ctypes.c_int(1), *args[2:])  # type: ignore[arg-type]
        call(*args)  # type: ignore[operator]
        other.result()

    def forward(self) -> None:
        """Fills H[:, 1:] from H[:, 0], and A, D."""
        self._run(self._lib.forward, self._forward)

    def backward(self, step: float = 0.0) -> LayerStats | None:
        """With H, A, D as the forward left them and P[:, L] given: fills P[:, :L] and the
        gradients gV = s_out p^T a, gW = s_in g^T h with g = D * (p s_out V).  With Z0, also
        the per-layer norms of the metrics at the weights on entry (:attr:`stats`, overwritten
        by each call), computed while each layer is in cache.  A nonzero ``step`` then also
        updates V <- V + step gV, W <- W + step gW (in cache)."""
        self._backward[7] = self._scalar(step)
        self._run(self._lib.backward, self._backward)
        return self.stats


def _pointers(tensors: tuple[torch.Tensor, ...]) -> list[object]:
    """Each tensor's data pointer and (network, layer) strides (blocks_contiguous views)."""
    return [arg for t in tensors for arg in (_ptr(t), *_strides(t))]


def sweeps(activation: str, q: int, m: int, dtype: torch.dtype,
           device: torch.device) -> Sweeps | None:
    """The compiled sweeps for this configuration, or None (see :func:`status`)."""
    if status(activation, q, m, dtype, device) != "native":
        return None
    build = _library(activation, q, m, dtype == torch.float64)
    assert isinstance(build, _Build)
    return Sweeps(build.lib, dtype == torch.float64)


@functools.cache
def _compiler_version(cc: str) -> str:
    """The first line of ``cc --version`` ("unknown" when it cannot be run)."""
    try:
        done = subprocess.run([cc, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (done.stdout.strip().splitlines() or ["unknown"])[0]


def engine(device: str | torch.device = "cpu") -> dict[str, Any]:
    """Which engine runs model (3)'s sweeps on ``device`` (results.json's
    ``environment.engine``, docs/results-json.md; a sweep's resume keys).

    ``name`` "native": the compiled sweeps serve every configuration within their reach (an
    activation of :data:`ACTIVATIONS`, q m <= ``max_qm``; torch's sweeps the others), built by
    ``compiler`` (its path) of ``compiler_version`` with ``flags`` for the CPU of ``cpu_flags``
    (what -march=native compiles for); ``name`` "torch": torch's sweeps everywhere, ``reason``
    why.  Always ``torch`` (its version); on CUDA ``cuda`` (its version) and ``cuda_graph``
    (:func:`numerics.flow.train` replays each step of model (3) as one captured CUDA graph).
    """
    dev = torch.device(device)
    reason = status("tanh", 2, 2, torch.float64, dev)  # a configuration within their reach
    out: dict[str, Any] = {"name": "torch", "reason": reason}
    if reason == "native":
        build = _library("tanh", 2, 2, True)
        assert isinstance(build, _Build)
        cc = _compiler()
        assert cc is not None
        out = {"name": "native", "compiler": shutil.which(cc) or cc,
               "compiler_version": _compiler_version(cc), "flags": list(build.flags),
               "cpu_flags": _machine().partition(":")[2].strip() or _machine(), "max_qm": MAX_QM}
    out["torch"] = torch.__version__
    if dev.type == "cuda":
        out.update(cuda=torch.version.cuda, cuda_graph=True)
    return out
