"""Energy per host is exact for its power model, checked against hand integration.

One native host of 2 cores runs a closed loop of one client whose jobs take
1 s of one core: with no think time the host sits at u = 0.5 throughout; with
1 s of think time it steps between 0.5 and 0 every second. The power formula
lives in one place, the curve of ``virtsim.model.power``: the meters and the
report both take it from the hardware's ``power.curve``.
"""

from __future__ import annotations

import pytest

import virtsim
from virtsim.components.power import EnergyMeter
from virtsim.config.power import LinearPower, TablePower
from virtsim.model.power import LinearCurve, TableCurve

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
    table = TablePower(model="table", watts=TABLE).curve
    assert table.watts(0.0) == 50 and table.watts(1.0) == 100
    assert table.watts(0.25) == pytest.approx(68 + (75 - 68) * 0.5)
    assert table.watts(0.5) == pytest.approx(86)
    assert table.watts(-0.1) == 50 and table.watts(1.5) == 100  # clipped to [0, 1]


def test_the_schema_builds_the_plain_curve():
    assert LinearPower(**LINEAR, off_w=4).curve == LinearCurve(idle_w=50.0, max_w=100.0, off_w=4.0)
    assert TablePower(model="table", watts=TABLE).curve == TableCurve(readings_w=tuple(map(float, TABLE)), off_w=0.0)


STEPS = [(0.5, 1.0), (0.0, 1.0), (0.25, 2.0), (1.0, 0.5)]  # (u, seconds at u)


@pytest.mark.parametrize("curve, by_hand", [
    (LinearCurve(idle_w=50, max_w=100, off_w=4), 75 * 1.0 + 50 * 1.0 + 62.5 * 2.0 + 100 * 0.5),
    (TableCurve(readings_w=tuple(TABLE), off_w=4), 86 * 1.0 + 50 * 1.0 + 71.5 * 2.0 + 100 * 0.5),
])
def test_energy_j_is_the_hand_integral(curve, by_hand):
    assert curve.energy_j(STEPS) == pytest.approx(by_hand, rel=1e-12)
    assert curve.off_energy_j(4.5) == 4 * 4.5  # switched off: off_w for the whole window
    assert curve.energy_j([]) == 0.0


def test_a_linear_curves_energy_follows_from_the_utilization_integral():
    curve = LinearCurve(idle_w=50, max_w=100, off_w=0)
    seconds, utilization_s = sum(dt for _, dt in STEPS), sum(u * dt for u, dt in STEPS)
    assert curve.integral_energy_j(seconds, utilization_s) == pytest.approx(curve.energy_j(STEPS), rel=1e-12)
    assert not curve.metered and TableCurve(readings_w=tuple(TABLE), off_w=0).metered


def test_the_meter_adds_up_exactly_the_curves_energy_j():
    power = TablePower(model="table", watts=TABLE)
    meter = EnergyMeter(power, capacity=4.0, start_s=1.0, allocation=2.0)
    now, steps = 1.0, []
    for allocation, seconds in [(0.0, 0.7), (3.0, 1.3), (4.0, 0.25), (1.0, 2.0)]:
        steps.append((meter.utilization, seconds))
        now += seconds
        meter(now, allocation)
    assert meter.energy_j == power.curve.energy_j(steps)  # bit for bit: the same terms in the same order
    assert meter.energy_at(now + 3.0) == power.curve.energy_j([*steps, (0.25, 3.0)])


class _Doubled:
    """A curve drawing twice what its model says, in every way the simulator can ask."""

    def watts(self, utilization):
        return 2 * super().watts(utilization)

    def integral_energy_j(self, seconds, utilization_s):
        return 2 * super().integral_energy_j(seconds, utilization_s)

    def off_energy_j(self, seconds):
        return 2 * super().off_energy_j(seconds)


class _DoubledLinear(_Doubled, LinearCurve):
    pass


class _DoubledTable(_Doubled, TableCurve):
    pass


@pytest.mark.parametrize("power, by_hand", [
    (LINEAR, 5 * 75.0 + 5 * 50.0),  # the report integrates it
    ({"model": "table", "watts": TABLE}, 5 * 86.0 + 5 * 50.0),  # the meter integrates it
])
def test_meter_and_report_draw_what_the_curve_says(monkeypatch, power, by_hand):
    """A curve that draws double doubles every energy: neither computes a formula of its own."""
    monkeypatch.setattr(LinearPower, "curve", property(
        lambda p: _DoubledLinear(idle_w=p.idle_w, max_w=p.max_w, off_w=p.off_w)))
    monkeypatch.setattr(TablePower, "curve", property(
        lambda p: _DoubledTable(readings_w=tuple(p.watts), off_w=p.off_w)))
    hosts, _ = run(power, think="1 s")
    assert hosts.loc["h1", "energy_j"] == pytest.approx(2 * by_hand, rel=1e-12)
    hosts, _ = run({**power, "off_w": 4}, hosts=2, energy={"switch_off_empty": True})
    assert hosts.loc["h2", "energy_j"] == pytest.approx(2 * 10 * 4.0) and not hosts.loc["h2", "powered_on"]


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
