"""Per-operation costs that depend on the load at their queue: wake-ups and coalesced notifications.

A layer's ``wake_us`` is paid by an operation that finds the thread serving it
idle, and only then; ``coalesce`` lets an operation that arrives within a
window of the previous one at the same queue pay a fraction of the layer's
per-operation CPU (``virtsim.model.costs.LoadDependence``). The tests check
each against what it promises: a single stream pays every wake-up (the
calibration rows stay exact), concurrent streams skip some, and the CPU a
coalescing layer is charged equals what the arrival times say it must, and,
for Poisson arrivals, the closed form c(λ) = c · (b + (1 − b) · exp(−λτ)).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import virtsim
from virtsim.config import load_experiment, load_profile
from virtsim.config.errors import ConfigError
from virtsim.model.costs import US, coalesced_cost_s
from virtsim.workloads.requests import ArrivalClock

KVM = load_profile("hypervisors", "kvm")
RR = {"cpu": "1 ns", "net": {"transactions": 1, "bytes": "200 B", "request_bytes": "100 B"}}
DISK = {"cpu": "1 ns", "disk": {"ops": 1, "bytes": "4 KiB"}}


def experiment(workload: dict, *, hypervisor="kvm", duration_s: float = 0.2, cores: int = 8) -> dict:
    return {"name": "load", "seed": 11, "duration": f"{duration_s} s", "warmup": "0 s", "cold_start": False,
            "hosts": [{"name": "h", "hardware": {"cores": cores, "memory": "64 GiB"}, "hypervisor": hypervisor,
                       "vms": [{"name": "a", "vcpus": 4, "memory": "4 GiB"}]}],
            "workloads": [workload | {"name": "w", "target": "h/a"}]}


def closed(clients: int, demand: dict = RR) -> dict:
    """``clients`` closed-loop streams; a random think time of mean 1 µs keeps identical clients out of lock-step
    (as in virtsim.fidelity.benchmarks), a single stream has none."""
    think = {} if clients == 1 else {"think_time": {"type": "exponential", "mean": "1 us"}}
    return {"type": "closed", "clients": clients, "demand": demand} | think


def poisson(rate_per_s: float, demand: dict = DISK) -> dict:
    return {"type": "open", "arrivals": {"type": "poisson", "rate": f"{rate_per_s:g} /s"}, "demand": demand}


def as_latency(profile: str = "kvm") -> dict:
    """The profile with its wake-up turned into a fixed delay: what the model did before wake-ups."""
    wake = load_profile("hypervisors", profile).net.wake_us
    return {"profile": profile, "net": {"wake_us": 0, "latency_us": wake}}


def done(results):
    return results.jobs[results.jobs["end_s"].notna()]


# --- wake-ups ------------------------------------------------------------------------------------


def test_a_single_stream_pays_every_wake_up_exactly_as_a_fixed_delay():
    """netperf's one stream finds the vhost thread asleep each time: the calibration rows are unchanged."""
    woken = done(virtsim.run_experiment(experiment(closed(1))))
    fixed = done(virtsim.run_experiment(experiment(closed(1), hypervisor=as_latency())))
    assert len(woken) > 1000
    assert woken["response_time_s"].tolist() == fixed["response_time_s"].tolist()
    assert woken["virtualization_s"].tolist() == fixed["virtualization_s"].tolist()


def test_under_many_streams_a_busy_vhost_thread_is_not_woken():
    """With 32 streams the vhost thread is often at work when a transaction arrives: those skip the 20.4 µs."""
    woken = done(virtsim.run_experiment(experiment(closed(32))))
    fixed = done(virtsim.run_experiment(experiment(closed(32), hypervisor=as_latency())))
    wake_s = KVM.net.wake_us * US
    # A job's alone breakdown holds the wake-up it paid: two values, exactly one wake-up apart.
    values = np.unique(woken["virtualization_s"].round(12))
    assert len(values) == 2 and values[1] - values[0] == pytest.approx(wake_s, abs=1e-12)
    skipped = (woken["virtualization_s"] < values[1] - wake_s / 2).mean()
    assert skipped > 0.9  # vhost (8 µs per transaction, one thread) is the bottleneck: nearly always at work
    # The bottleneck decides the throughput either way: one vhost thread, 1 / (its work per transaction).
    per_transaction_s = 2 * KVM.net.host_cpu_per_packet_us * US
    for jobs in (woken, fixed):
        assert len(jobs) / 0.2 == pytest.approx(1.0 / per_transaction_s, rel=0.01)


def test_a_wake_up_is_skipped_only_while_the_thread_has_work():
    """Open Poisson arrivals: the share of transactions that skip the wake-up grows with the load."""
    shares = []
    for rate in (2_000, 20_000, 60_000):
        jobs = done(virtsim.run_experiment(experiment(poisson(rate, RR), duration_s=0.3)))
        top = jobs["virtualization_s"].max()
        shares.append((jobs["virtualization_s"] < top - KVM.net.wake_us * US / 2).mean())
    assert shares[0] < 0.05
    assert shares[0] < shares[1] < shares[2]


# --- coalescing ----------------------------------------------------------------------------------


def coalescing(window_us: float, fraction: float, *, host_cpu_us: float = 18.0) -> dict:
    """KVM with a coalescing disk path and no IOPS ceiling (so that the per-operation CPU is what is charged)."""
    return {"profile": "kvm",
            "disk": {"host_cpu_us": host_cpu_us, "iops_limit": 1e12, "write_iops_limit": 1e12,
                     "coalesce": {"window_us": window_us, "batched_fraction": fraction}}}


