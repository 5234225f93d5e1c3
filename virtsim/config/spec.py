"""The resolved experiment: plain, frozen data in SI units, ready to simulate.

Everything here has been validated and cross-checked: catalog profiles are
expanded, quantities are floats in seconds/bytes/per second (the unit is in
each field name), relative paths are absolute, and data files are parsed.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, WrapValidator, model_serializer
from pydantic.json_schema import SkipJsonSchema

from ..data.arrivals_file import ArrivalsTable
from .fields import RESOLVED
from .load_spec import LoadSpec
from .power import EnergyInput, PowerModel
from .profiles import NETWORK_MODES, STORAGE_MODES
from .profiles import EngineProfile as _Engine
from .profiles import HypervisorProfile as _Hypervisor
from .profiles import OSProfile as _OS

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
    "NicSpec",
    "PlacementSpec",
    "OnOffArrivals",
    "PoissonArrivals",
    "UnplacedItem",
    "VMSpec",
    "WorkloadSpec",
]


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _without_absent(data: dict, none: tuple[str, ...] = (), empty: tuple[str, ...] = ()) -> dict:
    """``data`` less the keys of ``none`` that hold None and those of ``empty`` that hold an empty sequence.

    An option left out is left out of the dump too, so manifests and config
    hashes of experiments that do not use it stay as they were.
    """
    for key in none:
        if key in data and data[key] is None:
            del data[key]
    for key in empty:
        if key in data and not data[key]:
            del data[key]
    return data


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


class ConstantDist(_Spec):
    """Every sample is ``value_s``."""

    type: Literal["constant"] = "constant"
    value_s: float = Field(description="The value, in seconds.")


class ExponentialDist(_Spec):
    """Exponential distribution with mean ``mean_s``."""

    type: Literal["exponential"] = "exponential"
    mean_s: float = Field(description="Mean, in seconds.")


class LognormalDist(_Spec):
    """Lognormal distribution with mean ``mean_s``; ``sigma`` is the σ of the underlying normal."""

    type: Literal["lognormal"] = "lognormal"
    mean_s: float = Field(description="Mean of the distribution, in seconds.")
    sigma: float = Field(description="Standard deviation of the underlying normal (dimensionless).")


class EmpiricalDist(_Spec):
    """Samples drawn uniformly from ``samples_s``."""

    type: Literal["empirical"] = "empirical"
    samples_s: tuple[float, ...] = Field(description="Observed values, in seconds.")
    path: str | None = Field(default=None, description="Absolute path of the file they came from, if any.")


DistributionSpec = Annotated[
    Union[ConstantDist, ExponentialDist, LognormalDist, EmpiricalDist], Field(discriminator="type")
]


class PoissonArrivals(_Spec):
    """Poisson arrival process."""

    type: Literal["poisson"] = "poisson"
    rate_per_s: float = Field(description="Mean arrival rate, per second.")


class FileArrivals(_Spec):
    """Arrivals replayed from a CSV file (already parsed into ``table``)."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    type: Literal["file"] = "file"
    path: str = Field(description="Absolute path of the CSV file.")
    sha256: str = Field(description="SHA-256 of the file's bytes, so a manifest pins its content.")
    rows: int = Field(description="Number of jobs in the file.")
    table: SkipJsonSchema[ArrivalsTable | None] = Field(
        default=None, exclude=True, repr=False, description="The parsed columns (not serialised)."
    )


class OnOffArrivals(_Spec):
    """Poisson at ``rate_per_s`` during on-periods, silent during off-periods; starts on."""

    type: Literal["onoff"] = "onoff"
    rate_per_s: float = Field(description="Arrival rate during an on-period, per second.")
    on_period: DistributionSpec = Field(description="Length of an on-period, seconds.")
    off_period: DistributionSpec = Field(description="Length of an off-period, seconds.")


class CurveArrivals(_Spec):
    """Poisson arrivals with a time-varying rate through the points ``(times_s[i], rates_per_s[i])``."""

    type: Literal["curve"] = "curve"
    times_s: tuple[float, ...] = Field(description="Point times, increasing from 0, seconds.")
    rates_per_s: tuple[float, ...] = Field(description="Rates at the points, per second.")
    interpolation: Literal["linear", "step"] = "linear"
    period_s: float | None = Field(default=None, description="Repeat period, seconds; None: the last rate holds.")


ArrivalsSpec = Annotated[Union[PoissonArrivals, FileArrivals, OnOffArrivals, CurveArrivals],
                         Field(discriminator="type")]


class DiskDemand(_Spec):
    """Disk operations of one request."""

    ops: float = Field(description="Operations per request (mean).")
    bytes: int = Field(description="Bytes per operation.")
    pattern: Literal["random", "sequential"]
    kind: Literal["read", "write"]


class NetDemand(_Spec):
    """Network transactions of one request (one message in, one out)."""

    transactions: float = Field(description="Transactions per request (mean).")
    bytes: int = Field(description="Bytes per transaction.")
    direction: Literal["send", "receive"] = Field(default="send", description="Which way the bytes flow.")


