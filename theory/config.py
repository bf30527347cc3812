"""One validated, immutable configuration shared by every layer.

A :class:`Config` describes one experiment in the paper's notation (Section 3 and
docs/statements.md, Conventions):
sample size ``n``, input dimension ``d``, output dimension ``d_out`` (the paper's d'), hidden
dimension ``q``, width ``m``, depth ``L``, flow-time horizon ``T`` and Euler step ``eta``
(flow-time units: after N iterations t = N * eta), the activation sigma, the initialization and the
clipping map pi of the clipped flow (5).  Each statement reads the fields it needs; the
statement's assumptions (not this class) decide whether it applies.  What this class rejects is
input that no statement can use: a non-positive size, an unknown name, q < max(d, d') (model (3)
needs q >= max(d, d')), ...

Variants are made with :func:`dataclasses.replace`, which validates again.
"""

from __future__ import annotations

import dataclasses
import json
import math
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from theory.errors import ConfigError

INITS = ("tied", "smooth", "iid")
SCALINGS = ("paper", "official")
CLIPS = ("none", "coord", "norm")
DATASETS = ("gaussian", "sphere", "digits", "cifar")
DTYPES = ("float64", "float32")
DEVICES = ("cpu", "cuda")
SEED_MAX = 2**63 - 1
"""The largest seed (``seed`` and every one of ``seeds``).  The generators take less than what
Python's integers can hold: ``torch.Generator.manual_seed`` refuses seeds past 2**64 - 1
("Overflow when unpacking long long"), and seeds are also derived by adding offsets (seed + 1 for
the PL ball's points, seed + 1_000_003 for the fresh inputs of Theorem 6 (iv), a report's base
seed + the row's seed index); 2**63 - 1 leaves them 2**63 of room."""


