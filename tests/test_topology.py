"""The network of hosts: generators against their formulas, routes, ECMP, bad input with its path, the picture."""

from __future__ import annotations

import random
import textwrap
import zlib
from collections import Counter

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402

from virtsim.config.errors import ConfigError  # noqa: E402
from virtsim.config.loader import dump_resolved, load_experiment  # noqa: E402
from virtsim.config.network import NetworkSpec  # noqa: E402
from virtsim.model import network as net  # noqa: E402
from virtsim.plots import plot_topology  # noqa: E402
from virtsim.plots.folder import ResultFolder  # noqa: E402
from virtsim.plots.report import PICTURES  # noqa: E402

GBIT = 1e9 / 8


def hosts_yaml(n: int, name: str = "h", nic: str | None = None) -> str:
    nics = f", nics: [{nic}]" if nic else ""
    return "\n".join(f"  - {{name: {name}{k}, hardware: {{cores: 2, memory: 4 GiB{nics}}}}}" for k in range(1, n + 1))


def experiment(tmp_path, network: str, hosts: int = 3, extra_hosts: str = "") -> object:
    text = (f"name: net\nduration: 10 s\nhosts:\n{hosts_yaml(hosts)}\n{extra_hosts}"
            f"network:\n{textwrap.indent(textwrap.dedent(network).strip(), '  ')}\n")
    path = tmp_path / "net.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path, network: str, **kwargs) -> list:
    with pytest.raises(ConfigError) as caught:
        load_experiment(experiment(tmp_path, network, **kwargs))
    assert str(tmp_path / "net.yaml") in str(caught.value)
    return caught.value.problems


def only(found: list, path: str):
    """The one problem at ``path``, which must carry its line."""
    at = [p for p in found if p.path == path]
    assert len(at) == 1, [str(p) for p in found]
    assert at[0].line is not None
    return at[0]


# --- generators against their formulas ---------------------------------------------------------


@pytest.mark.parametrize(("leaves", "spines", "per_leaf", "ratio"), [(4, 2, 8, 3.0), (2, 4, 12, 1.0), (8, 3, 5, 2.5)])
def test_leaf_spine_counts_and_the_oversubscription_its_uplinks_give(leaves, spines, per_leaf, ratio):
    graph = net.leaf_spine(leaves, spines, per_leaf, bandwidth_bytes_per_s=25 * GBIT, oversubscription=ratio)
    assert len(net.hosts_of(graph)) == leaves * per_leaf
    assert len(net.switches_of(graph)) == leaves + spines
    assert net.link_count(graph) == leaves * (per_leaf + spines)
    for leaf in (f"leaf{n}" for n in range(1, leaves + 1)):
        down = [graph.edges[v, leaf]["bandwidth_bytes_per_s"] for v in graph.predecessors(leaf)
                if graph.nodes[v]["kind"] == net.HOST]
        up = [graph.edges[leaf, v]["bandwidth_bytes_per_s"] for v in graph.successors(leaf)
              if graph.nodes[v]["tier"] == 2]
        assert len(down) == per_leaf and len(up) == spines
        assert sum(down) / sum(up) == pytest.approx(ratio)  # the ratio's definition, read back from the links


def test_a_leaf_spine_uplink_rate_given_outright_wins():
    graph = net.leaf_spine(2, 2, 4, bandwidth_bytes_per_s=10 * GBIT, uplink_bandwidth_bytes_per_s=40 * GBIT)
    assert graph.edges["leaf1", "spine2"]["bandwidth_bytes_per_s"] == 40 * GBIT
    assert net.leaf_spine_uplink_bandwidth(48, 6, 25 * GBIT, 3.0) == pytest.approx(48 * 25 * GBIT / 18)


