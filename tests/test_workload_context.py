"""Custom SimPy generator workloads through the workload context.

``sim.context(target, workload=...)`` binds a context to a host, VM or
container; ``ctx.cpu`` asks for CPU work that is shared fairly with everything
else there, ``ctx.sleep`` waits without using the CPU, and ``ctx.spawn`` runs a
request as a job recorded in the job table. The cases are small enough to
compute by hand under processor sharing.
"""

from __future__ import annotations

import pandas as pd
import pytest

import virtsim

EXACT = dict(rel=1e-12, abs=1e-12)


def experiment(*, cores=1, core_speed=1.0, vms=(), containers=(), workloads=None, duration="100 s") -> dict:
    """One host 'h' to play on, and a quiet host 'o' for the built-in workload the schema requires."""
    host = {"name": "h", "hardware": {"cores": cores, "core_speed": core_speed, "memory": "16 GiB"}}
    if vms:
        host["vms"] = list(vms)
    if containers:
        host["containers"] = list(containers)
    idle = {"name": "o", "type": "open", "target": "o", "arrivals": {"type": "poisson", "rate": "0.001 /s"},
            "demand": {"cpu": {"type": "constant", "value": "1 s"}}}
    return {
        "name": "context", "seed": 3, "duration": duration,
        "hosts": [host, {"name": "o", "hardware": {"cores": 1, "core_speed": 1.0, "memory": "1 GiB"}}],
        "workloads": workloads if workloads is not None else [idle],
    }


def simulation(**kwargs) -> virtsim.Simulation:
    return virtsim.Simulation(virtsim.load_experiment(experiment(**kwargs)))


def cpu_job(ctx, seconds, threads=1):
    yield ctx.cpu(seconds, threads=threads)


def spawn_all(ctx, requests):
    """Spawn every (request, *args) at time 0; finishes immediately."""
    for request, *args in requests:
        ctx.spawn(request, *args)
    yield ctx.sleep(0)


def jobs_of(results, workload: str) -> pd.DataFrame:
    jobs = results.jobs
    return jobs[jobs["workload"] == workload].reset_index(drop=True)


def run_jobs(sim, target, requests, workload="custom") -> pd.DataFrame:
    ctx = sim.context(target, workload=workload)
    sim.process(spawn_all(ctx, requests))
    return jobs_of(virtsim.collect(sim.run()), workload)


def test_two_jobs_share_one_core():
    # Both at half a core until the 1 s job is done at 2 s; the other's last second runs alone.
    jobs = run_jobs(simulation(), "h", [(cpu_job, 1.0), (cpu_job, 2.0)])
    assert list(jobs["arrival_s"]) == [0.0, 0.0]
    assert jobs["end_s"].tolist() == pytest.approx([2.0, 3.0], **EXACT)
    assert jobs["response_time_s"].tolist() == pytest.approx([2.0, 3.0], **EXACT)
    assert jobs["cpu_demand_s"].tolist() == [1.0, 2.0]
    assert set(jobs["target"].astype(str)) == {"h"}


def test_threads_let_a_job_use_several_cores():
    jobs = run_jobs(simulation(cores=2), "h", [(cpu_job, 2.0, 2), (cpu_job, 2.0, 1)], workload="t")
    # Alone, two threads would take 1 s; next to a one-thread job each gets one core: 2 s each.
    assert jobs["end_s"].tolist() == pytest.approx([2.0, 2.0], **EXACT)

    jobs = run_jobs(simulation(cores=2), "h", [(cpu_job, 2.0, 2)], workload="t")
    assert jobs["end_s"].tolist() == pytest.approx([1.0], **EXACT)
    jobs = run_jobs(simulation(cores=2), "h", [(cpu_job, 2.0, 1)], workload="t")
    assert jobs["end_s"].tolist() == pytest.approx([2.0], **EXACT)
    jobs = run_jobs(simulation(cores=2), "h", [(cpu_job, 2.0, 4)], workload="t")  # only 2 cores
    assert jobs["end_s"].tolist() == pytest.approx([1.0], **EXACT)


