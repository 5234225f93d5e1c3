"""Hierarchical fluid sharing of one rate resource, driven by SimPy.

A :class:`RateResource` is one sharing domain: a host's CPU, a disk, a link. Its
capacity flows down a tree of :class:`ShareNode` consumers (host → VMs →
containers), each with a weight, an optional cap and an optional reservation.
Activities (an amount of work, e.g. core-seconds) run at a leaf of the tree; at
every node the rate is split by weighted max-min fairness (or proportionally).

Events happen only at changes: an activity starts, ends or is cancelled, or a
parameter changes. Then the demands are updated on the path to the root, the
allocation is recomputed from the lowest node whose own demand did not change,
and one wake-up is scheduled for the domain's next completion. Each node keeps
the entries that changed since its last split: while a node's total demand fits
its allocation (before and after), every entry receives its demand, so only the
changed entries are visited. A superseded
wake-up is not cancelled; it fires and is ignored because it is no longer the
domain's pending event.

Activities of one node with the same per-activity rate limit form a group that
shares a *virtual service clock*: every member runs at the same rate, so a
member's finish tag is ``clock at arrival + work``, and a heap of tags yields the
group's next completion without touching the other members. The domain keeps a
heap of its groups' finish times in turn, so the next wake-up and the groups due
at it are found without looking at the others. An event therefore costs
O(entries on the changed path and their siblings, plus log(groups)), independent
of how many activities, hosts or other domains exist.

A domain's capacity may grow with its demand (:meth:`RateResource.set_demand_gain`):
beyond the capacity set, each unit of demand adds a fraction of a unit, up to
a limit. That is a CPU with SMT, whose hardware threads beyond one per core add
only a fraction of a core each. The capacity is then recomputed whenever the
root's demand changes, which is an event anyway, so the cost stays O(1).

Each wake-up is a new SimPy ``Timeout`` (:mod:`virtsim.engine.events` says
what the engine assumes of SimPy's order).
"""

from __future__ import annotations

from heapq import heappop, heappush
import math
from collections.abc import Callable
from functools import lru_cache
from operator import attrgetter
from typing import Any

import simpy
from simpy.events import Timeout

from .fairshare import policy_split

INF = math.inf

#: An activity whose remaining work is within this fraction of its finish tag
#: completes now (absorbs rounding in the virtual clock).
REL_TOLERANCE = 1e-9
_OVERLOADED = 1.0 + REL_TOLERANCE
"""A root is overloaded when its demand exceeds its capacity times this (beyond rounding)."""


_ACTIVATION = attrgetter("activation")
"""Sorts groups in the order they became active."""


@lru_cache(maxsize=1 << 16)
def _split(split: Callable, amount: float, demands: tuple, weights: tuple, floors: tuple | None) -> list[float]:
    """One split by the policy function ``split``, memoised on its exact inputs.

    The same demand patterns recur (jobs come and go) on every host, and a
    cache hit costs a fifth of a water-filling. Results are never mutated.
    """
    return split(amount, demands, weights, floors)


class Activity:
    """An amount of work running in a :class:`ShareNode`, made by :meth:`ShareNode.submit`.

    ``work`` (work units) started at ``started_at`` (s); ``on_done(activity)`` is
    called once when it completes; ``data`` is free for the caller (a job record,
    an event to trigger). It has no ``__init__``: ``submit`` sets the fields
    directly, as a Python ``__init__`` would cost as much again.
    """

    __slots__ = ("work", "started_at", "on_done", "data", "_group", "_tag", "_live")

    @property
    def done(self) -> bool:
        """True once the activity completed or was cancelled."""
        return not self._live

    @property
    def rate(self) -> float:
        """Current service rate (work units per second); 0 once done."""
        return self._group.rate if self._live else 0.0

    def remaining(self, now: float) -> float:
        """Work left at time ``now`` (work units)."""
        if not self._live:
            return 0.0
        g = self._group
        clock = g.clock + g.rate * (now - g.t_clock)
        return max(0.0, self._tag - clock)


