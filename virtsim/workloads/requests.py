"""Executing one request through its stack: CPU, disk and network phases.

A request's demand is a vector (user CPU, memory-intensive fraction, counts of
system calls, context switches, page faults and forks, disk operations and
network transactions). Its path (:class:`~virtsim.components.stack.PathCost`)
turns that into work on shared resources and delays, in three phases:

1. **CPU**: the requester's own work (user CPU slowed by the path's factors,
   plus the native and added guest CPU of every operation) runs in the
   requester's consumer; then the layers' own work for its operations (VM
   exits, VMM I/O threads, an engine's NAT processing) runs in the layers'
   consumers on the host, contending with everyone there. The requester waits
   for it: alone, an operation costs guest + host CPU + latency, in sequence.
2. **Disk**: the operations run one after another (queue depth 1 per request):
   each occupies the device for ``max(1/IOPS, bytes/bandwidth)`` seconds,
   shared with every other stream on that disk, and waits for the device's
   latency plus the path's added latency. On a remote disk
   (``components.remote_storage``) each also crosses the network to the
   storage host and back, and is served by that host's disk.
3. **Network**: a transaction is packets (:mod:`virtsim.model.packets`: its
   bytes in MSS-sized segments at the NIC's MTU, ACKs, offloads). The CPU of
   its first packet each way, and what the layers charge per transaction, is
   part of the CPU phase: one message in, one out, handled in turn. The rest
   streams: the remaining packets' CPU (the native stack's and the layers',
   in the requester and in the layers' threads) and the frames on the NIC
   (shared with every other flow on it) run at once, so the slowest of them
   sets the pace, as in a pipeline. Then each transaction waits for the NIC's
   one-way latency twice plus what the path adds. Under a ``network`` section
   the frames are two flows over the network's links instead, one each way
   (:mod:`virtsim.components.network`), and the stage ends when both have.

A request whose demand lists ``calls`` makes them between the CPU phase and
the disk phase (:mod:`virtsim.workloads.calls`): it waits for its callees'
jobs and the calls' bytes on the network, then goes on.

Some costs depend on the load at their queue (``model.costs.LoadDependence``):
on arrival a request finds the threads that serve its paths busy or idle, and
pays the wake-ups of the idle ones; at a coalescing layer it is batched when
the previous request arrived within the window (:meth:`RequestPlan.arrive`,
:class:`Arrival`).

Each request records where its time went (see :class:`Breakdown`): native work,
virtualization overhead (the layers' CPU and the delays they add), the devices'
own service and latency, and waiting for contended resources (the rest).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..components.devices import DeviceShare
from ..components.stack import OP_CLASSES, REQUESTER, PathCost
from ..model.packets import Link, TransactionPackets

_DEFAULT_LINK = Link()


@dataclass(frozen=True)
class Demand:
    """One request's demand vector, sampled."""

    cpu_s: float
    """User CPU work, seconds on the reference core."""
    mem_fraction: float = 0.0
    kernel_fraction: float = 0.0
    """The part of ``cpu_s`` spent in the (guest) kernel."""
    mem_locality: str = "interleaved"
    """``interleaved`` over the sockets the job spans, or ``local`` to each thread (``model.cpu_topology``)."""
    ops: tuple[float, ...] = (0.0, 0.0, 0.0, 0.0)
    """Counts of system calls, context switches, page faults and forks (OP_CLASSES order)."""
    disk_ops: float = 0.0
    disk_bytes: float = 0.0
    """Bytes per disk operation."""
    disk_write: bool = False
    disk_sequential: bool = False
    net_transactions: float = 0.0
    net_bytes: float = 0.0
    """Bytes per network transaction."""
    memory_bytes: float = 0.0
    """Memory resident while the request runs."""
    net_receive: bool = False
    """The bytes flow towards the requester (a download)."""
    net_request_bytes: float = 0.0
    """Bytes per network transaction the other way (the request of a response)."""
    holds: tuple[tuple[str, float, bool], ...] = ()
    """Software resources held, in order: (name, fraction of the CPU work, held through the disk operations)."""
    calls: int = 0
    """Entries of calls to other workloads' services, made after the CPU phase (``workloads.calls``)."""

    @property
    def has_operations(self) -> bool:
        """True if anything beyond user CPU work is asked for."""
        return bool(any(self.ops) or self.disk_ops or self.net_transactions or self.calls)

    @property
    def plan_shape(self) -> tuple:
        """What the request plan built for this demand depends on: requests of one shape share a plan."""
        return (any(self.ops), self.disk_ops > 0, self.disk_write, self.net_transactions > 0, self.net_receive,
                self.memory_bytes > 0, self.holds, self.mem_fraction > 0 and self.mem_locality != "local")


