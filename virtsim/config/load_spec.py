"""Resolved ``loads``: which trace rows drive which consumers (plain data; the parsed trace travels beside)."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from ..data.pods import PodTrace
from ..data.traces import UtilizationTrace

__all__ = ["LoadSpec", "PodLoadSpec", "UtilizationLoadSpec"]


class UtilizationLoadSpec(BaseModel):
    """Consumers following rows of a utilization trace, in order (``rows[i]`` drives ``targets[i]``)."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    name: str
    type: Literal["utilization"] = "utilization"
    format: Literal["planetlab", "bitbrains"]
    paths: tuple[str, ...] = Field(description="Absolute paths of the trace files, in time order.")
    sha256: str = Field(description="SHA-256 of the files' bytes, so a manifest pins the content.")
    targets: tuple[str, ...] = Field(description="Consumer paths, one per trace row.")
    rows: tuple[int | str, ...] | None = Field(description="Trace rows (index or name); None: the first ones.")
    start_s: float = Field(default=0.0, description="Offset into the trace at simulated time 0, seconds.")
    trace: SkipJsonSchema[UtilizationTrace | None] = Field(
        default=None, exclude=True, repr=False, description="The parsed rows (not serialised).")


class PodLoadSpec(BaseModel):
    """Scheduled pods dealt round-robin onto ``targets``; each target's demand is its live pods' CPU requests."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    name: str
    type: Literal["pods"] = "pods"
    path: str = Field(description="Absolute path of the pod list.")
    sha256: str = Field(description="SHA-256 of the file's bytes.")
    targets: tuple[str, ...] = Field(description="Consumer paths taking pods in turn.")
    count: int | None = Field(description="Pods replayed; None: every scheduled pod after start_s.")
    start_s: float = Field(default=0.0, description="Trace time at simulated time 0, seconds.")
    trace: SkipJsonSchema[PodTrace | None] = Field(
        default=None, exclude=True, repr=False, description="The per-target demand (not serialised).")


LoadSpec = Annotated[Union[UtilizationLoadSpec, PodLoadSpec], Field(discriminator="type")]
