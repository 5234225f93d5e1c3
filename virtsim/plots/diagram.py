"""The stack drawn as a textbook would: hardware at the bottom, each layer on the one it runs on.

Per host, bottom to top: the hardware, the host OS, the hypervisor (Type 1 or
2) under the VMs and the host's engine under its containers; in each VM its
virtual hardware, guest OS, engine and containers, and its own hypervisor
under the VMs nested in it (drawn the same way, framed inside); and on top of each
target, the workloads (apps) sent to it. Widths are proportional to the
number of leaves (containers, or a VM or host running apps itself), so a host
with many VMs and containers stays readable. Made from the resolved
configuration, not from a template.

A large platform is summed up rather than drawn host by host
(:mod:`.diagram_groups`): identical hosts are drawn once, titled '32 × node-1
… node-32'; a host too wide to draw (dozens of VMs or containers) is drawn
condensed, a column per kind of guest with its count and sizes; past a cap
of groups, the rest are listed in one last column.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from ..model.topology import descendants, walk_vms
from ._common import axes_or_new
from .diagram_groups import HostGroup, group_hosts, summary_lines
from .labels import count_text, wrap

__all__ = ["LAYER_COLOURS", "stack_diagram"]

LAYER_COLOURS = {
    "hardware": "#9e9e9e",
    "host_os": "#64b5f6",
    "hypervisor": "#ffb74d",
    "vm": "#ffe0b2",
    "guest_os": "#bbdefb",
    "engine": "#4db6ac",
    "container": "#c8e6c9",
    "app": "#fff59d",
    "summary": "#eeeeee",
}
"""Fill colour of each kind of box; the kind is the first part of a patch's gid (``vm:h1/a``), but for
the boxes of a condensed host (``vms:h1``, ``containers:h1``, ``apps:h1``) and the summary column (``others``)."""

MAX_GROUPS = 8
"""Most host columns (groups of hosts) a diagram draws; the rest are summed up in one more column."""
MAX_COLUMNS = 16
"""Most leaf columns a diagram draws in all: wider hosts are drawn condensed until it fits."""
MAX_HOST_COLUMNS = 12
"""A host wider than this (in leaves) is always drawn condensed."""

_GIB = 2**30
_PAD = 0.04
_HOST_GAP = 0.3
_WIDE = 1.5
"""Width of a condensed host's column, in leaves: room for a count and its sizes."""
_SUMMARY_WIDTH = 2.5
_INCHES_PER_LEAF = 1.6
_MAX_WIDTH_IN = 16.0


@dataclass(frozen=True)
class _Box:
    kind: str
    path: str
    x: float
    width: float
    level: int
    label: str
    gid: str | None = None
    """The patch's gid, when not ``<kind>:<path>``."""
    height: int = 1

    @property
    def id(self) -> str:
        return self.gid or f"{self.kind}:{self.path}"


def _as_spec(experiment):
    from ..config import ExperimentSpec, load_experiment

    if isinstance(experiment, ExperimentSpec):
        return experiment
    if isinstance(experiment, dict) and "duration_s" in experiment:  # a resolved dump (manifest.json's config)
        return ExperimentSpec.model_validate(experiment)
    if isinstance(experiment, (dict, str, os.PathLike)):
        return load_experiment(experiment)
    raise ValueError(f"stack_diagram takes an ExperimentSpec, an experiment file or a dict, "
                     f"got {type(experiment).__name__}")


def _apps_by_target(spec) -> dict[str, list[str]]:
    apps: dict[str, list[str]] = defaultdict(list)
    for workload in spec.workloads:
        targets = list(workload.replicas or ([workload.target] if workload.target is not None else []))
        table = getattr(workload.jobs_file, "table", None)
        if table is not None:  # file arrivals name their targets per job
            targets = sorted({table.target_names[code] for code in set(table.target_codes.tolist())})
        for target in targets:
            apps[target].append(workload.name)
    return apps


def _gib(n_bytes: float) -> str:
    return f"{n_bytes / _GIB:.3g}"


def _size(n_bytes: float | None) -> str:
    return "" if n_bytes is None else f"{_gib(n_bytes)} GiB"


def _cores(n: float | None, unit: str) -> str:
    return "" if n is None else f"{n:g} {unit}"


def _join(*parts: str) -> str:
    return " · ".join(p for p in parts if p)


def _container_label(ctr, engine) -> str:
    lines = [f"container {ctr.name}", _join(_cores(ctr.cpus, "cpus"), _size(ctr.memory_bytes)),
             f"{ctr.network} · {ctr.storage}" if engine is not None else ""]
    return "\n".join(line for line in lines if line)


def _engine_label(engine) -> str:
    return f"{'sandbox' if engine.kind == 'sandbox' else 'engine'}: {engine.name}"


