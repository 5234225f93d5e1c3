"""Live migration at run time: a running VM moves from host A to host B, its jobs carrying on.

For each scheduled move (``config.migration``), at its time:

* **pre-copy** (the default): the VM keeps running on A, its jobs at full
  speed, while the rounds of :func:`~virtsim.model.migration.precopy_plan`
  cross at the migration's bandwidth; then, for the plan's downtime (the
  stop-and-copy), the VM runs nothing: its CPU node, its VMM and network
  threads and its disk and NIC shares on A are paused (cap 0: their work in
  flight keeps its remaining amount, and its gate closes: jobs that arrive wait, as while it boots); then it
  resumes on B: its consumer becomes a new node in B's CPU tree (same cap in
  cores, weight and reservation), its threads and device shares are new nodes
  on B's, every paused activity is re-submitted there with what remained (same
  callback, so every job completes and sees only the downtime, plus B's
  contention), the workloads' plans are rebuilt on B, and its memory moves from
  A's account to B's (:attr:`Migrations.committed_bytes`);
* **post-copy**: the VM resumes on B at once (``postcopy_plan``'s downtime is 0:
  its CPU and device state and minimal set of pages have no calibration row);
  the rest of its memory is pulled during the plan's degraded time, whose page
  faults are not modelled, so the move ends after RAM / rate;
* **cloudsim**: CloudSim's ``PowerDatacenter`` sends ``VM_MIGRATE`` after
  RAM / (bandwidth / 2) and the VM runs on its source until then, moving whole,
  with no dirty pages and no downtime (``type2-startup-migration.md`` §7.6).

The bandwidth is :func:`migration_bandwidth`, the one seam the network's flows
will replace: until then, a constant, the lower of the two hosts' first NICs'
line rates (QEMU's cap applies on top, except under ``cloudsim``), so
migrations do not slow each other or the tenants' traffic yet. The source's CPU
cost of dirty-page tracking is left out: the calibration file has no number for
it (``docs/consolidation.md``). A move's VM keeps its path (``h1/a``) for the
whole run: the path is its name, the consumer's ``host`` says where it runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import simpy

from ..model.memory import footprints
from ..model.migration import MigrationParams, cloudsim_migration_time, postcopy_plan, precopy_plan
from .platform import OWN_THREADS, PROCESS_WEIGHT_AMONG_CONTAINERS, Platform, vm_sockets

__all__ = ["MIGRATION_COLUMNS", "MigrationRecord", "Migrations", "migration_bandwidth"]

MIGRATION_COLUMNS = ["vm", "source", "destination", "reason", "model", "start_s", "end_s", "rounds", "bytes",
                     "downtime_s", "round_limit_hit"]


def migration_bandwidth(platform: Platform, source: str, destination: str) -> float:
    """Bytes per second a migration from ``source`` to ``destination`` gets before any hypervisor cap.

    The interim: the lower of the two hosts' first NICs' line rates, constant for the whole move. This is the
    function the network's flows (a transfer on the route between the hosts) will replace.
    """
    return min(platform.nics[source][0].spec.bandwidth_bytes_per_s,
               platform.nics[destination][0].spec.bandwidth_bytes_per_s)


@dataclass(frozen=True)
class MigrationRecord:
    """One move, as the migrations table shows it."""

    vm: str
    source: str
    destination: str
    reason: str
    model: str
    start_s: float
    end_s: float
    rounds: int
    bytes: float
    downtime_s: float
    round_limit_hit: bool


@dataclass(frozen=True)
class _Outcome:
    """A move's timing from its model: run on A for ``precopy_s``, stop for ``downtime_s``, then on B; the move
    ends ``after_resume_s`` after the resume (post-copy's pulled pages)."""

    precopy_s: float
    downtime_s: float
    after_resume_s: float
    rounds: int
    bytes: float
    round_limit_hit: bool


class Migrations:
    """Runs an experiment's scheduled moves on the platform; ``records`` holds one per finished move."""

    def __init__(self, env: simpy.Environment, platform: Platform, hosts, spec, rebind=None, gates=None):
        self.env = env
        self._gates = gates or {}
        self.platform = platform
        self.spec = spec
        self._rebind = rebind
        self._hosts = {h.name: h for h in hosts}
        self._vms = {f"{h.name}/{vm.name}": vm for h in hosts for vm in h.vms}
        prints = {h.name: footprints(h) for h in hosts}
        self.committed_bytes: dict[str, float] = {h.name: prints[h.name][h.name] for h in hosts}
        """Memory committed on each host now: what a move takes from its source and gives its destination."""
        self._vm_bytes = {path: prints[path.split("/", 1)[0]].get(path, 0.0)
                          + prints[path.split("/", 1)[0]].get(f"{path}.vmm", 0.0) for path in self._vms}
        self.records: list[MigrationRecord] = []
        self.host_of = {path: path.split("/", 1)[0] for path in self._vms}
        """Where each VM runs now."""

    def start(self) -> None:
        moves = list(self.spec.moves)
        # A drain's moves follow one another: each starts when the one before it ends.
        for k, move in enumerate(moves):
            if not move.after_previous:
                self.env.process(self._chain(moves, k))

    def _chain(self, moves, k: int):
        yield self.env.timeout(max(0.0, moves[k].at_s - self.env.now))
        while True:
            yield from self._move(moves[k])
            k += 1
            if k >= len(moves) or not moves[k].after_previous:
                return

    # -- one move ------------------------------------------------------------------

    def outcome(self, vm_path: str, source: str, destination: str) -> _Outcome:
        """A move's timing and bytes by the spec's model, at :func:`migration_bandwidth`."""
        vm, spec = self._vms[vm_path], self.spec
        bandwidth = migration_bandwidth(self.platform, source, destination)
        if spec.model == "cloudsim":
            return _Outcome(cloudsim_migration_time(vm.memory_bytes, bandwidth), 0.0, 0.0, 1,
                            float(vm.memory_bytes), False)
        params = MigrationParams(ram_bytes=float(vm.memory_bytes),
                                 wws_bytes=(float(vm.writable_working_set_bytes)
                                            if vm.writable_working_set_bytes is not None else None),
                                 dirty_rate_bytes_per_s=vm.dirty_rate_bytes_per_s,
                                 bandwidth_cap_bytes_per_s=spec.bandwidth_cap_bytes_per_s,
                                 downtime_limit_s=spec.downtime_limit_s, max_rounds=spec.max_rounds)
        if spec.model == "postcopy":
            plan = postcopy_plan(params, bandwidth)
            return _Outcome(0.0, plan.downtime_s, plan.degraded_s, 0, plan.total_bytes, False)
        plan = precopy_plan(params, bandwidth)
        return _Outcome(sum(r.duration_s for r in plan.rounds), plan.downtime_s, 0.0, len(plan.rounds),
                        plan.total_bytes, plan.round_limit_hit)

    def _move(self, move):
        env, path = self.env, move.vm
        source = self.host_of[path]
        start = env.now
        out = self.outcome(path, source, move.destination)
        if out.precopy_s > 0:
            yield env.timeout(out.precopy_s)  # the VM runs on A meanwhile
        paused = self._pause(path)
        if out.downtime_s > 0:
            yield env.timeout(out.downtime_s)
        self._resume_on(path, source, move.destination, paused)
        if out.after_resume_s > 0:
            yield env.timeout(out.after_resume_s)
        self.records.append(MigrationRecord(path, source, move.destination, move.reason, self.spec.model, start,
                                            env.now, out.rounds, out.bytes, out.downtime_s, out.round_limit_hit))

    def _nodes_of(self, path: str) -> list[tuple[str, str, object]]:
        """(kind, key, node) of everything the VM runs in on its host: its CPU node, its own threads, its shares
        of the host's devices."""
        platform, host = self.platform, self.host_of[path]
        out = [("cpu", path, platform.consumers[path].node)]
        out += [("layer", f"{path}{own}", platform.layer_nodes[f"{path}{own}"]) for own in OWN_THREADS
                if f"{path}{own}" in platform.layer_nodes]
        for kind, devices in (("disk", platform.disks[host]), ("nic", platform.nics[host])):
            for d, device in enumerate(devices):
                out += [(kind, f"{d}:{key}", node) for key, node in device.nodes.items()
                        if key == path or key.startswith(f"{path}.")]
        return out

    def _pause(self, path: str) -> list[tuple[str, str, object]]:
        """The stop: every node of the VM on its host gets cap 0, its work in flight kept with what remains."""
        if path in self._gates:
            self._gates[path].close(self.env.now, "migration")
        nodes = [(kind, key, node, node.cap) for kind, key, node in self._nodes_of(path)]
        for _kind, _key, node, _cap in nodes:
            node.set_cap(0.0)
        return nodes

    def _resume_on(self, path: str, source: str, destination: str, paused) -> None:
        env, platform = self.env, self.platform
        now = env.now
        host, vm = self._hosts[destination], self._vms[path]
        speed_a, speed_b = platform.consumers[path].core_speed, host.hardware.core_speed
        root = platform.cpu[destination].root
        limit = vm.vcpus if vm.cap_cores is None else min(vm.vcpus, vm.cap_cores)
        old = platform.consumers[path]
        node = root.add_child(vm.name, weight=vm.shares, cap=limit * speed_b,
                              reservation=vm.reservation_cores * speed_b, task_weight=PROCESS_WEIGHT_AMONG_CONTAINERS)
        topology = platform.topology[destination]
        # Workloads hold the consumer itself: the same object must now say B.
        _set(old, host=destination, node=node, core_speed=speed_b, topology=topology,
             sockets=vm_sockets(vm, topology))
        new_nodes = {}
        for kind, key, was, cap in paused:
            if kind == "cpu":
                new = node
            elif kind == "layer":
                new = root.add_child(key.rsplit("/", 1)[1], weight=was.weight, cap=cap / speed_a * speed_b)
                platform.layer_nodes[key] = new
                _set(platform.layer_consumers[key], host=destination, node=new, core_speed=speed_b,
                     topology=topology)
            else:
                d, device_key = key.split(":", 1)
                devices = platform.disks[destination] if kind == "disk" else platform.nics[destination]
                new = devices[min(int(d), len(devices) - 1)].node_for(device_key, cap=cap)
            _carry_integrals(was, new, now)
            new_nodes[key] = (kind, was, new)
        self.host_of[path] = destination
        self.committed_bytes[source] -= self._vm_bytes[path]
        self.committed_bytes[destination] += self._vm_bytes[path]
        if self._rebind is not None:
            self._rebind(path)
        for kind, was, new in new_nodes.values():
            scale = speed_b / speed_a if kind in ("cpu", "layer") else 1.0
            for activity in _live(was):
                remaining, rate = activity.remaining(now), activity._group.max_rate
                was.resource.cancel(activity)
                if remaining > 0:
                    new.submit(remaining, max_rate=rate * scale, on_done=activity.on_done, data=activity.data)
                elif activity.on_done is not None:
                    activity.on_done(activity)
        if path in self._gates:
            self._gates[path].open(now)


def _set(consumer, **fields) -> None:
    """Change a consumer's fields in place (it is frozen for everything else: only a move changes it)."""
    for name, value in fields.items():
        object.__setattr__(consumer, name, value)


def _live(node) -> list:
    """The activities running directly in ``node``, in the order they started."""
    found = [entry for group in node.groups.values() for entry in group.heap if entry[2]._live]
    return [entry[2] for entry in sorted(found, key=lambda e: e[1])]


def _carry_integrals(was, new, now: float) -> None:
    """The new node carries the old one's time integrals, so the consumers table counts the VM's CPU on A and B."""
    alloc, demand = was.time_integrals(now)
    new.acc_alloc += alloc
    new.acc_demand += demand
