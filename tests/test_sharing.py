"""Tests of the dynamic sharing engine (virtsim.engine.sharing) on a SimPy clock.

Random trees are checked against the independent LP solver in
``maxmin_reference``; small scenarios against hand-computed completion times.
"""

from __future__ import annotations

import math

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from virtsim.engine.sharing import INF, RateResource

from maxmin_reference import RefActivity, RefNode, solve_tree

REL = 1e-7


def close(a: float, b: float, scale: float = 1.0, rel: float = REL) -> bool:
    return abs(a - b) <= rel * max(1.0, abs(scale), abs(a), abs(b))


def at(env: simpy.Environment, when: float, fn) -> None:
    """Call ``fn()`` at simulated time ``when``."""
    ev = env.timeout(when - env.now)
    ev.callbacks.append(lambda _ev: fn())


def run_bounded(env: simpy.Environment, max_steps: int = 10_000) -> None:
    """Run to the end, failing instead of hanging if events never stop coming."""
    for _ in range(max_steps):
        if env.peek() == INF:
            return
        env.step()
    raise AssertionError(f"still running after {max_steps} events at t={env.now}")


def run_until(env: simpy.Environment, until: float, max_steps: int = 10_000) -> None:
    """``env.run(until=until)``, failing instead of hanging on a zero-delay loop."""
    for _ in range(max_steps):
        if env.peek() >= until:
            break
        env.step()
    else:
        raise AssertionError(f"still running after {max_steps} events at t={env.now}")
    if until > env.now:
        env.run(until=until)


class Log:
    """Records each activity's completion time; fails if one completes twice."""

    def __init__(self, env: simpy.Environment):
        self.env = env
        self.done: dict[object, float] = {}

    def __call__(self, act) -> None:
        assert act.data not in self.done, f"on_done called twice for {act.data!r}"
        assert act.done
        self.done[act.data] = self.env.now


# -- exact scenarios -----------------------------------------------------------


def test_two_tasks_on_one_core():
    env = simpy.Environment()
    cpu = RateResource(env, 1.0)
    log = Log(env)
    a = cpu.root.submit(1.0, max_rate=1.0, on_done=log, data="a")
    b = cpu.root.submit(2.0, max_rate=1.0, on_done=log, data="b")
    assert a.rate == pytest.approx(0.5) and b.rate == pytest.approx(0.5)
    run_until(env, 1.0)
    assert a.remaining(env.now) == pytest.approx(0.5)
    assert b.remaining(env.now) == pytest.approx(1.5)
    run_bounded(env)
    assert log.done == {"a": pytest.approx(2.0), "b": pytest.approx(3.0)}
    assert a.done and b.done and a.rate == 0.0 and a.remaining(env.now) == 0.0
    assert cpu.completions == 2


def test_single_task_is_limited_by_its_max_rate():
    env = simpy.Environment()
    cpu = RateResource(env, 8.0)
    log = Log(env)
    cpu.root.submit(3.0, max_rate=1.5, on_done=log, data="a")
    run_bounded(env)
    assert log.done == {"a": pytest.approx(2.0)}


def test_vm_capped_at_two_cores_with_four_tasks():
    env = simpy.Environment()
    host = RateResource(env, 4.0, name="host")
    vm_a = host.root.add_child("a", cap=2.0)
    vm_b = host.root.add_child("b")
    log = Log(env)
    tasks = [vm_a.submit(1.0, max_rate=1.0, on_done=log, data=f"a{i}") for i in range(4)]
    b = vm_b.submit(3.0, max_rate=1.0, on_done=log, data="b")
    assert vm_a.demand == pytest.approx(2.0) and vm_a.alloc == pytest.approx(2.0)
    assert all(t.rate == pytest.approx(0.5) for t in tasks)
    assert b.rate == pytest.approx(1.0)
    run_bounded(env)
    assert log.done == {**{f"a{i}": pytest.approx(2.0) for i in range(4)}, "b": pytest.approx(3.0)}


def test_completion_deep_in_the_tree_reshares_its_siblings():
    # A container capped at 1 core inside a VM: a completion leaves its demand (and
    # so everything above it) unchanged, yet its remaining tasks must speed up.
    env = simpy.Environment()
    host = RateResource(env, 4.0)
    vm = host.root.add_child("vm")
    ct = vm.add_child("ct", cap=1.0)
    log = Log(env)
    for i, w in enumerate((1.0, 2.0, 2.0)):
        ct.submit(w, max_rate=1.0, on_done=log, data=i)
    run_bounded(env)
    # 1/3 each until t=3, then the two left (1 each) at 1/2.
    assert log.done == pytest.approx({0: 3.0, 1: 5.0, 2: 5.0})


