"""Utilization traces: PlanetLab and Bitbrains rows drive VMs as fluid loads.

A trace says what a VM *wanted*: at each sample its CPU demand becomes the
utilization times its size, served by fair share; what it does not get is steal,
never backlog. Toy traces with known values give exact CPU time, steal and host
overload time; loaders name the file and line of a bad value and stream.
The real traces come from the repository's samples (``experiments/data/traces``);
the tests that need the full traces use ``$VIRTSIM_TRACES`` and skip without it.
"""

from __future__ import annotations

import gzip
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import virtsim
from virtsim.config import ConfigError
from virtsim.data import DataFileError, traces
from virtsim.data.traces import load_utilization_trace

ROOT = Path(__file__).parents[1]
SAMPLES = ROOT / "experiments" / "data" / "traces"
PLANETLAB_DAY = SAMPLES / "planetlab" / "planetlab_20110303.csv.gz"
BITBRAINS_SAMPLE = SAMPLES / "bitbrains-rnd" / "rnd_2013-07_vm47-68-96-386.csv.gz"
BITBRAINS_SAMPLE_VMS = ("47", "68", "96", "386")
BB_HEADER = ("vm_id,timestamp_s,cpu_cores,cpu_capacity_mhz,cpu_usage_mhz,cpu_usage_pct,mem_capacity_kb,"
             "mem_usage_kb,disk_read_kBps,disk_write_kBps,net_rx_kBps,net_tx_kBps")


def planetlab_file(path: Path, rows: dict[str, list[int]], gz: bool = True) -> Path:
    samples = len(next(iter(rows.values())))
    lines = ["vm," + ",".join(f"s{k:03d}" for k in range(samples))]
    lines += [name + "," + ",".join(str(v) for v in values) for name, values in rows.items()]
    text = "\n".join(lines) + "\n"
    if gz:
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def two_vm_host(trace: Path, duration_s: float, **load) -> dict:
    return {
        "name": "toy", "duration": f"{duration_s:g} s", "cold_start": False,
        "hosts": [{"name": "h", "hardware": {"cores": 2, "core_speed": 1.0, "memory": "8 GiB"},
                   "vms": [{"name": "a", "vcpus": 2, "memory": "1 GiB"},
                           {"name": "b", "vcpus": 2, "memory": "1 GiB"}]}],
        "loads": [{"name": "pl", "type": "utilization", "format": "planetlab", "path": str(trace),
                   "targets": ["h/a", "h/b"], **load}],
    }


def consumers(results) -> pd.DataFrame:
    return results.consumers.set_index("consumer")


def test_a_trace_of_known_values_gives_exact_cpu_time_steal_and_overload(tmp_path):
    """Three 300-s samples on a 2-core host: demands (1, 1), (2, 1) and (0, 0.4) cores.

    The second sample overloads the host (3 cores wanted): max-min gives each VM
    one core, so a loses 1 core × 300 s to steal and the host is overloaded 300 s.
    """
    trace = planetlab_file(tmp_path / "toy.csv.gz", {"x": [50, 100, 0], "y": [50, 50, 20]})
    table = consumers(virtsim.run_experiment(two_vm_host(trace, 900)))
    assert table.loc["h/a", "cpu_time_s"] == pytest.approx(600.0, rel=1e-12)
    assert table.loc["h/b", "cpu_time_s"] == pytest.approx(720.0, rel=1e-12)
    assert table.loc["h/a", "steal_time_s"] == pytest.approx(300.0, rel=1e-12)
    assert table.loc["h/b", "steal_time_s"] == pytest.approx(0.0, abs=1e-9)
    assert table.loc["h", "overload_time_s"] == pytest.approx(300.0, rel=1e-12)
    assert np.isnan(table.loc["h/a", "overload_time_s"])


