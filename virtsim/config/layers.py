"""The virtualization layers of a host: catalog profiles with overrides, and how they stack.

A host runs natively, under a hypervisor (Type 1, or Type 2 on a host OS), or
with a container engine on its host OS; a VM has a guest OS and may run an
engine of its own. Rules checked here, each reported at the key to fix:

- a Type 2 hypervisor and a host engine need ``host_os``;
- containers directly on a host need a host ``engine`` when the host has a
  hypervisor (on a native host they run as plain cgroups, engine "none");
- containers in a VM need the VM's ``engine`` when the VM runs under a hypervisor;
- VMs nested in a VM need that VM's ``hypervisor``, and only a VM under a
  hypervisor can run one (a Type 2 one runs on the VM's guest OS, which every
  VM under a hypervisor has);
- a container's ``network`` and ``storage`` modes must be offered by its engine.

A VM under a hypervisor (its host's, or its parent VM's) runs ``linux-server``
unless it names an ``os``.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ValidationError

from ..model.host_os import runs_on_an_os
from ..wording import listing
from . import inputs as i
from .catalog import (
    CATALOG_SCHEMAS,
    catalog_names,
    catalog_problems,
    load_catalog_entry,
    load_profile,
    profile_noun,
)
from .errors import ConfigError
from .profiles import EngineProfile, HypervisorProfile, OSProfile
from .provenance import OVERRIDDEN
from .resolution import Context
from .translate import problems_from
from .versions import VERSIONS_KEY, deep_merge, leaf_paths

__all__ = ["DEFAULT_GUEST_OS", "HostLayers", "VMLayers", "check_modes", "resolve_host_layers", "resolve_profile",
           "resolve_vm_layers"]

DEFAULT_GUEST_OS = "linux-server"
_FIXED_KEYS = ("name", "description", "source", VERSIONS_KEY)


def resolve_profile(kind: str, ref: i.ProfileInput | None, loc: tuple, ctx: Context) -> BaseModel | None:
    """The profile ``ref`` names, with its overrides deep-merged and validated; None after a problem."""
    if ref is None:
        return None
    try:
        if not ref.overrides:
            return load_profile(kind, ref.profile)
        data = load_catalog_entry(kind, ref.profile)
    except ConfigError as err:
        for text in catalog_problems(err):
            ctx.add(loc, text)
        return None
    overrides = dict(ref.overrides)
    fixed = [key for key in _FIXED_KEYS if key in overrides]
    for key in fixed:
        ctx.add((*loc, key), "cannot be overridden (it belongs to the catalog profile)")
        del overrides[key]
    schema = CATALOG_SCHEMAS[kind]
    merged = deep_merge(data, overrides)
    try:
        profile = schema.model_validate(merged, context={OVERRIDDEN: frozenset(leaf_paths(overrides))})
    except ValidationError as err:
        ctx.problems.extend(problems_from(err, schema, prefix=loc, lines=ctx.lines))
        return None
    return None if fixed else profile


@dataclass(frozen=True)
class HostLayers:
    ok: bool
    hypervisor: HypervisorProfile | None = None
    host_os: OSProfile | None = None
    engine: EngineProfile | None = None


@dataclass(frozen=True)
class VMLayers:
    ok: bool
    os: OSProfile | None = None
    engine: EngineProfile | None = None
    hypervisor: HypervisorProfile | None = None


def resolve_host_layers(host: i.HostInput, loc: tuple, ctx: Context) -> HostLayers:
    """The host's hypervisor, host OS and engine, with the rules on what each requires."""
    before = len(ctx.problems)
    hypervisor = resolve_profile("hypervisors", host.hypervisor, (*loc, "hypervisor"), ctx)
    host_os = resolve_profile("os", host.host_os, (*loc, "host_os"), ctx)
    engine = resolve_profile("engines", host.engine, (*loc, "engine"), ctx)
    ok = len(ctx.problems) == before
    if host.host_os is None:
        needs = []
        if runs_on_an_os(hypervisor):
            needs.append(f"the Type 2 hypervisor {hypervisor.name!r} runs on it")
        if host.engine is not None:
            needs.append(f"the engine {host.engine.profile!r} shares its kernel")
        if needs:
            ctx.add((*loc, "host_os"), f"required: {' and '.join(needs)}; {_valid('os')}")
        elif hypervisor is None:
            # A native host runs its workloads on some OS: its operations cost
            # what that OS's cost; linux-server unless the file says otherwise.
            host_os = resolve_profile("os", i.ProfileInput(profile=DEFAULT_GUEST_OS), (*loc, "host_os"), ctx)
    if host.containers and host.engine is None and host.hypervisor is not None:
        ctx.add((*loc, "engine"),
                "required for the host's containers: beside a hypervisor they need a container engine "
                f"(only a native host runs bare cgroups); {_valid('engines')}")
    return HostLayers(ok, hypervisor, host_os, engine)


def resolve_vm_layers(vm: i.VMInput, loc: tuple, runs_under: i.ProfileInput | None, ctx: Context) -> VMLayers:
    """A VM's guest OS (default under a hypervisor), engine and own hypervisor.

    ``runs_under`` is the hypervisor the VM runs under: its host's, or its
    parent VM's for a nested VM; None on a native host (the VM is a cgroup).
    """
    before = len(ctx.problems)
    guest_os = resolve_profile("os", vm.os, (*loc, "os"), ctx)
    if vm.os is None and runs_under is not None:
        guest_os = resolve_profile("os", i.ProfileInput(profile=DEFAULT_GUEST_OS), (*loc, "os"), ctx)
    engine = resolve_profile("engines", vm.engine, (*loc, "engine"), ctx)
    hypervisor = resolve_profile("hypervisors", vm.hypervisor, (*loc, "hypervisor"), ctx)
    ok = len(ctx.problems) == before
    if vm.containers and vm.engine is None and runs_under is not None:
        ctx.add((*loc, "engine"),
                f"required for the containers in this VM (it runs under a hypervisor); {_valid('engines')}")
    if vm.hypervisor is not None and runs_under is None:
        ctx.add((*loc, "hypervisor"),
                "a VM runs a hypervisor of its own only when it is itself a VM under a hypervisor (without one, "
                "this VM is a cgroup of the host); give the host a hypervisor")
    elif vm.vms and vm.hypervisor is None:
        ctx.add((*loc, "hypervisor"), f"required for the VMs nested in this VM; {_valid('hypervisors')}")
    return VMLayers(ok, guest_os, engine, hypervisor)


def check_modes(containers: list[i.ContainerInput], indices, engine: EngineProfile | None, loc: tuple,
                ctx: Context) -> None:
    """Each container's network and storage mode must be one its engine offers."""
    if engine is None:
        return
    for k, ctr in zip(indices, containers, strict=True):
        for key, modes in (("network", engine.network_modes), ("storage", engine.storage_modes)):
            mode = getattr(ctr, key)
            where = (*loc, k, key)
            if key == "storage":
                mode, set_ = mode.mode, "mode" in mode.model_fields_set and key in ctr.model_fields_set
            else:
                set_ = key in ctr.model_fields_set
            if mode not in modes:
                default = "" if set_ else " (the default)"
                ctx.add(where, f"{key} mode {mode!r}{default} is not offered by engine {engine.name!r}; "
                                        f"valid modes: {listing(modes)}")


def _valid(kind: str) -> str:
    return f"valid {profile_noun(kind)}s: {listing(catalog_names(kind)) or 'none'}"
