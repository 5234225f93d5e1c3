"""How the sharing engine plans its wake-ups, and what it assumes of SimPy's event order.

A domain keeps its activity groups' finish times in a heap: the next wake-up is
the earliest finish time (among equal ones, the group that became active first),
found without looking at every group. Each wake-up is a new SimPy ``Timeout``;
a controller's late calls (``virtsim.engine.events``) come after every other
event of their instant. The SimPy tests below fail if a SimPy release changes the order
those rely on.
"""

from __future__ import annotations

import math
import re
import tomllib
from pathlib import Path

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.requirements import Requirement

from virtsim.engine import _sharing
from virtsim.engine.events import late_calls
from virtsim.engine.sharing import INF, RateResource

ROOT = Path(__file__).parents[1]


# -- SimPy: the versions and the order the engine relies on -----------------------


def test_simpy_is_bounded_to_the_tested_versions():
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    (simpy_requirement,) = [Requirement(d) for d in dependencies if Requirement(d).name == "simpy"]
    assert any(spec.operator == "<" for spec in simpy_requirement.specifier), "simpy needs an upper bound"
    assert simpy_requirement.specifier.contains(simpy.__version__), (simpy.__version__, str(simpy_requirement))


def recorder(env, order: list):
    """``record(name)``: a callback that appends ``(now, name)`` to ``order`` when it is called."""
    return lambda name: (lambda _event: order.append((env.now, name)))


def test_simpy_orders_an_instant_by_priority_then_by_scheduling():
    """URGENT (a process starting), then NORMAL in the order scheduled, also during the instant."""
    env = simpy.Environment()
    order = []
    record = recorder(env, order)

    def at_one(event):
        order.append((env.now, "timeout 1"))
        env.timeout(0).callbacks.append(record("timeout scheduled at 1"))
        simpy.Event(env).succeed().callbacks.append(record("succeeded at 1"))
        env.process(process())

    def process():
        order.append((env.now, "process starts"))
        yield env.timeout(0)

    env.timeout(1).callbacks.append(at_one)
    env.timeout(1).callbacks.append(record("timeout 2"))
    env.run()
    assert order == [(1, "timeout 1"), (1, "process starts"), (1, "timeout 2"), (1, "timeout scheduled at 1"),
                     (1, "succeeded at 1")]


def test_peek_is_the_time_of_the_next_event_and_infinity_when_none():
    env = simpy.Environment()
    assert env.peek() == math.inf
    env.timeout(3.0)
    env.timeout(3.0)
    assert env.peek() == 3.0
    env.step()
    assert env.now == 3.0 and env.peek() == 3.0  # one more at the same instant
    env.step()
    assert env.peek() == math.inf


# -- late calls: after every other event of their instant ---------------------------


def test_late_calls_run_after_the_instant_and_after_what_each_schedules():
    env = simpy.Environment()
    late = late_calls(env)
    order = []
    record = recorder(env, order)

    def first_late(_call):
        order.append((env.now, "late 1"))
        env.timeout(0).callbacks.append(record("timeout scheduled by late 1"))
        late.call(0, record("late scheduled by late 1"))

    def at_one(_event):
        order.append((env.now, "timeout 1"))
        env.timeout(0).callbacks.append(record("timeout scheduled at 1"))
        late.call(0, record("late scheduled at 1"))

    late.call(1, first_late)
    late.call(1, record("late 2"))
    env.timeout(1).callbacks.append(at_one)
    env.timeout(1).callbacks.append(record("timeout 2"))
    env.timeout(2).callbacks.append(record("timeout at 2"))
    env.run()
    assert order == [(1, "timeout 1"), (1, "timeout 2"), (1, "timeout scheduled at 1"),
                     (1, "late 1"), (1, "timeout scheduled by late 1"), (1, "late 2"), (1, "late scheduled at 1"),
                     (1, "late scheduled by late 1"), (2, "timeout at 2")]