class _Entry:
    """What a node's split sees of each of its entries: a child node or an activity group."""

    __slots__ = ("demand", "floor", "alloc", "weight", "queued", "is_group")


class _Group(_Entry):
    """The activities of one node sharing one per-activity rate limit.

    While it has members (it is *active*) it is in its domain's heap of
    finish times, at index ``slot``. ``activation`` numbers the times groups
    became active: among equal finish times the group active the longest
    comes first.
    """

    __slots__ = ("node", "parent", "max_rate", "task_weight", "heap", "n", "rate", "clock", "t_clock", "t_finish",
                 "activation", "slot")

    def __init__(self, node: ShareNode, max_rate: float):
        self.node = node
        self.parent = node  # the node whose split gives the group its rate
        self.max_rate = max_rate
        self.task_weight = node.task_weight
        self.heap: list = []
        self.n = 0
        self.weight = 0.0
        self.demand = 0.0
        self.floor = 0.0
        self.alloc = 0.0
        self.rate = 0.0
        self.clock = 0.0
        self.t_clock = 0.0
        self.t_finish = INF
        self.activation = 0
        self.slot = -1  # not in the domain's heap
        self.queued = False  # in the node's list of changed entries
        self.is_group = True


class ShareNode(_Entry):
    """A consumer in a sharing tree: a host, a VM, a container, a thread pool.

    Rates are in work units per second (for a CPU: reference-core seconds per
    second). ``weight`` > 0 is relative among siblings; ``cap`` is the most the
    node may ever receive; ``reservation`` is served before weights apply.
    Activities started directly in the node weigh ``task_weight`` each against
    the node's child consumers.

    ``demand`` is the most the node could use now: the sum of its entries'
    demands, limited by its cap. The root is not limited: its demand is what its
    consumers want, its allocation at most the capacity, and the difference is
    contention (steal).

    ``on_alloc``, None by default, may be set to a callable: it is called as
    ``on_alloc(node, now)`` after every re-sharing that changed the node's
    allocation, once the whole domain is shared out (so it may change caps
    itself). Only nodes that have one are ever looked at.
    """

    __slots__ = (
        "name", "parent", "resource", "cap", "reservation", "task_weight",
        "children", "entries", "groups",
        "total", "changed", "open", "t_acc", "acc_alloc", "acc_demand", "acc_overload", "_has_floors",
        "on_alloc",
    )

    def __init__(self, resource: RateResource, name: str, parent: ShareNode | None,
                 weight: float, cap: float, reservation: float, task_weight: float):
        _check_positive("weight", weight, name)
        _check_positive("cap", cap, name)
        _check_positive("task_weight", task_weight, name)
        if not reservation >= 0:
            raise ValueError(f"{name}: reservation must be >= 0, got {reservation!r}")
        self.name = name
        self.parent = parent
        self.resource = resource
        self.weight = float(weight)
        self.cap = float(cap)
        self.reservation = float(reservation)
        self.task_weight = float(task_weight)
        self.children: list[ShareNode] = []
        self.entries: list = []  # child nodes and activity groups, in creation order
        self.groups: dict[float, _Group] = {}
        self.demand = 0.0
        self.floor = 0.0
        self.alloc = 0.0
        self.queued = False  # in the parent's list of changed entries
        self.is_group = False
        self.total = 0.0  # sum of the entries' demands, before the cap
        self.changed: list = []  # entries to visit at the next split
        self.open = True  # at the last split the total demand fitted the allocation
        self.t_acc = resource.env.now
        self.acc_alloc = 0.0
        self.acc_demand = 0.0
        self.acc_overload = 0.0
        self._has_floors = False
        self.on_alloc: Callable[[ShareNode, float], Any] | None = None

    def __repr__(self) -> str:
        return f"<ShareNode {self.path} alloc={self.alloc:g} demand={self.demand:g}>"

    @property
    def path(self) -> str:
        """Names from the root down, joined by '/'."""
        names = []
        node: ShareNode | None = self
        while node is not None:
            names.append(node.name)
            node = node.parent
        return "/".join(reversed(names))

    def add_child(self, name: str, *, weight: float = 1.0, cap: float = INF,
                  reservation: float = 0.0, task_weight: float = 1.0) -> ShareNode:
        """Create a child consumer below this node."""
        child = ShareNode(self.resource, name, self, weight, cap, reservation, task_weight)
        self.children.append(child)
        self.entries.append(child)
        if reservation > 0:
            self._has_floors = True
        return child

    def submit(self, work: float, *, max_rate: float, on_done: Callable[[Activity], Any] | None = None,
               data: Any = None) -> Activity:
        """Start ``work`` units in this node, each second at most ``max_rate`` units.

        A single-threaded task on a core of speed s has ``max_rate = s``; a task
        of n threads ``n * s``.
        """
        if not work > 0 or work == INF:
            raise ValueError(f"{self.path}: work must be a finite number > 0, got {work!r}")
        if not max_rate > 0:
            raise ValueError(f"{self.path}: max_rate must be > 0, got {max_rate!r}")
        return self._start(work, max_rate, on_done, data)

    def _start(self, work: float, max_rate: float, on_done: Callable[[Activity], Any] | None,
               data: Any) -> Activity:
        resource = self.resource
        now = resource.env.now
        group = self.groups.get(max_rate)
        if group is None:
            group = self.groups[max_rate] = _Group(self, max_rate)
            self.entries.append(group)
        n = group.n
        if n:
            group.clock += group.rate * (now - group.t_clock)
        else:
            group.clock = 0.0  # rebase an idle clock: keeps tags small and exact
            resource._activate(group)
        group.t_clock = now
        tag = group.clock + work
        act = Activity.__new__(Activity)  # see Activity's docstring
        act.work = work
        act.started_at = now
        act.on_done = on_done
        act.data = data
        act._group = group
        act._tag = tag  # the group's virtual clock when the work is done
        act._live = True
        resource._seq += 1
        heappush(group.heap, (tag, resource._seq, act))
        n += 1
        group.n = n
        group.demand = n * group.max_rate
        group.weight = n * group.task_weight
        if not group.queued:
            group.queued = True
            self.changed.append(group)
        resource._propagate(self, now)
        return act

    def set_cap(self, cap: float) -> None:
        """Change the cap (rate units); takes effect now.

        A cap of 0 pauses a node below the root: it keeps its activities but
        receives nothing (a throttled cgroup) until its cap is raised again.
        """
        if self.parent is None or cap != 0:
            _check_positive("cap", cap, self.name)
        self.resource._change(self, "cap", float(cap))

    def set_weight(self, weight: float) -> None:
        """Change the weight; takes effect now."""
        _check_positive("weight", weight, self.name)
        self.resource._change(self, "weight", float(weight))

    def set_reservation(self, reservation: float) -> None:
        """Change the reservation (rate units); takes effect now."""
        if not reservation >= 0:
            raise ValueError(f"{self.name}: reservation must be >= 0, got {reservation!r}")
        if reservation > 0 and self.parent is not None:
            self.parent._has_floors = True
        self.resource._change(self, "reservation", float(reservation))

    def time_integrals(self, now: float) -> tuple[float, float]:
        """(∫ allocation dt, ∫ demand dt) from the start to ``now``, in work units."""
        dt = now - self.t_acc
        return self.acc_alloc + self.alloc * dt, self.acc_demand + self.demand * dt

    def overload_time(self, now: float) -> float:
        """Seconds from the start to ``now`` during which the root's demand exceeded its capacity.

        Only the root keeps it (it is the only node whose demand is not limited
        by its cap); demand is piecewise constant between events, so it is exact.
        """
        over = self.acc_overload
        if _overloaded(self):
            over += now - self.t_acc
        return over

    def active_activities(self) -> int:
        """Number of activities running directly in this node."""
        return sum(g.n for g in self.groups.values())

    def cancel_all(self) -> int:
        """Cancel every activity in this node and below it (none completes); returns how many.

        What a failure does to the work running in what it takes down.
        """
        live = []
        stack = [self]
        while stack:
            node = stack.pop()
            stack.extend(node.children)
            for group in node.groups.values():
                live.extend(entry[2] for entry in group.heap if entry[2]._live)
        for activity in live:
            self.resource.cancel(activity)
        return len(live)


