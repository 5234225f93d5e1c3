"""Durable, resumable sweeps.

Each finished point is written atomically into its own folder (Parquet tables
and a manifest holding their sha256). A sweep killed with ``kill -9`` loses at
most the points in flight; rerunning the same command skips the finished
points and produces exactly the tables an uninterrupted sweep gives, nothing
lost or duplicated. A damaged point is detected, never read, and run again.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import virtsim

EXPERIMENT = """\
name: resumable
seed: 8
duration: 400 s
warmup: 40 s
replications: 2
hosts:
  - name: h1
    hardware: {cores: 4, core_speed: 1.0, memory: 8 GiB}
    vms:
      - {name: vm, vcpus: 2, memory: 2 GiB}
workloads:
  - name: web
    target: h1/vm
    type: open
    arrivals: {type: poisson, rate: 2 /s}
    demand: {cpu: {type: exponential, mean: 0.5 s}}
sweep:
  workloads[0].arrivals.rate: [1 /s, 1.5 /s, 2 /s, 2.5 /s, 3 /s, 3.5 /s]
"""
POINTS = 12


def cli(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "virtsim.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def finished(points_dir: Path) -> list[Path]:
    return sorted(p for p in points_dir.iterdir() if not p.name.startswith(".")) if points_dir.is_dir() else []


def test_a_sweep_killed_with_sigkill_resumes_without_losing_or_repeating_a_point(tmp_path):
    path = tmp_path / "resumable.yaml"
    path.write_text(EXPERIMENT)
    out = tmp_path / "out"
    process = cli("run", str(path), "-o", str(out))
    deadline = time.monotonic() + 120
    while len(finished(out / "points")) < 3:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the sweep stored no points in time"
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    before = {p.name: (p.stat().st_ino, (p / "manifest.json").stat().st_mtime_ns) for p in finished(out / "points")}
    assert 3 <= len(before) < POINTS
    assert not (out / "summary.csv").exists()  # the sweep never got to its end

    resumed = cli("run", str(path), "-o", str(out))
    stdout, stderr = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, stderr
    done = len(before)
    assert f"{POINTS} points: {POINTS - done} run, {done} already done, 0 failed" in stdout
    # The points finished before the kill were kept as they were, not recomputed.
    for point in finished(out / "points"):
        if point.name in before:
            assert (point.stat().st_ino, (point / "manifest.json").stat().st_mtime_ns) == before[point.name]
    assert len(finished(out / "points")) == POINTS
    assert not any(p.name.startswith(".tmp-") for p in (out / "points").iterdir())

    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == POINTS and not summary.duplicated(["scenario", "replication"]).any()
    # Byte for byte what an uninterrupted sweep writes.
    fresh = tmp_path / "fresh"
    virtsim.run_sweep(virtsim.load_sweep(path), fresh)
    for name in ("summary.csv", "scenarios.csv", "workloads.csv", "consumers.csv", "stacks.csv"):
        assert (out / name).read_bytes() == (fresh / name).read_bytes(), name


@pytest.fixture
def finished_sweep(tmp_path):
    path = tmp_path / "resumable.yaml"
    path.write_text(EXPERIMENT.replace("400 s", "100 s").replace("40 s", "10 s"))
    plan = virtsim.load_sweep(path)
    out = tmp_path / "out"
    virtsim.run_sweep(plan, out)
    return plan, out


def test_a_corrupt_or_partial_point_is_detected_not_read_and_run_again(finished_sweep, tmp_path):
    plan, out = finished_sweep
    original = (out / "summary.csv").read_bytes()
    points = json.loads((out / "sweep.json").read_text())["points"]
    damaged, partial = out / "points" / points[3]["key"], out / "points" / points[7]["key"]
    table = damaged / "workloads.parquet"
    table.write_bytes(table.read_bytes()[:-20])  # truncated
    (partial / "manifest.json").unlink()  # as if a folder had been copied half-way

    with pytest.warns(UserWarning, match="2 point"):
        results = virtsim.read_results(out)
    assert len(results.summary) == POINTS - 2
    assert sorted(results.problems) == sorted([
        f"scenario 1 replication 1: {damaged}: workloads.parquet does not match its sha256 in manifest.json",
        f"scenario 3 replication 1: {partial}: no manifest.json (a partial point)",
    ])
    assert (1, 1) not in set(zip(results.summary["scenario"], results.summary["replication"]))

    run = virtsim.run_sweep(plan, out)
    assert (run.already_done, run.ran, run.failed) == (POINTS - 2, 2, 0)
    assert len(run.corrupt) == 2
    assert (out / "summary.csv").read_bytes() == original
    assert virtsim.read_results(out).problems == []


def test_a_rerun_of_a_finished_sweep_runs_nothing(finished_sweep):
    plan, out = finished_sweep
    run = virtsim.run_sweep(plan, out, executor="process", jobs=2)
    assert (run.points, run.already_done, run.ran) == (POINTS, POINTS, 0)


def test_a_changed_scenario_is_a_new_point(finished_sweep, tmp_path):
    plan, out = finished_sweep
    changed = tmp_path / "changed.yaml"
    changed.write_text(EXPERIMENT.replace("400 s", "100 s").replace("40 s", "10 s").replace("3.5 /s", "4 /s"))
    run = virtsim.run_sweep(virtsim.load_sweep(changed), out)
    assert (run.already_done, run.ran) == (POINTS - 2, 2)
    assert len(run.results.summary) == POINTS  # the old scenario's points stay on disk but are not in the tables


def test_read_results_reads_a_single_runs_folder(tmp_path):
    root = Path(__file__).parents[1]
    spec = virtsim.load_experiment(root / "experiments" / "mm1.yaml").model_copy(update={"duration_s": 2000.0})
    written = virtsim.run_spec(spec)
    virtsim.write_results(written, tmp_path / "run")
    read = virtsim.read_results(tmp_path / "run")
    assert isinstance(read, virtsim.Results)
    assert read.summary["jobs_completed"].iloc[0] == written.summary["jobs_completed"].iloc[0]
    assert len(read.jobs) == len(written.jobs)
    assert read.manifest["config_sha256"] == written.manifest["config_sha256"]
    with pytest.raises(FileNotFoundError, match="no sweep.json"):
        virtsim.read_results(tmp_path)
