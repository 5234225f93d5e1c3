"""Per-operation overhead composed along a stack, and requests run through it.

Every expected time is computed by hand from the profile numbers, read here
from the catalog or the resolved spec (never retyped), or from small inline
overrides. A job that runs alone must take exactly what its uncontended time
breakdown says, so its ``wait_s`` is zero; contention shows up as waiting.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import virtsim
from virtsim.analysis.breakdown import BREAKDOWN
from virtsim.components.stack import OP_CLASSES, US, Layer, compose, compose_costs
from virtsim.config import load_experiment, load_profile
from virtsim.experiment.results import collect
from virtsim.experiment.simulation import Simulation
from virtsim.model import costs

KVM = load_profile("hypervisors", "kvm")
FIRECRACKER = load_profile("hypervisors", "firecracker")
DOCKER = load_profile("engines", "docker")
KATA = load_profile("engines", "kata")
GVISOR = load_profile("engines", "gvisor")
LINUX = load_profile("os", "linux-server")
MINIMAL = load_profile("os", "linux-minimal")

EXACT = 1e-9  # seconds


def experiment(hosts: list, workloads: list, *, duration: str = "3 s", warmup: str = "0 s", seed: int = 1) -> dict:
    # Every stack is up at time 0: these tests are about requests, not start-up.
    return {"name": "stacks", "seed": seed, "duration": duration, "warmup": warmup, "cold_start": False,
            "hosts": hosts, "workloads": workloads}


def closed(name: str, target: str, demand: dict, *, clients: int = 1, think: str = "1 s") -> dict:
    return {"name": name, "target": target, "type": "closed", "clients": clients, "think_time": think,
            "demand": demand}


def one_core(name: str = "h", speed: float = 1.0, **layers) -> dict:
    return {"name": name, "hardware": {"cores": 1, "core_speed": speed, "memory": "16 GiB"}, **layers}


def vm(name: str = "a", vcpus: int = 1, **extra) -> dict:
    return {"name": name, "vcpus": vcpus, "memory": "1 GiB", **extra}


def alone(host: dict, target: str, demand: dict) -> pd.Series:
    """The breakdown row of a job that runs alone (one client, one job a second)."""
    jobs = virtsim.run_experiment(experiment([host], [closed("w", target, demand)], duration="6 s")).jobs
    done = jobs[jobs["end_s"].notna()]
    assert len(done) >= 2
    # Constant demand: every job takes the same time.
    assert np.ptp(done["response_time_s"].to_numpy()) < 1e-12
    job = done.iloc[0]
    assert job["wait_s"] == pytest.approx(0.0, abs=EXACT)
    return job


def platform_of(exp: dict):
    return Simulation(load_experiment(exp)).platform


# --- composition ----------------------------------------------------------------------------------


INF = float("inf")


def one_packet_each_way_us(net) -> float:
    """CPU and delay a net section adds to a transaction of one packet each way (a small request/response), µs;
    alone, so its threads are idle and it pays their wake-up."""
    def receive(value, sent):
        return sent if value is None else value

    return (net.guest_cpu_us + net.host_cpu_us + net.latency_us + getattr(net, "wake_us", 0.0)
            + net.guest_cpu_per_packet_us
            + receive(net.receive_guest_cpu_per_packet_us, net.guest_cpu_per_packet_us)
            + net.host_cpu_per_packet_us + receive(net.receive_host_cpu_per_packet_us, net.host_cpu_per_packet_us))


NATIVE_PACKETS_US = LINUX.net.send_cpu_per_packet_us + LINUX.net.receive_cpu_per_packet_us
"""The native stack's CPU of one packet sent and one received."""
HEADER_FRAMES_BYTES = 2 * (52 + 38)
"""A transaction of no payload on the wire: a header-only message each way, framed."""


def _op(guest: float = 0.0, host: float = 0.0, latency: float = 0.0) -> costs.OpCost:
    """An operation's added cost from µs figures."""
    return costs.OpCost(guest * US, host * US, latency * US)


def _ops(**by_class: costs.OpCost) -> costs.OpCosts:
    return costs.OpCosts(**{k: by_class.get(k, _op()) for k in OP_CLASSES})


def _io(guest: float = 0.0, host: float = 0.0, latency: float = 0.0, *, write_host: float | None = None,
        limit: float = INF, write_limit: float | None = None, factor: float = 1.0, other: float | None = None,
        bandwidth_limit: float = INF, packet: tuple[float, float, float, float] | None = None) -> costs.IOCost:
    """An I/O path's added cost from µs figures (these defaults are the test's shorthand, not the model's).

    ``packet``: (send guest, send host, receive guest, receive host) µs per packet.
    """
    per_packet = None if packet is None else costs.PacketCost(*(value * US for value in packet))
    return costs.IOCost(guest * US, host * US, latency * US, None if write_host is None else write_host * US, limit,
                        write_limit, factor, other, bandwidth_limit, per_packet, None)


def _layer(name: str, *, cpu: tuple[float, ...] | None = None, ops: costs.OpCosts | None = None,
           disk: costs.IOCost | None = None, net: costs.IOCost | None = None) -> costs.LayerCost:
    """``cpu``: (factor, memory_factor[, kernel_factor]); the kernel factor is 1 unless given."""
    factors = None if cpu is None else costs.CpuFactors(*(cpu if len(cpu) == 3 else (*cpu, 1.0)))
    return costs.LayerCost(name, factors, ops, disk, net)


