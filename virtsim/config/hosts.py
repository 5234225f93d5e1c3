"""Resolve a host: its hardware (with disks and NICs), its layers, its VMs (nested ones too) and containers.

Inline hardware, or a catalog profile, that names no disk gets the device
profile ``models/devices/nvme-default.yaml``, and no NIC ``nic-10gbe.yaml``.
Lists given in an experiment replace a profile's lists.
"""

from __future__ import annotations

from . import inputs as i
from . import spec as s
from .catalog import catalog_problems, load_profile, profile_or_error
from .errors import ConfigError
from .hardware import DEFAULT_DEVICES, DiskProfile, NicProfile, duplicate_names, sockets_problem
from .layers import check_modes, resolve_host_layers, resolve_vm_layers
from .resolution import Context

__all__ = ["resolve_host"]

_US_PER_S = 1e6


def resolve_host(host: i.HostInput, loc: tuple, ctx: Context,
                 vm_indices=None, container_indices=None) -> s.HostSpec | None:
    """Resolve one host; the indices are the file positions of its (kept) VMs and containers."""
    vm_indices = list(vm_indices if vm_indices is not None else range(len(host.vms)))
    container_indices = list(container_indices if container_indices is not None else range(len(host.containers)))
    hardware = _resolve_hardware(host.hardware, (*loc, "hardware"), ctx)
    layers = resolve_host_layers(host, loc, ctx)
    check_modes(host.containers, container_indices, layers.engine, (*loc, "containers"), ctx)
    vms = [_vm(vm, (*loc, "vms", j), host.hypervisor, ctx) for j, vm in zip(vm_indices, host.vms, strict=True)]
    ok = layers.ok and all(vm is not None for vm in vms)
    if hardware is None or not ok:
        return None
    return s.HostSpec(
        name=host.name, hardware=hardware, hypervisor=layers.hypervisor, host_os=layers.host_os,
        engine=layers.engine, vms=tuple(vms), containers=tuple(_container(ctr) for ctr in host.containers),
        memory_overcommit=host.memory_overcommit,
    )


def _vm(vm: i.VMInput, loc: tuple, runs_under: i.ProfileInput | None, ctx: Context) -> s.VMSpec | None:
    """Resolve a VM and, recursively, the VMs nested in it; None after a problem in any of them."""
    layers = resolve_vm_layers(vm, loc, runs_under, ctx)
    check_modes(vm.containers, range(len(vm.containers)), layers.engine, (*loc, "containers"), ctx)
    nested = [_vm(child, (*loc, "vms", k), vm.hypervisor, ctx) for k, child in enumerate(vm.vms)]
    if not layers.ok or any(child is None for child in nested):
        return None
    return s.VMSpec(
        name=vm.name, vcpus=vm.vcpus, sockets=vm.sockets, memory_bytes=round(vm.memory),
        active_memory_bytes=round(vm.active_memory) if vm.active_memory is not None else None, shares=vm.shares,
        dirty_rate_bytes_per_s=vm.dirty_rate,
        writable_working_set_bytes=round(vm.writable_working_set) if vm.writable_working_set is not None else None,
        cap_cores=vm.cap, reservation_cores=vm.reservation, os=layers.os, engine=layers.engine,
        containers=tuple(_container(ctr) for ctr in vm.containers), restart=vm.restart,
        hypervisor=layers.hypervisor, vms=tuple(nested), remote_storage=_remote(vm.storage),
    )


def _container(ctr: i.ContainerInput) -> s.ContainerSpec:
    memory = round(ctr.memory) if ctr.memory is not None else None
    return s.ContainerSpec(name=ctr.name, cpus=ctr.cpus, cpu_weight=ctr.cpu_weight,
                           cpu_quota_period_s=ctr.cpu_quota_period, memory_bytes=memory,
                           network=ctr.network, storage=ctr.storage.mode, restart=ctr.restart,
                           remote_storage=_remote(ctr.storage))


