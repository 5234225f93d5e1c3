"""Guest kernel-mode work: ``demand.kernel_fraction`` slowed by the hypervisors' ``cpu.kernel_factor``.

The requester's CPU is ``cpu × ((1 − m − k) × factor + m × memory_factor + k × kernel_factor)``;
the kernel factor folds along the path like the other factors (they multiply).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import virtsim
from virtsim.components.stack import compose_costs
from virtsim.config import ConfigError, load_experiment, load_profile
from virtsim.config.catalog import catalog_names
from virtsim.model import costs

HARDWARE = {"cores": 4, "memory": "8 GiB"}


def _layer(name: str, factor: float, memory: float, kernel: float) -> costs.LayerCost:
    return costs.LayerCost(name, costs.CpuFactors(factor, memory, kernel), None, None, None)


@given(st.lists(st.tuples(st.floats(1.0, 3.0), st.floats(1.0, 3.0), st.floats(1.0, 3.0)), max_size=4))
def test_kernel_factors_multiply_along_the_path_like_the_other_factors(factors):
    layers = [(_layer(f"l{i}", *f), f"h/l{i}") for i, f in enumerate(factors)]
    path = compose_costs(layers, None)
    expected = [1.0, 1.0, 1.0]
    for f in factors:  # in path order: the order of the floating-point products is the result's
        expected = [expected[j] * f[j] for j in range(3)]
    assert (path.cpu_factor, path.memory_factor, path.kernel_factor) == tuple(expected)


def test_a_layer_without_cpu_factors_leaves_the_kernel_factor_alone():
    path = compose_costs([(_layer("a", 1.0, 1.0, 1.26), "h/a"),
                          (costs.LayerCost("mode", None, None, None, None), "h/a")], None)
    assert path.kernel_factor == 1.26


def test_every_hypervisor_profile_has_a_sourced_kernel_factor_and_todays_are_hardware_assisted():
    for name in catalog_names("hypervisors"):
        profile = load_profile("hypervisors", name)
        assert profile.cpu.kernel_factor == 1.0, name
        assert "cpu.kernel_factor" in profile.source, name
    text = load_profile("hypervisors", "vmware-workstation").source["cpu.kernel_factor"]
    assert "1.26" in text and "§3.2" in text  # the pre-VT bound a 2003 version can take


def _job_time(hypervisor, demand: dict) -> float:
    exp = {"name": "t", "duration": "10 s", "cold_start": False,
           "hosts": [{"name": "h", "hardware": HARDWARE, "hypervisor": hypervisor,
                      "vms": [{"name": "vm", "vcpus": 1, "memory": "1 GiB"}]}],
           "workloads": [{"name": "w", "target": "h/vm", "type": "closed", "clients": 1,
                          "demand": {"cpu": "1 s", **demand}}]}
    return float(virtsim.run_experiment(exp).summary.iloc[0]["response_time_mean_s"])


@pytest.mark.parametrize(("m", "k"), [(0.0, 0.5), (0.3, 0.4), (0.5, 0.5), (0.0, 1.0)])
def test_the_requesters_cpu_is_split_into_user_memory_and_kernel_parts(m, k):
    kernel_factor = 1.26
    hypervisor = {"profile": "kvm", "cpu": {"kernel_factor": kernel_factor}}
    kvm = load_profile("hypervisors", "kvm").cpu
    expected = (1 - m - k) * kvm.factor + m * kvm.memory_factor + k * kernel_factor
    assert _job_time(hypervisor, {"mem_fraction": m, "kernel_fraction": k}) == pytest.approx(expected, rel=1e-12)


def test_under_hardware_assist_kernel_work_runs_at_native_speed():
    kvm = load_profile("hypervisors", "kvm").cpu
    assert _job_time("kvm", {"kernel_fraction": 0.4}) == pytest.approx(0.6 * kvm.factor + 0.4, rel=1e-12)


def test_no_kernel_fraction_is_the_previous_model_bit_for_bit():
    assert _job_time("kvm", {"mem_fraction": 0.3}) == _job_time("kvm", {"mem_fraction": 0.3, "kernel_fraction": 0})


def _problems(demand: dict) -> dict[str, str]:
    exp = {"name": "t", "duration": "1 s", "hosts": [{"name": "h", "hardware": HARDWARE}],
           "workloads": [{"name": "w", "target": "h", "type": "closed", "clients": 1,
                          "demand": {"cpu": "1 s", **demand}}]}
    with pytest.raises(ConfigError) as info:
        load_experiment(exp)
    return {p.path: p.message for p in info.value.problems}


def test_fractions_adding_up_to_more_than_the_work_are_refused_where_they_are_written():
    got = _problems({"mem_fraction": 0.7, "kernel_fraction": 0.5})
    assert list(got) == ["workloads[0].demand"]
    assert "mem_fraction (0.7) and kernel_fraction (0.5)" in got["workloads[0].demand"]
    assert "at most 1" in got["workloads[0].demand"]


def test_a_kernel_fraction_out_of_range_or_misspelt_is_located():
    assert "workloads[0].demand.kernel_fraction" in _problems({"kernel_fraction": 1.5})
    assert "did you mean 'kernel_fraction'" in _problems({"kernel_fractoin": 0.2})["workloads[0].demand.kernel_fractoin"]
    assert "workloads[0].demand.mem_locality" in _problems({"mem_locality": "remote"})


def test_a_kernel_factor_below_one_is_refused_in_a_hypervisor_override():
    exp = {"name": "t", "duration": "1 s",
           "hosts": [{"name": "h", "hardware": HARDWARE, "hypervisor": {"profile": "kvm", "cpu": {"kernel_factor": 0.5}},
                      "vms": [{"name": "vm", "vcpus": 1, "memory": "1 GiB"}]}]}
    with pytest.raises(ConfigError) as info:
        load_experiment(exp)
    assert any("kernel_factor" in p.path or "kernel_factor" in p.message for p in info.value.problems)


def test_a_custom_request_takes_the_same_kernel_fraction_and_checks_it():
    from virtsim.workloads import library

    exp = {"name": "t", "duration": "5 s", "cold_start": False,
           "hosts": [{"name": "h", "hardware": HARDWARE, "hypervisor": {"profile": "kvm", "cpu": {"kernel_factor": 1.5}},
                      "vms": [{"name": "vm", "vcpus": 1, "memory": "1 GiB"}]}]}
    sim = virtsim.Simulation(load_experiment(exp))
    ctx = sim.context("h/vm")

    def job(ctx):
        yield ctx.request(cpu="1 s", kernel_fraction=0.5)

    sim.process(library.closed_loop(ctx, 1, 0.0, job))
    results = virtsim.collect(sim.run())
    kvm = load_profile("hypervisors", "kvm").cpu
    done = results.jobs.dropna(subset=["end_s"])
    assert done["response_time_s"].iloc[0] == pytest.approx(0.5 * kvm.factor + 0.5 * 1.5, rel=1e-12)
    with pytest.raises(ValueError, match="add up to more than 1"):
        next(iter(job_with(ctx, mem_fraction=0.6, kernel_fraction=0.6)))
    with pytest.raises(ValueError, match="mem_locality"):
        next(iter(job_with(ctx, mem_locality="remote")))


def job_with(ctx, **demand):
    yield ctx.request(cpu="1 ms", **demand)
