"""One day of PlanetLab (2011-03-03): 1,052 trace-driven VMs on 800 hosts, 24 h simulated.

The setup follows the CloudSim power examples the trace ships with (see the trace
README): 800 hosts, even-numbered ones HP ProLiant ML110 G4 (2 × Xeon 3040, 1.86 GHz),
odd-numbered ones ML110 G5 (2 × Xeon 3075, 2.66 GHz), 4 GB RAM each; core speeds are
clock ratios to the reference core (2.90 GHz), as in models/hardware. A PlanetLab
value is a percent of the *host* CPU the VM ran on, so each VM has 2 vCPUs (the whole
host) and demands ``utilization × 2 cores``. VM i goes to host i mod 800 (round-robin):
hosts 0–251 carry two VMs and can be overloaded, the others one. No hypervisor layer:
the trace gives CPU only, so per-operation overheads would have nothing to act on.

    python benchmarks/planetlab_day.py [--traces DIR] [--hosts 800]

reads ``DIR/planetlab/planetlab_20110303.csv.gz``; DIR defaults to ``$VIRTSIM_TRACES``
(the full traces) or else the repository's sample folder, which holds the whole day,
and prints load, simulation and result times, events per second and peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import virtsim
from virtsim.data.traces import full_traces_dir
from virtsim.experiment.results import collect
from virtsim.experiment.simulation import Simulation

ROOT = Path(__file__).resolve().parents[1]
TRACES = full_traces_dir() or ROOT / "experiments" / "data" / "traces"
DAY = "planetlab_20110303.csv.gz"
VMS = 1052

G4 = {"name": "hp-proliant-ml110-g4", "cores": 2, "core_speed": round(1.86 / 2.90, 3), "memory": "4 GiB"}
G5 = {"name": "hp-proliant-ml110-g5", "cores": 2, "core_speed": round(2.66 / 2.90, 3), "memory": "4 GiB"}


def experiment(traces: Path, hosts: int = 800, vms: int = VMS) -> dict:
    placed: list[list[dict]] = [[] for _ in range(hosts)]
    for i in range(vms):
        placed[i % hosts].append({"name": f"vm{i:04d}", "vcpus": 2, "memory": "1 GiB"})
    return {
        "name": "planetlab-20110303",
        "duration": "24 h",
        "cold_start": False,
        "hosts": [{"name": f"h{k:03d}", "hardware": G4 if k % 2 == 0 else G5, "vms": placed[k]}
                  for k in range(hosts)],
        "loads": [{"name": "planetlab", "type": "utilization", "format": "planetlab",
                   "path": str(traces / "planetlab" / DAY), "targets": "*/*"}],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=Path, default=TRACES)
    parser.add_argument("--hosts", type=int, default=800)
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    spec = virtsim.load_experiment(experiment(args.traces, args.hosts))
    t1 = time.perf_counter()
    sim = Simulation(spec)
    t2 = time.perf_counter()
    sim.run()
    t3 = time.perf_counter()
    results = collect(sim)
    t4 = time.perf_counter()

    events = sum(replay.changes for replay in sim.trace_loads.replays)
    hosts = results.consumers[results.consumers["kind"] == "host"]
    vms = results.consumers[results.consumers["kind"] == "vm"]
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"hosts {len(hosts)}, VMs {len(vms)}, simulated {spec.duration_s:g} s")
    print(f"load+validate {t1 - t0:.2f} s, build {t2 - t1:.2f} s, simulate {t3 - t2:.2f} s, "
          f"tables {t4 - t3:.2f} s, total {t4 - t0:.2f} s")
    print(f"trace changes {events}, {events / (t3 - t2):,.0f} per second simulated; peak RSS {peak_mib:.0f} MiB")
    print(f"mean VM CPU utilization {vms['cpu_utilization'].mean():.4f}; VM steal {vms['steal_time_s'].sum():.1f} "
          f"core-s; hosts ever overloaded {(hosts['overload_time_s'] > 0).sum()}, "
          f"overload time {hosts['overload_time_s'].sum():.0f} host-s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
