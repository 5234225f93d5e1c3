"""The resolved experiment: plain, frozen data in SI units, ready to simulate.

Everything here has been validated and cross-checked: catalog profiles are
expanded, quantities are floats in seconds/bytes/per second (the unit is in
each field name), relative paths are absolute, and data files are parsed.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, SerializeAsAny, WrapValidator, model_serializer

from .fields import RESOLVED
from .hardware import DEFAULT_SMT_SIBLING_FACTOR
from .load_spec import LoadSpec
from .consolidation import ConsolidationSpec
from .migration import MigrationSpec
from .network import NetworkSpec
from .power import EnergyInput, PowerModel
from .profiles import NETWORK_MODES, STORAGE_MODES
from .profiles import EngineProfile as _Engine
from .profiles import HypervisorProfile as _Hypervisor
from .profiles import OSProfile as _OS
from .spec_base import FrozenSpec as _Spec
from .spec_base import without_absent as _without_absent
from .workload_registry import workload_kind
from .workload_spec import (
    AutoscaleSpec,
    ConstantDist,
    CurveArrivals,
    DemandSpec,
    DiskDemand,
    DistributionSpec,
    EmpiricalDist,
    ExponentialDist,
    FileArrivals,
    LognormalDist,
    NetDemand,
    OnOffArrivals,
    PoissonArrivals,
    SoftwareResourceSpec,
    WorkloadSpec,
)

__all__ = [
    "AutoscaleSpec",
    "ComparedWorkload",
    "ComparisonSpec",
    "ConstantDist",
    "ContainerSpec",
    "CurveArrivals",
    "DemandSpec",
    "DiskDemand",
    "DiskSpec",
    "DistributionSpec",
    "EmpiricalDist",
    "ExperimentSpec",
    "ExponentialDist",
    "FailureSpec",
    "FileArrivals",
    "HardwareSpec",
    "HostSpec",
    "LognormalDist",
    "NetDemand",
    "NetworkSpec",
    "NicSpec",
    "PlacementSpec",
    "OnOffArrivals",
    "PoissonArrivals",
    "UnplacedItem",
    "VMSpec",
    "WorkloadSpec",
]


def _from_dump(model: type[BaseModel]):
    """A validated catalog profile kept as it is, or read back from its dump (SI numbers, no texts)."""

    def load(value, handler):
        if isinstance(value, model):
            return value  # validated (with its overrides) when it was resolved
        if isinstance(value, dict):
            return model.model_validate(value, context={RESOLVED: True})
        return handler(value)

    return WrapValidator(load)


HypervisorProfile = Annotated[_Hypervisor, _from_dump(_Hypervisor)]
OSProfile = Annotated[_OS, _from_dump(_OS)]
EngineProfile = Annotated[_Engine, _from_dump(_Engine)]


def _workload_of_its_type(value: Any) -> Any:
    """A workload read back from its dump is of its type's class (``workload_registry``)."""
    if isinstance(value, dict):
        return workload_kind(value.get("type")).spec.model_validate(value)
    return value


AnyWorkload = Annotated[SerializeAsAny[WorkloadSpec], BeforeValidator(_workload_of_its_type)]
"""A workload of any registered type, dumped with its own fields."""


class RemoteStorageSpec(_Spec):
    """A disk on another host (or a replicated target over several), which a VM's or container's disk operations
    cross the network to. A live migration of its VM moves only memory."""

    targets: tuple[tuple[str, str], ...] = Field(
        description="(storage host, disk name) per replica, in the order written; a read goes to the first. "
                    "An empty disk name: the host's first disk.")
    write: Literal["all", "quorum"] = Field(
        default="all", description="A write is done when all replicas are, or ('quorum') a majority.")


