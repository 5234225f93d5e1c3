"""The summary table's row: the run's jobs, CPU utilization, memory commitment, energy and overload."""

from __future__ import annotations

import numpy as np

from ..model.memory import footprints
from .energy import currency
from .jobs import job_stats

__all__ = ["run_summary"]


def run_summary(sim, jobs: dict, consumer_rows: list[dict]) -> dict:
    """The summary of the finished simulation ``sim`` from its job columns and its consumers' rows."""
    spec = sim.spec
    start, end = sim.warmup.time_s, sim.end.time_s
    measured = end - start
    summary = {"name": spec.name, "seed": sim.seed, "start_s": start, "end_s": end, "measured_s": measured}
    # Unlike workloads are never pooled: their response times are in workloads.csv.
    summary.update(job_stats(jobs, measured, response_times=len(sim.log.workload_names) <= 1))
    host_rows = [row for row in consumer_rows if row["kind"] == "host"]
    on = [row for row in host_rows if row["consumer"] not in sim.off_hosts]  # a switched-off host offers no capacity
    host_alloc = host_capacity = 0.0
    for row in on:
        host_alloc += row["cpu_time_s"]
        host_capacity += row["size_cores"] * measured
    summary["cpu_utilization"] = host_alloc / host_capacity if host_capacity > 0 else float("nan")
    summary["jobs_in_system_at_end"] = int(np.isnan(jobs["end_s"]).sum())
    memory = {path: b for host in spec.hosts for path, b in footprints(host).items()}
    summary["memory_committed_ratio_max"] = max(memory[h.name] / h.hardware.memory_bytes for h in spec.hosts)

    def host_column(name: str) -> np.ndarray:
        return np.array([row[name] for row in host_rows], dtype=float)

    summary["hosts_powered_on"] = int(host_column("powered_on").astype(bool).sum())
    # A total over hosts of which some have no power model would understate: NaN then.
    summary["energy_j"] = float(host_column("energy_j").sum())
    summary["cost"] = float(host_column("cost").sum())
    summary["currency"] = currency(spec)
    # Overload in host-seconds: what a consolidation trades energy against (SLATAH-like).
    overload = host_column("overload_time_s")
    summary["overload_host_time_s"] = float(overload.sum())
    summary["hosts_overloaded"] = int((overload > 0).sum())
    return summary
