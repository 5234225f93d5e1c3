"""Memory at run time: admission, container limits and the OOM killer, host overcommit and swap."""

from __future__ import annotations

import numpy as np
import pytest

import virtsim
from virtsim.config import ConfigError


def _experiment(hosts, workloads, failures, duration="100 s", **extra):
    return {"name": "m", "seed": 1, "duration": duration, "hosts": hosts, "workloads": workloads,
            "failures": failures, **extra}


def _limited(memory_limit="1 GiB", cpus=4):
    return [{"name": "h1", "hardware": {"cores": 8, "memory": "16 GiB"}, "host_os": "linux-server",
             "engine": "docker", "containers": [{"name": "web", "cpus": cpus, "memory": memory_limit}]}]


def test_a_container_over_its_memory_limit_is_oom_killed_with_its_jobs_and_restarts_with_back_off():
    # Three 10 s requests of 400 MiB each in a 1 GiB container: the third takes it over.
    clients = {"name": "c", "target": "h1/web", "type": "closed", "clients": 3,
               "demand": {"cpu": "10 s", "memory": "400 MiB"}}
    results = virtsim.run_experiment(_experiment(_limited(), [clients], [], duration="40 s", cold_start=False))
    events = results.failures
    kills = events[events["event"] == "oom-kill"]
    assert kills["time_s"].iloc[0] == 0.0 and len(kills) >= 2
    restarts = events[events["event"] == "restart"]["time_s"].to_numpy()
    # Docker's back-off: 0.1 s after the first kill, then doubled while it keeps crashing.
    assert restarts[0] == pytest.approx(0.1)
    gaps = restarts - kills["time_s"].to_numpy()[:len(restarts)]
    assert np.allclose(gaps[1:3], [0.2, 0.4])
    web = results.consumers.set_index("consumer").loc["h1/web"]
    assert web["oom_kills"] == len(kills)
    assert web["memory_in_use_peak_bytes"] == 2 * 400 * 2**20  # never more than fitted
    assert results.workloads.loc[0, "jobs_failed"] >= 3 and results.jobs["failed"].sum() >= 3


def test_requests_that_fit_the_limit_never_kill_the_container():
    web = {"name": "web", "target": "h1/web", "type": "open", "arrivals": {"type": "poisson", "rate": "2 /s"},
           "demand": {"cpu": {"type": "exponential", "mean": "0.1 s"}, "memory": "1 MiB"}}
    results = virtsim.run_experiment(_experiment(_limited(), [web], [], duration="100 s"))
    assert results.failures.empty and not results.jobs["failed"].any()
    peak = results.consumers.set_index("consumer").loc["h1/web", "memory_in_use_peak_bytes"]
    assert 1 * 2**20 <= peak <= 20 * 2**20


def test_memory_admission_refuses_a_host_committed_beyond_its_overcommit_ratio():
    hosts = [{"name": "h1", "hardware": {"cores": 8, "memory": "16 GiB"}, "hypervisor": "kvm",
              "vms": [{"name": "a", "vcpus": 2, "memory": "8 GiB"}, {"name": "b", "vcpus": 2, "memory": "8 GiB"}]}]
    with pytest.raises(ConfigError) as err:
        virtsim.load_experiment(_experiment(hosts, [], []))
    assert "hosts[0]: commits 16.49 GiB of memory (VM RAM 16 GiB" in str(err.value)
    assert "admits 16 GiB (16 GiB × memory_overcommit 1)" in str(err.value)
    hosts[0]["memory_overcommit"] = 1.5
    assert virtsim.load_experiment(_experiment(hosts, [], [])).hosts[0].memory_overcommit == 1.5


def _overcommitted(vms, sharing=0.0, hypervisor="kvm", overcommit=2):
    return [{"name": "h1", "hardware": {"cores": 16, "memory": "16 GiB"}, "memory_overcommit": overcommit,
             "hypervisor": {"profile": hypervisor, "memory": {"page_sharing": sharing}}, "vms": vms}]


def _reclaim(hosts):
    from virtsim.model.memory import footprints, memory_pressure

    host = virtsim.load_experiment(_experiment(hosts, [], [])).hosts[0]
    return footprints(host), memory_pressure(host)


GIB = 2**30


def test_overcommit_is_reclaimed_by_sharing_then_ballooning_then_swap():
    vms = [{"name": n, "vcpus": 2, "memory": "8 GiB", "active_memory": a}
           for n, a in (("a", "4 GiB"), ("b", "6 GiB"), ("c", "8 GiB"))]
    committed, reclaim = _reclaim(_overcommitted(vms, sharing=0.05))
    excess = committed["h1"] - 16 * GIB
    total = {k: sum(getattr(r, k) for r in reclaim.values()) for k in ("shared", "ballooned", "swapped")}
    # Three VMs of one guest OS keep one copy of 5 % of their memory: 2/3 × 0.05 × 8 GiB each.
    assert all(r.shared == pytest.approx(2 / 3 * 0.05 * 8 * GIB) for r in reclaim.values())
    # The balloons give back the idle memory left after sharing: a has 4 GiB idle, b 2, c none.
    assert reclaim["h1/c"].ballooned == 0 and reclaim["h1/a"].ballooned > reclaim["h1/b"].ballooned > 0
    assert sum(total.values()) == pytest.approx(excess)  # exactly the shortfall, nothing clipped
    # The rest is swapped in proportion to active memory: one swapped fraction for all.
    fractions = [reclaim[p].swapped / a for p, a in (("h1/a", 4), ("h1/b", 6), ("h1/c", 8))]
    assert fractions[0] > 0 and np.allclose(fractions, fractions[0])


