"""A metric over two sweep axes, as a coloured grid."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._common import axes_or_new, require_columns, value_column
from .labels import axis_label, axis_names, capitalized, metric_quantity, value_text
from .units import set_unit_axis

__all__ = ["sweep_heatmap"]


def sweep_heatmap(table: pd.DataFrame, x: str, y: str, value: str = "response_time_mean_s", *,
                  annotate: bool = True, cmap: str = "viridis", ax=None):
    """Colour each (``x``, ``y``) cell by the mean of ``value`` over the rows that have those values.

    ``table`` is any table with the two axis columns and the metric column,
    for example a sweep's summary whose columns are named by the swept
    fields (``hosts[0].hardware.cores``), or its scenarios table (``<value>_mean``
    is used when ``value`` is absent, and its ``<value>_ci95`` is written
    in the cells as '± half-width'); rows repeating a cell (replications)
    are averaged, and a missing combination stays blank. Axis values keep
    their sorted order and are shown as labels, so they may be numbers or
    names. A metric in seconds is shown in the unit its data need. Returns
    the Axes (the colour bar is attached to it).
    """
    column = value_column(table, value)
    require_columns(table, [x, y, column], "sweep_heatmap")
    if x == y:
        raise ValueError(f"sweep_heatmap needs two different axis columns, got {x!r} twice")
    grid = table.pivot_table(index=y, columns=x, values=column, aggfunc="mean", sort=True, dropna=False)
    half = None
    if f"{value}_ci95" in table.columns:
        half = table.pivot_table(index=y, columns=x, values=f"{value}_ci95", aggfunc="mean", sort=True,
                                 dropna=False).reindex_like(grid).to_numpy(dtype=float)
    ax = axes_or_new(ax, figsize=(7.5, 4.8))
    data = grid.to_numpy(dtype=float)
    mesh = ax.pcolormesh(np.ma.masked_invalid(data), cmap=cmap)
    bar = ax.figure.colorbar(mesh, ax=ax)
    quantity = metric_quantity(value)
    timed = value.removesuffix("_mean").endswith("_s")
    if timed:
        unit = set_unit_axis(bar.ax.yaxis, data, quantity)
    else:
        bar.set_label(quantity)
    ax.set_xticks(np.arange(grid.shape[1]) + 0.5, [value_text(v) for v in grid.columns])
    ax.set_yticks(np.arange(grid.shape[0]) + 0.5, [value_text(v) for v in grid.index])
    names = axis_names([x, y])
    ax.set_xlabel(axis_label(names, x))
    ax.set_ylabel(axis_label(names, y))
    ax.set_title(capitalized(quantity) + (f" ({unit.symbol})" if timed else "")
                 + (", ± 95 % CI" if half is not None and np.isfinite(half).any() else ""))
    if annotate:
        size = unit.size if timed else 1.0
        middle = np.nanmean(data) if np.isfinite(data).any() else 0.0
        for (row, col), cell in np.ndenumerate(data):
            if np.isfinite(cell):
                text = f"{cell / size:.3g}"
                if half is not None and np.isfinite(half[row, col]):
                    text += f"\n± {half[row, col] / size:.2g}"
                ax.text(col + 0.5, row + 0.5, text, ha="center", va="center", fontsize="small",
                        color="white" if cell < middle else "black")
    return ax