class ContainerSpec(_Spec):
    """A container (cgroup)."""

    name: str
    cpus: float | None = Field(default=None, description="CPU cap in cores; None for no cap.")
    cpu_weight: int = Field(default=100, description="cgroup v2 cpu.weight (1 to 10000).")
    cpu_quota_period_s: float | None = Field(
        default=None, description="CFS bandwidth period (s): cpus is a quota per period; None: a fluid cap.")
    memory_bytes: int | None = Field(default=None, description="Memory limit in bytes; None for no limit.")
    network: Literal[NETWORK_MODES] = Field(default="bridge", description="Network mode in its engine.")
    storage: Literal[STORAGE_MODES] = Field(default="overlay", description="Storage mode in its engine.")
    remote_storage: RemoteStorageSpec | None = Field(
        default=None, description="Its volume on another host; None: the host's first local disk.")
    restart: Literal["on-failure", "never"] = Field(
        default="on-failure", description="Whether it starts again after a failure that took it down.")

    @model_serializer(mode="wrap")
    def _omit_quota(self, handler):
        return _without_absent(handler(self), none=("cpu_quota_period_s", "remote_storage"))


class VMSpec(_Spec):
    """A virtual machine."""

    name: str
    vcpus: int = Field(description="Virtual CPUs.")
    sockets: int | None = Field(
        default=None, description="Host sockets it is pinned to; None: the fewest that hold its vCPUs.")
    memory_bytes: int = Field(description="Guest memory in bytes.")
    active_memory_bytes: int | None = Field(default=None, description="Memory in active use; None: all of it.")
    dirty_rate_bytes_per_s: float = Field(default=0.0, description="Bytes the guest dirties per second "
                                                                   "(a live migration's pre-copy).")
    writable_working_set_bytes: int | None = Field(
        default=None, description="The guest's writable working set; None: all its memory.")
    shares: float = Field(default=1000.0, description="Proportional-share weight (dimensionless).")
    cap_cores: float | None = Field(default=None, description="CPU limit in cores; None for no limit.")
    reservation_cores: float = Field(default=0.0, description="Guaranteed CPU in cores.")
    os: OSProfile | None = Field(default=None, description="Guest OS; None for a VM on a host without hypervisor.")
    engine: EngineProfile | None = Field(
        default=None, description="Container engine in the guest; None: containers are plain cgroups.")
    containers: tuple[ContainerSpec, ...] = ()
    restart: Literal["on-failure", "never"] = Field(
        default="on-failure", description="Whether it boots again after a failure that took it down.")
    hypervisor: HypervisorProfile | None = Field(
        default=None, description="Hypervisor run in the guest for nested VMs; None: none.")
    vms: tuple[VMSpec, ...] = Field(default=(), description="VMs nested in this one, under its hypervisor.")
    remote_storage: RemoteStorageSpec | None = Field(
        default=None, description="Its image on another host (a migration then moves only memory); None: the "
                                  "host's first local disk.")

    @model_serializer(mode="wrap")
    def _omit_nesting(self, handler):
        out = _without_absent(handler(self),
                              none=("hypervisor", "sockets", "writable_working_set_bytes", "remote_storage"),
                              empty=("vms",))
        if not out.get("dirty_rate_bytes_per_s", 1):
            del out["dirty_rate_bytes_per_s"]  # the default: dumps as before
        return out


class DiskSpec(_Spec):
    """A disk; write figures equal the read ones when a profile gives none."""

    name: str
    kind: Literal["nvme", "ssd", "hdd", "san"]
    iops: float = Field(description="Random 4 kB reads per second.")
    write_iops: float = Field(description="Random 4 kB writes per second.")
    bandwidth_bytes_per_s: float = Field(description="Sequential read bandwidth, bytes per second.")
    write_bandwidth_bytes_per_s: float = Field(description="Sequential write bandwidth, bytes per second.")
    latency_s: float = Field(description="Service time of one random 4 kB read, seconds.")
    write_latency_s: float = Field(description="Service time of one random 4 kB write, seconds.")
    request_bandwidth_bytes_per_s: float | None = Field(
        default=None, description="Most bytes per second one request can move; None: the device's bandwidth.")


