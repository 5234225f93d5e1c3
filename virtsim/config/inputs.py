"""The experiment file as the user writes it: keys, user units, defaults.

These models define the accepted input (a JSON schema and key reference are
generated from them). Quantities are validated here and already hold SI
floats; ``resolve.py`` turns a validated input into the resolved spec.
"""


from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from .errors import format_value
from .fields import Name, OrAlso, Text, choice, integer, number, quantity, quantity_schema
from .hardware import DiskProfile, NicProfile
from .load_inputs import LoadInput
from .power import EnergyInput, PowerModel
from .profiles import NETWORK_MODES, STORAGE_MODES
from .theory import TheoryInput

FAILURE_LAYERS = ("hardware", "host-os", "hypervisor", "engine", "guest-os", "container")
RESTART_POLICIES = ("on-failure", "never")

__all__ = [
    "ArrivalsInput",
    "AutoscaleInput",
    "ContainerInput",
    "DemandInput",
    "DiskDemandInput",
    "DistributionInput",
    "ExperimentInput",
    "FailureInput",
    "HardwareInput",
    "HostInput",
    "NetDemandInput",
    "ProfileInput",
    "VMInput",
    "WorkloadInput",
]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- distributions ---------------------------------------------------------------


class ConstantInput(_Input):
    """Every sample equals ``value``."""

    type: Literal["constant"]
    value: quantity("time", ge=0) = Field(description="The value, a time such as '2 s' (seconds if bare).")


class ExponentialInput(_Input):
    """Exponentially distributed samples (memoryless) with the given mean."""

    type: Literal["exponential"]
    mean: quantity("time", gt=0) = Field(description="Mean, a time > 0 such as '1 s'.")


class LognormalInput(_Input):
    """Lognormal samples, parameterised by their mean and the σ of the underlying normal."""

    type: Literal["lognormal"]
    mean: quantity("time", gt=0) = Field(description="Mean of the distribution itself, a time > 0.")
    sigma: number(gt=0) = Field(description="Standard deviation of the underlying normal (dimensionless, > 0).")


class EmpiricalInput(_Input):
    """Samples drawn uniformly from observed values, given inline or in a file."""

    type: Literal["empirical"]
    path: Text | None = Field(
        default=None,
        description="Text/CSV file of samples in seconds, one per line, optional header; "
        "relative to the experiment file.",
    )
    samples: list[quantity("time", ge=0)] | None = Field(
        default=None, description="Inline samples, each a time ≥ 0."
    )

    @model_validator(mode="after")
    def _one_source(self):
        if (self.path is None) == (self.samples is None):
            raise ValueError("give exactly one of 'path' or 'samples'")
        if self.samples is not None and not self.samples:
            raise ValueError("'samples' must not be empty")
        return self


def _bare_time_is_constant(value: Any) -> Any:
    return value if isinstance(value, dict) else {"type": "constant", "value": value}


DistributionInput = Annotated[
    Union[ConstantInput, ExponentialInput, LognormalInput, EmpiricalInput],
    Field(discriminator="type"),
    BeforeValidator(_bare_time_is_constant),
    OrAlso(quantity_schema("time", ge=0) | {"description": "a bare time: a constant such as '2 s'"}),
]
"""A distribution mapping with a ``type``; a bare time such as ``2 s`` means constant."""


# --- workloads -------------------------------------------------------------------


class PoissonInput(_Input):
    """Poisson arrivals: exponential inter-arrival times."""

    type: Literal["poisson"]
    rate: quantity("rate", gt=0) = Field(description="Mean arrival rate, e.g. '0.8 /s' (per second if bare).")


class FileArrivalsInput(_Input):
    """Arrivals replayed from a CSV file with columns ``time_s,target,cpu_s``."""

    type: Literal["file"]
    path: Text = Field(description="CSV file, relative to the experiment file.")


