#!/usr/bin/env python3
"""The cost of one engine event against the number of activity groups in its domain.

    python benchmarks/wakeup_cost.py [--vms 1,10,100,1000] [--events 2000] [--reps 7] [--hot busy|idle]
                                     [--json] [--instructions]

One host (a :class:`~virtsim.engine.sharing.RateResource`) carries V VMs of one
vCPU each, each running one long activity; the host has a core for every VM, so
it is uncontended and the VMs' allocations never change. On one of them a chain
of short activities runs, each completion starting the next. That VM is capped
at its vCPU, so its demand stays 1 and an event re-shares only inside it: what
else an event costs with V is planning the domain's next wake-up past the other
V - 1 groups. With ``--hot idle`` the chain runs on an extra VM that has nothing
else to do: then each start and end also changes the host's demand, which the
engine re-adds over the host's V + 1 children (the "siblings" of an event's cost).

Only the chain is timed (``--events`` short activities, each one start and one
completion, i.e. one wake-up); building the host and starting the long
activities is not. Every repetition runs every V once, in an order rotated from
one repetition to the next, so that a slow spell of a shared machine hits all V
alike. Printed per V: the median µs per short activity and the median over
repetitions of its ratio to the first V of the same repetition. With a cost
independent of the number of groups the ratios stay near 1. ``--json`` adds one
line ``RESULT {json}`` with every measurement. ``--instructions`` counts instead
the instructions the chain executes, once per V, under ``valgrind
--tool=callgrind`` (as ``count_instructions.py`` does for ps-farm): deterministic,
so it shows small differences a shared machine's timings hide.
"""

from __future__ import annotations

import argparse
import json
import operator
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import simpy

from virtsim.engine import sharing


def build(vms: int, events: int, hot_vm: str = "busy"):
    """A host of ``vms`` busy VMs, run to t = 1 s; returns the chain to time and its check."""
    env = simpy.Environment()
    host = sharing.RateResource(env, vms + 1.0, name="host")
    busy = [host.root.add_child(f"vm{i}", cap=1.0) for i in range(vms)]
    for vm in busy:
        vm.submit(1e12, max_rate=1.0)
    hot = busy[0] if hot_vm == "busy" else host.root.add_child("hot", cap=1.0)
    left = [events]

    def next_one(activity=None) -> None:
        if left[0]:
            left[0] -= 1
            hot.submit(1e-3, max_rate=1.0, on_done=next_one)

    def chain() -> None:
        next_one()
        env.run(until=1.0 + 1e-2 * events)

    def check() -> None:
        if left[0] or hot.active_activities() != (1 if hot is busy[0] else 0):  # a busy VM keeps its long one
            raise RuntimeError(f"{vms} VMs: the chain did not finish")

    env.run(until=1.0)
    return chain, check


def one_run(vms: int, events: int, hot_vm: str = "busy") -> float:
    """Seconds for ``events`` short activities on a host of ``vms`` VMs running long ones."""
    chain, check = build(vms, events, hot_vm)
    start = time.perf_counter()
    chain()
    elapsed = time.perf_counter() - start
    check()
    return elapsed


def instructions(vms: int, events: int, hot_vm: str) -> int:
    """Instructions the chain executes (callgrind, collecting inside ``operator.call`` only)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        proc = subprocess.run(
            ["valgrind", "--tool=callgrind", "--toggle-collect=_operator_call", f"--callgrind-out-file={out}",
             sys.executable, __file__, "--inner", str(vms), str(events), hot_vm],
            capture_output=True, text=True, env=os.environ | {"PYTHONHASHSEED": "0"})
        if proc.returncode != 0:
            sys.exit(f"{vms} VMs: failed under valgrind:\n{proc.stderr[-2000:]}")
        return int(re.search(r"^summary: (\d+)", out.read_text(), re.MULTILINE).group(1))


def measure(vm_counts: list[int], events: int, reps: int, hot_vm: str) -> dict[int, list[float]]:
    """Seconds per short activity, per V, one value per repetition (interleaved)."""
    times: dict[int, list[float]] = {v: [] for v in vm_counts}
    one_run(vm_counts[-1], min(events, 200), hot_vm)  # warm-up: first-time code paths, the memoised splits
    for rep in range(reps):
        k = rep % len(vm_counts)
        for v in vm_counts[k:] + vm_counts[:k]:
            times[v].append(one_run(v, events, hot_vm) / events)
    return times


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--inner"]:  # one chain under callgrind
        chain, check = build(int(argv[1]), int(argv[2]), argv[3])
        operator.call(chain)
        check()
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vms", default="1,10,100,1000", help="busy VM counts, comma-separated (first: the base)")
    parser.add_argument("--events", type=int, default=2000, help="short activities timed per run")
    parser.add_argument("--reps", type=int, default=7, help="repetitions of every VM count")
    parser.add_argument("--hot", choices=["busy", "idle"], default="busy",
                        help="the short activities run on a busy VM (default) or on an extra, idle one")
    parser.add_argument("--json", action="store_true", help="also print RESULT {json}")
    parser.add_argument("--instructions", action="store_true",
                        help="count instructions under valgrind (once per VM count) instead of timing")
    args = parser.parse_args(argv)
    vm_counts = [int(v) for v in args.vms.split(",")]
    if min(vm_counts) < 1:
        parser.error("--vms: every count must be at least 1")
    base = vm_counts[0]
    engine = "compiled" if sharing.COMPILED else "python"
    if args.instructions:
        if shutil.which("valgrind") is None:
            sys.exit("valgrind not found: install it (Debian: apt-get install valgrind)")
        counts = {v: instructions(v, args.events, args.hot) for v in vm_counts}
        print(f"engine: {engine}; short activities on a{'n' * (args.hot == 'idle')} {args.hot} VM, "
              f"{args.events} per run, under callgrind")
        print(f"| VMs | instructions per short activity | ratio to {base} VM{'s' * (base != 1)} |")
        print("|---|---|---|")
        for v in vm_counts:
            print(f"| {v} | {counts[v] / args.events:,.0f} | {counts[v] / counts[base]:.2f} |")
        return 0
    times = measure(vm_counts, args.events, args.reps, args.hot)
    print(f"engine: {engine}; short activities on a{'n' * (args.hot == 'idle')} {args.hot} VM, "
          f"{args.events} per run, {args.reps} interleaved repetitions")
    print(f"| VMs | µs per short activity (median) | ratio to {base} VM{'s' * (base != 1)} (median) |")
    print("|---|---|---|")
    for v in vm_counts:
        ratios = [t / b for t, b in zip(times[v], times[base])]
        print(f"| {v} | {statistics.median(times[v]) * 1e6:.2f} | {statistics.median(ratios):.2f} |")
    if args.json:
        print("RESULT " + json.dumps({"engine": engine, "hot": args.hot, "events": args.events,
                                      "seconds_per_activity": {str(v): times[v] for v in vm_counts}}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
