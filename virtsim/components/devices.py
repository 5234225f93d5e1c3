"""Disks and NICs: shared rate resources on the same fair-share mechanism as CPUs.

A disk's capacity is one device-second per second: an operation occupies it for
``max(1/IOPS, bytes/bandwidth)`` seconds, so random small operations are bounded
by IOPS and large sequential ones by bandwidth, and concurrent streams share
the device fairly. A NIC's capacity is its line rate in bytes per second,
shared among flows. Every consumer that uses a device gets its own node in the
device's tree (weighted equally), capped by its I/O path's ceilings, so a
noisy neighbour on storage or network is simulated, not assumed.

A consumer's requests see a device through a :class:`DeviceShare`: its node in
the device's tree, capped by the consumer's I/O path, and the device's numbers
as that path sees them (``disk_share``, ``nic_share``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import simpy

from ..engine import RateResource, ShareNode
from ..model.packets import Link


class _Device:
    """A host device as a sharing domain, with one node per consumer that uses it."""

    def __init__(self, env: simpy.Environment, host: str, spec, capacity: float):
        self.spec = spec
        self.name = spec.name
        self.resource = RateResource(env, capacity, name=f"{host}/{spec.name}")
        self._nodes: dict[str, ShareNode] = {}

    @property
    def nodes(self) -> dict[str, ShareNode]:
        """The consumers' nodes on this device, by consumer path (or cache)."""
        return self._nodes

    def node_for(self, consumer_path: str, cap: float = math.inf) -> ShareNode:
        """The consumer's node on this device, at most ``cap`` (and the device's capacity)."""
        cap = min(self.resource.capacity, cap)
        node = self._nodes.get(consumer_path)
        if node is None:
            node = self._nodes[consumer_path] = self.resource.root.add_child(consumer_path, cap=cap)
        elif cap < node.cap:  # the tightest ceiling of the consumer's paths holds
            node.set_cap(cap)
        return node


class Disk(_Device):
    """One disk of a host: one device-second per second; caps are shares of the device."""

    def __init__(self, env: simpy.Environment, host: str, spec):
        super().__init__(env, host, spec, 1.0)


class Nic(_Device):
    """One network interface of a host: its line rate in bytes per second; caps in bytes/s."""

    def __init__(self, env: simpy.Environment, host: str, spec):
        super().__init__(env, host, spec, spec.bandwidth_bytes_per_s)


@dataclass(frozen=True)
class DeviceShare:
    """A disk or NIC as one consumer's requests see it: its shared resource node and its numbers."""

    node: object
    """The ShareNode of this consumer in the device's sharing tree."""
    ops_per_s: float
    """Random operations per second (disk) or 0 (NIC)."""
    bytes_per_s: float
    latency_s: float
    request_share: float = 1.0
    """The most of the device one request can use at once (its per-request transfer rate over the bandwidth)."""
    bare_bytes_per_s: float | None = None
    """The device's own bandwidth, before any layer's factor or ceiling; None: ``bytes_per_s``."""
    bare_request_share: float = 1.0
    """``request_share`` on the bare device (the per-request rate over its own bandwidth)."""
    link: Link | None = None
    """NICs: the MTU and offloads that turn a transaction's bytes into packets."""
    ports: tuple | None = None
    """A NIC under a network (``components.network``): the stages of what the consumer sends to and receives
    from the world beyond its switch port, each a flow per use; None: ``node`` carries both ways."""
    fabric: object = None
    """The network's :class:`~virtsim.components.network.Fabric` those stages belong to, if any."""

    @property
    def bare_rate(self) -> float:
        """Bytes per second of the bare device."""
        return self.bytes_per_s if self.bare_bytes_per_s is None else self.bare_bytes_per_s


def disk_share(disk: Disk, path: str, cost, write: bool) -> DeviceShare:
    """``disk`` as the requests at ``path`` see it, reading or ``write``-ing through ``cost`` (its PathCost)."""
    spec = disk.spec
    bandwidth = spec.write_bandwidth_bytes_per_s if write else spec.bandwidth_bytes_per_s
    factor = cost.disk.other_bandwidth_factor if write else cost.disk.bandwidth_factor
    # The path's bandwidth ceiling is the share of the device it can keep busy.
    share = cost.disk.bandwidth_limit_bytes_per_s / (bandwidth * factor)
    per_request = spec.request_bandwidth_bytes_per_s
    request_share = 1.0 if per_request is None else min(1.0, per_request / (bandwidth * factor))
    bare_share = 1.0 if per_request is None else min(1.0, per_request / bandwidth)
    return DeviceShare(disk.node_for(path, share), spec.write_iops if write else spec.iops,
                       bandwidth, spec.write_latency_s if write else spec.latency_s, request_share,
                       bare_request_share=bare_share)


def nic_share(nic: Nic, path: str, cost, receive: bool) -> DeviceShare:
    """``nic`` as the requests at ``path`` see it, sending or ``receive``-ing through ``cost`` (its PathCost)."""
    spec = nic.spec
    factor = cost.net.other_bandwidth_factor if receive else cost.net.bandwidth_factor
    rate = min(spec.bandwidth_bytes_per_s * factor, cost.net.bandwidth_limit_bytes_per_s)
    return DeviceShare(nic.node_for(path, rate), 0.0, rate, spec.latency_s, bare_bytes_per_s=spec.bandwidth_bytes_per_s,
                       link=Link(spec.mtu_bytes, spec.tso, spec.gro))
