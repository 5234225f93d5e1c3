"""Service workloads: no arrivals of their own; their jobs are the calls of other workloads' requests."""

from __future__ import annotations

from .starter import JobStarter
from .wiring import WorkloadType


class ServiceSource:
    """A source that starts nothing by itself: callers start its jobs through its ``starter``."""

    def __init__(self, env, log, workload: int, threads: int, **job_options):
        self.starter = JobStarter(env, log, workload, threads, **job_options)

    def start(self) -> None:
        """Nothing arrives on its own."""


def build(w, index: int, wiring, threads: int, options: dict):
    return ServiceSource(wiring.env, wiring.log, index, threads, **options)


SERVICE = WorkloadType("service", build)
