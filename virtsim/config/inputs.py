"""The experiment file as the user writes it: keys, user units, defaults.

These models define the accepted input (a JSON schema and key reference are
generated from them). Quantities are validated here and already hold SI
floats; ``resolve.py`` turns a validated input into the resolved spec.
"""


from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from .errors import format_value
from .fields import Name, Text, choice, integer, number, quantity
from .hardware import DiskProfile, NicProfile
from .profiles import NETWORK_MODES, STORAGE_MODES

__all__ = [
    "ArrivalsInput",
    "ContainerInput",
    "DemandInput",
    "DiskDemandInput",
    "DistributionInput",
    "ExperimentInput",
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


ArrivalsInput = Annotated[Union[PoissonInput, FileArrivalsInput], Field(discriminator="type")]


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
    disk: DiskDemandInput | None = Field(default=None, description="Disk operations per request, if any.")
    net: NetDemandInput | None = Field(default=None, description="Network transactions per request, if any.")


class WorkloadInput(_Input):
    """A stream of jobs sent to one consumer (host, VM or container)."""

    name: Name = Field(description="Unique workload name.")
    target: Text | None = Field(
        default=None, description="'host', 'host/vm', 'host/vm/container' or 'host/container'."
    )
    type: choice("open", "closed") = Field(description="'open' (arrivals) or 'closed' (fixed client population).")
    arrivals: ArrivalsInput | None = Field(default=None, description="Open workloads: how jobs arrive.")
    clients: integer(ge=1) | None = Field(default=None, description="Closed workloads: number of clients.")
    think_time: DistributionInput | None = Field(
        default=None, description="Closed workloads: time between a reply and the next request (default 0 s)."
    )
    demand: DemandInput | None = Field(default=None, description="Per-job demand.")


# --- infrastructure --------------------------------------------------------------


class ContainerInput(_Input):
    """A container (cgroup) inside a VM or directly on a host."""

    name: Name = Field(description="Name, unique within its VM or host.")
    cpus: number(gt=0) | None = Field(default=None, description="CPU cap in cores (cgroup cpu.max); none if absent.")
    cpu_weight: integer(ge=1, le=10000) = Field(default=100, description="cgroup v2 cpu.weight, 1 to 10000.")
    memory: quantity("size", gt=0) | None = Field(default=None, description="Memory limit, e.g. '1 GiB'.")
    network: choice(*NETWORK_MODES) = Field(
        default="bridge", description="Network mode: 'host', 'bridge' (default) or 'nat'; the engine must offer it.")
    storage: choice(*STORAGE_MODES) = Field(
        default="overlay", description="Storage mode: 'volume' or 'overlay' (default); the engine must offer it.")


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


ProfileRef = Annotated[ProfileInput, BeforeValidator(_profile_ref)]


class VMInput(_Input):
    """A virtual machine on a host."""

    name: Name = Field(description="Name, unique within its host.")
    vcpus: integer(ge=1) = Field(description="Virtual CPUs; at most the host's cores.")
    memory: quantity("size", gt=0) = Field(description="Guest memory, e.g. '8 GiB'.")
    shares: number(gt=0) = Field(default=1000, description="Proportional-share weight against sibling VMs.")
    cap: number(gt=0) | None = Field(default=None, description="CPU limit in cores; at most vcpus.")
    reservation: number(ge=0) = Field(default=0, description="Guaranteed CPU in cores; at most cap and vcpus.")
    os: ProfileRef | None = Field(
        default=None, description="Guest OS (models/os); default 'linux-server' when the host has a hypervisor.")
    engine: ProfileRef | None = Field(
        default=None, description="Container engine in the guest (models/engines); needed for containers "
        "when the host has a hypervisor.")
    containers: list[ContainerInput] = Field(default_factory=list, description="Containers in the guest.")


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


class HostInput(_Input):
    """A physical host and what runs on it."""

    name: Name = Field(description="Unique host name.")
    hardware: Annotated[HardwareInput, BeforeValidator(_profile_name_is_mapping)] = Field(
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
    hosts: list[HostInput] = Field(min_length=1, description="Physical hosts (at least one).")
    workloads: list[WorkloadInput] = Field(
        default_factory=list,
        description="Workloads. May be empty when custom workloads are added in Python (virtsim.Simulation.context).",
    )
    replications: integer(ge=1) = Field(
        default=1,
        description="Runs of each scenario, replication r seeded by the r-th child of SeedSequence(seed).",
    )
    sweep: dict[str, Any] | None = Field(
        default=None,
        description="Sweep axes: a field path such as 'hosts[0].hardware.cores' mapped to a list of values "
                    "(the scenarios are their cartesian product); 'zip' takes a list of groups of paths "
                    "whose equally long lists move together. Checked by the sweep loader.",
    )
