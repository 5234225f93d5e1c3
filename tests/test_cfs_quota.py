"""CFS bandwidth control: ``cpu_quota_period`` turns a container's ``cpus`` into a quota per period.

The expected times are worked out by hand in each test's docstring: within a
period the container runs as fast as its threads allow until it has used
``cpus × period`` of CPU time, then nothing until the period ends.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import simpy
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import virtsim
from virtsim.components.cfs import CpuQuota
from virtsim.config.loader import dump_resolved
from virtsim.engine import RateResource


def experiment(*, cpus: float, period: str | None, cpu: str, threads: int, cores: int = 8) -> dict:
    """One request of ``cpu`` CPU time and ``threads`` threads at t = 0 in container h1/web."""
    container = {"name": "web", "cpus": cpus}
    if period is not None:
        container["cpu_quota_period"] = period
    return {
        "name": "cfs", "duration": "10 s",
        "hosts": [{"name": "h1", "hardware": {"cores": cores, "memory": "16 GiB"}, "containers": [container]}],
        "workloads": [{"name": "req", "target": "h1/web", "type": "batch", "jobs": 1,
                       "demand": {"cpu": {"type": "constant", "value": cpu}, "threads": threads}}],
    }


def run(raw: dict):
    results = virtsim.run_experiment(raw)
    web = results.consumers.set_index("consumer").loc["h1/web"]
    return float(results.jobs["end_s"].iloc[0]), web


def test_a_multithreaded_burst_finishes_sooner_then_stalls():
    """4 threads, 200 ms of CPU, cpus 1, period 100 ms, 8 idle cores.

    0-25 ms at 4 cores uses the 100 ms quota; throttled 25-100 ms; the last
    100 ms of CPU at 4 cores takes 100-125 ms. The fluid cap: 200 ms at 1 core.
    """
    end_s, web = run(experiment(cpus=1, period="100 ms", cpu="200 ms", threads=4))
    assert end_s == pytest.approx(0.125, abs=1e-12)
    assert web["throttled_time_s"] == pytest.approx(0.075, abs=1e-12)
    assert web["throttled_periods"] == 1
    assert web["cpu_time_s"] == pytest.approx(0.2, abs=1e-12)
    fluid_end_s, fluid = run(experiment(cpus=1, period=None, cpu="200 ms", threads=4))
    assert fluid_end_s == pytest.approx(0.2, abs=1e-12)
    assert fluid["throttled_periods"] == 0 and fluid["throttled_time_s"] != fluid["throttled_time_s"]  # NaN


def test_a_single_thread_under_a_fractional_limit_advances_in_period_steps():
    """1 thread, 120 ms of CPU, cpus 0.5 (a 50 ms quota per 100 ms).

    Runs 0-50, throttled 50-100, runs 100-150, throttled 150-200, runs 200-220:
    done at 220 ms after 2 throttled periods of 50 ms. The fluid cap: 120 / 0.5 = 240 ms.
    """
    end_s, web = run(experiment(cpus=0.5, period="100 ms", cpu="120 ms", threads=1))
    assert end_s == pytest.approx(0.22, abs=1e-12)
    assert web["throttled_time_s"] == pytest.approx(0.1, abs=1e-12)
    assert web["throttled_periods"] == 2
    fluid_end_s, _ = run(experiment(cpus=0.5, period=None, cpu="120 ms", threads=1))
    assert fluid_end_s == pytest.approx(0.24, abs=1e-12)


def test_a_request_within_its_quota_is_never_throttled():
    """2 threads, 40 ms of CPU under cpus 1: 20 ms at 2 cores, well inside the 100 ms quota."""
    end_s, web = run(experiment(cpus=1, period="100 ms", cpu="40 ms", threads=2))
    assert end_s == pytest.approx(0.02, abs=1e-12)
    assert web["throttled_periods"] == 0 and web["throttled_time_s"] == 0.0


def _container(env, *, cores=8.0, cpus=1.0, period_s=0.1):
    cpu = RateResource(env, cores)
    node = cpu.root.add_child("web", cap=cores)
    return node, CpuQuota(env, node, cpus * period_s, period_s, cores)


def test_an_idle_container_schedules_nothing_and_comes_back_with_a_full_quota():
    """After a request the SimPy queue empties: no period timer ticks while nothing runs.

    A 4-thread, 200 ms request at 1000.05 s (halfway through the period
    [1000.0, 1000.1) on the grid from the start) gets a full 100 ms quota:
    25 ms at 4 cores, throttled to 1000.1, 25 ms more: done at 1000.125.
    """
    env = simpy.Environment()
    node, quota = _container(env)
    done = []
    node.submit(0.2, max_rate=4.0, on_done=lambda act: done.append(env.now))
    steps = 0
    while env.peek() < 1000.05:
        env.step()
        steps += 1
    assert done == [pytest.approx(0.125)]
    # The request's own events: the engine's wake-ups and the quota's, a handful;
    # none in the 1000 s of idleness that follow it.
    assert steps <= 6
    assert env.peek() == float("inf")
    env.run(until=1000.05)
    node.submit(0.2, max_rate=4.0, on_done=lambda act: done.append(env.now))
    env.run()
    assert done[1] == pytest.approx(1000.125, abs=1e-9)
    assert quota.throttled_periods == 2
    assert quota.throttled_s(env.now) == pytest.approx(0.075 + 0.025, abs=1e-9)


def test_the_quota_is_not_refilled_within_a_period():
    """Two 1-thread requests of 30 ms, cpus 0.5 (50 ms per 100 ms), at 0 and at 40 ms.

    The first runs 0-30 ms; the second, in the same period, has 20 ms left:
    runs 40-60, throttled 60-100, runs its last 10 ms 100-110.
    """
    env = simpy.Environment()
    node, quota = _container(env, cpus=0.5)
    done = []
    node.submit(0.03, max_rate=1.0, on_done=lambda act: done.append(env.now))
    env.run(until=0.04)
    node.submit(0.03, max_rate=1.0, on_done=lambda act: done.append(env.now))
    env.run()
    assert done == [pytest.approx(0.03), pytest.approx(0.11)]
    assert quota.throttled_periods == 1


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cpus=st.floats(0.1, 4.0),
    period_s=st.sampled_from([0.01, 0.05, 0.1, 0.25]),
    requests=st.lists(st.tuples(st.floats(0.0, 2.0), st.floats(0.001, 0.5), st.integers(1, 8)),
                      min_size=1, max_size=12),
    neighbour=st.integers(0, 8),
)
def test_no_period_uses_more_than_its_quota(cpus, period_s, requests, neighbour):
    """Whatever the requests (arrival s, CPU s, threads) and a busy neighbour: ∫allocation over
    every period is at most cpus × period, all work is done, and the time throttled is at most
    what is left of the periods in which the quota ran out."""
    env = simpy.Environment()
    cores = 8.0
    cpu = RateResource(env, cores)
    node = cpu.root.add_child("web", cap=cores)
    quota = CpuQuota(env, node, cpus * period_s, period_s, cores)
    if neighbour:  # competes for the cores, so the container's rate changes mid-period
        cpu.root.add_child("other").submit(1.0, max_rate=float(neighbour))
    done = []

    def arrive(at_s, work, threads):
        yield env.timeout(at_s)
        node.submit(work, max_rate=float(threads), on_done=lambda act: done.append(act))

    for request in requests:
        env.process(arrive(*request))
    used = []

    def boundaries():
        while True:
            used.append(node.time_integrals(env.now)[0])
            yield env.timeout(period_s)

    env.process(boundaries())
    # While anything runs, at least one thread does: the container averages min(cpus, 1) core or more.
    horizon_s = 2.0 + sum(work for _, work, _ in requests) / min(cpus, 1.0) + 2 * period_s
    env.run(until=horizon_s)
    assert len(done) == len(requests)
    per_period = [b - a for a, b in zip(used, used[1:])]
    assert max(per_period) <= cpus * period_s * (1 + 1e-9) + 1e-12
    total = node.time_integrals(env.now)[0]
    assert total == pytest.approx(sum(work for _, work, _ in requests), rel=1e-9)
    assert total / env.now <= cpus * (1 + 1e-9)
    assert quota.throttled_s(env.now) <= quota.throttled_periods * period_s * (1 + 1e-9)


def test_an_explicit_null_is_the_option_left_out():
    """``cpu_quota_period: null`` resolves, dumps and runs exactly as no key at all."""
    without = experiment(cpus=1, period=None, cpu="200 ms", threads=4)
    explicit = experiment(cpus=1, period=None, cpu="200 ms", threads=4)
    explicit["hosts"][0]["containers"][0]["cpu_quota_period"] = None
    specs = [virtsim.load_experiment(raw) for raw in (without, explicit)]
    assert dump_resolved(specs[0]) == dump_resolved(specs[1])
    assert "cpu_quota_period_s" not in str(dump_resolved(specs[0]))  # manifests of old files unchanged
    tables = [virtsim.run_spec(spec) for spec in specs]
    for name in ("summary", "consumers", "jobs"):
        assert getattr(tables[0], name).equals(getattr(tables[1], name)), name


@pytest.mark.parametrize(("container", "path", "message"), [
    ({"name": "web", "cpu_quota_period": "100 ms"}, "hosts[0].containers[0]", "'cpu_quota_period' needs 'cpus'"),
    ({"name": "web", "cpus": 1, "cpu_quota_period": "0 ms"}, "hosts[0].containers[0].cpu_quota_period",
     "must be a time > 0"),
    ({"name": "web", "cpus": 1, "cpu_quota_period": "1 GiB"}, "hosts[0].containers[0].cpu_quota_period",
     "expected a time"),
])
def test_bad_input_is_a_path_named_error_without_a_traceback(tmp_path, container, path, message):
    raw = experiment(cpus=1, period=None, cpu="10 ms", threads=1)
    raw["hosts"][0]["containers"][0] = container
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(raw))
    proc = subprocess.run([sys.executable, "-m", "virtsim.cli", "run", "bad.yaml", "-o", "out"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "bad.yaml" in proc.stderr and f"{path}: {message}" in proc.stderr
    assert not (tmp_path / "out").exists()
