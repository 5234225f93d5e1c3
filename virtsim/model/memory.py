"""Memory footprints: what each layer keeps resident, from its profile.

Memory is allocated, not shared by rate (DESIGN §2.3). Each consumer's
footprint is what its layer adds: a VM its guest RAM, its VMM the hypervisor's
per-VM overhead (a formula in vCPUs and guest RAM), a host engine its daemon, a
container its runtime shim or sandbox, a Type 2 host OS its own resident set and
its desktop apps. A host's committed memory is the sum of what lands on its
physical memory; containers inside a VM live in that VM's RAM. Pure arithmetic
on resolved specs: the config layer admits hosts on it, the results report it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .host_os import host_os_of, vm_host_os
from .topology import walk_vms

GIB = 2**30


def vmm_overhead_bytes(hypervisor, vcpus: int, memory_bytes: float) -> float:
    """The hypervisor's per-VM overhead: base + per vCPU + per GiB of guest RAM."""
    per_vm = hypervisor.memory.per_vm
    return per_vm.base + per_vm.per_vcpu * vcpus + per_vm.per_gib * memory_bytes / GIB


def sandbox_bytes(engine) -> float:
    """A container's own memory: its runtime shim, or a whole microVM for a VM sandbox."""
    footprint = engine.memory.per_container
    if engine.composition is not None:
        vm_os = engine.composition.guest_os
        footprint += vm_os.memory.resident + engine.composition.hypervisor.memory.per_vm.base
    return footprint


def footprints(host) -> dict[str, float]:
    """Bytes each consumer of ``host`` keeps resident, by path (the host: its committed total).

    Paths match the platform's consumers and layer consumers (``h/a.vmm``,
    ``h/docker``, ``h/host-os``). What a VM runs (its containers' shims, the
    VMs nested in it and their VMMs, a Type 2 host OS's apps) lives in that
    VM's RAM, not on the host: see :func:`committed_in_vm`.
    """
    name = host.name
    out: dict[str, float] = {}
    committed = 0.0
    if host.host_os is not None:
        committed += host.host_os.memory.resident
    if (host_os := host_os_of(host)) is not None:
        out[host_os.path] = host_os.apps_memory_bytes
    for nested in walk_vms(host):
        vm, path = nested.vm, nested.path
        out[path] = float(vm.memory_bytes)
        if nested.hypervisor is not None:
            out[f"{path}.vmm"] = vmm_overhead_bytes(nested.hypervisor, vm.vcpus, vm.memory_bytes)
        if vm.engine is not None:
            for ctr in vm.containers:
                out[f"{path}/{ctr.name}"] = sandbox_bytes(vm.engine)  # inside the VM's RAM
        if (guest_host_os := vm_host_os(path, vm)) is not None:  # the guest hosts a Type 2 hypervisor
            out[guest_host_os.path] = guest_host_os.apps_memory_bytes
    if host.engine is not None:
        out[f"{name}/{host.engine.name}"] = host.engine.memory.daemon
        for ctr in host.containers:
            out[f"{name}/{ctr.name}"] = sandbox_bytes(host.engine)
    committed += _by_parent(out).get(name, 0.0)  # VMs, VMMs, host containers, daemons
    out[name] = committed
    return out


def _by_parent(out: dict[str, float]) -> dict[str, float]:
    """Bytes of the paths one level below each path (``h/a`` and ``h/a.vmm`` count under ``h``)."""
    sums: dict[str, float] = {}
    for path, nbytes in out.items():
        parent = path.rpartition("/")[0]
        sums[parent] = sums.get(parent, 0.0) + nbytes
    return sums


def committed_in_vm(host, committed: dict[str, float] | None = None) -> dict[str, float]:
    """Per VM path, the bytes of its RAM its layers and contents take: its guest OS's resident set, its
    containers' shims, a Type 2 guest's host apps, and the RAM and VMM overhead of the VMs nested in it."""
    committed = footprints(host) if committed is None else committed
    inside = _by_parent({p: b for p, b in committed.items() if p != host.name})
    return {n.path: (n.vm.os.memory.resident if n.vm.os is not None else 0.0) + inside.get(n.path, 0.0)
            for n in walk_vms(host)}