def test_compose_adds_costs_multiplies_factors_and_keeps_the_tightest_ceiling():
    upper = _layer("upper", cpu=(1.5, 2.0), ops=_ops(syscall=_op(1, 2, 3), fork=_op(7)),
                   disk=_io(4, 5, 6, limit=1000, factor=0.5), net=_io(0, 1, 2, factor=0.8, bandwidth_limit=5e8))
    lower = _layer("lower", cpu=(2.0, 3.0), ops=_ops(syscall=_op(10, 20, 30)),
                   disk=_io(host=50, limit=500, factor=0.5, bandwidth_limit=1e9),
                   net=_io(3, 4, factor=0.5, bandwidth_limit=2e9))
    same = _layer("same", ops=_ops(syscall=_op(host=100)), disk=_io(host=200))
    native = costs.NativeOpCosts(syscall=0.5 * US, ctx_switch=1.0 * US, page_fault=2.0 * US, fork=90.0 * US)
    path = compose_costs([(upper, "h/up"), (lower, "h/low"), (same, "h/low")], native)

    assert path.layers == ("upper", "lower", "same") and not path.is_native
    assert path.cpu_factor == pytest.approx(3.0) and path.memory_factor == pytest.approx(6.0)
    assert path.native_op_cpu_s == pytest.approx({"syscall": 0.5e-6, "ctx_switch": 1e-6, "page_fault": 2e-6,
                                                  "fork": 90e-6})
    guest, host, latency = path.ops["syscall"]
    assert guest == pytest.approx(11 * US) and latency == pytest.approx(33 * US)
    # Host CPU goes to where each layer runs; two layers running in one place add up.
    assert host == pytest.approx({"h/up": 2 * US, "h/low": 120 * US})
    fork_guest, fork_host, fork_latency = path.ops["fork"]
    assert (fork_guest, fork_host, fork_latency) == (pytest.approx(7 * US), {}, 0.0)
    assert path.ops["ctx_switch"] == (0.0, {}, 0.0)

    disk = path.disk
    assert (disk.guest_cpu_s, disk.latency_s) == pytest.approx((4 * US, 6 * US))
    assert disk.host_cpu_s == pytest.approx({"h/up": 5 * US, "h/low": 250 * US})
    assert (disk.ops_limit_per_s, disk.ops_limit_in) == (500, "h/low")  # the tighter ceiling, where it is
    assert disk.bandwidth_factor == pytest.approx(0.25) and disk.bandwidth_limit_bytes_per_s == 1e9
    net = path.net
    assert (net.guest_cpu_s, net.latency_s) == pytest.approx((3 * US, 2 * US))
    assert net.host_cpu_s == pytest.approx({"h/up": 1 * US, "h/low": 4 * US})
    assert net.bandwidth_factor == pytest.approx(0.4) and net.bandwidth_limit_bytes_per_s == 5e8
    assert (net.ops_limit_per_s, net.ops_limit_in) == (float("inf"), None)
    assert path.charged_consumers() == {"h/up", "h/low"}


def test_writes_and_receives_take_their_own_figures_where_a_layer_gives_them():
    upper = _layer("upper", disk=_io(host=10, limit=1000, factor=0.5, other=0.25, write_host=4, write_limit=2000),
                   net=_io(factor=0.5, other=0.8))
    lower = _layer("lower", disk=_io(host=1, factor=0.5))
    path = compose_costs([(upper, "h/up"), (lower, "h/low")], None)
    disk, write = path.disk, path.disk.for_write()
    assert disk.host_cpu_s == pytest.approx({"h/up": 10 * US, "h/low": 1 * US}) and disk.ops_limit_per_s == 1000
    assert write.host_cpu_s == pytest.approx({"h/up": 4 * US, "h/low": 1 * US}) and write.ops_limit_per_s == 2000
    assert (disk.bandwidth_factor, disk.other_bandwidth_factor) == pytest.approx((0.25, 0.125))
    assert (path.net.bandwidth_factor, path.net.other_bandwidth_factor) == pytest.approx((0.5, 0.8))
    plain = compose_costs([(lower, "h/low")], None).disk
    assert plain.for_write() is plain  # nothing differs: a write is a read


def test_network_and_storage_modes_apply_only_to_their_own_io():
    nat, volume = GVISOR.network_modes["nat"], GVISOR.storage_modes["volume"]
    path = compose([Layer("network", GVISOR, "h/eng", nat, "nat"),
                    Layer("storage", GVISOR, "h/eng", volume, "volume"),
                    Layer("engine", GVISOR, "h/eng")], None)
    assert path.layers == ("gvisor:network=nat", "gvisor:storage=volume", "gvisor")
    # The engine itself counts once: its factor and syscall cost are not repeated by its modes.
    assert (path.cpu_factor, path.memory_factor) == (GVISOR.cpu.factor, GVISOR.cpu.memory_factor)
    assert path.ops["syscall"][0] == pytest.approx(GVISOR.ops.syscall.guest_cpu_us * US)
    assert (path.net.guest_cpu_s, path.net.latency_s) == pytest.approx((nat.guest_cpu_us * US, nat.latency_us * US))
    assert (path.net.bandwidth_factor, path.net.other_bandwidth_factor) == (
        nat.bandwidth_factor, nat.receive_bandwidth_factor)
    assert path.net.send_host_cpu_per_packet_s == pytest.approx({"h/eng": nat.host_cpu_per_packet_us * US})
    assert (path.disk.guest_cpu_s, path.disk.latency_s) == pytest.approx((volume.guest_cpu_us * US, 0.0))
    assert (path.disk.bandwidth_factor, path.disk.other_bandwidth_factor) == (
        volume.bandwidth_factor, volume.write_bandwidth_factor)
    assert path.disk.host_cpu_s == {}
    assert path.native_op_cpu_s == {}  # no OS given: no native operation cost


def test_a_mode_given_to_a_layer_that_has_none_is_an_error():
    with pytest.raises(ValueError, match="only network and storage layers have a mode, not 'engine'"):
        Layer("engine", GVISOR, "h/eng", GVISOR.network_modes["nat"], "nat").cost


STACKS = experiment(
    hosts=[
        {"name": "k", "hardware": "server-2s-32c", "hypervisor": "kvm",
         "vms": [vm("a", 2, engine="docker", containers=[{"name": "c", "network": "nat", "storage": "volume"}]),
                 vm("b", 2, engine="kata", containers=[{"name": "s", "network": "bridge"}]),
                 vm("plain", 1)]},
        {"name": "d", "hardware": "server-2s-32c", "host_os": "linux-server", "engine": "docker",
         "containers": [{"name": "web", "network": "nat"}, {"name": "api", "network": "host", "storage": "overlay"}]},
        {"name": "q", "hardware": "server-2s-32c", "host_os": "linux-server", "engine": "kata",
         "containers": [{"name": "p", "network": "nat"}]},
        {"name": "n", "hardware": "server-2s-32c",
         "vms": [vm("v", 2, containers=[{"name": "cg"}])]},
    ],
    workloads=[closed("w", "n", {"cpu": "1 s"})])


