"""Resolve ``network`` into a plain, frozen ``NetworkSpec``: every switch, host attachment and link written out.

A named topology is generated (``model.network``), its host ports taken by the
experiment's hosts in order (or as ``attach`` says; ports left free are left
out); explicit ``switches`` and ``links`` are taken as written. Each host
attaches through a NIC (its first, or the one ``nics`` names) and its links
run at the lower of their rate and the NIC's. The checks, each reported at its
key: unknown names (with suggestions), a switch named as a host, repeated
links, a topology too small for the hosts, and hosts that no route joins.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field

from ..model import network as net
from ..wording import closest, listing
from . import network_inputs as n
from .resolution import Context
from .spec_base import FrozenSpec

__all__ = ["NetworkHostSpec", "NetworkLinkSpec", "NetworkSpec", "NetworkSwitchSpec", "resolve_network"]

TOPOLOGIES = ("leaf-spine", "fat-tree", "star", "explicit")


class NetworkSwitchSpec(FrozenSpec):
    """A switch of the network."""

    name: str
    tier: int = Field(default=1, description="1: hosts attach to it (leaf, edge); 2: spine, aggregation; 3: core.")


class NetworkHostSpec(FrozenSpec):
    """A host of the experiment as the network sees it."""

    name: str
    nic: str = Field(description="The NIC it attaches through.")
    port: str | None = Field(default=None, description="The topology's host port it took (host1 …); None: explicit.")


class NetworkLinkSpec(FrozenSpec):
    """A link between two nodes (hosts or switches)."""

    a: str
    b: str
    bandwidth_bytes_per_s: float = Field(description="Line rate of each direction (shared by both if half duplex).")
    latency_s: float = Field(default=0.0, description="One-way latency, seconds.")
    full_duplex: bool = True


class NetworkSpec(FrozenSpec):
    """The network between the hosts, resolved: the graph's nodes and links, and the routing."""

    topology: Literal[TOPOLOGIES] = Field(description="The shape it was generated from, or 'explicit'.")
    switches: tuple[NetworkSwitchSpec, ...]
    hosts: tuple[NetworkHostSpec, ...] = Field(description="The attached hosts, in port (or file) order.")
    links: tuple[NetworkLinkSpec, ...]
    isolated: tuple[str, ...] = Field(default=(), description="Hosts that need no route to the others.")
    routing: Literal["shortest-path"] = "shortest-path"
    ecmp: bool = Field(default=False, description="Flows spread over equal-cost paths by a hash of their key.")


_LOC = ("network",)


def resolve_network(section: n.NetworkInput, hosts, ctx: Context,
                    link_indices: list[int] | None = None) -> NetworkSpec | None:
    """The resolved network over ``hosts`` (resolved ``HostSpec`` objects); None after a problem.

    ``link_indices`` are the file positions of the links when invalid ones were left out of
    ``section`` (their problems are reported already); the hosts' connections are then not checked.
    """
    before = len(ctx.problems)
    by_name = {host.name: host for host in hosts}
    isolated = _known_hosts(section.isolated, ("isolated",), by_name, ctx)
    nics = _nics(section, by_name, ctx)  # an unknown NIC is reported, the host's first taken meanwhile
    structure = len(ctx.problems)
    if section.topology is not None:
        resolved = _generated(section, by_name, set(isolated), nics, ctx)
    else:
        resolved = _explicit(section, by_name, nics, ctx, link_indices)
    if resolved is None or len(ctx.problems) > structure:
        return None
    switches, attached, links = resolved
    spec = NetworkSpec(topology=section.topology.kind if section.topology is not None else "explicit",
                       switches=tuple(switches), hosts=tuple(attached), links=tuple(links),
                       isolated=tuple(isolated), routing=section.routing.method, ecmp=section.routing.ecmp)
    if link_indices is None:
        _check_connected(spec, by_name, ctx)
    return spec if len(ctx.problems) == before else None


def _hint(word: str, names) -> str:
    match = closest(word, names)
    return f" (did you mean {match!r}?)" if match else ""


def _unknown_host(word: str, by_name: dict) -> str:
    return f"unknown host {word!r}{_hint(word, by_name)}; the experiment's hosts: {listing(by_name) or 'none'}"


def _known_hosts(names, key: tuple, by_name: dict, ctx: Context) -> list[str]:
    known = []
    for k, name in enumerate(names):
        if name not in by_name:
            ctx.add((*_LOC, *key, k), _unknown_host(name, by_name))
        elif name in known:
            ctx.add((*_LOC, *key, k), f"{name!r} is listed twice")
        else:
            known.append(name)
    return known


