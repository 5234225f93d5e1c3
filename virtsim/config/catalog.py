"""The model catalog: named profiles stored as YAML files under ``models/``.

``models/<kind>/<name>.yaml`` holds one profile (for example
``models/hardware/server-2s-32c.yaml``). The folder is the repository's
top-level ``models/``, or the one named by the ``VIRTSIM_MODELS`` environment
variable. Each kind has a schema; every number in a profile must cite a source.
"""

from __future__ import annotations

import os
from pathlib import Path

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import ConfigError, Problem
from .fields import Name, Text, integer, number, quantity
from .suggest import unknown
from .translate import problems_from
from .yaml_source import read_yaml

__all__ = ["CATALOG_SCHEMAS", "HardwareProfile", "catalog_dir", "catalog_names", "load_catalog_entry"]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DiskProfile(_Entry):
    """A disk of a hardware profile; reads and writes may differ."""

    name: Name = Field(description="Disk name, unique within the host.")
    kind: Literal["nvme", "ssd", "hdd", "san"] = Field(description="Device class.")
    iops: number(gt=0) = Field(description="Random 4 kB read operations per second.")
    write_iops: number(gt=0) | None = Field(default=None, description="Random 4 kB writes per second (default: iops).")
    bandwidth: quantity("bandwidth", gt=0) = Field(description="Sequential read bandwidth, e.g. '3 GB/s'.")
    write_bandwidth: quantity("bandwidth", gt=0) | None = Field(
        default=None, description="Sequential write bandwidth (default: bandwidth).")
    latency_us: number(gt=0) = Field(description="Service latency of one random 4 kB read, µs.")
    write_latency_us: number(gt=0) | None = Field(
        default=None, description="Service latency of one random 4 kB write, µs (default: latency_us).")


class NicProfile(_Entry):
    """A network interface of a hardware profile."""

    name: Name = Field(description="Interface name, unique within the host.")
    bandwidth: quantity("bandwidth", gt=0) = Field(description="Line rate, e.g. '25 Gbit/s'.")
    latency_us: number(gt=0) = Field(description="One-way latency of a small transaction through the native stack, µs.")


class HardwareProfile(_Entry):
    """A catalog hardware profile (``models/hardware/<name>.yaml``).

    ``source`` maps every number to where it comes from: ``cores``,
    ``core_speed``, ``memory``, and ``disks.<name>.<key>`` / ``nics.<name>.<key>``
    for each number of a disk or NIC.
    """

    name: Name = Field(description="Profile name; equals the file name without '.yaml'.")
    description: Text = Field(description="What machine this is.")
    cores: integer(ge=1) = Field(description="Physical cores.")
    core_speed: number(gt=0) = Field(description="Speed of one core relative to the reference core (1.0).")
    memory: quantity("size", gt=0) = Field(description="Installed memory, e.g. '256 GiB'.")
    disks: list[DiskProfile] = Field(default_factory=list, description="Local disks.")
    nics: list[NicProfile] = Field(default_factory=list, description="Network interfaces.")
    source: dict[str, Text] = Field(description="A source for every number above, keyed by its dotted path.")

    @model_validator(mode="after")
    def _every_number_sourced(self) -> HardwareProfile:
        needed = ["cores", "core_speed", "memory"]
        for key, items in (("disks", self.disks), ("nics", self.nics)):
            for item in items:
                needed += [f"{key}.{item.name}.{field}" for field, value in item
                           if field not in ("name", "kind") and value is not None]
        missing = [key for key in needed if key not in self.source]
        orphans = [key for key in self.source if key not in needed]
        problems = []
        if missing:
            problems.append(f"has no source for {', '.join(missing)}")
        if orphans:
            problems.append(f"names numbers the profile does not have: {', '.join(orphans)}")
        if problems:
            raise ValueError("source " + "; ".join(problems))
        return self


CATALOG_SCHEMAS: dict[str, type[BaseModel]] = {"hardware": HardwareProfile}


def catalog_dir() -> Path:
    """The catalog folder: ``$VIRTSIM_MODELS`` or the repository's ``models/``."""
    override = os.environ.get("VIRTSIM_MODELS")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "models"


def catalog_names(kind: str) -> list[str]:
    """Sorted names of the profiles of ``kind`` (e.g. ``"hardware"``)."""
    folder = catalog_dir() / kind
    return sorted(path.stem for path in folder.glob("*.yaml")) if folder.is_dir() else []


def load_catalog_entry(kind: str, name: str) -> dict:
    """The profile ``name`` of ``kind`` as a plain mapping, checked against its schema.

    Raises ``ConfigError`` if the profile does not exist (listing valid names)
    or its file has problems (naming the file).
    """
    path = catalog_dir() / kind / f"{name}.yaml"
    if not isinstance(name, str) or "/" in name or not path.is_file():
        message = unknown(f"{kind} profile", name, catalog_names(kind))
        raise ConfigError([Problem("", message)], f"{kind} catalog")
    data, lines = read_yaml(path)
    schema = CATALOG_SCHEMAS.get(kind)
    problems: list[Problem] = []
    if not isinstance(data, dict):
        problems.append(Problem("", f"must be a mapping, got {type(data).__name__}"))
    elif schema is not None:
        try:
            schema.model_validate(data)
        except ValidationError as err:
            problems.extend(problems_from(err, schema, lines=lines))
        if data.get("name") != name:
            message = f"must equal the file name {name!r}, got {data.get('name')!r}"
            problems.append(Problem("name", message, lines.line(("name",))))
    if problems:
        raise ConfigError(problems, _shown_path(path))
    return data


def _shown_path(path: Path) -> str:
    """The catalog file relative to the catalog's parent, e.g. ``models/hardware/x.yaml``."""
    root = catalog_dir()
    try:
        return str(Path(root.name) / path.relative_to(root))
    except ValueError:
        return str(path)
