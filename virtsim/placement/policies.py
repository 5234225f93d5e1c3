"""Placement policies: which host each pool item goes to. Pure functions on plain numbers.

Items are placed one at a time, in the order given. A host *fits* an item when
it can run it at all (``Fit.refusal`` is None: the right layers, enough
physical cores for a VM's vCPUs), no item of the item's anti-affinity groups is
on it yet, and its committed CPU and memory plus the item's stay within its
capacities (cores × CPU overcommit, memory × memory overcommit). Among the
hosts that fit, each policy picks one; ties go to the host listed first. An
item no host fits is returned with the reason each host gave.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["POLICIES", "Choosing", "Fit", "Item", "Policy", "Room", "kube_score", "place", "register_policy"]

MAX_NODE_SCORE = 100
"""kube-scheduler's ``framework.MaxNodeScore``."""

_GIB = 2**30


@dataclass(frozen=True)
class Fit:
    """What an item asks of one host: CPU in cores, memory in bytes; or why it cannot go there at all."""

    cpu_cores: float = 0.0
    memory_bytes: float = 0.0
    refusal: str | None = None


@dataclass(frozen=True)
class Item:
    """A pool item: its name, kind ('vm' or 'container') and what it asks of each host (by name)."""

    name: str
    kind: str
    fits: dict[str, Fit]


@dataclass
class Room:
    """A host's capacities and what is committed on it so far."""

    name: str
    cpu_capacity_cores: float
    memory_capacity_bytes: float
    cpu_used_cores: float = 0.0
    memory_used_bytes: float = 0.0
    count: int = 0
    """VMs and containers on the host (fixed ones included)."""
    members: set[str] = field(default_factory=set)
    """Pool items placed on it."""

    def left_after(self, fit: Fit) -> float:
        """Room left once ``fit`` is added, as the sum of the free CPU and memory fractions."""
        cpu = (self.cpu_capacity_cores - self.cpu_used_cores - fit.cpu_cores) / self.cpu_capacity_cores
        memory = (self.memory_capacity_bytes - self.memory_used_bytes - fit.memory_bytes) / self.memory_capacity_bytes
        return cpu + memory


def kube_score(room: Room, fit: Fit, scoring: str) -> int:
    """The kube-scheduler ``NodeResourcesFit`` score of placing ``fit`` on ``room``, 0 to 100.

    As in kubernetes ``pkg/scheduler/framework/plugins/noderesources``
    (``least_allocated.go``, ``most_allocated.go``), with CPU and memory
    weighted 1 each and ``requested`` = what the node's items request plus this
    item, ``capacity`` = allocatable, in integers (millicores, bytes):

    - LeastAllocated: ``(capacity - requested) * MaxNodeScore // capacity``
      per resource (0 if requested > capacity);
    - MostAllocated: ``min(requested, capacity) * MaxNodeScore // capacity``;

    and the node's score is the weighted sum // the sum of the weights
    (MaxNodeScore = 100). Here allocatable memory is the host's memory ×
    overcommit less what its own layers keep resident (system-reserved), and
    an item without requests counts 0 (kube-scheduler scores such pods with
    small non-zero defaults; virtsim does not).
    """
    pairs = ((round((room.cpu_used_cores + fit.cpu_cores) * 1000), round(room.cpu_capacity_cores * 1000)),
             (round(room.memory_used_bytes + fit.memory_bytes), round(room.memory_capacity_bytes)))
    total = 0
    for requested, capacity in pairs:
        if capacity == 0:
            continue
        if scoring == "least-allocated":
            total += 0 if requested > capacity else (capacity - requested) * MAX_NODE_SCORE // capacity
        else:
            total += min(requested, capacity) * MAX_NODE_SCORE // capacity
    return total // len(pairs)


