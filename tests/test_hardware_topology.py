"""Processor topology: SMT hardware threads, sockets and remote memory (virtsim.model.cpu_topology).

Checked against the arithmetic of the topology (capacity with n busy threads,
remote share of interleaved memory), against hand-solved fluid schedules, and
against FELTER's RandomAccess rows, whose two-socket run is the NUMA case.
"""

from __future__ import annotations

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

import virtsim
from maxmin_reference import RefActivity, RefNode, solve_tree
from virtsim.config import ConfigError, load_experiment, load_profile
from virtsim.engine import RateResource
from virtsim.fidelity import benchmarks
from virtsim.fidelity.gaps import KNOWN_GAPS
from virtsim.fidelity.published import BY_ID
from virtsim.model.cpu_topology import CpuTopology, remote_share, smt_capacity_cores

EXACT = 1e-9
INF = float("inf")


# --- SMT capacity -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("busy", "capacity"), [(0, 16), (8, 16), (16, 16), (17, 16.3), (24, 18.4), (32, 20.8),
                                               (40, 20.8), (16.5, 16.15)])
def test_threads_beyond_the_cores_add_the_sibling_factor_each(busy, capacity):
    assert smt_capacity_cores(busy, 16, 2, 0.3) == pytest.approx(capacity, rel=1e-12)


def test_without_smt_the_capacity_is_the_cores_whatever_the_threads():
    assert {smt_capacity_cores(n, 16, 1, 0.3) for n in (0, 1, 16, 17, 64)} == {16.0}


@given(cores=st.integers(1, 128), threads_per_core=st.integers(1, 8), factor=st.floats(0.0, 1.0),
       busy=st.floats(0.0, 2048.0), more=st.floats(0.0, 512.0))
def test_smt_capacity_is_bounded_and_monotone_in_busy_threads(cores, threads_per_core, factor, busy, more):
    capacity = smt_capacity_cores(busy, cores, threads_per_core, factor)
    assert cores <= capacity <= cores * (1 + factor * (threads_per_core - 1)) * (1 + 1e-12)
    assert capacity <= cores * (1 + factor) * (1 + 1e-12) or threads_per_core > 2
    assert smt_capacity_cores(busy + more, cores, threads_per_core, factor) >= capacity
    # Never more throughput than the busy threads themselves, beyond the cores' own.
    assert capacity <= max(busy, cores) * (1 + 1e-12)


# --- the engine: a capacity that grows with the demand ---------------------------------------------

def _finish_times(works: list[float], cores: int, gain: float | None) -> list[float]:
    env = simpy.Environment()
    cpu = RateResource(env, float(cores))
    if gain is not None:
        cpu.set_demand_gain(gain, float(cores))  # two threads per core
    done: dict[int, float] = {}
    for i, work in enumerate(works):
        cpu.root.submit(work, max_rate=1.0, on_done=lambda _a, i=i: done.__setitem__(i, env.now))
    env.run()
    return [done[i] for i in range(len(works))]


def test_32_threads_on_16_cores_with_smt_run_at_the_sibling_rate_until_half_of_them_end():
    # 32 busy threads: 16 + 0.3 × 16 = 20.8 cores, 0.65 each. The 16 short ones (1 s of work) end at
    # 1 / 0.65; the others have 1 s left and then run alone at a full core each.
    times = _finish_times([1.0] * 16 + [2.0] * 16, 16, 0.3)
    first = 1.0 / 0.65
    assert times[:16] == pytest.approx([first] * 16, rel=EXACT)
    assert times[16:] == pytest.approx([first + 1.0] * 16, rel=EXACT)


def test_without_a_demand_gain_the_same_threads_share_16_cores():
    times = _finish_times([1.0] * 16 + [2.0] * 16, 16, None)
    assert times[:16] == pytest.approx([2.0] * 16, rel=EXACT)
    assert times[16:] == pytest.approx([3.0] * 16, rel=EXACT)


def test_a_demand_gain_of_zero_changes_nothing():
    assert _finish_times([1.0, 2.0, 3.0] * 7, 4, 0.0) == _finish_times([1.0, 2.0, 3.0] * 7, 4, None)


