"""Memory footprints per layer (DESIGN §2.3), reported per consumer; a host's is its committed total."""

import pytest

import virtsim

MiB = 2**20


def consumers(hosts):
    res = virtsim.run_experiment({"name": "mem", "duration": "1 s", "cold_start": False, "hosts": hosts})
    return res, res.consumers.set_index("consumer")["memory_bytes"]


@pytest.mark.parametrize(("guest_mb", "vcpus", "published_mb"), [
    (256, 1, 20.29), (1024, 2, 29.91), (4096, 4, 60.67), (16384, 8, 168.60)])
def test_esxi_per_vm_overhead_lands_on_vmwares_table(guest_mb, vcpus, published_mb):
    """calibration README §7: ESXi 6.5 overhead memory; the profile's fit is within 0.46 MB of every cell."""
    hosts = [{"name": "h", "hardware": "server-2s-32c", "hypervisor": "esxi",
              "vms": [{"name": "a", "vcpus": vcpus, "memory": f"{guest_mb} MiB"}]}]
    _, mem = consumers(hosts)
    assert mem["h/a.vmm"] / MiB == pytest.approx(published_mb, abs=0.5)
    assert mem["h/a"] == guest_mb * MiB


def test_per_container_memory_of_runc_and_gvisor():
    """calibration README §6 (density.csv): 4.09 MB per runc container, 23.70 MB per runsc sandbox."""
    hosts = [{"name": e, "hardware": "server-2s-32c", "host_os": "linux-server", "engine": e,
              "containers": [{"name": "c"}]} for e in ("docker", "gvisor")]
    _, mem = consumers(hosts)
    assert mem["docker/c"] / 1e6 == pytest.approx(4.09, rel=0.05)
    assert mem["gvisor/c"] / 1e6 == pytest.approx(23.70, rel=0.05)


def test_a_host_commits_what_lands_on_its_physical_memory():
    hosts = [{"name": "h", "hardware": "server-2s-32c", "hypervisor": "kvm", "host_os": "linux-server",
              "vms": [{"name": "a", "vcpus": 2, "memory": "2 GiB", "engine": "docker",
                       "containers": [{"name": "c1"}, {"name": "c2"}]}]}]
    res, mem = consumers(hosts)
    # Containers live in their VM's RAM: they are reported, but not added to the host again.
    assert mem["h/a/c1"] > 0
    spec = virtsim.load_experiment({"name": "x", "duration": "1 s", "hosts": hosts})
    resident = spec.hosts[0].host_os.memory.resident
    assert mem["h"] == pytest.approx(resident + mem["h/a"] + mem["h/a.vmm"])
    assert res.summary["memory_committed_ratio_max"].iloc[0] == pytest.approx(mem["h"] / (256 * 2**30))


def test_a_kata_container_carries_its_microvm():
    hosts = [{"name": k, "hardware": "server-2s-32c", "host_os": "linux-server", "engine": k,
              "containers": [{"name": "c"}]} for k in ("kata", "containerd")]
    _, mem = consumers(hosts)
    assert mem["kata/c"] > mem["containerd/c"] + 5 * MiB  # a guest OS and a VMM, not just a shim
