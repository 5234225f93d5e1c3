"""The ``placement`` section: a pool of VMs and containers for the loader to place on hosts.

Pool items are written as a host's VMs and containers are, and land under the
host the policy picks; the resolved spec then looks as if the file had listed
them there. A pool item is named on its own (``web-1``) and targets name it so
(``web-1``, ``web-1/app``): the loader rewrites them to the host it landed on.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..placement.policies import POLICIES
from .fields import Name, Text, choice, integer, number, quantity
from .host_inputs import COUNT_DESCRIPTION, ContainerInput, VMInput

__all__ = ["PLACEMENT_POLICIES", "SCORING", "PlacementInput", "PoolContainerInput", "PoolVMInput", "RequestsInput"]

PLACEMENT_POLICIES = tuple(POLICIES)
"""The policies of `virtsim.placement.policies`, in the order they were registered."""
SCORING = ("least-allocated", "most-allocated")


class RequestsInput(BaseModel):
    """What a container asks the scheduler for (Kubernetes ``resources.requests``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cpu: number(ge=0) | None = Field(default=None, description="CPU in cores, e.g. 0.5 (default: its cpus limit, else 0).")
    memory: quantity("size", ge=0) | None = Field(
        default=None, description="Memory, e.g. '256 MiB' (default: its memory limit, else 0).")


class PoolVMInput(VMInput):
    """A VM to place, written as a host's VMs are."""

    count: integer(ge=1) = Field(default=1, description=COUNT_DESCRIPTION)


class PoolContainerInput(ContainerInput):
    """A container to place directly on a host; its ``cpus`` and ``memory`` are its limits."""

    count: integer(ge=1) = Field(default=1, description=COUNT_DESCRIPTION)
    requests: RequestsInput | None = Field(
        default=None, description="Requests for placement; each defaults to the matching limit, as in Kubernetes.")


class PodShapesInput(BaseModel):
    """Containers to place made from a pod trace's requests (Alibaba openb ``openb_pod_list_*.csv``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: Text = Field(description="The pod list CSV, relative to the experiment file.")
    count: integer(ge=1) | None = Field(default=None, description="The first this many scheduled pods (default: all).")
    start: quantity("time", ge=0) = Field(default=0.0, description="Only pods scheduled at or after this trace time.")


class PlacementInput(BaseModel):
    """VMs and containers placed on hosts by a policy, in the order given.

    Each item needs CPU (a VM its vCPUs; a container its CPU request) and
    memory (a VM its RAM plus its VMM's overhead on that host; a container its
    memory request plus its engine's per-container memory); a host offers its
    cores × ``cpu_overcommit`` and its memory × ``memory_overcommit`` less what
    is already committed on it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    policy: choice(*PLACEMENT_POLICIES) = Field(
        description="'first-fit' (first host in order that fits), 'best-fit' (least room left), 'worst-fit' "
                    "(most room left), 'spread' (fewest VMs and containers), 'random' (seeded by the experiment "
                    "seed) or 'kubernetes' (filter on requests, then score).")
    scoring: choice(*SCORING) = Field(
        default="least-allocated",
        description="The kubernetes policy's score: 'least-allocated' (default: spreads) or 'most-allocated' (packs).")
    cpu_overcommit: number(gt=0) = Field(default=1.0, description="Cores that may be committed per physical core.")
    memory_overcommit: number(ge=1) = Field(
        default=1.0, description="Memory that may be committed per byte of physical memory; also the placed-on "
                                 "hosts' admission ratio when higher than their own memory_overcommit.")
    hosts: list[Name] | None = Field(default=None, description="Hosts the pool may use, in order (default: all).")
    anti_affinity: list[list[Name]] = Field(
        default_factory=list, description="Groups of pool item names; items of one group never share a host.")
    vms: list[PoolVMInput] = Field(default_factory=list, description="VMs to place, as a host's VMs are written.")
    containers: list[PoolContainerInput] = Field(
        default_factory=list, description="Containers to place directly on a host, as a host's containers are written, "
                                          "with optional requests.")
    containers_from: PodShapesInput | None = Field(
        default=None, description="More containers, one per pod of a pod trace, in order of scheduled time: named "
                                  "pod-1, pod-2, …, each with the pod's CPU and memory requests and no limits.")

    @model_validator(mode="after")
    def _something_to_place(self):
        if not self.vms and not self.containers and self.containers_from is None:
            raise ValueError("give at least one VM or container to place")
        return self

    def copies(self, key: str) -> list[tuple[int, VMInput | PoolContainerInput]]:
        """(index in the file, item) for ``vms`` or ``containers``, an item of ``count`` N written out N times."""
        out = []
        for k, item in enumerate(getattr(self, key)):
            if item.count == 1:
                out.append((k, item))
            else:
                out.extend((k, item.model_copy(update={"name": f"{item.name}-{c}", "count": 1}))
                           for c in range(1, item.count + 1))
        return out
