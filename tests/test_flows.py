"""Tests of flows over several links (virtsim.engine.flows) on a SimPy clock.

Small networks are checked against closed forms; random topologies and flow
sets against the independent solver and step-by-step simulation of
``flows_reference`` (plain progressive filling, and linear programs that check
the definition of max-min fairness).
"""

from __future__ import annotations

import math
import random

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from virtsim.engine import Flow, FlowNetwork
from virtsim.engine.flows import INF

import flows_reference as ref

REL = 1e-9


def rel_error(a: float, b: float, scale: float) -> float:
    """|a − b| relative to b, or to ``scale`` when b is far below it (a rate of 0 must be 0)."""
    return abs(a - b) / max(abs(b), 1e-12 * scale, 1e-300)


def at(env: simpy.Environment, when: float, fn) -> None:
    """Call ``fn()`` at simulated time ``when``."""
    env.timeout(when - env.now).callbacks.append(lambda _ev: fn())


def network(capacities: dict[str, float]) -> tuple[simpy.Environment, FlowNetwork]:
    env = simpy.Environment()
    net = FlowNetwork(env)
    for name, cap in capacities.items():
        net.add_link(name, cap)
    return env, net


def finish_times(env: simpy.Environment, flows: list[Flow]) -> dict[int, float]:
    out: dict[int, float] = {}
    for i, f in enumerate(flows):
        f.done.callbacks.append(lambda ev, i=i: out.setdefault(i, env.now))
    return out


# -- closed forms --------------------------------------------------------------


def test_one_flow_on_one_link_gets_the_capacity():
    env, net = network({"l": 125e6})
    f = net.start(1e9, ["l"])
    assert f.rate == 125e6
    env.run()
    assert env.now == pytest.approx(8.0, rel=1e-15)
    assert not f.active and f.remaining(env.now) == 0.0 and f.done.value is f


def test_two_flows_on_one_link_halve_it():
    env, net = network({"l": 10.0})
    a, b = net.start(100.0, ["l"]), net.start(100.0, ["l"])
    assert (a.rate, b.rate) == (5.0, 5.0)


def test_line_network_the_long_flow_gets_less():
    """Three links of 1; a long flow over all three, two short flows on the first, one on each other.

    The first link is the long flow's bottleneck: 1/3 each there; the short
    flows of the other links take what the long one leaves, 2/3.
    """
    env, net = network({"l1": 1.0, "l2": 1.0, "l3": 1.0})
    long = net.start(10.0, ["l1", "l2", "l3"])
    s1a, s1b = net.start(10.0, ["l1"]), net.start(10.0, ["l1"])
    s2, s3 = net.start(10.0, ["l2"]), net.start(10.0, ["l3"])
    assert long.rate == pytest.approx(1 / 3, rel=1e-15)
    assert s1a.rate == s1b.rate == pytest.approx(1 / 3, rel=1e-15)
    assert s2.rate == s3.rate == pytest.approx(2 / 3, rel=1e-15)


def test_weights_share_in_proportion():
    env, net = network({"l": 8.0})
    a, b = net.start(1.0, ["l"], weight=1.0), net.start(1.0, ["l"], weight=3.0)
    assert (a.rate, b.rate) == (2.0, 6.0)


def test_a_flow_limit_is_a_cap_and_the_rest_goes_to_the_others():
    env, net = network({"l": 10.0, "m": 10.0})
    capped = net.start(1.0, ["l"], max_rate=2.0)
    other = net.start(1.0, ["l", "m"])
    assert (capped.rate, other.rate) == (2.0, 8.0)


def test_a_flow_over_no_links_runs_at_its_limit():
    env, net = network({})
    f = net.start(6.0, [], max_rate=2.0)
    env.run()
    assert env.now == 3.0 and not f.active
    with pytest.raises(ValueError, match="finite max_rate"):
        net.start(1.0, [])


def test_unequal_flows_on_one_link_complete_at_closed_form_times():
    """Sizes a < b on capacity C: the small one at 2a/C, the large one at (a + b)/C."""
    a, b, c = 3.0e6, 7.0e6, 1.25e6
    env, net = network({"l": c})
    flows = [net.start(a, ["l"]), net.start(b, ["l"])]
    done = finish_times(env, flows)
    env.run()
    assert done[0] == pytest.approx(2 * a / c, rel=1e-15)
    assert done[1] == pytest.approx((a + b) / c, rel=1e-15)


