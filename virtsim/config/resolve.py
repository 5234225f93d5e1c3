"""Turn validated workload inputs into resolved specs, collecting problems.

Resolution reads data files (relative to the experiment file) and converts to
SI field names; hosts are resolved in ``hosts.py``. Each function returns
``None`` for a piece it could not resolve, after recording why.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from fnmatch import fnmatchcase

from ..data.arrivals_file import load_arrivals_file
from ..data.errors import DataFileError
from ..data.samples import load_samples_file
from ..wording import unknown
from . import inputs as i
from . import spec as s
from .resolution import Context

__all__ = ["Context", "resolve_workload"]


# --- workloads -------------------------------------------------------------------


def resolve_workload(
    wl: i.WorkloadInput, loc: tuple, ctx: Context, targets: Collection[str]
) -> s.WorkloadSpec | None:
    """Resolve one workload; ``targets`` are all valid target strings in the file."""
    before = len(ctx.problems)
    from_file = wl.type == "open" and isinstance(wl.arrivals, i.FileArrivalsInput)
    _check_type_keys(wl, loc, ctx)
    replicas = _replicas(wl, loc, ctx, targets, from_file)
    if wl.target is None and not from_file and wl.replicas is None:
        ctx.add((*loc, "target"), "required key is missing (or give 'replicas')")
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
        demand = _demand(wl.demand, cpu)
    if len(ctx.problems) > before:
        return None
    batch = {"jobs": wl.jobs, "at_s": tuple(wl.at) if wl.at is not None else (0.0,)} if wl.type == "batch" else {}
    return s.WorkloadSpec(name=wl.name, target=wl.target, type=wl.type, arrivals=arrivals,
                          clients=wl.clients, think_time=think, demand=demand, when_down=wl.when_down,
                          replicas=replicas, autoscale=_autoscale(wl.autoscale), random_streams=wl.random_streams,
                          **batch)


def _replicas(wl: i.WorkloadInput, loc: tuple, ctx: Context, targets: Collection[str],
              from_file: bool) -> tuple[str, ...] | None:
    """The replica targets, checked: known, distinct, and not beside a single target or a jobs file."""
    if wl.replicas is None:
        if wl.autoscale is not None:
            ctx.add((*loc, "autoscale"), "needs 'replicas': the targets to scale over")
        return None
    if wl.target is not None:
        ctx.add((*loc, "replicas"), "give either 'target' or 'replicas', not both")
    if from_file:
        ctx.add((*loc, "replicas"), "not with file arrivals: the file names each job's target")
    if isinstance(wl.replicas, str):
        matched = sorted(fnmatchcase_filter(targets, wl.replicas), key=natural_key)
        if not matched:
            ctx.add((*loc, "replicas"), f"the pattern {wl.replicas!r} matches no target")
            return None
        wl = wl.model_copy(update={"replicas": matched})
    for n, path in enumerate(wl.replicas):
        if path not in targets:
            ctx.add((*loc, "replicas", n), unknown("target", path, targets))
        elif path in wl.replicas[:n]:
            ctx.add((*loc, "replicas", n), f"{path!r} is listed twice")
    if wl.autoscale is not None and wl.autoscale.min_replicas > len(wl.replicas):
        ctx.add((*loc, "autoscale", "min_replicas"),
                f"{wl.autoscale.min_replicas} is more than the {len(wl.replicas)} replicas listed")
    return tuple(wl.replicas)


def fnmatchcase_filter(names: Collection[str], pattern: str) -> list[str]:
    """The names matching a shell-style pattern, case-sensitively."""
    return [name for name in names if fnmatchcase(name, pattern)]


def natural_key(name: str) -> list:
    """Sort key that orders the numbers inside names by value: node-2 before node-10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _autoscale(a: i.AutoscaleInput | None) -> s.AutoscaleSpec | None:
    if a is None:
        return None
    return s.AutoscaleSpec(min_replicas=a.min_replicas, target_utilization=a.target_utilization,
                           period_s=a.period, tolerance=a.tolerance, scale_down_delay_s=a.scale_down_delay)


def _demand(demand: i.DemandInput, cpu) -> s.DemandSpec:
    disk, net = demand.disk, demand.net
    return s.DemandSpec(
        cpu=cpu, threads=demand.threads, mem_fraction=demand.mem_fraction, syscalls=demand.syscalls,
        ctx_switches=demand.ctx_switches, page_faults=demand.page_faults, forks=demand.forks,
        memory_bytes=demand.memory,
        disk=None if disk is None else s.DiskDemand(ops=disk.ops, bytes=round(disk.bytes), pattern=disk.pattern,
                                                    kind=disk.kind),
        net=None if net is None else s.NetDemand(transactions=net.transactions, bytes=round(net.bytes),
                                                 direction=net.direction),
    )


def _check_type_keys(wl: i.WorkloadInput, loc: tuple, ctx: Context) -> None:
    if wl.type != "batch":
        for key in ("jobs", "at"):
            if getattr(wl, key) is not None:
                ctx.add((*loc, key), f"only for batch workloads (this one is {wl.type})")
    if wl.type == "batch":
        if wl.jobs is None:
            ctx.add((*loc, "jobs"), "required key is missing for a batch workload")
        for key in ("arrivals", "clients", "think_time"):
            if getattr(wl, key) is not None:
                ctx.add((*loc, key), "not for batch workloads (jobs and at say when jobs come)")
    elif wl.type == "open":
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
        if wl.when_down == "refuse":
            ctx.add((*loc, "when_down"), "'refuse' is for open workloads: a closed-loop client whose request is "
                                         "refused would retry at once; use 'wait'")


def _arrivals(wl: i.WorkloadInput, loc: tuple, ctx: Context, targets: Collection[str]):
    arrivals = wl.arrivals
    if isinstance(arrivals, i.PoissonInput):
        return s.PoissonArrivals(rate_per_s=arrivals.rate)
    if isinstance(arrivals, i.OnOffInput):
        on = _distribution(arrivals.on_period, (*loc, "on_period"), ctx)
        off = _distribution(arrivals.off_period, (*loc, "off_period"), ctx)
        if isinstance(on, s.ConstantDist) and on.value_s <= 0:
            ctx.add((*loc, "on_period"), f"an on-period must be > 0 s, got {on.value_s:g} s")
            return None
        return None if on is None or off is None else s.OnOffArrivals(rate_per_s=arrivals.rate, on_period=on, off_period=off)
    if isinstance(arrivals, i.CurveInput):
        return s.CurveArrivals(times_s=tuple(p.at for p in arrivals.points),
                               rates_per_s=tuple(p.rate for p in arrivals.points),
                               interpolation=arrivals.interpolation, period_s=arrivals.period)
    path = ctx.file(arrivals.path)
    try:
        table = load_arrivals_file(path, targets, default_target=wl.target)
    except DataFileError as err:
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
    except DataFileError as err:
        ctx.add_file_problems((*loc, "path"), dist.path, err)
        return None
    return s.EmpiricalDist(samples_s=samples, path=str(path.resolve()))