@pytest.mark.parametrize("k", [2, 4, 6, 8])
def test_fat_tree_sizes_are_those_of_al_fares(k):
    graph = net.fat_tree(k)
    assert len(net.hosts_of(graph)) == k ** 3 // 4
    assert len(net.switches_of(graph)) == 5 * k ** 2 // 4  # k² pod switches and (k/2)² core
    assert sum(1 for _, tier in graph.nodes(data="tier") if tier == 3) == (k // 2) ** 2
    assert net.link_count(graph) == 3 * k ** 3 // 4
    assert all(graph.out_degree(s) == k for s in net.switches_of(graph))  # every switch uses its k ports


def test_fat_tree_of_four_has_16_hosts_20_switches_48_links():
    graph = net.fat_tree(4)
    assert (len(net.hosts_of(graph)), len(net.switches_of(graph)), net.link_count(graph)) == (16, 20, 48)
    assert graph.number_of_edges() == 96  # a DiGraph: one edge per direction


def test_fat_tree_needs_an_even_k_and_star_counts():
    with pytest.raises(ValueError, match="even"):
        net.fat_tree(5)
    graph = net.star(7)
    assert (len(net.hosts_of(graph)), net.switches_of(graph), net.link_count(graph)) == (7, ["switch"], 7)


def test_link_ids_are_per_direction_when_full_duplex_and_shared_when_not():
    graph = nx.DiGraph()
    for name in ("a", "b", "c"):
        net.add_switch(graph, name)
    net.add_link(graph, "a", "b", 1e9, full_duplex=True)
    net.add_link(graph, "b", "c", 1e9, full_duplex=False)
    assert graph.edges["a", "b"]["link"] == "a->b" and graph.edges["b", "a"]["link"] == "b->a"
    assert graph.edges["b", "c"]["link"] == graph.edges["c", "b"]["link"] == "b<->c"
    assert net.Network(graph).capacities == {"a->b": 1e9, "b->a": 1e9, "b<->c": 1e9}
    with pytest.raises(ValueError, match="bandwidth"):
        net.add_link(graph, "a", "c", 0.0)


# --- routes ----------------------------------------------------------------------------------


def test_leaf_spine_routes_take_two_links_in_a_leaf_and_four_across():
    graph = net.leaf_spine(2, 2, 4, latency_s=2e-6)
    network = net.Network(graph)
    inside = network.route("host1", "host2", "flow")
    across = network.route("host1", "host8", "flow")
    assert inside.hops == 2 and inside.links == ("host1->leaf1", "leaf1->host2")
    assert across.hops == 4 and across.latency_s == pytest.approx(4 * 2e-6)
    assert across.links[0] == "host1->leaf1" and across.links[-1] == "leaf2->host8"
    assert network.route("host3", "host3").hops == 0


def test_fat_tree_routes_follow_its_three_distances():
    network = net.Network(net.fat_tree(4))
    assert network.route("host1", "host2").hops == 2   # same edge switch
    assert network.route("host1", "host3").hops == 4   # same pod
    assert network.route("host1", "host16").hops == 6  # across the core
    assert len(network.candidates("host1", "host16")) == 4  # (k/2)² core switches, one path through each


def test_ecmp_spreads_flows_evenly_over_the_spines_and_keeps_each_flow_on_its_path():
    spines = 4
    network = net.Network(net.leaf_spine(2, spines, 2), ecmp=True)
    keys = [f"10.0.0.1:{port}->10.0.1.1:80/tcp" for port in range(20000, 24000)]
    used = Counter(network.route("host1", "host4", key).links[1] for key in keys)
    assert set(used) == {f"leaf1->spine{s}" for s in range(1, spines + 1)}
    expected = len(keys) / spines
    assert all(abs(count - expected) < 0.1 * expected for count in used.values()), used  # ±10 % (~3.7 σ)
    fresh = net.Network(net.leaf_spine(2, spines, 2), ecmp=True)  # nothing kept between networks
    assert all(fresh.route("host1", "host4", key) == network.route("host1", "host4", key) for key in keys[:200])
    assert net.flow_hash("abc") == zlib.crc32(b"abc") == 891568578  # the same in every process, not hash()


def test_without_ecmp_every_flow_of_a_pair_takes_the_first_path():
    network = net.Network(net.leaf_spine(2, 4, 2))
    routes = {network.route("host1", "host4", key) for key in range(500)}
    assert len(routes) == 1 and next(iter(routes)).links[1] == "leaf1->spine1"


def test_candidate_paths_are_found_once_per_pair(monkeypatch):
    pairs = []
    find = net.Network._find
    monkeypatch.setattr(net.Network, "_find", lambda self, a, b: pairs.append((a, b)) or find(self, a, b))
    network = net.Network(net.fat_tree(4), ecmp=True)
    for key in range(100):
        network.route("host1", "host16", key)
        network.route("host16", "host1", key)
        network.route("host2", "host16", key)
    assert pairs == [("host1", "host16"), ("host16", "host1"), ("host2", "host16")]
    assert len(network._hops) == 2  # one search per destination


def test_hosts_do_not_forward():
    graph = nx.DiGraph()
    for host in ("h1", "h2", "h3"):
        net.add_host(graph, host)
    for switch in ("s1", "s2"):
        net.add_switch(graph, switch)
    for a, b in (("h1", "s1"), ("h2", "s1"), ("h2", "s2"), ("h3", "s2")):
        net.add_link(graph, a, b, 1e9)
    network = net.Network(graph)
    assert network.route("h1", "h2").hops == 2
    with pytest.raises(ValueError, match="no route"):
        network.route("h1", "h3")  # only through h2
    assert net.unreachable_pairs(graph, ["h1", "h2", "h3"]) == [("h1", "h3")]
    with pytest.raises(KeyError):
        network.route("h1", "s2")


@st.composite
def connected_networks(draw):
    """A random connected switch graph (a random tree plus extra links), 2 to 6 hosts on random switches."""
    switches = draw(st.integers(1, 9))
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    graph = nx.DiGraph()
    names = [f"s{n}" for n in range(switches)]
    for name in names:
        net.add_switch(graph, name)
    for n in range(1, switches):
        net.add_link(graph, names[n], names[rng.randrange(n)], rng.choice([1e9, 2.5e9]), rng.random() * 1e-5)
    for _ in range(draw(st.integers(0, 2 * switches))):
        a, b = rng.sample(names, 2) if switches > 1 else (names[0], names[0])
        if a != b and not graph.has_edge(a, b):
            net.add_link(graph, a, b, 1e9, rng.random() * 1e-5, full_duplex=rng.random() < 0.7)
    hosts = [f"h{n}" for n in range(draw(st.integers(2, 6)))]
    for host in hosts:
        net.add_host(graph, host)
        net.add_link(graph, host, rng.choice(names), 1e9, 1e-6)
    return graph, hosts, draw(st.booleans()), draw(st.text(max_size=8))


@settings(max_examples=60, deadline=None)
@given(connected_networks())
def test_a_route_is_a_shortest_path_of_links_that_exist(case):
    graph, hosts, ecmp, key = case
    network = net.Network(graph, ecmp=ecmp)
    switches = set(net.switches_of(graph))
    assert net.unreachable_pairs(graph, hosts) == []
    for src in hosts:
        for dst in hosts:
            route = network.route(src, dst, key)
            forwarding = graph.subgraph(switches | {src, dst})
            assert route.hops == nx.shortest_path_length(forwarding, src, dst)
            assert route.nodes[0] == src and route.nodes[-1] == dst
            assert set(route.nodes[1:-1]) <= switches
            edges = list(zip(route.nodes, route.nodes[1:]))
            assert route.links == tuple(graph.edges[u, v]["link"] for u, v in edges)  # each link exists
            assert route.latency_s == pytest.approx(sum(graph.edges[u, v]["latency_s"] for u, v in edges))
            assert route == network.route(src, dst, key)  # stable for its key


@st.composite
def any_networks(draw):
    """Switches and hosts joined at random, often in several parts, with links between hosts too."""
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    graph = nx.DiGraph()
    switches = [f"s{n}" for n in range(draw(st.integers(0, 6)))]
    hosts = [f"h{n}" for n in range(draw(st.integers(2, 7)))]
    for name in switches:
        net.add_switch(graph, name)
    for name in hosts:
        net.add_host(graph, name)
    nodes = switches + hosts
    for _ in range(draw(st.integers(0, 12))):
        a, b = rng.sample(nodes, 2)
        if not graph.has_edge(a, b):
            net.add_link(graph, a, b, 1e9)
    return graph, hosts


@settings(max_examples=80, deadline=None)
@given(any_networks())
def test_unreachable_pairs_are_those_networkx_finds_no_switch_path_for(case):
    graph, hosts = case
    switches = set(net.switches_of(graph))
    expected = [(a, b) for i, a in enumerate(hosts) for b in hosts[i + 1:]
                if not nx.has_path(graph.subgraph(switches | {a, b}), a, b)]
    assert net.unreachable_pairs(graph, hosts) == expected
    network = net.Network(graph, ecmp=True)
    for a in hosts:
        for b in hosts:
            if (a, b) in expected or (b, a) in expected:
                with pytest.raises(ValueError, match="no route"):
                    network.route(a, b)
                continue
            forwarding = graph.subgraph(switches | {a, b})
            routes = network.candidates(a, b)
            assert {r.nodes for r in routes} == {tuple(p) for p in nx.all_shortest_paths(forwarding, a, b)}


# --- the experiment file -------------------------------------------------------------------------


def test_without_a_network_section_the_spec_and_its_dump_are_as_before():
    spec = load_experiment("experiments/quickstart.yaml")
    assert spec.network is None
    assert "network" not in dump_resolved(spec)


def test_a_leaf_spine_section_resolves_hosts_onto_its_ports_in_order(tmp_path):
    spec = load_experiment(experiment(tmp_path, """
        topology: {kind: leaf-spine, leaves: 2, spines: 2, oversubscription: 2, link: {bandwidth: 10 Gbit/s, latency: 2 us}}
        routing: {ecmp: true}
    """, hosts=3))
    network = spec.network
    assert network.topology == "leaf-spine" and network.ecmp
    assert [(h.name, h.port, h.nic) for h in network.hosts] == [("h1", "host1", "eth0"), ("h2", "host2", "eth0"),
                                                                ("h3", "host3", "eth0")]
    assert {s.name: s.tier for s in network.switches} == {"spine1": 2, "spine2": 2, "leaf1": 1, "leaf2": 1}
    # hosts_per_leaf defaults to ceil(3 / 2) = 2; the free port host4 is left out.
    assert len(network.links) == 2 * 2 + 3
    uplink = next(link for link in network.links if {link.a, link.b} == {"leaf1", "spine1"})
    assert uplink.bandwidth_bytes_per_s == pytest.approx(2 * 10 * GBIT / (2 * 2))
    routes = net.Network.from_spec(network)
    assert routes.route("h1", "h2").hops == 2 and routes.route("h1", "h3").hops == 4
    assert routes.route("h1", "h3").latency_s == pytest.approx(8e-6)
    assert NetworkSpec.model_validate(network.model_dump()) == network
    assert dump_resolved(spec)["network"]["topology"] == "leaf-spine"


def test_attach_and_nics_choose_port_and_interface_and_the_slower_end_sets_the_rate(tmp_path):
    nics = "nics: [{name: eth0, bandwidth: 1 Gbit/s, latency_us: 20}, {name: eth1, bandwidth: 25 Gbit/s, latency_us: 5}]"
    extra = f"  - {{name: big, hardware: {{cores: 2, memory: 4 GiB, {nics}}}}}\n"
    spec = load_experiment(experiment(tmp_path, """
        topology: {kind: star, hosts: 6, link: {bandwidth: 10 Gbit/s}}
        attach: {h2: host5}
        nics: {big: eth1}
    """, hosts=2, extra_hosts=extra))
    ports = {h.name: (h.port, h.nic) for h in spec.network.hosts}
    assert ports == {"h1": ("host1", "eth0"), "h2": ("host5", "eth0"), "big": ("host2", "eth1")}
    rates = {link.a: link.bandwidth_bytes_per_s for link in spec.network.links}
    assert rates == {"h1": 10 * GBIT, "big": 10 * GBIT, "h2": 10 * GBIT}
    slow = load_experiment(experiment(tmp_path, "topology: {kind: star}", hosts=0, extra_hosts=extra))
    assert slow.network.links[0].bandwidth_bytes_per_s == 1 * GBIT  # its first NIC, 1 Gbit/s, on a 10 Gbit/s port


def test_explicit_links_default_to_the_nics_rate_and_isolated_hosts_need_no_route(tmp_path):
    spec = load_experiment(experiment(tmp_path, """
        switches: [tor, core]
        links:
          - {a: h1, b: tor}
          - {a: h2, b: tor, latency: 1 us, full_duplex: false}
          - {a: tor, b: core, bandwidth: 40 Gbit/s}
        isolated: [h3]
    """))
    network = spec.network
    assert network.topology == "explicit" and network.isolated == ("h3",)
    assert [h.name for h in network.hosts] == ["h1", "h2"]
    assert {s.name: s.tier for s in network.switches} == {"tor": 1, "core": 2}
    assert network.links[0].bandwidth_bytes_per_s == 10 * GBIT  # nic-10gbe's line rate
    route = net.Network.from_spec(network).route("h1", "h2")
    assert route.links == ("h1->tor", "h2<->tor")


def test_the_fat_tree_section(tmp_path):
    spec = load_experiment(experiment(tmp_path, "topology: {kind: fat-tree, k: 4, link: {latency: 1 us}}", hosts=16))
    graph = net.graph_from_spec(spec.network)
    assert (len(net.hosts_of(graph)), len(net.switches_of(graph)), net.link_count(graph)) == (16, 20, 48)
    assert net.Network(graph).route("h1", "h16").latency_s == pytest.approx(6e-6)


BAD = {
    "an unknown switch in a link": (
        "switches: [s1]\nlinks: [{a: h1, b: s1}, {a: h2, b: sw1}, {a: h3, b: s1}]",
        "network.links[1].b", ["unknown host or switch 'sw1'", "did you mean 's1'?", "the switches: s1"]),
    "an unknown host in a link": (
        "switches: [s1]\nlinks: [{a: h1, b: s1}, {a: h2, b: s1}, {a: host3, b: s1}]",
        "network.links[2].a", ["unknown host or switch 'host3'", "the hosts: h1, h2, h3"]),
    "zero bandwidth": (
        "switches: [s1, s2]\nlinks: [{a: h1, b: s1}, {a: h2, b: s1}, {a: h3, b: s1}, {a: s1, b: s2, bandwidth: 0 Gbit/s}]",
        "network.links[3].bandwidth", ["must be a bandwidth > 0, got '0 Gbit/s'"]),
    "negative bandwidth": (
        "topology: {kind: star, link: {bandwidth: -1 Gbit/s}}",
        "network.topology.link.bandwidth", ["must be a bandwidth > 0"]),
    "a switch link without a bandwidth": (
        "switches: [s1, s2]\nlinks: [{a: h1, b: s1}, {a: h2, b: s1}, {a: h3, b: s1}, {a: s1, b: s2}]",
        "network.links[3].bandwidth", ["required key is missing for a link between two switches"]),
    "a host with no link": (
        "switches: [s1]\nlinks: [{a: h1, b: s1}, {a: h2, b: s1}]",
        "network.links", ["host 'h3' has no link", "network.isolated"]),
    "hosts no route joins": (
        "switches: [s1, s2]\nlinks: [{a: h1, b: s1}, {a: h2, b: s1}, {a: h3, b: s2}]",
        "network.links", ["no route joins hosts 'h1' and 'h3'"]),
    "a switch named as a host": (
        "switches: [s1, h2]\nlinks: [{a: h1, b: s1}, {a: h2, b: s1}, {a: h3, b: s1}]",
        "network.switches[1]", ["'h2' is the name of a host"]),
    "two links between one pair": (
        "switches: [s1]\nlinks: [{a: h1, b: s1}, {a: h2, b: s1}, {a: h3, b: s1}, {a: s1, b: h1}]",
        "network.links[3]", ["a second link between 's1' and 'h1'"]),
    "a leaf-spine too small": (
        "topology: {kind: leaf-spine, leaves: 1, hosts_per_leaf: 2}",
        "network.topology.hosts_per_leaf", ["1 leaves × 2 hosts per leaf hold 2 hosts", "attaches 3"]),
    "a fat-tree too small": (
        "topology: {kind: fat-tree, k: 2}",
        "network.topology.k", ["k=2 holds 2 hosts", "k=4 holds 16"]),
    "a star too small": (
        "topology: {kind: star, hosts: 2}",
        "network.topology.hosts", ["cannot hold the experiment's 3 hosts"]),
    "an odd k": (
        "topology: {kind: fat-tree, k: 5}",
        "network.topology.k", ["must be an even integer", "4 or 6?"]),
    "a misspelt kind": (
        "topology: {kind: leafspine}",
        "network.topology.kind", ["must be one of 'leaf-spine', 'fat-tree', 'star'", "did you mean 'leaf-spine'?"]),
    "a key of another kind": (
        "topology: {kind: star, k: 4}",
        "network.topology.k", ["unknown key"]),
    "an unknown NIC": (
        "topology: {kind: star}\nnics: {h1: eth1}",
        "network.nics.h1", ["host 'h1' has no NIC 'eth1'", "did you mean 'eth0'?"]),
    "an unknown host in attach": (
        "topology: {kind: star}\nattach: {H1: host1}",
        "network.attach.H1", ["unknown host 'H1'", "did you mean 'h1'?"]),
    "an unknown port": (
        "topology: {kind: star}\nattach: {h1: host9}",
        "network.attach.h1", ["unknown host port 'host9'", "host1, host2, host3"]),
    "a port taken twice": (
        "topology: {kind: star}\nattach: {h1: host2, h2: host2}",
        "network.attach.h2", ["port 'host2' is taken by host 'h1'"]),
    "an unknown isolated host": (
        "topology: {kind: star}\nisolated: [h7]",
        "network.isolated[0]", ["unknown host 'h7'"]),
    "both uplink rate and oversubscription": (
        "topology: {kind: leaf-spine, oversubscription: 3, uplink: {bandwidth: 40 Gbit/s}}",
        "network.topology", ["give 'oversubscription' or 'uplink.bandwidth', not both"]),
    "a topology and links": (
        "topology: {kind: star}\nswitches: [s1]\nlinks: [{a: h1, b: s1}]",
        "network", ["give a 'topology' or 'switches' and 'links', not both"]),
}


@pytest.mark.parametrize(("network", "path", "words"), BAD.values(), ids=BAD.keys())
def test_bad_network_input_is_reported_at_its_path(tmp_path, network, path, words):
    problem = only(problems(tmp_path, network), path)
    for word in words:
        assert word in problem.message, str(problem)


def test_every_problem_of_the_links_is_reported_at_once(tmp_path):
    found = problems(tmp_path, """
        switches: [s1, h2]
        links:
          - {a: h1, b: s1}
          - {a: h2, b: sw1}
          - {a: h3, b: s1, bandwidth: 0 Gbit/s}
    """)
    assert [p.path for p in found] == ["network.switches[1]", "network.links[1].b", "network.links[2].bandwidth"]


def test_a_bad_host_leaves_the_network_unchecked_rather_than_calling_its_name_unknown(tmp_path):
    found = problems(tmp_path, "topology: {kind: star}\nattach: {h3: host1}", hosts=2,
                     extra_hosts="  - {name: h3, hardware: {cores: 0, memory: 4 GiB}}\n")
    assert [p.path for p in found] == ["hosts[2].hardware.cores"]


# --- the picture -----------------------------------------------------------------------------------


def test_the_plot_draws_one_coloured_line_collection_per_link_set(tmp_path):
    graph = net.leaf_spine(2, 2, 2)
    utilization = pd.DataFrame({"link": ["leaf1->spine1", "host1->leaf1", "host1->leaf1"],
                                "utilization": [0.9, 0.2, 0.4]})
    ax = plot_topology(graph, utilization=utilization)
    lines = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(lines) == 2  # hosts to leaves, leaves to spines
    assert sorted(len(c.get_segments()) for c in lines) == [4, 4]
    colours = {tuple(colour) for c in lines for colour in c.get_colors()}
    assert len(colours) == 3  # 0.9, 0.3 (the mean of two rows) and 0 for the idle links
    assert len(ax.figure.axes) == 2  # the colour bar
    plt.close(ax.figure)
    plain = plot_topology(net.fat_tree(4))
    assert len([c for c in plain.collections if isinstance(c, LineCollection)]) == 3
    assert len(plain.figure.axes) == 1
    plt.close(plain.figure)
    with pytest.raises(ValueError, match="does not have: spine9->leaf1"):
        plot_topology(graph, utilization={"spine9->leaf1": 0.5})


def test_virtsim_plot_draws_the_network_of_a_result_folder(tmp_path):
    spec = load_experiment(experiment(tmp_path, "topology: {kind: leaf-spine}", hosts=4))
    summary = pd.DataFrame({"jobs_completed": [1]})
    folder = ResultFolder(tmp_path, {"config": dump_resolved(spec)}, {"summary": summary})
    ax = PICTURES["topology"](folder, None)
    assert "leaf-spine: 4 switches, 4 hosts, 8 links" == ax.get_title()
    plt.close(ax.figure)
    bare = ResultFolder(tmp_path, {"config": dump_resolved(load_experiment("experiments/quickstart.yaml"))},
                        {"summary": summary})
    with pytest.raises(LookupError, match="no network section"):
        PICTURES["topology"](bare, None)


def test_a_misspelt_tag_of_any_union_is_reported_at_its_own_key(tmp_path):
    """``kind`` tells the topologies apart as ``model`` tells the power models: both are reported at their key."""
    path = tmp_path / "power.yaml"
    path.write_text("name: p\nduration: 10 s\nhosts:\n"
                    "  - {name: h1, hardware: {cores: 2, memory: 4 GiB, power: {model: lineer, idle_w: 10, max_w: 20}}}\n",
                    encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_experiment(path)
    problem = only(caught.value.problems, "hosts[0].hardware.power.model")
    assert "must be one of 'linear', 'table', got 'lineer'; did you mean 'linear'?" in problem.message
