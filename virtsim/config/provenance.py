"""Provenance of catalog profiles: every number cites a source, every source a number.

A profile's ``source`` is a flat mapping keyed by the dotted path of each
number: ``cores``, ``memory.per_vm.base``, ``network_modes.nat.latency_us``;
items of a list are named by their ``name`` (``disks.nvme0.iops``). The paths
are read from the *validated* model, so a number is whatever the schema holds
as an ``int`` or ``float`` (quantities written with units included), and only
keys the file actually gives count: defaults need no source. A list of plain
numbers (a power table) is one measurement and cites one source.
"""

from __future__ import annotations

from collections.abc import Iterator

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from .fields import RESOLVED

__all__ = ["NOT_DATA", "OVERRIDDEN", "SourcedProfile", "item_label", "number_paths", "source_problems"]

OVERRIDDEN = "overridden"
"""Validation-context key: dotted paths set by an experiment file, which need no source."""

NOT_DATA = ("name", "description", "source", "versions")
"""Top-level keys of a profile that are not measurements: they need no source (a version's numbers are
checked against the version's own sources when the catalog reads the file, see :mod:`.versions`)."""


def item_label(item: object, n: int) -> str:
    """How item ``n`` of a list is spelt in a dotted path: by its ``name`` (a mapping's or a model's), else ``n``."""
    name = item.get("name") if isinstance(item, dict) else getattr(item, "name", None)
    return str(n) if name is None else str(name)


def number_paths(model: BaseModel, prefix: str = "") -> Iterator[str]:
    """Dotted paths of the numbers ``model`` was given (not those left at a default)."""
    for field in model.model_fields_set:
        if not prefix and field in NOT_DATA:
            continue
        yield from _paths(getattr(model, field), f"{prefix}{field}")


def _paths(value: object, path: str) -> Iterator[str]:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, (int, float)):
        yield path
    elif isinstance(value, SourcedProfile):
        return  # another profile, named by reference: it carries its own sources
    elif isinstance(value, BaseModel):
        yield from number_paths(value, f"{path}.")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, f"{path}.{key}")
    elif isinstance(value, (list, tuple)) and value and all(_is_number(item) for item in value):
        yield path
    elif isinstance(value, (list, tuple)):
        for n, item in enumerate(value):
            yield from _paths(item, f"{path}.{item_label(item, n)}")


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def source_problems(model: BaseModel, source: dict[str, str], overridden=frozenset()) -> list[str]:
    """What is wrong with ``source`` for ``model``: unsourced numbers, orphan keys."""
    needed = list(number_paths(model))
    missing = [key for key in needed if key not in source and key not in overridden]
    orphans = [key for key in source if key not in set(needed) and key not in overridden]
    problems = []
    if missing:
        problems.append(f"has no source for {', '.join(missing)}")
    if orphans:
        problems.append(f"names numbers the profile does not have: {', '.join(orphans)}")
    return problems


class SourcedProfile(BaseModel):
    """Base of catalog profiles: frozen, unknown keys rejected, every number sourced.

    Subclasses declare ``name``, ``description`` and ``source`` (the last two
    are left out of dumps, so resolved specs stay small). Paths listed in the
    validation context under :data:`OVERRIDDEN` were set by an experiment file
    and need no source; with context ``{RESOLVED: True}`` a resolved dump is
    read back (no texts, SI numbers).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    versions: dict[str, dict[str, Any]] = Field(
        default_factory=dict, exclude=True,
        description="Earlier (or other) versions of this profile, by version name (a quoted string: \"3.2\"). "
                    "Each gives its own 'description', the sections that differ from the current profile "
                    "(deep-merged over it: mappings key by key, other values replace) and a 'source' for every "
                    "number it sets. A stack names one as 'name@version' (vmware-workstation@3.2), and reports "
                    "show that name; 'name' alone is the current version, unchanged. Default: none.")

    @model_validator(mode="before")
    @classmethod
    def _dumped_without_texts(cls, data, info: ValidationInfo):
        if (info.context or {}).get(RESOLVED) and isinstance(data, dict):
            return {"description": "", "source": {}, **data}
        return data

    @model_validator(mode="after")
    def _every_number_sourced(self, info: ValidationInfo):
        if (info.context or {}).get(RESOLVED):
            return self  # rebuilt from a resolved dump: sources were checked when it was resolved
        overridden = (info.context or {}).get(OVERRIDDEN, frozenset())
        problems = source_problems(self, getattr(self, "source", {}), overridden)
        if problems:
            raise ValueError("source " + "; ".join(problems))
        return self
