"""Workload types by name: the spec's ``type`` → how its source is built (and its own result columns).

A new type is a module that defines its source and a
:class:`~virtsim.workloads.wiring.WorkloadType`, registered here (the built-in
ones are listed below) or with :func:`register` before the simulation is
built. Its spec (the keys it is written with, and how they resolve) belongs
to the config layer: see ``virtsim.config.workload_registry``.
"""

from __future__ import annotations

from .batch import BATCH
from .closed_loop import CLOSED
from .open_loop import OPEN
from .service import SERVICE
from .wiring import Wiring, WorkloadType

__all__ = ["WORKLOAD_TYPES", "build_sources", "register", "workload_type"]

WORKLOAD_TYPES: dict[str, WorkloadType] = {kind.name: kind for kind in (OPEN, CLOSED, BATCH, SERVICE)}


def register(kind: WorkloadType) -> WorkloadType:
    """Make ``kind`` the run-time side of the workloads whose ``type`` is ``kind.name``."""
    WORKLOAD_TYPES[kind.name] = kind
    return kind


def workload_type(name: str) -> WorkloadType:
    try:
        return WORKLOAD_TYPES[name]
    except KeyError:
        raise ValueError(f"no workload type {name!r} is registered; known: {', '.join(WORKLOAD_TYPES)}") from None


def build_sources(workloads, wiring: Wiring) -> list:
    """The source of each workload, in order (its index is its place in the job log)."""
    wiring.workloads = tuple(workloads)
    sources = wiring.sources
    sources.clear()
    for index, w in enumerate(workloads):
        sources.append(_build(index, w, wiring))
    return list(sources)


def _build(index: int, w, wiring: Wiring):
    threads = w.demand.threads if w.demand is not None else 1
    replicas = wiring.replica_set(w)
    options = wiring.job_options(w, list(w.target_paths), threads)
    if replicas is not None:
        options["replicas"] = replicas
    return workload_type(w.type).build(w, index, wiring, threads, options)
