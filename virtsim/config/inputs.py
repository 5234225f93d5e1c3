"""The experiment file as the user writes it: keys, user units, defaults.

These models define the accepted input (a JSON schema and key reference are
generated from them). Quantities are validated here and already hold SI
floats; ``resolve.py`` turns a validated input into the resolved spec.
"""


from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from .fields import Name, Text, choice, integer, number, quantity
from .host_inputs import ContainerInput, HardwareInput, HostInput, ProfileInput, VMInput
from .load_inputs import LoadInput
from .consolidation import ConsolidationInput
from .migration import MigrationEntryInput, MigrationInput
from .network_inputs import NetworkInput
from .placement_inputs import PlacementInput
from .power import EnergyInput
from .theory import TheoryInput
from .workload_inputs import (
    ArrivalsInput,
    AutoscaleInput,
    ClientInput,
    DemandInput,
    DiskDemandInput,
    DistributionInput,
    NetDemandInput,
    ServiceInput,
    SoftwareResourceInput,
)
from .workload_registry import WORKLOAD_KINDS

FAILURE_LAYERS = ("hardware", "host-os", "hypervisor", "engine", "guest-os", "container")

__all__ = [
    "ArrivalsInput",
    "AutoscaleInput",
    "ClientInput",
    "ContainerInput",
    "DemandInput",
    "DiskDemandInput",
    "DistributionInput",
    "ExperimentInput",
    "FailureInput",
    "HardwareInput",
    "HostInput",
    "NetDemandInput",
    "NetworkInput",
    "ProfileInput",
    "ServiceInput",
    "SoftwareResourceInput",
    "VMInput",
    "WorkloadInput",
]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _type_description() -> str:
    summaries = [kind.summary for kind in WORKLOAD_KINDS.values()]
    return f"{', '.join(summaries[:-1])} or {summaries[-1]}." if len(summaries) > 1 else f"{summaries[0]}."


WorkloadInput = create_model(
    "WorkloadInput",
    __base__=_Input,
    __module__=__name__,
    __doc__="A stream of jobs sent to one consumer (host, VM or container), or spread over replicas.",
    name=(Name, Field(description="Unique workload name.")),
    target=(Text | None, Field(
        default=None, description="'host', 'host/vm', 'host/vm/container' or 'host/container'; a VM nested in "
                                  "'vm' is 'host/vm/nested' (its containers 'host/vm/nested/container').")),
    replicas=(Annotated[list[Text], Field(min_length=1)] | Text | None, Field(
        default=None,
        description="Instead of one target: the targets that serve this workload together, in the order they are "
                    "scaled up; each job goes to the next serving one (round-robin). A pattern such as "
                    "'node-*' or '*/web-*' takes every matching target, in natural order (node-2 before node-10).")),
    autoscale=(AutoscaleInput | None, Field(
        default=None, description="Scale the replicas on CPU utilization (needs replicas).")),
    type=(choice(*WORKLOAD_KINDS), Field(description=_type_description())),
    **{key: field for kind in WORKLOAD_KINDS.values() for key, field in kind.input_fields.items()},
    demand=(DemandInput | None, Field(default=None, description="Per-job demand.")),
    service=(ServiceInput | None, Field(
        default=None, description="How the target serves the requests: processor sharing (default) or first come, "
                                  "first served on worker threads, e.g. {discipline: fcfs, workers: 1}.")),
    client=(ClientInput | None, Field(
        default=None, description="Where the clients run and what each request costs them, e.g. {target: loadgen, "
                                  "demand: {cpu: 20 us}}; absent: the clients are outside the model.")),
    when_down=(choice("wait", "refuse"), Field(
        default="wait",
        description="What a job does when its target is not serving (booting, down after a failure, restarting): "
                    "'wait' (default) until it is; 'refuse': it fails at once, as a connection refused would "
                    "(open workloads only).")),
    random_streams=(Name | None, Field(
        default=None,
        description="Name of the random streams (arrivals, demands, think times) this workload draws from; "
                    "default: its own name. Workloads given the same name draw the same numbers: common random "
                    "numbers. Under 'compare', matching workloads on different hosts get one automatically.")),
)
"""A stream of jobs: the keys every workload has, and each workload type's own (``workload_registry``)."""


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
    network: NetworkInput | None = Field(
        default=None,
        description="The switches and links between the hosts (a named topology or explicit links) and how flows "
                    "are routed; validated and built into a graph (virtsim plot draws it). Absent: no network "
                    "graph, and every result is as without it.")
    energy: EnergyInput | None = Field(
        default=None, description="Switching empty hosts off, and the cost of a host-hour.")
    failures: list[FailureInput] = Field(
        default_factory=list, description="Failure domains that fail and are repaired during the run.")
    migration: MigrationInput | None = Field(
        default=None, description="How VMs live-migrate: the model (precopy, postcopy, cloudsim) and QEMU's "
                                  "parameters; read only with 'migrations'.")
    migrations: list[MigrationEntryInput] = Field(
        default_factory=list,
        description="Live migrations at given times: a VM to a host, or every VM of a host drained for "
                    "maintenance (migrations.csv). Absent: nothing moves, and every result is as without it.")
    consolidation: ConsolidationInput | None = Field(
        default=None,
        description="A controller that consolidates the VMs every interval (Beloglazov & Buyya 2012): overload "
                    "detection, VM selection, PABFD placement, underloaded hosts evacuated and switched off "
                    "(consolidation.csv). Absent: nothing is consolidated, and every result is as without it.")
    workloads: list[WorkloadInput] = Field(
        default_factory=list,
        description="Workloads. May be empty when custom workloads are added in Python (virtsim.Simulation.context).",
    )
    software_resources: list[SoftwareResourceInput] = Field(
        default_factory=list,
        description="Locks, connection pools and commit paths that requests hold for part of their work "
                    "(demand.holds): only 'capacity' at once, the others wait first come, first served.")
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
