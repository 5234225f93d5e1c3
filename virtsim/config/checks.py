"""Checks across fields and entities, run on resolved pieces.

Capacities (a VM's vCPUs against its host's cores or its parent VM's vCPUs, a
container's cap against its VM, what a VM with nested VMs must hold in its
memory), unique names, and what each target can run. Pieces that failed to
parse are simply absent, so their checks are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ..model.memory import committed_in_vm, footprints, memory_domains
from ..model.topology import walk_vms
from . import spec as s
from .resolution import Context
from .workload_registry import workload_kind

__all__ = ["PlacedHost", "check_hosts", "check_unique_names", "check_workloads", "target_cores", "target_names"]

_GIB = 2**30


def _size(n_bytes: float) -> str:
    return f"{n_bytes / _GIB:.4g} GiB"


def _cores(n: float) -> str:
    return f"{n:g} core{'' if n == 1 else 's'}"


def _duplicates(names: Iterable[tuple[tuple, str]], what: str, ctx: Context) -> None:
    seen: set[str] = set()
    for loc, name in names:
        if name in seen:
            ctx.add(loc, f"duplicate {what} name {name!r}")
        seen.add(name)


@dataclass(frozen=True)
class PlacedHost:
    """A resolved host with its index in the file, and the file index of each VM and host container.

    The indices differ from positions in ``spec`` when some VMs or containers
    had problems of their own and were left out.
    """

    index: int
    spec: s.HostSpec
    vm_indices: tuple[int, ...]
    container_indices: tuple[int, ...]


def check_unique_names(items: Iterable[tuple[int, object]], key: str, what: str, ctx: Context) -> None:
    """Report repeated names among top-level items (``key`` is 'hosts' or 'workloads')."""
    _duplicates((((key, n, "name"), item.name) for n, item in items), what, ctx)


def check_hosts(hosts: list[PlacedHost], ctx: Context) -> None:
    for placed in hosts:
        _check_host(placed, ("hosts", placed.index), ctx)


def _check_host(placed: PlacedHost, loc: tuple, ctx: Context) -> None:
    host = placed.spec
    hw = host.hardware
    vms = list(zip(placed.vm_indices, host.vms, strict=True))
    containers = zip(placed.container_indices, host.containers, strict=True)
    siblings = [((*loc, "vms", j, "name"), vm.name) for j, vm in vms]
    siblings += [((*loc, "containers", k, "name"), ctr.name) for k, ctr in containers]
    _duplicates(siblings, "VM or container", ctx)
    _check_reserved_names(host.engine, siblings, ctx)
    committed = footprints(host)
    inside = committed_in_vm(host, committed)
    for j, vm in vms:
        _check_vm(vm, (*loc, "vms", j), f"{host.name}/{vm.name}", host, inside, ctx)
    _check_containers(host.containers, (*loc, "containers"), f"host {host.name!r}", host, ctx,
                      placed.container_indices)
    reserved = sum(vm.reservation_cores for vm in host.vms)
    if reserved > hw.cores:
        ctx.add(loc, f"VM reservations add up to {_cores(reserved)} but host {host.name!r} has {_cores(hw.cores)}")
    _check_memory_admission(host, committed, loc, ctx)


def _check_vm(vm: s.VMSpec, loc: tuple, path: str, parent, inside: dict[str, float], ctx: Context) -> None:
    """A VM against what it runs in (its host, or the VM it is nested in), then what it runs, recursively."""
    if isinstance(parent, s.VMSpec):
        if vm.sockets is not None:
            ctx.add((*loc, "sockets"), f"only a VM on a host is pinned to sockets; VM {vm.name!r} runs in VM "
                                       f"{parent.name!r} and spans its sockets (remove 'sockets')")
        if vm.vcpus > parent.vcpus:
            ctx.add((*loc, "vcpus"), f"asks {vm.vcpus} vCPUs; must be ≤ the parent VM {parent.name!r}'s "
                                     f"vcpus ({parent.vcpus})")
    else:
        hw = parent.hardware
        if vm.vcpus > _threads(hw):
            ctx.add((*loc, "vcpus"), f"asks {vm.vcpus} vCPUs but host {parent.name!r} has {_hardware_threads(hw)}")
        if vm.sockets is not None:
            _check_vm_sockets(vm, hw, loc, parent.name, ctx)
        if vm.memory_bytes > hw.memory_bytes:
            ctx.add((*loc, "memory"),
                    f"asks {_size(vm.memory_bytes)} but host {parent.name!r} has {_size(hw.memory_bytes)}")
    if vm.writable_working_set_bytes is not None and vm.writable_working_set_bytes > vm.memory_bytes:
        ctx.add((*loc, "writable_working_set"),
                f"{_size(vm.writable_working_set_bytes)} is more than the VM's memory ({_size(vm.memory_bytes)})")
    if vm.active_memory_bytes is not None and vm.active_memory_bytes > vm.memory_bytes:
        ctx.add((*loc, "active_memory"),
                f"{_size(vm.active_memory_bytes)} is more than the VM's memory ({_size(vm.memory_bytes)})")
    if vm.cap_cores is not None and vm.cap_cores > vm.vcpus:
        ctx.add((*loc, "cap"), f"cap of {_cores(vm.cap_cores)} exceeds the VM's {vm.vcpus} vCPUs")
    limit = min(vm.vcpus, vm.cap_cores if vm.cap_cores is not None else vm.vcpus)
    if vm.reservation_cores > limit:
        bound = "cap" if vm.cap_cores is not None and vm.cap_cores < vm.vcpus else "vCPUs"
        ctx.add((*loc, "reservation"),
                f"reserves {_cores(vm.reservation_cores)} but the VM's {bound} allow {_cores(limit)}")
    _check_containers(vm.containers, (*loc, "containers"), f"VM {vm.name!r}", vm, ctx)
    if vm.hypervisor is None:
        return
    siblings = [((*loc, "vms", k, "name"), child.name) for k, child in enumerate(vm.vms)]
    siblings += [((*loc, "containers", k, "name"), c.name) for k, c in enumerate(vm.containers)]
    if vm.vms:
        _duplicates(siblings, "VM or container", ctx)
    _check_reserved_names(None, siblings, ctx)
    for k, child in enumerate(vm.vms):
        _check_vm(child, (*loc, "vms", k), f"{path}/{child.name}", vm, inside, ctx)
    reserved = sum(child.reservation_cores for child in vm.vms)
    if reserved > limit:
        ctx.add((*loc, "vms"), f"the nested VMs' reservations add up to {_cores(reserved)} but VM {vm.name!r} "
                               f"has {_cores(limit)}")
    # No overcommit inside a guest: its hypervisor has only the guest's RAM to give.
    if inside[path] > vm.memory_bytes:
        nested = sum(child.memory_bytes for child in vm.vms)
        ctx.add((*loc, "memory"),
                f"{_size(vm.memory_bytes)} cannot hold what runs in VM {vm.name!r}: {_size(inside[path])} "
                f"(nested VM RAM {_size(nested)} + the guest OS, its hypervisor's per-VM overhead and the other "
                f"layers' own memory {_size(inside[path] - nested)}); give it more memory or the nested VMs less")


def _threads(hw) -> int:
    """The host's hardware threads: what vCPUs, thread counts and container limits are measured against."""
    return hw.cores * hw.threads_per_core


