"""The record of every job: compact columns, turned into a DataFrame at the end."""

from __future__ import annotations

from array import array

import numpy as np
import pandas as pd

NOT_DONE = float("nan")


class JobLog:
    """Appends one row per job; a job's id is its row number.

    Columns are typed arrays (8 bytes a value) rather than Python objects, so a
    million jobs cost tens of megabytes.
    """

    def __init__(self, workload_names: list[str], target_names: list[str]):
        self.workload_names = workload_names
        self.target_names = target_names
        self.workload = array("i")
        self.target = array("i")
        self.arrival = array("d")
        self.end = array("d")
        self.cpu = array("d")
        self.completed = 0
        self.startup_wait: dict[int, float] = {}
        """Per job that arrived before its target was ready: how long it waited, seconds."""
        self.failure_wait: dict[int, float] = {}
        """Per job that arrived while its target was down after a failure: how long it waited, seconds."""
        self.queue_wait: dict[int, float] = {}
        """Per job served by an FCFS server: how long it waited for a worker, seconds."""
        self.client_time: dict[int, float] = {}
        """Per job of a workload with modelled clients: how long its client's part took, seconds."""
        self.remote_time: dict[int, float] = {}
        """Per job whose request calls other workloads' services: from its first call's send to its last
        response's arrival, seconds."""
        self.calls: dict[int, int] = {}
        """Per job whose request calls other workloads' services: how many calls it made."""
        self.failed_at: dict[int, float] = {}
        """Per job that failed (its target went down while it ran): when, seconds."""
        self.breakdown: dict[int, object] = {}
        """Per job run through a request plan: its uncontended time breakdown."""
        self.limit: int | None = None
        """When this many jobs have completed, ``on_limit()`` is called once."""
        self.on_limit = None

    def arrive(self, workload: int, target: int, now: float, cpu_s: float) -> int:
        """Record a job that arrives now; returns its id."""
        self.workload.append(workload)
        self.target.append(target)
        self.arrival.append(now)
        self.end.append(NOT_DONE)
        self.cpu.append(cpu_s)
        return len(self.arrival) - 1

    def finish(self, job: int, now: float) -> None:
        self.end[job] = now
        self.completed += 1
        if self.completed == self.limit:
            self.on_limit()

    def fail(self, job: int, now: float) -> None:
        """The job was lost to a failure: it never completes."""
        self.failed_at[job] = now

    def add_cpu(self, job: int, cpu_s: float) -> None:
        self.cpu[job] += cpu_s

    def __len__(self) -> int:
        return len(self.arrival)

    def columns(self) -> dict[str, np.ndarray | pd.Categorical]:
        """All jobs as columns, unfinished ones with ``end_s`` NaN.

        The arrays are views of the log's own buffers, not copies (a million
        jobs would otherwise cost their memory twice): the log must not grow
        afterwards, which it does not once the run is over.
        """
        def view(column, dtype):
            return np.frombuffer(column, dtype=dtype) if len(self) else np.empty(0, dtype)

        arrival, end = view(self.arrival, float), view(self.end, float)
        return {
            "job": np.arange(len(self), dtype=np.int64),
            "workload": pd.Categorical.from_codes(view(self.workload, np.int32), categories=self.workload_names),
            "target": pd.Categorical.from_codes(view(self.target, np.int32), categories=self.target_names),
            "arrival_s": arrival,
            "start_s": arrival,
            "end_s": end,
            "response_time_s": end - arrival,
            "cpu_demand_s": view(self.cpu, float),
        }
