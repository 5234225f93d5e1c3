"""The clients of a workload, modelled: a load generator on another host that pays for its requests.

A benchmark's clients are not free: each request costs the load generator CPU
(building it, its system calls, its share of the network stack), and its bytes
leave and enter through the generator's own NIC. When a workload names a
``client``, every request first runs the client's demand in the client's
consumer (a host, VM or container on another host), contending there with
whatever else runs; then it reaches the server. Its network transactions cross
both NICs: the bytes go through the server's share and the client's share at
once, and the transfer is over when both are through, so it proceeds at the
slower of the two (each NIC still shares its bandwidth fairly among its own
flows). The round trip is the server NIC's two one-way latencies as before
(a measured round trip between two hosts already holds both ends), plus what
the client's stack adds to a transaction (a client in a VM: its virtio path).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from ..components.devices import DeviceShare
from .requests import Breakdown, Demand, RequestPlan


class ClientSide:
    """Runs the client's part of each request of one workload, and knows what the server's part adds."""

    def __init__(self, env, consumer, cpu: Callable[[], float], template: Demand, plan: RequestPlan | None,
                 nic: DeviceShare | None, threads: int):
        self.env = env
        self.consumer = consumer
        self.cpu = cpu
        """Draws the client's CPU work of one request (reference-core seconds)."""
        self.template = template
        """The client's demand less its CPU: its operations, and the server's transactions mirrored."""
        self.plan = plan
        """How the client's work runs at its consumer (its stack's costs, no device); None: CPU only."""
        self.nic = nic
        """The client's NIC as its requests see it, if the requests have network transactions."""
        self.threads = threads

    @property
    def latency_s(self) -> float:
        """What the client's stack adds to each transaction's round trip."""
        return self.plan.path.net.latency_s if self.plan is not None else 0.0

    def run(self, job: int, alive: Callable[[], bool], then: Callable[[Breakdown], None]) -> None:
        """Run the client's work of one request, then call ``then(breakdown of that work alone)``."""
        demand = replace(self.template, cpu_s=self.cpu())
        if self.plan is None:
            seconds = demand.cpu_s / (self.threads * self.consumer.core_speed)
            if demand.cpu_s > 0.0:
                self.consumer.node.submit(demand.cpu_s, max_rate=self.threads * self.consumer.core_speed,
                                          on_done=lambda _activity: then(Breakdown.native(seconds)))
            else:
                then(Breakdown.native(0.0))
            return
        alone = self.plan.breakdown(demand)
        # The plan has no NIC: its "network phase" ends at once, after the client's CPU and operations.
        self.plan.start(demand, lambda: then(alone), alive=alive, job=job)

    def transfer_breakdown(self, server: Demand, server_nic: DeviceShare | None) -> Breakdown:
        """What crossing the client's NIC adds to the server request's time alone: the slower NIC's
        transfer instead of the server's, and the client stack's latency per transaction."""
        if self.nic is None or not server.net_transactions:
            return Breakdown(0.0, 0.0, 0.0, 0.0)
        total = server.net_transactions * server.net_bytes
        virtualization = server.net_transactions * self.latency_s
        io = bare = 0.0
        if server_nic is not None and total > 0.0:
            io = total * max(0.0, 1.0 / self.nic.bytes_per_s - 1.0 / server_nic.bytes_per_s)
            bare = total * max(0.0, 1.0 / self.nic.bare_rate - 1.0 / server_nic.bare_rate)
        return Breakdown(0.0, virtualization, io, bare)


def mirrored(template: Demand, server: Demand) -> Demand:
    """The client's demand template with the server's transactions, their bytes flowing the other way."""
    return replace(template, net_transactions=server.net_transactions, net_bytes=server.net_bytes,
                   net_receive=not server.net_receive)
