"""Input keys workloads are written with: distributions, arrival processes, demands, autoscaling.

Failures take their times from the same distributions. A workload type's own
keys are in its module (``open_workload``, …); ``inputs`` assembles the
workload and the experiment.
"""

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from .fields import OrAlso, Text, choice, integer, number, quantity, quantity_schema

__all__ = [
    "ArrivalsInput",
    "AutoscaleInput",
    "ConstantInput",
    "ClientInput",
    "CurveInput",
    "DemandInput",
    "DiskDemandInput",
    "DistributionInput",
    "EmpiricalInput",
    "ExponentialInput",
    "FileArrivalsInput",
    "LognormalInput",
    "NetDemandInput",
    "OnOffInput",
    "PoissonInput",
    "RatePointInput",
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


# --- arrivals and demands --------------------------------------------------------


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
    request_bytes: quantity("size", ge=0) = Field(
        default=0, description="Bytes per transaction the other way (a server's requests), default 0: a message "
                               "of one header-only packet.")


class HoldInput(_Input):
    """A software resource (lock, connection pool, commit path) a request holds for part of its work."""

    resource: Text = Field(description="Name of an entry of the top-level 'software_resources'.")
    fraction: number(gt=0, le=1) = Field(
        description="Fraction of the request's CPU work done while holding it, 0 to 1 (1: all of it).")
    through_disk: bool = Field(
        default=False, description="Keep holding it through the request's disk operations (a commit that writes "
                                   "its log under the lock); needs 'disk' and must be the last hold.")


class CallInput(_Input):
    """Calls from each request to another workload's service (a web tier calling its database)."""

    service: Text = Field(description="Name of the workload called (the callee): its target serves each call as "
                                      "one of its requests, with its own demand, queue and calls.")
    count: integer(ge=0) = Field(default=1, description="Calls per request, default 1.")
    request_bytes: quantity("size", ge=0) = Field(
        default=0, description="Bytes each call sends to the callee, default 0 (only the route's latency).")
    response_bytes: quantity("size", ge=0) = Field(
        default=0, description="Bytes each call's response brings back, default 0.")
    parallel: bool = Field(
        default=False, description="The 'count' calls all at once (fan-out: the slowest sets the time) instead of "
                                   "one after another (default).")


class SoftwareResourceInput(_Input):
    """Something only ``capacity`` requests hold at once, with one first-come, first-served queue.

    A lock (capacity 1), a pool of database connections, a storage engine's
    commit path: requests that name it in ``demand.holds`` take a slot for part
    of their work, or wait in arrival order. Shared by every workload that names it.
    """

    name: Text = Field(description="Its name, unique among the software resources.")
    capacity: integer(ge=1) = Field(description="How many requests hold it at once (1: a mutex).")


class DemandInput(_Input):
    """What each job asks for; every operation count is per request."""

    cpu: DistributionInput | None = Field(
        default=None, description="CPU work per job, a time at reference core speed (or a distribution)."
    )
    threads: integer(ge=1) = Field(default=1, description="Threads per job, each using at most one core.")
    mem_fraction: number(ge=0, le=1) = Field(
        default=0, description="Memory-intensive (TLB-miss-bound) fraction of the CPU work, 0 to 1.")
    kernel_fraction: number(ge=0, le=1) = Field(
        default=0, description="Fraction of the CPU work spent in the (guest) kernel, 0 to 1, slowed by the "
                               "hypervisors' cpu.kernel_factor; with mem_fraction at most 1 in all. Default 0: "
                               "all of it user-mode work, as before.")
    mem_locality: choice("interleaved", "local") = Field(
        default="interleaved",
        description="Where the memory of a job's memory-intensive part is, on a host with several sockets: "
                    "'interleaved' (default: spread over the sockets its threads, or its VM's vCPUs, span; "
                    "(s-1)/s of the accesses pay the hardware's remote_memory_factor) or 'local' (each thread's "
                    "data on its own socket: none do).")
    syscalls: number(ge=0) = Field(default=0, description="System calls per request.")
    ctx_switches: number(ge=0) = Field(default=0, description="Context switches per request.")
    page_faults: number(ge=0) = Field(default=0, description="Page faults per request.")
    forks: number(ge=0) = Field(default=0, description="Process creations per request.")
    memory: quantity("size", ge=0) = Field(
        default=0, description="Memory each request keeps resident while it runs, e.g. '64 MiB'; counted against "
                               "its container's limit (over it: the container is OOM-killed) and its VM's RAM.")
    disk: DiskDemandInput | None = Field(default=None, description="Disk operations per request, if any.")
    net: NetDemandInput | None = Field(default=None, description="Network transactions per request, if any.")
    holds: list[HoldInput] = Field(
        default_factory=list,
        description="Software resources the request holds, one after another, for fractions of its CPU work "
                    "(done after the rest of it), e.g. [{resource: row-locks, fraction: 0.3}].")
    calls: list[CallInput] = Field(
        default_factory=list,
        description="Calls to other workloads' services after the CPU phase, one entry after another, e.g. "
                    "[{service: db, count: 3, request_bytes: 1 KiB, response_bytes: 12 KiB}]. Default none: "
                    "requests run as before.")

    @model_validator(mode="after")
    def _fractions_fit(self):
        if self.mem_fraction + self.kernel_fraction > 1:
            raise ValueError(f"mem_fraction ({self.mem_fraction:g}) and kernel_fraction ({self.kernel_fraction:g}) "
                             "are parts of the same CPU work and add up to more than 1; make their sum at most 1")
        return self


class ServiceInput(_Input):
    """How the target serves this workload's requests: by processor sharing, or first come, first served.

    ``ps`` (the default): every request in the target runs at once, sharing its
    cores fairly, each at most ``demand.threads`` cores. ``fcfs``: the server has
    ``workers`` threads (1: an event loop such as Redis's or Node's; k: a thread
    pool); a request waits in one queue, in arrival order, for a free worker,
    then runs on it to completion at most one core fast. ``holds`` says how long
    the worker is busy with it: its CPU phase (``cpu``: the request's CPU work and
    its operations' latency; its disk and network I/O then proceed without the
    worker, as with non-blocking I/O), or the whole request (``request``: blocking
    I/O, a thread per request).
    """

    discipline: choice("ps", "fcfs") = Field(
        default="ps", description="'ps' (default): processor sharing; 'fcfs': a queue in front of 'workers' threads.")
    workers: integer(ge=1) | None = Field(
        default=None, description="Worker threads of an 'fcfs' server (default 1: an event loop).")
    holds: choice("cpu", "request") = Field(
        default="cpu", description="What a worker is busy for: the request's CPU phase ('cpu', default: "
                                   "non-blocking I/O) or the whole request ('request': blocking I/O).")

    @model_validator(mode="after")
    def _workers_are_for_fcfs(self):
        if self.discipline == "ps" and self.workers is not None:
            raise ValueError("'workers' is for discipline 'fcfs': under 'ps' every request runs at once")
        if self.discipline == "ps" and self.holds != "cpu":
            raise ValueError("'holds' is for discipline 'fcfs': under 'ps' no worker is held")
        return self


class ClientInput(_Input):
    """Where the workload's clients (the load generator) run, and what each request costs them.

    Without it the clients are outside the model: their time is the think time
    and the network round trip is the server NIC's. With it, each request first
    runs ``demand`` in ``target`` (a host, VM or container on another host than
    the server's), and its network transactions cross the client's NIC as well
    as the server's: the transfer proceeds at the slower of the two shares and
    the client's stack adds its own per-transaction costs.
    """

    target: Text = Field(description="The consumer the clients run in: 'host', 'host/vm', 'host/container', …, on "
                                     "another host than the server's.")
    demand: DemandInput = Field(
        description="What the client spends per request: 'cpu' (required) and operation counts (syscalls, …). "
                    "Its network traffic is the server's transactions, so 'net' is not given here.")


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
