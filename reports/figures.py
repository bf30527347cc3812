"""Figure helpers: matplotlib on the Agg backend, one style, atomic PNG output.

Every figure is drawn from a section's saved data (JSON), so a resumed run draws the same figure.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display, deterministic raster output

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from reports.io import atomic_write_bytes  # noqa: E402

STYLE = {"font.size": 10, "axes.titlesize": 10, "axes.labelsize": 10, "legend.fontsize": 8,
         "xtick.labelsize": 9, "ytick.labelsize": 9, "axes.grid": True, "grid.alpha": 0.3,
         "figure.dpi": 110, "savefig.dpi": 110}
SCALING_NOTE = {"paper": "model (3): h + V sigma(W h / sqrt q) / (L sqrt m)",
                "official": "official code: h + sigma(h W) V / L, A and B not trained"}


def new(ncols: int = 1, width: float = 5.2, height: float = 3.8,
        nrows: int = 1) -> tuple[Figure, list[Axes]]:
    """A figure with ``nrows`` x ``ncols`` panels (``width`` x ``height`` inches each), listed
    row by row."""
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows),
                                 squeeze=False, layout="constrained")
    return fig, [ax for row in axes for ax in row]


def save(fig: Figure, path: Path) -> None:
    """Write ``fig`` as a PNG atomically and close it."""
    buffer = io.BytesIO()
    with plt.rc_context(STYLE):
        fig.savefig(buffer, format="png", metadata={"Software": None})
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())


def positive(values: Sequence[float | None]) -> list[float]:
    """The values as floats with non-positive or missing ones as NaN (gaps on log axes)."""
    return [float(v) if isinstance(v, int | float) and v > 0 and math.isfinite(v) else math.nan
            for v in values]


def slope_label(rate: dict[str, Any] | None) -> str:
    """"slope -1.00 [-1.02, -0.98]" from a :class:`numerics.rates.RateFit` dict."""
    if not rate or not isinstance(rate.get("slope"), float) or math.isnan(rate["slope"]):
        return "slope n/a"
    lo, hi = rate["interval"]
    if not (isinstance(lo, float) and isinstance(hi, float)) or lo == hi:
        return f"slope {rate['slope']:.2f}"
    return f"slope {rate['slope']:.2f} [{lo:.2f}, {hi:.2f}]"


def reference_slope(ax: Axes, xs: Sequence[float], anchor: float, slope: float = -1.0,
                    label: str = "slope -1 (1/L)") -> None:
    """A dashed guide line c x^slope through (xs[0], anchor)."""
    x0 = xs[0]
    ax.plot(xs, [anchor * (x / x0) ** slope for x in xs], "k--", lw=0.8, label=label)


def depth_axis(ax: Axes, depths: Sequence[int], label: str = "depth L") -> None:
    """A log2 x axis with the depths as plain tick labels."""
    ax.set_xscale("log", base=2)
    ax.set_xticks(list(depths), [str(L) for L in depths])
    ax.minorticks_off()
    ax.set_xlabel(label)


def legend_below(ax: Axes, ncol: int = 1) -> None:
    """The legend under the panel, so that it never hides a curve (none without labels)."""
    if not ax.get_legend_handles_labels()[0]:
        return
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=ncol, fontsize=7,
              frameon=False)


def plain_ticks(axis: Any) -> None:
    """Tick labels as plain numbers (1, 2, 3) instead of 1e0, 2x10^0 on a log axis."""
    from matplotlib.ticker import FormatStrFormatter

    axis.set_major_formatter(FormatStrFormatter("%g"))
    axis.set_minor_formatter(FormatStrFormatter("%g"))


def caption_box(ax: Axes, text: str) -> None:
    """A small note in the lower left corner of a panel."""
    ax.text(0.02, 0.02, text, transform=ax.transAxes, fontsize=7, va="bottom", ha="left",
            bbox={"boxstyle": "round", "fc": "white", "ec": "0.7", "alpha": 0.85})
