"""A metric over two sweep axes, as a coloured grid."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._common import axes_or_new, require_columns

__all__ = ["sweep_heatmap"]


def sweep_heatmap(table: pd.DataFrame, x: str, y: str, value: str = "response_time_mean_s", *,
                  annotate: bool = True, cmap: str = "viridis", ax=None):
    """Colour each (``x``, ``y``) cell by the mean of ``value`` over the rows that have those values.

    ``table`` is any table with the two axis columns and the metric column,
    for example a sweep's summary whose columns are named by the swept
    fields (``hosts[0].hardware.cores``); rows repeating a cell (replications)
    are averaged, and a missing combination stays blank. Axis values keep
    their sorted order and are shown as labels, so they may be numbers or
    names. Returns the Axes (the colour bar is attached to it).
    """
    require_columns(table, [x, y, value], "sweep_heatmap")
    if x == y:
        raise ValueError(f"sweep_heatmap needs two different axis columns, got {x!r} twice")
    grid = table.pivot_table(index=y, columns=x, values=value, aggfunc="mean", sort=True, dropna=False)
    ax = axes_or_new(ax)
    data = grid.to_numpy(dtype=float)
    mesh = ax.pcolormesh(np.ma.masked_invalid(data), cmap=cmap)
    ax.figure.colorbar(mesh, ax=ax, label=value)
    ax.set_xticks(np.arange(grid.shape[1]) + 0.5, [f"{v:g}" if isinstance(v, float) else str(v) for v in grid.columns])
    ax.set_yticks(np.arange(grid.shape[0]) + 0.5, [f"{v:g}" if isinstance(v, float) else str(v) for v in grid.index])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(value)
    if annotate:
        middle = np.nanmean(data) if np.isfinite(data).any() else 0.0
        for (row, col), cell in np.ndenumerate(data):
            if np.isfinite(cell):
                ax.text(col + 0.5, row + 0.5, f"{cell:.3g}", ha="center", va="center", fontsize="small",
                        color="white" if cell < middle else "black")
    return ax
