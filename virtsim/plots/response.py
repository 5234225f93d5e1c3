"""Response time against load: one line per stack, with confidence intervals when known."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..analysis.stats import confidence_interval
from ._common import axes_or_new, legend_right, require_columns, value_column
from .labels import axis_label, axis_names, capitalized, metric_quantity, value_text
from .units import set_unit_axis

__all__ = ["response_time_vs_load"]


def _ci_columns(table: pd.DataFrame, metric: str) -> tuple[str, ...] | None:
    """The 95 % CI of ``metric``: its lower and upper bound columns, or its half-width column, if present."""
    base = metric[:-2] if metric.endswith("_s") else metric
    for low, high in ((f"{metric}_ci95_low", f"{metric}_ci95_high"),
                      (f"{base}_ci95_low_s", f"{base}_ci95_high_s")):
        if low in table.columns and high in table.columns:
            return low, high
    if f"{metric}_ci95" in table.columns:  # the scenarios table: mean ± half-width
        return (f"{metric}_ci95",)
    return None


def _points(rows: pd.DataFrame, load: str, value: str, bounds, replicated: bool) -> pd.DataFrame:
    """One row per load level: the value and its CI bounds (NaN where unknown)."""
    groups = rows.groupby(load, sort=True)
    points = groups[[value, *(bounds or ())]].mean()
    if bounds and len(bounds) == 2:
        points["low"], points["high"] = points[bounds[0]], points[bounds[1]]
    elif bounds:
        points["low"], points["high"] = points[value] - points[bounds[0]], points[value] + points[bounds[0]]
    elif replicated:  # replications as rows: a Student-t interval over them
        half = groups[value].apply(lambda v: confidence_interval(v)[1])
        points["low"], points["high"] = points[value] - half, points[value] + half
    else:
        points["low"] = points["high"] = np.nan
    return points


def response_time_vs_load(table: pd.DataFrame, load: str, *, stack: str | None = "stack",
                          metric: str = "response_time_mean_s", ci: bool = True, ax=None):
    """Plot ``metric`` (seconds) against the ``load`` column, one line per value of ``stack``.

    ``table`` is a summary or workloads table with one row per load level (a
    sweep's summary, say), or a sweep's scenarios table (``<metric>_mean``
    and ``<metric>_ci95``), so it needs the columns ``load`` and ``metric``,
    and ``stack`` unless that is None (one line). When ``ci`` is true each
    point gets an error bar from the table's 95 % interval: the columns
    ``<metric>_ci95_low`` / ``_ci95_high`` (or ``<metric without _s>_ci95_low_s``
    / ``_high_s``), or the half-width ``<metric>_ci95``; else, when the table
    has a ``replication`` column and several rows per point, the Student-t
    interval over them. Other rows with the same load and stack are
    averaged. The time axis is in the unit its data need. Returns the Axes.
    """
    value = value_column(table, metric)
    require_columns(table, [load, value] + ([stack] if stack else []), "response_time_vs_load")
    ax = axes_or_new(ax, figsize=(8.0, 4.5))
    bounds = _ci_columns(table, metric) if ci else None
    replicated = ci and "replication" in table.columns
    groups = table.groupby(stack, sort=False, observed=True) if stack else [(None, table)]
    reach = []
    for name, rows in groups:
        points = _points(rows, load, value, bounds, replicated)
        x = points.index.to_numpy()
        y = points[value].to_numpy(dtype=float)
        label = None if name is None else value_text(name)
        low, high = points["low"].to_numpy(dtype=float), points["high"].to_numpy(dtype=float)
        if np.isfinite(low).any():
            err = np.vstack([np.nan_to_num(y - low), np.nan_to_num(high - y)])
            ax.errorbar(x, y, yerr=err, marker="o", capsize=4, label=label)
            reach.append(np.nan_to_num(high, nan=0.0))
        else:
            ax.plot(x, y, marker="o", label=label)
        reach.append(y)
    names = axis_names([load] + ([stack] if stack else []))
    ax.set_xlabel(axis_label(names, load))
    quantity = metric_quantity(metric)
    set_unit_axis(ax.yaxis, np.concatenate(reach) if reach else [], quantity)
    ax.set_title(f"{capitalized(quantity)} against {names[load]}"
                 + ("  (bars: 95 % CI)" if ax.containers else ""))
    ax.set_ylim(bottom=0)
    loads = pd.to_numeric(table[load], errors="coerce").dropna()
    if len(loads) and (loads == loads.round()).all():  # counts (clients, cores): whole ticks only
        ax.xaxis.get_major_locator().set_params(integer=True)
    if stack:
        legend_right(ax, title=names[stack])
    return ax
