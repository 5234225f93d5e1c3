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
    # The request's own events: the engine's wake-ups and the quota's (a late call
    # is a timeout and a check), a handful; none in the 1000 s of idleness that follow it.
    assert steps <= 8
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


# --- against a period-stepping reference ------------------------------------------------------------
#
# One request in the container and at most one in a sibling consumer ("neighbour", the same
# weight) on a host of ``cores`` cores: small enough to step exactly from event to event
# (arrival, completion, quota used up, period end) with the max-min split of two written out.


def _two_way_split(cores: float, container: float, neighbour: float) -> tuple[float, float]:
    """Max-min of two equal-weight demands on ``cores``."""
    if container + neighbour <= cores:
        return container, neighbour
    half = cores / 2
    if container <= half:
        return container, cores - container
    if neighbour <= half:
        return cores - neighbour, neighbour
    return half, half


def reference_ends(*, cores: float, cpus: float, period_s: float, request: tuple, neighbour: tuple | None = None,
                   horizon_s: float = 100.0) -> tuple[float | None, float | None]:
    """End times of the container's request and the neighbour's, each ``(arrival s, CPU s, threads)``.

    Periods lie on the grid k × period from 0; the container may use ``cpus × period``
    in each, at up to one core per thread; then it runs nothing until the period ends.
    """
    quota = cpus * period_s
    work = {"web": list(request), "other": list(neighbour) if neighbour else None}
    ends: dict[str, float | None] = {"web": None, "other": None}
    t, k, left = 0.0, 0, quota
    while t < horizon_s and any(w is not None and ends[n] is None for n, w in work.items()):
        period_end = (k + 1) * period_s
        running = {n: w for n, w in work.items() if w and ends[n] is None and w[0] <= t}
        wants_web = min(running["web"][2], cores) if "web" in running and left > 1e-12 * quota else 0.0
        wants_other = min(running["other"][2], cores) if "other" in running else 0.0
        rates = dict(zip(("web", "other"), _two_way_split(cores, wants_web, wants_other)))
        step = period_end - t
        step = min([step] + [w[0] - t for n, w in work.items() if w and ends[n] is None and w[0] > t])
        for n, w in running.items():
            if rates[n] > 0:
                step = min(step, w[1] / rates[n])
        if rates["web"] > 0:
            step = min(step, left / rates["web"])
            left -= rates["web"] * step
        for n, w in running.items():
            w[1] -= rates[n] * step
        t += step
        for n, w in running.items():
            if w[1] <= 1e-12:
                ends[n] = t
        if t >= period_end - 1e-15:
            t, k, left = period_end, k + 1, quota
    return ends["web"], ends["other"]


def engine_ends(*, cores: float, cpus: float, period_s: float, request: tuple,
                neighbour: tuple | None = None) -> tuple[float | None, float | None]:
    """The same on the sharing engine with a :class:`CpuQuota` on the container."""
    env = simpy.Environment()
    cpu = RateResource(env, cores)
    web = cpu.root.add_child("web", cap=cores)
    CpuQuota(env, web, cpus * period_s, period_s, cores)
    other = cpu.root.add_child("other")
    ends: dict[str, float | None] = {"web": None, "other": None}

    def arrive(name, node, at_s, work_s, threads):
        yield env.timeout(at_s)
        node.submit(work_s, max_rate=float(threads), on_done=lambda _act: ends.__setitem__(name, env.now))

    env.process(arrive("web", web, *request))
    if neighbour:
        env.process(arrive("other", other, *neighbour))
    env.run(until=100.0)
    return ends["web"], ends["other"]


def assert_same_ends(found: tuple, expected: tuple, rel: float) -> None:
    """Both requests end at the same times (None: no neighbour), to ``rel``."""
    assert [end is None for end in found] == [end is None for end in expected]
    assert [e for e in found if e is not None] == pytest.approx([e for e in expected if e is not None],
                                                               rel=rel, abs=1e-12)


CASES = {
    "arrival mid-period": (dict(cores=8, cpus=0.5, period_s=0.1, request=(0.09, 0.5, 1)), 1.04, None),
    "arrival just before the period ends": (dict(cores=8, cpus=0.5, period_s=0.1, request=(0.0999, 0.5, 1)),
                                            1.0499, None),
    "several periods on four threads": (dict(cores=8, cpus=1.5, period_s=0.1, request=(0.03, 1.0, 4)), 0.625, None),
    "a neighbour slows it mid-period": (dict(cores=1, cpus=0.5, period_s=0.1, request=(0.0, 0.2, 1),
                                             neighbour=(0.02, 0.1, 1)), 0.35, 0.2),
    "a neighbour's end speeds it up mid-period": (dict(cores=1, cpus=0.5, period_s=0.1, request=(0.0, 0.12, 1),
                                                       neighbour=(0.0, 0.01, 1)), 0.22, 0.02),
    "the request needs exactly the quota left, many periods on": (
        dict(cores=1, cpus=0.5, period_s=0.01, request=(0.223, 0.555, 7)), 1.325, None),
}