def vmm_cpu_per_op_s(results) -> tuple[float, np.ndarray]:
    """(CPU seconds of the VM's I/O thread per completed request, the requests' arrival times)."""
    cpu = results.consumers.set_index("consumer")["cpu_time_s"]["h/a.vmm"]
    return cpu / len(results.jobs), results.jobs["arrival_s"].to_numpy()


@settings(max_examples=12, deadline=None)
@given(window_us=st.sampled_from([5.0, 20.0, 80.0]), fraction=st.sampled_from([0.1, 0.5, 0.9]),
       rate=st.sampled_from([3_000.0, 15_000.0]))
def test_the_io_thread_is_charged_exactly_what_the_arrival_gaps_say(window_us, fraction, rate):
    """Each request whose gap to the previous arrival is below the window pays ``fraction`` of the layer's CPU."""
    results = virtsim.run_experiment(experiment(poisson(rate), hypervisor=coalescing(window_us, fraction),
                                                duration_s=0.1))
    per_op, arrivals = vmm_cpu_per_op_s(results)
    arrivals = np.sort(arrivals)
    batched = np.count_nonzero(np.diff(arrivals) < window_us * US)
    unfinished = results.jobs["end_s"].isna()
    host_s = 18.0 * US  # reference-core seconds, which consumers.csv counts in
    # Charged when the request's CPU phase ran: requests still in it at the end count in part; bound them.
    expected = host_s * (len(arrivals) - (1.0 - fraction) * batched) / len(arrivals)
    slack = host_s * unfinished.sum() / len(arrivals)
    assert expected - slack - 1e-12 <= per_op <= expected + 1e-12


@pytest.mark.parametrize(("window_us", "rate"), [(20.0, 10_000.0), (50.0, 30_000.0)])
def test_poisson_arrivals_meet_the_closed_form(window_us, rate):
    """Mean CPU per operation of a coalescing layer under Poisson arrivals: c · (b + (1 − b) exp(−λτ))."""
    fraction = 0.25
    results = virtsim.run_experiment(experiment(poisson(rate), hypervisor=coalescing(window_us, fraction),
                                                duration_s=2.0))
    per_op, arrivals = vmm_cpu_per_op_s(results)
    theory = coalesced_cost_s(18.0 * US, fraction, window_us * US, rate)
    n = len(arrivals)
    p = math.exp(-rate * window_us * US)
    sigma = 18.0 * US * (1 - fraction) * math.sqrt(p * (1 - p) / n)
    assert abs(per_op - theory) < 4 * sigma + 1e-3 * theory


def test_coalescing_lowers_the_cost_only_under_load():
    one = done(virtsim.run_experiment(experiment(closed(1, DISK), hypervisor=coalescing(20.0, 0.25))))
    plain = done(virtsim.run_experiment(experiment(closed(1, DISK), hypervisor=coalescing(20.0, 1.0))))
    # A single stream's next request comes a device round trip later, beyond the 20 µs window: never batched.
    assert one["response_time_s"].tolist() == plain["response_time_s"].tolist()


def test_the_closed_form_falls_from_the_single_cost_to_the_batched_one():
    assert coalesced_cost_s(10.0, 0.2, 1e-5, 0.0) == 10.0
    assert coalesced_cost_s(10.0, 0.2, 1e-5, 1e9) == pytest.approx(2.0)
    rates = np.geomspace(1.0, 1e7, 50)
    costs = [coalesced_cost_s(10.0, 0.2, 1e-5, r) for r in rates]
    assert all(a >= b for a, b in zip(costs, costs[1:]))


@given(st.lists(st.floats(min_value=0.0, max_value=1e-3), min_size=1, max_size=50),
       st.floats(min_value=1e-7, max_value=1e-4))
def test_an_arrival_is_batched_iff_the_previous_one_is_within_the_window(gaps, window):
    clock = ArrivalClock()
    now = 0.0
    assert clock.arrive(now, window) is False  # the first arrival has nothing to share with
    for gap in gaps:
        previous, now = now, now + gap
        assert clock.arrive(now, window) is (now - previous < window)


# --- schema --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("coalesce", "where", "message"), [
    ({"window_us": 0, "batched_fraction": 0.5}, "coalesce.window_us", "must be a number > 0"),
    ({"window_us": 10, "batched_fraction": 0}, "coalesce.batched_fraction", "must be a number > 0"),
    ({"window_us": 10, "batched_fraction": 1.5}, "coalesce.batched_fraction", "≤ 1"),
    ({"window_us": 10}, "coalesce.batched_fraction", "required"),
    ({"window_us": 10, "batched_fraction": 0.5, "windw": 1}, "coalesce.windw", "unknown key"),
])
def test_bad_coalescing_is_a_located_error(coalesce, where, message):
    with pytest.raises(ConfigError) as info:
        load_experiment(experiment(closed(1), hypervisor={"profile": "kvm", "disk": {"coalesce": coalesce}}))
    problems = {p.path: p.message for p in info.value.problems}
    key = f"hosts[0].hypervisor.disk.{where}"
    assert key in problems, problems
    assert message in problems[key]


def test_a_negative_wake_up_is_a_located_error():
    with pytest.raises(ConfigError) as info:
        load_experiment(experiment(closed(1), hypervisor={"profile": "kvm", "net": {"wake_us": -1}}))
    assert {p.path for p in info.value.problems} == {"hosts[0].hypervisor.net.wake_us"}
