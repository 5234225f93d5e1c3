"""Where the response time went in each scenario of a sweep: one stacked bar per scenario, with its CI."""

from __future__ import annotations

import pandas as pd

from ..analysis.stats import scenario_table
from ._common import axes_or_new, require_columns, swept_columns
from .breakdown import BREAKDOWN_PARTS, draw_stacked_bars
from .labels import axis_names, value_text, wrap

__all__ = ["scenario_breakdown"]


def scenario_labels(keys: pd.DataFrame) -> tuple[list[str], str | None]:
    """A label per row of the swept values ``keys``, and the axis title when there is one axis only."""
    names = axis_names(keys.columns)
    if len(keys.columns) == 1:
        column = keys.columns[0]
        return [value_text(v) for v in keys[column]], names[column]
    labels = [" · ".join(f"{names[c]} {value_text(v)}" for c, v in zip(keys.columns, row))
              for row in keys.itertuples(index=False)]
    return labels, None


def scenario_breakdown(stacks: pd.DataFrame, *, by: list[str] | None = None, workload: str | None = None,
                       normalize: bool = False, ax=None):
    """One stacked bar per scenario of a sweep's ``stacks`` table: the mean time per job in each part.

    ``stacks`` is a sweep's stacks table (``SweepResults.stacks``,
    ``stacks.csv`` of a sweep folder): a row per scenario, replication, stack
    and workload, with the breakdown columns of :func:`time_breakdown`.
    ``by`` names the columns that tell scenarios apart (default: the swept
    fields' columns, else ``scenario``). ``workload`` keeps that workload's
    rows (default: all, each row weighted by its ``jobs_completed``). Each
    replication's breakdown is averaged over its jobs, then the replications
    are averaged; with several replications the bar's end carries the 95 %
    Student-t interval of the mean response time (not with ``normalize``).
    Returns the Axes.
    """
    if by is None:
        by = swept_columns(stacks) if isinstance(stacks, pd.DataFrame) else []
        by = by or ["scenario"]
    require_columns(stacks, [*by, *BREAKDOWN_PARTS], "scenario_breakdown")
    rows = stacks
    if workload is not None:
        require_columns(stacks, ["workload"], "scenario_breakdown")
        known = list(dict.fromkeys(stacks["workload"].astype(str)))
        if workload not in known:
            raise ValueError(f"scenario_breakdown: no workload {workload!r}; the table has: {', '.join(known)}")
        rows = stacks[stacks["workload"].astype(str) == workload]
    if rows.empty:
        raise ValueError("scenario_breakdown: the stacks table has no rows (no job completed after the warm-up)")
    parts = list(BREAKDOWN_PARTS)
    weights = rows["jobs_completed"].astype(float) if "jobs_completed" in rows.columns \
        else pd.Series(1.0, index=rows.index)
    runs = [*by, *(["replication"] if "replication" in rows.columns else [])]
    weighted = rows[parts].fillna(0.0).mul(weights, axis=0).assign(_weight=weights,
                                                                   **{c: rows[c].to_numpy() for c in runs})
    per_run = weighted.groupby(runs, sort=False, dropna=False).sum()
    per_run = per_run[parts].div(per_run["_weight"].where(per_run["_weight"] > 0), axis=0).reset_index()
    per_run["_total"] = per_run[parts].sum(axis=1)
    stats = scenario_table(per_run, by, metrics=(*parts, "_total"))
    labels, axis_title = scenario_labels(stats[by])
    ax = axes_or_new(ax, figsize=(9.0, 2.4 + 0.42 * len(labels)))
    whose = workload if workload is not None else "all jobs"
    means = stats[[f"{p}_mean" for p in parts]].to_numpy(dtype=float)
    draw_stacked_bars(ax, [wrap(label, 34) for label in labels], means, normalize=normalize,
                      errors=stats["_total_ci95"].to_numpy(dtype=float),
                      title=f"Where the response time of {whose} went, per scenario")
    if axis_title is not None:
        ax.set_ylabel(axis_title)
    return ax
