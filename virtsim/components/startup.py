"""The start-up chain: VMs boot and containers start before they can serve.

At time 0 (an experiment's ``cold_start``) every VM under a hypervisor boots:
the VMM starts (a fixed delay), the guest OS boots (CPU work in the VM, then a
sequential read from the host's disk — so a boot storm contends for both —
then the OS's fixed delays). Every container of an
engine then starts once its parent is ready: its image is pulled over the
host's NIC unless the host (or the VM) already holds it — one pull per image
and cache, later containers wait for it — then it is created and started; a
sandbox VM (Kata) boots its own microVM after that.

Each consumer with a chain has a :class:`Gate`; jobs that arrive before it
opens wait (their wait is the job's ``startup_s``). Consumers without a chain
(native hosts, plain cgroups) are ready from the start.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import simpy

from .platform import Platform


class Gate:
    """Opens once, when its consumer is ready; runs what waited for it."""

    __slots__ = ("ready", "ready_at", "_waiting")

    def __init__(self):
        self.ready = False
        self.ready_at = math.nan
        self._waiting: list[Callable[[], None]] = []

    def when_ready(self, action: Callable[[], None]) -> None:
        """Run ``action`` now if open, else when the gate opens."""
        if self.ready:
            action()
        else:
            self._waiting.append(action)

    def open(self, now: float) -> None:
        self.ready = True
        self.ready_at = now
        waiting, self._waiting = self._waiting, []
        for action in waiting:
            action()


class _Steps:
    """Runs a list of steps one after another; each step gets a 'next' callback."""

    def __init__(self, steps: list[Callable[[Callable[[], None]], None]]):
        self.steps = steps

    def run(self, done: Callable[[], None]) -> None:
        if not self.steps:
            done()
            return
        first, rest = self.steps[0], _Steps(self.steps[1:])
        first(lambda: rest.run(done))


class Startup:
    """Builds and runs the start-up chains of a platform's VMs and containers."""

    def __init__(self, env: simpy.Environment, platform: Platform, hosts):
        self.env = env
        self.platform = platform
        self.gates: dict[str, Gate] = {}
        self._pulls: dict[tuple[str, str], Gate] = {}
        self._hosts = {h.name: h for h in hosts}

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
            _Steps([cpu, disk, self._delay(boot.fixed)]).run(then)
        return step

    def _pull(self, cache: str, host, engine, path: str):
        """Pull the engine's image into ``cache`` once; others wait for that pull."""
        pull = engine.startup.pull
        nics = self.platform.nics[host.name]

        def step(then):
            key = (cache, engine.name)
            gate = self._pulls.get(key)
            if gate is None:
                gate = self._pulls[key] = Gate()
                if pull.image > 0 and nics:
                    nic = nics[0]
                    nic.node_for(path).submit(pull.image, max_rate=pull.bandwidth,
                                              on_done=lambda _a: gate.open(self.env.now))
                else:
                    gate.open(self.env.now)
            gate.when_ready(then)
        return step

    def _container_steps(self, host, engine, path: str, cache: str) -> list:
        steps = [self._pull(cache, host, engine, path), self._delay(engine.startup.create),
                 self._delay(engine.startup.start)]
        if engine.composition is not None:  # the sandbox's own microVM
            steps += [self._delay(engine.composition.hypervisor.startup.vmm_start),
                      self._boot(path, host, engine.composition.guest_os)]
        return steps

    # -- chains -------------------------------------------------------------------

    def _chain(self, path: str, steps: list, after: Gate | None) -> Gate:
        gate = self.gates[path] = Gate()
        run = lambda: _Steps(steps).run(lambda: gate.open(self.env.now))  # noqa: E731
        if after is None:
            run()
        else:
            after.when_ready(run)
        return gate

    def start(self) -> None:
        """Schedule every chain from now."""
        for host in self._hosts.values():
            for vm in host.vms:
                path = f"{host.name}/{vm.name}"
                vm_gate = None
                if host.hypervisor is not None:
                    steps = [self._delay(host.hypervisor.startup.vmm_start), self._boot(path, host, vm.os)]
                    vm_gate = self._chain(path, steps, None)
                if vm.engine is not None:
                    for ctr in vm.containers:
                        ctr_path = f"{path}/{ctr.name}"
                        self._chain(ctr_path, self._container_steps(host, vm.engine, ctr_path, path), vm_gate)
            if host.engine is not None:
                for ctr in host.containers:
                    ctr_path = f"{host.name}/{ctr.name}"
                    self._chain(ctr_path, self._container_steps(host, host.engine, ctr_path, host.name), None)
