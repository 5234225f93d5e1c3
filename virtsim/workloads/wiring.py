"""What a workload type's source is built from, and what a workload type is at run time.

Each workload type (the spec's ``type``) has a :class:`WorkloadType`: the
function that builds its source from its spec and a :class:`Wiring`, and the
columns of its own it adds to its row of the workloads table. A source has
``start()`` (called when the run starts) and ``starter``, the
:class:`~virtsim.workloads.starter.JobStarter` its jobs start through (a
failure fails its jobs in flight through it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import simpy

from ..components import Consumer, Platform
from ..components.autoscaler import Autoscaler
from ..components.replicas import ReplicaSet
from ..components.startup import Startup
from .jobs import JobLog
from .calls import Callee, CallPlan, CallStep
from .clients import ClientSide, mirrored
from .distributions import make_sampler
from .planning import RequestPlanner
from .requests import Demand, demand_template


@dataclass
class Wiring:
    """The parts of a simulation a source is connected to."""

    env: simpy.Environment
    log: JobLog
    platform: Platform
    target_code: dict[str, int]
    """Consumer path → its code in the job log."""
    stream: Callable[[str, str], np.random.Generator]
    """``(streams, purpose)`` → the random stream of that purpose of the workload whose streams are so named."""
    planner: RequestPlanner
    startup: Startup
    gates: dict[int, object]
    """Target code → its gate, for the targets that can be down (starting, failed, OOM-killed)."""
    memory: object | None = None
    """The :class:`~virtsim.components.memory.MemoryUse` of the run, if requests take memory."""
    tables: dict = field(default_factory=dict)
    """Workload name → parsed jobs file (file arrivals)."""
    scaling: list = field(default_factory=list)
    """Where autoscalers record their decisions."""
    autoscalers: dict[str, Autoscaler] = field(default_factory=dict)
    workloads: tuple = ()
    """Every workload's spec, in order (callees are found by name)."""
    sources: list = field(default_factory=list)
    """Every workload's source, in order, as they are built (a call reaches its callee's)."""
    callees: dict = field(default_factory=dict)

    def first_target(self, w) -> tuple[Consumer, int]:
        """The consumer and code a workload's jobs go to (the first replica's, when a balancer picks)."""
        path = w.target or (w.replicas[0] if w.replicas else None)
        return self.platform.consumer(path), self.target_code[path]

    def stream_of(self, w, purpose: str) -> np.random.Generator:
        """The random stream of one purpose (``cpu``, ``think``, ``arrivals``, …) of workload ``w``."""
        return self.stream(w.streams, purpose)

    def replica_set(self, w) -> ReplicaSet | None:
        """The balancer over ``w``'s replicas (and its autoscaler, if it has one); None for one target."""
        if w.replicas is None:
            return None
        codes = [self.target_code[p] for p in w.replicas]
        active = w.autoscale.min_replicas if w.autoscale is not None else len(codes)
        replicas = ReplicaSet(list(w.replicas), [self.platform.consumer(p) for p in w.replicas], codes,
                              {c: self.gates[c] for c in codes if c in self.gates}, active)
        if w.autoscale is not None:
            self.autoscalers[w.name] = Autoscaler(self.env, w.name, replicas, w.autoscale, self.startup,
                                                  self.scaling)
        return replicas

    def job_options(self, w, paths: list[str], threads: int) -> dict:
        """How ``w``'s jobs start at ``paths``: the :class:`JobStarter` options (plans, memory, gates)."""
        template = demand_template(w.demand)
        plans = {self.target_code[p]: plan for p in paths
                 if (plan := self.planner.plan(p, template, threads)) is not None}
        options = {"plans": plans, "template": template} if plans else {}
        if w.service is not None:
            options |= {"workers": w.service.workers, "holds_request": w.service.holds == "request"}
        if w.client is not None:
            options["client"] = self.client_side(w, template)
        if w.demand is not None and w.demand.calls:
            options["calls"] = {self.target_code[p]: self.call_plan(w, p) for p in paths}
        if self.memory is not None and template.memory_bytes > 0:
            options |= {"memory": self.memory, "memory_bytes": template.memory_bytes}
        gates = {code: gate for p in paths if (gate := self.gates.get(code := self.target_code[p]))}
        if not gates:
            return options
        return options | {"gates": gates, "refuse_when_down": w.when_down == "refuse"}

    def call_plan(self, w, path: str) -> CallPlan:
        """The calls of ``w``'s requests at ``path`` to the workloads they name."""
        steps = tuple(CallStep(self.callee(c.service), c.count, c.request_bytes, c.response_bytes, c.parallel)
                      for c in w.demand.calls)
        return CallPlan(self.env, self.log, self.platform.fabric, path, steps)

    def callee(self, name: str) -> Callee:
        """The workload ``name`` as a service: where its calls go, and its CPU work per call."""
        found = self.callees.get(name)
        if found is None:
            index = next(i for i, w in enumerate(self.workloads) if w.name == name)
            w = self.workloads[index]
            consumer, code = self.first_target(w)
            # A service's jobs are all calls: its own CPU stream; another workload's calls draw from a stream
            # of their own, so its own arrivals' demands stay as they were.
            stream = self.stream_of(w, "cpu" if w.type == "service" else "call-cpu")
            found = self.callees[name] = Callee(self.env, self.sources, index, consumer, code,
                                                make_sampler(w.demand.cpu, stream))
        return found

    def client_side(self, w, server: Demand) -> ClientSide:
        """The modelled clients of ``w``: their consumer, their CPU stream, their stack and their NIC."""
        path = w.client.target
        consumer = self.platform.consumer(path)
        threads = w.client.demand.threads
        template = mirrored(demand_template(w.client.demand), server)
        plan = self.planner.plan(path, template, threads)
        return ClientSide(consumer, make_sampler(w.client.demand.cpu, self.stream_of(w, "client-cpu")), template,
                          plan, threads)


SourceBuilder = Callable[..., object]
"""``build(w, index, wiring, threads, options)`` → the source of workload ``w``, the ``index``-th of the
job log, its jobs of ``threads`` threads started with the :class:`JobStarter` ``options``."""


@dataclass(frozen=True)
class WorkloadType:
    """A workload type at run time."""

    name: str
    """The spec's ``type``."""
    build: SourceBuilder
    columns: Callable[[object, dict], dict] | None = None
    """``columns(w, jobs)`` → the type's own columns of ``w``'s row of the workloads table, from the job
    columns of its jobs (``WORKLOAD_COLUMNS``); None: none."""