def test_rows_by_name_or_index_and_the_trace_offset(tmp_path):
    trace = planetlab_file(tmp_path / "toy.csv", {"x": [10, 20, 30], "y": [40, 50, 60]}, gz=False)
    table = consumers(virtsim.run_experiment(two_vm_host(trace, 300, rows=["y", 0], start="300 s")))
    # a follows y from its second sample (50 % of 2 cores), b follows x (20 %), for 300 s.
    assert table.loc["h/a", "cpu_time_s"] == pytest.approx(300.0, rel=1e-12)
    assert table.loc["h/b", "cpu_time_s"] == pytest.approx(120.0, rel=1e-12)


def test_the_trace_ends_after_its_last_sample(tmp_path):
    trace = planetlab_file(tmp_path / "toy.csv.gz", {"x": [100], "y": [0]})
    table = consumers(virtsim.run_experiment(two_vm_host(trace, 900)))
    assert table.loc["h/a", "cpu_time_s"] == pytest.approx(600.0, rel=1e-12)  # 2 cores × 300 s, then nothing


def test_one_entry_maps_the_first_rows_onto_every_vm_in_file_order():
    """The PlanetLab day on 3 hosts × 2 VMs: each VM's CPU time is its row's ∫ utilization × size."""
    day = pd.read_csv(PLANETLAB_DAY, nrows=6)
    exp = {
        "name": "six", "duration": "24 h", "cold_start": False,
        "hosts": [{"name": f"h{k}", "hardware": {"cores": 64, "memory": "64 GiB"},
                   "vms": [{"name": f"v{j}", "vcpus": 2, "memory": "1 GiB"} for j in range(2)]} for k in range(3)],
        "loads": [{"name": "day", "type": "utilization", "format": "planetlab", "path": str(PLANETLAB_DAY),
                   "targets": "*/*"}],
    }
    table = consumers(virtsim.run_experiment(exp))
    vms = [f"h{k}/v{j}" for k in range(3) for j in range(2)]
    expected = day.iloc[:, 1:].sum(axis=1).to_numpy() / 100 * 300 * 2
    assert table.loc[vms, "cpu_time_s"].to_numpy() == pytest.approx(expected, rel=1e-12)
    assert (table.loc[vms, "steal_time_s"] < 1e-6).all()


def test_load_problems_name_the_key(tmp_path):
    trace = planetlab_file(tmp_path / "toy.csv.gz", {"x": [1, 2], "y": [3, 4]})
    exp = two_vm_host(trace, 600, rows=[0])
    exp["loads"].append({"name": "more", "type": "utilization", "format": "planetlab", "path": str(trace),
                         "targets": "h/nothing*"})
    exp["loads"].append({"name": "again", "type": "utilization", "format": "planetlab", "path": str(trace),
                         "targets": ["h/b", "h/c"]})
    with pytest.raises(ConfigError) as err:
        virtsim.load_experiment(exp)
    text = str(err.value)
    assert "loads[0].rows: 1 rows for 2 targets" in text
    assert "loads[1].targets: pattern 'h/nothing*' matches no host, VM or container" in text
    assert "loads[2].targets: 'h/b' already follows load 'pl'" in text
    assert "loads[2].targets: unknown target 'h/c'" in text


def test_a_bad_planetlab_value_is_reported_with_file_and_line(tmp_path):
    trace = planetlab_file(tmp_path / "bad.csv.gz", {"x": [1, 2], "y": [3, 101], "z": [5, "six"]})
    with pytest.raises(ConfigError) as err:
        virtsim.load_experiment(two_vm_host(trace, 600, rows=["y", "z"]))
    text = str(err.value)
    assert f"loads[0].path: {trace} line 3: s001 of 'y' must be an integer percent from 0 to 100, got '101'" in text
    assert f"{trace} line 4: s001 of 'z' must be an integer percent from 0 to 100, got 'six'" in text


def test_a_missing_row_is_reported(tmp_path):
    trace = planetlab_file(tmp_path / "toy.csv.gz", {"x": [1], "y": [3]})
    with pytest.raises(ConfigError, match=r"1 row\(s\) not in the trace: 'w'"):
        virtsim.load_experiment(two_vm_host(trace, 600, rows=["x", "w"]))