def disk_fields(ops: float, size_bytes: float, pattern: str, kind: str) -> dict:
    """The disk part of a :class:`Demand` from a demand's ``disk`` (its ops, bytes, pattern and kind)."""
    return {"disk_ops": ops, "disk_bytes": float(size_bytes), "disk_write": kind == "write",
            "disk_sequential": pattern == "sequential"}


def net_fields(transactions: float, size_bytes: float, direction: str, request_bytes: float = 0.0) -> dict:
    """The network part of a :class:`Demand` from a demand's ``net`` (transactions, bytes, direction, request)."""
    return {"net_transactions": transactions, "net_bytes": float(size_bytes), "net_receive": direction == "receive",
            "net_request_bytes": float(request_bytes)}


def demand_template(spec) -> Demand:
    """The fixed part of a resolved demand spec (CPU is drawn per request)."""
    if spec is None:
        return Demand(cpu_s=0.0)
    disk, net = spec.disk, spec.net
    return Demand(
        cpu_s=0.0,
        mem_fraction=spec.mem_fraction,
        kernel_fraction=spec.kernel_fraction,
        mem_locality=spec.mem_locality,
        ops=(spec.syscalls, spec.ctx_switches, spec.page_faults, spec.forks),
        memory_bytes=spec.memory_bytes,
        holds=tuple((h.resource, h.fraction, h.through_disk) for h in spec.holds),
        calls=len(spec.calls),
        **(disk_fields(disk.ops, disk.bytes, disk.pattern, disk.kind) if disk else {}),
        **(net_fields(net.transactions, net.bytes, net.direction, net.request_bytes) if net else {}),
    )


@dataclass(frozen=True)
class Breakdown:
    """Where a request's time went if it had run alone (seconds); the rest is waiting.

    ``virtualization_s`` holds everything the layers add: CPU overhead and the
    latency of their paths; ``io_latency_s`` the devices' own service and
    latency, reading back swapped-out pages included. ``bare_metal_s`` is the
    same request alone on bare metal: its native CPU and its own I/O on the
    bare devices (no layer's bandwidth factor or ceiling, no swapping).
    """

    native_s: float
    virtualization_s: float
    io_latency_s: float
    bare_metal_s: float

    @classmethod
    def native(cls, seconds: float) -> Breakdown:
        """Time that is all the request's own and as long on bare metal (CPU work on a bare host, a pause)."""
        return cls(seconds, 0.0, 0.0, seconds)

    def __add__(self, other: Breakdown) -> Breakdown:
        """Two parts of a job run one after the other."""
        return Breakdown(self.native_s + other.native_s, self.virtualization_s + other.virtualization_s,
                         self.io_latency_s + other.io_latency_s, self.bare_metal_s + other.bare_metal_s)


@dataclass(frozen=True)
class Arrival:
    """What a request found when it arrived at its consumer: the wake-ups it pays, whether it is batched.

    Decided once, on arrival, for all of the request's operations of each kind
    (``model.costs.LoadDependence``). Alone, a request finds every thread idle
    and nothing to share a notification with: it pays every wake-up, unbatched.
    """

    disk_wake_s: float
    """Delay per disk operation: the wake-ups of the path's threads that were idle."""
    net_wake_s: float
    """The same per network transaction."""
    disk_batched: tuple[bool, ...] = ()
    """Per coalescing layer of the disk path (``IOPathCost.coalescing``): batched at its queue."""
    net_batched: tuple[bool, ...] = ()


