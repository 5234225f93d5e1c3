"""Sweeps: one file, many scenarios, each run several times with its own seed.

Any field is an axis (``hosts[0].hardware.cores: [1, 2, 4]``); the scenarios
are the cartesian product of the axes, and a ``zip`` group moves several
fields together. Every scenario is validated by the ordinary loader; problems
name the sweep path, or the scenario's values plus the loader's path.
Replication r of every scenario is seeded by the r-th child of
``SeedSequence(seed)``. ``virtsim show`` lists the scenarios; ``virtsim run``
runs them all and writes one summary row per scenario and replication and a
per-scenario table of means with 95 % confidence intervals.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import virtsim
from virtsim.analysis.stats import scenario_table
from virtsim.cli import main
from virtsim.config.sweep_plan import parse_path
from virtsim.experiment.progress import show_progress, simulated_time_bar

ROOT = Path(__file__).parents[1]

BASE = """\
name: sweepy
seed: 3
duration: 100 s
warmup: 10 s
hosts:
  - name: h1
    hardware: {cores: 2, core_speed: 1.0, memory: 4 GiB}
  - name: h2
    hardware: server-2s-32c
workloads:
  - name: w
    target: h1
    type: open
    arrivals: {type: poisson, rate: 0.5 /s}
    demand: {cpu: {type: exponential, mean: 1 s}}
"""

ISSUE_SWEEP = BASE + """\
replications: 3
sweep:
  hosts[0].hardware.cores: [1, 2, 4]
  workloads[0].arrivals.rate: [0.5 /s, 0.8 /s]
"""


def write(tmp_path, text, name="sweep.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def problems(tmp_path, text) -> list[str]:
    with pytest.raises(virtsim.ConfigError) as err:
        virtsim.load_sweep(write(tmp_path, text))
    return [str(problem) for problem in err.value.problems]


def test_the_issue_form_gives_the_cartesian_product_last_axis_fastest(tmp_path):
    plan = virtsim.load_sweep(write(tmp_path, ISSUE_SWEEP))
    assert plan.axes == ("hosts[0].hardware.cores", "workloads[0].arrivals.rate")
    assert [tuple(s.values.values()) for s in plan.scenarios] == [
        (1, "0.5 /s"), (1, "0.8 /s"), (2, "0.5 /s"), (2, "0.8 /s"), (4, "0.5 /s"), (4, "0.8 /s")]
    # Each scenario is a validated spec carrying its values, in SI units.
    assert [s.spec.hosts[0].hardware.cores for s in plan.scenarios] == [1, 1, 2, 2, 4, 4]
    assert [s.spec.workloads[0].arrivals.rate_per_s for s in plan.scenarios] == [0.5, 0.8] * 3
    assert not plan.single_run and plan.replications == 3
    points = plan.points()
    assert [(p.scenario.index, p.replication) for p in points[:4]] == [(0, 0), (0, 1), (0, 2), (1, 0)]
    assert len(points) == 18


def test_zipped_axes_move_together_and_cross_the_others(tmp_path):
    plan = virtsim.load_sweep(write(tmp_path, BASE + """\
sweep:
  hosts[0].hardware.cores: [1, 2]
  zip:
    - workloads[0].arrivals.rate: [0.2 /s, 0.4 /s, 0.6 /s]
      duration: [300 s, 200 s, 100 s]
"""))
    assert plan.axes == ("hosts[0].hardware.cores", "workloads[0].arrivals.rate", "duration")
    got = [(s.spec.hosts[0].hardware.cores, s.spec.workloads[0].arrivals.rate_per_s, s.spec.duration_s)
           for s in plan.scenarios]
    assert got == [(1, 0.2, 300.0), (1, 0.4, 200.0), (1, 0.6, 100.0), (2, 0.2, 300.0), (2, 0.4, 200.0),
                   (2, 0.6, 100.0)]


def test_a_key_the_file_leaves_at_its_default_can_be_swept(tmp_path):
    plan = virtsim.load_sweep(write(tmp_path, BASE + "sweep:\n  cold_start: [true, false]\n"))
    assert [s.spec.cold_start for s in plan.scenarios] == [True, False]


def test_problems_in_the_sweep_name_the_sweep_path(tmp_path):
    found = problems(tmp_path, BASE + """\
