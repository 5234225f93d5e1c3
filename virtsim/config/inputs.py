"""The experiment file as the user writes it: keys, user units, defaults.

These models define the accepted input (a JSON schema and key reference are
generated from them). Quantities are validated here and already hold SI
floats; ``resolve.py`` turns a validated input into the resolved spec.
"""


from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from .fields import Name, OrAlso, Text, choice, integer, number, quantity, quantity_schema
from .host_inputs import ContainerInput, HardwareInput, HostInput, ProfileInput, VMInput
from .load_inputs import LoadInput
from .placement_inputs import PlacementInput
from .power import EnergyInput
from .theory import TheoryInput

FAILURE_LAYERS = ("hardware", "host-os", "hypervisor", "engine", "guest-os", "container")

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
