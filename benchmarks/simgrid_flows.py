#!/usr/bin/env python3
"""FlowNetwork against SimGrid's max-min network model on a few small scenarios.

    python benchmarks/simgrid_flows.py [--simgrid-python PYTHON] [--json]

Scenarios (plain data below): a dumbbell (two senders, two receivers, one
bottleneck), the line of three links (one long flow over all three against
short flows on each), a small leaf-spine (two leaves of two hosts, two spines,
ECMP by a hash of the host pair), each with staggered starts, one flow with a
rate limit of its own, and in the leaf-spine a link whose bandwidth drops
while flows cross it. Every flow's completion time is computed by
:class:`~virtsim.engine.flows.FlowNetwork` and by SimGrid, and printed side by
side with their relative difference.

SimGrid runs its CM02 network model (``--cfg=network/model:CM02``: the plain
max-min model of Casanova and Marchal, which sets the latency factor and the
bandwidth factor to 1 and ``network/weight-S`` to 0), with every link's
latency 0 (so no flow is bounded by ``TCP-gamma / 2·latency`` and every flow
weighs the same), no cross traffic (``--cfg=network/crosstraffic:0``: else
every flow also loads its reverse route by 5 %), and its precisions tightened
to 1e-12 (``surf/precision``, ``maxmin/precision``; their default is 1e-5).
SimGrid's Python bindings cannot weight a communication, so every flow has
weight 1 here; weights are checked against the tests' own reference.

SimGrid is not a dependency of virtsim. Its Python bindings come from Debian
for the system interpreter (``apt-get install python3-simgrid``) or from PyPI
(``pip install simgrid``, which builds SimGrid from source and needs cmake, a
C++ compiler and Boost). When the interpreter running this script has both
virtsim and simgrid, everything runs in it; otherwise name a SimGrid-capable
interpreter with ``--simgrid-python`` (e.g. ``/usr/bin/python3`` with Debian's
package): it runs only the SimGrid side of this file, which imports nothing of
virtsim, and hands back its completion times as JSON.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import zlib

MB = 1e6

# -- the scenarios: links (bytes/s), routes per host pair, flows -----------------------------


def dumbbell() -> dict:
    links = {"a1>sw": 125 * MB, "a2>sw": 125 * MB, "sw>sw2": 100 * MB, "sw2>b1": 125 * MB, "sw2>b2": 125 * MB}
    routes = {("a1", "b1"): ["a1>sw", "sw>sw2", "sw2>b1"], ("a2", "b2"): ["a2>sw", "sw>sw2", "sw2>b2"],
              ("a1", "b2"): ["a1>sw", "sw>sw2", "sw2>b2"]}
    flows = [("a1", "b1", 100 * MB, 0.0, None), ("a2", "b2", 200 * MB, 0.0, None),
             ("a1", "b2", 50 * MB, 0.5, None), ("a2", "b2", 30 * MB, 1.0, 20 * MB)]
    return {"name": "dumbbell", "links": links, "routes": routes, "flows": flows, "changes": []}


def line() -> dict:
    links = {"l1": 100 * MB, "l2": 100 * MB, "l3": 100 * MB}
    routes = {("n0", "n3"): ["l1", "l2", "l3"], ("n0", "n1"): ["l1"], ("n1", "n2"): ["l2"], ("n2", "n3"): ["l3"]}
    flows = [("n0", "n3", 100 * MB, 0.0, None), ("n0", "n1", 60 * MB, 0.0, None), ("n0", "n1", 90 * MB, 0.0, None),
             ("n1", "n2", 120 * MB, 0.0, None), ("n2", "n3", 40 * MB, 0.2, 30 * MB)]
    return {"name": "line of three links", "links": links, "routes": routes, "flows": flows, "changes": []}


def leaf_spine() -> dict:
    hosts = ["h0", "h1", "h2", "h3"]  # h0, h1 under leaf 0; h2, h3 under leaf 1
    links = {}
    for h in hosts:
        links[f"{h}>leaf"] = 125 * MB
        links[f"leaf>{h}"] = 125 * MB
    for leaf in (0, 1):
        for s in (0, 1):
            links[f"leaf{leaf}>spine{s}"] = 150 * MB
            links[f"spine{s}>leaf{leaf}"] = 150 * MB
    routes = {}
    for i, src in enumerate(hosts):
        for j, dst in enumerate(hosts):
            if src == dst:
                continue
            a, b = i // 2, j // 2
            if a == b:
                routes[(src, dst)] = [f"{src}>leaf", f"leaf>{dst}"]
            else:
                s = zlib.crc32(f"{src}-{dst}".encode()) % 2
                routes[(src, dst)] = [f"{src}>leaf", f"leaf{a}>spine{s}", f"spine{s}>leaf{b}", f"leaf>{dst}"]
    flows = [("h0", "h2", 300 * MB, 0.0, None), ("h1", "h2", 200 * MB, 0.0, None), ("h1", "h3", 250 * MB, 0.3, None),
             ("h0", "h3", 150 * MB, 0.6, None), ("h3", "h0", 100 * MB, 0.0, 40 * MB), ("h2", "h3", 80 * MB, 1.0, None),
             ("h0", "h1", 120 * MB, 0.1, None)]
    changes = [(1.5, "leaf>h2", 60 * MB)]  # h2's NIC degrades
    return {"name": "leaf-spine 2x2, 2 spines", "links": links, "routes": routes, "flows": flows, "changes": changes}


SCENARIOS = [dumbbell, line, leaf_spine]

# -- the two simulators ----------------------------------------------------------------------


def run_virtsim(sc: dict) -> list[float]:
    """Completion time of each flow with FlowNetwork."""
    import simpy

    from virtsim.engine import FlowNetwork

    env = simpy.Environment()
    net = FlowNetwork(env)
    for name, bw in sc["links"].items():
        net.add_link(name, bw)
    finish = [float("nan")] * len(sc["flows"])

    def begin(i, src, dst, size, rate):
        def done(flow):
            finish[i] = env.now
        net.start(size, sc["routes"][(src, dst)], max_rate=rate or float("inf"), on_done=done)

    for i, (src, dst, size, t, rate) in enumerate(sc["flows"]):
        env.timeout(t).callbacks.append(lambda _e, a=(i, src, dst, size, rate): begin(*a))
    for t, name, bw in sc["changes"]:
        env.timeout(t).callbacks.append(lambda _e, name=name, bw=bw: net.set_capacity(name, bw))
    env.run()
    return finish


def run_simgrid(sc: dict) -> list[float]:
    """Completion time of each flow with SimGrid's CM02 max-min model (latency 0, no cross traffic)."""
    from simgrid import Actor, Engine, LinkInRoute, Mailbox, NetZone, this_actor

    e = Engine(["simgrid_flows", "--log=root.thres:critical", "--cfg=network/model:CM02",
                "--cfg=network/crosstraffic:0", "--cfg=surf/precision:1e-12", "--cfg=maxmin/precision:1e-12"])
    zone = NetZone.create_full_zone("net")
    names = sorted({h for pair in sc["routes"] for h in pair})
    hosts = {}
    for name in names:
        hosts[name] = zone.create_host(name, 1e9)
        hosts[name].seal()
    links = {}
    for name, bw in sc["links"].items():
        links[name] = zone.create_link(name, bw).set_latency(0)
        links[name].seal()
    for (src, dst), route in sc["routes"].items():
        zone.add_route(hosts[src].netpoint, hosts[dst].netpoint, None, None,
                       [LinkInRoute(links[name]) for name in route], False)
    zone.seal()
    finish = [float("nan")] * len(sc["flows"])

    def sender(i, size, t, rate):
        this_actor.sleep_until(t)
        comm = Mailbox.by_name(f"flow{i}").put_init(i, int(size))
        if rate:
            comm.set_rate(rate)  # a user bound on the flow's rate: its max_rate
        comm.start().wait()
        finish[i] = Engine.clock

    def receiver(i):
        Mailbox.by_name(f"flow{i}").get()

    def degrade(t, name, bw):
        this_actor.sleep_until(t)
        links[name].set_bandwidth(bw)

    for i, (src, dst, size, t, rate) in enumerate(sc["flows"]):
        Actor.create(f"flow{i}", hosts[src], sender, i, size, t, rate)
        Actor.create(f"sink{i}", hosts[dst], receiver, i)
    for k, (t, name, bw) in enumerate(sc["changes"]):
        Actor.create(f"change{k}", hosts[names[0]], degrade, t, name, bw)
    e.run()
    return finish


