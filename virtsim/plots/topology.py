"""The network drawn in layers: hosts at the bottom, the switches they attach to above, spines or cores on top.

Drawn with networkx's drawing functions on matplotlib. A link is one line,
whatever its duplex; given a utilization per link resource (``"leaf1->spine2"``,
a dict or a table with columns ``link`` and ``utilization``, as ``links.csv``
will be), each line takes the colour of its busier direction, on a colour bar
from 0 to 1 (or to the highest value, if above 1). The lines of each pair of
tiers (hosts to leaves, leaves to spines …) are one collection.
"""

from __future__ import annotations

from collections import defaultdict

import networkx as nx
import pandas as pd

from ..model import network as net
from ._common import axes_or_new, require_columns

__all__ = ["plot_topology", "topology_graph"]

_HOST_COLOUR = "#ffe0b2"
_SWITCH_COLOUR = "#64b5f6"
_IDLE_LINK = "#9e9e9e"
_CMAP = "plasma"
_MAX_LABELS = 64
"""Most nodes labelled by name; a larger network is drawn without names."""


def topology_graph(graph_or_spec) -> nx.DiGraph:
    """The graph of a network given as a graph, a ``Network``, a resolved ``NetworkSpec`` or its dump (a mapping)."""
    if isinstance(graph_or_spec, nx.Graph):
        return graph_or_spec
    if isinstance(graph_or_spec, net.Network):
        return graph_or_spec.graph
    if isinstance(graph_or_spec, dict):
        from ..config.network import NetworkSpec

        if "network" in graph_or_spec and "links" not in graph_or_spec:  # a whole resolved experiment
            graph_or_spec = graph_or_spec["network"]
            if graph_or_spec is None:
                raise ValueError("the experiment has no network section")
        return net.graph_from_spec(NetworkSpec.model_validate(graph_or_spec))
    network = getattr(graph_or_spec, "network", None)
    if network is not None and not hasattr(graph_or_spec, "links"):  # a resolved ExperimentSpec
        return net.graph_from_spec(network)
    if hasattr(graph_or_spec, "links") and hasattr(graph_or_spec, "switches"):
        return net.graph_from_spec(graph_or_spec)
    raise ValueError(f"plot_topology takes a networkx graph, a Network or a NetworkSpec, "
                     f"got {type(graph_or_spec).__name__}")


def _utilization(utilization, graph: nx.DiGraph) -> dict[str, float]:
    """Utilization per link resource; a table's rows of one link (replications, say) are averaged."""
    if utilization is None:
        return {}
    if isinstance(utilization, pd.DataFrame):
        require_columns(utilization, ["link", "utilization"], "plot_topology")
        utilization = utilization.groupby("link", sort=False)["utilization"].mean().to_dict()
    if not isinstance(utilization, dict):
        raise ValueError(f"utilization must be a dict or a DataFrame with columns link and utilization, "
                         f"got {type(utilization).__name__}")
    known = {data["link"] for _, _, data in graph.edges(data=True)}
    unknown = [link for link in utilization if link not in known]
    if unknown:
        raise ValueError(f"utilization of links the network does not have: {', '.join(map(str, unknown[:5]))}"
                         f"{' …' if len(unknown) > 5 else ''} (links are named as 'leaf1->spine2')")
    return {str(link): float(value) for link, value in utilization.items()}


def _layout(graph: nx.DiGraph) -> dict:
    """Each tier a row (hosts at y=0), its nodes spread evenly across the same width in graph order."""
    tiers = defaultdict(list)
    for node, tier in graph.nodes(data="tier", default=1):
        tiers[tier].append(node)
    positions = {}
    for tier, nodes in tiers.items():
        count = len(nodes)
        for k, node in enumerate(nodes):
            positions[node] = ((k + 0.5) / count, float(tier))
    return positions


def plot_topology(graph_or_spec, utilization=None, ax=None):
    """Draw the network, its links coloured by ``utilization`` (per link resource) when given; returns the Axes.

    ``graph_or_spec``: a graph of :mod:`virtsim.model.network`, a ``Network``,
    a resolved ``NetworkSpec`` (``spec.network``) or a resolved experiment
    (spec or manifest ``config``) that has one. Lines are thicker for faster
    links. Raises ``ValueError`` for utilization of a link the network lacks.
    """
    import matplotlib as mpl

    graph = topology_graph(graph_or_spec)
    used = _utilization(utilization, graph)
    ax = axes_or_new(ax, figsize=(max(6.0, min(16.0, 0.35 * graph.number_of_nodes())), 4.5))
    positions = _layout(graph)
    links = net.links_of(graph)
    fastest = max((data["bandwidth_bytes_per_s"] for _, _, data in links), default=1.0)
    top = max([1.0, *used.values()])
    norm = mpl.colors.Normalize(vmin=0.0, vmax=top)
    cmap = mpl.colormaps[_CMAP]
    groups = defaultdict(list)
    for a, b, data in links:
        tiers = tuple(sorted((graph.nodes[a].get("tier", 1), graph.nodes[b].get("tier", 1))))
        load = max(used.get(graph.edges[a, b]["link"], 0.0), used.get(graph.edges[b, a]["link"], 0.0))
        groups[tiers].append(((a, b), data["bandwidth_bytes_per_s"], load))
    undirected = nx.Graph(graph)  # straight lines, no arrows
    for tiers in sorted(groups):
        members = groups[tiers]
        colours = [cmap(norm(load)) for _, _, load in members] if used else _IDLE_LINK
        collection = nx.draw_networkx_edges(
            undirected, positions, edgelist=[edge for edge, _, _ in members], ax=ax, edge_color=colours,
            width=[0.8 + 2.4 * rate / fastest for _, rate, _ in members])
        collection.set_gid(f"links:{tiers[0]}-{tiers[1]}")
        collection.set_zorder(1)
    hosts = net.hosts_of(graph)
    host_set = set(hosts)
    switches = [node for node in graph if node not in host_set]  # a node of no kind is drawn as a switch
    size = 300 if graph.number_of_nodes() <= _MAX_LABELS else 60
    for nodes, shape, colour in ((hosts, "s", _HOST_COLOUR), (switches, "o", _SWITCH_COLOUR)):
        if nodes:
            drawn = nx.draw_networkx_nodes(graph, positions, nodelist=nodes, node_shape=shape, node_color=colour,
                                           edgecolors="#424242", node_size=size, ax=ax)
            drawn.set_zorder(2)
    if graph.number_of_nodes() <= _MAX_LABELS:
        nx.draw_networkx_labels(graph, {node: (x, y + 0.22) for node, (x, y) in positions.items()},
                                font_size=7, ax=ax)
    if used:
        mappable = mpl.cm.ScalarMappable(norm=norm, cmap=cmap)
        ax.figure.colorbar(mappable, ax=ax, label="link utilization (busier direction)")
    kind = graph.graph.get("kind", "network")
    ax.set_title(f"{kind}: {len(switches)} switches, {len(hosts)} hosts, {len(links)} links")
    ax.set_axis_off()
    ax.margins(0.06, 0.15)
    return ax
