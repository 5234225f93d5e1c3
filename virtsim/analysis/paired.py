"""Paired differences between stacks: the same workload, the same random numbers, two stacks.

Replication r of every stack in a comparison draws the same arrivals and
demands, so its stack-minus-baseline difference is free of most of the noise
that each stack's own mean carries. The interval is a Student-t interval on
those per-replication differences (the paired-t interval of simulation output
analysis), which is much narrower than one computed from two independent
means.
"""

from __future__ import annotations

import pandas as pd

from .stats import confidence_interval

__all__ = ["DIFFERENCE_COLUMNS", "paired_rows", "summarize_differences"]

PAIRED_COLUMNS = ["workload", "stack", "baseline", "metric", "stack_value", "baseline_value", "difference"]
DIFFERENCE_COLUMNS = ["workload", "stack", "baseline", "metric", "replications", "stack_mean", "baseline_mean",
                      "difference_mean", "difference_ci", "level", "relative_difference"]
"""``difference_ci``: half-width of the interval at ``level`` (NaN with one replication);
``relative_difference``: ``difference_mean / baseline_mean``."""


def paired_rows(workloads: pd.DataFrame, comparison: dict) -> pd.DataFrame:
    """One row per compared workload, stack (other than the baseline) and metric, for one run.

    ``workloads`` is a run's per-workload table; ``comparison`` the JSON dump of a
    :class:`~virtsim.config.spec.ComparisonSpec` (as a sweep's ``sweep.json`` holds it).
    """
    by_name = workloads.set_index("workload")
    rows = []
    for compared in comparison["workloads"]:
        members = dict(compared["members"])
        baseline = comparison["baseline"] if comparison["baseline"] in members else next(iter(members))
        baseline_values = {metric: float(by_name.at[members[baseline], metric]) for metric in comparison["metrics"]}
        for host, name in members.items():
            if host == baseline:
                continue
            for metric, baseline_value in baseline_values.items():
                stack_value = float(by_name.at[name, metric])
                rows.append([compared["name"], host, baseline, metric, stack_value, baseline_value,
                             stack_value - baseline_value])
    return pd.DataFrame(rows, columns=PAIRED_COLUMNS)


def summarize_differences(paired: pd.DataFrame, keys: list[str], level: float) -> pd.DataFrame:
    """Mean difference and its interval over replications, per ``keys``, workload, stack and metric."""
    groups = [*keys, "workload", "stack", "baseline", "metric"]
    rows = []
    for values, group in paired.groupby(groups, sort=False, dropna=False):
        mean, half = confidence_interval(group["difference"], level)
        baseline_mean = float(group["baseline_value"].mean())
        rows.append([*values, len(group), float(group["stack_value"].mean()), baseline_mean, mean, half, level,
                     mean / baseline_mean if baseline_mean else float("nan")])
    return pd.DataFrame(rows, columns=[*keys, *DIFFERENCE_COLUMNS])
