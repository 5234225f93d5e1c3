"""What one operation costs through a stack: per-operation overhead composed along a path.

A consumer (a VM, a container, a host) reaches the hardware through a path of
layers, top to bottom: container engine mode (network / storage), engine, guest
OS, hypervisor, host OS. Each layer adds, per operation class, CPU charged to
the requester (``guest_cpu_us``), CPU burnt by the layer's own threads where the
layer runs (``host_cpu_us``), and pure delay (``latency_us``); it may slow user
CPU work by a factor, and put a ceiling on I/O. The cost of one operation is the
sum over the layers of its path plus the native cost (DESIGN §2.4).

Pure arithmetic on the typed layer costs of :mod:`virtsim.model.costs`, which
the resolved profiles build: nothing here knows SimPy, nor how a profile spells
its fields.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from ..model.costs import OP_CLASSES, US, IOCost, LayerCost, NativeOpCosts, NativePacketCost, OpCost

if TYPE_CHECKING:
    from ..config.profiles import EngineProfile, HypervisorProfile, ModeCost, OSProfile

__all__ = ["OP_CLASSES", "REQUESTER", "US", "Coalescing", "IOPathCost", "Layer", "PathCost", "compose", "compose_costs"]

REQUESTER = "<requester>"
"""Where a layer's own work runs when it runs in the requester's own context (a softirq on its core, its
system call path, its vCPU): the work is charged to the requester like its guest CPU, in whatever consumer
the request runs. Not a consumer path (no name contains '<')."""


@dataclass(frozen=True)
class Coalescing:
    """The one layer of a path whose per-operation CPU is coalesced under load (``model.costs.LoadDependence``)."""

    runs_in: str
    """The queue's consumer: where the layer's own work runs (:data:`REQUESTER` for the requester's)."""
    window_s: float
    saved_guest_cpu_s: float
    """What a batched operation does not pay of the requester's CPU: (1 − batched fraction) × the layer's."""
    saved_host_cpu_s: float
    """The same of the layer's own thread (``runs_in``); of a disk read."""
    saved_write_host_cpu_s: float
    """The same for a disk write."""

    def for_write(self) -> Coalescing:
        return replace(self, saved_host_cpu_s=self.saved_write_host_cpu_s)


@dataclass(frozen=True)
class IOPathCost:
    """Cost of one disk operation or network transaction through a path."""

    guest_cpu_s: float = 0.0
    """CPU work per operation charged to the requester (reference-core seconds)."""
    host_cpu_s: dict[str, float] = field(default_factory=dict)
    """CPU work per operation charged to each layer's own consumer, by consumer path."""
    latency_s: float = 0.0
    """Added delay per operation, on top of the device's own latency."""
    ops_limit_per_s: float = float("inf")
    """Ceiling on operations per second through this path (e.g. a VMM's I/O thread)."""
    ops_limit_in: str | None = None
    """The consumer where the ceiling sits: each operation holds it for at least
    ``1 / ops_limit_per_s`` seconds of its single thread, so the ceiling emerges
    from sharing that thread rather than being imposed on the device."""
    bandwidth_factor: float = 1.0
    """Fraction of the device bandwidth this path can reach (disk reads, network sends)."""
    other_bandwidth_factor: float = 1.0
    """The same the other way: disk writes, network receives."""
    bandwidth_limit_bytes_per_s: float = float("inf")
    """Ceiling on bytes per second through this path."""
    write_host_cpu_s: dict[str, float] | None = None
    """Disks: ``host_cpu_s`` for a write, where it differs (None: the same as a read)."""
    write_ops_limit_per_s: float | None = None
    """Disks: ``ops_limit_per_s`` for writes, where it differs (None: the same)."""
    send_guest_cpu_per_packet_s: float = 0.0
    """Network: CPU per packet sent charged to the requester, added by the layers (the native stack's is apart)."""
    receive_guest_cpu_per_packet_s: float = 0.0
    """Network: the same per packet received."""
    send_host_cpu_per_packet_s: dict[str, float] = field(default_factory=dict)
    """Network: CPU per packet sent charged to each layer's own consumer, by consumer path."""
    receive_host_cpu_per_packet_s: dict[str, float] = field(default_factory=dict)
    """Network: the same per packet received."""
    wakes: tuple[tuple[str, float], ...] = ()
    """(consumer, seconds) per layer with a wake-up: the delay an operation pays when it finds that consumer
    (where the layer's work runs; :data:`REQUESTER`: the requester's) idle on arrival."""
    coalescing: tuple[Coalescing, ...] = ()
    """The layers whose per-operation CPU an operation batched at their queue pays only in part."""

    def for_write(self) -> IOPathCost:
        """The costs a write pays (a read's, where no write figure is given)."""
        if self.write_host_cpu_s is None and self.write_ops_limit_per_s is None:
            return self
        return replace(self, host_cpu_s=self.write_host_cpu_s if self.write_host_cpu_s is not None
                       else self.host_cpu_s,
                       coalescing=tuple(c.for_write() for c in self.coalescing),
                       ops_limit_per_s=self.write_ops_limit_per_s if self.write_ops_limit_per_s is not None
                       else self.ops_limit_per_s,
                       write_host_cpu_s=None, write_ops_limit_per_s=None)


@dataclass(frozen=True)
class Layer:
    """One layer of a path, with the consumer where its own work runs.

    ``runs_in`` is the path of the consumer charged with ``host_cpu_us``: the
    physical host's node for the hypervisor or a host engine, the VM itself
    for an engine inside a VM (its kernel does that work), or
    :data:`REQUESTER`: the requester's own context. ``net_runs_in``, where
    given, is the same for the layer's network path alone (a VM's network
    thread beside its VMM).
    """

    kind: str
    """``hypervisor``, ``engine``, ``network`` or ``storage``."""
    profile: HypervisorProfile | EngineProfile
    runs_in: str
    mode: ModeCost | None = None
    """For ``network``/``storage`` layers: the engine's mode profile."""
    mode_name: str | None = None
    host_os: NativeOpCosts | None = None
    """For a hosted (Type 2) hypervisor: the native operation costs of the OS it runs on. Its device
    emulation's host-stack operations (the profile's ``host_stack``) are priced at them and charged
    where its own work runs (``runs_in``, ``net_runs_in`` for the network's); None: no host-stack cost."""
    net_runs_in: str | None = None
    """Where the network path's own work runs, where it differs from ``runs_in``."""

    @property
    def label(self) -> str:
        """E.g. ``kvm``, ``docker``, ``docker:network=nat``."""
        name = self.profile.name
        return name if self.mode_name is None else f"{name}:{self.kind}={self.mode_name}"

    @property
    def cost(self) -> LayerCost:
        """What the layer adds: its profile's costs, or for a mode only that mode's own I/O."""
        if self.mode is None:
            cost = self.profile.layer_cost()
            stack = self.profile.host_stack_cost() if self.kind == "hypervisor" and self.host_os is not None else None
            if stack is None:
                return cost
            return replace(cost, disk=_with_host_cpu(cost.disk, stack.disk.cpu_s(self.host_os)),
                           net=_with_host_cpu(cost.net, stack.net.cpu_s(self.host_os)))
        if self.kind == "network":
            return LayerCost(name=self.label, cpu=None, ops=None, disk=None, net=self.mode.network_cost())
        if self.kind == "storage":
            return LayerCost(name=self.label, cpu=None, ops=None, disk=self.mode.storage_cost(), net=None)
        raise ValueError(f"only network and storage layers have a mode, not {self.kind!r}")


@dataclass(frozen=True)
class PathCost:
    """Everything a request needs to know about its path, composed once per consumer."""

    cpu_factor: float = 1.0
    memory_factor: float = 1.0
    kernel_factor: float = 1.0
    """Slowdown of the guest-kernel fraction of the work (the product of the layers' ``kernel_factor``)."""
    native_op_cpu_s: dict[str, float] = field(default_factory=dict)
    """Native CPU cost of one operation of each class, from the OS the request runs on."""
    ops: dict[str, tuple[float, dict[str, float], float]] = field(default_factory=dict)
    """Per class: (added guest CPU s, {consumer path: host CPU s}, added latency s)."""
    native_packet_cpu_s: tuple[float, float] = (0.0, 0.0)
    """CPU of the native network stack per packet (sent, received), from the OS the request runs on."""
    disk: IOPathCost = field(default_factory=IOPathCost)
    net: IOPathCost = field(default_factory=IOPathCost)
    layers: tuple[str, ...] = ()
    """Names of the layers, top to bottom, for reports."""

    def charged_consumers(self) -> set[str]:
        """Paths of the consumers where this path's layers do their own work."""
        where = {w for _, host, _ in self.ops.values() for w in host}
        where |= set(self.net.send_host_cpu_per_packet_s) | set(self.net.receive_host_cpu_per_packet_s)
        for io in (self.disk, self.net):
            where |= set(io.host_cpu_s)
            if io.ops_limit_in is not None:
                where.add(io.ops_limit_in)
            where |= {w for w, _ in io.wakes if w != REQUESTER}
            where |= {c.runs_in for c in io.coalescing if c.runs_in != REQUESTER}
        return where

    @property
    def is_native(self) -> bool:
        """True when no layer adds anything (a bare host, or containers at no cost)."""
        return not self.layers


def compose(layers: Sequence[Layer], native_os: OSProfile | None) -> PathCost:
    """The path through ``layers`` (top to bottom) over a native OS (None: no native operation cost)."""
    return compose_costs([(layer.cost, layer.runs_in) if layer.net_runs_in is None
                          else (layer.cost, layer.runs_in, layer.net_runs_in) for layer in layers],
                         None if native_os is None else native_os.ops.cost(),
                         None if native_os is None else native_os.net.cost())


def compose_costs(layers: Sequence[tuple[LayerCost, str] | tuple[LayerCost, str, str]],
                  native: NativeOpCosts | None, native_packets: NativePacketCost | None = None) -> PathCost:
    """Fold the costs of layers (top to bottom, each with the consumer it runs in) into one path.

    Each layer comes with the consumer its own work runs in and, optionally, a
    third where its network path's runs. Work that runs in :data:`REQUESTER`
    is added to the requester's CPU. Costs add up layer by layer and factors
    multiply, in path order (the order of the floating-point operations is the
    results'); ceilings keep the tightest, and where it sits.
    """
    cpu_factor = memory_factor = kernel_factor = 1.0
    ops = {k: _OpSum() for k in OP_CLASSES}
    disk, net = _IOSum(), _IOSum()
    for cost, runs_in, *net_in in layers:
        if cost.cpu is not None:
            cpu_factor *= cost.cpu.factor
            memory_factor *= cost.cpu.memory_factor
            kernel_factor *= cost.cpu.kernel_factor
        if cost.ops is not None:
            for k, op in cost.ops.items():
                ops[k].add(op, runs_in)
        if cost.disk is not None:
            disk.add(cost.disk, runs_in)
        if cost.net is not None:
            net.add(cost.net, net_in[0] if net_in else runs_in)
    return PathCost(
        cpu_factor=cpu_factor,
        memory_factor=memory_factor,
        kernel_factor=kernel_factor,
        native_op_cpu_s=dict(native.items()) if native is not None else {},
        ops={k: (v.guest, dict(v.host), v.latency) for k, v in ops.items()},
        native_packet_cpu_s=(0.0, 0.0) if native_packets is None else (native_packets.send_cpu_s,
                                                                       native_packets.receive_cpu_s),
        disk=disk.path_cost(),
        net=net.path_cost(),
        layers=tuple(layer[0].name for layer in layers),
    )


def _with_host_cpu(io: IOCost, cpu_s: float) -> IOCost:
    """``io`` with ``cpu_s`` more of the layer's own CPU per operation (reads and writes alike)."""
    write = None if io.write_host_cpu_s is None else io.write_host_cpu_s + cpu_s
    return replace(io, host_cpu_s=io.host_cpu_s + cpu_s, write_host_cpu_s=write)


def _in_requester(io: IOCost) -> IOCost:
    """``io`` with its own work done in the requester's context: all its CPU is the requester's."""
    if io.write_host_cpu_s is not None and io.write_host_cpu_s != io.host_cpu_s:
        raise ValueError("a path whose writes cost its own threads differently cannot run in the requester")
    if io.ops_limit_per_s != float("inf") or io.write_ops_limit_per_s is not None:
        raise ValueError("a path with an operations ceiling (a thread's) cannot run in the requester")
    packet = io.per_packet
    if packet is not None:
        packet = replace(packet, send_guest_cpu_s=packet.send_guest_cpu_s + packet.send_host_cpu_s,
                         receive_guest_cpu_s=packet.receive_guest_cpu_s + packet.receive_host_cpu_s,
                         send_host_cpu_s=0.0, receive_host_cpu_s=0.0)
    return replace(io, guest_cpu_s=io.guest_cpu_s + io.host_cpu_s, host_cpu_s=0.0, write_host_cpu_s=None,
                   per_packet=packet)


def _charge(host: dict[str, float], where: str, cpu_s: float) -> None:
    """Add ``cpu_s`` to what ``where`` burns (nothing, not even a zero entry, when it is 0)."""
    if cpu_s:
        host[where] = host.get(where, 0.0) + cpu_s


@dataclass
class _OpSum:
    guest: float = 0.0
    host: dict[str, float] = field(default_factory=dict)
    latency: float = 0.0

    def add(self, op: OpCost, runs_in: str) -> None:
        self.guest += op.guest_cpu_s
        if runs_in == REQUESTER:
            self.guest += op.host_cpu_s
        else:
            _charge(self.host, runs_in, op.host_cpu_s)
        self.latency += op.latency_s


@dataclass
class _IOSum:
    guest: float = 0.0
    host: dict[str, float] = field(default_factory=dict)
    latency: float = 0.0
    ops_limit: float = float("inf")
    ops_limit_in: str | None = None
    bw_factor: float = 1.0
    bw_other: float = 1.0
    bw_limit: float = float("inf")
    host_write: dict[str, float] = field(default_factory=dict)
    write_differs: bool = False
    ops_limit_write: float = float("inf")
    send_guest: float = 0.0
    receive_guest: float = 0.0
    send_host: dict[str, float] = field(default_factory=dict)
    receive_host: dict[str, float] = field(default_factory=dict)
    wakes: list[tuple[str, float]] = field(default_factory=list)
    coalescing: list[Coalescing] = field(default_factory=list)

    def add(self, io: IOCost, runs_in: str) -> None:
        if runs_in == REQUESTER:
            io = _in_requester(io)  # no own work left: nothing below is charged to REQUESTER
        if io.load is not None:
            self._add_load(io, runs_in)
        self.guest += io.guest_cpu_s
        _charge(self.host, runs_in, io.host_cpu_s)
        self.latency += io.latency_s
        write_host = io.host_cpu_s if io.write_host_cpu_s is None else io.write_host_cpu_s
        _charge(self.host_write, runs_in, write_host)
        self.write_differs |= write_host != io.host_cpu_s or io.write_ops_limit_per_s is not None
        limit = io.ops_limit_per_s
        write_limit = limit if io.write_ops_limit_per_s is None else io.write_ops_limit_per_s
        if limit < self.ops_limit or write_limit < self.ops_limit_write:
            self.ops_limit_in = runs_in
        self.ops_limit = min(self.ops_limit, limit)
        self.ops_limit_write = min(self.ops_limit_write, write_limit)
        factor = io.bandwidth_factor
        self.bw_factor *= factor
        self.bw_other *= factor if io.other_bandwidth_factor is None else io.other_bandwidth_factor
        self.bw_limit = min(self.bw_limit, io.bandwidth_limit_bytes_per_s)
        packet = io.per_packet
        if packet is not None:
            self.send_guest += packet.send_guest_cpu_s
            self.receive_guest += packet.receive_guest_cpu_s
            _charge(self.send_host, runs_in, packet.send_host_cpu_s)
            _charge(self.receive_host, runs_in, packet.receive_host_cpu_s)

    def _add_load(self, io: IOCost, runs_in: str) -> None:
        load = io.load
        if load.wake_s:
            self.wakes.append((runs_in, load.wake_s))
        if not load.coalesces:
            return
        saved = 1.0 - load.batched_fraction
        write_host = io.host_cpu_s if io.write_host_cpu_s is None else io.write_host_cpu_s
        self.coalescing.append(Coalescing(runs_in=runs_in, window_s=load.coalesce_window_s,
                                     saved_guest_cpu_s=saved * io.guest_cpu_s, saved_host_cpu_s=saved * io.host_cpu_s,
                                     saved_write_host_cpu_s=saved * write_host))

    def path_cost(self) -> IOPathCost:
        return IOPathCost(guest_cpu_s=self.guest, host_cpu_s=dict(self.host), latency_s=self.latency,
                          ops_limit_per_s=self.ops_limit, ops_limit_in=self.ops_limit_in,
                          bandwidth_factor=self.bw_factor, other_bandwidth_factor=self.bw_other,
                          bandwidth_limit_bytes_per_s=self.bw_limit,
                          write_host_cpu_s=dict(self.host_write) if self.write_differs else None,
                          write_ops_limit_per_s=self.ops_limit_write if self.write_differs else None,
                          send_guest_cpu_per_packet_s=self.send_guest,
                          receive_guest_cpu_per_packet_s=self.receive_guest,
                          send_host_cpu_per_packet_s=dict(self.send_host),
                          receive_host_cpu_per_packet_s=dict(self.receive_host),
                          wakes=tuple(self.wakes), coalescing=tuple(self.coalescing))
