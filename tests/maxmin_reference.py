"""An independent reference for the sharing engine, used only by the tests.

The engine (:mod:`virtsim.engine.fairshare`, :mod:`virtsim.engine.sharing`) splits
a rate by water-filling: it sorts children by saturation level and solves for
the fair level in closed form, and groups identical activities behind a shared
virtual clock. This module deliberately uses a *different* algorithm so that a
shared mistake is unlikely: **progressive filling by a sequence of linear
programs** (``scipy.optimize.linprog``), one activity at a time, no grouping.
It is written for clarity, not speed.

Semantics (from the engine's documentation), for one node that has ``A`` to
share among children with demand ``d_i``, weight ``w_i`` and floor
``f_i = min(reservation_i, d_i)``:

* max-min: ``x_i = min(d_i, max(f_i, L * w_i))`` with the level ``L`` such that
  ``sum(x) == min(A, sum(d))``: floors (reservations) are served first, the rest
  goes by weight, nobody gets more than it demands;
* if the floors alone exceed ``A`` (an over-committed reservation), each child
  gets its floor scaled by ``A / sum(f)``;
* proportional: ``x_i = f_i + (d_i - f_i) * (A - sum(f)) / (sum(d) - sum(f))``
  (weights ignored).

Progressive filling (max-min): raise a common level ``t``; every child that is
not yet frozen must get at least ``max(f_i, t * w_i)`` and at most ``d_i``; the
frozen ones keep their value. Each LP maximises ``t`` subject to those bounds
and the capacity ``sum(x) <= A``. After each LP, a child whose demand bound is
tight is frozen at its demand; if the capacity is tight, every child is frozen
at ``max(f_i, t * w_i)`` (the saturated-constraint rule). Repeat until all
children are frozen.

The tree is shared top-down: the root gets ``min(capacity, demand)``, and every
node's allocation is split among its child nodes and its activities. A node's
demand is ``min(cap, sum of its children's demands + sum of its activities'
max_rate)``, except the root's, which is the uncapped sum (what its consumers
want; the capacity limits only its allocation). Each activity is its own child with demand ``max_rate``, weight
the node's ``task_weight`` and no floor. (The engine instead bundles the ``n``
activities of equal ``max_rate`` into one entry of demand ``n * max_rate`` and
weight ``n * task_weight``; the allocations are the same.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linprog

#: Relative tolerance for deciding that a constraint of an LP solution is tight.
TIGHT = 1e-9

_LP_OPTIONS = {
    "primal_feasibility_tolerance": 1e-10,
    "dual_feasibility_tolerance": 1e-10,
}


def _max_level(capacity: float, lower_floor: list[float], upper: list[float],
               weights: list[float], frozen: list[float | None]) -> float:
    """Solve one LP of progressive filling and return the optimal level ``t``.

    Variables: ``x_0 .. x_{n-1}, t``. Maximise ``t`` subject to
    ``sum(x) <= capacity``; a frozen child has ``x_i == frozen[i]``; an unfrozen
    one has ``lower_floor[i] <= x_i <= upper[i]`` and ``t * w_i - x_i <= 0``.
    """
    n = len(weights)
    cost = np.zeros(n + 1)
    cost[n] = -1.0  # linprog minimises: minimise -t
    a_ub = [np.concatenate([np.ones(n), [0.0]])]
    b_ub = [capacity]
    bounds: list[tuple[float, float | None]] = []
    for i in range(n):
        if frozen[i] is not None:
            bounds.append((frozen[i], frozen[i]))
        else:
            bounds.append((lower_floor[i], upper[i]))
            row = np.zeros(n + 1)
            row[i] = -1.0
            row[n] = weights[i]
            a_ub.append(row)
            b_ub.append(0.0)
    bounds.append((0.0, None))
    res = linprog(cost, A_ub=np.array(a_ub), b_ub=np.array(b_ub), bounds=bounds,
                  method="highs", options=_LP_OPTIONS)
    if res.status != 0:
        raise RuntimeError(f"reference LP failed: {res.message}")
    return float(res.x[n])


def maxmin_lp(capacity: float, demands: list[float], weights: list[float],
              floors: list[float] | None = None) -> list[float]:
    """Weighted max-min fair split with floors, by progressive filling over LPs."""
    n = len(demands)
    demands = [float(d) for d in demands]
    floors = [0.0] * n if floors is None else [min(float(f), d) for f, d in zip(floors, demands)]
    if n == 0:
        return []
    if capacity <= 0:
        return [0.0] * n
    floor_total = sum(floors)
    if floor_total >= capacity and sum(demands) > capacity:
        # Over-committed reservations: the documented fallback scales them down.
        return [f * capacity / floor_total for f in floors]
    # Work in units of the capacity, so the LP tolerances are relative.
    scale = capacity
    d = [x / scale for x in demands]
    f = [x / scale for x in floors]
    frozen: list[float | None] = [None] * n
    while any(v is None for v in frozen):
        t = _max_level(1.0, f, d, list(weights), frozen)
        lower = {i: min(d[i], max(f[i], t * weights[i])) for i in range(n) if frozen[i] is None}
        used = sum(v for v in frozen if v is not None) + sum(lower.values())
        progress = False
        for i, x in lower.items():
            if x >= d[i] - TIGHT * max(d[i], 1e-300):
                frozen[i] = d[i]
                progress = True
        if used >= 1.0 - TIGHT:
            for i, x in lower.items():
                if frozen[i] is None:
                    frozen[i] = x
            progress = True
        if not progress:
            raise RuntimeError(f"reference LP made no progress at level {t!r}")
    return [v * scale for v in frozen]


def proportional_ref(capacity: float, demands: list[float],
                     floors: list[float] | None = None) -> list[float]:
    """Split in proportion to the demand beyond the floors (weights play no part)."""
    n = len(demands)
    floors = [0.0] * n if floors is None else [min(f, d) for f, d in zip(floors, demands)]
    total = sum(demands)
    if total <= capacity:
        return [float(d) for d in demands]
    if capacity <= 0:
        return [0.0] * n
    floor_total = sum(floors)
    if floor_total >= capacity:
        return [fl * capacity / floor_total for fl in floors]
    share_of_rest = (capacity - floor_total) / (total - floor_total)
    return [fl + (d - fl) * share_of_rest for d, fl in zip(demands, floors)]


# -- trees ---------------------------------------------------------------------


@dataclass(eq=False)
class RefActivity:
    """A running activity: at most ``max_rate`` work units per second."""

    max_rate: float
    rate: float = 0.0


@dataclass(eq=False)
class RefNode:
    """A consumer in the reference tree (mirrors a :class:`ShareNode`)."""

    name: str
    weight: float = 1.0
    cap: float = math.inf
    reservation: float = 0.0
    task_weight: float = 1.0
    children: list[RefNode] = field(default_factory=list)
    activities: list[RefActivity] = field(default_factory=list)
    demand: float = 0.0
    floor: float = 0.0
    alloc: float = 0.0

    def __repr__(self) -> str:
        return f"RefNode({self.name!r}, demand={self.demand:g}, alloc={self.alloc:g})"

    def add_child(self, name: str, **params: float) -> RefNode:
        child = RefNode(name, **params)
        self.children.append(child)
        return child

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()


def _compute_demands(node: RefNode, is_root: bool = False) -> float:
    total = sum(_compute_demands(c) for c in node.children)
    total += sum(a.max_rate for a in node.activities)
    # The root's cap is the capacity: it bounds the root's allocation, not its
    # demand (what the consumers want, contention included).
    node.demand = total if is_root else min(node.cap, total)
    node.floor = min(node.reservation, node.demand)
    return node.demand


def _split(node: RefNode, amount: float, policy: str) -> None:
    node.alloc = amount
    demands = [c.demand for c in node.children] + [a.max_rate for a in node.activities]
    weights = [c.weight for c in node.children] + [node.task_weight] * len(node.activities)
    floors = [c.floor for c in node.children] + [0.0] * len(node.activities)
    if not demands:
        return
    if policy == "max-min":
        allocs = maxmin_lp(amount, demands, weights, floors)
    elif policy == "proportional":
        allocs = proportional_ref(amount, demands, floors)
    else:
        raise ValueError(policy)
    k = len(node.children)
    for child, a in zip(node.children, allocs[:k]):
        _split(child, a, policy)
    for act, a in zip(node.activities, allocs[k:]):
        act.rate = a


def solve_tree(root: RefNode, policy: str = "max-min") -> None:
    """Fill in ``demand``, ``floor`` and ``alloc`` of every node and ``rate`` of
    every activity; the root's ``cap`` is the capacity of the resource."""
    _compute_demands(root, is_root=True)
    _split(root, min(root.cap, root.demand), policy)
