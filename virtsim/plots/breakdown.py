"""Where the response time went: stacked bars of the time breakdown, one per stack (and workload)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..experiment.results import BREAKDOWN
from ._common import axes_or_new, require_columns

__all__ = ["BREAKDOWN_PARTS", "time_breakdown"]

_LABELS = {"native_s": "native work", "virtualization_s": "virtualization", "io_latency_s": "I/O latency",
           "startup_s": "start-up", "failure_s": "failure and restart", "wait_s": "waiting"}
BREAKDOWN_PARTS = {f"{column[:-2]}_mean_s": _LABELS[column] for column in BREAKDOWN}
"""The ``stacks`` table's mean breakdown columns, bottom to top, with their legend labels."""


def time_breakdown(stacks: pd.DataFrame, *, normalize: bool = False, ax=None):
    """One horizontal stacked bar per row of ``stacks``: its mean time in each part of the breakdown.

    ``stacks`` is the ``stacks`` table (``Results.stacks``, ``stacks.csv``): it
    needs the columns stack and native_mean_s, virtualization_mean_s,
    io_latency_mean_s, startup_mean_s, failure_mean_s, wait_mean_s; a workload column, when
    present, labels rows of the same stack apart. With ``normalize`` each bar
    shows shares of its row's total (so a 3 ms request and a 4 s batch job can
    be compared) and is annotated with that total. Returns the Axes.
    """
    require_columns(stacks, ["stack", *BREAKDOWN_PARTS], "time_breakdown")
    if stacks.empty:
        raise ValueError("time_breakdown: the stacks table has no rows (no job completed after the warm-up)")
    ax = axes_or_new(ax, figsize=(8.0, 1.0 + 0.45 * len(stacks)))
    parts = stacks[list(BREAKDOWN_PARTS)].to_numpy(dtype=float)
    parts = np.nan_to_num(parts)  # a part the run does not know (custom workloads) adds nothing
    totals = parts.sum(axis=1)
    values = parts / np.where(totals > 0, totals, 1.0)[:, None] if normalize else parts
    stack_labels = stacks["stack"].astype(str).tolist()
    if "workload" in stacks.columns and len(set(stack_labels)) < len(stack_labels):
        stack_labels = [f"{w}  [{s}]" for s, w in zip(stack_labels, stacks["workload"].astype(str))]
    y = np.arange(len(stacks))[::-1]
    left = np.zeros(len(stacks))
    for (column, label), width in zip(BREAKDOWN_PARTS.items(), values.T):
        ax.barh(y, width, left=left, label=label, height=0.7)
        left += width
    if normalize:
        for yi, total in zip(y, totals):
            ax.text(1.01, yi, f"{total:.3g} s", va="center", fontsize="small", transform=ax.get_yaxis_transform())
    ax.set_yticks(y, stack_labels, fontsize="small")
    ax.set_xlabel("share of the mean response time" if normalize else "mean time per job (s)")
    ax.set_title("Where the response time went", pad=36)
    ax.legend(fontsize="small", ncols=3, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    return ax
