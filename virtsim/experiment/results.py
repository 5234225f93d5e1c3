"""The tables a run produces: summary, per workload, per consumer, per job."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..analysis.paired import paired_rows, summarize_differences
from ..analysis.stats import response_time_stats
from ..model.memory import Reclaim, footprints
from .energy import ENERGY_COLUMNS, currency, host_energy
from .simulation import Simulation
from .stability import STABLE_NOTE, stability
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
    failures: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=FAILURE_COLUMNS))
    """One row per failure and repair event of the experiment's failure domains."""
    scaling: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SCALING_COLUMNS))
    """One row per autoscaling decision that changed a workload's replicas."""
    manifest: dict = field(default_factory=dict)
    timeseries: pd.DataFrame | None = None
    """With ``sample_interval``: one row per interval and consumer (utilization, steal); else None."""
    unplaced: pd.DataFrame | None = None
    """With a ``placement`` section: one row per pool item (or workload, failure) left out, and why; else None."""
    placement: pd.DataFrame | None = None
    """With a ``placement`` section: one row per host the pool could use, its capacities and commitments."""
    differences: pd.DataFrame | None = None
    """With a ``compare`` section: each stack's paired difference from the baseline, per compared workload."""

    def tables(self) -> dict[str, pd.DataFrame]:
        tables = {"summary": self.summary, "workloads": self.workloads, "stacks": self.stacks,
                  "consumers": self.consumers, "jobs": self.jobs, "failures": self.failures,
                  "scaling": self.scaling}
        if self.timeseries is not None:
            tables["timeseries"] = self.timeseries
        if self.unplaced is not None:
            tables["unplaced"] = self.unplaced
        if self.placement is not None:
            tables["placement"] = self.placement
        if self.differences is not None:
            tables["differences"] = self.differences
        return tables


# pandas imports parts of pyarrow when it first builds a column of strings (its
# string columns are pyarrow's): made part of importing virtsim here, where
# imports belong, rather than of the first run's time.
pd.Index(["consumer"])

FAILURE_COLUMNS = ["time_s", "domain", "layer", "event", "consumers"]
"""``consumers``: how many consumers the event took down (failure) or brought back (repair)."""
UNPLACED_COLUMNS = ["name", "kind", "reason"]
SCALING_COLUMNS = ["time_s", "workload", "replicas_before", "replicas_after", "cpu_utilization"]
"""``cpu_utilization``: the serving replicas' mean over the last period, which asked for the change."""


POOLED_ONLY_ALIKE = ("response_time_mean_s", "response_time_p50_s", "response_time_p95_s", "response_time_p99_s")
"""Summary columns given only for a run of one workload: a mean over unlike jobs describes none of them."""

WORKLOAD_COLUMNS = ("counted", "arrival_s", "end_s", "failed", "failed_at_s", "response_time_s", "cpu_demand_s")
"""The job columns a workload's row is computed from."""


def _job_stats(jobs: dict, measured_s: float, *, response_times: bool = True) -> dict[str, float]:
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

BREAKDOWN = ("native_s", "virtualization_s", "io_latency_s", "startup_s", "failure_s", "wait_s")
"""Where a job's response time went: its work as on bare metal, what the layers
added (CPU overhead and the latency of operations and I/O paths), the devices'
own service and latency (swap page-ins included), waiting for its target to boot or start, waiting for
it to come back after a failure (repair and restart), and the rest: waiting for
contended resources."""