def test_remaining_work_is_advanced_at_the_old_rate():
    env, net = network({"l": 4.0})
    a = net.start(40.0, ["l"])
    at(env, 2.0, lambda: net.start(100.0, ["l"]))
    env.run(until=5.0)
    assert a.remaining(5.0) == pytest.approx(40 - 4 * 2 - 2 * 3, rel=1e-15)
    assert a.rate == 2.0


def test_cancel_frees_the_link_and_never_triggers_done():
    env, net = network({"l": 2.0})
    a, b = net.start(10.0, ["l"]), net.start(10.0, ["l"])
    called = []
    b.on_done = called.append
    at(env, 1.0, lambda: net.cancel(b))
    done = finish_times(env, [a, b])
    env.run()
    assert done == {0: pytest.approx(1.0 + 9.0 / 2.0)}
    assert b.cancelled and not b.done.triggered and not called and b.rate == 0.0
    net.cancel(b)  # a second cancel does nothing


def test_capacity_zero_stops_the_flows_until_restored():
    env, net = network({"l": 1.0})
    f = net.start(10.0, ["l"])
    at(env, 2.0, lambda: net.set_capacity("l", 0.0))
    at(env, 5.0, lambda: net.set_capacity("l", 1.0))
    done = finish_times(env, [f])
    env.run(until=3.0)
    assert f.rate == 0.0 and f.remaining(3.0) == 8.0
    env.run()
    assert done[0] == 13.0
    (stats,) = net.link_stats(20.0)
    assert stats["bytes"] == pytest.approx(10.0) and stats["down_s"] == 3.0
    assert stats["saturated_s"] == pytest.approx(10.0) and stats["capacity_bytes"] == pytest.approx(17.0)
    assert stats["utilization"] == pytest.approx(10.0 / 17.0)


def test_a_degraded_link_slows_its_flows_and_not_the_others():
    env, net = network({"l": 10.0, "m": 10.0})
    a, b = net.start(100.0, ["l"]), net.start(100.0, ["m"])
    solved = net.flows_solved
    net.set_capacity("l", 4.0)
    assert (a.rate, b.rate) == (4.0, 10.0)
    assert net.flows_solved - solved == 1  # only l's component


def test_only_the_changed_component_is_recomputed():
    """Many separate pairs of links: an event on one pair visits its flows only."""
    env, net = network({f"{side}{i}": 1.0 for i in range(50) for side in "ab"})
    for i in range(50):
        net.start(1e6, [f"a{i}", f"b{i}"])
        net.start(1e6, [f"b{i}"])
    solved = net.flows_solved
    net.start(1.0, ["a7"])
    assert net.flows_solved - solved == 3


def test_simultaneous_completions_are_one_recomputation_with_what_callbacks_start():
    env, net = network({"l": 2.0, "m": 2.0})
    started = []

    def then(flow):
        started.append(net.start(1.0, ["m"]))

    a = net.start(1.0, ["l"], on_done=then)
    b = net.start(1.0, ["l"], on_done=then)
    env.run(until=0.5)
    before = net.recomputations
    env.run(until=1.0 + 1e-12)
    assert not a.active and not b.active and a.finished_at == b.finished_at == 1.0
    assert net.recomputations - before == 1
    assert [f.rate for f in started] == [1.0, 1.0]


def test_link_stats_time_saturated_and_bytes():
    env, net = network({"l": 10.0, "m": 10.0})
    net.start(20.0, ["l", "m"], max_rate=4.0)  # 5 s at 4: m never full
    net.start(30.0, ["l"])  # 6, what the other leaves on l, 5 s: l full
    env.run()
    assert env.now == pytest.approx(5.0)
    rows = {r["link"]: r for r in net.link_stats()}
    assert rows["l"]["bytes"] == pytest.approx(50.0) and rows["l"]["saturated_s"] == pytest.approx(5.0)
    assert rows["m"]["bytes"] == pytest.approx(20.0) and rows["m"]["saturated_s"] == 0.0
    assert rows["m"]["utilization"] == pytest.approx(0.4)
    assert rows["l"]["flows_started"] == 2 and rows["l"]["flows"] == 0


