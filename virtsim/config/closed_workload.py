"""Closed workloads: a fixed population of clients, each alternating think time and one job."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Literal

from pydantic import Field

from .resolution import Context
from .distributions import resolve_distribution
from .fields import integer
from .workload_inputs import DistributionInput
from .workload_kind import WorkloadKind
from .workload_spec import ConstantDist, DistributionSpec, WorkloadSpec


class ClosedWorkload(WorkloadSpec):
    """``clients`` clients, each sending a job, waiting for its end, then thinking for ``think_time``."""

    type: Literal["closed"] = "closed"
    clients: int = Field(description="Number of clients.")
    think_time: DistributionSpec = Field(description="Think time, seconds.")


class Closed(WorkloadKind):
    spec = ClosedWorkload
    summary = "'closed' (fixed client population)"
    noun = "a closed workload"
    input_fields = {
        "clients": (integer(ge=1) | None, Field(default=None, description="Closed workloads: number of clients.")),
        "think_time": (DistributionInput | None, Field(
            default=None, description="Closed workloads: time between a reply and the next request (default 0 s).")),
    }

    def check(self, wl, loc: tuple, ctx: Context) -> None:
        if wl.clients is None:
            ctx.add((*loc, "clients"), f"required key is missing for {self.noun}")
        if wl.when_down == "refuse":
            ctx.add((*loc, "when_down"), "'refuse' is for open workloads: a closed-loop client whose request is "
                                         "refused would retry at once; use 'wait'")

    def resolve_keys(self, wl, loc: tuple, ctx: Context, targets: Collection[str]) -> dict:
        if wl.think_time is None:
            return {}
        return {"think_time": resolve_distribution(wl.think_time, (*loc, "think_time"), ctx)}

    def spec_fields(self, wl, resolved: dict) -> dict:
        think = resolved["think_time"] if wl.think_time is not None else ConstantDist(value_s=0.0)
        return {"clients": wl.clients, "think_time": think}

    def request_memory_problem(self, wl: ClosedWorkload, memory_bytes: float, free_bytes: float, domain: str,
                               size: Callable[[float], str]) -> str | None:
        retries_at_once = isinstance(wl.think_time, ConstantDist) and wl.think_time.value_s == 0
        if not (retries_at_once and wl.clients * memory_bytes > free_bytes):
            return None
        return (f"{wl.clients} clients × {size(memory_bytes)} exceed the {size(free_bytes)} free in {domain!r}, "
                f"and with no think time a client whose request fails retries at once, forever; "
                f"give a think_time or fewer clients")


CLOSED = Closed()
