"""Turn validated workload inputs into resolved specs, collecting problems.

Resolution reads data files (relative to the experiment file) and converts to
SI field names; hosts are resolved in ``hosts.py``. What a workload type
adds (its keys, their checks, its spec) is its kind's (``workload_registry``).
Each function returns ``None`` for a piece it could not resolve, after
recording why.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from fnmatch import fnmatchcase

from ..wording import unknown
from . import inputs as i
from .resolution import Context
from .distributions import resolve_distribution
from .workload_inputs import AutoscaleInput, DemandInput
from .workload_registry import WORKLOAD_KINDS, check_type_keys, workload_kind
from .workload_spec import (
    AutoscaleSpec,
    CallSpec,
    ClientSpec,
    ConstantDist,
    DemandSpec,
    DiskDemand,
    HoldSpec,
    NetDemand,
    ServiceSpec,
    WorkloadSpec,
)

__all__ = ["Context", "check_client_failures", "host_of", "resolve_workload"]


# --- workloads -------------------------------------------------------------------


def resolve_workload(
    wl: i.WorkloadInput, loc: tuple, ctx: Context, targets: Collection[str]
) -> WorkloadSpec | None:
    """Resolve one workload; ``targets`` are all valid target strings in the file."""
    before = len(ctx.problems)
    kind = workload_kind(wl.type)
    from_file = kind.jobs_from_file(wl)
    check_type_keys(wl, loc, ctx)
    replicas = _replicas(wl, loc, ctx, targets, from_file)
    if wl.target is None and not from_file and wl.replicas is None:
        ctx.add((*loc, "target"), "required key is missing (or give 'replicas')")
    elif wl.target is not None and wl.target not in targets:
        ctx.add((*loc, "target"), unknown("target", wl.target, targets))
    if wl.demand is None and not from_file:
        ctx.add((*loc, "demand"), "required key is missing")
    elif wl.demand is not None and wl.demand.cpu is None and not from_file:
        ctx.add((*loc, "demand", "cpu"), "required key is missing")
    elif wl.demand is not None and wl.demand.cpu is not None and from_file:
        ctx.add((*loc, "demand", "cpu"),
                "not allowed with file arrivals: the file's cpu_s column gives each job's demand")

    resolved = {}
    for each in WORKLOAD_KINDS.values():  # every type's keys given, so their problems are all reported
        resolved |= each.resolve_keys(wl, loc, ctx, targets)
    demand = None
    if wl.demand is not None:
        cpu = _cpu(wl.demand, (*loc, "demand", "cpu"), ctx) if wl.demand.cpu is not None else None
        demand = _demand(wl.demand, cpu)
    service = _service(wl, loc, ctx)
    client = _client(wl, loc, ctx, targets)
    if len(ctx.problems) > before:
        return None
    spec = kind.spec(name=wl.name, target=wl.target, demand=demand, service=service, client=client,
                     when_down=wl.when_down, replicas=replicas, autoscale=_autoscale(wl.autoscale),
                     random_streams=wl.random_streams, **kind.spec_fields(wl, resolved))
    if client is not None:
        client_host = host_of(client.target)
        beside = [path for path in spec.target_paths if host_of(path) == client_host]
        if beside:
            ctx.add((*loc, "client", "target"),
                    f"{client.target!r} is on host {client_host!r}, where the workload's target {beside[0]!r} runs: "
                    "clients in the model run on another host and reach the server through both NICs (leave "
                    "'client' out to keep them outside the model)")
            return None
    return spec


def host_of(path: str) -> str:
    """The host a consumer path is on: its first part."""
    return path.split("/", 1)[0]


_NOT_AT_CLIENT = {
    "net": "the clients' traffic is the server's network transactions (the workload's 'demand.net'), sent and "
           "received through the client's NIC",
    "disk": "a client does no disk I/O in the model",
    "holds": "software resources are the server's",
    "calls": "a client's calls are the server's requests",
    "memory": "a client's memory is not modelled per request",
}


def check_client_failures(workloads: list[tuple[int, WorkloadSpec]], failures: list[tuple[int, object]],
                          ctx: Context) -> None:
    """A host that runs modelled clients does not fail: its clients would vanish with their requests."""
    clients = {host_of(w.client.target): w.name for _, w in workloads if w.client is not None}
    for k, failure in failures:
        domain = getattr(failure, "domain", None)
        if isinstance(domain, str) and host_of(domain) in clients:
            ctx.add(("failures", k, "domain"),
                    f"host {host_of(domain)!r} runs the clients of workload {clients[host_of(domain)]!r}; a client "
                    "host's failures are not modelled (fail the server's layers, or move the clients)")


def _client(wl: i.WorkloadInput, loc: tuple, ctx: Context, targets: Collection[str]) -> ClientSpec | None:
    """The modelled clients, checked: a known target, and a demand of CPU and operations only."""
    client = wl.client
    if client is None:
        return None
    where = (*loc, "client")
    ok = True
    if client.target not in targets:
        ctx.add((*where, "target"), unknown("target", client.target, targets))
        ok = False
    given = client.demand.model_fields_set
    for key, why in _NOT_AT_CLIENT.items():
        if key in given and getattr(client.demand, key) not in (None, (), [], 0, 0.0):
            ctx.add((*where, "demand", key), f"not allowed for a client: {why}")
            ok = False
    if client.demand.cpu is None:
        ctx.add((*where, "demand", "cpu"), "required key is missing (the client's CPU per request, e.g. '20 us')")
        return None
    cpu = _cpu(client.demand, (*where, "demand", "cpu"), ctx)
    if cpu is None or not ok:
        return None
    return ClientSpec(target=client.target, demand=_demand(client.demand, cpu))


def _replicas(wl: i.WorkloadInput, loc: tuple, ctx: Context, targets: Collection[str],
              from_file: bool) -> tuple[str, ...] | None:
    """The replica targets, checked: known, distinct, and not beside a single target or a jobs file."""
    if wl.replicas is None:
        if wl.autoscale is not None:
            ctx.add((*loc, "autoscale"), "needs 'replicas': the targets to scale over")
        return None
    if wl.target is not None:
        ctx.add((*loc, "replicas"), "give either 'target' or 'replicas', not both")
    if from_file:
        ctx.add((*loc, "replicas"), "not with file arrivals: the file names each job's target")
    if isinstance(wl.replicas, str):
        matched = sorted(fnmatchcase_filter(targets, wl.replicas), key=natural_key)
        if not matched:
            ctx.add((*loc, "replicas"), f"the pattern {wl.replicas!r} matches no target")
            return None
        wl = wl.model_copy(update={"replicas": matched})
    for n, path in enumerate(wl.replicas):
        if path not in targets:
            ctx.add((*loc, "replicas", n), unknown("target", path, targets))
        elif path in wl.replicas[:n]:
            ctx.add((*loc, "replicas", n), f"{path!r} is listed twice")
    if wl.autoscale is not None and wl.autoscale.min_replicas > len(wl.replicas):
        ctx.add((*loc, "autoscale", "min_replicas"),
                f"{wl.autoscale.min_replicas} is more than the {len(wl.replicas)} replicas listed")
    return tuple(wl.replicas)


def fnmatchcase_filter(names: Collection[str], pattern: str) -> list[str]:
    """The names matching a shell-style pattern, case-sensitively."""
    return [name for name in names if fnmatchcase(name, pattern)]


def natural_key(name: str) -> list:
    """Sort key that orders the numbers inside names by value: node-2 before node-10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _service(wl: i.WorkloadInput, loc: tuple, ctx: Context) -> ServiceSpec | None:
    """FCFS on workers, checked against the demand; None for processor sharing."""
    service = wl.service
    if service is None or service.discipline == "ps":
        return None
    if wl.demand is not None and wl.demand.threads != 1:
        ctx.add((*loc, "demand", "threads"),
                f"must be 1 with service discipline 'fcfs', got {wl.demand.threads}: a worker is one thread "
                "(give the server more 'workers' instead)")
    return ServiceSpec(workers=service.workers or 1, holds=service.holds)


