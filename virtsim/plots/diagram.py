"""The stack drawn as a textbook would: hardware at the bottom, each layer on the one it runs on.

Per host, bottom to top: the hardware, the host OS, the hypervisor (Type 1 or
2) under the VMs and the host's engine under its containers; in each VM its
virtual hardware, guest OS, engine and containers, and its own hypervisor
under the VMs nested in it (drawn the same way, framed inside); and on top of each
target, the workloads (apps) sent to it. Widths are proportional to the
number of leaves (containers, or a VM or host running apps itself), so a host
with many VMs and containers stays readable. Made from the resolved
configuration, not from a template.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass

from ._common import axes_or_new

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
}
"""Fill colour of each kind of box; the kind is the first part of a patch's gid (``vm:h1/a``)."""

_GIB = 2**30
_PAD = 0.04
_HOST_GAP = 0.5


@dataclass(frozen=True)
class _Box:
    kind: str
    path: str
    x: float
    width: float
    level: int
    label: str


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
        table = getattr(workload.arrivals, "table", None)
        if table is not None:  # file arrivals name their targets per job
            targets = sorted({table.target_names[code] for code in set(table.target_codes.tolist())})
        for target in targets:
            apps[target].append(workload.name)
    return apps


def _size(n_bytes: float | None) -> str:
    return "" if n_bytes is None else f"{n_bytes / _GIB:.3g} GiB"


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


def stack_diagram(experiment, *, hosts=None, ax=None):
    """Draw the layers of each host of ``experiment`` as labelled boxes; return the Axes.

    ``experiment`` is an :class:`~virtsim.ExperimentSpec`, an experiment file
    path or dict (loaded as ``virtsim.load_experiment`` would), or the resolved
    ``config`` of a result folder's ``manifest.json``. ``hosts`` names the
    hosts to draw (default: all, side by side). Each box is a patch whose gid
    is ``<kind>:<path>`` (kinds: those of :data:`LAYER_COLOURS`), and each VM
    is framed with a dashed outline (gid ``frame:<path>``).
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
    placed, x = [], 0.0
    for host in chosen:
        boxes, width = _layout_host(host, apps, x)
        placed.append((host, x, width, boxes))
        x += width + _HOST_GAP
    total_width = x - _HOST_GAP
    top = max((b.level for _, _, _, boxes in placed for b in boxes), default=0) + 1
    ax = axes_or_new(ax, figsize=(min(30.0, max(6.0, 2.0 * total_width)), 1.0 + 0.75 * top))
    for host, x0, width, boxes in placed:
        for box in sorted(boxes, key=lambda b: b.level):
            ax.add_patch(FancyBboxPatch(
                (box.x + _PAD, box.level + _PAD), box.width - 2 * _PAD, 1 - 2 * _PAD,
                boxstyle="round,pad=0,rounding_size=0.06", facecolor=LAYER_COLOURS[box.kind],
                edgecolor="#424242", linewidth=0.8, gid=f"{box.kind}:{box.path}"))
            ax.text(box.x + box.width / 2, box.level + 0.5, box.label, ha="center", va="center",
                    fontsize=7, wrap=True)
        for vm in (b for b in boxes if b.kind == "vm"):
            height = max(b.level for b in boxes if b.path == vm.path or b.path.startswith(vm.path + "/"))
            ax.add_patch(Rectangle((vm.x + _PAD / 2, vm.level + _PAD / 2), vm.width - _PAD,
                                   height - vm.level + 1 - _PAD, fill=False, linestyle="--",
                                   edgecolor="#8d6e63", linewidth=0.8, gid=f"frame:{vm.path}"))
        ax.text(x0 + width / 2, top + 0.15, host.name, ha="center", va="bottom", fontsize=9, fontweight="bold")
    ax.set_xlim(-0.1, total_width + 0.1)
    ax.set_ylim(-0.1, top + 0.6)
    ax.set_axis_off()
    ax.set_title(f"{spec.name}: the stack", fontsize=10)
    return ax