def test_bad_input_says_what_is_valid():
    env, net = network({"leaf1-spine1": 1.0})
    with pytest.raises(KeyError, match="did you mean 'leaf1-spine1'"):
        net.start(1.0, ["leaf1-spine2"])
    with pytest.raises(ValueError, match="twice"):
        net.start(1.0, ["leaf1-spine1", "leaf1-spine1"])
    with pytest.raises(ValueError, match="amount"):
        net.start(0.0, ["leaf1-spine1"])
    with pytest.raises(ValueError, match="weight"):
        net.start(1.0, ["leaf1-spine1"], weight=0.0)
    with pytest.raises(ValueError, match="capacity"):
        net.set_capacity("leaf1-spine1", -1.0)
    with pytest.raises(ValueError, match="exists"):
        net.add_link("leaf1-spine1", 1.0)


# -- random flow sets against the reference ------------------------------------


@st.composite
def problems(draw, max_links: int = 6, max_flows: int = 8, zero_links: bool = True):
    n_links = draw(st.integers(1, max_links))
    cap_values = st.floats(0.5, 1000.0)
    if zero_links:
        cap_values = st.one_of(cap_values, st.just(0.0))
    capacity = {f"l{i}": draw(cap_values) for i in range(n_links)}
    names = list(capacity)
    flows = []
    for _ in range(draw(st.integers(1, max_flows))):
        links = draw(st.lists(st.sampled_from(names), min_size=1, max_size=n_links, unique=True))
        max_rate = draw(st.one_of(st.just(INF), st.floats(0.1, 500.0)))
        flows.append({"links": links, "weight": draw(st.floats(0.2, 5.0)), "max_rate": max_rate})
    return capacity, flows


def engine_rates(capacity: dict[str, float], flows: list[dict]) -> list[float]:
    env, net = network(capacity)
    started = [net.start(1e9, f["links"], weight=f["weight"], max_rate=f["max_rate"]) for f in flows]
    return [f.rate for f in started]


@settings(max_examples=400, deadline=None)
@given(problems())
def test_rates_equal_the_reference_progressive_filling(problem):
    capacity, flows = problem
    got = engine_rates(capacity, flows)
    want = ref.maxmin_rates(capacity, flows)
    scale = max(capacity.values())
    for g, w in zip(got, want):
        assert rel_error(g, w, scale) <= REL, (got, want)


@settings(max_examples=400, deadline=None)
@given(problems())
def test_no_link_is_over_its_capacity_and_every_flow_has_a_bottleneck(problem):
    capacity, flows = problem
    rates = engine_rates(capacity, flows)
    for name, load in ref.loads(capacity, flows, rates).items():
        assert load <= capacity[name] * (1 + 1e-12)
    assert ref.bottleneck_violations(capacity, flows, rates) == []


@settings(max_examples=60, deadline=None)
@given(problems(max_links=5, max_flows=6))
def test_rates_are_max_min_fair_by_linear_programs(problem):
    capacity, flows = problem
    assert ref.lp_check(capacity, flows, engine_rates(capacity, flows)) == []


def test_the_checks_can_fail():
    """The reference checks reject a vector that is feasible but not max-min fair."""
    capacity = {"a": 1.0, "b": 1.0}
    flows = [{"links": ["a", "b"], "weight": 1.0, "max_rate": INF},
             {"links": ["a"], "weight": 1.0, "max_rate": INF}]
    unfair = [0.25, 0.75]
    assert ref.bottleneck_violations(capacity, flows, unfair) == [0]
    assert ref.lp_check(capacity, flows, unfair)
    assert ref.lp_check(capacity, flows, [0.5, 0.5]) == []


# -- random topologies over time -------------------------------------------------


def random_topology(rng: random.Random, nodes: int) -> dict[str, float]:
    """A random connected graph of full-duplex links, as directed links ``"u>v"`` with capacities."""
    edges = {(rng.randrange(i), i) for i in range(1, nodes)}  # a random tree
    for _ in range(rng.randrange(nodes)):
        u, v = sorted(rng.sample(range(nodes), 2))
        edges.add((u, v))
    capacity = {}
    for u, v in sorted(edges):
        cap = rng.choice([1.0, 10.0, rng.uniform(0.5, 20.0)])
        capacity[f"{u}>{v}"] = cap
        capacity[f"{v}>{u}"] = cap if rng.random() < 0.7 else rng.uniform(0.5, 20.0)
    return capacity


