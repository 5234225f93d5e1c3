"""Live migration: the ``migration`` section (the model and QEMU's parameters) and the ``migrations`` schedule.

``migration`` says how a VM moves (``precopy``, ``postcopy`` or ``cloudsim``,
``virtsim.model.migration``); ``migrations`` says which VMs move, where and
when: one VM (``{vm: h1/a, to: h2, at: 100 s}``) or every VM of a host
(``{drain: h1, to: [h2, h3], at: 100 s}``: one after another, each to the first
destination with memory room for it). Without ``migrations`` nothing moves and
every result is as before.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..model.host_os import runs_on_an_os
from ..model.memory import footprints
from ..model.migration import DEFAULT_BANDWIDTH_CAP_BYTES_PER_S, DEFAULT_DOWNTIME_LIMIT_S, DEFAULT_MAX_ROUNDS
from ..wording import unknown
from .fields import Name, Text, choice, integer, quantity
from .resolution import Context
from .spec_base import FrozenSpec

__all__ = ["MigrationEntryInput", "MigrationInput", "MigrationMove", "MigrationSpec", "resolve_migrations"]

MIGRATION_MODELS = ("precopy", "postcopy", "cloudsim")


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MigrationInput(_Input):
    """How a running VM moves between hosts: the model and the hypervisor's migration parameters."""

    model: choice(*MIGRATION_MODELS) = Field(
        default="precopy",
        description="'precopy' (default: QEMU/KVM's iterative rounds, then a stop-and-copy), 'postcopy' (stop, "
                    "resume on the destination, pull the memory after) or 'cloudsim' (CloudSim's RAM / (bandwidth "
                    "/ 2), the VM running on its source until it moves whole, no downtime).")
    bandwidth_cap: quantity("bandwidth", gt=0) = Field(
        default=float(DEFAULT_BANDWIDTH_CAP_BYTES_PER_S),
        description="The hypervisor's cap on a migration's rate (QEMU max-bandwidth); default QEMU's 128 MiB/s. "
                    "Not applied under 'cloudsim'.")
    downtime_limit: quantity("time", gt=0) = Field(
        default=DEFAULT_DOWNTIME_LIMIT_S,
        description="Pre-copy stops once what remains crosses within this time (QEMU downtime-limit); "
                    "default QEMU's 300 ms.")
    max_rounds: integer(ge=1) = Field(
        default=DEFAULT_MAX_ROUNDS,
        description="Pre-copy rounds at most, the first included; then the stop-and-copy is forced. Default 30, "
                    "an estimate (QEMU has no round limit).")


class MigrationEntryInput(_Input):
    """One scheduled migration: a VM to a host, or every VM of a host drained (host maintenance)."""

    vm: Text | None = Field(default=None, description="The VM that moves, 'host/vm'.")
    drain: Name | None = Field(
        default=None, description="Instead of one VM: the host whose VMs all move, one after another, in their "
                                  "order in the file.")
    to: Name | list[Name] = Field(
        description="The destination host; for a drain also a list, each VM going to the first with memory "
                    "room for it.")
    at: quantity("time", ge=0) = Field(description="When the migration (the first of a drain) starts.")
    reason: Name = Field(default="maintenance", description="Why, as the migrations table says it.")

    @model_validator(mode="after")
    def _one_source(self):
        if (self.vm is None) == (self.drain is None):
            raise ValueError("give exactly one of 'vm' or 'drain'")
        if self.vm is not None and isinstance(self.to, list):
            raise ValueError("a single VM's 'to' is one host")
        return self


class MigrationMove(FrozenSpec):
    """One VM's move: what the runtime starts, at ``at_s``, or right after the move before it (a drain)."""

    vm: str = Field(description="The VM's path, 'host/vm' (its name for the whole run).")
    source: str
    destination: str
    at_s: float = Field(description="Earliest start, seconds.")
    after_previous: bool = Field(
        default=False, description="Part of a drain: starts once the move before it in the list has ended.")
    reason: str = "maintenance"


class MigrationSpec(FrozenSpec):
    """The migration model and parameters, and the moves scheduled."""

    model: Literal[MIGRATION_MODELS] = "precopy"
    bandwidth_cap_bytes_per_s: float = float(DEFAULT_BANDWIDTH_CAP_BYTES_PER_S)
    downtime_limit_s: float = DEFAULT_DOWNTIME_LIMIT_S
    max_rounds: int = DEFAULT_MAX_ROUNDS
    moves: tuple[MigrationMove, ...] = ()


def _why_not_from(host, ctx_loc: tuple, ctx: Context, role: str) -> bool:
    """Whether ``host`` can take part in a live migration; the reason to ``ctx`` if not."""
    hv = host.hypervisor
    if hv is None:
        ctx.add(ctx_loc, f"{role} host {host.name!r} runs no hypervisor: its VMs are plain cgroups, which do not "
                         f"live-migrate")
        return False
    if runs_on_an_os(hv):
        ctx.add(ctx_loc, f"{role} host {host.name!r} runs the hosted (Type 2) hypervisor {hv.name!r}: the live "
                         f"migration model is QEMU/KVM's pre-copy (calibration type2-startup-migration.md §7.4), and "
                         f"for hosted hypervisors the calibration has no migration numbers (VirtualBox teleporting, "
                         f"§7.5, has its results not available, §8), so Type 2 hosts do not migrate VMs")
        return False
    if hv.io_backend == "root-partition":
        ctx.add(ctx_loc, f"{role} host {host.name!r} serves its VMs' I/O in a shared root partition "
                         f"({hv.name!r}): moving a VM out of it is not supported yet")
        return False
    return True


