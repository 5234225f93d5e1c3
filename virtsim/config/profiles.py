"""Schemas of the layer profiles: ``models/os/``, ``models/hypervisors/``, ``models/engines/``.

Each layer adds a cost to each operation of a request (see ``models/README.md``):
CPU burnt in the requester's VM or container (``guest_cpu_us``), CPU burnt on
the host (``host_cpu_us``) and pure delay (``latency_us``), all µs on the
reference core; costs a file omits are 0. Quantities written with units are
SI floats once validated: sizes in bytes, times in seconds, bandwidths in
bytes per second. ``description`` and ``source`` are left out of dumps.

Each part that costs something builds its typed counterpart of
:mod:`virtsim.model.costs` (``cost()``, a profile's ``layer_cost()``), the
only way the composition of a stack reads a profile.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from ..model import costs
from ..model.costs import US
from .catalog_store import profile_or_error
from .fields import Name, Text, choice, integer, number, quantity
from .provenance import SourcedProfile

__all__ = [
    "ENGINE_NET_WORK",
    "HYPERVISOR_NET_WORK",
    "IO_BACKENDS",
    "NETWORK_MODES",
    "STORAGE_MODES",
    "Composition",
    "EngineProfile",
    "HypervisorProfile",
    "OSProfile",
]

NETWORK_MODES = ("host", "bridge", "nat")
STORAGE_MODES = ("volume", "overlay")
IO_BACKENDS = ("vmm", "root-partition")
HYPERVISOR_NET_WORK = ("vmm", "thread", "requester")
"""Where a hypervisor's own network work (``net.host_cpu_*``) runs: its VMM consumer, a network thread of its
own per VM, or the requester's own context."""
ENGINE_NET_WORK = ("engine", "requester")
"""Where an engine network mode's own work (``host_cpu_*``) runs: the host engine's consumer, or the
requester's own context."""


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _us(what: str):
    return Field(default=0.0, description=f"{what}, µs on the reference core (0 if omitted).")


class OpCost(_Part):
    """What a layer adds to one operation."""

    guest_cpu_us: number(ge=0) = _us("CPU burnt by the requesting VM or container")
    host_cpu_us: number(ge=0) = _us("CPU burnt on the host by the layer's own threads")
    latency_us: number(ge=0) = _us("Pure added delay, no CPU")

    def cost(self) -> costs.OpCost:
        return costs.OpCost(guest_cpu_s=self.guest_cpu_us * US, host_cpu_s=self.host_cpu_us * US,
                            latency_s=self.latency_us * US)


class OpCosts(_Part):
    """Added cost per system call, context switch, page fault and process creation."""

    syscall: OpCost = Field(default_factory=OpCost)
    ctx_switch: OpCost = Field(default_factory=OpCost)
    page_fault: OpCost = Field(default_factory=OpCost)
    fork: OpCost = Field(default_factory=OpCost)

    def cost(self) -> costs.OpCosts:
        return costs.OpCosts(syscall=self.syscall.cost(), ctx_switch=self.ctx_switch.cost(),
                             page_fault=self.page_fault.cost(), fork=self.fork.cost())


class CpuFactors(_Part):
    """Slowdown of CPU work: time = cpu × ((1 − m − k) × factor + m × memory_factor + k × kernel_factor).

    m is the demand's ``mem_fraction``, k its ``kernel_fraction``.
    """

    factor: number(ge=1) = Field(description="Slowdown of user-mode CPU work (≥ 1).")
    memory_factor: number(ge=1) = Field(description="Slowdown of its memory-intensive part (≥ 1).")
    kernel_factor: number(ge=1) = Field(
        default=1.0, description="Slowdown of the guest-kernel part of the work (demand.kernel_fraction; ≥ 1): 1 "
                                 "under hardware assist (VT-x/AMD-V with EPT/NPT), more under binary translation "
                                 "and shadow paging. Default 1: kernel work as fast as native.")

    def cost(self) -> costs.CpuFactors:
        return costs.CpuFactors(factor=self.factor, memory_factor=self.memory_factor,
                                kernel_factor=self.kernel_factor)


