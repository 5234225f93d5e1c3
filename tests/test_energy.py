"""Energy per host is exact for its power model, checked against hand integration.

One native host of 2 cores runs a closed loop of one client whose jobs take
1 s of one core: with no think time the host sits at u = 0.5 throughout; with
1 s of think time it steps between 0.5 and 0 every second.
"""

from __future__ import annotations

import pytest

import virtsim
from virtsim.config.power import TablePower, power_w

TABLE = [50, 60, 68, 75, 81, 86, 90, 94, 97, 99, 100]  # concave, as SPECpower curves are
LINEAR = {"model": "linear", "idle_w": 50, "max_w": 100}


def run(power: dict, *, think: str = "0 s", energy: dict | None = None, hosts: int = 1, duration: float = 10.0,
        h2: dict | None = None):
    raw = {
        "name": "energy", "duration": f"{duration} s", "cold_start": False,
        "hosts": [{"name": f"h{n}", "hardware": {"cores": 2, "memory": "4 GiB", "power": power}}
                  for n in range(1, hosts + 1)],
        "workloads": [{"name": "one", "target": "h1", "type": "closed", "clients": 1, "think_time": think,
                       "demand": {"cpu": "1 s"}}],
    }
    if energy is not None:
        raw["energy"] = energy
    if h2 is not None:
        raw["hosts"][1]["hardware"].update(h2)
    results = virtsim.run_spec(virtsim.load_experiment(raw))
    return results.consumers.set_index("consumer"), results.summary.iloc[0]


def test_the_table_interpolates_linearly_between_its_points():
    table = TablePower(model="table", watts=TABLE)
    assert power_w(table, 0.0) == 50 and power_w(table, 1.0) == 100
    assert power_w(table, 0.25) == pytest.approx(68 + (75 - 68) * 0.5)
    assert power_w(table, 0.5) == pytest.approx(86)


@pytest.mark.parametrize("power, watts_at_half", [(LINEAR, 75.0), ({"model": "table", "watts": TABLE}, 86.0)])
def test_constant_load(power, watts_at_half):
    hosts, summary = run(power)
    assert hosts.loc["h1", "cpu_utilization"] == pytest.approx(0.5)
    assert hosts.loc["h1", "energy_j"] == pytest.approx(10 * watts_at_half, rel=1e-12)
    assert hosts.loc["h1", "power_w"] == pytest.approx(watts_at_half, rel=1e-12)
    assert summary["energy_j"] == pytest.approx(10 * watts_at_half, rel=1e-12)


@pytest.mark.parametrize("power, by_hand", [
    (LINEAR, 5 * 75.0 + 5 * 50.0),
    ({"model": "table", "watts": TABLE}, 5 * 86.0 + 5 * 50.0),
])
def test_step_load(power, by_hand):
    hosts, _ = run(power, think="1 s")
    assert hosts.loc["h1", "cpu_utilization"] == pytest.approx(0.25)
    assert hosts.loc["h1", "energy_j"] == pytest.approx(by_hand, rel=1e-12)


def test_a_linear_table_gives_what_the_linear_model_gives():
    straight = {"model": "table", "watts": [50 + 5 * k for k in range(11)]}
    assert run(straight, think="1 s")[0].loc["h1", "energy_j"] == pytest.approx(
        run(LINEAR, think="1 s")[0].loc["h1", "energy_j"], rel=1e-12)


def test_an_empty_host_idles_unless_switched_off():
    hosts, summary = run(LINEAR, hosts=2)
    assert hosts.loc["h2", "energy_j"] == pytest.approx(10 * 50.0) and hosts.loc["h2", "powered_on"]
    assert summary["hosts_powered_on"] == 2
    hosts, summary = run({**LINEAR, "off_w": 4}, hosts=2, energy={"switch_off_empty": True})
    assert hosts.loc["h2", "energy_j"] == pytest.approx(10 * 4.0) and not hosts.loc["h2", "powered_on"]
    assert hosts.loc["h1", "powered_on"]  # a workload aims at it: not empty
    assert summary["hosts_powered_on"] == 1
    assert summary["energy_j"] == pytest.approx(10 * 75.0 + 10 * 4.0)


def test_cost_counts_powered_on_host_hours():
    hosts, summary = run(LINEAR, hosts=2, energy={"switch_off_empty": True, "cost_per_host_hour": 3.6})
    assert hosts.loc["h1", "cost"] == pytest.approx(3.6 * 10 / 3600)
    assert hosts.loc["h2", "cost"] == 0
    assert summary["cost"] == pytest.approx(3.6 * 10 / 3600)


def test_a_hosts_own_price_overrides_the_experiments():
    raw_energy = {"cost_per_host_hour": 3.6}
    hosts, summary = run(LINEAR, hosts=2, energy=raw_energy, h2={"cost_per_hour": 7.2})
    assert hosts.loc["h1", "cost"] == pytest.approx(3.6 * 10 / 3600)
    assert hosts.loc["h2", "cost"] == pytest.approx(7.2 * 10 / 3600)
    assert summary["cost"] == pytest.approx(10.8 * 10 / 3600)


def test_without_a_power_model_energy_is_unknown():
    hosts, summary = run(None)
    assert hosts["energy_j"].isna().all() and summary["energy_j"] != summary["energy_j"]


def test_a_linear_model_with_max_below_idle_is_refused():
    with pytest.raises(virtsim.ConfigError, match="max_w"):
        run({"model": "linear", "idle_w": 100, "max_w": 50})
