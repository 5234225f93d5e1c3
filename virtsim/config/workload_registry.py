"""Workload types by name (the ``type`` key) in the config layer: their keys, checks and resolved specs.

The built-in types are listed here; a new one is a module like
``closed_workload`` (its spec class, its keys, their checks and resolution),
added to the list, plus its run-time side in ``virtsim.workloads.registry``.
:func:`register` adds one later: its spec is then read back from dumps, but
the experiment file's schema (``inputs.WorkloadInput``) is built from the
types listed here when it is imported.
"""

from __future__ import annotations

from .batch_workload import BATCH
from .closed_workload import CLOSED
from .open_workload import OPEN
from .resolution import Context
from .service_workload import SERVICE
from .workload_kind import WorkloadKind

__all__ = ["WORKLOAD_KINDS", "check_type_keys", "register", "workload_kind"]

WORKLOAD_KINDS: dict[str, WorkloadKind] = {kind.name: kind for kind in (OPEN, CLOSED, BATCH, SERVICE)}


def register(kind: WorkloadKind) -> WorkloadKind:
    """Make ``kind`` the config side of the workloads whose ``type`` is ``kind.name``."""
    WORKLOAD_KINDS[kind.name] = kind
    return kind


def workload_kind(name: str) -> WorkloadKind:
    try:
        return WORKLOAD_KINDS[name]
    except KeyError:
        raise ValueError(f"no workload type {name!r} is registered; known: {', '.join(WORKLOAD_KINDS)}") from None


def check_type_keys(wl, loc: tuple, ctx: Context) -> None:
    """A workload gives the keys its type needs, and none of another type's."""
    kind = workload_kind(wl.type)
    kind.check(wl, loc, ctx)
    for other in WORKLOAD_KINDS.values():
        if other is kind:
            continue
        for key in other.input_fields:
            if getattr(wl, key, None) is not None:
                message = kind.foreign_key_message or f"only for {other.name} workloads (this one is {kind.name})"
                ctx.add((*loc, key), message)