class OnOffInput(_Input):
    """Bursty arrivals: Poisson at ``rate`` during on-periods, none during off-periods; starts with an on-period.

    (``on_period``/``off_period`` rather than ``on``/``off``: YAML reads a bare ``on`` as true.)
    """

    type: Literal["onoff"]
    rate: quantity("rate", gt=0) = Field(description="Arrival rate during an on-period, e.g. '50 /s'.")
    on_period: DistributionInput = Field(description="Length of an on-period: a time or a distribution, e.g. "
                                              "{type: exponential, mean: 2 s}.")
    off_period: DistributionInput = Field(description="Length of an off-period: a time or a distribution.")

    @model_validator(mode="before")
    @classmethod
    def _yaml_booleans(cls, data: Any) -> Any:
        if isinstance(data, dict) and (True in data or False in data):
            raise ValueError("YAML reads the keys 'on' and 'off' as true and false: write on_period and off_period")
        return data


class RatePointInput(_Input):
    """One point of a rate curve."""

    at: quantity("time", ge=0) = Field(description="Time of the point, e.g. '6 h'.")
    rate: quantity("rate", ge=0) = Field(description="Arrival rate at that time, e.g. '20 /s'.")


class CurveInput(_Input):
    """Poisson arrivals whose rate follows a curve over time (e.g. diurnal), drawn exactly by thinning."""

    type: Literal["curve"]
    points: list[RatePointInput] = Field(
        min_length=1, description="Points {at, rate}, times increasing from 0 s.")
    interpolation: choice("linear", "step") = Field(
        default="linear", description="'linear' (default) between points, or 'step' (each rate holds until the next point).")
    period: quantity("time", gt=0) | None = Field(
        default=None, description="Repeat the curve with this period, e.g. '24 h' (points before it; linear "
                                  "interpolation wraps to the first point). Absent: after the last point its rate holds.")

    @model_validator(mode="after")
    def _shape(self):
        times = [p.at for p in self.points]
        if times[0] != 0:
            raise ValueError(f"the first point must be at 0 s, got {times[0]:g} s")
        if any(b <= a for a, b in zip(times, times[1:])):
            raise ValueError("point times must increase")
        if self.period is not None and times[-1] >= self.period:
            raise ValueError(f"every point must be before the period ({self.period:g} s); the last is at {times[-1]:g} s")
        if not any(p.rate > 0 for p in self.points):
            raise ValueError("at least one point needs a rate > 0")
        return self


ArrivalsInput = Annotated[Union[PoissonInput, FileArrivalsInput, OnOffInput, CurveInput], Field(discriminator="type")]


class DiskDemandInput(_Input):
    """Disk operations of one request."""

    ops: number(ge=0) = Field(default=1, description="Operations per request (mean), default 1.")
    bytes: quantity("size", ge=0) = Field(default=4096, description="Bytes per operation, default '4 KiB'.")
    pattern: choice("random", "sequential") = Field(default="random", description="'random' or 'sequential'.")
    kind: choice("read", "write") = Field(default="read", description="'read' or 'write'.")


class NetDemandInput(_Input):
    """Network transactions (one message in, one out) of one request."""

    transactions: number(ge=0) = Field(default=1, description="Transactions per request (mean), default 1.")
    bytes: quantity("size", ge=0) = Field(default=0, description="Bytes per transaction, default 0 (latency only).")
    direction: choice("send", "receive") = Field(
        default="send", description="Which way the bytes flow from the target's point of view: 'send' (default; "
                                    "a server's replies, an upload) or 'receive' (a download).")


class DemandInput(_Input):
    """What each job asks for; every operation count is per request."""

    cpu: DistributionInput | None = Field(
        default=None, description="CPU work per job, a time at reference core speed (or a distribution)."
    )
    threads: integer(ge=1) = Field(default=1, description="Threads per job, each using at most one core.")
    mem_fraction: number(ge=0, le=1) = Field(
        default=0, description="Memory-intensive (TLB-miss-bound) fraction of the CPU work, 0 to 1.")
    syscalls: number(ge=0) = Field(default=0, description="System calls per request.")
    ctx_switches: number(ge=0) = Field(default=0, description="Context switches per request.")
    page_faults: number(ge=0) = Field(default=0, description="Page faults per request.")
    forks: number(ge=0) = Field(default=0, description="Process creations per request.")
    memory: quantity("size", ge=0) = Field(
        default=0, description="Memory each request keeps resident while it runs, e.g. '64 MiB'; counted against "
                               "its container's limit (over it: the container is OOM-killed) and its VM's RAM.")
    disk: DiskDemandInput | None = Field(default=None, description="Disk operations per request, if any.")
    net: NetDemandInput | None = Field(default=None, description="Network transactions per request, if any.")


