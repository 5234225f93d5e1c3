"""The generator helpers of ``virtsim.workloads.library`` on a real simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest

import virtsim
from virtsim.workloads import library

SPEC = {"name": "lib", "duration": "199 s", "cold_start": False,
        "hosts": [{"name": "h", "hardware": {"cores": 4, "memory": "8 GiB"}}]}


def simulation() -> virtsim.Simulation:
    return virtsim.Simulation(virtsim.load_experiment(SPEC))


def work(seconds: float, threads: int = 1):
    def request(ctx):
        yield ctx.cpu(seconds, threads=threads)
    return request


def test_batch_returns_the_makespan_of_parallel_jobs():
    """Eight jobs of 2 s of work on two threads each, on four cores: all share fairly and end at 4 s."""
    sim = simulation()
    ctx = sim.context("h", workload="batch")
    run = sim.process(library.batch(ctx, 8, work(2.0, threads=2)))
    results = virtsim.collect(sim.run())
    assert run.value == pytest.approx(4.0, rel=1e-12)  # 16 core-seconds on 4 cores
    assert results.workloads.set_index("workload").loc["batch", "jobs_completed"] == 8


def test_closed_loop_clients_alternate_requests_and_think_time():
    """Two clients, 1 s of work then 1 s of thought, never contending: one job per 2 s each."""
    sim = simulation()
    ctx = sim.context("h", workload="users")
    sim.process(library.closed_loop(ctx, 2, 1.0, work(1.0)))
    jobs = virtsim.collect(sim.run()).jobs
    assert len(jobs) == 200  # arrivals at 0, 2, ..., 198 s for each client (the run ends at 199 s)
    assert jobs["response_time_s"].dropna().to_numpy() == pytest.approx(1.0, rel=1e-12)


def test_open_loop_with_on_off_bursts_arrives_only_while_on():
    sim = simulation()
    ctx = sim.context("h", workload="bursts")
    sim.process(library.open_loop(ctx, library.onoff(ctx.rng, 10.0, 2.0, 3.0), work(0.01)))
    arrivals = virtsim.collect(sim.run()).jobs["arrival_s"].to_numpy()
    assert (np.mod(arrivals, 5.0) < 2.0).all()
    assert len(arrivals) == pytest.approx(800, abs=4 * math.sqrt(800))


def test_open_loop_ends_with_a_curve_that_falls_silent():
    sim = simulation()
    ctx = sim.context("h", workload="ramp")
    gaps = library.curve(ctx.rng, [(0.0, 5.0), (50.0, 0.0)], interpolation="step")
    sim.process(library.open_loop(ctx, gaps, work(0.01)))
    arrivals = virtsim.collect(sim.run()).jobs["arrival_s"].to_numpy()
    assert arrivals.max() < 50.0
    assert len(arrivals) == pytest.approx(250, abs=4 * math.sqrt(250))
