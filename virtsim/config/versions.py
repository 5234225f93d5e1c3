"""Versions of a catalog profile: ``vmware-workstation@3.2`` is the profile as that release behaved.

A profile may carry ``versions``, a mapping from a version name (a string:
``"3.2"``) to what differs in that version from the current profile: its own
``description``, the sections it overrides, and a ``source`` for every number
it sets. ``name@version`` is the current profile deep-merged with them:
mappings merge key by key, anything else (a number, a quantity, a list)
replaces the current value; what a version does not name stays the current
profile's, with the current source. ``name`` alone is the current version,
exactly as it was before versions existed. The resolved profile is named
``name@version``, so layers, reports and tables show which version ran.

Pure mappings, no schema: :mod:`.catalog_store` validates each version's
merged profile against its kind's schema when it reads the file.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..wording import closest, listing
from .errors import Problem

__all__ = ["FIXED_KEYS", "SEPARATOR", "VERSIONS_KEY", "deep_merge", "leaf_paths", "merged_version",
           "split_ref", "unknown_version", "version_problems", "versioned_name"]

SEPARATOR = "@"
"""Between a profile's name and its version: ``docker@1.0``."""

VERSIONS_KEY = "versions"
"""The key of a profile that holds its versions."""

FIXED_KEYS = ("name", VERSIONS_KEY)
"""Keys a version cannot set: its name comes from the profile's, and versions do not nest."""

_TEXT_KEYS = ("description", "source")


def split_ref(ref: str) -> tuple[str, str | None]:
    """``("vmware-workstation", "3.2")`` for ``vmware-workstation@3.2``; ``(ref, None)`` without ``@``."""
    name, sep, version = ref.partition(SEPARATOR)
    return (name, version) if sep else (ref, None)


def versioned_name(name: str, version: str | None) -> str:
    """How a profile of ``version`` is named in stacks and reports: ``name@version`` (``name`` for the current)."""
    return name if version is None else f"{name}{SEPARATOR}{version}"


def deep_merge(base: dict, overrides: dict) -> dict:
    """``base`` with ``overrides`` applied: mappings merge key by key, any other value replaces."""
    merged = dict(base)
    for key, value in overrides.items():
        old = merged.get(key)
        merged[key] = deep_merge(old, value) if isinstance(old, dict) and isinstance(value, dict) else value
    return merged


def leaf_paths(tree: dict, prefix: str = "") -> Iterator[str]:
    """Dotted paths of the values ``tree`` sets (a non-empty mapping is walked into)."""
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            yield from leaf_paths(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}"


def version_problems(data: dict) -> list[Problem]:
    """What is wrong with the shape of ``data``'s versions (each version's values are checked by its schema)."""
    versions = data.get(VERSIONS_KEY)
    if versions is None:
        return []
    if not isinstance(versions, dict):
        return [Problem(VERSIONS_KEY, f"must be a mapping of version names to what differs in that version, "
                                      f"got {type(versions).__name__}")]
    problems = []
    for version, entry in versions.items():
        where = f"{VERSIONS_KEY}.{version}"
        if not isinstance(version, str) or not version.strip() or SEPARATOR in version or "/" in version:
            problems.append(Problem(where, f"a version name must be a non-empty string without '{SEPARATOR}' or "
                                           f"'/'; quote it (\"3.2\", not 3.2), got {version!r}"))
            continue
        if not isinstance(entry, dict):
            problems.append(Problem(where, f"must be a mapping (description, source and the sections that "
                                           f"differ), got {type(entry).__name__}"))
            continue
        for key in FIXED_KEYS:
            if key in entry:
                problems.append(Problem(f"{where}.{key}", "cannot be set by a version (the name is "
                                                          f"'{data.get('name')}{SEPARATOR}{version}')"))
        if not isinstance(entry.get("description"), str) or not entry["description"].strip():
            problems.append(Problem(f"{where}.description", "required: what this version is and how it differs"))
        if not isinstance(entry.get("source", {}), dict):
            problems.append(Problem(f"{where}.source", "must be a mapping of dotted paths to sources"))
    return problems


def merged_version(data: dict, version: str) -> tuple[dict, frozenset[str]]:
    """(the profile ``data`` as of ``version``, the dotted paths the version sets).

    The version's ``source`` entries replace the current ones of the same
    path; its ``description`` replaces the current one. ``data`` must have
    passed :func:`version_problems`.
    """
    entry = data[VERSIONS_KEY][version]
    overrides = {key: value for key, value in entry.items() if key not in _TEXT_KEYS}
    base = {key: value for key, value in data.items() if key != VERSIONS_KEY}
    merged = deep_merge(base, overrides)
    merged["name"] = versioned_name(str(data.get("name")), version)
    merged["description"] = entry["description"]
    merged["source"] = {**(data.get("source") or {}), **(entry.get("source") or {})}
    return merged, frozenset(leaf_paths(overrides))


def unknown_version(name: str, version: str, known) -> str:
    """The message for ``name@version`` when ``name`` has no such version, with close matches."""
    known = list(known)
    current = f"'{name}' alone is the current version"
    if not known:
        return f"profile {name!r} has no version {version!r}: it defines no versions; {current}"
    match = closest(version, known)
    hint = f" (did you mean {versioned_name(name, match)!r}?)" if match else ""
    return (f"profile {name!r} has no version {version!r}{hint}; its versions: "
            f"{listing(versioned_name(name, v) for v in known)}; {current}")
