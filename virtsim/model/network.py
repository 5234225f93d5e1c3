"""A network of hosts as a ``networkx`` graph: switches, links, generators and routes.

The graph is a :class:`networkx.DiGraph` with one edge per direction of every
link. Each node has a ``kind`` (``"host"`` or ``"switch"``) and a ``tier``
(0 for hosts, 1 for the switches they attach to: leaves, edge switches, a
star's switch; 2 for spines and aggregation switches; 3 for a fat-tree's
core). Each edge ``u → v`` has:

``link``
    The name of the capacity the direction uses, as a flow engine names its
    resources. A full-duplex link has one per direction (``"leaf1->spine2"``
    and ``"spine2->leaf1"``), each of the link's full bandwidth; a half-duplex
    link has one for both directions (``"leaf1<->spine2"``, written in the
    order the link was given), shared by them.
``bandwidth_bytes_per_s``, ``latency_s``, ``full_duplex``
    The link's rate, one-way latency and duplex.

Routes follow shortest paths by hop count; hosts never forward (a route goes
through switches only). With ECMP, a flow takes one of the equal-cost paths
picked by a stable hash of its key (CRC-32, the same in every process);
without, always the first in name order. Candidate paths are computed once
per (source, destination) pair, so a route costs O(path length) after that.

Plain Python and networkx: nothing here knows SimPy, pydantic or YAML. The
generators are usable on their own: ``fat_tree(4)`` is the 16-host k-ary
fat-tree of Al-Fares et al. (SIGCOMM 2008).
"""

from __future__ import annotations

import importlib
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import networkx as nx


def _nx():
    """networkx, imported when a network is first built: a run without one never loads it (its objects would
    lengthen every garbage collection of the run: +1.2 % of ps-farm's instructions at ``medium``)."""
    return importlib.import_module("networkx")

__all__ = [
    "HOST",
    "SWITCH",
    "Network",
    "Route",
    "add_host",
    "add_link",
    "add_switch",
    "fat_tree",
    "flow_hash",
    "graph_from_spec",
    "host_ports",
    "hosts_of",
    "leaf_spine",
    "leaf_spine_uplink_bandwidth",
    "link_count",
    "link_id",
    "links_of",
    "star",
    "switches_of",
    "unreachable_pairs",
]

HOST = "host"
SWITCH = "switch"

TEN_GBIT_BYTES_PER_S = 10e9 / 8
"""10 Gbit/s, the generators' default link rate (that of the default NIC, models/devices/nic-10gbe.yaml)."""


def link_id(a: str, b: str, full_duplex: bool = True) -> str:
    """The resource name of the direction ``a → b`` of a link: ``"a->b"``, or ``"a<->b"`` for a half-duplex link."""
    return f"{a}->{b}" if full_duplex else f"{a}<->{b}"


def add_host(graph: nx.DiGraph, name: str, **attributes) -> None:
    graph.add_node(name, kind=HOST, tier=0, **attributes)


def add_switch(graph: nx.DiGraph, name: str, tier: int = 1, **attributes) -> None:
    graph.add_node(name, kind=SWITCH, tier=tier, **attributes)


def add_link(graph: nx.DiGraph, a: str, b: str, bandwidth_bytes_per_s: float, latency_s: float = 0.0,
             full_duplex: bool = True) -> None:
    """Both directions of the link between ``a`` and ``b`` (nodes that exist already)."""
    if bandwidth_bytes_per_s <= 0:
        raise ValueError(f"link {a!r}–{b!r}: bandwidth must be > 0 bytes/s, got {bandwidth_bytes_per_s!r}")
    if latency_s < 0:
        raise ValueError(f"link {a!r}–{b!r}: latency must be ≥ 0 s, got {latency_s!r}")
    for node in (a, b):
        if node not in graph:
            raise ValueError(f"link {a!r}–{b!r}: no node {node!r} in the graph")
    if graph.has_edge(a, b):
        raise ValueError(f"a link between {a!r} and {b!r} exists already")
    graph.graph.setdefault("links", []).append((a, b))  # the order links were added in, each as written
    shared = link_id(a, b, full_duplex=False)
    for u, v in ((a, b), (b, a)):
        graph.add_edge(u, v, link=link_id(u, v) if full_duplex else shared,
                       bandwidth_bytes_per_s=float(bandwidth_bytes_per_s), latency_s=float(latency_s),
                       full_duplex=full_duplex)


# --- generators ------------------------------------------------------------------------------


