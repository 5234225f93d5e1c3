"""The replicas of a workload: which of them serve, and which one takes the next job."""

from __future__ import annotations

from .platform import Consumer


class ReplicaSet:
    """Replicas in scale-up order; the first ``active`` are in service.

    Jobs go round-robin to the active replicas that are ready (booted or
    started); while none is, to the next active one, where the job waits at
    its gate. ``gates`` maps a target code to its gate (absent: always ready).
    """

    def __init__(self, paths: list[str], consumers: list[Consumer], codes: list[int], gates: dict, active: int):
        self.paths = paths
        self.consumers = consumers
        self.codes = codes
        self.gates = gates
        self.active = active
        self._next = 0

    def _ready(self, i: int) -> bool:
        gate = self.gates.get(self.codes[i])
        return gate is None or gate.ready

    def pick(self) -> tuple[Consumer, int]:
        """The consumer and target code of the replica that takes the next job."""
        n = self.active
        start = self._next % n
        for k in range(n):
            i = (start + k) % n
            if self._ready(i):
                break
        else:
            i = start
        self._next = i + 1
        return self.consumers[i], self.codes[i]

    def ready_active(self) -> list[int]:
        """Indices of the active replicas that serve now."""
        return [i for i in range(self.active) if self._ready(i)]


def held_replicas(workloads) -> list[str]:
    """The replicas autoscaled workloads keep in reserve at first (beyond their ``min_replicas``)."""
    return [path for w in workloads if w.autoscale is not None for path in w.replicas[w.autoscale.min_replicas:]]


def gate_replicas(startup, workloads, held: list[str], now: float) -> None:
    """Every replica gets a gate (the balancer sends jobs to serving replicas only); those ``held`` are closed."""
    for w in workloads:
        for path in w.replicas or ():
            gate = startup.gate(path)
            if path in held:
                gate.close(now, "stopped")