def _add_breakdown(sim: Simulation, jobs: dict) -> None:
    """Add the stack and time-breakdown columns to the job columns."""
    spec, platform, log = sim.spec, sim.platform, sim.log
    threads = {w.name: (w.demand.threads if w.demand is not None else 1) for w in spec.workloads}
    # Custom workloads (contexts) are not in the spec: their jobs' breakdowns are all in the log.
    per_workload = np.array([threads.get(name, np.nan) for name in log.workload_names], dtype=float)
    speeds = np.array([platform.consumers[t].core_speed for t in log.target_names], dtype=float)
    stack = ["native" if platform.paths[t].is_native else " / ".join(platform.paths[t].layers)
             for t in log.target_names]
    wl = jobs["workload"].codes
    tg = jobs["target"].codes
    native = jobs["cpu_demand_s"] / per_workload[wl]
    native /= speeds[tg]
    # Zeros where only native work is known, NaN where nothing is. np.zeros
    # maps untouched zero pages: no memory until written.
    virt, io, startup, failure = (np.zeros(len(native)) for _ in range(4))
    bare = native.copy()  # a job without operations: its CPU work is all it does on bare metal
    if log.breakdown:
        ids = np.fromiter(log.breakdown, dtype=np.int64, count=len(log.breakdown))
        parts = np.array([(b.native_s, b.virtualization_s, b.io_latency_s, b.bare_metal_s)
                          for b in log.breakdown.values()])
        native[ids], virt[ids], io[ids], bare[ids] = parts.T
    unknown = np.isnan(native)
    if unknown.any():
        virt[unknown] = io[unknown] = startup[unknown] = failure[unknown] = np.nan
    for waits, column in ((log.startup_wait, startup), (log.failure_wait, failure)):
        if waits:
            ids = np.fromiter(waits, dtype=np.int64, count=len(waits))
            column[ids] = np.fromiter(waits.values(), dtype=float, count=len(ids))
    labels = list(dict.fromkeys(stack))
    stack_of_target = np.array([labels.index(label) for label in stack], dtype=np.int32)
    wait = jobs["response_time_s"] - native
    wait -= virt
    wait -= io
    wait -= startup
    wait -= failure
    if log.startup_wait or log.failure_wait:  # held jobs start when their target is ready
        jobs["start_s"] = jobs["arrival_s"] + np.nan_to_num(startup) + np.nan_to_num(failure)
    jobs["stack"] = pd.Categorical.from_codes(stack_of_target[tg], categories=labels)
    jobs["native_s"] = native
    jobs["virtualization_s"] = virt
    jobs["io_latency_s"] = io
    jobs["startup_s"] = startup
    jobs["failure_s"] = failure
    jobs["wait_s"] = wait
    jobs["bare_metal_s"] = bare
    # Response time over the same job alone on bare metal, its own I/O included (DESIGN §2.7):
    # 1 for an uncontended native job; undefined for a job with nothing to do.
    with np.errstate(divide="ignore", invalid="ignore"):
        jobs["slowdown"] = np.where(bare > 0.0, jobs["response_time_s"] / bare, np.nan)


