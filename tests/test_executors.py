"""Executors: serial, a local process pool, a real Dask LocalCluster.

Workers receive plain data (the resolved scenario and a seed) and every
executor runs points through the same function, so the stored tables are
identical, byte for byte, whichever ran them. A worker that dies mid-sweep
does not lose the sweep: its points are rerun, and a point whose worker keeps
dying is reported as failed while the rest complete.
"""

from __future__ import annotations

import hashlib
import os
import signal
import threading
import time
from pathlib import Path

import psutil
import pytest

import virtsim
from virtsim.experiment.executors import MAX_WORKER_DEATHS

EXPERIMENT = """\
name: executors
seed: 21
duration: 60 s
warmup: 6 s
replications: 2
hosts:
  - name: h1
    hardware: {cores: 2, core_speed: 1.0, memory: 8 GiB}
    hypervisor: kvm
    vms:
      - {name: vm, vcpus: 2, memory: 2 GiB, os: linux-server}
workloads:
  - name: web
    target: h1/vm
    type: open
    arrivals: {type: poisson, rate: 1 /s}
    demand: {cpu: {type: exponential, mean: 0.5 s}, syscalls: 10}
sweep:
  hosts[0].vms[0].vcpus: [1, 2]
  workloads[0].arrivals.rate: [0.5 /s, 1.5 /s]
"""


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    path = tmp_path_factory.mktemp("executors") / "executors.yaml"
    path.write_text(EXPERIMENT)
    return virtsim.load_sweep(path)


@pytest.fixture(scope="module")
def long_plan(tmp_path_factory):
    """Points long enough (about 0.2 s each) that a sweep is surely in flight when a worker is killed."""
    path = tmp_path_factory.mktemp("executors") / "long.yaml"
    path.write_text(EXPERIMENT.replace("duration: 60 s", "duration: 600 s"))
    return virtsim.load_sweep(path)


def file_digests(folder: Path) -> dict[str, str]:
    """sha256 of every result file under ``folder`` except the manifests (they hold timings)."""
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file() and path.suffix in (".csv", ".parquet")}


def test_serial_process_pool_and_dask_give_byte_identical_results(plan, tmp_path):
    digests = {}
    for executor, jobs in (("serial", 1), ("process", 2), ("dask", 2)):
        run = virtsim.run_sweep(plan, tmp_path / executor, executor=executor, jobs=jobs)
        assert (run.points, run.ran, run.failed) == (8, 8, 0), executor
        digests[executor] = file_digests(tmp_path / executor)
    assert len(digests["serial"]) == 8 * 5 + 5  # 5 Parquet tables per point; summary, workloads, stacks,
    assert digests["process"] == digests["serial"]  # consumers and scenarios as CSV
    assert digests["dask"] == digests["serial"]


def pool_workers() -> list[psutil.Process]:
    """This process's spawned pool workers (not the resource tracker)."""
    return [p for p in psutil.Process().children(recursive=True)
            if any("spawn_main" in part for part in _cmdline(p))]


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.Error:
        return []


class Killer(threading.Thread):
    """Kills pool workers with SIGKILL: ``once`` after the first stored point, or all, always."""

    def __init__(self, points_dir: Path, once: bool):
        super().__init__(daemon=True)
        self.points_dir, self.once, self.killed, self.stop = points_dir, once, 0, threading.Event()

    def run(self):
        while not self.stop.is_set():
            ready = not self.once or (self.points_dir.is_dir() and any(self.points_dir.iterdir()))
            for worker in pool_workers() if ready else []:
                try:
                    os.kill(worker.pid, signal.SIGKILL)
                    self.killed += 1
                except ProcessLookupError:
                    continue
                if self.once:
                    return
            time.sleep(0.01)


def sweep_while_killing(plan, folder: Path, executor: str, *, once: bool):
    """Run ``plan`` on two workers into ``folder`` while a :class:`Killer` kills them; (run, killer)."""
    killer = Killer(folder / "points", once=once)
    killer.start()
    try:
        return virtsim.run_sweep(plan, folder, executor=executor, jobs=2), killer
    finally:
        killer.stop.set()
        killer.join(timeout=5)


def test_a_worker_killed_mid_sweep_loses_nothing(long_plan, tmp_path):
    plan = long_plan
    reference = virtsim.run_sweep(plan, tmp_path / "reference", executor="serial")
    run, killer = sweep_while_killing(plan, tmp_path / "killed", "process", once=True)
    assert killer.killed == 1
    assert (run.ran, run.failed) == (8, 0)
    assert (tmp_path / "killed" / "summary.csv").read_bytes() == (tmp_path / "reference" / "summary.csv").read_bytes()
    assert reference.results.summary.shape == run.results.summary.shape


def test_points_whose_worker_keeps_dying_are_reported_as_failed(tmp_path):
    path = tmp_path / "two.yaml"
    path.write_text(EXPERIMENT.replace("replications: 2\n", "").replace("[0.5 /s, 1.5 /s]", "[1 /s]"))
    plan = virtsim.load_sweep(path)
    run, _ = sweep_while_killing(plan, tmp_path / "out", "process", once=False)
    assert (run.points, run.ran, run.failed) == (2, 0, 2)
    failures = run.results.failures
    assert list(failures["scenario"]) == [0, 1]
    assert all(f"died {MAX_WORKER_DEATHS} times" in error for error in failures["error"])
    assert (tmp_path / "out" / "failures.csv").exists()
    assert run.results.summary.empty


def test_a_dask_worker_killed_mid_sweep_loses_nothing(long_plan, tmp_path):
    """The nanny restarts the worker and the scheduler reruns its points."""
    plan = long_plan
    run, killer = sweep_while_killing(plan, tmp_path / "dask", "dask", once=True)
    assert killer.killed == 1
    assert (run.ran, run.failed) == (8, 0)
    serial = virtsim.run_sweep(plan, tmp_path / "serial", executor="serial")
    assert run.results.summary.equals(serial.results.summary)


def test_a_sweep_joins_an_existing_dask_cluster_by_its_scheduler_address(plan, tmp_path):
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        run = virtsim.run_sweep(plan, tmp_path / "joined", executor="dask", scheduler=cluster.scheduler_address)
        assert len(cluster.workers) == 1  # the cluster outlives the sweep: only the client is closed
    assert (run.ran, run.failed) == (8, 0)
    virtsim.run_sweep(plan, tmp_path / "serial", executor="serial")
    assert file_digests(tmp_path / "joined") == file_digests(tmp_path / "serial")
