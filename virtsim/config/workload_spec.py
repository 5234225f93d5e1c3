"""The resolved parts workloads are made of: distributions, arrival processes, demands, autoscaling, and
the fields every workload type has (:class:`WorkloadSpec`).

Plain, frozen data in SI units, like the rest of the resolved spec (``spec``).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import ConfigDict, Field, model_serializer, model_validator
from pydantic.json_schema import SkipJsonSchema

from ..data.arrivals_file import ArrivalsTable
from .spec_base import FrozenSpec, without_absent

__all__ = [
    "ArrivalsSpec",
    "AutoscaleSpec",
    "CallSpec",
    "ClientSpec",
    "ConstantDist",
    "CurveArrivals",
    "DemandSpec",
    "DiskDemand",
    "DistributionSpec",
    "HoldSpec",
    "EmpiricalDist",
    "ExponentialDist",
    "FileArrivals",
    "LognormalDist",
    "NetDemand",
    "OnOffArrivals",
    "PoissonArrivals",
    "ServiceSpec",
    "SoftwareResourceSpec",
    "WorkloadSpec",
]


class ConstantDist(FrozenSpec):
    """Every sample is ``value_s``."""

    type: Literal["constant"] = "constant"
    value_s: float = Field(description="The value, in seconds.")


class ExponentialDist(FrozenSpec):
    """Exponential distribution with mean ``mean_s``."""

    type: Literal["exponential"] = "exponential"
    mean_s: float = Field(description="Mean, in seconds.")


class LognormalDist(FrozenSpec):
    """Lognormal distribution with mean ``mean_s``; ``sigma`` is the σ of the underlying normal."""

    type: Literal["lognormal"] = "lognormal"
    mean_s: float = Field(description="Mean of the distribution, in seconds.")
    sigma: float = Field(description="Standard deviation of the underlying normal (dimensionless).")


class EmpiricalDist(FrozenSpec):
    """Samples drawn uniformly from ``samples_s``."""

    type: Literal["empirical"] = "empirical"
    samples_s: tuple[float, ...] = Field(description="Observed values, in seconds.")
    path: str | None = Field(default=None, description="Absolute path of the file they came from, if any.")


DistributionSpec = Annotated[
    Union[ConstantDist, ExponentialDist, LognormalDist, EmpiricalDist], Field(discriminator="type")
]


class PoissonArrivals(FrozenSpec):
    """Poisson arrival process."""

    type: Literal["poisson"] = "poisson"
    rate_per_s: float = Field(description="Mean arrival rate, per second.")


class FileArrivals(FrozenSpec):
    """Arrivals replayed from a CSV file (already parsed into ``table``)."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    type: Literal["file"] = "file"
    path: str = Field(description="Absolute path of the CSV file.")
    sha256: str = Field(description="SHA-256 of the file's bytes, so a manifest pins its content.")
    rows: int = Field(description="Number of jobs in the file.")
    table: SkipJsonSchema[ArrivalsTable | None] = Field(
        default=None, exclude=True, repr=False, description="The parsed columns (not serialised)."
    )


class OnOffArrivals(FrozenSpec):
    """Poisson at ``rate_per_s`` during on-periods, silent during off-periods; starts on."""

    type: Literal["onoff"] = "onoff"
    rate_per_s: float = Field(description="Arrival rate during an on-period, per second.")
    on_period: DistributionSpec = Field(description="Length of an on-period, seconds.")
    off_period: DistributionSpec = Field(description="Length of an off-period, seconds.")


class CurveArrivals(FrozenSpec):
    """Poisson arrivals with a time-varying rate through the points ``(times_s[i], rates_per_s[i])``."""

    type: Literal["curve"] = "curve"
    times_s: tuple[float, ...] = Field(description="Point times, increasing from 0, seconds.")
    rates_per_s: tuple[float, ...] = Field(description="Rates at the points, per second.")
    interpolation: Literal["linear", "step"] = "linear"
    period_s: float | None = Field(default=None, description="Repeat period, seconds; None: the last rate holds.")


