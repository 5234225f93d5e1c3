"""Service workloads: no arrivals of their own; each job is a call from another workload's request."""

from __future__ import annotations

from typing import Literal

from .workload_kind import WorkloadKind
from .workload_spec import WorkloadSpec


class ServiceWorkload(WorkloadSpec):
    """Serves only the calls other workloads make to it (``demand.calls``): its target, demand and discipline."""

    type: Literal["service"] = "service"


class Service(WorkloadKind):
    spec = ServiceWorkload
    summary = "'service' (no arrivals of its own: it serves the calls of other workloads' requests)"
    noun = "a service workload"
    foreign_key_message = "not for service workloads (their jobs are the calls other workloads make)"


SERVICE = Service()