def _overloaded(node: ShareNode) -> bool:
    """A root whose consumers want more than its capacity (beyond rounding)."""
    return node.parent is None and node.demand > node.cap * _OVERLOADED


def _account(node: ShareNode, now: float) -> None:
    """Bring the node's time integrals up to ``now`` before its allocation or demand changes."""
    dt = now - node.t_acc
    if dt:
        node.acc_alloc += node.alloc * dt
        node.acc_demand += node.demand * dt
        if node.parent is None and node.demand > node.cap * _OVERLOADED:
            node.acc_overload += dt
        node.t_acc = now


def _earlier(a: _Group, b: _Group) -> bool:
    """``a`` is planned before ``b``: it finishes sooner, or as soon and became active first."""
    return a.t_finish < b.t_finish or (a.t_finish == b.t_finish and a.activation < b.activation)


def _check_positive(what: str, value: float, name: str) -> None:
    if not value > 0:
        raise ValueError(f"{name}: {what} must be > 0, got {value!r}")


class RateResource:
    """One sharing domain: ``capacity`` rate units split along a tree of consumers.

    ``policy`` names an entry of :data:`virtsim.engine.fairshare.SPLITS`:
    ``"max-min"`` (weighted water-filling, the default; what equal cgroup
    weights give) or ``"proportional"`` (shares proportional to demand,
    SimGrid's VM model). ``root`` is the top consumer; its cap is the capacity.
    """

    def __init__(self, env: simpy.Environment, capacity: float, *, name: str = "resource",
                 policy: str = "max-min", task_weight: float = 1.0):
        _check_positive("capacity", capacity, name)
        self._split_policy = policy_split(policy, name)
        self.env = env
        self.name = name
        self.policy = policy
        self.root = ShareNode(self, name, None, 1.0, float(capacity), 0.0, task_weight)
        # The active groups, a binary heap by (t_finish, activation): each
        # knows its index, so a changed finish time moves it in place.
        self._plan: list[_Group] = []
        self._activations = 0  # groups made active so far
        self._pending: simpy.Event | None = None  # the one wake-up that counts
        self._wake_callbacks = [self._wake]  # shared by the wake-ups: SimPy only reads it
        self._pending_time = INF
        self._planned_time = INF  # the next completion as last computed
        self._planned_group: _Group | None = None
        self._batch = False
        self._seq = 0
        self._alloc_watch: list[ShareNode] = []  # nodes with on_alloc whose allocation changed
        self.completions = 0
        self.on_root_alloc: Callable[[float, float], Any] | None = None
        """Called as ``(now, new_allocation)`` whenever the root's allocation changes (e.g. an energy meter)."""
        self._knee = float(capacity)  # the capacity set; it grows beyond it with the demand (set_demand_gain)
        self._gain = 0.0
        self._span = 0.0

    @property
    def capacity(self) -> float:
        """Total rate of the domain now (work units per second)."""
        return self.root.cap

    @property
    def max_capacity(self) -> float:
        """The most the capacity can grow to with the demand (the capacity itself without a demand gain)."""
        return self._knee + self._gain * self._span

    def set_demand_gain(self, gain: float, span: float) -> None:
        """Let the capacity grow with the demand beyond it; takes effect now.

        With demand D and the capacity C set (at construction or by the root's
        ``set_cap``), the capacity becomes ``C + gain × clamp(D − C, 0, span)``:
        each unit of demand above C adds ``gain`` units, for at most ``span``
        units. What SMT does to a CPU: a busy hardware thread beyond one per
        core adds only a fraction of a core. The capacity is a function of the
        demand, which changes only at events, so the sharing stays exact; the
        root's split then divides it as it divides a fixed one.
        """
        if not 0.0 <= gain <= 1.0:
            raise ValueError(f"{self.name}: gain must be between 0 and 1, got {gain!r}")
        if not 0.0 <= span < INF:
            raise ValueError(f"{self.name}: span must be a finite number >= 0, got {span!r}")
        self._gain = float(gain)
        self._span = float(span)
        self._change(self.root, "cap", self._knee)

    def _grown(self, demand: float) -> float:
        """The capacity at ``demand``."""
        knee = self._knee
        extra = demand - knee
        if extra <= 0.0:
            return knee
        return knee + self._gain * (extra if extra < self._span else self._span)

    # -- changes -----------------------------------------------------------------

    def cancel(self, activity: Activity) -> None:
        """Stop an activity without completing it (its ``on_done`` is not called)."""
        if not activity._live:
            return
        activity._live = False
        group = activity._group
        now = self.env.now
        group.clock += group.rate * (now - group.t_clock)
        group.t_clock = now
        heap = group.heap
        while heap and not heap[0][2]._live:
            heappop(heap)
        self._resize(group, group.n - 1, now)

    def _change(self, node: ShareNode, attr: str, value: float) -> None:
        now = self.env.now
        parent = node.parent
        if parent is None and attr == "cap":
            self._knee = value
        setattr(node, attr, value)
        demand = 0.0
        for e in node.entries:
            demand += e.demand
        if parent is None and self._gain:
            node.cap = self._grown(demand)
        _account(node, now)
        node.total = demand
        node.demand = demand if demand < node.cap or parent is None else node.cap
        node.floor = node.demand if node.reservation > node.demand else node.reservation
        if parent is None:
            self._propagate(node, now)  # the capacity changed: re-split it
            return
        # A weight, cap or reservation changes how the parent splits its rate.
        if not node.queued:
            node.queued = True
            parent.changed.append(node)
        self._propagate(parent, now)

    def _resize(self, group: _Group, n: int, now: float) -> None:
        group.n = n
        group.demand = n * group.max_rate
        group.weight = n * group.task_weight
        if not group.queued:
            group.queued = True
            group.node.changed.append(group)
        if not n:
            self._unplan(group)
            group.clock = 0.0
            group.heap.clear()  # only cancelled entries can remain
        self._propagate(group.node, now)

    # -- the heap of finish times -------------------------------------------------

    def _activate(self, group: _Group) -> None:
        """The group gains its first member: into the heap, after the groups active longer."""
        group.activation = self._activations
        self._activations += 1
        plan = self._plan
        plan.append(group)
        self._sift_up(group, len(plan) - 1)

    def _unplan(self, group: _Group) -> None:
        """The group has no members left: out of the heap."""
        plan = self._plan
        last = plan.pop()
        i = group.slot
        group.slot = -1
        if last is not group:  # the last one fills the gap
            plan[i] = last
            self._replan(last, i)

    def _replan(self, group: _Group, i: int) -> None:
        """Move ``group``, at index ``i``, to its place after its finish time changed."""
        if i > 0 and _earlier(group, self._plan[(i - 1) >> 1]):
            self._sift_up(group, i)
        else:
            self._sift_down(group, i)

    def _sift_up(self, group: _Group, i: int) -> None:
        plan = self._plan
        while i > 0:
            up = (i - 1) >> 1
            parent = plan[up]
            if not _earlier(group, parent):
                break
            plan[i] = parent
            parent.slot = i
            i = up
        plan[i] = group
        group.slot = i

    def _sift_down(self, group: _Group, i: int) -> None:
        plan = self._plan
        size = len(plan)
        while True:
            c = 2 * i + 1
            if c >= size:
                break
            child = plan[c]
            if c + 1 < size:
                right = plan[c + 1]
                if _earlier(right, child):
                    c += 1
                    child = right
            if not _earlier(child, group):
                break
            plan[i] = child
            child.slot = i
            i = c
        plan[i] = group
        group.slot = i


    def _propagate(self, node: ShareNode, now: float) -> None:
        """Update demands from ``node`` up while they change, then re-share.

        Re-sharing starts at the lowest node whose own demand did not change:
        its parent's split is unaffected, so nothing above it moves. The
        changed entry is already queued in ``node.changed``.
        """
        while True:
            entries = node.entries
            if len(entries) == 1:
                demand = entries[0].demand
            else:
                demand = 0.0
                for e in entries:
                    demand += e.demand
            node.total = demand
            if demand > node.cap and node.parent is not None:
                demand = node.cap  # a limit; the root's capacity instead bounds its allocation
            if demand == node.demand:
                break
            _account(node, now)
            node.demand = demand
            floor = node.reservation
            node.floor = demand if floor > demand else floor
            parent = node.parent
            if parent is None:
                if self._gain:
                    node.cap = self._grown(demand)  # a capacity that grows with the demand (SMT)
                break
            if not node.queued:
                node.queued = True
                parent.changed.append(node)
            node = parent
        if self._batch:
            # Re-shared from the root when the batch ends: queue the way up
            # (a queued node's ancestors are queued already).
            parent = node.parent
            while parent is not None and not node.queued:
                node.queued = True
                parent.changed.append(node)
                node = parent
                parent = node.parent
            return
        self._settle(node, now)

    # -- re-sharing --------------------------------------------------------------

    def _settle(self, start: ShareNode, now: float) -> None:
        if start.parent is None:
            alloc = start.demand if start.demand < start.cap else start.cap
            if alloc != start.alloc:
                _account(start, now)
                if self.on_root_alloc is not None:
                    self.on_root_alloc(now, alloc)
                start.alloc = alloc
                if start.on_alloc is not None:
                    self._alloc_watch.append(start)
        self._distribute(start, start.alloc, now)
        self._plan_wakeup(now)
        if self._alloc_watch:
            self._notify(now)

    def _notify(self, now: float) -> None:
        """Call ``on_alloc`` of the nodes whose allocation the re-sharing changed.

        The list is taken first: a callback that changes a cap re-shares, and
        that re-sharing notifies its own changes.
        """
        watched = self._alloc_watch
        self._alloc_watch = []
        for node in watched:
            node.on_alloc(node, now)

    def _distribute(self, node: ShareNode, amount: float, now: float) -> None:
        """Split ``amount`` among the node's entries; descend where something moved."""
        changed = node.changed
        if node.open and node.total <= amount:
            # Uncontended now and at the last split: every entry gets its
            # demand, so only the changed entries can move.
            if not changed:
                return
            for e in changed:
                self._visit(e, e.demand, now)
        else:
            entries = node.entries
            uncontended = node.total <= amount
            node.open = uncontended
            if len(entries) == 1:
                self._visit(entries[0], amount, now)
            elif uncontended:
                for e in entries:
                    self._visit(e, e.demand, now)
            else:
                allocs = self._split(node, amount, [e.demand for e in entries])
                for i in range(len(entries)):
                    self._visit(entries[i], allocs[i], now)
        if changed:  # all visited (nothing is queued while splitting)
            changed.clear()

    def _visit(self, e: _Entry, a: float, now: float) -> None:
        """Give entry ``e`` the allocation ``a``: re-plan a group, re-split a child node that moved."""
        if e.is_group:
            if a == e.alloc and not e.queued:
                return
            # The group's members run at alloc / n from now on: advance the
            # virtual clock at the old rate first.
            g = e
            g.queued = False
            clock = g.clock = g.clock + g.rate * (now - g.t_clock)
            g.t_clock = now
            g.alloc = a
            n = g.n
            if n and a > 0.0:
                rate = g.rate = a / n
                t_finish = now + (g.heap[0][0] - clock) / rate
            else:
                g.rate = 0.0
                t_finish = INF
            if t_finish != g.t_finish:
                g.t_finish = t_finish
                if n:  # active: in the heap
                    self._replan(g, g.slot)
            return
        child = e
        if a != child.alloc:
            _account(child, now)
            child.alloc = a
            if child.on_alloc is not None:
                self._alloc_watch.append(child)
        elif not child.queued:
            return
        child.queued = False
        self._distribute(child, a, now)

    def _split(self, node: ShareNode, amount: float, demands: list[float]) -> list[float]:
        """Allocations of ``amount`` among the node's entries when demand exceeds it."""
        entries = node.entries
        weights = tuple([e.weight or 1.0 for e in entries])  # an idle group has weight 0 and demand 0
        floors = tuple([e.floor for e in entries]) if node._has_floors else None
        return _split(self._split_policy, amount, tuple(demands), weights, floors)

    def _plan_wakeup(self, now: float) -> None:
        # The earliest finish time, the group active longest among equal ones.
        best = INF
        best_group = None
        if self._plan:
            g = self._plan[0]
            if g.t_finish < INF:
                best = g.t_finish
                best_group = g
        self._planned_time = best
        self._planned_group = best_group
        # A pending wake-up at or before the new plan is kept: when it fires
        # early it only re-plans. This saves an event whenever a change merely
        # postpones the next completion (an arrival slowing the others down).
        if best >= self._pending_time:
            return
        self._pending_time = best
        delay = best - now if best > now else 0.0
        ev = Timeout(self.env, delay)
        ev.callbacks = self._wake_callbacks
        self._pending = ev

    def _wake(self, event: simpy.Event) -> None:
        if event is not self._pending:
            return  # superseded by an earlier wake-up
        self._pending = None
        self._pending_time = INF
        now = self.env.now
        if now < self._planned_time:
            self._plan_wakeup(now)  # planned earlier, since postponed
            return
        forced = self._planned_group
        finished: list[Activity] = []
        self._batch = True
        horizon = now + REL_TOLERANCE * (now if now > 1.0 else 1.0)
        # The planned group (the heap's top) first, then any others due by
        # the horizon in the order they became active, as a scan would list them.
        # (Listed before any completes: an emptied group leaves the heap.)
        others = self._due_besides(forced, horizon) if len(self._plan) > 1 and self._due_below_top(horizon) else None
        self._complete(forced, True, now, finished)
        if others is not None:
            for g in others:
                self._complete(g, False, now, finished)
        self.completions += len(finished)
        # Callbacks run inside the batch so that activities they start are
        # shared out together with the completions, in one recomputation.
        for act in finished:
            if act.on_done is not None:
                act.on_done(act)
        self._batch = False
        self._settle(self.root, now)

    def _complete(self, g: _Group, forced: bool, now: float, finished: list[Activity]) -> None:
        """End the group's activities that are done by ``now`` (appended to ``finished``).

        A ``forced`` group (the one this wake-up was computed for) completes
        its head unconditionally; others when due within tolerance.
        """
        heap = g.heap
        clock = g.clock = g.clock + g.rate * (now - g.t_clock)
        g.t_clock = now
        popped = 0
        while heap:
            tag, _, act = heap[0]
            if not act._live:
                heappop(heap)
                continue
            if forced and not popped or tag - clock <= REL_TOLERANCE * (tag if tag > 1.0 else 1.0):
                heappop(heap)
                act._live = False
                finished.append(act)
                popped += 1
            else:
                break
        if popped:
            self._resize(g, g.n - popped, now)

    def _due_below_top(self, horizon: float) -> bool:
        """A child of the heap's top (the planned group) is due by ``horizon``: seldom, most wake-ups complete one group."""
        plan = self._plan
        g = plan[1]
        if g.t_finish <= horizon:
            return True
        if len(plan) > 2:
            g = plan[2]
            return g.t_finish <= horizon
        return False

    def _due_besides(self, forced: _Group, horizon: float) -> list[_Group]:
        """The groups other than ``forced`` due by ``horizon``, in the order they became active.

        They form the top of the heap: below a group due later, none is due.
        """
        plan = self._plan
        size = len(plan)
        others = []
        todo = [0]
        while todo:
            i = todo.pop()
            if i < size:
                g = plan[i]
                if g.t_finish <= horizon:
                    if g is not forced:
                        others.append(g)
                    todo.append(2 * i + 1)
                    todo.append(2 * i + 2)
        others.sort(key=_ACTIVATION)
        return others

    def nodes(self) -> list[ShareNode]:
        """All consumers of the domain, root first, depth-first."""
        out, stack = [], [self.root]
        while stack:
            node = stack.pop()
            out.append(node)
            stack.extend(reversed(node.children))
        return out
