"""What queueing theory says a file's run should give: the optional top-level ``theory`` key.

A file that reproduces a closed form states the answer beside the model, e.g.
``theory: {response_time_mean_s: 5.0, cpu_utilization: 0.8}`` for an M/M/1 at
ρ = 0.8; ``virtsim run`` prints it beside the replications' mean and its 95 %
confidence interval and says whether the interval covers it. One answer for the
whole file: it cannot be combined with ``sweep``, whose scenarios differ.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from .fields import number

__all__ = ["TheoryInput"]


class TheoryInput(BaseModel):
    """The theoretical value of summary metrics (each one optional)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    throughput_per_s: number(ge=0) | None = Field(default=None, description="Completed jobs per second.")
    response_time_mean_s: number(ge=0) | None = Field(default=None, description="Mean response time, seconds.")
    response_time_p50_s: number(ge=0) | None = Field(default=None, description="Median response time, seconds.")
    response_time_p95_s: number(ge=0) | None = Field(default=None, description="95th percentile, seconds.")
    response_time_p99_s: number(ge=0) | None = Field(default=None, description="99th percentile, seconds.")
    cpu_utilization: number(ge=0, le=1) | None = Field(default=None, description="Host CPU utilization, 0 to 1.")

    def values(self) -> dict[str, float]:
        """The metrics given, by summary column."""
        return self.model_dump(exclude_none=True)
