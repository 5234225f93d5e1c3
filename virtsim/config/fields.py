"""Field types for the input schema, each with a plain-English error message.

Every type here checks its value in one ``BeforeValidator`` so that a bad value
produces a single message quoting it (``must be an integer ≥ 1, got 0``)
rather than pydantic's generic wording. The range is also recorded as schema
metadata so a generated JSON schema shows it.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, ValidationInfo, WithJsonSchema

from ..wording import did_you_mean
from .errors import format_value
from .units import UNIT_PATTERNS, QuantityKind, parse_quantity

__all__ = ["RESOLVED", "Currency", "Name", "OrAlso", "Text", "choice", "integer", "number", "quantity", "quantity_schema"]


def _bounds_text(gt, ge, le) -> str:
    if ge is not None and le is not None:
        return f" from {ge:g} to {le:g}"
    if gt is not None and le is not None:
        return f" > {gt:g} and ≤ {le:g}"
    if gt is not None:
        return f" > {gt:g}"
    if ge is not None:
        return f" ≥ {ge:g}"
    if le is not None:
        return f" ≤ {le:g}"
    return ""


def _in_bounds(value: float, gt, ge, le) -> bool:
    return (
        (gt is None or value > gt)
        and (ge is None or value >= ge)
        and (le is None or value <= le)
    )


def integer(*, ge: int | None = None, le: int | None = None):
    """An ``int`` (not a bool, not a fraction) within the given bounds."""
    expected = f"an integer{_bounds_text(None, ge, le)}"

    def check(value: Any) -> int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not _in_bounds(value, None, ge, le):
            raise ValueError(f"must be {expected}, got {format_value(value)}")
        return value

    return Annotated[int, Field(ge=ge, le=le), BeforeValidator(check)]


def number(*, gt: float | None = None, ge: float | None = None, le: float | None = None):
    """A finite real number (ints accepted) within the given bounds."""
    expected = f"a number{_bounds_text(gt, ge, le)}"

    def check(value: Any) -> float:
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or not _in_bounds(value, gt, ge, le)
        ):
            raise ValueError(f"must be {expected}, got {format_value(value)}")
        return float(value)

    return Annotated[float, Field(gt=gt, ge=ge, le=le), BeforeValidator(check)]


RESOLVED = "resolved"
"""Validation-context key: the data is a resolved dump, whose quantities are already SI numbers."""


def quantity(kind: QuantityKind, *, gt: float | None = None, ge: float | None = None):
    """A time, size or rate written with a unit; validated to an SI float.

    When validating with context ``{RESOLVED: True}`` (rebuilding a resolved
    spec from its dump), a bare number is taken as already in SI units.
    """
    expected = f"a {kind}{_bounds_text(gt, ge, None)}"

    def check(value: Any, info: ValidationInfo) -> float:
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        resolved = number and (info.context or {}).get(RESOLVED)
        si_value = float(value) if resolved else parse_quantity(value, kind)  # raises ValueError naming valid forms
        if not _in_bounds(si_value, gt, ge, None):
            raise ValueError(f"must be {expected}, got {format_value(value)}")
        return si_value

    return Annotated[float, BeforeValidator(check), WithJsonSchema(quantity_schema(kind, gt=gt, ge=ge))]


_UNIT_HINTS = {
    "time": "a time: a number with s, ms, us, min or h (seconds if bare)",
    "size": "a size: a number with B, KB, MB, GB, KiB, MiB, GiB or TiB",
    "rate": "a rate: a number with /s, /min or /h (per second if bare)",
    "bandwidth": "a bandwidth: a number with MB/s, GB/s, GiB/s, Mbit/s or Gbit/s",
}


def quantity_schema(kind: QuantityKind, *, gt: float | None = None, ge: float | None = None) -> dict:
    """The JSON schema of a quantity: a unit string of its kind, or (time and rate) a bare number in SI units.

    The string's bounds are left to the loader (they need the unit); ``x-quantity`` names the kind.
    """
    text = {"type": "string", "pattern": UNIT_PATTERNS[kind]}
    schema: dict = {"x-quantity": kind, "description": _UNIT_HINTS[kind]}
    if kind in ("size", "bandwidth"):
        return schema | text
    bare: dict = {"type": "number"}
    if gt is not None:
        bare["exclusiveMinimum"] = gt
    if ge is not None:
        bare["minimum"] = ge
    return schema | {"anyOf": [text, bare]}


class OrAlso:
    """Schema marker: the value may also be written in the shorter ``form`` (a JSON schema).

    For inputs a ``BeforeValidator`` expands, such as a catalog name for
    ``{profile: name}`` or a bare time for a constant distribution, so the
    generated schema accepts what the loader accepts.
    """

    def __init__(self, form: dict):
        self.form = form

    def __get_pydantic_json_schema__(self, core_schema, handler):
        return {"anyOf": [handler(core_schema), self.form]}


def _check_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or "/" in value or value != value.strip():
        raise ValueError(
            f"must be a non-empty name without '/' or surrounding spaces, got {format_value(value)}"
        )
    return value


def _check_text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be a string, got {format_value(value)}")
    return value


Name = Annotated[str, Field(min_length=1, pattern=r"^[^/\s](?:[^/]*[^/\s])?$"), BeforeValidator(_check_name)]
"""A name used in target paths: non-empty, no '/', no surrounding spaces."""

Text = Annotated[str, BeforeValidator(_check_text)]
"""Free text such as a description or a file path."""

_CURRENCY = r"^[A-Z]{3}$"


def _check_currency(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(_CURRENCY, value):
        raise ValueError(f"must be an ISO 4217 code such as USD or EUR, got {format_value(value)}")
    return value


Currency = Annotated[str, Field(pattern=_CURRENCY), BeforeValidator(_check_currency)]
"""A currency: three capital letters, as ISO 4217 codes are written (USD, EUR)."""


def choice(*options: str):
    """One of a fixed set of strings; a near miss gets a suggestion."""
    listed = ", ".join(repr(option) for option in options)

    def check(value: Any) -> str:
        if value not in options:
            hint = did_you_mean(value, options) if isinstance(value, str) else ""
            raise ValueError(f"must be one of {listed}, got {format_value(value)}{hint}")
        return value

    return Annotated[Literal[options], BeforeValidator(check)]
