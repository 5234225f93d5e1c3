"""How requests of one shape run at one consumer: the :class:`RequestPlan` built from the components.

A plan composes the consumer's stack (its :class:`~virtsim.components.stack.PathCost`),
its shares of the host's first disk (or of a remote disk, ``components.remote_storage``) and NIC
(``components.devices``) and, in a
VM the host swapped part of, the host disk as its swap (``components.memory``).
"""

from __future__ import annotations

from ..components.devices import disk_share, nic_share
from ..components.memory import Swapping, swap_share
from ..components.remote_storage import remote_disk
from ..components.stack import REQUESTER
from .requests import ArrivalClock, Demand, RequestPlan


class RequestPlanner:
    """Builds the plans of a platform's consumers; custom requests share one per shape."""

    def __init__(self, env, platform, swapping: Swapping, software: dict | None = None):
        self.env = env
        self.platform = platform
        self.swapping = swapping
        self.software = software or {}
        """Software resource name → its :class:`~virtsim.components.slots.Slots`."""
        self._shared: dict[tuple, RequestPlan | None] = {}
        self._built: list[tuple[str, Demand, int, RequestPlan]] = []
        """Every plan built, with what it was built from: a VM that migrates has its plans rebuilt in place."""
        self._clocks: dict[tuple[str, str, int], ArrivalClock] = {}
        """(queue consumer, 'disk' or 'net', layer) → the last arrival there, shared by every plan through it."""

    def plan(self, path: str, template: Demand, threads: int) -> RequestPlan | None:
        """How requests shaped like ``template`` run at ``path``; None where one CPU activity says it all."""
        platform = self.platform
        cost = platform.paths[path]
        swap_ops = self.swapping.page_ins_per_request(path, template.memory_bytes)
        consumer = platform.consumer(path)
        if (cost.is_native and not template.has_operations and not swap_ops and not template.holds
                and not _pays_remote_memory(consumer, template, threads)):
            return None
        disk = nic = swap = remote = None
        if swap_ops and platform.disks[consumer.host]:
            swap = swap_share(platform.disks[consumer.host][0], path)
        storage = platform.remote_storage.get(path)
        if template.disk_ops and storage is not None and platform.fabric is not None:
            remote = remote_disk(platform, path, storage, template.disk_write)  # on a storage host
        elif template.disk_ops and platform.disks[consumer.host]:
            disk = disk_share(platform.disks[consumer.host][0], path, cost, template.disk_write)
        fabric = platform.fabric
        if template.net_transactions and fabric is not None and fabric.attached(consumer.host):
            nic = fabric.nic_share(path, cost, template.net_receive)  # its traffic crosses the network
        elif template.net_transactions and platform.nics[consumer.host]:
            nic = nic_share(platform.nics[consumer.host][0], path, cost, template.net_receive)
        nodes = {where: platform.node_of(where) for where in cost.charged_consumers()}
        locks = tuple((self.software[name], fraction, through_disk) for name, fraction, through_disk in template.holds)
        plan = RequestPlan(self.env, consumer, cost, nodes, threads, disk, nic, swap, swap_ops, locks,
                           self._clocks_of(path, cost), remote)
        self._built.append((path, template, threads, plan))
        return plan

    def rebind(self, path: str) -> None:
        """Rebuild in place the plans of the consumer ``path`` from the platform as it is now (after its VM
        migrated: its CPU node, its layers' nodes and its device shares are on another host), so the workloads
        holding them send their next requests there."""
        built, self._built = self._built, []
        for at, template, threads, plan in built:
            if at == path:
                fresh = self.plan(path, template, threads)
                if fresh is not None:
                    plan.__dict__.update(fresh.__dict__)
        self._built = built

    def _clocks_of(self, path: str, cost) -> dict[str, tuple[ArrivalClock, ...]]:
        """The arrival clocks of the path's coalescing queues: one per VM's (or container's) path through each
        coalescing layer, whichever workload's requests arrive there."""
        clocks = {}
        for kind, io in (("disk", cost.disk), ("net", cost.net)):
            clocks[kind] = tuple(
                self._clocks.setdefault((path if c.runs_in == REQUESTER else c.runs_in, kind, i), ArrivalClock())
                for i, c in enumerate(io.coalescing))
        return clocks

    def shared_plan(self, path: str, demand: Demand, threads: int) -> RequestPlan | None:
        """The plan a custom request of ``demand`` runs by at ``path``: the built-in workloads' own.

        A plan depends on the request's shape only (``Demand.plan_shape``:
        operations or not, which devices, which way the bytes go), so one is
        built per shape and kept.
        """
        key = (path, threads, demand.plan_shape)
        if key not in self._shared:
            self._shared[key] = self.plan(path, demand, threads)
        return self._shared[key]


def _pays_remote_memory(consumer, template: Demand, threads: int) -> bool:
    """Its memory-intensive work reaches another socket's memory (a bare host's CPU work is then more than itself)."""
    if not template.mem_fraction or template.mem_locality == "local":
        return False
    return consumer.remote_extra(threads) > 0.0
