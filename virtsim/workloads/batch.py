"""Batch workloads: ``jobs`` jobs submitted together at each time of ``at``, each run to completion."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..components import Consumer
from .distributions import make_sampler
from .starter import JobStarter
from .wiring import WorkloadType


class Batch:
    """``jobs`` jobs submitted together at each time of ``at_s``, each run to completion."""

    def __init__(self, env, log, workload: int, consumer: Consumer, target: int, jobs: int, at_s,
                 cpu: Callable[[], float], threads: int, **job_options):
        self.env = env
        self.consumer = consumer
        self.target = target
        self.jobs = jobs
        self.at_s = at_s
        self.cpu = cpu
        self.starter = JobStarter(env, log, workload, threads, **job_options)

    def start(self) -> None:
        for at in self.at_s:
            self.env.timeout(at).callbacks.append(self._submit)

    def _submit(self, _event) -> None:
        for _ in range(self.jobs):
            self.starter.start(self.consumer, self.target, self.cpu(), self.env.now)


def build(w, index: int, wiring, threads: int, options: dict) -> Batch:
    consumer, code = wiring.first_target(w)
    return Batch(wiring.env, wiring.log, index, consumer, code, w.jobs, w.at_s,
                 make_sampler(w.demand.cpu, wiring.stream_of(w, "cpu")), threads, **options)


def makespan_s(arrival_s: np.ndarray, end_s: np.ndarray) -> float:
    """From the first submission to the last completion of a batch, seconds (NaN while any job is unfinished)."""
    if not len(end_s) or np.isnan(end_s).any():
        return float("nan")
    return float(end_s.max() - arrival_s.min())


def columns(_w, jobs: dict) -> dict:
    return {"makespan_s": makespan_s(jobs["arrival_s"], jobs["end_s"])}


BATCH = WorkloadType("batch", build, columns)
