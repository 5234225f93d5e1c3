"""The parts a simulation is wired from, each on its own: device shares, swap, request plans, failing jobs."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import simpy

import virtsim
from virtsim.components.devices import Disk, Nic, disk_share, nic_share
from virtsim.components.failures import JobsInFlight
from virtsim.components.memory import PAGE_BYTES, Swapping
from virtsim.components.platform import Platform
from virtsim.config.spec import DiskSpec, NicSpec
from virtsim.workloads.jobs import JobLog
from virtsim.workloads.planning import RequestPlanner
from virtsim.workloads.requests import Demand

MB = 1e6
DISK = DiskSpec(name="d", kind="ssd", iops=1000.0, write_iops=500.0, bandwidth_bytes_per_s=400 * MB,
                write_bandwidth_bytes_per_s=200 * MB, latency_s=1e-4, write_latency_s=2e-4,
                request_bandwidth_bytes_per_s=50 * MB)
NIC = NicSpec(name="n", bandwidth_bytes_per_s=1000 * MB, latency_s=5e-5)


def _path(**io) -> SimpleNamespace:
    return SimpleNamespace(disk=SimpleNamespace(**io), net=SimpleNamespace(**io))


def test_a_disk_share_is_capped_by_the_path_and_seen_as_the_path_sees_the_device():
    disk = Disk(simpy.Environment(), "h", DISK)
    path = _path(bandwidth_factor=0.5, other_bandwidth_factor=0.8, bandwidth_limit_bytes_per_s=40 * MB)
    write = disk_share(disk, "h/a", path, write=True)
    # Writes: 200 MB/s × 0.8 reachable; the path's 40 MB/s is a quarter of that, 50 MB/s per request 5/16.
    assert (write.ops_per_s, write.bytes_per_s, write.latency_s) == (500.0, 200 * MB, 2e-4)
    assert write.node.cap == pytest.approx(0.25) and write.request_share == pytest.approx(50 / 160)
    assert write.bare_request_share == pytest.approx(0.25)
    read = disk_share(disk, "h/b", path, write=False)
    assert read.node.cap == pytest.approx(0.2) and read.request_share == pytest.approx(0.25)
    assert disk_share(disk, "h/a", path, write=False).node is write.node  # one node per consumer: the tighter cap
    assert write.node.cap == pytest.approx(0.2)


def test_a_nic_share_takes_the_direction_factor_and_the_path_ceiling():
    nic = Nic(simpy.Environment(), "h", NIC)
    path = _path(bandwidth_factor=0.9, other_bandwidth_factor=0.6, bandwidth_limit_bytes_per_s=800 * MB)
    receive, send = nic_share(nic, "h/a", path, receive=True), nic_share(nic, "h/b", path, receive=False)
    assert receive.bytes_per_s == pytest.approx(600 * MB) and send.bytes_per_s == pytest.approx(800 * MB)
    assert receive.bare_rate == send.bare_rate == 1000 * MB and receive.ops_per_s == 0.0


def _overcommitted():
    return virtsim.load_experiment({
        "name": "swap", "duration": "1 s", "cold_start": False,
        "hosts": [{"name": "h", "hardware": {"cores": 4, "memory": "4 GiB"}, "hypervisor": "kvm",
                   "memory_overcommit": 2,
                   "vms": [{"name": f"v{k}", "vcpus": 1, "memory": "3 GiB"} for k in range(2)]}]})


def test_requests_in_a_swapped_vm_read_back_its_swapped_share_of_their_memory():
    spec = _overcommitted()
    env = simpy.Environment()
    platform = Platform(env, spec.hosts)
    swapping = Swapping(platform, spec.hosts)
    reclaim = swapping.pressure["h/v0"]
    assert reclaim.swapped > 0
    fraction = reclaim.swapped_fraction(spec.hosts[0].vms[0])
    assert swapping.page_ins_per_request("h/v0", 64 * PAGE_BYTES) == pytest.approx(64 * fraction)
    assert swapping.page_ins_per_request("h", 64 * PAGE_BYTES) == 0.0  # the host's own memory is not swapped
    plan = RequestPlanner(env, platform, swapping).plan("h/v0", Demand(cpu_s=0.0, memory_bytes=PAGE_BYTES), 1)
    assert plan.swap is not None and plan.swap_ops == pytest.approx(fraction)
    assert plan.swap.node is platform.disks["h"][0].nodes["h/v0.swap"]


def test_custom_requests_of_one_shape_share_a_plan():
    spec = _overcommitted()
    env = simpy.Environment()
    platform = Platform(env, spec.hosts)
    planner = RequestPlanner(env, platform, Swapping(platform, spec.hosts))
    one = planner.shared_plan("h/v1", Demand(cpu_s=1.0, disk_ops=2, disk_bytes=4096), 1)
    assert planner.shared_plan("h/v1", Demand(cpu_s=5.0, disk_ops=7, disk_bytes=8192), 1) is one
    assert planner.shared_plan("h/v1", Demand(cpu_s=1.0, net_transactions=1), 1) is not one


class _Starter:
    def __init__(self, log, waiting=()):
        self.log, self.waiting, self.failed = log, set(waiting), []

    def fail(self, job, now):
        self.failed.append(job)
        self.log.fail(job, now)


def test_a_consumer_going_down_fails_the_jobs_running_there_only():
    log = JobLog(["w", "custom"], ["h/a", "h/b"])
    done = log.arrive(0, 0, 0.0, 1.0)
    log.finish(done, 1.0)
    running, waiting, elsewhere = (log.arrive(0, t, 2.0, 1.0) for t in (0, 0, 1))
    custom = log.arrive(1, 0, 2.0, 1.0)
    jobs = JobsInFlight(log, {"h/a": 0, "h/b": 1})
    starter = jobs.starters[0] = _Starter(log, waiting=[waiting])
    jobs.fail(["h/a"], 3.0)
    assert starter.failed == [running]  # the waiting one waits at its gate; the custom job has no starter
    assert log.failed_at == {running: 3.0, custom: 3.0}
    assert elsewhere not in log.failed_at and done not in log.failed_at
    jobs.fail(["h/a"], 4.0)
    assert starter.failed == [running] and log.failed_at[running] == 3.0
