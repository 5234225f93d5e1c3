#!/usr/bin/env python3
"""ps-farm through virtsim's public API: the reference performance scenario.

    python benchmarks/ps_farm.py JOBS_CSV [--json]

JOBS_CSV is an arrivals file written by the shared ``ps_farm_jobs.py`` (columns
``time_s,target,cpu_s``); ``jobs.json`` beside it describes the platform (hosts,
cores, VMs, vCPUs) and the stop condition (the N-th completion). The platform is
built as an ordinary experiment (a dict given to :func:`virtsim.run_experiment`'s
loader) and run by the ordinary runner; nothing here is specific to the scenario
but the translation of ``jobs.json``.

Prints one line ``RESULT {json}`` in the peers' format: ``wall_s`` (build,
simulate and tabulate), ``setup_s`` (load and validate the file), ``completed``,
``makespan`` (the N-th completion time), ``checksum`` (the sum of the first N
completion times), ``events_per_s`` and ``peak_rss_mib``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

import virtsim
import virtsim.engine


def experiment_for(jobs_csv: Path, desc: dict) -> dict:
    """The experiment dict equivalent to a ps-farm ``jobs.json``."""
    hosts = []
    for h in range(desc["hosts"]):
        vms = [{"name": f"v{v}", "vcpus": desc["vcpus_per_vm"], "memory": "1 GiB"}
               for v in range(desc["vms_per_host"])]
        hosts.append({"name": f"h{h}", "vms": vms,
                      "hardware": {"cores": desc["cores_per_host"], "core_speed": desc["core_speed"],
                                   "memory": "64 GiB"}})
    return {
        "name": f"ps-farm-{desc['size']}",
        "seed": desc["seed"],
        "stop_after_jobs": desc["jobs_to_complete"],
        "hosts": hosts,
        "workloads": [{"name": "jobs", "type": "open",
                       "arrivals": {"type": "file", "path": str(jobs_csv)}}],
    }


def first_completions(results, n: int) -> np.ndarray:
    """The first ``n`` completion times of a run, in order (their sum is the checksum)."""
    end = results.jobs["end_s"].to_numpy()
    done = end[~np.isnan(end)]  # one copy, sorted in place: a million jobs cost 8 MB here, not 24
    done.sort()
    return done[:n]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("jobs_csv", type=Path)
    parser.add_argument("--json", action="store_true", help="print the RESULT line only")
    args = parser.parse_args(argv)
    desc = json.loads(args.jobs_csv.with_suffix(".json").read_text())

    t0 = time.perf_counter()
    spec = virtsim.load_experiment(experiment_for(args.jobs_csv.resolve(), desc))
    t1 = time.perf_counter()
    results = virtsim.run_spec(spec)
    t2 = time.perf_counter()

    n = desc["jobs_to_complete"]
    ends = first_completions(results, n)
    arrivals = len(results.jobs)
    wall = t2 - t1
    res = {
        "impl": "virtsim",
        "size": desc["size"],
        "hosts": desc["hosts"],
        "jobs": n,
        "cores": desc["cores_per_host"],
        "seed": desc["seed"],
        "wall_s": round(wall, 4),
        "setup_s": round(t1 - t0, 4),
        "completed": int(len(ends)),
        "arrivals": arrivals,
        "events": arrivals + int(len(ends)),
        "makespan": float(ends[-1]) if len(ends) else None,
        "checksum": float(ends.sum()),
        "events_per_s": round((arrivals + len(ends)) / wall, 1),
        "jobs_per_s": round(len(ends) / wall, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1),
        "python": sys.version.split()[0],
        "virtsim": virtsim.__version__,
        "engine": "compiled" if virtsim.engine.COMPILED else "python",
        "pid": os.getpid(),
    }
    if not args.json:
        print(f"virtsim ps-farm {desc['size']}: {res['completed']} jobs in {wall:.3f} s "
              f"(setup {res['setup_s']:.3f} s, {res['engine']} engine), checksum {res['checksum']!r}, peak {res['peak_rss_mib']} MiB")
    print("RESULT " + json.dumps(res), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