class Coalesce(_Part):
    """Notifications shared by operations that arrive close together at one queue (``LoadDependence``)."""

    window_us: number(gt=0) = Field(
        description="An operation arriving within this many µs of the previous one at the same queue (the "
                    "same VM's path through this layer) shares its notification.")
    batched_fraction: number(gt=0, le=1) = Field(
        description="The fraction of the layer's per-operation CPU (guest_cpu_us and host_cpu_us; per-packet "
                    "CPU is not scaled) a batched operation pays. For Poisson arrivals at rate λ the mean is "
                    "c(λ) = c · (b + (1 − b) · exp(−λ · window)).")


class IOPath(OpCost):
    """Added cost per operation through a virtual NIC or disk path, and its ceilings."""

    wake_us: number(ge=0) = Field(
        default=0.0,
        description="Delay an operation pays when it finds the thread that serves it idle (a sleeping I/O "
                    "thread to wake, a halted vCPU to re-enter), µs; none when that thread is busy. Counted "
                    "per operation like latency_us, decided when the request arrives. Default 0: none (as "
                    "before).")
    coalesce: Coalesce | None = Field(
        default=None,
        description="Per-operation CPU that falls with the arrival rate at this queue (virtio event "
                    "suppression, NAPI polling, interrupt coalescing). Default: none, the cost is the same "
                    "at every load (as before).")

    def load_dependence(self) -> costs.LoadDependence | None:
        if not self.wake_us and self.coalesce is None:
            return None
        window, fraction = (0.0, 1.0) if self.coalesce is None else (self.coalesce.window_us * US,
                                                                      self.coalesce.batched_fraction)
        return costs.LoadDependence(wake_s=self.wake_us * US, coalesce_window_s=window, batched_fraction=fraction)

    bandwidth_factor: number(gt=0, le=1) = Field(
        default=1.0, description="Fraction of the device bandwidth reachable (disk reads; network sends).")
    receive_bandwidth_factor: number(gt=0, le=1) | None = Field(
        default=None, description="Network paths: fraction of the line rate reachable when receiving "
                                  "(default: bandwidth_factor).")
    bandwidth_limit: quantity("bandwidth", gt=0) | None = Field(
        default=None, description="Absolute bandwidth ceiling of the path (bytes/s), if any.")

    def cost(self) -> costs.IOCost:
        """As a network path: no ceiling on transactions, receives at ``receive_bandwidth_factor``."""
        return costs.IOCost(guest_cpu_s=self.guest_cpu_us * US, host_cpu_s=self.host_cpu_us * US,
                            latency_s=self.latency_us * US, write_host_cpu_s=None, ops_limit_per_s=_UNLIMITED,
                            write_ops_limit_per_s=None, bandwidth_factor=self.bandwidth_factor,
                            other_bandwidth_factor=self.receive_bandwidth_factor,
                            bandwidth_limit_bytes_per_s=_or_unlimited(self.bandwidth_limit), per_packet=None,
                            load=self.load_dependence())


def _per_packet_us(what: str):
    return Field(default=0.0, description=f"{what}, µs on the reference core per packet (0 if omitted).")


def _receive_us(what: str):
    return Field(default=None, description=f"{what}, µs per packet received (default: the per-packet-sent value).")


class PacketCpu(_Part):
    """CPU added per packet a network path sends or receives (the per-transaction fields are its wake-ups)."""

    guest_cpu_per_packet_us: number(ge=0) = _per_packet_us(
        "CPU burnt by the requesting VM or container per packet sent")
    host_cpu_per_packet_us: number(ge=0) = _per_packet_us("CPU burnt by the layer's own threads per packet sent")
    receive_guest_cpu_per_packet_us: number(ge=0) | None = _receive_us("CPU burnt by the requester")
    receive_host_cpu_per_packet_us: number(ge=0) | None = _receive_us("CPU burnt by the layer's own threads")

    def packet_cost(self) -> costs.PacketCost:
        def either(value: float | None, default: float) -> float:
            return default if value is None else value

        return costs.PacketCost(
            send_guest_cpu_s=self.guest_cpu_per_packet_us * US, send_host_cpu_s=self.host_cpu_per_packet_us * US,
            receive_guest_cpu_s=either(self.receive_guest_cpu_per_packet_us, self.guest_cpu_per_packet_us) * US,
            receive_host_cpu_s=either(self.receive_host_cpu_per_packet_us, self.host_cpu_per_packet_us) * US)


