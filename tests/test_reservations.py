"""A VM's ``reservation`` from the experiment file to the CPU it gets.

The case: VMs ``a`` and ``b`` with shares 1:9 on a 2-core host, both CPU-bound
(a 2-thread job each, longer than the run), ``a`` reserving 1.5 cores, 100 s.
By shares alone ``a`` would get 2 × 1/10 = 0.2 cores, 20 s of CPU; the
reservation is served first, so it gets 1.5 cores (150 s) and ``b`` the other
0.5 (50 s). Each way an experiment reaches the engine must keep it: a plain
host, a hypervisor, a VM nested in another, a placement pool, and the resolved
spec as plain data (what sweep workers receive). Containers have no
reservation (``cpu_weight`` and ``cpus`` only), so there is nothing to carry
for them.
"""

from __future__ import annotations

import copy

import pytest

import virtsim
from virtsim.config.loader import dump_resolved
from virtsim.config.spec import ExperimentSpec

EXACT = dict(rel=1e-12, abs=1e-9)


def vms(reservation: float | None = 1.5) -> list[dict]:
    a = {"name": "a", "vcpus": 2, "memory": "1 GiB", "shares": 1000}
    if reservation is not None:
        a["reservation"] = reservation
    return [a, {"name": "b", "vcpus": 2, "memory": "1 GiB", "shares": 9000}]


def busy(name: str, target: str, threads: int = 2) -> dict:
    return {"name": name, "target": target, "type": "batch", "jobs": 1,
            "demand": {"cpu": {"type": "constant", "value": "1000 s"}, "threads": threads}}


def experiment(*, reservation: float | None = 1.5, threads_a: int = 2, **host) -> dict:
    return {"name": "reservation", "duration": "100 s", "cold_start": False,
            "hosts": [{"name": "h", "hardware": {"cores": 2, "memory": "16 GiB"}, "vms": vms(reservation), **host}],
            "workloads": [busy("a", "h/a", threads_a), busy("b", "h/b")]}


def cpu_seconds(results, *paths: str) -> list[float]:
    table = results.consumers.set_index("consumer")["cpu_time_s"]
    return [float(table[p]) for p in paths]


def test_shares_alone_give_the_small_vm_a_tenth():
    """Without the reservation: 2 cores split 1:9, 20 s and 180 s (the figures a lost reservation gives)."""
    results = virtsim.run_experiment(experiment(reservation=None))
    assert cpu_seconds(results, "h/a", "h/b") == pytest.approx([20.0, 180.0], **EXACT)


@pytest.mark.parametrize("layers", [{}, {"hypervisor": "kvm"}], ids=["plain", "kvm"])
def test_the_reservation_is_served_first(layers):
    results = virtsim.run_experiment(experiment(**layers))
    assert cpu_seconds(results, "h/a", "h/b") == pytest.approx([150.0, 50.0], **EXACT)
    assert results.consumers.set_index("consumer").loc["h/a", "steal_time_s"] == pytest.approx(50.0, **EXACT)


def test_a_reservation_above_the_demand_gives_the_demand_and_leaves_the_rest():
    """One thread in ``a`` wants 1 core, under its 1.5 reserved: it gets 1 (100 s), ``b`` the other core."""
    results = virtsim.run_experiment(experiment(threads_a=1))
    assert cpu_seconds(results, "h/a", "h/b") == pytest.approx([100.0, 100.0], **EXACT)


def test_the_reservation_survives_the_resolved_spec_as_plain_data():
    spec = virtsim.load_experiment(experiment())
    assert [vm.reservation_cores for vm in spec.hosts[0].vms] == [1.5, 0.0]
    again = ExperimentSpec.model_validate(copy.deepcopy(dump_resolved(spec)))
    assert cpu_seconds(virtsim.run_spec(again), "h/a", "h/b") == pytest.approx([150.0, 50.0], **EXACT)


def test_a_nested_vm_reserves_within_its_parent():
    """The same two VMs nested in a 2-vCPU L1 VM that has the whole host."""
    raw = experiment(hypervisor="kvm")
    raw["hosts"][0]["vms"] = [{"name": "l1", "vcpus": 2, "memory": "8 GiB", "hypervisor": "kvm", "vms": vms()}]
    raw["workloads"] = [busy("a", "h/l1/a"), busy("b", "h/l1/b")]
    results = virtsim.run_experiment(raw)
    assert cpu_seconds(results, "h/l1/a", "h/l1/b") == pytest.approx([150.0, 50.0], **EXACT)


def test_a_placed_vm_keeps_its_reservation():
    raw = experiment()
    del raw["hosts"][0]["vms"]
    raw["placement"] = {"policy": "first-fit", "cpu_overcommit": 2, "vms": vms()}
    raw["workloads"] = [busy("a", "a"), busy("b", "b")]
    results = virtsim.run_experiment(raw)
    assert cpu_seconds(results, "h/a", "h/b") == pytest.approx([150.0, 50.0], **EXACT)


def test_custom_workloads_get_the_reserved_share_too():
    """Two 2-thread generator jobs of 1000 s, one per VM: the same 150 s and 50 s."""
    raw = experiment()
    raw["hosts"].append({"name": "o", "hardware": {"cores": 1, "memory": "1 GiB"}})
    raw["workloads"] = [{"name": "idle", "target": "o", "type": "batch", "jobs": 1,
                         "demand": {"cpu": {"type": "constant", "value": "1 s"}}}]
    sim = virtsim.Simulation(virtsim.load_experiment(raw))

    def hog(ctx):
        yield ctx.cpu(1000.0, threads=2)

    for target in ("h/a", "h/b"):
        sim.process(hog(sim.context(target)))
    results = virtsim.collect(sim.run())
    assert cpu_seconds(results, "h/a", "h/b") == pytest.approx([150.0, 50.0], **EXACT)
