"""Read YAML safely, keeping the node tree so problems can name their line."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import yaml

from .errors import ConfigError, Problem

__all__ = ["LineIndex", "read_yaml"]


class LineIndex:
    """Maps a path such as ``("hosts", 0, "vms")`` to its 1-based line in the file."""

    def __init__(self, root: yaml.Node | None):
        self._root = root

    def line(self, loc: Sequence[str | int]) -> int | None:
        """Line of the deepest node along ``loc`` (a missing key gives its parent's line)."""
        node = self._root
        if node is None:
            return None
        line = node.start_mark.line + 1
        for part in loc:
            child = _child(node, part)
            if child is None:
                break
            line, node = child[0].start_mark.line + 1, child[1]
        return line


def _child(node: yaml.Node, part: str | int) -> tuple[yaml.Node, yaml.Node] | None:
    """(node to point at, node to descend into) for one path step."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                return (value if _is_scalar(value) else key), value
    elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        item = node.value[part]
        return item, item
    return None


def _is_scalar(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode)


def read_yaml(path: Path) -> tuple[object, LineIndex]:
    """Parse a YAML file with the safe loader; raise ``ConfigError`` on bad YAML.

    Duplicate keys in a mapping (which YAML loaders silently collapse) are
    reported too.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([Problem("", f"file not found: {path}")], str(path)) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError([Problem("", f"cannot read file: {err}")], str(path)) from None
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        duplicates = _duplicate_keys(root)
        if duplicates:
            raise ConfigError(duplicates, str(path))
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else None
        column = f", column {mark.column + 1}" if mark else ""
        detail = " ".join(part for part in (err.context, err.problem) if part)
        raise ConfigError([Problem("", f"invalid YAML{column}: {detail}", line)], str(path)) from None
    except yaml.YAMLError as err:
        raise ConfigError([Problem("", f"invalid YAML: {err}")], str(path)) from None
    finally:
        loader.dispose()
    return data, LineIndex(root)


def _duplicate_keys(root: yaml.Node | None) -> list[Problem]:
    problems: list[Problem] = []
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in seen:
                        problems.append(Problem("", f"duplicate key {key.value!r}", key.start_mark.line + 1))
                    seen.add(key.value)
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return sorted(problems, key=lambda problem: problem.line or 0)