ArrivalsSpec = Annotated[Union[PoissonArrivals, FileArrivals, OnOffArrivals, CurveArrivals],
                         Field(discriminator="type")]


class DiskDemand(FrozenSpec):
    """Disk operations of one request."""

    ops: float = Field(description="Operations per request (mean).")
    bytes: int = Field(description="Bytes per operation.")
    pattern: Literal["random", "sequential"]
    kind: Literal["read", "write"]


class NetDemand(FrozenSpec):
    """Network transactions of one request (one message in, one out)."""

    transactions: float = Field(description="Transactions per request (mean).")
    bytes: int = Field(description="Bytes per transaction.")
    direction: Literal["send", "receive"] = Field(default="send", description="Which way the bytes flow.")
    request_bytes: int = Field(default=0, description="Bytes per transaction the other way.")


class SoftwareResourceSpec(FrozenSpec):
    """A lock, pool or commit path: ``capacity`` requests hold it at once, the others queue FCFS."""

    name: str
    capacity: int = Field(description="Requests that hold it at once.")


class HoldSpec(FrozenSpec):
    """A software resource held for a fraction of a request's CPU work."""

    resource: str
    fraction: float = Field(description="Fraction of the request's CPU work done while holding it.")
    through_disk: bool = Field(default=False, description="Held through the request's disk operations too.")


class CallSpec(FrozenSpec):
    """Calls from each request to the workload ``service``."""

    service: str = Field(description="Name of the workload called.")
    count: int = Field(default=1, description="Calls per request.")
    request_bytes: int = Field(default=0, description="Bytes sent to the callee per call.")
    response_bytes: int = Field(default=0, description="Bytes of each call's response.")
    parallel: bool = Field(default=False, description="All at once (fan-out) instead of one after another.")


class DemandSpec(FrozenSpec):
    """What each job asks for; operation counts are per request."""

    cpu: DistributionSpec | None = Field(
        description="CPU work per job in seconds at reference core speed; None when a file gives it."
    )
    threads: int = Field(default=1, description="Threads per job.")
    mem_fraction: float = Field(default=0.0, description="Memory-intensive fraction of the CPU work, 0 to 1.")
    kernel_fraction: float = Field(default=0.0, description="Guest-kernel fraction of the CPU work, 0 to 1.")
    mem_locality: Literal["interleaved", "local"] = Field(
        default="interleaved", description="Memory interleaved over the sockets the job spans, or local to each thread.")
    syscalls: float = Field(default=0.0, description="System calls per request.")
    ctx_switches: float = Field(default=0.0, description="Context switches per request.")
    page_faults: float = Field(default=0.0, description="Page faults per request.")
    forks: float = Field(default=0.0, description="Process creations per request.")
    memory_bytes: float = Field(default=0.0, description="Memory resident per request while it runs, bytes.")
    disk: DiskDemand | None = Field(default=None, description="Disk operations per request; None for none.")
    net: NetDemand | None = Field(default=None, description="Network transactions per request; None for none.")
    holds: tuple[HoldSpec, ...] = Field(default=(), description="Software resources held, in order.")
    calls: tuple[CallSpec, ...] = Field(default=(), description="Calls to other workloads, in order.")

    @model_serializer(mode="wrap")
    def _omit_no_holds(self, handler):
        """Left out when empty (or at their defaults), so manifests and configuration hashes stay as they were."""
        data = without_absent(handler(self), empty=("holds", "calls"))
        if data.get("kernel_fraction") == 0.0:
            del data["kernel_fraction"]
        if data.get("mem_locality") == "interleaved":
            del data["mem_locality"]
        return data


class ServiceSpec(FrozenSpec):
    """First come, first served on ``workers`` threads (processor sharing has no spec: it is the default)."""

    discipline: Literal["fcfs"] = "fcfs"
    workers: int = Field(description="Worker threads; each runs one request at a time, at most one core fast.")
    holds: Literal["cpu", "request"] = Field(
        description="A worker is busy for the request's CPU phase, or for the whole request.")


