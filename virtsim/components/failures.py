"""Failure domains: a layer fails, takes down what runs above it, is repaired, and it all starts again.

Each layer is a failure domain for everything above it (DESIGN §2.5):

================  ==============================================================
layer that fails  what goes down with it
================  ==============================================================
``hardware``      the whole host: its own work, every VM and container, every layer's threads
``host-os``       the same (under a Type 2 hypervisor or a host engine everything runs on it)
``hypervisor``    every VM under it (on the host, or nested in one VM), with all they run, and their VMM threads
``engine``        the containers of that engine (on the host, or in one VM)
``guest-os``      the VM, the containers inside it and the VMs nested in it, with all they run
``container``     the container (and a sandbox's microVM)
================  ==============================================================

When a layer fails, the work running in what it takes down is cancelled (CPU,
disk and network activities alike), the jobs in flight there fail, and the
consumers' gates close: later jobs wait for them. After the repair time the
consumers come back in order: hosts at once (the repair time includes the
host's own reboot), VMs boot and containers start again through the start-up
chain (so a host's recovery is a boot storm), unless their ``restart`` policy
is ``never``. A consumer under two failures comes back after the last repair.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import simpy

from ..model.topology import descendants, walk_vms
from .platform import OWN_THREADS, Platform
from .startup import Startup


@dataclass(frozen=True)
class _Domain:
    """What one failure spec takes down, resolved against the platform."""

    host: str
    targets: tuple[str, ...]
    """Consumers users target, parents before children."""
    layer_paths: tuple[str, ...]
    """Where layers' own work runs (VMM threads, engines, a host OS) that dies with it."""
    whole_host: bool
    """Hardware or host OS: every device activity of the host is lost too."""


def _targets_of(host, layer: str, domain: str) -> tuple[str, ...]:
    name = host.name
    vms = list(walk_vms(host))
    below = [p for n in vms for p in (n.path, *(f"{n.path}/{c.name}" for c in n.vm.containers))]  # parents first
    on_host = [f"{name}/{c.name}" for c in host.containers]
    if layer in ("hardware", "host-os"):
        return (name, *below, *on_host)
    own_containers = {n.path: [f"{n.path}/{c.name}" for c in n.vm.containers] for n in vms}
    if layer == "hypervisor":  # the host's, or a VM's: every VM under it, with all they run
        if domain == name:
            return tuple(below)
        return tuple(p for p in descendants(domain, below) if p not in own_containers[domain])
    if layer == "engine":
        return tuple(on_host if domain == name else own_containers[domain])
    if layer == "guest-os":
        return (domain, *descendants(domain, below))
    return (domain,)