def test_a_hypervisor_charges_each_vms_own_vmm():
    platform = platform_of(STACKS)
    path = platform.paths["k/a"]
    assert path.layers == ("kvm",)
    assert (path.cpu_factor, path.memory_factor) == (KVM.cpu.factor, KVM.cpu.memory_factor)
    assert path.disk.host_cpu_s == pytest.approx({"k/a.vmm": KVM.disk.host_cpu_us * US})
    # vhost-net: the network's own work runs in a thread of its own beside the VMM (kvm's net.host_work).
    assert path.net.send_host_cpu_per_packet_s == pytest.approx({"k/a.net": KVM.net.host_cpu_per_packet_us * US})
    assert (path.disk.ops_limit_per_s, path.disk.ops_limit_in) == (KVM.disk.iops_limit, "k/a.vmm")
    assert path.native_op_cpu_s == pytest.approx({k: getattr(LINUX.ops, k) * US for k in OP_CLASSES})
    assert platform.paths["k/plain"].disk.host_cpu_s == pytest.approx({"k/plain.vmm": KVM.disk.host_cpu_us * US})
    # Every VM has its own VMM consumer of one core; it is a layer node, not a target.
    assert {"k/a.vmm", "k/b.vmm", "k/plain.vmm"} <= set(platform.layer_nodes)
    assert "k/a.vmm" not in platform.consumers


def test_an_engine_in_a_vm_charges_the_vm_and_its_modes_touch_only_io():
    path = platform_of(STACKS).paths["k/a/c"]
    nat, volume = DOCKER.network_modes["nat"], DOCKER.storage_modes["volume"]
    assert path.layers == ("docker:network=nat", "docker:storage=volume", "docker", "kvm")
    assert path.cpu_factor == pytest.approx(DOCKER.cpu.factor * KVM.cpu.factor)
    assert path.memory_factor == pytest.approx(DOCKER.cpu.memory_factor * KVM.cpu.memory_factor)
    assert path.ops["syscall"][0] == pytest.approx(
        (DOCKER.ops.syscall.guest_cpu_us + KVM.ops.syscall.guest_cpu_us) * US)
    # The NAT work is done in the container's own context (docker's host_work: requester), the virtio work
    # by the VM's vhost thread.
    assert path.net.send_host_cpu_per_packet_s == pytest.approx({"k/a.net": KVM.net.host_cpu_per_packet_us * US})
    assert path.net.send_guest_cpu_per_packet_s == pytest.approx(
        (nat.guest_cpu_per_packet_us + nat.host_cpu_per_packet_us + KVM.net.guest_cpu_per_packet_us) * US)
    assert path.net.latency_s == pytest.approx((nat.latency_us + KVM.net.latency_us) * US)
    assert path.net.guest_cpu_s == pytest.approx((nat.guest_cpu_us + KVM.net.guest_cpu_us) * US)
    assert path.net.bandwidth_factor == pytest.approx(nat.bandwidth_factor * KVM.net.bandwidth_factor)
    assert path.disk.latency_s == pytest.approx((volume.latency_us + KVM.disk.latency_us) * US)
    assert path.disk.guest_cpu_s == pytest.approx((volume.guest_cpu_us + KVM.disk.guest_cpu_us) * US)
    assert path.disk.bandwidth_factor == pytest.approx(volume.bandwidth_factor * KVM.disk.bandwidth_factor)
    assert path.disk.host_cpu_s == pytest.approx({"k/a.vmm": KVM.disk.host_cpu_us * US})


def test_a_host_engine_charges_its_own_node():
    platform = platform_of(STACKS)
    nat, overlay = DOCKER.network_modes["nat"], DOCKER.storage_modes["overlay"]
    web, api = platform.paths["d/web"], platform.paths["d/api"]
    assert web.layers == ("docker:network=nat", "docker:storage=overlay", "docker")
    # NAT runs in the softirq of the container's own packets: charged to the container, not to d/docker.
    assert web.net.send_host_cpu_per_packet_s == {}
    assert web.net.send_guest_cpu_per_packet_s == pytest.approx(nat.host_cpu_per_packet_us * US)
    assert web.net.latency_s == pytest.approx(nat.latency_us * US)
    assert api.layers == ("docker:network=host", "docker:storage=overlay", "docker")
    assert api.net.send_host_cpu_per_packet_s == {} and api.net.latency_s == pytest.approx(
        DOCKER.network_modes["host"].latency_us * US)
    # Overlay storage costs the container CPU per disk operation and nothing on the network.
    assert api.disk.guest_cpu_s == pytest.approx(overlay.guest_cpu_us * US)
    assert api.net.guest_cpu_s == pytest.approx(DOCKER.network_modes["host"].guest_cpu_us * US)
    assert "d/docker" in platform.layer_nodes and platform.paths["d"].is_native


def test_kata_on_a_host_gets_its_own_vmm_and_in_a_vm_runs_in_that_vm():
    platform = platform_of(STACKS)
    fc, os_ = KATA.composition.hypervisor, KATA.composition.guest_os
    nat, bridge = KATA.network_modes["nat"], KATA.network_modes["bridge"]

    p = platform.paths["q/p"]
    assert p.layers == ("kata:network=nat", "kata:storage=overlay", "kata", fc.name)
    assert p.net.send_host_cpu_per_packet_s == pytest.approx({"q/kata": nat.host_cpu_per_packet_us * US,
                                                              "q/p.vmm": fc.net.host_cpu_per_packet_us * US})
    assert (p.disk.ops_limit_per_s, p.disk.ops_limit_in) == (fc.disk.iops_limit, "q/p.vmm")
    assert p.net.bandwidth_limit_bytes_per_s == fc.net.bandwidth_limit
    assert p.cpu_factor == pytest.approx(KATA.cpu.factor * fc.cpu.factor)
    assert p.native_op_cpu_s == pytest.approx({k: getattr(os_.ops, k) * US for k in OP_CLASSES})
    assert {"q/kata", "q/p.vmm"} <= set(platform.layer_nodes)

    s = platform.paths["k/b/s"]  # nested: Kata's microVM inside KVM VM b, its VMM thread inside the VM
    assert s.layers == ("kata:network=bridge", "kata:storage=overlay", "kata", fc.name, "kvm")
    assert s.net.send_host_cpu_per_packet_s == pytest.approx({"k/b": bridge.host_cpu_per_packet_us * US,
                                                              "k/b/s.vmm": fc.net.host_cpu_per_packet_us * US,
                                                              "k/b.net": KVM.net.host_cpu_per_packet_us * US})
    assert (s.disk.ops_limit_per_s, s.disk.ops_limit_in) == (min(fc.disk.iops_limit, KVM.disk.iops_limit), "k/b/s.vmm")
    assert s.cpu_factor == pytest.approx(fc.cpu.factor * KVM.cpu.factor)
    assert "k/s.vmm" not in platform.layer_nodes
    assert platform.layer_nodes["k/b/s.vmm"].parent is platform.consumers["k/b"].node


