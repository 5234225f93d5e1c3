"""Output a reader can trust: placement studies, unstable queues, theory beside simulation,
currency and utilization, and ``run --set``.
"""

from __future__ import annotations

import io
import math

import pandas as pd
import pytest
import yaml
from test_cli import invoke

import virtsim
from virtsim.analysis import confidence_interval
from virtsim.config.catalog import catalog_names, load_catalog_entry


# --- placement ------------------------------------------------------------------------------------

PACKING = """\
name: pack
seed: 1
duration: 10 s
cold_start: false
hosts:
  - {name: node, count: 2, hardware: {cores: 4, memory: 8 GiB, power: {model: linear, idle_w: 50, max_w: 100}}}
placement:
  policy: first-fit
  vms:
    - {name: a, vcpus: 3, memory: 2 GiB}
    - {name: b, vcpus: 3, memory: 2 GiB}
    - {name: c, vcpus: 3, memory: 2 GiB}
energy: {switch_off_empty: true, cost_per_host_hour: 0.1}
workloads: []
"""
PACKING_SWEEP = PACKING + "sweep:\n  placement.policy: [first-fit, spread]\n"


def test_a_sweep_of_placements_writes_placement_and_unplaced_per_point(tmp_path):
    (tmp_path / "pack.yaml").write_text(PACKING_SWEEP, encoding="utf-8")
    out = tmp_path / "out"
    result = invoke("run", str(tmp_path / "pack.yaml"), "-o", str(out), "--no-progress")
    assert result.exit_code == 0, result.output
    assert (out / "placement.csv").is_file() and (out / "unplaced.csv").is_file()
    read = virtsim.read_results(out)
    assert list(read.unplaced[["scenario", "placement.policy", "name"]].itertuples(index=False, name=None)) == [
        (0, "first-fit", "c"), (1, "spread", "c")]
    assert len(read.placement) == 4 and set(read.placement["host"]) == {"node-1", "node-2"}
    # The console speaks of hosts and energy, not of a throughput no job made.
    assert "hosts used" in result.stdout and "energy J" in result.stdout
    assert "throughput" not in result.stdout


def test_a_sweep_without_placement_has_no_placement_tables(tmp_path):
    (tmp_path / "s.yaml").write_text(PACKING_SWEEP.replace("placement.policy: [first-fit, spread]",
                                                           "duration: [10 s, 20 s]"), encoding="utf-8")
    raw = yaml.safe_load((tmp_path / "s.yaml").read_text())
    del raw["placement"]
    raw["hosts"][0]["vms"] = [{"name": "a", "vcpus": 1, "memory": "1 GiB"}]
    raw["workloads"] = [{"name": "w", "target": "node-1/a", "type": "closed", "clients": 1, "demand": {"cpu": "1 s"}}]
    run = virtsim.run_sweep(virtsim.load_sweep(raw, base_dir=tmp_path), tmp_path / "out")
    assert run.results.placement is None and not (tmp_path / "out" / "placement.csv").exists()


def test_a_placement_run_prints_hosts_used_fragmentation_and_energy_not_throughput(tmp_path):
    (tmp_path / "pack.yaml").write_text(PACKING, encoding="utf-8")
    result = invoke("run", str(tmp_path / "pack.yaml"))
    assert result.exit_code == 0, result.output
    assert "hosts used               2" in result.stdout
    assert "CPU fragmentation        25.0%" in result.stdout
    assert "energy" in result.stdout and "cost                     0.0005556 USD" in result.stdout
    assert "throughput" not in result.stdout and "response time" not in result.stdout


def test_validate_warns_on_stderr_about_items_that_cannot_be_placed(tmp_path):
    (tmp_path / "pack.yaml").write_text(PACKING_SWEEP, encoding="utf-8")
    result = invoke("validate", str(tmp_path / "pack.yaml"))
    assert result.exit_code == 0
    assert "warning: scenario 0: 1 item(s) cannot be placed (c)" in result.stderr
    assert "warning: scenario 1: 1 item(s) cannot be placed (c)" in result.stderr
    fits = PACKING.replace("    - {name: c, vcpus: 3, memory: 2 GiB}\n", "")
    (tmp_path / "fits.yaml").write_text(fits, encoding="utf-8")
    assert "warning" not in invoke("validate", str(tmp_path / "fits.yaml")).stderr


# --- stability ------------------------------------------------------------------------------------

def mm1(rate: str, duration: str = "4000 s") -> dict:
    return {"name": "mm1", "seed": 4, "duration": duration, "warmup": "400 s",
            "hosts": [{"name": "server", "hardware": {"cores": 1, "core_speed": 1.0, "memory": "4 GiB"}}],
            "workloads": [{"name": "requests", "target": "server", "type": "open",
                           "arrivals": {"type": "poisson", "rate": rate},
                           "demand": {"cpu": {"type": "exponential", "mean": "1 s"}}}]}