class AutoscaleInput(_Input):
    """Horizontal scaling of a workload's replicas on their CPU utilization, as Kubernetes' HPA does.

    Every ``period`` the controller averages the CPU utilization of the serving
    replicas over the last period and asks for ``ceil(replicas × utilization /
    target_utilization)`` of them (nothing changes within ``tolerance``), at least
    ``min_replicas`` and at most all listed. It scales down only to the highest
    count asked for over the last ``scale_down_delay``. A new replica serves once
    it has booted or started (the stack's start-up chain).
    """

    min_replicas: integer(ge=1) = Field(default=1, description="Replicas always running (default 1).")
    target_utilization: number(gt=0, le=1) = Field(
        description="CPU utilization to hold each replica at, 0 to 1 of its size (vCPUs or cpus limit).")
    period: quantity("time", gt=0) = Field(
        default=15.0, description="How often the controller decides (Kubernetes HPA sync period: 15 s).")
    tolerance: number(ge=0, le=0.99) = Field(
        default=0.1, description="No change while utilization / target is within 1 ± tolerance (HPA: 0.1).")
    scale_down_delay: quantity("time", ge=0) = Field(
        default=300.0, description="Stabilization window for scaling down (HPA default: 300 s).")


class WorkloadInput(_Input):
    """A stream of jobs sent to one consumer (host, VM or container), or spread over replicas."""

    name: Name = Field(description="Unique workload name.")
    target: Text | None = Field(
        default=None, description="'host', 'host/vm', 'host/vm/container' or 'host/container'; a VM nested in "
                                  "'vm' is 'host/vm/nested' (its containers 'host/vm/nested/container')."
    )
    replicas: Annotated[list[Text], Field(min_length=1)] | Text | None = Field(
        default=None,
        description="Instead of one target: the targets that serve this workload together, in the order they are "
                    "scaled up; each job goes to the next serving one (round-robin). A pattern such as "
                    "'node-*' or '*/web-*' takes every matching target, in natural order (node-2 before node-10).")
    autoscale: AutoscaleInput | None = Field(
        default=None, description="Scale the replicas on CPU utilization (needs replicas).")
    type: choice("open", "closed", "batch") = Field(
        description="'open' (arrivals), 'closed' (fixed client population) or 'batch' (a set of jobs submitted "
                    "at once, run to completion; its makespan is in the results).")
    arrivals: ArrivalsInput | None = Field(default=None, description="Open workloads: how jobs arrive.")
    clients: integer(ge=1) | None = Field(default=None, description="Closed workloads: number of clients.")
    think_time: DistributionInput | None = Field(
        default=None, description="Closed workloads: time between a reply and the next request (default 0 s)."
    )
    jobs: integer(ge=1) | None = Field(default=None, description="Batch workloads: jobs submitted at each time of 'at'.")
    at: list[quantity("time", ge=0)] | None = Field(
        default=None, min_length=1, description="Batch workloads: submission times (default [0 s]).")
    demand: DemandInput | None = Field(default=None, description="Per-job demand.")
    when_down: choice("wait", "refuse") = Field(
        default="wait",
        description="What a job does when its target is not serving (booting, down after a failure, restarting): "
                    "'wait' (default) until it is; 'refuse': it fails at once, as a connection refused would "
                    "(open workloads only).")
    random_streams: Name | None = Field(
        default=None,
        description="Name of the random streams (arrivals, demands, think times) this workload draws from; "
                    "default: its own name. Workloads given the same name draw the same numbers: common random "
                    "numbers. Under 'compare', matching workloads on different hosts get one automatically.")


# --- comparisons -----------------------------------------------------------------

COMPARED_METRICS = ("response_time_mean_s", "response_time_p50_s", "response_time_p95_s", "response_time_p99_s",
                    "throughput_per_s")
"""Per-workload columns a comparison can take paired differences of."""