class NetPath(PacketCpu, IOPath):
    """Added cost per transaction (``*_cpu_us``, ``latency_us``) and per packet through a virtual NIC, and its ceilings.

    ``bandwidth_limit`` caps the bytes on the wire, headers and framing included.
    """

    host_work: choice(*HYPERVISOR_NET_WORK) = Field(
        default="vmm",
        description="Where the path's own host work (host_cpu_us, host_cpu_per_packet_us and their receive "
                    "values) runs. 'vmm' (default, as before): where the hypervisor's other work runs, its "
                    "VMM consumer (h1/a.vmm, shared with the disk I/O thread) or Hyper-V's root partition. "
                    "'thread': a network thread of its own per VM (h1/a.net: KVM's vhost-net kernel thread, a "
                    "hosted VMM's network thread), capped at `threads` cores, so a serialized network path "
                    "saturates at 1 / (its work per transaction) on its own, beside the disk thread. "
                    "'requester': in the requesting VM's or container's own context (its vCPU, its exits), "
                    "charged to the requester like guest_cpu_us.")
    threads: integer(ge=1) = Field(
        default=1,
        description="host_work 'thread' only: the network threads per VM (vhost-net: one per virtqueue "
                    "pair), the cores its consumer may use at once. Default 1.")

    @model_validator(mode="after")
    def _threads_need_a_thread(self):
        if self.threads != 1 and self.host_work != "thread":
            raise ValueError(f"threads: only a network thread of its own has a thread count (host_work: "
                             f"'thread'); host_work is {self.host_work!r}: remove threads or set host_work: thread")
        return self

    def cost(self) -> costs.IOCost:
        return replace(super().cost(), per_packet=self.packet_cost())


class DiskPath(IOPath):
    """Added cost per disk operation through the virtual disk path."""

    write_bandwidth_factor: number(gt=0, le=1) | None = Field(
        default=None, description="Fraction of the device's write bandwidth reachable (default: bandwidth_factor).")
    write_host_cpu_us: number(ge=0) | None = Field(
        default=None, description="host_cpu_us for a write, when writes cost the layer's threads differently "
                                  "(default: host_cpu_us).")
    write_iops_limit: number(gt=0) | None = Field(
        default=None, description="iops_limit for writes (default: iops_limit).")

    iops_limit: number(gt=0) | None = Field(
        default=None, description="Operations per second the path allows, if limited (per I/O thread: "
                                  "each operation holds one of the VMM's `threads` for 1 / iops_limit s).")
    threads: integer(ge=1) = Field(
        default=1,
        description="I/O threads of the VMM that serve the disk (QEMU's I/O thread, iothreads): the cores "
                    "its VMM consumer (h1/a.vmm) may use at once. Default 1 (one VMM thread, as before). "
                    "Not read under io_backend 'root-partition', whose root partition uses all the host's "
                    "cores.")

    def cost(self) -> costs.IOCost:
        """As a disk path: writes at their own figures where given (``receive_bandwidth_factor`` is not read)."""
        return costs.IOCost(guest_cpu_s=self.guest_cpu_us * US, host_cpu_s=self.host_cpu_us * US,
                            latency_s=self.latency_us * US,
                            write_host_cpu_s=None if self.write_host_cpu_us is None else self.write_host_cpu_us * US,
                            ops_limit_per_s=_or_unlimited(self.iops_limit), write_ops_limit_per_s=self.write_iops_limit,
                            bandwidth_factor=self.bandwidth_factor, other_bandwidth_factor=self.write_bandwidth_factor,
                            bandwidth_limit_bytes_per_s=_or_unlimited(self.bandwidth_limit), per_packet=None,
                            load=self.load_dependence())


_UNLIMITED = float("inf")


def _or_unlimited(limit: float | None) -> float:
    return _UNLIMITED if limit is None else limit