def test_raising_the_cap_mid_run():
    env = simpy.Environment()
    host = RateResource(env, 8.0)
    vm = host.root.add_child("vm", cap=2.0)
    log = Log(env)
    for i in range(4):
        vm.submit(1.0, max_rate=1.0, on_done=log, data=i)
    at(env, 1.0, lambda: vm.set_cap(4.0))  # each task has 0.5 left, now at rate 1
    run_bounded(env)
    assert log.done == {i: pytest.approx(1.5) for i in range(4)}


def test_weights_two_to_one():
    env = simpy.Environment()
    host = RateResource(env, 3.0)
    vm_a = host.root.add_child("a", weight=2.0)
    vm_b = host.root.add_child("b", weight=1.0)
    log = Log(env)
    ta = [vm_a.submit(2.0, max_rate=1.0, on_done=log, data=f"a{i}") for i in range(3)]
    tb = [vm_b.submit(2.0, max_rate=1.0, on_done=log, data=f"b{i}") for i in range(3)]
    assert vm_a.alloc == pytest.approx(2.0) and vm_b.alloc == pytest.approx(1.0)
    assert ta[0].rate == pytest.approx(2 / 3) and tb[0].rate == pytest.approx(1 / 3)
    run_bounded(env)
    # a's tasks finish at 3; b's have 1 left each and then run at full speed.
    expected = {**{f"a{i}": 3.0 for i in range(3)}, **{f"b{i}": 4.0 for i in range(3)}}
    assert log.done == pytest.approx(expected)


def test_changing_the_weight_mid_run():
    env = simpy.Environment()
    host = RateResource(env, 2.0)
    vm_a = host.root.add_child("a", weight=3.0)
    vm_b = host.root.add_child("b", weight=1.0)
    log = Log(env)
    vm_a.submit(10.0, max_rate=2.0, on_done=log, data="a")
    vm_b.submit(10.0, max_rate=2.0, on_done=log, data="b")
    # [0, 2): a at 1.5, b at 0.5; from 2 equal weights: both at 1.
    at(env, 2.0, lambda: vm_b.set_weight(3.0))
    run_bounded(env)
    # a: 3 done by t=2, 7 left at 1/s -> 9; b: 1 done by t=2, 8 by t=9, then 2 left at 2/s -> 10.
    assert log.done == pytest.approx({"a": 9.0, "b": 10.0})


def test_reservation_is_served_first_then_removed():
    env = simpy.Environment()
    host = RateResource(env, 4.0)
    vm_a = host.root.add_child("a", reservation=3.0)
    vm_b = host.root.add_child("b")
    log = Log(env)
    ta = [vm_a.submit(3.0, max_rate=1.0, on_done=log, data=f"a{i}") for i in range(4)]
    tb = [vm_b.submit(3.0, max_rate=1.0, on_done=log, data=f"b{i}") for i in range(4)]
    assert vm_a.alloc == pytest.approx(3.0) and vm_b.alloc == pytest.approx(1.0)
    assert ta[0].rate == pytest.approx(0.75) and tb[0].rate == pytest.approx(0.25)
    at(env, 2.0, lambda: vm_a.set_reservation(0.0))
    run_bounded(env)
    # At t=2: a's tasks have 1.5 left, b's 2.5; both at 0.5/s until a finishes at 5,
    # then b's have 1 left at 1/s.
    expected = {**{f"a{i}": 5.0 for i in range(4)}, **{f"b{i}": 6.0 for i in range(4)}}
    assert log.done == pytest.approx(expected)


def test_reservation_above_demand_gives_only_the_demand():
    env = simpy.Environment()
    host = RateResource(env, 4.0)
    vm_a = host.root.add_child("a", reservation=3.0)
    vm_b = host.root.add_child("b")
    a = vm_a.submit(100.0, max_rate=1.0)
    bs = [vm_b.submit(100.0, max_rate=1.0) for _ in range(6)]
    assert a.rate == pytest.approx(1.0)
    assert vm_b.alloc == pytest.approx(3.0)
    assert bs[0].rate == pytest.approx(0.5)


def test_reservation_set_later_takes_effect():
    env = simpy.Environment()
    host = RateResource(env, 4.0)
    vm_a = host.root.add_child("a")
    vm_b = host.root.add_child("b")
    for _ in range(4):
        vm_a.submit(100.0, max_rate=1.0)
        vm_b.submit(100.0, max_rate=1.0)
    assert vm_a.alloc == pytest.approx(2.0)
    vm_a.set_reservation(3.5)
    assert vm_a.alloc == pytest.approx(3.5) and vm_b.alloc == pytest.approx(0.5)


