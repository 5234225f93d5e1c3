"""The handle a user-written workload uses to act at its place in the stack.

A workload is a plain SimPy generator; what it asks for goes through the same
stack as a built-in workload's requests (the layers' CPU factors, per-operation
costs, I/O paths and shared devices)::

    def web_request(ctx):
        yield ctx.cpu("4 ms")                       # CPU work, seconds on a reference core
        yield ctx.disk(2, bytes="8 KiB")            # two random 8 KiB reads
        yield ctx.request(cpu=0.002, syscalls=40, net={"bytes": "4 KiB"})  # a whole demand vector
        yield ctx.sleep(0.001)                      # wait 1 ms (not using the CPU)

    def clients(ctx):
        while True:
            yield ctx.sleep(ctx.rng.exponential(0.05))
            ctx.spawn(web_request)                  # recorded as a job in the job table

Each spawned job gets a time breakdown like a built-in one: the sum of its
requests' (native work, virtualization overhead, I/O latency), its sleeps
counted as native time (they take as long on bare metal); the rest of its
response time is waiting. The sum assumes a job's steps run one after another.
"""

from __future__ import annotations

import math
import typing
from collections.abc import Callable, Mapping
from dataclasses import replace

import numpy as np
import simpy

from ..components import Consumer
from ..config.workload_inputs import DiskDemandInput, NetDemandInput
from ..config.units import parse_quantity
from ..model.cpu_topology import LOCALITIES
from .jobs import JobLog
from .requests import Breakdown, Demand, RequestPlan, disk_fields, net_fields

PlanFor = Callable[[Demand, int], "RequestPlan | None"]
"""``(demand, threads)`` → the plan that runs such requests at the context's place (None: one CPU activity)."""

_NO_TIME = Breakdown.native(0.0)


