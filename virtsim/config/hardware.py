"""Schemas of machines and their devices: ``models/hardware/`` and ``models/devices/``.

A hardware profile gives cores, core speed, memory, disks and NICs; a device
profile gives one disk or one NIC, used where an experiment's inline hardware
names none (``nvme-default``, ``nic-10gbe``). Quantities are SI floats once
validated (bytes, bytes per second); latencies stay in µs (``*_us``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..model.packets import MAX_MTU_BYTES, MIN_MTU_BYTES
from .fields import Name, Text, integer, number, quantity
from .power import PowerModel
from .provenance import SourcedProfile

__all__ = ["DEFAULT_DEVICES", "DEFAULT_SMT_SIBLING_FACTOR", "DeviceProfile", "DiskProfile", "HardwareProfile",
           "NicProfile", "Offload", "duplicate_names", "sockets_problem"]

DEFAULT_SMT_SIBLING_FACTOR = 0.3
"""Throughput a core's second hardware thread adds, as a fraction of a core, where a machine gives none.

An estimate: Intel's Hyper-Threading paper (D. Marr et al., "Hyper-Threading Technology Architecture and
Microarchitecture", Intel Technology Journal 6(1), 2002) reports up to 30% more throughput on server
benchmarks with the second thread; taken as the typical gain. Used only with threads_per_core > 1."""

SOCKETS = ("Processor sockets (NUMA nodes), sharing 'cores' equally; default 1. Memory-intensive work whose "
           "memory is on another socket pays remote_memory_factor.")
THREADS_PER_CORE = ("Hardware threads per core (SMT, Hyper-Threading); default 1, no SMT. A VM may have as many "
                    "vCPUs as the host has hardware threads.")
SMT_SIBLING_FACTOR = ("Throughput a core's further hardware threads add, each as a fraction of a core, 0 to 1: "
                      "busy threads up to the number of cores each get a core, each one beyond adds this much. "
                      f"Default {DEFAULT_SMT_SIBLING_FACTOR} (an estimate: up to 30% more throughput with "
                      "Hyper-Threading, Marr et al., Intel Technology Journal 6(1), 2002). Only used with "
                      "threads_per_core > 1.")
REMOTE_MEMORY_FACTOR = ("Slowdown of memory-intensive work (demand.mem_fraction) whose memory is on another "
                        "socket, ≥ 1; default 1 (no NUMA effect). A job or VM spanning s sockets with interleaved "
                        "memory makes (s-1)/s of its accesses remote.")


def sockets_problem(cores: int, sockets: int) -> str | None:
    """Why ``cores`` cannot be split over ``sockets``; None when they can."""
    if sockets > cores or cores % sockets:
        return f"{sockets} sockets cannot share {cores} cores equally; give a divisor of cores"
    return None


DEFAULT_DEVICES = {"disks": "nvme-default", "nics": "nic-10gbe"}
"""Device profiles given to hardware that names no disk / no NIC."""


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DiskProfile(_Entry):
    """A disk; reads and writes may differ."""

    name: Name = Field(description="Disk name, unique within the host.")
    kind: Literal["nvme", "ssd", "hdd", "san"] = Field(description="Device class.")
    iops: number(gt=0) = Field(description="Random 4 kB read operations per second.")
    write_iops: number(gt=0) | None = Field(default=None, description="Random 4 kB writes per second (default: iops).")
    bandwidth: quantity("bandwidth", gt=0) = Field(description="Sequential read bandwidth, e.g. '3 GB/s'.")
    write_bandwidth: quantity("bandwidth", gt=0) | None = Field(
        default=None, description="Sequential write bandwidth (default: bandwidth).")
    latency_us: number(gt=0) = Field(description="Service latency of one random 4 kB read, µs.")
    write_latency_us: number(gt=0) | None = Field(
        default=None, description="Service latency of one random 4 kB write, µs (default: latency_us).")
    request_bandwidth: quantity("bandwidth", gt=0) | None = Field(
        default=None, description="The most one request (one outstanding I/O) can transfer per second, when it "
                                  "is less than the device's bandwidth (a deep pipeline needs several requests "
                                  "in flight); default: the device's bandwidth.")


class Offload(_Entry):
    """Segmentation offloads: the stack handles up to 64 KiB as one packet, the wire still carries MTU-sized ones."""

    tso: bool = Field(default=True, description="TCP segmentation offload on send (default on, as Linux NICs ship).")
    gro: bool = Field(default=True, description="Generic receive offload (default on, as Linux NICs ship).")


class NicProfile(_Entry):
    """A network interface."""

    name: Name = Field(description="Interface name, unique within the host.")
    bandwidth: quantity("bandwidth", gt=0) = Field(description="Line rate, e.g. '25 Gbit/s'.")
    latency_us: number(gt=0) = Field(
        description="One-way latency of a small message outside this host's CPU (wire, switch, the peer), µs.")
    mtu_bytes: integer(ge=MIN_MTU_BYTES, le=MAX_MTU_BYTES) = Field(
        default=1500, description="Largest IP packet, bytes (default 1500, Ethernet's); TCP carries MTU − 52 bytes "
                                  "of payload per segment.")
    offload: Offload = Field(default_factory=Offload, description="TSO and GRO (default: both on).")


def duplicate_names(items) -> list[str]:
    """Names that occur more than once among ``items``, in order of first repeat."""
    seen: set[str] = set()
    repeated: list[str] = []
    for item in items:
        if item.name in seen and item.name not in repeated:
            repeated.append(item.name)
        seen.add(item.name)
    return repeated


class HardwareProfile(SourcedProfile):
    """A catalog hardware profile (``models/hardware/<name>.yaml``).

    ``source`` maps every number to where it comes from: ``cores``,
    ``core_speed``, ``memory``, ``disks.<name>.<key>`` / ``nics.<name>.<key>``
    for each number of a disk or NIC, and ``power.idle_w`` / ``power.max_w`` or
    ``power.watts`` (the whole table) for a power model.
    """

    name: Name = Field(description="Profile name; equals the file name without '.yaml'.")
    description: Text = Field(exclude=True, description="What machine this is.")
    cores: integer(ge=1) = Field(description="Physical cores, on all sockets together.")
    core_speed: number(gt=0) = Field(description="Speed of one core relative to the reference core (1.0).")
    sockets: integer(ge=1) = Field(default=1, description=SOCKETS)
    threads_per_core: integer(ge=1) = Field(default=1, description=THREADS_PER_CORE)
    smt_sibling_factor: number(ge=0, le=1) = Field(default=DEFAULT_SMT_SIBLING_FACTOR, description=SMT_SIBLING_FACTOR)
    remote_memory_factor: number(ge=1) = Field(default=1.0, description=REMOTE_MEMORY_FACTOR)
    memory: quantity("size", gt=0) = Field(description="Installed memory, e.g. '256 GiB'.")
    disks: list[DiskProfile] = Field(default_factory=list, description="Local disks.")
    nics: list[NicProfile] = Field(default_factory=list, description="Network interfaces.")
    power: PowerModel | None = Field(
        default=None, description="Power model (linear or a SPECpower-style table); none: energy is not reported.")
    source: dict[str, Text] = Field(exclude=True, description="A source for every number, keyed by its dotted path.")

    @model_validator(mode="after")
    def _unique_devices(self) -> HardwareProfile:
        for key in ("disks", "nics"):
            if repeated := duplicate_names(getattr(self, key)):
                raise ValueError(f"{key}: duplicate name {', '.join(map(repr, repeated))}")
        if problem := sockets_problem(self.cores, self.sockets):
            raise ValueError(f"sockets: {problem}")
        return self


class DeviceProfile(SourcedProfile):
    """A single disk or NIC (``models/devices/<name>.yaml``); sources are keyed ``disk.iops``, ``nic.latency_us``."""

    name: Name = Field(description="Profile name; equals the file name without '.yaml'.")
    description: Text = Field(exclude=True, description="What device this is.")
    disk: DiskProfile | None = Field(default=None, description="The disk, if this profile is a disk.")
    nic: NicProfile | None = Field(default=None, description="The NIC, if this profile is a NIC.")
    source: dict[str, Text] = Field(exclude=True, description="A source for every number, keyed by its dotted path.")

    @model_validator(mode="before")
    @classmethod
    def _one_device(cls, data):
        if isinstance(data, dict) and (data.get("disk") is None) == (data.get("nic") is None):
            raise ValueError("give exactly one of 'disk' or 'nic'")
        return data