class CompareInput(_Input):
    """Run every host as one stack under comparison: common random numbers and paired differences.

    Workloads whose definitions are the same apart from their name and target, on
    different hosts, are one compared workload: they draw the same arrival and
    demand streams, and ``differences.csv`` gives, per compared workload, each
    stack's difference from the baseline with a confidence interval across
    replications.
    """

    baseline: Name | None = Field(
        default=None, description="The host (stack) the others are compared with; default: the first host.")
    metrics: list[choice(*COMPARED_METRICS)] = Field(
        default_factory=lambda: ["response_time_mean_s", "response_time_p99_s"], min_length=1,
        description="Per-workload metrics whose paired differences are reported.")
    level: number(ge=0.5, le=0.999) = Field(default=0.95, description="Confidence level of the intervals.")


# --- failures --------------------------------------------------------------------


class FailureInput(_Input):
    """Failures of one domain, from a distribution of times between failures or a schedule.

    The domain is a host (its ``hardware``, ``host-os``, ``hypervisor`` or
    ``engine``), a VM (its ``guest-os``) or a container; each takes down
    everything that runs above it (see the README's failure domains).
    """

    domain: Text = Field(description="Path of what fails: a host 'h1', a VM 'h1/a', a nested VM 'h1/a/b', a "
                                     "container 'h1/a/web' or 'h1/web'.")
    layer: choice(*FAILURE_LAYERS) | None = Field(
        default=None,
        description="Which layer of the domain fails: for a host 'hardware' (default), 'host-os', 'hypervisor' "
                    "or 'engine'; for a VM 'guest-os' (default), 'hypervisor' (its nested VMs) or 'engine'; for a "
                    "container 'container'.")
    time_to_failure: DistributionInput | None = Field(
        default=None, description="Time from a repair (or the start) to the next failure: a time or a "
                                  "distribution, e.g. {type: exponential, mean: 1000 h} for an MTBF.")
    at: list[quantity("time", ge=0)] | None = Field(
        default=None, description="A schedule instead: the times at which the domain fails (while it is up).")
    time_to_repair: DistributionInput = Field(
        default=0.0, validate_default=True, description="Time from a failure until the layer is back (a time or a distribution, the "
                                 "MTTR); then what ran above it boots or starts again. Default 0 s.")

    @model_validator(mode="after")
    def _one_source(self):
        if (self.time_to_failure is None) == (self.at is None):
            raise ValueError("give exactly one of 'time_to_failure' or 'at'")
        return self


# --- infrastructure --------------------------------------------------------------


class ContainerInput(_Input):
    """A container (cgroup) inside a VM or directly on a host."""

    name: Name = Field(description="Name, unique within its VM or host.")
    cpus: number(gt=0) | None = Field(default=None, description="CPU cap in cores (cgroup cpu.max); none if absent.")
    cpu_weight: integer(ge=1, le=10000) = Field(default=100, description="cgroup v2 cpu.weight, 1 to 10000.")
    cpu_quota_period: quantity("time", gt=0) | None = Field(
        default=None,
        description="Enforce 'cpus' as the kernel's CFS bandwidth control does, a quota of cpus × period "
                    "of CPU time per period (e.g. '100 ms', the kernel's default): within a period the "
                    "container runs on as many cores as it has threads until the quota is used, then is "
                    "throttled until the period ends. Needs 'cpus'. Absent: 'cpus' is a fluid cap.")
    memory: quantity("size", gt=0) | None = Field(default=None, description="Memory limit, e.g. '1 GiB'.")
    network: choice(*NETWORK_MODES) = Field(
        default="bridge", description="Network mode: 'host', 'bridge' (default) or 'nat'; the engine must offer it.")
    storage: choice(*STORAGE_MODES) = Field(
        default="overlay", description="Storage mode: 'volume' or 'overlay' (default); the engine must offer it.")
    restart: choice(*RESTART_POLICIES) = Field(
        default="on-failure",
        description="After a failure that takes it down: 'on-failure' (default) starts it again once the "
                    "failed layer is repaired; 'never' leaves it down.")

    @model_validator(mode="after")
    def _quota_needs_limit(self):
        if self.cpu_quota_period is not None and self.cpus is None:
            raise ValueError("'cpu_quota_period' needs 'cpus' (the quota is cpus × period); give both or neither")
        return self


def _profile_name_is_mapping(value: Any) -> Any:
    return {"profile": value} if isinstance(value, str) else value