# --- Bitbrains -------------------------------------------------------------------


def bitbrains_file(path: Path, rows: list[str]) -> Path:
    path.write_bytes(gzip.compress(("\n".join([BB_HEADER, *rows]) + "\n").encode()))
    return path


def bb_row(vm: int, t: int, capacity: float, usage: float, mem_kb: float, disk: float, net: float) -> str:
    return f"{vm},{t},2,{capacity},{usage},{usage / capacity * 100 if capacity else 0},8388608,{mem_kb}," \
           f"{disk},{disk},{net},{net}"


def test_bitbrains_drives_cpu_disk_and_network_and_reports_memory(tmp_path):
    t0 = 1372629804
    july = bitbrains_file(tmp_path / "m1.csv.gz", [
        bb_row(8, t0, 5200, 2600, 1000, 0, 0),
        bb_row(8, t0 + 300, 5200, 5200, 3000, 512, 64),
        bb_row(8, t0 + 300, 5200, 5200, 3000, 512, 64),  # an exact duplicate: kept once
        bb_row(9, t0, 2600, 0, 10, 0, 0),
    ])
    august = bitbrains_file(tmp_path / "m2.csv.gz", [bb_row(8, t0 + 600, 0, 0, 500, 0, 0)])
    exp = {
        "name": "bb", "duration": "900 s", "cold_start": False,
        "hosts": [{"name": "h", "hardware": "server-1s-16c", "vms": [{"name": "a", "vcpus": 2, "memory": "8 GiB"}]}],
        "loads": [{"name": "bb", "type": "utilization", "format": "bitbrains", "path": [str(july), str(august)],
                   "targets": "h/a", "rows": [8]}],
    }
    exp["sample_interval"] = "450 s"
    spec = virtsim.load_experiment(exp)
    sim = virtsim.Simulation(spec).run()
    results = virtsim.collect(sim)
    table = consumers(results)
    series = results.timeseries[results.timeseries["consumer"] == "h/a"]["memory_in_use_mean_bytes"]
    # 1000 KiB for 300 s and 3000 KiB for 150 s; then 3000 KiB for 150 s and 500 KiB for 300 s.
    assert series.to_numpy() == pytest.approx([(1000 * 300 + 3000 * 150) * 1024 / 450,
                                               (3000 * 150 + 500 * 300) * 1024 / 450], rel=1e-12)
    # 50 % of 2 vCPUs for 300 s, then 100 % for 300 s, then unprovisioned (0).
    speed = spec.hosts[0].hardware.core_speed
    assert table.loc["h/a", "cpu_time_s"] == pytest.approx((0.5 * 2 * 300 + 2 * 300), rel=1e-12)
    assert table.loc["h/a", "memory_in_use_peak_bytes"] == 3000 * 1024
    disk = sim.platform.disks["h"][0]
    alloc, _ = disk.nodes["h/a"].time_integrals(900.0)
    assert alloc == pytest.approx(2 * 512 * 1024 * 300 / disk.spec.bandwidth_bytes_per_s, rel=1e-12)
    nic = sim.platform.nics["h"][0]
    alloc, _ = nic.nodes["h/a"].time_integrals(900.0)
    assert alloc == pytest.approx(2 * 64 * 1024 * 300, rel=1e-12)
    assert speed > 0


def test_a_bitbrains_sample_holds_at_most_an_hour_across_a_gap(tmp_path):
    t0 = 1372629804
    gap = bitbrains_file(tmp_path / "gap.csv.gz", [bb_row(8, t0, 2600, 1300, 1, 0, 0),
                                                    bb_row(8, t0 + 10 * 3600, 2600, 2600, 1, 0, 0),
                                                    bb_row(8, t0 + 10 * 3600 + 300, 2600, 2600, 1, 0, 0)])
    cpu = load_utilization_trace("bitbrains", [gap], [8], 1).rows[0].cpu
    assert cpu.times_s.tolist() == [0.0, 3600.0, 36000.0]
    assert cpu.values.tolist() == [0.5, 0.0, 1.0]
    assert cpu.integral(0, 40_000) == pytest.approx(0.5 * 3600 + 1.0 * 600, rel=1e-12)


