"""Packets: a transaction of B bytes is ⌈B / MSS⌉ segments, and CPU and wire time follow from them.

The segment arithmetic (``virtsim.model.packets``) is checked against hand
counts and by properties; a simulated bulk transfer on 10 GbE against the line
rate's payload limit; a lone request's breakdown against its response time;
and a 12 KB response against what its packets cost. Profile numbers are read
from the catalog, never written here.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import virtsim
from virtsim.config import ConfigError, load_experiment, load_profile
from virtsim.model.packets import COALESCE_BYTES, FRAMING_BYTES, HEADER_BYTES, Link

KVM = load_profile("hypervisors", "kvm")
LINUX = load_profile("os", "linux-server")
US = 1e-6
EXACT = 1e-9
OFF = {"tso": False, "gro": False}

BYTES = st.integers(min_value=0, max_value=50 * 2**20)
MTUS = st.integers(min_value=68, max_value=9216)


def experiment(host: dict, target: str, demand: dict, *, duration: str = "4 s") -> dict:
    return {"name": "packets", "seed": 3, "duration": duration, "cold_start": False, "hosts": [host],
            "workloads": [{"name": "w", "target": target, "type": "closed", "clients": 1, "think_time": "1 s",
                           "demand": demand}]}


def host(nic: dict | None = None, cores: int = 8, **layers) -> dict:
    nic = {"name": "eth0", "bandwidth": "10 Gbit/s", "latency_us": 10, **(nic or {})}
    return {"name": "h", "hardware": {"cores": cores, "memory": "32 GiB", "nics": [nic]}, **layers}


def alone(h: dict, target: str, demand: dict):
    """The row of a job that ran alone (every job the same)."""
    jobs = virtsim.run_experiment(experiment(h, target, demand)).jobs
    done = jobs[jobs["end_s"].notna()]
    assert len(done) >= 2 and np.ptp(done["response_time_s"].to_numpy()) < 1e-12
    return done.iloc[0]


# --- segment arithmetic ----------------------------------------------------------------------------

def test_mss_is_the_mtu_less_ip_tcp_and_timestamp_headers():
    assert (HEADER_BYTES, FRAMING_BYTES) == (20 + 20 + 12, 14 + 4 + 8 + 12)
    assert Link(1500).mss_bytes == 1448 and Link(500).mss_bytes == 448 and Link(9000).mss_bytes == 8948
    # An offloaded buffer is the most whole segments within 64 KiB.
    assert Link(1500).coalesced_bytes == 45 * 1448 <= COALESCE_BYTES < 46 * 1448


def test_a_small_request_and_response_is_one_packet_each_way():
    for link in (Link(), Link(500, tso=False, gro=False)):
        rr = link.transaction(200, 100)
        assert (rr.sent, rr.received, rr.wire_packets) == (1, 1, 2)
        assert rr.wire_bytes == 300 + 2 * (HEADER_BYTES + FRAMING_BYTES)


def test_bulk_counts_by_hand():
    # 1 MB sent at MTU 1500 without offloads: 691 segments out, one ACK per two back, plus the request.
    off = Link(1500, tso=False, gro=False).transaction(1e6)
    assert (off.sent, off.received, off.wire_packets) == (691, 1 + 345, 691 + 1)
    # With TSO and GRO: 16 buffers of at most 65,160 bytes; the peer ACKs 8 of them. The wire is the same.
    on = Link().transaction(1e6)
    assert (on.sent, on.received, on.wire_packets, on.wire_bytes) == (16, 1 + 8, 692, off.wire_bytes)
    # Received, the roles swap: this host's data arrive and it sends the ACKs.
    down = Link(1500, tso=False, gro=False).transaction(1e6, receive=True)
    assert (down.sent, down.received) == (1 + 345, 691)


@given(nbytes=BYTES, more=st.integers(min_value=0, max_value=2**20), mtu=MTUS)
def test_packets_grow_with_bytes_and_are_the_ceiling_of_bytes_over_mss(nbytes, more, mtu):
    link = Link(mtu, tso=False, gro=False)
    assert link.segments(nbytes) == max(1, math.ceil(nbytes / (mtu - 52)))
    small, large = link.transaction(nbytes), link.transaction(nbytes + more)
    for field in ("sent", "received", "wire_packets", "wire_bytes"):
        assert getattr(large, field) >= getattr(small, field)
    assert small.sent == link.segments(nbytes) and small.wire_packets == link.segments(nbytes) + 1


@given(nbytes=BYTES, request=BYTES, mtu=MTUS, receive=st.booleans())
def test_offloads_never_add_cpu_packets_and_the_wire_carries_at_least_the_payload(nbytes, request, mtu, receive):
    plain = Link(mtu, tso=False, gro=False).transaction(nbytes, request, receive)
    for tso, gro in ((True, False), (False, True), (True, True)):
        offloaded = Link(mtu, tso=tso, gro=gro).transaction(nbytes, request, receive)
        assert offloaded.sent <= plain.sent and offloaded.received <= plain.received
        assert (offloaded.wire_packets, offloaded.wire_bytes) == (plain.wire_packets, plain.wire_bytes)
    assert plain.wire_bytes >= nbytes + request
    assert plain.wire_bytes == nbytes + request + plain.wire_packets * (HEADER_BYTES + FRAMING_BYTES)


# --- the wire ------------------------------------------------------------------------------------

def test_10gbe_carries_at_most_9_41_gbits_of_tcp_payload_at_mtu_1500():
    assert 10e9 * Link().mss_bytes / (1500 + FRAMING_BYTES) == pytest.approx(9.41e9, rel=1e-3)
    # Simulated: a native bulk transfer of 64 MiB, whose CPU streams behind the wire.
    size = 64 * 2**20
    job = alone(host(), "h", {"cpu": "1 ns", "net": {"transactions": 1, "bytes": f"{size} B"}})
    goodput = size * 8 / job["response_time_s"]
    assert 9.38e9 < goodput < 9.415e9  # the limit, less one round trip and the first packets' CPU


def test_a_smaller_mtu_carries_less_payload_per_wire_byte():
    size = 16 * 2**20
    rates = {}
    for mtu in (9000, 1500, 576):
        job = alone(host({"mtu_bytes": mtu}), "h", {"cpu": "1 ns", "net": {"transactions": 1, "bytes": f"{size} B"}})
        rates[mtu] = size * 8 / job["response_time_s"]
    assert rates[9000] > rates[1500] > rates[576]
    assert rates[576] == pytest.approx(10e9 * 524 / (576 + 38), rel=5e-3)  # still wire-bound


# --- CPU per packet ----------------------------------------------------------------------------

def test_small_packets_make_a_bulk_transfer_cpu_bound_without_offloads():
    """At MTU 500 on one slow core the native stack, not the wire, sets the pace (XEN Table 6's regime)."""
    size = 8 * 2**20
    slow = {"name": "h", "hardware": {"cores": 1, "core_speed": 0.5, "memory": "4 GiB",
                                      "nics": [{"name": "eth0", "bandwidth": "1 Gbit/s", "latency_us": 10,
                                                "mtu_bytes": 500, "offload": OFF}]}}
    job = alone(slow, "h", {"cpu": "1 ns", "net": {"transactions": 1, "bytes": f"{size} B"}})
    packets = Link(500, tso=False, gro=False).transaction(size)
    send, receive = LINUX.net.send_cpu_per_packet_us * US, LINUX.net.receive_cpu_per_packet_us * US
    cpu = (packets.sent * send + packets.received * receive) / 0.5
    assert cpu > packets.wire_bytes / 1.25e8  # CPU-bound: the wire waits for the stack
    assert job["response_time_s"] == pytest.approx(1e-9 / 0.5 + cpu + 2 * 10 * US, abs=EXACT)
    # All of it is the native stack's: bare metal would take as long.
    assert job["native_s"] == pytest.approx(job["response_time_s"] - 2 * 10 * US, abs=EXACT)
    assert job["slowdown"] == pytest.approx(1.0, abs=1e-9)


def test_a_12_kb_response_costs_what_its_packets_cost():
    """Without offloads a 12 KiB response is ⌈12288 / 1448⌉ = 9 segments, and 4 ACKs come back: its CPU and
    wire time over a 200-byte response's are those 8 more segments' and 4 ACKs'. With TSO and GRO it is one
    buffer each way, and only its frames' wire time is added."""
    kvm = {"hypervisor": "kvm", "vms": [{"name": "a", "vcpus": 2, "memory": "2 GiB"}]}
    segments = math.ceil(12288 / 1448)
    assert segments == 9
    send = (LINUX.net.send_cpu_per_packet_us + KVM.net.guest_cpu_per_packet_us) * US
    receive = (LINUX.net.receive_cpu_per_packet_us + KVM.net.guest_cpu_per_packet_us) * US
    vhost = KVM.net.host_cpu_per_packet_us * US

    def response(nbytes: int, nic: dict) -> float:
        demand = {"cpu": "1 ns", "net": {"transactions": 1, "bytes": f"{nbytes} B", "request_bytes": "100 B"}}
        return alone(host(nic, **kvm), "h/a", demand)["response_time_s"]

    more_sent, more_received = segments - 1, segments // 2
    wire = (12288 - 200 + more_sent * (HEADER_BYTES + FRAMING_BYTES)) / (1.25e9 * KVM.net.bandwidth_factor)
    # The guest's stream (its stack and kicks) is the slowest stage of the 12 KiB response; vhost's is shorter.
    guest_stream = more_sent * send + more_received * receive
    assert guest_stream > max((more_sent + more_received) * vhost, wire + 200 / 1.25e9)
    extra = response(12288, {"offload": OFF}) - response(200, {"offload": OFF})
    small_wire = (200 + 100 + 2 * (HEADER_BYTES + FRAMING_BYTES)) / (1.25e9 * KVM.net.bandwidth_factor)
    assert extra == pytest.approx(guest_stream - small_wire, abs=EXACT)
    # Offloaded: one packet each way for the CPU, so only the wire grows.
    assert response(12288, {}) - response(200, {}) == pytest.approx(wire, abs=EXACT)


def test_per_packet_host_cpu_runs_in_the_layers_thread_beside_the_wire():
    """Docker's NAT work per packet is burnt on the engine's node; alone, a large transfer hides it."""
    docker = {"host_os": "linux-server", "engine": "docker", "containers": [{"name": "c", "network": "nat"}]}
    demand = {"cpu": "1 ns", "net": {"transactions": 1, "bytes": "32 MiB"}}
    results = virtsim.run_experiment(experiment(host(**docker), "h/c", demand))
    consumers = results.consumers.set_index("consumer")
    nat = load_profile("engines", "docker").network_modes["nat"]
    packets = Link().transaction(32 * 2**20)
    jobs = results.jobs[results.jobs["end_s"].notna()]
    per_job = (packets.sent + packets.received) * nat.host_cpu_per_packet_us * US
    assert "h/docker" in consumers.index and per_job > 0
    # What shows is NAT's delay and its work on the first packet each way; the rest hides behind the wire.
    first = 2 * nat.host_cpu_per_packet_us * US
    assert jobs["virtualization_s"].iloc[0] == pytest.approx(nat.latency_us * US + first, abs=EXACT)
    assert jobs["io_latency_s"].iloc[0] > per_job


# --- the breakdown is what runs --------------------------------------------------------------------

@pytest.mark.parametrize(("nic", "nbytes", "target"), [
    ({}, 200, "h"), ({}, 200, "h/a"), ({"offload": OFF}, 12288, "h/a"), ({}, 8 * 2**20, "h/a"),
    ({"mtu_bytes": 500, "offload": OFF, "bandwidth": "100 Gbit/s"}, 2**20, "h/a"),
    ({"mtu_bytes": 500, "offload": OFF, "bandwidth": "100 Gbit/s"}, 2**20, "h"),
])
def test_a_lone_requests_breakdown_adds_up_to_its_response_time(nic, nbytes, target):
    kvm = {"hypervisor": "kvm", "vms": [{"name": "a", "vcpus": 2, "memory": "2 GiB"}]}
    demand = {"cpu": "10 us", "net": {"transactions": 2, "bytes": f"{nbytes} B", "request_bytes": "100 B"}}
    job = alone(host(nic, **kvm), target, demand)
    parts = job["native_s"] + job["virtualization_s"] + job["io_latency_s"]
    assert parts == pytest.approx(job["response_time_s"], abs=EXACT)
    assert job["wait_s"] == pytest.approx(0.0, abs=EXACT)
    assert job["slowdown"] >= 1.0 - 1e-12


def test_the_bare_metal_time_of_a_streamed_transfer_is_the_slower_of_its_stack_and_the_wire():
    h = host({"mtu_bytes": 500, "offload": OFF, "bandwidth": "100 Gbit/s"},
             hypervisor="kvm", vms=[{"name": "a", "vcpus": 2, "memory": "2 GiB"}])
    native = alone(host({"mtu_bytes": 500, "offload": OFF, "bandwidth": "100 Gbit/s"}), "h",
                   {"cpu": "1 ns", "net": {"transactions": 1, "bytes": "1 MiB"}})
    virtual = alone(h, "h/a", {"cpu": "1 ns", "net": {"transactions": 1, "bytes": "1 MiB"}})
    # Bare metal is the same transfer on the native host: the VM's slowdown is its time over that.
    assert virtual["slowdown"] == pytest.approx(virtual["response_time_s"] / native["response_time_s"], rel=1e-6)


# --- bad input ---------------------------------------------------------------------------------

@pytest.mark.parametrize("mtu", [67, 9217, 1500.5, "1500", True])
def test_a_bad_mtu_is_a_located_error(mtu):
    with pytest.raises(ConfigError) as info:
        load_experiment(experiment(host({"mtu_bytes": mtu}), "h", {"cpu": "1 ms"}))
    (problem,) = info.value.problems
    assert problem.path == "hosts[0].hardware.nics[0].mtu_bytes"
    assert "integer from 68 to 9216" in problem.message


def test_a_misspelt_offload_key_gets_a_suggestion():
    with pytest.raises(ConfigError) as info:
        load_experiment(experiment(host({"offload": {"tsoo": False}}), "h", {"cpu": "1 ms"}))
    (problem,) = info.value.problems
    assert problem.path == "hosts[0].hardware.nics[0].offload.tsoo" and "'tso'" in problem.message


def test_a_bad_request_size_is_a_located_error():
    with pytest.raises(ConfigError) as info:
        load_experiment(experiment(host(), "h", {"cpu": "1 ms", "net": {"request_bytes": "-3 B"}}))
    (problem,) = info.value.problems
    assert problem.path == "workloads[0].demand.net.request_bytes"


def test_the_link_refuses_an_mtu_ip_cannot_carry():
    with pytest.raises(ValueError, match="MTU must be from 68 to 9216 bytes, got 40"):
        Link(40)
