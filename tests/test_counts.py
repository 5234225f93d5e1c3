"""``count``: many identical hosts, or pool items, from one entry."""

from __future__ import annotations

import pytest

import virtsim
from virtsim.config import ConfigError


def _exp(hosts, workloads=(), **extra):
    return {"name": "c", "duration": "10 s", "hosts": hosts, "workloads": list(workloads), **extra}


def test_a_host_with_a_count_becomes_numbered_copies_with_what_runs_on_it():
    hosts = [{"name": "g", "count": 3, "hardware": {"cores": 4, "memory": "8 GiB"}, "hypervisor": "kvm",
              "vms": [{"name": "a", "vcpus": 2, "memory": "2 GiB"}]},
             {"name": "solo", "hardware": {"cores": 2, "memory": "4 GiB"}}]
    web = {"name": "w", "target": "g-3/a", "type": "closed", "clients": 1, "demand": {"cpu": "1 s"}}
    spec = virtsim.load_experiment(_exp(hosts, [web]))
    assert [h.name for h in spec.hosts] == ["g-1", "g-2", "g-3", "solo"]
    assert all(h.vms[0].name == "a" for h in spec.hosts[:3])
    jobs = virtsim.run_spec(spec).jobs
    assert set(jobs["target"].astype(str)) == {"g-3/a"}


def test_problems_of_a_copied_host_point_at_its_entry_once_per_copy():
    hosts = [{"name": "g", "count": 2, "hardware": {"cores": 1, "memory": "8 GiB"},
              "vms": [{"name": "a", "vcpus": 2, "memory": "2 GiB"}]}]
    with pytest.raises(ConfigError) as err:
        virtsim.load_experiment(_exp(hosts))
    text = str(err.value)
    assert "hosts[0].vms[0].vcpus: asks 2 vCPUs but host 'g-1' has 1 core" in text
    assert "host 'g-2'" in text


def test_copies_may_not_clash_with_other_names():
    hosts = [{"name": "g", "count": 2, "hardware": {"cores": 1, "memory": "8 GiB"}},
             {"name": "g-2", "hardware": {"cores": 1, "memory": "8 GiB"}}]
    with pytest.raises(ConfigError, match="duplicate host name 'g-2'"):
        virtsim.load_experiment(_exp(hosts))


def test_a_pool_item_with_a_count_is_placed_copy_by_copy():
    hosts = [{"name": "h", "count": 2, "hardware": {"cores": 4, "memory": "16 GiB"}, "hypervisor": "kvm"}]
    placement = {"policy": "spread", "vms": [{"name": "vm", "count": 4, "vcpus": 1, "memory": "1 GiB"}],
                 "anti_affinity": [["vm-1", "vm-2"]]}
    web = {"name": "w", "target": "vm-4", "type": "closed", "clients": 1, "demand": {"cpu": "1 s"}}
    spec = virtsim.load_experiment(_exp(hosts, [web], placement=placement))
    placed = {vm.name: h.name for h in spec.hosts for vm in h.vms}
    assert sorted(placed) == ["vm-1", "vm-2", "vm-3", "vm-4"]
    assert placed["vm-1"] != placed["vm-2"] and sorted(placed.values()) == ["h-1", "h-1", "h-2", "h-2"]
    assert spec.workloads[0].target == f"{placed['vm-4']}/vm-4"


def test_a_bad_pool_copy_is_reported_at_its_entry():
    hosts = [{"name": "h", "hardware": {"cores": 4, "memory": "16 GiB"}, "hypervisor": "kvm"}]
    placement = {"policy": "first-fit", "vms": [{"name": "vm", "count": 2, "vcpus": 1, "memory": "1 GiB",
                                                 "os": "no-such-os"}]}
    with pytest.raises(ConfigError) as err:
        virtsim.load_experiment(_exp(hosts, placement=placement))
    assert "placement.vms[0].os" in str(err.value)
