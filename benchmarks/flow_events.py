#!/usr/bin/env python3
"""The cost of one flow event against the size of the datacenter (a leaf-spine of 10 to 1,000 hosts).

    python benchmarks/flow_events.py [--hosts 10,100,1000] [--events 2000] [--reps 5]
                                     [--flows-per-host 2] [--json] [--instructions]

A :class:`~virtsim.engine.flows.FlowNetwork` holds a leaf-spine: racks of
``HOSTS_PER_LEAF`` hosts under a leaf switch, every leaf wired to every one of
``SPINES`` spine switches. Every host has two links, up (its NIC sending) and
down (receiving); every leaf-spine cable two, one per direction. A route from
a host to a host under another leaf is host uplink → leaf → spine → leaf →
host downlink, the spine picked by a hash of the flow (ECMP).

The leaves are paired (leaf 0 with leaf 1, 2 with 3, ...); a pair is a *host
neighbourhood*. Every host keeps ``--flows-per-host`` long transfers busy to
hosts of its partner leaf, so every pair carries the same traffic whatever
the datacenter's size, and its flows share links only among themselves. On
neighbourhood 0 a chain of short transfers runs, between random hosts of the
two leaves, each completion starting the next: one start and one completion,
i.e. one wake-up, per short transfer. Each event re-shares the component of
the links it touches, here neighbourhood 0's flows; what the size of the
datacenter can add is only the heap of all the flows' finish times
(logarithmic).

Only the chain is timed (``--events`` short transfers); building the network
and starting the long transfers is not. Every repetition runs every size once,
in an order rotated from one repetition to the next. Printed per size: links,
flows, the flows solved per event, the median µs per short transfer and its
median ratio to the first size. ``--instructions`` counts instead the
instructions the chain executes, once per size, under ``valgrind
--tool=callgrind`` (as ``wakeup_cost.py`` does), which is deterministic.
"""

from __future__ import annotations

import argparse
import json
import operator
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import simpy

from virtsim.engine.flows import FlowNetwork

HOSTS_PER_LEAF = 5
SPINES = 4
HOST_BYTES_PER_S = 1.25e9  # 10 Gb/s NICs
FABRIC_BYTES_PER_S = 5e9  # 40 Gb/s leaf-spine cables
LONG_BYTES = 1e15  # the busy transfers outlast the measurement
SHORT_BYTES = 1e6


