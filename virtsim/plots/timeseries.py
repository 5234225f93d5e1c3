"""Utilization and steal over time, from the ``timeseries`` table (``sample_interval``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from ._common import axes_or_new, legend_right, require_columns
from .labels import wrap
from .units import set_percent_axis, set_unit_axis

__all__ = ["TIMESERIES_NEEDS", "utilization_over_time"]

TIMESERIES_NEEDS = ("start_s", "time_s", "consumer", "cpu_utilization", "steal_fraction")

_DEFAULT_KINDS = ("host", "vm", "container")


def _busiest(timeseries: pd.DataFrame, consumers: list[str], limit: int) -> list[str]:
    """The ``limit`` consumers with the highest mean utilization, in their table order."""
    rows = timeseries[timeseries["consumer"].isin(consumers)]
    mean = rows.groupby("consumer", sort=False)["cpu_utilization"].mean()
    keep = set(mean.sort_values(ascending=False, kind="stable").index[:limit])
    return [c for c in consumers if c in keep]


def utilization_over_time(timeseries: pd.DataFrame, consumers: Sequence[str] | None = None, *,
                          steal: bool = True, limit: int | None = 8, ax=None):
    """Draw each consumer's CPU utilization per interval (solid) and its steal (dashed, same colour).

    ``timeseries`` needs the columns start_s, time_s, consumer, cpu_utilization
    and steal_fraction (``Results.timeseries``, ``timeseries.csv``). Both are
    fractions of the consumer's capacity, averaged over each interval, so
    they are drawn as steps. ``consumers`` picks the paths to draw (default:
    every host, VM and container, the ``kind`` column permitting; not the
    layers' own threads), at most ``limit`` of them: the busiest (by mean
    utilization; the legend's title says how many were left out), so the
    legend stays readable; it has one entry per consumer and one for all the
    dashed steal lines. The time axis is in the unit the run's length needs. Returns
    the Axes.
    """
    require_columns(timeseries, TIMESERIES_NEEDS, "utilization_over_time")
    left_out = ""
    if consumers is None:
        rows = timeseries
        if "kind" in timeseries.columns:
            rows = timeseries[timeseries["kind"].isin(_DEFAULT_KINDS)]
        consumers = list(dict.fromkeys(rows["consumer"]))
        if limit is not None and len(consumers) > limit:
            total = len(consumers)
            consumers = _busiest(timeseries, consumers, limit)
            left_out = f"the {limit} busiest of {total}"
    else:
        known = set(timeseries["consumer"])
        unknown = [c for c in consumers if c not in known]
        if unknown:
            raise ValueError(f"utilization_over_time: no consumer {', '.join(map(repr, unknown))} in the table; "
                             f"it has: {', '.join(dict.fromkeys(timeseries['consumer']))}")
    ax = axes_or_new(ax, figsize=(9.0, 4.5))
    handles = []
    by_consumer = timeseries.groupby("consumer", sort=False, observed=True)
    for consumer in consumers:
        rows = by_consumer.get_group(consumer).sort_values("start_s")
        edges = np.append(rows["start_s"].to_numpy(dtype=float), rows["time_s"].to_numpy(dtype=float)[-1:])
        # baseline=None: no vertical edges down to 0 at the ends, which would read as data.
        drawn = ax.stairs(rows["cpu_utilization"].to_numpy(dtype=float), edges, baseline=None,
                          label=consumer, linewidth=1.5)
        handles.append(Line2D([], [], color=drawn.get_edgecolor(), linewidth=1.5, label=wrap(consumer, 24)))
        if steal:
            ax.stairs(rows["steal_fraction"].to_numpy(dtype=float), edges, baseline=None,
                      color=drawn.get_edgecolor(), linestyle="--", linewidth=1.0, label=f"{consumer} steal")
    if steal:  # one entry for every dashed line: the legend stays half as long
        handles.append(Line2D([], [], color="grey", linestyle="--", linewidth=1.0, label="its steal (dashed)"))
    set_unit_axis(ax.xaxis, timeseries["time_s"].to_numpy(dtype=float), "simulated time")
    set_percent_axis(ax.yaxis, "share of its CPU capacity")
    ax.set_title("CPU utilization" + (" and steal" if steal else "") + " per interval")
    ax.set_ylim(bottom=0)
    legend_right(ax, title=left_out or None, handles=handles, ncols=2 if len(handles) > 10 else 1)
    return ax
