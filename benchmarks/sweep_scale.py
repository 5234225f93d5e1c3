"""A sweep at scale: 200 scenarios × 3 replications, serial vs a process pool vs Dask.

Each point is a small, realistic run (a web service in a NAT'd container in a
KVM guest beside a batch VM, 200 s of simulated time, about 0.1–0.3 s of wall
time). The sweep is run through ``virtsim.run_sweep`` into a fresh folder with
each executor in turn, the order rotated each repetition (the machine is
shared: each run also prints the 1-minute load average it started under, and
the CPU time of this process and of its workers, which show whether the
sweep's own process is a bottleneck); every run's ``summary.csv`` must be
byte-identical to the serial one.

    python benchmarks/sweep_scale.py [--reps 3] [--jobs 2] [--rates 20] [--clients 10]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

import virtsim

EXECUTORS = ("serial", "process", "dask")


def experiment(rates: int, clients: int) -> dict:
    return {
        "name": "sweep-scale",
        "seed": 5,
        "duration": "200 s",
        "warmup": "20 s",
        "replications": 3,
        "hosts": [{
            "name": "h1",
            "hardware": {"cores": 8, "core_speed": 1.0, "memory": "64 GiB"},
            "hypervisor": "kvm",
            "vms": [
                {"name": "web", "vcpus": 4, "memory": "8 GiB", "os": "linux-server", "engine": "docker",
                 "containers": [{"name": "app", "cpus": 2, "memory": "2 GiB", "network": "nat"}]},
                {"name": "batch", "vcpus": 4, "memory": "8 GiB", "os": "linux-server"},
            ],
        }],
        "workloads": [
            {"name": "web", "target": "h1/web/app", "type": "open",
             "arrivals": {"type": "poisson", "rate": "10 /s"},
             "demand": {"cpu": {"type": "exponential", "mean": "100 ms"}, "syscalls": 20,
                        "net": {"transactions": 1, "bytes": "4 KiB"}}},
            {"name": "batch", "target": "h1/batch", "type": "closed", "clients": 4, "think_time": "1 s",
             "demand": {"cpu": {"type": "exponential", "mean": "2 s"}}},
        ],
        "sweep": {
            "workloads[0].arrivals.rate": [f"{4 + 0.5 * k:g} /s" for k in range(rates)],
            "workloads[1].clients": list(range(1, clients + 1)),
        },
    }


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(plan, executor: str, jobs: int) -> dict:
    """Wall time, this process's CPU time and its (finished) workers' CPU time for one sweep."""
    with tempfile.TemporaryDirectory(prefix="sweep-scale-") as folder:
        load = os.getloadavg()[0]
        cpu0, children0, started = time.process_time(), _children_cpu_s(), time.perf_counter()
        run = virtsim.run_sweep(plan, folder, executor=executor, jobs=1 if executor == "serial" else jobs)
        wall_s = time.perf_counter() - started
        assert run.failed == 0 and run.ran == run.points, (executor, run.failed, run.ran)
        digest = hashlib.sha256((Path(folder) / "summary.csv").read_bytes()).hexdigest()
    return {"executor": executor, "wall_s": round(wall_s, 2), "parent_cpu_s": round(time.process_time() - cpu0, 2),
            "workers_cpu_s": round(_children_cpu_s() - children0, 2), "load_1min": round(load, 2),
            "digest": digest}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--rates", type=int, default=20)
    parser.add_argument("--clients", type=int, default=10)
    args = parser.parse_args()

    plan = virtsim.load_sweep(experiment(args.rates, args.clients))
    points = len(plan.scenarios) * plan.replications
    print(f"{len(plan.scenarios)} scenarios × {plan.replications} replications = {points} points, "
          f"{args.jobs} workers, {args.reps} repetitions")
    walls: dict[str, list[float]] = {name: [] for name in EXECUTORS}
    digests = set()
    for rep in range(args.reps):
        order = EXECUTORS[rep % 3:] + EXECUTORS[:rep % 3]
        for executor in order:
            row = run_once(plan, executor, args.jobs)
            walls[executor].append(row["wall_s"])
            digests.add(row.pop("digest"))
            print(json.dumps({"rep": rep, **row}), flush=True)
    assert len(digests) == 1, "summary.csv differs between executors"
    median = {name: statistics.median(values) for name, values in walls.items()}
    print("\n| executor | wall s (each repetition) | median s | speed-up vs serial |")
    print("|---|---|---|---|")
    for name in EXECUTORS:
        shown = ", ".join(f"{v:.1f}" for v in walls[name])
        print(f"| {name} | {shown} | {median[name]:.1f} | {median['serial'] / median[name]:.2f}× |")
    print(f"\nDask / process pool wall time: {median['dask'] / median['process']:.3f} "
          f"(per point, serial: {median['serial'] / points * 1000:.0f} ms); summary.csv identical: yes")


if __name__ == "__main__":
    main()
