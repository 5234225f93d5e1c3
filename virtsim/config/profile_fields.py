"""A catalog profile as rows of (dotted path, value as written, its source): what ``virtsim catalog NAME`` shows.

Paths are spelt as the profile's ``source`` keys are (see :mod:`.provenance`):
``cpu.factor``, ``memory.per_vm.base``, list items by their ``name``
(``disks.nvme0.iops``); a list of plain values (a power table) is one row.
Values are shown as the file writes them (``218 MiB``), not in SI units.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from .provenance import NOT_DATA, item_label

__all__ = ["ProfileField", "profile_fields"]


class ProfileField(NamedTuple):
    path: str
    value: object
    source: str | None  # None: the value needs none (not a number) or the file gives none


def profile_fields(entry: dict) -> list[ProfileField]:
    """Every value of the catalog mapping ``entry`` with its source, in file order."""
    sources = entry.get("source") or {}
    return [ProfileField(path, value, sources.get(path))
            for key, item in entry.items() if key not in NOT_DATA
            for path, value in _leaves(item, key)]


def _leaves(value: object, path: str) -> Iterator[tuple[str, object]]:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from _leaves(item, f"{path}.{key}")
    elif isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        for n, item in enumerate(value):
            yield from _leaves({k: v for k, v in item.items() if k != "name"}, f"{path}.{item_label(item, n)}")
    else:
        yield path, value