def _stack_table(jobs: dict) -> pd.DataFrame:
    """Mean breakdown per (stack, workload) of the counted, completed jobs.

    Summed with ``np.bincount`` over group codes, one column at a time: a
    million jobs cost a few temporary arrays, not a filtered copy of the table.
    """
    done = jobs["counted"] & ~np.isnan(jobs["end_s"])
    stacks, workloads = jobs["stack"], jobs["workload"]
    n_workloads = len(workloads.categories)
    group = (stacks.codes.astype(np.int64) * n_workloads + workloads.codes)[done]
    size = len(stacks.categories) * n_workloads
    counts = np.bincount(group, minlength=size)
    present = np.flatnonzero(counts)
    table = {"stack": pd.Categorical.from_codes(present // n_workloads, categories=stacks.categories),
             "workload": pd.Categorical.from_codes(present % n_workloads, categories=workloads.categories),
             "jobs_completed": counts[present]}
    for column in ("response_time_s", *BREAKDOWN):
        sums = np.bincount(group, weights=jobs[column][done], minlength=size)
        table[f"{column[:-2]}_mean_s"] = sums[present] / counts[present]
    # The mean slowdown over the jobs that have one (those with work to do).
    slowdown = jobs["slowdown"][done]
    defined = ~np.isnan(slowdown)
    n = np.bincount(group[defined], minlength=size)[present]
    total = np.bincount(group[defined], weights=slowdown[defined], minlength=size)[present]
    with np.errstate(divide="ignore", invalid="ignore"):
        table["slowdown_mean"] = np.where(n > 0, total / n, np.nan)
    return pd.DataFrame(table)


def collect(sim: Simulation) -> Results:
    """Build the tables of a finished :class:`Simulation`."""
    spec = sim.spec
    start = sim.warmup.time_s
    end = sim.end.time_s
    measured = end - start
    jobs = sim.log.columns()
    _add_failed(sim.log, jobs)
    # A job counts if it arrived after the warm-up and (if done or failed) ended by the end.
    jobs["counted"] = (jobs["arrival_s"] >= spec.warmup_s) & ~(jobs["end_s"] > end) & ~(jobs["failed_at_s"] > end)
    _add_breakdown(sim, jobs)

    memory = {path: b for host in spec.hosts for path, b in footprints(host).items()}
    physical = {host.name: host.hardware.memory_bytes for host in spec.hosts}
    consumer_rows = []
    gates = sim.startup.gates
    downs = sim.failures.downs if sim.failures is not None else {}
    use = sim.memory
    reclaim = dict(sim.pressure)
    for host in spec.hosts:  # a host's row: what it reclaims in all
        mine = [r for p, r in sim.pressure.items() if p.startswith(f"{host.name}/")]
        if mine:
            reclaim[host.name] = Reclaim(*(sum(getattr(r, k) for r in mine) for k in ("shared", "ballooned", "swapped")))
    peaks = dict(use.peak) if use is not None else {}
    peaks.update(sim.trace_loads.memory_peaks(start, end))
    kills: dict[str, int] = {}
    for time_s, domain, _layer, event, _n in (sim.failures.events if sim.failures is not None else ()):
        if event == "oom-kill" and start <= time_s <= end:
            kills[domain] = kills.get(domain, 0) + 1
    host_alloc = host_capacity = 0.0
    hosts = {host.name: host for host in spec.hosts}
    nothing = dict.fromkeys(ENERGY_COLUMNS, float("nan"))
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
            "overload_time_s": (sim.end.overload_s[path] - sim.warmup.overload_s[path]
                                if consumer.kind == "host" else float("nan")),
            **_throttling(sim, path),
            "ready_at_s": gates[path].ready_at if path in gates else 0.0,
            "downtime_s": gates[path].closed_s(start, end) if path in gates else 0.0,
            "failures": sum(start <= t <= end for t in downs.get(path, ())),
            "memory_bytes": memory.get(path, 0.0),
            "memory_shared_bytes": reclaim[path].shared if path in reclaim else 0.0,
            "memory_ballooned_bytes": reclaim[path].ballooned if path in reclaim else 0.0,
            "memory_swapped_bytes": reclaim[path].swapped if path in reclaim else 0.0,
            "memory_in_use_peak_bytes": peaks.get(path, float("nan")),
            "oom_kills": kills.get(path, 0),  # in the measured window, like failures
            **(host_energy(sim, hosts[path], cpu_time / consumer.size_cores, measured) if consumer.kind == "host"
               else nothing),
        })
        if consumer.kind == "host" and path not in sim.off_hosts:  # a switched-off host offers no capacity
            host_alloc += cpu_time
            host_capacity += capacity
    consumers = pd.DataFrame({column: [row[column] for row in consumer_rows] for column in consumer_rows[0]})

    summary = {"name": spec.name, "seed": sim.seed, "start_s": start, "end_s": end,
               "measured_s": measured}
    # Unlike workloads are never pooled: their response times are in workloads.csv.
    summary.update(_job_stats(jobs, measured, response_times=len(sim.log.workload_names) <= 1))
    summary["cpu_utilization"] = host_alloc / host_capacity if host_capacity > 0 else float("nan")
    summary["jobs_in_system_at_end"] = int(np.isnan(jobs["end_s"]).sum())
    summary["memory_committed_ratio_max"] = max(memory[h] / physical[h] for h in physical)
    host_rows = [row for row in consumer_rows if row["kind"] == "host"]

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

    workload_codes, target_codes = jobs["workload"].codes, jobs["target"].codes
    workload_rows = []
    specs = {w.name: w for w in spec.workloads}  # custom workloads (contexts) have none
    for code, name in enumerate(sim.log.workload_names):
        mine = np.flatnonzero(workload_codes == code)
        columns = {k: jobs[k][mine] for k in WORKLOAD_COLUMNS}
        w = specs.get(name)
        row = {"workload": name}
        row.update(_job_stats(columns, measured))
        targets = (list(w.target_paths) if w is not None else []) \
            or [sim.log.target_names[t] for t in pd.unique(target_codes[mine])]
        if w is not None and w.replicas is not None:  # a service is up while any of its replicas serves
            row["availability"] = 1.0 - _all_closed_s(targets, gates, start, end) / measured if measured > 0 \
                else float("nan")
            initial = w.autoscale.min_replicas if w.autoscale is not None else len(w.replicas)
            row["replicas_mean"] = _mean_replicas(initial, sim.scaling, name, start, end)
        else:
            row["availability"] = _availability(targets, gates, start, end)
        if w is not None and w.type == "batch":
            row["makespan_s"] = _makespan(columns["arrival_s"], columns["end_s"])
        row.update(stability(w, columns, start, end, _capacity_per_s(sim, targets)))
        workload_rows.append(row)
    unstable = [f"{row['workload']}: {row['stability_note']}" for row in workload_rows if not row["stable"]]
    summary["stable"] = not unstable
    summary["stability_note"] = "; ".join(unstable) or STABLE_NOTE
    events = pd.DataFrame(sim.failures.events if sim.failures is not None else [], columns=FAILURE_COLUMNS)
    timeseries = timeseries_table(sim.sampler) if sim.sampler is not None else None
    if timeseries is not None and sim.trace_loads.memory:
        timeseries["memory_in_use_mean_bytes"] = sim.trace_loads.memory_means(timeseries)
    scaling = pd.DataFrame(sim.scaling, columns=SCALING_COLUMNS)
    unplaced = placement = None
    if spec.placement is not None:
        unplaced = pd.DataFrame([u.model_dump() for u in spec.placement.unplaced], columns=UNPLACED_COLUMNS)
        placement = _placement_table(spec.placement)
        summary_row = {"hosts_used": int((placement["items"] > 0).sum()),
                       "cpu_fragmentation": _fragmentation(placement)}
        summary.update(summary_row)
    workloads = pd.DataFrame(workload_rows)
    differences = None
    if spec.comparison is not None:  # one replication: the differences, without an interval
        paired = paired_rows(workloads, spec.comparison.model_dump(mode="json"))
        differences = summarize_differences(paired, [], spec.comparison.level)
    return Results(pd.DataFrame([summary]), workloads, consumers, pd.DataFrame(jobs, copy=False),
                   _stack_table(jobs), events, scaling, timeseries=timeseries, unplaced=unplaced, placement=placement,
                   differences=differences)


