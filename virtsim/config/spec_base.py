"""What every part of the resolved spec is: a frozen model whose dump leaves absent options out."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["FrozenSpec", "without_absent"]


class FrozenSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def without_absent(data: dict, none: tuple[str, ...] = (), empty: tuple[str, ...] = ()) -> dict:
    """``data`` less the keys of ``none`` that hold None and those of ``empty`` that hold an empty sequence.

    An option left out is left out of the dump too, so manifests and config
    hashes of experiments that do not use it stay as they were.
    """
    for key in none:
        if key in data and data[key] is None:
            del data[key]
    for key in empty:
        if key in data and not data[key]:
            del data[key]
    return data
