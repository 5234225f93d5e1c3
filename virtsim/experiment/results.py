"""The tables a run produces: summary, per workload, per consumer, per job."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..analysis.stats import response_time_stats
from .simulation import Simulation


@dataclass
class Results:
    """The outputs of one run, as pandas DataFrames plus the manifest."""

    summary: pd.DataFrame
    """One row for the run."""
    workloads: pd.DataFrame
    """One row per workload."""
    consumers: pd.DataFrame
    """One row per host, VM and container, named by its path."""
    jobs: pd.DataFrame
    """One row per job that arrived (after the warm-up ones too; see ``counted``)."""
    manifest: dict = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"summary": self.summary, "workloads": self.workloads,
                "consumers": self.consumers, "jobs": self.jobs}


def _job_stats(jobs: pd.DataFrame, measured_s: float) -> dict[str, float]:
    done = jobs[jobs["counted"] & jobs["end_s"].notna()]
    row = {
        "jobs_arrived": int(jobs["counted"].sum()),
        "jobs_completed": int(len(done)),
        "throughput_per_s": len(done) / measured_s if measured_s > 0 else float("nan"),
    }
    row.update(response_time_stats(done["response_time_s"].to_numpy()))
    return row


def collect(sim: Simulation) -> Results:
    """Build the tables of a finished :class:`Simulation`."""
    spec = sim.spec
    start = sim.warmup.time_s
    end = sim.end.time_s
    measured = end - start
    jobs = sim.log.to_frame()
    # A job counts if it arrived after the warm-up and (if done) ended by the end.
    jobs["counted"] = (jobs["arrival_s"] >= spec.warmup_s) & ~(jobs["end_s"] > end)

    consumer_rows = []
    host_alloc = host_capacity = 0.0
    for path, consumer in sim.platform.consumers.items():
        a0, d0 = sim.warmup.integrals[path]
        a1, d1 = sim.end.integrals[path]
        alloc_work = a1 - a0
        speed = consumer.core_speed
        cpu_time = alloc_work / speed
        capacity = consumer.size_cores * measured
        consumer_rows.append({
            "consumer": path,
            "kind": consumer.kind,
            "host": consumer.host,
            "size_cores": consumer.size_cores,
            "cpu_time_s": cpu_time,
            "cpu_utilization": cpu_time / capacity if capacity > 0 else float("nan"),
            "steal_time_s": max(0.0, (d1 - d0) - alloc_work) / speed,
        })
        if consumer.kind == "host":
            host_alloc += cpu_time
            host_capacity += capacity
    consumers = pd.DataFrame(consumer_rows)

    summary = {"name": spec.name, "seed": sim.seed, "start_s": start, "end_s": end,
               "measured_s": measured}
    summary.update(_job_stats(jobs, measured))
    summary["cpu_utilization"] = host_alloc / host_capacity if host_capacity > 0 else float("nan")
    summary["jobs_in_system_at_end"] = int(jobs["end_s"].isna().sum())

    workload_rows = []
    for name in sim.log.workload_names:
        row = {"workload": name}
        row.update(_job_stats(jobs[jobs["workload"] == name], measured))
        workload_rows.append(row)
    return Results(pd.DataFrame([summary]), pd.DataFrame(workload_rows), consumers, jobs)


