"""The VMs of a host as a tree: a VM may run a hypervisor of its own, with VMs inside it.

An L1 VM runs on the host; a VM with a ``hypervisor`` runs L2 VMs inside its
own vCPUs and memory, and so on down. Everything that walks a host's VMs
walks them here, parents before children, so that nested VMs are addressed,
built, booted and failed by the same rule as their parents. Paths join names
with '/': ``h1/a`` (VM a on h1), ``h1/a/b`` (VM b in VM a), ``h1/a/b/web``
(container web in b). Pure data: nothing here knows SimPy.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["NestedVM", "descendants", "walk_vms"]


@dataclass(frozen=True)
class NestedVM:
    """One VM of a host's tree, with what it runs under."""

    path: str
    """``host/vm`` for an L1 VM, ``host/l1/l2`` for a VM nested in ``l1``."""
    vm: object
    """Its ``VMSpec``."""
    parent_path: str
    """The host's name for an L1 VM, else the path of the VM it runs in."""
    parent_vm: object | None
    """The ``VMSpec`` it runs in; None for an L1 VM."""
    hypervisor: object | None
    """The hypervisor it runs under: the host's for an L1 VM, its parent VM's for a nested one."""
    level: int
    """1 for a VM on the host, 2 for a VM in it, …"""


def walk_vms(host) -> Iterator[NestedVM]:
    """Every VM of ``host`` at every level, depth first, each before the VMs it runs."""
    stack = [(host.name, None, host.hypervisor, 1, vm) for vm in reversed(host.vms)]
    while stack:
        parent_path, parent_vm, hypervisor, level, vm = stack.pop()
        path = f"{parent_path}/{vm.name}"
        yield NestedVM(path, vm, parent_path, parent_vm, hypervisor, level)
        stack.extend((path, vm, vm.hypervisor, level + 1, child) for child in reversed(vm.vms))


def descendants(path: str, paths) -> list[str]:
    """The paths in ``paths`` below ``path`` (names hold no '/', so a prefix is exact), in their order."""
    prefix = f"{path}/"
    return [p for p in paths if p.startswith(prefix)]
