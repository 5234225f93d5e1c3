"""The model catalog: named profiles stored as YAML files under ``models/``, one schema per kind.

``models/<kind>/<name>.yaml`` holds one profile (for example
``models/hardware/server-2s-32c.yaml``); :mod:`.catalog_store` finds, reads and
checks the files. This module registers the schema of each kind, in the order
kinds are listed, and finds a profile by its name alone.
"""

from __future__ import annotations

from ..wording import close_matches, unknown
from .catalog_store import (
    CATALOG_SCHEMAS,
    catalog_dir,
    catalog_names,
    catalog_problems,
    catalog_versions,
    load_catalog_entry,
    load_profile,
    profile_noun,
    profile_or_error,
    profile_path,
    register_schema,
    require_catalog,
)
from .errors import ConfigError, Problem
from .hardware import DeviceProfile, HardwareProfile
from .profiles import EngineProfile, HypervisorProfile, OSProfile
from .versions import split_ref

__all__ = [
    "CATALOG_SCHEMAS",
    "HardwareProfile",
    "catalog_dir",
    "catalog_names",
    "catalog_problems",
    "catalog_versions",
    "find_profile",
    "require_catalog",
    "load_catalog_entry",
    "load_profile",
    "profile_noun",
    "profile_or_error",
    "profile_path",
]

for _kind, _schema in (("hardware", HardwareProfile), ("devices", DeviceProfile), ("hypervisors", HypervisorProfile),
                       ("os", OSProfile), ("engines", EngineProfile)):
    register_schema(_kind, _schema)


def find_profile(word: str) -> tuple[str, str]:
    """(kind, name) of the profile ``word`` names: ``kvm`` or ``hypervisors/kvm``.

    Raises ``ConfigError`` for an empty catalog, an unknown kind, an unknown
    name (with close matches) or a name several kinds use (listing them). The
    name of ``kind/name`` is checked when the profile is loaded:
    ``load_catalog_entry`` says which names the kind has. ``name@version``
    is found by its name; its version is checked when it is loaded.
    """
    require_catalog()
    if "/" in word:
        kind, _, name = word.partition("/")
        if kind not in CATALOG_SCHEMAS:
            raise ConfigError([Problem("", unknown("catalog kind", kind, CATALOG_SCHEMAS))], "model catalog")
        return kind, name
    base = split_ref(word)[0]
    kinds = [kind for kind in CATALOG_SCHEMAS if base in catalog_names(kind)]
    if len(kinds) == 1:
        return kinds[0], word
    if kinds:
        message = f"{word!r} names profiles of several kinds: {', '.join(f'{k}/{word}' for k in kinds)}; name one"
    else:
        message = (f"no catalog profile is named {word!r}{_close_matches(word)}; valid kinds: "
                   f"{', '.join(CATALOG_SCHEMAS)} (virtsim catalog lists every profile)")
    raise ConfigError([Problem("", message)], "model catalog")


def _close_matches(word: str) -> str:
    """``" (close matches: hypervisors/kvm, ...)"`` over kinds and profile names, or ``""``."""
    full = {kind: kind for kind in CATALOG_SCHEMAS}
    full |= {name: f"{kind}/{name}" for kind in CATALOG_SCHEMAS for name in catalog_names(kind)}
    near = close_matches(word, full)
    return f" (close matches: {', '.join(full[key] for key in near)})" if near else ""