def leaf_spine(env: simpy.Environment, hosts: int) -> FlowNetwork:
    """The network of ``hosts`` hosts (a multiple of two racks)."""
    if hosts % (2 * HOSTS_PER_LEAF):
        raise ValueError(f"hosts must be a multiple of {2 * HOSTS_PER_LEAF}, got {hosts}")
    net = FlowNetwork(env, name=f"leaf-spine-{hosts}")
    for h in range(hosts):
        net.add_link(f"h{h}>leaf", HOST_BYTES_PER_S)
        net.add_link(f"leaf>h{h}", HOST_BYTES_PER_S)
    for leaf in range(hosts // HOSTS_PER_LEAF):
        for s in range(SPINES):
            net.add_link(f"leaf{leaf}>spine{s}", FABRIC_BYTES_PER_S)
            net.add_link(f"spine{s}>leaf{leaf}", FABRIC_BYTES_PER_S)
    return net


def route(src: int, dst: int, tag: int) -> list[str]:
    """Host uplink → leaf → spine (by a hash of the flow) → leaf → host downlink."""
    a, b = src // HOSTS_PER_LEAF, dst // HOSTS_PER_LEAF
    if a == b:
        return [f"h{src}>leaf", f"leaf>h{dst}"]
    s = zlib.crc32(f"{src}-{dst}-{tag}".encode()) % SPINES
    return [f"h{src}>leaf", f"leaf{a}>spine{s}", f"spine{s}>leaf{b}", f"leaf>h{dst}"]


def partner(host: int, k: int) -> int:
    """The ``k``-th destination of ``host``: a host of the paired leaf."""
    leaf = host // HOSTS_PER_LEAF
    other = leaf ^ 1
    return other * HOSTS_PER_LEAF + (host + k) % HOSTS_PER_LEAF


def build(hosts: int, events: int, flows_per_host: int):
    """The busy network, run to t = 1 s; returns the chain to time, its check and the network."""
    env = simpy.Environment()
    net = leaf_spine(env, hosts)
    for h in range(hosts):
        for k in range(flows_per_host):
            net.start(LONG_BYTES, route(h, partner(h, k), k))
    rng = random.Random(1)
    left = [events]
    neighbourhood = 2 * HOSTS_PER_LEAF  # hosts of leaves 0 and 1

    def next_one(flow=None) -> None:
        if left[0]:
            left[0] -= 1
            src, dst = rng.sample(range(neighbourhood), 2)
            net.start(SHORT_BYTES, route(src, dst, left[0]), on_done=next_one)

    def chain() -> None:
        next_one()
        env.run(until=1.0 + 1.0 * events)

    def check() -> None:
        if left[0] or net.completions != events:
            raise RuntimeError(f"{hosts} hosts: the chain did not finish ({net.completions} of {events})")

    env.run(until=1.0)
    return chain, check, net


def one_run(hosts: int, events: int, flows_per_host: int) -> tuple[float, float]:
    """(seconds per short transfer, flows solved per event)."""
    chain, check, net = build(hosts, events, flows_per_host)
    solved = net.flows_solved
    recomputed = net.recomputations
    start = time.perf_counter()
    chain()
    elapsed = time.perf_counter() - start
    check()
    return elapsed / events, (net.flows_solved - solved) / (net.recomputations - recomputed)


def instructions(hosts: int, events: int, flows_per_host: int) -> int:
    """Instructions the chain executes (callgrind, collecting inside ``operator.call`` only)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        proc = subprocess.run(
            ["valgrind", "--tool=callgrind", "--toggle-collect=_operator_call", f"--callgrind-out-file={out}",
             sys.executable, __file__, "--inner", str(hosts), str(events), str(flows_per_host)],
            capture_output=True, text=True, env=os.environ | {"PYTHONHASHSEED": "0"})
        if proc.returncode != 0:
            sys.exit(f"{hosts} hosts: failed under valgrind:\n{proc.stderr[-2000:]}")
        return int(re.search(r"^summary: (\d+)", out.read_text(), re.MULTILINE).group(1))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--inner"]:  # one chain under callgrind
        chain, check, _net = build(int(argv[1]), int(argv[2]), int(argv[3]))
        operator.call(chain)
        check()
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", default="10,100,1000", help="datacenter sizes, comma-separated (first: the base)")
    parser.add_argument("--events", type=int, default=2000, help="short transfers timed per run")
    parser.add_argument("--reps", type=int, default=5, help="repetitions of every size")
    parser.add_argument("--flows-per-host", type=int, default=2, help="long transfers each host keeps busy")
    parser.add_argument("--json", action="store_true", help="also print RESULT {json}")
    parser.add_argument("--instructions", action="store_true",
                        help="count instructions under valgrind (once per size) instead of timing")
    args = parser.parse_args(argv)
    sizes = [int(h) for h in args.hosts.split(",")]
    base = sizes[0]
    shape = {}
    for h in sizes:
        _chain, _check, net = build(h, 1, args.flows_per_host)
        shape[h] = (len(net.links), len(net.flows()))
    print(f"leaf-spine, {HOSTS_PER_LEAF} hosts per leaf, {SPINES} spines, leaves paired; "
          f"{args.flows_per_host} long transfers per host; {args.events} short transfers per run")
    if args.instructions:
        if shutil.which("valgrind") is None:
            sys.exit("valgrind not found: install it (Debian: apt-get install valgrind)")
        counts = {h: instructions(h, args.events, args.flows_per_host) for h in sizes}
        solved = {h: one_run(h, args.events, args.flows_per_host)[1] for h in sizes}
        print(f"| hosts | links | flows | flows solved per event | instructions per short transfer "
              f"| ratio to {base} hosts |")
        print("|---|---|---|---|---|---|")
        for h in sizes:
            print(f"| {h:,} | {shape[h][0]:,} | {shape[h][1]:,} | {solved[h]:.1f} | {counts[h] / args.events:,.0f} "
                  f"| {counts[h] / counts[base]:.2f} |")
        if args.json:
            print("RESULT " + json.dumps({"instructions": counts, "events": args.events}))
        return 0
    one_run(sizes[-1], min(args.events, 200), args.flows_per_host)  # warm-up
    times: dict[int, list[float]] = {h: [] for h in sizes}
    solved: dict[int, float] = {}
    for rep in range(args.reps):
        k = rep % len(sizes)
        for h in sizes[k:] + sizes[:k]:
            seconds, solved[h] = one_run(h, args.events, args.flows_per_host)
            times[h].append(seconds)
    print(f"{args.reps} interleaved repetitions")
    print(f"| hosts | links | flows | flows solved per event | µs per short transfer (median) "
          f"| ratio to {base} hosts (median) |")
    print("|---|---|---|---|---|---|")
    for h in sizes:
        ratios = [t / b for t, b in zip(times[h], times[base])]
        print(f"| {h:,} | {shape[h][0]:,} | {shape[h][1]:,} | {solved[h]:.1f} | "
              f"{statistics.median(times[h]) * 1e6:.1f} | {statistics.median(ratios):.2f} |")
    if args.json:
        print("RESULT " + json.dumps({"events": args.events, "seconds_per_transfer": times}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