def _positive_int(value: int, what: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{what} must be an integer ≥ {minimum}, got {value!r}")
    return value


def leaf_spine_uplink_bandwidth(hosts_per_leaf: int, spines: int, host_bandwidth_bytes_per_s: float,
                                oversubscription: float = 1.0) -> float:
    """The rate of one leaf–spine link for a leaf's ``oversubscription`` ratio.

    The ratio is a leaf's host-facing bandwidth (``hosts_per_leaf`` × the host
    link rate) over its uplink bandwidth (``spines`` × the uplink rate): 1 is
    non-blocking, 3 the common 3:1.
    """
    if oversubscription <= 0:
        raise ValueError(f"oversubscription must be > 0, got {oversubscription!r}")
    return hosts_per_leaf * host_bandwidth_bytes_per_s / (oversubscription * spines)


def leaf_spine(leaves: int, spines: int, hosts_per_leaf: int, *,
               bandwidth_bytes_per_s: float = TEN_GBIT_BYTES_PER_S, latency_s: float = 0.0,
               uplink_bandwidth_bytes_per_s: float | None = None, uplink_latency_s: float | None = None,
               oversubscription: float = 1.0, full_duplex: bool = True) -> nx.DiGraph:
    """A two-tier Clos: every leaf linked to every spine, ``hosts_per_leaf`` host ports under each leaf.

    Switches are ``leaf1`` … and ``spine1`` …; host ports ``host1`` … in leaf
    order (``host1`` … ``host<hosts_per_leaf>`` under ``leaf1``). Host links
    have ``bandwidth_bytes_per_s`` and ``latency_s``; uplinks have
    ``uplink_bandwidth_bytes_per_s`` (default: what ``oversubscription`` gives,
    :func:`leaf_spine_uplink_bandwidth`) and ``uplink_latency_s`` (default: the
    host links'). ``leaves`` × (``hosts_per_leaf`` + ``spines``) links in all.
    """
    _positive_int(leaves, "leaves")
    _positive_int(spines, "spines")
    _positive_int(hosts_per_leaf, "hosts_per_leaf")
    uplink = (uplink_bandwidth_bytes_per_s if uplink_bandwidth_bytes_per_s is not None else
              leaf_spine_uplink_bandwidth(hosts_per_leaf, spines, bandwidth_bytes_per_s, oversubscription))
    uplink_latency = uplink_latency_s if uplink_latency_s is not None else latency_s
    graph = _nx().DiGraph(kind="leaf-spine")
    for s in range(1, spines + 1):
        add_switch(graph, f"spine{s}", tier=2)
    port = 0
    for leaf in range(1, leaves + 1):
        name = f"leaf{leaf}"
        add_switch(graph, name, tier=1)
        for s in range(1, spines + 1):
            add_link(graph, name, f"spine{s}", uplink, uplink_latency, full_duplex)
        for _ in range(hosts_per_leaf):
            port += 1
            add_host(graph, f"host{port}", port=f"host{port}")
            add_link(graph, f"host{port}", name, bandwidth_bytes_per_s, latency_s, full_duplex)
    return graph


def fat_tree(k: int, *, bandwidth_bytes_per_s: float = TEN_GBIT_BYTES_PER_S, latency_s: float = 0.0,
             full_duplex: bool = True) -> nx.DiGraph:
    """The k-ary fat-tree of Al-Fares, Loukissas and Vahdat (SIGCOMM 2008), every link of one rate.

    ``k`` pods, each of k/2 edge and k/2 aggregation switches (``pod1-edge1``,
    ``pod1-agg1`` …); (k/2)² core switches (``core1`` …), core ``(i-1)·k/2 + j``
    linked to aggregation switch ``i`` of every pod; k/2 host ports under each
    edge switch, ``host1`` … in pod and edge order: k³/4 hosts, 5k²/4
    switches, 3k³/4 links. ``k`` must be even.
    """
    _positive_int(k, "k", minimum=2)
    if k % 2:
        raise ValueError(f"k must be even (a switch has k ports, half down and half up), got {k}")
    half = k // 2
    graph = _nx().DiGraph(kind="fat-tree")
    for c in range(1, half * half + 1):
        add_switch(graph, f"core{c}", tier=3)
    port = 0
    for pod in range(1, k + 1):
        aggs = [f"pod{pod}-agg{a}" for a in range(1, half + 1)]
        for a, agg in enumerate(aggs):
            add_switch(graph, agg, tier=2, pod=pod)
            for j in range(1, half + 1):
                add_link(graph, agg, f"core{a * half + j}", bandwidth_bytes_per_s, latency_s, full_duplex)
        for e in range(1, half + 1):
            edge = f"pod{pod}-edge{e}"
            add_switch(graph, edge, tier=1, pod=pod)
            for agg in aggs:
                add_link(graph, edge, agg, bandwidth_bytes_per_s, latency_s, full_duplex)
            for _ in range(half):
                port += 1
                add_host(graph, f"host{port}", port=f"host{port}", pod=pod)
                add_link(graph, f"host{port}", edge, bandwidth_bytes_per_s, latency_s, full_duplex)
    return graph


def star(n: int, *, bandwidth_bytes_per_s: float = TEN_GBIT_BYTES_PER_S, latency_s: float = 0.0,
         full_duplex: bool = True) -> nx.DiGraph:
    """One switch, ``switch``, with ``n`` host ports ``host1`` … ``host<n>``."""
    _positive_int(n, "n")
    graph = _nx().DiGraph(kind="star")
    add_switch(graph, "switch", tier=1)
    for port in range(1, n + 1):
        add_host(graph, f"host{port}", port=f"host{port}")
        add_link(graph, f"host{port}", "switch", bandwidth_bytes_per_s, latency_s, full_duplex)
    return graph


# --- reading a graph ---------------------------------------------------------------------------


def hosts_of(graph: nx.DiGraph) -> list[str]:
    """The host nodes, in the graph's order."""
    return [node for node, kind in graph.nodes(data="kind") if kind == HOST]


def switches_of(graph: nx.DiGraph) -> list[str]:
    return [node for node, kind in graph.nodes(data="kind") if kind == SWITCH]


def host_ports(graph: nx.DiGraph) -> list[str]:
    """A generator's host ports (``host1`` …), in order: where the hosts of an experiment attach."""
    return hosts_of(graph)


def links_of(graph: nx.DiGraph) -> list[tuple[str, str, dict]]:
    """Each link once, as (a, b, attributes of a → b), in the order the links were added."""
    if "links" in graph.graph:
        return [(a, b, graph.edges[a, b]) for a, b in graph.graph["links"]]
    seen: set[frozenset] = set()
    out = []
    for a, b, data in graph.edges(data=True):
        pair = frozenset((a, b))
        if pair not in seen:
            seen.add(pair)
            out.append((a, b, data))
    return out


def link_count(graph: nx.DiGraph) -> int:
    """Links (each counted once, whatever its duplex)."""
    return graph.number_of_edges() // 2


def graph_from_spec(spec) -> nx.DiGraph:
    """The graph of a resolved network (``virtsim.config.network.NetworkSpec``, or anything shaped as one).

    Reads ``spec.topology``, ``spec.switches`` (``name``, ``tier``),
    ``spec.hosts`` (``name``, ``nic``, ``port``) and ``spec.links`` (``a``,
    ``b``, ``bandwidth_bytes_per_s``, ``latency_s``, ``full_duplex``).
    """
    graph = _nx().DiGraph(kind=spec.topology)
    for switch in spec.switches:
        add_switch(graph, switch.name, tier=switch.tier)
    for host in spec.hosts:
        add_host(graph, host.name, nic=host.nic, port=host.port)
    for link in spec.links:
        add_link(graph, link.a, link.b, link.bandwidth_bytes_per_s, link.latency_s, link.full_duplex)
    return graph


def unreachable_pairs(graph: nx.DiGraph, hosts: Iterable[str]) -> list[tuple[str, str]]:
    """Pairs of ``hosts`` (graph nodes) that no route joins, each pair once, in the order of ``hosts``.

    Two hosts talk when a path joins them through switches only (or a direct
    link). Hosts are grouped by the parts of the switch graph they attach to,
    so a connected network costs O(graph + groups²), not a search per pair.
    """
    hosts = list(hosts)
    switch_graph = graph.subgraph(switches_of(graph)).to_undirected(as_view=True)
    part = {node: n for n, component in enumerate(_nx().connected_components(switch_graph)) for node in component}
    reaches = {host: frozenset(part[v] for v in graph.successors(host) if v in part) for host in hosts}
    groups = list(dict.fromkeys(reaches.values()))
    apart = {(x, y) for x in groups for y in groups if not (x & y)}
    if not apart:
        return []
    direct = {host: {v for v in graph.successors(host) if graph.nodes[v].get("kind") == HOST} for host in hosts}
    pairs = []
    for i, a in enumerate(hosts):
        for b in hosts[i + 1:]:
            if (reaches[a], reaches[b]) in apart and b not in direct[a]:
                pairs.append((a, b))
    return pairs


# --- routes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """The directed links a flow crosses from its source to its destination, and their latency added up."""

    links: tuple[str, ...]
    latency_s: float
    nodes: tuple[str, ...]
    """The nodes on the way, source and destination included."""

    @property
    def hops(self) -> int:
        return len(self.links)


class Network:
    """A graph with its routes: shortest paths by hop count, optionally spread over equal-cost paths by ECMP.

    ``route(src, dst, flow_key)`` gives a :class:`Route`. The candidate paths
    of a pair are found once and kept; with ``ecmp`` the flow's key picks one
    by CRC-32 (stable across processes, unlike Python's salted ``hash``),
    without it every flow of the pair takes the first in name order. The hop
    counts towards each destination are found once too (a breadth-first search
    over the graph), so a new pair costs O(its paths), not a search.
    """

    def __init__(self, graph: nx.DiGraph, *, ecmp: bool = False):
        self.graph = graph
        self.ecmp = ecmp
        self._candidates: dict[tuple[str, str], tuple[Route, ...]] = {}
        self._hops: dict[str, dict[str, int]] = {}

    @classmethod
    def from_spec(cls, spec) -> Network:
        """The network of a resolved ``NetworkSpec``, with its routing (``spec.ecmp``)."""
        return cls(graph_from_spec(spec), ecmp=spec.ecmp)

    @property
    def capacities(self) -> dict[str, float]:
        """Each link resource (``"leaf1->spine2"``, ``"a<->b"``) and its rate in bytes per second."""
        return {data["link"]: data["bandwidth_bytes_per_s"] for _, _, data in self.graph.edges(data=True)}

    def candidates(self, src: str, dst: str) -> tuple[Route, ...]:
        """Every shortest route from host ``src`` to host ``dst``, in name order of their nodes."""
        key = (src, dst)
        found = self._candidates.get(key)
        if found is None:
            found = self._candidates[key] = self._find(src, dst)
        return found

    def route(self, src: str, dst: str, flow_key: object = None) -> Route:
        """The route of a flow from ``src`` to ``dst``; ``flow_key`` (a string, bytes or number) picks its
        equal-cost path under ECMP. Raises ``KeyError`` for a node that is not a host of the graph and
        ``ValueError`` when no route joins the two."""
        routes = self.candidates(src, dst)
        if len(routes) == 1 or not self.ecmp:
            return routes[0]
        return routes[flow_hash(flow_key) % len(routes)]

    def _find(self, src: str, dst: str) -> tuple[Route, ...]:
        for node in (src, dst):
            if node not in self.graph or self.graph.nodes[node].get("kind") != HOST:
                raise KeyError(f"{node!r} is not a host of the network")
        if src == dst:
            return (Route((), 0.0, (src,)),)
        hops = self._hops_to(dst)
        if src not in hops:
            raise ValueError(f"no route joins hosts {src!r} and {dst!r}")
        nodes = self.graph.nodes
        paths, partial = [], [(src,)]
        while partial:  # every path one hop nearer to dst at each step, through switches only
            path = partial.pop()
            here = path[-1]
            if here == dst:
                paths.append(path)
                continue
            nearer = hops[here] - 1
            partial.extend((*path, v) for v in self.graph.successors(here)
                           if hops.get(v) == nearer and (v == dst or nodes[v].get("kind") != HOST))
        edges = self.graph.edges
        return tuple(Route(tuple(edges[u, v]["link"] for u, v in zip(path, path[1:])),
                           sum(edges[u, v]["latency_s"] for u, v in zip(path, path[1:])), path)
                     for path in sorted(paths))

    def _hops_to(self, dst: str) -> dict[str, int]:
        """The fewest links from each node to host ``dst`` through switches only: a breadth-first search
        backwards from ``dst`` that goes on from switches, never from a host (kept per ``dst``)."""
        found = self._hops.get(dst)
        if found is None:
            nodes, before = self.graph.nodes, self.graph.pred
            found, frontier = {dst: 0}, [dst]
            while frontier:
                onward = []
                for v in frontier:
                    for u in before[v]:
                        if u not in found:
                            found[u] = found[v] + 1
                            if nodes[u].get("kind") != HOST:
                                onward.append(u)
                frontier = onward
            self._hops[dst] = found
        return found

def flow_hash(flow_key: object) -> int:
    """CRC-32 of the key's bytes (a string as UTF-8, anything else by ``str``): the same in every process."""
    data = flow_key if isinstance(flow_key, bytes) else str(flow_key).encode("utf-8")
    return zlib.crc32(data)
