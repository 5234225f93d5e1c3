"""Disks on another host: a VM's image or a container's volume on a storage host (components.remote_storage)."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import virtsim
from virtsim.components.remote_storage import COMMAND_HEADER_BYTES
from virtsim.config import ConfigError, load_experiment

NIC = 10e9 / 8
"""The default NIC's line rate (models/devices/nic-10gbe.yaml), bytes per second: every host's link here."""
LATENCY_US = {"app": 1.0, "app2": 1.0, "nas1": 2.0, "nas2": 5.0, "nas3": 9.0}
"""One-way latency of each host's link to the one switch: the routes to the three storage hosts all differ."""
CPU_S = 10e-6


def host(name: str, **more) -> dict:
    return {"name": name, "hardware": {"cores": 8, "core_speed": 1.0, "memory": "16 GiB"}, **more}


def star(workloads: list[dict], *, hosts: list[dict] | None = None, duration: str = "0.5 s") -> dict:
    """The hosts on one switch, each by a link of its own latency; ``hosts`` default: app, nas1, nas2, nas3."""
    hosts = hosts or [host("app"), host("nas1"), host("nas2"), host("nas3")]
    return {"name": "remote", "seed": 5, "duration": duration, "warmup": "0 s", "cold_start": False,
            "hosts": hosts,
            "network": {"switches": ["sw"],
                        "links": [{"a": h["name"], "b": "sw", "latency": f"{LATENCY_US[h['name']]} us"}
                                  for h in hosts]},
            "workloads": workloads}


def disk_io(name: str, target: str, kind: str = "read", size: str = "64 KiB", ops: int = 2,
            pattern: str = "random", clients: int = 1) -> dict:
    return {"name": name, "target": target, "type": "closed", "clients": clients, "think_time": "0 s",
            "demand": {"cpu": f"{CPU_S} s", "disk": {"ops": ops, "bytes": size, "kind": kind, "pattern": pattern}}}


def with_storage(exp: dict, host_name: str, storage) -> dict:
    """``exp`` with the host's own workload target given a remote disk: the host's containers get ``storage``."""
    exp = copy.deepcopy(exp)
    for h in exp["hosts"]:
        if h["name"] == host_name:
            h.setdefault("containers", [{"name": "db"}])[0]["storage"] = storage
    return exp


def lone(results, workload: str) -> float:
    """The response time of every request of a workload whose requests are all alike."""
    jobs = results.jobs
    rt = jobs[jobs.end_s.notna() & (jobs.workload == workload)].response_time_s
    assert len(rt) > 5 and np.allclose(rt, rt.iloc[0], rtol=1e-9), rt.describe()
    return float(rt.iloc[0])


def mean_rt(results, workload: str) -> float:
    jobs = results.jobs
    return float(jobs[jobs.end_s.notna() & (jobs.workload == workload)].response_time_s.mean())


def replica_s(spec, name: str, nbytes: float, write: bool, requester: str = "app", replicas: int = 1) -> float:
    """One operation alone at storage host ``name``, in closed form: the command (and a write's data) over the
    route, the device service, the response (and a read's data) back, the route's latency both ways and the
    device's. A write to ``replicas`` replicas sends them all at once over the requester's own link (its NIC):
    a third of it each for three, as they are the same size."""
    disk = next(h for h in spec.hosts if h.name == name).hardware.disks[0]
    iops = disk.write_iops if write else disk.iops
    bandwidth = disk.write_bandwidth_bytes_per_s if write else disk.bandwidth_bytes_per_s
    device_s = max(1.0 / iops, nbytes / bandwidth)
    out = COMMAND_HEADER_BYTES + (nbytes if write else 0.0)
    back = COMMAND_HEADER_BYTES + (0.0 if write else nbytes)
    route_s = (LATENCY_US[requester] + LATENCY_US[name]) * 1e-6
    return out * replicas / NIC + device_s + back / NIC + 2.0 * route_s + (disk.write_latency_s if write else disk.latency_s)


def remote_run(storage, kind: str, size: str = "64 KiB", ops: int = 2):
    exp = with_storage(star([disk_io("w", "app/db", kind, size, ops)]), "app", storage)
    return load_experiment(exp), virtsim.run_experiment(exp)


# --- closed forms alone ------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [4096, 65536, 1 << 20])
def test_a_remote_read_alone_is_the_routes_wire_both_ways_the_latencies_and_the_remote_devices_service(size):
    spec, results = remote_run({"mode": "overlay", "remote": "nas2/nvme0"}, "read", f"{size} B", ops=3)
    expected = CPU_S + 3 * replica_s(spec, "nas2", size, write=False)
    assert lone(results, "w") == pytest.approx(expected, rel=0, abs=1e-9)