def _nics(section: n.NetworkInput, by_name: dict, ctx: Context) -> dict:
    """Each host's NIC spec: the one ``nics`` names, else its first."""
    chosen = {name: host.hardware.nics[0] for name, host in by_name.items() if host.hardware.nics}
    for host_name, nic_name in section.nics.items():
        loc = (*_LOC, "nics", host_name)
        host = by_name.get(host_name)
        if host is None:
            ctx.add(loc, _unknown_host(host_name, by_name))
            continue
        names = [nic.name for nic in host.hardware.nics]
        if nic_name not in names:
            ctx.add(loc, f"host {host_name!r} has no NIC {nic_name!r}{_hint(nic_name, names)}; its NICs: "
                         f"{listing(names) or 'none'}")
            continue
        chosen[host_name] = host.hardware.nics[names.index(nic_name)]
    return chosen


def _host_rate(link_rate: float, nic) -> float:
    """A host's link runs at the slower of the port and the NIC (as Ethernet negotiates)."""
    return min(link_rate, nic.bandwidth_bytes_per_s)


# --- a named topology ------------------------------------------------------------------------


def _generated(section: n.NetworkInput, by_name: dict, isolated: set, nics: dict, ctx: Context):
    topology = section.topology
    loc = (*_LOC, "topology")
    wanted = [name for name in by_name if name not in isolated or name in section.attach]
    graph = _generate(topology, len(wanted), loc, ctx)
    if graph is None:
        return None
    ports = net.host_ports(graph)
    taken = _attachments(section.attach, ports, by_name, ctx)
    if taken is None:
        return None
    free = iter(port for port in ports if port not in taken.values())
    for name in wanted:
        if name not in taken:
            taken[name] = next(free)
    host_of = {port: name for name, port in taken.items()}
    switches = [NetworkSwitchSpec(name=name, tier=graph.nodes[name]["tier"]) for name in net.switches_of(graph)]
    attached = [NetworkHostSpec(name=host_of[port], nic=nics[host_of[port]].name, port=port)
                for port in ports if port in host_of]
    links = []
    for a, b, data in net.links_of(graph):
        ends = [host_of.get(x, x) if graph.nodes[x]["kind"] == net.HOST else x for x in (a, b)]
        host_ends = [x for x in (a, b) if graph.nodes[x]["kind"] == net.HOST]
        if any(port not in host_of for port in host_ends):
            continue  # a free port: left out
        rate = data["bandwidth_bytes_per_s"]
        for port in host_ends:
            rate = _host_rate(rate, nics[host_of[port]])
        links.append(NetworkLinkSpec(a=ends[0], b=ends[1], bandwidth_bytes_per_s=rate, latency_s=data["latency_s"],
                                     full_duplex=data["full_duplex"]))
    return switches, attached, links


def _generate(topology, hosts: int, loc: tuple, ctx: Context):
    """The topology's graph, or None (recorded) when its ports cannot hold ``hosts``."""
    link = topology.link
    common = {"bandwidth_bytes_per_s": link.bandwidth, "latency_s": link.latency, "full_duplex": link.full_duplex}
    if topology.kind == "leaf-spine":
        per_leaf = topology.hosts_per_leaf or max(1, math.ceil(hosts / topology.leaves))
        if per_leaf * topology.leaves < hosts:
            ctx.add((*loc, "hosts_per_leaf"),
                    f"{topology.leaves} leaves × {per_leaf} hosts per leaf hold {per_leaf * topology.leaves} hosts, "
                    f"but the experiment attaches {hosts}; give hosts_per_leaf ≥ "
                    f"{math.ceil(hosts / topology.leaves)} or more leaves (or leave hosts_per_leaf out)")
            return None
        return net.leaf_spine(topology.leaves, topology.spines, per_leaf, **common,
                              uplink_bandwidth_bytes_per_s=topology.uplink.bandwidth,
                              uplink_latency_s=topology.uplink.latency,
                              oversubscription=topology.oversubscription or 1.0)
    if topology.kind == "fat-tree":
        capacity = topology.k ** 3 // 4
        if capacity < hosts:
            k = 2
            while k ** 3 // 4 < hosts:
                k += 2
            ctx.add((*loc, "k"), f"a fat-tree of k={topology.k} holds {capacity} hosts (k³/4), but the experiment "
                                 f"attaches {hosts}; k={k} holds {k ** 3 // 4}")
            return None
        return net.fat_tree(topology.k, **common)
    size = topology.hosts if topology.hosts is not None else max(1, hosts)
    if size < hosts:
        ctx.add((*loc, "hosts"), f"a star of {size} host ports cannot hold the experiment's {hosts} hosts to attach; "
                                 f"give hosts ≥ {hosts} (or leave it out)")
        return None
    return net.star(size, **common)


