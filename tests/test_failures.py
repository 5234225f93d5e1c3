"""Failure domains: what a failure takes down, jobs that fail, repair, restart, availability."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import virtsim
from virtsim.config import ConfigError


def _experiment(hosts, workloads, failures, duration="100 s", **extra):
    return {"name": "f", "seed": 1, "duration": duration, "hosts": hosts, "workloads": workloads,
            "failures": failures, **extra}


NATIVE = [{"name": "h1", "hardware": {"cores": 4, "memory": "16 GiB"}}]


def _closed(target, clients=2, cpu="10 s", name="batch"):
    return {"name": name, "target": target, "type": "closed", "clients": clients, "demand": {"cpu": cpu}}


def test_jobs_in_flight_fail_and_resume_after_the_repair_exactly():
    # Two 10 s jobs on 4 cores; the host fails at 5 s for 1 s: both fail, the
    # clients submit again, wait for the host, and finish at 6 + 10 = 16 s.
    exp = _experiment(NATIVE, [_closed("h1")], [{"domain": "h1", "at": ["5 s"], "time_to_repair": "1 s"}],
                      duration="20 s")
    results = virtsim.run_experiment(exp)
    jobs = results.jobs
    failed = jobs[jobs["failed"]]
    assert len(failed) == 2 and (failed["failed_at_s"] == 5.0).all() and failed["end_s"].isna().all()
    done = jobs[jobs["end_s"].notna()]
    assert len(done) == 2 and np.allclose(done["end_s"], 16.0) and np.allclose(done["failure_s"], 1.0)
    assert np.allclose(done["start_s"], 6.0)
    parts = done[["native_s", "virtualization_s", "io_latency_s", "startup_s", "failure_s", "wait_s"]].sum(axis=1)
    assert np.allclose(parts, done["response_time_s"])
    host = results.consumers.set_index("consumer").loc["h1"]
    assert host["downtime_s"] == pytest.approx(1.0) and host["failures"] == 1
    # The failed jobs' work stopped at the failure: 2 × 5 s lost, 2 × 10 s done, then 2 × 4 s of the next two.
    assert host["cpu_time_s"] == pytest.approx(2 * 5 + 2 * 10 + 2 * 4)
    assert results.workloads.loc[0, "jobs_failed"] == 2
    assert results.workloads.loc[0, "availability"] == pytest.approx(1 - 1 / 20)
    assert list(results.failures["event"]) == ["failure", "repair"]


def test_long_run_availability_matches_mtbf_over_mtbf_plus_mttr():
    mtbf, mttr = 100.0, 10.0
    exp = _experiment(NATIVE, [_closed("h1", clients=1, cpu="50 s")],
                      [{"domain": "h1", "time_to_failure": {"type": "exponential", "mean": f"{mtbf} s"},
                        "time_to_repair": {"type": "exponential", "mean": f"{mttr} s"}}],
                      duration="400000 s")
    results = virtsim.run_experiment(exp)
    expected = mtbf / (mtbf + mttr)
    cycles = (results.failures["event"] == "failure").sum()
    assert 3300 < cycles < 4000
    # About 3,600 renewal cycles: the standard error of the availability is ~0.2 %.
    assert results.workloads.loc[0, "availability"] == pytest.approx(expected, abs=0.006)


HOSTED = [{
    "name": "h1", "hardware": {"cores": 8, "memory": "32 GiB"}, "hypervisor": "virtualbox",
    "host_os": "linux-server", "engine": "docker",
    "vms": [{"name": "a", "vcpus": 2, "memory": "4 GiB", "engine": "docker",
             "containers": [{"name": "web", "cpus": 1}]},
            {"name": "b", "vcpus": 2, "memory": "4 GiB"}],
    "containers": [{"name": "api", "cpus": 1}],
}]

ALL = ["h1", "h1/a", "h1/a/web", "h1/b", "h1/api"]


@pytest.mark.parametrize(("domain", "layer", "down"), [
    ("h1", "hardware", ALL),
    ("h1", "host-os", ALL),
    ("h1", "hypervisor", ["h1/a", "h1/a/web", "h1/b"]),
    ("h1", "engine", ["h1/api"]),
    ("h1/a", "guest-os", ["h1/a", "h1/a/web"]),
    ("h1/a", "engine", ["h1/a/web"]),
    ("h1/a/web", "container", ["h1/a/web"]),
    ("h1/api", "container", ["h1/api"]),
])
def test_a_failure_takes_down_what_runs_above_it_and_nothing_else(domain, layer, down):
    workloads = [_closed(t, clients=1, cpu="1 s", name=f"w{i}") for i, t in enumerate(ALL)]
    exp = _experiment(HOSTED, workloads, [{"domain": domain, "layer": layer, "at": ["100 s"],
                                           "time_to_repair": "5 s"}], duration="200 s")
    consumers = virtsim.run_experiment(exp).consumers.set_index("consumer")
    failures = consumers.loc[ALL, "failures"]
    assert list(failures[failures > 0].index) == down
    jobs_failed = virtsim.run_experiment(exp).workloads.set_index("workload")["jobs_failed"]
    assert [ALL[int(w[1:])] for w in jobs_failed[jobs_failed > 0].index] == down


def test_vms_boot_again_after_a_host_repair_and_a_never_restart_vm_stays_down():
    hosts = [{"name": "h1", "hardware": {"cores": 8, "memory": "32 GiB"}, "hypervisor": "kvm",
              "vms": [{"name": "a", "vcpus": 2, "memory": "4 GiB"},
                      {"name": "b", "vcpus": 2, "memory": "4 GiB", "restart": "never"}]}]
    exp = _experiment(hosts, [_closed("h1/a", 1, "1 s", "wa"), _closed("h1/b", 1, "1 s", "wb")],
                      [{"domain": "h1", "at": ["100 s"], "time_to_repair": "30 s"}], duration="200 s")
    results = virtsim.run_experiment(exp)
    consumers = results.consumers.set_index("consumer")
    boot = consumers.loc["h1/a", "ready_at_s"]
    assert 5 < boot < 15  # the KVM cloud-image boot
    # Down for the repair, then a boot again: alone this time, so a little faster
    # than the cold start's, where both VMs read their images from one disk.
    reboot = consumers.loc["h1/a", "downtime_s"] - boot - 30
    assert 0.98 * boot < reboot < boot
    assert consumers.loc["h1/b", "downtime_s"] == pytest.approx(boot + 100, rel=1e-9)
    jobs = results.jobs
    assert jobs[(jobs["workload"] == "wb") & (jobs["arrival_s"] > 100)]["end_s"].isna().all()
    assert results.failures["consumers"].tolist() == [3, 2]  # down: h1, a, b; back: h1, a


def test_a_consumer_under_two_failures_comes_back_after_the_later_repair():
    hosts = [{"name": "h1", "hardware": {"cores": 4, "memory": "16 GiB"},
              "containers": [{"name": "c", "cpus": 1}]}]
    exp = _experiment(hosts, [_closed("h1/c", 1, "1 s")],
                      [{"domain": "h1/c", "at": ["10 s"], "time_to_repair": "20 s"},
                       {"domain": "h1", "at": ["15 s"], "time_to_repair": "30 s"}], duration="100 s")
    consumers = virtsim.run_experiment(exp).consumers.set_index("consumer")
    assert consumers.loc["h1/c", "downtime_s"] == pytest.approx(45 - 10)
    assert consumers.loc["h1", "downtime_s"] == pytest.approx(30)
    assert consumers.loc["h1/c", "failures"] == 1  # already down when the host failed


def test_failed_requests_release_the_disk_and_the_layers_threads():
    hosts = [{"name": "h1", "hardware": {"cores": 4, "memory": "16 GiB"}, "hypervisor": "kvm",
              "vms": [{"name": "a", "vcpus": 2, "memory": "4 GiB"}]}]
    web = {"name": "web", "target": "h1/a", "type": "open", "arrivals": {"type": "poisson", "rate": "50 /s"},
           "demand": {"cpu": {"type": "exponential", "mean": "5 ms"}, "disk": {"ops": 4}, "syscalls": 100}}
    exp = _experiment(hosts, [web], [{"domain": "h1/a", "time_to_failure": {"type": "exponential", "mean": "20 s"},
                                      "time_to_repair": "2 s"}], duration="300 s", warmup="20 s")
    results = virtsim.run_experiment(exp)
    wl = results.workloads.loc[0]
    assert wl["jobs_failed"] > 0
    assert wl["jobs_arrived"] == wl["jobs_completed"] + wl["jobs_failed"] + _still_running(results)
    # Every job either completed, failed, or is still in the system at the end: none is lost.
    jobs = results.jobs
    assert ((jobs["end_s"].notna()) ^ jobs["failed"] ^ _open(jobs)).all()
    # Up 20 s on average, then 2 s of repair and a ~10 s boot that a failure may cut short.
    assert 0.3 < wl["availability"] < 20 / (20 + 2 + 9)


def _open(jobs):
    return jobs["end_s"].isna() & ~jobs["failed"]


def _still_running(results):
    jobs = results.jobs
    return int((jobs["counted"] & _open(jobs)).sum())


def test_random_failures_are_deterministic_for_a_seed():
    exp = _experiment(NATIVE, [_closed("h1", 2, {"type": "exponential", "mean": "1 s"})],
                      [{"domain": "h1", "time_to_failure": {"type": "exponential", "mean": "20 s"},
                        "time_to_repair": {"type": "lognormal", "mean": "2 s", "sigma": 0.5}}], duration="500 s")
    a, b = virtsim.run_experiment(exp), virtsim.run_experiment(exp)
    assert a.failures.equals(b.failures) and a.jobs.equals(b.jobs)
    c = virtsim.run_experiment(exp, seed=2)
    assert not a.failures.equals(c.failures)


def test_a_scheduled_failure_while_already_down_is_skipped_and_said_so():
    exp = _experiment(NATIVE, [], [{"domain": "h1", "at": ["10 s", "12 s"], "time_to_repair": "5 s"}])
    events = virtsim.run_experiment(exp).failures
    assert list(events["event"]) == ["failure", "skipped (already down)", "repair"]


@pytest.mark.parametrize(("failure", "message"), [
    ({"domain": "h9", "at": ["1 s"]}, "failures[0].domain: unknown domain 'h9'"),
    ({"domain": "h1", "layer": "host-os", "at": ["1 s"]}, "failures[0].layer: host 'h1' has no host OS"),
    ({"domain": "h1", "layer": "engine", "at": ["1 s"]}, "host 'h1' has no container engine"),
    ({"domain": "h1/a", "layer": "hardware", "at": ["1 s"]}, "a vm domain can fail at 'guest-os', 'hypervisor', 'engine'"),
    ({"domain": "h1", "at": ["1 s"], "time_to_failure": "2 s"}, "give exactly one of 'time_to_failure' or 'at'"),
    ({"domain": "h1", "time_to_failure": "0 s"}, "a constant time to failure must be > 0 s"),
    ({"domain": "h1", "at": ["-1 s"]}, "failures[0].at[0]"),
])
def test_bad_failure_entries_are_reported_with_their_path(failure, message):
    hosts = [{"name": "h1", "hardware": {"cores": 4, "memory": "16 GiB"}, "hypervisor": "kvm",
              "vms": [{"name": "a", "vcpus": 2, "memory": "4 GiB"}]}]
    with pytest.raises(ConfigError) as err:
        virtsim.load_experiment(_experiment(hosts, [], [failure]))
    assert message in str(err.value)


def test_without_failures_nothing_changes():
    exp = _experiment(NATIVE, [_closed("h1", 2, "1 s")], [], duration="50 s")
    results = virtsim.run_experiment(exp)
    assert results.failures.empty and not results.jobs["failed"].any()
    assert results.workloads.loc[0, "availability"] == 1.0
    assert math.isclose(results.consumers.loc[0, "downtime_s"], 0.0)



def test_an_open_workload_can_refuse_requests_while_its_target_is_down():
    web = {"name": "web", "target": "h1", "type": "open", "arrivals": {"type": "poisson", "rate": "5 /s"},
           "demand": {"cpu": {"type": "exponential", "mean": "0.1 s"}}, "when_down": "refuse"}
    exp = _experiment(NATIVE, [web], [{"domain": "h1", "at": ["50 s"], "time_to_repair": "20 s"}])
    jobs = virtsim.run_experiment(exp).jobs
    during = jobs[(jobs["arrival_s"] > 50) & (jobs["arrival_s"] < 70)]
    assert len(during) > 50 and during["failed"].all() and (during["failed_at_s"] == during["arrival_s"]).all()
    after = jobs[jobs["arrival_s"] > 70]
    assert after["end_s"].notna().sum() > 0 and (after["failure_s"] == 0).all()
    closed = _closed("h1") | {"when_down": "refuse"}
    with pytest.raises(ConfigError, match=r"workloads\[0\].when_down: 'refuse' is for open workloads"):
        virtsim.load_experiment(_experiment(NATIVE, [closed], []))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schedule=st.lists(st.tuples(st.sampled_from([("h1", "hardware"), ("h1", "host-os"), ("h1", "hypervisor"),
                                                    ("h1", "engine"), ("h1/a", "guest-os"),
                                                    ("h1/a/web", "container"), ("h1/api", "container")]),
                                   st.floats(1, 190), st.floats(0, 30)), min_size=1, max_size=6),
       seed=st.integers(0, 2**16))
def test_no_job_completes_across_a_failure_of_its_target_and_none_is_lost(schedule, seed):
    workloads = [{"name": f"w{i}", "target": t, "type": "open", "arrivals": {"type": "poisson", "rate": "2 /s"},
                  "demand": {"cpu": {"type": "exponential", "mean": "0.5 s"}, "disk": {"ops": 1}}}
                 for i, t in enumerate(ALL)]
    failures = [{"domain": d, "layer": layer, "at": [f"{at} s"], "time_to_repair": f"{repair} s"}
                for (d, layer), at, repair in schedule]
    exp = _experiment(HOSTED, workloads, failures, duration="200 s") | {"seed": seed}
    results = virtsim.run_experiment(exp)
    jobs, consumers = results.jobs, results.consumers.set_index("consumer")
    downs = {}
    for time_s, domain, layer, event, n in results.failures.itertuples(index=False):
        if event == "failure":
            downs.setdefault(domain, []).append(time_s)
    # A job either completed, failed, or is still in the system: exactly one.
    done, failed = jobs["end_s"].notna(), jobs["failed"]
    assert not (done & failed).any()
    # A completed job ran entirely while its target was up: no failure that took
    # the target down falls inside (start, end).
    took = {path: [] for path in ALL}
    for (d, layer), at, _ in schedule:
        for path in ALL:
            if path in _down_with(d, layer):
                took[path].append(at)
    finished = jobs[done]
    for path in ALL:
        mine = finished[finished["target"] == path]
        for at in took[path]:
            assert not ((mine["start_s"] < at - 1e-9) & (mine["end_s"] > at + 1e-9)).any()
    # Failed jobs failed at a failure of their own target, and not before they arrived.
    lost = jobs[failed]
    assert (lost["failed_at_s"] >= lost["arrival_s"]).all()
    for path, group in lost.groupby("target", observed=True):
        assert set(group["failed_at_s"]) <= set(took[str(path)])
    assert ((consumers.loc[ALL, "downtime_s"] >= 0) & (consumers.loc[ALL, "downtime_s"] <= 200 + 1e-9)).all()
    assert results.workloads["availability"].between(0, 1).all()


def _down_with(domain: str, layer: str) -> list[str]:
    return {("h1", "hardware"): ALL, ("h1", "host-os"): ALL, ("h1", "hypervisor"): ["h1/a", "h1/a/web", "h1/b"],
            ("h1", "engine"): ["h1/api"], ("h1/a", "guest-os"): ["h1/a", "h1/a/web"],
            ("h1/a/web", "container"): ["h1/a/web"], ("h1/api", "container"): ["h1/api"]}[(domain, layer)]
