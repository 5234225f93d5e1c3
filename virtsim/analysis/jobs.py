"""The job table's columns, and the counts, throughput and response times of a set of jobs."""

from __future__ import annotations

import numpy as np

from .stats import response_time_stats

__all__ = ["POOLED_ONLY_ALIKE", "WORKLOAD_COLUMNS", "job_columns", "job_stats"]

POOLED_ONLY_ALIKE = ("response_time_mean_s", "response_time_p50_s", "response_time_p95_s", "response_time_p99_s")
"""Summary columns given only for a run of one workload: a mean over unlike jobs describes none of them."""

WORKLOAD_COLUMNS = ("counted", "arrival_s", "end_s", "failed", "failed_at_s", "response_time_s", "cpu_demand_s")
"""The job columns a workload's row is computed from."""


def job_columns(log, warmup_s: float, end_s: float) -> dict:
    """The job log's columns as arrays, with when each job failed and whether it counts.

    A job counts if it arrived after the warm-up and (if done or failed) ended by ``end_s``.
    """
    jobs = log.columns()
    failed_at = np.full(len(jobs["job"]), np.nan)
    if log.failed_at:
        ids = np.fromiter(log.failed_at, dtype=np.int64, count=len(log.failed_at))
        failed_at[ids] = np.fromiter(log.failed_at.values(), dtype=float, count=len(ids))
    jobs["failed"] = ~np.isnan(failed_at)
    jobs["failed_at_s"] = failed_at
    jobs["counted"] = (jobs["arrival_s"] >= warmup_s) & ~(jobs["end_s"] > end_s) & ~(jobs["failed_at_s"] > end_s)
    return jobs


def job_stats(jobs: dict, measured_s: float, *, response_times: bool = True) -> dict[str, float]:
    """Counts, throughput and response times of the counted jobs.

    ``jobs`` holds the job table's columns as arrays: tables are built once, at
    the end, and a short run would otherwise spend more on pandas than simulating.
    Without ``response_times`` (jobs of unlike workloads) their mean and percentiles are NaN.
    """
    counted, end, failed, response = (jobs[k] for k in ("counted", "end_s", "failed", "response_time_s"))
    done = counted & ~np.isnan(end)
    completed = int(done.sum())
    row = {
        "jobs_arrived": int(counted.sum()),
        "jobs_completed": completed,
        "jobs_failed": int((counted & failed).sum()),
        "throughput_per_s": completed / measured_s if measured_s > 0 else float("nan"),
    }
    row.update(response_time_stats(response[done]) if response_times
               else dict.fromkeys(POOLED_ONLY_ALIKE, float("nan")))
    return row
