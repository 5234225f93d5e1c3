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

GIB = 2**30


def vmm_overhead_bytes(hypervisor, vcpus: int, memory_bytes: float) -> float:
    """The hypervisor's per-VM overhead: base + per vCPU + per GiB of guest RAM."""
    per_vm = hypervisor.memory.per_vm
    return per_vm.base + per_vm.per_vcpu * vcpus + per_vm.per_gib * memory_bytes / GIB


def _sandbox_bytes(engine) -> float:
    """A container's own memory: its runtime shim, or a whole microVM for a VM sandbox."""
    footprint = engine.memory.per_container
    if engine.composition is not None:
        vm_os = engine.composition.guest_os
        footprint += vm_os.memory.resident + engine.composition.hypervisor.memory.per_vm.base
    return footprint


def footprints(host) -> dict[str, float]:
    """Bytes each consumer of ``host`` keeps resident, by path (the host: its committed total).

    Paths match the platform's consumers and layer consumers (``h/a.vmm``,
    ``h/docker``, ``h/host-os``).
    """
    name = host.name
    out: dict[str, float] = {}
    committed = 0.0
    if host.host_os is not None:
        committed += host.host_os.memory.resident
        if host.hypervisor is not None and host.hypervisor.type == 2:
            out[f"{name}/host-os"] = host.host_os.host_apps.memory
    for vm in host.vms:
        path = f"{name}/{vm.name}"
        out[path] = float(vm.memory_bytes)
        if host.hypervisor is not None:
            out[f"{path}.vmm"] = vmm_overhead_bytes(host.hypervisor, vm.vcpus, vm.memory_bytes)
        if vm.engine is not None:
            for ctr in vm.containers:
                out[f"{path}/{ctr.name}"] = _sandbox_bytes(vm.engine)  # inside the VM's RAM
    if host.engine is not None:
        out[f"{name}/{host.engine.name}"] = host.engine.memory.daemon
        for ctr in host.containers:
            out[f"{name}/{ctr.name}"] = _sandbox_bytes(host.engine)
    on_host = [p for p in out if p.count("/") == 1]  # VMs, VMMs, host containers, daemons
    committed += sum(out[p] for p in on_host)
    out[name] = committed
    return out