def _capacity_per_s(sim: Simulation, targets: list[str]) -> float:
    """Reference-core work per second the ``targets`` can serve at most: their cores × core speed."""
    consumers = sim.platform.consumers
    return float(sum(consumers[t].size_cores * consumers[t].core_speed for t in targets if t in consumers))


def _throttling(sim: Simulation, path: str) -> dict:
    """A container under a CFS quota: time and periods throttled in the measured window (NaN and 0 otherwise)."""
    if path not in sim.end.throttled:
        return {"throttled_time_s": float("nan"), "throttled_periods": 0}
    (s0, n0), (s1, n1) = sim.warmup.throttled[path], sim.end.throttled[path]
    return {"throttled_time_s": s1 - s0, "throttled_periods": n1 - n0}


def _makespan(arrival_s: np.ndarray, end_s: np.ndarray) -> float:
    """From the first submission to the last completion of a batch, seconds (NaN while any job is unfinished)."""
    if not len(end_s) or np.isnan(end_s).any():
        return float("nan")
    return float(end_s.max() - arrival_s.min())


def _placement_table(placement) -> pd.DataFrame:
    """Per host the pool could use: capacities, commitments, and whether the median pool item still fits."""
    table = pd.DataFrame([room.model_dump() for room in placement.rooms],
                         columns=["host", "items", "cpu_capacity_cores", "cpu_committed_cores",
                                  "memory_capacity_bytes", "memory_committed_bytes"])
    cpu_free = table["cpu_capacity_cores"] - table["cpu_committed_cores"]
    memory_free = table["memory_capacity_bytes"] - table["memory_committed_bytes"]
    if placement.median_request is None:
        table["median_item_fits"] = True
    else:
        cores, nbytes = placement.median_request
        table["median_item_fits"] = (cpu_free >= cores - 1e-9) & (memory_free >= nbytes - 1e-6)
    return table