def test_a_host_that_fits_reclaims_nothing_and_a_type2_host_cannot_balloon():
    fits = [{"name": "a", "vcpus": 2, "memory": "4 GiB"}]
    assert _reclaim(_overcommitted(fits))[1] == {}
    vms = [{"name": n, "vcpus": 2, "memory": "8 GiB", "active_memory": "2 GiB"} for n in "ab"]
    hosted = _overcommitted(vms, hypervisor="virtualbox")
    hosted[0]["host_os"] = "linux-server"
    _, reclaim = _reclaim(hosted)
    assert all(r.ballooned == 0 and r.swapped > 0 for r in reclaim.values())


def test_swapped_vms_page_in_on_the_shared_disk_and_slow_down():
    def run(active):
        vms = [{"name": "a", "vcpus": 4, "memory": "8 GiB", "active_memory": active},
               {"name": "b", "vcpus": 4, "memory": "8 GiB", "active_memory": active}]
        web = {"name": "web", "target": "h1/a", "type": "open", "arrivals": {"type": "poisson", "rate": "20 /s"},
               "demand": {"cpu": {"type": "exponential", "mean": "20 ms"}, "memory": "16 MiB"}}
        hosts = _overcommitted(vms, overcommit=1.2)
        hosts[0]["hardware"]["memory"] = "15 GiB"
        return virtsim.run_experiment(_experiment(hosts, [web], [], duration="200 s", warmup="20 s"))

    idle, busy = run("4 GiB"), run("8 GiB")  # the balloon covers the first; the second must swap
    assert (idle.consumers["memory_swapped_bytes"] == 0).all()
    host = busy.consumers.set_index("consumer").loc["h1"]
    assert host["memory_swapped_bytes"] > 0
    # Reading back swapped pages is disk I/O (io_latency_s), not the layers' overhead.
    assert busy.stacks.loc[0, "virtualization_mean_s"] == pytest.approx(idle.stacks.loc[0, "virtualization_mean_s"],
                                                                        rel=1e-9)
    slower = busy.stacks.loc[0, "io_latency_mean_s"] - idle.stacks.loc[0, "io_latency_mean_s"]
    reclaim = busy.consumers.set_index("consumer").loc["h1/a", "memory_swapped_bytes"]
    pages = reclaim / (8 * GIB) * 16 * 2**20 / 4096
    nvme = 1 / 1e6 + 85e-6  # models/devices/nvme-default: 1M IOPS, 85 µs
    assert slower == pytest.approx(pages * nvme, rel=1e-6)
    assert busy.summary.loc[0, "response_time_mean_s"] > idle.summary.loc[0, "response_time_mean_s"] + 0.5 * slower


def _kvm_vm(memory="4 GiB"):
    return [{"name": "h1", "hardware": {"cores": 8, "memory": "16 GiB"}, "hypervisor": "kvm",
             "vms": [{"name": "a", "vcpus": 4, "memory": memory}]}]


def test_requests_beyond_a_vms_free_memory_are_oom_killed_alone():
    from virtsim.model.memory import memory_domains

    spec = virtsim.load_experiment(_experiment(_kvm_vm(), [], []))
    [(domain, free, kind)] = memory_domains(spec.hosts[0])["h1/a"]
    assert (domain, kind) == ("h1/a", "process")
    assert free == 4 * 2**30 - spec.hosts[0].vms[0].os.memory.resident
    web = {"name": "web", "target": "h1/a", "type": "open", "arrivals": {"type": "poisson", "rate": "4 /s"},
           "demand": {"cpu": {"type": "exponential", "mean": "1 s"}, "memory": "1 GiB"}}
    results = virtsim.run_experiment(_experiment(_kvm_vm(), [web], [], duration="200 s", cold_start=False))
    events = results.failures
    kills = events[events["event"] == "oom-kill"]
    assert len(kills) > 0 and set(kills["layer"]) == {"process"} and (kills["consumers"] == 0).all()
    jobs = results.jobs
    assert jobs["failed"].sum() == len(kills)  # one job per kill: the one that asked
    vm = results.consumers.set_index("consumer").loc["h1/a"]
    assert vm["oom_kills"] == len(kills) and vm["failures"] == 0 and vm["downtime_s"] == 0
    assert vm["memory_in_use_peak_bytes"] <= free


@pytest.mark.parametrize(("workload", "message"), [
    ({"type": "open", "arrivals": {"type": "poisson", "rate": "1 /s"}, "demand": {"cpu": "1 s", "memory": "5 GiB"}},
     "workloads[0].demand.memory: 5 GiB per request, but 'h1/a' has"),
    ({"type": "closed", "clients": 8, "demand": {"cpu": "1 s", "memory": "1 GiB"}},
     "8 clients × 1 GiB exceed the"),
])
def test_request_memory_that_can_never_fit_is_refused(workload, message):
    exp = _experiment(_kvm_vm(), [{"name": "w", "target": "h1/a", **workload}], [])
    with pytest.raises(ConfigError) as err:
        virtsim.load_experiment(exp)
    assert message in str(err.value)
    if workload["type"] == "closed":  # with a think time the clients make progress: allowed
        exp["workloads"][0]["think_time"] = "1 s"
        virtsim.load_experiment(exp)
