"""Disks and NICs: the I/O phases of a request, device ceilings, and sharing among tenants.

A disk operation occupies the device for ``max(1/IOPS, bytes/bandwidth)``
seconds (sequential ones for their transfer only) and then waits for the
device's latency plus the path's; a network transaction moves its frames
(its bytes in MTU-sized segments, headers and framing included) through the
NIC and waits for the native latency plus the path's; the native stack's CPU
of its first packet each way comes before, the rest of its packets' CPU runs
beside the transfer (hidden behind the wire in these tests). Ceilings
of a virtual I/O path (a VMM's single I/O thread) emerge from sharing that
thread. Profile numbers are read from the resolved spec or the catalog.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import simpy

import virtsim
from virtsim.components.devices import Disk, Nic
from virtsim.config import load_experiment, load_profile
from virtsim.experiment.simulation import Simulation

KVM = load_profile("hypervisors", "kvm")
FIRECRACKER = load_profile("hypervisors", "firecracker")
US, KiB, MiB = 1e-6, 2**10, 2**20
EXACT = 1e-9

SERVER = "server-2s-32c"
LINUX = load_profile("os", "linux-server")
FIRST_PACKETS_S = (LINUX.net.send_cpu_per_packet_us + LINUX.net.receive_cpu_per_packet_us) * US
"""The native stack's CPU of a transaction's first packet each way, on the reference core."""
MSS, FRAMING = 1500 - 52, 52 + 38
NO_PACKET_COST = {"guest_cpu_per_packet_us": 0, "host_cpu_per_packet_us": 0}


def wire_bytes(payload: float, request: float = 0.0) -> float:
    """A transaction's frames at MTU 1500: its bytes, plus headers and framing per segment (at least one a way)."""
    return payload + request + FRAMING * (max(1, math.ceil(payload / MSS)) + max(1, math.ceil(request / MSS)))


def experiment(hosts: list, workloads: list, *, duration: str = "3 s", warmup: str = "0 s") -> dict:
    # Every stack is up at time 0: these tests are about I/O, not start-up.
    return {"name": "devices", "seed": 5, "duration": duration, "warmup": warmup, "cold_start": False,
            "hosts": hosts, "workloads": workloads}


def closed(name: str, target: str, demand: dict, *, clients: int = 1, think: str | dict = "1 s") -> dict:
    return {"name": name, "target": target, "type": "closed", "clients": clients, "think_time": think,
            "demand": demand}


def vm(name: str = "a", vcpus: int = 1) -> dict:
    return {"name": name, "vcpus": vcpus, "memory": "1 GiB"}


def devices_of(host: dict):
    spec = load_experiment(experiment([host], [closed("w", host["name"], {"cpu": "1 s"})]))
    hardware = spec.hosts[0].hardware
    return hardware.disks[0], hardware.nics[0]


def alone(host: dict, target: str, demand: dict) -> pd.Series:
    """The row of a job that runs alone (one client, one job a second)."""
    jobs = virtsim.run_experiment(experiment([host], [closed("w", target, demand)])).jobs
    done = jobs[jobs["end_s"].notna()]
    assert len(done) >= 2 and np.ptp(done["response_time_s"].to_numpy()) < 1e-12
    job = done.iloc[0]
    assert job["wait_s"] == pytest.approx(0.0, abs=EXACT)
    return job


def completions_per_s(results: virtsim.Results, workload: str) -> float:
    """Jobs of ``workload`` completed per second between the warm-up and the end."""
    summary, jobs = results.summary.iloc[0], results.jobs
    ends = jobs.loc[jobs["workload"] == workload, "end_s"]
    window = (ends > summary["start_s"]) & (ends <= summary["end_s"])
    return window.sum() / summary["measured_s"]


# --- the device model -----------------------------------------------------------------------------