def _remote(storage: i.StorageInput) -> s.RemoteStorageSpec | None:
    """The remote disk a VM's or container's ``storage`` names, as (host, disk) pairs; the disk is checked with
    the network (``config.storage``). A bare host name is its first disk, filled in there."""
    if storage.remote is None:
        return None
    targets = tuple(tuple(ref.split("/", 1)) if "/" in ref else (ref, "") for ref in storage.remote)
    return s.RemoteStorageSpec(targets=targets, write=storage.write)


# --- hardware --------------------------------------------------------------------------


TOPOLOGY_KEYS = ("sockets", "threads_per_core", "smt_sibling_factor", "remote_memory_factor")
"""Hardware keys of the processor topology (``model.cpu_topology``): all have defaults."""


def _resolve_hardware(hw: i.HardwareInput, loc: tuple, ctx: Context) -> s.HardwareSpec | None:
    base: dict = {"name": hw.name, "core_speed": 1.0, "disks": [], "nics": [], "power": None}
    if hw.profile is not None:
        try:
            profile = load_profile("hardware", hw.profile)
        except ConfigError as err:
            for text in catalog_problems(err):
                ctx.add(loc, text)
            return None
        base = {"name": hw.name or profile.name, "cores": profile.cores, "core_speed": profile.core_speed,
                "memory": profile.memory, "disks": profile.disks, "nics": profile.nics, "power": profile.power,
                **{key: getattr(profile, key) for key in TOPOLOGY_KEYS}}
    overrides = {key: value for key in ("cores", "core_speed", "memory", "disks", "nics", "power", *TOPOLOGY_KEYS)
                 if (value := getattr(hw, key)) is not None}
    merged = base | overrides
    missing = [key for key in ("cores", "memory") if key not in merged]
    for key in missing:
        ctx.add((*loc, key), "required key is missing (or give a catalog 'profile')")
    for key in ("disks", "nics"):
        for name in duplicate_names(merged[key]):
            ctx.add((*loc, key), f"duplicate device name {name!r}")
        if not merged[key]:
            merged[key] = _default_device(key, loc, ctx)
    if "cores" in merged and (problem := sockets_problem(merged["cores"], merged.get("sockets", 1))):
        ctx.add((*loc, "sockets" if hw.sockets is not None or hw.cores is None else "cores"), problem)
        return None
    if missing or merged["disks"] is None or merged["nics"] is None:
        return None
    return s.HardwareSpec(
        name=merged["name"], cores=merged["cores"], core_speed=merged["core_speed"],
        **{key: merged[key] for key in TOPOLOGY_KEYS if key in merged},
        memory_bytes=round(merged["memory"]),
        disks=tuple(_disk(disk) for disk in merged["disks"]), nics=tuple(_nic(nic) for nic in merged["nics"]),
        power=merged["power"], cost_per_hour=hw.cost_per_hour,
    )


def _default_device(key: str, loc: tuple, ctx: Context) -> list | None:
    name = DEFAULT_DEVICES[key]
    try:
        device = profile_or_error("devices", name)
    except ValueError as err:
        ctx.add((*loc, key), f"none given, and the default device profile {name!r} cannot be loaded: {err}")
        return None
    return [device.disk if key == "disks" else device.nic]


def _disk(disk: DiskProfile) -> s.DiskSpec:
    def either(value, default):
        return value if value is not None else default

    return s.DiskSpec(
        name=disk.name, kind=disk.kind, iops=disk.iops, write_iops=either(disk.write_iops, disk.iops),
        bandwidth_bytes_per_s=disk.bandwidth,
        write_bandwidth_bytes_per_s=either(disk.write_bandwidth, disk.bandwidth),
        latency_s=disk.latency_us / _US_PER_S,
        write_latency_s=either(disk.write_latency_us, disk.latency_us) / _US_PER_S,
        request_bandwidth_bytes_per_s=disk.request_bandwidth,
    )


def _nic(nic: NicProfile) -> s.NicSpec:
    return s.NicSpec(name=nic.name, bandwidth_bytes_per_s=nic.bandwidth, latency_s=nic.latency_us / _US_PER_S,
                     mtu_bytes=nic.mtu_bytes, tso=nic.offload.tso, gro=nic.offload.gro)
