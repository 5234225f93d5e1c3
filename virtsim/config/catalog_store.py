"""The model catalog's files: named profiles stored as YAML files under ``models/``.

``models/<kind>/<name>.yaml`` holds one profile (for example
``models/hardware/server-2s-32c.yaml``). The folder is, first found: the one
named by the ``VIRTSIM_MODELS`` environment variable; the copy installed with
the package (``virtsim/models``, which a wheel carries, see setup.py); the
repository's top-level ``models/`` in a source checkout or editable install.
Each kind has a schema; every number in a profile must cite a source. A file is
read and validated once per version (its modification time and size).

The schemas are registered by kind (``register_schema``; ``catalog`` registers
the built-in ones), so that a schema may name profiles of other kinds (an
engine's sandbox VM names a hypervisor) and have them loaded from here.
"""

from __future__ import annotations

import copy
import functools
import os
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ValidationError

from ..wording import unknown
from .errors import ConfigError, Problem
from .provenance import number_paths
from .translate import problems_from
from .versions import VERSIONS_KEY, merged_version, split_ref, unknown_version, version_problems
from .yaml_source import read_yaml

__all__ = [
    "CATALOG_SCHEMAS",
    "catalog_dir",
    "catalog_names",
    "catalog_problems",
    "catalog_versions",
    "load_catalog_entry",
    "load_profile",
    "profile_noun",
    "profile_or_error",
    "profile_path",
    "register_schema",
    "require_catalog",
]

CATALOG_SCHEMAS: dict[str, type[BaseModel]] = {}
"""The schema of each kind of profile (its folder under the catalog), in the order kinds are listed."""


def register_schema(kind: str, schema: type[BaseModel]) -> None:
    """Profiles in the folder ``kind`` are checked against ``schema``."""
    CATALOG_SCHEMAS[kind] = schema

_NOUNS = {"hypervisors": "hypervisor", "os": "OS", "engines": "engine", "devices": "device"}


def profile_noun(kind: str) -> str:
    """How a profile of ``kind`` is called in messages: 'hypervisor profile'."""
    return f"{_NOUNS.get(kind, kind)} profile"


_ENV_VAR = "VIRTSIM_MODELS"
_CHECKOUT = Path(__file__).resolve().parents[2]  # the repository root, when running from a checkout


def catalog_dir() -> Path:
    """The catalog folder: ``$VIRTSIM_MODELS``, the installed copy, or the checkout's ``models/``."""
    override = os.environ.get(_ENV_VAR)
    return Path(override) if override else _default_dir()


@functools.cache
def _default_dir() -> Path:
    packaged = resources.files("virtsim") / "models"
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged
    if (_CHECKOUT / "pyproject.toml").is_file() and (_CHECKOUT / "models").is_dir():
        return _CHECKOUT / "models"
    return Path(str(packaged))  # neither: name the folder an install should have had


def catalog_names(kind: str) -> list[str]:
    """Sorted names of the profiles of ``kind`` (e.g. ``"hardware"``)."""
    folder = catalog_dir() / kind
    return sorted(path.stem for path in folder.glob("*.yaml")) if folder.is_dir() else []


def profile_path(kind: str, name: str) -> Path:
    """The file of the profile ``name`` of ``kind``: ``<catalog>/<kind>/<name>.yaml`` (it may not exist)."""
    return catalog_dir() / kind / f"{name}.yaml"


def require_catalog() -> None:
    """Raise ``ConfigError`` (saying where it looked and how to fix it) if the catalog has no profile."""
    root = catalog_dir()
    if not any(catalog_names(kind) for kind in CATALOG_SCHEMAS):
        raise ConfigError([Problem("", _missing_text(root))], "model catalog")


def _missing_text(root: Path) -> str:
    state = "holds no profiles" if root.is_dir() else "does not exist"
    layout = f"<kind>/<name>.yaml files ({', '.join(CATALOG_SCHEMAS)})"
    if os.environ.get(_ENV_VAR):
        fix = (f"point {_ENV_VAR} at a folder of {layout}, such as the repository's models/, "
               f"or unset it to use the installed catalog")
        return f"the model catalog {root} ({_ENV_VAR}) {state}; {fix}"
    fix = (f"reinstall virtsim from its wheel or its repository (pip install --force-reinstall .), "
           f"or set {_ENV_VAR} to a folder of {layout}, such as the repository's models/")
    return f"the model catalog {root} {state}; {fix}"


def catalog_versions(kind: str, name: str) -> list[str]:
    """The versions the profile ``name`` of ``kind`` defines besides its current one, in file order."""
    return list(_checked(kind, name)[2])


def load_catalog_entry(kind: str, name: str) -> dict:
    """The profile ``name`` of ``kind`` as a plain mapping, checked against its schema.

    ``name@version`` gives that version of the profile (see :mod:`.versions`).
    Raises ``ConfigError`` if the profile or the version does not exist
    (listing valid names) or its file has problems (naming the file).
    """
    return copy.deepcopy(_checked(kind, name)[0])