def _layout_host(host, apps: dict[str, list[str]], x0: float) -> tuple[list[_Box], float]:
    """The boxes of one host starting at ``x0``, and its width in leaves."""
    boxes: list[_Box] = []
    name = host.name
    x = x0
    level = 1
    if host.host_os is not None:
        level = 2
    if apps.get(name):  # apps run natively on the host (or its host OS)
        boxes.append(_Box("app", name, x, 1.0, level, "\n".join(apps[name])))
        x += 1
    if host.containers:
        base = level
        if host.engine is not None:
            boxes.append(_Box("engine", name, x, float(len(host.containers)), level, _engine_label(host.engine)))
            base += 1
        for ctr in host.containers:
            path = f"{name}/{ctr.name}"
            boxes.append(_Box("container", path, x, 1.0, base, _container_label(ctr, host.engine)))
            if apps.get(path):
                boxes.append(_Box("app", path, x, 1.0, base + 1, "\n".join(apps[path])))
            x += 1
    if host.vms:
        vm_base = level
        widths = [_vm_width(vm, f"{name}/{vm.name}", apps) for vm in host.vms]
        if host.hypervisor is not None:
            label = f"Type {host.hypervisor.type} hypervisor: {host.hypervisor.name}"
            boxes.append(_Box("hypervisor", name, x, float(sum(widths)), level, label))
            vm_base += 1
        for vm, width in zip(host.vms, widths):
            boxes.extend(_layout_vm(vm, f"{name}/{vm.name}", apps, x, width, vm_base, host.hypervisor is None))
            x += width
    width = max(x - x0, 1.0)
    boxes.append(_Box("hardware", name, x0, width, 0, _hardware_label(host.hardware)))
    if host.host_os is not None:
        boxes.append(_Box("host_os", name, x0, width, 1, f"host OS: {host.host_os.name}"))
    return boxes, width


def _hardware_label(hw) -> str:
    title = f"hardware: {hw.name}" if hw.name else "hardware"
    return f"{title}\n{hw.cores} cores × {hw.core_speed:g} · {_size(hw.memory_bytes)}"


def _vm_width(vm, path: str, apps) -> int:
    """Leaves under a VM: its containers, its nested VMs' leaves, and its own apps beside them."""
    inner = len(vm.containers) + sum(_vm_width(child, f"{path}/{child.name}", apps) for child in vm.vms)
    return max(1, inner + (1 if inner and apps.get(path) else 0))


def _layout_vm(vm, path: str, apps, x: float, width: int, level: int, as_cgroup: bool) -> list[_Box]:
    title = f"VM {vm.name}" + (" (no hypervisor: a cgroup)" if as_cgroup else "")
    boxes = [_Box("vm", path, x, float(width), level,
                  f"{title}\n" + _join(_cores(vm.vcpus, "vCPU"), _size(vm.memory_bytes)))]
    level += 1
    if vm.os is not None:
        boxes.append(_Box("guest_os", path, x, float(width), level, f"guest OS: {vm.os.name}"))
        level += 1
    if apps.get(path):
        boxes.append(_Box("app", path, x, 1.0, level, "\n".join(apps[path])))
        x += 1 if vm.containers or vm.vms else 0
    if vm.containers:
        base = level
        if vm.engine is not None:
            boxes.append(_Box("engine", path, x, float(len(vm.containers)), level, _engine_label(vm.engine)))
            base += 1
        for k, ctr in enumerate(vm.containers):
            ctr_path = f"{path}/{ctr.name}"
            boxes.append(_Box("container", ctr_path, x + k, 1.0, base, _container_label(ctr, vm.engine)))
            if apps.get(ctr_path):
                boxes.append(_Box("app", ctr_path, x + k, 1.0, base + 1, "\n".join(apps[ctr_path])))
        x += len(vm.containers)
    if vm.vms:  # nested VMs on the guest's own hypervisor, drawn as the host's are
        widths = [_vm_width(child, f"{path}/{child.name}", apps) for child in vm.vms]
        label = f"Type {vm.hypervisor.type} hypervisor: {vm.hypervisor.name}"
        boxes.append(_Box("hypervisor", path, x, float(sum(widths)), level, label))
        for child, child_width in zip(vm.vms, widths):
            boxes.extend(_layout_vm(child, f"{path}/{child.name}", apps, x, child_width, level + 1, False))
            x += child_width
    return boxes


def _span(values, unit: str, fmt=lambda v: f"{v:g}") -> str:
    """'2 vCPU' or '1–4 vCPU' over ``values`` (those known)."""
    known = sorted({v for v in values if v is not None})
    if not known:
        return ""
    text = fmt(known[0]) if len(known) == 1 else f"{fmt(known[0])}–{fmt(known[-1])}"
    return f"{text} {unit}".strip()


