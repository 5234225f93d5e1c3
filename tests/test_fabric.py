"""Traffic over the network: the hosts' NICs and the switch links as one flow network (components.network)."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import virtsim
from virtsim.experiment.results import collect
from virtsim.experiment.simulation import Simulation
from virtsim.model.packets import Link

ROOT = Path(__file__).parents[1]
NIC = 10e9 / 8
"""The default NIC's line rate (models/devices/nic-10gbe.yaml), bytes per second: the hosts' links here."""
LINK = Link()  # its MTU 1500 with TSO and GRO


def wire(nbytes: float) -> float:
    """Bytes one message of ``nbytes`` takes on the wire (headers and framing)."""
    return LINK.wire_bytes(nbytes)


def host(name: str, **more) -> dict:
    return {"name": name, "hardware": {"cores": 8, "core_speed": 1.0, "memory": "16 GiB"}, **more}


def pair(name: str, server: str, client: str, size: str, *, rate: str | None = None, think: str = "0 s") -> dict:
    """A workload at ``server`` whose modelled client is ``client``: one transaction of ``size`` per request."""
    w = {"name": name, "target": server, "demand": {"cpu": "20 us", "net": {"transactions": 1, "bytes": size}},
         "client": {"target": client, "demand": {"cpu": "10 us"}}}
    if rate is None:
        return w | {"type": "closed", "clients": 1, "think_time": think}
    return w | {"type": "open", "arrivals": {"type": "poisson", "rate": rate}}


def racks(workloads: list[dict], *, oversubscription: float = 4.0, duration: str = "1 s") -> dict:
    """Two racks under one spine: c1, c2, c3, s3 under leaf1; s1, s2 under leaf2 (10 Gbit/s host links).

    With 4 hosts per leaf and one spine, an oversubscription of 4 makes each uplink as fast as a host link.
    """
    names = ["c1", "c2", "c3", "s3", "s1", "s2"]
    return {"name": "racks", "seed": 5, "duration": duration, "warmup": "0 s", "cold_start": False,
            "hosts": [host(n) for n in names],
            "network": {"topology": {"kind": "leaf-spine", "leaves": 2, "spines": 1, "hosts_per_leaf": 4,
                                     "oversubscription": oversubscription}},
            "workloads": workloads}


def responses(results, workload: str) -> pd.Series:
    jobs = results.jobs
    done = jobs[jobs.end_s.notna()]
    return done[done.workload == workload].response_time_s


def lone(results, workload: str) -> float:
    """The response time of every request of a workload whose requests are all alike."""
    rt = responses(results, workload)
    assert len(rt) > 5 and np.allclose(rt, rt.iloc[0], rtol=1e-9), rt.describe()
    return float(rt.iloc[0])


# --- max-min across a route ------------------------------------------------------------------------


def test_two_cross_rack_pairs_share_the_uplink_equally_and_a_same_rack_pair_is_not_slowed():
    size = 10_000_000
    exp = racks([pair("x1", "s1", "c1", f"{size} B"), pair("x2", "s2", "c2", f"{size} B"),
                 pair("local", "s3", "c3", f"{size} B")])
    results = virtsim.run_experiment(exp)
    cross1, cross2, same = lone(results, "x1"), lone(results, "x2"), lone(results, "local")
    # Both cross-rack responses cross spine1 -> leaf1 at once: each gets half of it (NIC / 2), where the
    # same-rack pair has its hosts' links to itself (NIC). Everything else about the three pairs is alike.
    assert cross1 == pytest.approx(cross2, rel=1e-12)
    assert cross1 - same == pytest.approx(wire(size) / NIC, rel=1e-9)
    # The uplink's two directions: the responses one way, the requests' header frames the other.
    links = results.links.set_index("link")
    assert links.loc["spine1->leaf1", "saturated_s"] > 0.9
    assert links.loc["spine1->leaf1", "bytes"] == pytest.approx(2 * links.loc["s3->leaf1", "bytes"] * same / cross1,
                                                                 rel=0.02)


def test_without_oversubscription_the_cross_rack_pairs_go_as_fast_as_the_local_one_but_for_latency():
    size = 10_000_000
    # Uplinks twice as fast as a host's link: the two responses each get a whole NIC.
    exp = racks([pair("x1", "s1", "c1", f"{size} B"), pair("x2", "s2", "c2", f"{size} B"),
                 pair("local", "s3", "c3", f"{size} B")], oversubscription=2.0)
    results = virtsim.run_experiment(exp)
    assert lone(results, "x1") == pytest.approx(lone(results, "local"), rel=1e-9)


def test_a_noisy_bulk_transfer_on_the_uplink_slows_a_cross_rack_rpc_and_not_a_same_rack_one():
    rpc = [pair("cross", "s1", "c1", "64 KiB", rate="2000 /s"), pair("same", "s3", "c3", "64 KiB", rate="2000 /s")]
    quiet = virtsim.run_experiment(racks(copy.deepcopy(rpc)))
    noisy = virtsim.run_experiment(racks(copy.deepcopy(rpc) + [pair("bulk", "s2", "c2", "50 MB")]))
    cross_quiet, cross_noisy = responses(quiet, "cross").mean(), responses(noisy, "cross").mean()
    # Alone a 64 KiB response takes 54 us on the wire; beside the bulk flow it gets half the uplink.
    assert cross_noisy > cross_quiet + 0.5 * wire(64 * 1024) / NIC
    pd.testing.assert_series_equal(responses(quiet, "same").reset_index(drop=True),
                                   responses(noisy, "same").reset_index(drop=True))


# --- without a modelled client: the world beyond the switch port ---------------------------------------


def local(target: str, size: str, *, vm: bool = False, network: bool = True, clients: int = 1) -> dict:
    hosts = [host("s", hypervisor="kvm", vms=[{"name": "a", "vcpus": 4, "memory": "4 GiB"}]) if vm else host("s")]
    exp = {"name": "local", "seed": 2, "duration": "0.5 s", "warmup": "0 s", "cold_start": False, "hosts": hosts,
           "workloads": [{"name": "w", "target": target, "type": "closed", "clients": clients, "think_time": "0 s",
                          "demand": {"cpu": "20 us", "net": {"transactions": 1, "bytes": size}}}]}
    if network:
        exp["network"] = {"topology": {"kind": "star"}}
    return exp


@pytest.mark.parametrize("size", [0, 1_000, 100_000, 5_000_000])
@pytest.mark.parametrize("clients", [1, 3])
def test_local_traffic_over_a_star_matches_the_nic_but_for_the_full_duplex_split(size, clients):
    # Without a network the NIC carries both messages' frames in one stage; over the network each way is a
    # flow on its own direction of the host's link. The request is empty, so the only difference is its one
    # header frame, which now travels beside the response instead of after it: less by its wire time.
    shape = {"target": "s", "size": f"{size} B", "clients": clients}
    before = responses(virtsim.run_experiment(local(network=False, **shape)), "w").to_numpy()
    after = responses(virtsim.run_experiment(local(**shape)), "w").to_numpy()
    n = min(len(before), len(after)) - clients  # the last ones differ in how many fit in the run
    if clients == 1:
        # Alone the wire is the stream's slowest stage: (out + in) / NIC before, max(out, in) / NIC now.
        expected = before[:n] - min(wire(size), wire(0)) / NIC
        assert np.allclose(after[:n], expected, rtol=0, atol=1e-9 + 1e-12 * before[:n].max())
    else:  # three at once: each takes a third of the link, both ways
        assert np.all(after[:n] <= before[:n] + 1e-9)


def test_a_kvm_vms_flow_is_capped_at_the_nic_times_its_bandwidth_factor():
    size = 5_000_000
    before = lone(virtsim.run_experiment(local("s/a", f"{size} B", vm=True, network=False)), "w")
    sim = Simulation(virtsim.load_experiment(local("s/a", f"{size} B", vm=True))).run()
    after = lone(collect(sim), "w")
    factor = sim.platform.paths["s/a"].net.bandwidth_factor
    assert factor < 1.0
    cap = sim.platform.fabric.flows.links["s/a->s"]
    assert cap.capacity == pytest.approx(NIC * factor, rel=1e-15)
    # The response streams at NIC × factor, as it did on the NIC's tree; only the request's frame moved beside it.
    assert after == pytest.approx(before - wire(0) / (NIC * factor), rel=0, abs=1e-9)
    assert "s->s/a" in sim.platform.fabric.flows.links  # receiving is capped by the same factor here


# --- links.csv --------------------------------------------------------------------------------------


def test_links_table_counts_the_flows_wire_bytes_utilization_and_saturation():
    size = 2_000_000
    exp = local("s", f"{size} B")
    exp["workloads"][0]["think_time"] = "7 ms"  # idle between requests: nothing in flight at the end
    exp["duration"] = "0.5 s"
    results = virtsim.run_experiment(exp)
    jobs = results.jobs
    started = len(jobs)
    done = jobs.end_s.notna().sum()
    links = results.links.set_index("link")
    out, back = links.loc["s->switch"], links.loc["switch->s"]
    assert set(results.links.columns) == {"link", "from", "to", "capacity_bytes_per_s", "bytes", "utilization",
                                          "saturated_s"}
    assert (out["from"], out["to"]) == ("s", "switch")
    in_flight = started - done
    assert out.bytes >= done * wire(size) - 1e-6 and out.bytes <= started * wire(size) + 1e-6
    if in_flight == 0:
        assert out.bytes == pytest.approx(done * wire(size), rel=1e-12)
        assert back.bytes == pytest.approx(done * wire(0), rel=1e-9)
        # Alone, the response's flow runs the link full: saturated for its wire time per request.
        assert out.saturated_s == pytest.approx(done * wire(size) / NIC, rel=1e-9)
    assert out.utilization == pytest.approx(out.bytes / (NIC * 0.5), rel=1e-12)
    assert back.saturated_s == pytest.approx(0.0, abs=1e-12) or back.saturated_s < out.saturated_s


def test_links_table_counts_from_the_warm_up():
    size = 1_000_000
    exp = local("s", f"{size} B")
    full = virtsim.run_experiment(exp).links.set_index("link")
    exp["warmup"] = "0.2 s"
    warm = virtsim.run_experiment(exp).links.set_index("link")
    # The same run; after a warm-up of 0.2 s of 0.5 s, the link carried 0.3 s of its steady traffic.
    assert warm.loc["s->switch", "bytes"] < full.loc["s->switch", "bytes"]
    assert warm.loc["s->switch", "utilization"] == pytest.approx(full.loc["s->switch", "utilization"], rel=0.01)
    assert warm.loc["s->switch", "utilization"] == pytest.approx(
        warm.loc["s->switch", "bytes"] / (NIC * 0.3), rel=1e-12)


def test_no_links_table_without_a_network():
    results = virtsim.run_experiment(local("s", "1 MB", network=False))
    assert results.links is None and "links" not in results.tables()


# --- determinism and failures ----------------------------------------------------------------------


def test_two_runs_are_bit_identical():
    exp = racks([pair("cross", "s1", "c1", "64 KiB", rate="1000 /s"), pair("bulk", "s2", "c2", "5 MB")],
                duration="0.5 s")
    a, b = virtsim.run_experiment(copy.deepcopy(exp)), virtsim.run_experiment(copy.deepcopy(exp))
    for name, table in a.tables().items():
        pd.testing.assert_frame_equal(table, b.tables()[name], check_exact=True)


def test_a_failing_vm_cancels_its_flows():
    exp = local("s/a", "50 MB", vm=True, clients=2)
    exp["failures"] = [{"domain": "s/a", "at": ["0.1 s"], "time_to_repair": "10 s"}]
    sim = Simulation(virtsim.load_experiment(exp))
    fabric = sim.platform.fabric
    for source in sim.sources:  # as Simulation.run starts them, but run step by step
        source.start()
    sim.failures.start()
    sim.env.run(until=0.099)
    assert fabric.flows.flows() and fabric.flows.links["s->switch"].load > 0
    sim.env.run(until=0.2)
    assert not fabric.flows.flows()
    assert fabric.flows.links["s->switch"].load == 0.0 and not fabric._live.get("s/a")
    jobs = sim.log
    assert len(jobs.failed_at) == 2


# --- through the command line ----------------------------------------------------------------------


def test_run_and_plot_an_experiment_with_a_network_through_the_cli(tmp_path):
    exp = racks([pair("cross", "s1", "c1", "64 KiB", rate="500 /s")], duration="0.3 s")
    path = tmp_path / "racks.yaml"
    path.write_text(yaml.safe_dump(exp), encoding="utf-8")
    out = tmp_path / "out"
    cli = [sys.executable, "-m", "virtsim.cli"]
    subprocess.run([*cli, "run", str(path), "-o", str(out)], check=True, capture_output=True, cwd=ROOT)
    links = pd.read_csv(out / "links.csv")
    assert len(links) == 2 * (2 * 1 + 6)  # each leaf to the spine, each host to its leaf, both ways
    assert links.set_index("link").loc["spine1->leaf1", "bytes"] > 0
    subprocess.run([*cli, "plot", str(out)], check=True, capture_output=True, cwd=ROOT)
    assert (out / "topology.png").stat().st_size > 0


def test_a_sweep_over_a_network_writes_every_points_links(tmp_path):
    exp = racks([pair("cross", "s1", "c1", "64 KiB", rate="500 /s")], duration="0.2 s")
    exp["sweep"] = {"workloads[0].arrivals.rate": ["500 /s", "1000 /s"]}
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(exp), encoding="utf-8")
    run = virtsim.run_sweep(virtsim.load_sweep(path), tmp_path / "out")
    links = pd.read_csv(tmp_path / "out" / "links.csv")
    assert len(links) == 2 * 16 and set(links.scenario) == {0, 1}
    busy = links[links.link == "s1->leaf2"].set_index("scenario").bytes
    assert busy[1] > 1.5 * busy[0]  # twice the requests, twice the responses' bytes (about)
    assert run is not None


def test_alone_the_breakdown_holds_the_routes_wire_and_latency():
    # One request at a time per pair: the breakdown of a request alone is all of its response time, whether
    # its route stays in the rack (a host link is the slowest) or crosses the spine with 1 us per link.
    exp = racks([pair("cross", "s1", "c1", "1 MB", think="1 ms"), pair("same", "s3", "c3", "1 MB", think="1 ms")],
                oversubscription=8.0, duration="0.2 s")  # uplinks at half a host link
    exp["network"]["topology"]["link"] = {"bandwidth": "10 Gbit/s", "latency": "1 us"}
    results = virtsim.run_experiment(exp)
    jobs = results.jobs[results.jobs.end_s.notna()]
    assert np.allclose(jobs.wait_s, 0.0, atol=1e-12)
    cross, same = lone(results, "cross"), lone(results, "same")
    # Twice as long on the wire through the slower uplink, and 2 more links each way at 1 us.
    assert cross - same == pytest.approx(wire(1_000_000) / NIC + 2 * 2e-6, rel=1e-9)


def test_a_transfer_between_two_consumers_crosses_their_route_and_arrives():
    exp = racks([pair("cross", "s1", "c1", "64 KiB", rate="1 /s")], duration="1 s")
    exp["network"]["routing"] = {"ecmp": True}
    exp["network"]["topology"] |= {"spines": 2, "oversubscription": 2.0}
    sim = Simulation(virtsim.load_experiment(exp))
    fabric = sim.platform.fabric
    links, latency_s = fabric.route("c1", "s1", "k")
    assert links[0] == "c1->leaf1" and links[-1] == "leaf2->s1" and len(links) == 4 and latency_s == 0.0
    arrived = []
    flows = [fabric.transfer("c1", "s1", 1e6, key=k, on_done=arrived.append) for k in range(8)]
    assert {f.links[1].name for f in flows} == {"leaf1->spine1", "leaf1->spine2"}  # ECMP spreads them
    sim.env.run(until=0.1)
    assert arrived == flows
    # Eight flows of 1 MB share c1's 10 Gbit/s link: all arrive together, after 8 MB at its rate.
    assert max(f.finished_at for f in flows) == pytest.approx(8e6 / NIC, rel=1e-12)
    assert not fabric._live.get("c1") and not fabric._live.get("s1")


def test_a_bitbrains_network_load_crosses_the_hosts_link(tmp_path):
    import gzip

    header = ("vm_id,timestamp_s,cpu_cores,cpu_capacity_mhz,cpu_usage_mhz,cpu_usage_pct,mem_capacity_kb,"
              "mem_usage_kb,disk_read_kBps,disk_write_kBps,net_rx_kBps,net_tx_kBps")
    t0 = 1372629804
    rows = [f"8,{t0},2,5200,2600,50,8388608,1000,0,0,0,0", f"8,{t0 + 300},2,5200,5200,100,8388608,1000,0,0,64,64",
            f"8,{t0 + 600},2,5200,0,0,8388608,1000,0,0,0,0"]
    trace = tmp_path / "bb.csv.gz"
    trace.write_bytes(gzip.compress(("\n".join([header, *rows]) + "\n").encode()))
    exp = {"name": "bb", "duration": "900 s", "cold_start": False,
           "hosts": [{"name": "h", "hardware": "server-1s-16c",
                      "vms": [{"name": "a", "vcpus": 2, "memory": "8 GiB"}]}],
           "loads": [{"name": "bb", "type": "utilization", "format": "bitbrains", "path": str(trace),
                      "targets": "h/a", "rows": [8]}],
           "network": {"topology": {"kind": "star"}}}
    sim = Simulation(virtsim.load_experiment(exp)).run()
    links = collect(sim).links.set_index("link")
    # 64 KiB/s received plus 64 KiB/s sent from 300 s to 600 s, all over the VM's host's link out.
    assert links.loc["h->switch", "bytes"] == pytest.approx(2 * 64 * 1024 * 300, rel=1e-12)
    assert links.loc["switch->h", "bytes"] == 0.0
    assert not sim.platform.nics["h"][0].nodes  # the NIC's own tree is not used


@settings(max_examples=10, deadline=None)
@given(size=st.integers(0, 3_000_000), request=st.integers(0, 3_000_000), receive=st.booleans())
def test_alone_a_transaction_streams_at_its_slower_direction_instead_of_both_in_turn(size, request, receive):
    # Property: a lone request's wire stage goes from (out + in) / NIC on the NIC to max(out, in) / NIC over the
    # network's two directions, whichever way its bytes go; nothing else changes, when the wire is its
    # stream's slowest stage (bytes this size on a bare host).
    def run(network: bool) -> float:
        exp = local("s", f"{size} B", network=network)
        exp["duration"] = "0.05 s"
        exp["workloads"][0]["demand"]["net"] |= {"request_bytes": f"{request} B",
                                                 "direction": "receive" if receive else "send"}
        return lone(virtsim.run_experiment(exp), "w")

    assert run(True) == pytest.approx(run(False) - min(wire(size), wire(request)) / NIC, rel=0, abs=1e-9)