def _hardware_threads(hw) -> str:
    if hw.threads_per_core == 1:
        return _cores(hw.cores)
    return f"{_threads(hw)} hardware threads ({hw.cores} cores × {hw.threads_per_core})"


def _check_vm_sockets(vm: s.VMSpec, hw, loc: tuple, host: str, ctx: Context) -> None:
    """A VM pinned to sockets: no more than the host has, and enough hardware threads for its vCPUs."""
    if vm.sockets > hw.sockets:
        ctx.add((*loc, "sockets"), f"pins the VM to {vm.sockets} sockets but host {host!r} has {hw.sockets}")
        return
    per_socket = _threads(hw) // hw.sockets
    if vm.vcpus > vm.sockets * per_socket:
        ctx.add((*loc, "sockets"), f"{vm.sockets} socket{'' if vm.sockets == 1 else 's'} of host {host!r} hold "
                                   f"{vm.sockets * per_socket} hardware threads, fewer than the VM's {vm.vcpus} "
                                   f"vCPUs; pin it to more sockets or give it fewer vCPUs")


def _check_memory_admission(host: s.HostSpec, committed: dict[str, float], loc: tuple, ctx: Context) -> None:
    """What is committed on the host must fit its physical memory times the overcommit ratio."""
    total = committed[host.name]
    allowed = host.hardware.memory_bytes * host.memory_overcommit
    if total <= allowed:
        return
    vms = sum(committed[f"{host.name}/{vm.name}"] for vm in host.vms)
    parts = f"VM RAM {_size(vms)} + the layers' own memory {_size(total - vms)}"
    ctx.add(loc, f"commits {_size(total)} of memory ({parts}) but host {host.name!r} admits "
                 f"{_size(allowed)} ({_size(host.hardware.memory_bytes)} × memory_overcommit "
                 f"{host.memory_overcommit:g}); raise memory_overcommit or give the VMs less memory")


