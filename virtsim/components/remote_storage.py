"""A disk on another host: a VM's image or a container's volume on a storage host, reached over the network.

A consumer whose ``storage`` names a remote disk (``RemoteStorageSpec``) does its disk operations there. Each
operation, at queue depth 1 per request as a local one, is

1. the request over the route from the requester's host to the storage host
   (:meth:`Fabric.with_host <virtsim.components.network.Fabric.with_host>`,
   the hosts' links: the host attaches the disk, so a VM's or container's own
   network cap does not hold it): a command header of
   :data:`COMMAND_HEADER_BYTES`, and a write's data; then the route's one-way
   latency;
2. the device service on the storage host's disk: ``max(1/IOPS, bytes/bandwidth)``
   device-seconds (sequential: the transfer alone) in the requester's own node
   of that disk's tree, sharing it with the host's local users and every other
   remote one, then the device's latency;
3. the response back: a status header of :data:`COMMAND_HEADER_BYTES`, and a
   read's data; then the route's latency back.

A request's operations go as one flow, one device activity and one flow (their
sum; alone, the same time as one after another), so its cost stays O(1) events.
A replicated target (several disks) sends a write to every replica at once; it
is done when all are (``write: all``), or a majority (``quorum``: two of three).
A read goes to the first replica listed (the one written first is the primary,
as a client of a primary-copy protocol reads).

The target's software (an iSCSI or NVMe-oF target, an NFS server) costs the
storage host no CPU here: an approximation, not a measured zero; the bytes on
the wire are the payload and the command headers, without TCP/IP framing. The
requester's own layers charge their disk path costs as for a local disk (CPU in
the CPU phase, the path's added latency after the operations).
"""

from __future__ import annotations

from dataclasses import dataclass

from .devices import DeviceShare, disk_share

COMMAND_HEADER_BYTES = 48
"""Bytes of a command (and of its response) on the wire besides the data: an iSCSI PDU's Basic Header Segment,
48 bytes (RFC 7143, section 11.2.1, "Basic Header Segment (BHS)"), for the SCSI Command and the SCSI Response
PDUs alike. NVMe/TCP's command capsule is 72 bytes (an 8-byte PDU header and a 64-byte submission queue entry)
and its response 24: the same order."""

__all__ = ["COMMAND_HEADER_BYTES", "RemoteDisk", "RemoteTarget", "remote_disk"]


@dataclass(frozen=True)
class RemoteTarget:
    """One replica: the stages to its host and back, and the requester's share of its disk there."""

    host: str
    out: object
    """Stage from the requester to the storage host."""
    back: object
    """Stage from the storage host back to the requester."""
    disk: DeviceShare
    """The storage host's disk as the requester's operations see it (the storage host's own path: no layer)."""

    def device_s(self, nbytes: float, sequential: bool) -> float:
        """Device-seconds of one operation of ``nbytes`` on the remote disk."""
        transfer = nbytes / self.disk.bytes_per_s
        per_op = 0.0 if sequential else 1.0 / self.disk.ops_per_s
        return per_op if per_op > transfer else transfer

    def device_rate(self, nbytes: float, sequential: bool) -> float:
        """The share of the remote device one operation can use (a per-request transfer limit, else all)."""
        share = self.disk.request_share
        if share >= 1.0:
            return 1.0
        per_op = 0.0 if sequential else 1.0 / self.disk.ops_per_s
        return share if nbytes / self.disk.bytes_per_s > per_op else 1.0

    def latency_s(self) -> float:
        """What one operation waits besides its transfers and service: the route both ways and the device."""
        return self.out.latency_s + self.back.latency_s + self.disk.latency_s


