"""The clients of a workload, modelled: a load generator on another host that pays for its requests.

A benchmark's clients are not free: each request costs the load generator CPU
(building it, its system calls, its share of the network stack), and its bytes
leave and enter through the generator's own NIC. When a workload names a
``client``, every request first runs the client's part in the client's consumer
(a host, VM or container on another host), contending there with whatever else
runs: its CPU demand and operations, and the first packet of each transaction
each way through the client's stack. Then it reaches the server. The packets
after the first stream through both ends at once: the server's NIC and CPUs
and the client's NIC and CPUs, each stage shared with everything else on it,
the slowest setting the pace (each NIC shares its bandwidth fairly among its
own flows). The round trip is the server NIC's two one-way latencies as
before (a measured round trip between two hosts already holds both ends),
plus what the client's stack adds to a transaction (a client in a VM: its
virtio path, and the wake-ups of its threads that the request found idle).

With a ``network`` section the two NICs are no longer separate stages: each
direction of the wire's bytes is one flow over the route between the two
hosts, both hosts' links and the switch links included
(``components.network``), and the latency of the route's links beyond the
server's own adds to the round trip.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from .requests import Breakdown, Demand, RequestPlan


class ClientSide:
    """Runs the client's part of each request of one workload, and knows what it adds to the server's part."""

    def __init__(self, consumer, cpu: Callable[[], float], template: Demand, plan: RequestPlan | None,
                 threads: int):
        self.consumer = consumer
        self.cpu = cpu
        """Draws the client's CPU work of one request (reference-core seconds)."""
        self.template = template
        """The client's demand less its CPU: its operations, and the server's transactions mirrored."""
        self.plan = plan
        """How the client's part runs at its consumer (its stack's costs, its NIC); None: CPU only."""
        self.threads = threads
        streams = plan is not None and plan.nic is not None and template.net_transactions > 0
        self.streams = streams
        """Its requests' transactions stream through a NIC (the client's part of the packets' stream counts)."""
        self.fabric = plan.nic.fabric if streams else None
        """Under a network, its Fabric: the server's route to the client carries the wire's bytes."""
        wire = self.fabric is None
        self.stream_parts = tuple(plan.stream_parts(template, wire=wire)) if streams else ()
        """The client's stages of the packets' stream: (node, work, max rate) of its NIC (without a network)
        and CPUs."""
        self._routes: dict[str, tuple] = {}
        self.latency_s = plan.path.net.latency_s if streams else 0.0
        """What the client's stack adds to each transaction's round trip, wake-ups apart."""

    def run(self, job: int, alive: Callable[[], bool], then: Callable[[Breakdown, float], None]) -> None:
        """Run the client's part of one request, then call ``then(breakdown of that part alone, wake_s)``.

        ``wake_s`` is the delay per transaction of the client stack's wake-ups that the request found idle.
        """
        demand = replace(self.template, cpu_s=self.cpu())
        if self.plan is None:
            rate = self.threads * self.consumer.core_speed
            alone = Breakdown.native(demand.cpu_s / rate)
            if demand.cpu_s > 0.0:
                self.consumer.node.submit(demand.cpu_s, max_rate=rate, on_done=lambda _activity: then(alone, 0.0))
            else:
                then(alone, 0.0)
            return
        arrival = self.plan.arrive(demand)
        alone = self.plan.cpu_breakdown(demand, arrival)
        wake_s = arrival.net_wake_s if self.streams else 0.0
        self.plan.start(demand, lambda: then(alone, wake_s), alive=alive, job=job, cpu_only=True, arrival=arrival)

    def route_to(self, server_path: str) -> tuple[tuple | None, float]:
        """Under a network, the stages from the server at ``server_path`` to the client and back (its
        ``peer_ports``), and the propagation latency per transaction they add to the server's own link's, both
        ways; (None, 0) without a network."""
        if self.fabric is None:
            return None, 0.0
        found = self._routes.get(server_path)
        if found is None:
            client = self.consumer.path
            out, back = self.fabric.between(server_path, client), self.fabric.between(client, server_path)
            own = self.fabric.outside(server_path, True).latency_s
            found = self._routes[server_path] = ((out, back), out.latency_s + back.latency_s - 2.0 * own)
        return found

    def stream_breakdown(self, server_plan: RequestPlan, server: Demand, wake_s: float = 0.0) -> Breakdown:
        """What the client adds to the server request's time alone: its stack's latency per transaction (with
        ``wake_s``, the wake-ups it met), and the time by which its slowest stage of the packets' stream
        outlasts the server's. Under a network, the server's wire stage is the route to the client and back,
        and the route's latency beyond the server's own link is the wire's."""
        if not self.streams or server_plan.nic is None:
            return Breakdown.native(0.0)
        virtualization = server.net_transactions * (self.latency_s + wake_s)
        wire, cpu, server_native, bare_wire = server_plan.stream_stages_s(server)
        own_wire, own_cpu, own_native, own_bare_wire = self.plan.stream_stages_s(self.template,
                                                                                  wire=self.fabric is None)
        ports, extra_s = self.route_to(server_plan.consumer.path)
        if ports is not None:
            # The server's own breakdown holds its wire to its switch; the route to the client may be slower.
            route_wire, _, _, route_bare = server_plan.stream_stages_s(server, ports)
            own_wire, own_bare_wire = max(own_wire, route_wire), max(own_bare_wire, route_bare)
        server_slowest, slowest = max(wire, cpu), max(own_wire, own_cpu)
        io = native = 0.0
        if slowest > server_slowest:
            if own_wire >= own_cpu:
                io = slowest - server_slowest
            else:
                native = min(own_native, slowest - server_slowest)
                virtualization += slowest - server_slowest - native
        bare = max(0.0, max(own_native, own_bare_wire) - max(server_native, bare_wire))
        if extra_s:
            io += server.net_transactions * extra_s
            bare += server.net_transactions * extra_s
        return Breakdown(native, virtualization, io, bare)


def mirrored(template: Demand, server: Demand) -> Demand:
    """The client's demand template with the server's transactions, the two messages swapped.

    The server's response is what the client receives and its request what the client sends.
    """
    return replace(template, net_transactions=server.net_transactions, net_bytes=server.net_bytes,
                   net_request_bytes=server.net_request_bytes, net_receive=not server.net_receive)