_OWN_THREADS = (".vmm", ".net")
"""Suffixes the platform gives to a VM's (or sandbox's) own layer consumers: its VMM and network thread."""


def _check_reserved_names(engine, siblings, ctx: Context) -> None:
    """Names beside VMs (on a host or in a VM) that the simulator gives to the layers' own threads."""
    taken = {"host-os": "a Type 2 host OS's own load"}
    if engine is not None:
        taken[engine.name] = f"the host engine {engine.name!r}"
    for loc, name in siblings:
        if name.endswith(_OWN_THREADS) and loc[-3] == "vms":  # containers are checked with the others
            ctx.add(loc, f"names ending in '.vmm' or '.net' are reserved for a VM's monitor and network "
                         f"thread, got {name!r}")
        elif name in taken:
            ctx.add(loc, f"{name!r} is reserved here for {taken[name]}; choose another name")


def _check_containers(containers, loc: tuple, owner: str, parent, ctx: Context, indices=None) -> None:
    indices = indices if indices is not None else range(len(containers))
    _duplicates((((*loc, k, "name"), ctr.name) for k, ctr in zip(indices, containers, strict=True)), "container", ctx)
    if isinstance(parent, s.VMSpec):
        cores, unit, memory = parent.vcpus, "vCPUs", parent.memory_bytes
    else:
        hw = parent.hardware
        cores, memory = _threads(hw), hw.memory_bytes
        unit = "cores" if hw.threads_per_core == 1 else "hardware threads"
    for k, ctr in zip(indices, containers, strict=True):
        if ctr.name.endswith(_OWN_THREADS):
            ctx.add((*loc, k, "name"), f"names ending in '.vmm' or '.net' are reserved for a VM's monitor and "
                                       f"network thread, got {ctr.name!r}")
        if ctr.cpus is not None:
            if ctr.cpus > cores:
                ctx.add((*loc, k, "cpus"), f"asks {_cores(ctr.cpus)} but {owner} has {cores} {unit}")
            elif isinstance(parent, s.VMSpec) and parent.cap_cores is not None and ctr.cpus > parent.cap_cores:
                ctx.add((*loc, k, "cpus"),
                        f"asks {_cores(ctr.cpus)} but {owner} is capped at {_cores(parent.cap_cores)}")
        if ctr.memory_bytes is not None and ctr.memory_bytes > memory:
            ctx.add((*loc, k, "memory"), f"limit of {_size(ctr.memory_bytes)} exceeds {owner}'s {_size(memory)}")


