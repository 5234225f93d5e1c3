"""The consolidation controller: every ``interval``, one round of Beloglazov & Buyya's dynamic consolidation.

At each interval boundary the controller samples, from the engine's time
integrals (as CloudSim samples its hosts every scheduling interval), each VM's
CPU demand over the interval just ended and appends it to the VM's history;
each host's utilization history is its VMs' (``HostState.utilization_history``).
It then calls :func:`virtsim.placement.consolidation_round` (overload detection,
the paper's §5.1; VM selection, §5.2; PABFD, §5.3; underloaded hosts evacuated,
§5.4) and starts the moves it decides through :class:`.migration.Migrations`,
with reason ``overload`` or ``underload``.

With ``switch_off`` a host left with no VM (and none on its way to it) is
switched off: it draws its power curve's ``off_w``. When PABFD puts a VM on an
off host, the host is switched on first: it boots for :data:`HOST_BOOT_S`,
drawing its idle power, and the move starts once it is up.

The controller keeps, per interval and per host, what the CloudSim metrics need
(:mod:`virtsim.analysis.cloudsim_metrics`): the host's state, its energy, its
time with demand above capacity, and each VM's demand and allocation during
its migrations. A VM that runs containers or nested VMs is never selected
(those moves are not supported yet); a VM's trace load follows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import simpy

from ..placement import HostState, VmRecord, consolidation_round, host_detector
from ..placement.overload import HISTORY_LENGTH
from ..placement.selection import SELECTIONS
from ..config.migration import MigrationMove

__all__ = ["HOST_BOOT_S", "Consolidation", "HostInterval", "MigrationWindow"]

HOST_BOOT_S = 120.0
"""Seconds from switching a host on to its hypervisor taking VMs: an estimate. The calibration has no row for
a server's power-on; 2 minutes is the order of a rack server's firmware self-test plus a hypervisor's boot.
While it boots the host draws its idle power (also an estimate: the same absence)."""


@dataclass(frozen=True, slots=True)
class HostInterval:
    """One host over one controller interval."""

    host: str
    start_s: float
    end_s: float
    state: str
    """``on``, ``off`` or ``booting`` (the state during the whole interval; a change falls on a boundary or
    splits the interval)."""
    energy_j: float
    busy_core_s: float
    """∫ allocation dt in core-seconds (its VMs, their threads and the host's own)."""
    overload_s: float
    """Seconds with the host's CPU demand above its capacity (CloudSim: requested MIPS above allocated)."""


@dataclass(slots=True)
class MigrationWindow:
    """A VM's CPU demand and allocation (work units) from a move's start to its end."""

    vm: str
    start_s: float
    demand0: float
    alloc0: float
    end_s: float | None = None
    demand: float = 0.0
    alloc: float = 0.0


@dataclass(slots=True)
class _Host:
    name: str
    spec: object
    state: str = "on"
    since_s: float = 0.0
    busy0: float = 0.0
    overload0: float = 0.0
    energy0: float = 0.0
    incoming: int = 0
    booted: simpy.Event | None = None
    shutdowns: int = 0


class Consolidation:
    """The controller: ``intervals`` and ``windows`` are what it recorded, ``rounds`` how many it ran."""

    def __init__(self, env: simpy.Environment, platform, hosts, spec, migrations, meters, rng: np.random.Generator,
                 fixed_vms=frozenset()):
        self.env, self.platform, self.spec, self.migrations = env, platform, spec, migrations
        self._meters = meters
        self._rng = rng
        self._fixed = set(fixed_vms)
        self._hosts = {h.name: _Host(h.name, h) for h in hosts}
        self._vm_specs = {f"{h.name}/{vm.name}": vm for h in hosts for vm in h.vms}
        for path, vm in self._vm_specs.items():
            if vm.containers or vm.vms:
                self._fixed.add(path)
        self._history: dict[str, list[float]] = {path: [] for path in self._vm_specs}
        self._vm0: dict[str, tuple[float, float]] = {}
        self._moving: set[str] = set()
        self.intervals: list[HostInterval] = []
        self.vm_intervals: list[tuple[str, str, float, float, float, float]] = []
        """(vm, host, start_s, end_s, demanded core-s, allocated core-s) per VM per interval."""
        self.windows: list[MigrationWindow] = []
        self.rounds = 0

    # -- the loop --------------------------------------------------------------------

    def start(self) -> None:
        now = self.env.now
        for host in self._hosts.values():
            self._mark(host, now)
        for path in self._vm_specs:
            self._vm0[path] = self._vm_integrals(path, now)
        self.env.process(self._loop())

    def _loop(self):
        while True:
            yield self.env.timeout(self.spec.interval_s)
            self._sample()
            self._round()

    # -- sampling ----------------------------------------------------------------------

    def _vm_integrals(self, path: str, now: float) -> tuple[float, float]:
        alloc, demand = self.platform.consumers[path].node.time_integrals(now)
        return demand, alloc

    def _host_integrals(self, host: _Host, now: float) -> tuple[float, float, float]:
        cpu = self.platform.cpu[host.name]
        alloc, _demand = cpu.root.time_integrals(now)
        meter = self._meters.get(host.name)
        return alloc, cpu.root.overload_time(now), meter.energy_at(now) if meter is not None else 0.0

    def _mark(self, host: _Host, now: float) -> None:
        host.busy0, host.overload0, host.energy0 = self._host_integrals(host, now)
        host.since_s = now

    def _close_interval(self, host: _Host, now: float) -> None:
        """Record ``host`` from its last mark to ``now`` and mark it again."""
        dt = now - host.since_s
        if dt <= 0:
            return
        busy, overload, energy = self._host_integrals(host, now)
        speed = host.spec.hardware.core_speed
        busy_core_s = (busy - host.busy0) / speed
        power = host.spec.hardware.power
        if power is None:
            joules = float("nan")
        elif host.state == "off":
            joules = power.curve.off_energy_j(dt)
        elif host.state == "booting":
            joules = power.curve.watts(0.0) * dt
        elif power.curve.metered:
            joules = energy - host.energy0
        else:
            joules = power.curve.integral_energy_j(dt, busy_core_s / host.spec.hardware.cores)
        self.intervals.append(HostInterval(host.name, host.since_s, now, host.state, joules, busy_core_s,
                                           overload - host.overload0))
        self._mark(host, now)

    def _sample(self) -> None:
        now = self.env.now
        dt = self.spec.interval_s
        for host in self._hosts.values():
            self._close_interval(host, now)
        for path, vm in self._vm_specs.items():
            demand, alloc = self._vm_integrals(path, now)
            d0, a0 = self._vm0[path]
            speed = self.platform.consumers[path].core_speed
            self.vm_intervals.append((path, self.migrations.host_of[path], now - dt, now, (demand - d0) / speed,
                                      (alloc - a0) / speed))
            history = self._history[path]
            history.append(min(1.0, (demand - d0) / dt / speed / vm.vcpus))
            del history[:-HISTORY_LENGTH]
            self._vm0[path] = (demand, alloc)

    def finish(self, now: float) -> None:
        """Record the last, partial interval up to ``now`` (the end of the run) and close open windows."""
        for host in self._hosts.values():
            self._close_interval(host, now)
        for window in self.windows:
            if window.end_s is None:
                demand, alloc = self._vm_integrals(window.vm, now)
                window.end_s, window.demand, window.alloc = now, demand - window.demand0, alloc - window.alloc0

    # -- one round -----------------------------------------------------------------------

    def _states(self) -> list[HostState]:
        by_host: dict[str, list[str]] = {name: [] for name in self._hosts}
        for p, h in self.migrations.host_of.items():
            by_host[h].append(p)
        states = []
        for name, host in self._hosts.items():
            hw = host.spec.hardware
            paths = by_host[name]
            vm_bytes = sum(self.migrations._vm_bytes[p] for p in paths)
            other = self.migrations.committed_bytes[name] - vm_bytes  # the host OS's and what is not a VM's
            records = tuple(VmRecord(p, self.migrations._vm_bytes[p],
                                     (self._history[p][-1] if self._history[p] else 0.0) * self._vm_specs[p].vcpus,
                                     float(self._vm_specs[p].vcpus), np.asarray(self._history[p], dtype=float),
                                     migrating=p in self._moving or p in self._fixed)
                            for p in paths)
            params = self.spec.detector_parameters
            states.append(HostState(name, float(hw.cores), hw.memory_bytes * host.spec.memory_overcommit - other,
                                    hw.power.curve, records, threshold=params.get("threshold", 1.0),
                                    bandwidth_bytes_per_s=(self.platform.nics[name][0].spec.bandwidth_bytes_per_s
                                                           if self.platform.nics.get(name) else None)))
        return states

    def _round(self) -> None:
        spec = self.spec
        states = [s for s in self._states() if self._hosts[s.id].state != "booting"]
        params = {k: v for k, v in spec.detector_parameters.items()}
        rule = host_detector(spec.detector, **params)
        decided = consolidation_round(states, SELECTIONS[spec.selection], overloaded=rule, rng=self._rng)
        self.rounds += 1
        for move in decided.migrations:
            if move.reason == "underload" and not spec.underload:
                continue
            self._start_move(move.vm, move.source, move.target, move.reason)
        if spec.switch_off:
            occupied = set(self.migrations.host_of.values())
            for name, host in self._hosts.items():
                if host.state == "on" and host.incoming == 0 and name not in occupied:
                    self._switch(host, "off")

    def _vms_on(self, name: str) -> list[str]:
        return [p for p, h in self.migrations.host_of.items() if h == name]

    def _start_move(self, path: str, source: str, target: str, reason: str) -> None:
        self._moving.add(path)
        host = self._hosts[target]
        host.incoming += 1
        self.env.process(self._move(path, source, target, reason, host))

    def _move(self, path, source, target, reason, host: _Host):
        env = self.env
        if host.state == "off":
            self._switch(host, "booting")
            host.booted = env.timeout(HOST_BOOT_S)
            yield host.booted
            self._switch(host, "on")
        elif host.state == "booting":
            yield host.booted
        demand, alloc = self._vm_integrals(path, env.now)
        window = MigrationWindow(path, env.now, demand, alloc)
        self.windows.append(window)
        yield from self.migrations._move(MigrationMove(vm=path, source=source, destination=target, at_s=env.now,
                                                       reason=reason))
        demand, alloc = self._vm_integrals(path, env.now)
        window.end_s, window.demand, window.alloc = env.now, demand - window.demand0, alloc - window.alloc0
        self._moving.discard(path)
        host.incoming -= 1
        if self.spec.switch_off:
            src = self._hosts[source]
            if src.state == "on" and src.incoming == 0 and not self._vms_on(source):
                self._switch(src, "off")

    def _switch(self, host: _Host, state: str) -> None:
        self._close_interval(host, self.env.now)
        if state == "off":
            host.shutdowns += 1
        host.state = state

    @property
    def shutdowns(self) -> int:
        return sum(h.shutdowns for h in self._hosts.values())