@settings(max_examples=12, deadline=None)
@given(size=st.integers(min_value=512, max_value=4 << 20), ops=st.integers(min_value=1, max_value=4),
       write=st.booleans(), sequential=st.booleans(), target=st.sampled_from(["nas1", "nas2", "nas3"]))
def test_alone_a_remote_operation_is_its_closed_form_for_any_size_count_direction_and_host(size, ops, write,
                                                                                            sequential, target):
    exp = with_storage(star([disk_io("w", "app/db", "write" if write else "read", f"{size} B", ops,
                                     "sequential" if sequential else "random")], duration="0.2 s"),
                       "app", {"remote": target})
    spec = load_experiment(exp)
    one = replica_s(spec, target, size, write)
    if sequential:  # no per-operation floor: the transfer alone
        disk = spec.hosts[1].hardware.disks[0]
        iops = disk.write_iops if write else disk.iops
        bandwidth = disk.write_bandwidth_bytes_per_s if write else disk.bandwidth_bytes_per_s
        one += size / bandwidth - max(1.0 / iops, size / bandwidth)
    assert lone(virtsim.run_experiment(exp), "w") == pytest.approx(CPU_S + ops * one, rel=0, abs=1e-9)


def test_a_remote_write_alone_carries_its_data_out_and_a_status_back():
    spec, results = remote_run({"remote": "nas1"}, "write", "256 KiB", ops=2)
    expected = CPU_S + 2 * replica_s(spec, "nas1", 256 * 1024, write=True)
    assert lone(results, "w") == pytest.approx(expected, rel=0, abs=1e-9)


def test_a_write_to_three_replicas_takes_the_slowest_route_and_a_quorum_the_second_fastest():
    # The replicas' routes differ by their hosts' links' latency (LATENCY_US); their data share the sender's link.
    targets = ["nas1/nvme0", "nas2/nvme0", "nas3/nvme0"]
    spec, every = remote_run({"remote": targets}, "write", "64 KiB")
    _, quorum = remote_run({"remote": targets, "write": "quorum"}, "write", "64 KiB")
    times = sorted(replica_s(spec, name, 65536, write=True, replicas=3) for name in ("nas1", "nas2", "nas3"))
    assert times[0] < times[1] < times[2]
    assert lone(every, "w") == pytest.approx(CPU_S + 2 * times[2], rel=0, abs=1e-9)
    assert lone(quorum, "w") == pytest.approx(CPU_S + 2 * times[1], rel=0, abs=1e-9)
    for results, time_s in ((every, times[2]), (quorum, times[1])):  # alone, the breakdown holds it all
        row = results.jobs[results.jobs.workload == "w"].iloc[0]
        assert row.io_latency_s == pytest.approx(2 * time_s, rel=1e-12)


def test_a_read_from_a_replicated_target_goes_to_the_first_listed():
    spec, results = remote_run({"remote": ["nas3", "nas1", "nas2"], "write": "quorum"}, "read", "64 KiB")
    assert lone(results, "w") == pytest.approx(CPU_S + 2 * replica_s(spec, "nas3", 65536, write=False),
                                               rel=0, abs=1e-9)


def test_the_breakdown_puts_the_remote_operations_in_io_latency():
    spec, results = remote_run({"remote": "nas2"}, "read", "64 KiB")
    jobs = results.jobs
    row = jobs[jobs.end_s.notna() & (jobs.workload == "w")].iloc[0]
    expected = 2 * replica_s(spec, "nas2", 65536, write=False)
    assert row.io_latency_s == pytest.approx(expected, rel=1e-12)


def test_a_vms_image_on_a_nas_under_kvm_keeps_its_paths_costs_and_adds_the_remote_operation():
    vm = {"name": "db", "vcpus": 2, "memory": "2 GiB"}
    # 4 KiB random reads: IOPS-bound, whatever the hypervisor's disk bandwidth factor.
    local = star([disk_io("w", "app/db", "read", "4 KiB")], hosts=[host("app", hypervisor="kvm", vms=[vm]), host("nas1")])
    remote = copy.deepcopy(local)
    remote["hosts"][0]["vms"][0]["storage"] = {"remote": "nas1"}
    spec = load_experiment(remote)
    local_rt, remote_rt = lone(virtsim.run_experiment(local), "w"), lone(virtsim.run_experiment(remote), "w")
    disk = spec.hosts[1].hardware.disks[0]
    local_device = 1.0 / disk.iops + disk.latency_s
    # The same disk model on both hosts: what changes is the wire and the route's latency, per operation.
    assert remote_rt - local_rt == pytest.approx(2 * (replica_s(spec, "nas1", 4096, write=False) - local_device),
                                                 rel=1e-9)


