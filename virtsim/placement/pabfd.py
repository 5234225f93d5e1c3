"""VM placement by power-aware best fit decreasing (PABFD), and the evacuation of underloaded hosts.

Beloglazov & Buyya, CCPE 24(13), 2012 ("the paper"): PABFD is its §5.3
(Algorithm 1), the underload step its §5.4; the semantics follow CloudSim's
``PowerVmAllocationPolicyMigrationAbstract``. Plain data in, plain data out:
hosts are :class:`HostState` records (capacities, the VMs on them, a power
curve of :mod:`virtsim.model.power`), VMs are
:class:`~virtsim.placement.selection.VmRecord`; nothing is changed in place.

A host is *overloaded* by the rule given as ``overloaded`` (a function of the
host with its VMs): by default its CPU utilization above its ``threshold``
(THR); :func:`host_detector` builds the rule of any detector of
:mod:`.overload` from the VMs' histories.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from ..model.power import PowerCurve
from .overload import DETECTORS, FALLBACK_THRESHOLD
from .selection import VmRecord

__all__ = ["Evacuation", "HostState", "Placement", "evacuate_underloaded", "host_detector", "pabfd",
           "threshold_rule"]

_SLACK = 1e-9


@dataclass(frozen=True, slots=True)
class HostState:
    """A host, what it holds, and how its power draw grows with its CPU utilization."""

    id: str
    cpu_capacity: float
    """CPU capacity, in the unit of the VMs' ``cpu_demand`` (cores, say)."""
    memory_capacity_bytes: float
    power: PowerCurve
    vms: tuple[VmRecord, ...] = ()
    threshold: float = 1.0
    """THR: above this utilization the host is overloaded (the default rule; 1.0: only when full)."""
    bandwidth_bytes_per_s: float | None = None
    """Its NIC's bandwidth, for the migration time LR/LRR look ahead by (:func:`host_detector`)."""

    @property
    def cpu_used(self) -> float:
        return float(sum(vm.cpu_demand for vm in self.vms))

    @property
    def memory_used_bytes(self) -> float:
        return float(sum(vm.ram_bytes for vm in self.vms))

    @property
    def utilization(self) -> float:
        """CPU demand of its VMs over its capacity."""
        return self.cpu_used / self.cpu_capacity

    def fits(self, vm: VmRecord) -> bool:
        """Room for ``vm``: CPU and memory within capacity once it is added."""
        return (self.cpu_used + vm.cpu_demand <= self.cpu_capacity * (1 + _SLACK)
                and self.memory_used_bytes + vm.ram_bytes <= self.memory_capacity_bytes * (1 + _SLACK))

    def with_vm(self, vm: VmRecord) -> HostState:
        return replace(self, vms=(*self.vms, vm))

    def without(self, gone: Iterable[VmRecord]) -> HostState:
        gone_ids = {id(vm) for vm in gone}
        return replace(self, vms=tuple(vm for vm in self.vms if id(vm) not in gone_ids))

    def utilization_history(self) -> np.ndarray:
        """The host's utilization history: its VMs' histories weighted by their CPU over the host's, summed.

        Aligned on the newest value; a VM with a shorter history adds nothing
        to the older values (CloudSim's ``PowerHostUtilizationHistory``).
        """
        length = max((len(vm.history) for vm in self.vms), default=0)
        total = np.zeros(length)
        for vm in self.vms:
            h = np.asarray(vm.history, dtype=float)
            if h.size:
                total[length - h.size:] += h * vm.cpu_capacity / self.cpu_capacity
        return total


OverloadRule = Callable[[HostState], bool]
"""Whether a host, with the VMs it holds, is overloaded."""


def threshold_rule(host: HostState) -> bool:
    """THR on the host's own ``threshold``: overloaded when its utilization exceeds it."""
    return host.utilization > host.threshold


def host_detector(name: str, **parameters) -> OverloadRule:
    """The rule of detector ``name`` (``thr``, ``mad``, ``iqr``, ``lr``, ``lrr``) on a host.

    The history is :meth:`HostState.utilization_history`, the current value its
    utilization now. ``thr`` takes ``threshold`` (default: the host's own).
    ``lr``/``lrr`` look ahead by the longest migration off the host unless
    ``migration_time_s`` is given: its largest VM's RAM over half the host's
    bandwidth, CloudSim's estimate (no bandwidth given: the next value).
    """
    if name not in DETECTORS:
        raise ValueError(f"unknown overload detector {name!r}; known: {', '.join(DETECTORS)}")
    detect = DETECTORS[name]

    def rule(host: HostState) -> bool:
        kwargs = dict(parameters)
        if name == "thr":
            kwargs.setdefault("threshold", host.threshold)
        else:
            kwargs.setdefault("fallback_threshold", FALLBACK_THRESHOLD)
        if name in ("lr", "lrr") and "migration_time_s" not in kwargs and host.bandwidth_bytes_per_s and host.vms:
            kwargs["migration_time_s"] = max(vm.ram_bytes for vm in host.vms) / (host.bandwidth_bytes_per_s / 2)
        return detect(host.utilization_history(), current=host.utilization, **kwargs).overloaded

    return rule