replications: 0
sweep:
  hosts[9].cores: [1, 2]
  hosts[1].hardware.cores: [8]
  hosts[0].hardwre.cores: [8]
  seed: [1, 2]
  duration: 5 s
  hosts[0.name: [a]
  zip:
    - warmup: [1 s, 2 s]
      workloads[0].arrivals.rate: [1 /s]
""")
    assert found == [
        "replications: must be an integer ≥ 1, got 0  (line 16)",
        "sweep.hosts[9].cores: no hosts[9] in this file (2 hosts)  (line 18)",
        "sweep.hosts[1].hardware.cores: hosts[1].hardware is 'server-2s-32c', not a mapping; "
        "sweep the whole hosts[1].hardware instead  (line 19)",
        "sweep.hosts[0].hardwre.cores: no key 'hardwre' at hosts[0] (keys: name, hardware)  (line 20)",
        "sweep.seed: cannot be swept: replications take their seeds from it; use replications: N (or --seed)"
        "  (line 21)",
        "sweep.duration: must be a non-empty list of values, got '5 s'  (line 22)",
        "sweep.hosts[0.name: not a field path; write it like 'hosts[0].hardware.cores' or 'duration'  (line 23)",
        "sweep.zip[0]: zipped lists must be equally long; got warmup: 2, workloads[0].arrivals.rate: 1"
        "  (line 25)",
    ]


def test_a_value_that_breaks_a_scenario_is_reported_with_the_scenarios_values(tmp_path):
    found = problems(tmp_path, BASE + """\
sweep:
  hosts[0].hardware.cores: [0, 2]
  warmup: [1 s, 100 s]
""")
    assert found == [
        "hosts[0].hardware.cores: in scenario 0 (hosts[0].hardware.cores=0, warmup=1 s): "
        "must be an integer ≥ 1, got 0  (line 17)",
        "hosts[0].hardware.cores: in scenario 1 (hosts[0].hardware.cores=0, warmup=100 s): "
        "must be an integer ≥ 1, got 0  (line 17)",
        "warmup: in scenario 3 (hosts[0].hardware.cores=2, warmup=100 s): "
        "must be less than duration (100 s), got 100 s  (line 18)",
    ]


def test_a_problem_every_scenario_shares_is_reported_once_without_values(tmp_path):
    found = problems(tmp_path, BASE.replace("target: h1\n", "target: h3\n") + "sweep:\n  duration: [50 s, 60 s]\n")
    assert len(found) == 1 and found[0].startswith("workloads[0].target: unknown target 'h3'")


def test_field_paths():
    assert parse_path("hosts[0].hardware.cores") == ("hosts", 0, "hardware", "cores")
    assert parse_path("duration") == ("duration",)
    assert parse_path("hosts[0].vms[1].containers[0].cpus") == ("hosts", 0, "vms", 1, "containers", 0, "cpus")
    for bad in ("", "a..b", "hosts[x]", "[0]", "a.", "hosts[0]x"):
        assert parse_path(bad) is None, bad


def test_replication_seeds_are_spawned_from_one_seed_sequence_and_shared_by_scenarios(tmp_path):
    plan = virtsim.load_sweep(write(tmp_path, ISSUE_SWEEP))
    children = np.random.SeedSequence(3).spawn(3)
    expected = [int(c.generate_state(1, dtype=np.uint32)[0]) for c in children]
    assert plan.seeds == expected and len(set(expected)) == 3
    by_scenario = {}
    for point in plan.points():
        by_scenario.setdefault(point.scenario.index, []).append(point.seed)
    assert all(seeds == expected for seeds in by_scenario.values())  # common random numbers
    assert virtsim.load_sweep(write(tmp_path, ISSUE_SWEEP), seed=4).seeds != expected  # --seed overrides the root


def test_a_file_without_a_sweep_is_one_run_with_the_files_seed(tmp_path):
    plan = virtsim.load_sweep(write(tmp_path, BASE))
    assert plan.single_run and plan.seeds == [3] and len(plan.scenarios) == 1 and plan.axes == ()
    assert plan.scenarios[0].spec == virtsim.load_experiment(write(tmp_path, BASE))
    replicated = virtsim.load_sweep(write(tmp_path, BASE + "replications: 4\n"))
    assert not replicated.single_run and len(replicated.points()) == 4
    assert len(set(replicated.seeds)) == 4


def test_load_experiment_on_a_sweep_file_gives_the_file_as_written(tmp_path):
    spec = virtsim.load_experiment(write(tmp_path, ISSUE_SWEEP))
    assert spec.hosts[0].hardware.cores == 2 and spec.seed == 3


def test_the_scenario_table_matches_a_hand_computed_student_t_interval():
    summary = pd.DataFrame({"scenario": [0, 0, 0, 0, 1, 1], "x": [1, 1, 1, 1, 2, 2],
                            "throughput_per_s": [1.0, 2.0, 3.0, 4.0, 5.0, 7.0]})
    table = scenario_table(summary, ["scenario", "x"], metrics=("throughput_per_s",))
    assert list(table.columns) == ["scenario", "x", "replications", "throughput_per_s_mean", "throughput_per_s_ci95"]
    # n = 4: mean 2.5, s = sqrt(5/3); t(0.975, 3) = 3.182446 (a printed t table).
    assert table.loc[0, "throughput_per_s_mean"] == 2.5
    assert table.loc[0, "throughput_per_s_ci95"] == pytest.approx(3.182446 * math.sqrt(5 / 3) / 2, rel=1e-6)
    # n = 2: mean 6, s = sqrt(2); t(0.975, 1) = 12.706205.
    assert table.loc[1, "throughput_per_s_ci95"] == pytest.approx(12.706205 * math.sqrt(2) / math.sqrt(2), rel=1e-6)
    assert list(table["replications"]) == [4, 2]


def invoke(*args):
    return CliRunner().invoke(main, list(args))


def test_show_lists_the_expanded_scenarios_and_the_seeds(tmp_path):
    path = write(tmp_path, ISSUE_SWEEP)
    result = invoke("show", str(path))
    assert result.exit_code == 0, result.output
    seeds = ", ".join(map(str, virtsim.load_sweep(path).seeds))
    assert result.stdout.splitlines() == [
        f"{path}: 6 scenario(s) × 3 replication(s) = 18 run(s); seeds: {seeds}",
        "  scenario  hosts[0].hardware.cores  workloads[0].arrivals.rate",
        "  0         1                        0.5 /s",
        "  1         1                        0.8 /s",
        "  2         2                        0.5 /s",
        "  3         2                        0.8 /s",
        "  4         4                        0.5 /s",
        "  5         4                        0.8 /s",
    ]


def test_show_and_run_report_a_bad_sweep_with_exit_status_2(tmp_path):
    path = write(tmp_path, BASE + "sweep:\n  hosts[9].cores: [1, 2]\n")
    for args in (("show", str(path)), ("validate", str(path)), ("run", str(path), "-o", str(tmp_path / "out"))):
        result = invoke(*args)
        assert result.exit_code == 2, result.output
        assert result.stdout == "" and "Traceback" not in result.stderr
        assert "sweep.hosts[9].cores: no hosts[9] in this file (2 hosts)" in result.stderr
    assert not (tmp_path / "out").exists()
    good = write(tmp_path, ISSUE_SWEEP, "good.yaml")
    result = invoke("run", str(good), "--executor", "process", "--scheduler", "tcp://127.0.0.1:1")
    assert result.exit_code == 2 and "--scheduler" in result.stderr


def test_run_writes_a_row_per_scenario_and_replication_and_a_scenario_table(tmp_path):
    path = write(tmp_path, ISSUE_SWEEP)
    out = tmp_path / "out"
    result = invoke("run", str(path), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert result.stderr == ""  # not a terminal: no progress bar
    assert "18 points: 18 run, 0 already done, 0 failed" in result.stdout
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns[:4]) == ["scenario", "replication", "hosts[0].hardware.cores",
                                         "workloads[0].arrivals.rate"]
    assert len(summary) == 18 and not summary.duplicated(["scenario", "replication"]).any()
    plan = virtsim.load_sweep(path)
    assert list(summary["seed"]) == plan.seeds * 6
    assert list(summary["hosts[0].hardware.cores"]) == [1] * 6 + [2] * 6 + [4] * 6
    scenarios = pd.read_csv(out / "scenarios.csv")
    assert len(scenarios) == 6 and (scenarios["replications"] == 3).all()
    first = summary[summary["scenario"] == 0]["response_time_mean_s"]
    assert scenarios.loc[0, "response_time_mean_s_mean"] == pytest.approx(first.mean())
    assert {"throughput_per_s_ci95", "cpu_utilization_mean"} <= set(scenarios.columns)
    # The same seed, cores and rate as a plain run give the same row.
    single = virtsim.run_spec(plan.scenarios[3].spec, seed=plan.seeds[1]).summary.iloc[0]
    row = summary[(summary["scenario"] == 3) & (summary["replication"] == 1)].iloc[0]
    assert row["jobs_completed"] == single["jobs_completed"]
    assert row["response_time_mean_s"] == pytest.approx(single["response_time_mean_s"], rel=1e-12)
    # read_results gives the same tables as DataFrames, jobs included.
    results = virtsim.read_results(out)
    assert results.problems == []
    pd.testing.assert_frame_equal(results.summary, summary, check_dtype=False)
    assert set(results.jobs["scenario"]) == set(range(6))
    assert len(results.jobs) == sum(
        pd.read_parquet(folder / "jobs.parquet").shape[0] for folder in (out / "points").iterdir())


def test_a_simulated_time_bar_reaches_the_duration_and_changes_nothing():
    spec = virtsim.load_experiment(ROOT / "experiments" / "mm1.yaml").model_copy(update={"duration_s": 500.0})
    plain = virtsim.run_spec(spec)
    sim = virtsim.Simulation(spec)
    stream = io.StringIO()
    with simulated_time_bar(sim, enabled=True, file=stream) as bar:
        sim.run()
        assert bar.n == pytest.approx(500.0)
    assert "500/500 s" in stream.getvalue()
    watched = virtsim.collect(sim)
    for name in ("summary", "jobs", "consumers"):
        assert watched.tables()[name].equals(plain.tables()[name]), name


def run_on_a_terminal(tmp_path, text: str, *extra: str) -> str:
    """What ``virtsim run`` writes to standard error when that is a terminal."""
    import fcntl
    import os
    import pty
    import struct
    import subprocess
    import sys
    import termios

    path = write(tmp_path, text, "terminal.yaml")
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # 24 rows, 100 columns
    try:
        process = subprocess.run([sys.executable, "-m", "virtsim.cli", "run", str(path), *extra],
                                 stdout=subprocess.DEVNULL, stderr=slave, timeout=120)
        os.close(slave)
        chunks = []
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the terminal's other end is closed: all read
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(master)
    assert process.returncode == 0
    return b"".join(chunks).decode("utf-8", "replace")


def test_progress_bars_show_on_a_terminal_unless_switched_off(tmp_path):
    single = BASE.replace("duration: 100 s", "duration: 2000 s")
    shown = run_on_a_terminal(tmp_path, single)
    assert "simulated" in shown and "2000/2000 s" in shown
    sweep = run_on_a_terminal(tmp_path, BASE + "sweep:\n  duration: [50 s, 60 s]\n")
    assert "sweep" in sweep and "2/2" in sweep


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_bars_are_shown_only_on_a_terminal_and_when_asked():
    assert show_progress(True, _Terminal())
    assert not show_progress(False, _Terminal())  # --no-progress
    assert not show_progress(True, io.StringIO())  # a file or a pipe