class ArrivalClock:
    """The last arrival at one coalescing queue: a VM's path through a layer, shared by its workloads' plans."""

    __slots__ = ("last_s",)

    def __init__(self):
        self.last_s = -math.inf

    def arrive(self, now: float, window_s: float) -> bool:
        """Record an arrival at ``now``; True when it falls within ``window_s`` of the previous one."""
        batched = now - self.last_s < window_s
        self.last_s = now
        return batched


class RequestPlan:
    """Executes requests of one workload at one consumer (path costs composed once)."""

    def __init__(self, env, consumer, path: PathCost, layer_nodes: dict[str, object], threads: int,
                 disk: DeviceShare | None = None, nic: DeviceShare | None = None, swap: DeviceShare | None = None,
                 swap_ops: float = 0.0, locks: tuple = (),
                 clocks: dict[str, tuple[ArrivalClock, ...]] | None = None, remote=None):
        self.env = env
        self.consumer = consumer
        self.path = path
        self.layer_nodes = layer_nodes
        self.threads = threads
        self.disk = disk
        self.nic = nic
        self.remote = remote
        """A disk on a storage host (``components.remote_storage.RemoteDisk``) in place of ``disk``; None: local."""
        self.swap = swap
        """The host disk as the VM's swap, if the host swapped part of it out."""
        self.swap_ops = swap_ops if swap is not None else 0.0
        """Pages each request reads back from swap (random 4 KiB reads)."""
        self.locks = locks
        """(:class:`~virtsim.components.slots.Slots`, fraction of the requester's CPU work, held through the
        disk operations) per software resource held, in order."""
        topology = consumer.topology
        self.remote_extra = consumer.remote_extra(threads)
        """What remote memory adds to the memory-intensive work of an ``interleaved`` request (``Consumer``)."""
        self.bare_remote_extra = topology.remote_extra(topology.sockets_for(threads))
        """The same on bare metal: the job's own threads on the bare host."""
        self.alone_cores = topology.alone_cores(threads)
        """Cores' worth the request's threads get with the host to themselves (SMT siblings add less)."""
        self._wake_nodes = {kind: tuple((consumer.node if where == REQUESTER else layer_nodes[where], wake_s)
                                        for where, wake_s in io.wakes)
                            for kind, io in (("disk", path.disk), ("net", path.net))}
        self.alone = Arrival(disk_wake_s=sum((s for _, s in self._wake_nodes["disk"]), 0.0),
                             net_wake_s=sum((s for _, s in self._wake_nodes["net"]), 0.0))
        """What a request finds alone: every wake-up, no batching."""
        self._clocks = clocks or {}
        """'disk' and 'net' → one clock per coalescing layer of that path."""
        self._load_dependent = any(self._wake_nodes.values()) or bool(path.disk.coalescing or path.net.coalescing)
        self.peer_ports = None
        """Under a network, for a workload with a modelled client: the stages from this consumer to the client
        and back that its wire's bytes take in place of its own to the world beyond its switch (one client per
        workload, so per plan; set by the job starter)."""

    def arrive(self, d: Demand) -> Arrival:
        """What a request of demand ``d`` arriving now finds (and, at a coalescing queue, its arrival recorded)."""
        if not self._load_dependent:
            return self.alone
        now, path = self.env.now, self.path
        wakes = [0.0, 0.0]
        batched = [(), ()]
        for i, (kind, count, io) in enumerate((("disk", d.disk_ops, path.disk), ("net", d.net_transactions, path.net))):
            if not count:
                continue
            wakes[i] = sum((wake_s for node, wake_s in self._wake_nodes[kind] if not node.demand > 0.0), 0.0)
            if io.coalescing:
                batched[i] = tuple(clock.arrive(now, c.window_s) for clock, c in zip(self._clocks[kind], io.coalescing))
        return Arrival(disk_wake_s=wakes[0], net_wake_s=wakes[1], disk_batched=batched[0], net_batched=batched[1])

    # -- costs -------------------------------------------------------------------

    def cpu_work(self, d: Demand, arrival: Arrival | None = None) -> tuple[float, float, dict[str, float]]:
        """(native work, requester's work, {layer consumer: work}) in reference-core seconds.

        ``arrival`` (default: alone) says whether the operations are batched at a coalescing layer.
        """
        p = self.path
        m, k = d.mem_fraction, d.kernel_fraction
        remote = bare_remote = 0.0
        if m and d.mem_locality != "local":
            remote, bare_remote = self.remote_extra, self.bare_remote_extra
        if k or remote or bare_remote:
            # Remote accesses and nested page walks are each an added latency per access, in units of a
            # local native access: they add, so neither hides nor multiplies the other.
            native = d.cpu_s * (1.0 + m * bare_remote)
            guest = d.cpu_s * ((1.0 - m - k) * p.cpu_factor + m * (p.memory_factor + remote) + k * p.kernel_factor)
        else:
            native = d.cpu_s
            guest = d.cpu_s * ((1.0 - m) * p.cpu_factor + m * p.memory_factor)
        host: dict[str, float] = {}
        for k, count in zip(OP_CLASSES, d.ops):
            if not count:
                continue
            base = p.native_op_cpu_s.get(k, 0.0) * count
            added_guest, added_host, _ = p.ops[k]
            native += base
            guest += base + added_guest * count
            _add_work(host, added_host, count)
        disk = p.disk.for_write() if d.disk_write else p.disk
        arrival = arrival or self.alone
        for count, io, batched in ((d.disk_ops, disk, arrival.disk_batched),
                                   (d.net_transactions, p.net, arrival.net_batched)):
            if count:
                guest += io.guest_cpu_s * count
                per_op = dict(io.host_cpu_s)
                for saved, shared in zip(io.coalescing, batched):
                    if shared:  # the notification was shared: part of that layer's cost is not paid
                        guest -= saved.saved_guest_cpu_s * count
                        if saved.saved_host_cpu_s:
                            per_op[saved.runs_in] -= saved.saved_host_cpu_s
                if io.ops_limit_in is not None:
                    # 1/limit seconds of the layer's thread, whatever the host's core speed.
                    floor = self.consumer.core_speed / io.ops_limit_per_s
                    per_op[io.ops_limit_in] = max(per_op.get(io.ops_limit_in, 0.0), floor)
                _add_work(host, per_op, count)
        if d.net_transactions:
            # The first packet each way of every transaction: a message in, a message out, in turn.
            count, net = d.net_transactions, p.net
            send, receive = p.native_packet_cpu_s
            native += (send + receive) * count
            guest += (send + receive + net.send_guest_cpu_per_packet_s + net.receive_guest_cpu_per_packet_s) * count
            for per_packet in (net.send_host_cpu_per_packet_s, net.receive_host_cpu_per_packet_s):
                _add_work(host, per_packet, count)
        return native, guest, host

    def packets(self, d: Demand) -> TransactionPackets:
        """The packets of one of the request's transactions over its NIC."""
        link = _DEFAULT_LINK if self.nic is None or self.nic.link is None else self.nic.link
        return link.transaction(d.net_bytes, d.net_request_bytes, d.net_receive)

    def stream_work(self, d: Demand) -> tuple[float, float, dict[str, float], float]:
        """(native work, requester's work, {layer consumer: work}, bytes on the wire) of the packets after the first.

        All of the request's transactions together; they stream through the
        CPUs and the NIC at once. Work in reference-core seconds.
        """
        p, count = self.path, d.net_transactions
        packets = self.packets(d)
        sent, received = (packets.sent - 1) * count, (packets.received - 1) * count
        send, receive = p.native_packet_cpu_s
        net = p.net
        native = send * sent + receive * received
        guest = native + net.send_guest_cpu_per_packet_s * sent + net.receive_guest_cpu_per_packet_s * received
        host: dict[str, float] = {}
        for per_packet, n in ((net.send_host_cpu_per_packet_s, sent), (net.receive_host_cpu_per_packet_s, received)):
            _add_work(host, per_packet, n)
        return native, guest, host, packets.wire_bytes * count

    def wire_split(self, d: Demand) -> tuple[float, float]:
        """Bytes on the wire of all the request's transactions (frames' headers and framing included): (what
        the requester sends, what it receives)."""
        link = _DEFAULT_LINK if self.nic is None or self.nic.link is None else self.nic.link
        out, back = (d.net_request_bytes, d.net_bytes) if d.net_receive else (d.net_bytes, d.net_request_bytes)
        return link.wire_bytes(out) * d.net_transactions, link.wire_bytes(back) * d.net_transactions

    def _wire_parts(self, d: Demand, wire: float, ports) -> list[tuple[object, float, float]]:
        """The wire's stage: the NIC's node carrying both messages, or under a network one flow each way
        (``ports``: the stages out and back, default the NIC's own to the world beyond its switch)."""
        ports = self.nic.ports if ports is None else ports
        if ports is None:
            return [(self.nic.node, wire, self.nic.bytes_per_s)]
        out, back = self.wire_split(d)
        return [(ports[0], out, math.inf), (ports[1], back, math.inf)]

    def stream_parts(self, d: Demand, ports=None, wire: bool = True) -> list[tuple[object, float, float]]:
        """(node, work, max rate) of each stage the packets after the first stream through: the NIC's wire, the
        requester's CPU, each layer's thread; those with nothing to do left out.

        ``ports``: under a network, the stages out and back the wire's bytes take (default: to the world
        beyond the host's switch port); ``wire``: False leaves the wire out (a modelled client's, which the
        server's route carries)."""
        _, guest, host, total = self.stream_work(d)
        speed = self.consumer.core_speed
        parts = self._wire_parts(d, total, ports) if wire else []
        parts.append((self.consumer.node, guest, self.threads * speed))
        parts += [(self.layer_nodes[where], work, speed) for where, work in host.items()]
        return [part for part in parts if part[1] > 0]

    def stream_stages_s(self, d: Demand, ports=None, wire: bool = True) -> tuple[float, float, float, float]:
        """Alone, how long the packets after the first take at each kind of stage: (wire, slowest CPU, native CPU,
        wire on the bare NIC), seconds. ``ports`` and ``wire`` as for :meth:`stream_parts`: under a network the
        wire's time is that of the slower direction."""
        native, guest, host, total = self.stream_work(d)
        speed = self.consumer.core_speed
        cores = self.alone_cores * speed
        cpu_s = max([guest / cores, *(w / speed for w in host.values())])
        ports = self.nic.ports if ports is None else ports
        if not wire:
            wire_s = bare_s = 0.0
        elif ports is None:
            wire_s, bare_s = total / self.nic.bytes_per_s, total / self.nic.bare_rate
        else:
            out, back = self.wire_split(d)
            wire_s = max(out / ports[0].rate, back / ports[1].rate)
            bare_s = max(out / ports[0].bare_rate, back / ports[1].bare_rate)
        return wire_s, cpu_s, native / cores, bare_s

    def cpu_breakdown(self, d: Demand, arrival: Arrival | None = None) -> Breakdown:
        """The CPU phase alone, its work and its operations' latency (a modelled client's part of a request).

        ``arrival``: what the request found (default: alone).
        """
        speed = self.consumer.core_speed
        native, guest, host = self.cpu_work(d, arrival)
        cores = self.alone_cores * speed
        native_s = native / cores
        cpu_alone = guest / cores + sum(w / speed for w in host.values())
        return Breakdown(native_s, cpu_alone - native_s + self.op_latency_s(d), 0.0, native_s)

    def op_latency_s(self, d: Demand) -> float:
        """Added pure delay of the counted operations."""
        return sum(self.path.ops[k][2] * count for k, count in zip(OP_CLASSES, d.ops) if count)

    def disk_device_s(self, d: Demand, *, bare: bool = False) -> float:
        """Device-seconds one disk operation occupies (``bare``: on the bare device, no layer's bandwidth factor)."""
        disk = self.disk
        per_op = 0.0 if d.disk_sequential else 1.0 / disk.ops_per_s
        path = self.path.disk
        factor = 1.0 if bare else (path.other_bandwidth_factor if d.disk_write else path.bandwidth_factor)
        transfer = d.disk_bytes / (disk.bytes_per_s * factor)
        return per_op if per_op > transfer else transfer

    def disk_rate(self, d: Demand, request_share: float | None = None) -> float:
        """The share of the device one operation can use: all of it, unless a transfer is limited per request.

        ``request_share`` defaults to the path's; the bare device's gives the same on bare metal.
        """
        share = self.disk.request_share if request_share is None else request_share
        if share >= 1.0:
            return 1.0
        per_op = 0.0 if d.disk_sequential else 1.0 / self.disk.ops_per_s
        transfer = d.disk_bytes / self.disk.bytes_per_s
        return share if transfer > per_op else 1.0

    def breakdown(self, d: Demand, arrival: Arrival | None = None) -> Breakdown:
        """The uncontended decomposition of the request's response time.

        The streamed packets take the time of their slowest stage: the wire's
        is device time, a CPU stage's is native work up to what bare metal
        would spend on it, and virtualization beyond. ``arrival`` (default:
        alone) gives the wake-ups and batching the request met on arrival.
        """
        arrival = arrival or self.alone
        cpu = self.cpu_breakdown(d, arrival)
        native_s, virtualization = cpu.native_s, cpu.virtualization_s
        io = bare_io = 0.0
        if d.disk_ops and self.disk is not None:
            # Alone, the path's bandwidth ceiling (a cap on its share of the device) stretches transfers.
            device_s = self.disk_device_s(d) / min(1.0, self.disk.node.cap, self.disk_rate(d))
            io += d.disk_ops * (device_s + self.disk.latency_s)
            bare_rate = self.disk_rate(d, self.disk.bare_request_share)
            bare_io += d.disk_ops * (self.disk_device_s(d, bare=True) / bare_rate + self.disk.latency_s)
            virtualization += d.disk_ops * (self.path.disk.latency_s + arrival.disk_wake_s)
        elif d.disk_ops and self.remote is not None:
            # The same remote disk on bare metal: the requester's layers add only their path's latency here.
            remote_s = d.disk_ops * self.remote.alone_op_s(d.disk_bytes, d.disk_sequential)
            io += remote_s
            bare_io += remote_s
            virtualization += d.disk_ops * (self.path.disk.latency_s + arrival.disk_wake_s)
        if self.swap_ops:  # reading back what the host swapped out: disk I/O, which bare metal would not do
            swap = self.swap
            io += self.swap_ops * (1.0 / swap.ops_per_s + swap.latency_s)
        bare_metal_s = native_s
        if d.net_transactions and self.nic is not None:
            round_trips = d.net_transactions * 2.0 * self.nic.latency_s
            wire_s, cpu_s, stream_native_s, bare_wire_s = self.stream_stages_s(d)
            if wire_s >= cpu_s:
                io += wire_s
            else:
                native_part = min(stream_native_s, cpu_s)
                native_s += native_part
                virtualization += cpu_s - native_part
            io += round_trips
            bare_io += round_trips + max(stream_native_s, bare_wire_s)
            virtualization += d.net_transactions * (self.path.net.latency_s + arrival.net_wake_s)
        return Breakdown(native_s, virtualization, io, bare_metal_s + bare_io)

    # -- running -----------------------------------------------------------------

    def start(self, d: Demand, done, alive=None, cpu_done=None, job: int = -1, waited=None,
              peer_parts: tuple = (), peer_latency_s: float = 0.0, cpu_only: bool = False,
              arrival: Arrival | None = None, calls=None) -> _Request:
        """Run the request's phases; call ``done()`` when the last one ends.

        ``alive()`` is asked between phases: a request whose job failed stops.
        ``cpu_done()``, if given, is called when the CPU phase (with its
        operations' latency) is over, before the I/O phases. ``waited(s)`` is
        told how long the request queued for each software resource it holds
        (``job`` names it in their queues). ``peer_parts`` is what the other
        end of the transactions (a modelled client) adds to the packets' stream,
        (node, work, max rate) each: its NIC carries the frames too and its CPUs
        handle the packets, all at the same time; ``peer_latency_s`` is what its
        stack adds to each transaction. ``cpu_only``: only the CPU phase (with
        its operations' latency) runs, then ``done()`` (a client's part).
        ``arrival`` is what :meth:`arrive` found for it (default: asked now).
        ``calls``: the request's calls to other workloads' services
        (a :class:`~virtsim.workloads.calls.CallPlan`), made after the CPU
        phase and before the swap and disk phases.
        Returns the running request, whose ``held`` lists the software
        resources it holds at the moment.
        """
        request = _Request(self, d, done, alive or _always, cpu_done, job, waited, peer_parts, peer_latency_s,
                           cpu_only, self.arrive(d) if arrival is None else arrival, calls)
        request.cpu_phase()
        return request


