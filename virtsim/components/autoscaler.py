"""Horizontal autoscaling of a workload's replicas on CPU utilization (Kubernetes HPA semantics).

Every period the controller reads, from the engine's time integrals, how much
CPU each serving replica used over the period, relative to its size (vCPUs or
cpus limit), and asks for ``ceil(active × mean utilization / target)``
replicas, unchanged within the tolerance, between the minimum and all of them
(Kubernetes documentation, "Horizontal Pod Autoscaling", algorithm details:
``desiredReplicas = ceil[currentReplicas × (currentMetricValue /
desiredMetricValue)]``, tolerance 0.1, sync period 15 s, scale-down
stabilization window 300 s). Scaling up starts replicas through their
stack's start-up chain, so a container serves within a second or two and a VM
only once it has booted: the model shows why containers scale faster.
Scaling down takes the last ready replicas out of service; their jobs in
flight finish.
"""

from __future__ import annotations

import math

import simpy

from .replicas import ReplicaSet
from .startup import Startup


class Autoscaler:
    """The controller of one workload's :class:`ReplicaSet`.

    ``events`` gets one row per change: (time_s, workload, replicas before,
    replicas after, mean utilization that asked for it).
    """

    def __init__(self, env: simpy.Environment, workload: str, replicas: ReplicaSet, spec, startup: Startup,
                 events: list):
        self.env = env
        self.workload = workload
        self.replicas = replicas
        self.spec = spec
        self.startup = startup
        self.events = events
        self._used = [c.node.time_integrals(env.now)[0] for c in replicas.consumers]
        self._asked: list[tuple[float, int]] = []

    def start(self) -> None:
        self.env.timeout(self.spec.period_s).callbacks.append(self._tick)

    def _utilization(self, now: float) -> float | None:
        """Mean CPU utilization of the serving replicas over the last period; None if none serves."""
        period = self.spec.period_s
        ready = set(self.replicas.ready_active())
        values = []
        for i, consumer in enumerate(self.replicas.consumers):
            used = consumer.node.time_integrals(now)[0]
            if i in ready:
                values.append((used - self._used[i]) / (period * consumer.size_cores * consumer.core_speed))
            self._used[i] = used
        return sum(values) / len(values) if values else None

    def _tick(self, _event) -> None:
        now = self.env.now
        spec, replicas = self.spec, self.replicas
        utilization = self._utilization(now)
        if utilization is not None:
            active = replicas.active
            ratio = utilization / spec.target_utilization
            desired = active if abs(ratio - 1.0) <= spec.tolerance else math.ceil(active * ratio)
            desired = min(max(desired, spec.min_replicas), len(replicas.paths))
            window = now - spec.scale_down_delay_s
            self._asked = [(t, d) for t, d in self._asked if t > window] + [(now, desired)]
            if desired > active:
                self._scale(desired, utilization)
            elif desired < active:
                # Scale down only to the most asked for within the stabilization window.
                self._scale(max(d for _, d in self._asked), utilization)
        self.env.timeout(spec.period_s).callbacks.append(self._tick)

    def _scale(self, desired: int, utilization: float) -> None:
        replicas, now = self.replicas, self.env.now
        before = replicas.active
        if desired > before:
            replicas.active = desired
            for i in range(before, desired):
                self.startup.start_replica(replicas.paths[i])
        else:
            ready = set(replicas.ready_active())
            # Only serving replicas leave, last first: none has jobs waiting for it to start.
            while replicas.active > desired and replicas.active - 1 in ready:
                replicas.active -= 1
                self.startup.stop_replica(replicas.paths[replicas.active])
        if replicas.active != before:
            self.events.append((now, self.workload, before, replicas.active, utilization))
