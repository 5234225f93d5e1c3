"""Alibaba openb pod records replayed onto targets: each pod's CPU request for its lifetime.

The real pod list is the repository's gzip'd copy (``experiments/data/traces``); one test
compares it with the full traces (``$VIRTSIM_TRACES``) and skips without them.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

import virtsim
from virtsim.config import ConfigError

ROOT = Path(__file__).parents[1]
OPENB = ROOT / "experiments" / "data" / "traces" / "alibaba-gpu-2023-openb" / "openb_pod_list_default.csv.gz"
HEADER = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time"


def pod_file(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return path


def two_hosts(path: Path, **load) -> dict:
    return {
        "name": "pods", "duration": "1000 s", "cold_start": False,
        "hosts": [{"name": f"n{k}", "hardware": {"cores": 4, "core_speed": 1.0, "memory": "64 GiB"}}
                  for k in range(2)],
        "loads": [{"name": "openb", "type": "pods", "path": str(path), "targets": "n*", **load}],
    }


def test_pods_run_their_cpu_request_for_their_lifetime_round_robin(tmp_path):
    pods = pod_file(tmp_path / "pods.csv", [
        "p0,2000,1024,0,0,,LS,Running,0,500,100",       # n0: 2 cores over [100, 500)
        "p1,6000,2048,0,0,,LS,Succeeded,0,900,300",     # n1: 6 cores over [300, 900) on 4 cores
        "p2,1000,512,1,1000,,BE,Pending,50,60,",        # never scheduled: left out
        "p3,1500,4096,0,0,,BE,Failed,350,450,400",      # n0: 1.5 cores over [400, 450)
    ])
    table = virtsim.run_experiment(two_hosts(pods)).consumers.set_index("consumer")
    assert table.loc["n0", "cpu_time_s"] == pytest.approx(2 * 400 + 1.5 * 50, rel=1e-12)
    assert table.loc["n1", "cpu_time_s"] == pytest.approx(4 * 600, rel=1e-12)
    assert table.loc["n1", "steal_time_s"] == pytest.approx(2 * 600, rel=1e-12)
    assert table.loc["n1", "overload_time_s"] == pytest.approx(600, rel=1e-12)
    assert table.loc["n0", "overload_time_s"] == 0
    assert table.loc["n0", "memory_in_use_peak_bytes"] == (1024 + 4096) * 2**20


def test_start_and_count_select_the_pods(tmp_path):
    pods = pod_file(tmp_path / "pods.csv", [
        "p0,1000,1,0,0,,LS,Running,0,500,0",
        "p1,1000,1,0,0,,LS,Running,0,1500,1000",
        "p2,2000,1,0,0,,LS,Running,0,1300,1100",
        "p3,3000,1,0,0,,LS,Running,0,1300,1200",
    ])
    table = virtsim.run_experiment(two_hosts(pods, start="1000 s", count=2)).consumers.set_index("consumer")
    assert table.loc["n0", "cpu_time_s"] == pytest.approx(1 * 500, rel=1e-12)   # p1 over [0, 500)
    assert table.loc["n1", "cpu_time_s"] == pytest.approx(2 * 200, rel=1e-12)   # p2 over [100, 300)


def test_a_bad_pod_record_is_reported_with_file_and_line(tmp_path):
    pods = pod_file(tmp_path / "bad.csv", [
        "p0,1000,1,0,0,,LS,Running,0,500,0",
        "p1,-5,1,0,0,,LS,Running,0,500,0",
        "p2,1000,1,0,0,,LS,Running,0,100,200",
    ])
    with pytest.raises(ConfigError) as err:
        virtsim.load_experiment(two_hosts(pods))
    text = str(err.value)
    assert f"loads[0].path: {pods} line 3: cpu_milli must be a number of milli-cores ≥ 0, got '-5'" in text
    assert f"{pods} line 4: deletion_time 100 is before scheduled_time 200" in text


def test_the_openb_trace_loads_and_counts_its_scheduled_pods():
    spec = virtsim.load_experiment(two_hosts(OPENB))
    assert spec.loads[0].trace.pods == 8152 - 897  # the README: 897 pods are Pending


def test_the_pod_list_sample_is_the_original_file_gzipped(full_traces):
    original = full_traces / "alibaba-gpu-2023-openb" / "openb_pod_list_default.csv"
    assert gzip.decompress(OPENB.read_bytes()) == original.read_bytes()