def _always() -> bool:
    return True


def _add_work(host: dict[str, float], per_operation: dict[str, float], count: float) -> None:
    """Add ``count`` operations' worth of each consumer's work in ``per_operation`` to ``host``."""
    for where, work in per_operation.items():
        host[where] = host.get(where, 0.0) + work * count


class _Request:
    """The state of one request between its phases (callbacks, no process)."""

    __slots__ = ("plan", "demand", "done", "alive", "cpu_done", "job", "waited", "pending", "held", "streaming",
                 "peer_parts", "peer_latency_s", "cpu_only", "arrival", "calls")

    def __init__(self, plan: RequestPlan, demand: Demand, done, alive, cpu_done=None, job: int = -1,
                 waited=None, peer_parts: tuple = (), peer_latency_s: float = 0.0, cpu_only: bool = False,
                 arrival: Arrival | None = None, calls=None):
        self.plan = plan
        self.demand = demand
        self.done = done
        self.alive = alive
        self.cpu_done = cpu_done
        self.job = job
        self.waited = waited
        self.pending: list = []
        self.held: list = []
        """The software resources (``Slots``) it holds now."""
        self.streaming = 0
        """Activities of the network stream still running."""
        self.peer_parts = peer_parts
        """What the other end adds to the stream (a modelled client: its NIC and its CPUs), (node, work, rate)."""
        self.peer_latency_s = peer_latency_s
        self.cpu_only = cpu_only
        self.arrival = plan.alone if arrival is None else arrival
        self.calls = calls
        """Its calls to other workloads' services (a ``CallPlan``), if any."""

    def cpu_phase(self) -> None:
        plan = self.plan
        _, guest, host = plan.cpu_work(self.demand, self.arrival)
        consumer = plan.consumer
        speed = consumer.core_speed
        rate = plan.threads * speed
        if plan.locks:  # the held fractions come last, one resource after another
            held = sum(fraction for _, fraction, _ in plan.locks)
            parts = [(consumer.node, guest * (1.0 - held), rate, None)]
            parts += [(consumer.node, guest * fraction, rate, (slots, through_disk))
                      for slots, fraction, through_disk in plan.locks]
        else:
            parts = [(consumer.node, guest, rate, None)]
        parts += [(plan.layer_nodes[where], work, speed, None) for where, work in host.items()]
        self.pending = [part for part in parts if part[1] > 0]
        self._next_cpu_part()

    def _next_cpu_part(self, _activity=None) -> None:
        if not self.alive():
            return
        if not self.pending:
            self.after_cpu()
            return
        node, work, max_rate, lock = self.pending.pop(0)
        if lock is None:
            node.submit(work, max_rate=max_rate, on_done=self._next_cpu_part)
            return
        slots, through_disk = lock
        since = self.plan.env.now
        slots.take(self.job, lambda: self._holding(slots, through_disk, node, work, max_rate, since))

    def _holding(self, slots, through_disk: bool, node, work: float, max_rate: float, since: float) -> None:
        if self.waited is not None:
            self.waited(self.plan.env.now - since)
        self.held.append(slots)
        node.submit(work, max_rate=max_rate, on_done=self._next_cpu_part if through_disk else self._held_part_done)

    def _held_part_done(self, activity) -> None:
        self.held.pop().give_back()
        self._next_cpu_part(activity)

    def _give_back_held(self) -> None:
        """After the disk operations: what was held through them is free."""
        while self.held:
            self.held.pop().give_back()

    def after_cpu(self) -> None:
        delay = self.plan.op_latency_s(self.demand)
        if delay > 0:
            self.plan.env.timeout(delay).callbacks.append(self._cpu_over)
        else:
            self._cpu_over()

    def _cpu_over(self, _event=None) -> None:
        if self.cpu_done is not None:
            self.cpu_done()
        if self.cpu_only:
            if self.alive():
                self.done()
            return
        if self.calls is not None and self.alive():
            # Calls after the request's own CPU work (its handler decides what to ask), before its disk I/O.
            self.calls.run(self.job, self.swap_phase)
            return
        self.swap_phase()

    def swap_phase(self, _event=None) -> None:
        """Page back in, one 4 KiB read at a time, what the host swapped of the memory it touches."""
        if not self.alive():
            return
        plan = self.plan
        if not plan.swap_ops:
            self.disk_phase()
            return
        swap = plan.swap
        swap.node.submit(plan.swap_ops / swap.ops_per_s, max_rate=1.0, on_done=self._swap_latency)

    def _swap_latency(self, _activity) -> None:
        plan = self.plan
        plan.env.timeout(plan.swap_ops * plan.swap.latency_s).callbacks.append(self.disk_phase)

    def disk_phase(self, _event=None) -> None:
        if not self.alive():
            return
        plan, d = self.plan, self.demand
        if d.disk_ops and plan.remote is not None:
            plan.remote.run(plan.env, d.disk_ops, d.disk_bytes, d.disk_sequential, self.alive, self.remote_done)
            return
        if not d.disk_ops or plan.disk is None:
            self.net_phase()
            return
        work = d.disk_ops * plan.disk_device_s(d)
        # One operation at a time: the request never holds more than the whole device.
        plan.disk.node.submit(work, max_rate=plan.disk_rate(d), on_done=self._disk_latency)

    def _disk_latency(self, _activity) -> None:
        plan, d = self.plan, self.demand
        delay = d.disk_ops * (plan.disk.latency_s + plan.path.disk.latency_s + self.arrival.disk_wake_s)
        plan.env.timeout(delay).callbacks.append(self.net_phase)

    def remote_done(self) -> None:
        """The remote disk's replicas that the operations wait for are done: the path's own latency, then on."""
        plan, d = self.plan, self.demand
        delay = d.disk_ops * (plan.path.disk.latency_s + self.arrival.disk_wake_s)
        plan.env.timeout(delay).callbacks.append(self.net_phase)

    def net_phase(self, _event=None) -> None:
        if not self.alive():
            return
        if self.held:
            self._give_back_held()
        plan, d = self.plan, self.demand
        if not d.net_transactions or plan.nic is None:
            self.done()
            return
        parts = plan.stream_parts(d, plan.peer_ports) + list(self.peer_parts)
        if not parts:
            self._net_latency(None)
            return
        # The packets after the first stream through the CPUs and the wires at once.
        self.streaming = len(parts)
        for node, work, max_rate in parts:
            node.submit(work, max_rate=max_rate, on_done=self._streamed)

    def _streamed(self, _activity) -> None:
        self.streaming -= 1
        if not self.streaming:
            self._net_latency(None)

    def _net_latency(self, _activity) -> None:
        plan, d = self.plan, self.demand
        # A transaction is a round trip: the NIC's one-way latency twice, plus what the path adds
        # (and, with a modelled client, what the client's stack adds).
        delay = d.net_transactions * (2.0 * plan.nic.latency_s + plan.path.net.latency_s + self.peer_latency_s
                                      + self.arrival.net_wake_s)
        plan.env.timeout(delay).callbacks.append(lambda _e: self.done() if self.alive() else None)
