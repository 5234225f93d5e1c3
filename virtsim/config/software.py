"""Software resources (locks, connection pools, commit paths) and the holds of requests on them, checked."""

from __future__ import annotations

from ..wording import unknown
from .checks import check_unique_names
from .resolution import Context
from .workload_spec import SoftwareResourceSpec, WorkloadSpec

__all__ = ["check_holds", "resolve_software_resources"]


def resolve_software_resources(entries: list[tuple[int, object]], ctx: Context) -> tuple[SoftwareResourceSpec, ...]:
    """The top-level ``software_resources`` (``(index, entry)`` pairs), their names unique."""
    check_unique_names(entries, "software_resources", "software resource", ctx)
    return tuple(SoftwareResourceSpec(name=entry.name, capacity=entry.capacity) for _, entry in entries)


def check_holds(workloads: list[tuple[int, WorkloadSpec]], resources: tuple[SoftwareResourceSpec, ...],
                ctx: Context) -> None:
    """Each hold names a known resource once; the fractions fit in the request; only the last holds through disk."""
    names = [r.name for r in resources]
    for i, wl in workloads:
        holds = wl.demand.holds if wl.demand is not None else ()
        loc = ("workloads", i, "demand", "holds")
        for k, hold in enumerate(holds):
            if hold.resource not in names:
                ctx.add((*loc, k, "resource"), unknown("software resource", hold.resource, names)
                        + ("" if names else " (list them under the top-level 'software_resources')"))
            elif hold.resource in [h.resource for h in holds[:k]]:
                ctx.add((*loc, k, "resource"), f"{hold.resource!r} is held twice by one request")
            if hold.through_disk and k != len(holds) - 1:
                ctx.add((*loc, k, "through_disk"), "only the last hold can last through the disk operations")
            if hold.through_disk and wl.demand.disk is None:
                ctx.add((*loc, k, "through_disk"), "the request has no disk operations ('demand.disk')")
        total = sum(h.fraction for h in holds)
        if total > 1.0 + 1e-12:
            ctx.add(loc, f"the fractions add up to {total:g}: at most 1, the request's whole CPU work")
