"""The tables a run produces: summary, per workload, per consumer, per job."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..analysis.stats import response_time_stats
from ..components.memory import footprints
from .simulation import Simulation
from .timeseries import timeseries_table


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
    stacks: pd.DataFrame = field(default_factory=pd.DataFrame)
    """One row per stack and workload: where the counted jobs' time went, on average."""
    manifest: dict = field(default_factory=dict)
    timeseries: pd.DataFrame | None = None
    """With ``sample_interval``: one row per interval and consumer (utilization, steal); else None."""

    def tables(self) -> dict[str, pd.DataFrame]:
        tables = {"summary": self.summary, "workloads": self.workloads, "stacks": self.stacks,
                  "consumers": self.consumers, "jobs": self.jobs}
        if self.timeseries is not None:
            tables["timeseries"] = self.timeseries
        return tables


def _job_stats(jobs: pd.DataFrame, measured_s: float) -> dict[str, float]:
    done = jobs[jobs["counted"] & jobs["end_s"].notna()]
    row = {
        "jobs_arrived": int(jobs["counted"].sum()),
        "jobs_completed": int(len(done)),
        "throughput_per_s": len(done) / measured_s if measured_s > 0 else float("nan"),
    }
    row.update(response_time_stats(done["response_time_s"].to_numpy()))
    return row


BREAKDOWN = ("native_s", "virtualization_s", "io_latency_s", "startup_s", "wait_s")
"""Where a job's response time went: its work as on bare metal, what the layers
added (CPU overhead and the latency of operations and I/O paths), the devices'
own service and latency, waiting for its target to boot or start, and the rest:
waiting for contended resources."""


def _add_breakdown(sim: Simulation, jobs: pd.DataFrame) -> None:
    """Add the stack and time-breakdown columns to the jobs table, in place."""
    spec, platform, log = sim.spec, sim.platform, sim.log
    threads = {w.name: (w.demand.threads if w.demand is not None else 1) for w in spec.workloads}
    # Custom workloads (contexts) mix CPU with sleeps of their own: no breakdown.
    per_workload = np.array([threads.get(name, np.nan) for name in log.workload_names], dtype=float)
    speeds = np.array([platform.consumers[t].core_speed for t in log.target_names], dtype=float)
    stack = ["native" if platform.paths[t].is_native else " / ".join(platform.paths[t].layers)
             for t in log.target_names]
    wl = jobs["workload"].cat.codes.to_numpy()
    tg = jobs["target"].cat.codes.to_numpy()
    native = jobs["cpu_demand_s"].to_numpy() / per_workload[wl]
    native /= speeds[tg]
    # Zeros where only native work is known, NaN where nothing is (custom
    # workloads). np.zeros maps untouched zero pages: no memory until written.
    unknown = np.isnan(native)
    virt, io, startup = (np.zeros(len(native)) for _ in range(3))
    if unknown.any():
        virt[unknown] = io[unknown] = startup[unknown] = np.nan
    if log.breakdown:
        ids = np.fromiter(log.breakdown, dtype=np.int64, count=len(log.breakdown))
        parts = np.array([(b.native_s, b.virtualization_s, b.io_latency_s) for b in log.breakdown.values()])
        native[ids], virt[ids], io[ids] = parts[:, 0], parts[:, 1], parts[:, 2]
    if log.startup_wait:
        ids = np.fromiter(log.startup_wait, dtype=np.int64, count=len(log.startup_wait))
        startup[ids] = np.fromiter(log.startup_wait.values(), dtype=float, count=len(ids))
    labels = list(dict.fromkeys(stack))
    stack_of_target = np.array([labels.index(label) for label in stack], dtype=np.int32)
    wait = jobs["response_time_s"].to_numpy() - native
    wait -= virt
    wait -= io
    wait -= startup
    if log.startup_wait:  # held jobs start when their target is ready
        jobs["start_s"] = jobs["arrival_s"].to_numpy() + np.nan_to_num(startup)
    jobs["stack"] = pd.Categorical.from_codes(stack_of_target[tg], categories=labels)
    jobs["native_s"] = native
    jobs["virtualization_s"] = virt
    jobs["io_latency_s"] = io
    jobs["startup_s"] = startup
    jobs["wait_s"] = wait


def _stack_table(jobs: pd.DataFrame) -> pd.DataFrame:
    done = jobs[jobs["counted"] & jobs["end_s"].notna()]
    columns = ["response_time_s", *BREAKDOWN]
    keys = ["stack", "workload"]
    table = done.groupby(keys, observed=True)[columns].mean()
    table.insert(0, "jobs_completed", done.groupby(keys, observed=True).size())
    table.columns = ["jobs_completed"] + [f"{c[:-2]}_mean_s" for c in columns]
    return table.reset_index()


def collect(sim: Simulation) -> Results:
    """Build the tables of a finished :class:`Simulation`."""
    spec = sim.spec
    start = sim.warmup.time_s
    end = sim.end.time_s
    measured = end - start
    jobs = sim.log.to_frame()
    # A job counts if it arrived after the warm-up and (if done) ended by the end.
    jobs["counted"] = (jobs["arrival_s"] >= spec.warmup_s) & ~(jobs["end_s"] > end)
    _add_breakdown(sim, jobs)

    memory = {path: b for host in spec.hosts for path, b in footprints(host).items()}
    physical = {host.name: host.hardware.memory_bytes for host in spec.hosts}
    consumer_rows = []
    host_alloc = host_capacity = 0.0
    for path, consumer in sim.platform.all_consumers().items():
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
            "ready_at_s": sim.startup.gates[path].ready_at if path in sim.startup.gates else 0.0,
            "memory_bytes": memory.get(path, 0.0),
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
    summary["memory_committed_ratio_max"] = max(memory[h] / physical[h] for h in physical)

    workload_rows = []
    for name in sim.log.workload_names:
        row = {"workload": name}
        row.update(_job_stats(jobs[jobs["workload"] == name], measured))
        workload_rows.append(row)
    timeseries = timeseries_table(sim.sampler) if sim.sampler is not None else None
    return Results(pd.DataFrame([summary]), pd.DataFrame(workload_rows), consumers, jobs, _stack_table(jobs),
                   timeseries=timeseries)


