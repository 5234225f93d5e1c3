"""The capacity search: bisection by simulation, beside the M/M/c answer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

import virtsim
from virtsim.analysis.queueing import mmc_smallest_servers
from virtsim.cli import main
from virtsim.experiment.search import smallest_meeting

ROOT = Path(__file__).parents[1]


def _service(rate="12 /s", count=1):
    return {"name": "svc", "seed": 5, "duration": "300 s", "warmup": "30 s", "cold_start": False,
            "hosts": [{"name": "node", "count": count, "hardware": {"cores": 2, "memory": "8 GiB"}}],
            "workloads": [{"name": "web", "replicas": "node-*" if count > 1 else "node", "type": "open",
                           "arrivals": {"type": "poisson", "rate": rate},
                           "demand": {"cpu": {"type": "exponential", "mean": "200 ms"}}}]}


def test_bisection_finds_the_same_answer_as_trying_every_value():
    exp = _service(count=2)
    answer = smallest_meeting(exp, "hosts[0].count", 2, 8, below=1.2, replications=1)
    everything = {}
    for n in range(2, 9):
        scenario = _service(count=n)  # one replication: the file's seed as is, as `virtsim run` uses it
        everything[n] = virtsim.run_experiment(scenario).summary.loc[0, "response_time_p99_s"]
    first = min(n for n, p99 in everything.items() if p99 < 1.2)
    assert answer.smallest == first
    assert len(answer.probes) < 7  # bisection, not every value
    for probe in answer.probes:
        assert probe.metric == pytest.approx(everything[probe.value]) and probe.meets == (probe.metric < 1.2)


def test_the_mmc_answer_is_given_in_servers_and_hosts():
    answer = smallest_meeting(_service(count=2), "hosts[0].count", 2, 8, below=1.2)
    assert answer.mmc_servers == mmc_smallest_servers(12.0, 0.2, below_s=1.2)
    assert answer.servers_per_step == 2.0
    # Separate hosts behind round-robin need at least what one shared queue needs.
    assert answer.smallest * answer.servers_per_step >= answer.mmc_servers


def test_no_value_in_the_range_meets_the_target():
    answer = smallest_meeting(_service(count=3), "hosts[0].count", 3, 4, below=0.5)  # a job alone: p99 0.92 s
    assert answer.smallest is None and "a job alone already takes" in answer.mmc_note


def test_the_command_line_prints_the_probes_and_both_answers(tmp_path):
    path = tmp_path / "svc.yaml"
    path.write_text(yaml.safe_dump(_service(count=2)))
    proc = subprocess.run([sys.executable, "-m", "virtsim.cli", "capacity", str(path), "--vary", "hosts[0].count",
                           "--between", "2", "8", "--below", "1.2"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "smallest: hosts[0].count = " in proc.stdout and "M/M/c estimate: " in proc.stdout
    bad = subprocess.run([sys.executable, "-m", "virtsim.cli", "capacity", str(path), "--vary", "hosts[7].count",
                          "--between", "2", "8", "--below", "1.2"], capture_output=True, text=True)
    assert bad.returncode == 2 and "hosts[7].count" in bad.stderr and "Traceback" not in bad.stderr


CAPACITY = ROOT / "experiments" / "capacity" / "how-many-hosts.yaml"


def test_capacity_uses_replications_and_agrees_with_a_run_of_the_file(tmp_path):
    raw = yaml.safe_load(CAPACITY.read_text(encoding="utf-8"))
    raw.update(duration="120 s", warmup="20 s")
    answer = smallest_meeting(raw, "hosts[0].count", 4, 8, below=1.0)
    assert answer.replications == 5
    probes = {p.value: p for p in answer.probes}
    assert all(len(p.values) == 5 and p.half_width > 0 for p in probes.values())
    chosen = probes[answer.smallest]
    assert chosen.metric + chosen.half_width < 1.0  # the interval decided it
    # `virtsim run` of the same file with that value and 5 replications gives the same mean
    raw["hosts"][0]["count"] = answer.smallest
    raw["replications"] = 5
    path = tmp_path / "hosts.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    result = CliRunner().invoke(main, ["run", str(path), "-o", str(tmp_path / "out"), "--no-progress"])
    assert result.exit_code == 0, result.output
    scenarios = pd.read_csv(tmp_path / "out" / "scenarios.csv")
    assert scenarios["response_time_p99_s_mean"].iloc[0] == pytest.approx(chosen.metric, rel=1e-12)
    assert scenarios["response_time_p99_s_ci95"].iloc[0] == pytest.approx(chosen.half_width, rel=1e-9)


def test_capacity_console_states_the_interval_that_decided(tmp_path):
    raw = yaml.safe_load(CAPACITY.read_text(encoding="utf-8"))
    raw.update(duration="60 s", warmup="10 s")
    path = tmp_path / "hosts.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    result = CliRunner().invoke(main, ["capacity", str(path), "--vary", "hosts[0].count", "--between", "4", "8",
                                       "--below", "1.0", "--replications", "3"])
    assert result.exit_code == 0, result.output
    assert "mean of 3 replications" in result.output
    smallest = next(line for line in result.output.splitlines() if "smallest:" in line)
    assert " ± " in smallest and "< 1" in smallest
