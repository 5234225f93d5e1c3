"""The start-up chain: VMs boot and containers start before they can serve.

At time 0 (an experiment's ``cold_start``) every VM under a hypervisor boots
(a VM nested in another once that one is up, its boot work inside it):
the VMM starts (a fixed delay), the guest OS boots (CPU work in the VM, then a
sequential read from the host's disk — so a boot storm contends for both —
then the OS's fixed delays). Every container of an
engine then starts once its parent is ready: its image is pulled over the
host's NIC unless the host (or the VM) already holds it — one pull per image
and cache, later containers wait for it — then it is created and started; a
sandbox VM (Kata) boots its own microVM after that.

Each consumer with a chain has a :class:`Gate`; jobs that arrive before it
opens wait (their wait is the job's ``startup_s``). Consumers without a chain
(native hosts, plain cgroups) are ready from the start. After a failure
(``failures.py``) the same chains run again for what the failure took down.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import simpy

from ..model.host_os import vm_host_os
from ..model.topology import walk_vms
from .platform import Platform


class Gate:
    """Open while its consumer can serve; runs what waited for it when it opens.

    It starts closed while the consumer starts up; a failure closes it again
    until the consumer is back. ``closed`` records every closed interval
    ([start, end], end NaN while still closed), for availability.
    """

    __slots__ = ("ready", "ready_at", "reason", "closed", "_waiting")

    def __init__(self, now: float = 0.0, *, ready: bool = False):
        self.ready = ready
        self.ready_at = now if ready else math.nan
        """When it first opened (NaN until then)."""
        self.reason = "startup"
        """Why it is (or was last) closed: ``startup`` or ``failure``."""
        self.closed: list[list[float]] = [] if ready else [[now, math.nan]]
        self._waiting: list[Callable[[], None]] = []

    def when_ready(self, action: Callable[[], None]) -> None:
        """Run ``action`` now if open, else when the gate opens."""
        if self.ready:
            action()
        else:
            self._waiting.append(action)

    def open(self, now: float) -> None:
        if self.ready:
            return
        self.ready = True
        if math.isnan(self.ready_at):
            self.ready_at = now
        if self.closed:
            self.closed[-1][1] = now
        waiting, self._waiting = self._waiting, []
        for n, action in enumerate(waiting):
            if not self.ready:  # an action closed it again (its job OOM-killed the container): the rest wait on
                self._waiting = waiting[n:] + self._waiting
                return
            action()

    def close(self, now: float, reason: str) -> None:
        """Stop serving from ``now``; what arrives waits until :meth:`open`."""
        self.reason = reason
        if self.ready:
            self.ready = False
            self.closed.append([now, math.nan])

    def closed_s(self, start: float, end: float) -> float:
        """Seconds closed within [start, end]."""
        total = 0.0
        for down, up in self.closed:
            up = end if math.isnan(up) else up
            total += max(0.0, min(up, end) - max(down, start))
        return total


class _Steps:
    """Runs a list of steps one after another; each step gets a 'next' callback.

    ``alive()`` is asked before each step: a chain whose consumer failed
    meanwhile stops there.
    """

    def __init__(self, steps: list[Callable[[Callable[[], None]], None]], alive: Callable[[], bool]):
        self.steps = steps
        self.alive = alive

    def run(self, done: Callable[[], None]) -> None:
        if not self.alive():
            return
        if not self.steps:
            done()
            return
        first, rest = self.steps[0], _Steps(self.steps[1:], self.alive)
        first(lambda: rest.run(done))


class Startup:
    """Builds and runs the start-up chains of a platform's VMs and containers.

    A chain is defined per consumer (its steps, and the consumer it waits for:
    a container waits for its VM); :meth:`start` runs them all at time 0 and
    :meth:`restart` runs them again for consumers a failure took down.
    """

    def __init__(self, env: simpy.Environment, platform: Platform, hosts):
        self.env = env
        self.platform = platform
        self.gates: dict[str, Gate] = {}
        self._pulls: dict[tuple[str, str], Gate] = {}
        self._hosts = {h.name: h for h in hosts}
        self._chains: dict[str, tuple[Callable[[], list], str | None]] = {}
        """Per consumer with a chain: (a function making its steps, the consumer it waits for)."""
        self._epoch: dict[str, int] = {}
        """Per consumer: how many times it went down; a chain of an older epoch is void."""
        self._stopped: set[str] = set()
        """Replicas held in reserve or scaled down: not started, not restarted after a failure."""
        for host in hosts:
            self._define(host)

    # -- steps --------------------------------------------------------------------

    def _delay(self, seconds: float):
        def step(then):
            if seconds > 0:
                self.env.timeout(seconds).callbacks.append(lambda _e: then())
            else:
                then()
        return step

    def _boot(self, path: str, host, os_profile):
        """The guest OS boots in consumer ``path``: its CPU work, its disk reads, its fixed delays.

        One after another, as the profiles' boot figures were split from
        measured totals; the CPU work runs at the path's CPU factor.
        """
        boot = os_profile.boot
        speed = host.hardware.core_speed
        cpu_work = boot.cpu * self.platform.paths[path].cpu_factor
        disks = self.platform.disks[host.name]

        def cpu(then):
            if cpu_work > 0:
                self.platform.node_of(path).submit(cpu_work, max_rate=speed, on_done=lambda _a: then())
            else:
                then()

        def disk(then):
            if boot.disk_read > 0 and disks:
                device = disks[0]
                device.node_for(path).submit(boot.disk_read / device.spec.bandwidth_bytes_per_s, max_rate=1.0,
                                             on_done=lambda _a: then())
            else:
                then()

        def step(then):
            _Steps([cpu, disk, self._delay(boot.fixed)], lambda: True).run(then)
        return step

    def _pull(self, cache: str, host, engine):
        """Pull the engine's image into ``cache`` (a host or a VM) once; others wait for that pull."""
        pull = engine.startup.pull
        nics = self.platform.nics[host.name]

        def step(then):
            key = (cache, engine.name)
            gate = self._pulls.get(key)
            if gate is None:
                gate = self._pulls[key] = Gate(self.env.now)
                fabric = self.platform.fabric
                if pull.image > 0 and fabric is not None and fabric.attached(host.name):
                    # From the registry beyond the host's switch port, over the network.
                    fabric.outside(cache, False).submit(pull.image, max_rate=pull.bandwidth,
                                                        on_done=lambda _a: gate.open(self.env.now))
                elif pull.image > 0 and nics:
                    nic = nics[0]
                    nic.node_for(cache).submit(pull.image, max_rate=pull.bandwidth,
                                               on_done=lambda _a: gate.open(self.env.now))
                else:
                    gate.open(self.env.now)
            gate.when_ready(then)
        return step

    def _container_steps(self, host, engine, path: str, cache: str) -> list:
        steps = [self._pull(cache, host, engine), self._delay(engine.startup.create),
                 self._delay(engine.startup.start)]
        if engine.composition is not None:  # the sandbox's own microVM
            steps += [self._delay(engine.composition.hypervisor.startup.vmm_start),
                      self._boot(path, host, engine.composition.guest_os)]
        return steps

    def _vm_steps(self, host, nested) -> list:
        """Its hypervisor starts the VMM, the guest boots; a guest hosting a Type 2 hypervisor then runs
        its host apps."""
        vm = nested.vm
        steps = [self._delay(nested.hypervisor.startup.vmm_start), self._boot(nested.path, host, vm.os)]
        host_os = vm_host_os(nested.path, vm)
        if host_os is not None:
            def apps(then):
                self.platform.start_host_apps(host, host_os)
                then()
            steps.append(apps)
        return steps

    # -- chains -------------------------------------------------------------------

    def _define(self, host) -> None:
        """Record the chain of every VM under a hypervisor and every container of an engine."""
        for nested in walk_vms(host):
            vm, path = nested.vm, nested.path
            # A nested VM boots once the VM it runs in is up: its chain waits for the parent's gate.
            parent = nested.parent_path if nested.parent_vm is not None else None
            vm_after = parent
            if nested.hypervisor is not None:
                self._chains[path] = (lambda p=path, n=nested: self._vm_steps(host, n), parent)
                vm_after = path
            if vm.engine is not None:
                for ctr in vm.containers:
                    c = f"{path}/{ctr.name}"
                    self._chains[c] = (lambda c=c, p=path, e=vm.engine: self._container_steps(host, e, c, p),
                                       vm_after)
        if host.engine is not None:
            for ctr in host.containers:
                c = f"{host.name}/{ctr.name}"
                self._chains[c] = (lambda c=c: self._container_steps(host, host.engine, c, host.name), None)

    def _run_chain(self, path: str) -> None:
        """Run ``path``'s chain (after the consumer it waits for); open its gate at the end."""
        gate = self.gates[path]
        epoch = self._epoch.get(path, 0)
        make_steps, after = self._chains[path]

        def alive() -> bool:
            return self._epoch.get(path, 0) == epoch

        def run() -> None:
            _Steps(make_steps(), alive).run(lambda: gate.open(self.env.now))

        if after is None:
            run()
        else:
            self.gate(after).when_ready(lambda: run() if alive() else None)

    def start(self) -> None:
        """Schedule every chain from now (replicas held in reserve stay closed)."""
        for path in self._chains:
            self.gates[path] = Gate(self.env.now)
            if path in self._stopped:
                self.gates[path].reason = "stopped"
        for path in self._chains:
            if path not in self._stopped:
                self._run_chain(path)

    def gate(self, path: str) -> Gate:
        """The gate of ``path``, made (open) if it has none yet."""
        gate = self.gates.get(path)
        if gate is None:
            gate = self.gates[path] = Gate(self.env.now, ready=True)
        return gate

    def stop(self, paths) -> None:
        """``paths`` went down now: close their gates, void their running chains and pulls."""
        now = self.env.now
        for path in paths:
            self._epoch[path] = self._epoch.get(path, 0) + 1
            self.gate(path).close(now, "failure")
        # An unfinished pull into a cache that went down is lost with it.
        for key in [k for k, g in self._pulls.items() if k[0] in paths and not g.ready]:
            del self._pulls[key]

    def restart(self, paths) -> None:
        """Bring ``paths`` back: run their chains again (parents first); open the others now.

        Replicas an autoscaler stopped stay stopped.
        """
        for path in paths:
            if path in self._stopped:
                continue
            if path in self._chains:
                self._run_chain(path)
            else:
                self.gate(path).open(self.env.now)

    def assume_running(self) -> None:
        """Without a cold start every stack runs at time 0: its images are already pulled."""
        for host in self._hosts.values():
            for nested in walk_vms(host):
                self.platform.start_host_apps(host, vm_host_os(nested.path, nested.vm))
            caches = [(n.path, n.vm.engine) for n in walk_vms(host) if n.vm.engine is not None]
            caches += [(host.name, host.engine)] if host.engine is not None else []
            for cache, engine in caches:
                self._pulls.setdefault((cache, engine.name), Gate(self.env.now, ready=True))

    def hold(self, paths) -> None:
        """Before :meth:`start`: these consumers do not start with the others (replicas held in reserve)."""
        self._stopped.update(paths)

    def start_replica(self, path: str) -> None:
        """Start a replica held in reserve or stopped: its chain runs now (or it serves at once)."""
        self._stopped.discard(path)
        self._epoch[path] = self._epoch.get(path, 0) + 1
        gate = self.gate(path)
        gate.close(self.env.now, "startup")
        self.restart([path])

    def stop_replica(self, path: str) -> None:
        """Take a replica out of service: it takes no new jobs (those in flight finish)."""
        self._stopped.add(path)
        self._epoch[path] = self._epoch.get(path, 0) + 1
        self.gate(path).close(self.env.now, "stopped")