class PerVMMemory(_Part):
    """Hypervisor memory per VM = base + per_vcpu × vCPUs + per_gib × guest GiB (bytes)."""

    base: quantity("size", ge=0)
    per_vcpu: quantity("size", ge=0)
    per_gib: quantity("size", ge=0)


class HypervisorMemory(_Part):
    per_vm: PerVMMemory
    page_sharing: number(ge=0, le=0.99) = Field(
        default=0.0,
        description="Fraction of a VM's memory merged with identical pages of the other VMs of the same guest OS "
                    "on the host when it is overcommitted (TPS, KSM). Default 0: off, as shipped by current "
                    "hypervisors (ESXi disallows inter-VM sharing by default since 2014, VMware KB 2080735; KSM "
                    "is opt-in). Calibration README §8 WALD02: ~0.67 for identical VMs, ~0.21 in production.")
    ballooning: bool = Field(
        default=False,
        description="Whether a balloon driver in the guest hands the host memory the guest is not using "
                    "(the VM's memory beyond its active_memory) before the host swaps.")


class HypervisorStartup(_Part):
    vmm_start: quantity("time", ge=0) = Field(description="VMM and virtual firmware start, seconds.")


class HostStackOps(_Part):
    """Host OS operations the VMM makes for one guest I/O operation, each at the host OS's native cost."""

    syscalls: number(ge=0) = Field(default=0.0, description="System calls on the host OS per operation "
                                                            "(a read or write on the disk image or the host "
                                                            "network device, its completion).")
    ctx_switches: number(ge=0) = Field(default=0.0, description="Host context switches per operation (the "
                                                                "VMM's I/O thread woken and put to sleep).")

    def cost(self) -> costs.HostStackOps:
        return costs.HostStackOps(syscalls=self.syscalls, ctx_switches=self.ctx_switches)


class HostStack(_Part):
    """A hosted VMM's device emulation goes through the host OS's own disk and network stacks."""

    disk: HostStackOps = Field(default_factory=HostStackOps, description="Per disk operation.")
    net: HostStackOps = Field(default_factory=HostStackOps, description="Per network transaction.")

    def cost(self) -> costs.HostStack:
        return costs.HostStack(disk=self.disk.cost(), net=self.net.cost())


class HypervisorProfile(SourcedProfile):
    """A hypervisor (``models/hypervisors/<name>.yaml``)."""

    name: Name = Field(description="Profile name; equals the file name without '.yaml'.")
    type: integer(ge=1, le=2) = Field(description="1 = bare metal, 2 = hosted (needs a host OS).")
    description: Text = Field(exclude=True)
    cpu: CpuFactors
    ops: OpCosts = Field(default_factory=OpCosts)
    disk: DiskPath = Field(default_factory=DiskPath)
    net: NetPath = Field(default_factory=NetPath)
    memory: HypervisorMemory
    startup: HypervisorStartup
    io_backend: choice(*IO_BACKENDS) = Field(
        default="vmm",
        description="Where the hypervisor's own work per operation (its host_cpu_us) runs: 'vmm' (default), "
                    "in a VMM process per VM of one core (QEMU, VMX, Firecracker); 'root-partition', in the "
                    "host's root partition (Hyper-V's virtualization service providers), one place per host "
                    "shared by all its VMs and able to use all the host's cores.")
    host_stack: HostStack | None = Field(
        default=None,
        description="Type 2 only: the host OS operations (system calls, context switches) the VMM's "
                    "user-level device emulation makes per disk operation and per network transaction, "
                    "priced at the native costs of the OS it runs on (the host's host_os, or the guest OS "
                    "of the VM that runs it) and charged where its host_cpu_us runs (its VMM consumer). "
                    "Default: none (no host-stack cost, as before).")
    source: dict[str, Text] = Field(exclude=True)

    @model_validator(mode="after")
    def _net_thread_needs_a_vmm(self):
        if self.net.host_work == "thread" and self.io_backend != "vmm":
            raise ValueError(f"net.host_work: 'thread' is a network thread per VM beside its VMM; under "
                             f"io_backend {self.io_backend!r} the VMs' I/O is served where that backend runs: "
                             f"use host_work 'vmm' or 'requester'")
        return self

    @model_validator(mode="after")
    def _host_stack_needs_a_host_os(self):
        if self.host_stack is not None and self.type != 2:
            raise ValueError("host_stack: only a Type 2 (hosted) hypervisor's device emulation runs on a host "
                             "OS; remove it or set type: 2")
        return self

    def layer_cost(self) -> costs.LayerCost:
        return costs.LayerCost(name=self.name, cpu=self.cpu.cost(), ops=self.ops.cost(), disk=self.disk.cost(),
                               net=self.net.cost())

    def host_stack_cost(self) -> costs.HostStack | None:
        """The host OS operations of its device emulation, if it is hosted and gives them."""
        return None if self.host_stack is None else self.host_stack.cost()


