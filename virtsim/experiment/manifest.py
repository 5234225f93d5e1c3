"""The manifest: what was run, with which inputs, seed and software versions."""

from __future__ import annotations

import hashlib
import json
import platform
import sys
from functools import cache
from importlib import metadata

from ..engine import COMPILED

KEY_LIBRARIES = ("simpy", "numpy", "pandas", "scipy", "pydantic", "pint", "pyyaml", "click")

TIMING_FIELDS = ("started_at", "wall_s")
"""Manifest fields that differ between identical runs."""
ENGINE_FIELD = "engine"
"""``compiled`` or ``python``: which build of the sharing engine ran (the results are the same)."""


def canonical_json(data) -> str:
    """JSON with sorted keys and no spacing variance: the form that is hashed."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


MACHINE_SPECIFIC_KEYS = frozenset({"source", "path"})
"""Keys left out of the hash: where the experiment and its data files lie on
this machine. Data files are identified by their ``sha256`` instead, so the same
experiment has the same hash in any checkout."""


def portable(resolved):
    """The resolved configuration without machine-specific file locations."""
    if isinstance(resolved, dict):
        return {k: portable(v) for k, v in resolved.items() if k not in MACHINE_SPECIFIC_KEYS}
    if isinstance(resolved, list):
        return [portable(v) for v in resolved]
    return resolved


def config_hash(resolved: dict) -> str:
    """sha256 of the canonical JSON of a resolved configuration's portable form."""
    return hashlib.sha256(canonical_json(portable(resolved)).encode("utf-8")).hexdigest()


def versions() -> dict[str, str]:
    """Versions of virtsim, Python and the libraries that shape results."""
    return dict(_versions())


@cache
def _versions() -> tuple[tuple[str, str], ...]:
    # Installed versions do not change while the process runs.
    out = {"virtsim": _version("virtsim"), "python": platform.python_version()}
    for name in KEY_LIBRARIES:
        out[name] = _version(name)
    return tuple(out.items())


def _version(dist: str) -> str:
    """The ``Version`` field of an installed distribution's metadata.

    The header lines are scanned for it (core metadata writes it on one line):
    ``metadata.version`` parses the whole file as an e-mail message, long
    description and licence texts included, which costs several times a short run.
    """
    try:
        found = metadata.distribution(dist)
    except metadata.PackageNotFoundError:
        return "not installed"
    text = found.read_text("METADATA") or found.read_text("PKG-INFO") or ""
    for line in text.splitlines():
        if not line:
            break  # the end of the headers
        if line.startswith("Version:"):
            return line[len("Version:"):].strip()
    return "unknown"


def build_manifest(resolved: dict, *, seed: int, source: str, started_at: str, wall_s: float) -> dict:
    return {
        "source": source,
        "seed": seed,
        "config_sha256": config_hash(resolved),
        "versions": versions(),
        "platform": sys.platform,
        "engine": "compiled" if COMPILED else "python",
        "started_at": started_at,
        "wall_s": wall_s,
        "config": resolved,
    }


# Read once, when virtsim is imported, like the libraries themselves: a process's
# first run would otherwise spend milliseconds searching package metadata.
_versions()
