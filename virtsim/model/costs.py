"""What one layer of a stack adds to every operation through it, as typed values.

A layer (a hypervisor, a container engine, one of an engine's network or
storage modes) may slow user CPU work by a factor, add CPU and delay to each
operation of a class, and add CPU, delay and ceilings to each disk operation
and network transaction. The OS a request runs on gives the native CPU cost of
each operation class. Config builds these from the resolved profiles; the
components fold them along a path (``virtsim.components.stack.compose``).

Every field is required: a value missing when an object is built is an error
there, never a default taken silently. Times are seconds on the reference core.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["OP_CLASSES", "US", "CpuFactors", "HostStack", "HostStackOps", "IOCost", "LayerCost", "LoadDependence",
           "NativeOpCosts", "NativePacketCost", "OpCost", "OpCosts", "PacketCost", "PerClass", "coalesced_cost_s"]

OP_CLASSES = ("syscall", "ctx_switch", "page_fault", "fork")
"""Operation classes counted per request; their native CPU cost comes from the OS profile."""

US = 1e-6
"""Seconds per µs: profiles give per-operation costs in µs."""

T = TypeVar("T")


@dataclass(frozen=True)
class CpuFactors:
    """Slowdown of a request's own CPU work, by part.

    time = cpu × ((1 − m − k) × factor + m × memory_factor + k × kernel_factor), for a memory-intensive
    fraction m and a guest-kernel fraction k of the work.
    """

    factor: float
    memory_factor: float
    kernel_factor: float


@dataclass(frozen=True)
class OpCost:
    """What a layer adds to one operation, in seconds."""

    guest_cpu_s: float
    """CPU charged to the requester."""
    host_cpu_s: float
    """CPU burnt by the layer's own threads, where the layer runs."""
    latency_s: float
    """Pure delay, no CPU."""


@dataclass(frozen=True)
class PerClass(Generic[T]):
    """One value for each operation class."""

    syscall: T
    ctx_switch: T
    page_fault: T
    fork: T

    def items(self) -> tuple[tuple[str, T], ...]:
        """(class, value) in :data:`OP_CLASSES` order."""
        return (("syscall", self.syscall), ("ctx_switch", self.ctx_switch), ("page_fault", self.page_fault),
                ("fork", self.fork))


OpCosts = PerClass[OpCost]
"""What a layer adds to one operation of each class."""

NativeOpCosts = PerClass[float]
"""Native CPU cost of one operation of each class on an OS, seconds."""


@dataclass(frozen=True)
class PacketCost:
    """CPU a layer adds to each packet a network path sends or receives, in seconds.

    "Guest" is charged to the requester (its kernel's driver, exits on its
    vCPU), "host" to the layer's own threads (vhost, a VMM's device model, the
    bridge and NAT in softirq, a Type 2 host's network stack).
    """

    send_guest_cpu_s: float
    send_host_cpu_s: float
    receive_guest_cpu_s: float
    receive_host_cpu_s: float


@dataclass(frozen=True)
class NativePacketCost:
    """CPU the native network stack of an OS spends on each packet it sends or receives, in seconds."""

    send_cpu_s: float
    receive_cpu_s: float


@dataclass(frozen=True)
class LoadDependence:
    """How a layer's cost per disk operation or network transaction depends on the load at its queue.

    At low load every operation pays a notification (a VM exit, an interrupt) and wakes the thread that
    serves it; under load, notifications are coalesced (virtio event suppression, NAPI polling, interrupt
    coalescing) and the thread is already running. Two mechanisms, each off at its default:

    * **wake-up**: an operation that finds the thread serving it idle (no work in progress) waits
      ``wake_s`` more, pure delay; one that finds it busy does not;
    * **coalescing**: an operation that arrives within ``coalesce_window_s`` of the previous one at the
      same queue shares its notification, and pays ``batched_fraction`` of the layer's per-operation CPU
      (``guest_cpu_s`` and ``host_cpu_s``, the per-transaction fields; per-packet CPU is not scaled). For
      Poisson arrivals at rate λ the mean is :func:`coalesced_cost_s`.
    """

    wake_s: float
    coalesce_window_s: float
    """0: no coalescing."""
    batched_fraction: float
    """In (0, 1]; 1: no coalescing."""

    @property
    def coalesces(self) -> bool:
        return self.coalesce_window_s > 0.0 and self.batched_fraction < 1.0


def coalesced_cost_s(single_s: float, batched_fraction: float, window_s: float, rate_per_s: float) -> float:
    """Mean per-operation CPU of a coalescing layer under Poisson arrivals at ``rate_per_s``.

    An operation is batched when the previous arrival lies within ``window_s``, which for a Poisson stream
    happens with probability ``1 − exp(−λτ)``; so c(λ) = c₁ · (b + (1 − b) · exp(−λτ)), falling from c₁ at
    λ → 0 to b · c₁ as λτ grows. Three parameters: the cost alone c₁, the batched fraction b, the window τ.
    """
    b = batched_fraction
    return single_s * (b + (1.0 - b) * math.exp(-rate_per_s * window_s))


@dataclass(frozen=True)
class IOCost:
    """What a layer adds to one disk operation or network transaction, and the ceilings it puts on them.

    "Other" is the second direction of the path: disk writes, network receives.
    """

    guest_cpu_s: float
    host_cpu_s: float
    latency_s: float
    write_host_cpu_s: float | None
    """Disks: ``host_cpu_s`` of a write; None: the same as a read."""
    ops_limit_per_s: float
    """Operations per second the layer allows (``inf``: no ceiling)."""
    write_ops_limit_per_s: float | None
    """Disks: ``ops_limit_per_s`` of writes; None: the same as reads."""
    bandwidth_factor: float
    """Fraction of the device bandwidth reachable (disk reads, network sends)."""
    other_bandwidth_factor: float | None
    """The same the other way; None: ``bandwidth_factor``."""
    bandwidth_limit_bytes_per_s: float
    """Ceiling on bytes per second (``inf``: none); for a network path, bytes on the wire."""
    per_packet: PacketCost | None
    """Network paths: CPU per packet (the fields above are per transaction); None: none (disks)."""
    load: LoadDependence | None
    """How the costs above depend on the load at the layer's queue; None: they do not."""


@dataclass(frozen=True)
class LayerCost:
    """Everything one layer adds; a section is None where the layer adds nothing of that kind
    (an engine has no disk or network path of its own, its modes touch only their I/O)."""

    name: str
    """As reports show the layer: ``kvm``, ``docker``, ``docker:network=nat``."""
    cpu: CpuFactors | None
    ops: OpCosts | None
    disk: IOCost | None
    net: IOCost | None


@dataclass(frozen=True)
class HostStackOps:
    """Host OS operations a hosted VMM makes for one guest I/O operation."""

    syscalls: float
    ctx_switches: float

    def cpu_s(self, native: NativeOpCosts) -> float:
        """Their CPU on the host OS whose native costs are ``native``, seconds."""
        return self.syscalls * native.syscall + self.ctx_switches * native.ctx_switch


@dataclass(frozen=True)
class HostStack:
    """What a hosted VMM's user-level device emulation asks of the host OS's stacks, per operation."""

    disk: HostStackOps
    """Per disk operation (the image file on the host file system)."""
    net: HostStackOps
    """Per network transaction (the host network device and stack)."""
