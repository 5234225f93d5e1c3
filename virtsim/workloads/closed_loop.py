"""Closed workloads: a fixed population of clients, each alternating think time and one job."""

from __future__ import annotations

from collections.abc import Callable

from ..components import Consumer
from .distributions import make_sampler
from .starter import JobStarter
from .wiring import WorkloadType


class ClosedLoop:
    """``clients`` users, each alternating think time and one job."""

    def __init__(self, env, log, workload: int, consumer: Consumer, target: int, clients: int,
                 think: Callable[[], float], cpu: Callable[[], float], threads: int, **job_options):
        self.env = env
        self.consumer = consumer
        self.target = target
        self.clients = clients
        self.think = think
        self.cpu = cpu
        self.starter = JobStarter(env, log, workload, threads, then=self._think, **job_options)

    def start(self) -> None:
        for _ in range(self.clients):
            self._think()

    def _think(self) -> None:
        self.env.timeout(self.think()).callbacks.append(self._submit)

    def _submit(self, _event) -> None:
        self.starter.start(self.consumer, self.target, self.cpu(), self.env.now)


def build(w, index: int, wiring, threads: int, options: dict) -> ClosedLoop:
    consumer, code = wiring.first_target(w)
    return ClosedLoop(wiring.env, wiring.log, index, consumer, code, w.clients,
                      make_sampler(w.think_time, wiring.stream_of(w, "think")),
                      make_sampler(w.demand.cpu, wiring.stream_of(w, "cpu")), threads, **options)


CLOSED = WorkloadType("closed", build)