def _simgrid_in(python: str) -> list[list[float]]:
    """SimGrid's completion times, one process per scenario (SimGrid has one engine per process)."""
    out = []
    for k in range(len(SCENARIOS)):
        proc = subprocess.run([python, __file__, "--inner-simgrid", str(k)], capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"{python}: the SimGrid side failed:\n{proc.stderr[-2000:]}")
        out.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--inner-simgrid"]:  # SimGrid only, in a SimGrid-capable interpreter
        print(json.dumps(run_simgrid(SCENARIOS[int(argv[1])]())))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--simgrid-python", help="an interpreter with SimGrid's bindings, if this one lacks them")
    parser.add_argument("--json", action="store_true", help="also print RESULT {json}")
    args = parser.parse_args(argv)
    if args.simgrid_python:
        theirs = _simgrid_in(args.simgrid_python)
    else:
        try:
            import simgrid  # noqa: F401
        except ImportError:
            sys.exit("SimGrid's Python bindings are not importable here. Install them (Debian: apt-get install "
                     "python3-simgrid, for the system interpreter; or pip install simgrid, which builds SimGrid and "
                     "needs cmake, a C++ compiler and Boost) and run this script with that interpreter, or pass it "
                     "as --simgrid-python /usr/bin/python3.")
        theirs = _simgrid_in(sys.executable)
    scenarios = [make() for make in SCENARIOS]
    ours = [run_virtsim(sc) for sc in scenarios]
    worst = 0.0
    print("| scenario | flow | route | MB | starts s | limit MB/s | FlowNetwork s | SimGrid s | relative difference |")
    print("|---|---|---|---|---|---|---|---|---|")
    for sc, mine, other in zip(scenarios, ours, theirs):
        for i, ((src, dst, size, t, rate), a, b) in enumerate(zip(sc["flows"], mine, other)):
            diff = abs(a - b) / abs(b)
            worst = max(worst, diff)
            hops = len(sc["routes"][(src, dst)])
            print(f"| {sc['name']} | {i} | {src}→{dst} ({hops} links) | {size / MB:g} | {t:g} | "
                  f"{rate / MB if rate else '-'} | {a:.9f} | {b:.9f} | {diff:.1e} |")
    print(f"worst relative difference: {worst:.1e} over {sum(len(sc['flows']) for sc in scenarios)} flows")
    if args.json:
        print("RESULT " + json.dumps({"virtsim": ours, "simgrid": theirs, "worst": worst}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