@dataclass(frozen=True, slots=True)
class Placement:
    """Where PABFD put each VM."""

    placed: dict[str, str]
    """VM id → host id, in placement order."""
    unplaced: tuple[str, ...]
    """VMs no host could take without being overloaded (or without room)."""
    hosts: tuple[HostState, ...]
    """The hosts with the placed VMs added."""


def power_increase(host: HostState, vm: VmRecord) -> float:
    """Watts ``host`` draws more once ``vm`` runs on it: P(u after) − P(u now), an idle host at its idle draw."""
    after = (host.cpu_used + vm.cpu_demand) / host.cpu_capacity
    return host.power.watts(after) - host.power.watts(host.utilization)


def pabfd(vms: Sequence[VmRecord], hosts: Sequence[HostState], *, exclude: Iterable[str] = (),
          overloaded: OverloadRule = threshold_rule, exempt_idle_hosts: bool = False) -> Placement:
    """Power-aware best fit decreasing (the paper §5.3, Algorithm 1).

    The VMs are sorted by CPU demand, decreasing (ties keep their order). Each
    goes to the host, among those not in ``exclude``, that has room for it,
    is not overloaded once it holds it, and whose power draw grows least; ties
    go to the host listed first. A VM no host takes is unplaced.

    ``exempt_idle_hosts`` reproduces a detail of CloudSim: a host with no load
    is not checked for overload after the allocation (only for room).
    """
    excluded = set(exclude)
    states = list(hosts)
    placed: dict[str, str] = {}
    unplaced: list[str] = []
    for vm in sorted(vms, key=lambda v: -v.cpu_demand):
        best, least = None, np.inf
        for index, host in enumerate(states):
            if host.id in excluded or not host.fits(vm):
                continue
            if not (exempt_idle_hosts and host.cpu_used == 0) and overloaded(host.with_vm(vm)):
                continue
            increase = power_increase(host, vm)
            if increase < least:
                best, least = index, increase
        if best is None:
            unplaced.append(vm.id)
            continue
        states[best] = states[best].with_vm(vm)
        placed[vm.id] = states[best].id
    return Placement(placed, tuple(unplaced), tuple(states))


@dataclass(frozen=True, slots=True)
class Evacuation:
    """What the underload step decided."""

    migrations: dict[str, str]
    """VM id → its new host, for every evacuated host's VMs."""
    evacuated: tuple[str, ...]
    """The hosts emptied, in order: they may be switched off once their VMs have left."""
    hosts: tuple[HostState, ...]
    """The hosts after the migrations (the evacuated ones empty)."""


def evacuate_underloaded(hosts: Sequence[HostState], *, overloaded_hosts: Iterable[str] = (),
                         overloaded: OverloadRule = threshold_rule, exempt_idle_hosts: bool = False) -> Evacuation:
    """Empty the least-utilized hosts whose VMs all fit elsewhere (the paper §5.4).

    Repeatedly: among the hosts neither overloaded (``overloaded_hosts``),
    nor switched off (no load), nor already a source or a target of this
    step, take the one of least CPU utilization (strictly between 0 and 1;
    ties: the first listed) and place all its VMs by :func:`pabfd` on the
    other hosts that are neither overloaded, switched off, nor evacuated. If
    every VM finds a host, they migrate and the host is evacuated; if one does
    not, none moves and the host stays as it is. Either way it is not
    considered again. The step ends when no host is left to consider.
    """
    states = list(hosts)
    over = set(overloaded_hosts)
    off = {h.id for h in states if h.cpu_used == 0}
    not_sources = over | off
    not_targets = over | off
    migrations: dict[str, str] = {}
    evacuated: list[str] = []
    while True:
        candidates = [h for h in states if h.id not in not_sources and 0 < h.utilization < 1]
        if not candidates:
            break
        source = min(candidates, key=lambda h: h.utilization)
        not_sources.add(source.id)
        not_targets.add(source.id)
        movable = [vm for vm in source.vms if not vm.migrating]
        if not movable:
            continue
        trial = pabfd(movable, states, exclude=not_targets, overloaded=overloaded,
                      exempt_idle_hosts=exempt_idle_hosts)
        if trial.unplaced:
            continue
        states = [h.without(movable) if h.id == source.id else h for h in trial.hosts]
        migrations.update(trial.placed)
        evacuated.append(source.id)
        not_sources.update(trial.placed.values())
    return Evacuation(migrations, tuple(evacuated), tuple(states))
