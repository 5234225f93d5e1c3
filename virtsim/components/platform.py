"""Hosts, VMs and containers built from a resolved spec into sharing trees.

Each host has one CPU :class:`~virtsim.engine.RateResource` of ``cores ×
core_speed`` work units per second; a VM is a child consumer capped at its vCPUs
(or its lower ``cap``) and weighted by its ``shares``; a VM nested in another is
the same kind of child of its parent VM, whose hypervisor shares the parent's
vCPUs; a container is a child of its VM (or of the host) capped at its ``cpus``
limit and weighted by its ``cpu_weight``; with ``cpu_quota_period`` it is capped
at its parent's limit instead and a :class:`~virtsim.components.cfs.CpuQuota`
enforces ``cpus`` per period. Work is measured in seconds on a reference core of speed 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import simpy

from ..engine import RateResource, ShareNode
from ..model.cpu_topology import CpuTopology
from ..model.host_os import HostOS, host_os_of, runs_on_an_os
from ..model.topology import walk_vms
from .cfs import CpuQuota
from .devices import Disk, Nic
from .stack import REQUESTER, Layer, PathCost, compose

#: Weight of one process that runs directly in a node next to child cgroups:
#: the cgroup v2 default ``cpu.weight`` (100), so a process weighs as much as a
#: default container. Next to VMs it weighs as a VM of default shares.
PROCESS_WEIGHT_AMONG_CONTAINERS = 100.0
PROCESS_WEIGHT_AMONG_VMS = 1000.0

OWN_THREADS = (".vmm", ".net")
"""Suffixes of the layer consumers that belong to one VM (or sandbox) and go down with it: its VMM and its
network thread."""

BACKGROUND_HORIZON_S = 1e12
"""Seconds of work given to a steady background load (longer than any run)."""


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
    topology: CpuTopology
    """The host's sockets, cores and hardware threads."""
    sockets: int = 0
    """Sockets a VM's vCPUs span (a container in a VM: its VM's); 0 on a host and in its containers, where a
    job's threads span as many as they need (``CpuTopology.sockets_for``)."""

    def remote_extra(self, threads: int) -> float:
        """What remote memory adds to the memory-intensive work of an ``interleaved`` job of ``threads`` threads
        here, as a multiple of its local time: its memory is spread over the sockets the consumer's vCPUs (a VM)
        or the job's own threads (on a host or in one of its containers) span."""
        return self.topology.remote_extra(self.sockets or self.topology.sockets_for(threads))


def topology_of(hw) -> CpuTopology:
    """The processor topology of a resolved ``HardwareSpec``."""
    return CpuTopology(cores=hw.cores, sockets=hw.sockets, threads_per_core=hw.threads_per_core,
                       smt_sibling_factor=hw.smt_sibling_factor, remote_memory_factor=hw.remote_memory_factor)


def vm_sockets(vm, topology: CpuTopology) -> int:
    """Sockets a VM's vCPUs span: those it is pinned to, else the fewest whose hardware threads hold them."""
    return vm.sockets if vm.sockets is not None else topology.sockets_for(vm.vcpus)


class _OnFirstUse(dict):
    """A mapping whose values are made by ``make(key)`` when first asked for."""

    def __init__(self, make):
        super().__init__()
        self._make = make

    def __missing__(self, key):
        value = self[key] = self._make(key)
        return value