class Context:
    """Bound to one consumer (host, VM or container), one workload and one random stream."""

    def __init__(self, env: simpy.Environment, consumer: Consumer, log: JobLog, workload: int,
                 target: int, rng: np.random.Generator, plan_for: PlanFor, job: int | None = None):
        self.env = env
        self.consumer = consumer
        self.rng = rng
        self._log = log
        self._workload = workload
        self._target = target
        self._plan_for = plan_for
        self.job = job
        """Id of the job this context works for (None outside :meth:`spawn`)."""

    @property
    def now(self) -> float:
        """Simulated time in seconds."""
        return self.env.now

    # -- what a request asks for ---------------------------------------------------

    def request(self, cpu: float | str = 0.0, *, threads: int = 1, mem_fraction: float = 0.0,
                kernel_fraction: float = 0.0, mem_locality: str = "interleaved", syscalls: float = 0.0,
                ctx_switches: float = 0.0, page_faults: float = 0.0, forks: float = 0.0,
                disk: Mapping | None = None, net: Mapping | None = None) -> simpy.Event:
        """An event that fires when one request with this demand vector is done.

        The arguments are those of an experiment file's ``demand`` (units the
        same: a time like ``"3 ms"`` or seconds; sizes like ``"8 KiB"`` or
        bytes); ``disk`` and ``net`` are mappings as there, e.g.
        ``{"ops": 2, "bytes": "8 KiB", "kind": "write"}`` or ``{"bytes": "4 KiB"}``.
        The request runs in the phases of a built-in one: CPU (``cpu`` slowed by
        the layers' factors, plus every operation's CPU, the layers' share of it
        on the host), the operations' added latency, the disk, then the network::

            def checkout(ctx):
                yield ctx.request(
                    cpu="2 ms",                  # user CPU, reference-core seconds
                    mem_fraction=0.2,            # the TLB-miss-bound part of it
                    syscalls=40, ctx_switches=4, page_faults=10,
                    disk={"ops": 2, "bytes": "8 KiB", "pattern": "random", "kind": "read"},
                    net={"transactions": 1, "bytes": "4 KiB", "direction": "send"},
                )

            sim.process(library.open_loop(ctx, library.poisson(ctx.rng, 10.0), checkout))
            results = virtsim.collect(sim.run())   # jobs: native_s, virtualization_s, io_latency_s, wait_s
        """
        demand = _demand("ctx.request", cpu, mem_fraction, (syscalls, ctx_switches, page_faults, forks), disk, net)
        kernel = _count("ctx.request", "kernel_fraction", kernel_fraction)
        if kernel > 1:
            raise ValueError(f"ctx.request: kernel_fraction must be between 0 and 1, got {kernel_fraction!r}")
        if demand.mem_fraction + kernel > 1:
            raise ValueError(f"ctx.request: mem_fraction ({demand.mem_fraction:g}) and kernel_fraction ({kernel:g}) "
                             "add up to more than 1; make their sum at most 1")
        locality = _choice("ctx.request", "mem_locality", mem_locality, LOCALITIES)
        if kernel or locality != "interleaved":
            demand = replace(demand, kernel_fraction=kernel, mem_locality=locality)
        return self._run(demand, _threads(threads))

    def cpu(self, seconds: float | str, *, threads: int = 1) -> simpy.Event:
        """An event that fires when ``seconds`` of reference-core CPU work is done.

        The work runs in this context's consumer, shared fairly with everything
        else there, slowed by the stack's CPU factor as a built-in job's is;
        ``threads`` bounds how many cores it can use at once. ``seconds`` may be
        a time such as ``"20 ms"``.
        """
        return self._run(Demand(cpu_s=_quantity("ctx.cpu", "cpu", seconds, "time")), _threads(threads))

    def disk(self, ops: float = 1, *, bytes: float | str = 4096, pattern: str = "random",
             kind: str = "read") -> simpy.Event:
        """An event that fires when ``ops`` disk operations of ``bytes`` each are done (one at a time).

        Each costs what the stack adds (CPU, latency, an IOPS ceiling) and
        occupies the host's disk, shared with every other stream on it.
        """
        disk = {"ops": ops, "bytes": bytes, "pattern": pattern, "kind": kind}
        return self._run(Demand(cpu_s=0.0, **_disk("ctx.disk", disk)), 1)

    def net(self, transactions: float = 1, *, bytes: float | str = 0, direction: str = "send",
            request_bytes: float | str = 0) -> simpy.Event:
        """An event that fires when ``transactions`` network round trips of ``bytes`` each are done.

        ``request_bytes`` go the other way. Their packets' frames go through the
        host's NIC, shared with every other flow, and their CPU through the
        stack; each transaction waits for the NIC's latency both ways plus what
        the stack adds.
        """
        net = {"transactions": transactions, "bytes": bytes, "direction": direction, "request_bytes": request_bytes}
        return self._run(Demand(cpu_s=0.0, **_net("ctx.net", net)), 1)

    def sleep(self, seconds: float | str) -> simpy.Event:
        """An event that fires after ``seconds`` of simulated time (a time such as ``"5 ms"`` too)."""
        seconds = _quantity("ctx.sleep", "seconds", seconds, "time")
        if self.job is not None:
            self._add_breakdown(Breakdown.native(seconds))  # a pause takes as long on bare metal
        return self.env.timeout(seconds)

    def spawn(self, request, *args) -> simpy.Process:
        """Run ``request(ctx, *args)`` as a new job; it ends when the generator returns."""
        job = self._log.arrive(self._workload, self._target, self.env.now, 0.0)
        self._log.breakdown[job] = _NO_TIME
        child = Context(self.env, self.consumer, self._log, self._workload, self._target, self.rng,
                        self._plan_for, job)
        log = self._log

        def run():
            yield from request(child, *args)
            log.finish(job, self.env.now)

        return self.env.process(run())

    # -- running -------------------------------------------------------------------

    def _run(self, demand: Demand, threads: int) -> simpy.Event:
        done = self.env.event()
        plan = self._plan_for(demand, threads)  # None only for CPU work on a bare host
        speed = self.consumer.core_speed
        job = self.job
        arrival = plan.arrive(demand) if plan is not None else None
        if job is not None:
            self._log.add_cpu(job, demand.cpu_s)
            alone = self.consumer.topology.alone_cores(threads) * speed
            self._add_breakdown(plan.breakdown(demand, arrival) if plan is not None
                                else Breakdown.native(demand.cpu_s / alone))
        if plan is not None:
            failed = self._log.failed_at
            plan.start(demand, done.succeed, alive=(lambda: job not in failed) if job is not None else None,
                       arrival=arrival)
        elif demand.cpu_s > 0:
            self.consumer.node.submit(demand.cpu_s, max_rate=threads * speed,
                                      on_done=lambda _activity: done.succeed())
        else:
            done.succeed()
        return done

    def _add_breakdown(self, part: Breakdown) -> None:
        breakdown = self._log.breakdown
        breakdown[self.job] += part  # spawn() started it at _NO_TIME


