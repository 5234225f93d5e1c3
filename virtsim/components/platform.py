"""Hosts, VMs and containers built from a resolved spec into sharing trees.

Each host has one CPU :class:`~virtsim.engine.RateResource` of ``cores ×
core_speed`` work units per second; a VM is a child consumer capped at its vCPUs
(or its lower ``cap``) and weighted by its ``shares``; a container is a child of
its VM (or of the host) capped at its ``cpus`` limit and weighted by its
``cpu_weight``. Work is measured in seconds on a reference core of speed 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import simpy

from ..engine import RateResource, ShareNode

#: Weight of one process that runs directly in a node next to child cgroups:
#: the cgroup v2 default ``cpu.weight`` (100), so a process weighs as much as a
#: default container. Next to VMs it weighs as a VM of default shares.
PROCESS_WEIGHT_AMONG_CONTAINERS = 100.0
PROCESS_WEIGHT_AMONG_VMS = 1000.0


@dataclass(frozen=True)
class Consumer:
    """A place in the stack where work can run (a host, a VM or a container)."""

    path: str
    """Names from the host down, joined by '/', e.g. ``h1/b/web``."""
    kind: str
    """``host``, ``vm`` or ``container``."""
    host: str
    node: ShareNode
    core_speed: float
    """Speed of the host's cores relative to the reference core."""
    size_cores: float
    """The consumer's size in cores: host cores, VM vCPUs, container cpus limit (or its parent's size)."""


class Platform:
    """All hosts of an experiment, with a consumer for every host, VM and container."""

    def __init__(self, env: simpy.Environment, hosts, *, policy: str = "max-min"):
        self.env = env
        self.cpu: dict[str, RateResource] = {}
        self.consumers: dict[str, Consumer] = {}
        for host in hosts:
            self._build_host(host, policy)

    def _build_host(self, host, policy: str) -> None:
        hw = host.hardware
        speed = hw.core_speed
        task_weight = PROCESS_WEIGHT_AMONG_VMS if host.vms else PROCESS_WEIGHT_AMONG_CONTAINERS
        cpu = RateResource(self.env, hw.cores * speed, name=host.name, policy=policy,
                           task_weight=task_weight)
        self.cpu[host.name] = cpu
        self._add(Consumer(host.name, "host", host.name, cpu.root, speed, float(hw.cores)))
        for vm in host.vms:
            limit = vm.vcpus if vm.cap_cores is None else min(vm.vcpus, vm.cap_cores)
            node = cpu.root.add_child(
                vm.name, weight=vm.shares, cap=limit * speed,
                reservation=vm.reservation_cores * speed,
                task_weight=PROCESS_WEIGHT_AMONG_CONTAINERS,
            )
            path = f"{host.name}/{vm.name}"
            self._add(Consumer(path, "vm", host.name, node, speed, float(vm.vcpus)))
            self._add_containers(path, host.name, node, vm.containers, speed, limit)
        self._add_containers(host.name, host.name, cpu.root, host.containers, speed, float(hw.cores))

    def _add_containers(self, parent_path, host_name, parent_node, containers, speed, parent_cores):
        for ctr in containers:
            cores = parent_cores if ctr.cpus is None else min(ctr.cpus, parent_cores)
            node = parent_node.add_child(ctr.name, weight=ctr.cpu_weight, cap=cores * speed,
                                         task_weight=1.0)
            path = f"{parent_path}/{ctr.name}"
            self._add(Consumer(path, "container", host_name, node, speed, float(cores)))

    def _add(self, consumer: Consumer) -> None:
        self.consumers[consumer.path] = consumer

    def consumer(self, path: str) -> Consumer:
        """The consumer at ``path`` (``host``, ``host/vm``, ``host/vm/ctr`` or ``host/ctr``)."""
        try:
            return self.consumers[path]
        except KeyError:
            raise KeyError(f"no consumer {path!r}; known: {', '.join(sorted(self.consumers)[:10])}") from None
