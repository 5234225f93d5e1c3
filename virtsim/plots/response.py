"""Response time against load: one line per stack, with confidence intervals when known."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._common import axes_or_new, require_columns

__all__ = ["response_time_vs_load"]


def _ci_columns(table: pd.DataFrame, metric: str) -> tuple[str, str] | None:
    """The lower and upper 95 % bound columns of ``metric``, under either naming, if present."""
    base = metric[:-2] if metric.endswith("_s") else metric
    for low, high in ((f"{metric}_ci95_low", f"{metric}_ci95_high"),
                      (f"{base}_ci95_low_s", f"{base}_ci95_high_s")):
        if low in table.columns and high in table.columns:
            return low, high
    return None


def response_time_vs_load(table: pd.DataFrame, load: str, *, stack: str | None = "stack",
                          metric: str = "response_time_mean_s", ci: bool = True, ax=None):
    """Plot ``metric`` (seconds) against the ``load`` column, one line per value of ``stack``.

    ``table`` is a summary or workloads table with one row per load level (a
    sweep's summary, say), so it needs the columns ``load`` and ``metric``, and
    ``stack`` unless that is None (one line). When ``ci`` is true and the table
    has ``<metric>_ci95_low`` / ``_ci95_high`` (or ``<metric without _s>_ci95_low_s`` /
    ``_high_s``), each point gets an error bar. Rows with the same load and
    stack are averaged. Returns the Axes.
    """
    require_columns(table, [load, metric] + ([stack] if stack else []), "response_time_vs_load")
    ax = axes_or_new(ax)
    bounds = _ci_columns(table, metric) if ci else None
    columns = [metric, *(bounds or ())]
    groups = table.groupby(stack, sort=False, observed=True) if stack else [(None, table)]
    for name, rows in groups:
        points = rows.groupby(load, sort=True)[columns].mean()
        x = points.index.to_numpy()
        y = points[metric].to_numpy(dtype=float)
        label = None if name is None else str(name)
        if bounds:
            low, high = (points[c].to_numpy(dtype=float) for c in bounds)
            ax.errorbar(x, y, yerr=np.vstack([y - low, high - y]), marker="o", capsize=3, label=label)
        else:
            ax.plot(x, y, marker="o", label=label)
    ax.set_xlabel(load)
    ax.set_ylabel(metric.replace("_", " ").removesuffix(" s") + " (s)")
    ax.set_title("Response time vs load")
    ax.set_ylim(bottom=0)
    if stack:
        ax.legend(title=stack, fontsize="small")
    return ax