class Platform:
    """All hosts of an experiment, with a consumer for every host, VM and container.

    Besides the consumers users target, each host gets the consumers where the
    layers' own work runs: one per VM for its VMM (``h1/a.vmm``, capped at the
    disk path's ``threads``, one core by default: the VMM's I/O thread and exit
    handling; for a nested VM inside its parent VM, ``h1/a/b.vmm``), one per VM
    for a network thread of its own where the hypervisor's ``net.host_work`` is
    ``thread`` (``h1/a.net``, KVM's vhost-net, capped at ``net.threads``), one
    per host for a hypervisor whose I/O is served in its
    root partition (``h1/root-partition``, Hyper-V: shared by the host's VMs, on
    all its cores) and one for a host engine
    (``h1/docker``: its daemon and the host kernel's bridge/NAT processing).
    ``paths`` holds the composed per-operation cost of every consumer's stack.
    Work a profile runs in the requester's own context (``host_work:
    requester``) has no consumer of its own: it is charged to the requester.
    """

    def __init__(self, env: simpy.Environment, hosts, *, policy: str = "max-min"):
        self.env = env
        self.cpu: dict[str, RateResource] = {}
        self.consumers: dict[str, Consumer] = {}
        self.layer_nodes: dict[str, ShareNode] = {}
        self.layer_consumers: dict[str, Consumer] = {}
        """Where the layers' own work runs (kind ``layer``): VMM threads, host engines, a Type 2 host OS."""
        self.shared_layers: dict[tuple[str, str], list[str]] = {}
        """(failure layer, domain) → the layer consumers serving everything above that domain's layer,
        beyond each VM's own VMM: a host's container engine, Hyper-V's root partition."""
        self.paths: dict[str, PathCost] = {}
        self.topology: dict[str, CpuTopology] = {}
        """Each host's sockets, cores and hardware threads, by host name."""
        self.quotas: dict[str, CpuQuota] = {}
        """The containers whose ``cpus`` is a CFS quota per period, by path."""
        self.remote_storage: dict[str, object] = {}
        """The consumers whose disk is on another host (``RemoteStorageSpec``), by path: a VM with a remote image,
        its containers and nested VMs unless they name their own, a container with a remote volume."""
        self.fabric = None
        """With a ``network`` section, its :class:`~virtsim.components.network.Fabric`: the hosts' NICs and
        the switch links as one flow network, which the attached hosts' traffic crosses instead of their NICs."""
        specs = {host.name: host for host in hosts}
        # Devices are built on first use: a run that never touches a disk or a
        # NIC keeps only the CPU trees, close together in memory.
        self.disks: dict[str, list[Disk]] = _OnFirstUse(
            lambda name: [Disk(env, name, d) for d in specs[name].hardware.disks])
        self.nics: dict[str, list[Nic]] = _OnFirstUse(
            lambda name: [Nic(env, name, n) for n in specs[name].hardware.nics])
        # The sharing trees first, all together: they are what every event
        # touches, and adjacent in memory they cost fewer cache misses.
        for host in hosts:
            self._build_host(host, policy)
        for host in hosts:
            self._compose_paths(host)
            self.start_host_os_load(host)

    def _build_host(self, host, policy: str) -> None:
        hw = host.hardware
        speed = hw.core_speed
        topology = self.topology[host.name] = topology_of(hw)
        task_weight = PROCESS_WEIGHT_AMONG_VMS if host.vms else PROCESS_WEIGHT_AMONG_CONTAINERS
        cpu = RateResource(self.env, hw.cores * speed, name=host.name, policy=policy,
                           task_weight=task_weight)
        if topology.threads_per_core > 1:
            # SMT: beyond one busy thread per core, each further busy hardware thread adds the sibling factor.
            cpu.set_demand_gain(topology.smt_sibling_factor, hw.cores * (topology.threads_per_core - 1) * speed)
        self.cpu[host.name] = cpu
        # Its size: its throughput with every hardware thread busy (its cores, without SMT).
        self._add(Consumer(host.name, "host", host.name, cpu.root, speed, topology.max_capacity_cores, topology))
        vm_nodes = {host.name: cpu.root}
        spans = {host.name: topology.sockets}
        for nested in walk_vms(host):
            vm = nested.vm
            limit = vm.vcpus if vm.cap_cores is None else min(vm.vcpus, vm.cap_cores)
            # A VM nested in another is a child of that VM's node: its hypervisor shares the parent's vCPUs.
            node = vm_nodes[nested.parent_path].add_child(
                vm.name, weight=vm.shares, cap=limit * speed,
                reservation=vm.reservation_cores * speed,
                task_weight=PROCESS_WEIGHT_AMONG_VMS if vm.vms else PROCESS_WEIGHT_AMONG_CONTAINERS,
            )
            vm_nodes[nested.path] = node
            # A nested VM's memory is its parent's guest memory: it spans no more sockets than that.
            span = spans[nested.path] = min(spans[nested.parent_path], vm_sockets(vm, topology))
            self._add(Consumer(nested.path, "vm", host.name, node, speed, float(vm.vcpus), topology, span))
            self._add_containers(nested.path, host.name, node, vm.containers, speed, limit, topology, span)
        self._add_containers(host.name, host.name, cpu.root, host.containers, speed,
                             float(topology.hardware_threads), topology)

    def _add_containers(self, parent_path, host_name, parent_node, containers, speed, parent_cores, topology,
                        sockets=0):
        for ctr in containers:
            cores = parent_cores if ctr.cpus is None else min(ctr.cpus, parent_cores)
            # Under a quota the container may burst to its parent's limit within a period.
            fluid = ctr.cpu_quota_period_s is None
            node = parent_node.add_child(ctr.name, weight=ctr.cpu_weight,
                                         cap=(cores if fluid else parent_cores) * speed, task_weight=1.0)
            path = f"{parent_path}/{ctr.name}"
            if not fluid:
                period_s = ctr.cpu_quota_period_s
                self.quotas[path] = CpuQuota(self.env, node, cores * speed * period_s, period_s,
                                             parent_cores * speed)
            self._add(Consumer(path, "container", host_name, node, speed, float(cores), topology, sockets))

    # -- stacks -------------------------------------------------------------------

    def _layer_node(self, host, path: str, *, cap_cores: float | None, weight: float,
                    parent: ShareNode | None = None) -> str:
        """Create (once) the consumer where a layer's own work runs; returns its path.

        It hangs under the host's root, or under ``parent`` (a VM, for a
        sandbox's microVM nested in it).
        """
        if path not in self.layer_nodes and path not in self.consumers:
            speed = host.hardware.core_speed
            cap = float("inf") if cap_cores is None else cap_cores * speed
            parent = parent or self.cpu[host.name].root
            node = parent.add_child(path.rsplit("/", 1)[1], weight=weight, cap=cap)
            self.layer_nodes[path] = node
            size = host.hardware.cores if cap_cores is None else cap_cores
            self.layer_consumers[path] = Consumer(path, "layer", host.name, node, speed, float(size),
                                                  self.topology[host.name])
        return path

    def _shared_layer(self, host, layer: str, domain: str, name: str, weight: float,
                      parent: ShareNode | None = None) -> str:
        """A layer consumer ``domain/name`` serving all that runs on ``domain``'s ``layer``, which fails with it."""
        path = self._layer_node(host, f"{domain}/{name}", cap_cores=None, weight=weight, parent=parent)
        shared = self.shared_layers.setdefault((layer, domain), [])
        if path not in shared:
            shared.append(path)
        return path

    def start_host_os_load(self, host) -> None:
        """A Type 2 host's OS and desktop apps: a steady CPU load beside the VMs (again after a failure)."""
        self.start_host_apps(host, host_os_of(host))

    def start_host_apps(self, host, host_os: HostOS | None) -> None:
        """The steady CPU load of a Type 2 host OS's own apps, on ``host`` or in the VM it is the guest OS of
        (that VM's start-up chain starts them once it has booted; a failure of the VM ends them with it).
        Nothing without one."""
        if host_os is None or not host_os.apps_cpu_cores > 0:
            return
        where = host_os.where
        parent = self.consumers[where].node if where != host.name else None
        path = self._layer_node(host, host_os.path, cap_cores=None, weight=PROCESS_WEIGHT_AMONG_VMS, parent=parent)
        node = self.layer_nodes[path]
        if node.active_activities():
            return  # already running: a VM whose start-up chain ran again before a failure ended it
        speed = host.hardware.core_speed
        cores = host_os.apps_cpu_cores
        # Work enough for any run: the load never ends on its own.
        node.submit(cores * speed * BACKGROUND_HORIZON_S, max_rate=cores * speed)

    def _engine_layers(self, host, engine, ctr, runs_in: str) -> tuple[list[Layer], object]:
        """Layers a container adds on top of its parent, and the OS its processes see."""
        if engine is None:
            return [], None
        mode = engine.network_modes.get(ctr.network)
        net_in = REQUESTER if mode is not None and mode.host_work == "requester" else runs_in
        layers = [Layer("network", engine, net_in, mode, ctr.network),
                  Layer("storage", engine, runs_in, engine.storage_modes.get(ctr.storage), ctr.storage),
                  Layer("engine", engine, runs_in)]
        layers = [layer for layer in layers if layer.kind == "engine" or layer.mode is not None]
        if engine.composition is None:
            return layers, None
        # A sandbox VM (Kata): the container's own microVM, whose VMM thread is a
        # consumer of its own: on the host, or inside the VM when nested.
        inside_vm = runs_in in self.consumers and self.consumers[runs_in].kind == "vm"
        parent = self.consumers[runs_in].node if inside_vm else None
        sandbox = f"{runs_in if inside_vm else host.name}/{ctr.name}"
        hypervisor = engine.composition.hypervisor
        vmm = self._layer_node(host, f"{sandbox}.vmm", cap_cores=float(hypervisor.disk.threads),
                               weight=PROCESS_WEIGHT_AMONG_CONTAINERS, parent=parent)
        net_in = self._net_thread(host, hypervisor, sandbox, PROCESS_WEIGHT_AMONG_CONTAINERS, parent)
        layers.append(Layer("hypervisor", hypervisor, vmm, net_runs_in=net_in))
        return layers, engine.composition.guest_os

    def _net_thread(self, host, hypervisor, vm_path: str, weight: float, parent: ShareNode | None) -> str | None:
        """Where a VM's network work runs, where not with the rest of its hypervisor's: a thread of its own
        (``vm_path.net``, capped at ``net.threads``) or the requester. None: with the rest."""
        where = hypervisor.net.host_work
        if where == "thread":
            return self._layer_node(host, f"{vm_path}.net", cap_cores=float(hypervisor.net.threads),
                                    weight=weight, parent=parent)
        return REQUESTER if where == "requester" else None

    def _compose_paths(self, host) -> None:
        name = host.name
        host_os = host.host_os  # None only under a bare-metal hypervisor
        self.paths[name] = compose([], host_os)
        vm_layers: dict[str, list[Layer]] = {name: []}
        for nested in walk_vms(host):
            vm, path = nested.vm, nested.path
            # A nested VM's path is its own hypervisor layer on top of its parent's: the same rule
            # composes a container in a VM, a Kata sandbox and a VM in a VM (DESIGN §2.4).
            layers = list(vm_layers[nested.parent_path])
            if nested.hypervisor is not None:
                parent = self.consumers[nested.parent_path].node if nested.parent_vm is not None else None
                runs_in = self._layer_node(host, f"{path}.vmm", cap_cores=float(nested.hypervisor.disk.threads),
                                           weight=vm.shares, parent=parent)
                net_in = self._net_thread(host, nested.hypervisor, path, vm.shares, parent)
                if nested.hypervisor.io_backend == "root-partition":
                    # Hyper-V: the VM's I/O is served in the root partition, shared by every VM it hosts
                    # (the per-VM consumer above keeps the VM's worker-process memory).
                    runs_in = self._shared_layer(host, "hypervisor", nested.parent_path, "root-partition",
                                                 PROCESS_WEIGHT_AMONG_VMS, parent)
                layers.insert(0, Layer("hypervisor", nested.hypervisor, runs_in,
                                       host_os=self._os_under(host, nested), net_runs_in=net_in))
            vm_layers[path] = layers
            guest_os = vm.os or host_os
            self.paths[path] = compose(layers, guest_os)
            self._remote(path, vm.remote_storage or self.remote_storage.get(nested.parent_path))
            for ctr in vm.containers:
                extra, sandbox_os = self._engine_layers(host, vm.engine, ctr, path)
                self.paths[f"{path}/{ctr.name}"] = compose(extra + layers, sandbox_os or guest_os)
                self._remote(f"{path}/{ctr.name}", ctr.remote_storage or self.remote_storage.get(path))
        engine = host.engine
        runs_in = name if engine is None else self._shared_layer(
            host, "engine", name, engine.name, PROCESS_WEIGHT_AMONG_CONTAINERS)
        for ctr in host.containers:
            extra, sandbox_os = self._engine_layers(host, engine, ctr, runs_in)
            self.paths[f"{name}/{ctr.name}"] = compose(extra, sandbox_os or host_os)
            self._remote(f"{name}/{ctr.name}", ctr.remote_storage)

    def _remote(self, path: str, storage) -> None:
        if storage is not None:
            self.remote_storage[path] = storage

    @staticmethod
    def _os_under(host, nested):
        """Native operation costs of the OS a hosted hypervisor runs on (the host's, or its parent VM's guest
        OS), for its device emulation's host-stack operations; None under a bare-metal one."""
        if not runs_on_an_os(nested.hypervisor):
            return None
        under = host.host_os if nested.parent_vm is None else nested.parent_vm.os
        return None if under is None else under.ops.cost()

    def node_of(self, path: str) -> ShareNode:
        """The CPU node of a consumer or of a layer's own work."""
        return self.consumers[path].node if path in self.consumers else self.layer_nodes[path]

    def all_consumers(self) -> dict[str, Consumer]:
        """Targets and layer consumers together, for accounting."""
        return {**self.consumers, **self.layer_consumers}

    def _add(self, consumer: Consumer) -> None:
        self.consumers[consumer.path] = consumer

    def consumer(self, path: str) -> Consumer:
        """The consumer at ``path`` (``host``, ``host/vm``, ``host/vm/ctr`` or ``host/ctr``)."""
        try:
            return self.consumers[path]
        except KeyError:
            raise KeyError(f"no consumer {path!r}; known: {', '.join(sorted(self.consumers)[:10])}") from None