@pytest.mark.parametrize("case", CASES)
def test_quota_periods_match_the_reference(case):
    """Hand derivations (quota q = cpus × period; 'done' is the request's CPU so far):

    * arrival mid-period: q = 50 ms. [0.09, 0.1) runs 10 ms of the 50; the 490 ms left
      take 9 full quotas (periods [0.1, 1.0), each 50 ms run then throttled) and 40 ms of
      [1.0, 1.1): done at 1.04 s. (The fluid cap would give 0.09 + 0.5 / 0.5 = 1.09 s.)
    * just before the period ends: 0.1 ms in [0.0999, 0.1), 9 quotas, then 49.9 ms: 1.0499 s.
    * four threads, cpus 1.5, 1 s at 0.03 on 8 cores: q = 150 ms, 37.5 ms at 4 cores.
      [0.03, 0.0675) uses it; 5 periods [0.1, 0.6) give 750 ms (900 done); the last 100 ms
      take 25 ms of [0.6, 0.7): done at 0.625 s.
    * a neighbour slows it, 1 core, q = 50 ms, 200 ms at 0, a 100 ms neighbour at 0.02:
      alone to 0.02 (20 done), then half a core each: the 30 ms of quota left last to 0.08
      (50 done; the neighbour 30); throttled, the neighbour alone to 0.1 (50). [0.1, 0.2):
      half each, the quota runs out as the period and the neighbour end (100 done;
      neighbour done at 0.2 s). Alone: [0.2, 0.25) (150), [0.3, 0.35) (200): done at 0.35 s,
      exactly as the quota runs out.
    * a neighbour's end speeds it up: 120 ms at 0 beside a 10 ms neighbour: half a core
      each until the neighbour ends at 0.02 (10 done), then one core: the 40 ms of quota left
      to 0.06 (50 done); [0.1, 0.15) (100), [0.2, 0.22): done at 0.22 s.
    * exactly the quota left: 555 ms on 1 core (7 threads) under cpus 0.5, period 10 ms, at
      0.223: 5 ms in [0.223, 0.228), then 110 quotas of 5 ms, the last in [1.32, 1.325):
      done at 1.325 s as the quota runs out; throttling first would hold its last rounding
      error of work to 1.33 s.
    """
    args, web_end, other_end = CASES[case]
    reference = reference_ends(**args)
    assert_same_ends(reference, (web_end, other_end), rel=1e-12)  # the derivation above
    assert_same_ends(engine_ends(**args), reference, rel=1e-9)


def test_the_issue_case_through_an_experiment_file():
    """The mid-period arrival above as a batch job at 90 ms: 1.04 s, 9 throttled periods of 50 ms."""
    raw = experiment(cpus=0.5, period="100 ms", cpu="0.5 s", threads=1)
    raw["workloads"][0]["at"] = ["90 ms"]
    end_s, web = run(raw)
    assert end_s == pytest.approx(1.04, abs=1e-12)
    assert web["throttled_periods"] == 9
    assert web["throttled_time_s"] == pytest.approx(9 * 0.05, abs=1e-12)


_times = st.integers(0, 500).map(lambda ms: ms / 1000)  # whole milliseconds: exact multiples of quotas are common
_requests = st.tuples(_times, st.integers(1, 600).map(lambda ms: ms / 1000), st.integers(1, 8))


@settings(max_examples=60, deadline=None)
@given(cores=st.sampled_from([1, 2, 4, 8]), cpus=st.sampled_from([0.1, 0.25, 0.5, 1.0, 1.5, 3.0]),
       period_s=st.sampled_from([0.01, 0.05, 0.1, 0.25]), request=_requests,
       neighbour=st.none() | _requests)
def test_random_cases_match_the_reference(cores, cpus, period_s, request, neighbour):
    args = dict(cores=cores, cpus=min(cpus, cores), period_s=period_s, request=request, neighbour=neighbour)
    assert_same_ends(engine_ends(**args), reference_ends(**args), rel=1e-9)


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
