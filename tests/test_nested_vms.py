"""Nested virtualization: a VM runs a hypervisor, and VMs of its own inside it.

An L2 VM composes by the rule every stack does (DESIGN §2.4): its path is
its L1's hypervisor layer on top of the L1's own path, so its requests pay
both hypervisors' per-operation costs, the L1 hypervisor's own work running
in a VMM thread inside the L1's vCPUs. Its CPU is shared by the L1's
scheduler within the L1's vCPUs, its memory lives in the L1's RAM, it boots
once the L1 is up, and the L1 is its failure domain. Every expectation here
is computed from the catalog profiles, never retyped.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import virtsim
from virtsim.cli import main
from virtsim.components.stack import REQUESTER, US, Layer, compose
from virtsim.config import ConfigError, load_experiment, load_profile
from virtsim.config.loads import ordered_targets
from virtsim.experiment.simulation import Simulation
from virtsim.model.memory import GIB, footprints, memory_domains, vmm_overhead_bytes

KVM = load_profile("hypervisors", "kvm")
DOCKER = load_profile("engines", "docker")
LINUX = load_profile("os", "linux-server")

EXACT = 1e-9  # seconds


def experiment(hosts: list, workloads: list, *, duration: str = "6 s", warmup: str = "0 s", **extra) -> dict:
    return {"name": "nested", "seed": 3, "duration": duration, "warmup": warmup, "cold_start": False,
            "hosts": hosts, "workloads": workloads, **extra}


def closed(name: str, target: str, demand: dict, *, threads: int = 1, think: str = "1 s") -> dict:
    return {"name": name, "target": target, "type": "closed", "clients": 1, "think_time": think,
            "demand": {**demand, "threads": threads} if threads > 1 else demand}


def kvm_in_kvm(l0="kvm", l1="kvm", *, cores: int = 1, l1_vcpus: int = 1, l2: list | None = None, **l1_extra) -> dict:
    """A host under ``l0`` with one L1 VM ``a`` running ``l1`` and the L2 VMs ``l2`` (default: one, ``b``)."""
    nested = l2 if l2 is not None else [{"name": "b", "vcpus": 1, "memory": "1 GiB"}]
    return {"name": "h", "hardware": {"cores": cores, "memory": "64 GiB"}, "hypervisor": l0,
            "vms": [{"name": "a", "vcpus": l1_vcpus, "memory": "8 GiB", "hypervisor": l1, "vms": nested,
                     **l1_extra}]}


def first_job(host: dict, target: str, demand: dict):
    """The first job of a lone client at ``target``: nothing else runs, so it never waits."""
    jobs = virtsim.run_experiment(experiment([host], [closed("w", target, demand)])).jobs
    job = jobs[jobs["end_s"].notna()].iloc[0]
    assert job["wait_s"] == pytest.approx(0.0, abs=EXACT)
    return job


def problems(exp: dict) -> str:
    with pytest.raises(ConfigError) as err:
        load_experiment(exp)
    return str(err.value)


# --- schema and validation ------------------------------------------------------------------------


def test_nested_vms_resolve_with_their_own_hypervisor_and_full_paths():
    spec = load_experiment(experiment([kvm_in_kvm(cores=2, l1_vcpus=2, l2=[
        {"name": "b", "vcpus": 2, "memory": "1 GiB", "engine": "docker", "containers": [{"name": "web"}],
         "hypervisor": "kvm", "vms": [{"name": "c", "vcpus": 1, "memory": "256 MiB"}]}])], []))
    a = spec.hosts[0].vms[0]
    assert a.hypervisor.name == "kvm" and a.vms[0].os.name == "linux-server"  # the default guest under a hypervisor
    assert ordered_targets(spec.hosts) == ["h", "h/a", "h/a/b", "h/a/b/web", "h/a/b/c"]
    # Unnested VMs dump as they did, so their config hashes do not change.
    plain = load_experiment(experiment([{"name": "h", "hardware": {"cores": 1, "memory": "4 GiB"},
                                         "hypervisor": "kvm", "vms": [{"name": "a", "vcpus": 1, "memory": "1 GiB"}]}],
                                       []))
    assert not {"hypervisor", "vms"} & set(plain.hosts[0].vms[0].model_dump())
    assert {"hypervisor", "vms"} <= set(a.model_dump())


BAD = [
    ("vcpus-over-the-parents",
     kvm_in_kvm(l1_vcpus=4, l2=[{"name": "b", "vcpus": 8, "memory": "1 GiB"}], cores=8),
     ["hosts[0].vms[0].vms[0].vcpus: asks 8 vCPUs; must be ≤ the parent VM 'a''s vcpus (4)"]),
    ("three-levels-deep",
     {"name": "h", "hardware": {"cores": 8, "memory": "64 GiB"}, "hypervisor": "kvm",
      "vms": [{"name": "x", "vcpus": 1, "memory": "1 GiB"},
              {"name": "a", "vcpus": 4, "memory": "16 GiB", "hypervisor": "kvm",
               "vms": [{"name": "b", "vcpus": 2, "memory": "4 GiB", "hypervisor": "kvm",
                        "vms": [{"name": "c", "vcpus": 3, "memory": "1 GiB"}]}]}]},
     ["hosts[0].vms[1].vms[0].vms[0].vcpus: asks 3 vCPUs; must be ≤ the parent VM 'b''s vcpus (2)"]),
    ("nested-vms-without-a-hypervisor",
     {"name": "h", "hardware": {"cores": 4, "memory": "16 GiB"}, "hypervisor": "kvm",
      "vms": [{"name": "a", "vcpus": 2, "memory": "4 GiB", "vms": [{"name": "b", "vcpus": 1, "memory": "1 GiB"}]}]},
     ["hosts[0].vms[0].hypervisor: required for the VMs nested in this VM; valid hypervisor profiles:"]),
    ("a-hypervisor-in-a-cgroup",
     {"name": "h", "hardware": {"cores": 4, "memory": "16 GiB"},
      "vms": [{"name": "a", "vcpus": 2, "memory": "4 GiB", "hypervisor": "kvm",
               "vms": [{"name": "b", "vcpus": 1, "memory": "1 GiB"}]}]},
     ["hosts[0].vms[0].hypervisor: a VM runs a hypervisor of its own only when it is itself a VM under a "
      "hypervisor"]),
    ("unknown-nested-hypervisor", kvm_in_kvm(l1="kvmm"), ["hosts[0].vms[0].hypervisor:", "'kvm'"]),
    ("duplicate-siblings",
     kvm_in_kvm(l1_vcpus=2, engine="docker", containers=[{"name": "b"}]), ["hosts[0].vms[0]", "duplicate", "'b'"]),
    ("reserved-monitor-name",
     kvm_in_kvm(l2=[{"name": "b.vmm", "vcpus": 1, "memory": "1 GiB"}]),
     ["hosts[0].vms[0].vms[0].name: names ending in '.vmm' or '.net' are reserved"]),
    ("reserved-host-os-in-a-type-2-guest",
     kvm_in_kvm(l1="virtualbox", engine="docker", containers=[{"name": "host-os"}]),
     ["hosts[0].vms[0].containers[0].name: 'host-os' is reserved here for a Type 2 host OS's own load"]),
    ("containers-in-l2-need-its-engine",
     kvm_in_kvm(l2=[{"name": "b", "vcpus": 1, "memory": "1 GiB", "containers": [{"name": "web"}]}]),
     ["hosts[0].vms[0].vms[0].engine: required for the containers in this VM"]),
    ("l2-memory-over-the-l1s",
     kvm_in_kvm(l2=[{"name": "b", "vcpus": 1, "memory": "8 GiB"}]),
     ["hosts[0].vms[0].memory: 8 GiB cannot hold what runs in VM 'a'"]),
]


@pytest.mark.parametrize("case", BAD, ids=[case[0] for case in BAD])
def test_bad_nesting_is_reported_at_its_path(case):
    _, host, fragments = case
    text = problems(experiment([host], []))
    for fragment in fragments:
        assert fragment in text, text


def test_bad_nesting_through_the_cli_exits_2_without_a_traceback(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(json.dumps(experiment([BAD[1][1]], [closed("w", "h/a/b/d", {"cpu": "1 s"})])))
    for command in ("validate", "run"):
        result = CliRunner().invoke(main, [command, str(path)])
        assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
        assert "Traceback" not in result.output
        assert "bad.yaml" in result.stderr
        assert "hosts[0].vms[1].vms[0].vms[0].vcpus: asks 3 vCPUs" in result.stderr
        assert "workloads[0].target" in result.stderr and "'h/a/b/d'" in result.stderr


def test_a_nested_target_and_failure_domain_are_known_and_a_missing_layer_is_reported():
    host = kvm_in_kvm()
    ok = experiment([host], [closed("w", "h/a/b", {"cpu": "1 s"})],
                    failures=[{"domain": "h/a", "layer": "hypervisor", "at": ["1 s"]}])
    assert load_experiment(ok).failures[0].domain == "h/a"
    text = problems({**ok, "failures": [{"domain": "h/a/b", "layer": "hypervisor", "at": ["1 s"]}]})
    assert "failures[0].layer: VM 'b' runs no hypervisor of its own" in text


def test_the_json_schema_nests_vms_recursively():
    schema = json.loads(CliRunner().invoke(main, ["schema"]).output)
    vm = schema["$defs"]["VMInput"]["properties"]
    assert vm["vms"]["items"] == {"$ref": "#/$defs/VMInput"}
    assert "hypervisor" in vm


# --- the composed path ----------------------------------------------------------------------------


def test_an_l2_path_is_its_l1s_hypervisor_on_top_of_the_l1s_path():
    platform = Simulation(load_experiment(experiment([kvm_in_kvm()], []))).platform
    l2 = platform.paths["h/a/b"]
    expected = compose([Layer("hypervisor", KVM, "h/a/b.vmm", net_runs_in="h/a/b.net"),
                        Layer("hypervisor", KVM, "h/a.vmm", net_runs_in="h/a.net")], LINUX)
    assert l2 == expected
    assert l2.layers == ("kvm", "kvm") and l2.cpu_factor == pytest.approx(KVM.cpu.factor ** 2, rel=1e-15)
    # The L1 hypervisor's own thread is a consumer inside the L1, capped at one of its vCPUs.
    vmm = platform.layer_consumers["h/a/b.vmm"]
    assert vmm.node.parent is platform.consumers["h/a"].node
    assert platform.consumers["h/a/b"].node.parent is platform.consumers["h/a"].node
    assert platform.layer_consumers["h/a.vmm"].node.parent is platform.cpu["h"].root
    # So is its vhost thread (kvm's net.host_work: thread).
    assert platform.layer_consumers["h/a/b.net"].node.parent is platform.consumers["h/a"].node


@pytest.mark.parametrize("mem_fraction", [0.0, 0.4])
def test_cpu_work_in_l2_takes_exactly_the_l1_hypervisors_factor_longer_than_in_l1(mem_fraction):
    demand = {"cpu": "1 s", "mem_fraction": mem_fraction}
    host = kvm_in_kvm(l1_vcpus=1)
    in_l1 = first_job(host, "h/a", demand)["response_time_s"]
    in_l2 = first_job(host, "h/a/b", demand)
    factor = (1 - mem_fraction) * KVM.cpu.factor + mem_fraction * KVM.cpu.memory_factor
    l2_factor = (1 - mem_fraction) * KVM.cpu.factor ** 2 + mem_fraction * KVM.cpu.memory_factor ** 2
    assert in_l1 == pytest.approx(factor, abs=EXACT)
    assert in_l2["response_time_s"] == pytest.approx(l2_factor, abs=EXACT)
    assert in_l2["response_time_s"] > in_l1
    assert (in_l2["native_s"], in_l2["virtualization_s"]) == pytest.approx((1.0, l2_factor - 1.0), abs=EXACT)
    assert in_l2["stack"] == "kvm / kvm"


def test_a_syscall_pays_both_hypervisors_costs_each_where_its_layer_runs():
    l0 = {"guest_cpu_us": 2.0, "host_cpu_us": 3.0, "latency_us": 5.0}
    l1 = {"guest_cpu_us": 7.0, "host_cpu_us": 11.0, "latency_us": 13.0}
    host = kvm_in_kvm({"profile": "kvm", "ops": {"syscall": l0}}, {"profile": "kvm", "ops": {"syscall": l1}})
    n, cpu = 1000, 1e-3
    exp = experiment([host], [closed("w", "h/a/b", {"cpu": f"{cpu} s", "syscalls": n})], duration="3.5 s")
    results = virtsim.run_experiment(exp)
    job = results.jobs[results.jobs["end_s"].notna()].iloc[0]
    native = cpu + n * LINUX.ops.syscall * US
    guest = cpu * KVM.cpu.factor ** 2 + n * (LINUX.ops.syscall + l0["guest_cpu_us"] + l1["guest_cpu_us"]) * US
    expected = guest + n * (l0["host_cpu_us"] + l1["host_cpu_us"] + l0["latency_us"] + l1["latency_us"]) * US
    assert job["response_time_s"] == pytest.approx(expected, abs=EXACT)
    assert (job["native_s"], job["virtualization_s"]) == pytest.approx((native, expected - native), abs=EXACT)
    # Each hypervisor's own work lands in its own VMM thread: the L1's inside the L1, the L0's on the host.
    jobs_done = int(results.jobs["end_s"].notna().sum())
    cpu_time = results.consumers.set_index("consumer")["cpu_time_s"]
    assert cpu_time["h/a/b.vmm"] == pytest.approx(jobs_done * n * l1["host_cpu_us"] * US, abs=EXACT)
    assert cpu_time["h/a.vmm"] == pytest.approx(jobs_done * n * l0["host_cpu_us"] * US, abs=EXACT)


def test_docker_in_an_l2_pays_the_engine_and_both_hypervisors():
    l2 = [{"name": "b", "vcpus": 1, "memory": "2 GiB", "engine": "docker",
           "containers": [{"name": "web", "network": "nat", "storage": "volume"}]}]
    host = kvm_in_kvm(l2=l2)
    platform = Simulation(load_experiment(experiment([host], []))).platform
    modes = [Layer("network", DOCKER, REQUESTER, DOCKER.network_modes["nat"], "nat"),
             Layer("storage", DOCKER, "h/a/b", DOCKER.storage_modes["volume"], "volume"),
             Layer("engine", DOCKER, "h/a/b")]
    kvms = [Layer("hypervisor", KVM, "h/a/b.vmm", net_runs_in="h/a/b.net"),
            Layer("hypervisor", KVM, "h/a.vmm", net_runs_in="h/a.net")]
    assert platform.paths["h/a/b/web"] == compose(modes + kvms, LINUX)
    demand = {"cpu": "2 ms", "syscalls": 200, "net": {"transactions": 2, "bytes": "1 KiB"},
              "disk": {"ops": 2, "bytes": "4 KiB"}}
    in_ctr = first_job(host, "h/a/b/web", demand)
    in_vm = first_job(host, "h/a/b", demand)
    assert in_ctr["stack"] == "docker:network=nat / docker:storage=volume / docker / kvm / kvm"
    assert in_ctr["native_s"] == pytest.approx(in_vm["native_s"], abs=EXACT)
    assert in_ctr["virtualization_s"] > in_vm["virtualization_s"] > 0
    total = in_ctr[["native_s", "virtualization_s", "io_latency_s"]].sum()
    assert in_ctr["response_time_s"] == pytest.approx(total, abs=EXACT)


HYPERVISORS = ["kvm", "xen", "esxi", "hyper-v", "virtualbox"]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(l0=st.sampled_from(HYPERVISORS[:4]), l1=st.sampled_from(HYPERVISORS),
       cpu_ms=st.floats(0.01, 50), mem_fraction=st.floats(0, 1), syscalls=st.integers(0, 2000),
       page_faults=st.integers(0, 500), disk_ops=st.integers(0, 3), transactions=st.integers(0, 3))
def test_nesting_never_makes_a_request_faster(l0, l1, cpu_ms, mem_fraction, syscalls, page_faults, disk_ops,
                                              transactions):
    demand = {"cpu": f"{cpu_ms} ms", "mem_fraction": mem_fraction, "syscalls": syscalls,
              "page_faults": page_faults, "disk": {"ops": disk_ops}, "net": {"transactions": transactions}}
    one_level = {"name": "h", "hardware": {"cores": 2, "memory": "64 GiB"}, "hypervisor": l0,
                 "vms": [{"name": "a", "vcpus": 2, "memory": "8 GiB"}]}
    # Two vCPUs in the L1: a Type 2 L1 hypervisor's host apps run beside the L2, not in its way.
    two_levels = kvm_in_kvm(l0, l1, cores=2, l1_vcpus=2)
    in_l1 = first_job(one_level, "h/a", demand)
    in_l2 = first_job(two_levels, "h/a/b", demand)
    assert in_l2["native_s"] == pytest.approx(in_l1["native_s"], rel=1e-12)
    assert in_l2["response_time_s"] >= in_l1["response_time_s"] - EXACT
    assert in_l2["virtualization_s"] >= in_l1["virtualization_s"] - EXACT


# --- CPU sharing inside the L1 --------------------------------------------------------------------


def test_l2_vms_share_the_l1s_vcpus_max_min_fairly():
    """Three L2 VMs in a 4-vCPU L1 want 4, 1 and 2 cores (one busy thread each per core).

    By hand, max-min with equal shares: a fair third each is 4/3; y wants
    only 1, so it gets 1; the 3 cores left go half each to x and z (both want
    more than 1.5). So x gets 1.5 (steal 2.5), y 1 (steal 0), z 1.5 (steal 0.5),
    and the L1 is full: 4 cores, though the host has 8.
    """
    l2 = [{"name": "x", "vcpus": 4, "memory": "1 GiB"}, {"name": "y", "vcpus": 1, "memory": "1 GiB"},
          {"name": "z", "vcpus": 2, "memory": "1 GiB"}]
    host = kvm_in_kvm(cores=8, l1_vcpus=4, l2=l2)
    forever = {"cpu": "1000 s"}
    workloads = [closed("x", "h/a/x", forever, threads=4), closed("y", "h/a/y", forever),
                 closed("z", "h/a/z", forever, threads=2)]
    results = virtsim.run_experiment(experiment([host], workloads, duration="20 s", warmup="5 s"))
    measured = 15.0
    table = results.consumers.set_index("consumer")
    expected = {"h/a/x": (1.5, 2.5), "h/a/y": (1.0, 0.0), "h/a/z": (1.5, 0.5), "h/a": (4.0, 0.0)}
    for path, (cores, steal) in expected.items():
        assert table.loc[path, "cpu_time_s"] == pytest.approx(cores * measured, rel=1e-9), path
        assert table.loc[path, "steal_time_s"] == pytest.approx(steal * measured, rel=1e-9, abs=1e-9), path
    assert table.loc["h/a/x", "cpu_utilization"] == pytest.approx(1.5 / 4, rel=1e-9)
    assert table.loc["h", "cpu_time_s"] == pytest.approx(4.0 * measured, rel=1e-9)


def test_shares_weigh_l2_vms_against_each_other():
    l2 = [{"name": "x", "vcpus": 4, "memory": "1 GiB", "shares": 1000},
          {"name": "y", "vcpus": 4, "memory": "1 GiB", "shares": 3000}]
    host = kvm_in_kvm(cores=8, l1_vcpus=4, l2=l2)
    forever = {"cpu": "1000 s"}
    workloads = [closed("x", "h/a/x", forever, threads=4), closed("y", "h/a/y", forever, threads=4)]
    # Measured after the clients' first think time, while both are busy.
    table = virtsim.run_experiment(experiment([host], workloads, duration="10 s", warmup="2 s")).consumers
    cpu_time = table.set_index("consumer")["cpu_time_s"]
    assert cpu_time["h/a/x"] == pytest.approx(1.0 * 8, rel=1e-9)
    assert cpu_time["h/a/y"] == pytest.approx(3.0 * 8, rel=1e-9)


# --- start-up and failures ------------------------------------------------------------------------


def _failing(domain: str, layer: str, *, l2_restart: str = "on-failure") -> dict:
    l2 = [{"name": "b", "vcpus": 2, "memory": "2 GiB", "engine": "docker", "containers": [{"name": "web"}],
           "restart": l2_restart}]
    host = kvm_in_kvm(cores=8, l1_vcpus=4, l2=l2)
    # No think time: each client has a job in flight whenever its target is up.
    workloads = [closed(name, target, {"cpu": "1 s"}, think="0 s")
                 for name, target in (("wa", "h/a"), ("wb", "h/a/b"), ("web", "h/a/b/web"))]
    return {**experiment([host], workloads, duration="200 s"), "cold_start": True,
            "failures": [{"domain": domain, "layer": layer, "at": ["100.25 s"], "time_to_repair": "5 s"}]}


def test_an_l2_boots_inside_its_l1_once_the_l1_is_up():
    sim = Simulation(load_experiment(_failing("h/a", "guest-os"))).run()
    gates = sim.startup.gates
    a_up, b_up = gates["h/a"].ready_at, gates["h/a/b"].ready_at
    boot = LINUX.boot
    disk = sim.spec.hosts[0].hardware.disks[0]
    # Alone in the L1 (4 vCPUs, the L1's own job on another), one vCPU of boot work at KVM-in-KVM speed.
    l2_boot = (KVM.startup.vmm_start + boot.cpu * KVM.cpu.factor ** 2 + boot.disk_read / disk.bandwidth_bytes_per_s
               + boot.fixed)
    assert b_up - a_up == pytest.approx(l2_boot, rel=1e-9)
    assert gates["h/a/b/web"].ready_at > b_up


def test_an_l1_failure_takes_its_l2_and_containers_down_and_they_boot_after_it():
    sim = Simulation(load_experiment(_failing("h/a", "guest-os"))).run()
    gates = sim.startup.gates
    back = {path: gates[path].closed[-1] for path in ("h/a", "h/a/b", "h/a/b/web")}
    assert all(down == 100.25 for down, _ in back.values())
    assert 105.25 < back["h/a"][1] < back["h/a/b"][1] < back["h/a/b/web"][1]
    # The L2 boots again exactly as it did at first: after its L1, inside it.
    first = gates["h/a/b"].ready_at - gates["h/a"].ready_at
    assert back["h/a/b"][1] - back["h/a"][1] == pytest.approx(first, rel=1e-9)
    results = virtsim.run_experiment(_failing("h/a", "guest-os"))
    assert results.failures["consumers"].tolist() == [3, 3]
    failed = results.workloads.set_index("workload")["jobs_failed"]
    assert (failed[["wa", "wb", "web"]] == 1).all()  # each had a job in flight


@pytest.mark.parametrize(("domain", "layer", "down"), [
    ("h/a", "hypervisor", ["h/a/b", "h/a/b/web"]),
    ("h", "hypervisor", ["h/a", "h/a/b", "h/a/b/web"]),
    ("h/a/b", "guest-os", ["h/a/b", "h/a/b/web"]),
    ("h/a/b", "engine", ["h/a/b/web"]),
])
def test_a_failure_takes_down_what_runs_above_it_at_every_level(domain, layer, down):
    consumers = virtsim.run_experiment(_failing(domain, layer)).consumers.set_index("consumer")
    failures = consumers.loc[["h/a", "h/a/b", "h/a/b/web"], "failures"]
    assert list(failures[failures > 0].index) == down


def test_a_never_restart_l2_stays_down_after_its_l1_comes_back():
    consumers = virtsim.run_experiment(_failing("h/a", "guest-os", l2_restart="never")).consumers
    downtime = consumers.set_index("consumer")["downtime_s"]
    assert downtime["h/a"] < 30  # its cold boot, the repair, its boot again
    assert downtime["h/a/b"] > 99 and downtime["h/a/b/web"] > 99


# --- memory ---------------------------------------------------------------------------------------


def test_l2_memory_is_admitted_against_the_l1s_ram_less_its_footprints():
    l2_bytes, vcpus = 2 * GIB, 2
    # The L1's RAM must hold its guest OS, the L2's RAM and the L1 hypervisor's per-VM overhead for it.
    need = LINUX.memory.resident + l2_bytes + vmm_overhead_bytes(KVM, vcpus, l2_bytes)
    l2 = [{"name": "b", "vcpus": vcpus, "memory": f"{l2_bytes} B"}]

    def with_l1_memory(nbytes: int) -> dict:
        host = kvm_in_kvm(cores=4, l1_vcpus=2, l2=l2)
        host["vms"][0]["memory"] = f"{nbytes} B"
        return experiment([host], [])

    spec = load_experiment(with_l1_memory(int(need)))
    assert "cannot hold what runs in VM 'a'" in problems(with_l1_memory(int(need) - 1))
    host = spec.hosts[0]
    committed = footprints(host)
    assert committed["h/a/b"] == l2_bytes and committed["h/a/b.vmm"] == vmm_overhead_bytes(KVM, vcpus, l2_bytes)
    # On the host: the L1's RAM and its VMM, not what runs inside the L1.
    assert committed["h"] == host.vms[0].memory_bytes + vmm_overhead_bytes(KVM, 2, host.vms[0].memory_bytes)
    domains = memory_domains(host)
    assert domains["h/a"] == (("h/a", 0.0, "process"),)  # exactly full
    assert domains["h/a/b"] == (("h/a/b", l2_bytes - LINUX.memory.resident, "process"),)


def test_requests_in_an_l2_count_against_its_own_ram():
    host = kvm_in_kvm(l2=[{"name": "b", "vcpus": 1, "memory": "1 GiB"}])
    free = 1 * GIB - LINUX.memory.resident
    too_big = {"cpu": "1 s", "memory": f"{int(free) + 1} B"}
    assert "every request would fail" in problems(experiment([host], [closed("w", "h/a/b", too_big)]))
    results = virtsim.run_experiment(experiment([host], [closed("w", "h/a/b", {"cpu": "1 s", "memory": "64 MiB"})]))
    table = results.consumers.set_index("consumer")
    assert table.loc["h/a/b", "memory_in_use_peak_bytes"] == 64 * 2**20
    assert table.loc["h/a/b", "memory_bytes"] == GIB


def test_a_type_2_hypervisor_in_a_guest_runs_on_its_os_with_the_host_apps_inside_the_vm():
    host = kvm_in_kvm("kvm", "virtualbox", l1_vcpus=1)
    spec = load_experiment(experiment([host], []))
    assert footprints(spec.hosts[0])["h/a/host-os"] == LINUX.host_apps.memory
    results = virtsim.run_experiment(experiment([host], [], duration="10 s"))
    table = results.consumers.set_index("consumer")
    assert table.loc["h/a/host-os", "kind"] == "layer"
    assert table.loc["h/a/host-os", "cpu_time_s"] == pytest.approx(LINUX.host_apps.cpu * 10, rel=1e-9)
    assert table.loc["h/a", "cpu_time_s"] == pytest.approx(LINUX.host_apps.cpu * 10, rel=1e-9)  # inside the L1


def test_the_readme_nested_example_loads_and_runs():
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    [raw] = [b for b in map(yaml.safe_load, re.findall(r"^```yaml\n(.*?)^```", readme, re.S | re.M))
             if isinstance(b, dict) and b.get("name") == "nested"]
    results = virtsim.run_experiment({**raw, "duration": "40 s"})
    jobs = results.jobs
    assert set(jobs["target"].astype(str)) == {"h1/l1/vm/web"} and jobs["end_s"].notna().sum() > 0
    assert {"h1/l1", "h1/l1/vm", "h1/l1/vm/web", "h1/l1/vm.vmm", "h1/l1.vmm"} <= set(results.consumers["consumer"])
