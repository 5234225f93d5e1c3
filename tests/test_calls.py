"""Calls from one workload's requests to another's service (demand.calls): multi-tier services."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import virtsim
from virtsim.analysis.breakdown import BREAKDOWN
from virtsim.config import ConfigError

ROOT = Path(__file__).parents[1]
NIC = 10e9 / 8
"""The default NIC's line rate (models/devices/nic-10gbe.yaml), bytes per second: the hosts' links here."""
LATENCY_S = 5e-6
"""One-way latency of each link of the star below: a route between two hosts crosses two."""


def host(name: str, **more) -> dict:
    return {"name": name, "hardware": {"cores": 8, "core_speed": 1.0, "memory": "16 GiB"}, **more}


def caller(target: str, calls: list[dict], cpu: str = "100 us", name: str = "web") -> dict:
    """One closed-loop client, no think time: its requests follow each other alone."""
    return {"name": name, "type": "closed", "clients": 1, "think_time": "0 s", "target": target,
            "demand": {"cpu": cpu, "calls": calls}}


def service(name: str, target: str, cpu: str = "200 us", calls: list[dict] | None = None, **more) -> dict:
    demand = {"cpu": cpu} | ({"calls": calls} if calls else {})
    return {"name": name, "type": "service", "target": target, "demand": demand, **more}


def experiment(workloads: list[dict], hosts: list[str] = ("a",), *, network: bool = False,
               duration: str = "0.2 s") -> dict:
    exp = {"name": "calls", "seed": 4, "duration": duration, "warmup": "0 s", "cold_start": False,
           "hosts": [host(n) for n in hosts], "workloads": workloads}
    if network:
        exp["network"] = {"topology": {"kind": "star", "link": {"latency": f"{LATENCY_S * 1e6:g} us"}}}
    return exp


def done(results, workload: str) -> pd.DataFrame:
    jobs = results.jobs
    return jobs[jobs.end_s.notna() & (jobs.workload == workload)]


def lone(results, workload: str = "web") -> float:
    """The response time of every request of a workload whose requests are all alike."""
    rt = done(results, workload).response_time_s
    assert len(rt) > 5 and np.allclose(rt, rt.iloc[0], rtol=1e-12), rt.describe()
    return float(rt.iloc[0])


def call(service_name: str = "db", **more) -> dict:
    return {"service": service_name, **more}


def route_s(request_bytes: float, response_bytes: float) -> float:
    """A lone call's time on the network between two hosts of the star: both messages' bytes and latency."""
    return (request_bytes + response_bytes) / NIC + 2 * 2 * LATENCY_S


# --- alone: closed forms ---------------------------------------------------------------------------


def test_a_call_to_an_idle_callee_on_the_same_host_costs_its_service_time():
    results = virtsim.run_experiment(experiment([caller("a", [call()]), service("db", "a")]))
    assert lone(results) == pytest.approx(100e-6 + 200e-6, rel=1e-9)
    web = done(results, "web")
    assert np.allclose(web.remote_s, 200e-6, rtol=1e-9) and (web.calls == 1).all()
    db = done(results, "db")
    assert len(db) == len(web) and np.allclose(db.response_time_s, 200e-6, rtol=1e-9)
    assert (db.remote_s == 0).all() and (db.calls == 0).all()


def test_the_parts_of_a_job_with_calls_add_up_to_its_response_time():
    results = virtsim.run_experiment(experiment([caller("a", [call(count=2)]), service("db", "a")]))
    jobs = results.jobs[results.jobs.end_s.notna()]
    parts = jobs[[*BREAKDOWN[:-1], "remote_s", "wait_s"]].sum(axis=1)
    np.testing.assert_allclose(parts, jobs.response_time_s, rtol=1e-9, atol=1e-15)
    assert np.allclose(done(results, "web").wait_s, 0.0, atol=1e-12)
    stacks = results.stacks.set_index("workload")
    assert stacks.loc["web", "remote_mean_s"] == pytest.approx(400e-6, rel=1e-9)
    assert stacks.loc["db", "remote_mean_s"] == 0.0
    means = [c for c in stacks.columns if c.endswith("_mean_s") and c != "response_time_mean_s"]
    np.testing.assert_allclose(stacks[means].sum(axis=1), stacks.response_time_mean_s, rtol=1e-9)


def test_across_two_hosts_a_call_adds_the_routes_wire_time_both_ways_and_its_latency():
    req, resp = 1024, 12 * 1024
    exp = experiment([caller("a", [call(request_bytes=f"{req} B", response_bytes=f"{resp} B")]),
                      service("db", "b")], ["a", "b"], network=True)
    results = virtsim.run_experiment(exp)
    assert lone(results) == pytest.approx(100e-6 + 200e-6 + route_s(req, resp), abs=1e-9)
    assert np.allclose(done(results, "web").remote_s, 200e-6 + route_s(req, resp), atol=1e-9)
    links = results.links.set_index("link")
    n = len(done(results, "web"))
    assert links.loc["a->switch", "bytes"] >= n * req * (1 - 1e-9)
    assert links.loc["switch->a", "bytes"] >= n * resp * (1 - 1e-9)


def test_three_calls_in_sequence_take_three_times_one_and_in_parallel_the_slowest():
    req, resp = 4096, 64 * 1024
    one = dict(request_bytes=f"{req} B", response_bytes=f"{resp} B")
    single = lone(virtsim.run_experiment(experiment([caller("a", [call(**one)]), service("db", "b")],
                                                    ["a", "b"], network=True)))
    three = lone(virtsim.run_experiment(experiment([caller("a", [call(count=3, **one)]), service("db", "b")],
                                                   ["a", "b"], network=True)))
    assert three - 100e-6 == pytest.approx(3 * (single - 100e-6), abs=1e-9)
    fan = lone(virtsim.run_experiment(experiment([caller("a", [call(count=3, parallel=True, **one)]),
                                                  service("db", "b")], ["a", "b"], network=True)))
    # All three at once: the three requests share the route (each at a third of the NIC), the callee's
    # eight cores serve them side by side, then the three responses share the route back.
    assert fan == pytest.approx(100e-6 + 200e-6 + 3 * (req + resp) / NIC + 4 * LATENCY_S, abs=1e-9)
    empty = lone(virtsim.run_experiment(experiment([caller("a", [call(count=3, parallel=True)]),
                                                    service("db", "b")], ["a", "b"], network=True)))
    assert empty == pytest.approx(100e-6 + 200e-6 + 4 * LATENCY_S, abs=1e-9)  # the max of three equal calls


def test_a_chain_web_cache_db_adds_up():
    exp = experiment([caller("a", [call("cache", response_bytes="8 KiB")]),
                      service("cache", "b", cpu="50 us", calls=[call("db", request_bytes="1 KiB",
                                                                        response_bytes="16 KiB")]),
                      service("db", "c", cpu="300 us")], ["a", "b", "c"], network=True)
    results = virtsim.run_experiment(exp)
    db_call = 300e-6 + route_s(1024, 16 * 1024)
    cache_call = 50e-6 + db_call + route_s(0, 8 * 1024)
    assert lone(results) == pytest.approx(100e-6 + cache_call, abs=1e-9)
    assert lone(results, "cache") == pytest.approx(cache_call - route_s(0, 8 * 1024), abs=1e-9)
    assert np.allclose(done(results, "cache").remote_s, db_call, atol=1e-9)
    assert lone(results, "db") == pytest.approx(300e-6, rel=1e-9)


@settings(max_examples=12, deadline=None)
@given(count=st.integers(0, 4), req=st.integers(0, 200_000), resp=st.integers(0, 200_000),
       callee_us=st.integers(1, 500))
def test_property_sequential_calls_cost_count_times_one_call(count, req, resp, callee_us):
    exp = experiment([caller("a", [call(count=count, request_bytes=f"{req} B", response_bytes=f"{resp} B")]),
                      service("db", "b", cpu=f"{callee_us} us")], ["a", "b"], network=True, duration="0.05 s")
    results = virtsim.run_experiment(exp)
    expected = count * (callee_us * 1e-6 + route_s(req, resp))
    assert lone(results) == pytest.approx(100e-6 + expected, abs=1e-9)
    assert np.allclose(done(results, "web").remote_s, expected, atol=1e-9)


def test_an_open_workload_with_a_target_can_be_called_too():
    exp = experiment([caller("a", [call("api")]),
                      {"name": "api", "type": "open", "target": "a", "arrivals": {"type": "poisson", "rate": "1 /s"},
                       "demand": {"cpu": "200 us"}}], duration="0.1 s")
    results = virtsim.run_experiment(exp)
    assert np.allclose(done(results, "web").remote_s, 200e-6, rtol=1e-9)


# --- under load ------------------------------------------------------------------------------------


def test_a_fcfs_callee_under_poisson_calls_queues_as_mm1():
    """Poisson callers, exponential service on one worker: the callee is M/M/1 and its mean response 1/(μ−λ)."""
    lam = 0.5
    means = []
    for seed in (11, 12):
        exp = {"name": "mm1", "seed": seed, "duration": "20000 s", "warmup": "200 s", "cold_start": False,
               "hosts": [host("a")],
               "workloads": [{"name": "web", "type": "open", "target": "a",
                              "arrivals": {"type": "poisson", "rate": f"{lam} /s"},
                              "demand": {"cpu": "1 us", "calls": [call()]}},
                             service("db", "a", cpu={"type": "exponential", "mean": "1 s"},
                                     service={"discipline": "fcfs", "workers": 1})]}
        results = virtsim.run_experiment(exp)
        db = done(results, "db")
        db = db[db.counted]
        means.append(db.response_time_s.mean())
        web = done(results, "web")
        # The caller waits for exactly its callee's job (same host, no bytes): one call each, its time.
        assert (web.calls == 1).all()
        assert web.remote_s.mean() == pytest.approx(done(results, "db").response_time_s.mean(), rel=0.01)
    assert np.mean(means) == pytest.approx(1.0 / (1.0 - lam), rel=0.05)


def racks(workloads: list[dict]) -> dict:
    """Two racks under one spine: c1, c2, c3, s3 under leaf1; s1, s2 under leaf2 (uplinks as fast as a host link)."""
    names = ["c1", "c2", "c3", "s3", "s1", "s2"]
    return {"name": "racks", "seed": 5, "duration": "1 s", "warmup": "0 s", "cold_start": False,
            "hosts": [host(n) for n in names],
            "network": {"topology": {"kind": "leaf-spine", "leaves": 2, "spines": 1, "hosts_per_leaf": 4,
                                     "oversubscription": 4.0}},
            "workloads": workloads}


def test_a_noisy_bulk_transfer_on_the_uplink_slows_cross_rack_calls_and_not_same_rack_ones():
    shop = [{"name": "cross", "type": "open", "target": "c1", "arrivals": {"type": "poisson", "rate": "2000 /s"},
             "demand": {"cpu": "20 us", "calls": [call("db1", response_bytes="64 KiB")]}},
            {"name": "same", "type": "open", "target": "c3", "arrivals": {"type": "poisson", "rate": "2000 /s"},
             "demand": {"cpu": "20 us", "calls": [call("db3", response_bytes="64 KiB")]}},
            service("db1", "s1", cpu="50 us"), service("db3", "s3", cpu="50 us")]
    bulk = {"name": "bulk", "type": "closed", "clients": 1, "think_time": "0 s", "target": "s2",
            "demand": {"cpu": "20 us", "net": {"transactions": 1, "bytes": "50 MB"}},
            "client": {"target": "c2", "demand": {"cpu": "10 us"}}}
    quiet = virtsim.run_experiment(racks(copy.deepcopy(shop)))
    noisy = virtsim.run_experiment(racks(copy.deepcopy(shop) + [bulk]))
    cross_quiet, cross_noisy = (done(r, "cross").remote_s.mean() for r in (quiet, noisy))
    # Alone a 64 KiB response takes 52 us on the wire; beside the bulk flow it gets half the uplink.
    assert cross_noisy > cross_quiet + 0.5 * 64 * 1024 / NIC
    pd.testing.assert_series_equal(done(quiet, "same").response_time_s.reset_index(drop=True),
                                   done(noisy, "same").response_time_s.reset_index(drop=True))


def test_runs_with_calls_are_deterministic():
    exp = experiment([{"name": "web", "type": "open", "target": "a", "arrivals": {"type": "poisson", "rate": "3000 /s"},
                       "demand": {"cpu": {"type": "exponential", "mean": "100 us"},
                                  "calls": [call(count=2, parallel=True, response_bytes="32 KiB")]}},
                      service("db", "b", cpu={"type": "exponential", "mean": "300 us"})], ["a", "b"], network=True)
    a, b = virtsim.run_experiment(copy.deepcopy(exp)), virtsim.run_experiment(copy.deepcopy(exp))
    pd.testing.assert_frame_equal(a.jobs, b.jobs)
    assert done(a, "web").remote_s.mean() > 300e-6


def test_a_run_without_calls_has_no_remote_columns():
    exp = experiment([{"name": "web", "type": "closed", "clients": 1, "think_time": "0 s", "target": "a",
                       "demand": {"cpu": "100 us"}}])
    results = virtsim.run_experiment(exp)
    assert "remote_s" not in results.jobs and "remote_mean_s" not in results.stacks
    spec = virtsim.load_experiment(exp)
    assert "calls" not in spec.model_dump()["workloads"][0]["demand"]


# --- bad inputs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("workloads,hosts,network,where,message", [
    ([caller("a", [call("dbb")]), service("db", "a")], ["a"], False, "workloads[0].demand.calls[0].service",
     "did you mean 'db'?"),
    ([caller("a", [call("db")]), service("db", "a", calls=[call("web")])], ["a"], False,
     "workloads[0].demand.calls[0].service", "cycle: web -> db -> web"),
    ([caller("a", [call("web")])], ["a"], False, "workloads[0].demand.calls[0].service", "cycle: web -> web"),
    ([caller("a", [call("db")]), service("db", "b")], ["a", "b"], False, "workloads[0].demand.calls[0].service",
     "need a top-level 'network' section"),
    ([caller("a", [call("db", request_bytes="-1 KiB")]), service("db", "a")], ["a"], False,
     "workloads[0].demand.calls[0].request_bytes", "≥ 0"),
    ([caller("a", [call("db", count=-1)]), service("db", "a")], ["a"], False,
     "workloads[0].demand.calls[0].count", "≥ 0"),
    ([caller("a", [call("db")]), service("db", "a") | {"arrivals": {"type": "poisson", "rate": "1 /s"}}], ["a"],
     False, "workloads[1].arrivals", "not for service workloads"),
])
def test_bad_calls_are_located_errors(workloads, hosts, network, where, message):
    exp = experiment(workloads, hosts, network=network)
    with pytest.raises(ConfigError) as caught:
        virtsim.load_experiment(exp)
    text = str(caught.value)
    assert where in text and message in text, text


# --- through the command line ----------------------------------------------------------------------


def test_run_an_experiment_with_calls_through_the_cli(tmp_path):
    exp = experiment([caller("a", [call(request_bytes="1 KiB", response_bytes="12 KiB")]), service("db", "b")],
                     ["a", "b"], network=True, duration="0.05 s")
    path = tmp_path / "calls.yaml"
    path.write_text(yaml.safe_dump(exp), encoding="utf-8")
    out = tmp_path / "out"
    subprocess.run([sys.executable, "-m", "virtsim.cli", "run", str(path), "-o", str(out)], check=True,
                   capture_output=True, cwd=ROOT)
    jobs = pd.read_csv(out / "jobs.csv")
    web = jobs[(jobs.workload == "web") & jobs.end_s.notna()]
    assert np.allclose(web.remote_s, 200e-6 + route_s(1024, 12 * 1024), atol=1e-9) and (web.calls == 1).all()
    stacks = pd.read_csv(out / "stacks.csv")
    assert "remote_mean_s" in stacks


def test_the_breakdown_plot_draws_the_time_in_calls():
    import matplotlib
    matplotlib.use("Agg")
    from virtsim.plots.breakdown import parts_of, time_breakdown
    results = virtsim.run_experiment(experiment([caller("a", [call()]), service("db", "a")], duration="0.05 s"))
    assert "remote_mean_s" in parts_of(results.stacks)
    ax = time_breakdown(results.stacks)
    assert "calls to services" in [t.get_text() for t in ax.get_legend().get_texts()]
    plain = virtsim.run_experiment(experiment([caller("a", [])], duration="0.05 s"))
    assert "remote_mean_s" not in parts_of(plain.stacks)


@pytest.mark.parametrize("holds,expected_s", [("request", 2 * 1.1e-3), ("cpu", 1.1e-3)])
def test_a_fcfs_callers_worker_is_free_during_its_calls_unless_it_holds_the_request(holds, expected_s):
    web = caller("a", [call()], cpu="100 us") | {"clients": 2, "service": {"discipline": "fcfs", "workers": 1,
                                                                            "holds": holds}}
    results = virtsim.run_experiment(experiment([web, service("db", "a", cpu="1 ms")], duration="0.5 s"))
    # Two clients, one worker: blocked, the second waits for the first's whole request; otherwise only for
    # its 100 us of CPU, and the two calls (each alone on its own core) overlap.
    steady = done(results, "web").response_time_s.iloc[10:]
    assert steady.mean() == pytest.approx(expected_s, rel=0.05)
