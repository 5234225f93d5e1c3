"""Utilization and steal over time, from the ``timeseries`` table (``sample_interval``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ._common import axes_or_new, require_columns

__all__ = ["TIMESERIES_NEEDS", "utilization_over_time"]

TIMESERIES_NEEDS = ("start_s", "time_s", "consumer", "cpu_utilization", "steal_fraction")

_DEFAULT_KINDS = ("host", "vm", "container")


def utilization_over_time(timeseries: pd.DataFrame, consumers: Sequence[str] | None = None, *,
                          steal: bool = True, ax=None):
    """Draw each consumer's CPU utilization per interval (solid) and its steal (dashed, same colour).

    ``timeseries`` needs the columns start_s, time_s, consumer, cpu_utilization
    and steal_fraction (``Results.timeseries``, ``timeseries.csv``). Both are
    fractions of the consumer's capacity, averaged over each interval, so
    they are drawn as steps. ``consumers`` picks the paths to draw (default:
    every host, VM and container, the ``kind`` column permitting; not the
    layers' own threads). Returns the Axes.
    """
    require_columns(timeseries, TIMESERIES_NEEDS, "utilization_over_time")
    if consumers is None:
        rows = timeseries
        if "kind" in timeseries.columns:
            rows = timeseries[timeseries["kind"].isin(_DEFAULT_KINDS)]
        consumers = list(dict.fromkeys(rows["consumer"]))
    else:
        unknown = [c for c in consumers if c not in set(timeseries["consumer"])]
        if unknown:
            raise ValueError(f"utilization_over_time: no consumer {', '.join(map(repr, unknown))} in the table; "
                             f"it has: {', '.join(dict.fromkeys(timeseries['consumer']))}")
    ax = axes_or_new(ax, figsize=(8.0, 4.0))
    for consumer in consumers:
        rows = timeseries[timeseries["consumer"] == consumer].sort_values("start_s")
        edges = np.append(rows["start_s"].to_numpy(dtype=float), rows["time_s"].to_numpy(dtype=float)[-1:])
        # baseline=None: no vertical edges down to 0 at the ends, which would read as data.
        drawn = ax.stairs(rows["cpu_utilization"].to_numpy(dtype=float), edges, baseline=None, label=consumer,
                          linewidth=1.5)
        if steal:
            ax.stairs(rows["steal_fraction"].to_numpy(dtype=float), edges, baseline=None,
                      color=drawn.get_edgecolor(), linestyle="--", linewidth=1.0, label=f"{consumer} steal")
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel("fraction of capacity")
    ax.set_title("CPU utilization" + (" (solid) and steal (dashed)" if steal else "") + " per interval")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return ax
