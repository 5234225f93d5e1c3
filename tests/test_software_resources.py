"""Software resources: locks, connection pools and commit paths that requests hold for part of their work.

A resource of capacity c admits c holders at once and queues the others first
come, first served. A request holding it for a fraction f of its CPU work S can
complete at most c / (f·S) times a second, however many cores lie idle: the
scaling limit of a database is its locks, not its cores.
"""

from __future__ import annotations

import pytest
from test_theory import check, experiment, exponential, open_workload, replicate, summary

import virtsim
from virtsim.config import ConfigError


def locked_closed(clients: int, cpu: str, holds: list[dict], *, cores: int = 8, capacity: int = 1,
                  extra: dict | None = None) -> dict:
    workload = {"name": "w", "target": "h", "type": "closed", "clients": clients,
                "think_time": {"type": "constant", "value": "0 s"},
                "demand": {"cpu": {"type": "constant", "value": cpu}, "holds": holds} | (extra or {})}
    exp = experiment(workload, cores=cores, duration=100, warmup=5)
    exp["software_resources"] = [{"name": "lock", "capacity": capacity}]
    return exp


def throughput(exp: dict) -> float:
    return float(virtsim.run_experiment(exp).summary["throughput_per_s"].iloc[0])


@pytest.mark.parametrize("clients,capacity", [(1, 1), (2, 1), (4, 1), (16, 1), (16, 2), (16, 3)])
def test_throughput_stops_where_the_lock_does(clients, capacity):
    """S = 10 ms, a quarter of it under the lock, 8 cores: X = min(N/S, cores/S, c/(f·S))."""
    s, f, cores = 0.010, 0.25, 8
    x = throughput(locked_closed(clients, "10 ms", [{"resource": "lock", "fraction": f}], capacity=capacity))
    assert x == pytest.approx(min(clients / s, cores / s, capacity / (f * s)), rel=0.01)


def test_a_request_wholly_under_a_mutex_on_many_cores_is_mm1():
    """Fraction 1 of exponential work under a capacity-1 lock, 8 cores: one FCFS server, E[T] = 1/(μ − λ)."""
    lam = 0.7
    workload = open_workload("h", lam, exponential(1.0))
    workload["demand"]["holds"] = [{"resource": "lock", "fraction": 1.0}]
    exp = experiment(workload, cores=8, duration=20_000)
    exp["software_resources"] = [{"name": "lock", "capacity": 1}]
    results = replicate(exp, 8, case=61)
    check("mutex over all the work, 8 cores E[T] (M/M/1)", summary(results, "response_time_mean_s"),
          1.0 / (1.0 - lam))
    queue = [r.jobs.loc[r.jobs["counted"], "queue_s"].mean() for r in results]
    check("mutex E[W] (queue_s)", queue, lam / (1.0 - lam), rel_tol=0.08, gate_ci=False)


def test_holding_through_the_disk_operations_adds_them_to_the_critical_section():
    """A commit: 1 ms of CPU, 40 % under the lock, then one 4 KiB write (20 µs on the default NVMe).

    Released after the CPU part, the lock limits to 1/(0.4 ms); held through the write
    (its device time and latency), to 1/(0.4 ms + write).
    """
    disk = {"disk": {"ops": 1, "bytes": "4 KiB", "kind": "write"}}
    short = throughput(locked_closed(16, "1 ms", [{"resource": "lock", "fraction": 0.4}], extra=disk))
    long = throughput(locked_closed(16, "1 ms", [{"resource": "lock", "fraction": 0.4, "through_disk": True}],
                                    extra=disk))
    assert short == pytest.approx(1 / 0.0004, rel=0.01)
    write_s = 1 / long - 0.0004
    # The device time of a 4 KiB write at 130,000 IOPS (7.7 µs) plus its 20 µs latency.
    assert write_s == pytest.approx(1 / 130_000 + 20e-6, rel=0.02)