def test_an_mm1_at_rho_1_2_is_reported_unstable_in_the_tables_and_on_the_console(tmp_path):
    results = virtsim.run_experiment(mm1("1.2 /s"))
    workload = results.workloads.iloc[0]
    assert not workload["stable"] and not results.summary.loc[0, "stable"]
    assert workload["offered_load"] == pytest.approx(1.2, rel=0.05)
    assert "CPU load 1.2" in workload["stability_note"]
    assert "more jobs in the system at the end" in workload["stability_note"]
    assert results.summary.loc[0, "stability_note"].startswith("requests: ")
    (tmp_path / "unstable.yaml").write_text(yaml.safe_dump(mm1("1.2 /s")), encoding="utf-8")
    result = invoke("run", str(tmp_path / "unstable.yaml"), "-o", str(tmp_path / "out"))
    assert result.exit_code == 0 and "UNSTABLE" in result.stdout
    assert virtsim.read_results(tmp_path / "out").summary.loc[0, "stable"] == False  # noqa: E712 (numpy bool)


def test_an_mm1_at_rho_0_8_is_stable_and_at_rho_1_is_not():
    stable = virtsim.run_experiment(mm1("0.8 /s"))
    assert stable.summary.loc[0, "stable"] and stable.workloads.loc[0, "stability_note"] == "ok"
    critical = virtsim.run_experiment(mm1("1 /s"))  # null recurrent: the configured load says it
    assert not critical.summary.loc[0, "stable"]
    assert "CPU load 1" in critical.workloads.loc[0, "stability_note"]
    assert "(ρ ≥ 1)" in critical.workloads.loc[0, "stability_note"]


def test_a_sweep_says_which_scenarios_are_unstable(tmp_path):
    raw = {**mm1("0.5 /s", "2000 s"), "sweep": {"workloads[0].arrivals.rate": ["0.5 /s", "1.5 /s"]}}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    result = invoke("run", str(tmp_path / "s.yaml"), "--no-progress")
    assert result.exit_code == 0
    lines = [line for line in result.stdout.splitlines() if "UNSTABLE" in line]
    assert len(lines) == 1 and "scenario 1 replication 0" in lines[0]


# --- theory ---------------------------------------------------------------------------------------

def test_run_prints_the_theory_beside_the_mean_and_its_interval(tmp_path):
    raw = {**mm1("0.5 /s", "2000 s"), "replications": 3, "theory": {"response_time_mean_s": 2.0}}
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    result = invoke("run", str(tmp_path / "t.yaml"), "--no-progress", "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    [line] = [line for line in result.stdout.splitlines() if "theory response_time_mean_s = 2;" in line]
    mean, half = confidence_interval(pd.read_csv(tmp_path / "out" / "summary.csv")["response_time_mean_s"])
    assert f"simulated {mean:.4g} ± " in line and "95 % CI over 3 replications" in line
    assert line.endswith(": inside" if abs(mean - 2.0) <= half else ": OUTSIDE")


@pytest.mark.parametrize("theory, message", [
    ({"response_time_mean": 2.0}, "theory.response_time_mean"),
    ({"cpu_utilization": 2.0}, "theory.cpu_utilization"),
])
def test_a_bad_theory_is_reported_at_its_path(tmp_path, theory, message):
    (tmp_path / "t.yaml").write_text(yaml.safe_dump({**mm1("0.5 /s"), "theory": theory}), encoding="utf-8")
    result = invoke("validate", str(tmp_path / "t.yaml"))
    assert result.exit_code == 2 and message in result.stderr


def test_theory_cannot_go_with_a_sweep(tmp_path):
    raw = {**mm1("0.5 /s"), "theory": {"response_time_mean_s": 2.0},
           "sweep": {"workloads[0].arrivals.rate": ["0.5 /s", "0.6 /s"]}}
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    result = invoke("validate", str(tmp_path / "t.yaml"))
    assert result.exit_code == 2 and "theory: states one answer for the whole file" in result.stderr


# --- energy: every catalog machine, currency, utilization -----------------------------------------

@pytest.mark.parametrize("name", catalog_names("hardware"))
def test_every_catalog_machine_has_a_sourced_power_model(name):
    raw = load_catalog_entry("hardware", name)
    power = raw["power"]
    keys = ["power.watts"] if power["model"] == "table" else ["power.idle_w", "power.max_w"]
    for key in keys:
        source = " ".join(raw["source"][key].split())
        assert "SPECpower_ssj2008 result power_ssj2008-" in source or source.startswith("estimate"), (name, key)
    watts = power["watts"] if power["model"] == "table" else [power["idle_w"], power["max_w"]]
    assert all(a <= b for a, b in zip(watts, watts[1:])), "power grows with utilization"
    results = virtsim.run_experiment({"name": "p", "duration": "10 s", "hosts": [{"name": "h", "hardware": name}],
                                      "workloads": [{"name": "w", "target": "h", "type": "closed", "clients": 1,
                                                     "demand": {"cpu": "1 s"}}]})
    host = results.consumers.iloc[0]
    assert watts[0] < host["power_w"] < watts[-1] and math.isfinite(results.summary.loc[0, "energy_j"])


def test_cost_carries_its_currency():
    raw = {**mm1("0.5 /s", "1000 s"), "energy": {"cost_per_host_hour": 0.36, "currency": "EUR"}}
    raw["hosts"][0]["hardware"] = "laptop-8c"
    results = virtsim.run_experiment(raw)
    assert results.summary.loc[0, "currency"] == "EUR"
    assert results.summary.loc[0, "cost"] == pytest.approx(0.36 * 600 / 3600)
    assert virtsim.run_experiment(mm1("0.5 /s", "1000 s")).summary.loc[0, "currency"] == "USD"
    with pytest.raises(virtsim.ConfigError, match="energy.currency"):
        virtsim.load_experiment({**raw, "energy": {"currency": "euro"}})


def test_summary_utilization_leaves_switched_off_hosts_out():
    raw = mm1("0.5 /s", "2000 s")
    raw["hosts"].append({"name": "spare", "hardware": {"cores": 1, "core_speed": 1.0, "memory": "4 GiB"}})
    on = virtsim.run_experiment(raw)
    off = virtsim.run_experiment({**raw, "energy": {"switch_off_empty": True}})
    busy = off.consumers.set_index("consumer").loc["server", "cpu_utilization"]
    assert off.summary.loc[0, "cpu_utilization"] == pytest.approx(busy, rel=1e-12)  # the spare offers nothing
    assert on.summary.loc[0, "cpu_utilization"] == pytest.approx(busy / 2, rel=1e-12)  # powered on, it counts


# --- run --set / --duration, validate's progress --------------------------------------------------

def test_set_changes_fields_before_validation_and_duration_is_its_shorthand(tmp_path):
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(mm1("0.5 /s")), encoding="utf-8")
    out = tmp_path / "out"
    result = invoke("run", str(tmp_path / "m.yaml"), "--set", "hosts[0].count=2", "--set", "workloads[0].target=server-2",
                    "--set", "workloads[0].arrivals.rate=0.25 /s", "--duration", "800s", "--set", "warmup=100 s",
                    "-o", str(out))
    assert result.exit_code == 0, result.output
    config = virtsim.read_results(out).manifest["config"]
    assert config["duration_s"] == 800 and config["warmup_s"] == 100
    assert [h["name"] for h in config["hosts"]] == ["server-1", "server-2"]
    assert config["workloads"][0]["arrivals"]["rate_per_s"] == 0.25