def _autoscale(a: AutoscaleInput | None) -> AutoscaleSpec | None:
    if a is None:
        return None
    return AutoscaleSpec(min_replicas=a.min_replicas, target_utilization=a.target_utilization,
                           period_s=a.period, tolerance=a.tolerance, scale_down_delay_s=a.scale_down_delay)


def _cpu(demand: DemandInput, loc: tuple, ctx: Context):
    """A demand's CPU distribution, resolved; None (after saying why) if it is invalid or a constant of 0 s."""
    cpu = resolve_distribution(demand.cpu, loc, ctx)
    if isinstance(cpu, ConstantDist) and cpu.value_s <= 0:
        ctx.add(loc, f"a constant CPU demand must be > 0 s, got {cpu.value_s:g} s")
        return None
    return cpu


def _demand(demand: DemandInput, cpu) -> DemandSpec:
    disk, net = demand.disk, demand.net
    return DemandSpec(
        cpu=cpu, threads=demand.threads, mem_fraction=demand.mem_fraction,
        kernel_fraction=demand.kernel_fraction, mem_locality=demand.mem_locality, syscalls=demand.syscalls,
        ctx_switches=demand.ctx_switches, page_faults=demand.page_faults, forks=demand.forks,
        memory_bytes=demand.memory,
        disk=None if disk is None else DiskDemand(ops=disk.ops, bytes=round(disk.bytes), pattern=disk.pattern,
                                                    kind=disk.kind),
        net=None if net is None else NetDemand(transactions=net.transactions, bytes=round(net.bytes),
                                                 direction=net.direction, request_bytes=round(net.request_bytes)),
        holds=tuple(HoldSpec(resource=h.resource, fraction=h.fraction, through_disk=h.through_disk)
                    for h in demand.holds),
        calls=tuple(CallSpec(service=c.service, count=c.count, request_bytes=round(c.request_bytes),
                             response_bytes=round(c.response_bytes), parallel=c.parallel) for c in demand.calls),
    )
