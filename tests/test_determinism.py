"""Reproducibility and the time-integrated per-consumer table.

The same experiment and seed give byte-identical tables, in one process or in
two; a different seed gives different results. The consumer table integrates
allocations over the measured time, so hand-computable loads give exact CPU
times, utilizations and steal times.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import virtsim
from virtsim.experiment.manifest import TIMING_FIELDS

ROOT = Path(__file__).parents[1]
TABLES = ("summary.csv", "workloads.csv", "stacks.csv", "consumers.csv", "jobs.csv")

EXPERIMENT = """\
name: determinism
seed: 11
duration: 300 s
warmup: 30 s
hosts:
  - name: h1
    hardware: {cores: 4, core_speed: 1.0, memory: 16 GiB}
    vms:
      - {name: a, vcpus: 3, memory: 4 GiB, shares: 2000}
      - name: b
        vcpus: 2
        memory: 4 GiB
        containers:
          - {name: web, cpus: 1.5, memory: 1 GiB}
  - name: h2
    hardware: {cores: 2, core_speed: 1.5, memory: 8 GiB}
workloads:
  - name: web
    target: h1/b/web
    type: open
    arrivals: {type: poisson, rate: 2 /s}
    demand: {cpu: {type: lognormal, mean: 0.4 s, sigma: 0.8}}
  - name: batch
    target: h1/a
    type: closed
    clients: 5
    think_time: {type: exponential, mean: 1 s}
    demand: {cpu: {type: exponential, mean: 3 s}, threads: 2}
  - name: native
    target: h2
    type: open
    arrivals: {type: poisson, rate: 1.5 /s}
    demand: {cpu: {type: exponential, mean: 1 s}}
"""


def manifest_without_timing(folder: Path) -> dict:
    manifest = json.loads((folder / "manifest.json").read_text())
    for key in TIMING_FIELDS:
        assert key in manifest
        del manifest[key]
    return manifest


def assert_same_outputs(first: Path, second: Path) -> None:
    for name in TABLES:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    assert manifest_without_timing(first) == manifest_without_timing(second)


@pytest.fixture
def experiment(tmp_path) -> Path:
    path = tmp_path / "determinism.yaml"
    path.write_text(EXPERIMENT)
    return path


def test_two_processes_write_byte_identical_tables(experiment):
    folder = experiment.parent
    procs = [subprocess.Popen([sys.executable, "-m", "virtsim.cli", "run", experiment.name, "-o", out],
                              cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for out in ("one", "two")]
    outputs = [proc.communicate(timeout=120) for proc in procs]
    for proc, (stdout, stderr) in zip(procs, outputs):
        assert proc.returncode == 0, stderr
    summaries = [stdout.splitlines() for stdout, _ in outputs]
    assert summaries[0][-1] == "results written to one/" and summaries[1][-1] == "results written to two/"
    assert summaries[0][:-1] == summaries[1][:-1]  # the printed summary too
    assert_same_outputs(folder / "one", folder / "two")
    jobs = pd.read_csv(folder / "one" / "jobs.csv")
    assert set(jobs["workload"]) == {"web", "batch", "native"} and len(jobs) > 500

    # The same run inside this process gives the same tables as the command did.
    results = virtsim.run_experiment(experiment)
    virtsim.write_results(results, folder / "three")
    for name in TABLES:
        assert (folder / "three" / name).read_bytes() == (folder / "one" / name).read_bytes(), name


def test_one_process_twice_is_byte_identical(experiment, tmp_path):
    for out in ("first", "second"):
        virtsim.write_results(virtsim.run_experiment(experiment), tmp_path / out)
    assert_same_outputs(tmp_path / "first", tmp_path / "second")


def test_a_different_seed_gives_different_results(experiment, tmp_path):
    base = virtsim.run_experiment(experiment)
    other = virtsim.run_experiment(experiment, seed=12)
    again = virtsim.run_experiment(experiment, seed=11)
    assert other.summary["seed"].iloc[0] == 12
    assert not base.jobs["arrival_s"].equals(other.jobs["arrival_s"])
    assert base.summary["response_time_mean_s"].iloc[0] != other.summary["response_time_mean_s"].iloc[0]
    assert base.jobs.equals(again.jobs) and base.consumers.equals(again.consumers)


def test_random_streams_do_not_depend_on_the_other_workloads(experiment):
    """Removing a workload on another host leaves the others' draws unchanged."""
    import yaml

    raw = yaml.safe_load(EXPERIMENT)
    raw["workloads"] = [w for w in raw["workloads"] if w["name"] != "batch"]
    base = virtsim.run_experiment(experiment).jobs
    fewer = virtsim.run_experiment(raw).jobs
    native = lambda jobs: jobs[jobs["workload"] == "native"][["arrival_s", "end_s"]].reset_index(drop=True)  # noqa: E731
    pd.testing.assert_frame_equal(native(base), native(fewer))


def test_the_config_hash_does_not_depend_on_where_the_files_lie(tmp_path):
    """The trace-replay experiment (with its arrivals file) copied to two places."""
    hashes = []
    for place in ("here", "there/deeper"):
        folder = tmp_path / place
        shutil.copytree(ROOT / "experiments", folder)
        spec = virtsim.load_experiment(folder / "trace-replay.yaml")
        manifest = virtsim.run_spec(spec.model_copy(update={"duration_s": 10.0})).manifest
        hashes.append(manifest["config_sha256"])
    assert hashes[0] == hashes[1]


