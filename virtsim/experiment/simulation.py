"""One simulation run: the clock, the random streams, the parts of a resolved spec wired together, start and stop.

What each part does is its own module's: the platform, start-up, failures and
memory (``components``), the workloads' sources by type (``workloads.registry``),
the fluid loads (``trace_loads``). Tables are made from a finished run by
:func:`~virtsim.experiment.results.collect`.
"""

from __future__ import annotations

import functools
import zlib
from dataclasses import dataclass, field

import numpy as np
import simpy

from ..components import Platform
from ..components.failures import Failures, JobsInFlight
from ..components.memory import MemoryUse, Swapping, killable_containers, memory_chains
from ..components.consolidation import Consolidation
from ..components.migration import Migrations
from ..components.metering import energy_meters, switched_off
from ..components.replicas import gate_replicas, held_replicas
from ..components.slots import Slots
from ..components.startup import Startup
from ..workloads.context import Context
from ..workloads.distributions import make_sampler
from ..workloads.jobs import JobLog
from ..workloads.planning import RequestPlanner
from ..workloads.registry import build_sources
from ..workloads.wiring import Wiring
from ..config.migration import MigrationSpec
from .timeseries import Sampler
from .trace_loads import TraceLoads


def random_stream(seed: int, name: str) -> np.random.Generator:
    """An independent generator for the source called ``name``.

    The stream depends only on the run's seed and the name, not on how many
    other sources exist or in which order they were built.
    """
    key = zlib.crc32(name.encode("utf-8"))
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(key,)))


@dataclass
class Snapshot:
    """Time integrals of every consumer at one instant: (∫alloc, ∫demand) in work units."""

    time_s: float
    integrals: dict[str, tuple[float, float]]
    overload_s: dict[str, float]
    """Per host: seconds so far during which its CPU demand exceeded its capacity."""
    energy_j: dict[str, float] = field(default_factory=dict)
    """Joules drawn so far by each host with a metered (table) power model."""
    throttled: dict[str, tuple[float, int]] = field(default_factory=dict)
    """Per container under a CFS quota: (seconds throttled, periods throttled) so far."""
    links: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    """With a network: per link, (bytes, ∫ capacity dt, seconds saturated) so far (``Fabric.link_stats``)."""


