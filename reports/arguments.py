"""The validated arguments of ``resnet-ode report``: bad input fails here, first (ConfigError ->
exit 2), before any output folder is locked or any section computed."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from numerics.device import resolve
from numerics.realdata import load_cifar_folder
from reports.sections import SCALES
from theory.catalog import catalog
from theory.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """The validated arguments of one report run."""

    out: Path
    scale: str = "quick"
    seed: int = 0
    device: str = "cpu"
    only: tuple[str, ...] | None = None
    data_dir: str | None = None
    force: bool = False

    def __post_init__(self) -> None:
        if self.scale not in SCALES:
            raise ConfigError("scale", self.scale, f"must be one of {', '.join(SCALES)}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError("seed", self.seed, "must be a non-negative integer")
        if self.only is not None:
            if not self.only:
                raise ConfigError("only", "", "needs at least one statement id")
            for sid in self.only:
                catalog[sid]  # ConfigError naming the unknown id
        if self.device == "cuda":
            resolve("cuda")  # ConfigError when CUDA is not available
        elif self.device != "cpu":
            raise ConfigError("device", self.device, "must be cpu or cuda")
        if self.data_dir is not None:  # an empty or malformed folder fails here, first
            load_cifar_folder(self.data_dir)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> RunSpec:
        scale = getattr(args, "scale", None) or ("paper" if args.paper else "quick")
        only = None if args.only is None else tuple(
            s.strip() for s in args.only.split(",") if s.strip())
        return cls(Path(args.out), scale, args.seed, args.device, only, args.data_dir,
                   args.force)
