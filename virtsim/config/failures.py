"""Resolve failure domains: which layer of which host, VM or container fails, and when.

A domain path names a host, a VM (nested ones too: ``h1/a/b``) or a
container; its ``layer`` says which of its layers fails (the default: a
host's hardware, a VM's guest OS, the container itself; a VM that runs
nested VMs can also fail at its ``hypervisor``). A layer must exist in that stack: a bare-metal
hypervisor's host has no host OS, a VM without a hypervisor no guest OS.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..model.topology import walk_vms
from ..wording import unknown
from . import inputs as i
from . import spec as s
from .resolution import Context
from .distributions import resolve_distribution

__all__ = ["resolve_failures"]

_DEFAULT_LAYER = {"host": "hardware", "vm": "guest-os", "container": "container"}
_LAYERS_OF = {"host": ("hardware", "host-os", "hypervisor", "engine"), "vm": ("guest-os", "hypervisor", "engine"),
              "container": ("container",)}


def _domains(hosts: Iterable[s.HostSpec]) -> dict[str, tuple[str, s.HostSpec, object]]:
    """Every failure domain by path: (kind, its host, its VM or container spec)."""
    out: dict[str, tuple[str, s.HostSpec, object]] = {}
    for host in hosts:
        out[host.name] = ("host", host, host)
        for nested in walk_vms(host):
            out[nested.path] = ("vm", host, nested)
            for ctr in nested.vm.containers:
                out[f"{nested.path}/{ctr.name}"] = ("container", host, ctr)
        for ctr in host.containers:
            out[f"{host.name}/{ctr.name}"] = ("container", host, ctr)
    return out


def _missing_layer(kind: str, layer: str, host: s.HostSpec, item) -> str | None:
    """Why ``layer`` does not exist in this domain's stack, or None if it does."""
    if kind == "host":
        if layer == "host-os" and host.host_os is None:
            return f"host {host.name!r} has no host OS (it runs the bare-metal hypervisor {host.hypervisor.name!r})"
        if layer == "hypervisor" and host.hypervisor is None:
            return f"host {host.name!r} has no hypervisor"
        if layer == "engine" and host.engine is None:
            return f"host {host.name!r} has no container engine of its own"
    elif kind == "vm":
        vm = item.vm
        if layer == "guest-os" and item.hypervisor is None:
            return f"VM {vm.name!r} runs without a hypervisor (a plain cgroup), so it has no guest OS"
        if layer == "hypervisor" and vm.hypervisor is None:
            return f"VM {vm.name!r} runs no hypervisor of its own (no nested VMs)"
        if layer == "engine" and vm.engine is None:
            return f"VM {vm.name!r} has no container engine"
    return None


def resolve_failures(failures: list[tuple[int, i.FailureInput]], hosts: Iterable[s.HostSpec],
                     ctx: Context) -> tuple[s.FailureSpec, ...]:
    """Resolve each failure entry (with its index in the file); problems go to ``ctx``."""
    domains = _domains(hosts)
    out = []
    for n, failure in failures:
        loc = ("failures", n)
        found = domains.get(failure.domain)
        if found is None:
            ctx.add((*loc, "domain"), unknown("domain", failure.domain, domains))
            continue
        kind, host, item = found
        layer = failure.layer or _DEFAULT_LAYER[kind]
        if layer not in _LAYERS_OF[kind]:
            ctx.add((*loc, "layer"), f"a {kind} domain can fail at {', '.join(map(repr, _LAYERS_OF[kind]))}; "
                                     f"got {layer!r}")
            continue
        why = _missing_layer(kind, layer, host, item)
        if why is not None:
            ctx.add((*loc, "layer"), why)
            continue
        repair = resolve_distribution(failure.time_to_repair, (*loc, "time_to_repair"), ctx)
        between = None
        if failure.time_to_failure is not None:
            between = resolve_distribution(failure.time_to_failure, (*loc, "time_to_failure"), ctx)
            if between is None:
                continue
            if isinstance(between, s.ConstantDist) and between.value_s <= 0:
                ctx.add((*loc, "time_to_failure"), "a constant time to failure must be > 0 s")
                continue
        if repair is None:
            continue
        out.append(s.FailureSpec(domain=failure.domain, layer=layer, time_to_failure=between,
                                 at_s=tuple(sorted(failure.at or ())), time_to_repair=repair))
    return tuple(out)
