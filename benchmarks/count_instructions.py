#!/usr/bin/env python3
"""ps-farm in executed instructions: a deterministic A/B measure on a noisy machine.

    python benchmarks/count_instructions.py JOBS_CSV [--peers-dir DIR] [--peers fluid,fluid-simpy]

Runs virtsim (and the shared fluid peers, at the size named in ``jobs.json``) once
each under ``valgrind --tool=callgrind`` and prints the instructions executed in
the measured part only: virtsim's ``run_spec`` (build, simulate, tabulate) and the
peers' ``run_heapq`` / ``run_simpy`` are called through ``operator.call``, and
callgrind collects only inside that function (``--toggle-collect=_operator_call``),
so imports, loading the inputs and start-up are left out. Counts of the same code
differ by about 0.1 % between runs; wall-clock time on a shared machine by far more.
The peers need numpy and simpy in the running interpreter.
"""

from __future__ import annotations

import argparse
import json
import operator
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_PEERS_DIR = HERE.parent.parent / "shared" / "bench"
PEER_ENGINES = {"fluid": "heapq", "fluid-simpy": "simpy"}


def _inner_virtsim(jobs_csv: Path) -> None:
    sys.path.insert(0, str(HERE))
    import ps_farm
    import virtsim

    desc = json.loads(jobs_csv.with_suffix(".json").read_text())
    spec = virtsim.load_experiment(ps_farm.experiment_for(jobs_csv.resolve(), desc))
    results = operator.call(virtsim.run_spec, spec)  # the only part counted
    ends = ps_farm.first_completions(results, desc["jobs_to_complete"])
    print(f"CHECKSUM {float(ends.sum())!r}")


def _inner_peer(peers_dir: Path, size: str, engine: str) -> None:
    sys.path.insert(0, str(peers_dir))
    import ps_farm_common as common
    import ps_farm_fluid as fluid

    args = common.parse_args([size], extra=lambda p: p.add_argument("--engine", default=engine))
    inputs = fluid.build(args)
    run = fluid.run_heapq if engine == "heapq" else fluid.run_simpy
    _done, _makespan, checksum, _arrivals = operator.call(run, args, inputs)  # the only part counted
    print(f"CHECKSUM {checksum!r}")


def count(inner_args: list[str]) -> tuple[int, str]:
    """(instructions, checksum) of one run of this script's inner mode under callgrind."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        proc = subprocess.run(
            ["valgrind", "--tool=callgrind", "--toggle-collect=_operator_call",
             f"--callgrind-out-file={out}", sys.executable, __file__, "--inner", *inner_args],
            capture_output=True, text=True, env=os.environ | {"PYTHONHASHSEED": "0"})
        if proc.returncode != 0:
            sys.exit(f"{' '.join(inner_args)}: failed under valgrind:\n{proc.stderr[-2000:]}")
        summary = re.search(r"^summary: (\d+)", out.read_text(), re.MULTILINE)
        checksum = re.search(r"^CHECKSUM (\S+)", proc.stdout, re.MULTILINE)
    return int(summary.group(1)), checksum.group(1)


def main(argv=None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["--inner"]:
        if argv[1] == "virtsim":
            _inner_virtsim(Path(argv[2]))
        else:
            _inner_peer(Path(argv[2]), argv[3], argv[4])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("jobs_csv", type=Path)
    parser.add_argument("--peers-dir", type=Path, default=DEFAULT_PEERS_DIR,
                        help="folder of the shared ps_farm_*.py peers")
    parser.add_argument("--peers", default="fluid,fluid-simpy",
                        help=f"comma-separated, from {sorted(PEER_ENGINES)}; empty for none")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        sys.exit("valgrind not found: install it (Debian: apt-get install valgrind)")
    peers = [p for p in args.peers.split(",") if p]
    unknown = [p for p in peers if p not in PEER_ENGINES]
    if unknown:
        sys.exit(f"--peers: unknown {unknown}; valid: {sorted(PEER_ENGINES)}")
    size = json.loads(args.jobs_csv.with_suffix(".json").read_text())["size"]

    rows = {"virtsim": count(["virtsim", str(args.jobs_csv)])}
    for peer in peers:
        rows[peer] = count(["peer", str(args.peers_dir), size, PEER_ENGINES[peer]])
    base = rows.get("fluid", (None, None))[0]
    for name, (instructions, checksum) in rows.items():
        ratio = f"  {instructions / base:.2f}x fluid" if base else ""
        print(f"{name:12s} {size:7s} {instructions / 1e6:10.1f} M instructions  checksum {checksum}{ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
