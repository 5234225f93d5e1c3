"""One simulation run: a platform, its workloads and the clock, from a resolved spec."""

from __future__ import annotations

import functools
import zlib
from dataclasses import dataclass, field

import numpy as np
import simpy

from ..components import Platform
from ..components.autoscaler import Autoscaler
from ..components.failures import Failures, failed_in_flight
from ..components.memory import PAGE_BYTES, MemoryUse, swap_out
from ..components.power import EnergyMeter
from ..components.startup import Startup
from ..model.memory import memory_domains, memory_pressure
from ..model.occupancy import empty_hosts
from ..workloads.arrivals import CurveGaps, OnOffGaps, RateCurve
from ..workloads.context import Context
from ..workloads.distributions import make_sampler
from ..workloads.jobs import JobLog
from ..components.replicas import ReplicaSet
from ..workloads.requests import Demand, Device, RequestPlan, demand_template
from ..workloads.sources import Batch, ClosedLoop, OpenLoop, TraceReplay
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


class Simulation:
    """Builds the platform and the workloads of ``spec`` on a fresh SimPy clock.

    ``run()`` advances to the end (the duration, or the ``stop_after_jobs``-th
    completion, whichever comes first). Custom generator workloads can be added
    before with :meth:`context` and :meth:`process`.
    """

    def __init__(self, spec, *, seed: int | None = None, arrivals_tables: dict | None = None):
        self.spec = spec
        self.seed = spec.seed if seed is None else seed
        self.env = simpy.Environment()
        self.platform = Platform(self.env, spec.hosts)
        self.targets = list(self.platform.consumers)
        self._target_code = {path: i for i, path in enumerate(self.targets)}
        workload_names = [w.name for w in spec.workloads]
        self.log = JobLog(workload_names, self.targets)
        self._arrivals_tables = arrivals_tables or {}
        energy = spec.energy
        self.off_hosts = empty_hosts(spec, self._arrivals_tables) if energy and energy.switch_off_empty else set()
        """Hosts switched off for the whole run (empty, with ``energy.switch_off_empty``)."""
        self.meters = self._energy_meters()
        self.startup = Startup(self.env, self.platform, spec.hosts)
        held = [path for w in spec.workloads if w.autoscale is not None
                for path in w.replicas[w.autoscale.min_replicas:]]
        self.startup.hold(held)  # replicas in reserve start when the autoscaler asks
        if spec.cold_start:
            self.startup.start()
        else:
            self.startup.assume_running()
        for w in spec.workloads:
            for path in w.replicas or ():
                gate = self.startup.gate(path)  # the balancer sends jobs to serving replicas only
                if path in held:
                    gate.close(self.env.now, "stopped")
        self.scaling: list[tuple] = []
        """Autoscaling decisions: (time_s, workload, replicas before, after, utilization)."""
        self.autoscalers: dict[str, Autoscaler] = {}
        self._vms = {f"{h.name}/{vm.name}": vm for h in spec.hosts for vm in h.vms}
        self.pressure = {path: r for host in spec.hosts for path, r in memory_pressure(host).items()}
        """What each overcommitted host reclaims from its VMs (page sharing, ballooning, swap)."""
        for host in spec.hosts:
            swap_out(self.platform, host, [r for p, r in self.pressure.items() if p.startswith(f"{host.name}/")])
        chains = self._memory_chains()
        self.failures = Failures(self.env, self.platform, self.startup, spec.hosts, spec.failures,
                                 self._failure_sampler, self._fail_jobs) if spec.failures or chains else None
        self.memory = MemoryUse(self.env, chains, self._oom_kill, self._process_killed) if chains else None
        for chain in chains.values():
            for path, _, kind in chain:
                if kind == "container":
                    self.startup.gate(path)  # an OOM-killed container is down while it restarts
        self._gates = {self._target_code[path]: gate for path, gate in self.startup.gates.items()}
        self.sources = [self._build_source(i, w) for i, w in enumerate(spec.workloads)]
        self.trace_loads = TraceLoads(self.env, self.platform, spec.loads)
        self.warmup: Snapshot | None = None
        self.end: Snapshot | None = None
        self.sampler: Sampler | None = None
        """Integrals at every ``sample_interval`` boundary, when the spec asks for them."""
        self._stop = self.env.event()
        self._open_from = 0
        """Every job before this one is over: failures need not look at them."""
        self._contexts: dict[tuple[str, str], int] = {}
        self._context_plans: dict[tuple, RequestPlan | None] = {}

    # -- building ----------------------------------------------------------------

    def _energy_meters(self) -> dict[str, EnergyMeter]:
        """A meter on each powered host whose power is a table (a linear one follows from ∫u dt)."""
        meters = {}
        for host in self.spec.hosts:
            power = host.hardware.power
            if power is not None and power.model == "table" and host.name not in self.off_hosts:
                cpu = self.platform.cpu[host.name]
                meters[host.name] = cpu.on_root_alloc = EnergyMeter(power, cpu.capacity, self.env.now, cpu.root.alloc)
        return meters

    def _stream(self, streams: str, purpose: str) -> np.random.Generator:
        """The stream of one purpose of a workload; ``streams`` is the name its streams go by
        (its spec's ``streams``, a custom workload's name)."""
        return random_stream(self.seed, f"{streams}/{purpose}")

    def _memory_chains(self) -> dict[int, tuple]:
        """The memory domains of every target, by target code, if any request takes memory."""
        if not any(w.demand is not None and w.demand.memory_bytes > 0 for w in self.spec.workloads):
            return {}
        return {self._target_code[path]: chain for host in self.spec.hosts
                for path, chain in memory_domains(host).items()}

    def _oom_kill(self, path: str, restart_after_s: float) -> None:
        self.failures.kill_container(path, "oom-kill", restart_after_s)

    def _process_killed(self, path: str) -> None:
        self.failures.events.append((self.env.now, path, "process", "oom-kill", 0))

    def _failure_sampler(self, index: int, purpose: str, distribution):
        failure = self.spec.failures[index]
        rng = random_stream(self.seed, f"failures[{index}]:{failure.domain}:{failure.layer}/{purpose}")
        return make_sampler(distribution, rng)

    def _fail_jobs(self, paths: list[str], now: float) -> None:
        """Jobs running in consumers that just went down fail (those waiting at their gates wait on)."""
        log = self.log
        codes = [self._target_code[p] for p in paths]
        # Jobs before _open_from are all over (done or failed): a failure scans only the rest,
        # so a run with many failures stays linear in its jobs.
        first = self._open_from
        end = np.array(log.end[first:], dtype=float)
        jobs = first + failed_in_flight(end, np.array(log.target[first:], dtype=np.int32), codes)
        starters = {i: source.starter for i, source in enumerate(self.sources)}
        waiting = set().union(*(s.waiting for s in starters.values()))
        for job in jobs.tolist():
            if job in log.failed_at or job in waiting:
                continue
            starter = starters.get(log.workload[job])
            if starter is not None:
                starter.fail(job, now)
            else:  # a custom workload's job: recorded as failed, its process is not resumed
                log.fail(job, now)
        for k in np.flatnonzero(np.isnan(end)).tolist():
            if first + k not in log.failed_at:
                self._open_from = first + k
                break
        else:
            self._open_from = first + len(end)

    def _request_plan(self, path: str, template: Demand, threads: int) -> RequestPlan | None:
        """How requests shaped like ``template`` run at ``path``; None where one CPU activity says it all."""
        platform = self.platform
        cost = platform.paths[path]
        swap_ops = self._swap_ins_per_request(path, template)
        if cost.is_native and not template.has_operations and not swap_ops:
            return None
        consumer = platform.consumer(path)
        disk = nic = swap = None
        if swap_ops and platform.disks[consumer.host]:
            device = platform.disks[consumer.host][0]
            vm_path = "/".join(path.split("/")[:2])
            swap = Device(device.node_for(f"{vm_path}.swap"), device.spec.iops, device.spec.bandwidth_bytes_per_s,
                          device.spec.latency_s)
        if template.disk_ops and platform.disks[consumer.host]:
            device = platform.disks[consumer.host][0]
            spec = device.spec
            write = template.disk_write
            bandwidth = spec.write_bandwidth_bytes_per_s if write else spec.bandwidth_bytes_per_s
            factor = cost.disk.other_bandwidth_factor if write else cost.disk.bandwidth_factor
            # The path's bandwidth ceiling is the share of the device it can keep busy.
            share = cost.disk.bandwidth_limit_bytes_per_s / (bandwidth * factor)
            per_request = spec.request_bandwidth_bytes_per_s
            request_share = 1.0 if per_request is None else min(1.0, per_request / (bandwidth * factor))
            bare_share = 1.0 if per_request is None else min(1.0, per_request / bandwidth)
            disk = Device(device.node_for(path, share), spec.write_iops if write else spec.iops,
                          bandwidth, spec.write_latency_s if write else spec.latency_s, request_share,
                          bare_request_share=bare_share)
        if template.net_transactions and platform.nics[consumer.host]:
            device = platform.nics[consumer.host][0]
            spec = device.spec
            factor = cost.net.other_bandwidth_factor if template.net_receive else cost.net.bandwidth_factor
            rate = min(spec.bandwidth_bytes_per_s * factor, cost.net.bandwidth_limit_bytes_per_s)
            nic = Device(device.node_for(path, rate), 0.0, rate, spec.latency_s,
                         bare_bytes_per_s=spec.bandwidth_bytes_per_s)
        nodes = {where: platform.node_of(where) for where in cost.charged_consumers()}
        return RequestPlan(self.env, consumer, cost, nodes, threads, disk, nic, swap, swap_ops)

    def _swap_ins_per_request(self, path: str, template: Demand) -> float:
        """Pages a request of ``template`` reads back from the host's swap, at ``path``.

        The request touches its ``memory``; the share of it that the host
        swapped out is the VM's swapped fraction of its active memory.
        """
        parts = path.split("/")
        if len(parts) < 2 or not template.memory_bytes:
            return 0.0
        vm_path = "/".join(parts[:2])  # a nested VM's memory is part of its L1 VM's, which the host reclaims
        reclaim = self.pressure.get(vm_path)
        if reclaim is None or not reclaim.swapped:
            return 0.0
        return reclaim.swapped_fraction(self._vms[vm_path]) * template.memory_bytes / PAGE_BYTES

    def _job_options(self, w, paths: list[str], threads: int) -> dict:
        template = demand_template(w.demand)
        plans = {self._target_code[p]: plan for p in paths
                 if (plan := self._request_plan(p, template, threads)) is not None}
        options = {"plans": plans, "template": template} if plans else {}
        if self.memory is not None and template.memory_bytes > 0:
            options |= {"memory": self.memory, "memory_bytes": template.memory_bytes}
        gates = {code: gate for p in paths if (gate := self._gates.get(code := self._target_code[p]))}
        if not gates:
            return options
        return options | {"gates": gates, "refuse_when_down": w.when_down == "refuse"}

    def _replica_set(self, w) -> ReplicaSet | None:
        if w.replicas is None:
            return None
        codes = [self._target_code[p] for p in w.replicas]
        active = w.autoscale.min_replicas if w.autoscale is not None else len(codes)
        replicas = ReplicaSet(list(w.replicas), [self.platform.consumer(p) for p in w.replicas], codes,
                              {c: self._gates[c] for c in codes if c in self._gates}, active)
        if w.autoscale is not None:
            self.autoscalers[w.name] = Autoscaler(self.env, w.name, replicas, w.autoscale, self.startup,
                                                  self.scaling)
        return replicas

    def _build_source(self, index: int, w):
        threads = w.demand.threads if w.demand is not None else 1
        replicas = self._replica_set(w)
        first = w.target or (w.replicas[0] if w.replicas else None)
        options = self._job_options(w, list(w.target_paths), threads)
        if replicas is not None:
            options["replicas"] = replicas
        if w.type == "closed":
            consumer = self.platform.consumer(first)
            return ClosedLoop(self.env, self.log, index, consumer, self._target_code[first], w.clients,
                              make_sampler(w.think_time, self._stream(w.streams, "think")),
                              make_sampler(w.demand.cpu, self._stream(w.streams, "cpu")), threads, **options)
        if w.type == "batch":
            consumer = self.platform.consumer(first)
            return Batch(self.env, self.log, index, consumer, self._target_code[first], w.jobs, w.at_s,
                         make_sampler(w.demand.cpu, self._stream(w.streams, "cpu")), threads, **options)
        if w.arrivals.type != "file":
            consumer = self.platform.consumer(first)
            return OpenLoop(self.env, self.log, index, consumer, self._target_code[first], self._gaps(w),
                            make_sampler(w.demand.cpu, self._stream(w.streams, "cpu")), threads, **options)
        table = self._arrivals_tables[w.name]
        consumers = [self.platform.consumer(t) for t in table.target_names]
        codes = [self._target_code[t] for t in table.target_names]
        return TraceReplay(self.env, self.log, index, consumers, codes, table.times_s,
                           table.target_codes, table.cpu_s, threads,
                           **options)

    def _gaps(self, w):
        """The inter-arrival times of an open workload's arrival process."""
        arrivals = w.arrivals
        rng = self._stream(w.streams, "arrivals")
        if arrivals.type == "poisson":
            return make_sampler(_Exponential(1.0 / arrivals.rate_per_s), rng)
        if arrivals.type == "onoff":
            return OnOffGaps(rng, arrivals.rate_per_s, make_sampler(arrivals.on_period, self._stream(w.streams, "on")),
                             make_sampler(arrivals.off_period, self._stream(w.streams, "off")))
        curve = RateCurve(arrivals.times_s, arrivals.rates_per_s, arrivals.interpolation, arrivals.period_s)
        return CurveGaps(rng, curve)

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
                       plan_for=functools.partial(self._context_plan, target))

    def _context_plan(self, path: str, demand: Demand, threads: int) -> RequestPlan | None:
        """The plan a custom request of ``demand`` runs by at ``path``: the built-in workloads' own.

        A plan depends on the request's shape only (``Demand.plan_shape``:
        operations or not, which devices, which way the bytes go), so one is
        built per shape and kept.
        """
        key = (path, threads, demand.plan_shape)
        if key not in self._context_plans:
            self._context_plans[key] = self._request_plan(path, demand, threads)
        return self._context_plans[key]

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
                         for path, quota in self.platform.quotas.items()})

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


@dataclass(frozen=True)
class _Exponential:
    mean_s: float
    type: str = "exponential"


__all__ = ["Simulation", "Snapshot", "random_stream"]
