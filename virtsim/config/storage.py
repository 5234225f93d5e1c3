"""Remote disks: a VM's image or a container's volume on a storage host, checked against the hosts and network.

Each target of a ``storage: {remote: ...}`` must be a host of the experiment and one of its disks (a bare host
name is its first); a remote disk needs a ``network`` section, with the requester's host and every storage host
attached to it. Problems are located at the target (``hosts[0].vms[1].storage.remote[2]``) with suggestions.
"""

from __future__ import annotations

from ..wording import closest, listing
from .checks import PlacedHost
from .resolution import Context

__all__ = ["check_remote_storage"]


def check_remote_storage(placed: list[PlacedHost], network, has_network_section: bool, ctx: Context) -> None:
    """Report the remote disks that name an unknown host or disk, or that the network cannot reach."""
    by_name = {host.spec.name: host.spec for host in placed}
    attached = {h.name for h in network.hosts} if network is not None else set()
    for host in placed:
        for loc, remote in _remotes(host):
            if not has_network_section:
                ctx.add(loc, "a remote disk is reached over the network: add a 'network' section with this host "
                             "and its storage hosts attached (README: A network of hosts), or leave 'remote' out "
                             "for the host's local disk")
                continue
            if network is None:
                continue  # the network section has problems of its own
            if host.spec.name not in attached:
                ctx.add(loc, f"host {host.spec.name!r} is not attached to the network, so its disk operations "
                             f"cannot reach a remote disk; attached hosts: {listing(sorted(attached)) or 'none'}")
            for k, (name, disk) in enumerate(remote.targets):
                where = (*loc, k) if len(remote.targets) > 1 else loc
                target = by_name.get(name)
                if target is None:
                    match = closest(name, by_name)
                    hint = f" (did you mean {match!r}?)" if match else ""
                    ctx.add(where, f"unknown storage host {name!r}{hint}; the experiment's hosts: "
                                   f"{listing(sorted(by_name))}; write 'HOST/DISK'")
                    continue
                disks = [d.name for d in target.hardware.disks]
                if disk and disk not in disks:
                    match = closest(disk, disks)
                    hint = f" (did you mean '{name}/{match}'?)" if match else ""
                    ctx.add(where, f"host {name!r} has no disk {disk!r}{hint}; its disks: {listing(disks)}")
                if name not in attached:
                    ctx.add(where, f"storage host {name!r} is not attached to the network; attached hosts: "
                                   f"{listing(sorted(attached)) or 'none'}")


def _remotes(host: PlacedHost):
    """(location of its 'remote' key, RemoteStorageSpec) of every VM (nested ones too) and container of a host."""
    base = ("hosts", host.index)

    def vms(items, loc):
        for j, vm in items:
            here = (*loc, "vms", j)
            if vm.remote_storage is not None:
                yield (*here, "storage", "remote"), vm.remote_storage
            yield from containers(enumerate(vm.containers), here)
            yield from vms(enumerate(vm.vms), here)

    def containers(items, loc):
        for k, ctr in items:
            if ctr.remote_storage is not None:
                yield (*loc, "containers", k, "storage", "remote"), ctr.remote_storage

    yield from vms(zip(host.vm_indices, host.spec.vms, strict=True), base)
    yield from containers(zip(host.container_indices, host.spec.containers, strict=True), base)
