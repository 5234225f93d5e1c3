"""Words for pictures: what a metric is called, short names of sweep axes, stacks and long labels."""

from __future__ import annotations

import textwrap

import numpy as np

from ..quantities import metric_quantity

__all__ = ["axis_label", "axis_names", "capitalized", "count_text", "metric_quantity", "short_stack",
           "value_text", "wrap"]


def _keys(path: str) -> list[str]:
    """``hosts[0].vms[1].vcpus`` → ['hosts[0]', 'vms[1]', 'vcpus']."""
    return [part for part in path.split(".") if part]


def axis_names(paths) -> dict[str, str]:
    """A short name for each swept field: its last key, with as many parents as tell it from the others.

    ``hosts[0].vms[0].vcpus`` and ``workloads[1].clients`` are 'vcpus' and
    'clients'; ``hosts[0].vms[0].vcpus`` beside ``hosts[0].vms[1].vcpus`` are
    'vms[0].vcpus' and 'vms[1].vcpus'.
    """
    paths = list(dict.fromkeys(paths))
    names = {}
    for path in paths:
        keys = _keys(path) or [path]
        for depth in range(1, len(keys) + 1):
            name = ".".join(keys[-depth:])
            if not any(other != path and ".".join(_keys(other)[-depth:]) == name for other in paths):
                break
        names[path] = name.replace("_", " ")
    return names


def axis_label(names: dict[str, str], column: str) -> str:
    """An axis's label: the column's short name (of ``names``, :func:`axis_names`), and the column itself
    after it when the name is shorter: 'rate   (workloads[0].arrivals.rate)'."""
    return names[column] if names[column] == column else f"{names[column]}   ({column})"


def capitalized(text: str) -> str:
    """``text`` with its first letter in capitals, the rest as written: 'CPU utilization', 'Hosts used'."""
    return f"{text[:1].upper()}{text[1:]}"


def count_text(n: int, word: str) -> str:
    """``n`` things, the word plural unless one: '1 VM', '4 VMs', '0 apps'."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def value_text(value) -> str:
    """A cell as a label: numbers without trailing zeros (2, 0.5), anything else as written."""
    if isinstance(value, (bool, np.bool_)):
        return str(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return f"{float(value):g}"
    return str(value)


def short_stack(stack: str) -> str:
    """A stack label as virtsim writes it, shortened: layer options go in brackets after their layer.

    'docker:network=nat / docker:storage=volume / docker / kvm' → 'docker (nat, volume) / kvm'.
    """
    parts = [p.strip() for p in str(stack).split(" / ")]
    options: dict[str, list[str]] = {}
    plain = []
    for part in parts:
        layer, sep, option = part.partition(":")
        if sep and "=" in option:
            options.setdefault(layer, []).append(option.split("=", 1)[1])
        else:
            plain.append(part)
    named = [f"{p} ({', '.join(options.pop(p))})" if p in options else p for p in plain]
    leftover = [f"{layer}:{','.join(values)}" for layer, values in options.items()]  # options of no layer shown
    return " / ".join(leftover + named)


def wrap(text: str, width: int = 28) -> str:
    """``text`` broken into lines of at most ``width`` characters, at spaces or slashes."""
    if len(text) <= width:
        return text
    return "\n".join(textwrap.wrap(text.replace(" / ", "\u00a0/ "), width=width,
                                   break_on_hyphens=False, break_long_words=False)
                     ).replace("\u00a0", " ")
