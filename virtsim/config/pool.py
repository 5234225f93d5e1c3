"""The loader's side of placement: what each pool item asks of each host, and the hosts it lands on.

Hosts are resolved first with what the file lists on them; each pool item is
then offered to the placement hosts (``placement.py``) and appended to the
host's VMs or containers, so the rest of the loader sees an ordinary file.
Pool items are addressed by their own name: a target or failure domain
``web-1/app`` becomes ``<host>/web-1/app`` wherever ``web-1`` landed.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np

from ..data.pods import pod_shapes
from ..model.memory import footprints, sandbox_bytes, vmm_overhead_bytes
from ..placement.policies import Fit, Item, Room, place
from ..wording import unknown
from . import inputs as i
from . import spec as s
from .checks import PlacedHost
from .layers import check_modes, resolve_profile, resolve_vm_layers
from .placement_inputs import PlacementInput, PoolContainerInput, RequestsInput
from .resolution import Context

__all__ = ["PoolOutcome", "RehomingContext", "place_pool"]


@dataclass
class PoolOutcome:
    """Hosts with the pool items appended, the placement record, and where each item landed."""

    hosts: list[tuple[int, i.HostInput, list[int], list[int]]]
    spec: s.PlacementSpec
    paths: dict[str, str] = field(default_factory=dict)
    """Pool item name → its path (``host/name``)."""
    rehome: dict[tuple, tuple] = field(default_factory=dict)
    """Location of a placed item under its host → its location in the placement section."""

    def resolve_path(self, path: str) -> str:
        """``web-1/app`` → ``h2/web-1/app`` when ``web-1`` is a placed pool item; other paths unchanged."""
        head, _, rest = path.partition("/")
        if head in self.paths:
            return self.paths[head] + (f"/{rest}" if rest else "")
        return path

    def unplaced_head(self, path: str) -> str | None:
        head = path.partition("/")[0]
        return head if any(u.name == head for u in self.spec.unplaced if u.kind != "workload") else None


class RehomingContext(Context):
    """Reports problems of placed items at their place in the ``placement`` section."""

    def __init__(self, ctx: Context, rehome: dict[tuple, tuple]):
        super().__init__(ctx.base_dir, ctx.lines, ctx.problems)
        self._rehome = rehome

    def add(self, loc: tuple, message: str) -> None:
        home = self._rehome.get(tuple(loc[:4]))
        super().add((*home, *loc[4:]) if home is not None else loc, message)


def _vm_fit(vm: i.VMInput, host: i.HostInput, spec: s.HostSpec, loc: tuple, ctx: Context) -> Fit:
    scratch = Context(ctx.base_dir)
    resolve_vm_layers(vm, loc, host.hypervisor, scratch)
    if scratch.problems:
        return Fit(refusal=scratch.problems[0].message)
    threads = spec.hardware.cores * spec.hardware.threads_per_core
    if vm.vcpus > threads:
        what = "cores" if spec.hardware.threads_per_core == 1 else "hardware threads"
        return Fit(refusal=f"has {threads} {what}, the VM {vm.vcpus} vCPUs")
    if vm.sockets is not None:
        sockets = spec.hardware.sockets
        if vm.sockets > sockets or vm.vcpus > vm.sockets * (threads // sockets):
            return Fit(refusal=f"has {sockets} socket{'' if sockets == 1 else 's'} of {threads // sockets} hardware "
                               f"threads, the VM {vm.vcpus} vCPUs pinned to {vm.sockets}")
    overhead = vmm_overhead_bytes(spec.hypervisor, vm.vcpus, vm.memory) if spec.hypervisor is not None else 0.0
    return Fit(float(vm.vcpus), vm.memory + overhead)


def _container_fit(ctr: PoolContainerInput, spec: s.HostSpec, ctx: Context) -> Fit:
    if spec.hypervisor is not None and spec.engine is None:
        return Fit(refusal="runs a hypervisor and no container engine")
    scratch = Context(ctx.base_dir)
    check_modes([ctr], [0], spec.engine, ("c",), scratch)
    if scratch.problems:
        return Fit(refusal=scratch.problems[0].message)
    threads = spec.hardware.cores * spec.hardware.threads_per_core
    if ctr.cpus is not None and ctr.cpus > threads:
        what = "cores" if spec.hardware.threads_per_core == 1 else "hardware threads"
        return Fit(refusal=f"has {threads} {what}, the container's limit is {ctr.cpus:g}")
    requests = ctr.requests
    cpu = requests.cpu if requests is not None and requests.cpu is not None else (ctr.cpus or 0.0)
    memory = requests.memory if requests is not None and requests.memory is not None else (ctr.memory or 0.0)
    shim = sandbox_bytes(spec.engine) if spec.engine is not None else 0.0  # Kubernetes' pod overhead
    return Fit(float(cpu), float(memory) + shim)


def _check_names(pool: PlacementInput, hosts, ctx: Context) -> None:
    """Pool names must be unique and differ from every host and listed VM or container name."""
    taken = {host.name for _, host, _, _ in hosts}
    taken |= {item.name for _, host, _, _ in hosts for item in (*host.vms, *host.containers)}
    seen: set[str] = set()
    for key in ("vms", "containers"):
        for k, item in pool.copies(key):
            if item.name in seen:
                ctx.add(("placement", key, k, "name"), f"duplicate pool item name {item.name!r}")
            elif item.name in taken:
                ctx.add(("placement", key, k, "name"),
                        f"{item.name!r} is already a host, VM or container name; pool items are targeted by name, "
                        "so choose another")
            seen.add(item.name)
    names = {item.name for key in ("vms", "containers") for _, item in pool.copies(key)}
    for g, group in enumerate(pool.anti_affinity):
        for m, name in enumerate(group):
            if name not in names:
                ctx.add(("placement", "anti_affinity", g, m), unknown("pool item", name, names))


def place_pool(pool: PlacementInput, hosts, placed: list[PlacedHost], seed: int, ctx: Context) -> PoolOutcome:
    """Place the pool on the resolved ``placed`` hosts; returns ``hosts`` with the items appended."""
    _check_names(pool, hosts, ctx)
    specs = {p.spec.name: p.spec for p in placed}
    inputs = {host.name: host for _, host, _, _ in hosts}
    chosen = pool.hosts if pool.hosts is not None else [host.name for _, host, _, _ in hosts]
    for n, name in enumerate(chosen):
        if name not in inputs:
            ctx.add(("placement", "hosts", n), unknown("host", name, inputs))
    usable = [name for name in dict.fromkeys(chosen) if name in specs]

    pool_vms, pool_containers = pool.copies("vms"), pool.copies("containers")
    pool_containers += _pod_containers(pool, ctx)
    # Copies of one entry on copies of one host fit alike: work each pair out once.
    host_kind = {h: inputs[h].model_dump_json(exclude={"name", "vms", "containers"}) for h in usable}
    fits: dict[tuple, Fit] = {}
    items: list[Item] = []
    for k, vm in pool_vms:
        loc = ("placement", "vms", k)
        before = len(ctx.problems)
        resolve_profile("os", vm.os, (*loc, "os"), ctx)
        engine = resolve_profile("engines", vm.engine, (*loc, "engine"), ctx)
        check_modes(vm.containers, range(len(vm.containers)), engine, (*loc, "containers"), ctx)
        if len(ctx.problems) == before:
            items.append(Item(vm.name, "vm", {
                h: fits.get(key) or fits.setdefault(key, _vm_fit(vm, inputs[h], specs[h], loc, ctx))
                for h in usable if (key := ("vm", k, host_kind[h]))}))
    for k, ctr in pool_containers:
        items.append(Item(ctr.name, "container", {
            h: fits.get(key) or fits.setdefault(key, _container_fit(ctr, specs[h], ctx))
            for h in usable if (key := ("container", ctr.name if k is None else k, host_kind[h]))}))

    rooms = [_room(specs[h], pool) for h in usable]
    key = zlib.crc32(b"placement")
    rng = np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(key,)))
    where, left_out = place(items, rooms, pool.policy, scoring=pool.scoring, anti_affinity=pool.anti_affinity,
                            rng=rng)
    unplaced = tuple(s.UnplacedItem(name=item.name, kind=item.kind, reason=why) for item, why in left_out)
    outcome = PoolOutcome([], s.PlacementSpec(policy=pool.policy, placed=where, unplaced=unplaced,
                                              rooms=tuple(_host_room(room) for room in rooms),
                                              median_request=_median_request(items)))
    on_host: dict[str, tuple[list, list]] = {}
    for key, entries in ((0, pool_vms), (1, pool_containers)):
        for k, item in entries:
            if item.name in where:
                on_host.setdefault(where[item.name], ([], []))[key].append((k, item))
    for n, host, vm_indices, ctr_indices in hosts:
        vms, ctrs = on_host.get(host.name, ([], []))
        if not vms and not ctrs:
            outcome.hosts.append((n, host, vm_indices, ctr_indices))
            continue
        extra_vm = [len(host.vms) + m for m in range(len(vms))]
        extra_ctr = [len(host.containers) + m for m in range(len(ctrs))]
        outcome.rehome |= {("hosts", n, "vms", j): ("placement", "vms", k) for j, (k, _) in zip(extra_vm, vms)}
        outcome.rehome |= {("hosts", n, "containers", j):
                           ("placement", "containers", k) if k is not None else ("placement", "containers_from")
                           for j, (k, _) in zip(extra_ctr, ctrs)}
        plain = [i.ContainerInput.model_construct(**{f: getattr(c, f) for f in i.ContainerInput.model_fields})
                 for _, c in ctrs]
        ratio = max(host.memory_overcommit, pool.memory_overcommit)
        grown = host.model_copy(update={"vms": [*host.vms, *(vm for _, vm in vms)],
                                        "containers": [*host.containers, *plain], "memory_overcommit": ratio})
        outcome.hosts.append((n, grown, [*vm_indices, *extra_vm], [*ctr_indices, *extra_ctr]))
        outcome.paths |= {item.name: f"{host.name}/{item.name}" for _, item in (*vms, *ctrs)}
    return outcome


def _pod_containers(pool: PlacementInput, ctx: Context) -> list[tuple[None, PoolContainerInput]]:
    """One container per pod of ``containers_from``, with the pod's requests (index None: no file entry)."""
    source = pool.containers_from
    if source is None:
        return []
    path = ctx.file(source.path)
    if not path.is_file():
        ctx.add(("placement", "containers_from", "path"), f"file not found: {path}")
        return []
    shapes = ctx.read(("placement", "containers_from", "path"), pod_shapes, path, source.count, source.start,
                      shown=source.path)
    if shapes is None:
        return []
    return [(None, PoolContainerInput(name=f"pod-{k}", requests=RequestsInput(cpu=cores, memory=f"{nbytes:.0f} B")))
            for k, (_line, cores, nbytes) in enumerate(shapes, start=1)]