class NicSpec(_Spec):
    """A network interface."""

    name: str
    bandwidth_bytes_per_s: float = Field(description="Line rate, bytes per second.")
    latency_s: float = Field(description="One-way time of a small message outside the host's CPU, seconds.")
    mtu_bytes: int = Field(default=1500, description="Largest IP packet, bytes.")
    tso: bool = Field(default=True, description="TCP segmentation offload on send.")
    gro: bool = Field(default=True, description="Generic receive offload.")


class HardwareSpec(_Spec):
    """A physical machine's capacity."""

    name: str | None = Field(default=None, description="Catalog profile or label, if any.")
    cores: int = Field(description="Physical cores, on all sockets together.")
    core_speed: float = Field(default=1.0, description="Speed of one core relative to the reference core.")
    sockets: int = Field(default=1, description="Processor sockets (NUMA nodes), sharing the cores equally.")
    threads_per_core: int = Field(default=1, description="Hardware threads per core (SMT).")
    smt_sibling_factor: float = Field(
        default=DEFAULT_SMT_SIBLING_FACTOR, description="Throughput each further thread of a core adds, in cores.")
    remote_memory_factor: float = Field(
        default=1.0, description="Slowdown of memory-intensive work on another socket's memory.")
    memory_bytes: int = Field(description="Installed memory in bytes.")
    disks: tuple[DiskSpec, ...] = Field(default=(), description="Local disks (at least one once resolved).")
    nics: tuple[NicSpec, ...] = Field(default=(), description="Network interfaces (at least one once resolved).")
    power: PowerModel | None = Field(default=None, description="Power model (watts); None: no energy reported.")
    cost_per_hour: float | None = Field(
        default=None, description="Cost of one powered-on hour; None: the experiment's cost_per_host_hour.")

    @model_serializer(mode="wrap")
    def _omit_absent_options(self, handler):
        data = _without_absent(handler(self), none=("power", "cost_per_hour"))
        # The topology at its defaults is left out too: manifests and config hashes stay as they were.
        for key, default in (("sockets", 1), ("threads_per_core", 1), ("remote_memory_factor", 1.0)):
            if data.get(key) == default:
                del data[key]
        if data.get("threads_per_core", 1) == 1:
            data.pop("smt_sibling_factor", None)
        return data


class HostSpec(_Spec):
    """A physical host and what runs on it."""

    name: str
    hardware: HardwareSpec
    hypervisor: HypervisorProfile | None = Field(default=None, description="None: VMs (if any) as plain cgroups.")
    host_os: OSProfile | None = Field(default=None, description="Host OS (Type 2 hypervisor or host engine).")
    engine: EngineProfile | None = Field(
        default=None, description="Engine of the host's own containers; None: plain cgroups on the host kernel.")
    vms: tuple[VMSpec, ...] = ()
    containers: tuple[ContainerSpec, ...] = Field(default=(), description="Containers run on the host itself.")
    memory_overcommit: float = Field(default=1.0, description="Most committed memory per byte of physical memory.")


class FailureSpec(_Spec):
    """Failures of one layer of one domain, with their repair times."""

    domain: str = Field(description="Path of the host, VM or container.")
    layer: Literal["hardware", "host-os", "hypervisor", "engine", "guest-os", "container"]
    time_to_failure: DistributionSpec | None = Field(
        default=None, description="Time from the start or a repair to the next failure, seconds; None: ``at_s``.")
    at_s: tuple[float, ...] = Field(default=(), description="Scheduled failure times, seconds.")
    time_to_repair: DistributionSpec = Field(description="Time from a failure until the layer is back, seconds.")


class UnplacedItem(_Spec):
    """A pool item the placement could not put anywhere, or a workload aimed at one."""

    name: str
    kind: Literal["vm", "container", "workload", "failure"]
    reason: str = Field(description="Why, host by host.")