class Failures:
    """Runs the failure and repair processes of an experiment's failure specs.

    ``on_down(paths, now)`` is called with the consumers that have just gone
    down (to fail their jobs in flight). ``events`` records every failure and
    repair: (time_s, domain, layer, event, consumers taken down or brought back).
    """

    def __init__(self, env: simpy.Environment, platform: Platform, startup: Startup, hosts, failures,
                 sampler: Callable[[int, str, object], Callable[[], float]],
                 on_down: Callable[[list[str], float], None]):
        self.env = env
        self.platform = platform
        self.startup = startup
        self.specs = failures
        self.on_down = on_down
        self._hosts = {host.name: host for host in hosts}
        self._restart = {n.path: n.vm.restart for h in hosts for n in walk_vms(h)}
        self._restart |= {f"{n.path}/{c.name}": c.restart for h in hosts for n in walk_vms(h)
                          for c in n.vm.containers}
        self._restart |= {f"{h.name}/{c.name}": c.restart for h in hosts for c in h.containers}
        self._domains = [self._resolve(f) for f in failures]
        self._down: dict[str, int] = {}
        """Per consumer: how many failures hold it down now."""
        self._lost: set[str] = set()
        """Consumers that went down with ``restart: never``: they stay down."""
        self._failed = [False] * len(failures)
        self._between = [sampler(k, "time_to_failure", f.time_to_failure) if f.time_to_failure else None
                         for k, f in enumerate(failures)]
        self._repair = [sampler(k, "time_to_repair", f.time_to_repair) for k, f in enumerate(failures)]
        self.events: list[tuple[float, str, str, str, int]] = []
        self.downs: dict[str, list[float]] = {}
        """Per consumer: the times failures took it down."""
        for domain in self._domains:
            for path in domain.targets:
                startup.gate(path)  # every consumer that can fail gets a gate

    def _resolve(self, failure) -> _Domain:
        host = self._hosts[failure.domain.split("/", 1)[0]]
        targets = _targets_of(host, failure.layer, failure.domain)
        whole = failure.layer in ("hardware", "host-os")
        layer_consumers = self.platform.layer_consumers
        if whole:
            layers = tuple(p for p, c in layer_consumers.items() if c.host == host.name)
        else:
            layers = tuple(f"{t}{own}" for t in targets for own in OWN_THREADS if f"{t}{own}" in layer_consumers)
            layers += tuple(self.platform.shared_layers.get((failure.layer, failure.domain), ()))
        return _Domain(host.name, targets, layers, whole)

    @property
    def gated_targets(self) -> set[str]:
        """Every consumer some failure can take down."""
        return {path for domain in self._domains for path in domain.targets}

    # -- processes ----------------------------------------------------------------

    def start(self) -> None:
        for k, failure in enumerate(self.specs):
            if self._between[k] is not None:
                self._arm(k)
            for at in failure.at_s:
                self.env.timeout(at).callbacks.append(lambda _e, k=k: self._scheduled(k))

    def _arm(self, k: int) -> None:
        self.env.timeout(self._between[k]()).callbacks.append(lambda _e: self._fail(k))

    def _scheduled(self, k: int) -> None:
        if self._failed[k]:  # already down from an earlier entry of the schedule
            failure = self.specs[k]
            self.events.append((self.env.now, failure.domain, failure.layer, "skipped (already down)", 0))
        else:
            self._fail(k)

    def _fail(self, k: int) -> None:
        failure = self.specs[k]
        self._failed[k] = True
        self._take_down(self._domains[k], failure.domain, failure.layer, "failure")
        self.env.timeout(self._repair[k]()).callbacks.append(lambda _e: self._repaired(k))

    def kill_container(self, path: str, cause: str, restart_after_s: float) -> None:
        """A container is killed now (e.g. ``oom-kill``); its policy may restart it after the delay."""
        host = self._hosts[path.split("/", 1)[0]]
        layers = tuple(p for p in (f"{path}{own}" for own in OWN_THREADS) if p in self.platform.layer_consumers)
        domain = _Domain(host.name, (path,), layers, False)
        self._take_down(domain, path, "container", cause)
        self.env.timeout(restart_after_s).callbacks.append(
            lambda _e: self._bring_back(domain, path, "container", "restart"))

    def _take_down(self, domain: _Domain, name: str, layer: str, event: str) -> None:
        now = self.env.now
        fresh = [p for p in domain.targets if not self._down.get(p) and p not in self._lost]
        for path in domain.targets:
            self._down[path] = self._down.get(path, 0) + 1
        for path in fresh:
            self.downs.setdefault(path, []).append(now)
        self._cancel(domain, fresh)
        self.startup.stop(fresh)
        self.events.append((now, name, layer, event, len(fresh)))
        if fresh:
            self.on_down(fresh, now)

    def _cancel(self, domain: _Domain, fresh: list[str]) -> None:
        platform = self.platform
        for path in fresh:
            platform.consumers[path].node.cancel_all()
        for path in domain.layer_paths:
            platform.layer_nodes[path].cancel_all()
        keys = None if domain.whole_host else set(fresh)
        if platform.fabric is not None:  # its transfers over the network end too
            platform.fabric.cancel(fresh, host=domain.host if keys is None else None)
        for device in (*platform.disks[domain.host], *platform.nics[domain.host]):
            for key, node in device.nodes.items():
                if keys is None or key in keys:
                    node.cancel_all()

    def _repaired(self, k: int) -> None:
        failure = self.specs[k]
        self._failed[k] = False
        self._bring_back(self._domains[k], failure.domain, failure.layer, "repair")
        if self._between[k] is not None:
            self._arm(k)

    def _bring_back(self, domain: _Domain, name: str, layer: str, event: str) -> None:
        back = []
        for path in domain.targets:
            self._down[path] -= 1
            if self._down[path] or path in self._lost:
                continue
            if self._restart.get(path, "on-failure") == "never":
                self._lost.add(path)
            else:
                back.append(path)
        if domain.whole_host and not self._down[domain.host]:
            self.platform.start_host_os_load(self._hosts[domain.host])
        self.startup.restart(back)
        self.events.append((self.env.now, name, layer, event, len(back)))

    def oom_kill(self, path: str, restart_after_s: float) -> None:
        """The OOM killer ends the container ``path``; it restarts after the delay (if its policy says so)."""
        self.kill_container(path, "oom-kill", restart_after_s)

    def process_killed(self, path: str) -> None:
        """The OOM killer ended a request's process in ``path`` (the consumer stays up)."""
        self.events.append((self.env.now, path, "process", "oom-kill", 0))


def failed_in_flight(end_s: np.ndarray, targets: np.ndarray, codes: list[int]) -> np.ndarray:
    """Ids of the jobs not finished whose target is one of ``codes``."""
    return np.flatnonzero(np.isnan(end_s) & np.isin(targets, codes))


class JobsInFlight:
    """Fails the jobs running in consumers that just went down; jobs waiting at their gates wait on.

    ``starters`` maps a workload's index in the job log to the starter of its
    source (set once the sources are built); a job of a workload without one
    (a custom workload's) is recorded as failed and its process not resumed.
    """

    def __init__(self, log, target_code: dict[str, int]):
        self.log = log
        self.target_code = target_code
        self.starters: dict[int, object] = {}
        self._open_from = 0
        """Every job before this one is over: failures need not look at them."""

    def fail(self, paths: list[str], now: float) -> None:
        """The consumers ``paths`` went down at ``now``: their jobs in flight fail."""
        log = self.log
        codes = [self.target_code[p] for p in paths]
        # Jobs before _open_from are all over (done or failed): a failure scans only the rest,
        # so a run with many failures stays linear in its jobs.
        first = self._open_from
        end = np.array(log.end[first:], dtype=float)
        jobs = first + failed_in_flight(end, np.array(log.target[first:], dtype=np.int32), codes)
        starters = self.starters
        waiting = set().union(*(s.waiting for s in starters.values()))
        for job in jobs.tolist():
            if job in log.failed_at or job in waiting:
                continue
            starter = starters.get(log.workload[job])
            if starter is not None:
                starter.fail(job, now)
            else:
                log.fail(job, now)
        for k in np.flatnonzero(np.isnan(end)).tolist():
            if first + k not in log.failed_at:
                self._open_from = first + k
                break
        else:
            self._open_from = first + len(end)
