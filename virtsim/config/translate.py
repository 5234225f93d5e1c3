"""Turn pydantic validation errors into plain-English problems with paths.

pydantic reports a location such as ``('workloads', 0, 'demand', 'cpu',
'exponential', 'meen')``; walking the input models along it tells which model
owns each key, which steps are union tags (dropped from the path), and which
keys would have been valid.
"""

from __future__ import annotations

import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from ..wording import did_you_mean, listing
from .errors import Problem, format_value
from .yaml_source import LineIndex

__all__ = ["path_text", "problems_from"]


def problems_from(
    error: ValidationError, model: type[BaseModel], prefix: tuple = (), lines: LineIndex | None = None
) -> list[Problem]:
    """One problem per pydantic error; ``prefix`` is the location of ``model`` in the file."""
    problems = []
    for item in error.errors(include_url=False):
        loc, owner, node = _walk(model, item["loc"])
        loc, message = _message(item, loc, owner, node)
        full = (*prefix, *loc)
        problems.append(Problem(path_text(full), message, lines.line(full) if lines else None))
    return problems


def path_text(loc: tuple) -> str:
    """``('hosts', 0, 'vms')`` → ``hosts[0].vms``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated/Optional; a union of several models comes back as a tuple."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            members = [arg for arg in get_args(annotation) if arg is not type(None)]
            if len(members) > 1:
                return tuple(_unwrap(member) for member in members)
            annotation = members[0]
        else:
            return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


_TAG_KEYS = ("type", "kind", "model")
"""The keys that tell the members of a union apart (``Field(discriminator=...)``), in the order tried."""


def _tag(model: Any) -> str | None:
    for key in _TAG_KEYS:
        field = model.model_fields.get(key) if _is_model(model) else None
        if field is not None and get_origin(field.annotation) is Literal:
            return get_args(field.annotation)[0]
    return None


def _tag_key(ctx: dict) -> str:
    """The union's discriminator key as pydantic names it (quoted) in an error's context."""
    return str(ctx.get("discriminator", "'type'")).strip("'\"") or "type"


def _walk(model: type[BaseModel], loc: tuple) -> tuple[tuple, type | None, Any]:
    """(loc without union tags, model owning the last key, annotation reached)."""
    clean: list = []
    node: Any = model
    owner = None
    for part in loc:
        node = _unwrap(node) if node is not None else None
        if isinstance(node, tuple):
            member = next((m for m in node if _tag(m) == part), None)
            if member is not None:
                node = member
                continue
            node = None
        clean.append(part)
        if isinstance(part, int):
            node = get_args(node)[0] if get_origin(node) in (list, tuple) else None
        elif _is_model(node):
            owner = node
            field = node.model_fields.get(part)
            node = field.annotation if field else None
        else:
            owner, node = None, None
    return tuple(clean), owner, (_unwrap(node) if node is not None else None)


def _message(item: dict, loc: tuple, owner: type | None, node: Any) -> tuple[tuple, str]:
    kind, value, ctx = item["type"], item.get("input"), item.get("ctx") or {}
    got = format_value(value)
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        return loc, str(ctx["error"])
    if kind == "missing":
        return loc, "required key is missing"
    if kind == "extra_forbidden":
        keys = list(owner.model_fields) if owner else []
        hint = did_you_mean(loc[-1], keys) if loc else ""
        return loc, f"unknown key{hint or ('; valid keys: ' + listing(keys) if keys else '')}"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        tags = [tag for member in node if (tag := _tag(member)) is not None] if isinstance(node, tuple) else []
        listed = ", ".join(repr(tag) for tag in tags)
        key = _tag_key(ctx)
        if kind == "union_tag_not_found":
            if not isinstance(value, dict):
                return loc, f"must be a mapping with a {key!r} key, got {got}"
            return (*loc, key), f"required key is missing (one of {listed})"
        tag = ctx.get("tag")
        return (*loc, key), f"must be one of {listed}, got {tag!r}{did_you_mean(str(tag), tags)}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return loc, f"must be a mapping, got {got}"
    if kind in ("list_type", "tuple_type"):
        return loc, f"must be a list, got {got}"
    if kind == "too_short":
        return loc, "must not be empty"
    if kind == "string_type":
        return loc, f"must be a string, got {got}"
    if kind == "literal_error":
        return loc, f"must be {ctx.get('expected', 'one of the listed values')}, got {got}"
    return loc, f"{item['msg'][0].lower()}{item['msg'][1:]}, got {got}"
