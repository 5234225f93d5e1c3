"""Parse quantities written with units ("20 s", "8 GiB", "0.8 /s") into SI floats.

Four kinds are understood:

========  =============  ===============================================  =================
kind      result         accepted units                                   bare number means
========  =============  ===============================================  =================
``time``  seconds        s, ms, us, µs, min, h (and their long names)     seconds
``size``  bytes          B, KB, MB, GB, TB, KiB, MiB, GiB, TiB            rejected
``rate``  per second     /s, /min, /h, per s, per minute, Hz              per second
``bandwidth``  bytes/s   MB/s, GiB/s, Gbit/s, Mbit/s, kB/s …              rejected
========  =============  ===============================================  =================

Decimal prefixes are powers of 1000 (``1 GB`` = 10⁹ bytes) and binary prefixes
powers of 1024 (``1 GiB`` = 2³⁰ bytes). Signs are kept: whether a quantity may
be zero or negative is for the schema to decide, not for this module.
"""

from __future__ import annotations

import functools
import math
import re
from typing import Literal

__all__ = ["UNIT_PATTERNS", "QuantityKind", "parse_quantity"]

QuantityKind = Literal["time", "size", "rate", "bandwidth"]

_EXAMPLES = {
    "time": "a time like '20 s', '150 ms', '2 h'",
    "size": "a size like '8 GiB', '512 MiB', '1 TB'",
    "rate": "a rate like '0.8 /s', '30 /min', '2 per h'",
    "bandwidth": "a bandwidth like '10 Gbit/s', '800 MB/s', '1 GiB/s'",
}
_NEEDS_UNIT = {
    "size": "a size with a unit like '8 GiB' or '512 MiB'",
    "bandwidth": "a bandwidth with a unit like '10 Gbit/s' or '800 MB/s'",
}
_TARGET_UNIT = {"time": "second", "size": "byte", "rate": "1 / second", "bandwidth": "byte / second"}
_DIMENSION = {"time": "[time]", "size": "", "rate": "1 / [time]", "bandwidth": "1 / [time]"}
# pint knows the SI prefix for kilo only as lower-case "k"; "KB" is common usage.
_KILO_BYTE = re.compile(r"(?<![A-Za-z])KB\b")  # also right after the number: '8KB'


# [0-9] and spaces rather than \d and \s, which match any Unicode digit or space in some regex
# engines and not in others (and pint reads no tab inside a unit).
_NUMBER = r"[-+]?(?:[0-9]+(?:[.][0-9]*)?|[.][0-9]+)(?:[eE][-+]?[0-9]{1,2})?"  # finite: small exponents
_SPACE = r" *"
_TIME_UNIT = r"(?:s|sec|seconds?|ms|milliseconds?|us|µs|microseconds?|ns|nanoseconds?|min|minutes?|h|hr|hours?|d|days?)"
_BYTES = r"(?:[KMGTP]iB|[kKMGTP]?B|bytes?|(?:kilo|mega|giga|tera|kibi|mebi|gibi|tebi)bytes?)"
_BITS = r"(?:[kMGT]bit|bits?|(?:kilo|mega|giga|tera)bits?)"
_PER = rf"(?:{_SPACE}/{_SPACE}| +per +)"
UNIT_PATTERNS = {
    "time": rf"^{_SPACE}{_NUMBER}(?:{_SPACE}{_TIME_UNIT})?{_SPACE}$",
    "size": rf"^{_SPACE}{_NUMBER}{_SPACE}{_BYTES}{_SPACE}$",
    "rate": rf"^{_SPACE}{_NUMBER}(?:{_PER}{_TIME_UNIT}|{_SPACE}[kM]?Hz)?{_SPACE}$",
    "bandwidth": rf"^{_SPACE}{_NUMBER}{_SPACE}(?:{_BYTES}|{_BITS}){_PER}{_TIME_UNIT}{_SPACE}$",
}
"""Regular expressions for the texts of each kind in their common spellings, for editors and the
JSON schema. The parser (pint) is the authority and accepts more: every text these match parses."""


@functools.lru_cache(maxsize=1)
def _registry():
    """The shared pint registry, built on first use (building it takes ~0.5 s)."""
    import pint

    return pint.UnitRegistry()


def parse_quantity(value: str | int | float, kind: QuantityKind) -> float:
    """Return ``value`` converted to SI units (seconds, bytes or per second).

    ``value`` is a number or a string such as ``"150 ms"``. Raises
    ``ValueError`` with a message naming what would be valid when the text is
    not a quantity of the requested kind.
    """
    if kind not in _EXAMPLES:
        raise ValueError(f"unknown quantity kind {kind!r}; expected one of {sorted(_EXAMPLES)}")
    if isinstance(value, bool):
        raise ValueError(f"expected {_EXAMPLES[kind]}; got {value!r}")
    if isinstance(value, (int, float)):
        if kind in _NEEDS_UNIT:
            raise ValueError(f"expected {_NEEDS_UNIT[kind]}; got {value!r} (no unit)")
        return _finite(float(value), value, kind)
    if not isinstance(value, str):
        raise ValueError(f"expected {_EXAMPLES[kind]}; got {value!r}")
    return _parse_text(value.strip(), kind)


@functools.lru_cache(maxsize=4096)
def _parse_text(text: str, kind: str) -> float:
    try:
        number = float(text)
    except ValueError:
        pass
    else:  # a number written as a string
        if kind in _NEEDS_UNIT:
            raise ValueError(f"expected {_NEEDS_UNIT[kind]}; got {text!r} (no unit)")
        return _finite(number, text, kind)
    if kind in _NEEDS_UNIT:
        text = _KILO_BYTE.sub("kB", text)
    registry = _registry()
    try:
        quantity = registry.Quantity(text)
    except Exception:  # pint raises several unrelated types for bad text
        raise ValueError(f"expected {_EXAMPLES[kind]}; got {text!r}") from None
    if not _has_kind(quantity, kind):
        raise ValueError(f"expected {_EXAMPLES[kind]}; got {text!r}")
    magnitude = quantity.to(_TARGET_UNIT[kind]).magnitude
    return _finite(float(magnitude), text, kind)


def _has_kind(quantity, kind: str) -> bool:
    if isinstance(quantity, (int, float)):
        return False
    if kind == "size":
        # pint treats information units as dimensionless, so check the unit names.
        units = list(quantity.unit_items())
        return len(units) == 1 and units[0][0].endswith("byte") and units[0][1] == 1
    if kind == "bandwidth":
        # bits or bytes per unit of time; 'Mb' would be a megabarn, so the
        # information unit is checked by name.
        units = dict(quantity.unit_items())
        information = [u for u, power in units.items() if u.endswith(("byte", "bit")) and power == 1]
        return len(units) == 2 and len(information) == 1 and str(quantity.dimensionality) == "1 / [time]"
    return str(quantity.dimensionality) == _DIMENSION[kind]


def _finite(number: float, original, kind: str) -> float:
    if not math.isfinite(number):
        raise ValueError(f"expected {_EXAMPLES[kind]} with a finite number; got {original!r}")
    return number
