"""What every plot function shares: checking its input table, getting an Axes, placing a legend."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

__all__ = ["SLIDE_STYLE", "axes_or_new", "legend_above", "legend_right", "policy_columns", "require_columns",
           "swept_columns", "value_column", "varying_columns"]

SLIDE_STYLE = {
    "font.size": 12,
    "axes.titlesize": 14,
    "axes.labelsize": 12,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "legend.fontsize": 11,
    "legend.title_fontsize": 11,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
"""Matplotlib settings for pictures shown on a slide (``virtsim plot`` draws under them):
text that stays legible on a projector, less ink on the frame."""


def require_columns(table: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise ``ValueError`` naming the columns ``what`` needs that ``table`` lacks."""
    if not isinstance(table, pd.DataFrame):
        raise ValueError(f"{what} takes a pandas DataFrame, got {type(table).__name__}")
    missing = [c for c in dict.fromkeys(columns) if c not in table.columns]
    if missing:
        have = ", ".join(map(str, table.columns)) or "none"
        raise ValueError(f"{what} needs the column(s) {', '.join(missing)}; the table has: {have}")


def value_column(table: pd.DataFrame, metric: str) -> str:
    """``metric`` itself, or its per-scenario mean (``<metric>_mean``, the scenarios table) when only that is there."""
    if isinstance(table, pd.DataFrame) and metric not in table.columns and f"{metric}_mean" in table.columns:
        return f"{metric}_mean"
    return metric


def swept_columns(table: pd.DataFrame) -> list[str]:
    """The columns named by a swept field (``hosts[0].vms[0].vcpus``, ``placement.policy``), in table order."""
    return [c for c in table.columns if isinstance(c, str) and ("." in c or "[" in c)]


def varying_columns(table: pd.DataFrame, columns: Iterable[str]) -> list[str]:
    """Those of ``columns`` that ``table`` has and that take several values in it (NaN counts as one)."""
    return [c for c in columns if c in table.columns and table[c].nunique(dropna=False) > 1]


def policy_columns(table: pd.DataFrame, axes: Iterable[str]) -> list[str]:
    """The swept ``axes`` that vary in ``table``, placement's first: when some ``placement.*`` field
    varies, only those (the policies being compared), else every varying one."""
    varying = varying_columns(table, axes)
    return [c for c in varying if c.startswith("placement.")] or varying


def axes_or_new(ax, figsize: tuple[float, float] = (6.4, 4.0)):
    """``ax`` itself, or the Axes of a new figure when it is None (the only time a figure is made).

    A new figure uses constrained layout, which makes room for the legends and
    labels outside the Axes.
    """
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def legend_above(ax, title: str, *, ncols: int = 3, handles=None, labels=None):
    """A legend in a band between the Axes and its ``title``, from the Axes' left edge: it covers no data.

    The title is lifted by the band's height, measured, so the two never overlap.
    """
    from matplotlib.font_manager import FontProperties

    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    ncols = max(1, min(ncols, len(handles)))
    legend = ax.legend(handles, labels, ncols=ncols, loc="lower left", bbox_to_anchor=(0.0, 1.0),
                       frameon=False, borderaxespad=0.3, fontsize="small", columnspacing=1.5)
    size = FontProperties(size="small").get_size_in_points()
    # Its height does not depend on the layout, only on its text: measurable now.
    height = legend.get_window_extent().height * 72.0 / ax.figure.dpi
    ax.set_title(title, pad=height + 0.3 * size + 6)
    return legend


def legend_right(ax, title: str | None = None, **options):
    """A legend outside the Axes, on its right, top-aligned: it covers no data."""
    return ax.legend(title=title, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0,
                     frameon=False, fontsize="small", **options)
