"""A workload type in the config layer: the keys it is written with, how they are checked, what they resolve to.

A type's module (``open_workload``, ``closed_workload``, ``batch_workload``)
defines its resolved spec (a :class:`~virtsim.config.workload_spec.WorkloadSpec`
subclass) and one :class:`WorkloadKind`; ``workload_registry`` lists them. The
keys every workload has, and its target, replicas and demand, are checked and
resolved in ``resolve``; a kind adds its own.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, ClassVar

from .resolution import Context
from .workload_spec import WorkloadSpec


class WorkloadKind:
    """The config side of one workload type (its run-time side is ``virtsim.workloads.registry``)."""

    spec: ClassVar[type[WorkloadSpec]]
    """Its resolved form; its ``type`` field's default is the type's name."""
    summary: ClassVar[str]
    """How the ``type`` key's description names it, e.g. "'closed' (fixed client population)"."""
    noun: ClassVar[str]
    """How messages name one: 'an open workload'."""
    input_fields: ClassVar[dict[str, tuple[Any, Any]]] = {}
    """Its own input keys, in order: name → (annotation, ``Field(...)``); a workload of another type must not
    give them."""
    foreign_key_message: ClassVar[str | None] = None
    """What a key of another type in a workload of this type is told; None: "only for <that type> workloads
    (this one is <this type>)"."""

    @property
    def name(self) -> str:
        return self.spec.model_fields["type"].default

    def check(self, wl, loc: tuple, ctx: Context) -> None:
        """Problems of a workload of this type with its own keys (required ones missing, rules)."""

    def resolve_keys(self, wl, loc: tuple, ctx: Context, targets: Collection[str]) -> dict:
        """Its own keys ``wl`` gives, resolved (whatever ``wl``'s type: their problems are reported too)."""
        return {}

    def spec_fields(self, wl, resolved: dict) -> dict:
        """The type's own fields of the spec of ``wl``, from its input and ``resolved`` (all types' keys)."""
        return {}

    def jobs_from_file(self, wl) -> bool:
        """True if a data file gives each job's target and demand (then neither is written)."""
        return False

    def request_memory_problem(self, wl: WorkloadSpec, memory_bytes: float, free_bytes: float, domain: str,
                               size: Callable[[float], str]) -> str | None:
        """Why requests of ``memory_bytes`` each, which do fit once in the ``free_bytes`` of ``domain``, would
        still fail without end; None if they would not. ``size`` writes a number of bytes."""
        return None
