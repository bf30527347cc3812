r"""The horizon T(n) of the width study (issue 29), set from measured decay, not a multiple of n.

A pilot (:func:`pilot`) trains, at each pilot n, :data:`PILOT_SEEDS` seeds (disjoint from the
sweeps' seeds) of a wide network (m = :data:`PILOT_RATIO` n, L = :data:`PILOT_L`, where PL is best
conditioned) for a long time and records each seed's first time t_hit with l(t) <=
:data:`numerics.thresholds.LEVEL` l(0); t_knee(n) = the slowest seed's t_hit.  T(n) =
:data:`HORIZON_FACTOR` t_knee(n), rounded up to an integer, where a pilot was measured at n
(:data:`PILOT_FILE`), and else from the fit t_knee ~ b n^alpha over the measured pilots (least
squares in log-log, extrapolated): twice the time the slowest well-conditioned seed takes to go
past the knee.  m*_interp is therefore "the width from which on a seed interpolates within twice
the time a wide network needs" (:func:`numerics.thresholds.width_point` records each seed's
t_hit and its outcome at T/2 beside it).

A horizon extrapolated when a sweep ran is checked afterwards by a pilot measured at its n and
stored apart (``checks`` in PILOT_FILE, never read by the rule: a new rule pilot would change
T(n), hence the configuration and the keys of the sweep already run there);
:func:`horizon_check` says whether the horizon used meets the rule the measured knee gives.

    python -m numerics.horizon pilot N [N ...]      (measures the rule's pilots, PILOT_FILE)
    python -m numerics.horizon check N [N ...]      (measures check pilots, PILOT_FILE's checks)
    ... [--T T]                                      (each pilot to T once, no doubling)
    python -m numerics.horizon promote N [N ...]    (a check pilot becomes the rule's pilot)

``promote`` adopts a check pilot as the rule's pilot at its n without running it again: the check
ran :func:`pilot` with the rule's seeds, network and eta, so ``pilot N --T T_pilot`` would repeat
the same numbers.  It changes T(n) at that n, and at every n whose horizon is extrapolated (the
power fit takes the new pilot in), hence their configurations and their sweeps' keys.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from numerics.device import cpu_threads
from numerics.flow import run_config
from numerics.thresholds import hit_times, study_base
from theory.config import Config
from theory.errors import ConfigError

HORIZON_FACTOR = 2.0
PILOT_RATIO = 4
PILOT_L = 8
PILOT_SEEDS = (1000, 1001, 1002, 1003, 1004)
PILOT_FILE = Path(__file__).resolve().parent.parent / "reports" / "data" / "width-pilot.json"
"""The measured pilots (:func:`pilot`, one JSON object per n: t_hit per seed, t_knee, T_pilot,
wall time, machine), written by ``python -m numerics.horizon pilot N ...``.  A data file, not
code: a new pilot changes the horizon (hence the configuration and the sweep's keys) of its own n
and of every n whose horizon is extrapolated from the pilots (the power fit moves)."""


def pilot(base: Config, n: int, T_pilot: float | None = None,
          doublings: int = 3) -> dict[str, Any]:
    """t_hit per seed for the wide pilot network at ``n`` (m = PILOT_RATIO n, L = PILOT_L, seeds
    PILOT_SEEDS), run to ``T_pilot`` (default 6 n^0.8 + 60) and, while a seed has not reached
    the level, again to twice the horizon (at most ``doublings`` times); ``T_pilot`` in the
    result is the last run's horizon; t_knee = the slowest seed's t_hit (None when one did not
    reach the level within it); JSON-ready."""
    T = float(T_pilot if T_pilot is not None else math.ceil(6 * n ** 0.8 + 60))
    began = time.perf_counter()
    for k in range(doublings + 1):
        c = dataclasses.replace(base, n=n, m=PILOT_RATIO * n, L=PILOT_L, T=T * 2 ** k,
                                seeds=PILOT_SEEDS)
        result = run_config(c, seeds=c.seeds, record_every=max(1, c.iterations // 400))
        hits = hit_times(result)
        if all(math.isfinite(h) for h in hits):
            break
    knee = max(hits) if all(math.isfinite(h) for h in hits) else math.inf
    return {"n": n, "m": c.m, "L": c.L, "T_pilot": c.T, "eta": c.eta, "seeds": list(PILOT_SEEDS),
            "t_hit": [h if math.isfinite(h) else None for h in hits],
            "t_knee": knee if math.isfinite(knee) else None,
            "wall_s": time.perf_counter() - began, "machine": platform.node() + " "
            + platform.processor()}


def _entries(key: str, path: Path | None) -> list[dict[str, Any]]:
    """The list ``key`` of the pilot file (empty when the file or the list is absent)."""
    try:
        data = json.loads((PILOT_FILE if path is None else path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return list(data.get(key, []))


def pilots(path: Path | None = None) -> dict[int, float]:
    """The measured t_knee per pilot n (:data:`PILOT_FILE`; a pilot whose slowest seed never
    reached the level is left out)."""
    return {int(e["n"]): float(e["t_knee"]) for e in _entries("pilots", path) if e.get("t_knee")}


def check_pilots(path: Path | None = None) -> dict[int, dict[str, Any]]:
    """The check pilots per n (:data:`PILOT_FILE`'s ``checks``: :func:`pilot` entries measured
    after a sweep ran at n on an extrapolated horizon; not read by :func:`horizon`)."""
    return {int(e["n"]): e for e in _entries("checks", path)}


def horizon_check(T_used: float, entry: Mapping[str, Any]) -> dict[str, Any]:
    """Does the horizon ``T_used`` meet the rule T = ceil(2 t_knee) of the pilot ``entry``
    measured afterwards?  ``rule_T``, ``meets`` = T_used >= rule_T and ``ratio`` = T_used /
    (2 t_knee).  Where a pilot seed did not reach the level within the pilot's T_pilot, t_knee
    > T_pilot: ``rule_T`` is None, ``rule_T_above`` = 2 T_pilot, and ``meets`` is False where
    T_used <= 2 T_pilot, else None (unknown)."""
    knee, T_pilot = entry.get("t_knee"), float(entry["T_pilot"])
    if knee is None:
        rule = ratio = None
        meets = None if T_used > HORIZON_FACTOR * T_pilot else False
    else:
        rule = float(math.ceil(HORIZON_FACTOR * knee - 1e-9))
        meets, ratio = T_used >= rule, T_used / (HORIZON_FACTOR * knee)
    return {"n": int(entry["n"]), "T": float(T_used), "t_knee": knee, "t_hit": entry["t_hit"],
            "T_pilot": T_pilot, "rule_T": rule, "rule_T_above": HORIZON_FACTOR * T_pilot,
            "meets": meets, "ratio": ratio}


def fit_horizon(measured: Mapping[int, float] | None = None) -> tuple[float, float]:
    """(b, alpha) of t_knee(n) ~ b n^alpha, least squares in log-log over the pilots."""
    measured = pilots() if measured is None else measured
    if len(measured) < 2:
        raise ConfigError("pilots", dict(measured), "the horizon rule needs >= 2 measured pilots")
    x, y = np.log(list(measured)), np.log(list(measured.values()))
    alpha, log_b = np.polyfit(x, y, 1)
    return float(math.exp(log_b)), float(alpha)


def horizon(n: int, measured: Mapping[int, float] | None = None) -> float:
    """T(n) = HORIZON_FACTOR t_knee(n), rounded up to an integer: the measured pilot's t_knee
    where one exists at n, else the power fit's b n^alpha (:func:`fit_horizon`, extrapolated)."""
    measured = pilots() if measured is None else measured
    if n in measured:
        knee = measured[n]
    else:
        b, alpha = fit_horizon(measured)
        knee = b * n ** alpha
    return float(math.ceil(HORIZON_FACTOR * knee - 1e-9))


# --------------------------------------------------------------------------- command line


_USAGE = ("usage: python -m numerics.horizon (pilot | check) N [N ...] [--T T] | promote N "
          "[N ...]  (N: integers >= 2; --T: run each pilot to T once, no doubling; promote: a "
          "check pilot at N becomes the rule's)")


def _store(entry: dict[str, Any], key: str, path: Path) -> None:
    """Put ``entry`` into the list ``key`` of the pilot file (replacing the one at its n),
    atomically: a temporary sibling, then os.replace."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {"rule": "T(n) = 2 t_knee(n); numerics.horizon.horizon", "pilots": []}
    data[key] = sorted([e for e in data.get(key, []) if e["n"] != entry["n"]] + [entry],
                       key=lambda e: e["n"])
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(data, indent=1) + "\n")
    os.replace(tmp, path)


def promotable(n: int, path: Path = PILOT_FILE) -> dict[str, Any]:
    """The check pilot at ``n``, where it ran the rule's pilot network (m = PILOT_RATIO n,
    L = PILOT_L, the study's eta, PILOT_SEEDS); else ConfigError."""
    entry = check_pilots(path).get(n)
    if entry is None:
        raise ConfigError("promote", n, f"no check pilot at n = {n} in {path.name}")
    rule = {"m": PILOT_RATIO * n, "L": PILOT_L, "eta": study_base().eta,
            "seeds": list(PILOT_SEEDS)}
    if {k: entry.get(k) for k in rule} != rule:
        raise ConfigError("promote", n, f"the check pilot at n = {n} is not the rule's pilot "
                          f"network {rule}")
    return dict(entry)


def _positive(text: str) -> bool:
    try:
        return math.isfinite(float(text)) and float(text) > 0
    except ValueError:
        return False


def _main(argv: Sequence[str] | None = None, path: Path = PILOT_FILE) -> None:
    """``python -m numerics.horizon pilot N ...``: the rule's pilot at each N; ``check N ...``:
    a check pilot at each N; ``promote N ...``: the check pilot at each N becomes the rule's
    (JSON lines).  Bad arguments: one line, exit status 2."""
    args = list(sys.argv[1:] if argv is None else argv)
    T, ns = None, args[1:]
    if "--T" in ns:
        k = ns.index("--T")
        T, ns = (ns[k + 1] if k + 1 < len(ns) else ""), ns[:k] + ns[k + 2:]
    if (not args or args[0] not in ("pilot", "check", "promote") or not ns
            or not all(a.isdigit() and int(a) >= 2 for a in ns)
            or (T is not None and (args[0] == "promote" or not _positive(T)))):
        print(_USAGE, file=sys.stderr)
        raise SystemExit(2)
    if args[0] == "promote":  # every n checked before any is stored
        try:
            entries = [promotable(int(n), path) for n in ns]
        except ConfigError as exc:
            print(f"error: {exc.rule}", file=sys.stderr)
            raise SystemExit(2) from None
        for entry in entries:
            _store(entry, "pilots", path)
            print(json.dumps(entry), flush=True)
        return
    key = "pilots" if args[0] == "pilot" else "checks"
    with cpu_threads():
        for n in ns:
            entry = (pilot(study_base(), int(n)) if T is None else
                     pilot(study_base(), int(n), T_pilot=float(T), doublings=0))
            print(json.dumps(entry), flush=True)
            _store(entry, key, path)


if __name__ == "__main__":
    _main()
