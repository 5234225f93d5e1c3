"""Live migration at run time (``components.migration``): timing against the model, jobs across the move,
where the VM runs after it, drains, bad inputs, determinism, the CLI."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from virtsim.cli import main
from virtsim.config import ConfigError
from virtsim.config.loader import load_experiment
from virtsim.experiment.results import collect
from virtsim.experiment.simulation import Simulation
from virtsim.model.migration import (DEFAULT_BANDWIDTH_CAP_BYTES_PER_S, MigrationParams, cloudsim_migration_time,
                                     precopy_closed_form, precopy_plan)

EXAMPLE = Path(__file__).resolve().parents[1] / "experiments" / "migration" / "maintenance-drain.yaml"
GIB = 2**30


def _experiment(*, vm_extra=None, migration=None, migrations=None, workloads=None, duration="200 s",
                second_hypervisor="kvm"):
    vm = {"name": "a", "vcpus": 4, "memory": "2 GiB", "os": "linux-server", **(vm_extra or {})}
    raw = {
        "name": "mig", "seed": 5, "duration": duration, "cold_start": False,
        "hosts": [{"name": "h1", "hardware": "server-2s-32c", "hypervisor": "kvm",
                   "vms": [vm, {"name": "b", "vcpus": 2, "memory": "1 GiB", "os": "linux-server"}]},
                  {"name": "h2", "hardware": "server-2s-32c", "hypervisor": second_hypervisor}],
        "migrations": migrations if migrations is not None else [{"vm": "h1/a", "to": "h2", "at": "50 s"}],
        "workloads": workloads or [],
    }
    if migration is not None:
        raw["migration"] = migration
    return raw


def _run(raw):
    sim = Simulation(load_experiment(copy.deepcopy(raw))).run()
    return sim, collect(sim)


def _bandwidth(sim):
    return sim.platform.nics["h1"][0].spec.bandwidth_bytes_per_s


CLOSED = {"name": "web", "target": "h1/a", "type": "closed", "clients": 4,
          "think_time": {"type": "exponential", "mean": "50 ms"},
          "demand": {"cpu": {"type": "exponential", "mean": "10 ms"}, "syscalls": 20,
                     "disk": {"ops": 1, "bytes": "8 KiB", "pattern": "random", "kind": "read"},
                     "net": {"transactions": 1, "bytes": "4 KiB"}}}


def test_zero_dirty_rate_migrates_in_ram_over_bandwidth():
    sim, results = _run(_experiment())
    row = results.migrations.iloc[0]
    rate = min(_bandwidth(sim), DEFAULT_BANDWIDTH_CAP_BYTES_PER_S)
    assert row["end_s"] - row["start_s"] == pytest.approx(2 * GIB / rate, rel=1e-12)
    assert row["start_s"] == 50.0
    assert row["rounds"] == 1 and row["downtime_s"] == 0.0 and row["bytes"] == 2 * GIB
    assert (row["vm"], row["source"], row["destination"], row["reason"], row["model"]) == (
        "h1/a", "h1", "h2", "maintenance", "precopy")


def test_constant_dirty_rate_matches_the_closed_form():
    raw = _experiment(vm_extra={"dirty_rate": "60 MB/s", "writable_working_set": "1 GiB"},
                      migration={"bandwidth_cap": "100 MB/s"})
    sim, results = _run(raw)
    row = results.migrations.iloc[0]
    params = MigrationParams(ram_bytes=2 * GIB, wws_bytes=GIB, dirty_rate_bytes_per_s=60e6,
                             bandwidth_cap_bytes_per_s=100e6)
    closed = precopy_closed_form(params, _bandwidth(sim))
    assert closed.precopy_rounds > 2  # several rounds: the series matters
    assert row["rounds"] == closed.precopy_rounds
    assert row["end_s"] - row["start_s"] == pytest.approx(closed.total_time_s, rel=1e-9)
    assert row["downtime_s"] == pytest.approx(closed.downtime_s, rel=1e-9)
    assert row["bytes"] == pytest.approx(closed.total_bytes, rel=1e-9)
    assert not row["round_limit_hit"]


def test_cloudsim_model_takes_exactly_ram_over_half_the_bandwidth():
    sim, results = _run(_experiment(migration={"model": "cloudsim"},
                                    vm_extra={"dirty_rate": "500 MB/s"}))  # CloudSim ignores dirty pages
    row = results.migrations.iloc[0]
    expected = cloudsim_migration_time(2 * GIB, _bandwidth(sim))
    assert row["end_s"] - row["start_s"] == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(2 * GIB / (_bandwidth(sim) / 2), rel=1e-12)
    assert row["downtime_s"] == 0.0


def test_postcopy_resumes_at_once_and_pulls_the_memory_after():
    sim, results = _run(_experiment(migration={"model": "postcopy"}))
    row = results.migrations.iloc[0]
    rate = min(_bandwidth(sim), DEFAULT_BANDWIDTH_CAP_BYTES_PER_S)
    assert row["downtime_s"] == 0.0 and row["rounds"] == 0
    assert row["end_s"] - row["start_s"] == pytest.approx(2 * GIB / rate, rel=1e-12)
    assert sim.migrations.host_of["h1/a"] == "h2"


def _jobs_and_move(dirty_rate, migrations=None):
    raw = _experiment(vm_extra={"dirty_rate": dirty_rate, "writable_working_set": "1 GiB"},
                      migration={"bandwidth_cap": "100 MB/s"}, workloads=[CLOSED], migrations=migrations)
    return _run(raw)


def test_jobs_continue_across_the_move_and_see_only_the_downtime():
    sim, results = _jobs_and_move("80 MB/s")
    baseline_sim, baseline = _jobs_and_move("80 MB/s", migrations=[{"vm": "h1/b", "to": "h2", "at": "50 s"}])
    row = results.migrations.iloc[0]
    assert row["downtime_s"] > 0.05  # a visible stop
    jobs = results.jobs
    assert not jobs["failed"].any() and not baseline.jobs["failed"].any()
    assert jobs["end_s"].notna().sum() >= len(jobs) - 4  # only the clients' last jobs are open at the end
    start, stop_at, end = row["start_s"], row["end_s"] - row["downtime_s"], row["end_s"]
    done = jobs["end_s"]
    assert ((done > 1) & (done < start)).sum() > 100  # before
    assert ((done > start) & (done < stop_at)).sum() > 100  # during the pre-copy, at full speed
    assert (done > end + 1).sum() > 100  # after, on h2
    longest = jobs["response_time_s"].max()
    longest_without = baseline.jobs["response_time_s"].max()
    # The longest response grows by about the downtime (a job caught by the stop waits it out).
    assert longest - longest_without == pytest.approx(row["downtime_s"], abs=0.1)
    assert longest > row["downtime_s"]
    # During the pre-copy the jobs run as fast as before it.
    during = jobs[(jobs["start_s"] > start) & (jobs["end_s"] < stop_at)]["response_time_s"].mean()
    before = jobs[(jobs["start_s"] > 5) & (jobs["end_s"] < start)]["response_time_s"].mean()
    assert during == pytest.approx(before, rel=0.15)


def test_after_the_move_the_vm_runs_on_the_destination_and_its_memory_moved():
    sim, results = _jobs_and_move("0 MB/s")
    consumer = sim.platform.consumers["h1/a"]
    assert consumer.host == "h2"
    assert consumer.node.resource is sim.platform.cpu["h2"]
    assert sim.platform.layer_consumers["h1/a.vmm"].host == "h2"
    table = results.consumers.set_index("consumer")
    assert table.loc["h1/a", "host"] == "h2"
    # Its CPU time counts both hosts: h2 served its jobs after the move.
    assert table.loc["h1/a", "cpu_time_s"] > 0
    row = results.migrations.iloc[0]
    assert table.loc["h2", "cpu_time_s"] > 0.5 * table.loc["h1/a", "cpu_time_s"] * (200 - row["end_s"]) / 200
    spec = load_experiment(_experiment())
    from virtsim.model.memory import footprints
    before = {h.name: footprints(h)[h.name] for h in spec.hosts}
    moved = footprints(spec.hosts[0])["h1/a"] + footprints(spec.hosts[0])["h1/a.vmm"]
    assert sim.migrations.committed_bytes["h1"] == pytest.approx(before["h1"] - moved)
    assert sim.migrations.committed_bytes["h2"] == pytest.approx(before["h2"] + moved)


@settings(max_examples=25, deadline=None)
@given(dirty=st.floats(0, 300e6), wws=st.floats(0.05, 1.0), cap=st.floats(20e6, 400e6),
       limit=st.floats(0.01, 1.0), rounds=st.integers(1, 12))
def test_downtime_within_the_limit_unless_the_round_limit_is_hit(dirty, wws, cap, limit, rounds):
    sim = Simulation(_SPEC)
    m = sim.migrations
    m.spec = m.spec.model_copy(update={"bandwidth_cap_bytes_per_s": cap, "downtime_limit_s": limit,
                                       "max_rounds": rounds})
    m._vms["h1/a"] = m._vms["h1/a"].model_copy(update={"dirty_rate_bytes_per_s": dirty,
                                                       "writable_working_set_bytes": int(wws * 2 * GIB)})
    out = m.outcome("h1/a", "h1", "h2")
    assert out.rounds <= rounds
    if not out.round_limit_hit:
        assert out.downtime_s <= limit + 1e-12
    else:
        assert out.rounds == rounds
    plan = precopy_plan(MigrationParams(ram_bytes=2 * GIB, wws_bytes=int(wws * 2 * GIB), dirty_rate_bytes_per_s=dirty,
                                        bandwidth_cap_bytes_per_s=cap, downtime_limit_s=limit, max_rounds=rounds),
                        _bandwidth(sim))
    assert out.downtime_s == plan.downtime_s


_SPEC = load_experiment(_experiment())


def test_draining_a_host_leaves_it_without_vms():
    raw = _experiment(migrations=[{"drain": "h1", "to": ["h2"], "at": "20 s"}],
                      vm_extra={"dirty_rate": "30 MB/s"}, workloads=[CLOSED])
    sim, results = _run(raw)
    table = results.migrations
    assert list(table["vm"]) == ["h1/a", "h1/b"]
    assert table["start_s"].iloc[1] == table["end_s"].iloc[0]  # one after another
    assert not [p for p, host in sim.migrations.host_of.items() if host == "h1"]
    assert all(sim.platform.consumers[p].host == "h2" for p in ("h1/a", "h1/b"))
    assert sim.migrations.committed_bytes["h1"] == pytest.approx(0.0, abs=1.0)


def test_same_seed_gives_identical_tables():
    raw = _experiment(vm_extra={"dirty_rate": "50 MB/s"}, workloads=[CLOSED], duration="120 s")
    a, b = _run(raw)[1], _run(raw)[1]
    for name, table in a.tables().items():
        pd.testing.assert_frame_equal(table, b.tables()[name], check_exact=True)


def test_no_migrations_no_table():
    raw = _experiment(migrations=[], workloads=[CLOSED], duration="20 s")
    _, results = _run(raw)
    assert "migrations" not in results.tables()


@pytest.mark.parametrize("change, where, words", [
    (lambda r: r["migrations"][0].update(vm="h1/aa"), r"migrations\[0\]\.vm", "did you mean 'h1/a'"),
    (lambda r: r["migrations"][0].update(to="h22"), r"migrations\[0\]\.to", "did you mean 'h2'"),
    (lambda r: r["migrations"][0].update(to="h1"), r"migrations\[0\]\.to", "host it runs on"),
    (lambda r: r["migrations"][0].update(at="500 s"), r"migrations\[0\]\.at", "end of the run"),
    (lambda r: (r["hosts"][0].update(memory_overcommit=10), r["hosts"][0]["vms"][0].update(memory="300 GiB")),
     r"migrations\[0\]\.to", "no destination has memory for VM 'h1/a'"),
    (lambda r: r["hosts"][0]["vms"][0].update(engine="docker", containers=[{"name": "c"}]),
     r"migrations\[0\]\.vm", "containers or nested VMs is not supported yet"),
    (lambda r: r["hosts"][1].update(hypervisor="virtualbox"), r"migrations\[0\]\.to", "Type 2"),
    (lambda r: r["migrations"][0].update(drain="h1"), r"migrations\[0\]", "exactly one of 'vm' or 'drain'"),
    (lambda r: r["migrations"].append({"drain": "hh1", "to": "h2", "at": 1}), r"migrations\[1\]\.drain",
     "did you mean"),
    (lambda r: r["hosts"][0]["vms"][0].update(writable_working_set="3 GiB"), r"writable_working_set",
     "more than the VM's memory"),
    (lambda r: r.update(migration={"model": "pre-copy"}), r"migration\.model", "precopy"),
])
def test_bad_inputs_are_located_errors(tmp_path, change, where, words):
    raw = _experiment()
    change(raw)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError) as err:
        load_experiment(path)
    text = str(err.value)
    assert "bad.yaml" in text
    assert re.search(where, text), text
    assert words in text, text


def _traced(raw):
    trace = EXAMPLE.parents[1] / "data" / "traces" / "bitbrains-rnd" / "rnd_2013-07_vm47-68-96-386.csv.gz"
    raw["loads"] = [{"name": "rnd", "type": "utilization", "format": "bitbrains", "path": [str(trace)],
                     "targets": ["h1/a"], "rows": [386]}]
    return raw


def test_a_vm_driven_by_a_trace_load_migrates_and_its_load_follows_it():
    moved, _ = _run(_traced(_experiment(duration="2000 s", migrations=[{"vm": "h1/a", "to": "h2", "at": "600 s"}])))
    still, _ = _run(_traced(_experiment(duration="2000 s", migrations=[{"vm": "h1/b", "to": "h2", "at": "600 s"}])))
    end = moved.end.time_s
    # No dirty pages, so no downtime: the VM gets all its trace asks on either host (same hardware).
    cpu_moved = moved.platform.consumers["h1/a"].node.time_integrals(end)[0]
    cpu_still = still.platform.consumers["h1/a"].node.time_integrals(end)[0]
    assert cpu_still > 0
    assert cpu_moved == pytest.approx(cpu_still, rel=1e-9)
    # After the move its demand is on h2, not h1: h2's busy time is the VM's since the move.
    row = moved.migrations.records[0]
    assert moved.platform.consumers["h1/a"].host == "h2"
    h2_busy = moved.platform.cpu["h2"].root.time_integrals(end)[0]
    h1_busy_still = still.platform.cpu["h1"].root.time_integrals(end)[0]
    h1_busy_moved = moved.platform.cpu["h1"].root.time_integrals(end)[0]
    assert h2_busy > 0 and h1_busy_moved < h1_busy_still
    assert row.end_s < end


def test_a_vm_whose_container_replays_a_trace_cannot_migrate_yet(tmp_path):
    raw = _experiment()
    raw["hosts"][0]["vms"][0]["containers"] = [{"name": "c"}]
    trace = EXAMPLE.parents[1] / "data" / "traces" / "bitbrains-rnd" / "rnd_2013-07_vm47-68-96-386.csv.gz"
    raw["loads"] = [{"name": "rnd", "type": "utilization", "format": "bitbrains", "path": [str(trace)],
                     "targets": ["h1/a/c"], "rows": [386]}]
    path = tmp_path / "loaded.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match=r"migrations\[0\]\.vm: VM 'h1/a' runs containers"):
        load_experiment(path)


def test_the_example_runs_through_the_cli(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", str(EXAMPLE), "-o", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "migrations.csv")
    assert list(table.columns) == ["vm", "source", "destination", "reason", "model", "start_s", "end_s", "rounds",
                                   "bytes", "downtime_s", "round_limit_hit"]
    assert list(table["vm"]) == ["h1/web", "h1/idle"] and set(table["destination"]) == {"h2"}
    assert (table["downtime_s"] <= 0.3).all() and table["rounds"].iloc[0] > 1
    consumers = pd.read_csv(out / "consumers.csv").set_index("consumer")
    assert consumers.loc["h1/web", "host"] == "h2"
    jobs = pd.read_csv(out / "jobs.csv")
    assert (jobs["end_s"] > table["end_s"].max()).sum() > 100


def test_migrations_over_a_network_section_are_refused_until_flows_carry_them(tmp_path):
    from virtsim.config import load_experiment
    from virtsim.config.errors import ConfigError

    exp = yaml.safe_load(EXAMPLE.read_text())
    exp["network"] = {"topology": {"kind": "star"}}
    path = tmp_path / "drain-on-a-network.yaml"
    path.write_text(yaml.safe_dump(exp))
    with pytest.raises(ConfigError) as info:
        load_experiment(path)
    problems = {p.path: p.message for p in info.value.problems}
    assert "not supported yet" in problems["migrations"] and "network" in problems["migrations"]