# --- sharing -------------------------------------------------------------------------------------------


def test_two_vms_on_different_hosts_writing_to_one_nas_share_its_disk():
    size = 4 << 20  # large sequential writes: the device dominates
    hosts = [host("app", containers=[{"name": "db", "storage": {"remote": "nas1"}}]),
             host("app2", containers=[{"name": "db", "storage": {"remote": "nas1"}}]),
             host("nas1"), host("nas2")]
    w = [disk_io("a", "app/db", "write", f"{size} B", ops=1, pattern="sequential"),
         disk_io("b", "app2/db", "write", f"{size} B", ops=1, pattern="sequential")]
    together = virtsim.run_experiment(star(w, hosts=hosts, duration="2 s"))
    apart_hosts = copy.deepcopy(hosts)
    apart_hosts[1]["containers"][0]["storage"] = {"remote": "nas2"}
    apart = virtsim.run_experiment(star(w, hosts=apart_hosts, duration="2 s"))
    spec = load_experiment(star(w, hosts=hosts))
    disk = spec.hosts[2].hardware.disks[0]
    device_s = size / disk.write_bandwidth_bytes_per_s
    wire_s = (size + COMMAND_HEADER_BYTES) / NIC
    # In step, the two writes share nas1's link on the way in and then its disk: both take twice as long.
    shared = CPU_S + 2 * wire_s + 2 * device_s + 2 * COMMAND_HEADER_BYTES / NIC + disk.write_latency_s
    assert lone(together, "a") == pytest.approx(shared + 2e-6 * (LATENCY_US["app"] + LATENCY_US["nas1"]), rel=1e-9)
    assert lone(apart, "a") == pytest.approx(CPU_S + replica_s(spec, "nas1", size, write=True), rel=1e-9)


def test_a_remote_user_contends_with_the_storage_hosts_local_users_of_its_disk():
    size = 4 << 20
    w = [disk_io("remote", "app/db", "read", f"{size} B", ops=1, pattern="sequential"),
         disk_io("local", "nas1", "read", f"{size} B", ops=1, pattern="sequential")]
    exp = with_storage(star(w, hosts=[host("app"), host("nas1")], duration="2 s"), "app", {"remote": "nas1"})
    alone = with_storage(star(w[:1], hosts=[host("app"), host("nas1")], duration="2 s"), "app", {"remote": "nas1"})
    disk = load_experiment(exp).hosts[1].hardware.disks[0]
    device_s = size / disk.bandwidth_bytes_per_s
    # The transfer over the wire dominates; what the local reader adds is up to the remote one's device time.
    added = mean_rt(virtsim.run_experiment(exp), "remote") - lone(virtsim.run_experiment(alone), "remote")
    assert 0.5 * device_s < added <= device_s * (1 + 1e-9)


def test_a_noisy_flow_on_the_route_slows_remote_io_and_not_local_io():
    hosts = [host("app", containers=[{"name": "db", "storage": {"remote": "nas1"}}, {"name": "loc"}]),
             host("nas1")]
    w = [disk_io("remote", "app/db", "read", "1 MiB", ops=1), disk_io("local", "app/loc", "read", "1 MiB", ops=1)]
    # A bulk sender on the storage host: its traffic leaves by nas1's link, as the remote reads' data does.
    noisy = {"name": "noise", "target": "nas1", "type": "closed", "clients": 4, "think_time": "0 s",
             "demand": {"cpu": "10 us", "net": {"transactions": 1, "bytes": "8 MiB"}}}
    quiet_run = virtsim.run_experiment(star(w, hosts=hosts))
    noisy_run = virtsim.run_experiment(star([*w, noisy], hosts=hosts))
    assert lone(noisy_run, "local") == lone(quiet_run, "local")
    assert mean_rt(noisy_run, "remote") > 1.5 * lone(quiet_run, "remote")


def test_two_runs_are_bit_identical():
    exp = with_storage(star([disk_io("w", "app/db", "write", clients=3)]), "app",
                       {"remote": ["nas1", "nas2", "nas3"], "write": "quorum"})
    a, b = virtsim.run_experiment(exp), virtsim.run_experiment(exp)
    pd.testing.assert_frame_equal(a.jobs, b.jobs)


# --- the schema -----------------------------------------------------------------------------------------


