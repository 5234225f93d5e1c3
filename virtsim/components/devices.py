"""Disks and NICs: shared rate resources on the same fair-share mechanism as CPUs.

A disk's capacity is one device-second per second: an operation occupies it for
``max(1/IOPS, bytes/bandwidth)`` seconds, so random small operations are bounded
by IOPS and large sequential ones by bandwidth, and concurrent streams share
the device fairly. A NIC's capacity is its line rate in bytes per second,
shared among flows. Every consumer that uses a device gets its own node in the
device's tree (weighted equally), capped by its I/O path's ceilings, so a
noisy neighbour on storage or network is simulated, not assumed.
"""

from __future__ import annotations

import math

import simpy

from ..engine import RateResource, ShareNode


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