def _attachments(attach: dict, ports: list[str], by_name: dict, ctx: Context) -> dict | None:
    taken: dict[str, str] = {}
    holder: dict[str, str] = {}
    ok = True
    for host_name, port in attach.items():
        loc = (*_LOC, "attach", host_name)
        if host_name not in by_name:
            ctx.add(loc, _unknown_host(host_name, by_name))
            ok = False
        elif port not in ports:
            ctx.add(loc, f"unknown host port {port!r}{_hint(port, ports)}; the topology's ports: {listing(ports)}")
            ok = False
        elif port in holder:
            ctx.add(loc, f"port {port!r} is taken by host {holder[port]!r}; each port holds one host")
            ok = False
        else:
            taken[host_name] = port
            holder[port] = host_name
    return taken if ok else None


# --- explicit switches and links ----------------------------------------------------------------


def _explicit(section: n.NetworkInput, by_name: dict, nics: dict, ctx: Context, link_indices=None):
    switches: list[str] = []
    for k, name in enumerate(section.switches):
        loc = (*_LOC, "switches", k)
        if name in by_name:
            ctx.add(loc, f"{name!r} is the name of a host; a switch needs a name of its own")
        elif name in switches:
            ctx.add(loc, f"duplicate switch name {name!r}")
        else:
            switches.append(name)
    known = {**{name: "switch" for name in switches}, **{name: "host" for name in by_name}}
    pairs: dict[frozenset, int] = {}
    links = []
    indices = link_indices if link_indices is not None else range(len(section.links))
    for k, link in zip(indices, section.links, strict=True):
        loc = (*_LOC, "links", k)
        ends_ok = True
        for key in ("a", "b"):
            end = getattr(link, key)
            if end not in known:
                ctx.add((*loc, key), f"unknown host or switch {end!r}{_hint(end, known)}; the switches: "
                                     f"{listing(switches) or 'none'}; the hosts: {listing(by_name) or 'none'}")
                ends_ok = False
        if not ends_ok:
            continue
        if link.a == link.b:
            ctx.add(loc, f"links {link.a!r} to itself; a link joins two different nodes")
            continue
        pair = frozenset((link.a, link.b))
        if pair in pairs:
            ctx.add(loc, f"a second link between {link.a!r} and {link.b!r} (the first is links[{pairs[pair]}]); "
                         f"give one link of the total bandwidth")
            continue
        pairs[pair] = k
        host_nics = [nics[end] for end in (link.a, link.b) if known[end] == "host" and end in nics]
        rate = link.bandwidth
        if rate is None:
            if not host_nics:
                ctx.add((*loc, "bandwidth"), "required key is missing for a link between two switches "
                                             "(a host's link defaults to its NIC's line rate)")
                continue
            rate = min(nic.bandwidth_bytes_per_s for nic in host_nics)
        for nic in host_nics:
            rate = _host_rate(rate, nic)
        links.append(NetworkLinkSpec(a=link.a, b=link.b, bandwidth_bytes_per_s=rate, latency_s=link.latency,
                                     full_duplex=link.full_duplex))
    linked = {end for link in links for end in (link.a, link.b)}
    attached = [NetworkHostSpec(name=name, nic=nics[name].name) for name in by_name if name in linked]
    tiers = _tiers(switches, links, set(by_name))
    return [NetworkSwitchSpec(name=name, tier=tiers[name]) for name in switches], attached, links


def _tiers(switches: list[str], links: list[NetworkLinkSpec], hosts: set) -> dict[str, int]:
    """A switch's tier: 1 + its fewest hops to a host (1 for a switch hosts attach to); switches no host
    reaches are put one tier above the others."""
    neighbours: dict[str, list[str]] = {name: [] for name in [*switches, *hosts]}
    for link in links:
        neighbours[link.a].append(link.b)
        neighbours[link.b].append(link.a)
    tier = {}
    frontier = [s for s in switches if any(v in hosts for v in neighbours[s])]
    level = 1
    while frontier:
        for s in frontier:
            tier[s] = level
        level += 1
        frontier = list(dict.fromkeys(v for s in frontier for v in neighbours[s] if v not in hosts and v not in tier))
    top = max(tier.values(), default=0) + 1
    return {s: tier.get(s, top) for s in switches}


# --- every host reaches every other ------------------------------------------------------------


def _check_connected(spec: NetworkSpec, by_name: dict, ctx: Context) -> None:
    isolated = set(spec.isolated)
    attached = {host.name for host in spec.hosts}
    loc = (*_LOC, "links") if spec.topology == "explicit" else _LOC
    talking = [name for name in by_name if name not in isolated]
    for name in talking:
        if name not in attached:
            ctx.add(loc, f"host {name!r} has no link: link it to a switch, or list it in network.isolated if it "
                         f"talks to no other host")
    graph = net.graph_from_spec(spec)
    reported: set[str] = set()
    for a, b in net.unreachable_pairs(graph, [name for name in talking if name in attached]):
        if b in reported:
            continue
        reported.add(b)
        ctx.add(loc, f"no route joins hosts {a!r} and {b!r} (through switches: hosts do not forward); link their "
                     f"parts of the network, or list the host that talks to no other in network.isolated")
