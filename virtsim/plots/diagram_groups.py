"""Many hosts in few columns: hosts that look the same in a stack diagram are drawn once, counted.

Hosts are *identical* when they differ only in names: every setting of the
host, its VMs and its containers is the same (profiles, sizes, limits,
modes, nesting), and so is the number of apps on each. When identical
groups are still too many, hosts are grouped as *similar*: the same hardware
and layers and as many VMs, containers and apps (a placement or a pod trace
leaves every host a little different). Past the cap, the smallest groups
are summed up in one last column.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

from ..model.topology import walk_vms
from .labels import count_text

__all__ = ["HostGroup", "group_hosts", "summary_lines"]


@dataclass(frozen=True)
class HostGroup:
    hosts: tuple
    """Its HostSpecs, in file order; the first is the one drawn."""
    similar: bool = False
    """Grouped by counts only (their VMs' or containers' sizes may differ)."""

    @property
    def first(self):
        return self.hosts[0]

    @property
    def title(self) -> str:
        names = [h.name for h in self.hosts]
        if len(names) == 1:
            return names[0]
        shown = f"{names[0]}, {names[1]}" if len(names) == 2 else f"{names[0]} … {names[-1]}"
        return f"{len(names)} {'similar' if self.similar else 'identical'} hosts\n{shown}"


def _name(profile) -> str | None:
    return None if profile is None else profile.name


def _shape(spec, path: str, apps: dict) -> dict:
    """``spec``'s settings without its name, how many apps run on it, and its guests' shapes (sorted)."""
    guests = [field for field in ("containers", "vms") if field in type(spec).model_fields]
    shape = spec.model_dump(mode="json", exclude={"name", *guests})
    shape["apps"] = len(apps.get(path, ()))
    for field in guests:
        shape[field] = sorted((_shape(child, f"{path}/{child.name}", apps) for child in getattr(spec, field)),
                              key=lambda d: json.dumps(d, sort_keys=True))
    return shape


def _layers(host) -> tuple:
    hw = host.hardware
    return (hw.name, hw.cores, hw.core_speed, hw.memory_bytes, _name(host.host_os), _name(host.hypervisor),
            _name(host.engine))


def identical_shape(host, apps: dict) -> str:
    """Everything about ``host`` but names (its own, its VMs' and containers'), as canonical JSON."""
    return json.dumps(_shape(host, host.name, apps), sort_keys=True)


def apps_per_host(apps: dict) -> Counter:
    """How many apps run on each host, natively or in any of its guests, by host name."""
    per_host: Counter = Counter()
    for path, names in apps.items():
        per_host[path.split("/", 1)[0]] += len(names)
    return per_host


def counts(host, per_host: Counter) -> tuple[int, int, int]:
    """VMs (all levels), containers (on the host and in its VMs) and apps (``per_host``'s count) on ``host``."""
    vms = list(walk_vms(host))
    containers = len(host.containers) + sum(len(n.vm.containers) for n in vms)
    return len(vms), containers, per_host[host.name]


def _grouped(hosts, shape) -> list[list]:
    groups: dict[tuple, list] = {}
    for host in hosts:
        groups.setdefault(shape(host), []).append(host)
    return list(groups.values())


def group_hosts(hosts, apps: dict, max_groups: int) -> tuple[list[HostGroup], list]:
    """The groups to draw (file order, at most ``max_groups``) and the hosts left to the summary column.

    Identical hosts are grouped first; if that gives more than ``max_groups``
    groups, similar ones; if still more, the largest ``max_groups`` − 1 groups
    are kept and the rest returned as left over.
    """
    hosts = list(hosts)
    identical = {h.name: identical_shape(h, apps) for h in hosts}
    groups = [HostGroup(tuple(g)) for g in _grouped(hosts, lambda h: identical[h.name])]
    if len(groups) <= max_groups:
        return groups, []
    per_host = apps_per_host(apps)
    groups = [HostGroup(tuple(g), similar=len({identical[h.name] for h in g}) > 1)
              for g in _grouped(hosts, lambda h: (_layers(h), counts(h, per_host)))]
    if len(groups) <= max_groups:
        return groups, []
    order = sorted(range(len(groups)), key=lambda i: -len(groups[i].hosts))  # stable: file order among equals
    kept = sorted(order[:max(1, max_groups - 1)])
    left = [h for i in sorted(order[max(1, max_groups - 1):]) for h in groups[i].hosts]
    return [groups[i] for i in kept], left


def _layers_line(host) -> str:
    """'96 cores: linux-server / containerd'."""
    layers = [n for n in (_name(host.host_os), _name(host.hypervisor), _name(host.engine)) if n]
    hardware = host.hardware.name or f"{host.hardware.cores} cores"
    return f"{hardware}: {' / '.join(layers)}" if layers else hardware


def _held(host, per_host: Counter) -> str:
    """'4 VMs, 2 containers', or 'empty'."""
    vms, containers, n_apps = counts(host, per_host)
    held = [count_text(n, word) for n, word in ((vms, "VM"), (containers, "container")) if n]
    return ", ".join(held) or ("empty" if not n_apps else count_text(n_apps, "app"))


def _shape_line(host, per_host: Counter) -> str:
    """One host in words: 'server-2s-32c: kvm → 4 VMs, 2 containers'."""
    return f"{_layers_line(host)} → {_held(host, per_host)}"


def summary_lines(hosts, apps: dict, limit: int = 6) -> list[str]:
    """The left-over hosts, most common shape first: '32 × server-2s-32c: kvm → 4 VMs'.

    When they all have the same hardware and layers, those are said once,
    first, and each line gives what the hosts hold: '32 × 4 VMs'.
    """
    common = {_layers_line(h) for h in hosts}
    per_host = apps_per_host(apps)
    line = (lambda h: _held(h, per_host)) if len(common) == 1 else (lambda h: _shape_line(h, per_host))
    tally = Counter(line(h) for h in hosts)
    lines = [f"all {next(iter(common))}"] if len(common) == 1 else []
    lines += [f"{n} × {text}" for text, n in tally.most_common(limit)]
    if len(tally) > limit:
        rest = sum(n for _, n in tally.most_common()[limit:])
        lines.append(f"{rest} × {len(tally) - limit} other shapes")
    return lines
