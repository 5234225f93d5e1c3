"""The PlanetLab-day benchmark's experiment builds and runs (a small slice of it, quickly)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import virtsim

ROOT = Path(__file__).parents[1]


def benchmark_module():
    spec = importlib.util.spec_from_file_location("planetlab_day", ROOT / "benchmarks" / "planetlab_day.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_benchmark_experiment_places_vms_round_robin_and_runs():
    bench = benchmark_module()
    exp = bench.experiment(bench.TRACES, hosts=10, vms=13)
    exp["duration"] = "2 h"
    results = virtsim.run_experiment(exp)
    table = results.consumers.set_index("consumer")
    hosts = table[table["kind"] == "host"]
    assert len(hosts) == 10 and (table["kind"] == "vm").sum() == 13
    assert table.loc["h002/vm0012", "host"] == "h002"  # VM 12 on host 12 mod 10
    assert set(hosts["size_cores"]) == {2.0}
    assert (hosts.loc[["h003", "h004"], "overload_time_s"] == 0).all()  # one VM of 2 vCPUs cannot overload 2 cores
    assert (table.loc[table["kind"] == "vm", "cpu_time_s"] > 0).all()
    assert results.summary.loc[0, "cpu_utilization"] == pytest.approx(
        hosts["cpu_time_s"].sum() / (2 * 10 * 7200), rel=1e-12)
