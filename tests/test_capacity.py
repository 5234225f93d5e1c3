"""Capacity studies: a pod trace placed by policy, hosts used and CPU fragmentation."""

from __future__ import annotations

import pandas as pd
import pytest

import virtsim
from virtsim.config import ConfigError

HEADER = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time"


def _pods(tmp_path, rows):
    path = tmp_path / "pods.csv"
    lines = [HEADER] + [f"p{k},{cpu},{mem},0,0,,LS,Running,{t},{t + 100},{t}" for k, (cpu, mem, t) in enumerate(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _experiment(tmp_path, rows, policy="first-fit", scoring="least-allocated", hosts=3):
    return {"name": "pack", "duration": "10 s", "cold_start": False,
            "hosts": [{"name": "n", "count": hosts, "hardware": {"cores": 8, "memory": "32 GiB"},
                       "host_os": "linux-server", "engine": "containerd"}],
            "placement": {"policy": policy, "scoring": scoring,
                          "containers_from": {"path": str(_pods(tmp_path, rows))}},
            "workloads": []}


def test_pods_become_containers_with_their_requests_in_scheduled_order(tmp_path):
    # Scheduled out of file order: the third pod first.
    rows = [(4000, 8192, 20), (2000, 4096, 30), (6000, 1024, 10)]
    spec = virtsim.load_experiment(_experiment(tmp_path, rows))
    placed = spec.placement.placed
    assert list(placed) == ["pod-1", "pod-2", "pod-3"]  # pod-1 is the 6-core pod scheduled at 10 s
    rooms = {room.host: room for room in spec.placement.rooms}
    assert rooms["n-1"].cpu_committed_cores == pytest.approx(6 + 2)  # first fit: 6 then 2 on n-1, 4 on n-2
    assert placed == {"pod-1": "n-1", "pod-2": "n-2", "pod-3": "n-1"}


def test_packing_uses_fewer_hosts_than_spreading_and_fragmentation_is_counted(tmp_path):
    rows = [(3000, 1024, t) for t in range(6)]  # six pods of 3 cores: two fit on an 8-core host
    results = {}
    for scoring in ("most-allocated", "least-allocated"):
        results[scoring] = virtsim.run_experiment(_experiment(tmp_path, rows, "kubernetes", scoring, hosts=4))
    packed, spread = results["most-allocated"], results["least-allocated"]
    assert packed.summary.loc[0, "hosts_used"] == 3 and spread.summary.loc[0, "hosts_used"] == 4
    # Packed: 3 hosts of 8 cores with 2 cores free each, where a 3-core pod no longer fits: 6 of 24 stranded.
    assert packed.summary.loc[0, "cpu_fragmentation"] == pytest.approx(6 / 24)
    table = packed.placement
    assert list(table.columns) == ["host", "items", "cpu_capacity_cores", "cpu_committed_cores",
                                   "memory_capacity_bytes", "memory_committed_bytes", "median_item_fits"]
    assert (table[table["items"] > 0]["median_item_fits"] == False).all()  # noqa: E712
    # Spread: every host keeps room for another pod (8 - 3 or 8 - 6 = 2 on two of them).
    assert spread.summary.loc[0, "cpu_fragmentation"] == pytest.approx(4 / 32)


def test_a_bad_pod_row_is_reported_at_the_key_that_names_the_file(tmp_path):
    exp = _experiment(tmp_path, [(1000, 1024, 0)])
    path = exp["placement"]["containers_from"]["path"]
    with open(path, "a") as fh:
        fh.write("bad,-5,1,0,0,,LS,Running,0,1,0\n")
    with pytest.raises(ConfigError) as err:
        virtsim.load_experiment(exp)
    assert "placement.containers_from.path:" in str(err.value) and "line 3" in str(err.value)


def test_the_placement_table_is_written(tmp_path):
    results = virtsim.run_experiment(_experiment(tmp_path, [(1000, 1024, 0)]))
    virtsim.write_results(results, tmp_path / "out")
    table = pd.read_csv(tmp_path / "out" / "placement.csv")
    assert list(table["host"]) == ["n-1", "n-2", "n-3"] and list(table["items"]) == [1, 0, 0]