class ClientSpec(FrozenSpec):
    """The workload's clients, modelled: where they run and what each request costs them."""

    target: str = Field(description="The consumer the clients run in, on another host than the server's.")
    demand: DemandSpec = Field(description="CPU and operations per request at the client (no disk, no network).")


class AutoscaleSpec(FrozenSpec):
    """Horizontal scaling of replicas on CPU utilization (Kubernetes HPA semantics)."""

    min_replicas: int = 1
    target_utilization: float
    period_s: float = 15.0
    tolerance: float = 0.1
    scale_down_delay_s: float = 300.0


class WorkloadSpec(FrozenSpec):
    """A stream of jobs sent to a consumer: what every workload type has.

    Each type (``type``: open, closed, batch, …) is a subclass with its own
    fields, defined with its keys and their resolution in its module
    (``config.open_workload``, …) and found by type in ``config.workload_registry``.
    """

    name: str
    target: str | None = Field(
        description="'host', 'host/vm', 'host/vm/ctr' or 'host/ctr'; None when a file gives targets."
    )
    type: str = Field(description="The workload type.")
    demand: DemandSpec | None = Field(default=None, description="Per-job demand.")
    replicas: tuple[str, ...] | None = Field(
        default=None, description="Targets that serve the workload together, in scale-up order; None: ``target``.")
    autoscale: AutoscaleSpec | None = None
    service: ServiceSpec | None = Field(
        default=None, description="FCFS on worker threads; None: processor sharing.")
    client: ClientSpec | None = Field(
        default=None, description="The clients, where they run in the model; None: outside it.")
    when_down: Literal["wait", "refuse"] = Field(
        default="wait", description="A job whose target is not serving waits for it, or fails at once.")
    random_streams: str | None = Field(
        default=None, description="Name of the random streams it draws from; None: its own name.")

    open_ended: ClassVar[bool] = False
    """Its jobs arrive whatever the system does (an open workload): its backlog can grow without bound."""

    @property
    def streams(self) -> str:
        """The name its random streams are derived from."""
        return self.random_streams if self.random_streams is not None else self.name

    @property
    def jobs_file(self) -> FileArrivals | None:
        """The file its jobs are replayed from (with their targets and demands), if they come from one."""
        return None

    @property
    def poisson_rate_per_s(self) -> float | None:
        """Its arrival rate, if its jobs arrive as a Poisson process (what queueing theory can speak of)."""
        return None

    @property
    def target_paths(self) -> tuple[str, ...]:
        """Every target its jobs may go to: its target, its replicas, or the targets a jobs file names."""
        if self.replicas is not None:
            return self.replicas
        if self.target is not None:
            return (self.target,)
        table = getattr(self.jobs_file, "table", None)
        return tuple(table.target_names) if table is not None else ()

    @model_validator(mode="before")
    @classmethod
    def _from_flat_dump(cls, data: Any) -> Any:
        """A dump names the keys of other types, as None (see ``_dump``): they are not this type's."""
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value is not None or key in cls.model_fields}
        return data

    @model_serializer(mode="wrap")
    def _dump(self, handler):
        """The dump every workload has had: the common keys, with ``arrivals``, ``clients`` and ``think_time``
        in every one (None when not of its type), the type's own others after them.

        Kept so that manifests and configuration hashes (a sweep's finished points) stay valid.
        """
        data = handler(self)
        out = {key: data.pop(key) for key in _HEAD if key in data}
        out |= {key: data.pop(key, None) for key in _ALWAYS_DUMPED}
        tail = {key: data.pop(key) for key in _TAIL if key in data}
        return without_absent(out | data | tail, none=("random_streams", "service", "client"))


_HEAD = ("name", "target", "type")
_ALWAYS_DUMPED = ("arrivals", "clients", "think_time")
_TAIL = ("demand", "replicas", "autoscale", "service", "client", "when_down", "random_streams")