def sleepy(ctx, before, work, after):
    yield ctx.sleep(before)
    yield ctx.cpu(work)
    yield ctx.sleep(after)


def test_sleep_uses_no_cpu():
    # Job A sleeps 1 s, computes 1 s, sleeps 1 s; job B computes 2 s from the start.
    # B runs alone for 1 s, shares with A for 2 s (A done at 3 s, B's second second done at 3 s).
    sim = simulation()
    ctx = sim.context("h", workload="s")
    sim.process(spawn_all(ctx, [(sleepy, 1.0, 1.0, 1.0), (cpu_job, 2.0)]))
    results = virtsim.collect(sim.run())
    jobs = jobs_of(results, "s")
    assert jobs["end_s"].tolist() == pytest.approx([4.0, 3.0], **EXACT)
    assert jobs["cpu_demand_s"].tolist() == [1.0, 2.0]
    host = results.consumers.set_index("consumer").loc["h"]
    assert host["cpu_time_s"] == pytest.approx(3.0, **EXACT)  # only the work, not the sleeping


def several_steps(ctx):
    yield ctx.cpu(0.25)
    yield ctx.sleep(0.5)
    yield ctx.cpu(0.5, threads=2)
    yield ctx.cpu(0.0)
    yield ctx.cpu(0.125)


def test_cpu_demand_is_the_sum_of_the_cpu_calls():
    jobs = run_jobs(simulation(cores=2), "h", [(several_steps,)])
    assert jobs["cpu_demand_s"].tolist() == [0.875]
    assert jobs["end_s"].tolist() == pytest.approx([0.25 + 0.5 + 0.25 + 0.125], **EXACT)


def test_a_job_in_flight_at_the_end_is_recorded_unfinished():
    jobs = run_jobs(simulation(duration="10 s"), "h", [(cpu_job, 4.0), (cpu_job, 40.0)])
    assert jobs["end_s"].iloc[0] == pytest.approx(8.0, **EXACT)
    assert pd.isna(jobs["end_s"].iloc[1])
    assert jobs["cpu_demand_s"].tolist() == [4.0, 40.0]


def test_core_speed_and_container_limits_apply_to_the_context():
    # Speed-2 cores do 1 s of reference work in 0.5 s.
    jobs = run_jobs(simulation(cores=1, core_speed=2.0), "h", [(cpu_job, 1.0)])
    assert jobs["end_s"].tolist() == pytest.approx([0.5], **EXACT)

    # A container limited to half a core on a 4-core host: 1 s of work takes 2 s, even with 4 threads.
    sim = simulation(cores=4, containers=[{"name": "c", "cpus": 0.5, "memory": "1 GiB"}])
    jobs = run_jobs(sim, "h/c", [(cpu_job, 1.0, 4)])
    assert jobs["end_s"].tolist() == pytest.approx([2.0], **EXACT)
    assert set(jobs["target"].astype(str)) == {"h/c"}

    # A VM capped at 1 core on a 4-core host, with 4 vCPUs: 2 s of 4-thread work takes 2 s.
    sim = simulation(cores=4, vms=[{"name": "v", "vcpus": 4, "cap": 1, "memory": "1 GiB"}])
    jobs = run_jobs(sim, "h/v", [(cpu_job, 2.0, 4)])
    assert jobs["end_s"].tolist() == pytest.approx([2.0], **EXACT)