class ProfileInput(_Input):
    """A catalog profile by name, optionally with overrides: ``kvm`` or ``{profile: kvm, net: {latency_us: 10}}``.

    Overrides are deep-merged onto the profile and checked by the catalog's schema.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    profile: Name = Field(description="Name of a catalog profile.")

    @property
    def overrides(self) -> dict:
        return dict(self.model_extra or {})


def _profile_ref(value: Any) -> Any:
    if isinstance(value, str):
        return {"profile": value}
    if not isinstance(value, dict):
        raise ValueError(f"must be a catalog name or a mapping {{profile: <name>, ...overrides}}, "
                         f"got {format_value(value)}")
    return value


_CATALOG_NAME = {"type": "string", "minLength": 1, "description": "a catalog profile name"}

ProfileRef = Annotated[ProfileInput, BeforeValidator(_profile_ref), OrAlso(_CATALOG_NAME)]


class VMInput(_Input):
    """A virtual machine on a host, or nested in a VM that runs a hypervisor."""

    name: Name = Field(description="Name, unique within its host.")
    vcpus: integer(ge=1) = Field(description="Virtual CPUs; at most the host's cores.")
    memory: quantity("size", gt=0) = Field(description="Guest memory, e.g. '8 GiB'.")
    active_memory: quantity("size", gt=0) | None = Field(
        default=None, description="Memory the guest keeps actively in use (at most memory; default: all of it). "
                                  "Under host overcommit a balloon driver can reclaim the rest before the host swaps.")
    shares: number(gt=0) = Field(default=1000, description="Proportional-share weight against sibling VMs.")
    cap: number(gt=0) | None = Field(default=None, description="CPU limit in cores; at most vcpus.")
    reservation: number(ge=0) = Field(default=0, description="Guaranteed CPU in cores; at most cap and vcpus.")
    os: ProfileRef | None = Field(
        default=None, description="Guest OS (models/os); default 'linux-server' when the host has a hypervisor.")
    engine: ProfileRef | None = Field(
        default=None, description="Container engine in the guest (models/engines); needed for containers "
        "when the host has a hypervisor.")
    containers: list[ContainerInput] = Field(default_factory=list, description="Containers in the guest.")
    restart: choice(*RESTART_POLICIES) = Field(
        default="on-failure",
        description="After a failure that takes it down: 'on-failure' (default) boots it again once the "
                    "failed layer is repaired; 'never' leaves it down.")
    hypervisor: ProfileRef | None = Field(
        default=None, description="Hypervisor run in the guest (models/hypervisors), a name or {profile, "
        "...overrides}, for nested VMs; a Type 2 one runs on the VM's os. Only in a VM that itself runs under "
        "a hypervisor.")
    vms: list["VMInput"] = Field(
        default_factory=list, description="VMs nested in this one, under its hypervisor (needed), within its "
        "vCPUs and memory; addressed as 'host/vm/nested'. They nest further the same way.")


class HardwareInput(_Input):
    """A machine: a catalog profile, inline numbers, or a profile with overrides."""

    profile: Text | None = Field(default=None, description="Name of a profile in models/hardware.")
    name: Text | None = Field(default=None, description="Label for inline hardware.")
    cores: integer(ge=1) | None = Field(default=None, description="Physical cores.")
    core_speed: number(gt=0) | None = Field(
        default=None, description="Speed of one core relative to the reference core (1.0)."
    )
    memory: quantity("size", gt=0) | None = Field(default=None, description="Installed memory, e.g. '64 GiB'.")
    disks: list[DiskProfile] | None = Field(
        default=None, min_length=1,
        description="Disks as in a hardware profile (default: models/devices/nvme-default).")
    nics: list[NicProfile] | None = Field(
        default=None, min_length=1, description="NICs as in a hardware profile (default: models/devices/nic-10gbe).")
    power: PowerModel | None = Field(
        default=None, description="Power model as in a hardware profile: {model: linear, idle_w, max_w} or "
                                  "{model: table, watts: [11 draws at 0 %, 10 %, …, 100 %]}, optional off_w.")
    cost_per_hour: number(ge=0) | None = Field(
        default=None, description="Cost of this host for one powered-on hour, in energy.currency (default USD); "
                                  "overrides energy.cost_per_host_hour.")


COUNT_DESCRIPTION = ("Identical copies of this item, named <name>-1 … <name>-<count> (default 1: one, named as "
                     "written); what runs on a copied host is copied with it.")


class HostInput(_Input):
    """A physical host and what runs on it."""

    name: Name = Field(description="Unique host name.")
    count: integer(ge=1) = Field(default=1, description=COUNT_DESCRIPTION)
    hardware: Annotated[HardwareInput, BeforeValidator(_profile_name_is_mapping), OrAlso(_CATALOG_NAME)] = Field(
        description="A profile name, or a mapping {cores, core_speed, memory, disks, nics} "
        "or {profile, ...overrides}."
    )
    hypervisor: ProfileRef | None = Field(
        default=None, description="Hypervisor (models/hypervisors), a name or {profile, ...overrides}; none: native.")
    host_os: ProfileRef | None = Field(
        default=None, description="Host OS (models/os); required under a Type 2 hypervisor or a host engine.")
    engine: ProfileRef | None = Field(
        default=None, description="Container engine on the host kernel (models/engines).")
    vms: list[VMInput] = Field(default_factory=list, description="Virtual machines on the host.")
    containers: list[ContainerInput] = Field(default_factory=list, description="Containers run on the host itself.")
    memory_overcommit: number(ge=1) = Field(
        default=1.0,
        description="Admission: the memory committed on the host (VM RAM, per-VM overheads, host OS, engine, "
                    "container shims) may be at most this many times its physical memory; 1 (default): none.")


# The pool's items are written as VMs and containers are, so its module builds on this one.
from .placement_inputs import PlacementInput  # noqa: E402


class ExperimentInput(_Input):
    """An experiment: hosts, workloads, and how long to simulate."""

    name: Name = Field(description="Experiment name.")
    description: Text | None = Field(default=None, description="Free text.")
    seed: integer(ge=0) = Field(default=0, description="Root random seed.")
    duration: quantity("time", gt=0) | None = Field(default=None, description="Simulated time, e.g. '20000 s'.")
    warmup: quantity("time", ge=0) = Field(
        default=0.0, description="Jobs arriving before this time are not counted; less than duration."
    )
    stop_after_jobs: integer(ge=1) | None = Field(default=None, description="Stop at the N-th completed job.")
    cold_start: bool = Field(
        default=True,
        description="VMs boot and containers start at time 0 (jobs wait for their target to be ready); "
                    "false: every stack is already running at time 0.",
    )
    sample_interval: quantity("time", gt=0) | None = Field(
        default=None,
        description="Record each consumer's CPU utilization and steal per interval of this length, "
                    "e.g. '10 s' (the timeseries table); at most duration. Absent: no time series.",
    )
    hosts: list[HostInput] = Field(min_length=1, description="Physical hosts (at least one).")
    placement: PlacementInput | None = Field(
        default=None, description="VMs and containers for the loader to place on the hosts by a policy.")
    energy: EnergyInput | None = Field(
        default=None, description="Switching empty hosts off, and the cost of a host-hour.")
    failures: list[FailureInput] = Field(
        default_factory=list, description="Failure domains that fail and are repaired during the run.")
    workloads: list[WorkloadInput] = Field(
        default_factory=list,
        description="Workloads. May be empty when custom workloads are added in Python (virtsim.Simulation.context).",
    )
    loads: list[LoadInput] = Field(
        default_factory=list,
        description="Demand replayed from utilization traces or pod records onto hosts, VMs or containers "
                    "(fluid loads, not jobs).",
    )
    compare: CompareInput | None = Field(
        default=None, description="Compare the hosts as stacks: common random numbers for matching workloads "
                                  "and paired differences with confidence intervals (differences.csv).")
    replications: integer(ge=1) = Field(
        default=1,
        description="Runs of each scenario, replication r seeded by the r-th child of SeedSequence(seed).",
    )
    theory: TheoryInput | None = Field(
        default=None,
        description="The theoretical value of summary metrics this model should give (response_time_mean_s, "
                    "cpu_utilization, …), printed beside the replications' mean and 95 % CI. Not with sweep.",
    )
    sweep: dict[str, Any] | None = Field(
        default=None,
        description="Sweep axes: a field path such as 'hosts[0].hardware.cores' mapped to a list of values "
                    "(the scenarios are their cartesian product); 'zip' takes a list of groups of paths "
                    "whose equally long lists move together. Checked by the sweep loader.",
    )