# -- checking what users pass ------------------------------------------------------------


def _threads(threads) -> int:
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
        raise ValueError(f"threads must be an integer >= 1, got {threads!r}")
    return int(threads)


def _quantity(call: str, name: str, value, kind: str) -> float:
    """A time (seconds) or size (bytes) ≥ 0: a number, or a text with a unit as in experiment files."""
    try:
        number = float(value) if kind == "size" and _is_number(value) else parse_quantity(value, kind)
    except ValueError as error:
        raise ValueError(f"{call}: {name}: {error}") from None
    if not number >= 0:
        raise ValueError(f"{call}: {name} must be >= 0, got {value!r}")
    return number


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _count(call: str, name: str, value) -> float:
    if not _is_number(value) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{call}: {name} must be a finite number >= 0, got {value!r}")
    return float(value)


def _choice(call: str, name: str, value, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"{call}: {name} must be one of {', '.join(map(repr, allowed))}, got {value!r}")
    return value


def _fields(call: str, given, allowed: dict) -> dict:
    """``given`` (a mapping or None) over the defaults ``allowed``; unknown keys are refused."""
    if given is None:
        return {}
    if not isinstance(given, Mapping):
        raise ValueError(f"{call} must be a mapping like {{{', '.join(allowed)}}}, got {given!r}")
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise ValueError(f"{call}: unknown key(s) {', '.join(map(repr, unknown))}; valid: {', '.join(allowed)}")
    return {**allowed, **given}


# The defaults and choices of an experiment file's ``demand.disk`` and ``demand.net``.
_DISK = {name: field.default for name, field in DiskDemandInput.model_fields.items()}
_NET = {name: field.default for name, field in NetDemandInput.model_fields.items()}


def _options(model, name: str) -> tuple[str, ...]:
    return typing.get_args(model.model_fields[name].annotation)


def _disk(call: str, given) -> dict:
    """The disk part of a demand (``Demand`` fields) from a ``disk`` mapping, checked; {} for None."""
    d = _fields(f"{call}: disk", given, _DISK)
    if not d:
        return {}
    return disk_fields(_count(call, "disk.ops", d["ops"]), _quantity(call, "disk.bytes", d["bytes"], "size"),
                       _choice(call, "disk.pattern", d["pattern"], _options(DiskDemandInput, "pattern")),
                       _choice(call, "disk.kind", d["kind"], _options(DiskDemandInput, "kind")))


def _net(call: str, given) -> dict:
    """The network part of a demand (``Demand`` fields) from a ``net`` mapping, checked; {} for None."""
    n = _fields(f"{call}: net", given, _NET)
    if not n:
        return {}
    return net_fields(_count(call, "net.transactions", n["transactions"]),
                      _quantity(call, "net.bytes", n["bytes"], "size"),
                      _choice(call, "net.direction", n["direction"], _options(NetDemandInput, "direction")),
                      _quantity(call, "net.request_bytes", n["request_bytes"], "size"))


def _demand(call: str, cpu, mem_fraction, ops, disk, net) -> Demand:
    """The demand vector of one request, checked and in SI units."""
    fraction = _count(call, "mem_fraction", mem_fraction)
    if fraction > 1:
        raise ValueError(f"{call}: mem_fraction must be between 0 and 1, got {mem_fraction!r}")
    names = ("syscalls", "ctx_switches", "page_faults", "forks")
    return Demand(cpu_s=_quantity(call, "cpu", cpu, "time"), mem_fraction=fraction,
                  ops=tuple(_count(call, name, value) for name, value in zip(names, ops)),
                  **_disk(call, disk), **_net(call, net))
