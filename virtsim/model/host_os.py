"""The OS a Type 2 hypervisor runs on: one layer with its own load, memory and boot.

A Type 2 (hosted) hypervisor is an application of an OS: the host's
``host_os``, or the guest OS of a VM that runs one for its nested VMs. That
OS and its desktop apps (its profile's ``host_apps``) keep a steady CPU load
beside the VMs, in a layer consumer ``<where>/host-os``, and their memory
resident there (on the host, or in the VM's RAM). It is a failure domain for
every VM on it: its load ends with what it runs in (the host's hardware or
host OS, or whatever takes the VM down) and starts again when that is back.
Whether a stack has one is decided here only; the other layers ask
:func:`host_os_of` and :func:`vm_host_os`. Pure data on resolved specs.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CONSUMER_NAME", "HOSTED", "HostOS", "host_os_of", "runs_on_an_os", "vm_host_os"]

HOSTED = 2
"""A hypervisor profile's ``type`` when it runs on an OS (1: on the bare metal)."""

CONSUMER_NAME = "host-os"
"""Name of the layer consumer of its own load, beside the VMs it hosts."""


def runs_on_an_os(hypervisor) -> bool:
    """Whether ``hypervisor`` (a profile, or None) is hosted, so needs an OS under it."""
    return hypervisor is not None and hypervisor.type == HOSTED


@dataclass(frozen=True)
class HostOS:
    """The OS under a Type 2 hypervisor, as a layer of the stack."""

    where: str
    """What it runs in, and goes down with: the host's name, or the path of the VM whose guest OS it is."""
    os: object
    """Its ``OSProfile``."""
    hypervisor: object
    """The Type 2 hypervisor profile it runs."""

    @property
    def path(self) -> str:
        """The layer consumer of its own load and memory, beside the VMs: ``<where>/host-os``."""
        return f"{self.where}/{CONSUMER_NAME}"

    @property
    def apps_cpu_cores(self) -> float:
        """Steady CPU of the OS and its desktop apps, cores (reference-core work per second per core)."""
        return self.os.host_apps.cpu

    @property
    def apps_memory_bytes(self) -> float:
        """Memory its desktop apps keep resident beside the VMs, bytes (its own resident set aside)."""
        return self.os.host_apps.memory

    @property
    def boot(self):
        """Its ``Boot`` costs (CPU work, disk read, fixed delays): a VM hosting it boots it in its start-up
        chain before its apps start; a host's own reboot is part of its failures' repair time."""
        return self.os.boot


def host_os_of(host) -> HostOS | None:
    """The host's OS if it runs a Type 2 hypervisor; None under a Type 1 one, on a native or engine-only host."""
    if runs_on_an_os(host.hypervisor) and host.host_os is not None:
        return HostOS(host.name, host.host_os, host.hypervisor)
    return None


def vm_host_os(path: str, vm) -> HostOS | None:
    """The guest OS of the VM at ``path`` if it runs a Type 2 hypervisor for nested VMs; else None."""
    if runs_on_an_os(vm.hypervisor) and vm.os is not None:
        return HostOS(path, vm.os, vm.hypervisor)
    return None
