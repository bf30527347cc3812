"""Device and dtype resolution: CPU by default, CUDA only when asked for and present.

>>> resolve("cpu", "float64")
(device(type='cpu'), torch.float64)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from theory.errors import ConfigError

DTYPES: dict[str, torch.dtype] = {"float64": torch.float64, "float32": torch.float32}


def resolve(device: str = "cpu", dtype: str = "float64") -> tuple[torch.device, torch.dtype]:
    """The torch device and dtype for the names of :class:`theory.config.Config`.

    Raises :class:`ConfigError` for an unknown name, and ``ConfigError("device", "cuda", "CUDA is
    not available")`` when CUDA is asked for on a machine without it.
    """
    if dtype not in DTYPES:
        raise ConfigError("dtype", dtype, f"must be one of {', '.join(DTYPES)}")
    if device == "cpu":
        return torch.device("cpu"), DTYPES[dtype]
    if device == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError("device", "cuda", "CUDA is not available")
        return torch.device("cuda"), DTYPES[dtype]
    raise ConfigError("device", device, "must be one of cpu, cuda")


def dtype_name(dtype: torch.dtype) -> str:
    """The configuration name (``"float64"`` / ``"float32"``) of a torch dtype."""
    for name, value in DTYPES.items():
        if value == dtype:
            return name
    raise ConfigError("dtype", str(dtype), f"must be one of {', '.join(DTYPES)}")


THREADS = 1
"""torch's intra-op CPU threads for every check, report and sweep task: the same numbers
whichever command runs a configuration (a reduction split over two threads rounds differently),
and no fork-join cost on the small products of these networks (:func:`numerics.flow.single_thread`).
"""


@contextlib.contextmanager
def cpu_threads() -> Iterator[None]:
    """Run the block with :data:`THREADS` intra-op threads, restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(THREADS)
    try:
        yield
    finally:
        torch.set_num_threads(before)