def test_each_consumer_gets_one_capped_node_per_device():
    disk_spec, nic_spec = devices_of({"name": "h", "hardware": SERVER})
    env = simpy.Environment()
    disk, nic = Disk(env, "h", disk_spec), Nic(env, "h", nic_spec)
    a = disk.node_for("h/a")
    assert disk.node_for("h/a") is a and disk.node_for("h/b") is not a
    assert disk.node_for("h/c", cap=0.25).cap == 0.25
    assert disk.node_for("h/d", cap=5.0).cap == 1.0  # never more than the whole device
    assert nic.node_for("h/a").cap == nic_spec.bandwidth_bytes_per_s
    assert nic.node_for("h/b", cap=1e8).cap == 1e8
    # Asked again with another ceiling, the tightest one holds.
    assert disk.node_for("h/a", cap=0.5) is a and a.cap == 0.5
    assert disk.node_for("h/a", cap=0.75).cap == 0.5 and disk.node_for("h/a").cap == 0.5
    assert nic.node_for("h/b", cap=5e7).cap == 5e7 and nic.node_for("h/b").cap == 5e7
    assert disk.resource.capacity == 1.0 and nic.resource.capacity == nic_spec.bandwidth_bytes_per_s


# --- one request alone ----------------------------------------------------------------------------


@pytest.mark.parametrize(("ops", "size", "pattern", "kind"), [
    (3, 4 * KiB, "random", "read"),  # IOPS-bound
    (2, 1 * MiB, "random", "read"),  # bandwidth-bound
    (2, 1 * MiB, "sequential", "read"),
    (4, 4 * KiB, "sequential", "read"),  # no IOPS bound: transfer time only
    (3, 4 * KiB, "random", "write"),
    (2, 1 * MiB, "sequential", "write"),
])
def test_a_native_disk_phase(ops, size, pattern, kind):
    host = {"name": "h", "hardware": SERVER}
    disk, _ = devices_of(host)
    write = kind == "write"
    iops = disk.write_iops if write else disk.iops
    bandwidth = disk.write_bandwidth_bytes_per_s if write else disk.bandwidth_bytes_per_s
    latency = disk.write_latency_s if write else disk.latency_s
    job = alone(host, "h", {"cpu": "1 ns", "disk": {"ops": ops, "bytes": f"{size} B", "pattern": pattern,
                                                     "kind": kind}})
    per_op = size / bandwidth if pattern == "sequential" else max(1 / iops, size / bandwidth)
    io = ops * (per_op + latency)
    assert job["response_time_s"] == pytest.approx(1e-9 + io, abs=EXACT)
    assert (job["native_s"], job["virtualization_s"], job["io_latency_s"]) == pytest.approx(
        (1e-9, 0.0, io), abs=EXACT)


def test_a_disk_phase_through_a_path_adds_its_latency_and_bandwidth_factor():
    """KVM with its CPU costs and ceiling switched off: only its disk latency and bandwidth factor remain."""
    host = {"name": "h", "hardware": SERVER, "vms": [vm()],
            "hypervisor": {"profile": "kvm", "disk": {"guest_cpu_us": 0, "host_cpu_us": 0, "iops_limit": None,
                                                      "latency_us": 50}}}
    disk, _ = devices_of(host)
    for size in (4 * KiB, 64 * KiB):
        job = alone(host, "h/a", {"cpu": "1 ns", "disk": {"ops": 3, "bytes": f"{size} B"}})
        per_op = max(1 / disk.iops, size / (disk.bandwidth_bytes_per_s * KVM.disk.bandwidth_factor))
        io = 3 * (per_op + disk.latency_s + 50 * US)
        cpu = 1e-9 * KVM.cpu.factor
        assert job["response_time_s"] == pytest.approx(cpu + io, abs=EXACT)


def test_a_native_network_phase():
    host = {"name": "h", "hardware": SERVER}
    _, nic = devices_of(host)
    job = alone(host, "h", {"cpu": "1 ns", "net": {"transactions": 3, "bytes": "1 MB"}})
    io = 3 * 2 * nic.latency_s + 3 * wire_bytes(1e6) / nic.bandwidth_bytes_per_s  # a transaction is a round trip
    assert job["response_time_s"] == pytest.approx(1e-9 + 3 * FIRST_PACKETS_S + io, abs=EXACT)
    assert job["io_latency_s"] == pytest.approx(io, abs=EXACT)
    assert job["native_s"] == pytest.approx(1e-9 + 3 * FIRST_PACKETS_S, abs=EXACT)