class HostRoom(_Spec):
    """One host the pool could use, after placement: its capacities and what is committed on it."""

    host: str
    items: int = Field(description="VMs and containers on it, the file's own included.")
    cpu_capacity_cores: float = Field(description="Hardware threads (cores × threads per core) × CPU overcommit.")
    cpu_committed_cores: float
    memory_capacity_bytes: float = Field(description="Memory × overcommit, less what its own layers keep resident.")
    memory_committed_bytes: float


class PlacementSpec(_Spec):
    """The outcome of placement: each placed item's host, and the items left out with why."""

    policy: str
    placed: dict[str, str] = Field(default_factory=dict, description="Pool item name → host name, in pool order.")
    unplaced: tuple[UnplacedItem, ...] = ()
    rooms: tuple[HostRoom, ...] = Field(default=(), description="The hosts the pool could use, after placement.")
    median_request: tuple[float, float] | None = Field(
        default=None, description="The median pool item's (cores, bytes): what fragmentation is measured against.")


class ComparedWorkload(_Spec):
    """One workload as it runs on several stacks (hosts), drawing the same random streams on each."""

    name: str = Field(description="What the members have in common, e.g. 'web' for web-kvm and web-native.")
    members: tuple[tuple[str, str], ...] = Field(description="(host, workload name) per stack, in host order.")


class ComparisonSpec(_Spec):
    """Hosts compared as stacks: which workloads are paired, against which baseline, on which metrics."""

    baseline: str = Field(description="The host the other stacks are compared with.")
    metrics: tuple[str, ...]
    level: float = 0.95
    workloads: tuple[ComparedWorkload, ...] = ()


class ExperimentSpec(_Spec):
    """A fully resolved experiment."""

    name: str
    description: str | None = None
    seed: int = Field(default=0, description="Root random seed.")
    duration_s: float | None = Field(description="Simulated time in seconds; None to stop on job count only.")
    warmup_s: float = Field(default=0.0, description="Warm-up in seconds; jobs arriving earlier are not counted.")
    stop_after_jobs: int | None = Field(default=None, description="Stop at the N-th completed job.")
    cold_start: bool = Field(default=True, description="Boot VMs and start containers at time 0.")
    sample_interval_s: float | None = Field(
        default=None, description="Length of a time-series interval in seconds; None: no time series.")
    hosts: tuple[HostSpec, ...]
    workloads: tuple[AnyWorkload, ...]
    failures: tuple[FailureSpec, ...] = ()
    placement: PlacementSpec | None = Field(
        default=None, description="Where the placement policy put each pool item, and what it could not place.")
    network: NetworkSpec | None = Field(
        default=None, description="The switches, host attachments and links between the hosts; None: no network.")
    migration: MigrationSpec | None = Field(
        default=None, description="The live-migration model and the VMs moved; None: no migrations.")
    consolidation: ConsolidationSpec | None = Field(
        default=None, description="The consolidation controller's settings; None: nothing is consolidated.")
    energy: EnergyInput | None = Field(default=None, description="Switching empty hosts off; cost of a host-hour.")
    software_resources: tuple[SoftwareResourceSpec, ...] = Field(
        default=(), description="Locks, pools and commit paths requests hold for part of their work.")
    loads: tuple[LoadSpec, ...] = Field(
        default=(), description="Consumers whose demand follows utilization traces or pod records.")
    comparison: ComparisonSpec | None = Field(
        default=None, description="With 'compare': the stacks compared and the workloads paired across them.")
    source: str = Field(default="<dict>", description="The experiment file, or '<dict>'.")

    @model_serializer(mode="wrap")
    def _omit_absent_options(self, handler):
        return _without_absent(handler(self), none=("sample_interval_s", "placement", "network", "energy", "comparison",
                                                          "migration", "consolidation"),
                               empty=("loads", "software_resources"))
