"""Statistics on observations: response-time percentiles, confidence intervals, per-scenario means."""

from __future__ import annotations

import math

import numpy as np


def response_time_stats(response_times_s: np.ndarray) -> dict[str, float]:
    """Mean and p50/p95/p99 of per-job response times (seconds); NaN when empty."""
    x = np.asarray(response_times_s, dtype=float)
    if x.size == 0:
        nan = float("nan")
        return {"response_time_mean_s": nan, "response_time_p50_s": nan,
                "response_time_p95_s": nan, "response_time_p99_s": nan}
    p50, p95, p99 = np.percentile(x, [50, 95, 99])
    return {"response_time_mean_s": float(x.mean()), "response_time_p50_s": float(p50),
            "response_time_p95_s": float(p95), "response_time_p99_s": float(p99)}


def confidence_interval(values, level: float = 0.95) -> tuple[float, float]:
    """(mean, half-width) of a Student-t confidence interval over replications."""
    x = np.asarray(values, dtype=float)
    n = x.size
    if n == 0:
        return float("nan"), float("nan")
    mean = float(x.mean())
    if n == 1:
        return mean, float("nan")
    from scipy.stats import t

    half = float(t.ppf(0.5 + level / 2.0, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return mean, half


WORKLOAD_METRICS = ("jobs_completed", "throughput_per_s", "response_time_mean_s", "response_time_p50_s",
                    "response_time_p95_s", "response_time_p99_s")
"""Per-workload columns averaged over replications in the per-scenario table (utilization is the hosts')."""


def scenario_workload_table(summary, workloads, keys: list[str], host_metrics=("cpu_utilization",),
                            level: float = 0.95):
    """One row per scenario and workload: each workload metric's mean and interval over the
    replications, and the ``host_metrics`` of the summary (of the whole scenario: CPU utilization …)."""
    table = scenario_table(workloads, [*keys, "workload"], WORKLOAD_METRICS, level)
    hosts = scenario_table(summary, keys, tuple(host_metrics), level).drop(columns="replications")
    return table.merge(hosts, on=keys, how="left", sort=False)


def scenario_table(summary, keys: list[str], metrics, level: float = 0.95):
    """One row per scenario: ``keys``, the number of replications, and for each metric
    its mean (``<metric>_mean``) and the half-width of its Student-t confidence
    interval (``<metric>_ci95``; NaN with one replication)."""
    import pandas as pd

    suffix = f"_ci{round(level * 100):d}"
    rows = []
    for key_values, group in summary.groupby(keys, sort=False, dropna=False):
        row = dict(zip(keys, key_values if isinstance(key_values, tuple) else (key_values,)))
        row["replications"] = len(group)
        for metric in metrics:
            mean, half = confidence_interval(group[metric], level)
            row[f"{metric}_mean"] = mean
            row[f"{metric}{suffix}"] = half
        rows.append(row)
    return pd.DataFrame(rows)