@dataclass(frozen=True)
class RemoteDisk:
    """A consumer's remote disk for one direction (read or write): its replicas and how many a write waits for."""

    targets: tuple[RemoteTarget, ...]
    write: bool
    needed: int
    """Replicas an operation waits for: 1 for a read, all or a majority for a write."""

    @property
    def used(self) -> tuple[RemoteTarget, ...]:
        """The replicas an operation goes to: every one for a write, the first for a read."""
        return self.targets if self.write else self.targets[:1]

    def request_bytes(self, nbytes: float) -> float:
        """Bytes of one operation towards the storage host."""
        return COMMAND_HEADER_BYTES + (nbytes if self.write else 0.0)

    def response_bytes(self, nbytes: float) -> float:
        """Bytes of one operation's response."""
        return COMMAND_HEADER_BYTES + (0.0 if self.write else nbytes)

    def alone_s(self, target: RemoteTarget, nbytes: float, sequential: bool) -> float:
        """One operation alone at ``target``: request, service, response and latencies, in sequence.

        A write's copies leave together: those whose routes start on the same link (the requester's host's own)
        share it equally, which holds exactly where that link is their bottleneck."""
        out_rate = target.out.rate
        if len(self.used) > 1 and target.out.links:
            first = target.out.links[0]
            sharing = sum(1 for t in self.used if t.out.links and t.out.links[0] is first)
            out_rate = min(out_rate, first.capacity / sharing)
        return (self.request_bytes(nbytes) / out_rate
                + target.device_s(nbytes, sequential) / min(target.device_rate(nbytes, sequential), target.disk.node.cap)
                + self.response_bytes(nbytes) / target.back.rate + target.latency_s())

    def alone_op_s(self, nbytes: float, sequential: bool) -> float:
        """One operation alone: at the replica that decides it (the ``needed``-th fastest)."""
        times = sorted(self.alone_s(t, nbytes, sequential) for t in self.used)
        return times[self.needed - 1]


    def run(self, env, ops: float, nbytes: float, sequential: bool, alive, on_done) -> None:
        """Do ``ops`` operations of ``nbytes`` now; ``on_done()`` when the replicas they wait for are done.

        ``alive()`` is asked between steps: a request whose job failed stops."""
        out_bytes, back_bytes = ops * self.request_bytes(nbytes), ops * self.response_bytes(nbytes)
        left = [self.needed]

        def replica_done(_event) -> None:
            left[0] -= 1
            if left[0] == 0 and alive():
                on_done()

        for target in self.used:
            steps = _Steps(env, target, ops, ops * target.device_s(nbytes, sequential),
                           target.device_rate(nbytes, sequential), back_bytes, alive, replica_done)
            target.out.submit(out_bytes, on_done=steps.sent)


class _Steps:
    """One replica's steps after the request is sent: the route's latency, the device's service and latency,
    the response, the route's latency back (``ops`` operations' worth of each)."""

    __slots__ = ("env", "target", "ops", "device", "rate", "back_bytes", "alive", "done")

    def __init__(self, env, target: RemoteTarget, ops: float, device: float, rate: float, back_bytes: float,
                 alive, done):
        self.env, self.target, self.ops, self.device, self.rate = env, target, ops, device, rate
        self.back_bytes, self.alive, self.done = back_bytes, alive, done

    def sent(self, _flow) -> None:
        if self.alive():
            self.env.timeout(self.ops * self.target.out.latency_s).callbacks.append(self._arrived)

    def _arrived(self, _event) -> None:
        if self.alive():
            self.target.disk.node.submit(self.device, max_rate=self.rate, on_done=self._served)

    def _served(self, _activity) -> None:
        if self.alive():
            self.env.timeout(self.ops * self.target.disk.latency_s).callbacks.append(self._answer)

    def _answer(self, _event) -> None:
        if self.alive():
            self.target.back.submit(self.back_bytes, on_done=self._answered)

    def _answered(self, _flow) -> None:
        self.env.timeout(self.ops * self.target.back.latency_s).callbacks.append(self.done)


def remote_disk(platform, path: str, storage, write: bool) -> RemoteDisk:
    """The remote disk ``storage`` (a ``RemoteStorageSpec``) as consumer ``path`` reads or ``write``-s it."""
    fabric = platform.fabric
    targets = []
    for host, name in storage.targets:
        disks = platform.disks[host]
        disk = next((d for d in disks if d.name == name), disks[0]) if name else disks[0]
        share = disk_share(disk, path, platform.paths[host], write)
        targets.append(RemoteTarget(host, fabric.with_host(path, host, True), fabric.with_host(path, host, False),
                                    share))
    needed = 1
    if write:
        needed = len(targets) if storage.write == "all" else len(targets) // 2 + 1
    return RemoteDisk(tuple(targets), write, needed)