def load_profile(kind: str, name: str) -> BaseModel:
    """The validated profile ``name`` of ``kind`` (a frozen model); errors as ``load_catalog_entry``."""
    model = _checked(kind, name)[1]
    if model is None:
        raise ValueError(f"catalog kind {kind!r} has no schema; known kinds: {', '.join(CATALOG_SCHEMAS)}")
    return model


def profile_or_error(kind: str, name: str) -> BaseModel:
    """``load_profile`` for use inside a validator: a problem becomes one ``ValueError``."""
    try:
        return load_profile(kind, name)
    except ConfigError as err:
        raise ValueError(_error_text(err)) from None


def _error_text(err: ConfigError) -> str:
    return "; ".join(catalog_problems(err))


def catalog_problems(err: ConfigError) -> list[str]:
    """The problems of a catalog ``ConfigError`` as text, naming the file when there is one."""
    prefix = "" if err.source.endswith("catalog") else f"in {err.source}: "
    return [f"{prefix}{problem}" for problem in err.problems]


def _checked(kind: str, ref: str) -> tuple[dict, BaseModel | None, dict]:
    """(mapping, model, {version: (mapping, model)}) of ``ref``: a profile name, or ``name@version``."""
    name, version = split_ref(ref) if isinstance(ref, str) else (ref, None)
    path = profile_path(kind, name) if isinstance(name, str) else None
    if not isinstance(name, str) or "/" in name or not path.is_file():
        require_catalog()  # an empty catalog is an install problem, not an unknown name
        message = unknown(profile_noun(kind), name, catalog_names(kind))
        raise ConfigError([Problem("", message)], f"{kind} catalog")
    stat = path.stat()
    data, model, versions = _read_checked(kind, name, path, stat.st_mtime_ns, stat.st_size)
    if version is None:
        return data, model, versions
    if version not in versions:
        raise ConfigError([Problem("", unknown_version(name, version, versions))], _shown_path(path))
    return (*versions[version], {})


@functools.lru_cache(maxsize=256)
def _read_checked(kind: str, name: str, path: Path, _mtime_ns: int,
                  _size: int) -> tuple[dict, BaseModel | None, dict]:
    data, lines = read_yaml(path)
    schema = CATALOG_SCHEMAS.get(kind)
    problems: list[Problem] = []
    model = None
    versions: dict = {}
    if not isinstance(data, dict):
        problems.append(Problem("", f"must be a mapping, got {type(data).__name__}"))
    elif schema is not None:
        try:
            model = schema.model_validate(data)
        except ValidationError as err:
            problems.extend(problems_from(err, schema, lines=lines))
        if data.get("name") != name:
            message = f"must equal the file name {name!r}, got {data.get('name')!r}"
            problems.append(Problem("name", message, lines.line(("name",))))
        shape = version_problems(data)
        for problem in shape:
            loc = tuple(problem.path.split(".", 1)) if problem.path else ()
            problems.append(Problem(problem.path, problem.message, lines.line(loc)))
        if not shape:
            for version in data.get(VERSIONS_KEY) or {}:
                checked = _check_version(schema, data, version, lines)
                if isinstance(checked, list):
                    problems.extend(checked)
                else:
                    versions[version] = checked
    if problems:
        raise ConfigError(problems, _shown_path(path))
    return data, model, versions


def _check_version(schema: type[BaseModel], data: dict, version: str, lines) -> tuple[dict, BaseModel] | list:
    """(mapping, model) of one version of ``data``, or its problems, located in the version's entry."""
    merged, set_paths = merged_version(data, version)
    prefix = (VERSIONS_KEY, version)
    try:
        model = schema.model_validate(merged)
    except ValidationError as err:
        return [Problem(p.path, f"in version {version!r}: {p.message}", p.line)
                for p in problems_from(err, schema, prefix=prefix, lines=lines)]
    own = data[VERSIONS_KEY][version].get("source") or {}
    missing = [path for path in number_paths(model) if path in set_paths and path not in own]
    orphans = [path for path in own if path not in set_paths]
    problems = []
    if missing:
        problems.append(Problem(f"{VERSIONS_KEY}.{version}.source", f"has no source for {', '.join(missing)}: "
                                "each number a version sets cites its own", lines.line((*prefix, "source"))))
    if orphans:
        problems.append(Problem(f"{VERSIONS_KEY}.{version}.source", "names numbers the version does not set: "
                                f"{', '.join(orphans)}", lines.line((*prefix, "source"))))
    return problems or (merged, model)


def _shown_path(path: Path) -> str:
    """The catalog file relative to the catalog's parent, e.g. ``models/hardware/x.yaml``."""
    root = catalog_dir()
    try:
        return str(Path(root.name) / path.relative_to(root))
    except ValueError:
        return str(path)
