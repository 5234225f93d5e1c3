"""Where the response time went: stacked bars of the time breakdown, one per stack (and workload)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..analysis.breakdown import BREAKDOWN
from ._common import axes_or_new, legend_above, require_columns
from .labels import short_stack, wrap
from .units import format_quantity, set_percent_axis, set_unit_axis

__all__ = ["BREAKDOWN_PARTS", "draw_stacked_bars", "time_breakdown"]

_LABELS = {"native_s": "native work", "virtualization_s": "virtualization", "io_latency_s": "I/O latency",
           "startup_s": "start-up", "failure_s": "failure and restart", "wait_s": "waiting"}
BREAKDOWN_PARTS = {f"{column[:-2]}_mean_s": _LABELS[column] for column in BREAKDOWN}
"""The ``stacks`` table's mean breakdown columns, bottom to top, with their legend labels."""
REMOTE_PART = ("remote_mean_s", "calls to services")
"""The part a run whose requests call other workloads' services has too, drawn before waiting."""


def parts_of(stacks: pd.DataFrame) -> dict[str, str]:
    """The breakdown columns of ``stacks`` to draw, with their labels: the time in calls too, if it has it."""
    if REMOTE_PART[0] not in stacks.columns:
        return BREAKDOWN_PARTS
    items = list(BREAKDOWN_PARTS.items())
    return dict([*items[:-1], REMOTE_PART, items[-1]])


def draw_stacked_bars(ax, labels: list[str], parts: np.ndarray, *, normalize: bool, title: str,
                      errors: np.ndarray | None = None, names: dict[str, str] | None = None):
    """One horizontal bar per label, top to bottom, stacked from ``parts`` (rows × BREAKDOWN_PARTS, seconds).

    ``errors``, the half-width of each row's 95 % CI on its total (NaN: none),
    becomes an error bar at the bar's end. The legend lists the parts that
    some row has, above the Axes. ``names``: the parts' columns and labels (default ``BREAKDOWN_PARTS``).
    Returns the Axes.
    """
    # A part the run does not know (custom workloads) adds nothing.
    parts = np.nan_to_num(np.asarray(parts, dtype=float))
    totals = parts.sum(axis=1)
    values = parts / np.where(totals > 0, totals, 1.0)[:, None] if normalize else parts
    y = np.arange(len(labels))[::-1]
    left = np.zeros(len(labels))
    shown = []
    for (label, width), present in zip(zip((names or BREAKDOWN_PARTS).values(), values.T), (parts > 0).any(axis=0)):
        bars = ax.barh(y, width, left=left, label=label, height=0.7)
        if present:
            shown.append(bars)
        left += width
    if errors is not None and not normalize and np.isfinite(errors).any():
        shown.append(ax.errorbar(totals, y, xerr=np.where(np.isfinite(errors), errors, 0.0), fmt="none",
                                 ecolor="black", capsize=4, elinewidth=1.2, label="95 % CI of the mean"))
    if normalize:
        for yi, total in zip(y, totals):
            ax.text(1.01, yi, format_quantity(total), va="center", fontsize="small",
                    transform=ax.get_yaxis_transform())
        ax.set_xlim(0, 1)
        set_percent_axis(ax.xaxis, "share of the mean response time")
    else:
        reach = totals + (np.nan_to_num(errors) if errors is not None else 0.0)
        set_unit_axis(ax.xaxis, reach, "mean time per job")
    ax.set_yticks(y, labels, fontsize="small")
    ax.set_ylim(-0.6, len(labels) - 0.4)
    legend_above(ax, title, ncols=4, handles=shown, labels=[b.get_label() for b in shown])
    return ax


def _row_labels(stacks: pd.DataFrame) -> list[str]:
    stack_labels = [short_stack(s) for s in stacks["stack"].astype(str)]
    if "workload" in stacks.columns:
        stack_labels = [f"{w}  [{s}]" for s, w in zip(stack_labels, stacks["workload"].astype(str))]
    return [wrap(label, 40) for label in stack_labels]


def time_breakdown(stacks: pd.DataFrame, *, normalize: bool = False, ax=None):
    """One horizontal stacked bar per row of ``stacks``: its mean time in each part of the breakdown.

    ``stacks`` is the ``stacks`` table (``Results.stacks``, ``stacks.csv``): it
    needs the columns stack and native_mean_s, virtualization_mean_s,
    io_latency_mean_s, startup_mean_s, failure_mean_s, wait_mean_s; a workload column, when
    present, names each row's workload before its stack. Stacks are named short
    ('docker (nat, volume) / kvm'). The time axis is in the unit its data
    need (µs, ms, s). With ``normalize`` each bar shows shares of its row's
    total (so a 3 ms request and a 4 s batch job can be compared) and is
    annotated with that total. The legend lists the parts some row has, above
    the bars. Returns the Axes.
    """
    require_columns(stacks, ["stack", *BREAKDOWN_PARTS], "time_breakdown")
    if stacks.empty:
        raise ValueError("time_breakdown: the stacks table has no rows (no job completed after the warm-up)")
    labels = _row_labels(stacks)
    lines = sum(label.count("\n") + 1 for label in labels)
    ax = axes_or_new(ax, figsize=(10.0, 2.2 + 0.3 * lines + 0.25 * len(labels)))
    names = parts_of(stacks)
    parts = stacks[list(names)].to_numpy(dtype=float)
    title = "Where the response time went" + (" (shares; the mean at the right)" if normalize else "")
    return draw_stacked_bars(ax, labels, parts, normalize=normalize, title=title, names=names)
