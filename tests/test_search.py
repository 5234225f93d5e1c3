"""The capacity search: bisection by simulation, beside the M/M/c answer."""

from __future__ import annotations

import subprocess
import sys

import pytest

import virtsim
from virtsim.analysis.queueing import mmc_smallest_servers
from virtsim.experiment.search import smallest_meeting


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
    import yaml

    path = tmp_path / "svc.yaml"
    path.write_text(yaml.safe_dump(_service(count=2)))
    proc = subprocess.run([sys.executable, "-m", "virtsim.cli", "capacity", str(path), "--vary", "hosts[0].count",
                           "--between", "2", "8", "--below", "1.2"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "smallest: hosts[0].count = " in proc.stdout and "M/M/c estimate: " in proc.stdout
    bad = subprocess.run([sys.executable, "-m", "virtsim.cli", "capacity", str(path), "--vary", "hosts[7].count",
                          "--between", "2", "8", "--below", "1.2"], capture_output=True, text=True)
    assert bad.returncode == 2 and "hosts[7].count" in bad.stderr and "Traceback" not in bad.stderr