def test_the_config_hash_follows_the_content(tmp_path):
    edited = EXPERIMENT.replace("rate: 2 /s", "rate: 2.5 /s")
    path = tmp_path / "edited.yaml"
    path.write_text(edited)
    short = {"duration_s": 5.0, "warmup_s": 0.0}
    hash_of = lambda p: virtsim.run_spec(virtsim.load_experiment(p).model_copy(update=short)).manifest["config_sha256"]  # noqa: E731
    original = tmp_path / "original.yaml"
    original.write_text(EXPERIMENT)
    assert hash_of(original) != hash_of(path)


# -- the per-consumer table is time-integrated --------------------------------------------


def two_vms(*, shares=(1000, 1000), cores=4, core_speed=1.0, clients=8, think="0 s", demand="3 s") -> dict:
    return {
        "name": "integrals", "seed": 1, "duration": "110 s", "warmup": "10 s",
        "hosts": [{"name": "h", "hardware": {"cores": cores, "core_speed": core_speed, "memory": "16 GiB"},
                   "vms": [{"name": "a", "vcpus": 4, "memory": "4 GiB", "shares": shares[0]},
                           {"name": "b", "vcpus": 4, "memory": "4 GiB", "shares": shares[1]}]}],
        "workloads": [{"name": vm, "target": f"h/{vm}", "type": "closed", "clients": clients,
                       "think_time": think, "demand": {"cpu": {"type": "constant", "value": demand}}}
                      for vm in ("a", "b")],
    }


def consumers(experiment: dict) -> pd.DataFrame:
    return virtsim.run_experiment(experiment).consumers.set_index("consumer")


MEASURED = 100.0
approx = lambda value: pytest.approx(value, rel=1e-9, abs=1e-9)  # noqa: E731


def test_a_vm_kept_busy_is_fully_used_and_has_no_steal():
    table = consumers(two_vms(cores=8))  # 8 cores: both VMs get their 4 vCPUs
    for vm in ("h/a", "h/b"):
        assert table.loc[vm, "cpu_utilization"] == approx(1.0)
        assert table.loc[vm, "cpu_time_s"] == approx(4 * MEASURED)
        assert table.loc[vm, "steal_time_s"] == approx(0.0)
    assert table.loc["h", "cpu_time_s"] == approx(8 * MEASURED)
    assert table.loc["h", "cpu_utilization"] == approx(1.0)


def test_utilization_is_integrated_not_sampled():
    # One client: 1 s of CPU, then 1 s of thinking, on a 4-vCPU VM: busy half the time on one vCPU.
    table = consumers(two_vms(cores=8, clients=1, think="1 s", demand="1 s"))
    assert table.loc["h/a", "cpu_time_s"] == approx(MEASURED / 2)
    assert table.loc["h/a", "cpu_utilization"] == approx(1 / 8)
    assert table.loc["h", "cpu_time_s"] == approx(MEASURED)
    assert table.loc["h", "cpu_utilization"] == approx(1 / 8)
    assert table["steal_time_s"].max() == approx(0.0)


def test_cpu_time_is_in_core_seconds_on_fast_cores():
    # Speed-2 cores: the work is done twice as fast, but a busy 4-vCPU VM still uses 4 cores.
    results = virtsim.run_experiment(two_vms(cores=8, core_speed=2.0, clients=4))
    table = results.consumers.set_index("consumer")
    assert table.loc["h/a", "cpu_time_s"] == approx(4 * MEASURED)
    assert table.loc["h/a", "cpu_utilization"] == approx(1.0)
    done = results.jobs.dropna(subset=["end_s"])
    assert (done["response_time_s"] - 1.5).abs().max() < 1e-9  # 3 s of reference work at speed 2


def test_contending_vms_each_get_half_and_the_rest_is_steal():
    # Two 4-vCPU VMs, 8 busy clients each, on a 4-core host: 2 cores each.
    table = consumers(two_vms())
    for vm in ("h/a", "h/b"):
        assert table.loc[vm, "cpu_time_s"] == approx(2 * MEASURED)
        assert table.loc[vm, "cpu_utilization"] == approx(0.5)
        assert table.loc[vm, "steal_time_s"] == approx(2 * MEASURED)
    assert table.loc["h", "cpu_utilization"] == approx(1.0)


def test_contending_vms_split_by_shares():
    # Shares 2:1 split the 4 cores 8/3 : 4/3; each VM wanted all 4 of its vCPUs.
    table = consumers(two_vms(shares=(2000, 1000)))
    assert table.loc["h/a", "cpu_time_s"] == approx(8 / 3 * MEASURED)
    assert table.loc["h/b", "cpu_time_s"] == approx(4 / 3 * MEASURED)
    assert table.loc["h/a", "steal_time_s"] == approx((4 - 8 / 3) * MEASURED)
    assert table.loc["h/b", "steal_time_s"] == approx((4 - 4 / 3) * MEASURED)
    assert table.loc["h", "cpu_time_s"] == approx(4 * MEASURED)