# --- operating systems -----------------------------------------------------------------


class OSMemory(_Part):
    resident: quantity("size", ge=0) = Field(description="Resident memory of the OS itself, bytes.")


class Boot(_Part):
    cpu: quantity("time", ge=0) = Field(description="CPU work of booting, reference-core seconds.")
    disk_read: quantity("size", ge=0) = Field(description="Bytes read from the boot disk.")
    fixed: quantity("time", ge=0) = Field(description="Fixed delays of boot, seconds.")


class NativeOps(_Part):
    """Native CPU cost of one operation, µs on the reference core."""

    syscall: number(ge=0)
    ctx_switch: number(ge=0)
    page_fault: number(ge=0)
    fork: number(ge=0)

    def cost(self) -> costs.NativeOpCosts:
        return costs.NativeOpCosts(syscall=self.syscall * US, ctx_switch=self.ctx_switch * US,
                                   page_fault=self.page_fault * US, fork=self.fork * US)


class NativeNet(_Part):
    """CPU of the OS's own network stack per packet (TCP/IP, driver, interrupts), µs on the reference core."""

    send_cpu_per_packet_us: number(ge=0) = Field(
        default=0.0, description="Per packet sent (after TSO), µs (0 if omitted).")
    receive_cpu_per_packet_us: number(ge=0) | None = Field(
        default=None, description="Per packet received (after GRO), µs (default: send_cpu_per_packet_us).")

    def cost(self) -> costs.NativePacketCost:
        receive = self.send_cpu_per_packet_us if self.receive_cpu_per_packet_us is None \
            else self.receive_cpu_per_packet_us
        return costs.NativePacketCost(send_cpu_s=self.send_cpu_per_packet_us * US, receive_cpu_s=receive * US)


class HostApps(_Part):
    """Desktop and applications of a host OS under a Type 2 hypervisor."""

    cpu: number(ge=0) = Field(description="Steady CPU, cores.")
    memory: quantity("size", ge=0) = Field(description="Resident memory, bytes.")


class OSProfile(SourcedProfile):
    """An operating system (``models/os/<name>.yaml``), as a guest or as a host OS."""

    name: Name = Field(description="Profile name; equals the file name without '.yaml'.")
    description: Text = Field(exclude=True)
    memory: OSMemory
    boot: Boot
    ops: NativeOps
    net: NativeNet = Field(default_factory=NativeNet, description="The native network stack's CPU per packet.")
    host_apps: HostApps
    source: dict[str, Text] = Field(exclude=True)


# --- container engines and sandboxes -------------------------------------------------


class ModeCost(OpCost):
    """Added cost per network transaction or disk operation in one mode."""

    bandwidth_factor: number(gt=0, le=1) = Field(
        default=1.0, description="Fraction of the bandwidth reachable (storage reads; network sends).")
    write_bandwidth_factor: number(gt=0, le=1) | None = Field(
        default=None, description="Storage modes: fraction reachable when writing (default: bandwidth_factor).")
    receive_bandwidth_factor: number(gt=0, le=1) | None = Field(
        default=None, description="Network modes: fraction reachable when receiving (default: bandwidth_factor).")

    def storage_cost(self) -> costs.IOCost:
        """As a storage mode: writes at ``write_bandwidth_factor``; no ceilings."""
        return self._cost(self.write_bandwidth_factor)

    def _cost(self, other_bandwidth_factor: float | None) -> costs.IOCost:
        return costs.IOCost(guest_cpu_s=self.guest_cpu_us * US, host_cpu_s=self.host_cpu_us * US,
                            latency_s=self.latency_us * US, write_host_cpu_s=None, ops_limit_per_s=_UNLIMITED,
                            write_ops_limit_per_s=None, bandwidth_factor=self.bandwidth_factor,
                            other_bandwidth_factor=other_bandwidth_factor, bandwidth_limit_bytes_per_s=_UNLIMITED,
                            per_packet=None, load=None)