def test_a_network_phase_through_kvm_adds_its_latency_at_its_bandwidth_factor():
    host = {"name": "h", "hardware": SERVER, "vms": [vm()],
            "hypervisor": {"profile": "kvm", "net": NO_PACKET_COST}}
    _, nic = devices_of(host)
    job = alone(host, "h/a", {"cpu": "1 ns", "net": {"transactions": 3, "bytes": "1 MB"}})
    added = 3 * (KVM.net.latency_us + KVM.net.wake_us) * US  # alone, the vhost thread is idle: woken each time
    io = 3 * 2 * nic.latency_s + 3 * wire_bytes(1e6) / (nic.bandwidth_bytes_per_s * KVM.net.bandwidth_factor)
    cpu = 1e-9 * KVM.cpu.factor + 3 * FIRST_PACKETS_S
    assert job["response_time_s"] == pytest.approx(cpu + added + io, abs=EXACT)
    # What the path adds is virtualization; the device's own time is I/O.
    assert job["io_latency_s"] == pytest.approx(io, abs=EXACT)
    assert job["virtualization_s"] == pytest.approx(1e-9 * (KVM.cpu.factor - 1) + added, abs=EXACT)


def test_all_phases_in_one_request_add_up():
    """CPU, then the disk, then the network, one after another."""
    host = {"name": "h", "hardware": {"cores": 1, "core_speed": 2.0, "memory": "8 GiB"}}
    disk, nic = devices_of(host)
    job = alone(host, "h", {"cpu": "2 ms", "syscalls": 100, "disk": {"ops": 2, "bytes": "4 KiB"},
                            "net": {"transactions": 2, "bytes": "10 kB"}})
    syscall_us = load_experiment(experiment([host], [closed("w", "h", {"cpu": "1 s"})])).hosts[0].host_os.ops.syscall
    # 10 kB is one packet each way for the CPU (TSO, GRO), 7 frames on the wire.
    cpu = (2e-3 + 100 * syscall_us * US + 2 * FIRST_PACKETS_S) / 2.0
    io = 2 * (max(1 / disk.iops, 4 * KiB / disk.bandwidth_bytes_per_s) + disk.latency_s)
    io += 2 * 2 * nic.latency_s + 2 * wire_bytes(1e4) / nic.bandwidth_bytes_per_s
    assert job["response_time_s"] == pytest.approx(cpu + io, abs=EXACT)
    assert (job["native_s"], job["io_latency_s"]) == pytest.approx((cpu, io), abs=EXACT)


# --- ceilings of the I/O path ---------------------------------------------------------------------

# Clients with identical demands and no think time would move in lockstep (a fluid
# share finishes them all together), leaving the device idle in their latency
# phases; a random think time spreads them out.
DESYNC = {"type": "exponential", "mean": "50 us"}


def disk_ops_per_s(hypervisor, *, ops: int = 1, clients: int = 16, think: str = "50 us", duration: str,
                   warmup: str, hardware=SERVER) -> float:
    """Random 4 KiB reads per second from many clients in one VM (or on the host itself)."""
    host = {"name": "h", "hardware": hardware}
    if hypervisor is not None:
        host |= {"hypervisor": hypervisor, "vms": [vm("a", 8)]}
    target = "h" if hypervisor is None else "h/a"
    demand = {"cpu": "1 ns", "disk": {"ops": ops, "bytes": "4 KiB", "pattern": "random", "kind": "read"}}
    think_time = {"type": "exponential", "mean": think}
    results = virtsim.run_experiment(experiment([host], [closed("w", target, demand, clients=clients,
                                                                think=think_time)],
                                                duration=duration, warmup=warmup))
    return completions_per_s(results, "w") * ops


def test_native_random_reads_reach_the_devices_iops():
    disk, _ = devices_of({"name": "h", "hardware": SERVER})
    rate = disk_ops_per_s(None, ops=10, clients=400, think="2 ms", duration="60 ms", warmup="10 ms")
    assert rate == pytest.approx(disk.iops, rel=0.02)


def test_kvm_random_reads_saturate_at_its_iops_limit():
    """QEMU's single I/O thread, one host core, serves the VM's requests one after another.

    Enough clients to keep it busy through the path's added latency (FELTER: QD128)."""
    rate = disk_ops_per_s("kvm", clients=128, duration="150 ms", warmup="30 ms")
    # Within 1 %: completions counted in a 120 ms window include operations the
    # thread served just before it (each then waits 330 µs of path latency).
    assert rate == pytest.approx(KVM.disk.iops_limit, rel=0.01)


def test_firecrackers_lower_ceiling():
    rate = disk_ops_per_s("firecracker", duration="300 ms", warmup="50 ms")
    assert rate == pytest.approx(FIRECRACKER.disk.iops_limit, rel=0.01)
    assert FIRECRACKER.disk.iops_limit < KVM.disk.iops_limit