def test_one_late_scheduler_per_environment_and_calls_identify_themselves():
    env, other = simpy.Environment(), simpy.Environment()
    assert late_calls(env) is late_calls(env) and late_calls(env) is not late_calls(other)
    seen = []
    call = late_calls(env).call(2.0, lambda c: seen.append((env.now, c)))
    env.run()
    assert seen == [(2.0, call)]
    with pytest.raises(ValueError, match="negative delay"):
        late_calls(env).call(-1.0, print)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.booleans()), min_size=1, max_size=12))
def test_no_other_event_of_an_instant_follows_a_late_call(plan):
    """Whatever mix of timeouts and late calls: a late call at t sees no event left at t but late calls."""
    env = simpy.Environment()
    late = late_calls(env)
    ran = []

    def on_late(_call):
        ran.append(env.now)
        assert env.peek() > env.now or late._checking

    for at, is_late in plan:
        if is_late:
            late.call(at, on_late)
        else:
            env.timeout(at).callbacks.append(lambda _e, at=at: env.timeout(0))
    env.run()
    assert sorted(ran) == ran and len(ran) == sum(is_late for _, is_late in plan)


def test_simpy_reads_a_shared_callbacks_list_without_changing_it():
    env = simpy.Environment()
    seen = []
    shared = [lambda event: seen.append((env.now, names[event]))]
    names = {}
    for name, delay in (("a", 2), ("b", 1), ("c", 1)):
        event = env.timeout(delay)
        event.callbacks = shared
        names[event] = name
    env.run()
    assert seen == [(1, "b"), (1, "c"), (2, "a")]  # equal times in the order made
    assert len(shared) == 1 and all(event.processed for event in names)


def test_no_module_names_simpy_private_fields():
    """virtsim uses SimPy's public API only: no ``_ok``, ``_value``, ``_defused``, ``_eid``, ``_queue``."""
    private = re.compile(r"\b_(ok|value|defused|eid|queue)\b")
    offenders = [f"{path.relative_to(ROOT)}:{n}" for path in sorted((ROOT / "virtsim").rglob("*.py"))
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if private.search(line)]
    assert not offenders


# -- wake-ups: new events, planned from the heap -----------------------------------


class RecordingEnvironment(simpy.Environment):
    """Keeps every event scheduled (so that ids stay unique)."""

    def __init__(self):
        super().__init__()
        self.scheduled = []

    def schedule(self, event, priority=simpy.events.NORMAL, delay=0):
        self.scheduled.append(event)
        super().schedule(event, priority, delay)


def test_each_wakeup_is_a_new_event():
    """A fired wake-up is never scheduled again: the engine makes a new Timeout for each."""
    env = RecordingEnvironment()
    host = RateResource(env, 2.0)
    vms = [host.root.add_child(f"vm{i}") for i in range(3)]
    done = []

    def again(activity):
        done.append(env.now)
        if len(done) < 30:
            vms[len(done) % 3].submit(0.5 + len(done) % 4, max_rate=1.0, on_done=again)

    for vm in vms:
        vm.submit(1.0, max_rate=1.0, on_done=again)
    env.run()
    assert len(done) == 32 and len(env.scheduled) > 10  # simultaneous completions share one
    assert len({id(event) for event in env.scheduled}) == len(env.scheduled)


