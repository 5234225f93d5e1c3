"""Costs on the core that pays them: where each layer's own work runs.

A layer's own work runs either in the requester's context (``host_work:
requester``: Docker's bridge/NAT in the softirq of the container's packets),
charged to the requester and so bound by its cap, or in a thread of its own
(``host_work: thread``: KVM's vhost-net, ``h1/a.net``), a consumer capped at
its ``threads`` that saturates at threads / (its work per transaction) on its
own, beside the VMM's disk thread. Every expectation is computed from the
catalog profiles and the packets of a transaction, never retyped.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import virtsim
from virtsim.components.stack import REQUESTER, US, Layer, compose
from virtsim.config import ConfigError, load_experiment, load_profile
from virtsim.experiment.simulation import Simulation
from virtsim.model.packets import Link

KVM = load_profile("hypervisors", "kvm")
FIRECRACKER = load_profile("hypervisors", "firecracker")
DOCKER = load_profile("engines", "docker")
KATA = load_profile("engines", "kata")
LINUX = load_profile("os", "linux-server")

DURATION_S = 2.0
NET = {"cpu": "1 ns", "net": {"transactions": 100, "bytes": "100 B"}}
DISK = {"cpu": "1 ns", "disk": {"ops": 100, "bytes": "4 KiB"}}


def experiment(hosts: list, workloads: list) -> dict:
    return {"name": "contexts", "seed": 7, "duration": f"{DURATION_S} s", "warmup": "0 s", "cold_start": False,
            "hosts": hosts, "workloads": workloads}


def poisson(name: str, target: str, demand: dict, rate_per_s: float) -> dict:
    return {"name": name, "target": target, "type": "open",
            "arrivals": {"type": "poisson", "rate": f"{rate_per_s} /s"}, "demand": demand}


def kvm_host(hypervisor=None, *, vcpus: int = 4) -> dict:
    return {"name": "h", "hardware": {"cores": 8, "memory": "64 GiB"}, "hypervisor": hypervisor or "kvm",
            "vms": [{"name": "a", "vcpus": vcpus, "memory": "4 GiB"}]}


def docker_host(host_work: str | None, *, cpus: float = 0.25) -> dict:
    engine = "docker" if host_work is None else {"profile": "docker",
                                                 "network_modes": {"nat": {"host_work": host_work}}}
    return {"name": "h", "hardware": {"cores": 4, "memory": "64 GiB"}, "host_os": "linux-server", "engine": engine,
            "containers": [{"name": "c", "cpus": cpus, "network": "nat"}]}


def platform_of(host: dict):
    return Simulation(load_experiment(experiment([host], []))).platform


def work_per_job(host: dict, target: str, where: str, demand: dict = NET) -> float:
    """Reference-core seconds one job of ``demand`` leaves in consumer ``where`` (REQUESTER: the requester's CPU
    the path adds beyond the native stack), from the composed path and the packets of its transactions."""
    spec = load_experiment(experiment([host], []))
    nic = spec.hosts[0].hardware.nics[0]
    packets = Link(nic.mtu_bytes, nic.tso, nic.gro).transaction(100.0)
    net = platform_of(host).paths[target].net
    count = demand["net"]["transactions"]
    if where == REQUESTER:
        per = (net.guest_cpu_s + net.send_guest_cpu_per_packet_s * packets.sent
               + net.receive_guest_cpu_per_packet_s * packets.received)
    else:
        per = (net.host_cpu_s.get(where, 0.0) + net.send_host_cpu_per_packet_s.get(where, 0.0) * packets.sent
               + net.receive_host_cpu_per_packet_s.get(where, 0.0) * packets.received)
    return per * count


def busy_s(host: dict, workloads: list):
    """(CPU seconds of every consumer, the completed jobs) of a run."""
    results = virtsim.run_experiment(experiment([host], workloads))
    return results.consumers.set_index("consumer")["cpu_time_s"], results.jobs[results.jobs["end_s"].notna()]


# --- NAT in the requester ------------------------------------------------------------------------


def test_nat_work_counts_against_the_containers_cpu_cap():
    cap = 0.25
    engine_side, requester_side = docker_host("engine", cpus=cap), docker_host(None, cpus=cap)
    nat_per_job = work_per_job(engine_side, "h/c", "h/docker")
    assert nat_per_job > 0
    # The same NAT work is the container's once it runs in its own softirq, and nothing is left to h/docker.
    in_container = work_per_job(requester_side, "h/c", REQUESTER) - work_per_job(engine_side, "h/c", REQUESTER)
    assert in_container == pytest.approx(nat_per_job, rel=1e-12)
    assert platform_of(requester_side).paths["h/c"].net.send_host_cpu_per_packet_s == {}
    # Offered: half the cap with NAT on the engine's side.
    own_per_job = (work_per_job(engine_side, "h/c", REQUESTER)
                   + 100 * (LINUX.net.cost().send_cpu_s + LINUX.net.cost().receive_cpu_s))  # native: a packet each way
    rate = 0.5 * cap / own_per_job
    assert rate * (own_per_job + nat_per_job) > cap  # ... which overloads the cap once NAT is the container's
    load = [poisson("w", "h/c", NET, rate)]
    engine_cpu, _ = busy_s(engine_side, load)
    requester_cpu, _ = busy_s(requester_side, load)
    assert engine_cpu["h/c"] < 0.6 * cap * DURATION_S
    assert engine_cpu["h/docker"] == pytest.approx(engine_cpu["h/c"] * nat_per_job / own_per_job, rel=0.05)
    # NAT in the container's context: the container saturates at its cap, the engine does nothing.
    assert requester_cpu["h/c"] == pytest.approx(cap * DURATION_S, rel=0.01)
    assert requester_cpu["h/docker"] == 0.0


def test_a_cfs_quota_also_pays_for_the_nat():
    quota = {"name": "h", "hardware": {"cores": 4, "memory": "64 GiB"}, "host_os": "linux-server",
             "engine": "docker",
             "containers": [{"name": "c", "cpus": 0.25, "cpu_quota_period": "100 ms", "network": "nat"}]}
    path = platform_of(quota).paths["h/c"]
    nat = DOCKER.network_modes["nat"]
    assert path.net.send_guest_cpu_per_packet_s == pytest.approx(nat.host_cpu_per_packet_us * US)
    rate = 2 * 0.25 / work_per_job(quota, "h/c", REQUESTER)
    cpu, _ = busy_s(quota, [poisson("w", "h/c", NET, rate)])
    # The quota holds the container, NAT included, to its cpus per period.
    assert cpu["h/c"] <= 0.25 * DURATION_S * (1 + 1e-9) + 0.25 * 0.1


# --- vhost: a thread of its own -------------------------------------------------------------------


def test_a_kvm_vms_vhost_thread_saturates_at_one_over_its_work_while_the_guest_has_cores_to_spare():
    host = kvm_host()
    vhost_per_job = work_per_job(host, "h/a", "h/a.net")
    assert vhost_per_job == pytest.approx(100 * 2 * KVM.net.host_cpu_per_packet_us * US, rel=1e-12)
    bound_per_s = 1.0 / vhost_per_job  # one thread, one reference core (core_speed 1)
    # Below the bound the thread is busy rate × work; above it, all the time.
    below, _ = busy_s(host, [poisson("n", "h/a", NET, 0.5 * bound_per_s)])
    assert below["h/a.net"] == pytest.approx(0.5 * DURATION_S, rel=0.08)
    above, _ = busy_s(host, [poisson("n", "h/a", NET, 1.5 * bound_per_s)])
    assert above["h/a.net"] == pytest.approx(DURATION_S, rel=0.01)
    assert above["h/a"] < 0.6 * 4 * DURATION_S  # the guest's four vCPUs are far from busy
    assert above["h/a.vmm"] == 0.0  # the network's work never reaches QEMU's I/O thread


def test_two_vhost_threads_double_the_bound():
    host = kvm_host({"profile": "kvm", "net": {"threads": 2}})
    bound_per_s = 2.0 / work_per_job(host, "h/a", "h/a.net")
    below, _ = busy_s(host, [poisson("n", "h/a", NET, 0.75 * bound_per_s)])
    # 1.5 threads' worth of work: more than one thread could do, less than two.
    assert below["h/a.net"] == pytest.approx(1.5 * DURATION_S, rel=0.08)
    assert platform_of(host).layer_consumers["h/a.net"].size_cores == 2.0


def test_the_disk_and_network_threads_of_one_vm_do_not_slow_each_other():
    net_rate = 0.5 / work_per_job(kvm_host(), "h/a", "h/a.net")
    disk_rate = 0.8 / (100 / KVM.disk.iops_limit)  # QEMU's I/O thread 80% busy on its IOPS floor alone
    alone = [poisson("n", "h/a", NET, net_rate)]
    both = alone + [poisson("d", "h/a", DISK, disk_rate)]

    def net_response_s(hypervisor):
        _, jobs = busy_s(kvm_host(hypervisor), alone)
        _, jobs_both = busy_s(kvm_host(hypervisor), both)
        return (jobs["response_time_s"].mean(),
                jobs_both[jobs_both["workload"] == "n"]["response_time_s"].mean())

    separate, beside_disk = net_response_s(None)
    assert beside_disk == pytest.approx(separate, rel=0.01)
    # The same VM with the network's work in QEMU's thread (as before vhost): the disk slows the network.
    shared, shared_beside_disk = net_response_s({"profile": "kvm", "net": {"host_work": "vmm"}})
    assert shared_beside_disk > 1.2 * shared


# --- defaults -------------------------------------------------------------------------------------


def test_a_profile_that_declares_nothing_composes_as_before():
    fc_host = {"name": "h", "hardware": {"cores": 8, "memory": "64 GiB"}, "hypervisor": "firecracker",
               "vms": [{"name": "a", "vcpus": 1, "memory": "1 GiB"}]}
    assert FIRECRACKER.net.host_work == "vmm" and FIRECRACKER.disk.threads == 1
    platform = platform_of(fc_host)
    assert platform.paths["h/a"] == compose([Layer("hypervisor", FIRECRACKER, "h/a.vmm")], LINUX)
    assert "h/a.net" not in platform.layer_consumers
    assert platform.layer_consumers["h/a.vmm"].size_cores == 1.0
    # An engine mode without host_work keeps its work in the engine's consumer (kata's CNI bridge/NAT).
    assert KATA.network_modes["nat"].host_work == "engine"
    kata = platform_of({"name": "q", "hardware": "server-2s-32c", "host_os": "linux-server", "engine": "kata",
                        "containers": [{"name": "p", "network": "nat"}]})
    assert "q/kata" in kata.paths["q/p"].net.send_host_cpu_per_packet_s


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(["vmm", "thread", "requester"]), st.floats(0.0, 50.0), st.floats(0.0, 50.0))
def test_where_the_work_runs_moves_it_and_never_changes_its_sum(host_work, per_packet_us, guest_us):
    """Wherever a network path's own work runs, the CPU it costs per packet is the same in total."""
    net = {"host_cpu_per_packet_us": per_packet_us, "guest_cpu_per_packet_us": guest_us, "host_work": host_work}
    path = platform_of(kvm_host({"profile": "kvm", "net": net})).paths["h/a"].net
    total = path.send_guest_cpu_per_packet_s + sum(path.send_host_cpu_per_packet_s.values())
    assert total == pytest.approx((per_packet_us + guest_us) * US, rel=1e-12, abs=1e-18)
    where = {"vmm": {"h/a.vmm"}, "thread": {"h/a.net"}, "requester": set()}[host_work]
    assert set(path.send_host_cpu_per_packet_s) == (where if per_packet_us else set())


