"""Input keys of ``loads``: demand replayed from utilization traces, as fluid loads rather than jobs."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

from .fields import Name, Text, choice, integer, quantity

__all__ = ["LoadInput", "PodLoadInput", "UtilizationLoadInput"]


class UtilizationLoadInput(BaseModel):
    """Consumers whose demand follows rows of a utilization trace (PlanetLab, Bitbrains).

    At each sample the consumer's CPU demand becomes the trace's utilization
    times its size (its vCPUs, or a container's cpus limit, at the host's core
    speed), whatever the contention: what it does not get is steal, not
    backlog. Bitbrains rows also load the host's first disk and NIC and report
    memory in use.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Name = Field(description="Unique load name.")
    type: Literal["utilization"] = Field(description="'utilization'.")
    format: choice("planetlab", "bitbrains") = Field(
        description="'planetlab' (one file per day: vm,s000..s287, integer percent of the host CPU every 300 s) "
                    "or 'bitbrains' (GWA-T-12 columns; CPU usage/capacity in MHz, memory KB, disk and network KB/s).")
    path: Text | list[Text] = Field(
        description="Trace file (gzip or plain CSV), relative to the experiment file; for Bitbrains a list of "
                    "files (months) read as one trace in time.")
    targets: Text | list[Text] = Field(
        description="Consumers that follow the trace, in order: a list of paths ('h1/vm0', ...), or one pattern "
                    "matched against every VM and container path in file order ('*/*' every VM, 'h1/*').")
    rows: list[int | str] | None = Field(
        default=None,
        description="Trace rows for the targets, in the same order: 0-based indices or VM names (PlanetLab) / VM ids "
                    "(Bitbrains). Default: the first rows of the trace, one per target.")
    start: quantity("time", ge=0) = Field(
        default=0.0, description="Offset into the trace at simulated time 0, e.g. '30 d' for Bitbrains; default 0 s.")


class PodLoadInput(BaseModel):
    """Pods of an Alibaba ``openb_pod_list`` file replayed onto targets, round-robin in order of scheduled time.

    A pod runs from its ``scheduled_time`` to its ``deletion_time`` and uses its
    CPU request (``cpu_milli``) as a fluid load on its target for that time; its
    memory request counts as memory in use. Pods never scheduled (Pending) are
    left out. Placement policies are not applied here: the targets take turns.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Name = Field(description="Unique load name.")
    type: Literal["pods"] = Field(description="'pods'.")
    path: Text = Field(description="Pod list CSV (openb_pod_list_*.csv), relative to the experiment file.")
    targets: Text | list[Text] = Field(
        description="Hosts, VMs or containers that take the pods in turn: a list of paths or one pattern "
                    "matched in file order ('*' every host).")
    count: integer(ge=1) | None = Field(
        default=None, description="Replay only the first this many scheduled pods (after 'start'); default all.")
    start: quantity("time", ge=0) = Field(
        default=0.0, description="Trace time at simulated time 0; pods scheduled earlier are left out. Default 0 s.")


LoadInput = Annotated[Union[UtilizationLoadInput, PodLoadInput], Field(discriminator="type")]
"""A ``loads`` entry: a utilization trace or pod records."""