def test_the_iops_limit_does_not_depend_on_the_core_speed():
    """``iops_limit`` is operations per second of the path, not reference-core work."""
    fast = {"cores": 8, "core_speed": 2.0, "memory": "64 GiB"}
    rate = disk_ops_per_s("firecracker", duration="300 ms", warmup="50 ms", hardware=fast)
    assert rate == pytest.approx(FIRECRACKER.disk.iops_limit, rel=0.01)


SEQUENTIAL = {"cpu": "1 ns", "disk": {"ops": 1, "bytes": "1 MiB", "pattern": "sequential"}}


def test_firecrackers_disk_bandwidth_limit():
    host = {"name": "h", "hardware": SERVER, "hypervisor": "firecracker", "vms": [vm("a", 4)]}
    results = virtsim.run_experiment(experiment([host], [closed("w", "h/a", SEQUENTIAL, clients=16, think=DESYNC)],
                                                duration="200 ms", warmup="50 ms"))
    rate = completions_per_s(results, "w") * MiB
    assert FIRECRACKER.disk.bandwidth_limit * 0.9 < rate <= FIRECRACKER.disk.bandwidth_limit * 1.01
    # One request alone: its transfer runs at the path's ceiling.
    disk, _ = devices_of(host)
    job = alone(host, "h/a", {"cpu": "1 ns", "disk": {"ops": 1, "bytes": "1 MiB", "pattern": "sequential"}})
    transfer = MiB / min(disk.bandwidth_bytes_per_s * FIRECRACKER.disk.bandwidth_factor,
                         FIRECRACKER.disk.bandwidth_limit)
    assert job["io_latency_s"] == pytest.approx(transfer + disk.latency_s, abs=EXACT)
    assert job["virtualization_s"] >= FIRECRACKER.disk.latency_us * US


def test_a_path_bandwidth_limit_leaves_the_rest_of_the_disk_to_the_neighbours():
    """A VM held to 1 GiB/s by its VMM thread does not keep the whole 7 GB/s disk busy."""
    host = {"name": "h", "hardware": SERVER, "hypervisor": "firecracker", "vms": [vm("a", 4)]}
    disk, _ = devices_of(host)
    workloads = [closed("fc", "h/a", SEQUENTIAL, clients=16, think=DESYNC),
                 closed("host", "h", SEQUENTIAL, clients=16, think=DESYNC)]
    results = virtsim.run_experiment(experiment([host], workloads, duration="200 ms", warmup="50 ms"))
    neighbour = completions_per_s(results, "host") * MiB
    assert neighbour > 0.8 * (disk.bandwidth_bytes_per_s - FIRECRACKER.disk.bandwidth_limit)


# --- sharing among tenants ------------------------------------------------------------------------


def kvm_host(name: str, *vms: str) -> dict:
    return {"name": name, "hardware": SERVER, "hypervisor": "kvm", "vms": [vm(v, 2) for v in vms]}


def disk_bytes_per_s(hosts: list, targets: dict) -> dict:
    workloads = [closed(name, target, SEQUENTIAL, clients=8, think=DESYNC) for name, target in targets.items()]
    results = virtsim.run_experiment(experiment(hosts, workloads, duration="200 ms", warmup="50 ms"))
    return {name: completions_per_s(results, name) * MiB for name in targets}


def test_a_noisy_neighbour_on_the_same_disk_halves_a_victims_throughput():
    disk, _ = devices_of(kvm_host("h"))
    full = disk.bandwidth_bytes_per_s * KVM.disk.bandwidth_factor
    alone_ = disk_bytes_per_s([kvm_host("h1", "victim")], {"victim": "h1/victim"})
    assert alone_["victim"] == pytest.approx(full, rel=0.02)
    shared = disk_bytes_per_s([kvm_host("h1", "victim", "noisy")], {"victim": "h1/victim", "noisy": "h1/noisy"})
    assert shared["victim"] == pytest.approx(full / 2, rel=0.02)
    assert shared["noisy"] == pytest.approx(full / 2, rel=0.02)
    apart = disk_bytes_per_s([kvm_host("h1", "victim"), kvm_host("h2", "noisy")],
                             {"victim": "h1/victim", "noisy": "h2/noisy"})
    assert apart["victim"] == pytest.approx(alone_["victim"], rel=0.01)