@dataclass(frozen=True)
class Reclaim:
    """How a host under memory overcommit takes back a VM's memory, in bytes."""

    shared: float = 0.0
    """Merged with identical pages of other VMs (page sharing)."""
    ballooned: float = 0.0
    """Handed back by the guest's balloon driver (memory it was not actively using)."""
    swapped: float = 0.0
    """Paged out to the host's swap on disk: the rest of the shortfall."""

    def swapped_fraction(self, vm) -> float:
        """The share of the VM's active memory that is on disk."""
        return self.swapped / active_bytes(vm)


def active_bytes(vm) -> float:
    return float(vm.active_memory_bytes if vm.active_memory_bytes is not None else vm.memory_bytes)


def _take(need: float, available: dict[str, float]) -> dict[str, float]:
    """Take ``need`` bytes from ``available`` in proportion to what each has (all of it if short)."""
    total = sum(available.values())
    if total <= 0 or need <= 0:
        return dict.fromkeys(available, 0.0)
    share = min(1.0, need / total)
    return {key: value * share for key, value in available.items()}


def memory_pressure(host) -> dict[str, Reclaim]:
    """Per VM path, what the host reclaims when its committed memory exceeds its physical memory.

    In order, as hypervisors do (DESIGN §2.3): page sharing among VMs of the
    same guest OS (where the hypervisor's ``page_sharing`` is on), then
    ballooning (where it has a balloon driver: memory beyond each VM's active
    memory), then host swapping of the rest, spread over the VMs in proportion
    to their active memory. Empty when the host is not overcommitted.
    """
    excess = footprints(host)[host.name] - host.hardware.memory_bytes
    if excess <= 0 or not host.vms:
        return {}
    paths = {f"{host.name}/{vm.name}": vm for vm in host.vms}
    memory = host.hypervisor.memory if host.hypervisor is not None else None
    sharable = dict.fromkeys(paths, 0.0)
    if memory is not None and memory.page_sharing > 0:
        by_os: dict[str, list[str]] = {}
        for path, vm in paths.items():
            if vm.os is not None:
                by_os.setdefault(vm.os.name, []).append(path)
        for group in by_os.values():
            n = len(group)
            for path in group:  # n identical copies keep one: (n - 1) / n of the sharable part goes
                sharable[path] = memory.page_sharing * paths[path].memory_bytes * (n - 1) / n
    shared = _take(excess, sharable)
    excess -= sum(shared.values())
    idle = {p: (max(0.0, vm.memory_bytes - active_bytes(vm) - shared[p])
                if memory is not None and memory.ballooning else 0.0) for p, vm in paths.items()}
    ballooned = _take(excess, idle)
    excess -= sum(ballooned.values())
    swapped = _take(excess, {p: active_bytes(vm) for p, vm in paths.items()}) if excess > 0 \
        else dict.fromkeys(paths, 0.0)
    return {p: Reclaim(shared[p], ballooned[p], swapped[p]) for p in paths}


def memory_domains(host) -> dict[str, tuple[tuple[str, float, str], ...]]:
    """Per target path, the memory its requests' ``memory`` counts against, innermost first.

    Each entry is (domain path, bytes free for requests, what happens over it):
    a container's limit (``container``: the OOM killer ends the container), its
    VM's RAM less what :func:`committed_in_vm` takes of it (the guest OS, the
    containers' shims, nested VMs), or a native host's
    physical memory less everything committed on it (``process``: the OOM
    killer ends the request that asked).
    """
    name = host.name
    committed = footprints(host)
    host_free = max(0.0, host.hardware.memory_bytes - committed[name])
    out: dict[str, tuple[tuple[str, float, str], ...]] = {name: ((name, host_free, "process"),)}

    def limited(path: str, ctr, parent: tuple) -> tuple:
        own = ((path, float(ctr.memory_bytes), "container"),) if ctr.memory_bytes is not None else ()
        return own + parent

    for ctr in host.containers:
        path = f"{name}/{ctr.name}"
        out[path] = limited(path, ctr, out[name])
    inside = committed_in_vm(host, committed)
    for nested in walk_vms(host):
        vm, path = nested.vm, nested.path
        out[path] = ((path, max(0.0, vm.memory_bytes - inside[path]), "process"),)
        for ctr in vm.containers:
            out[f"{path}/{ctr.name}"] = limited(f"{path}/{ctr.name}", ctr, out[path])
    return out
