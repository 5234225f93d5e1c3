"""Dividing one rate among siblings: weighted max-min fairness and its variants.

These are pure functions on plain lists, so the hierarchical engine
(:mod:`virtsim.engine.sharing`) and the tests' independent solver can be compared
on the same inputs. Every function gets ``capacity`` (a rate, e.g. core-seconds
per second) and, per child, its ``demand`` (the most it can use now: its cap
already applied), its ``weight`` (> 0) and optionally its ``floor`` (a
reservation, already limited to its demand). It returns the allocation per child.

Guarantees, for ``capacity >= 0``:
* ``0 <= alloc[i] <= demand[i]`` for every child;
* work conservation: ``sum(alloc) == min(capacity, sum(demand))`` up to rounding.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Sequence


def waterfill(capacity: float, demands: Sequence[float], weights: Sequence[float]) -> list[float]:
    """Weighted max-min fair split of ``capacity`` (no reservations).

    Each child gets ``min(demand, L * weight)`` with the level ``L`` chosen so the
    allocations add up to ``capacity``; what a satisfied child leaves is thereby
    redistributed to the others in proportion to their weights.
    """
    total = sum(demands)
    if total <= capacity:
        return list(demands)
    n = len(demands)
    # Visit children by their saturation level demand/weight; those below the
    # current fair level are satisfied, the rest share what remains by weight.
    order = sorted(range(n), key=lambda i: demands[i] / weights[i])
    alloc = [0.0] * n
    remaining = capacity
    weight_left = float(sum(weights))
    for k, i in enumerate(order):
        demand = demands[i]
        weight = weights[i]
        if demand <= remaining * weight / weight_left:
            alloc[i] = demand
            remaining -= demand
            weight_left -= weight
        else:
            level = remaining / weight_left
            for j in order[k:]:
                alloc[j] = level * weights[j]
            break
    return alloc


def waterfill_with_floors(
    capacity: float,
    demands: Sequence[float],
    weights: Sequence[float],
    floors: Sequence[float],
) -> list[float]:
    """Weighted max-min fairness where child ``i`` first receives ``floors[i]``.

    The allocation is ``min(demand_i, max(floor_i, L * weight_i))``, the level
    ``L`` solving ``sum(alloc) == capacity``: reservations are served first, then
    the rest is shared by weight, and no child exceeds its demand. If the floors
    alone exceed the capacity (admission control should prevent it) they are
    scaled down proportionally, so the result is always feasible.
    """
    total = sum(demands)
    if total <= capacity:
        return list(demands)
    floor_total = sum(floors)
    if floor_total >= capacity:
        scale = capacity / floor_total if floor_total > 0 else 0.0
        return [f * scale for f in floors]

    def allocated(level: float) -> float:
        return sum(
            min(d, max(f, level * w)) for d, w, f in zip(demands, weights, floors)
        )

    # sum(alloc) is piecewise linear and non-decreasing in the level, with kinks
    # where a child leaves its floor (floor/weight) or reaches its demand
    # (demand/weight): find the segment holding `capacity`, then solve on it.
    kinks = sorted({f / w for f, w in zip(floors, weights)} | {d / w for d, w in zip(demands, weights)})
    values = [allocated(k) for k in kinks]
    j = bisect_left(values, capacity)
    if j < len(kinks) and values[j] == capacity:
        level = kinks[j]
    else:
        lo = kinks[j - 1] if j > 0 else 0.0
        base = values[j - 1] if j > 0 else allocated(0.0)
        # Slope on (lo, next kink): total weight of children strictly between floor and demand.
        slope = sum(w for d, w, f in zip(demands, weights, floors) if f / w <= lo < d / w)
        level = lo + (capacity - base) / slope
    return [min(d, max(f, level * w)) for d, w, f in zip(demands, weights, floors)]


def proportional(
    capacity: float,
    demands: Sequence[float],
    weights: Sequence[float],
    floors: Sequence[float] | None = None,
) -> list[float]:
    """Split in proportion to demand beyond the floors (SimGrid's VM model).

    Weights are ignored: each child gets its floor plus a share of the rest
    proportional to its unreserved demand. Demands (4, 4, 1, 1) on 8 give
    (3.2, 3.2, 0.8, 0.8) where max-min fairness gives (3, 3, 1, 1).
    """
    total = sum(demands)
    if total <= capacity:
        return list(demands)
    if floors is None:
        scale = capacity / total
        return [d * scale for d in demands]
    floor_total = sum(floors)
    if floor_total >= capacity:
        scale = capacity / floor_total if floor_total > 0 else 0.0
        return [f * scale for f in floors]
    scale = (capacity - floor_total) / (total - floor_total)
    return [f + (d - f) * scale for d, f in zip(demands, floors)]


def max_min(
    capacity: float,
    demands: Sequence[float],
    weights: Sequence[float],
    floors: Sequence[float] | None = None,
) -> list[float]:
    """Weighted max-min fairness: :func:`waterfill`, or :func:`waterfill_with_floors` given floors."""
    if floors is None:
        return waterfill(capacity, demands, weights)
    return waterfill_with_floors(capacity, demands, weights, floors)


Split = Callable[[float, Sequence[float], Sequence[float], "Sequence[float] | None"], list[float]]
"""A sharing policy: ``(capacity, demands, weights, floors or None) -> allocations``."""

SPLITS: dict[str, Split] = {"max-min": max_min, "proportional": proportional}
"""The sharing policies a :class:`~virtsim.engine.sharing.RateResource` accepts, by name."""

POLICIES = tuple(SPLITS)
"""Names of the sharing policies a :class:`~virtsim.engine.sharing.RateResource` accepts."""


def policy_split(policy: str, where: str) -> Split:
    """The split of the policy named ``policy``; a ValueError naming ``where`` and the valid names if none is."""
    split = SPLITS.get(policy) if isinstance(policy, str) else None
    if split is None:
        names = " or ".join(repr(name) for name in SPLITS)
        raise ValueError(f"{where}: policy must be {names}, got {policy!r}")
    return split