def test_a_native_host_and_its_plain_vms_and_cgroups_have_an_empty_path():
    platform = platform_of(STACKS)
    for target in ("n", "n/v", "n/v/cg", "d", "q"):
        path = platform.paths[target]
        assert path.layers == () and path.is_native
        assert (path.cpu_factor, path.memory_factor) == (1.0, 1.0)
        assert path.charged_consumers() == set()
        assert path.native_op_cpu_s == pytest.approx({k: getattr(LINUX.ops, k) * US for k in OP_CLASSES})


# --- one request alone ----------------------------------------------------------------------------


def test_native_syscalls_cost_the_os_native_price_at_the_core_speed():
    n, cpu, speed = 1000, 1e-3, 2.0
    host = one_core(speed=speed)
    spec = load_experiment(experiment([host], [closed("w", "h", {"cpu": "1 ms"})]))
    syscall_us = spec.hosts[0].host_os.ops.syscall
    job = alone(host, "h", {"cpu": "1 ms", "syscalls": n})
    expected = (cpu + n * syscall_us * US) / speed
    assert job["response_time_s"] == pytest.approx(expected, abs=EXACT)
    assert job["stack"] == "native"
    assert (job["native_s"], job["virtualization_s"], job["io_latency_s"]) == pytest.approx(
        (expected, 0.0, 0.0), abs=EXACT)


def test_kvm_adds_its_per_operation_costs():
    counts = {"syscalls": 1000, "ctx_switches": 200, "page_faults": 300, "forks": 2}
    assert all(getattr(KVM.ops, k).host_cpu_us == 0 for k in OP_CLASSES)  # all of it in the guest
    host = one_core(hypervisor="kvm", vms=[vm()])
    job = alone(host, "h/a", {"cpu": "1 ms", **counts})
    native = 1e-3 + sum(c * getattr(LINUX.ops, k) * US for k, c in zip(OP_CLASSES, counts.values()))
    added = sum(c * (getattr(KVM.ops, k).guest_cpu_us + getattr(KVM.ops, k).latency_us) * US
                for k, c in zip(OP_CLASSES, counts.values()))
    added += 1e-3 * (KVM.cpu.factor - 1)
    assert added > 0
    assert job["response_time_s"] == pytest.approx(native + added, abs=EXACT)
    assert job["stack"] == "kvm"
    assert (job["native_s"], job["virtualization_s"], job["io_latency_s"]) == pytest.approx(
        (native, added, 0.0), abs=EXACT)


def test_operation_latency_delays_without_cpu():
    host = one_core(hypervisor={"profile": "kvm", "ops": {"page_fault": {"latency_us": 50}}}, vms=[vm()])
    job = alone(host, "h/a", {"cpu": "1 ms", "page_faults": 10})
    native = 1e-3 + 10 * LINUX.ops.page_fault * US
    added = 1e-3 * (KVM.cpu.factor - 1) + 10 * (KVM.ops.page_fault.guest_cpu_us + 50) * US
    assert job["response_time_s"] == pytest.approx(native + added, abs=EXACT)
    assert job["virtualization_s"] == pytest.approx(added, abs=EXACT)


@pytest.mark.parametrize("m", [0.0, 0.25, 1.0])
def test_the_memory_intensive_fraction_runs_at_the_memory_factor(m):
    job = alone(one_core(hypervisor="kvm", vms=[vm()]), "h/a", {"cpu": "1 s", "mem_fraction": m})
    expected = (1 - m) * KVM.cpu.factor + m * KVM.cpu.memory_factor
    assert job["response_time_s"] == pytest.approx(expected, abs=EXACT)
    assert (job["native_s"], job["virtualization_s"]) == pytest.approx((1.0, expected - 1.0), abs=EXACT)


def test_mem_fraction_is_free_on_a_native_host():
    job = alone(one_core(), "h", {"cpu": "1 s", "mem_fraction": 0.5, "syscalls": 1})
    assert job["response_time_s"] == pytest.approx(1.0 + LINUX.ops.syscall * US, abs=EXACT)


def test_docker_nat_and_host_networking_differ_by_the_nat_mode_alone():
    nat, host_mode = DOCKER.network_modes["nat"], DOCKER.network_modes["host"]
    host = {"name": "h", "hardware": {"cores": 4, "memory": "16 GiB"}, "host_os": "linux-server", "engine": "docker",
            "containers": [{"name": "n", "network": "nat", "storage": "volume"},
                           {"name": "o", "network": "host", "storage": "volume"}]}
    demand = {"cpu": "1 ns", "net": {"transactions": 1, "bytes": "0 B"}}
    jobs = virtsim.run_experiment(experiment([host], [closed("n", "h/n", demand), closed("o", "h/o", demand)])).jobs
    rt = jobs.groupby("workload", observed=True)["response_time_s"].agg(["min", "max"])
    assert (rt["max"] - rt["min"]).max() < 1e-12
    difference = rt.loc["n", "min"] - rt.loc["o", "min"]
    # Guest work is negligible, so NAT's host CPU (run on the engine's node) and its delay add up.
    expected = (one_packet_each_way_us(nat) - one_packet_each_way_us(host_mode)) * US
    assert difference == pytest.approx(expected, abs=2e-9)
    assert set(jobs["stack"].astype(str)) == {"docker:network=nat / docker:storage=volume / docker",
                                              "docker:network=host / docker:storage=volume / docker"}
    assert jobs["wait_s"].abs().max() < EXACT