def _fragmentation(table: pd.DataFrame) -> float:
    """Free CPU stranded on used hosts (where the median pool item no longer fits), over their CPU capacity.

    As in "Beware of Fragmentation" (Weng et al., ATC 2023), a resource is
    fragmented when it is free but no typical task can use it; here for CPU and
    memory, the typical task being the median pool item.
    """
    used = table[table["items"] > 0]
    if used.empty:
        return float("nan")
    free = used["cpu_capacity_cores"] - used["cpu_committed_cores"]
    return float(free[~used["median_item_fits"]].sum() / used["cpu_capacity_cores"].sum())


def _add_failed(log, jobs: dict) -> None:
    failed_at = np.full(len(jobs["job"]), np.nan)
    if log.failed_at:
        ids = np.fromiter(log.failed_at, dtype=np.int64, count=len(log.failed_at))
        failed_at[ids] = np.fromiter(log.failed_at.values(), dtype=float, count=len(ids))
    jobs["failed"] = ~np.isnan(failed_at)
    jobs["failed_at_s"] = failed_at


def _all_closed_s(targets, gates, start: float, end: float) -> float:
    """Seconds within [start, end] during which every one of ``targets`` was closed."""
    if any(t not in gates for t in targets):
        return 0.0  # one of them never closes
    changes = []
    for t in targets:
        for down, up in gates[t].closed:
            down, up = max(down, start), min(end if math.isnan(up) else up, end)
            if up > down:
                changes += [(down, 1), (up, -1)]
    changes.sort(key=lambda c: (c[0], c[1]))  # at a tie, reopen before another closes
    closed, since, total = 0, start, 0.0
    for time_s, step in changes:
        if closed == len(targets):
            total += time_s - since
        closed += step
        since = time_s
    return total


def _mean_replicas(initial: int, scaling: list, workload: str, start: float, end: float) -> float:
    """Time-weighted mean of a workload's active replicas over [start, end]."""
    steps = [(0.0, initial)] + [(t, after) for t, w, _, after, _ in scaling if w == workload]
    total = 0.0
    for (t0, n), (t1, _) in zip(steps, steps[1:] + [(end, 0)]):
        total += n * max(0.0, min(t1, end) - max(t0, start))
    return total / (end - start) if end > start else float(initial)


def _availability(targets, gates, start: float, end: float) -> float:
    """Mean over the workload's targets of the fraction of [start, end] each could serve.

    A target cannot serve while it starts up or is down after a failure.
    """
    span = end - start
    if not targets or span <= 0:
        return float("nan")
    up = [1.0 - (gates[t].closed_s(start, end) / span if t in gates else 0.0) for t in targets]
    return float(np.mean(up))