def _host_room(room: Room) -> s.HostRoom:
    return s.HostRoom(host=room.name, items=room.count, cpu_capacity_cores=room.cpu_capacity_cores,
                      cpu_committed_cores=room.cpu_used_cores, memory_capacity_bytes=room.memory_capacity_bytes,
                      memory_committed_bytes=room.memory_used_bytes)


def _median_request(items: list[Item]) -> tuple[float, float] | None:
    """The median item's (cores, bytes) on the first host it could go to."""
    asks = [next(iter(item.fits.values())) for item in items if item.fits]
    if not asks:
        return None
    return float(np.median([a.cpu_cores for a in asks])), float(np.median([a.memory_bytes for a in asks]))


def _room(spec: s.HostSpec, pool: PlacementInput) -> Room:
    """A host's room: what its own layers keep resident is not allocatable (Kubernetes' system-reserved);
    the VMs and containers the file lists on it count as already requested."""
    hw = spec.hardware
    committed = footprints(spec)
    name = spec.name
    items = [f"{name}/{vm.name}" for vm in spec.vms] + [f"{name}/{vm.name}.vmm" for vm in spec.vms]
    items += [f"{name}/{ctr.name}" for ctr in spec.containers]
    used_memory = sum(committed.get(path, 0.0) for path in items)
    reserved = committed[name] - used_memory
    cpu_used = sum(vm.vcpus for vm in spec.vms) + sum(c.cpus or 0.0 for c in spec.containers)
    # CPUs as a scheduler counts them: hardware threads (the cores, without SMT).
    return Room(name, hw.cores * hw.threads_per_core * pool.cpu_overcommit,
                hw.memory_bytes * pool.memory_overcommit - reserved,
                float(cpu_used), used_memory, len(spec.vms) + len(spec.containers))