def test_a_layers_host_cpu_is_on_the_operations_path():
    """Alone, an operation costs guest CPU + host CPU + latency in sequence (models/README.md):
    KVM's measured +30.4 µs per transaction is rebuilt from its three parts, none hidden behind another."""
    host = one_core(hypervisor="kvm", vms=[vm()])
    spec = load_experiment(experiment([host], [closed("w", "h/a", {"cpu": "1 s"})]))
    nic = spec.hosts[0].hardware.nics[0]
    per_transaction = one_packet_each_way_us(KVM.net) * US
    wire = HEADER_FRAMES_BYTES / (nic.bandwidth_bytes_per_s * KVM.net.bandwidth_factor)
    for cpu in (1e-9, 1e-3):  # negligible guest work, then real guest work the VMM's part cannot hide behind
        job = alone(host, "h/a", {"cpu": f"{cpu} s", "net": {"transactions": 1, "bytes": "0 B"}})
        # A round trip, the guest's own stack on one packet each way, the frames on the wire.
        expected = cpu * KVM.cpu.factor + 2 * nic.latency_s + per_transaction + NATIVE_PACKETS_US * US + wire
        assert job["response_time_s"] == pytest.approx(expected, abs=EXACT)
        assert job["virtualization_s"] + job["io_latency_s"] == pytest.approx(
            cpu * (KVM.cpu.factor - 1) + per_transaction + 2 * nic.latency_s + wire, abs=EXACT)


# --- contention through the layers ----------------------------------------------------------------


def _victim_response(exp: dict, workload: str) -> float:
    jobs = virtsim.run_experiment(exp).jobs
    done = jobs[(jobs["workload"] == workload) & jobs["end_s"].notna() & jobs["counted"]]
    assert len(done) >= 4
    return float(done["response_time_s"].mean())


def test_a_busy_vmm_thread_slows_a_neighbour_vm():
    """VM b's network traffic keeps its VMM thread (one host core) busy; VM a competes with it."""
    victim = closed("victim", "h1/a", {"cpu": "100 ms", "threads": 2}, think="0 s")
    noisy = closed("noisy", "h1/b", {"cpu": "1 ns", "net": {"transactions": 100, "bytes": "0 B"}},
                   clients=20, think="0 s")
    h1 = {"name": "h1", "hardware": {"cores": 2, "memory": "16 GiB"}, "hypervisor": "kvm",
          "vms": [vm("a", 2), vm("b", 1)]}
    h2 = {**h1, "name": "h2"}
    noisy_elsewhere = {**noisy, "target": "h2/b"}
    quiet = _victim_response(experiment([h1, h2], [victim, noisy_elsewhere], duration="3 s", warmup="0.5 s"),
                             "victim")
    assert quiet == pytest.approx(0.1 * KVM.cpu.factor / 2, rel=1e-9)  # two threads, two vCPUs
    busy = _victim_response(experiment([h1, h2], [victim, noisy], duration="3 s", warmup="0.5 s"), "victim")
    # The VMM takes about a core of two: the victim runs at about half speed.
    assert busy > 1.6 * quiet


def test_a_host_engines_nat_work_slows_a_neighbour_container():
    victim = closed("victim", "h1/v", {"cpu": "100 ms", "threads": 2}, think="0 s")
    noisy = closed("noisy", "h1/n", {"cpu": "1 ns", "net": {"transactions": 1000, "bytes": "0 B"}}, clients=40,
                   think="0 s")
    # The host's own stack is left free, so what the neighbour costs is NAT's work on the engine's node alone.
    no_stack = {"profile": "linux-server", "net": {"send_cpu_per_packet_us": 0, "receive_cpu_per_packet_us": 0}}
    h1 = {"name": "h1", "hardware": {"cores": 2, "memory": "16 GiB"}, "host_os": no_stack, "engine": "docker",
          "containers": [{"name": "v", "network": "host"}, {"name": "n", "network": "nat"}]}
    quiet_host = {**h1, "containers": [{"name": "v", "network": "host"}, {"name": "n", "network": "host"}]}
    quiet = _victim_response(experiment([quiet_host], [victim, noisy], duration="3 s", warmup="0.5 s"), "victim")
    assert quiet == pytest.approx(0.1 / 2, rel=1e-5)  # the neighbour's CPU is negligible
    busy = _victim_response(experiment([h1], [victim, noisy], duration="3 s", warmup="0.5 s"), "victim")
    assert busy > 1.6 * quiet


def test_contention_shows_as_waiting():
    """Two requests share one core: each takes twice its uncontended time, half of it waiting."""
    jobs = virtsim.run_experiment(experiment([one_core()], [closed("w", "h", {"cpu": "10 ms", "syscalls": 100},
                                                                   clients=2, think="0 s")],
                                             duration="1 s")).jobs
    done = jobs[jobs["end_s"].notna()]
    alone_s = 10e-3 + 100 * LINUX.ops.syscall * US
    assert done["native_s"].to_numpy() == pytest.approx(alone_s, abs=EXACT)
    assert done["response_time_s"].to_numpy() == pytest.approx(2 * alone_s, abs=EXACT)
    assert done["wait_s"].to_numpy() == pytest.approx(alone_s, abs=EXACT)


# --- results --------------------------------------------------------------------------------------


def _mixed() -> dict:
    return experiment(
        hosts=[{"name": "n", "hardware": {"cores": 4, "core_speed": 2.0, "memory": "16 GiB"}},
               {"name": "k", "hardware": "server-2s-32c", "hypervisor": "kvm",
                "vms": [vm("a", 2, engine="docker", containers=[{"name": "c", "network": "nat"}]), vm("b", 2)]}],
        workloads=[
            {"name": "batch", "target": "n", "type": "open", "arrivals": {"type": "poisson", "rate": "2 /s"},
             "demand": {"cpu": {"type": "exponential", "mean": "100 ms"}, "threads": 2}},
            {"name": "web", "target": "k/a/c", "type": "open", "arrivals": {"type": "poisson", "rate": "50 /s"},
             "demand": {"cpu": {"type": "exponential", "mean": "5 ms"}, "syscalls": 50,
                        "disk": {"ops": 2}, "net": {"transactions": 1, "bytes": "2 KiB"}}},
            {"name": "vm", "target": "k/b", "type": "closed", "clients": 2, "think_time": "100 ms",
             "demand": {"cpu": "20 ms", "mem_fraction": 0.5}},
        ],
        duration="20 s", warmup="2 s", seed=3)


def test_fast_path_jobs_on_native_stacks_get_a_plain_breakdown():
    jobs = virtsim.run_experiment(_mixed()).jobs
    batch = jobs[jobs["workload"] == "batch"]
    assert len(batch) > 10 and (batch["stack"] == "native").all()
    np.testing.assert_allclose(batch["native_s"], batch["cpu_demand_s"] / (2 * 2.0), rtol=1e-12)
    assert (batch["virtualization_s"] == 0).all() and (batch["io_latency_s"] == 0).all()
    done = batch[batch["end_s"].notna()]
    assert (done["wait_s"] > -1e-12).all()