def test_no_workload_source_schedules_a_fired_event_again(monkeypatch):
    """Open loops (Poisson), closed loops, batches and replayed jobs files make a new event per arrival."""
    import virtsim

    scheduled = []
    schedule = simpy.Environment.schedule

    def recording(env, event, priority=simpy.events.NORMAL, delay=0):
        if isinstance(event, simpy.Timeout):  # SimPy re-queues its own stop event: not ours
            scheduled.append(event)
        schedule(env, event, priority, delay)

    monkeypatch.setattr(simpy.Environment, "schedule", recording)
    experiment = {
        "name": "sources", "duration": "60 s", "seed": 3,
        "hosts": [{"name": "h1", "hardware": {"cores": 2, "memory": "8 GiB"}}],
        "workloads": [
            {"name": "open", "type": "open", "target": "h1", "arrivals": {"type": "poisson", "rate": "2 /s"},
             "demand": {"cpu": {"type": "exponential", "mean": "0.2 s"}}},
            {"name": "closed", "type": "closed", "target": "h1", "clients": 2, "think_time": "1 s",
             "demand": {"cpu": "0.1 s"}},
            {"name": "batch", "type": "batch", "target": "h1", "jobs": 3, "demand": {"cpu": "1 s"}},
        ],
    }
    results = virtsim.run_spec(virtsim.load_experiment(experiment))
    assert (results.workloads.set_index("workload")["jobs_arrived"] > 2).all()
    replay = virtsim.load_experiment(ROOT / "experiments" / "trace-replay.yaml")  # a jobs file
    assert (virtsim.run_spec(replay.model_copy(update={"duration_s": 60.0})).workloads["jobs_arrived"] > 2).all()
    assert len(scheduled) > 100
    assert len({id(event) for event in scheduled}) == len(scheduled)