class DemandSpec(_Spec):
    """What each job asks for; operation counts are per request."""

    cpu: DistributionSpec | None = Field(
        description="CPU work per job in seconds at reference core speed; None when a file gives it."
    )
    threads: int = Field(default=1, description="Threads per job.")
    mem_fraction: float = Field(default=0.0, description="Memory-intensive fraction of the CPU work, 0 to 1.")
    syscalls: float = Field(default=0.0, description="System calls per request.")
    ctx_switches: float = Field(default=0.0, description="Context switches per request.")
    page_faults: float = Field(default=0.0, description="Page faults per request.")
    forks: float = Field(default=0.0, description="Process creations per request.")
    memory_bytes: float = Field(default=0.0, description="Memory resident per request while it runs, bytes.")
    disk: DiskDemand | None = Field(default=None, description="Disk operations per request; None for none.")
    net: NetDemand | None = Field(default=None, description="Network transactions per request; None for none.")


class AutoscaleSpec(_Spec):
    """Horizontal scaling of replicas on CPU utilization (Kubernetes HPA semantics)."""

    min_replicas: int = 1
    target_utilization: float
    period_s: float = 15.0
    tolerance: float = 0.1
    scale_down_delay_s: float = 300.0


class WorkloadSpec(_Spec):
    """A stream of jobs sent to a consumer."""

    name: str
    target: str | None = Field(
        description="'host', 'host/vm', 'host/vm/ctr' or 'host/ctr'; None when a file gives targets."
    )
    type: Literal["open", "closed", "batch"]
    arrivals: ArrivalsSpec | None = Field(default=None, description="Open workloads: the arrival process.")
    clients: int | None = Field(default=None, description="Closed workloads: number of clients.")
    think_time: DistributionSpec | None = Field(default=None, description="Closed workloads: think time, seconds.")
    jobs: int | None = Field(default=None, description="Batch workloads: jobs submitted at each of at_s.")
    at_s: tuple[float, ...] = Field(default=(), description="Batch workloads: submission times, seconds.")
    demand: DemandSpec | None = Field(default=None, description="Per-job demand.")
    replicas: tuple[str, ...] | None = Field(
        default=None, description="Targets that serve the workload together, in scale-up order; None: ``target``.")
    autoscale: AutoscaleSpec | None = None
    when_down: Literal["wait", "refuse"] = Field(
        default="wait", description="A job whose target is not serving waits for it, or fails at once.")
    random_streams: str | None = Field(
        default=None, description="Name of the random streams it draws from; None: its own name.")

    @property
    def streams(self) -> str:
        """The name its random streams are derived from."""
        return self.random_streams if self.random_streams is not None else self.name

    @property
    def target_paths(self) -> tuple[str, ...]:
        """Every target its jobs may go to: its target, its replicas, or the targets a jobs file names."""
        if self.replicas is not None:
            return self.replicas
        if self.target is not None:
            return (self.target,)
        table = getattr(self.arrivals, "table", None)
        return tuple(table.target_names) if table is not None else ()
    @model_serializer(mode="wrap")
    def _omit_batch_keys(self, handler):
        return _without_absent(handler(self), none=("jobs", "random_streams"), empty=("at_s",))


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
    restart: Literal["on-failure", "never"] = Field(
        default="on-failure", description="Whether it starts again after a failure that took it down.")

    @model_serializer(mode="wrap")
    def _omit_quota(self, handler):
        return _without_absent(handler(self), none=("cpu_quota_period_s",))


class VMSpec(_Spec):
    """A virtual machine."""

    name: str
    vcpus: int = Field(description="Virtual CPUs.")
    memory_bytes: int = Field(description="Guest memory in bytes.")
    active_memory_bytes: int | None = Field(default=None, description="Memory in active use; None: all of it.")
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

    @model_serializer(mode="wrap")
    def _omit_nesting(self, handler):
        return _without_absent(handler(self), none=("hypervisor",), empty=("vms",))


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
    latency_s: float = Field(description="One-way time of a small message through the native stack, seconds.")


class HardwareSpec(_Spec):
    """A physical machine's capacity."""

    name: str | None = Field(default=None, description="Catalog profile or label, if any.")
    cores: int = Field(description="Physical cores.")
    core_speed: float = Field(default=1.0, description="Speed of one core relative to the reference core.")
    memory_bytes: int = Field(description="Installed memory in bytes.")
    disks: tuple[DiskSpec, ...] = Field(default=(), description="Local disks (at least one once resolved).")
    nics: tuple[NicSpec, ...] = Field(default=(), description="Network interfaces (at least one once resolved).")
    power: PowerModel | None = Field(default=None, description="Power model (watts); None: no energy reported.")
    cost_per_hour: float | None = Field(
        default=None, description="Cost of one powered-on hour; None: the experiment's cost_per_host_hour.")

    @model_serializer(mode="wrap")
    def _omit_absent_options(self, handler):
        return _without_absent(handler(self), none=("power", "cost_per_hour"))


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
    cpu_capacity_cores: float = Field(description="Cores × CPU overcommit.")
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
    workloads: tuple[WorkloadSpec, ...]
    failures: tuple[FailureSpec, ...] = ()
    placement: PlacementSpec | None = Field(
        default=None, description="Where the placement policy put each pool item, and what it could not place.")
    energy: EnergyInput | None = Field(default=None, description="Switching empty hosts off; cost of a host-hour.")
    loads: tuple[LoadSpec, ...] = Field(
        default=(), description="Consumers whose demand follows utilization traces or pod records.")
    comparison: ComparisonSpec | None = Field(
        default=None, description="With 'compare': the stacks compared and the workloads paired across them.")
    source: str = Field(default="<dict>", description="The experiment file, or '<dict>'.")

    @model_serializer(mode="wrap")
    def _omit_absent_options(self, handler):
        return _without_absent(handler(self), none=("sample_interval_s", "placement", "energy", "comparison"),
                               empty=("loads",))