def test_the_stacks_table_has_one_row_per_stack_with_mean_breakdowns():
    results = virtsim.run_experiment(_mixed())
    jobs, stacks = results.jobs, results.stacks
    assert list(results.tables()) == ["summary", "workloads", "stacks", "consumers", "jobs", "failures", "scaling"]
    expected_labels = {"native", "kvm", "docker:network=nat / docker:storage=overlay / docker / kvm"}
    assert set(stacks["stack"]) == expected_labels and len(stacks) == len(expected_labels)
    done = jobs[jobs["counted"] & jobs["end_s"].notna()]
    for _, row in stacks.iterrows():
        mine = done[done["stack"] == row["stack"]]
        assert row["jobs_completed"] == len(mine) > 0
        for column in ("response_time_s", *BREAKDOWN):
            assert row[f"{column[:-2]}_mean_s"] == pytest.approx(mine[column].mean(), rel=1e-12, abs=1e-15)
    by_stack = stacks.set_index("stack")
    assert by_stack.loc["native", "virtualization_mean_s"] == 0 == by_stack.loc["native", "io_latency_mean_s"]
    web = by_stack.loc["docker:network=nat / docker:storage=overlay / docker / kvm"]
    assert web["virtualization_mean_s"] > 0 and web["io_latency_mean_s"] > 0
    # Every job's columns add up to its response time.
    total = done[list(BREAKDOWN)].sum(axis=1)
    np.testing.assert_allclose(total, done["response_time_s"], rtol=1e-9, atol=1e-12)


def test_the_kvm_vms_breakdown_matches_its_factors():
    jobs = virtsim.run_experiment(_mixed()).jobs
    vm_jobs = jobs[jobs["workload"] == "vm"]
    factor = 0.5 * KVM.cpu.factor + 0.5 * KVM.cpu.memory_factor
    np.testing.assert_allclose(vm_jobs["native_s"], 20e-3, rtol=1e-12)
    np.testing.assert_allclose(vm_jobs["virtualization_s"], 20e-3 * (factor - 1), rtol=1e-9)
    # Two clients on two vCPUs of a 32-core host: nothing to wait for.
    assert vm_jobs["wait_s"].dropna().abs().max() < EXACT


# --- determinism ----------------------------------------------------------------------------------

LAYERED = experiment(
    hosts=[{"name": "h1", "hardware": "server-2s-32c", "hypervisor": "virtualbox", "host_os": "linux-server",
            "vms": [vm("a", 4, os="linux-server", engine="docker",
                       containers=[{"name": "web", "cpus": 2, "network": "nat", "storage": "volume"}])]},
           {"name": "h2", "hardware": "server-2s-32c", "host_os": "linux-server", "engine": "gvisor",
            "containers": [{"name": "api", "cpus": 4, "network": "host"}]}],
    workloads=[
        {"name": "web", "target": "h1/a/web", "type": "open", "arrivals": {"type": "poisson", "rate": "200 /s"},
         "demand": {"cpu": {"type": "exponential", "mean": "2 ms"}, "mem_fraction": 0.2, "syscalls": 40,
                    "ctx_switches": 4, "page_faults": 10, "disk": {"ops": 2, "bytes": "8 KiB"},
                    "net": {"transactions": 1, "bytes": "2 KiB"}}},
        {"name": "api", "target": "h2/api", "type": "closed", "clients": 8, "think_time": "5 ms",
         "demand": {"cpu": {"type": "exponential", "mean": "3 ms"}, "syscalls": 100, "net": {"transactions": 2}}},
    ],
    duration="5 s", warmup="0.5 s", seed=11)


def test_a_layered_experiment_is_deterministic():
    first, second = virtsim.run_experiment(LAYERED), virtsim.run_experiment(LAYERED)
    for name, table in first.tables().items():
        pd.testing.assert_frame_equal(table, second.tables()[name], check_exact=True, obj=name)
    assert len(first.jobs) > 1000 and first.stacks["wait_mean_s"].notna().all()
    other = virtsim.run_experiment(LAYERED, seed=12)
    assert not other.jobs["response_time_s"].equals(first.jobs["response_time_s"])


def test_simulation_and_run_experiment_agree():
    sim = Simulation(load_experiment(LAYERED)).run()
    direct = collect(sim)
    via_runner = virtsim.run_experiment(LAYERED)
    pd.testing.assert_frame_equal(direct.stacks, via_runner.stacks, check_exact=True)


# --- slowdown -------------------------------------------------------------------------------------


def test_slowdown_is_the_response_time_over_the_same_job_alone_on_bare_metal_io_included():
    demand = {"cpu": "40 ms", "syscalls": 200, "disk": {"ops": 20}, "net": {"transactions": 1}}
    native = alone(one_core(), "h", demand)
    assert native["io_latency_s"] > 0.01 * native["native_s"]  # the I/O weighs: a reference without it shows
    assert native["bare_metal_s"] == pytest.approx(native["native_s"] + native["io_latency_s"], rel=1e-12)
    assert native["slowdown"] == pytest.approx(1.0, rel=1e-12)  # uncontended on bare metal: no slowdown
    guest = alone(one_core(hypervisor="kvm", vms=[vm()]), "h/a", demand)
    assert guest["bare_metal_s"] == pytest.approx(native["bare_metal_s"], rel=1e-12)  # the same job on bare metal
    expected = (guest["native_s"] + guest["virtualization_s"] + guest["io_latency_s"]) / native["bare_metal_s"]
    assert guest["slowdown"] == pytest.approx(expected, rel=1e-12)
    assert guest["slowdown"] > native["slowdown"]


def _custom_request(ctx):
    yield ctx.cpu(0.05)
    yield ctx.sleep(0.01)


def _custom_client(ctx):
    while True:
        ctx.spawn(_custom_request)
        yield ctx.sleep(0.5)