class Simulation:
    """Builds the platform and the workloads of ``spec`` on a fresh SimPy clock.

    ``run()`` advances to the end (the duration, or the ``stop_after_jobs``-th
    completion, whichever comes first). Custom generator workloads can be added
    before with :meth:`context` and :meth:`process`.
    """

    def __init__(self, spec, *, seed: int | None = None, arrivals_tables: dict | None = None):
        self.spec = spec
        self.seed = spec.seed if seed is None else seed
        self.env = env = simpy.Environment()
        self.platform = platform = Platform(env, spec.hosts)
        if spec.network is not None:  # the hosts' traffic crosses the network's links
            from ..components.network import Fabric  # only a run with a network loads the flow engine

            platform.fabric = Fabric(env, spec.network, platform, spec.hosts)
        self.targets = list(platform.consumers)
        self._target_code = {path: i for i, path in enumerate(self.targets)}
        self.log = JobLog([w.name for w in spec.workloads], self.targets)
        tables = arrivals_tables or {}
        self.off_hosts = switched_off(spec, tables)
        """Hosts switched off for the whole run (empty, with ``energy.switch_off_empty``)."""
        self.meters = energy_meters(env, platform, spec.hosts, self.off_hosts)
        self.startup = Startup(env, platform, spec.hosts)
        held = held_replicas(spec.workloads)
        self.startup.hold(held)  # replicas in reserve start when the autoscaler asks
        if spec.cold_start:
            self.startup.start()
        else:
            self.startup.assume_running()
        gate_replicas(self.startup, spec.workloads, held, env.now)
        swapping = Swapping(platform, spec.hosts)
        self.pressure = swapping.pressure
        """What each overcommitted host reclaims from its VMs (page sharing, ballooning, swap)."""
        chains = memory_chains(spec.hosts, spec.workloads, self._target_code)
        in_flight = JobsInFlight(self.log, self._target_code)
        self.failures = Failures(env, platform, self.startup, spec.hosts, spec.failures, self._failure_sampler,
                                 in_flight.fail) if spec.failures or chains else None
        self.memory = MemoryUse(env, chains, self.failures.oom_kill, self.failures.process_killed) if chains else None
        for path in killable_containers(chains):
            self.startup.gate(path)  # an OOM-killed container is down while it restarts
        for move in spec.migration.moves if spec.migration is not None else ():
            self.startup.gate(move.vm)  # closed during a migration's downtime: arrivals wait for the resume
        if spec.consolidation is not None:
            for host in spec.hosts:
                for vm in host.vms:
                    self.startup.gate(f"{host.name}/{vm.name}")  # any VM may move
        software = {r.name: Slots(r.capacity, self.log.failed_at) for r in spec.software_resources}
        self._planner = RequestPlanner(env, platform, swapping, software)
        wiring = Wiring(env, self.log, platform, self._target_code, self._stream, self._planner, self.startup,
                        {self._target_code[path]: gate for path, gate in self.startup.gates.items()},
                        self.memory, tables)
        self.sources = build_sources(spec.workloads, wiring)
        in_flight.starters = {i: source.starter for i, source in enumerate(self.sources)}
        self.scaling: list[tuple] = wiring.scaling
        """Autoscaling decisions: (time_s, workload, replicas before, after, utilization)."""
        self.autoscalers = wiring.autoscalers
        self.trace_loads = TraceLoads(env, platform, spec.loads)
        self.migrations = (Migrations(env, platform, spec.hosts, spec.migration, self._rebind_moved,
                                      self.startup.gates)
                           if spec.migration is not None else None)
        """The scheduled live migrations, when the spec has any (their records: the migrations table)."""
        if spec.consolidation is not None and self.migrations is None:
            self.migrations = Migrations(env, platform, spec.hosts, MigrationSpec(), self._rebind_moved,
                                         self.startup.gates)
        self.consolidation = (Consolidation(env, platform, spec.hosts, spec.consolidation, self.migrations,
                                            self.meters, random_stream(self.seed, "consolidation/selection"))
                              if spec.consolidation is not None else None)
        """The consolidation controller, with a ``consolidation`` section."""
        self.warmup: Snapshot | None = None
        self.end: Snapshot | None = None
        self.sampler: Sampler | None = None
        """Integrals at every ``sample_interval`` boundary, when the spec asks for them."""
        self._stop = env.event()
        self._contexts: dict[tuple[str, str], int] = {}

    def _rebind_moved(self, path: str) -> None:
        """A VM now runs on another host: its workloads' plans and its trace loads follow it."""
        self._planner.rebind(path)
        self.trace_loads.moved(path)

    # -- random streams ------------------------------------------------------------

    def _stream(self, streams: str, purpose: str) -> np.random.Generator:
        """The stream of one purpose of a workload; ``streams`` is the name its streams go by
        (its spec's ``streams``, a custom workload's name)."""
        return random_stream(self.seed, f"{streams}/{purpose}")

    def _failure_sampler(self, index: int, purpose: str, distribution):
        failure = self.spec.failures[index]
        rng = random_stream(self.seed, f"failures[{index}]:{failure.domain}:{failure.layer}/{purpose}")
        return make_sampler(distribution, rng)

    # -- custom workloads ----------------------------------------------------------

    def context(self, target: str, workload: str | None = None) -> Context:
        """A context for a custom workload running at ``target``.

        ``workload`` names the workload in the job table (default: the target).
        Its requests run by the same plan as a built-in workload's at ``target``
        (the stack's factors, per-operation costs, I/O paths, shared devices).
        """
        consumer = self.platform.consumer(target)
        name = workload or target
        if name not in self.log.workload_names:
            self.log.workload_names.append(name)
        # Each context gets its own stream, named by workload, target and how
        # many contexts that pair already has, so the streams never coincide.
        self._contexts[(name, target)] = k = self._contexts.get((name, target), 0) + 1
        return Context(self.env, consumer, self.log, self.log.workload_names.index(name),
                       self._target_code[target], self._stream(name, f"custom@{target}#{k}"),
                       plan_for=functools.partial(self._planner.shared_plan, target))

    def process(self, generator) -> simpy.Process:
        """Start a custom workload (a generator using a :meth:`context`)."""
        return self.env.process(generator)

    # -- running -----------------------------------------------------------------

    def _snapshot(self) -> Snapshot:
        now = self.env.now
        return Snapshot(now, {c.path: c.node.time_integrals(now) for c in self.platform.all_consumers().values()},
                        {name: cpu.root.overload_time(now) for name, cpu in self.platform.cpu.items()},
                        {name: meter.energy_at(now) for name, meter in self.meters.items()},
                        {path: (quota.throttled_s(now), quota.throttled_periods)
                         for path, quota in self.platform.quotas.items()},
                        self.platform.fabric.link_stats() if self.platform.fabric is not None else {})

    def _take_warmup(self, _event=None) -> None:
        self.warmup = self._snapshot()

    def _request_stop(self, _event=None) -> None:
        if not self._stop.triggered:
            self._stop.succeed()

    def run(self) -> Simulation:
        """Run to the end; returns ``self`` with ``warmup`` and ``end`` snapshots taken."""
        spec = self.spec
        for source in self.sources:
            source.start()
        for autoscaler in self.autoscalers.values():
            autoscaler.start()
        self.trace_loads.start()
        if self.failures is not None:
            self.failures.start()
        if self.migrations is not None:
            self.migrations.start()
        if self.consolidation is not None:
            self.consolidation.start()
        if spec.warmup_s > 0:
            self.env.timeout(spec.warmup_s).callbacks.append(self._take_warmup)
        else:
            self._take_warmup()
        if spec.stop_after_jobs is not None:
            self.log.limit = spec.stop_after_jobs
            self.log.on_limit = self._request_stop
        if spec.duration_s is not None:
            self.env.timeout(spec.duration_s).callbacks.append(self._request_stop)
        if spec.sample_interval_s is not None:
            self.sampler = Sampler(self.env, self.platform.all_consumers(), spec.sample_interval_s)
            self.sampler.start()
        self.env.run(until=self._stop)
        if self.warmup is None:  # stopped before the warm-up ended
            self._take_warmup()
        self.end = self._snapshot()
        if self.sampler is not None:
            self.sampler.record()  # close the last (possibly shorter) interval at the end
        return self


__all__ = ["Simulation", "Snapshot", "random_stream"]