def test_the_capacity_follows_the_demand_and_its_maximum_is_every_thread_busy():
    env = simpy.Environment()
    cpu = RateResource(env, 4.0)
    cpu.set_demand_gain(0.5, 4.0)
    assert cpu.capacity == 4.0 and cpu.max_capacity == 6.0
    acts = [cpu.root.submit(1.0, max_rate=1.0) for _ in range(6)]
    assert cpu.capacity == pytest.approx(5.0) and acts[0].rate == pytest.approx(5.0 / 6)
    cpu.cancel(acts[0])
    assert cpu.capacity == pytest.approx(4.5)
    with pytest.raises(ValueError, match="gain"):
        cpu.set_demand_gain(1.5, 4.0)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_rates_with_a_demand_gain_match_the_reference_solver_at_the_grown_capacity(data):
    """Random trees and activities: the engine's rates are the reference max-min split of C(demand)."""
    cores = data.draw(st.integers(1, 8), "cores")
    gain = data.draw(st.sampled_from([0.0, 0.3, 1.0]) | st.floats(0.0, 1.0), "gain")
    span = cores * data.draw(st.integers(0, 3), "extra threads per core")
    env = simpy.Environment()
    cpu = RateResource(env, float(cores))
    cpu.set_demand_gain(gain, float(span))
    ref = RefNode("host", cap=float(cores))
    pairs = [(cpu.root, ref)]
    for i in range(data.draw(st.integers(0, 4), "vms")):
        cap = data.draw(st.sampled_from([INF, 1.0, 2.0, 4.0]), "cap")
        weight = data.draw(st.sampled_from([1.0, 2.0, 0.5]), "weight")
        pairs.append((cpu.root.add_child(f"vm{i}", cap=cap, weight=weight),
                      ref.add_child(f"vm{i}", cap=cap, weight=weight)))
    acts = []
    for _ in range(data.draw(st.integers(1, 24), "activities")):
        node, ref_node = pairs[data.draw(st.integers(0, len(pairs) - 1), "where")]
        rate = data.draw(st.sampled_from([1.0, 2.0, 0.5]), "max_rate")
        acts.append((node.submit(100.0, max_rate=rate), ref_node, RefActivity(rate)))
        ref_node.activities.append(acts[-1][2])
    for _ in range(data.draw(st.integers(0, 4), "cancels")):
        act, ref_node, ref_act = acts.pop(data.draw(st.integers(0, len(acts) - 1), "which"))
        cpu.cancel(act)
        ref_node.activities.remove(ref_act)
        if not acts:
            break
    solve_tree(ref)  # the demand first
    ref.cap = cores + gain * min(max(ref.demand - cores, 0.0), span)
    solve_tree(ref)
    assert cpu.capacity == pytest.approx(ref.cap, rel=1e-12)
    for act, _, ref_act in acts:
        assert act.rate == pytest.approx(ref_act.rate, rel=1e-9, abs=1e-12)


# --- a 32-vCPU guest on 16 cores × 2 threads ---------------------------------------------------------

SMT_HOST = {"cores": 16, "threads_per_core": 2, "smt_sibling_factor": 0.3, "memory": "64 GiB"}


def _job_time(host: dict, target: str, threads: int) -> float:
    exp = {"name": "t", "duration": "10 s", "cold_start": False, "hosts": [host],
           "workloads": [{"name": "w", "target": target, "type": "closed", "clients": 1,
                          "demand": {"cpu": f"{threads} s", "threads": threads}}]}
    return float(virtsim.run_experiment(exp).summary.iloc[0]["response_time_mean_s"])


def test_a_32_vcpu_guest_on_16_cores_with_two_threads_each_is_accepted_and_uses_all_threads():
    host = {"name": "h", "hardware": SMT_HOST, "hypervisor": "kvm",
            "vms": [{"name": "vm", "vcpus": 32, "memory": "16 GiB"}]}
    kvm = load_profile("hypervisors", "kvm")
    # 32 reference-core seconds on 20.8 cores' worth, slowed by KVM's user-mode factor.
    assert _job_time(host, "h/vm", 32) == pytest.approx(32 * kvm.cpu.factor / 20.8, rel=1e-9)
    assert _job_time(host, "h/vm", 16) == pytest.approx(16 * kvm.cpu.factor / 16, rel=1e-9)
    native = {"name": "h", "hardware": SMT_HOST}
    assert _job_time(native, "h", 32) == pytest.approx(32 / 20.8, rel=1e-9)