def test_multithreaded_activities():
    env = simpy.Environment()
    cpu = RateResource(env, 4.0)
    log = Log(env)
    x = cpu.root.submit(4.0, max_rate=2.0, on_done=log, data="x")
    y = cpu.root.submit(4.0, max_rate=2.0, on_done=log, data="y")
    z = cpu.root.submit(1.0, max_rate=1.0, on_done=log, data="z")
    # Demands 2, 2, 1 on 4 with equal task weights: z is satisfied, x and y split 3.
    assert (x.rate, y.rate, z.rate) == pytest.approx((1.5, 1.5, 1.0))
    run_bounded(env)
    # z done at 1; x and y have 2.5 left and run at 2 each -> 2.25.
    assert log.done == pytest.approx({"z": 1.0, "x": 2.25, "y": 2.25})


def test_task_weight_against_child_nodes():
    env = simpy.Environment()
    cpu = RateResource(env, 4.0, task_weight=1.0)
    vm = cpu.root.add_child("vm", weight=3.0)
    own = cpu.root.submit(100.0, max_rate=10.0)
    vm.submit(100.0, max_rate=10.0)
    assert own.rate == pytest.approx(1.0)
    assert vm.alloc == pytest.approx(3.0)


def test_proportional_policy_design_example():
    for policy, expected in (("proportional", (3.2, 3.2, 0.8, 0.8)), ("max-min", (3.0, 3.0, 1.0, 1.0))):
        env = simpy.Environment()
        host = RateResource(env, 8.0, policy=policy)
        vms = [host.root.add_child(f"vm{i}", weight=w) for i, w in enumerate((1.0, 2.0, 1.0, 1.0))]
        acts = []
        for vm, n in zip(vms, (4, 4, 1, 1)):
            acts.append([vm.submit(100.0, max_rate=1.0) for _ in range(n)])
        if policy == "max-min":  # weights matter under max-min; re-level them for the example
            vms[1].set_weight(1.0)
        assert tuple(vm.alloc for vm in vms) == pytest.approx(expected)
        assert tuple(a[0].rate for a in acts) == pytest.approx((expected[0] / 4, expected[1] / 4, expected[2], expected[3]))


def test_proportional_policy_completion_times():
    env = simpy.Environment()
    host = RateResource(env, 2.0, policy="proportional")
    log = Log(env)
    host.root.add_child("a").submit(3.0, max_rate=3.0, on_done=log, data="a")
    host.root.add_child("b").submit(0.5, max_rate=1.0, on_done=log, data="b")
    # Demands 3 and 1 on 2: rates 1.5 and 0.5 (max-min would give 1 and 1), so b is
    # done at 1; a has 1.5 left and runs at 2 -> 1.75.
    run_bounded(env)
    assert log.done == pytest.approx({"a": 1.75, "b": 1.0})


def test_superseded_wakeup_is_harmless():
    env = simpy.Environment()
    cpu = RateResource(env, 1.0)
    log = Log(env)
    cpu.root.submit(1.0, max_rate=1.0, on_done=log, data="a")  # would finish at 1 alone
    at(env, 0.5, lambda: cpu.root.submit(10.0, max_rate=1.0, on_done=log, data="b"))
    run_bounded(env)
    # a: 0.5 left at 0.5/s from t=0.5 -> 1.5; b: 0.5 done by 1.5, 9.5 left at 1/s -> 11.
    assert log.done == pytest.approx({"a": 1.5, "b": 11.0})
    assert cpu.completions == 2


