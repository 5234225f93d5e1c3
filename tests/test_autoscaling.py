"""Replicas and horizontal autoscaling: balancing, the HPA rule, start-up delays per stack."""

from __future__ import annotations

import math

import numpy as np
import pytest

import virtsim
from virtsim.config import ConfigError


def _hosts(n=4, vms=False):
    if vms:
        return [{"name": "h", "hardware": {"cores": 32, "memory": "128 GiB"}, "hypervisor": "kvm",
                 "vms": [{"name": f"r{i}", "vcpus": 2, "memory": "4 GiB"} for i in range(1, n + 1)]}]
    return [{"name": "h", "hardware": {"cores": 32, "memory": "128 GiB"}, "host_os": "linux-server",
             "engine": "docker", "containers": [{"name": f"r{i}", "cpus": 2} for i in range(1, n + 1)]}]


def _service(n=4, rate="20 /s", mean="100 ms", **extra):
    return {"name": "web", "replicas": [f"h/r{i}" for i in range(1, n + 1)], "type": "open",
            "arrivals": {"type": "poisson", "rate": rate}, "demand": {"cpu": {"type": "exponential", "mean": mean}},
            **extra}


def _run(hosts, workloads, duration="300 s", **extra):
    return virtsim.run_experiment({"name": "as", "seed": 4, "duration": duration, "hosts": hosts,
                                   "workloads": workloads, **extra})


def test_jobs_go_round_robin_to_the_replicas():
    results = _run(_hosts(3), [_service(3)], cold_start=False, duration="100 s")
    counts = results.jobs["target"].value_counts()
    counts = counts[counts > 0]
    assert set(counts.index) == {"h/r1", "h/r2", "h/r3"} and counts.max() - counts.min() <= 1
    assert results.scaling.empty and results.workloads.loc[0, "replicas_mean"] == 3


def test_the_autoscaler_converges_on_the_hpa_count_and_containers_get_there_before_vms():
    # 20 /s × 100 ms = 2 cores of work on replicas of 2 cores, held at 40 %: ceil(2 / 0.8) = 3 replicas.
    scale = {"min_replicas": 1, "target_utilization": 0.4}
    reached = {}
    for vms in (False, True):
        results = _run(_hosts(6, vms), [_service(6, autoscale=scale)], duration="400 s")
        events = results.scaling
        assert events["replicas_after"].iloc[-1] == math.ceil(2 / (2 * 0.4))
        assert (np.diff(events["time_s"]) > 0).all() and (events["time_s"] % 15 == 0).all()  # one decision per period
        first = events.iloc[0]
        # The first decision follows the HPA rule on the measured utilization.
        assert first["replicas_after"] == min(6, math.ceil(first["replicas_before"] * first["cpu_utilization"] / 0.4))
        reached[vms] = events[events["replicas_after"] == 3]["time_s"].iloc[0]
        jobs = results.jobs
        most = events["replicas_after"].max()
        assert set(jobs["target"].astype(str)) == {f"h/r{i}" for i in range(1, most + 1)}  # the first ones asked
        assert 1 < results.workloads.loc[0, "replicas_mean"] <= most
    assert reached[False] <= reached[True]


def test_a_replicated_service_is_available_while_any_replica_serves():
    failures = [{"domain": "h/r1", "at": ["50 s"], "time_to_repair": "30 s"},
                {"domain": "h/r2", "at": ["60 s"], "time_to_repair": "10 s"}]
    results = _run(_hosts(2), [_service(2)], duration="100 s", cold_start=False, failures=failures)
    # Both down from 60 s until r2 is back at 70 s plus its restart (create + start of a Docker container;
    # its image is in the host's cache, as the stack was running at time 0).
    docker = virtsim.load_experiment({"name": "x", "duration": "1 s", "hosts": _hosts(1), "workloads": []})
    restart = docker.hosts[0].engine.startup.create + docker.hosts[0].engine.startup.start
    assert results.workloads.loc[0, "availability"] == pytest.approx(1 - (10 + restart) / 100)


@pytest.mark.parametrize(("change", "message"), [
    ({"target": "h/r1"}, "workloads[0].replicas: give either 'target' or 'replicas', not both"),
    ({"replicas": ["h/r1", "h/r9"]}, "workloads[0].replicas[1]: unknown target 'h/r9'"),
    ({"replicas": ["h/r1", "h/r1"]}, "workloads[0].replicas[1]: 'h/r1' is listed twice"),
    ({"autoscale": {"min_replicas": 5, "target_utilization": 0.5}},
     "workloads[0].autoscale.min_replicas: 5 is more than the 4 replicas listed"),
    ({"replicas": None, "target": "h/r1", "autoscale": {"target_utilization": 0.5}},
     "workloads[0].autoscale: needs 'replicas'"),
    ({"autoscale": {"target_utilization": 2}},
     "workloads[0].autoscale.target_utilization: must be a number > 0 and ≤ 1, got 2"),
])
def test_bad_replica_settings_are_reported_with_their_path(change, message):
    workload = _service() | change
    if workload.get("replicas") is None:
        workload.pop("replicas")
    with pytest.raises(ConfigError) as err:
        virtsim.load_experiment({"name": "as", "duration": "10 s", "hosts": _hosts(), "workloads": [workload]})
    assert message in str(err.value)


def test_replicas_scale_down_after_the_load_drops_and_the_stabilization_window():
    # 30 /s × 100 ms = 3 cores for 300 s, then 2 /s: held at 50 % of 2-core replicas, at
    # least 3 replicas (the backlog of the first periods may ask for more), then 1 once
    # the 120 s window has passed since the last higher ask.
    arrivals = {"type": "curve", "interpolation": "step", "points": [{"at": "0 s", "rate": "30 /s"},
                                                                     {"at": "300 s", "rate": "2 /s"}]}
    scale = {"min_replicas": 1, "target_utilization": 0.5, "scale_down_delay": "120 s"}
    results = _run(_hosts(4), [_service(4, autoscale=scale) | {"arrivals": arrivals}], duration="700 s",
                   cold_start=False)
    events = results.scaling
    up = events[events["replicas_after"] > events["replicas_before"]]
    assert up["time_s"].max() < 300 and up["replicas_after"].max() >= 3
    # While the load lasts, once scaled up, the replicas never drop below the 3 it needs.
    assert (events[(events["time_s"] > up["time_s"].max()) & (events["time_s"] < 300)]["replicas_after"] >= 3).all()
    # After the drop the last ask for 3 (at the last tick before 300 s) holds them for the window.
    last = events.iloc[-1]
    assert last["replicas_after"] == 1 and 300 + 120 - 15 <= last["time_s"] <= 300 + 120 + 15
