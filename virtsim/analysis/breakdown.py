"""Where each job's time went (its stack and time breakdown), and the mean breakdown per stack and workload."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["BREAKDOWN", "add_breakdown", "stack_table"]

BREAKDOWN = ("native_s", "virtualization_s", "io_latency_s", "startup_s", "failure_s", "wait_s")
"""Where a job's response time went: its work as on bare metal, what the layers
added (CPU overhead and the latency of operations and I/O paths), the devices'
own service and latency (swap page-ins included), waiting for its target to boot or start, waiting for
it to come back after a failure (repair and restart), and the rest: waiting for
contended resources. A run whose requests call other workloads' services
(``demand.calls``) has one more part, ``remote_s``: the time in those calls
(the callees' and the network's), before ``wait_s``; a job without calls has 0."""


def add_breakdown(jobs: dict, log, platform, threads: dict[str, int]) -> None:
    """Add the stack and time-breakdown columns to the job columns (``threads``: per workload of the spec)."""
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
    remote = None
    if log.remote_time:  # calls to other workloads' services: their time (callees and network) is its own part
        remote, calls = np.zeros(len(native)), np.zeros(len(native), dtype=np.int64)
        ids = np.fromiter(log.remote_time, dtype=np.int64, count=len(log.remote_time))
        remote[ids] = np.fromiter(log.remote_time.values(), dtype=float, count=len(ids))
        calls[ids] = np.fromiter((log.calls[j] for j in log.remote_time), dtype=np.int64, count=len(ids))
        wait -= remote
    if log.startup_wait or log.failure_wait:  # held jobs start when their target is ready
        jobs["start_s"] = jobs["arrival_s"] + np.nan_to_num(startup) + np.nan_to_num(failure)
    jobs["stack"] = pd.Categorical.from_codes(stack_of_target[tg], categories=labels)
    jobs["native_s"] = native
    jobs["virtualization_s"] = virt
    jobs["io_latency_s"] = io
    jobs["startup_s"] = startup
    jobs["failure_s"] = failure
    jobs["wait_s"] = wait
    if remote is not None:
        jobs["remote_s"] = remote
        jobs["calls"] = calls
    if log.queue_wait:  # an FCFS server's queue: the part of wait_s spent before a worker took the job
        queue = np.full(len(native), np.nan)
        ids = np.fromiter(log.queue_wait, dtype=np.int64, count=len(log.queue_wait))
        queue[ids] = np.fromiter(log.queue_wait.values(), dtype=float, count=len(ids))
        jobs["queue_s"] = queue
    if log.client_time:  # modelled clients: the part of the response time spent at the client, before the server
        client = np.full(len(native), np.nan)
        ids = np.fromiter(log.client_time, dtype=np.int64, count=len(log.client_time))
        client[ids] = np.fromiter(log.client_time.values(), dtype=float, count=len(ids))
        jobs["client_s"] = client
    jobs["bare_metal_s"] = bare
    # Response time over the same job alone on bare metal, its own I/O included (DESIGN §2.7):
    # 1 for an uncontended native job; undefined for a job with nothing to do.
    with np.errstate(divide="ignore", invalid="ignore"):
        jobs["slowdown"] = np.where(bare > 0.0, jobs["response_time_s"] / bare, np.nan)


def stack_table(jobs: dict) -> pd.DataFrame:
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
    parts = (*BREAKDOWN[:-1], "remote_s", BREAKDOWN[-1]) if "remote_s" in jobs else BREAKDOWN
    for column in ("response_time_s", *parts):
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