class NetModeCost(PacketCpu, ModeCost):
    """Added cost per network transaction and per packet in one network mode."""

    host_work: choice(*ENGINE_NET_WORK) = Field(
        default="engine",
        description="Where the mode's own host work (host_cpu_us, host_cpu_per_packet_us and their receive "
                    "values) runs. 'engine' (default, as before): the host engine's consumer (h1/docker), "
                    "shared by its containers and not capped by any of them; in a VM, the VM. 'requester': "
                    "the requesting container's own context (the bridge, conntrack and NAT run in the "
                    "softirq of the core that handles its packets, the sender's on transmit), charged to the "
                    "container, so it counts against its cpus, its CFS quota and its weight.")

    def network_cost(self) -> costs.IOCost:
        """As a network mode: receives at ``receive_bandwidth_factor``; no ceilings."""
        return replace(self._cost(self.receive_bandwidth_factor), per_packet=self.packet_cost())


class EngineMemory(_Part):
    per_container: quantity("size", ge=0) = Field(description="Runtime shim / sandbox memory per container, bytes.")
    daemon: quantity("size", ge=0) = Field(description="Engine daemon memory, once per host, bytes.")


class Pull(_Part):
    bandwidth: quantity("bandwidth", gt=0) = Field(description="Image pull rate, bytes/s.")
    image: quantity("size", ge=0) = Field(description="Default compressed image size, bytes.")


class EngineStartup(_Part):
    create: quantity("time", ge=0) = Field(description="Create step of one container, seconds.")
    start: quantity("time", ge=0) = Field(description="Start step of one container, seconds.")
    pull: Pull


def _profile(kind: str):
    """A catalog name, validated into that kind's profile (loaded from the catalog)."""

    def load(value: Any) -> Any:
        if isinstance(value, str):
            return profile_or_error(kind, value)
        return value

    return BeforeValidator(load)


class Composition(_Part):
    """The VM a sandbox runs its containers in; its costs apply in addition to the sandbox's."""

    hypervisor: Annotated[HypervisorProfile, _profile("hypervisors")] = Field(
        description="A hypervisor profile name.")
    guest_os: Annotated[OSProfile, _profile("os")] = Field(description="An OS profile name.")


class EngineProfile(SourcedProfile):
    """A container engine or sandbox (``models/engines/<name>.yaml``)."""

    name: Name = Field(description="Profile name; equals the file name without '.yaml'.")
    kind: choice("engine", "sandbox") = Field(description="'engine' shares the host kernel; 'sandbox' isolates it.")
    runtime: Text = Field(description="The OCI runtime: runc, runsc, kata-runtime.")
    description: Text = Field(exclude=True)
    cpu: CpuFactors
    ops: OpCosts = Field(default_factory=OpCosts)
    network_modes: dict[choice(*NETWORK_MODES), NetModeCost] = Field(
        description="Cost per network transaction in each supported mode.")
    storage_modes: dict[choice(*STORAGE_MODES), ModeCost] = Field(
        description="Cost per disk operation in each supported mode.")
    memory: EngineMemory
    startup: EngineStartup
    composition: Composition | None = Field(default=None, description="The VM of a VM sandbox (Kata).")
    source: dict[str, Text] = Field(exclude=True)

    def layer_cost(self) -> costs.LayerCost:
        """The engine itself: CPU and per-operation costs; its I/O costs are its modes'."""
        return costs.LayerCost(name=self.name, cpu=self.cpu.cost(), ops=self.ops.cost(), disk=None, net=None)