def route(capacity: dict[str, float], src: int, dst: int) -> list[str]:
    """A shortest path from ``src`` to ``dst`` (breadth first, lowest neighbour first)."""
    adj: dict[int, list[int]] = {}
    for name in capacity:
        u, v = map(int, name.split(">"))
        adj.setdefault(u, []).append(v)
    prev = {src: None}
    todo = [src]
    for node in todo:
        for nxt in sorted(adj.get(node, [])):
            if nxt not in prev:
                prev[nxt] = node
                todo.append(nxt)
    path = []
    node = dst
    while prev[node] is not None:
        path.append(f"{prev[node]}>{node}")
        node = prev[node]
    return path[::-1]


def scenario(seed: int):
    """Random topology; flows with start times, sizes, some cancelled; capacity changes (some to 0 and back)."""
    rng = random.Random(seed)
    nodes = rng.randint(2, 7)
    capacity = random_topology(rng, nodes)
    flows = []
    for _ in range(rng.randint(1, 12)):
        src, dst = rng.sample(range(nodes), 2)
        flows.append({"links": route(capacity, src, dst), "weight": rng.choice([1.0, 1.0, rng.uniform(0.2, 5.0)]),
                      "max_rate": rng.choice([INF, INF, rng.uniform(0.5, 10.0)]),
                      "amount": rng.choice([1.0, 10.0, rng.uniform(0.5, 50.0)]),
                      "start": rng.choice([0.0, 0.0, rng.uniform(0.0, 10.0)])})
        if rng.random() < 0.15:
            flows[-1]["cancel"] = flows[-1]["start"] + rng.uniform(0.01, 5.0)
    changes = []
    names = list(capacity)
    for _ in range(rng.randint(0, 3)):
        t, name = rng.uniform(0.0, 10.0), rng.choice(names)
        changes.append((t, name, 0.0 if rng.random() < 0.3 else rng.uniform(0.5, 20.0)))
        if changes[-1][2] == 0.0:
            changes.append((t + rng.uniform(0.1, 3.0), name, rng.uniform(0.5, 20.0)))
    return capacity, flows, changes


def run_engine(capacity, flows, changes) -> tuple[list[float], list[tuple]]:
    """Completion times by the engine, and its trace of (time, flow, rate) at every event."""
    env, net = network(capacity)
    finish = [INF] * len(flows)
    trace: list[tuple] = []
    started: list[Flow] = []

    def record(tag):
        trace.append((env.now, tag, tuple((f.seq, f.rate) for f in net.flows())))

    def begin(i):
        f = flows[i]

        def done(flow, i=i):
            finish[i] = env.now
            record(("done", i))

        flow = net.start(f["amount"], f["links"], weight=f["weight"], max_rate=f["max_rate"], on_done=done)
        started.append(flow)
        record(("start", i))
        if "cancel" in f:
            at(env, f["cancel"], lambda: (net.cancel(flow), record(("cancel", i))))

    for i, f in enumerate(flows):
        at(env, f["start"], lambda i=i: begin(i))
    for t, name, cap in changes:
        at(env, t, lambda name=name, cap=cap: (net.set_capacity(name, cap), record(("cap", name))))
    env.run(until=1e6)
    return finish, trace


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_completion_times_equal_a_step_by_step_simulation(seed):
    capacity, flows, changes = scenario(seed)
    got, _ = run_engine(capacity, flows, changes)
    want = ref.simulate(capacity, flows, changes)
    for g, w in zip(got, want):
        assert (g == INF) == (w == INF), (got, want)
        if w < INF:
            assert rel_error(g, w, 1.0) <= 1e-9, (got, want)


def test_determinism_two_runs_give_the_same_event_trace():
    for seed in range(30):
        capacity, flows, changes = scenario(seed)
        first, trace1 = run_engine(capacity, flows, changes)
        second, trace2 = run_engine(capacity, flows, changes)
        assert first == second and trace1 == trace2
        assert trace1  # something happened


def test_every_random_scenario_ends():
    """Every flow not cancelled completes (guards the comparison above against comparing nothing)."""
    cancelled = 0
    for seed in range(50):
        capacity, flows, changes = scenario(seed)
        got, _ = run_engine(capacity, flows, changes)
        want = ref.simulate(capacity, flows, changes)
        assert [g == INF for g in got] == [w == INF for w in want]
        for f, w in zip(flows, want):
            assert math.isfinite(w) or "cancel" in f
            cancelled += w == INF
    assert cancelled  # some cancellations cut a flow short
