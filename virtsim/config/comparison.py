"""Stack comparisons: which workloads are the same on different hosts, and their common random numbers.

Under ``compare``, every host is one stack. Two workloads on different hosts
are *the same workload* when their definitions agree in everything but their
``name`` and ``target`` (the k-th such workload on one host pairs with the
k-th on another, so two identical services on one host stay independent).
Each such group draws one set of random streams, named after its baseline
member, whatever the workloads are called: the stacks then see the same
arrivals and the same demands, and their difference is the stacks' alone
(common random numbers). A workload's ``random_streams`` overrides the
matching and puts it in the group of that name.
"""

from __future__ import annotations

import json
import os

from ..wording import unknown
from . import inputs as i
from . import spec as s
from .resolution import Context

__all__ = ["resolve_comparison"]

_NOT_COMPARED = {"name", "target", "replicas", "random_streams"}
"""What may differ between the members of one compared workload."""


def resolve_comparison(compare: i.CompareInput, hosts: list[s.HostSpec], workloads: list[tuple[int, s.WorkloadSpec]],
                       ctx: Context) -> tuple[s.ComparisonSpec | None, list[tuple[int, s.WorkloadSpec]]]:
    """The comparison spec, and the workloads with the random streams of their group."""
    host_names = [host.name for host in hosts]
    baseline = compare.baseline if compare.baseline is not None else (host_names[0] if host_names else None)
    if baseline not in host_names:
        ctx.add(("compare", "baseline"), unknown("host", baseline, host_names))
        return None, workloads
    groups = _groups(workloads, host_names, baseline)
    if not groups:
        ctx.add(("compare",), "no workload runs on two or more hosts with the same definition: the workloads "
                              "compared across stacks must be the same apart from their name and target (or "
                              "share a 'random_streams' name)")
        return None, workloads
    streams: dict[int, str] = {}
    compared = []
    names: set[str] = set()
    for label, members in groups:
        for n, _ in members:
            streams[n] = label
        name = _common_name([w.name for _, w in members], label, names)
        names.add(name)
        compared.append(s.ComparedWorkload(name=name, members=tuple((_host(w), w.name) for _, w in members)))
    resolved = [(n, w.model_copy(update={"random_streams": streams[n]}) if n in streams else w)
                for n, w in workloads]
    spec = s.ComparisonSpec(baseline=baseline, metrics=tuple(compare.metrics), level=compare.level,
                            workloads=tuple(compared))
    return spec, resolved


def _host(workload: s.WorkloadSpec) -> str | None:
    paths = workload.target_paths
    return paths[0].split("/", 1)[0] if paths else None


def _groups(workloads: list[tuple[int, s.WorkloadSpec]], host_names: list[str],
            baseline: str) -> list[tuple[str, list[tuple[int, s.WorkloadSpec]]]]:
    """(stream name, members in host order) of every workload found on two or more hosts."""
    by_key: dict[tuple, list[tuple[int, s.WorkloadSpec]]] = {}
    seen: dict[tuple, int] = {}
    for n, w in workloads:
        host = _host(w)
        if host is None:
            continue
        if w.random_streams is not None:
            key = ("named", w.random_streams)
            if any(_host(other) == host for _, other in by_key.get(key, ())):
                continue  # one member per stack; the others draw the same numbers but are not paired
        else:
            definition = json.dumps(w.model_dump(mode="json", exclude=_NOT_COMPARED), sort_keys=True)
            k = seen[(definition, host)] = seen.get((definition, host), -1) + 1
            key = ("matched", definition, k)
        by_key.setdefault(key, []).append((n, w))
    order = {name: position for position, name in enumerate(host_names)}
    groups = []
    for key, members in by_key.items():
        if len({_host(w) for _, w in members}) < 2:
            continue
        members.sort(key=lambda member: order[_host(member[1])])
        if key[0] == "named":
            label = key[1]
        else:  # named after the baseline's member (or the first), so its own numbers do not change
            label = next((w.name for _, w in members if _host(w) == baseline), members[0][1].name)
        groups.append((label, members))
    groups.sort(key=lambda group: min(n for n, _ in group[1]))
    return groups


def _common_name(names: list[str], label: str, taken: set[str]) -> str:
    """'web' for web-native, web-kvm …; the stream name when the names share no prefix."""
    prefix = os.path.commonprefix(names).rstrip("-_. /")
    name = prefix or label
    if name in taken:
        name = label if label not in taken else f"{name}#{len(taken)}"
    return name