def _apps_under(path: str, apps: dict[str, list[str]]) -> list[str]:
    """The apps sent to ``path`` or to any guest below it, each once, in the order they were sent."""
    inside = {path, *descendants(path, apps)}
    return [a for p, names in apps.items() if p in inside for a in names]


def _apps_label(names: list[str]) -> str:
    return "\n".join(names) if len(names) <= 2 else count_text(len(names), "app")


def _layout_condensed(group: HostGroup, apps: dict[str, list[str]], x0: float) -> tuple[list[_Box], float]:
    """The first host of ``group`` as a column per kind of guest: its VMs, its containers, its own apps.

    Counts are the first host's; sizes span every host of the group. Boxes'
    gids: ``vms:<host>``, ``containers:<host>``, ``apps:<host>`` (and
    ``hypervisor:``, ``engine:``, ``guest_os:`` the host's, as in a full drawing).
    """
    host = group.first
    name = host.name
    base = 2 if host.host_os is not None else 1
    boxes: list[_Box] = []
    x = x0
    if apps.get(name):
        boxes.append(_Box("app", name, x, _WIDE, base, _apps_label(apps[name]), gid=f"apps:{name}/host"))
        x += _WIDE
    if host.vms:
        nested = [n for h in group.hosts for n in walk_vms(h)]
        mine = list(walk_vms(host))
        level = base
        if host.hypervisor is not None:
            boxes.append(_Box("hypervisor", name, x, _WIDE, level,
                              f"Type {host.hypervisor.type} hypervisor:\n{host.hypervisor.name}"))
            level += 1
        sizes = _join(_span([n.vm.vcpus for n in nested], "vCPU"),
                      _span([n.vm.memory_bytes for n in nested], "GiB", _gib))
        boxes.append(_Box("vm", name, x, _WIDE, level, f"{count_text(len(mine), 'VM')}\n{sizes} each",
                          gid=f"vms:{name}"))
        level += 1
        systems = sorted({n.vm.os.name for n in mine if n.vm.os is not None})
        if systems:
            boxes.append(_Box("guest_os", name, x, _WIDE, level, "guest OS: " + ", ".join(systems),
                              gid=f"guest_os:{name}/*"))
            level += 1
        inner = sum(len(n.vm.containers) for n in mine)
        if inner:
            boxes.append(_Box("container", name, x, _WIDE, level, count_text(inner, "container"),
                              gid=f"containers:{name}/*"))
            level += 1
        guest_apps = [a for vm in host.vms for a in _apps_under(f"{name}/{vm.name}", apps)]
        if guest_apps:
            boxes.append(_Box("app", name, x, _WIDE, level, _apps_label(guest_apps), gid=f"apps:{name}/vms"))
        x += _WIDE
    if host.containers:
        level = base
        if host.engine is not None:
            boxes.append(_Box("engine", name, x, _WIDE, level, _engine_label(host.engine)))
            level += 1
        every = [c for h in group.hosts for c in h.containers]
        sizes = _join(_span([c.cpus for c in every], "cpus"), _span([c.memory_bytes for c in every], "GiB", _gib))
        boxes.append(_Box("container", name, x, _WIDE, level,
                          count_text(len(host.containers), "container") + (f"\n{sizes} each" if sizes else ""),
                          gid=f"containers:{name}"))
        ctr_apps = [a for c in host.containers for a in apps.get(f"{name}/{c.name}", ())]
        if ctr_apps:
            boxes.append(_Box("app", name, x, _WIDE, level + 1, _apps_label(ctr_apps), gid=f"apps:{name}/containers"))
        x += _WIDE
    width = max(x - x0, _WIDE)
    boxes.append(_Box("hardware", name, x0, width, 0, _hardware_label(host.hardware)))
    if host.host_os is not None:
        boxes.append(_Box("host_os", name, x0, width, 1, f"host OS: {host.host_os.name}"))
    return boxes, width


def _fit(label: str, chars: float) -> str:
    """Each line of ``label`` wrapped to the ``chars`` characters its box has room for (never '256 | GiB')."""
    lines = (wrap(re.sub(r"(\d) (?=\w)", "\\1\u00a0", line), max(8, int(chars))) for line in label.split("\n"))
    return "\n".join(lines).replace("\u00a0", " ")


def _plan(groups: list[HostGroup], apps, max_columns: int) -> list[tuple[HostGroup, bool]]:
    """Which groups to draw condensed: similar ones, very wide ones, then the widest until all fit."""
    widths = [_layout_host(g.first, apps, 0.0)[1] for g in groups]
    narrow = [_layout_condensed(g, apps, 0.0)[1] for g in groups]
    condensed = [g.similar or w > MAX_HOST_COLUMNS for g, w in zip(groups, widths)]
    for i in sorted(range(len(groups)), key=lambda i: -widths[i]):
        if sum(n if c else w for w, n, c in zip(widths, narrow, condensed)) <= max_columns:
            break
        condensed[i] = True
    return list(zip(groups, condensed))