def test_many_arrivals_at_the_same_instant():
    env = simpy.Environment()
    cpu = RateResource(env, 1.0)
    log = Log(env)
    n = 40
    # Half submitted directly, half by separate callbacks at the same instant t=1,
    # in shuffled order of work; processor sharing on one core.
    works = [float(k) for k in range(1, n + 1)]
    order = works[::2] + works[1::2][::-1]
    for w in order[: n // 2]:
        at(env, 1.0, lambda w=w: cpu.root.submit(w, max_rate=1.0, on_done=log, data=w))
    def burst():
        for w in order[n // 2:]:
            cpu.root.submit(w, max_rate=1.0, on_done=log, data=w)
    at(env, 1.0, burst)
    run_bounded(env)
    # Job k (work k) finishes after sum_{j<=k} (n - j + 1) seconds of sharing.
    expected = {float(k): 1.0 + k * n - k * (k - 1) / 2 for k in range(1, n + 1)}
    assert log.done == pytest.approx(expected, rel=1e-9)
    assert cpu.completions == n


def test_completions_late_in_a_long_run():
    # At t = 1e9 a time step of one ulp is ~1e-7 s, far more than the relative
    # tolerance on small amounts of work: completions must still happen, on time.
    start = 1e9
    env = simpy.Environment(initial_time=start)
    cpu = RateResource(env, 3.0)
    log = Log(env)
    works = (0.1, 0.3, 0.7, 0.35, 1.3)
    for i, w in enumerate(works):
        cpu.root.submit(w, max_rate=1.0, on_done=log, data=i)
    at(env, start + 0.05, lambda: cpu.root.submit(0.2, max_rate=1.0, on_done=log, data="late"))
    run_bounded(env)
    assert cpu.completions == len(works) + 1
    ref_root = RefNode("cpu", cap=3.0)
    jobs = [(0.0, ref_root, [(w, 1.0)]) for w in works] + [(0.05, ref_root, [(0.2, 1.0)])]
    expected = reference_run(ref_root, jobs, "max-min")
    got = {(i if i != "late" else len(works), 0): t - start for i, t in log.done.items()}
    assert got.keys() == expected.keys()
    for key, t in expected.items():
        assert got[key] == pytest.approx(t, abs=1e-6), key


def test_completion_callback_can_start_new_work():
    env = simpy.Environment()
    cpu = RateResource(env, 2.0)
    log = Log(env)

    def chain(act):
        log(act)
        if act.data < 3:
            cpu.root.submit(1.0, max_rate=1.0, on_done=chain, data=act.data + 1)

    cpu.root.submit(1.0, max_rate=1.0, on_done=chain, data=0)
    cpu.root.submit(10.0, max_rate=1.0, on_done=log, data="long")
    run_bounded(env)
    assert log.done == pytest.approx({0: 1.0, 1: 2.0, 2: 3.0, 3: 4.0, "long": 10.0})


def test_changes_made_by_a_completion_callback():
    env = simpy.Environment()
    host = RateResource(env, 2.0)
    vm = host.root.add_child("vm", cap=1.0)
    log = Log(env)
    x = vm.submit(2.0, max_rate=1.0, on_done=log, data="x")
    y = vm.submit(2.0, max_rate=1.0, on_done=log, data="y")

    def a_done(act):
        log(act)
        vm.set_cap(2.0)
        host.cancel(y)

    host.root.submit(1.0, max_rate=1.0, on_done=a_done, data="a")
    assert (x.rate, y.rate) == pytest.approx((0.5, 0.5))
    run_until(env, 1.5)
    assert y.done and y.rate == 0.0
    assert x.rate == pytest.approx(1.0) and vm.alloc == pytest.approx(1.0)
    run_bounded(env)
    # x did 0.5 by t=1, then runs alone at 1/s.
    assert log.done == pytest.approx({"a": 1.0, "x": 2.5})


def test_cancel_stops_an_activity_without_on_done():
    env = simpy.Environment()
    cpu = RateResource(env, 1.0)
    log = Log(env)
    a = cpu.root.submit(2.0, max_rate=1.0, on_done=log, data="a")
    b = cpu.root.submit(2.0, max_rate=1.0, on_done=log, data="b")

    def stop():
        cpu.cancel(a)
        assert a.done and a.rate == 0.0 and a.remaining(env.now) == 0.0
        assert b.rate == pytest.approx(1.0)
        assert b.remaining(env.now) == pytest.approx(1.5)
        cpu.cancel(a)  # a second cancel is a no-op

    at(env, 1.0, stop)
    run_bounded(env)
    assert log.done == {"b": pytest.approx(2.5)}
    assert cpu.completions == 1


def test_cancel_of_a_finished_activity_is_a_no_op():
    env = simpy.Environment()
    cpu = RateResource(env, 1.0)
    log = Log(env)
    a = cpu.root.submit(1.0, max_rate=1.0, on_done=log, data="a")
    run_bounded(env)
    cpu.cancel(a)
    b = cpu.root.submit(1.0, max_rate=1.0, on_done=log, data="b")
    assert b.rate == 1.0
    run_bounded(env)
    assert log.done == {"a": pytest.approx(1.0), "b": pytest.approx(2.0)}


def test_emptied_group_restarts_cleanly():
    env = simpy.Environment()
    cpu = RateResource(env, 2.0)
    vm = cpu.root.add_child("vm")
    log = Log(env)
    first = [vm.submit(5.0, max_rate=1.0, on_done=log, data=f"f{i}") for i in range(2)]

    def swap():
        for act in first:
            cpu.cancel(act)
        vm.submit(1.0, max_rate=1.0, on_done=log, data="new")

    at(env, 3.0, swap)
    run_bounded(env)
    assert log.done == {"new": pytest.approx(4.0)}
    assert vm.time_integrals(env.now)[0] == pytest.approx(2 * 3.0 + 1.0)


def test_cancel_head_of_group_keeps_the_others_on_time():
    env = simpy.Environment()
    cpu = RateResource(env, 1.0)
    log = Log(env)
    acts = [cpu.root.submit(w, max_rate=1.0, on_done=log, data=w) for w in (1.0, 2.0, 3.0)]
    at(env, 0.5, lambda: cpu.cancel(acts[0]))
    run_bounded(env)
    # Each did 1/6 by t=0.5; then the other two run at 0.5: the work-2 one has 11/6
    # left (done 11/3 later), after which the last has 1 left at 1/s.
    assert log.done == pytest.approx({2.0: 0.5 + 11 / 3, 3.0: 0.5 + 11 / 3 + 1.0})


def test_time_integrals_give_utilisation_and_steal():
    env = simpy.Environment()
    host = RateResource(env, 1.0)
    vm_a = host.root.add_child("a")
    vm_b = host.root.add_child("b")
    vm_a.submit(1.0, max_rate=1.0)
    vm_b.submit(1.0, max_rate=1.0)
    run_until(env, 1.0)
    assert vm_a.time_integrals(env.now) == pytest.approx((0.5, 1.0))
    run_until(env, 3.0)
    # Both ran at 0.5 until t=2 while each demanded 1: steal time 1 each.
    assert vm_a.time_integrals(env.now) == pytest.approx((1.0, 2.0))
    assert vm_b.time_integrals(env.now) == pytest.approx((1.0, 2.0))
    # The root's demand is what its consumers want (2 for 2 s), beyond the capacity.
    assert host.root.time_integrals(env.now) == pytest.approx((2.0, 4.0))
    assert host.root.time_integrals(env.now)[0] / (host.capacity * env.now) == pytest.approx(2 / 3)


def test_time_integrals_with_caps():
    env = simpy.Environment()
    host = RateResource(env, 2.0)
    vm_a = host.root.add_child("a")
    vm_b = host.root.add_child("b", cap=1.0)
    vm_a.submit(2.0, max_rate=1.0)
    for _ in range(3):
        vm_b.submit(1.0, max_rate=1.0)  # 1/3 each under the cap: done at 3
    run_until(env, 4.0)
    assert vm_a.time_integrals(4.0) == pytest.approx((2.0, 2.0))
    assert vm_b.time_integrals(4.0) == pytest.approx((3.0, 3.0))  # the demand is capped too
    assert host.root.time_integrals(4.0) == pytest.approx((5.0, 5.0))


def test_nodes_and_active_counts():
    env = simpy.Environment()
    host = RateResource(env, 4.0, name="h")
    a = host.root.add_child("a")
    x = a.add_child("x")
    b = host.root.add_child("b")
    assert [n.path for n in host.nodes()] == ["h", "h/a", "h/a/x", "h/b"]
    x.submit(1.0, max_rate=1.0)
    x.submit(1.0, max_rate=2.0)
    assert x.active_activities() == 2 and a.active_activities() == 0 and b.active_activities() == 0
    assert host.capacity == 4.0


# -- errors --------------------------------------------------------------------


def test_bad_resource_arguments():
    env = simpy.Environment()
    for capacity in (0.0, -1.0, math.nan):
        with pytest.raises(ValueError, match="cpu0"):
            RateResource(env, capacity, name="cpu0")
    with pytest.raises(ValueError, match="cpu0"):
        RateResource(env, 4.0, name="cpu0", policy="fifo")


def test_bad_submissions_name_the_node():
    env = simpy.Environment()
    host = RateResource(env, 4.0, name="host")
    vm = host.root.add_child("vm7")
    for work in (0.0, -1.0, math.inf, math.nan):
        with pytest.raises(ValueError, match="vm7"):
            vm.submit(work, max_rate=1.0)
    for rate in (0.0, -2.0, math.nan):
        with pytest.raises(ValueError, match="vm7"):
            vm.submit(1.0, max_rate=rate)
    assert vm.active_activities() == 0 and vm.demand == 0.0


def test_bad_parameters_name_the_node():
    env = simpy.Environment()
    host = RateResource(env, 4.0, name="host")
    for kwargs in ({"weight": 0.0}, {"weight": -1.0}, {"cap": 0.0}, {"reservation": -1.0},
                   {"task_weight": 0.0}):
        with pytest.raises(ValueError, match="vm3"):
            host.root.add_child("vm3", **kwargs)
    vm = host.root.add_child("vm3")
    for cap in (-1.0, math.nan):
        with pytest.raises(ValueError, match="vm3"):
            vm.set_cap(cap)
    with pytest.raises(ValueError, match="host"):
        host.root.set_cap(0.0)  # only a node below the root can be paused
    with pytest.raises(ValueError, match="vm3"):
        vm.set_weight(-1.0)
    with pytest.raises(ValueError, match="vm3"):
        vm.set_reservation(-0.5)
    assert (vm.cap, vm.weight, vm.reservation) == (INF, 1.0, 0.0)


# -- random trees against the LP reference --------------------------------------

MAX_RATES = (0.5, 1.0, 1.0, 2.0, 0.75)


class Mirror:
    """An engine tree and the same tree in the reference, changed together."""

    def __init__(self, data, policy: str):
        self.data = data
        self.policy = policy
        self.env = simpy.Environment()
        self.capacity = data.draw(st.sampled_from([1.0, 2.0, 4.0, 8.0]) | st.floats(0.5, 32.0), "capacity")
        task_weight = data.draw(st.sampled_from([1.0, 1.0, 2.0, 0.5]), "task_weight")
        self.res = RateResource(self.env, self.capacity, name="host", policy=policy, task_weight=task_weight)
        self.ref = RefNode("host", cap=self.capacity, task_weight=task_weight)
        self.pairs = [(self.res.root, self.ref)]
        self.acts = []  # (engine activity, reference node, reference activity, work)
        self.acc = {id(self.res.root): (0.0, 0.0)}
        self.last_seen = {}
        self._grow(self.res.root, self.ref, 0)
        for _ in range(data.draw(st.integers(0, 10), "initial activities")):
            self.submit()

    def _params(self, node_pair_parent):
        d = self.data
        weight = d.draw(st.sampled_from([1.0, 2.0, 0.5]) | st.floats(0.1, 10.0), "weight")
        cap = d.draw(st.sampled_from([INF, INF, 1.0, 2.0]) | st.floats(0.2, 16.0), "cap")
        reservation = self._draw_reservation(node_pair_parent, None)
        task_weight = d.draw(st.sampled_from([1.0, 2.0]), "task_weight")
        return dict(weight=weight, cap=cap, reservation=reservation, task_weight=task_weight)

    def _draw_reservation(self, parent_ref: RefNode, me: RefNode | None) -> float:
        # Sibling reservations add up to at most the capacity of the resource.
        taken = sum(c.reservation for c in parent_ref.children if c is not me)
        room = max(0.0, self.capacity - taken)
        if room <= 0 or not self.data.draw(st.booleans(), "reserve?"):
            return 0.0
        return self.data.draw(st.floats(0.0, 1.0), "reservation fraction") * room

    def _grow(self, node, ref, depth):
        if depth >= 3:
            return
        n = self.data.draw(st.integers(0, 3 if depth == 0 else 2), "children")
        for i in range(n):
            params = self._params(ref)
            child = node.add_child(f"n{depth}{i}", **params)
            ref_child = ref.add_child(child.name, **params)
            self.pairs.append((child, ref_child))
            self.acc[id(child)] = (0.0, 0.0)
            self._grow(child, ref_child, depth + 1)

    # -- changes ---------------------------------------------------------------

    def pick_node(self, allow_root=True):
        pairs = self.pairs if allow_root else self.pairs[1:]
        return pairs[self.data.draw(st.integers(0, len(pairs) - 1), "node")]

    def submit(self):
        node, ref = self.pick_node()
        rate = self.data.draw(st.sampled_from(MAX_RATES), "max_rate")
        work = self.data.draw(st.floats(100.0, 200.0), "work")
        act = node.submit(work, max_rate=rate, on_done=self._unexpected)
        ref_act = RefActivity(rate)
        ref.activities.append(ref_act)
        self.acts.append([act, ref, ref_act, work])

    @staticmethod
    def _unexpected(act):
        raise AssertionError("no activity should complete in this test")

    def cancel(self):
        if not self.acts:
            return
        i = self.data.draw(st.integers(0, len(self.acts) - 1), "cancel which")
        act, ref, ref_act, _ = self.acts.pop(i)
        self.res.cancel(act)
        ref.activities.remove(ref_act)
        assert act.done and act.rate == 0.0

    def change(self):
        kind = self.data.draw(st.sampled_from(["cap", "weight", "reservation"]), "change")
        if kind == "cap":
            node, ref = self.pick_node()
            if node is self.res.root:
                cap = self.data.draw(st.floats(0.5, 32.0), "capacity")
            else:
                cap = self.data.draw(st.sampled_from([INF, 1.0]) | st.floats(0.2, 16.0), "cap")
            node.set_cap(cap)
            ref.cap = cap
        elif len(self.pairs) > 1:
            node, ref = self.pick_node(allow_root=False)
            parent_ref = next(r for n, r in self.pairs if n is node.parent)
            if kind == "weight":
                w = self.data.draw(st.floats(0.1, 10.0), "weight")
                node.set_weight(w)
                ref.weight = w
            else:
                r = self._draw_reservation(parent_ref, ref)
                node.set_reservation(r)
                ref.reservation = r

    def advance(self):
        dt = self.data.draw(st.sampled_from([0.0, 0.25]) | st.floats(0.01, 1.0), "dt")
        if dt <= 0:
            return
        before = {id(n): (n.alloc, n.demand) for n, _ in self.pairs}
        rates = [act.rate for act, _, _, _ in self.acts]
        run_until(self.env, self.env.now + dt)
        for item, rate in zip(self.acts, rates):
            item[3] -= rate * dt
        for n, _ in self.pairs:
            a, d = self.acc[id(n)]
            ba, bd = before[id(n)]
            self.acc[id(n)] = (a + ba * dt, d + bd * dt)

    def step(self):
        op = self.data.draw(st.sampled_from(["submit", "submit", "cancel", "change", "change", "advance"]), "op")
        getattr(self, op)()

    # -- checks ----------------------------------------------------------------

    def check(self):
        solve_tree(self.ref, self.policy)
        scale = max(self.ref.cap if self.ref.cap < INF else 1.0, 1.0)
        now = self.env.now
        for node, ref in self.pairs:
            assert close(node.demand, ref.demand, scale), f"{node.path}: demand {node.demand} vs {ref.demand}"
            assert close(node.alloc, ref.alloc, scale), f"{node.path}: alloc {node.alloc} vs {ref.alloc}"
            assert node.active_activities() == len(ref.activities)
            got_a, got_d = node.time_integrals(now)
            exp_a, exp_d = self.acc[id(node)]
            assert close(got_a, exp_a, scale * (now + 1)), f"{node.path}: ∫alloc {got_a} vs {exp_a}"
            assert close(got_d, exp_d, scale * (now + 1)), f"{node.path}: ∫demand {got_d} vs {exp_d}"
        for act, ref, ref_act, remaining in self.acts:
            assert not act.done
            assert close(act.rate, ref_act.rate, scale), f"{ref.name}: rate {act.rate} vs {ref_act.rate}"
            assert abs(act.remaining(now) - remaining) <= 1e-9 * act.work, (act.remaining(now), remaining)
        # Work conservation at the root: it gets all it asks for, up to the capacity.
        assert close(self.res.root.alloc, min(self.ref.cap, self.ref.demand), scale)


@pytest.mark.parametrize("policy,examples", [("max-min", 60), ("proportional", 30)])
def test_random_trees_match_reference(policy, examples):
    @settings(max_examples=examples, deadline=None)
    @given(st.data())
    def run(data):
        mirror = Mirror(data, policy)
        mirror.check()
        for _ in range(data.draw(st.integers(1, 8), "steps")):
            mirror.step()
            mirror.check()

    run()


# -- whole runs against a reference simulation ---------------------------------


def reference_run(ref_root: RefNode, jobs, policy: str) -> dict:
    """Simulate ``jobs`` with the reference solver, event by event.

    ``jobs`` are (arrival, ref node, [(work, max_rate), ...]); the phases of a
    job run one after the other. Returns {(job, phase): completion time}.
    """
    pending = sorted(((t, j) for j, (t, _, _) in enumerate(jobs)), key=lambda x: x[0])
    running = []  # [job, phase, ref node, RefActivity, remaining, work]
    done = {}
    now = 0.0

    def start(j, phase, t):
        _, node, phases = jobs[j]
        work, rate = phases[phase]
        act = RefActivity(rate)
        node.activities.append(act)
        running.append([j, phase, node, act, work, work])

    while pending or running:
        while pending and pending[0][0] <= now:
            _, j = pending.pop(0)
            start(j, 0, now)
        solve_tree(ref_root, policy)
        horizon = pending[0][0] if pending else INF
        finish = min((r[4] / r[3].rate for r in running if r[3].rate > 0), default=INF)
        dt = min(horizon - now, finish)
        assert dt < INF
        now += dt
        finished = []
        for r in running:
            r[4] -= r[3].rate * dt
            if r[4] <= 1e-9 * r[5] or (r[3].rate > 0 and r[4] / r[3].rate <= 1e-12 * max(now, 1.0)):
                finished.append(r)
        for r in finished:
            running.remove(r)
            r[2].activities.remove(r[3])
            done[(r[0], r[1])] = now
            if r[1] + 1 < len(jobs[r[0]][2]):
                start(r[0], r[1] + 1, now)
    return done


@pytest.mark.parametrize("policy,examples", [("max-min", 30), ("proportional", 20)])
def test_random_runs_match_reference_simulation(policy, examples):
    @settings(max_examples=examples, deadline=None)
    @given(st.data())
    def run(data):
        env = simpy.Environment()
        capacity = data.draw(st.sampled_from([1.0, 2.0, 4.0]) | st.floats(0.5, 8.0), "capacity")
        res = RateResource(env, capacity, name="host", policy=policy)
        ref_root = RefNode("host", cap=capacity)
        pairs = [(res.root, ref_root)]
        for i in range(data.draw(st.integers(0, 4), "vms")):
            parent, parent_ref = pairs[data.draw(st.integers(0, len(pairs) - 1), "parent")]
            params = dict(
                weight=data.draw(st.sampled_from([1.0, 2.0, 3.0]), "weight"),
                cap=data.draw(st.sampled_from([INF, 1.0, 1.5, 0.5]), "cap"),
                reservation=data.draw(st.sampled_from([0.0, 0.0, 0.5 * capacity / 3]), "reservation"),
            )
            pairs.append((parent.add_child(f"n{i}", **params), parent_ref.add_child(f"n{i}", **params)))
        jobs = []
        for _ in range(data.draw(st.integers(1, 8), "jobs")):
            arrival = data.draw(st.sampled_from([0.0, 0.0, 1.0]) | st.floats(0.0, 5.0), "arrival")
            phases = data.draw(st.lists(st.tuples(st.sampled_from([1.0, 2.0]) | st.floats(0.1, 5.0),
                                                  st.sampled_from([1.0, 2.0, 0.5])),
                                        min_size=1, max_size=3), "phases")
            jobs.append((arrival, data.draw(st.sampled_from(range(len(pairs))), "node"), phases))

        done = {}
        calls = {}

        def launch(j, phase):
            _, k, phases = jobs[j]
            work, rate = phases[phase]
            pairs[k][0].submit(work, max_rate=rate, on_done=finished, data=(j, phase))

        def finished(act):
            calls[act.data] = calls.get(act.data, 0) + 1
            done[act.data] = env.now
            j, phase = act.data
            if phase + 1 < len(jobs[j][2]):
                launch(j, phase + 1)

        for j, (arrival, _, _) in enumerate(jobs):
            at(env, arrival, lambda j=j: launch(j, 0))
        run_bounded(env)

        expected = reference_run(ref_root, [(t, pairs[k][1], ph) for t, k, ph in jobs], policy)
        assert set(calls) == set(expected) and all(c == 1 for c in calls.values())
        for key, t in expected.items():
            assert abs(done[key] - t) <= 1e-7 * max(1.0, t), (key, done[key], t)
        # Work conservation: every node was allocated exactly the work done below it.
        total = {id(n): 0.0 for n, _ in pairs}
        for _, k, phases in jobs:
            node = pairs[k][0]
            while node is not None:
                total[id(node)] += sum(w for w, _ in phases)
                node = node.parent
        for node, _ in pairs:
            got = node.time_integrals(env.now)[0]
            assert abs(got - total[id(node)]) <= 1e-9 * max(1.0, total[id(node)]), (node.path, got, total[id(node)])
            assert node.alloc == 0.0 or abs(node.alloc) < 1e-12
        assert res.completions == sum(len(ph) for _, _, ph in jobs)

    run()


def test_a_cap_of_zero_pauses_a_node_and_keeps_its_work():
    """A paused node (cap 0) receives nothing; its siblings get the rest; raising the cap resumes it."""
    env = simpy.Environment()
    host = RateResource(env, 2.0)
    a, b = host.root.add_child("a"), host.root.add_child("b")
    done = {}
    a.submit(1.0, max_rate=2.0, on_done=lambda act: done.setdefault("a", env.now))
    b.submit(1.0, max_rate=2.0, on_done=lambda act: done.setdefault("b", env.now))
    env.run(until=0.5)  # each at 1.0: half done
    a.set_cap(0.0)
    assert (a.alloc, b.alloc) == (0.0, 2.0)
    env.run(until=2.0)  # b's last 0.5 at 2.0 ends at 0.75; a waits
    a.set_cap(INF)
    env.run()
    assert done == {"b": 0.75, "a": 2.25}
    assert a.time_integrals(env.now)[0] == pytest.approx(1.0)


def test_on_alloc_is_called_after_each_change_of_the_node_allocation():
    """The callback sees the new allocation once the domain is shared out, and may change caps itself."""
    env = simpy.Environment()
    host = RateResource(env, 4.0)
    watched, other = host.root.add_child("w"), host.root.add_child("o")
    seen = []

    def changed(node, now):
        seen.append((now, node.alloc))
        if node.alloc > 3.0:
            node.set_cap(3.0)  # re-entering the engine from the callback is allowed

    watched.on_alloc = changed
    watched.submit(4.0, max_rate=4.0)
    env.run(until=1.0)
    other.submit(1.0, max_rate=2.0)  # contention: w drops to 2 for its last unit, o runs at 2
    env.run()
    assert seen == [(0.0, 4.0), (0.0, 3.0), (1.0, 2.0), (1.5, 0.0)]
    assert other.on_alloc is None
