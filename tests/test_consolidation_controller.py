"""The consolidation controller (``components.consolidation``) and CloudSim's metrics
(``analysis.cloudsim_metrics``): an overloaded host sheds the VM MMT picks to the host PABFD picks, an
underloaded host is evacuated and switched off, SLATAH and PDM by hand, determinism, bad input located."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from virtsim.analysis.cloudsim_metrics import pdm, slatah
from virtsim.components.consolidation import HostInterval, MigrationWindow
from virtsim.config import ConfigError
from virtsim.config.loader import load_experiment
from virtsim.experiment.results import collect
from virtsim.experiment.simulation import Simulation

GIB = 2**30


def _vm(name, vcpus, memory="2 GiB"):
    return {"name": name, "vcpus": vcpus, "memory": memory, "os": "linux-server"}


def _open(name, target, rate):
    return {"name": name, "target": target, "type": "open", "arrivals": {"type": "poisson", "rate": rate},
            "demand": {"cpu": {"type": "exponential", "mean": "100 ms"}}}


def _experiment(hosts, workloads, consolidation, duration="700 s"):
    return {"name": "cons", "seed": 3, "duration": duration, "cold_start": False,
            "hosts": [{"name": name, "hardware": "server-2s-32c", "hypervisor": "kvm", "vms": vms}
                      for name, vms in hosts],
            "workloads": workloads, "consolidation": consolidation}


def _run(raw):
    sim = Simulation(load_experiment(copy.deepcopy(raw))).run()
    return sim, collect(sim)


def _overloaded():
    # h1: 16 + 8 + 4 busy cores demanded of 32 (0.875 > 0.8); h2 lightly loaded, h3 empty.
    return _experiment([("h1", [_vm("a", 16, "4 GiB"), _vm("b", 8, "3 GiB"), _vm("c", 4, "1 GiB")]),
                        ("h2", [_vm("d", 4)]), ("h3", [])],
                       [_open("wa", "h1/a", 150), _open("wb", "h1/b", 75), _open("wc", "h1/c", 35),
                        _open("wd", "h2/d", 5)],
                       {"detector": {"method": "thr", "threshold": 0.8}, "underload": False,
                        "switch_off": False})


def test_an_overloaded_host_sheds_the_vm_mmt_picks_to_the_host_pabfd_picks():
    sim, results = _run(_overloaded())
    first = results.migrations.sort_values("start_s").iloc[0]
    assert first["reason"] == "overload" and first["source"] == "h1" and first["start_s"] == 300.0
    # MMT: the least RAM, so the shortest migration: 'c' (1 GiB).
    assert first["vm"] == "h1/c"
    # PABFD by hand: the host whose power rises least with c's demand of the first interval.
    c = sim.consolidation
    demand = {vm: d / (e - s) for vm, host, s, e, d, _a in c.vm_intervals if s == 0.0}
    busy = {i.host: i.busy_core_s / (i.end_s - i.start_s) for i in c.intervals if i.start_s == 0.0}
    curve = sim.spec.hosts[0].hardware.power.curve
    cores = sim.spec.hosts[0].hardware.cores
    vm_load = {"h2": demand["h2/d"], "h3": 0.0}
    rise = {h: curve.watts((vm_load[h] + demand["h1/c"]) / cores) - curve.watts(vm_load[h] / cores)
            for h in ("h2", "h3")}
    assert busy["h1"] / cores > 0.8
    assert first["destination"] == min(rise, key=lambda h: (rise[h], h))
    row = results.consolidation.iloc[0]
    assert row["migrations"] >= 1 and row["host_shutdowns"] == 0


def test_underload_evacuation_empties_and_switches_off_a_host():
    raw = _experiment([("h1", [_vm("a", 2)]), ("h2", [_vm("b", 8)])],
                      [_open("wa", "h1/a", 2), _open("wb", "h2/b", 40)],
                      {"detector": {"method": "thr", "threshold": 0.8}})
    sim, results = _run(raw)
    moves = results.migrations
    assert list(moves["reason"]) == ["underload"]
    assert (moves.iloc[0]["vm"], moves.iloc[0]["source"], moves.iloc[0]["destination"]) == ("h1/a", "h1", "h2")
    assert sim.migrations.host_of["h1/a"] == "h2"
    after = [i for i in sim.consolidation.intervals if i.host == "h1" and i.start_s >= moves.iloc[0]["end_s"]]
    assert after and all(i.state == "off" for i in after)
    curve = sim.spec.hosts[0].hardware.power.curve
    assert all(i.energy_j == pytest.approx(curve.off_w * (i.end_s - i.start_s)) for i in after)
    row = results.consolidation.iloc[0]
    assert row["host_shutdowns"] == 1 and row["migrations_underload"] == 1


def test_slatah_by_hand():
    rows = [HostInterval("h1", 0, 300, "on", 0.0, 10.0, 30.0), HostInterval("h1", 300, 600, "on", 0.0, 5.0, 0.0),
            HostInterval("h2", 0, 300, "on", 0.0, 1.0, 60.0), HostInterval("h2", 300, 600, "off", 0.0, 0.0, 0.0),
            HostInterval("h3", 0, 600, "on", 0.0, 0.0, 0.0)]  # idle: not active
    assert slatah(rows) == pytest.approx((30 + 60) / (300 + 300 + 300))


def test_pdm_by_hand():
    windows = [MigrationWindow("a", 10, 0, 0, 20, demand=8.0, alloc=6.0),
               MigrationWindow("a", 50, 0, 0, 60, demand=4.0, alloc=4.0),
               MigrationWindow("b", 10, 0, 0, 20, demand=6.0, alloc=3.0)]
    # speeds 2 (a) and 1 (b): a lost 1 core-s of 100, b 3 of 30, c nothing of 50; the mean of the three.
    got = pdm(windows, {"a": 100.0, "b": 30.0, "c": 50.0, "idle": 0.0}, {"a": 2.0, "b": 1.0})
    assert got == pytest.approx((0.01 + 0.1 + 0.0) / 3)


def test_the_controller_is_deterministic():
    _, one = _run(_overloaded())
    _, two = _run(_overloaded())
    assert one.consolidation.equals(two.consolidation)
    assert one.migrations.equals(two.migrations)


def test_without_the_section_nothing_is_consolidated():
    raw = _overloaded()
    del raw["consolidation"]
    sim, results = _run(raw)
    assert sim.consolidation is None and results.consolidation is None and results.migrations is None


@pytest.mark.parametrize("section, where, says", [
    ({"detector": {"method": "madd"}}, "consolidation.detector.method", "did you mean 'mad'"),
    ({"detector": {"method": "mad", "threshold": 0.5}}, "consolidation.detector", "does not apply"),
    ({"selection": "mtt"}, "consolidation.selection", "did you mean 'mmt'"),
    ({"placement": "ffd"}, "consolidation.placement", "'pabfd'"),
    ({"intervall": "10 s"}, "consolidation.intervall", "did you mean 'interval'"),
    ({"interval": "800 s"}, "consolidation.interval", "never run"),
])
def test_bad_input_is_located(section, where, says):
    raw = _overloaded()
    raw["consolidation"] = section
    with pytest.raises(ConfigError) as err:
        load_experiment(raw)
    text = str(err.value)
    assert f"{where}:" in text and says in text


def test_a_host_without_a_hypervisor_is_located():
    raw = _overloaded()
    raw["hosts"][2] = {"name": "h3", "hardware": "server-2s-32c"}
    with pytest.raises(ConfigError) as err:
        load_experiment(raw)
    assert "hosts[2]:" in str(err.value) and "no hypervisor" in str(err.value)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["on", "off", "booting"]), st.floats(0, 50), st.floats(0, 1)),
                min_size=1, max_size=20))
def test_slatah_is_a_fraction_of_the_active_time(rows):
    intervals = [HostInterval("h", 10.0 * k, 10.0 * (k + 1), state, 0.0, busy, 10.0 * share)
                 for k, (state, busy, share) in enumerate(rows)]
    got = slatah(intervals)
    if any(i.state == "on" and i.busy_core_s > 0 for i in intervals):
        assert 0.0 <= got <= 1.0
    else:
        assert got != got  # NaN: no active time


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 10), st.floats(0, 1)), min_size=1, max_size=10))
def test_pdm_is_between_0_and_1_when_the_windows_are_within_the_demand(windows):
    recs = [MigrationWindow("a", 0, 0, 0, 1, demand=d, alloc=d * share) for d, share in windows]
    total = sum(d for d, _ in windows) + 1.0
    got = pdm(recs, {"a": total}, {"a": 1.0})
    assert 0.0 <= got <= 1.0