# --- failures -------------------------------------------------------------------------------------


def test_a_failure_of_the_vm_takes_its_network_thread_down_with_it():
    host = kvm_host()
    overload = [poisson("n", "h/a", NET, 1.5 / work_per_job(host, "h/a", "h/a.net"))]
    exp = experiment([host], overload)
    exp["failures"] = [{"domain": "h/a", "layer": "guest-os", "at": ["0.5 s"], "time_to_repair": "10 s"}]
    sim = Simulation(load_experiment(exp))
    assert {"h/a.vmm", "h/a.net"} <= {p for d in sim.failures._domains for p in d.layer_paths}
    cpu = virtsim.run_experiment(exp).consumers.set_index("consumer")["cpu_time_s"]
    # Saturated until the VM fails; its queued vhost work is lost with it, not served afterwards.
    assert cpu["h/a.net"] == pytest.approx(0.5, rel=0.02)


# --- validation -----------------------------------------------------------------------------------


def problems(exp: dict) -> str:
    with pytest.raises(ConfigError) as err:
        load_experiment(exp)
    return str(err.value)


@pytest.mark.parametrize("host, fragments", [
    (kvm_host({"profile": "kvm", "net": {"host_work": "vhost"}}),
     ["hosts[0].hypervisor.net.host_work", "'vmm', 'thread', 'requester'", "vhost"]),
    (kvm_host({"profile": "kvm", "net": {"host_work": "vmm", "threads": 2}}),
     ["hosts[0].hypervisor.net", "threads: only a network thread of its own"]),
    (kvm_host({"profile": "kvm", "disk": {"threads": 0}}), ["hosts[0].hypervisor.disk.threads", "≥ 1"]),
    (kvm_host({"profile": "hyper-v", "net": {"host_work": "thread"}}),
     ["hosts[0].hypervisor", "io_backend 'root-partition'"]),
    ({**docker_host("requestor")}, ["hosts[0].engine.network_modes.nat.host_work", "'engine', 'requester'",
                                    "did you mean 'requester'"]),
    ({**kvm_host(), "vms": [{"name": "a.net", "vcpus": 1, "memory": "1 GiB"}]},
     ["hosts[0].vms[0].name", "'.net' are reserved"]),
])
def test_bad_placements_are_reported_where_they_are(host, fragments):
    text = problems(experiment([host], []))
    for fragment in fragments:
        assert fragment in text, text