def test_the_context_shares_its_consumer_with_a_built_in_workload():
    # A closed loop (one client, 10 s jobs, no think time) on the 1-core host, and a 1 s custom job at 0:
    # both at half a core until the custom job ends at 2 s; the first batch job, 1 s done by then, ends at 11 s.
    closed = {"name": "batch", "target": "h", "type": "closed", "clients": 1, "think_time": "0 s",
              "demand": {"cpu": {"type": "constant", "value": "10 s"}}}
    sim = simulation(workloads=[closed], duration="30 s")
    ctx = sim.context("h", workload="custom")
    sim.process(spawn_all(ctx, [(cpu_job, 1.0)]))
    results = virtsim.collect(sim.run())
    assert jobs_of(results, "custom")["end_s"].tolist() == pytest.approx([2.0], **EXACT)
    batch = jobs_of(results, "batch")
    assert batch["end_s"].tolist()[:2] == pytest.approx([11.0, 21.0], **EXACT)
    assert len(batch) == 3 and pd.isna(batch["end_s"].iloc[2])  # the third is still running at 30 s
    assert list(results.workloads["workload"]) == ["batch", "custom"]
    assert results.workloads.set_index("workload").loc["custom", "jobs_completed"] == 1


def test_a_context_in_one_vm_competes_with_a_built_in_workload_in_another():
    # Two 1-vCPU VMs on a 1-core host with shares 3:1. VM 'b' runs a busy closed loop; the custom
    # job of 3 s in VM 'a' gets 3/4 of the core, so it ends at 4 s.
    vms = [{"name": "a", "vcpus": 1, "memory": "1 GiB", "shares": 3000},
           {"name": "b", "vcpus": 1, "memory": "1 GiB", "shares": 1000}]
    closed = {"name": "batch", "target": "h/b", "type": "closed", "clients": 1, "think_time": "0 s",
              "demand": {"cpu": {"type": "constant", "value": "100 s"}}}
    sim = simulation(vms=vms, workloads=[closed], duration="20 s")
    ctx = sim.context("h/a", workload="custom")
    sim.process(spawn_all(ctx, [(cpu_job, 3.0)]))
    results = virtsim.collect(sim.run())
    assert jobs_of(results, "custom")["end_s"].tolist() == pytest.approx([4.0], **EXACT)
    table = results.consumers.set_index("consumer")
    assert table.loc["h/a", "cpu_time_s"] == pytest.approx(3.0, **EXACT)
    assert table.loc["h/b", "cpu_time_s"] == pytest.approx(17.0, **EXACT)  # 1 s of the first 4 s, then all
    assert table.loc["h/b", "steal_time_s"] == pytest.approx(3.0, **EXACT)


def test_a_generator_that_spawns_over_time():
    # One request every 2 s, each 1 s of CPU on an idle core: every response time is exactly 1 s.
    def arrivals(ctx):
        while True:
            ctx.spawn(cpu_job, 1.0)
            yield ctx.sleep(2.0)

    sim = simulation(duration="20 s")
    ctx = sim.context("h", workload="periodic")
    sim.process(arrivals(ctx))
    results = virtsim.collect(sim.run())
    jobs = jobs_of(results, "periodic")
    assert jobs["arrival_s"].tolist() == [2.0 * n for n in range(11)]  # 0, 2, ..., 20
    assert jobs["response_time_s"].dropna().tolist() == pytest.approx([1.0] * 10, **EXACT)
    assert results.workloads.set_index("workload").loc["periodic", "jobs_completed"] == 10


def test_workload_name_defaults_to_the_target_and_contexts_are_seeded():
    def draws(seed):
        sim = virtsim.Simulation(virtsim.load_experiment(experiment()), seed=seed)
        ctx = sim.context("h")
        return [ctx.rng.random() for _ in range(3)], sim

    first, sim = draws(1)
    assert draws(1)[0] == first and draws(2)[0] != first
    ctx = sim.context("h")
    sim.process(spawn_all(ctx, [(cpu_job, 1.0)]))
    results = virtsim.collect(sim.run())
    assert "h" in set(results.workloads["workload"])
    assert jobs_of(results, "h")["end_s"].tolist() == pytest.approx([1.0], **EXACT)


def test_bad_thread_counts_are_refused():
    sim = simulation()
    ctx = sim.context("h")
    with pytest.raises(ValueError, match="threads"):
        ctx.cpu(1.0, threads=0)


def test_an_unknown_target_is_refused():
    sim = simulation()
    with pytest.raises((KeyError, ValueError), match="h/nope"):
        sim.context("h/nope")
