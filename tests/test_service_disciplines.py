"""First come, first served on N workers, beside processor sharing: queueing theory and the mechanism.

The theory cases follow ``test_theory.py`` (replications with different seeds,
theory inside the 99 % interval of the replication means and within 5 %).
FCFS is compared with PS on the same arrivals and sizes (same seeds and
workload names: common random numbers), so a difference between them is the
discipline's, not the draw's.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_theory import check, experiment, exponential, mva_single_station, open_workload, replicate, summary

import virtsim
from virtsim.analysis import confidence_interval
from virtsim.analysis.queueing import (
    mg1_fcfs_mean_response_s,
    mg1_ps_mean_response_s,
    mmc_mean_response_s,
    mmc_response_quantile_s,
)
from virtsim.config import ConfigError
from virtsim.components.slots import Slots


def fcfs(workers: int = 1, holds: str | None = None) -> dict:
    service = {"discipline": "fcfs", "workers": workers}
    return service | ({"holds": holds} if holds else {})


def served(workload: dict, service: dict | None) -> dict:
    return workload | ({"service": service} if service else {})


def p99(results) -> np.ndarray:
    return summary(results, "response_time_p99_s")


# --- the queue itself -----------------------------------------------------------------


def test_a_worker_pool_serves_in_arrival_order_and_skips_the_failed():
    failed: set[int] = set()
    pool = Slots(2, failed)
    started = []
    for job in range(5):
        pool.take(job, lambda job=job: started.append(job))
    assert started == [0, 1] and pool.idle == 0 and len(pool.queue) == 3
    failed.add(2)  # lost while it waited
    pool.give_back()
    assert started == [0, 1, 3]
    pool.give_back()
    pool.give_back()
    assert started == [0, 1, 3, 4] and pool.idle == 1 and not pool.queue
    with pytest.raises(ValueError, match="at least 1 slot"):
        Slots(0, failed)


@settings(max_examples=40, deadline=None)
@given(workers=st.integers(1, 4), steps=st.lists(st.sampled_from(["arrive", "done", "fail"]), max_size=40))
def test_a_worker_pool_never_runs_more_than_its_workers_nor_idles_with_work_waiting(workers, steps):
    failed: set[int] = set()
    pool = Slots(workers, failed)
    running: list[int] = []
    arrived = 0
    for step in steps:
        if step == "arrive":
            pool.take(arrived, lambda job=arrived: running.append(job))
            arrived += 1
        elif step == "done" and running:
            running.pop(0)
            pool.give_back()
        elif step == "fail":
            waiting = [job for job, _ in pool.queue if job not in failed]
            if waiting:
                failed.add(waiting[0])
        alive_waiting = [job for job, _ in pool.queue if job not in failed]
        assert len(running) + pool.idle == workers
        assert not (alive_waiting and pool.idle), "a worker idles while a request waits"
    assert running == sorted(running)  # started in arrival order


# --- queueing theory ------------------------------------------------------------------


@pytest.fixture(scope="module")
def mm1_both():
    """M/M/1 at ρ = 0.7 under FCFS and under PS, on the same arrivals and sizes."""
    lam = 0.7
    base = open_workload("h", lam, exponential(1.0))
    runs = {name: replicate(experiment(served(base, service), duration=20_000), 8, case=41)
            for name, service in (("fcfs", fcfs()), ("ps", None))}
    return lam, runs


def test_mm1_fcfs_response_time_is_exponential(mm1_both):
    lam, runs = mm1_both
    # FCFS M/M/1: T ~ Exp(μ − λ), so E[T] = 1/(μ − λ) and its 99th percentile ln(100)/(μ − λ).
    check("M/M/1-FCFS rho=0.7 E[T]", summary(runs["fcfs"], "response_time_mean_s"), 1.0 / (1.0 - lam))
    check("M/M/1-FCFS rho=0.7 p99", p99(runs["fcfs"]), math.log(100.0) / (1.0 - lam), rel_tol=0.08)


def test_mm1_fcfs_and_ps_have_equal_means_and_different_tails(mm1_both):
    """E[T] is 1/(μ − λ) under both; PS lets a long job linger behind every later one, FCFS does not."""
    lam, runs = mm1_both
    check("M/M/1-PS rho=0.7 E[T]", summary(runs["ps"], "response_time_mean_s"), mg1_ps_mean_response_s(lam, 1.0))
    mean_gap, mean_half = confidence_interval(
        summary(runs["ps"], "response_time_mean_s") - summary(runs["fcfs"], "response_time_mean_s"), 0.99)
    assert abs(mean_gap) <= max(mean_half, 0.05 / (1.0 - lam)), (mean_gap, mean_half)
    tail_gap, tail_half = confidence_interval(p99(runs["ps"]) - p99(runs["fcfs"]), 0.99)
    print(f"M/M/1 rho=0.7 p99 PS − FCFS: {tail_gap:.3f} ± {tail_half:.3f} s (paired, 99 % CI)")
    assert tail_gap - tail_half > 0.15 * math.log(100.0) / (1.0 - lam)


@pytest.mark.parametrize("workers,cores,rho", [(2, 2, 0.75), (4, 8, 0.8)], ids=["M/M/2 on 2 cores", "M/M/4 on 8 cores"])
def test_mmc_fcfs_is_erlang_c(workers, cores, rho):
    """c workers are c servers, however many cores lie idle beside them."""
    lam = rho * workers
    exp = experiment(served(open_workload("h", lam, exponential(1.0)), fcfs(workers)), cores=cores,
                     duration=12_000)
    results = replicate(exp, 8, case=42 + workers)
    check(f"M/M/{workers}-FCFS on {cores} cores E[T]", summary(results, "response_time_mean_s"),
          mmc_mean_response_s(lam, 1.0, workers))
    check(f"M/M/{workers}-FCFS on {cores} cores p99", p99(results), mmc_response_quantile_s(lam, 1.0, workers),
          rel_tol=0.08, gate_ci=False)
    queue = np.array([r.jobs.loc[r.jobs["counted"], "queue_s"].mean() for r in results])
    check(f"M/M/{workers}-FCFS E[W] (queue_s)", queue, mmc_mean_response_s(lam, 1.0, workers) - 1.0,
          rel_tol=0.08, gate_ci=False)


def test_md1_fcfs_is_pollaczek_khinchine_and_ps_is_not():
    """Constant service: FCFS waits half of what M/M/1 waits (P–K); PS is insensitive and waits more."""
    lam, size = 0.8, 0.5
    base = open_workload("h", lam / size, {"type": "constant", "value": f"{size} s"})
    fcfs_runs = replicate(experiment(served(base, fcfs()), duration=10_000), 8, case=47)
    ps_runs = replicate(experiment(base, duration=10_000), 8, case=47)
    check("M/D/1-FCFS rho=0.8 E[T] (P-K)", summary(fcfs_runs, "response_time_mean_s"),
          mg1_fcfs_mean_response_s(lam / size, size, 0.0))
    check("M/D/1-PS rho=0.8 E[T]", summary(ps_runs, "response_time_mean_s"),
          mg1_ps_mean_response_s(lam / size, size), gate_ci=False)
    # Deterministic service: no request is ever longer than its wait plus 0.5 s under FCFS.
    for r in fcfs_runs:
        done = r.jobs[r.jobs["counted"] & r.jobs["end_s"].notna()]
        np.testing.assert_allclose(done["response_time_s"] - done["queue_s"], size, rtol=1e-9)


def test_mg1_fcfs_with_variable_sizes_waits_longer_than_ps():
    """Lognormal sizes (c² = e − 1 ≈ 1.72): FCFS pays for the variance (P–K), PS does not."""
    lam, sigma = 0.6, 1.0
    lognormal = {"type": "lognormal", "mean": "1 s", "sigma": sigma}
    base = open_workload("h", lam, lognormal)
    fcfs_runs = replicate(experiment(served(base, fcfs()), duration=30_000), 8, case=48)
    ps_runs = replicate(experiment(base, duration=30_000), 8, case=48)
    fcfs_theory = mg1_fcfs_mean_response_s(lam, 1.0, math.exp(sigma**2) - 1.0)
    ps_theory = mg1_ps_mean_response_s(lam, 1.0)
    check("M/G/1-FCFS rho=0.6 lognormal E[T] (P-K)", summary(fcfs_runs, "response_time_mean_s"), fcfs_theory,
          rel_tol=0.08)
    check("M/G/1-PS rho=0.6 lognormal E[T]", summary(ps_runs, "response_time_mean_s"), ps_theory, gate_ci=False)
    gap, half = confidence_interval(summary(fcfs_runs, "response_time_mean_s")
                                    - summary(ps_runs, "response_time_mean_s"), 0.99)
    assert gap - half > 0, (gap, half, fcfs_theory - ps_theory)


# --- a single-threaded server under closed-loop clients ----------------------------------


def closed(clients: int, think: dict, cpu: dict, service: dict | None) -> dict:
    return served({"name": "w", "target": "h", "type": "closed", "clients": clients, "think_time": think,
                   "demand": {"cpu": cpu}}, service)


@pytest.mark.parametrize("clients", [4, 16])
def test_an_event_loop_on_eight_cores_is_one_station_for_mva(clients):
    """One worker saturates at 1/S whatever the cores; PS would spread the clients over all eight."""
    service, think = 0.1, 0.4
    exp = experiment(closed(clients, exponential(think), exponential(service), fcfs()), cores=8,
                     duration=4_000, warmup=100)
    results = replicate(exp, 8, case=50 + clients)
    r_mva, x_mva = mva_single_station(clients, service, think)
    check(f"closed FCFS-1 on 8 cores N={clients} X (MVA)", summary(results, "throughput_per_s"), x_mva)
    check(f"closed FCFS-1 on 8 cores N={clients} E[R] (MVA)", summary(results, "response_time_mean_s"), r_mva)
    consumer_u = [float(r.consumers.loc[r.consumers["consumer"] == "h", "cpu_utilization"].iloc[0]) for r in results]
    assert max(consumer_u) <= 1 / 8 + 1e-9  # one core of eight, at most


@pytest.mark.parametrize("clients", [5, 11, 20])
def test_deterministic_clients_get_the_sharp_knee_not_lock_step(clients):
    """Constant S = 10 ms and think Z = 100 ms: FCFS gives min(N/(S + Z), 1/S) exactly.

    Under PS on one core the N clients stay in lock-step (all share, all finish at
    N·S, all think together): N/(N·S + Z), below the knee's throughput.
    """
    s, z = 0.01, 0.1
    constant = {"type": "constant", "value": f"{s} s"}
    think = {"type": "constant", "value": f"{z} s"}
    exp_f = experiment(closed(clients, think, constant, fcfs()), duration=200, warmup=10)
    exp_p = experiment(closed(clients, think, constant, None), duration=200, warmup=10)
    x_fcfs = float(virtsim.run_experiment(exp_f).summary["throughput_per_s"].iloc[0])
    x_ps = float(virtsim.run_experiment(exp_p).summary["throughput_per_s"].iloc[0])
    assert x_fcfs == pytest.approx(min(clients / (s + z), 1 / s), rel=0.01)
    assert x_ps == pytest.approx(clients / (clients * s + z), rel=0.01)


# --- what a worker holds --------------------------------------------------------------


def test_a_worker_holds_the_cpu_phase_or_the_whole_request():
    """Two clients, no think time, 10 ms CPU then a 50 ms network round trip per request.

    ``holds: cpu`` frees the worker for the other client during the round trip: each
    client cycles every 60 ms (2 × 10 ms of CPU fit in it). ``holds: request`` keeps
    it busy for all 60 ms: one request at a time, one every 60 ms.
    """
    def run(holds):
        exp = experiment(served({"name": "w", "target": "h", "type": "closed", "clients": 2,
                                 "think_time": {"type": "constant", "value": "0 s"},
                                 "demand": {"cpu": {"type": "constant", "value": "10 ms"},
                                            "net": {"transactions": 1, "bytes": "0 B"}}},
                                fcfs(1, holds)), duration=60, warmup=0)
        exp["hosts"][0]["hardware"]["nics"] = [{"name": "eth0", "bandwidth": "10 Gbit/s", "latency_us": 25_000}]
        return float(virtsim.run_experiment(exp).summary["throughput_per_s"].iloc[0])

    assert run("cpu") == pytest.approx(2 / 0.06, rel=0.01)
    assert run("request") == pytest.approx(1 / 0.06, rel=0.01)


# --- failures and bad input -------------------------------------------------------------


def test_jobs_queued_when_the_server_fails_fail_and_the_workers_come_back():
    exp = experiment(served(open_workload("h/c", 9.0, exponential(0.1)), fcfs(1)), cores=2, duration=400,
                     warmup=0, containers=[{"name": "c", "cpus": 1, "memory": "1 GiB"}])
    exp["failures"] = [{"domain": "h/c", "at": ["100 s"], "time_to_repair": "10 s"}]
    r = virtsim.run_experiment(exp)
    jobs = r.jobs
    lost = jobs[jobs["failed"]]
    assert (lost["failed_at_s"] == 100.0).all()
    assert lost["queue_s"].notna().sum() == 1, "one was on the worker"
    assert lost["queue_s"].isna().sum() >= 1, "the others were waiting in the queue"
    after = jobs[(jobs["arrival_s"] > 110) & (jobs["arrival_s"] < 380)]
    assert after["end_s"].notna().all()  # served again after the repair: no worker was lost
    # Once the backlog of the 10 s down (~90 jobs, 9 s of work, drained at 1 − ρ) is gone,
    # the queue is an M/M/1 at ρ = 0.9 again: E[W] = ρ/(μ − λ) = 0.9 s (one run, a loose bound).
    settled = after[after["arrival_s"] > 250]
    assert 0.2 < settled["queue_s"].mean() < 3.0


@pytest.mark.parametrize("service,demand,where,message", [
    ({"discipline": "ps", "workers": 2}, {}, ("service",), "'workers' is for discipline 'fcfs'"),
    ({"discipline": "fcfs", "workers": 0}, {}, ("service", "workers"), "must be an integer ≥ 1"),
    ({"discipline": "lifo"}, {}, ("service", "discipline"), "'ps'"),
    ({"discipline": "fcfs"}, {"threads": 2}, ("demand", "threads"), "a worker is one thread"),
])
def test_bad_service_keys_are_located_errors(service, demand, where, message):
    workload = served(open_workload("h", 0.5, exponential(1.0)), service)
    workload["demand"] |= demand
    with pytest.raises(ConfigError) as caught:
        virtsim.load_experiment(experiment(workload, cores=4, duration=100))
    text = str(caught.value)
    assert "workloads[0]." + ".".join(where) in text or "workloads.0." + ".".join(where) in text, text
    assert message in text, text


def test_processor_sharing_spelled_out_is_the_default():
    exp = experiment(open_workload("h", 0.5, exponential(1.0)), duration=2_000, warmup=0)
    explicit = experiment(served(open_workload("h", 0.5, exponential(1.0)), {"discipline": "ps"}),
                          duration=2_000, warmup=0)
    a, b = virtsim.run_experiment(exp), virtsim.run_experiment(explicit)
    assert a.jobs.equals(b.jobs) and "queue_s" not in a.jobs