def stack_diagram(experiment, *, hosts=None, max_groups: int = MAX_GROUPS, max_columns: int = MAX_COLUMNS, ax=None):
    """Draw the layers of each host of ``experiment`` as labelled boxes; return the Axes.

    ``experiment`` is an :class:`~virtsim.ExperimentSpec`, an experiment file
    path or dict (loaded as ``virtsim.load_experiment`` would), or the resolved
    ``config`` of a result folder's ``manifest.json``. ``hosts`` names the
    hosts to draw (default: all, side by side). Identical hosts are drawn
    once, titled with their count; at most ``max_groups`` groups are drawn
    (the rest listed in a last column, gid ``others``) and hosts are drawn
    condensed until the drawing is at most ``max_columns`` leaves wide. Each
    box is a patch whose gid is ``<kind>:<path>`` (kinds: those of
    :data:`LAYER_COLOURS`), and each VM is framed with a dashed outline (gid
    ``frame:<path>``).
    """
    from matplotlib.patches import FancyBboxPatch, Rectangle

    spec = _as_spec(experiment)
    chosen = list(spec.hosts)
    if hosts is not None:
        names = [h.name for h in spec.hosts]
        unknown = [h for h in hosts if h not in names]
        if unknown:
            raise ValueError(f"stack_diagram: no host {', '.join(map(repr, unknown))}; "
                             f"the experiment has: {', '.join(names)}")
        chosen = [h for h in spec.hosts if h.name in hosts]
    apps = _apps_by_target(spec)
    groups, left_over = group_hosts(chosen, apps, max(1, max_groups))
    placed, x = [], 0.0
    for group, condensed in _plan(groups, apps, max_columns):
        boxes, width = _layout_condensed(group, apps, x) if condensed else _layout_host(group.first, apps, x)
        placed.append((group.title, x, width, boxes))
        x += width + _HOST_GAP
    top = max((b.level for _, _, _, boxes in placed for b in boxes), default=0) + 1
    if left_over:
        lines = [f"+ {count_text(len(left_over), 'more host')}",
                 *(wrap(line, 30) for line in summary_lines(left_over, apps))]
        placed.append(("others", x, _SUMMARY_WIDTH, [_Box("summary", "others", x, _SUMMARY_WIDTH, 0,
                                                          "\n".join(lines), gid="others", height=top)]))
        x += _SUMMARY_WIDTH + _HOST_GAP
    total_width = x - _HOST_GAP
    width_in = min(_MAX_WIDTH_IN, max(6.0, _INCHES_PER_LEAF * total_width))
    ax = axes_or_new(ax, figsize=(width_in, 1.6 + 0.8 * top))
    # Text as large as a leaf's width allows (a label is ~16 characters wide), read on a slide.
    font = float(np.clip(5.5 * width_in / total_width, 7.0, 10.0))
    leaf_chars = 0.95 * (width_in / (total_width + 0.2)) * 72 / (0.56 * font)  # characters across one leaf
    for title, x0, width, boxes in placed:
        for box in sorted(boxes, key=lambda b: b.level):
            ax.add_patch(FancyBboxPatch(
                (box.x + _PAD, box.level + _PAD), box.width - 2 * _PAD, box.height - 2 * _PAD,
                boxstyle="round,pad=0,rounding_size=0.06", facecolor=LAYER_COLOURS[box.kind],
                edgecolor="#424242", linewidth=0.8, gid=box.id))
            ax.text(box.x + box.width / 2, box.level + box.height / 2, _fit(box.label, box.width * leaf_chars),
                    ha="center", va="center", fontsize=font)
        for vm in (b for b in boxes if b.kind == "vm" and b.gid is None):
            inside = {vm.path, *descendants(vm.path, {b.path for b in boxes})}
            height = max(b.level for b in boxes if b.path in inside)
            ax.add_patch(Rectangle((vm.x + _PAD / 2, vm.level + _PAD / 2), vm.width - _PAD,
                                   height - vm.level + 1 - _PAD, fill=False, linestyle="--",
                                   edgecolor="#8d6e63", linewidth=0.8, gid=f"frame:{vm.path}"))
        if title != "others":
            ax.text(x0 + width / 2, top + 0.1, title, ha="center", va="bottom", fontsize=font + 1,
                    fontweight="bold")
    ax.set_xlim(-0.1, total_width + 0.1)
    ax.set_ylim(-0.1, top + 0.9)
    ax.set_axis_off()
    hosts_drawn = len(chosen)
    ax.set_title(f"{spec.name}: the stack" + (f" of {hosts_drawn} hosts" if hosts_drawn > len(placed) else ""),
                 fontsize=font + 4)
    return ax
