"""The network between the hosts as one flow network: the hosts' NICs and the switch links, max-min fair.

With a ``network`` section, a :class:`Fabric` replaces the hosts' NICs as
sharing domains. It holds one :class:`~virtsim.engine.flows.FlowNetwork`
with a link per directed link of the resolved network (bytes per second; a
host's own link to its switch runs at the slower of the port and its NIC, so
it *is* that NIC, one link per direction of a full-duplex cable), and, made
on first use, a *cap link* per consumer and direction where its path's
network bandwidth factor or ceiling holds it below its host's NIC (a VM
under KVM sends at most ``NIC × net.bandwidth_factor``): ``"h1/a->h1"``
carries what ``h1/a`` sends, ``"h1->h1/a"`` what it receives. A flow from VM
``a`` thus crosses ``a``'s cap link and its host's link, and the flows of all
the consumers of a host share the host's link by max-min fairness per flow
(where the NIC's tree shared it equally per consumer first).

What crosses it:

* **Traffic whose other end is not modelled** (a workload without
  ``client``): the outside world lies beyond the host's switch port. What
  the consumer sends is a flow over its outgoing cap link (if any) and its
  host's link to its switch; what it receives, one over the switch's link
  to the host and its incoming cap link. A host attached by several links
  uses its first, in the order the network lists its links.
* **A modelled client on another host**: each direction of a transaction is
  one flow over the whole route between the two consumers: the sender's cap
  link, the sender host's link, the switch links of the route, the receiver
  host's link and the receiver's cap link. The route is that of the pair of
  consumers (their paths are the ECMP key, as one connection).
* Between two consumers of the same host, no link of the network: a flow
  over their cap links, at most the host's NIC rate.
* **A remote disk** (``components.remote_storage``): a consumer's disk
  operations as flows between its host and the storage host
  (:meth:`Fabric.with_host`): the route between the two hosts, without the
  consumer's cap link (its host attaches the disk, not the guest's NIC).

A transaction's stage on the wire is two flows, one each way (the response
bytes one way, the request bytes the other, each with its frames' headers
and framing); the stage is done when both are. Without a network the one
NIC carried both messages' frames at the path's rate, so a transaction whose
two messages both carry bytes streams faster over a full-duplex fabric.

Each transaction also waits for the links' propagation latency, both ways:
the host's own link for traffic to the outside world, the whole route's
links with a modelled client (both with a latency of 0 unless the network
section gives one).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from ..engine.flows import Flow, FlowNetwork
from ..model import network as net
from ..model.packets import Link as PacketLink
from .devices import DeviceShare

INF = math.inf


class Stage:
    """One direction of a consumer's traffic as a device node: ``submit`` starts a flow over its links.

    It has the interface of a sharing node's ``submit`` (``work`` bytes,
    ``max_rate``, ``on_done``), so a request's network phase starts it as it
    would a NIC's. ``rate`` is the most it moves alone (its slowest link), ``bare_rate`` the same without the
    consumers' cap links.
    """

    __slots__ = ("fabric", "links", "owners", "max_rate", "rate", "bare_rate", "latency_s")

    def __init__(self, fabric: Fabric, links: tuple, owners: tuple[str, ...], max_rate: float, latency_s: float):
        self.fabric = fabric
        self.links = links
        self.owners = owners
        """The consumers whose failure ends its flows."""
        self.max_rate = max_rate
        """A limit of its own (a flow over no link: the host's NIC rate); inf otherwise."""
        self.rate = min([max_rate, *(link.capacity for link in links)])
        self.bare_rate = min([max_rate, *(link.capacity for link in links if link.name in fabric.ends)])
        """The most it moves alone on bare metal: its slowest link of the network (no consumer's cap link)."""
        self.latency_s = latency_s
        """One-way propagation latency of its links, seconds."""

    def submit(self, work: float, max_rate: float = INF, on_done: Callable | None = None, data=None) -> Flow:
        """Move ``work`` bytes over the stage's links (at most ``max_rate`` and its own limit)."""
        return self.fabric._start(self, work, min(max_rate, self.max_rate), on_done, data)


class FabricLoad:
    """A steady load of ``rate`` bytes per second over a stage, changed with :meth:`set_rate` (a traced NIC load).

    Each change ends the flow that ran at the old rate and starts one limited to the new rate: O(1) flows per
    change. A flow ended by a failure stays ended until the rate falls to 0, as a NIC's fluid load does.
    """

    def __init__(self, stage: Stage, horizon_s: float):
        self.stage = stage
        self.max_rate = stage.rate
        self.rate = 0.0
        self._horizon_s = horizon_s
        self._flow: Flow | None = None

    def set_rate(self, rate: float) -> None:
        rate = min(rate, self.max_rate)
        if rate == self.rate:
            return
        self.rate = rate
        flow = self._flow
        if flow is not None and flow.cancelled and rate > 0.0:
            return  # ended by a failure
        if flow is not None:
            self.stage.fabric.cancel_flow(flow)
            self._flow = None
        if rate > 0.0:
            # Never completes: at its rate for longer than any run.
            self._flow = self.stage.submit(self._horizon_s * self.max_rate, max_rate=rate)


class Fabric:
    """The network of a run: its flow network, the routes between hosts, and the stages consumers send by.

    ``spec`` is the resolved ``NetworkSpec``; ``platform`` gives each
    consumer's host and path costs; ``hosts`` are the resolved host specs
    (for the NIC each host attaches through).
    """

    def __init__(self, env, spec, platform, hosts):
        self.env = env
        self.platform = platform
        self.network = net.Network.from_spec(spec)
        self.flows = FlowNetwork(env, name="network")
        graph = self.network.graph
        self.ends: dict[str, tuple[str, str]] = {}
        """Each network link resource and the nodes it joins (a half-duplex link as written)."""
        for a, b, _ in net.links_of(graph):
            for u, v in ((a, b), (b, a)):
                data = graph.edges[u, v]
                name = data["link"]
                if name not in self.flows.links:
                    self.flows.add_link(name, data["bandwidth_bytes_per_s"])
                    self.ends[name] = (u, v)
        self.network_links = tuple(self.ends)
        by_name = {host.name: host for host in hosts}
        self.nic: dict[str, object] = {}
        """The NIC spec each attached host reaches the network by."""
        for attached in spec.hosts:
            nics = by_name[attached.name].hardware.nics
            self.nic[attached.name] = next((n for n in nics if n.name == attached.nic), nics[0])
        self._stages: dict[tuple, Stage] = {}
        self._live: dict[str, dict[Flow, None]] = {}
        """The live flows of each consumer (its own and its peers')."""
        self._owners: dict[Flow, tuple[str, ...]] = {}

    # -- links and routes ---------------------------------------------------------------------

    def attached(self, host: str) -> bool:
        """True if ``host`` is a host of the network."""
        return host in self.nic

    def own_link(self, host: str, outbound: bool) -> str:
        """The link resource between ``host`` and its switch, leaving it (``outbound``) or reaching it."""
        graph = self.network.graph
        switch = next(iter(graph.successors(host)))
        return graph.edges[(host, switch) if outbound else (switch, host)]["link"]

    def route(self, src: str, dst: str, key: object = None) -> tuple[tuple[str, ...], float]:
        """The link resources a flow from host ``src`` to host ``dst`` crosses (``key`` picks its equal-cost
        path), and their one-way latency, seconds."""
        route = self.network.route(src, dst, key)
        return route.links, route.latency_s

    def _latency(self, link: str) -> float:
        u, v = self.ends[link]
        return self.network.graph.edges[u, v]["latency_s"]

    def cap_link(self, path: str, outbound: bool):
        """The cap link of consumer ``path`` in one direction, made on first use; None where its path does not
        hold it below its host's NIC."""
        key = ("cap", path, outbound)
        if key in self._stages:
            return self._stages[key]
        consumer = self.platform.consumer(path)
        nic = self.nic[consumer.host].bandwidth_bytes_per_s
        cost = self.platform.paths[path].net
        factor = cost.bandwidth_factor if outbound else cost.other_bandwidth_factor
        rate = min(nic * factor, cost.bandwidth_limit_bytes_per_s)
        link = None
        if rate < nic:
            name = net.link_id(path, consumer.host) if outbound else net.link_id(consumer.host, path)
            link = self.flows.add_link(name, rate)
        self._stages[key] = link
        return link

    # -- stages -------------------------------------------------------------------------------

    def outside(self, path: str, outbound: bool) -> Stage:
        """What consumer ``path`` sends to (``outbound``) or receives from the world beyond its switch port."""
        key = ("outside", path, outbound)
        stage = self._stages.get(key)
        if stage is None:
            host = self.platform.consumer(path).host
            own = self.flows.link(self.own_link(host, outbound))
            cap = self.cap_link(path, outbound)
            links = (own,) if cap is None else ((cap, own) if outbound else (own, cap))
            stage = self._stages[key] = Stage(self, links, (path,), INF, self._latency(own.name))
        return stage

    def between(self, src: str, dst: str) -> Stage:
        """What consumer ``src`` sends to consumer ``dst`` (on another host, or on its own)."""
        key = ("between", src, dst)
        stage = self._stages.get(key)
        if stage is None:
            a, b = self.platform.consumer(src).host, self.platform.consumer(dst).host
            first, last = self.cap_link(src, True), self.cap_link(dst, False)
            caps = [link for link in (first,) if link is not None]
            ends = [link for link in (last,) if link is not None]
            if a == b:
                stage = Stage(self, (*caps, *ends), (src, dst), self.nic[a].bandwidth_bytes_per_s, 0.0)
            else:
                names, latency_s = self.route(a, b, f"{src}|{dst}")
                links = (*caps, *(self.flows.link(name) for name in names), *ends)
                stage = Stage(self, links, (src, dst), INF, latency_s)
            self._stages[key] = stage
        return stage

    def with_host(self, path: str, host: str, outbound: bool) -> Stage:
        """What consumer ``path``'s host sends for it to host ``host`` itself (``outbound``: to a storage host's
        target) or receives from it: the route between the two hosts, without the consumer's cap link (a VM's
        image or a container's volume is attached by its host, not through the guest's NIC); on its own host,
        no link, at the NIC's rate."""
        key = ("host", path, host, outbound)
        stage = self._stages.get(key)
        if stage is None:
            own = self.platform.consumer(path).host
            if own == host:
                stage = Stage(self, (), (path,), self.nic[own].bandwidth_bytes_per_s, 0.0)
            else:
                names, latency_s = self.route(*((own, host) if outbound else (host, own)), f"{path}|{host}")
                stage = Stage(self, tuple(self.flows.link(name) for name in names), (path,), INF, latency_s)
            self._stages[key] = stage
        return stage

    def nic_share(self, path: str, cost, receive: bool) -> DeviceShare:
        """The host's NIC as the requests at ``path`` see it through the fabric (``devices.nic_share``'s
        counterpart): the NIC's numbers, and the two stages of its traffic to the world beyond its switch."""
        spec = self.nic[self.platform.consumer(path).host]
        factor = cost.net.other_bandwidth_factor if receive else cost.net.bandwidth_factor
        rate = min(spec.bandwidth_bytes_per_s * factor, cost.net.bandwidth_limit_bytes_per_s)
        out, back = self.outside(path, True), self.outside(path, False)
        return DeviceShare(None, 0.0, rate, spec.latency_s + out.latency_s,
                           bare_bytes_per_s=spec.bandwidth_bytes_per_s,
                           link=PacketLink(spec.mtu_bytes, spec.tso, spec.gro), ports=(out, back), fabric=self)

    def transfer(self, src_path: str, dst_path: str, nbytes: float, key: object = None,
                 on_done: Callable | None = None) -> Flow:
        """Move ``nbytes`` from consumer ``src_path`` to consumer ``dst_path`` over their route now; returns the flow.

        ``key`` picks the route among equal-cost ones (ECMP); None: the pair's own route, as
        :meth:`between`. ``on_done(flow)`` is called when it arrives; a failure of either end cancels it.
        """
        stage = self.between(src_path, dst_path)
        if key is not None and stage.links and self.network.ecmp:
            a, b = self.platform.consumer(src_path).host, self.platform.consumer(dst_path).host
            names, latency_s = self.route(a, b, key)
            first, last = self.cap_link(src_path, True), self.cap_link(dst_path, False)
            links = (*(() if first is None else (first,)), *(self.flows.link(n) for n in names),
                     *(() if last is None else (last,)))
            stage = Stage(self, links, (src_path, dst_path), INF, latency_s)
        return stage.submit(nbytes, on_done=on_done, data=key)

    # -- flows --------------------------------------------------------------------------------

    def _start(self, stage: Stage, work: float, max_rate: float, on_done, data) -> Flow:
        if not stage.links and max_rate == INF:
            max_rate = stage.rate
        live = self._live
        owners = stage.owners

        def done(flow: Flow) -> None:
            for owner in owners:
                del live[owner][flow]
            del self._owners[flow]
            if on_done is not None:
                on_done(flow)

        flow = self.flows.start(work, stage.links, max_rate=max_rate, on_done=done, data=data)
        for owner in owners:
            live.setdefault(owner, {})[flow] = None
        self._owners[flow] = owners
        return flow

    def cancel(self, paths, host: str | None = None) -> None:
        """End the flows of the consumers ``paths`` (failed), or with ``host`` of every consumer on it."""
        if host is not None:
            prefix = host + "/"
            paths = [p for p in self._live if p == host or p.startswith(prefix)]
        for path in paths:
            flows = self._live.get(path)
            if not flows:
                continue
            for flow in list(flows):
                self.cancel_flow(flow)

    def cancel_flow(self, flow: Flow) -> None:
        """End one flow now (it does not arrive)."""
        self.flows.cancel(flow)
        for owner in self._owners.pop(flow, ()):
            del self._live[owner][flow]

    # -- accounting ---------------------------------------------------------------------------

    def link_stats(self) -> dict[str, tuple[float, float, float]]:
        """Per network link (cap links left out): (bytes, ∫ capacity dt, seconds saturated) so far."""
        wanted = self.ends
        return {row["link"]: (row["bytes"], row["capacity_bytes"], row["saturated_s"])
                for row in self.flows.link_stats() if row["link"] in wanted}

    def links_table(self, since: dict, until: dict) -> dict[str, list]:
        """Columns of ``links.csv`` between two :meth:`link_stats` snapshots (the warm-up and the end)."""
        columns: dict[str, list] = {k: [] for k in ("link", "from", "to", "capacity_bytes_per_s", "bytes",
                                                     "utilization", "saturated_s")}
        for name in self.network_links:
            b1, c1, s1 = until[name]
            b0, c0, s0 = since.get(name, (0.0, 0.0, 0.0))
            carried, offered = b1 - b0, c1 - c0
            u, v = self.ends[name]
            columns["link"].append(name)
            columns["from"].append(u)
            columns["to"].append(v)
            columns["capacity_bytes_per_s"].append(self.flows.links[name].capacity)
            columns["bytes"].append(carried)
            columns["utilization"].append(carried / offered if offered > 0.0 else 0.0)
            columns["saturated_s"].append(s1 - s0)
        return columns


__all__ = ["Fabric", "FabricLoad", "Stage"]