def _problems(exp: dict) -> dict[str, str]:
    with pytest.raises(ConfigError) as info:
        load_experiment(exp)
    return {p.path: p.message for p in info.value.problems}


def _exp(hardware: dict, vms: list[dict], threads: int = 1) -> dict:
    return {"name": "t", "duration": "1 s", "hosts": [{"name": "h", "hardware": hardware, "hypervisor": "kvm",
                                                      "vms": vms}],
            "workloads": [{"name": "w", "target": "h/" + vms[0]["name"], "type": "closed", "clients": 1,
                           "demand": {"cpu": "1 s", "threads": threads}}]}


def test_vcpus_beyond_the_hardware_threads_are_refused_where_they_are_written():
    vm = {"name": "vm", "vcpus": 33, "memory": "1 GiB"}
    got = _problems(_exp(SMT_HOST, [vm]))
    assert "32 hardware threads (16 cores × 2)" in got["hosts[0].vms[0].vcpus"]
    got = _problems(_exp({"cores": 16, "memory": "64 GiB"}, [{**vm, "vcpus": 32}]))
    assert "16 cores" in got["hosts[0].vms[0].vcpus"]


def test_the_felter_server_runs_a_32_vcpu_vm_as_felter_did():
    hw = load_profile("hardware", "felter-x3650m4")
    assert (hw.cores, hw.threads_per_core, hw.sockets) == (16, 2, 2)
    assert benchmarks.TESTBEDS["felter"].vcpus == 32
    load_experiment(_exp("felter-x3650m4", [{"name": "vm", "vcpus": 32, "memory": "64 GiB"}], threads=32))


# --- NUMA -------------------------------------------------------------------------------------------

def test_interleaved_memory_on_s_sockets_is_remote_for_all_but_one_in_s():
    assert [remote_share(s) for s in (1, 2, 4)] == [0.0, 0.5, 0.75]
    assert remote_share(2, "local") == 0.0
    topology = CpuTopology(cores=16, sockets=2, threads_per_core=2, remote_memory_factor=3.0)
    assert [topology.sockets_for(t) for t in (1, 16, 17, 32, 64)] == [1, 1, 2, 2, 2]
    assert topology.remote_extra(2) == pytest.approx(1.0) and topology.remote_extra(1) == 0.0


NUMA_HOST = {"cores": 16, "sockets": 2, "remote_memory_factor": 3.0, "memory": "64 GiB"}


def _numa_time(host: dict, target: str, threads: int, locality: str = "interleaved", m: float = 0.5) -> float:
    exp = {"name": "t", "duration": "10 s", "cold_start": False, "hosts": [host],
           "workloads": [{"name": "w", "target": target, "type": "closed", "clients": 1,
                          "demand": {"cpu": f"{threads} s", "threads": threads, "mem_fraction": m,
                                     "mem_locality": locality}}]}
    return float(virtsim.run_experiment(exp).summary.iloc[0]["response_time_mean_s"])


def test_a_job_spanning_both_sockets_pays_the_remote_factor_on_half_its_memory_intensive_part():
    host = {"name": "h", "hardware": NUMA_HOST}
    # 16 threads need both sockets: (1 - m) + m × (1 + (3 - 1) / 2) = 0.5 + 1.0 = 1.5 × its local time.
    assert _numa_time(host, "h", 16) == pytest.approx(1.5, rel=1e-9)
    assert _numa_time(host, "h", 8) == pytest.approx(1.0, rel=1e-9)  # one socket holds 8 threads
    assert _numa_time(host, "h", 16, "local") == pytest.approx(1.0, rel=1e-9)
    assert _numa_time(host, "h", 16, m=0.0) == pytest.approx(1.0, rel=1e-9)


def test_a_vm_spans_the_sockets_of_its_vcpus_unless_pinned_and_its_guest_memory_follows():
    kvm = load_profile("hypervisors", "kvm").cpu
    local = 0.5 * kvm.factor + 0.5 * kvm.memory_factor
    spanning = 0.5 * kvm.factor + 0.5 * (kvm.memory_factor + 1.0)  # additive: the page walk, then the QPI hop

    def host(vm: dict) -> dict:
        return {"name": "h", "hardware": NUMA_HOST, "hypervisor": "kvm", "vms": [vm]}

    small = {"name": "vm", "vcpus": 8, "memory": "4 GiB"}
    assert _numa_time(host(small), "h/vm", 8) == pytest.approx(local, rel=1e-9)
    assert _numa_time(host({**small, "sockets": 2}), "h/vm", 8) == pytest.approx(spanning, rel=1e-9)
    assert _numa_time(host({**small, "vcpus": 16}), "h/vm", 16) == pytest.approx(spanning, rel=1e-9)