def test_nic_bandwidth_is_shared_among_flows():
    """Two flows of 100 MB start together on one NIC: each moves at half the line rate."""
    host = {"name": "h1", "hardware": SERVER, "vms": [vm("a"), vm("b")]}
    other = {"name": "h2", "hardware": SERVER, "vms": [vm("c")]}
    _, nic = devices_of(host)
    flow = {"cpu": "1 ns", "net": {"transactions": 1, "bytes": "100 MB"}}
    workloads = [closed(name, target, flow, think="0 s") for name, target in
                 (("a", "h1/a"), ("b", "h1/b"), ("c", "h2/c"))]
    jobs = virtsim.run_experiment(experiment([host, other], workloads, duration="1 s")).jobs
    done = jobs[jobs["end_s"].notna()]
    rt = done.groupby("workload", observed=True)["response_time_s"]
    wire = wire_bytes(1e8)
    alone_s = 1e-9 + FIRST_PACKETS_S + 2 * nic.latency_s + wire / nic.bandwidth_bytes_per_s
    shared_s = 1e-9 + FIRST_PACKETS_S + 2 * nic.latency_s + 2 * wire / nic.bandwidth_bytes_per_s
    assert rt.min()["a"] == pytest.approx(shared_s, abs=EXACT) and rt.max()["a"] == pytest.approx(shared_s, abs=EXACT)
    assert rt.max()["b"] == pytest.approx(shared_s, abs=EXACT)
    assert rt.max()["c"] == pytest.approx(alone_s, abs=EXACT)
    # Alone, a job's breakdown is all I/O; shared, half of its transfer is waiting.
    a = done[done["workload"] == "a"].iloc[0]
    assert a["io_latency_s"] == pytest.approx(alone_s - 1e-9 - FIRST_PACKETS_S, abs=EXACT)
    assert a["wait_s"] == pytest.approx(shared_s - alone_s, abs=EXACT)


def test_a_kvm_flows_bandwidth_factor_caps_it_only_when_alone():
    host = {"name": "h1", "hardware": SERVER, "hypervisor": {"profile": "kvm", "net": NO_PACKET_COST},
            "vms": [vm("a"), vm("b")]}
    _, nic = devices_of(host)
    flow = {"cpu": "1 ns", "net": {"transactions": 1, "bytes": "100 MB"}}
    latency = 2 * nic.latency_s + (KVM.net.latency_us + KVM.net.wake_us) * US  # no vhost work: always woken
    cpu = 1e-9 * KVM.cpu.factor + FIRST_PACKETS_S
    jobs = virtsim.run_experiment(experiment([host], [closed("a", "h1/a", flow, think="0 s")], duration="1 s")).jobs
    assert jobs["response_time_s"].dropna().to_numpy() == pytest.approx(
        cpu + latency + wire_bytes(1e8) / (nic.bandwidth_bytes_per_s * KVM.net.bandwidth_factor), abs=EXACT)
    both = [closed(v, f"h1/{v}", flow, think="0 s") for v in ("a", "b")]
    jobs = virtsim.run_experiment(experiment([host], both, duration="1 s")).jobs
    # Half the line rate is below each VM's cap: the two share the NIC equally.
    assert jobs["response_time_s"].dropna().to_numpy() == pytest.approx(
        cpu + latency + 2 * wire_bytes(1e8) / nic.bandwidth_bytes_per_s, abs=EXACT)


def test_a_containers_nic_cap_survives_its_cold_start():
    """The image pull reaches the container's NIC node before its requests do; the path's cap still holds."""
    host = {"name": "h", "hardware": SERVER, "host_os": "linux-server", "engine": "gvisor",
            "containers": [{"name": "c", "network": "nat"}]}
    exp = experiment([host], [closed("w", "h/c", {"cpu": "1 ms", "net": {"transactions": 1, "bytes": "1 MB"}})])
    _, nic_spec = devices_of(host)
    factor = load_profile("engines", "gvisor").network_modes["nat"].bandwidth_factor
    for cold in (False, True):
        sim = Simulation(load_experiment({**exp, "cold_start": cold}))
        node = sim.platform.nics["h"][0].node_for("h/c")
        assert node.cap == pytest.approx(nic_spec.bandwidth_bytes_per_s * factor), f"cold_start={cold}"