def target_names(raw_hosts: object) -> set[str]:
    """Every target string the file defines, read leniently from the raw data.

    Taken from the raw mapping so that a host with an unrelated problem does
    not also turn every workload aimed at it into an 'unknown target'.
    """
    names: set[str] = set()
    for host in raw_hosts if isinstance(raw_hosts, list) else []:
        base = _name(host)
        if base is None:
            continue
        count = host.get("count", 1)
        copies = [f"{base}-{k}" for k in range(1, count + 1)] if isinstance(count, int) and count > 1 else [base]
        for host_name in copies:
            names.update(_host_targets(host, host_name))
    return names


def _host_targets(host: dict, host_name: str) -> set[str]:
    names = {host_name}
    _vm_targets(host, host_name, names)
    names.update(f"{host_name}/{c}" for c in map(_name, _items(host, "containers")) if c)
    return names


def _vm_targets(parent: dict, parent_path: str, names: set[str]) -> None:
    """The paths of ``parent``'s VMs, their containers and the VMs nested in them, into ``names``."""
    for vm in _items(parent, "vms"):
        if (vm_name := _name(vm)) is not None:
            path = f"{parent_path}/{vm_name}"
            names.add(path)
            names.update(f"{path}/{c}" for c in map(_name, _items(vm, "containers")) if c)
            _vm_targets(vm, path, names)


def _name(item: object) -> str | None:
    name = item.get("name") if isinstance(item, dict) else None
    return name if isinstance(name, str) and name and "/" not in name else None


def _items(item: dict, key: str) -> list:
    value = item.get(key)
    return value if isinstance(value, list) else []


def target_cores(hosts: Iterable[s.HostSpec]) -> dict[str, int]:
    """Threads a job on each target can run in parallel (a VM's vCPUs, else the host's hardware threads)."""
    cores: dict[str, int] = {}
    for host in hosts:
        cores[host.name] = _threads(host.hardware)
        for ctr in host.containers:
            cores[f"{host.name}/{ctr.name}"] = _threads(host.hardware)
        for nested in walk_vms(host):
            cores[nested.path] = nested.vm.vcpus
            for ctr in nested.vm.containers:
                cores[f"{nested.path}/{ctr.name}"] = nested.vm.vcpus
    return cores


def check_workloads(workloads: list[tuple[int, s.WorkloadSpec]], hosts: Iterable[s.HostSpec], ctx: Context) -> None:
    hosts = list(hosts)
    cores = target_cores(hosts)
    _check_request_memory(workloads, hosts, ctx)
    for i, wl in workloads:
        if wl.demand is None or wl.demand.threads == 1:
            continue
        if wl.jobs_file is not None and wl.jobs_file.table is not None:
            table = wl.jobs_file.table
            counts = np.bincount(table.target_codes, minlength=len(table.target_names))
            used = {name for name, count in zip(table.target_names, counts, strict=True) if count}
        else:
            used = set(wl.target_paths)
        for target in sorted(t for t in used if t in cores and wl.demand.threads > cores[t]):
            ctx.add(("workloads", i, "demand", "threads"),
                    f"asks {wl.demand.threads} threads but target {target!r} has {_cores(cores[target])}")


def _check_request_memory(workloads, hosts, ctx: Context) -> None:
    """Requests whose memory could never fit outside a container limit would all fail at once."""
    domains = {path: chain for host in hosts for path, chain in memory_domains(host).items()}
    for i, wl in workloads:
        memory = wl.demand.memory_bytes if wl.demand is not None else 0.0
        targets = [t for t in wl.target_paths if t in domains] if memory else []
        if not targets:
            continue
        key, free, _ = min((d for t in targets for d in domains[t] if d[2] == "process"), key=lambda d: d[1])
        loc = ("workloads", i, "demand", "memory")
        if memory > free:
            ctx.add(loc, f"{_size(memory)} per request, but {key!r} has {_size(free)} free for requests "
                         f"(its memory less what the layers keep resident): every request would fail")
        elif (problem := workload_kind(wl.type).request_memory_problem(wl, memory, free, key, _size)) is not None:
            ctx.add(loc, problem)