@dataclasses.dataclass(frozen=True)
class Config:
    """An experiment in the notation of model (3) and the gradient flow (4)/(5).

    Sizes: ``n`` samples, ``d`` input, ``d_out`` (d') output, ``q`` hidden, ``m`` width, ``L``
    depth.
    Training: horizon ``T`` and step ``eta`` in flow time; ``train_outer`` trains A and B (the
    paper's Figure 1 freezes them; None, the default: :attr:`trains_outer`, trained for the
    paper's scaling, frozen for the official one, whose released code trains V and W only);
    ``clip`` is the map pi of (5): ``"none"`` (flow (4)), ``"coord"`` (projection on the
    l-infinity ball of radius ``clip_c``) or ``"norm"`` (Frobenius norm clipping at ``clip_c``).
    Initialization: ``"tied"`` (Section 3), ``"smooth"`` (Gaussian processes with squared
    exponential covariance of length scale ``ell``, Section 4.3) or ``"iid"`` (Section 5.2).
    ``scaling="official"`` is the released code's x + sigma(x W) V / L (no width factors).
    Data: ``"gaussian"`` (x, y standard Gaussian, Section 5.1), ``"sphere"`` (||x_i|| = sqrt(q) as
    Proposition 5 assumes), ``"digits"`` (scikit-learn's, shipped) or ``"cifar"`` (a local folder
    ``data_dir`` in CIFAR-10's python-pickle format); labels are multiplied by ``y_scale``.
    ``r`` is the Hermite index of Proposition 5 (None: the smallest r >= 2 with eta_r != 0).
    ``depths``, ``seeds`` drive rate checks (a fit over L and a bootstrap over seeds); ``trials``
    and ``M_W`` drive the Monte Carlo checks of Lemmas 20 and 21.  ``appd_C`` (C > 1) and
    ``appd_x`` (x > 0) are the label ratio and the input of the scalar example of Appendix D.
    ``epochs``, ``subset`` (training images kept; None: all), ``lr`` (SGD's initial learning
    rate, cosine decay) and ``channels`` size the real-data experiment of Section 5.2 (SGD
    epochs, not flow time).
    """

    n: int = 100
    d: int = 16
    d_out: int = 16
    q: int = 16
    m: int = 32
    L: int = 64
    T: float = 5.0
    eta: float = 0.01
    activation: str = "gelu"
    r: int | None = None
    init: str = "tied"
    ell: float = 0.2
    scaling: str = "paper"
    train_outer: bool | None = None
    clip: str = "none"
    clip_c: float = 1.0
    data: str = "gaussian"
    data_dir: str | None = None
    y_scale: float = 1.0
    seed: int = 0
    seeds: tuple[int, ...] = (0, 1, 2)
    depths: tuple[int, ...] = (8, 16, 32, 64)
    trials: int = 2000
    M_W: float = 2.0
    appd_C: float = 2.0
    appd_x: float = 1.0
    epochs: int = 2
    subset: int | None = 512
    lr: float = 0.04
    channels: int = 16
    dtype: str = "float64"
    device: str = "cpu"

    def __post_init__(self) -> None:
        for name in ("n", "d", "d_out", "q", "m", "L", "trials", "epochs", "channels"):
            _positive_int(name, getattr(self, name))
        if self.subset is not None:
            _positive_int("subset", self.subset)
        for name in ("T", "eta", "ell", "clip_c", "y_scale", "appd_C", "appd_x", "lr"):
            _positive_real(name, getattr(self, name))
        if self.eta > self.T:
            raise ConfigError("eta", self.eta, f"the step must not exceed the horizon T={self.T}")
        _seed("seed", self.seed)
        if self.r is not None:
            _positive_int("r", self.r)
            if self.r < 2:
                raise ConfigError("r", self.r, "the Hermite index of Proposition 5 must be >= 2")
        _positive_real("M_W", self.M_W)
        _choice("init", self.init, INITS)
        _choice("scaling", self.scaling, SCALINGS)
        _choice("clip", self.clip, CLIPS)
        _choice("data", self.data, DATASETS)
        _choice("dtype", self.dtype, DTYPES)
        _choice("device", self.device, DEVICES)
        if self.train_outer is not None and not isinstance(self.train_outer, bool):
            raise ConfigError("train_outer", self.train_outer, "must be true, false or absent")
        for name in ("seeds", "depths"):
            value = getattr(self, name)
            if isinstance(value, list):  # JSON arrays arrive as lists
                object.__setattr__(self, name, tuple(value))
                value = getattr(self, name)
            if not isinstance(value, tuple) or not value:
                raise ConfigError(name, value, "must be a non-empty list of integers")
            check = _seed if name == "seeds" else _positive_int
            for item in value:
                check(name, item)
        if self.q < max(self.d, self.d_out):
            raise ConfigError("q", self.q, f"model (3) needs q >= max(d, d') = "
                              f"{max(self.d, self.d_out)}")
        if self.data == "cifar" and self.data_dir is None:
            raise ConfigError("data_dir", None, "data='cifar' needs a local CIFAR-10 folder")
        if self.data_dir is not None:
            if not isinstance(self.data_dir, str):
                raise ConfigError("data_dir", self.data_dir, "must be a path")
            if not Path(self.data_dir).is_dir():
                raise ConfigError("data_dir", self.data_dir, "is not an existing folder")
        if not isinstance(self.activation, str) or not self.activation.strip():
            raise ConfigError("activation", self.activation, "must be a name or a sympy expression")
        from theory.activations import get  # deferred: activations imports sympy at load

        get(self.activation)  # raises ConfigError naming the activation when it is unknown

    @property
    def trains_outer(self) -> bool:
        """Whether the flow trains A and B: ``train_outer`` where given, else the scaling's
        setting (the paper's flow (4) trains every parameter; the released code, whose A = B = I,
        trains V and W only)."""
        return self.scaling == "paper" if self.train_outer is None else self.train_outer

    @property
    def iterations(self) -> int:
        """Number of gradient steps N with N * eta = T (rounded to the nearest integer)."""
        return max(1, round(self.T / self.eta))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (tuples become lists)."""
        out = dataclasses.asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> Config:
        """Build from a mapping, rejecting unknown keys by name."""
        if not isinstance(mapping, Mapping):
            raise ConfigError("config", type(mapping).__name__, "must be a table of key = value")
        known = {f.name for f in dataclasses.fields(cls)}
        for key in mapping:
            if key not in known:
                raise ConfigError(str(key), mapping[key], f"unknown key; known keys: "
                                  f"{', '.join(sorted(known))}")
        try:
            return cls(**dict(mapping))
        except TypeError as exc:  # pragma: no cover - guarded by the key check above
            raise ConfigError("config", dict(mapping), str(exc)) from None


def load_config(path: str | Path) -> Config:
    """Read a :class:`Config` from a JSON (``.json``) or TOML (any other suffix) file."""
    data = read_file("config", path)
    if isinstance(data, dict) and "config" in data and len(data) == 1:
        data = data["config"]
    return Config.from_mapping(data)


def file_format(path: str | Path) -> str:
    """The format a file is read in: JSON for a ``.json`` suffix, TOML for any other."""
    return "JSON" if Path(path).suffix == ".json" else "TOML"


def read_file(field: str, path: str | Path) -> Any:
    """The one reader of configuration files (a ``--config`` file, a sweep file): ``path`` parsed
    in the format of its suffix (:func:`file_format`); ConfigError on ``field`` when it cannot be
    read, or naming the expected format and the parser's message (and, for JSON in a TOML file,
    what to rename it to)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(field, str(path), f"cannot be read ({exc.__class__.__name__})") \
            from None
    kind = file_format(path)
    try:
        return json.loads(text) if kind == "JSON" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        suffix = f"a {path.suffix} file" if path.suffix else "a file without a suffix"
        hint = ("" if kind == "JSON" else "; JSON is read from a .json file only")
        try:
            if kind == "TOML":
                json.loads(text)
                hint = f"; this is JSON: save it as {path.stem}.json"
        except json.JSONDecodeError:
            pass
        raise ConfigError(field, str(path), f"not valid {kind} ({suffix} is read as {kind}): "
                          f"{exc}{hint}") from None


def _seed(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= SEED_MAX:
        raise ConfigError(name, value, "must be an integer in [0, 2**63 - 1] (the seeds the "
                          "random generators take, with room for derived seeds)")


def _positive_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(name, value, "must be a positive integer")


def _positive_real(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(name, value, "must be a positive number")
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(name, value, "must be a positive finite number")


def _choice(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(name, value, f"must be one of {', '.join(allowed)}")