def test_the_stacks_table_averages_the_jobs_slowdowns_custom_jobs_too():
    host = one_core(hypervisor="kvm", vms=[vm()])
    workloads = [closed("w", "h/a", {"cpu": {"type": "exponential", "mean": "50 ms"}, "syscalls": 20}, clients=3,
                        think="100 ms")]
    sim = Simulation(load_experiment(experiment([host], workloads, duration="20 s", warmup="2 s")))
    # A custom workload mixes CPU with sleeps of its own: both are its native time (as long on bare metal).
    sim.process(_custom_client(sim.context("h/a", workload="custom")))
    results = collect(sim.run())
    jobs, stacks = results.jobs, results.stacks.set_index("workload")
    done = jobs[jobs["counted"] & jobs["end_s"].notna()]
    busy = done[done["workload"] == "w"]
    assert len(busy) > 50 and (busy["slowdown"] >= 1.0).all()
    assert stacks.loc["w", "slowdown_mean"] == pytest.approx(busy["slowdown"].mean(), rel=1e-12)
    # Contention among the three clients: some jobs wait, so the mean is above the uncontended slowdown.
    assert stacks.loc["w", "slowdown_mean"] > busy["slowdown"].min()
    custom = done[done["workload"] == "custom"]
    assert len(custom) > 10 and (custom["slowdown"] >= 1.0).all()
    assert custom["native_s"].to_numpy() == pytest.approx(0.05 + 0.01, rel=1e-12)
    assert stacks.loc["custom", "slowdown_mean"] == pytest.approx(custom["slowdown"].mean(), rel=1e-12)


# --- Hyper-V: I/O served in the root partition -----------------------------------------------------

HYPERV = load_profile("hypervisors", "hyper-v")


def test_hyper_v_charges_every_vms_io_to_one_root_partition():
    exp = experiment([{"name": "h", "hardware": "server-2s-32c", "hypervisor": "hyper-v", "host_os": "windows-server",
                       "vms": [vm("a", 2), vm("b", 2)]},
                      {"name": "k", "hardware": "server-2s-32c", "hypervisor": "kvm", "vms": [vm("a", 2), vm("b", 2)]}],
                     [closed("w", "h/a", {"cpu": "1 ms"})])
    platform = platform_of(exp)
    for name in ("a", "b"):
        disk, net = platform.paths[f"h/{name}"].disk, platform.paths[f"h/{name}"].net
        assert disk.host_cpu_s == pytest.approx({"h/root-partition": HYPERV.disk.host_cpu_us * US})
        assert net.send_host_cpu_per_packet_s == pytest.approx(
            {"h/root-partition": HYPERV.net.host_cpu_per_packet_us * US})
        assert disk.latency_s == pytest.approx(HYPERV.disk.latency_us * US) and disk.ops_limit_in is None
        # KVM: each VM's own VMM thread.
        kvm_disk = platform.paths[f"k/{name}"].disk
        assert kvm_disk.host_cpu_s == pytest.approx({f"k/{name}.vmm": KVM.disk.host_cpu_us * US})
    root = platform.layer_consumers["h/root-partition"]
    assert root.size_cores == 32 and "k/root-partition" not in platform.layer_consumers
    assert "h/a.vmm" in platform.layer_consumers  # the VM's worker process still holds its memory


def test_a_hyper_v_requests_io_costs_its_root_partitions_cpu_and_two_crossings():
    """Alone, a disk read and a transaction cost guest CPU + root-partition CPU + the crossing delay in series."""
    host = one_core(hypervisor="hyper-v", vms=[vm()])
    spec = load_experiment(experiment([host], [closed("w", "h/a", {"cpu": "1 s"})]))
    disk, nic = spec.hosts[0].hardware.disks[0], spec.hosts[0].hardware.nics[0]
    demand = {"cpu": "1 ms", "disk": {"ops": 1, "bytes": "0 B"}, "net": {"transactions": 1, "bytes": "0 B"}}
    job = alone(host, "h/a", demand)
    added = (1e-3 * (HYPERV.cpu.factor - 1)
             + (HYPERV.disk.guest_cpu_us + HYPERV.disk.host_cpu_us + HYPERV.disk.latency_us) * US
             + one_packet_each_way_us(HYPERV.net) * US)
    assert job["virtualization_s"] == pytest.approx(added, abs=EXACT)
    # A read's latency and service, a round trip and its frames on the wire.
    device = (disk.latency_s + 1 / disk.iops + 2 * nic.latency_s
              + HEADER_FRAMES_BYTES / (nic.bandwidth_bytes_per_s * HYPERV.net.bandwidth_factor))
    assert job["io_latency_s"] == pytest.approx(device, abs=EXACT)
    assert job["response_time_s"] == pytest.approx(1e-3 + added + device + NATIVE_PACKETS_US * US, abs=EXACT)


def test_the_root_partition_serves_several_vms_on_several_cores():
    """KVM's per-VM VMM thread caps each VM at one core of I/O work; Hyper-V's root partition is one place
    for all VMs that may use every core: with the per-request CPU made equal, it serves more."""
    disk = {"host_cpu_us": 100.0, "latency_us": 0.0}
    hyperv = _io_bound_with("hyper-v", {"disk": disk})
    kvm = _io_bound_with("kvm", {"disk": {**disk, "iops_limit": 1e9}})  # no QEMU-thread floor: CPU alone binds
    per_vmm_thread = 2 * 1e6 / 100.0  # two VMs, one core each, 100 µs per read
    assert 0.9 * per_vmm_thread < kvm <= per_vmm_thread
    assert hyperv > 1.5 * per_vmm_thread


def _io_bound_with(hypervisor: str, overrides: dict) -> float:
    """Disk reads per second of two 1-vCPU VMs, each with 64 outstanding, on a 4-core host with a fast disk."""
    demand = {"cpu": "1 ns", "disk": {"ops": 1, "bytes": "4 KiB"}}
    host = {"name": "h", "hardware": {"cores": 4, "memory": "16 GiB", "disks": [
                {"name": "d", "kind": "nvme", "iops": 10_000_000, "bandwidth": "100 GB/s", "latency_us": 1}]},
            "hypervisor": {"profile": hypervisor, **overrides}, "vms": [vm("a", 1), vm("b", 1)]}
    if hypervisor == "hyper-v":
        host["host_os"] = "windows-server"
    load = [closed(f"w{n}", f"h/{n}", demand, clients=64, think="0 s") for n in ("a", "b")]
    summary = virtsim.run_experiment(experiment([host], load, duration="0.2 s", warmup="0.05 s")).summary.iloc[0]
    return float(summary["throughput_per_s"])