def test_a_storage_mode_alone_stays_valid_and_the_mapping_form_keeps_it():
    exp = star([disk_io("w", "app/db")], hosts=[host("app", engine="docker", host_os="linux-server",
                                                      containers=[{"name": "db", "storage": "volume"},
                                                                  {"name": "v", "storage": {"mode": "volume",
                                                                                            "remote": "nas1"}}]),
                                                 host("nas1")])
    spec = load_experiment(exp)
    db, v = spec.hosts[0].containers
    assert (db.storage, db.remote_storage) == ("volume", None)
    assert v.storage == "volume" and v.remote_storage.targets == (("nas1", ""),)
    assert "remote_storage" not in spec.model_dump(mode="json")["hosts"][0]["containers"][0]


def problems(exp: dict) -> dict[str, str]:
    with pytest.raises(ConfigError) as info:
        load_experiment(exp)
    return {problem.path: problem.message for problem in info.value.problems}


def test_an_unknown_storage_host_or_disk_is_located_with_a_suggestion():
    exp = with_storage(star([disk_io("w", "app/db")]), "app", {"remote": ["nas1/nvme0", "nsa2", "nas3/nvme1"]})
    found = problems(exp)
    assert "did you mean 'nas2'" in found["hosts[0].containers[0].storage.remote[1]"]
    message = found["hosts[0].containers[0].storage.remote[2]"]
    assert "no disk 'nvme1'" in message and "did you mean 'nas3/nvme0'" in message
    assert len(found) == 2


def test_a_remote_disk_needs_a_network_section():
    exp = with_storage(star([disk_io("w", "app/db")]), "app", {"remote": "nas1"})
    del exp["network"]
    (path, message), = problems(exp).items()
    assert path == "hosts[0].containers[0].storage.remote" and "'network' section" in message


def test_a_storage_host_not_attached_to_the_network_is_located():
    exp = with_storage(star([disk_io("w", "app/db")], hosts=[host("app"), host("nas1")]), "app",
                       {"remote": "nas2"})
    exp["hosts"].append(host("nas2"))
    exp["network"]["isolated"] = ["nas2"]
    found = problems(exp)
    assert "storage host 'nas2' is not attached" in found["hosts[0].containers[0].storage.remote"]


@pytest.mark.parametrize("storage, where", [({"remote": "nas1/nvme0/x"}, "storage.remote"),
                                            ({"remote": "nas1", "write": "most"}, "storage.write"),
                                            ({"remote": []}, "storage.remote")])
def test_a_malformed_remote_is_located(storage, where):
    exp = with_storage(star([disk_io("w", "app/db")]), "app", storage)
    assert any(path.startswith(f"hosts[0].containers[0].{where}") for path in problems(exp))


def test_a_vms_storage_takes_no_mode():
    vm = {"name": "db", "vcpus": 2, "memory": "2 GiB", "storage": {"mode": "volume"}}
    exp = star([disk_io("w", "app/db")], hosts=[host("app", hypervisor="kvm", vms=[vm]), host("nas1")])
    assert any(path.startswith("hosts[0].vms[0].storage") for path in problems(exp))


def test_a_requester_not_attached_to_the_network_is_located():
    exp = with_storage(star([disk_io("w", "app/db")], hosts=[host("app"), host("nas1")]), "app", {"remote": "nas1"})
    exp["network"]["isolated"] = ["app"]
    exp["network"]["links"] = [link for link in exp["network"]["links"] if link["a"] != "app"]
    found = problems(exp)
    assert "host 'app' is not attached" in found["hosts[0].containers[0].storage.remote"]


def test_a_container_in_a_vm_uses_its_vms_remote_image_unless_it_names_a_volume_of_its_own():
    vm = {"name": "db", "vcpus": 2, "memory": "2 GiB", "engine": "docker", "storage": {"remote": "nas1"},
          "containers": [{"name": "own", "storage": {"mode": "volume", "remote": "nas2"}}, {"name": "inherits"}]}
    exp = star([disk_io("a", "app/db/own"), disk_io("b", "app/db/inherits")],
               hosts=[host("app", hypervisor="kvm", vms=[vm]), host("nas1"), host("nas2")])
    results = virtsim.run_experiment(exp)
    links = results.links.set_index("link").bytes
    # Each container's reads come back from its own storage host: 64 KiB and a header per operation.
    a, b = (len(results.jobs[results.jobs.workload == w]) for w in ("a", "b"))
    assert links["nas2->sw"] >= (a - 1) * 2 * (65536 + COMMAND_HEADER_BYTES)
    assert links["nas1->sw"] >= (b - 1) * 2 * (65536 + COMMAND_HEADER_BYTES)
    assert links["nas1->sw"] < (b + 1) * 2 * (65536 + COMMAND_HEADER_BYTES)