def test_two_workloads_share_one_lock_and_two_locks_in_turn_limit_by_the_busier():
    exp = locked_closed(8, "10 ms", [{"resource": "lock", "fraction": 0.25}])
    other = dict(exp["workloads"][0], name="v")
    exp["workloads"].append(other)
    r = virtsim.run_experiment(exp)
    assert r.workloads["throughput_per_s"].sum() == pytest.approx(400.0, rel=0.01)  # 1 / 2.5 ms between them
    two = locked_closed(16, "10 ms", [{"resource": "lock", "fraction": 0.1}, {"resource": "log", "fraction": 0.2}])
    two["software_resources"].append({"name": "log", "capacity": 1})
    assert throughput(two) == pytest.approx(1 / 0.002, rel=0.01)  # the 2 ms section, not the 1 ms one


def test_a_lock_held_by_a_failed_job_is_given_back():
    exp = locked_closed(4, "10 ms", [{"resource": "lock", "fraction": 1.0}], cores=2)
    exp["hosts"][0]["containers"] = [{"name": "c", "cpus": 1, "memory": "1 GiB"}]
    exp["hosts"][0]["containers"].append({"name": "d", "cpus": 1, "memory": "1 GiB"})
    exp["workloads"][0]["target"] = "h/c"
    exp["workloads"].append(dict(exp["workloads"][0], name="v", target="h/d"))
    exp["failures"] = [{"domain": "h/c", "at": ["50.0037 s"], "time_to_repair": "1 s"}]
    r = virtsim.run_experiment(exp)
    v = r.jobs[(r.jobs["workload"] == "v") & (r.jobs["arrival_s"] > 52) & (r.jobs["arrival_s"] < 99)]
    assert v["end_s"].notna().all() and len(v) > 1000  # the other container goes on using the lock
    assert r.jobs["failed"].sum() >= 1


@pytest.mark.parametrize("holds,resources,where,message", [
    ([{"resource": "lokc", "fraction": 0.5}], [{"name": "lock", "capacity": 1}], "holds[0].resource",
     "unknown software resource 'lokc' (did you mean 'lock'?)"),
    ([{"resource": "lock", "fraction": 0.5}], [], "holds[0].resource", "the top-level 'software_resources'"),
    ([{"resource": "lock", "fraction": 0.7}, {"resource": "log", "fraction": 0.5}],
     [{"name": "lock", "capacity": 1}, {"name": "log", "capacity": 1}], "holds", "add up to 1.2"),
    ([{"resource": "lock", "fraction": 0.5, "through_disk": True}], [{"name": "lock", "capacity": 1}],
     "holds[0].through_disk", "no disk operations"),
    ([{"resource": "lock", "fraction": 0.2}, {"resource": "lock", "fraction": 0.2}],
     [{"name": "lock", "capacity": 1}], "holds[1].resource", "held twice"),
    ([{"resource": "lock", "fraction": 0}], [{"name": "lock", "capacity": 1}], "holds[0].fraction", "> 0"),
])
def test_bad_holds_are_located_errors(holds, resources, where, message):
    exp = locked_closed(1, "10 ms", holds)
    exp["software_resources"] = resources
    with pytest.raises(ConfigError) as caught:
        virtsim.load_experiment(exp)
    text = str(caught.value)
    assert f"workloads[0].demand.{where}" in text and message in text, text


def test_software_resource_names_are_unique_and_capacities_positive():
    exp = locked_closed(1, "10 ms", [{"resource": "lock", "fraction": 0.5}])
    exp["software_resources"] = [{"name": "lock", "capacity": 1}, {"name": "lock", "capacity": 0}]
    with pytest.raises(ConfigError) as caught:
        virtsim.load_experiment(exp)
    text = str(caught.value)
    assert "software_resources[1].capacity: must be an integer ≥ 1" in text, text
    exp["software_resources"] = [{"name": "lock", "capacity": 1}, {"name": "lock", "capacity": 2}]
    with pytest.raises(ConfigError) as caught:
        virtsim.load_experiment(exp)
    text = str(caught.value)
    assert "software_resources[1].name: duplicate software resource name 'lock'" in text, text


def test_an_experiment_without_software_resources_dumps_as_before():
    spec = virtsim.load_experiment(experiment(open_workload("h", 0.5, exponential(1.0)), duration=2000))
    dumped = spec.model_dump(mode="json")
    assert "software_resources" not in dumped and "holds" not in dumped["workloads"][0]["demand"]