def _vm_bytes(host, vm_name: str) -> float:
    """What the VM commits on its host: its RAM and its VMM's overhead."""
    fp = footprints(host)
    path = f"{host.name}/{vm_name}"
    return fp.get(path, 0.0) + fp.get(f"{path}.vmm", 0.0)


def resolve_migrations(section: MigrationInput | None, entries: list[tuple[int, MigrationEntryInput]], hosts,
                       duration_s: float | None, ctx: Context) -> MigrationSpec | None:
    """The migration spec over the resolved hosts; None without scheduled migrations (nothing moves)."""
    if not entries:
        return None
    section = section or MigrationInput()
    by_name = {host.name: host for host in hosts}
    vms = {f"{h.name}/{vm.name}": (h, vm) for h in hosts for vm in h.vms}
    free = {h.name: h.hardware.memory_bytes * h.memory_overcommit - footprints(h)[h.name] for h in hosts}
    where = {path: h.name for path, (h, _) in vms.items()}
    moves: list[MigrationMove] = []
    for n, entry in sorted(entries, key=lambda e: e[1].at):
        loc = ("migrations", n)
        if duration_s is not None and entry.at >= duration_s:
            ctx.add((*loc, "at"), f"starts at {entry.at:g} s, not before the end of the run "
                                  f"(duration {duration_s:g} s)")
            continue
        targets = entry.to if isinstance(entry.to, list) else [entry.to]
        bad = [t for t in targets if t not in by_name]
        for k, t in enumerate(targets):
            if t in bad:
                sub = (*loc, "to", k) if isinstance(entry.to, list) else (*loc, "to")
                ctx.add(sub, unknown("host", t, by_name))
        if bad:
            continue
        if entry.vm is not None:
            if entry.vm not in vms:
                ctx.add((*loc, "vm"), unknown("VM", entry.vm, vms))
                continue
            paths = [entry.vm]
            source = by_name[where[entry.vm]]
            what = (*loc, "vm")
        else:
            if entry.drain not in by_name:
                ctx.add((*loc, "drain"), unknown("host", entry.drain, by_name))
                continue
            source = by_name[entry.drain]
            paths = [p for p, h in where.items() if h == source.name]
            what = (*loc, "drain")
            if not paths:
                ctx.add(what, f"host {source.name!r} runs no VM to drain")
                continue
        if source.name in targets:
            ctx.add((*loc, "to"), f"a VM of host {source.name!r} cannot migrate to the host it runs on; "
                                  f"give another host")
            continue
        ok = _why_not_from(source, what, ctx, "source")
        ok = all([_why_not_from(by_name[t], (*loc, "to"), ctx, "destination") for t in targets]) and ok
        if not ok:
            continue
        for k, path in enumerate(paths):
            host, vm = vms[path]
            if vm.containers or vm.vms:
                ctx.add(what, f"VM {path!r} runs {'containers' if vm.containers else 'nested VMs'}: migrating a VM "
                              f"with containers or nested VMs is not supported yet")
                continue
            need = _vm_bytes(host, vm.name)
            dest = next((t for t in targets if free[t] >= need), None)
            if dest is None:
                room = ", ".join(f"{t} {free[t] / 2**30:.2f} GiB" for t in targets)
                ctx.add((*loc, "to"), f"no destination has memory for VM {path!r} ({need / 2**30:.2f} GiB with its "
                                      f"VMM's overhead); free under memory_overcommit: {room}")
                continue
            dest_host = by_name[dest]
            if dest_host.hypervisor.name != source.hypervisor.name:
                ctx.add((*loc, "to"), f"host {dest!r} runs {dest_host.hypervisor.name!r} and {source.name!r} runs "
                                      f"{source.hypervisor.name!r}: a VM live-migrates between hosts of the same "
                                      f"hypervisor")
                continue
            if not dest_host.hardware.nics or not source.hardware.nics:
                ctx.add((*loc, "to"), f"a migration crosses the hosts' NICs, and host "
                                      f"{dest if not dest_host.hardware.nics else source.name!r} has none")
                continue
            free[dest] -= need
            free[source.name] += need
            where[path] = dest
            moves.append(MigrationMove(vm=path, source=source.name, destination=dest, at_s=entry.at,
                                       after_previous=k > 0, reason=entry.reason))
    return MigrationSpec(model=section.model, bandwidth_cap_bytes_per_s=section.bandwidth_cap,
                         downtime_limit_s=section.downtime_limit, max_rounds=section.max_rounds, moves=tuple(moves))