def _why_not(item: Item, room: Room, groups: Sequence[set[str]]) -> str | None:
    fit = item.fits.get(room.name)
    if fit is None:
        return "not one of the placement's hosts"
    if fit.refusal is not None:
        return fit.refusal
    for group in groups:
        if item.name in group and (near := sorted(group & room.members)):
            return f"holds {', '.join(near)} (anti-affinity)"
    free_cpu = room.cpu_capacity_cores - room.cpu_used_cores
    if fit.cpu_cores > free_cpu + 1e-9:
        return f"{free_cpu:g} of {room.cpu_capacity_cores:g} cores free, needs {fit.cpu_cores:g}"
    free_memory = room.memory_capacity_bytes - room.memory_used_bytes
    if fit.memory_bytes > free_memory:
        return (f"{free_memory / _GIB:.4g} of {room.memory_capacity_bytes / _GIB:.4g} GiB free, "
                f"needs {fit.memory_bytes / _GIB:.4g} GiB")
    return None


@dataclass(frozen=True)
class Choosing:
    """What a policy may use besides the item and the hosts that fit it."""

    scoring: str
    """kube-scheduler's scoring strategy (``kubernetes`` policy)."""
    rng: np.random.Generator
    """The placement's random stream (``random`` policy)."""


Policy = Callable[[Item, list[Room], Choosing], Room]
"""Picks one of the hosts that fit ``item`` (never empty, in the order listed)."""

POLICIES: dict[str, Policy] = {}
"""Placement policies by name; a new policy is one function registered with :func:`register_policy`."""


def register_policy(name: str) -> Callable[[Policy], Policy]:
    """Register the decorated function as the placement policy ``name``."""
    def register(choose: Policy) -> Policy:
        POLICIES[name] = choose
        return choose
    return register


@register_policy("first-fit")
def first_fit(item: Item, rooms: list[Room], how: Choosing) -> Room:
    return rooms[0]


@register_policy("best-fit")
def best_fit(item: Item, rooms: list[Room], how: Choosing) -> Room:
    return min(rooms, key=lambda r: r.left_after(item.fits[r.name]))


@register_policy("worst-fit")
def worst_fit(item: Item, rooms: list[Room], how: Choosing) -> Room:
    return max(rooms, key=lambda r: r.left_after(item.fits[r.name]))


@register_policy("spread")
def spread(item: Item, rooms: list[Room], how: Choosing) -> Room:
    return min(rooms, key=lambda r: r.count)


@register_policy("random")
def random_host(item: Item, rooms: list[Room], how: Choosing) -> Room:
    return rooms[int(how.rng.integers(len(rooms)))]


@register_policy("kubernetes")
def kubernetes(item: Item, rooms: list[Room], how: Choosing) -> Room:
    return max(rooms, key=lambda r: kube_score(r, item.fits[r.name], how.scoring))


def place(items: Sequence[Item], rooms: Sequence[Room], policy: str, *, scoring: str = "least-allocated",
          anti_affinity: Sequence[Sequence[str]] = (), rng: np.random.Generator | None = None,
          ) -> tuple[dict[str, str], list[tuple[Item, str]]]:
    """Place ``items`` in order on ``rooms`` (updated in place).

    Returns the host of each placed item, and each item that fits nowhere with
    the reason every host gave. ``rng`` is needed by the random policy only.
    """
    if policy not in POLICIES:
        raise ValueError(f"unknown placement policy {policy!r}; known: {', '.join(POLICIES)}")
    choose = POLICIES[policy]
    how = Choosing(scoring, rng if rng is not None else np.random.default_rng(0))
    groups = [set(group) for group in anti_affinity]
    placed: dict[str, str] = {}
    unplaced: list[tuple[Item, str]] = []
    for item in items:
        reasons = {room.name: _why_not(item, room, groups) for room in rooms}
        candidates = [room for room in rooms if reasons[room.name] is None]
        if not candidates:
            unplaced.append((item, "; ".join(f"{name}: {why}" for name, why in reasons.items()) or "no hosts"))
            continue
        room = choose(item, candidates, how)
        fit = item.fits[room.name]
        room.cpu_used_cores += fit.cpu_cores
        room.memory_used_bytes += fit.memory_bytes
        room.count += 1
        room.members.add(item.name)
        placed[item.name] = room.name
    return placed, unplaced