def test_a_bad_bitbrains_row_is_reported_with_file_and_line(tmp_path):
    t0 = 1372629804
    bad = bitbrains_file(tmp_path / "bad.csv.gz", [
        bb_row(8, t0, 2600, 26, 1, 0, 0),
        bb_row(8, t0 + 300, 2600, 26, 1, -4, 0),
        bb_row(8, t0 + 600, 2600, 26, 1, 0, 0).replace(",26,", ",lots,", 1),
        bb_row(8, t0 + 100, 2600, 26, 1, 0, 0),
    ])
    with pytest.raises(DataFileError) as err:
        load_utilization_trace("bitbrains", [bad], [8], 1)
    found = {(p.line, p.message) for p in err.value.problems}
    assert err.value.file == str(bad)
    assert (3, "disk_read_kBps must be a number of KB/s ≥ 0, got -4") in found
    assert (3, "disk_write_kBps must be a number of KB/s ≥ 0, got -4") in found
    assert (4, "cpu_usage_mhz must be a number of MHz ≥ 0, got 'lots'") in found


def test_bitbrains_samples_out_of_order_are_reported(tmp_path):
    t0 = 1372629804
    bad = bitbrains_file(tmp_path / "late.csv.gz", [bb_row(8, t0, 2600, 26, 1, 0, 0),
                                                     bb_row(8, t0 - 300, 2600, 26, 1, 0, 0)])
    with pytest.raises(DataFileError) as err:
        load_utilization_trace("bitbrains", [bad], None, 1)
    assert [(p.line, p.message) for p in err.value.problems] == [
        (3, f"timestamp_s {t0 - 300} of VM 8 is earlier than its previous sample's")]


def test_a_long_bitbrains_file_streams_in_bounded_memory(tmp_path, monkeypatch):
    """120,000 rows of 24 VMs, read in chunks of 6,000 rows, two VMs kept.

    The peak of traced memory follows the chunk, not the file: it stays below a
    third of what reading the file whole with pandas costs (measured: about a
    sixth), and the kept VMs' values are all there.
    """
    vms, samples = 24, 5000
    rng = np.random.default_rng(5)
    capacity = 2600.0
    usage = rng.uniform(0, capacity, vms * samples).round(3)
    table = pd.DataFrame({
        "vm_id": np.repeat(np.arange(1, vms + 1), samples),
        "timestamp_s": np.tile(1372629804 + 300 * np.arange(samples), vms),
        "cpu_cores": 1, "cpu_capacity_mhz": capacity, "cpu_usage_mhz": usage,
        "cpu_usage_pct": (usage / capacity * 100).round(3), "mem_capacity_kb": 4194304.0,
        "mem_usage_kb": rng.uniform(0, 4e6, vms * samples).round(1),
        "disk_read_kBps": 0.0, "disk_write_kBps": 1.5, "net_rx_kBps": 0.5, "net_tx_kBps": 0.25})
    path = tmp_path / "long.csv"
    table.to_csv(path, index=False)
    tracemalloc.start()
    try:
        pd.read_csv(path)
        _, whole = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    monkeypatch.setattr(traces, "CHUNK_ROWS", 6000)
    tracemalloc.start()
    try:
        trace = load_utilization_trace("bitbrains", [path], [3, 17], 2)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < whole / 3
    for row, vm in zip(trace.rows, (3, 17)):
        mine = usage[(vm - 1) * samples:vm * samples] / capacity
        assert row.cpu.integral(0, row.cpu.end_s) == pytest.approx(mine.sum() * 300, rel=1e-12)


