"""Turn validated input pieces into resolved spec pieces, collecting problems.

Resolution expands catalog profiles, reads data files (relative to the
experiment file) and converts to SI field names. Each function returns
``None`` for a piece it could not resolve, after recording why.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from . import inputs as i
from . import spec as s
from .arrivals import load_arrivals_file
from .catalog import HardwareProfile, load_catalog_entry
from .errors import ConfigError, Problem
from .samples import load_samples_file
from .suggest import unknown
from .translate import path_text
from .yaml_source import LineIndex

__all__ = ["Context", "resolve_host", "resolve_workload"]


@dataclass
class Context:
    """Where problems go, and what is needed to place them and to find files."""

    base_dir: Path
    lines: LineIndex | None = None
    problems: list[Problem] = field(default_factory=list)

    def add(self, loc: tuple, message: str) -> None:
        line = self.lines.line(loc) if self.lines else None
        self.problems.append(Problem(path_text(loc), message, line))

    def add_file_problems(self, loc: tuple, shown: str, err: ConfigError) -> None:
        """Problems inside a data file, re-homed at the key that names the file."""
        for problem in err.problems:
            where = f"{shown} line {problem.line}" if problem.line else shown
            self.add(loc, f"{where}: {problem.message}")

    def file(self, written: str) -> Path:
        path = Path(written).expanduser()
        return path if path.is_absolute() else self.base_dir / path


# --- hosts -----------------------------------------------------------------------


def resolve_host(host: i.HostInput, loc: tuple, ctx: Context) -> s.HostSpec | None:
    hardware = _resolve_hardware(host.hardware, (*loc, "hardware"), ctx)
    if hardware is None:
        return None
    return s.HostSpec(
        name=host.name,
        hardware=hardware,
        vms=tuple(_vm(vm) for vm in host.vms),
        containers=tuple(_container(ctr) for ctr in host.containers),
    )


def _resolve_hardware(hw: i.HardwareInput, loc: tuple, ctx: Context) -> s.HardwareSpec | None:
    base: dict = {"name": hw.name, "core_speed": 1.0}
    if hw.profile is not None:
        try:
            profile = HardwareProfile.model_validate(load_catalog_entry("hardware", hw.profile))
        except ConfigError as err:
            for problem in err.problems:
                prefix = "" if err.source.endswith("catalog") else f"in {err.source}: "
                ctx.add(loc, f"{prefix}{problem}")
            return None
        base = {"name": hw.name or profile.name, "cores": profile.cores,
                "core_speed": profile.core_speed, "memory": profile.memory}
    overrides = {key: value for key in ("cores", "core_speed", "memory")
                 if (value := getattr(hw, key)) is not None}
    merged = base | overrides
    missing = [key for key in ("cores", "memory") if key not in merged]
    for key in missing:
        ctx.add((*loc, key), "required key is missing (or give a catalog 'profile')")
    if missing:
        return None
    return s.HardwareSpec(name=merged["name"], cores=merged["cores"], core_speed=merged["core_speed"],
                          memory_bytes=round(merged["memory"]))


def _vm(vm: i.VMInput) -> s.VMSpec:
    return s.VMSpec(
        name=vm.name, vcpus=vm.vcpus, memory_bytes=round(vm.memory), shares=vm.shares,
        cap_cores=vm.cap, reservation_cores=vm.reservation,
        containers=tuple(_container(ctr) for ctr in vm.containers),
    )


def _container(ctr: i.ContainerInput) -> s.ContainerSpec:
    memory = round(ctr.memory) if ctr.memory is not None else None
    return s.ContainerSpec(name=ctr.name, cpus=ctr.cpus, cpu_weight=ctr.cpu_weight, memory_bytes=memory)


# --- workloads -------------------------------------------------------------------


def resolve_workload(
    wl: i.WorkloadInput, loc: tuple, ctx: Context, targets: Collection[str]
) -> s.WorkloadSpec | None:
    """Resolve one workload; ``targets`` are all valid target strings in the file."""
    before = len(ctx.problems)
    from_file = wl.type == "open" and isinstance(wl.arrivals, i.FileArrivalsInput)
    _check_type_keys(wl, loc, ctx)
    if wl.target is None and not from_file:
        ctx.add((*loc, "target"), "required key is missing")
    elif wl.target is not None and wl.target not in targets:
        ctx.add((*loc, "target"), unknown("target", wl.target, targets))
    if wl.demand is None and not from_file:
        ctx.add((*loc, "demand"), "required key is missing")
    elif wl.demand is not None and wl.demand.cpu is None and not from_file:
        ctx.add((*loc, "demand", "cpu"), "required key is missing")
    elif wl.demand is not None and wl.demand.cpu is not None and from_file:
        ctx.add((*loc, "demand", "cpu"),
                "not allowed with file arrivals: the file's cpu_s column gives each job's demand")

    arrivals = _arrivals(wl, (*loc, "arrivals"), ctx, targets) if wl.arrivals is not None else None
    think = _distribution(wl.think_time, (*loc, "think_time"), ctx) if wl.think_time is not None else None
    if wl.type == "closed" and wl.think_time is None:
        think = s.ConstantDist(value_s=0.0)
    demand = None
    if wl.demand is not None:
        cpu_loc = (*loc, "demand", "cpu")
        cpu = _distribution(wl.demand.cpu, cpu_loc, ctx) if wl.demand.cpu is not None else None
        if isinstance(cpu, s.ConstantDist) and cpu.value_s <= 0:
            ctx.add(cpu_loc, f"a constant CPU demand must be > 0 s, got {cpu.value_s:g} s")
        demand = s.DemandSpec(cpu=cpu, threads=wl.demand.threads)
    if len(ctx.problems) > before:
        return None
    return s.WorkloadSpec(name=wl.name, target=wl.target, type=wl.type, arrivals=arrivals,
                          clients=wl.clients, think_time=think, demand=demand)


def _check_type_keys(wl: i.WorkloadInput, loc: tuple, ctx: Context) -> None:
    if wl.type == "open":
        if wl.arrivals is None:
            ctx.add((*loc, "arrivals"), "required key is missing for an open workload")
        for key in ("clients", "think_time"):
            if getattr(wl, key) is not None:
                ctx.add((*loc, key), "only for closed workloads (this one is open)")
    else:
        if wl.clients is None:
            ctx.add((*loc, "clients"), "required key is missing for a closed workload")
        if wl.arrivals is not None:
            ctx.add((*loc, "arrivals"), "only for open workloads (this one is closed)")


def _arrivals(wl: i.WorkloadInput, loc: tuple, ctx: Context, targets: Collection[str]):
    arrivals = wl.arrivals
    if isinstance(arrivals, i.PoissonInput):
        return s.PoissonArrivals(rate_per_s=arrivals.rate)
    path = ctx.file(arrivals.path)
    try:
        table = load_arrivals_file(path, targets, default_target=wl.target)
    except ConfigError as err:
        ctx.add_file_problems((*loc, "path"), arrivals.path, err)
        return None
    return s.FileArrivals(path=str(path.resolve()), sha256=table.sha256, rows=len(table), table=table)


def _distribution(dist, loc: tuple, ctx: Context):
    if isinstance(dist, i.ConstantInput):
        return s.ConstantDist(value_s=dist.value)
    if isinstance(dist, i.ExponentialInput):
        return s.ExponentialDist(mean_s=dist.mean)
    if isinstance(dist, i.LognormalInput):
        return s.LognormalDist(mean_s=dist.mean, sigma=dist.sigma)
    if dist.samples is not None:
        return s.EmpiricalDist(samples_s=tuple(dist.samples))
    path = ctx.file(dist.path)
    try:
        samples = load_samples_file(path)
    except ConfigError as err:
        ctx.add_file_problems((*loc, "path"), dist.path, err)
        return None
    return s.EmpiricalDist(samples_s=samples, path=str(path.resolve()))