def test_defaults_leave_a_single_socket_host_as_it_was():
    host = {"name": "h", "hardware": {"cores": 16, "memory": "64 GiB"}}
    assert _numa_time(host, "h", 16) == pytest.approx(1.0, rel=1e-12)
    spec = load_experiment({"name": "t", "duration": "1 s", "hosts": [host]}).hosts[0].hardware
    dumped = spec.model_dump()
    assert not {"sockets", "threads_per_core", "smt_sibling_factor", "remote_memory_factor"} & set(dumped)


def test_socket_problems_are_located_with_what_would_be_valid():
    vm = {"name": "vm", "vcpus": 8, "memory": "1 GiB"}
    got = _problems(_exp({**NUMA_HOST, "sockets": 3}, [vm]))
    assert "give a divisor of cores" in got["hosts[0].hardware.sockets"]
    got = _problems(_exp(NUMA_HOST, [{**vm, "sockets": 3}]))
    assert "host 'h' has 2" in got["hosts[0].vms[0].sockets"]
    got = _problems(_exp(NUMA_HOST, [{**vm, "vcpus": 12, "sockets": 1}]))
    assert "fewer than the VM's 12 vCPUs" in got["hosts[0].vms[0].sockets"]
    got = _problems(_exp(NUMA_HOST, [{**vm, "sokets": 1}]))
    assert "sockets" in next(iter(got.values()))


# --- the published rows -----------------------------------------------------------------------------

def test_two_socket_randomaccess_under_kvm_follows_the_additive_numa_cost_and_passes():
    hw = load_profile("hardware", "felter-x3650m4")
    kvm = load_profile("hypervisors", "kvm").cpu
    remote = (hw.remote_memory_factor - 1) / 2  # 32 threads span both sockets, the table interleaved
    theory = (1 + remote) / (kvm.memory_factor + remote)
    run = benchmarks.Runner()
    simulated = benchmarks.simulate("felter-ra2s-kvm", run)
    assert simulated == pytest.approx(theory, rel=1e-9)
    row = BY_ID["felter-ra2s-kvm"]
    assert abs(simulated / row.value - 1) <= row.tolerance
    assert "felter-ra2s-kvm" not in KNOWN_GAPS
    # Single socket: no remote accesses, the nested-paging loss alone (what memory_factor was fitted on).
    single = benchmarks.simulate("felter-ra1s-kvm", run)
    assert single == pytest.approx(1 / kvm.memory_factor, rel=1e-9)
    assert abs(single / BY_ID["felter-ra1s-kvm"].value - 1) <= BY_ID["felter-ra1s-kvm"].tolerance


def test_the_remote_factor_reproduces_the_native_two_socket_slowdown_it_was_derived_from():
    hw = load_profile("hardware", "felter-x3650m4")
    # Table I 0.0126 GUPS on two sockets, FELTER-DATA 0.04579 on one.
    assert 1 + (hw.remote_memory_factor - 1) / 2 == pytest.approx(0.04579 / 0.0126, rel=2e-3)


def test_placement_counts_hardware_threads_and_respects_a_vms_sockets():
    hosts = [{"name": f"h{k}", "hardware": {**SMT_HOST, "sockets": 2}, "hypervisor": "kvm"} for k in (1, 2)]
    exp = {"name": "t", "duration": "1 s", "hosts": hosts,
           "placement": {"policy": "first-fit", "cpu_overcommit": 1.0,
                         "vms": [{"name": "a", "vcpus": 32, "memory": "1 GiB"},
                                 {"name": "b", "vcpus": 16, "memory": "1 GiB", "sockets": 1},
                                 {"name": "c", "vcpus": 17, "memory": "1 GiB", "sockets": 1}]}}
    spec = load_experiment(exp)
    placement = spec.placement
    assert placement.placed == {"a": "h1", "b": "h2"}  # 32 hardware threads a host
    [refused] = placement.unplaced
    assert refused.name == "c" and "pinned to 1" in refused.reason
    assert {room.cpu_capacity_cores for room in placement.rooms} == {32.0}