def test_a_nested_hyper_v_serves_io_in_a_root_partition_inside_its_vm():
    host = {"name": "h", "hardware": "server-2s-32c", "hypervisor": "kvm",
            "vms": [vm("l1", 4, memory="8 GiB", hypervisor="hyper-v", vms=[vm("l2", 2)])]}
    platform = platform_of(experiment([host], [closed("w", "h/l1/l2", {"cpu": "1 ms"})]))
    assert platform.paths["h/l1/l2"].disk.host_cpu_s == pytest.approx(
        {"h/l1/root-partition": HYPERV.disk.host_cpu_us * US, "h/l1.vmm": KVM.disk.host_cpu_us * US})
    assert platform.layer_nodes["h/l1/root-partition"].parent is platform.consumers["h/l1"].node


# --- experiments/stacks/ten-systems.yaml --------------------------------------------------------------

TEN = Path(__file__).parents[1] / "experiments" / "stacks" / "ten-systems.yaml"
NATURAL_PLACE = {
    # host: (hypervisor, host OS, engine)
    "esxi": ("esxi", None, None), "hyper-v": ("hyper-v", "windows-server", None), "xen": ("xen", None, None),
    "kvm": ("kvm", None, None), "virtualbox": ("virtualbox", "linux-server", None),
    "vmware-workstation": ("vmware-workstation", "windows-server", None), "parallels": ("parallels", "macos", None),
    "docker": (None, "linux-server", "docker"), "podman": (None, "linux-server", "podman"),
    "kubernetes": (None, "linux-server", "containerd"),
}


def test_ten_systems_puts_each_system_in_its_natural_place_on_identical_hardware():
    spec = load_experiment(TEN)
    hosts = {h.name: h for h in spec.hosts}
    assert set(hosts) == set(NATURAL_PLACE) and len({json.dumps(h.hardware.model_dump(mode="json"), sort_keys=True) for h in spec.hosts}) == 1
    for name, (hypervisor, host_os, engine) in NATURAL_PLACE.items():
        h = hosts[name]
        assert (getattr(h.hypervisor, "name", None), getattr(h.host_os, "name", None),
                getattr(h.engine, "name", None)) == (hypervisor, host_os, engine), name
        if hypervisor is not None:
            assert h.hypervisor.type == (2 if name in ("virtualbox", "vmware-workstation", "parallels") else 1)
            assert [(v.name, v.vcpus, v.os.name) for v in h.vms] == [("app", 8, "linux-server")]
    # Kubernetes: the pod is placed by the kube-scheduler policy onto the containerd node.
    assert spec.placement.placed == {"pod": "kubernetes"}
    assert [(c.name, c.cpus, c.network) for c in hosts["kubernetes"].containers] == [("pod", 8, "nat")]
    assert all([(c.cpus, c.network) for c in hosts[n].containers] == [(8, "nat")] for n in ("docker", "podman"))


def test_ten_systems_runs_the_same_two_workloads_on_every_host():
    raw = yaml.safe_load(TEN.read_text(encoding="utf-8"))
    assert raw["compare"] == {"baseline": "kvm"} and raw["replications"] >= 3  # paired, with intervals
    workloads = {w["name"]: w for w in raw["workloads"]}
    assert set(workloads) == {f"{w}-{h}" for w in ("web", "batch") for h in NATURAL_PLACE}
    spec = load_experiment(TEN)
    assert {w.name: w.target for w in spec.workloads}["web-kubernetes"] == "kubernetes/pod"
    # one compared workload per kind, with a member on each of the ten hosts: a workload that differed in
    # anything but its name and target would be left out of its group
    groups = {g.name: dict(g.members) for g in spec.comparison.workloads}
    assert set(groups) == {"web", "batch"} and all(set(m) == set(NATURAL_PLACE) for m in groups.values())


def test_ten_systems_shows_the_systems_apart():
    raw = yaml.safe_load(TEN.read_text(encoding="utf-8"))
    raw.update(duration="60 s", warmup="30 s")
    results = virtsim.run_experiment(raw)
    stacks = results.stacks.set_index("workload")
    batch = {h: stacks.loc[f"batch-{h}", "virtualization_mean_s"] for h in NATURAL_PLACE}
    # The hypervisors' CPU factors set the batch job apart; the three container systems share one datapath.
    assert len({round(batch[h], 6) for h in ("esxi", "hyper-v", "xen", "virtualbox", "vmware-workstation",
                                              "parallels")}) == 6
    assert batch["docker"] == pytest.approx(batch["podman"], rel=0.05)
    consumers = results.consumers.set_index("consumer")
    assert consumers.loc["podman/podman", "memory_bytes"] == 0 < consumers.loc["docker/docker", "memory_bytes"]
    assert consumers.loc["hyper-v/root-partition", "cpu_time_s"] > 0 and "kvm/root-partition" not in consumers.index
    assert consumers.loc["parallels/host-os", "cpu_time_s"] > 0


def test_the_root_partition_goes_down_with_its_hypervisor_only():
    hosts = [{"name": "h", "hardware": "server-2s-32c", "hypervisor": "hyper-v", "host_os": "windows-server",
              "vms": [vm("a"), vm("b")]}]
    failures = [{"domain": "h", "layer": "hypervisor", "at": ["1 s"], "time_to_repair": "1 s"},
                {"domain": "h/a", "at": ["1 s"], "time_to_repair": "1 s"}]
    exp = {**experiment(hosts, [closed("w", "h/a", {"cpu": "1 ms"})]), "failures": failures}
    hypervisor, guest = Simulation(load_experiment(exp)).failures._domains
    assert "h/root-partition" in hypervisor.layer_paths and set(hypervisor.targets) == {"h/a", "h/b"}
    assert guest.layer_paths == ("h/a.vmm",)  # one VM's guest OS: the other VMs' I/O goes on


def test_a_jobs_bare_metal_time_ignores_the_layers_bandwidth_factors():
    """The bare-metal reference of a guest's job is the same job on the bare host, also where the
    path scales bandwidth: a per-request disk limit (felter-x3650m4's flash) and the NIC."""
    demand = {"cpu": "10 ms", "disk": {"ops": 1, "bytes": "64 MiB", "pattern": "sequential"},
              "net": {"transactions": 1, "bytes": "8 MiB"}}
    host = {"name": "h", "hardware": "felter-x3650m4"}
    native = alone({**host, "host_os": "linux-server"}, "h", demand)
    guest = alone({**host, "hypervisor": "kvm", "vms": [vm(memory="4 GiB")]}, "h/a", demand)
    assert native["slowdown"] == pytest.approx(1.0, rel=1e-12)
    assert guest["bare_metal_s"] == pytest.approx(native["bare_metal_s"], rel=1e-12)
