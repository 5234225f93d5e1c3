"""Batch workloads: a set of jobs submitted at once (or at each of several times), run to completion."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .resolution import Context
from .fields import integer, quantity
from .workload_kind import WorkloadKind
from .workload_spec import WorkloadSpec


class BatchWorkload(WorkloadSpec):
    """``jobs`` jobs submitted together at each time of ``at_s``; its makespan is in the results."""

    type: Literal["batch"] = "batch"
    jobs: int = Field(description="Jobs submitted at each of at_s.")
    at_s: tuple[float, ...] = Field(description="Submission times, seconds.")


class Batch(WorkloadKind):
    spec = BatchWorkload
    summary = "'batch' (a set of jobs submitted at once, run to completion; its makespan is in the results)"
    noun = "a batch workload"
    input_fields = {
        "jobs": (integer(ge=1) | None, Field(
            default=None, description="Batch workloads: jobs submitted at each time of 'at'.")),
        "at": (list[quantity("time", ge=0)] | None, Field(
            default=None, min_length=1, description="Batch workloads: submission times (default [0 s]).")),
    }
    foreign_key_message = "not for batch workloads (jobs and at say when jobs come)"

    def check(self, wl, loc: tuple, ctx: Context) -> None:
        if wl.jobs is None:
            ctx.add((*loc, "jobs"), f"required key is missing for {self.noun}")

    def spec_fields(self, wl, resolved: dict) -> dict:
        return {"jobs": wl.jobs, "at_s": tuple(wl.at) if wl.at is not None else (0.0,)}


BATCH = Batch()