def test_three_months_of_bitbrains_stream_in_bounded_memory(full_traces):
    """The three monthly files of the full traces hold 1.2 million rows (about 116 MB as a float table).

    Five VMs are kept; the files are read in chunks, so the peak of traced
    memory (measured: 27 MiB) stays below what one month read whole with pandas
    costs (45 MiB), let alone three.
    """
    months = [full_traces / "bitbrains-rnd" / f"rnd_2013-0{m}.csv.gz" for m in (7, 8, 9)]
    tracemalloc.start()
    try:
        trace = load_utilization_trace("bitbrains", months, [8, 14, 31, 34, 47], 5)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [row.name for row in trace.rows] == ["8", "14", "31", "34", "47"]
    assert trace.rows[0].cpu.end_s > 85 * 86400  # three months, one time axis
    assert peak < 40 * 2**20


def test_trace_runs_are_deterministic(tmp_path):
    trace = planetlab_file(tmp_path / "toy.csv.gz", {"x": [50, 100, 7], "y": [50, 50, 20]})
    exp = two_vm_host(trace, 900)
    exp["workloads"] = [{"name": "w", "target": "h/a", "type": "open", "arrivals": {"type": "poisson", "rate": "2 /s"},
                         "demand": {"cpu": {"type": "exponential", "mean": "100 ms"}}}]
    first, second = virtsim.run_experiment(exp), virtsim.run_experiment(exp)
    pd.testing.assert_frame_equal(first.consumers, second.consumers)
    pd.testing.assert_frame_equal(first.jobs, second.jobs)


def test_a_spec_rebuilt_from_its_dump_reads_the_trace_again(tmp_path):
    """Workers get plain data: the parsed rows are not in the dump, only the files, their hash and the rows."""
    trace = planetlab_file(tmp_path / "toy.csv.gz", {"x": [50, 100, 0], "y": [50, 50, 20]})
    spec = virtsim.load_experiment(two_vm_host(trace, 900))
    dumped = virtsim.config.dump_resolved(spec)
    assert "trace" not in dumped["loads"][0] and dumped["loads"][0]["sha256"] == spec.loads[0].sha256
    rebuilt = type(spec).model_validate(dumped)
    assert rebuilt.loads[0].trace is None
    pd.testing.assert_frame_equal(virtsim.run_spec(rebuilt).consumers, virtsim.run_spec(spec).consumers)


# --- the repository's samples against the full traces ----------------------------------


def test_the_planetlab_sample_is_the_whole_day_of_the_full_traces(full_traces):
    assert PLANETLAB_DAY.read_bytes() == (full_traces / "planetlab" / PLANETLAB_DAY.name).read_bytes()


def test_the_bitbrains_sample_is_every_row_of_its_vms_in_the_full_month(full_traces):
    """The cut its README describes: the header, then the four VMs' rows in file order."""
    with gzip.open(full_traces / "bitbrains-rnd" / "rnd_2013-07.csv.gz", "rt", encoding="utf-8", newline="") as month:
        kept = [line for k, line in enumerate(month) if k == 0 or line.split(",", 1)[0] in BITBRAINS_SAMPLE_VMS]
    assert gzip.decompress(BITBRAINS_SAMPLE.read_bytes()).decode("utf-8") == "".join(kept)


def test_the_bitbrains_experiment_gives_the_same_results_on_the_full_month(full_traces):
    path = ROOT / "experiments" / "workloads" / "bitbrains.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["duration"] = "6 h"
    sample = virtsim.run_spec(virtsim.load_experiment(raw, base_dir=path.parent))
    raw["loads"][0]["path"] = [str(full_traces / "bitbrains-rnd" / "rnd_2013-07.csv.gz")]
    full = virtsim.run_spec(virtsim.load_experiment(raw, base_dir=path.parent))
    assert sample.consumers["cpu_time_s"].sum() > 0
    for table in ("summary", "consumers", "workloads", "jobs"):
        pd.testing.assert_frame_equal(getattr(sample, table), getattr(full, table))
