"""A reference of every key of an experiment file, in Markdown, rendered from the JSON schema.

``python -m virtsim.config.reference > docs/reference.md`` (or ``virtsim
schema --markdown``) regenerates ``docs/reference.md``; a test fails when the
committed file differs, so the reference cannot drift from the definitions.
"""

from __future__ import annotations

import json
import sys

from .fields import _UNIT_HINTS
from .schema import experiment_schema

__all__ = ["reference_markdown"]

_HEADER = """\
# Experiment file reference

Every key of an experiment file, generated from the definitions the loader
validates with (`python -m virtsim.config.reference > docs/reference.md`).
The same definitions give the JSON Schema for editors: `virtsim schema -o
experiment.schema.json`. The loader also checks what a schema cannot say:
that targets exist, that VMs fit their host, that a layer offers a mode.

Quantities are written with a unit:

| kind | written as |
|---|---|
"""


def _title(ref_name: str) -> str:
    return ref_name.removesuffix("Input") or ref_name


def _anchor(ref_name: str) -> str:
    return _title(ref_name).lower()


def _ref_name(node: dict) -> str:
    return node["$ref"].rsplit("/", 1)[-1]


def _bounds(node: dict) -> str:
    if "minimum" in node and "maximum" in node:
        return f" {node['minimum']:g} to {node['maximum']:g}"
    signs = (("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤"))
    return "".join(f" {sign} {node[key]:g}" for key, sign in signs if key in node)


def _type(node: dict) -> str:
    """A short human reading of a schema node; references become links."""
    if "$ref" in node:
        return f"[{_title(_ref_name(node))}](#{_anchor(_ref_name(node))})"
    if "x-quantity" in node:
        return node["x-quantity"]
    if "oneOf" in node:
        return " or ".join(_type(option) for option in node["oneOf"])
    if "anyOf" in node:
        options = [_type(option) for option in node["anyOf"] if option.get("type") != "null"]
        return " or ".join(dict.fromkeys(options))
    if "const" in node:
        return f"`{node['const']}`"
    if "enum" in node:
        return " \\| ".join(f"`{value}`" for value in node["enum"])
    kind = node.get("type")
    if kind == "array":
        return f"list of {_type(node.get('items', {}))}"
    if kind == "object":
        return "mapping"
    if kind == "string":
        return "name" if "pattern" in node else ("catalog name" if node.get("minLength") else "text")
    if kind in ("integer", "number"):
        return f"{kind}{_bounds(node)}"
    return str(kind)


def _refs(node) -> list[str]:
    """The names of the definitions ``node`` refers to, in order of appearance."""
    if isinstance(node, dict):
        found = [_ref_name(node)] if "$ref" in node else []
        for key, value in node.items():
            if key != "discriminator":
                found += _refs(value)
        return found
    if isinstance(node, list):
        return [name for item in node for name in _refs(item)]
    return []


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _section(name: str, node: dict, level: str) -> list[str]:
    lines = [f"{level} {_title(name)}", ""]
    if node.get("description"):
        lines += [_cell(node["description"]), ""]
    if node.get("additionalProperties") is True or node.get("additionalProperties") == {}:
        lines += ["Any other key overrides the profile's field of that name (checked against the catalog).", ""]
    required = set(node.get("required", ()))
    lines += ["| key | type | default | description |", "|---|---|---|---|"]
    for key, prop in node.get("properties", {}).items():
        default = "*required*" if key in required else \
            f"`{json.dumps(prop['default'], ensure_ascii=False)}`" if "default" in prop else ""
        lines.append(f"| `{key}` | {_type(prop)} | {default} | {_cell(prop.get('description', ''))} |")
    return lines + [""]


def reference_markdown() -> str:
    """The reference as Markdown text: the experiment first, then each piece in the order it is reached."""
    schema = experiment_schema()
    defs = schema["$defs"]
    lines = [_HEADER.rstrip("\n")]
    lines += [f"| {kind} | {_cell(hint.split(': ', 1)[1])} |" for kind, hint in _UNIT_HINTS.items()]
    lines += ["", "## Keys", ""]
    lines += _section("Experiment", schema, "###")
    order = list(dict.fromkeys(_refs(schema["properties"])))
    k = 0
    while k < len(order):  # breadth first: each definition after the first one that refers to it
        order += [name for name in dict.fromkeys(_refs(defs[order[k]])) if name not in order]
        k += 1
    for name in order:
        lines += _section(name, defs[name], "###")
    return "\n".join(lines).rstrip("\n") + "\n"


if __name__ == "__main__":
    sys.stdout.write(reference_markdown())