def _active_groups(res) -> list:
    return [g for node in res.nodes() for g in node.groups.values() if g.n]


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_the_next_wakeup_is_the_earliest_finish_time(data):
    """After any start, cancel, cap or weight change or passing of time, the plan is the earliest
    ``t_finish`` of the active groups, ties going to the group that became active first."""
    env = simpy.Environment()
    res = RateResource(env, data.draw(st.sampled_from([1.0, 2.0, 4.0]), "capacity"), name="host",
                       policy=data.draw(st.sampled_from(["max-min", "proportional"]), "policy"))
    nodes = [res.root]
    for i in range(data.draw(st.integers(1, 5), "nodes")):
        parent = nodes[data.draw(st.integers(0, len(nodes) - 1), "parent")]
        nodes.append(parent.add_child(f"n{i}", cap=data.draw(st.sampled_from([INF, 1.0, 0.5]), "cap")))
    running = []
    active_order = {}  # groups in the order they became active, as observed from outside

    for _ in range(data.draw(st.integers(1, 25), "steps")):
        op = data.draw(st.sampled_from(["start", "start", "start", "cancel", "cap", "weight", "advance"]), "op")
        if op == "start":
            node = nodes[data.draw(st.integers(0, len(nodes) - 1), "node")]
            work = data.draw(st.sampled_from([1.0, 2.0, 0.5]) | st.floats(0.01, 4.0), "work")
            running.append(node.submit(work, max_rate=data.draw(st.sampled_from([1.0, 0.5, 2.0]), "rate")))
        elif op == "cancel" and running:
            res.cancel(running.pop(data.draw(st.integers(0, len(running) - 1), "which")))
        elif op == "cap" and len(nodes) > 1:
            node = nodes[data.draw(st.integers(1, len(nodes) - 1), "capped")]
            node.set_cap(data.draw(st.sampled_from([0.0, 0.25, 1.0, INF]), "new cap"))
        elif op == "weight" and len(nodes) > 1:
            nodes[data.draw(st.integers(1, len(nodes) - 1), "weighted")].set_weight(
                data.draw(st.sampled_from([0.5, 1.0, 3.0]), "new weight"))
        elif op == "advance":
            env.run(until=env.now + data.draw(st.sampled_from([0.1, 0.5, 1.0, 3.0]), "dt"))
        running = [a for a in running if not a.done]
        active = _active_groups(res)
        for group in list(active_order):
            if not group.n:
                del active_order[group]
        for group in active:
            active_order.setdefault(group, None)
        earliest = min((g.t_finish for g in active), default=INF)
        assert res._planned_time == earliest
        if earliest < INF:
            first = next(g for g in active_order if g.t_finish == earliest)
            assert res._planned_group is first
            assert sorted(active, key=lambda g: g.activation) == list(active_order)
        assert res._pending_time <= res._planned_time  # a wake-up comes no later than the plan
        plan = res._plan  # a heap of exactly the active groups, each knowing its index
        assert sorted(map(id, plan)) == sorted(map(id, active))
        assert all(g.slot == i for i, g in enumerate(plan))
        for i in range(1, len(plan)):
            parent, child = plan[(i - 1) // 2], plan[i]
            assert (parent.t_finish, parent.activation) < (child.t_finish, child.activation)


class _CountingGroup(_sharing._Group):
    """A group of the plain engine that counts the reads of its finish time."""

    __slots__ = ("_t",)
    reads = 0

    @property
    def t_finish(self):
        _CountingGroup.reads += 1
        return self._t

    @t_finish.setter
    def t_finish(self, value):
        self._t = value


def _reads_per_short_activity(busy_vms: int, short: int = 40) -> float:
    env = simpy.Environment()
    host = _sharing.RateResource(env, busy_vms + 1.0)  # uncontended: the busy VMs' rates never change
    for i in range(busy_vms):
        host.root.add_child(f"busy{i}", cap=1.0).submit(1e9, max_rate=1.0)
    hot = host.root.add_child("hot", cap=1.0)
    count = [0]

    def next_one(activity=None):
        count[0] += 1
        if count[0] <= short:
            hot.submit(0.01, max_rate=1.0, on_done=next_one)

    env.run(until=1.0)
    _CountingGroup.reads = 0
    next_one()
    env.run(until=2.0)
    assert count[0] == short + 1
    return _CountingGroup.reads / short


def test_planning_a_wakeup_does_not_look_at_every_group(monkeypatch):
    """Short activities on an idle VM read O(log groups) finish times, not one per busy VM.

    Each one enters the heap of finish times (a path up: one comparison a step)
    and leaves it (a path down: two a step), at most log2(groups) steps each; a
    comparison reads at most four finish times. A scan reads one per group.
    (The plain engine, whose groups can be instrumented; the compiled one is
    built from the same source.)
    """
    monkeypatch.setattr(_sharing, "_Group", _CountingGroup)
    few, many = _reads_per_short_activity(7), _reads_per_short_activity(1023)
    per_level = 3 * 4
    assert few <= per_level * math.log2(8) + 8, few
    assert many - few <= per_level * (math.log2(1024) - math.log2(8)), (few, many)


def test_a_group_leaves_the_heap_when_it_empties_and_rejoins_last():
    """Ties go to the group active longest: one that emptied and restarted counts as new."""
    env = simpy.Environment()
    host = RateResource(env, 3.0)
    a, b, c = (host.root.add_child(name) for name in "abc")
    first = a.submit(1.0, max_rate=1.0)
    b.submit(1.0, max_rate=1.0)
    c.submit(1.0, max_rate=1.0)
    assert host._planned_group is a.groups[1.0]  # three finish at 1.0: the first activated
    host.cancel(first)
    assert len(host._plan) == 2 and a.groups[1.0].slot == -1
    a.submit(1.0, max_rate=1.0)  # a restarts at 0: finishes at 1.0 as well, but is now the newest
    assert host._planned_group is b.groups[1.0]
    order = []
    for vm in (a, b, c):
        vm.groups[1.0].heap[0][2].on_done = lambda act, name=vm.name: order.append((env.now, name))
    env.run()
    assert order == [(1.0, "b"), (1.0, "c"), (1.0, "a")]  # the planned group first, then by activation
    assert host._plan == []


@pytest.mark.parametrize("vms", [2, 3, 6])
def test_groups_due_together_complete_in_one_wakeup(vms):
    """Every group due at the wake-up completes in it, also after the planned one has left the heap."""
    env = simpy.Environment()
    host = RateResource(env, float(vms))
    activities = [host.root.add_child(f"vm{i}").submit(1.0, max_rate=1.0) for i in range(vms)]
    seen = []
    for act in activities:
        act.on_done = lambda act: seen.append((env.now, [other.done for other in activities]))
    env.run()
    assert seen == [(1.0, [True] * vms)] * vms  # one batch: all done before the first callback