def test_set_can_replicate_a_file(tmp_path):
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(mm1("0.5 /s", "500 s")), encoding="utf-8")
    result = invoke("run", str(tmp_path / "m.yaml"), "--set", "replications=3", "--no-progress")
    assert result.exit_code == 0 and "1 scenario(s) × 3 replication(s)" in result.stdout


@pytest.mark.parametrize("setting, message", [
    ("hosts[4].count=2", "--set hosts[4].count: no hosts[4] in this file (1 host)"),
    ("nothing.here=1", "--set nothing.here: no key 'nothing' at the top level"),
    ("hosts[0]..count=2", "--set hosts[0]..count: not a field path"),
    ("duration", "--set duration: expected KEY=VALUE"),
    ("duration=-5 s", "duration"),
])
def test_a_bad_set_is_a_clear_error_naming_it(tmp_path, setting, message):
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(mm1("0.5 /s")), encoding="utf-8")
    result = invoke("run", str(tmp_path / "m.yaml"), "--set", setting)
    assert result.exit_code == 2 and message in result.stderr and "Traceback" not in result.output


def test_validate_shows_progress_over_a_sweeps_scenarios_only_on_a_terminal(tmp_path):
    from virtsim.experiment.progress import scenarios_bar

    raw = {**mm1("0.5 /s"), "sweep": {"workloads[0].arrivals.rate": [f"{r / 10} /s" for r in range(1, 9)]}}
    stream = io.StringIO()
    with scenarios_bar(enabled=True, file=stream) as on_scenario:
        virtsim.load_sweep(raw, on_scenario=on_scenario)
    assert "checking" in stream.getvalue() and "8/8" in stream.getvalue()
    calls = []
    virtsim.load_sweep(raw, on_scenario=lambda done, total: calls.append((done, total)))
    assert calls == [(i, 8) for i in range(1, 9)]
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    result = invoke("validate", str(tmp_path / "s.yaml"))  # stderr is no terminal here: no bar
    assert result.exit_code == 0 and "checking" not in result.stderr


def test_validate_and_show_take_set_too(tmp_path):
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(mm1("0.5 /s")), encoding="utf-8")
    result = invoke("validate", str(tmp_path / "m.yaml"), "--set", "hosts[0].count=3", "--set",
                    "workloads[0].target=server-1")
    assert result.exit_code == 0 and "ok (3 host(s)" in result.stdout
    result = invoke("show", str(tmp_path / "m.yaml"), "--set", "replications=4")
    assert result.exit_code == 0 and "1 scenario(s) × 4 replication(s)" in result.stdout
    assert invoke("validate", str(tmp_path / "m.yaml"), "--set", "hosts[2].count=1").exit_code == 2
